//! The demo's directory entries: what each demo producer makes, read from its name, description
//! and products (the demo fixture predates categories), so that `halle demo` has a directory.

use distribution::directory::Label;
use domain::Category;

use super::EntryInput;

/// Words that say a category, in French, as the demo's farms write them.
const WORDS: &[(Category, &[&str])] = &[
    (
        Category::Vegetables,
        &[
            "légume", "maraîch", "potager", "poireau", "carotte", "courge",
        ],
    ),
    (
        Category::Fruit,
        &["fruit", "verger", "pomme", "poire", "fraise"],
    ),
    (
        Category::Poultry,
        &["volaille", "poulet", "canard", "pintade"],
    ),
    (Category::Eggs, &["œuf", "oeuf", "poules"]),
    (
        Category::Meat,
        &[
            "bœuf", "boeuf", "porc", "agneau", "viande", "veau", "lapin", "bergerie", "élevage",
        ],
    ),
    (Category::Cheese, &["fromage", "chèvre", "tomme"]),
    (Category::Dairy, &["lait", "yaourt", "beurre", "crème"]),
    (Category::Bread, &["pain", "fournil", "boulang", "farine"]),
    (Category::Honey, &["miel"]),
    (
        Category::Drinks,
        &["cidre", "jus", "vin", "bière", "brasserie", "pressoir"],
    ),
    (Category::Fish, &["poisson", "truite", "piscicult"]),
    (Category::Plants, &["plant", "pépinière", "fleur"]),
    (
        Category::Grocery,
        &[
            "confiture",
            "huile",
            "pâtes",
            "safran",
            "châtaign",
            "champignon",
            "escargot",
            "angélique",
            "simples",
            "savon",
        ],
    ),
];

/// The demo entry of the `index`-th demo producer.
pub(crate) fn demo_entry(index: usize, text: &str) -> EntryInput {
    let text = text.to_lowercase();
    let mut categories: Vec<Category> = WORDS
        .iter()
        .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(c, _)| *c)
        .collect();
    if categories.is_empty() {
        categories.push(Category::Other);
    }
    let mut labels = Vec::new();
    if text.contains("biologique") || text.contains(" bio") {
        labels.push(Label::Organic);
    }
    if index % 7 == 3 {
        labels.push(Label::NatureProgres);
    }
    if index % 5 == 1 {
        labels.push(Label::Hve);
    }
    let farm_gate = index.is_multiple_of(3);
    EntryInput {
        summary: String::new(),
        categories,
        labels,
        contact_note: if index.is_multiple_of(4) {
            "Par SMS de préférence.".into()
        } else {
            String::new()
        },
        farm_gate,
        opening_hours: if farm_gate {
            "Vendredi 16 h – 19 h, samedi 9 h – 12 h".into()
        } else {
            String::new()
        },
        published: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_market_gardener_makes_vegetables_and_an_organic_one_says_so() {
        let e = demo_entry(0, "Les Jardins du Thouet. Maraîchage biologique diversifié");
        assert_eq!(e.categories, [Category::Vegetables]);
        assert_eq!(e.labels, [Label::Organic]);
        assert!(e.farm_gate && e.published);
        assert_eq!(demo_entry(2, "Savonnerie").categories, [Category::Grocery]);
        assert_eq!(demo_entry(2, "Atelier").categories, [Category::Other]);
    }
}
