//! Recipes' pure rules: seasons as months, which products an ingredient is, which recipes a
//! basket can make. No I/O. (Distances for "on sale near here" are the directory's,
//! `distribution::directory::distance_km`.)

use crate::Category;

/// The months a recipe is in season: a bit per month, January the lowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Season(u16);

impl Season {
    /// Every month of the year.
    pub const ALL_YEAR: Season = Season(0x0fff);

    /// The season of these months (1 to 12; others are ignored).
    pub fn of_months(months: impl IntoIterator<Item = u32>) -> Season {
        Season(
            months
                .into_iter()
                .filter(|m| (1..=12).contains(m))
                .fold(0, |bits, m| bits | (1 << (m - 1))),
        )
    }

    /// From the stored bits (anything above December ignored).
    pub fn from_bits(bits: i32) -> Season {
        Season(u16::try_from(bits & 0x0fff).unwrap_or(0))
    }

    /// The stored bits.
    pub fn bits(self) -> i32 {
        i32::from(self.0)
    }

    /// Whether month `m` (1 to 12) is in the season.
    pub fn has(self, m: u32) -> bool {
        (1..=12).contains(&m) && self.0 & (1 << (m - 1)) != 0
    }

    /// Its months, 1 to 12, in order.
    pub fn months(self) -> Vec<u32> {
        (1..=12).filter(|m| self.has(*m)).collect()
    }
}

/// A recipe's ingredient as a shopper finds it: a category, and a word the product's name
/// must hold ("poireau" finds "Poireaux"), or any product of the category without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngredientRule {
    /// The category the product must be of.
    pub category: Category,
    /// A word its name must contain, compared without case or accents.
    pub keyword: Option<String>,
}

/// A name without case or accents, for comparing what people write ("Œufs", "oeufs").
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ó' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ç' => out.push('c'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '\u{2019}' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

impl IngredientRule {
    /// Whether a product of this category and name is this ingredient.
    pub fn matches(&self, category: Category, name: &str) -> bool {
        category == self.category
            && self
                .keyword
                .as_deref()
                .is_none_or(|k| fold(name).contains(&fold(k)))
    }
}

/// How well a recipe goes with a basket: how many of its ingredients the basket holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasketMatch {
    /// Index of the recipe in the list given.
    pub recipe: usize,
    /// Its ingredients the basket holds.
    pub covered: usize,
    /// Its ingredients in all.
    pub total: usize,
}

/// The recipes that use something of the basket (products as category and name), those that
/// use the most of it first (then those with the fewest ingredients left to buy, then the
/// list's order); at most `limit`.
pub fn suggest_for_basket(
    recipes: &[Vec<IngredientRule>],
    basket: &[(Category, String)],
    limit: usize,
) -> Vec<BasketMatch> {
    let mut found: Vec<BasketMatch> = recipes
        .iter()
        .enumerate()
        .map(|(i, ingredients)| BasketMatch {
            recipe: i,
            covered: ingredients
                .iter()
                .filter(|rule| basket.iter().any(|(c, n)| rule.matches(*c, n)))
                .count(),
            total: ingredients.len(),
        })
        .filter(|m| m.covered > 0)
        .collect();
    found.sort_by(|a, b| {
        b.covered
            .cmp(&a.covered)
            .then((a.total - a.covered).cmp(&(b.total - b.covered)))
            .then(a.recipe.cmp(&b.recipe))
    });
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_season_keeps_its_months() {
        let winter = Season::of_months([11, 12, 1, 2]);
        assert_eq!(winter.months(), vec![1, 2, 11, 12]);
        assert!(winter.has(12) && !winter.has(6) && !winter.has(13));
        assert_eq!(Season::from_bits(winter.bits()), winter);
        assert_eq!(Season::ALL_YEAR.months().len(), 12);
    }

    #[test]
    fn an_ingredient_finds_products_whatever_their_accents_and_plural() {
        let leek = IngredientRule {
            category: Category::Vegetables,
            keyword: Some("poireau".into()),
        };
        assert!(leek.matches(Category::Vegetables, "Poireaux"));
        assert!(!leek.matches(Category::Grocery, "Poireaux"));
        assert!(!leek.matches(Category::Vegetables, "Carottes"));
        let eggs = IngredientRule {
            category: Category::Eggs,
            keyword: Some("oeufs".into()),
        };
        assert!(eggs.matches(Category::Eggs, "Œufs bio plein air"));
        let any_cheese = IngredientRule {
            category: Category::Cheese,
            keyword: None,
        };
        assert!(any_cheese.matches(Category::Cheese, "Tomme de Gâtine"));
    }

    #[test]
    fn the_recipe_using_most_of_the_basket_comes_first() {
        let rule = |c, k: &str| IngredientRule {
            category: c,
            keyword: Some(k.into()),
        };
        let soup = vec![
            rule(Category::Vegetables, "poireau"),
            rule(Category::Vegetables, "pommes de terre"),
            rule(Category::Dairy, "creme"),
        ];
        let gratin = vec![
            rule(Category::Vegetables, "chou-fleur"),
            rule(Category::Dairy, "lait"),
        ];
        let cake = vec![rule(Category::Eggs, "oeufs")];
        let basket = vec![
            (Category::Vegetables, "Poireaux".to_owned()),
            (Category::Vegetables, "Pommes de terre Charlotte".to_owned()),
            (Category::Dairy, "Lait cru entier".to_owned()),
        ];
        let got = suggest_for_basket(&[gratin, soup, cake], &basket, 5);
        assert_eq!(
            got.iter()
                .map(|m| (m.recipe, m.covered))
                .collect::<Vec<_>>(),
            vec![(1, 2), (0, 1)]
        );
    }
}
