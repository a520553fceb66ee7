//! Food categories: the one list that products, producers' directory entries, searches,
//! alerts and recipes share.
//!
//! A category is stored and sent as its slug (`"vegetables"`), a stable ASCII word that never
//! changes once published; what people read comes from the pages' catalogues
//! (`category-vegetables` in `templates/locales/{fr,en}`). Adding a category is adding a
//! variant at the end and a line in both catalogues; renaming a slug is a migration.

use serde::{Deserialize, Serialize};

/// What a product is, or what a producer makes, in the words a shopper filters by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Vegetables,
    Fruit,
    Meat,
    Poultry,
    Fish,
    Eggs,
    Dairy,
    Cheese,
    Bread,
    Grocery,
    Honey,
    Drinks,
    Plants,
    Other,
}

/// The slug given was not one of [`Category::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category {0:?}: expected one of vegetables, fruit, meat, poultry, fish, eggs, dairy, cheese, bread, grocery, honey, drinks, plants, other"
)]
pub struct UnknownCategory(pub String);

impl Category {
    /// Every category, in the order lists show them.
    pub const ALL: [Category; 14] = [
        Category::Vegetables,
        Category::Fruit,
        Category::Meat,
        Category::Poultry,
        Category::Fish,
        Category::Eggs,
        Category::Dairy,
        Category::Cheese,
        Category::Bread,
        Category::Grocery,
        Category::Honey,
        Category::Drinks,
        Category::Plants,
        Category::Other,
    ];

    /// The stable slug stored in the database and used in URLs and the API.
    pub fn slug(self) -> &'static str {
        match self {
            Category::Vegetables => "vegetables",
            Category::Fruit => "fruit",
            Category::Meat => "meat",
            Category::Poultry => "poultry",
            Category::Fish => "fish",
            Category::Eggs => "eggs",
            Category::Dairy => "dairy",
            Category::Cheese => "cheese",
            Category::Bread => "bread",
            Category::Grocery => "grocery",
            Category::Honey => "honey",
            Category::Drinks => "drinks",
            Category::Plants => "plants",
            Category::Other => "other",
        }
    }

    /// Reads a slug, ignoring case and surrounding spaces.
    pub fn parse(slug: &str) -> Result<Category, UnknownCategory> {
        let wanted = slug.trim().to_ascii_lowercase();
        Category::ALL
            .into_iter()
            .find(|c| c.slug() == wanted)
            .ok_or_else(|| UnknownCategory(slug.trim().to_string()))
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

impl std::str::FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::parse(s)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_reads_back_as_its_category() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.slug()), Ok(c));
            assert_eq!(
                Category::parse(&format!(" {} ", c.slug().to_uppercase())),
                Ok(c)
            );
        }
    }

    #[test]
    fn an_unknown_slug_is_refused_with_the_list() {
        let err = Category::parse("légumes").unwrap_err();
        assert_eq!(err, UnknownCategory("légumes".into()));
        assert!(err.to_string().contains("vegetables"));
    }

    #[test]
    fn slugs_are_unique() {
        let mut slugs: Vec<_> = Category::ALL.iter().map(|c| c.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), Category::ALL.len());
    }
}
