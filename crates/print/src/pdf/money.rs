//! Receipts and settlements as PDF, with the same writer, tables and fonts as the lists.

use super::layout::{Align, Cell, Column, Style, Table, Writer};
use super::{MARGINS, META, Meta, assemble, heading, title_block, writer};
use crate::PrintError;
use crate::money::view::{AmountRow, ReceiptDoc, SettlementDoc, VatRow};

fn vat_table(w: &mut Writer, t: &crate::money::MoneyTexts, rows: &[VatRow]) {
    let table = Table::new(vec![
        Column::new(t.vat_rate, 120.0, Align::Left),
        Column::new(t.net, 120.0, Align::Right),
        Column::new(t.vat, 110.0, Align::Right),
        Column::new(t.gross, 120.0, Align::Right),
    ]);
    table.begin(w, 20.0);
    for v in rows {
        table.row(
            w,
            &[
                Cell::Text(v.rate.clone()),
                Cell::Text(v.net.clone()),
                Cell::Text(v.vat.clone()),
                Cell::Text(v.gross.clone()),
            ],
        );
    }
}

fn amounts(w: &mut Writer, rows: &[AmountRow]) {
    let full = w.width();
    let mut table = Table::new(vec![
        Column::new("", full - 140.0, Align::Left),
        Column::new("", 140.0, Align::Right),
    ]);
    table.style = Style::regular(11.0);
    for r in rows {
        let style = if r.strong {
            Style::bold(11.5)
        } else {
            Style::regular(11.0)
        };
        table.row(
            w,
            &[
                Cell::Styled(r.label.clone(), style),
                Cell::Styled(r.amount.clone(), style),
            ],
        );
    }
}

/// A receipt: one A4 page (more if the basket is long).
pub(crate) fn receipt(doc: &ReceiptDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let t = doc.t;
    let mut w = writer(MARGINS, t.page)?;
    w.start();
    w.footer = doc.title.clone();
    w.running = format!("{} ({})", doc.title, t.continued);
    let consumer = format!(
        "{}{} {} · {}",
        t.consumer, t.colon, doc.consumer, doc.order_ref
    );
    let pickup = format!("{}{} {}", t.pickup, t.colon, doc.pickup);
    title_block(
        &mut w,
        &doc.title,
        &[
            (&doc.market, Style::bold(12.0)),
            (&doc.issued, META),
            (&consumer, META),
            (&pickup, META),
        ],
    );
    let widths = [150.0, 105.0, 75.0, 85.0, 50.0, 70.0];
    let scale = w.width() / widths.iter().sum::<f32>();
    let titles = [
        t.product,
        t.producer,
        t.quantity,
        t.unit_price,
        t.vat_rate,
        t.amount,
    ];
    let aligns = [
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
    ];
    let mut table = Table::new(
        titles
            .iter()
            .zip(widths)
            .zip(aligns)
            .map(|((title, width), align)| Column::new(title, width * scale, align))
            .collect(),
    );
    table.style = Style::regular(9.5);
    table.begin(&mut w, 30.0);
    for l in &doc.lines {
        let quantity = if l.weight.is_empty() {
            Cell::Text(l.quantity.clone())
        } else {
            Cell::TwoLines(l.quantity.clone(), l.weight.clone())
        };
        table.row(
            &mut w,
            &[
                Cell::Text(l.product.clone()),
                Cell::Text(l.producer.clone()),
                quantity,
                Cell::Text(l.unit_price.clone()),
                Cell::Text(l.vat.clone()),
                Cell::Text(l.amount.clone()),
            ],
        );
    }
    w.y += 4.0;
    amounts(
        &mut w,
        &[AmountRow {
            label: t.total.to_owned(),
            amount: doc.total.clone(),
            strong: true,
        }],
    );
    if !doc.note.is_empty() {
        w.paragraph(&doc.note, META, 2.0);
    }
    heading(&mut w, t.vat_breakdown, 40.0);
    vat_table(&mut w, t, &doc.vat);
    heading(&mut w, t.payments, 40.0);
    if doc.payments.is_empty() {
        w.paragraph(t.no_payment, Style::regular(11.0), 4.0);
    } else {
        amounts(&mut w, &doc.payments);
    }
    w.y += 4.0;
    amounts(&mut w, &doc.balance);
    assemble(w, &doc.title, meta)
}

/// Settlements: one producer per page.
pub(crate) fn settlements(doc: &SettlementDoc, meta: Meta) -> Result<Vec<u8>, PrintError> {
    let t = doc.t;
    let mut w = writer(MARGINS, t.page)?;
    w.footer = doc.title.clone();
    if doc.empty {
        w.start();
        w.paragraph(t.settlement, super::H1, 8.0);
        w.paragraph(t.nothing, Style::regular(12.0), 0.0);
    }
    for (i, s) in doc.settlements.iter().enumerate() {
        if i > 0 {
            w.new_page();
        }
        w.start();
        w.footer = s.heading.clone();
        w.running = format!("{} ({})", s.heading, t.continued);
        title_block(
            &mut w,
            &s.heading,
            &[(&s.subtitle, META), (&s.baskets, META)],
        );
        let full = w.width();
        let mut table = Table::new(vec![
            Column::new(t.product, full - 330.0, Align::Left),
            Column::new(t.quantity, 85.0, Align::Right),
            Column::new(t.weighed_kg, 105.0, Align::Right),
            Column::new(t.vat_rate, 60.0, Align::Right),
            Column::new(t.amount, 80.0, Align::Right),
        ]);
        table.style = Style::regular(9.5);
        table.begin(&mut w, 30.0);
        for p in &s.products {
            table.row(
                &mut w,
                &[
                    Cell::Text(p.product.clone()),
                    Cell::Text(p.quantity.clone()),
                    Cell::Text(p.weight.clone()),
                    Cell::Text(p.vat.clone()),
                    Cell::Text(p.amount.clone()),
                ],
            );
        }
        heading(&mut w, t.vat_breakdown, 40.0);
        vat_table(&mut w, t, &s.vat);
        heading(&mut w, t.summary, 120.0);
        amounts(&mut w, &s.summary);
        w.y += 4.0;
        w.paragraph(t.method_note, Style::grey(8.5), 0.0);
    }
    assemble(w, &doc.title, meta)
}
