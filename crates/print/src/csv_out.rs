//! CSV output, made for spreadsheets.
//!
//! Choices, and why:
//! - **UTF-8 with a byte-order mark** (`EF BB BF`): without it Excel opens
//!   UTF-8 as Windows-1252 and "Légumes" becomes "LÃ©gumes"; LibreOffice
//!   and every CSV library accept the mark.
//! - **French**: `;` separator and decimal comma (`12,60`), because French
//!   spreadsheets use the comma for decimals and expect `;` between fields.
//!   **English**: `,` separator and decimal point (`12.60`).
//! - Numbers are bare (no currency sign, no thousands separator) so they
//!   stay numbers; dates are local to the cycle's time zone and sortable
//!   (`2026-11-26 17:30`).
//! - **CRLF** line endings (RFC 4180), one header row in the document's
//!   language, then **one row per line item**; values that repeat (the
//!   basket total on every line of a basket) are repeated so that each row
//!   stands alone when filtered or sorted.
//! - Quoting is left to the `csv` crate: a field holding the separator, a
//!   quote or a line break is quoted and its quotes doubled.
//! - **No formulas from users** (CSV injection): a text cell (a name, a
//!   place, a cell composed with them) that starts with `=`, `+`, `-`, `@`,
//!   a tab or a carriage return gets a leading `'` (OWASP's rule), so that a
//!   consumer named `=HYPERLINK(...)` is shown, not run. Cells Halle writes
//!   as numbers, amounts and dates (`-3,50`) are never touched: they go
//!   through [`text`] only if they are text.
//!
//! Columns: picking list `producer; product; unit; quantity; point; slot
//! date; estimated kg`, labels `order; consumer; point; slot date; producer;
//! product; unit; quantity`, distribution sheet `slot; consumer; product;
//! producer; quantity; unit; amount; basket total; paid; due; status`, round
//! `stop; kind; place; arrival; departure; km from previous; km total;
//! crates on board; kg on board; load; unload; note`.

use chrono_tz::Tz;
use distribution::routing::FleetPlan;
use distribution::{DistributionSheet, PickingList};
use rust_decimal::Decimal;

use crate::format;
use crate::texts::Texts;
use crate::view;
use crate::{Lang, PrintError};

/// The UTF-8 byte-order mark every CSV starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn writer(lang: Lang) -> csv::Writer<Vec<u8>> {
    let delimiter = match lang {
        Lang::Fr => b';',
        Lang::En => b',',
    };
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(BOM.to_vec())
}

pub(crate) fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, PrintError> {
    w.into_inner()
        .map_err(|e| PrintError::Io(std::io::Error::other(e.to_string())))
}

/// A text cell, neutralised against formula injection: a leading `'` when it starts with a
/// character that makes a spreadsheet read it as a formula.
pub(crate) fn text(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn header(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_string()).collect()
}

/// `1,5` / `1.5` for a plain decimal.
fn decimal(value: Decimal, lang: Lang) -> String {
    let text = value.normalize().to_string();
    match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// One row per crate item: producer, product, unit, quantity, point, slot.
pub(crate) fn picking(lists: &[PickingList], lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = Texts::of(lang);
    let mut w = writer(lang);
    let kg = format!("{} (kg)", t.estimated_weight);
    w.write_record(header(&[
        t.producer,
        t.product,
        t.unit,
        t.quantity,
        t.pickup_point,
        t.slot,
        &kg,
    ]))?;
    for list in lists {
        let tz = list.cycle.timezone;
        for point in &list.points {
            let when = format::csv_date_time(point.slot.starts_at, tz);
            for item in &point.items {
                w.write_record([
                    &*text(&list.producer_name),
                    &text(&item.product_name),
                    format::unit_name(item.unit, lang),
                    &format::csv_quantity(item.quantity, lang),
                    &text(&point.slot.pickup_point_name),
                    &when,
                    &item
                        .estimated_kg
                        .map(|q| format::csv_quantity(q, lang))
                        .unwrap_or_default(),
                ])?;
            }
        }
    }
    finish(w)
}

/// One row per label item.
pub(crate) fn labels(lists: &[PickingList], lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = Texts::of(lang);
    let mut w = writer(lang);
    w.write_record(header(&[
        t.order_no,
        t.consumer,
        t.pickup_point,
        t.slot,
        t.producer,
        t.product,
        t.unit,
        t.quantity,
    ]))?;
    for list in lists {
        let tz = list.cycle.timezone;
        for label in &list.labels {
            let order = label.order_id.to_string();
            let when = format::csv_date_time(label.starts_at, tz);
            for item in &label.items {
                w.write_record([
                    order.as_str(),
                    &text(&label.consumer_name),
                    &text(&label.pickup_point_name),
                    &when,
                    &text(&list.producer_name),
                    &text(&item.product_name),
                    format::unit_name(item.unit, lang),
                    &format::csv_quantity(item.quantity, lang),
                ])?;
            }
        }
    }
    finish(w)
}

/// One row per basket line, baskets in collation order.
pub(crate) fn sheets(sheets: &[DistributionSheet], lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = Texts::of(lang);
    let mut w = writer(lang);
    w.write_record(header(&[
        t.slot, t.consumer, t.product, t.producer, t.quantity, t.unit, t.amount, t.total, t.paid,
        t.due, t.status,
    ]))?;
    for sheet in sheets {
        let slot = format!(
            "{} {}",
            sheet.slot.pickup_point_name,
            format::csv_date_time(sheet.slot.starts_at, sheet.cycle.timezone)
        );
        let slot = text(&slot);
        for basket in view::sorted_baskets(sheet) {
            let total = format::csv_money(basket.total, lang);
            let paid = format::csv_money(basket.paid, lang);
            let due = format::csv_money(basket.due, lang);
            let status = t.collection(basket.collection);
            if basket.lines.is_empty() {
                w.write_record([
                    &*slot,
                    &text(&basket.consumer_name),
                    "",
                    "",
                    "",
                    "",
                    "",
                    &total,
                    &paid,
                    &due,
                    status,
                ])?;
            }
            for line in &basket.lines {
                let (amount, _) = view::line_amount(line);
                w.write_record([
                    &*slot,
                    &text(&basket.consumer_name),
                    &text(&line.product_name),
                    &text(&line.producer_name),
                    &format::csv_quantity(line.quantity, lang),
                    format::unit_name(line.unit, lang),
                    &format::csv_money(amount, lang),
                    &total,
                    &paid,
                    &due,
                    status,
                ])?;
            }
        }
    }
    finish(w)
}

/// One row per stop, then one per pickup left unplanned. A round with named vehicles begins
/// each row with the vehicle's name (a round's one ad-hoc vehicle: the columns as they were).
pub(crate) fn round(plan: &FleetPlan, tz: Tz, lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = Texts::of(lang);
    let v = view::round(plan, "", tz, lang);
    let named = plan.rounds.iter().any(|r| !r.vehicle.name.is_empty());
    let mut w = writer(lang);
    let km_prev = format!("{} (km)", t.distance);
    let km_total = format!("{} {} (km)", t.total, t.distance.to_lowercase());
    let crates = format!("{} ({})", t.load, t.crates);
    let kg = format!("{} (kg)", t.load);
    let note = t.reason;
    let mut titles: Vec<&str> = Vec::new();
    if named {
        titles.push(t.vehicle);
    }
    titles.extend([
        t.stop,
        t.kind,
        t.place,
        t.arrival,
        t.departure,
        &km_prev,
        &km_total,
        &crates,
        &kg,
        t.kind_collect,
        t.kind_deliver,
        note,
    ]);
    w.write_record(header(&titles))?;
    for (r, vv) in plan.rounds.iter().zip(&v.vehicles) {
        for (stop, sv) in r.plan.stops.iter().zip(&vv.stops) {
            let (load, unload): (Vec<&String>, Vec<&String>) =
                sv.actions.iter().partition(|a| a.starts_with('+'));
            let join = |items: Vec<&String>| {
                items
                    .into_iter()
                    .map(|s| s.replace('\u{a0}', " "))
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let mut row: Vec<String> = Vec::new();
            if named {
                row.push(text(&r.vehicle.name).into_owned());
            }
            row.extend([
                stop.sequence.to_string(),
                text(&sv.kind).into_owned(),
                text(&stop.place.name).into_owned(),
                format::csv_date_time(stop.arrival, tz),
                format::csv_date_time(stop.departure, tz),
                decimal(km_decimal(stop.km_from_previous), lang),
                decimal(km_decimal(stop.km_total), lang),
                stop.load_crates.to_string(),
                decimal(stop.load_kg, lang),
                text(&join(load)).into_owned(),
                text(&join(unload)).into_owned(),
                String::new(),
            ]);
            w.write_record(&row)?;
        }
    }
    for u in &v.unassigned {
        let mut row: Vec<String> = Vec::new();
        if named {
            row.push(String::new());
        }
        row.extend([
            String::new(),
            t.unassigned.to_string(),
            text(&format!("{} → {}", u.producer, u.slot)).into_owned(),
        ]);
        row.extend(std::iter::repeat_n(String::new(), 8));
        row.push(text(&u.reason).into_owned());
        w.write_record(&row)?;
    }
    finish(w)
}

/// A distance rounded to 0.1 km as an exact decimal (no float noise in cells).
fn km_decimal(km: f64) -> Decimal {
    let tenths = if km.is_finite() {
        (km.max(0.0) * 10.0).round()
    } else {
        0.0
    };
    // Saturating float-to-int: distances are far below i64::MAX tenths.
    #[allow(clippy::cast_possible_truncation)]
    Decimal::new(tenths as i64, 1)
}
