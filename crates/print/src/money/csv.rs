//! Receipts and settlements as CSV, with the conventions of every CSV of Halle
//! ([`crate::csv_out`]: BOM, `;` and decimal comma in French, CRLF, names guarded against
//! formulas, one header row then rows that each stand alone).
//!
//! Receipt: one row per line, then one per payment (`line` says which):
//! `receipt; date; consumer; line; product; producer; quantity; unit; weighed kg; unit price;
//! VAT rate; amount`.
//! Settlement: one row per product, then one per VAT rate, then the summary:
//! `producer; cycle; line; product; unit; quantity; weighed kg; VAT rate; base excl. VAT; VAT;
//! amount incl. VAT` (summary rows name what they are in `line` and give their amount last).

use distribution::{Receipt, Settlement};
use domain::{Money, Quantity, VatRate};

use super::texts::MoneyTexts;
use crate::csv_out::{finish, text, writer};
use crate::{Lang, PrintError, format};

fn rate(r: VatRate, lang: Lang) -> String {
    format::csv_quantity(Quantity::new(r.percent()).unwrap_or(Quantity::ZERO), lang)
}

fn money(m: Money, lang: Lang) -> String {
    format::csv_money(m, lang)
}

/// A receipt: its lines, then its payments.
pub(crate) fn receipt(r: &Receipt, lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = MoneyTexts::of(lang);
    let mut w = writer(lang);
    w.write_record([
        t.receipt,
        t.date,
        t.consumer,
        t.line,
        t.product,
        t.producer,
        t.quantity,
        t.unit,
        t.weighed_kg,
        t.unit_price,
        t.vat_rate,
        t.amount,
    ])?;
    let date = format::csv_date_time(r.stamp.issued_at, r.cycle.timezone);
    for l in &r.lines {
        w.write_record([
            &*r.stamp.number,
            &date,
            &text(&r.consumer_name),
            t.row_product,
            &text(&l.product_name),
            &text(&l.producer_name),
            &format::csv_quantity(l.quantity, lang),
            format::unit_name(l.unit, lang),
            &l.weighed_kg
                .map(|q| format::csv_quantity(q, lang))
                .unwrap_or_default(),
            &money(l.unit_price, lang),
            &rate(l.vat, lang),
            &money(l.amount, lang),
        ])?;
    }
    for p in &r.payments {
        w.write_record([
            &*r.stamp.number,
            &date,
            &text(&r.consumer_name),
            t.row_payment,
            t.payment(p),
            "",
            "",
            "",
            "",
            "",
            "",
            &money(p.amount, lang),
        ])?;
    }
    finish(w)
}

/// Settlements: per producer, its products, its VAT per rate, then its summary.
pub(crate) fn settlements(list: &[Settlement], lang: Lang) -> Result<Vec<u8>, PrintError> {
    let t = MoneyTexts::of(lang);
    let mut w = writer(lang);
    let cycle_word = crate::texts::Texts::of(lang).cycle;
    w.write_record([
        t.producer,
        cycle_word,
        t.line,
        t.product,
        t.unit,
        t.quantity,
        t.weighed_kg,
        t.vat_rate,
        t.net,
        t.vat,
        t.amount,
    ])?;
    for s in list {
        let producer = text(&s.producer_name);
        let cycle = text(&s.cycle.name);
        for p in &s.products {
            w.write_record([
                &*producer,
                &cycle,
                t.row_product,
                &text(&p.product_name),
                format::unit_name(p.unit, lang),
                &format::csv_quantity(p.quantity, lang),
                &p.weighed_kg
                    .map(|q| format::csv_quantity(q, lang))
                    .unwrap_or_default(),
                &rate(p.vat, lang),
                "",
                "",
                &money(p.amount, lang),
            ])?;
        }
        for v in &s.vat {
            w.write_record([
                &*producer,
                &cycle,
                t.vat,
                "",
                "",
                "",
                "",
                &rate(v.rate, lang),
                &money(v.net, lang),
                &money(v.vat, lang),
                &money(v.gross, lang),
            ])?;
        }
        let commission = format!(
            "{} ({})",
            t.commission,
            super::view::percent(s.commission_bp, lang)
        );
        for (label, amount) in [
            (t.sold, s.sold),
            (t.online_share, s.online),
            (t.on_the_spot_share, s.on_the_spot),
            (t.collected, s.collected),
            (t.outstanding, s.outstanding),
            (commission.as_str(), Money::ZERO - s.commission),
            (t.owed, s.owed),
        ] {
            w.write_record([
                &*producer,
                &cycle,
                label,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &money(amount, lang),
            ])?;
        }
    }
    finish(w)
}
