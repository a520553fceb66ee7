//! Euro amounts, exact to the cent.
//!
//! [`Money`] never holds fractions of a cent: every value is created from
//! cents, validated with [`Money::from_decimal`], or rounded with
//! [`round_cents`], which is the only function in the crate that rounds money.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Number of decimals a [`Money`] amount carries (cents).
const CENT_SCALE: u32 = 2;

/// A euro amount, always exact to the cent (two decimals).
///
/// The type itself is signed: differences of amounts (for example the gap
/// between an estimated and a weighed price) may be negative. Amounts typed
/// in by people (prices) go through [`Money::from_decimal`], which rejects
/// negative, sub-cent and absurdly large values.
///
/// Serialized as a decimal string with two decimals (`"3.50"`).
/// Deserializing accepts any amount with at most two decimals (so that every
/// value round-trips); it is not a substitute for [`Money::from_decimal`] on
/// user input.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "Decimal", try_from = "Decimal")]
pub struct Money(Decimal);

/// Why an amount was refused as a price or other user-entered sum of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// The amount is below zero.
    #[error("an amount cannot be negative")]
    Negative,
    /// The amount has fractions of a cent.
    #[error("an amount cannot have more than 2 decimals (cents)")]
    TooPrecise,
    /// The amount is above [`Money::MAX_INPUT`].
    #[error("an amount cannot exceed 1000000.00 EUR")]
    TooLarge,
}

impl Money {
    /// Zero euros (`0.00`).
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, CENT_SCALE));

    /// The largest amount [`Money::from_decimal`] accepts: 1 000 000.00 EUR.
    pub const MAX_INPUT: Money = Money(Decimal::from_parts(100_000_000, 0, 0, false, CENT_SCALE));

    /// An amount given in cents (`350` is `3.50`). Exact; negative cents give
    /// a negative amount.
    #[must_use]
    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, CENT_SCALE))
    }

    /// The amount in cents (`3.50` is `350`). Exact for every amount that fits
    /// in an `i64` (about 92 trillion euros); larger sums saturate.
    #[must_use]
    pub fn cents(self) -> i64 {
        // The invariant keeps the scale at exactly 2, so the mantissa is the
        // number of cents.
        let cents = self.0.mantissa();
        i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX })
    }

    /// Validates a user-entered amount: it must be between 0 and
    /// [`Money::MAX_INPUT`] and have at most two decimals (trailing zeros such
    /// as `3.500` are fine). Never rounds.
    pub fn from_decimal(amount: Decimal) -> Result<Money, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        let money = Money::try_from(amount)?;
        if money > Money::MAX_INPUT {
            return Err(MoneyError::TooLarge);
        }
        Ok(money)
    }

    /// The amount as a decimal, always with two decimals (`3.50`, not `3.5`).
    #[must_use]
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// True when the amount is exactly zero.
    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Wraps a decimal already known to be exact to the cent, fixing its
    /// scale at two decimals. Never rounds: callers guarantee at most two
    /// decimals.
    fn from_exact(amount: Decimal) -> Money {
        let mut amount = amount.normalize();
        amount.rescale(CENT_SCALE);
        Money(amount)
    }
}

/// Rounds a decimal amount to the cent, half to even (banker's rounding:
/// `0.125` gives `0.12`, `0.135` gives `0.14`).
///
/// This is the only function that rounds money; every computed price (line
/// totals, variable-weight estimates, VAT splits) goes through it.
#[must_use]
pub fn round_cents(amount: Decimal) -> Money {
    Money::from_exact(
        amount.round_dp_with_strategy(CENT_SCALE, RoundingStrategy::MidpointNearestEven),
    )
}

impl Default for Money {
    /// Zero euros, with two decimals.
    fn default() -> Self {
        Money::ZERO
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;

    /// Accepts any amount (negative included) with at most two decimals.
    fn try_from(amount: Decimal) -> Result<Self, Self::Error> {
        if amount.normalize().scale() > CENT_SCALE {
            return Err(MoneyError::TooPrecise);
        }
        Ok(Money::from_exact(amount))
    }
}

impl From<Money> for Decimal {
    fn from(money: Money) -> Self {
        money.0
    }
}

impl Add for Money {
    type Output = Money;

    /// Exact addition (panics only on a `Decimal` overflow, around 10^26 EUR).
    fn add(self, rhs: Money) -> Money {
        Money::from_exact(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;

    /// Exact subtraction; the result may be negative.
    fn sub(self, rhs: Money) -> Money {
        Money::from_exact(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

impl fmt::Display for Money {
    /// Two decimals, dot separator, no currency: `3.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn cents_and_amount_agree() {
        let m = Money::from_cents(350);
        assert_eq!(m.cents(), 350);
        assert_eq!(m.amount(), dec!(3.50));
        assert_eq!(m.amount().scale(), 2);
    }

    #[test]
    fn money_is_displayed_with_two_decimals() {
        assert_eq!(Money::from_cents(350).to_string(), "3.50");
        assert_eq!(Money::from_cents(7).to_string(), "0.07");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(Money::default().to_string(), "0.00");
        assert_eq!(Money::from_decimal(dec!(3)).unwrap().to_string(), "3.00");
        assert_eq!(
            Money::from_decimal(dec!(3.5)).unwrap().amount().to_string(),
            "3.50"
        );
    }

    #[test]
    fn a_user_amount_with_trailing_zeros_is_accepted() {
        assert_eq!(
            Money::from_decimal(dec!(3.500)).unwrap(),
            Money::from_cents(350)
        );
    }

    #[test]
    fn a_user_amount_with_fractions_of_a_cent_is_refused() {
        assert_eq!(
            Money::from_decimal(dec!(3.505)),
            Err(MoneyError::TooPrecise)
        );
    }

    #[test]
    fn a_negative_user_amount_is_refused() {
        assert_eq!(Money::from_decimal(dec!(-0.01)), Err(MoneyError::Negative));
        assert_eq!(Money::from_decimal(dec!(-0)), Ok(Money::ZERO));
    }

    #[test]
    fn a_user_amount_above_one_million_euros_is_refused() {
        assert_eq!(Money::from_decimal(dec!(1000000.00)), Ok(Money::MAX_INPUT));
        assert_eq!(
            Money::from_decimal(dec!(1000000.01)),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn rounding_to_the_cent_is_half_even() {
        assert_eq!(round_cents(dec!(0.125)), Money::from_cents(12));
        assert_eq!(round_cents(dec!(0.135)), Money::from_cents(14));
        assert_eq!(round_cents(dec!(0.1251)), Money::from_cents(13));
        assert_eq!(round_cents(dec!(2)).amount().scale(), 2);
    }

    #[test]
    fn addition_subtraction_and_sum_are_exact() {
        let a = Money::from_cents(199);
        let b = Money::from_cents(1);
        assert_eq!((a + b).to_string(), "2.00");
        assert_eq!(a - b, Money::from_cents(198));
        assert_eq!(b - a, Money::from_cents(-198));
        assert_eq!([a, b, b].iter().sum::<Money>(), Money::from_cents(201));
        assert_eq!(
            Vec::<Money>::new().into_iter().sum::<Money>().to_string(),
            "0.00"
        );
    }

    #[test]
    fn money_serializes_as_a_two_decimal_value() {
        let m = Money::from_cents(350);
        let d: Decimal = m.into();
        assert_eq!(d.to_string(), "3.50");
        assert_eq!(Money::try_from(dec!(0.001)), Err(MoneyError::TooPrecise));
    }

    proptest! {
        #[test]
        fn money_cents_round_trip(cents in any::<i64>()) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(m.cents(), cents);
            prop_assert_eq!(m.amount().scale(), 2);
        }

        #[test]
        fn money_amount_round_trips_through_from_decimal(cents in 0i64..=100_000_000) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(Money::from_decimal(m.amount()), Ok(m));
        }

        #[test]
        fn rounding_never_moves_more_than_half_a_cent(mantissa in -10_000_000i64..10_000_000, scale in 0u32..6) {
            let d = Decimal::new(mantissa, scale);
            let rounded = round_cents(d);
            prop_assert!((rounded.amount() - d).abs() <= dec!(0.005));
            prop_assert_eq!(rounded.amount().scale(), 2);
        }
    }
}
