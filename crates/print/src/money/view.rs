//! What the HTML templates and the PDF writer draw, as formatted strings: both print the same
//! words and figures.

use distribution::{Receipt, Settlement};
use domain::{Money, VatBreakdownLine};
use serde::Serialize;

use super::texts::MoneyTexts;
use crate::format::{self, NBSP};
use crate::view::vat_rate;
use crate::{Lang, texts::Texts};

/// One rate of a VAT breakdown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct VatRow {
    pub(crate) rate: String,
    pub(crate) net: String,
    pub(crate) vat: String,
    pub(crate) gross: String,
}

fn vat_rows(vat: &[VatBreakdownLine], lang: Lang) -> Vec<VatRow> {
    vat.iter()
        .map(|v| VatRow {
            rate: vat_rate(v.rate, lang),
            net: format::money(v.net, lang),
            vat: format::money(v.vat, lang),
            gross: format::money(v.gross, lang),
        })
        .collect()
}

/// A label and an amount.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AmountRow {
    pub(crate) label: String,
    pub(crate) amount: String,
    pub(crate) strong: bool,
}

fn row(label: impl Into<String>, amount: Money, lang: Lang, strong: bool) -> AmountRow {
    AmountRow {
        label: label.into(),
        amount: format::money(amount, lang),
        strong,
    }
}

/// One line of a receipt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceiptLineView {
    pub(crate) product: String,
    pub(crate) producer: String,
    pub(crate) quantity: String,
    pub(crate) weight: String,
    pub(crate) unit_price: String,
    pub(crate) vat: String,
    pub(crate) amount: String,
}

/// A receipt, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceiptDoc {
    pub(crate) t: &'static MoneyTexts,
    pub(crate) title: String,
    pub(crate) market: String,
    pub(crate) issued: String,
    pub(crate) consumer: String,
    pub(crate) order_ref: String,
    pub(crate) pickup: String,
    pub(crate) lines: Vec<ReceiptLineView>,
    pub(crate) total: String,
    pub(crate) vat: Vec<VatRow>,
    pub(crate) payments: Vec<AmountRow>,
    pub(crate) balance: Vec<AmountRow>,
    pub(crate) note: String,
}

/// Builds a receipt's view.
pub(crate) fn receipt(r: &Receipt, lang: Lang) -> ReceiptDoc {
    let t = MoneyTexts::of(lang);
    let tz = r.cycle.timezone;
    let lines = r
        .lines
        .iter()
        .map(|l| ReceiptLineView {
            product: l.product_name.clone(),
            producer: l.producer_name.clone(),
            quantity: format::quantity_with_unit(l.quantity, l.unit, lang),
            weight: l
                .weighed_kg
                .map(|kg| format::kg(kg, lang, false))
                .unwrap_or_default(),
            unit_price: format!(
                "{}{NBSP}/{NBSP}{}",
                format::money(l.unit_price, lang),
                format::unit_name(l.price_unit, lang)
            ),
            vat: vat_rate(l.vat, lang),
            amount: format::money(l.amount, lang),
        })
        .collect();
    let payments = r
        .payments
        .iter()
        .map(|p| row(t.payment(p), p.amount, lang, false))
        .collect();
    let mut balance = vec![row(t.paid, r.paid, lang, false)];
    if r.due < Money::ZERO {
        balance.push(row(t.overpaid, Money::ZERO - r.due, lang, true));
    } else {
        balance.push(row(t.due, r.due, lang, true));
    }
    ReceiptDoc {
        t,
        title: format!("{} {}", t.receipt_no, r.stamp.number),
        market: r.cycle.market_name.clone(),
        issued: format!(
            "{} {}",
            t.issued_on,
            format::date_time(r.stamp.issued_at, tz, lang)
        ),
        consumer: r.consumer_name.clone(),
        order_ref: format!(
            "{}{NBSP}{} · {}",
            t.order_no, r.stamp.order_id, r.cycle.name
        ),
        pickup: format!(
            "{} — {}",
            r.slot.pickup_point_name,
            format::range(r.slot.starts_at, r.slot.ends_at, tz, lang)
        ),
        lines,
        total: format::money(r.total, lang),
        vat: vat_rows(&r.vat, lang),
        payments,
        balance,
        note: if r.fully_weighed {
            String::new()
        } else {
            t.estimated_note.to_owned()
        },
    }
}

/// One product of a settlement.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProductRow {
    pub(crate) product: String,
    pub(crate) quantity: String,
    pub(crate) weight: String,
    pub(crate) vat: String,
    pub(crate) amount: String,
}

/// One producer's settlement, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SettlementView {
    pub(crate) heading: String,
    pub(crate) subtitle: String,
    pub(crate) baskets: String,
    pub(crate) products: Vec<ProductRow>,
    pub(crate) vat: Vec<VatRow>,
    pub(crate) summary: Vec<AmountRow>,
}

/// Settlements, formatted.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SettlementDoc {
    pub(crate) t: &'static MoneyTexts,
    pub(crate) title: String,
    pub(crate) empty: bool,
    pub(crate) settlements: Vec<SettlementView>,
}

/// `7,5 %` / `7.5%` from basis points.
pub(crate) fn percent(bp: u32, lang: Lang) -> String {
    vat_rate(domain::VatRate::from_basis_points(bp), lang)
}

/// Builds the settlements' view.
pub(crate) fn settlements(list: &[Settlement], lang: Lang) -> SettlementDoc {
    let t = MoneyTexts::of(lang);
    let colon = Texts::of(lang).colon;
    let settlements = list
        .iter()
        .map(|s| {
            let products = s
                .products
                .iter()
                .map(|p| ProductRow {
                    product: p.product_name.clone(),
                    quantity: format::quantity_with_unit(p.quantity, p.unit, lang),
                    weight: match (p.weighed_kg, p.unweighed_lines) {
                        (Some(kg), 0) => format::kg(kg, lang, false),
                        (Some(kg), n) => {
                            format!("{} (+{n} {})", format::kg(kg, lang, false), t.unweighed)
                        }
                        (None, _) => String::new(),
                    },
                    vat: vat_rate(p.vat, lang),
                    amount: format::money(p.amount, lang),
                })
                .collect();
            SettlementView {
                heading: format!("{} — {}", t.settlement, s.producer_name),
                subtitle: format!("{} · {}", s.cycle.market_name, s.cycle.name),
                baskets: format!("{}{colon} {}", t.baskets, s.baskets),
                products,
                vat: vat_rows(&s.vat, lang),
                summary: vec![
                    row(t.sold, s.sold, lang, true),
                    row(t.online_share, s.online, lang, false),
                    row(t.on_the_spot_share, s.on_the_spot, lang, false),
                    row(t.collected, s.collected, lang, true),
                    row(t.outstanding, s.outstanding, lang, false),
                    row(
                        format!("{} ({})", t.commission, percent(s.commission_bp, lang)),
                        Money::ZERO - s.commission,
                        lang,
                        false,
                    ),
                    row(t.owed, s.owed, lang, true),
                ],
            }
        })
        .collect();
    let title = match list {
        [one] => format!(
            "{} — {} — {}",
            t.settlement, one.producer_name, one.cycle.name
        ),
        [first, ..] => format!("{} — {}", t.settlement, first.cycle.name),
        [] => t.settlement.to_owned(),
    };
    SettlementDoc {
        t,
        title,
        empty: list.is_empty(),
        settlements,
    }
}
