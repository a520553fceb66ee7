//! A catalogue as a CSV file: export, and import with a preview.
//!
//! The file is what a spreadsheet writes: LibreOffice's "Text CSV" in UTF-8 with or without a
//! byte-order mark, fields separated by `;` (the French default) or `,` (sniffed from the
//! header line), decimal commas or points, quoted fields. Columns are found by their header,
//! in French or English, in any order ([`parse`]); a producers' group adds a `producteur`
//! column. Importing is two steps: [`Store::plan_catalogue_import`] says what would be created,
//! updated or refused (one error per cell, naming its line and column), and
//! [`Store::import_catalogue`] applies the same plan in one transaction. A row with a reference
//! already used by that producer updates that product, and a row without reference updates the
//! producer's product of the same name that has none: importing a file again never duplicates.

mod apply;
mod parse;

pub use apply::{ImportOutcome, ImportPlan, PlannedRow, RowAction};
pub use parse::{
    CellError, CellProblem, Columns, ParsedFile, ParsedRow, export, parse, sniff_separator,
};
