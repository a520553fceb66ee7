//! Reading and writing the CSV: no database, no I/O.

use domain::{Category, Money, ProductPricing, Quantity, Unit, VatRate, default_step};
use rust_decimal::Decimal;

use crate::{NewProduct, ProductView};

/// What is wrong with one cell, as a code the pages put in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellProblem {
    /// A required cell is empty.
    Missing,
    /// Not a number ("2,8O").
    NotANumber,
    /// Not one of the units.
    Unit,
    /// Not one of the categories.
    Category,
    /// A price below zero or with more than two decimals.
    Price,
    /// Not a VAT rate (a percentage below 100, two decimals at most).
    Vat,
    /// A step that is zero, negative, or not whole for a counted unit.
    Step,
    /// Not yes or no.
    YesNo,
    /// A variable-weight product without its estimated weight, or not sold by the piece.
    Weight,
    /// Too long for its column.
    TooLong,
    /// A control character (NUL...) in the text.
    Control,
    /// The same reference on an earlier line of the file.
    DuplicateReference,
    /// A producer that is not one of those the importer manages.
    UnknownProducer,
    /// The row has more or fewer cells than the header.
    Shape,
}

impl CellProblem {
    /// A stable code (`import-problem-<code>` in the catalogues).
    pub fn code(self) -> &'static str {
        match self {
            CellProblem::Missing => "missing",
            CellProblem::NotANumber => "not-a-number",
            CellProblem::Unit => "unit",
            CellProblem::Category => "category",
            CellProblem::Price => "price",
            CellProblem::Vat => "vat",
            CellProblem::Step => "step",
            CellProblem::YesNo => "yes-no",
            CellProblem::Weight => "weight",
            CellProblem::TooLong => "too-long",
            CellProblem::Control => "control",
            CellProblem::DuplicateReference => "duplicate-reference",
            CellProblem::UnknownProducer => "unknown-producer",
            CellProblem::Shape => "shape",
        }
    }
}

/// One refused cell: its line in the file (the header is line 1), its column as the file
/// names it, what it held and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    /// Line in the file, from 1 (the header).
    pub line: usize,
    /// The column's header as written in the file.
    pub column: String,
    /// What the cell held.
    pub value: String,
    /// What is wrong.
    pub problem: CellProblem,
}

/// Where each known column is, by index; `None` when the file has no such column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// The producer's name (or id), for a producers' group.
    pub producer: Option<usize>,
    /// The product's reference.
    pub reference: Option<usize>,
    /// Name (required).
    pub name: Option<usize>,
    /// Category slug or name.
    pub category: Option<usize>,
    /// Unit (required).
    pub unit: Option<usize>,
    /// Price incl. VAT (required).
    pub price: Option<usize>,
    /// VAT rate in percent (required).
    pub vat: Option<usize>,
    /// Ordering step.
    pub step: Option<usize>,
    /// Variable weight: yes or no.
    pub variable_weight: Option<usize>,
    /// Estimated weight of a piece in kg.
    pub estimated_weight: Option<usize>,
    /// Description.
    pub description: Option<usize>,
}

/// One data line of the file, read.
#[derive(Clone, Debug)]
pub struct ParsedRow {
    /// Its line in the file (the header is 1).
    pub line: usize,
    /// The producer cell, when the file has that column.
    pub producer: Option<String>,
    /// The name cell as written (to show a refused line).
    pub name: String,
    /// The product, or every refused cell of the line.
    pub product: Result<NewProduct, Vec<CellError>>,
}

/// A whole file, read.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    /// `;` or `,`.
    pub separator: u8,
    /// The header as written, for the pages.
    pub header: Vec<String>,
    /// Required columns the header lacks (their French names).
    pub missing_columns: Vec<&'static str>,
    /// Every data line, blank lines left out.
    pub rows: Vec<ParsedRow>,
}

/// The separator of the file: `;` unless the header line has more `,` than `;` outside quotes.
pub fn sniff_separator(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let (mut semi, mut comma, mut quoted) = (0, 0, false);
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => semi += 1,
            ',' if !quoted => comma += 1,
            _ => {}
        }
    }
    if comma > semi { b',' } else { b';' }
}

/// A header cell as a key: lower case, accents and spaces taken out.
fn key(header: &str) -> String {
    header
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn columns_of(header: &[String]) -> Columns {
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let slot = match key(h).as_str() {
            "producteur" | "producer" | "ferme" | "farm" => &mut c.producer,
            "reference" | "ref" | "code" | "sku" => &mut c.reference,
            "nom" | "name" | "produit" | "product" => &mut c.name,
            "categorie" | "category" => &mut c.category,
            "unite" | "unit" => &mut c.unit,
            "prix" | "prixttc" | "price" => &mut c.price,
            "tva" | "vat" | "tauxdetva" | "vatrate" => &mut c.vat,
            "pas" | "step" => &mut c.step,
            "poidsvariable" | "variableweight" => &mut c.variable_weight,
            "poidsestimekg" | "poidsestime" | "estimatedweightkg" | "estimatedweight" => {
                &mut c.estimated_weight
            }
            "description" => &mut c.description,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(i);
        }
    }
    c
}

/// A number as a spreadsheet writes it: `2,80`, `2.80`, `1 500,5` (spaces, no-break spaces).
fn number(s: &str) -> Option<Decimal> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let digits = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    if digits.is_empty()
        || digits.starts_with('.')
        || digits.matches('.').count() > 1
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return None;
    }
    cleaned.parse().ok()
}

fn unit(s: &str) -> Option<Unit> {
    if let Ok(u) = s.parse::<Unit>() {
        return Some(u);
    }
    Some(match key(s).as_str() {
        "piece" | "pieces" | "pc" | "pce" | "unite" => Unit::Piece,
        "kilo" | "kilogramme" => Unit::Kg,
        "gramme" | "grammes" => Unit::G,
        "litre" | "litres" | "liter" => Unit::L,
        "centilitre" | "centilitres" => Unit::Cl,
        "botte" | "bottes" => Unit::Bunch,
        "douzaine" | "douzaines" => Unit::Dozen,
        _ => return None,
    })
}

/// A category by its slug or its French name, as the export and the pages write them.
fn category(s: &str) -> Option<Category> {
    if let Ok(c) = Category::parse(s) {
        return Some(c);
    }
    Some(match key(s).as_str() {
        "legumes" | "legume" => Category::Vegetables,
        "fruits" => Category::Fruit,
        "viande" | "viandes" => Category::Meat,
        "volaille" | "volailles" => Category::Poultry,
        "poisson" | "poissons" => Category::Fish,
        "oeufs" | "œufs" => Category::Eggs,
        "produitslaitiers" | "laitages" => Category::Dairy,
        "fromage" | "fromages" => Category::Cheese,
        "pain" | "pains" => Category::Bread,
        "epicerie" => Category::Grocery,
        "miel" => Category::Honey,
        "boissons" | "boisson" => Category::Drinks,
        "plantsetfleurs" | "plants" | "fleurs" => Category::Plants,
        "autres" | "autre" => Category::Other,
        _ => return None,
    })
}

fn yes_no(s: &str) -> Option<bool> {
    match key(s).as_str() {
        "" | "non" | "no" | "0" | "faux" | "false" | "n" => Some(false),
        "oui" | "yes" | "1" | "vrai" | "true" | "o" | "y" | "x" => Some(true),
        _ => None,
    }
}

/// Reads one record into a product, or every refused cell.
fn read_row(
    line: usize,
    header: &[String],
    c: &Columns,
    cells: &[String],
) -> Result<NewProduct, Vec<CellError>> {
    let mut errors = Vec::new();
    let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map_or("", |s| s.trim());
    let refuse = |errors: &mut Vec<CellError>, i: Option<usize>, problem: CellProblem| {
        let i = i.unwrap_or(0);
        errors.push(CellError {
            line,
            column: header.get(i).cloned().unwrap_or_default(),
            value: cells.get(i).cloned().unwrap_or_default(),
            problem,
        });
    };
    for (i, v) in cells.iter().enumerate() {
        if v.chars()
            .any(|ch| ch.is_control() && ch != '\n' && ch != '\r' && ch != '\t')
        {
            refuse(&mut errors, Some(i), CellProblem::Control);
        }
    }
    let name = cell(c.name).to_owned();
    if name.is_empty() {
        refuse(&mut errors, c.name, CellProblem::Missing);
    } else if name.chars().count() > 200 {
        refuse(&mut errors, c.name, CellProblem::TooLong);
    }
    let reference = Some(cell(c.reference).to_owned()).filter(|r| !r.is_empty());
    if reference.as_ref().is_some_and(|r| r.chars().count() > 64) {
        refuse(&mut errors, c.reference, CellProblem::TooLong);
    }
    let description = Some(cell(c.description).to_owned()).filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        refuse(&mut errors, c.description, CellProblem::TooLong);
    }
    let category = match cell(c.category) {
        "" => Some(Category::Other),
        s => category(s).or_else(|| {
            refuse(&mut errors, c.category, CellProblem::Category);
            None
        }),
    };
    let unit = match cell(c.unit) {
        "" => {
            refuse(&mut errors, c.unit, CellProblem::Missing);
            None
        }
        s => unit(s).or_else(|| {
            refuse(&mut errors, c.unit, CellProblem::Unit);
            None
        }),
    };
    let price = match cell(c.price) {
        "" => {
            refuse(&mut errors, c.price, CellProblem::Missing);
            None
        }
        s => match number(s).map(Money::from_decimal) {
            Some(Ok(m)) if !m.amount().is_sign_negative() => Some(m),
            Some(_) => {
                refuse(&mut errors, c.price, CellProblem::Price);
                None
            }
            None => {
                refuse(&mut errors, c.price, CellProblem::NotANumber);
                None
            }
        },
    };
    let vat = match cell(c.vat).trim_end_matches('%').trim() {
        "" => {
            refuse(&mut errors, c.vat, CellProblem::Missing);
            None
        }
        s => match number(s).map(VatRate::parse) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                refuse(&mut errors, c.vat, CellProblem::Vat);
                None
            }
            None => {
                refuse(&mut errors, c.vat, CellProblem::NotANumber);
                None
            }
        },
    };
    let step = match cell(c.step) {
        "" => None,
        s => match number(s).map(Quantity::new) {
            Some(Ok(q)) if !q.is_zero() => Some(q),
            Some(_) => {
                refuse(&mut errors, c.step, CellProblem::Step);
                None
            }
            None => {
                refuse(&mut errors, c.step, CellProblem::NotANumber);
                None
            }
        },
    };
    let variable = yes_no(cell(c.variable_weight)).unwrap_or_else(|| {
        refuse(&mut errors, c.variable_weight, CellProblem::YesNo);
        false
    });
    let estimated = match (variable, cell(c.estimated_weight)) {
        (false, _) => None,
        (true, "") => {
            refuse(&mut errors, c.estimated_weight, CellProblem::Weight);
            None
        }
        (true, s) => match number(s).map(Quantity::new) {
            Some(Ok(q)) if !q.is_zero() => Some(q),
            _ => {
                refuse(&mut errors, c.estimated_weight, CellProblem::Weight);
                None
            }
        },
    };
    if variable && unit.is_some_and(|u| u != Unit::Piece) {
        refuse(&mut errors, c.variable_weight, CellProblem::Weight);
    }
    let (Some(unit), Some(price), Some(vat), Some(category)) = (unit, price, vat, category) else {
        return Err(errors);
    };
    let pricing = ProductPricing {
        unit,
        price,
        vat,
        variable_weight: estimated,
    };
    if errors.is_empty() {
        if pricing.validate().is_err() {
            refuse(&mut errors, c.price, CellProblem::Price);
        }
        if let Some(s) = step
            && domain::validate_step(unit, s).is_err()
        {
            refuse(&mut errors, c.step, CellProblem::Step);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewProduct {
        name,
        description,
        pricing,
        step: step.filter(|s| *s != default_step(unit)),
        category,
        reference,
    })
}

/// Reads a whole file. `text` is the file as UTF-8 (a leading byte-order mark is skipped).
/// Errors are per cell and per line; a file without the required columns has no rows read and
/// its `missing_columns` set.
pub fn parse(text: &str) -> ParsedFile {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let separator = sniff_separator(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(|s| s.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    let columns = columns_of(&header);
    let missing_columns: Vec<&'static str> = [
        (columns.name, "nom"),
        (columns.unit, "unite"),
        (columns.price, "prix"),
        (columns.vat, "tva"),
    ]
    .into_iter()
    .filter(|(i, _)| i.is_none())
    .map(|(_, n)| n)
    .collect();
    let mut rows = Vec::new();
    if !missing_columns.is_empty() {
        return ParsedFile {
            separator,
            header,
            missing_columns,
            rows,
        };
    }
    for record in records {
        let (line, cells): (usize, Vec<String>) = match record {
            Ok(r) => (
                r.position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0)),
                r.iter().map(str::to_owned).collect(),
            ),
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                rows.push(ParsedRow {
                    line,
                    producer: None,
                    name: String::new(),
                    product: Err(vec![CellError {
                        line,
                        column: String::new(),
                        value: String::new(),
                        problem: CellProblem::Shape,
                    }]),
                });
                continue;
            }
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let producer = columns
            .producer
            .and_then(|i| cells.get(i))
            .map(|s| s.trim().to_owned());
        let product = if cells.len() > header.len() {
            Err(vec![CellError {
                line,
                column: String::new(),
                value: cells.join(&char::from(separator).to_string()),
                problem: CellProblem::Shape,
            }])
        } else {
            read_row(line, &header, &columns, &cells)
        };
        let name = columns
            .name
            .and_then(|i| cells.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        rows.push(ParsedRow {
            line,
            producer,
            name,
            product,
        });
    }
    ParsedFile {
        separator,
        header,
        missing_columns,
        rows,
    }
}

/// The header of an export, in French or English; `with_producer` adds the group's column.
fn export_header(french: bool, with_producer: bool) -> Vec<&'static str> {
    let mut h = if french {
        vec![
            "reference",
            "nom",
            "categorie",
            "unite",
            "prix",
            "tva",
            "pas",
            "poids_variable",
            "poids_estime_kg",
            "description",
        ]
    } else {
        vec![
            "reference",
            "name",
            "category",
            "unit",
            "price",
            "vat",
            "step",
            "variable_weight",
            "estimated_weight_kg",
            "description",
        ]
    };
    if with_producer {
        h.insert(0, if french { "producteur" } else { "producer" });
    }
    h
}

/// A catalogue as CSV that LibreOffice opens as it is and [`parse`] reads back: a byte-order
/// mark, `;` and decimal commas in French (`,` and points in English). `products` come with
/// their producer's name, which is written only when `with_producer`.
pub fn export(
    products: &[(String, ProductView)],
    french: bool,
    with_producer: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(if french { b';' } else { b',' })
            .from_writer(&mut out);
        w.write_record(export_header(french, with_producer))?;
        let dec = |d: Decimal| {
            let s = d.normalize().to_string();
            if french { s.replace('.', ",") } else { s }
        };
        let yes = |b: bool| match (b, french) {
            (true, true) => "oui",
            (false, true) => "non",
            (true, false) => "yes",
            (false, false) => "no",
        };
        for (producer, p) in products {
            let mut r: Vec<String> = Vec::with_capacity(11);
            if with_producer {
                r.push(producer.clone());
            }
            r.push(p.reference.clone().unwrap_or_default());
            r.push(p.name.clone());
            r.push(p.category.slug().to_owned());
            r.push(p.pricing.unit.as_str().to_owned());
            let price = p.pricing.price.amount();
            r.push(if french {
                format!("{price:.2}").replace('.', ",")
            } else {
                format!("{price:.2}")
            });
            r.push(dec(p.pricing.vat.percent()));
            r.push(dec(p.step.value()));
            r.push(yes(p.pricing.variable_weight.is_some()).to_owned());
            r.push(
                p.pricing
                    .variable_weight
                    .map(|w| dec(w.value()))
                    .unwrap_or_default(),
            );
            r.push(p.description.clone().unwrap_or_default());
            w.write_record(&r)?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_french_file_with_a_bom_and_decimal_commas_is_read() {
        let f = parse(
            "\u{feff}Référence;Nom;Catégorie;Unité;Prix;TVA\nPOI-1;\"Poireaux; botte\";Légumes;botte;2,80;5,5\n",
        );
        assert_eq!(f.separator, b';');
        assert!(f.missing_columns.is_empty());
        let p = f.rows[0].product.as_ref().unwrap();
        assert_eq!(p.name, "Poireaux; botte");
        assert_eq!(p.category, Category::Vegetables);
        assert_eq!(p.pricing.unit, Unit::Bunch);
        assert_eq!(p.pricing.price, Money::from_cents(280));
        assert_eq!(p.reference.as_deref(), Some("POI-1"));
        assert_eq!(f.rows[0].line, 2);
    }

    #[test]
    fn commas_are_sniffed_and_each_bad_cell_is_named() {
        let f = parse("name,unit,price,vat\nCarrots,sack,abc,120\n");
        assert_eq!(f.separator, b',');
        let errors = f.rows[0].product.as_ref().unwrap_err();
        let got: Vec<(&str, CellProblem)> = errors
            .iter()
            .map(|e| (e.column.as_str(), e.problem))
            .collect();
        assert_eq!(
            got,
            vec![
                ("unit", CellProblem::Unit),
                ("price", CellProblem::NotANumber),
                ("vat", CellProblem::Vat)
            ]
        );
        assert!(errors.iter().all(|e| e.line == 2));
    }

    #[test]
    fn a_file_without_the_required_columns_says_which() {
        let f = parse("nom;prix\nPain;3\n");
        assert_eq!(f.missing_columns, vec!["unite", "tva"]);
        assert!(f.rows.is_empty());
    }

    #[test]
    fn an_export_reads_back_as_it_was() {
        let f = parse(
            "producteur;reference;nom;categorie;unite;prix;tva;pas;poids_variable;poids_estime_kg\nFerme;P1;Poulet;poultry;piece;12,50;5,5;1;oui;1,8\n",
        );
        let row = &f.rows[0];
        assert_eq!(row.producer.as_deref(), Some("Ferme"));
        let p = row.product.as_ref().unwrap();
        let view = ProductView {
            id: 1,
            producer_id: 1,
            name: p.name.clone(),
            description: None,
            pricing: p.pricing,
            step: Quantity::from_milli(1000),
            active: true,
            photo_url: None,
            category: p.category,
            reference: p.reference.clone(),
        };
        let bytes = export(&[("Ferme".into(), view)], true, true).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("Ferme;P1;Poulet;poultry;piece;12,50;5,5;1;oui;1,8;"));
        let again = parse(&text);
        let q = again.rows[0].product.as_ref().unwrap();
        assert_eq!(q.pricing, p.pricing);
        assert_eq!(q.category, Category::Poultry);
    }
}
