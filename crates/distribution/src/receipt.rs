//! A basket's receipt, computed from what the store loads for its slot: the lines as they are
//! paid (weighed pieces at their real weight, the others as ordered), the VAT breakdown per rate
//! (through [`domain::basket_totals`], like every other total), and how the basket was paid
//! (online, refunds, on the spot by cash, cheque or card).

use chrono::{DateTime, Utc};
use domain::{Money, Quantity, Unit, VatBreakdownLine, VatRate};
use serde::Serialize;

use crate::model::{BasketState, CycleInfo, LineRow, Payment, PaymentMethod, SlotInfo};
use crate::pricing::{basket_amounts, weighed_kg};

/// What the store knows of an issued receipt: its number and when it was issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptStamp {
    /// As printed: `2026-000123`.
    pub number: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The basket.
    pub order_id: i64,
}

/// One line of a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptLine {
    /// The product.
    pub product_name: String,
    /// Its producer.
    pub producer_name: String,
    /// The unit it was ordered in.
    pub unit: Unit,
    /// How much was ordered, in `unit`.
    pub quantity: Quantity,
    /// The real weight, once every piece of a variable-weight line is weighed.
    pub weighed_kg: Option<Quantity>,
    /// The price the amount is computed on, incl. VAT: per kg once weighed, else per `unit`.
    pub unit_price: Money,
    /// What `unit_price` is the price of: kg once weighed, else `unit`.
    pub price_unit: Unit,
    /// The VAT rate.
    pub vat: VatRate,
    /// The line's amount incl. VAT, rounded to the cent.
    pub amount: Money,
}

/// A basket's receipt.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Receipt {
    /// Its number and date.
    pub stamp: ReceiptStamp,
    /// The cycle, with the market's name and time zone.
    pub cycle: CycleInfo,
    /// Where and when the basket was collected.
    pub slot: SlotInfo,
    /// The consumer.
    pub consumer_name: String,
    /// The lines, in the order they were placed.
    pub lines: Vec<ReceiptLine>,
    /// Total incl. VAT.
    pub total: Money,
    /// Per VAT rate: base (excl. VAT), VAT and total incl. VAT.
    pub vat: Vec<VatBreakdownLine>,
    /// Every payment counted (voided ones are not), refunds negative.
    pub payments: Vec<Payment>,
    /// Paid online, refunds deducted.
    pub online: Money,
    /// Refunded online (a positive amount; already deducted from `online`).
    pub refunded: Money,
    /// Paid on the spot (cash, cheque, card).
    pub on_the_spot: Money,
    /// Everything paid: `online + on_the_spot`.
    pub paid: Money,
    /// `total - paid` (negative when more was paid than the total).
    pub due: Money,
    /// False while a variable-weight line still counts at its estimate.
    pub fully_weighed: bool,
}

/// The receipt of the basket `stamp.order_id` from the lines of its slot (or its cycle) and
/// its state at the pickup point; `None` when the basket has no line among them.
#[must_use]
pub fn receipt(
    stamp: ReceiptStamp,
    cycle: &CycleInfo,
    slots: &[SlotInfo],
    lines: &[LineRow],
    state: Option<&BasketState>,
) -> Option<Receipt> {
    let mut mine: Vec<&LineRow> = lines
        .iter()
        .filter(|l| l.order_id == stamp.order_id)
        .collect();
    mine.sort_by_key(|l| l.line_id);
    let first = *mine.first()?;
    let amounts = basket_amounts(&mine);
    let receipt_lines = mine
        .iter()
        .zip(&amounts.effective.lines)
        .map(|(l, amount)| {
            let weighed = weighed_kg(l);
            let (unit_price, price_unit) = match (weighed, &l.variable_weight) {
                (Some(_), Some(vw)) => (vw.price_per_kg, Unit::Kg),
                _ => (l.unit_price, l.unit),
            };
            ReceiptLine {
                product_name: l.product_name.clone(),
                producer_name: l.producer_name.clone(),
                unit: l.unit,
                quantity: l.quantity,
                weighed_kg: weighed,
                unit_price,
                price_unit,
                vat: l.vat,
                amount: *amount,
            }
        })
        .collect();
    let payments: Vec<Payment> = state.map(|s| s.payments.clone()).unwrap_or_default();
    let sum = |keep: &dyn Fn(&Payment) -> bool| -> Money {
        payments.iter().filter(|p| keep(p)).map(|p| p.amount).sum()
    };
    let online = sum(&|p| p.method == PaymentMethod::Online);
    let refunded =
        Money::ZERO - sum(&|p| p.method == PaymentMethod::Online && p.amount < Money::ZERO);
    let on_the_spot = sum(&|p| p.method != PaymentMethod::Online);
    let paid = online + on_the_spot;
    let total = amounts.effective.total;
    let slot = slots
        .iter()
        .find(|s| s.slot_id == first.slot_id)
        .cloned()
        .unwrap_or_else(|| SlotInfo {
            slot_id: first.slot_id,
            pickup_point_id: 0,
            pickup_point_name: "?".to_owned(),
            address: "?".to_owned(),
            starts_at: cycle.closes_at,
            ends_at: cycle.closes_at,
            cancelled: false,
        });
    Some(Receipt {
        stamp,
        cycle: cycle.clone(),
        slot,
        consumer_name: first.consumer_name.clone(),
        lines: receipt_lines,
        total,
        vat: amounts.effective.vat,
        payments,
        online,
        refunded,
        on_the_spot,
        paid,
        due: total - paid,
        fully_weighed: amounts.fully_weighed,
    })
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on bad fixtures")]
mod tests {
    use super::*;
    use crate::model::Collection;
    use crate::pricing::tests::{chicken, fixed_line};
    use chrono::TimeZone;

    fn cycle() -> CycleInfo {
        CycleInfo {
            id: 1,
            name: "Semaine 12".into(),
            market_name: "Marché".into(),
            timezone: chrono_tz::Europe::Paris,
            opens_at: Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(),
            closes_at: Utc.with_ymd_and_hms(2026, 3, 15, 20, 0, 0).unwrap(),
        }
    }

    fn stamp() -> ReceiptStamp {
        ReceiptStamp {
            number: "2026-000001".into(),
            issued_at: Utc.with_ymd_and_hms(2026, 3, 18, 17, 0, 0).unwrap(),
            order_id: 1,
        }
    }

    #[test]
    fn a_receipt_prices_weighed_lines_per_kg_and_splits_vat_per_rate() {
        let bird = chicken(1, 1, &[1920]); // 24.00 at 5.5 %
        let mut wine = fixed_line(2, 1000, 1200); // 12.00 at 20 %
        wine.vat = VatRate::STANDARD_20;
        wine.unit = Unit::Piece;
        let other = LineRow {
            order_id: 2,
            ..fixed_line(3, 1000, 999)
        };
        let state = BasketState {
            order_id: 1,
            collection: Collection::Collected,
            payments: vec![
                Payment {
                    id: 1,
                    method: PaymentMethod::Online,
                    amount: Money::from_cents(3000),
                },
                Payment {
                    id: 2,
                    method: PaymentMethod::Online,
                    amount: Money::from_cents(-500),
                },
                Payment {
                    id: 3,
                    method: PaymentMethod::Cash,
                    amount: Money::from_cents(1000),
                },
            ],
        };
        let r = receipt(stamp(), &cycle(), &[], &[wine, other, bird], Some(&state)).unwrap();
        assert_eq!(r.lines.len(), 2);
        assert_eq!(r.lines[0].price_unit, Unit::Kg);
        assert_eq!(r.lines[0].unit_price, Money::from_cents(1250));
        assert_eq!(r.lines[0].amount, Money::from_cents(2400));
        assert_eq!(r.total, Money::from_cents(3600));
        // 24.00 / 1.055 = 22.748... -> 22.75 base, 1.25 VAT; 12.00 / 1.2 = 10.00 base, 2.00 VAT.
        assert_eq!(r.vat.len(), 2);
        assert_eq!(
            (r.vat[0].net, r.vat[0].vat),
            (Money::from_cents(2275), Money::from_cents(125))
        );
        assert_eq!(
            (r.vat[1].net, r.vat[1].vat),
            (Money::from_cents(1000), Money::from_cents(200))
        );
        assert_eq!(r.online, Money::from_cents(2500));
        assert_eq!(r.refunded, Money::from_cents(500));
        assert_eq!(r.on_the_spot, Money::from_cents(1000));
        assert_eq!(r.due, Money::from_cents(100));
        assert!(r.fully_weighed);
        assert_eq!(r.slot.pickup_point_name, "?");
    }

    #[test]
    fn a_basket_without_lines_has_no_receipt() {
        assert!(receipt(stamp(), &cycle(), &[], &[], None).is_none());
    }
}
