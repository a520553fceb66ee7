//! Catalogue pricing rules: how a product is priced, including
//! variable-weight products (sold by the piece, priced by the kilogram).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::{Money, MoneyError, round_cents};
use crate::unit::{Quantity, QuantityError, Unit};
use crate::vat::{VatError, VatRate};

/// How a product is priced.
///
/// `price` includes VAT and is per `unit`, except for variable-weight
/// products (`variable_weight = Some(estimated_kg)`): those are ordered by
/// the piece (`unit` must be [`Unit::Piece`]), `price` is per kilogram, and
/// one piece is estimated at `round_cents(price * estimated_kg)`. The final
/// price of such a piece is only known once it is weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProductPricing {
    /// The unit the product is ordered in.
    pub unit: Unit,
    /// VAT-inclusive price per `unit`, or per kg for variable-weight products.
    pub price: Money,
    /// The VAT rate included in `price`.
    pub vat: VatRate,
    /// For variable-weight products, the estimated weight of one piece in kg.
    pub variable_weight: Option<Quantity>,
}

/// Why a product's pricing was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogueError {
    /// A variable-weight product is not sold by the piece.
    #[error("a product priced by weight must be sold by the piece")]
    VariableWeightNeedsPiece,
    /// A variable-weight product has no (or a zero) estimated weight per piece.
    #[error("a product priced by weight needs an estimated weight per piece")]
    MissingEstimatedWeight,
    /// A quantity (stock, step, weight) is invalid.
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    /// The price is invalid.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The VAT rate is invalid.
    #[error(transparent)]
    Vat(#[from] VatError),
}

impl ProductPricing {
    /// Checks the pricing a producer entered:
    /// - the price is a valid user amount ([`Money::from_decimal`]: not
    ///   negative, at most 1 000 000 EUR); a zero price is allowed (free
    ///   samples, deposits handled elsewhere);
    /// - the VAT rate is below 100 % ([`VatRate::parse`]);
    /// - a variable-weight product is sold by the piece and has an estimated
    ///   weight above zero.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        Money::from_decimal(self.price.amount())?;
        VatRate::parse(self.vat.percent())?;
        if let Some(estimated_kg) = self.variable_weight {
            if self.unit != Unit::Piece {
                return Err(CatalogueError::VariableWeightNeedsPiece);
            }
            if estimated_kg.is_zero() {
                return Err(CatalogueError::MissingEstimatedWeight);
            }
        }
        Ok(())
    }

    /// The VAT-inclusive price of one ordering unit: `price` itself, or for a
    /// variable-weight product the estimated price of one piece,
    /// `round_cents(price * estimated_kg)`.
    #[must_use]
    pub fn unit_price(&self) -> Money {
        match self.variable_weight {
            Some(estimated_kg) => round_cents(self.price.amount() * estimated_kg.value()),
            None => self.price,
        }
    }

    /// True for products sold by the piece but priced by weight.
    #[must_use]
    pub fn is_variable_weight(&self) -> bool {
        self.variable_weight.is_some()
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fixed(unit: Unit, cents: i64) -> ProductPricing {
        ProductPricing {
            unit,
            price: Money::from_cents(cents),
            vat: VatRate::REDUCED_5_5,
            variable_weight: None,
        }
    }

    #[test]
    fn a_fixed_price_is_the_unit_price() {
        let pricing = fixed(Unit::Kg, 450);
        assert_eq!(pricing.validate(), Ok(()));
        assert_eq!(pricing.unit_price(), Money::from_cents(450));
        assert!(!pricing.is_variable_weight());
    }

    #[test]
    fn a_variable_weight_piece_is_estimated_from_its_weight_rounded_half_even() {
        let pricing = ProductPricing {
            variable_weight: Some(Quantity::new(dec!(1.25)).unwrap()),
            ..fixed(Unit::Piece, 1850)
        };
        assert_eq!(pricing.validate(), Ok(()));
        // 18.50 * 1.25 = 23.125 -> 23.12 (half-even)
        assert_eq!(pricing.unit_price(), Money::from_cents(2312));
    }

    #[test]
    fn a_variable_weight_product_must_be_sold_by_the_piece() {
        let pricing = ProductPricing {
            variable_weight: Some(Quantity::from_milli(500)),
            ..fixed(Unit::Kg, 1000)
        };
        assert_eq!(
            pricing.validate(),
            Err(CatalogueError::VariableWeightNeedsPiece)
        );
    }

    #[test]
    fn a_variable_weight_product_needs_a_weight() {
        let pricing = ProductPricing {
            variable_weight: Some(Quantity::ZERO),
            ..fixed(Unit::Piece, 1000)
        };
        assert_eq!(
            pricing.validate(),
            Err(CatalogueError::MissingEstimatedWeight)
        );
    }

    #[test]
    fn a_negative_price_is_refused() {
        let pricing = fixed(Unit::Piece, -1);
        assert_eq!(
            pricing.validate(),
            Err(CatalogueError::Money(MoneyError::Negative))
        );
    }

    #[test]
    fn a_vat_rate_of_one_hundred_percent_is_refused() {
        let pricing = ProductPricing {
            vat: VatRate::from_basis_points(10_000),
            ..fixed(Unit::Piece, 100)
        };
        assert_eq!(
            pricing.validate(),
            Err(CatalogueError::Vat(VatError::TooLarge))
        );
    }

    #[test]
    fn wrapped_errors_keep_their_message() {
        let err = CatalogueError::from(MoneyError::Negative);
        assert_eq!(err.to_string(), MoneyError::Negative.to_string());
    }
}
