//! Units of sale, quantities, and the rules for how much of a product can be
//! ordered at once.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The unit a product is sold and ordered in.
///
/// Serialized as the lowercase strings of [`Unit::as_str`]; parsing (and
/// deserializing) is case-insensitive, so `"L"` and `"KG"` are accepted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Unit {
    /// A single item (a cabbage, a jar, a cheese).
    Piece,
    /// Kilogram.
    Kg,
    /// Gram.
    G,
    /// Litre.
    L,
    /// Centilitre.
    Cl,
    /// A bunch (radishes, herbs).
    Bunch,
    /// Twelve items sold together (eggs).
    Dozen,
}

/// Why a unit name was not recognised.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    /// The text is not one of the known unit names.
    #[error("unknown unit \"{input}\" (expected piece, kg, g, l, cl, bunch or dozen)")]
    Unknown {
        /// The text that was given.
        input: String,
    },
}

impl Unit {
    /// Every unit, in declaration order (handy for select boxes).
    pub const ALL: [Unit; 7] = [
        Unit::Piece,
        Unit::Kg,
        Unit::G,
        Unit::L,
        Unit::Cl,
        Unit::Bunch,
        Unit::Dozen,
    ];

    /// The stable machine name: `"piece"`, `"kg"`, `"g"`, `"l"`, `"cl"`,
    /// `"bunch"`, `"dozen"`. Used for storage and serialization.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Piece => "piece",
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::L => "l",
            Unit::Cl => "cl",
            Unit::Bunch => "bunch",
            Unit::Dozen => "dozen",
        }
    }

    /// True for units that only come in whole numbers: piece, bunch, dozen.
    #[must_use]
    pub const fn is_countable(self) -> bool {
        matches!(self, Unit::Piece | Unit::Bunch | Unit::Dozen)
    }

    /// The French label shown to users: "pièce", "kg", "g", "L", "cl",
    /// "botte", "douzaine".
    #[must_use]
    pub const fn label_fr(self) -> &'static str {
        match self {
            Unit::Piece => "pièce",
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::L => "L",
            Unit::Cl => "cl",
            Unit::Bunch => "botte",
            Unit::Dozen => "douzaine",
        }
    }

    /// The English label shown to users: "piece", "kg", "g", "L", "cl",
    /// "bunch", "dozen".
    #[must_use]
    pub const fn label_en(self) -> &'static str {
        match self {
            Unit::Piece => "piece",
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::L => "L",
            Unit::Cl => "cl",
            Unit::Bunch => "bunch",
            Unit::Dozen => "dozen",
        }
    }
}

impl fmt::Display for Unit {
    /// The machine name of [`Unit::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = UnitError;

    /// Case-insensitive match on the machine names, ignoring surrounding
    /// whitespace (`"kg"`, `"KG"`, `"L"`, `" piece "`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        Unit::ALL
            .into_iter()
            .find(|unit| unit.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| UnitError::Unknown {
                input: s.to_owned(),
            })
    }
}

impl From<Unit> for &'static str {
    fn from(unit: Unit) -> Self {
        unit.as_str()
    }
}

impl TryFrom<String> for Unit {
    type Error = UnitError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Number of decimals a [`Quantity`] may carry (thousandths).
const MILLI_SCALE: u32 = 3;

/// The largest quantity that can exist at all, in thousandths (1 000 000).
const MAX_MILLI: i64 = 1_000_000_000;

/// An amount of some [`Unit`]: non-negative, at most three decimals (a gram
/// of a kilogram), at most 1 000 000.
///
/// Displayed and serialized without trailing zeros (`1.5`, `3`).
/// Deserializing validates like [`Quantity::new`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "Decimal", try_from = "Decimal")]
pub struct Quantity(Decimal);

/// The most of anything a single order line can ask for: 1000 units.
pub const MAX_ORDER_QUANTITY: Quantity = Quantity(Decimal::from_parts(1000, 0, 0, false, 0));

/// Why a quantity (or an ordering step) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuantityError {
    /// Zero where something must be ordered or offered.
    #[error("the quantity must be more than zero")]
    NotPositive,
    /// Below zero.
    #[error("a quantity cannot be negative")]
    Negative,
    /// More than three decimals.
    #[error("a quantity can have at most 3 decimals")]
    TooPrecise,
    /// Above the allowed maximum.
    #[error("the quantity cannot be more than {max}")]
    TooLarge {
        /// The largest allowed quantity.
        max: Quantity,
    },
    /// A fraction of a unit that only comes whole.
    #[error("the quantity must be a whole number (sold by the {})", .unit.label_en())]
    NotWhole {
        /// The countable unit.
        unit: Unit,
    },
    /// Not a multiple of the product's ordering step.
    #[error("the quantity must be a multiple of {step}")]
    NotMultipleOfStep {
        /// The product's ordering step.
        step: Quantity,
    },
}

impl Quantity {
    /// Nothing.
    pub const ZERO: Quantity = Quantity(Decimal::from_parts(0, 0, 0, false, 0));

    /// The largest quantity that can exist: 1 000 000.
    pub const MAX: Quantity = Quantity(Decimal::from_parts(1_000_000, 0, 0, false, 0));

    /// A quantity in thousandths (`1500` is `1.5`).
    ///
    /// Meant for trusted values (storage, constants): a value outside
    /// `0..=1_000_000_000` is clamped into that range rather than rejected.
    /// Validate user input with [`Quantity::new`].
    #[must_use]
    pub fn from_milli(milli: i64) -> Quantity {
        Quantity(Decimal::new(milli.clamp(0, MAX_MILLI), MILLI_SCALE).normalize())
    }

    /// The quantity in thousandths (`1.5` is `1500`). Exact.
    #[must_use]
    pub fn milli(self) -> i64 {
        let mut scaled = self.0;
        scaled.rescale(MILLI_SCALE);
        // At most 1e9 by construction, so the conversion cannot fail.
        i64::try_from(scaled.mantissa()).unwrap_or(MAX_MILLI)
    }

    /// The quantity as a decimal, without trailing zeros.
    #[must_use]
    pub fn value(self) -> Decimal {
        self.0
    }

    /// Validates a quantity: not negative, at most three decimals (trailing
    /// zeros such as `1.5000` are fine), at most [`Quantity::MAX`]. Zero is
    /// a valid quantity (stock can be zero); order quantities are further
    /// checked by [`validate_order_quantity`].
    pub fn new(value: Decimal) -> Result<Quantity, QuantityError> {
        let value = value.normalize();
        if value.is_sign_negative() {
            return Err(QuantityError::Negative);
        }
        if value.scale() > MILLI_SCALE {
            return Err(QuantityError::TooPrecise);
        }
        if value > Quantity::MAX.0 {
            return Err(QuantityError::TooLarge { max: Quantity::MAX });
        }
        Ok(Quantity(value))
    }

    /// True when the quantity is zero.
    #[must_use]
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// True when the quantity has no fractional part.
    #[must_use]
    pub fn is_whole(self) -> bool {
        self.0.fract().is_zero()
    }

    /// The sum, or `None` if it would exceed [`Quantity::MAX`].
    #[must_use]
    pub fn checked_add(self, rhs: Quantity) -> Option<Quantity> {
        Quantity::new(self.0 + rhs.0).ok()
    }

    /// The difference, or `None` if it would be negative.
    #[must_use]
    pub fn checked_sub(self, rhs: Quantity) -> Option<Quantity> {
        Quantity::new(self.0 - rhs.0).ok()
    }
}

impl TryFrom<Decimal> for Quantity {
    type Error = QuantityError;

    /// Same as [`Quantity::new`].
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Quantity::new(value)
    }
}

impl From<Quantity> for Decimal {
    fn from(quantity: Quantity) -> Self {
        quantity.0
    }
}

impl fmt::Display for Quantity {
    /// Without trailing zeros and with a dot separator: `1.5`, `3`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The ordering step a product gets unless its producer chooses another:
/// 1 for piece, bunch, dozen, g and cl; 0.1 for kg and l.
#[must_use]
pub fn default_step(unit: Unit) -> Quantity {
    match unit {
        Unit::Piece | Unit::Bunch | Unit::Dozen | Unit::G | Unit::Cl => Quantity::from_milli(1000),
        Unit::Kg | Unit::L => Quantity::from_milli(100),
    }
}

/// Checks a quantity a consumer wants to order of a product sold in `unit`
/// with ordering step `step`.
///
/// Checked in this order: more than zero ([`QuantityError::NotPositive`]),
/// whole for countable units ([`QuantityError::NotWhole`]), a multiple of
/// `step` ([`QuantityError::NotMultipleOfStep`]), at most
/// [`MAX_ORDER_QUANTITY`] ([`QuantityError::TooLarge`]).
///
/// A zero `step` (which [`validate_step`] rejects, so only possible with bad
/// stored data) imposes no multiple constraint instead of failing every order.
pub fn validate_order_quantity(
    unit: Unit,
    step: Quantity,
    q: Quantity,
) -> Result<(), QuantityError> {
    if q.is_zero() {
        return Err(QuantityError::NotPositive);
    }
    if unit.is_countable() && !q.is_whole() {
        return Err(QuantityError::NotWhole { unit });
    }
    let step_milli = step.milli();
    if step_milli != 0 && q.milli() % step_milli != 0 {
        return Err(QuantityError::NotMultipleOfStep { step });
    }
    if q > MAX_ORDER_QUANTITY {
        return Err(QuantityError::TooLarge {
            max: MAX_ORDER_QUANTITY,
        });
    }
    Ok(())
}

/// Checks the ordering step a producer sets on a product: more than zero,
/// whole for countable units, and at most [`MAX_ORDER_QUANTITY`] (a larger
/// step would make the product impossible to order).
pub fn validate_step(unit: Unit, step: Quantity) -> Result<(), QuantityError> {
    if step.is_zero() {
        return Err(QuantityError::NotPositive);
    }
    if unit.is_countable() && !step.is_whole() {
        return Err(QuantityError::NotWhole { unit });
    }
    if step > MAX_ORDER_QUANTITY {
        return Err(QuantityError::TooLarge {
            max: MAX_ORDER_QUANTITY,
        });
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn q(d: Decimal) -> Quantity {
        Quantity::new(d).unwrap()
    }

    #[test]
    fn every_unit_round_trips_through_its_name() {
        for unit in Unit::ALL {
            assert_eq!(unit.as_str().parse::<Unit>(), Ok(unit));
            assert_eq!(unit.to_string(), unit.as_str());
        }
    }

    #[test]
    fn unit_names_are_case_insensitive() {
        assert_eq!("L".parse::<Unit>(), Ok(Unit::L));
        assert_eq!("KG".parse::<Unit>(), Ok(Unit::Kg));
        assert_eq!(" Piece ".parse::<Unit>(), Ok(Unit::Piece));
    }

    #[test]
    fn an_unknown_unit_is_refused_with_the_given_text() {
        let err = "tonne".parse::<Unit>().unwrap_err();
        assert_eq!(
            err,
            UnitError::Unknown {
                input: "tonne".into()
            }
        );
        assert!(err.to_string().contains("tonne"));
    }

    #[test]
    fn only_piece_bunch_and_dozen_are_countable() {
        let countable: Vec<Unit> = Unit::ALL.into_iter().filter(|u| u.is_countable()).collect();
        assert_eq!(countable, vec![Unit::Piece, Unit::Bunch, Unit::Dozen]);
    }

    #[test]
    fn units_have_french_and_english_labels() {
        assert_eq!(Unit::Piece.label_fr(), "pièce");
        assert_eq!(Unit::Bunch.label_fr(), "botte");
        assert_eq!(Unit::Dozen.label_fr(), "douzaine");
        assert_eq!(Unit::L.label_fr(), "L");
        assert_eq!(Unit::L.label_en(), "L");
        assert_eq!(Unit::Bunch.label_en(), "bunch");
    }

    #[test]
    fn milli_gives_thousandths() {
        assert_eq!(Quantity::from_milli(1500).value(), dec!(1.5));
        assert_eq!(Quantity::from_milli(1500).to_string(), "1.5");
        assert_eq!(Quantity::from_milli(3000).to_string(), "3");
        assert_eq!(q(dec!(0.125)).milli(), 125);
    }

    #[test]
    fn milli_out_of_range_is_clamped() {
        assert_eq!(Quantity::from_milli(-5), Quantity::ZERO);
        assert_eq!(Quantity::from_milli(i64::MAX), Quantity::MAX);
    }

    #[test]
    fn a_quantity_is_non_negative_with_at_most_three_decimals() {
        assert_eq!(Quantity::new(dec!(-1)), Err(QuantityError::Negative));
        assert_eq!(Quantity::new(dec!(0.0001)), Err(QuantityError::TooPrecise));
        assert_eq!(Quantity::new(dec!(1.5000)), Ok(Quantity::from_milli(1500)));
        assert_eq!(Quantity::new(dec!(-0)), Ok(Quantity::ZERO));
        assert_eq!(Quantity::new(dec!(1000000)), Ok(Quantity::MAX));
        assert_eq!(
            Quantity::new(dec!(1000000.001)),
            Err(QuantityError::TooLarge { max: Quantity::MAX })
        );
    }

    #[test]
    fn checked_arithmetic_stays_in_range() {
        let one = Quantity::from_milli(1000);
        let half = Quantity::from_milli(500);
        assert_eq!(one.checked_sub(half), Some(half));
        assert_eq!(half.checked_sub(one), None);
        assert_eq!(half.checked_add(half), Some(one));
        assert_eq!(Quantity::MAX.checked_add(half), None);
    }

    #[test]
    fn default_steps_are_one_or_a_tenth() {
        assert_eq!(default_step(Unit::Piece), q(dec!(1)));
        assert_eq!(default_step(Unit::G), q(dec!(1)));
        assert_eq!(default_step(Unit::Kg), q(dec!(0.1)));
        assert_eq!(default_step(Unit::L), q(dec!(0.1)));
        for unit in Unit::ALL {
            assert_eq!(validate_step(unit, default_step(unit)), Ok(()));
        }
    }

    #[test]
    fn an_order_quantity_must_be_positive() {
        assert_eq!(
            validate_order_quantity(Unit::Kg, default_step(Unit::Kg), Quantity::ZERO),
            Err(QuantityError::NotPositive)
        );
    }

    #[test]
    fn countable_units_are_ordered_whole() {
        assert_eq!(
            validate_order_quantity(Unit::Piece, q(dec!(1)), q(dec!(1.5))),
            Err(QuantityError::NotWhole { unit: Unit::Piece })
        );
        assert_eq!(
            validate_order_quantity(Unit::Dozen, q(dec!(1)), q(dec!(2))),
            Ok(())
        );
    }

    #[test]
    fn an_order_quantity_follows_the_step() {
        let step = q(dec!(0.25));
        assert_eq!(
            validate_order_quantity(Unit::Kg, step, q(dec!(0.75))),
            Ok(())
        );
        let err = validate_order_quantity(Unit::Kg, step, q(dec!(0.8))).unwrap_err();
        assert_eq!(err, QuantityError::NotMultipleOfStep { step });
        assert_eq!(err.to_string(), "the quantity must be a multiple of 0.25");
    }

    #[test]
    fn a_zero_step_does_not_block_orders() {
        assert_eq!(
            validate_order_quantity(Unit::Kg, Quantity::ZERO, q(dec!(0.123))),
            Ok(())
        );
    }

    #[test]
    fn an_order_line_is_capped_at_one_thousand_units() {
        assert_eq!(
            validate_order_quantity(Unit::G, q(dec!(1)), q(dec!(1000))),
            Ok(())
        );
        assert_eq!(
            validate_order_quantity(Unit::G, q(dec!(1)), q(dec!(1001))),
            Err(QuantityError::TooLarge {
                max: MAX_ORDER_QUANTITY
            })
        );
    }

    #[test]
    fn a_step_must_be_positive_and_whole_for_countable_units() {
        assert_eq!(
            validate_step(Unit::Kg, Quantity::ZERO),
            Err(QuantityError::NotPositive)
        );
        assert_eq!(
            validate_step(Unit::Bunch, q(dec!(0.5))),
            Err(QuantityError::NotWhole { unit: Unit::Bunch })
        );
        assert_eq!(validate_step(Unit::Kg, q(dec!(0.5))), Ok(()));
        assert_eq!(
            validate_step(Unit::Kg, q(dec!(1001))),
            Err(QuantityError::TooLarge {
                max: MAX_ORDER_QUANTITY
            })
        );
    }

    #[test]
    fn error_messages_read_naturally() {
        assert_eq!(
            QuantityError::NotWhole { unit: Unit::Dozen }.to_string(),
            "the quantity must be a whole number (sold by the dozen)"
        );
        assert_eq!(
            QuantityError::TooLarge {
                max: MAX_ORDER_QUANTITY
            }
            .to_string(),
            "the quantity cannot be more than 1000"
        );
    }

    proptest! {
        #[test]
        fn quantity_milli_round_trip(milli in 0i64..=1_000_000_000) {
            let quantity = Quantity::from_milli(milli);
            prop_assert_eq!(quantity.milli(), milli);
            prop_assert_eq!(Quantity::new(quantity.value()), Ok(quantity));
        }

        #[test]
        fn a_multiple_of_the_step_is_accepted(step_milli in 1i64..=1000, times in 1i64..=1000) {
            let step = Quantity::from_milli(step_milli);
            let quantity = Quantity::from_milli(step_milli * times);
            let result = validate_order_quantity(Unit::Kg, step, quantity);
            if quantity <= MAX_ORDER_QUANTITY {
                prop_assert_eq!(result, Ok(()));
            } else {
                prop_assert_eq!(result, Err(QuantityError::TooLarge { max: MAX_ORDER_QUANTITY }));
            }
        }
    }
}
