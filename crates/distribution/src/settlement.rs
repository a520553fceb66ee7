//! What the market owes each producer for a cycle: its settlement statement.
//!
//! - **Sold**: the producer's lines of every placed basket, as paid (weighed pieces at their
//!   real weight, the others as ordered), per product, with the VAT breakdown per rate, all
//!   through [`domain::basket_totals`].
//! - **Collected**: each basket's payments (online net of refunds, and on the spot) are shared
//!   between the basket's producers pro rata of their lines' amounts in it. Every share is
//!   rounded to the cent, half to even, except the largest one (the smallest producer id on a
//!   tie), which takes what is left, so that the shares of a basket add up exactly to what
//!   was paid for it.
//! - **Commission**: the market's percentage (basis points, 0 by default) of what was
//!   collected for the producer, rounded to the cent half to even.
//! - **Owed**: collected minus commission. What consumers have not paid yet is shown apart
//!   (`outstanding`, sold minus collected): it is owed once collected.

use std::collections::BTreeMap;

use domain::{
    Money, PricedLine, Quantity, Unit, VatBreakdownLine, VatRate, basket_totals, round_cents,
};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{BasketState, CycleInfo, LineRow, PaymentMethod};
use crate::pricing::{effective_priced_line, weighed_kg};

/// One product on a settlement statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettledProduct {
    /// The product.
    pub product_id: i64,
    /// Its name.
    pub product_name: String,
    /// The unit it was sold in.
    pub unit: Unit,
    /// How much was sold, in `unit`.
    pub quantity: Quantity,
    /// Variable weight: the real kilograms of the lines weighed.
    pub weighed_kg: Option<Quantity>,
    /// Lines of it still counted at their estimated weight.
    pub unweighed_lines: u32,
    /// The VAT rate.
    pub vat: VatRate,
    /// What it was sold for, incl. VAT (the sum of its lines, each rounded to the cent).
    pub amount: Money,
}

/// One producer's settlement for one cycle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settlement {
    /// The cycle.
    pub cycle: CycleInfo,
    /// The producer.
    pub producer_id: i64,
    /// Its name.
    pub producer_name: String,
    /// Baskets holding at least one of its lines.
    pub baskets: u32,
    /// What it sold, by product name.
    pub products: Vec<SettledProduct>,
    /// Sold, incl. VAT.
    pub sold: Money,
    /// Sold, per VAT rate.
    pub vat: Vec<VatBreakdownLine>,
    /// Its share of what was paid online (refunds deducted).
    pub online: Money,
    /// Its share of what was paid on the spot (cash, cheque, card).
    pub on_the_spot: Money,
    /// `online + on_the_spot`.
    pub collected: Money,
    /// `sold - collected`: still to be paid by consumers (negative when more was paid).
    pub outstanding: Money,
    /// The market's commission, in basis points of a percent (`500` = 5 %).
    pub commission_bp: u32,
    /// The commission on what was collected.
    pub commission: Money,
    /// What the market owes the producer: `collected - commission`.
    pub owed: Money,
}

/// Shares `amount` between `weights` (id, weight) pro rata, as the module says; weights sum
/// to more than zero.
fn share(amount: Money, weights: &[(i64, Money)]) -> Vec<(i64, Money)> {
    let whole: Money = weights.iter().map(|(_, w)| *w).sum();
    let Some(&(largest, _)) = weights
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    else {
        return Vec::new();
    };
    if whole.is_zero() {
        return vec![(largest, amount)];
    }
    let mut out: Vec<(i64, Money)> = weights
        .iter()
        .filter(|(id, _)| *id != largest)
        .map(|&(id, w)| {
            (
                id,
                round_cents(amount.amount() * w.amount() / whole.amount()),
            )
        })
        .collect();
    let given: Money = out.iter().map(|(_, m)| *m).sum();
    out.push((largest, amount - given));
    out
}

/// Every producer's settlement for a cycle (or only those whose lines are given), by
/// producer name then id. `states` are the baskets' payments; `commission_bp` the market's.
#[must_use]
pub fn settlements(
    cycle: &CycleInfo,
    lines: &[LineRow],
    states: &[BasketState],
    commission_bp: u32,
) -> Vec<Settlement> {
    // Each line's amount, and each basket's amount per producer.
    let mut by_basket: BTreeMap<i64, BTreeMap<i64, Money>> = BTreeMap::new();
    let mut by_producer: BTreeMap<i64, Vec<(&LineRow, PricedLine, Money)>> = BTreeMap::new();
    for l in lines {
        let priced = effective_priced_line(l);
        let amount = priced.total();
        let slot = by_basket
            .entry(l.order_id)
            .or_default()
            .entry(l.producer_id)
            .or_default();
        *slot = *slot + amount;
        by_producer
            .entry(l.producer_id)
            .or_default()
            .push((l, priced, amount));
    }
    let mut online: BTreeMap<i64, Money> = BTreeMap::new();
    let mut on_spot: BTreeMap<i64, Money> = BTreeMap::new();
    for s in states {
        let Some(weights) = by_basket.get(&s.order_id) else {
            continue;
        };
        let weights: Vec<(i64, Money)> = weights.iter().map(|(p, m)| (*p, *m)).collect();
        let paid = |on: bool| -> Money {
            s.payments
                .iter()
                .filter(|p| (p.method == PaymentMethod::Online) == on)
                .map(|p| p.amount)
                .sum()
        };
        for (on, into) in [(true, &mut online), (false, &mut on_spot)] {
            let amount = paid(on);
            if amount.is_zero() {
                continue;
            }
            for (p, m) in share(amount, &weights) {
                let e = into.entry(p).or_default();
                *e = *e + m;
            }
        }
    }
    let rate = Decimal::from(commission_bp) / Decimal::from(10_000);
    let mut out: Vec<Settlement> = by_producer
        .into_iter()
        .filter_map(|(producer_id, rows)| {
            let first = rows.first()?.0;
            let totals = basket_totals(&rows.iter().map(|r| r.1).collect::<Vec<_>>());
            let mut products: BTreeMap<(i64, VatRate), SettledProduct> = BTreeMap::new();
            for (l, _, amount) in &rows {
                let p = products
                    .entry((l.product_id, l.vat))
                    .or_insert_with(|| SettledProduct {
                        product_id: l.product_id,
                        product_name: l.product_name.clone(),
                        unit: l.unit,
                        quantity: Quantity::ZERO,
                        weighed_kg: l.variable_weight.as_ref().map(|_| Quantity::ZERO),
                        unweighed_lines: 0,
                        vat: l.vat,
                        amount: Money::ZERO,
                    });
                p.quantity = p.quantity.checked_add(l.quantity).unwrap_or(Quantity::MAX);
                p.amount = p.amount + *amount;
                if l.variable_weight.is_some() {
                    match weighed_kg(l) {
                        Some(kg) => {
                            p.weighed_kg = p
                                .weighed_kg
                                .map(|w| w.checked_add(kg).unwrap_or(Quantity::MAX));
                        }
                        None => p.unweighed_lines += 1,
                    }
                }
            }
            let mut products: Vec<SettledProduct> = products.into_values().collect();
            products.sort_by(|a, b| {
                (crate::sheet::collation_key(&a.product_name), a.product_id)
                    .cmp(&(crate::sheet::collation_key(&b.product_name), b.product_id))
            });
            let baskets = rows
                .iter()
                .map(|r| r.0.order_id)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let online = online.get(&producer_id).copied().unwrap_or_default();
            let on_the_spot = on_spot.get(&producer_id).copied().unwrap_or_default();
            let collected = online + on_the_spot;
            let commission = round_cents(collected.amount() * rate);
            Some(Settlement {
                cycle: cycle.clone(),
                producer_id,
                producer_name: first.producer_name.clone(),
                baskets: u32::try_from(baskets).unwrap_or(u32::MAX),
                products,
                sold: totals.total,
                vat: totals.vat,
                online,
                on_the_spot,
                collected,
                outstanding: totals.total - collected,
                commission_bp,
                commission,
                owed: collected - commission,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (crate::sheet::collation_key(&a.producer_name), a.producer_id)
            .cmp(&(crate::sheet::collation_key(&b.producer_name), b.producer_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Collection, Payment};
    use crate::pricing::tests::{chicken, fixed_line};
    use chrono::{TimeZone, Utc};

    fn cycle() -> CycleInfo {
        CycleInfo {
            id: 1,
            name: "Semaine 12".into(),
            market_name: "Marché".into(),
            timezone: chrono_tz::Europe::Paris,
            opens_at: Utc
                .with_ymd_and_hms(2026, 3, 10, 8, 0, 0)
                .single()
                .unwrap_or_default(),
            closes_at: Utc
                .with_ymd_and_hms(2026, 3, 15, 20, 0, 0)
                .single()
                .unwrap_or_default(),
        }
    }

    fn paid(order_id: i64, payments: &[(PaymentMethod, i64)]) -> BasketState {
        BasketState {
            order_id,
            collection: Collection::Collected,
            payments: payments
                .iter()
                .enumerate()
                .map(|(i, &(method, cents))| Payment {
                    id: i as i64,
                    method,
                    amount: Money::from_cents(cents),
                })
                .collect(),
        }
    }

    fn of(producer_id: i64, order_id: i64, line: LineRow) -> LineRow {
        LineRow {
            producer_id,
            producer_name: format!("Ferme {producer_id}"),
            order_id,
            ..line
        }
    }

    #[test]
    fn a_shared_basket_is_split_pro_rata_and_the_largest_share_takes_the_rounding() {
        // Basket 1: producer 1 sells 10.00, producer 2 sells 5.00, producer 3 sells 5.00; 10.01
        // paid in cash: 5.005 / 2.5025 / 2.5025 -> 2.50 and 2.50 (half to even), 5.01 left.
        let lines = vec![
            of(1, 1, fixed_line(1, 1000, 1000)),
            of(2, 1, fixed_line(2, 1000, 500)),
            of(3, 1, fixed_line(3, 1000, 500)),
        ];
        let s = settlements(
            &cycle(),
            &lines,
            &[paid(1, &[(PaymentMethod::Cash, 1001)])],
            0,
        );
        let got: Vec<(i64, i64)> = s
            .iter()
            .map(|x| (x.producer_id, x.on_the_spot.cents()))
            .collect();
        assert_eq!(got, vec![(1, 501), (2, 250), (3, 250)]);
        assert_eq!(s[0].outstanding, Money::from_cents(499));
    }

    #[test]
    fn commission_is_taken_on_what_was_collected() {
        // 45.94 of chicken weighed, paid 30.00 online, refunded 2.00, then 17.94 in cheque.
        let lines = vec![of(1, 7, chicken(1, 2, &[1920, 1755]))];
        let states = [paid(
            7,
            &[
                (PaymentMethod::Online, 3000),
                (PaymentMethod::Online, -200),
                (PaymentMethod::Cheque, 1794),
            ],
        )];
        let s = settlements(&cycle(), &lines, &states, 750);
        let one = &s[0];
        assert_eq!(one.sold, Money::from_cents(4594));
        assert_eq!(one.online, Money::from_cents(2800));
        assert_eq!(one.on_the_spot, Money::from_cents(1794));
        assert_eq!(one.collected, Money::from_cents(4594));
        // 7.5 % of 45.94 = 3.4455 -> 3.45
        assert_eq!(one.commission, Money::from_cents(345));
        assert_eq!(one.owed, Money::from_cents(4249));
        assert_eq!(one.products[0].weighed_kg, Some(Quantity::from_milli(3675)));
        assert_eq!(one.products[0].unweighed_lines, 0);
        assert_eq!(one.vat[0].gross, Money::from_cents(4594));
    }

    #[test]
    fn shares_of_a_basket_always_add_up_to_what_was_paid() {
        for cents in [1, 2, 3, 7, 99, 1000, 3333, -1, -250] {
            let weights = [
                (4, Money::from_cents(333)),
                (9, Money::from_cents(333)),
                (2, Money::from_cents(334)),
            ];
            let shares = share(Money::from_cents(cents), &weights);
            let sum: Money = shares.iter().map(|(_, m)| *m).sum();
            assert_eq!(sum, Money::from_cents(cents));
        }
    }
}
