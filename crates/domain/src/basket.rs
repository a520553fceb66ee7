//! Baskets: validating what a consumer asks for, and computing totals.
//!
//! [`basket_totals`] is the single function through which every total in
//! Halle (basket, order sheet, picking list, invoice) is computed, so that
//! all documents agree to the cent.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::{Money, round_cents};
use crate::unit::Quantity;
use crate::vat::{VatRate, split_gross};

/// The most lines (distinct products) one basket may hold.
pub const MAX_LINES: usize = 100;

/// One priced basket line: a quantity of an offer at a VAT-inclusive unit
/// price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PricedLine {
    /// The offer (product in a given cycle) this line is for.
    pub offer_id: i64,
    /// How much is ordered, in the offer's unit.
    pub quantity: Quantity,
    /// VAT-inclusive price of one unit (for variable-weight products, the
    /// estimated or weighed price of one piece).
    pub unit_price: Money,
    /// The VAT rate included in `unit_price`.
    pub vat: VatRate,
}

impl PricedLine {
    /// The VAT-inclusive line total, `round_cents(unit_price * quantity)`
    /// (rounded per line, half to even).
    #[must_use]
    pub fn total(&self) -> Money {
        round_cents(self.unit_price.amount() * self.quantity.value())
    }
}

/// The VAT summary for one rate: the gross of all lines at that rate, split
/// into net and VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VatBreakdownLine {
    /// The VAT rate.
    pub rate: VatRate,
    /// Sum of the VAT-inclusive line totals at this rate.
    pub gross: Money,
    /// Net (VAT-exclusive) part of `gross`.
    pub net: Money,
    /// VAT part of `gross`; `net + vat == gross`.
    pub vat: Money,
}

/// The totals of a set of priced lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BasketTotals {
    /// VAT-inclusive grand total: the sum of the line totals, and also the
    /// sum of the breakdown's gross amounts.
    pub total: Money,
    /// Each line's total, in the same order as the input lines.
    pub lines: Vec<Money>,
    /// One entry per VAT rate present in the lines, sorted by rate ascending.
    pub vat: Vec<VatBreakdownLine>,
}

/// Computes the totals of a basket (or order sheet, picking list, invoice).
///
/// Each line is rounded to the cent ([`PricedLine::total`]); the grand total
/// is the exact sum of the line totals. VAT is computed per rate on the sum
/// of the gross line totals at that rate (not per line), with
/// [`split_gross`], so the breakdown adds up exactly to the total. A rate
/// appears in the breakdown as soon as one line uses it, even if that line's
/// total is zero. An empty input gives a zero total and empty lists.
#[must_use]
pub fn basket_totals(lines: &[PricedLine]) -> BasketTotals {
    let line_totals: Vec<Money> = lines.iter().map(PricedLine::total).collect();

    let mut gross_by_rate: BTreeMap<VatRate, Money> = BTreeMap::new();
    for (line, total) in lines.iter().zip(&line_totals) {
        let gross = gross_by_rate.entry(line.vat).or_default();
        *gross = *gross + *total;
    }

    let vat = gross_by_rate
        .into_iter()
        .map(|(rate, gross)| {
            let (net, vat) = split_gross(gross, rate);
            VatBreakdownLine {
                rate,
                gross,
                net,
                vat,
            }
        })
        .collect();

    BasketTotals {
        total: line_totals.iter().sum(),
        lines: line_totals,
        vat,
    }
}

/// One line of a basket as submitted by a consumer, before pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestedLine {
    /// The offer the consumer wants.
    pub offer_id: i64,
    /// How much of it, in the offer's unit.
    pub quantity: Quantity,
}

/// Why a submitted basket was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BasketError {
    /// The basket has no lines.
    #[error("your basket is empty")]
    Empty,
    /// The basket has more than [`MAX_LINES`] lines.
    #[error("a basket can hold at most {max} different products")]
    TooManyLines {
        /// The maximum number of lines.
        max: usize,
    },
    /// The same offer appears on two lines.
    #[error("the same product appears twice in the basket (offer {offer_id})")]
    DuplicateOffer {
        /// The repeated offer.
        offer_id: i64,
    },
}

/// Checks the shape of a submitted basket: not empty, at most [`MAX_LINES`]
/// lines, each offer at most once (the first repeated offer is reported).
///
/// Quantities are not checked here: each depends on its offer's unit and
/// step, see [`crate::validate_order_quantity`], and on stock, see
/// [`crate::reserve`].
pub fn validate_requested_lines(lines: &[RequestedLine]) -> Result<(), BasketError> {
    if lines.is_empty() {
        return Err(BasketError::Empty);
    }
    if lines.len() > MAX_LINES {
        return Err(BasketError::TooManyLines { max: MAX_LINES });
    }
    let mut seen = HashSet::with_capacity(lines.len());
    for line in lines {
        if !seen.insert(line.offer_id) {
            return Err(BasketError::DuplicateOffer {
                offer_id: line.offer_id,
            });
        }
    }
    Ok(())
}

/// The terms (price, VAT, unit, estimated weight: whatever `T` holds) a line of a modified
/// basket is sold on. The rule is "the price shown when the quantity was last changed": a line
/// kept at the same quantity keeps the terms it was sold on; a new line, or a line whose
/// quantity changes (up or down), takes the current terms, so that a price raised meanwhile
/// cannot be escaped by raising the quantity of an old line.
///
/// `kept` is the line as it was in the basket (its quantity and terms), if it was there.
pub fn modified_line_terms<T>(kept: Option<(Quantity, T)>, requested: Quantity, current: T) -> T {
    match kept {
        Some((quantity, terms)) if quantity == requested => terms,
        _ => current,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_modified_line_keeps_its_terms_only_while_its_quantity_is_unchanged() {
        let two = Quantity::from_milli(2000);
        let old = Money::from_cents(300);
        let now = Money::from_cents(450);
        // Unchanged: the price it was sold at, even if the offer's went up meanwhile.
        assert_eq!(modified_line_terms(Some((two, old)), two, now), old);
        // More: the current price, for the whole line (not only the added part).
        let thousand = Quantity::from_milli(1_000_000);
        assert_eq!(modified_line_terms(Some((two, old)), thousand, now), now);
        // Less: the current price too (the quantity was changed with that price shown).
        let one = Quantity::from_milli(1000);
        assert_eq!(modified_line_terms(Some((two, old)), one, now), now);
        // A new line: the current price.
        assert_eq!(modified_line_terms(None, two, now), now);
    }
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn line(offer_id: i64, milli: i64, cents: i64, vat: VatRate) -> PricedLine {
        PricedLine {
            offer_id,
            quantity: Quantity::from_milli(milli),
            unit_price: Money::from_cents(cents),
            vat,
        }
    }

    #[test]
    fn a_line_total_is_rounded_half_even_to_the_cent() {
        // 0.25 * 0.50 = 0.125 -> 0.12
        assert_eq!(
            line(1, 500, 25, VatRate::ZERO).total(),
            Money::from_cents(12)
        );
        // 0.35 * 0.50 = 0.175 -> 0.18
        assert_eq!(
            line(1, 500, 35, VatRate::ZERO).total(),
            Money::from_cents(18)
        );
        // 3.99 * 1.234 = 4.92366 -> 4.92
        assert_eq!(
            line(1, 1234, 399, VatRate::ZERO).total().amount(),
            dec!(4.92)
        );
    }

    #[test]
    fn totals_add_up_per_line_and_per_rate() {
        let lines = [
            line(1, 2000, 250, VatRate::REDUCED_5_5),  // 5.00
            line(2, 1000, 1200, VatRate::STANDARD_20), // 12.00
            line(3, 1500, 300, VatRate::REDUCED_5_5),  // 4.50
        ];
        let totals = basket_totals(&lines);
        assert_eq!(
            totals.lines,
            vec![
                Money::from_cents(500),
                Money::from_cents(1200),
                Money::from_cents(450)
            ]
        );
        assert_eq!(totals.total, Money::from_cents(2150));
        assert_eq!(totals.vat.len(), 2);
        let reduced = totals.vat[0];
        assert_eq!(reduced.rate, VatRate::REDUCED_5_5);
        assert_eq!(reduced.gross, Money::from_cents(950));
        assert_eq!(reduced.net, Money::from_cents(900)); // 9.50 / 1.055 = 9.0047
        assert_eq!(reduced.vat, Money::from_cents(50));
        let standard = totals.vat[1];
        assert_eq!(standard.rate, VatRate::STANDARD_20);
        assert_eq!(
            (standard.net, standard.vat),
            (Money::from_cents(1000), Money::from_cents(200))
        );
    }

    #[test]
    fn an_empty_basket_totals_zero() {
        let totals = basket_totals(&[]);
        assert_eq!(totals.total, Money::ZERO);
        assert!(totals.lines.is_empty());
        assert!(totals.vat.is_empty());
    }

    #[test]
    fn a_basket_must_not_be_empty() {
        assert_eq!(validate_requested_lines(&[]), Err(BasketError::Empty));
    }

    #[test]
    fn a_basket_holds_at_most_one_hundred_lines() {
        let lines: Vec<RequestedLine> = (0..=100)
            .map(|offer_id| RequestedLine {
                offer_id,
                quantity: Quantity::from_milli(1000),
            })
            .collect();
        assert_eq!(validate_requested_lines(&lines[..100]), Ok(()));
        assert_eq!(
            validate_requested_lines(&lines),
            Err(BasketError::TooManyLines { max: 100 })
        );
    }

    #[test]
    fn an_offer_appears_at_most_once_in_a_basket() {
        let q = Quantity::from_milli(1000);
        let lines = [
            RequestedLine {
                offer_id: 7,
                quantity: q,
            },
            RequestedLine {
                offer_id: 8,
                quantity: q,
            },
            RequestedLine {
                offer_id: 7,
                quantity: q,
            },
        ];
        let err = validate_requested_lines(&lines).unwrap_err();
        assert_eq!(err, BasketError::DuplicateOffer { offer_id: 7 });
    }

    fn arb_rate() -> impl Strategy<Value = VatRate> {
        prop_oneof![
            Just(VatRate::ZERO),
            Just(VatRate::SUPER_REDUCED_2_1),
            Just(VatRate::REDUCED_5_5),
            Just(VatRate::INTERMEDIATE_10),
            Just(VatRate::STANDARD_20),
            (0u32..10_000).prop_map(VatRate::from_basis_points),
        ]
    }

    fn arb_line() -> impl Strategy<Value = PricedLine> {
        (
            any::<i64>(),
            0i64..=1_000_000,
            0i64..=10_000_000,
            arb_rate(),
        )
            .prop_map(|(offer_id, milli, cents, vat)| PricedLine {
                offer_id,
                quantity: Quantity::from_milli(milli),
                unit_price: Money::from_cents(cents),
                vat,
            })
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_of_the_line_totals(lines in prop::collection::vec(arb_line(), 0..30)) {
            let totals = basket_totals(&lines);
            prop_assert_eq!(totals.lines.len(), lines.len());
            for (line, total) in lines.iter().zip(&totals.lines) {
                prop_assert_eq!(line.total(), *total);
            }
            prop_assert_eq!(totals.total, totals.lines.iter().sum::<Money>());
        }

        #[test]
        fn each_rate_splits_exactly_and_the_breakdown_sums_to_the_total(lines in prop::collection::vec(arb_line(), 0..30)) {
            let totals = basket_totals(&lines);
            for entry in &totals.vat {
                prop_assert_eq!(entry.net + entry.vat, entry.gross);
            }
            prop_assert_eq!(totals.vat.iter().map(|v| v.gross).sum::<Money>(), totals.total);
            prop_assert!(totals.vat.windows(2).all(|w| w[0].rate < w[1].rate));
            let rates: HashSet<VatRate> = lines.iter().map(|l| l.vat).collect();
            prop_assert_eq!(rates.len(), totals.vat.len());
        }

        #[test]
        fn the_order_of_lines_does_not_change_the_totals(
            (lines, shuffled) in prop::collection::vec(arb_line(), 0..30)
                .prop_flat_map(|lines| (Just(lines.clone()), Just(lines).prop_shuffle()))
        ) {
            let a = basket_totals(&lines);
            let b = basket_totals(&shuffled);
            prop_assert_eq!(a.total, b.total);
            prop_assert_eq!(a.vat, b.vat);
        }
    }

    #[test]
    fn duplicate_message_names_the_offer() {
        let err = BasketError::DuplicateOffer { offer_id: 42 };
        assert!(err.to_string().contains("42"));
        assert_eq!(
            BasketError::TooManyLines { max: MAX_LINES }.to_string(),
            "a basket can hold at most 100 different products"
        );
    }
}
