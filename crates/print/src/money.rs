//! The money documents: a basket's **receipt** and the producers' **settlement** statements
//! of a cycle, from `distribution`'s [`Receipt`] and [`Settlement`], as HTML, CSV, PDF or
//! JSON, like the other documents (same CSV conventions, same PDF machinery, same
//! determinism: the PDF date is the receipt's issue or the cycle's close, never the clock).

mod csv;
mod texts;
pub(crate) mod view;

use distribution::{Receipt, Settlement};

pub use texts::MoneyTexts;

use crate::{
    Format, Lang, PrintError, Rendered, cycle_stem, format, html, json, pdf, rendered, stem,
};

/// A basket's receipt: market, consumer, number and date, the lines (quantity, unit price,
/// VAT rate, amount), the VAT breakdown per rate and how it was paid.
pub fn receipt(receipt: &Receipt, format: Format, lang: Lang) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => "recu",
        Lang::En => "receipt",
    };
    let name = stem(&[base.into(), receipt.stamp.number.clone()]);
    let bytes = match format {
        Format::Json => json(receipt)?,
        Format::Csv => csv::receipt(receipt, lang)?,
        Format::Html => html::render(html::T_RECEIPT, &view::receipt(receipt, lang))?,
        Format::Pdf => pdf::receipt(
            &view::receipt(receipt, lang),
            pdf::Meta {
                timestamp: receipt.stamp.issued_at.timestamp(),
            },
        )?,
    };
    Ok(rendered(format, &name, bytes))
}

/// Settlement statements, one section (page) per producer: what was sold per product, the
/// VAT breakdown, what was collected online and on the spot, the market's commission and what
/// the market owes the producer.
pub fn settlements(
    list: &[Settlement],
    format: Format,
    lang: Lang,
) -> Result<Rendered, PrintError> {
    let base = match lang {
        Lang::Fr => ("releve", "releves"),
        Lang::En => ("settlement", "settlements"),
    };
    let name = cycle_stem(
        list,
        base,
        |s| s.cycle.id,
        |s| vec![format::slug(&s.producer_name)],
    );
    let bytes = match format {
        Format::Json => json(list)?,
        Format::Csv => csv::settlements(list, lang)?,
        Format::Html => html::render(html::T_SETTLEMENT, &view::settlements(list, lang))?,
        Format::Pdf => pdf::settlements(
            &view::settlements(list, lang),
            pdf::Meta {
                timestamp: list.first().map_or(0, |s| s.cycle.closes_at.timestamp()),
            },
        )?,
    };
    Ok(rendered(format, &name, bytes))
}

#[cfg(test)]
mod tests;
