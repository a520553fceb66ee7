//! VAT rates and the split of a VAT-inclusive amount into net and VAT.
//!
//! Prices in Halle are always VAT-inclusive (consumers see and pay gross
//! prices); net and VAT are derived with [`split_gross`].

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::{Money, round_cents};

/// A VAT rate, as a percentage (`5.5` means 5.5 %).
///
/// Ordered by rate. Serialized as a decimal string of the percentage
/// (`"5.5"`); deserializing validates like [`VatRate::parse`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "Decimal", try_from = "Decimal")]
pub struct VatRate(Decimal);

/// Why a VAT rate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VatError {
    /// The rate is below zero.
    #[error("a VAT rate cannot be negative")]
    Negative,
    /// The rate has more than two decimals.
    #[error("a VAT rate can have at most 2 decimals")]
    TooPrecise,
    /// The rate is 100 % or more.
    #[error("a VAT rate must be below 100 %")]
    TooLarge,
}

impl VatRate {
    /// 0 % (exempt).
    pub const ZERO: VatRate = VatRate(Decimal::from_parts(0, 0, 0, false, 0));
    /// 2.1 % (French super-reduced rate: some medicines, press).
    pub const SUPER_REDUCED_2_1: VatRate = VatRate(Decimal::from_parts(21, 0, 0, false, 1));
    /// 5.5 % (French reduced rate: most food).
    pub const REDUCED_5_5: VatRate = VatRate(Decimal::from_parts(55, 0, 0, false, 1));
    /// 10 % (French intermediate rate: prepared food for immediate consumption).
    pub const INTERMEDIATE_10: VatRate = VatRate(Decimal::from_parts(10, 0, 0, false, 0));
    /// 20 % (French standard rate: alcohol, non-food).
    pub const STANDARD_20: VatRate = VatRate(Decimal::from_parts(20, 0, 0, false, 0));

    /// A rate given in basis points of a percent, i.e. hundredths of a
    /// percent (`550` is 5.5 %, `2000` is 20 %).
    ///
    /// Meant for trusted values (storage, constants) and therefore not
    /// checked against the 100 % ceiling; validate user input with
    /// [`VatRate::parse`].
    #[must_use]
    pub fn from_basis_points(basis_points: u32) -> VatRate {
        VatRate(Decimal::new(i64::from(basis_points), 2).normalize())
    }

    /// The rate in hundredths of a percent (5.5 % is `550`). Exact, since a
    /// rate never has more than two decimals.
    #[must_use]
    pub fn basis_points(self) -> u32 {
        let mut scaled = self.0;
        scaled.rescale(2);
        u32::try_from(scaled.mantissa()).unwrap_or(u32::MAX)
    }

    /// Validates a rate typed as a percentage: `0 <= rate < 100`, at most two
    /// decimals (trailing zeros are fine: `5.50` is 5.5 %).
    pub fn parse(percent: Decimal) -> Result<VatRate, VatError> {
        let percent = percent.normalize();
        if percent.is_sign_negative() {
            return Err(VatError::Negative);
        }
        if percent.scale() > 2 {
            return Err(VatError::TooPrecise);
        }
        if percent >= Decimal::ONE_HUNDRED {
            return Err(VatError::TooLarge);
        }
        Ok(VatRate(percent))
    }

    /// The rate as a percentage, without trailing zeros (`5.5`, `20`).
    #[must_use]
    pub fn percent(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for VatRate {
    type Error = VatError;

    /// Same as [`VatRate::parse`].
    fn try_from(percent: Decimal) -> Result<Self, Self::Error> {
        VatRate::parse(percent)
    }
}

impl From<VatRate> for Decimal {
    fn from(rate: VatRate) -> Self {
        rate.0
    }
}

impl fmt::Display for VatRate {
    /// The percentage with a percent sign: `5.5 %`, `20 %`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0)
    }
}

/// Splits a VAT-inclusive amount into `(net, vat)`.
///
/// `net = round_cents(gross / (1 + rate / 100))` and `vat = gross - net`, so
/// `net + vat == gross` exactly, to the cent.
#[must_use]
pub fn split_gross(gross: Money, rate: VatRate) -> (Money, Money) {
    let divisor = Decimal::ONE + rate.percent() / Decimal::ONE_HUNDRED;
    let net = round_cents(gross.amount() / divisor);
    (net, gross - net)
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn basis_points_give_the_percentage() {
        assert_eq!(VatRate::from_basis_points(550), VatRate::REDUCED_5_5);
        assert_eq!(VatRate::from_basis_points(2000), VatRate::STANDARD_20);
        assert_eq!(VatRate::from_basis_points(210), VatRate::SUPER_REDUCED_2_1);
        assert_eq!(VatRate::from_basis_points(1000), VatRate::INTERMEDIATE_10);
        assert_eq!(VatRate::from_basis_points(0), VatRate::ZERO);
        assert_eq!(VatRate::REDUCED_5_5.basis_points(), 550);
        assert_eq!(VatRate::STANDARD_20.basis_points(), 2000);
        assert_eq!(VatRate::REDUCED_5_5.percent(), dec!(5.5));
    }

    #[test]
    fn a_typed_rate_must_be_between_zero_and_one_hundred() {
        assert_eq!(VatRate::parse(dec!(5.50)), Ok(VatRate::REDUCED_5_5));
        assert_eq!(VatRate::parse(dec!(0)), Ok(VatRate::ZERO));
        assert_eq!(VatRate::parse(dec!(99.99)).unwrap().basis_points(), 9999);
        assert_eq!(VatRate::parse(dec!(-1)), Err(VatError::Negative));
        assert_eq!(VatRate::parse(dec!(100)), Err(VatError::TooLarge));
        assert_eq!(VatRate::parse(dec!(5.555)), Err(VatError::TooPrecise));
    }

    #[test]
    fn rates_are_ordered_by_percentage() {
        let mut rates = vec![
            VatRate::STANDARD_20,
            VatRate::ZERO,
            VatRate::REDUCED_5_5,
            VatRate::INTERMEDIATE_10,
            VatRate::SUPER_REDUCED_2_1,
        ];
        rates.sort();
        assert_eq!(
            rates,
            vec![
                VatRate::ZERO,
                VatRate::SUPER_REDUCED_2_1,
                VatRate::REDUCED_5_5,
                VatRate::INTERMEDIATE_10,
                VatRate::STANDARD_20
            ]
        );
    }

    #[test]
    fn a_rate_is_displayed_as_a_percentage() {
        assert_eq!(VatRate::REDUCED_5_5.to_string(), "5.5 %");
        assert_eq!(VatRate::STANDARD_20.to_string(), "20 %");
    }

    #[test]
    fn a_gross_price_splits_into_net_and_vat() {
        let (net, vat) = split_gross(Money::from_cents(1055), VatRate::REDUCED_5_5);
        assert_eq!(net, Money::from_cents(1000));
        assert_eq!(vat, Money::from_cents(55));

        let (net, vat) = split_gross(Money::from_cents(1200), VatRate::STANDARD_20);
        assert_eq!(
            (net, vat),
            (Money::from_cents(1000), Money::from_cents(200))
        );
    }

    #[test]
    fn a_zero_rate_has_no_vat() {
        let (net, vat) = split_gross(Money::from_cents(999), VatRate::ZERO);
        assert_eq!((net, vat), (Money::from_cents(999), Money::ZERO));
    }

    proptest! {
        #[test]
        fn net_plus_vat_is_always_the_gross(cents in 0i64..100_000_000, bp in 0u32..10_000) {
            let gross = Money::from_cents(cents);
            let (net, vat) = split_gross(gross, VatRate::from_basis_points(bp));
            prop_assert_eq!(net + vat, gross);
            prop_assert!(net <= gross);
            prop_assert!(vat >= Money::ZERO);
        }

        #[test]
        fn basis_points_round_trip(bp in 0u32..10_000) {
            prop_assert_eq!(VatRate::from_basis_points(bp).basis_points(), bp);
            prop_assert_eq!(VatRate::parse(VatRate::from_basis_points(bp).percent()), Ok(VatRate::from_basis_points(bp)));
        }
    }
}
