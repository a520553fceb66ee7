//! The pricing of order lines and baskets on distribution day: the one place where estimated
//! prices and real weights are turned into amounts.
//!
//! A line is priced as ordered: `unit_price × quantity` (for a variable-weight product,
//! `unit_price` is the estimated price of one piece). Once every piece of a variable-weight line
//! is weighed, its final price is `price_per_kg × total real kg`. Until then (including while
//! only some pieces are weighed) the estimate stands. Every amount goes through
//! [`domain::basket_totals`], so the sheets agree to the cent with every other document.

use domain::{BasketTotals, Money, PricedLine, Quantity, basket_totals};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::model::LineRow;

/// The amounts of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineAmounts {
    /// The line as ordered: `unit_price × quantity`, rounded to the cent.
    pub estimated: Money,
    /// The weighed price, `price_per_kg × total real kg`: `Some` once every piece is weighed.
    pub final_amount: Option<Money>,
}

impl LineAmounts {
    /// What the consumer pays for the line: the final amount when weighed, else the estimate.
    #[must_use]
    pub fn effective(&self) -> Money {
        self.final_amount.unwrap_or(self.estimated)
    }
}

/// The amounts of one basket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BasketAmounts {
    /// Totals as ordered (every line estimated), with the VAT breakdown.
    pub estimated: BasketTotals,
    /// Totals of what is paid: weighed lines at their final price, the others as estimated.
    /// `effective.lines` holds each line's effective amount, in input order.
    pub effective: BasketTotals,
    /// True when no line still waits for weighing (always true without variable weight).
    pub fully_weighed: bool,
}

/// The real total weight of a variable-weight line, once every piece is weighed: `Some` only
/// when the line has variable weight and as many weights as ordered pieces.
#[must_use]
pub fn weighed_kg(line: &LineRow) -> Option<Quantity> {
    let vw = line.variable_weight.as_ref()?;
    let pieces = i64::try_from(vw.actual_kg.len()).ok()?.checked_mul(1000)?;
    if pieces != line.quantity.milli() {
        return None;
    }
    let milli: i64 = vw.actual_kg.iter().map(|kg| kg.milli()).sum();
    Some(Quantity::from_milli(milli))
}

/// The estimated weight of a variable-weight line, `quantity × estimated_kg`, rounded to the
/// gram; `None` for a line without variable weight.
#[must_use]
pub fn estimated_kg(line: &LineRow) -> Option<Quantity> {
    let vw = line.variable_weight.as_ref()?;
    Some(quantity_of(line.quantity.value() * vw.estimated_kg.value()))
}

/// A decimal as a [`Quantity`]: rounded to three decimals (half to even) and clamped into
/// `0..=Quantity::MAX`.
pub(crate) fn quantity_of(value: Decimal) -> Quantity {
    let rounded = value.round_dp_with_strategy(3, RoundingStrategy::MidpointNearestEven);
    if rounded > Quantity::MAX.value() {
        return Quantity::MAX;
    }
    Quantity::new(rounded).unwrap_or(Quantity::ZERO)
}

/// The line as ordered, as a [`PricedLine`]: `quantity` at `unit_price`.
#[must_use]
pub fn estimated_priced_line(line: &LineRow) -> PricedLine {
    PricedLine {
        offer_id: line.offer_id,
        quantity: line.quantity,
        unit_price: line.unit_price,
        vat: line.vat,
    }
}

/// The weighed line, as a [`PricedLine`] of the total real kg at the price per kg; `None`
/// until every piece is weighed (see [`weighed_kg`]).
#[must_use]
pub fn final_priced_line(line: &LineRow) -> Option<PricedLine> {
    let kg = weighed_kg(line)?;
    let vw = line.variable_weight.as_ref()?;
    Some(PricedLine {
        offer_id: line.offer_id,
        quantity: kg,
        unit_price: vw.price_per_kg,
        vat: line.vat,
    })
}

/// The line as paid: [`final_priced_line`] when weighed, else [`estimated_priced_line`].
#[must_use]
pub fn effective_priced_line(line: &LineRow) -> PricedLine {
    final_priced_line(line).unwrap_or_else(|| estimated_priced_line(line))
}

/// The estimated and (once weighed) final amounts of one line.
#[must_use]
pub fn line_amounts(line: &LineRow) -> LineAmounts {
    LineAmounts {
        estimated: basket_totals(&[estimated_priced_line(line)]).total,
        final_amount: final_priced_line(line).map(|priced| basket_totals(&[priced]).total),
    }
}

/// The estimated and effective totals of a basket (or any set of lines), each with its VAT
/// breakdown, computed by one [`domain::basket_totals`] call each.
#[must_use]
pub fn basket_amounts(lines: &[&LineRow]) -> BasketAmounts {
    let estimated: Vec<PricedLine> = lines.iter().map(|l| estimated_priced_line(l)).collect();
    let mut fully_weighed = true;
    let effective: Vec<PricedLine> = lines
        .iter()
        .map(|l| match final_priced_line(l) {
            Some(priced) => priced,
            None => {
                fully_weighed &= l.variable_weight.is_none();
                estimated_priced_line(l)
            }
        })
        .collect();
    BasketAmounts {
        estimated: basket_totals(&estimated),
        effective: basket_totals(&effective),
        fully_weighed,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::VariableWeight;
    use domain::{Unit, VatRate};

    /// A fixed-price line of `milli` thousandths at `cents`, 5.5 % VAT.
    pub(crate) fn fixed_line(line_id: i64, milli: i64, cents: i64) -> LineRow {
        LineRow {
            order_id: 1,
            consumer_id: 1,
            consumer_name: "Alice".into(),
            consumer_phone: None,
            slot_id: 1,
            line_id,
            offer_id: line_id,
            product_id: line_id,
            product_name: format!("Product {line_id}"),
            producer_id: 1,
            producer_name: "Ferme".into(),
            unit: Unit::Kg,
            quantity: Quantity::from_milli(milli),
            unit_price: Money::from_cents(cents),
            vat: VatRate::REDUCED_5_5,
            variable_weight: None,
        }
    }

    /// `pieces` chickens estimated at 1.8 kg each, 12.50 €/kg (22.50 € a piece), weighed as given.
    pub(crate) fn chicken(line_id: i64, pieces: i64, actual_milli: &[i64]) -> LineRow {
        LineRow {
            unit: Unit::Piece,
            quantity: Quantity::from_milli(pieces * 1000),
            unit_price: Money::from_cents(2250),
            product_name: "Poulet".into(),
            variable_weight: Some(VariableWeight {
                estimated_kg: Quantity::from_milli(1800),
                price_per_kg: Money::from_cents(1250),
                actual_kg: actual_milli
                    .iter()
                    .map(|&m| Quantity::from_milli(m))
                    .collect(),
            }),
            ..fixed_line(line_id, 0, 0)
        }
    }

    #[test]
    fn a_chicken_is_estimated_then_repriced_after_weighing() {
        let ordered = chicken(1, 1, &[]);
        let amounts = line_amounts(&ordered);
        assert_eq!(amounts.estimated, Money::from_cents(2250));
        assert_eq!(amounts.final_amount, None);
        assert_eq!(amounts.effective(), Money::from_cents(2250));
        assert_eq!(estimated_kg(&ordered), Some(Quantity::from_milli(1800)));

        let weighed = chicken(1, 1, &[1920]);
        let amounts = line_amounts(&weighed);
        assert_eq!(amounts.estimated, Money::from_cents(2250));
        assert_eq!(amounts.final_amount, Some(Money::from_cents(2400)));
        assert_eq!(amounts.effective(), Money::from_cents(2400));
        assert_eq!(weighed_kg(&weighed), Some(Quantity::from_milli(1920)));
    }

    #[test]
    fn a_partly_weighed_line_stays_estimated() {
        let line = chicken(1, 2, &[1920]);
        let amounts = line_amounts(&line);
        assert_eq!(amounts.estimated, Money::from_cents(4500));
        assert_eq!(amounts.final_amount, None);
        assert_eq!(weighed_kg(&line), None);
        let basket = basket_amounts(&[&line]);
        assert!(!basket.fully_weighed);
        assert_eq!(basket.effective.total, Money::from_cents(4500));
    }

    #[test]
    fn a_fully_weighed_line_is_priced_on_the_sum_of_its_weights() {
        // 12.50 × (1.920 + 1.755) = 45.9375 -> 45.94
        let line = chicken(1, 2, &[1920, 1755]);
        assert_eq!(
            line_amounts(&line).final_amount,
            Some(Money::from_cents(4594))
        );
    }

    #[test]
    fn a_basket_total_mixes_weighed_and_fixed_lines_with_one_vat_breakdown() {
        let carrots = fixed_line(2, 1500, 300); // 4.50
        let bird = chicken(1, 1, &[1920]); // 24.00
        let basket = basket_amounts(&[&bird, &carrots]);
        assert!(basket.fully_weighed);
        assert_eq!(basket.estimated.total, Money::from_cents(2700));
        assert_eq!(basket.effective.total, Money::from_cents(2850));
        assert_eq!(
            basket.effective.lines,
            vec![Money::from_cents(2400), Money::from_cents(450)]
        );
        assert_eq!(basket.effective.vat.len(), 1);
        assert_eq!(basket.effective.vat[0].gross, Money::from_cents(2850));
    }

    #[test]
    fn a_basket_without_variable_weight_is_fully_weighed() {
        let basket = basket_amounts(&[&fixed_line(1, 1000, 100)]);
        assert!(basket.fully_weighed);
        assert_eq!(basket.estimated, basket.effective);
        assert!(basket_amounts(&[]).fully_weighed);
    }
}
