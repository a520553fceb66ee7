//! Stock arithmetic: reserving stock for orders, releasing it when orders
//! are cancelled or reduced, and checking stock changes by producers.
//!
//! Quantities are in the offer's unit; callers add the unit when showing
//! messages ("only 3 kg left").

use thiserror::Error;

use crate::unit::Quantity;

/// Why a stock operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StockError {
    /// Less is available than was requested.
    #[error("{}", insufficient_message(*.available))]
    Insufficient {
        /// What the consumer asked for.
        requested: Quantity,
        /// What is still available.
        available: Quantity,
    },
    /// A producer tried to set stock below what consumers already ordered.
    #[error("{reserved} already ordered: the stock cannot be set lower than that")]
    BelowReserved {
        /// What is already reserved by orders.
        reserved: Quantity,
    },
}

/// "sold out" when nothing is left, otherwise "only 3 left".
fn insufficient_message(available: Quantity) -> String {
    if available.is_zero() {
        "sold out".to_owned()
    } else {
        format!("only {available} left")
    }
}

/// Takes `requested` out of `available` stock and returns what is left.
///
/// Fails with [`StockError::Insufficient`] if not enough is available; in
/// that case nothing is reserved (all or nothing). Reserving zero always
/// succeeds and leaves the stock unchanged.
pub fn reserve(available: Quantity, requested: Quantity) -> Result<Quantity, StockError> {
    available
        .checked_sub(requested)
        .ok_or(StockError::Insufficient {
            requested,
            available,
        })
}

/// Puts `released` back into `available` stock and returns the new available
/// quantity, never more than the offer's `total` stock (so releasing twice,
/// or after the producer lowered the stock, cannot create stock).
#[must_use]
pub fn release(available: Quantity, released: Quantity, total: Quantity) -> Quantity {
    available
        .checked_add(released)
        .map_or(total, |sum| sum.min(total))
}

/// Checks a producer's new total stock against what consumers already
/// ordered (`already_reserved`): the total may not go below it.
pub fn validate_stock(total: Quantity, already_reserved: Quantity) -> Result<(), StockError> {
    if total < already_reserved {
        return Err(StockError::BelowReserved {
            reserved: already_reserved,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(milli: i64) -> Quantity {
        Quantity::from_milli(milli)
    }

    #[test]
    fn reserving_takes_from_the_available_stock() {
        assert_eq!(reserve(q(5000), q(1500)), Ok(q(3500)));
        assert_eq!(reserve(q(5000), q(5000)), Ok(Quantity::ZERO));
        assert_eq!(reserve(q(5000), Quantity::ZERO), Ok(q(5000)));
    }

    #[test]
    fn reserving_more_than_available_says_how_much_is_left() {
        let err = reserve(q(3000), q(5000));
        assert_eq!(
            err,
            Err(StockError::Insufficient {
                requested: q(5000),
                available: q(3000)
            })
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("only 3 left".to_owned())
        );
    }

    #[test]
    fn reserving_from_empty_stock_says_sold_out() {
        let err = reserve(Quantity::ZERO, q(1000));
        assert_eq!(err.map_err(|e| e.to_string()), Err("sold out".to_owned()));
    }

    #[test]
    fn releasing_never_goes_above_the_total_stock() {
        assert_eq!(release(q(2000), q(1000), q(10_000)), q(3000));
        assert_eq!(release(q(9000), q(5000), q(10_000)), q(10_000));
        assert_eq!(
            release(Quantity::MAX, q(5000), Quantity::MAX),
            Quantity::MAX
        );
    }

    #[test]
    fn stock_cannot_be_set_below_what_is_already_ordered() {
        assert_eq!(validate_stock(q(5000), q(5000)), Ok(()));
        assert_eq!(
            validate_stock(q(4000), q(5000)),
            Err(StockError::BelowReserved { reserved: q(5000) })
        );
        assert_eq!(
            StockError::BelowReserved { reserved: q(5000) }.to_string(),
            "5 already ordered: the stock cannot be set lower than that"
        );
    }

    proptest! {
        #[test]
        fn reserve_and_release_never_go_negative_or_above_total(
            total in 0i64..=1_000_000_000,
            a in 0i64..=1_000_000_000,
            b in 0i64..=1_000_000_000,
        ) {
            let total = q(total);
            let available = q(a).min(total);
            let amount = q(b);
            match reserve(available, amount) {
                Ok(left) => {
                    prop_assert!(left >= Quantity::ZERO);
                    prop_assert!(left <= available);
                    prop_assert_eq!(left.checked_add(amount), Some(available));
                }
                Err(StockError::Insufficient { requested, available: reported }) => {
                    prop_assert!(amount > available);
                    prop_assert_eq!(requested, amount);
                    prop_assert_eq!(reported, available);
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
            let released = release(available, amount, total);
            prop_assert!(released >= available);
            prop_assert!(released <= total);
        }

        #[test]
        fn reserving_then_releasing_restores_the_stock(
            total in 0i64..=1_000_000_000,
            a in 0i64..=1_000_000_000,
            b in 0i64..=1_000_000_000,
        ) {
            let total = q(total);
            let available = q(a).min(total);
            if let Ok(left) = reserve(available, q(b)) {
                prop_assert_eq!(release(left, q(b), total), available);
            }
        }

        #[test]
        fn a_sequence_of_reserves_never_exceeds_the_initial_stock(
            initial in 0i64..=100_000,
            requests in prop::collection::vec(0i64..=20_000, 0..50),
        ) {
            let initial = q(initial);
            let mut available = initial;
            let mut reserved = Quantity::ZERO;
            for request in requests {
                if let Ok(left) = reserve(available, q(request)) {
                    available = left;
                    reserved = reserved.checked_add(q(request)).unwrap_or(Quantity::MAX);
                }
                prop_assert!(reserved <= initial);
                prop_assert_eq!(reserved.checked_add(available), Some(initial));
            }
        }
    }
}
