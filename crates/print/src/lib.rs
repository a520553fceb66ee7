//! # print — Halle's printable outputs
//!
//! Producers print a **picking list** (what to harvest and pack, then one
//! crate per pickup point) and **bag labels**; volunteers at a pickup point
//! check baskets out on a printed **distribution sheet**; drivers follow a
//! **round** sheet. This crate turns the values computed by
//! [`distribution`] into those documents, in French (first) or English, as
//! HTML, CSV, PDF or JSON:
//!
//! - [`picking_lists`], [`labels`], [`distribution_sheets`], [`round`] each
//!   return one [`Rendered`] document (bytes, content type, file name);
//! - HTML comes from Handlebars templates (`templates/print/*.hbs`, embedded
//!   at compile time) with A4 print CSS and no JavaScript;
//! - CSV is made for spreadsheets (see [`csv_out`] for the choices);
//! - PDF is laid out directly with `printpdf` in DejaVu Sans, embedded and
//!   subset per document;
//! - JSON is `serde_json::to_vec_pretty` of the input value(s).
//!
//! Every output is **deterministic**: rendering the same value twice gives
//! the same bytes (no clock, no random ids; PDF metadata dates come from the
//! cycle, the PDF `/ID` from a hash of the content).
//!
//! Nothing here does I/O or computes money: amounts, totals and sort orders
//! come from `distribution`; this crate only formats and lays them out.

pub mod csv_out;
pub mod format;
mod html;
pub mod money;
mod pdf;
#[cfg(test)]
mod tests;
pub mod texts;
mod view;

pub use money::{receipt, settlements};

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use distribution::routing::{FleetPlan, Stop, Unassigned};
use distribution::{DistributionSheet, PickingList};
use serde::Serialize;
use thiserror::Error;

/// The language of a document. French is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The ISO 639-1 code: `"fr"` or `"en"`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = PrintError;

    /// `"fr"` or `"en"`, case-insensitive; a region is ignored (`"fr-FR"`,
    /// `"en_GB"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let base = s.split(['-', '_']).next().unwrap_or_default().trim();
        if base.eq_ignore_ascii_case("fr") {
            Ok(Lang::Fr)
        } else if base.eq_ignore_ascii_case("en") {
            Ok(Lang::En)
        } else {
            Err(PrintError::UnknownLang(s.to_string()))
        }
    }
}

/// The format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A standalone HTML page with print CSS.
    Html,
    /// CSV for spreadsheets.
    Csv,
    /// An A4 PDF.
    Pdf,
    /// The input value(s) as pretty-printed JSON.
    Json,
}

impl Format {
    /// The HTTP `Content-Type` of the format.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Json => "application/json",
        }
    }

    /// The file extension, without the dot: `html`, `csv`, `pdf`, `json`.
    #[must_use]
    pub const fn file_extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Pdf => "pdf",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_extension())
    }
}

impl FromStr for Format {
    type Err = PrintError;

    /// `"html"` (or `"htm"`), `"csv"`, `"pdf"`, `"json"`, case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            "pdf" => Ok(Format::Pdf),
            "json" => Ok(Format::Json),
            _ => Err(PrintError::UnknownFormat(s.to_string())),
        }
    }
}

/// A rendered document, ready to send or save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// HTTP `Content-Type` ([`Format::content_type`]).
    pub content_type: &'static str,
    /// A suggested file name, ASCII only (for `Content-Disposition`), e.g.
    /// `liste-de-preparation-cycle-12-ferme-du-bois.pdf`.
    pub file_name: String,
    /// The document.
    pub bytes: Vec<u8>,
}

/// Why a document could not be rendered.
#[derive(Debug, Error)]
pub enum PrintError {
    /// A language code other than `fr` or `en`.
    #[error("unknown language \"{0}\" (expected fr or en)")]
    UnknownLang(String),
    /// A format name other than html, csv, pdf or json.
    #[error("unknown format \"{0}\" (expected html, csv, pdf or json)")]
    UnknownFormat(String),
    /// The embedded templates failed to compile (a bug caught by the tests).
    #[error("print templates: {0}")]
    TemplateSetup(String),
    /// A template failed to render (a bug caught by the tests).
    #[error("print template: {0}")]
    Template(#[from] handlebars::RenderError),
    /// A template helper was given a value it cannot format.
    #[error("print helper: {0}")]
    Helper(String),
    /// Writing CSV failed.
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Serializing JSON failed.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Building the PDF failed (font or serialization).
    #[error("PDF: {0}")]
    Pdf(String),
    /// Writing bytes failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

fn rendered(format: Format, stem: &str, bytes: Vec<u8>) -> Rendered {
    Rendered {
        content_type: format.content_type(),
        file_name: format!("{stem}.{}", format.file_extension()),
        bytes,
    }
}

/// `stem-cycle-12-name`, leaving out empty parts.
fn stem(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("-")
}

/// The file name of per-cycle documents: `one-cycle-12-<whose>` for a single item,
/// `many-cycle-12` for several (the first one's cycle), `many` for none.
fn cycle_stem<T>(
    items: &[T],
    (one, many): (&str, &str),
    cycle_id: impl Fn(&T) -> i64,
    whose: impl Fn(&T) -> Vec<String>,
) -> String {
    match items {
        [item] => {
            let mut parts = vec![one.to_owned(), format!("cycle-{}", cycle_id(item))];
            parts.extend(whose(item));
            stem(&parts)
        }
        [first, ..] => stem(&[many.to_owned(), format!("cycle-{}", cycle_id(first))]),
        [] => many.to_owned(),
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, PrintError> {
    Ok(serde_json::to_vec_pretty(value)?)
}

/// Picking lists: one section per producer (a new page for each in HTML print
/// and PDF). A single producer's list is a slice of one.
///
/// Each section lists the products with their total quantity (and estimated
/// weight for variable-weight products), then one block per pickup slot —
/// one crate per point.
pub fn picking_lists(
    lists: &[PickingList],
    format: Format,
    lang: Lang,
) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => ("liste-de-preparation", "listes-de-preparation"),
        Lang::En => ("picking-list", "picking-lists"),
    };
    let name = cycle_stem(
        lists,
        base,
        |l| l.cycle.id,
        |l| vec![format::slug(&l.producer_name)],
    );
    let bytes = match format {
        Format::Json => json(lists)?,
        Format::Csv => csv_out::picking(lists, lang)?,
        Format::Html => html::render(html::T_PICKING, &view::picking(lists, lang))?,
        Format::Pdf => pdf::picking(&view::picking(lists, lang), lists_meta(lists))?,
    };
    Ok(rendered(format, &name, bytes))
}

/// Bag labels: one per basket, with the consumer's name in large type, the
/// pickup point, the slot and the items. HTML and PDF lay them out 2 × 7 per
/// A4 sheet, each producer starting a new sheet. JSON is the lists
/// themselves (the labels are their `labels` field).
pub fn labels(lists: &[PickingList], format: Format, lang: Lang) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => "etiquettes",
        Lang::En => "labels",
    };
    let name = cycle_stem(
        lists,
        (base, base),
        |l| l.cycle.id,
        |l| vec![format::slug(&l.producer_name)],
    );
    let bytes = match format {
        Format::Json => json(lists)?,
        Format::Csv => csv_out::labels(lists, lang)?,
        Format::Html => html::render(html::T_LABELS, &view::labels(lists, lang))?,
        Format::Pdf => pdf::labels(&view::labels(lists, lang), lists_meta(lists))?,
    };
    Ok(rendered(format, &name, bytes))
}

/// Distribution sheets: one section per slot (a new page for each). Per
/// basket: the consumer's name in large type, the lines (product, producer,
/// quantity, amount), total, paid, amount due, a "collected" checkbox and a
/// signature column; then the slot's totals, then the deliveries expected
/// from each producer, to check crates in.
pub fn distribution_sheets(
    sheets: &[DistributionSheet],
    format: Format,
    lang: Lang,
) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => ("feuille-de-distribution", "feuilles-de-distribution"),
        Lang::En => ("distribution-sheet", "distribution-sheets"),
    };
    let name = cycle_stem(
        sheets,
        base,
        |s| s.cycle.id,
        |s| {
            vec![
                format::slug(&s.slot.pickup_point_name),
                s.slot
                    .starts_at
                    .with_timezone(&s.cycle.timezone)
                    .format("%Y-%m-%d")
                    .to_string(),
            ]
        },
    );
    let bytes = match format {
        Format::Json => json(sheets)?,
        Format::Csv => csv_out::sheets(sheets, lang)?,
        Format::Html => html::render(html::T_SHEET, &view::sheets(sheets, lang))?,
        Format::Pdf => {
            let timestamp = sheets.first().map_or(0, |s| s.cycle.closes_at.timestamp());
            pdf::sheets(&view::sheets(sheets, lang), pdf::Meta { timestamp })?
        }
    };
    Ok(rendered(format, &name, bytes))
}

/// One vehicle's round in a round's JSON.
#[derive(serde::Serialize)]
struct VehicleJson<'a> {
    /// The vehicle's name (empty for a round's one ad-hoc vehicle).
    name: &'a str,
    /// Crates it holds.
    capacity_crates: u32,
    /// Kilograms it carries, if that binds.
    capacity_kg: Option<rust_decimal::Decimal>,
    /// Its stops in order.
    stops: &'a [Stop],
    /// Its kilometres.
    total_km: f64,
    /// Its minutes, from the departure to the end.
    total_minutes: u32,
    /// Crates it loads over the round.
    crates: u32,
    /// Kilograms it loads over the round.
    kg: rust_decimal::Decimal,
}

/// A round as JSON: each vehicle's round, the totals, the shipments left out. A round of one
/// vehicle also has that vehicle's `stops` at the top, as before rounds had vehicles.
#[derive(serde::Serialize)]
struct RoundJson<'a> {
    vehicles: Vec<VehicleJson<'a>>,
    total_km: f64,
    total_minutes: u32,
    crates: u32,
    kg: rust_decimal::Decimal,
    unassigned: &'a [Unassigned],
    #[serde(skip_serializing_if = "Option::is_none")]
    stops: Option<&'a [Stop]>,
}

fn round_json(plan: &FleetPlan) -> RoundJson<'_> {
    let vehicles: Vec<VehicleJson<'_>> = plan
        .rounds
        .iter()
        .map(|r| VehicleJson {
            name: &r.vehicle.name,
            capacity_crates: r.vehicle.capacity_crates,
            capacity_kg: r.vehicle.capacity_kg,
            stops: &r.plan.stops,
            total_km: r.plan.total_km,
            total_minutes: r.plan.total_minutes,
            crates: r.plan.loaded_crates(),
            kg: r.plan.loaded_kg(),
        })
        .collect();
    RoundJson {
        total_km: plan.total_km,
        total_minutes: plan.total_minutes(),
        crates: vehicles.iter().map(|v| v.crates).sum(),
        kg: vehicles.iter().map(|v| v.kg).sum(),
        stops: match plan.rounds.as_slice() {
            [one] => Some(&one.plan.stops),
            _ => None,
        },
        vehicles,
        unassigned: &plan.unassigned,
    }
}

/// A delivery round: for each vehicle, the stops in order with times in `tz`,
/// what to load and unload at each, distances and the load on board; then the
/// pickups that could not be planned. `title` names the round (a driver, a day).
pub fn round(
    plan: &FleetPlan,
    title: &str,
    tz: Tz,
    format: Format,
    lang: Lang,
) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => "tournee",
        Lang::En => "round",
    };
    let first = view::first_arrival(plan);
    let date = first
        .map(|a| a.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let name = stem(&[base.into(), format::slug(title), date]);
    let bytes = match format {
        Format::Json => json(&round_json(plan))?,
        Format::Csv => csv_out::round(plan, tz, lang)?,
        Format::Html => html::render(html::T_ROUND, &view::round(plan, title, tz, lang))?,
        Format::Pdf => {
            let timestamp = first.map_or(0, |a| a.timestamp());
            pdf::round(&view::round(plan, title, tz, lang), pdf::Meta { timestamp })?
        }
    };
    Ok(rendered(format, &name, bytes))
}

/// The fixed PDF metadata date of picking lists and labels: the cycle's
/// closing time, never the clock (the Unix epoch when there is no list).
fn lists_meta(lists: &[PickingList]) -> pdf::Meta {
    pdf::Meta {
        timestamp: lists.first().map_or(0, |l| l.cycle.closes_at.timestamp()),
    }
}
