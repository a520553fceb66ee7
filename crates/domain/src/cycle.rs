//! Order cycles: their state machine and the time rules for ordering and
//! editing offers.
//!
//! A cycle is created as a draft, opened (published) by the market, takes
//! orders between `opens_at` and `closes_at`, is closed (by time or early by
//! hand), and finally marked distributed once the goods are handed out.
//! Closing by time is never stored by a background job: it is derived with
//! [`effective_state`] whenever a cycle is looked at.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest an order cycle's window may last, in days.
pub const MAX_CYCLE_DAYS: i64 = 60;

/// The stored state of an order cycle.
///
/// Serialized as the lowercase strings of [`CycleState::as_str`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CycleState {
    /// Being prepared by the market; invisible to consumers.
    Draft,
    /// Published; takes orders between `opens_at` and `closes_at`.
    Open,
    /// No more orders; producers prepare the goods.
    Closed,
    /// Goods handed out; the cycle is archived.
    Distributed,
}

impl CycleState {
    /// Every state, in lifecycle order.
    pub const ALL: [CycleState; 4] = [
        CycleState::Draft,
        CycleState::Open,
        CycleState::Closed,
        CycleState::Distributed,
    ];

    /// The stable machine name: `"draft"`, `"open"`, `"closed"`,
    /// `"distributed"`. Used for storage and serialization.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            CycleState::Draft => "draft",
            CycleState::Open => "open",
            CycleState::Closed => "closed",
            CycleState::Distributed => "distributed",
        }
    }
}

impl fmt::Display for CycleState {
    /// The machine name of [`CycleState::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CycleState {
    type Err = CycleError;

    /// Case-insensitive match on the machine names, ignoring surrounding
    /// whitespace; fails with [`CycleError::UnknownState`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        CycleState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| CycleError::UnknownState {
                input: s.to_owned(),
            })
    }
}

/// When an order cycle takes orders: from `opens_at` (included) to
/// `closes_at` (excluded).
///
/// The fields are public for convenience; build windows from user input
/// with [`CycleWindow::new`], which checks them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CycleWindow {
    /// First instant orders are accepted.
    pub opens_at: DateTime<Utc>,
    /// First instant orders are no longer accepted.
    pub closes_at: DateTime<Utc>,
}

impl CycleWindow {
    /// A window that closes strictly after it opens
    /// ([`CycleError::WindowInverted`]) and lasts at most
    /// [`MAX_CYCLE_DAYS`] days ([`CycleError::WindowTooLong`]).
    pub fn new(
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
    ) -> Result<CycleWindow, CycleError> {
        if closes_at <= opens_at {
            return Err(CycleError::WindowInverted);
        }
        if closes_at - opens_at > TimeDelta::days(MAX_CYCLE_DAYS) {
            return Err(CycleError::WindowTooLong);
        }
        Ok(CycleWindow {
            opens_at,
            closes_at,
        })
    }
}

/// Why an order cycle refused an action.
///
/// Times in messages are shown in UTC; a web layer wanting local times can
/// match on the variant and format the carried instant itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CycleError {
    /// The closing time is not after the opening time.
    #[error("an order cycle must close after it opens")]
    WindowInverted,
    /// The window is longer than [`MAX_CYCLE_DAYS`].
    #[error("an order cycle can stay open at most {MAX_CYCLE_DAYS} days")]
    WindowTooLong,
    /// The cycle is open but its window has not started.
    #[error("this order cycle opens on {} UTC", .opens_at.format("%Y-%m-%d at %H:%M"))]
    NotOpenYet {
        /// When orders start.
        opens_at: DateTime<Utc>,
    },
    /// The cycle is closed (by time or by hand).
    #[error("this order cycle closed on {} UTC", .closes_at.format("%Y-%m-%d at %H:%M"))]
    Closed {
        /// The end of the cycle's window.
        closes_at: DateTime<Utc>,
    },
    /// The cycle has not been published yet.
    #[error("this order cycle has not been opened yet")]
    Draft,
    /// The cycle is over and archived.
    #[error("this order cycle is over: its orders have been distributed")]
    Distributed,
    /// The requested state change is not allowed.
    #[error("an order cycle cannot go from {from} to {to}")]
    InvalidTransition {
        /// The cycle's current (effective) state.
        from: CycleState,
        /// The requested state.
        to: CycleState,
    },
    /// A state name was not recognised.
    #[error("unknown order cycle state \"{input}\"")]
    UnknownState {
        /// The text that was given.
        input: String,
    },
}

/// The state a cycle is really in at `now`: an `Open` cycle whose
/// `closes_at` has passed (`closes_at <= now`) is `Closed`; any other state
/// is as stored.
#[must_use]
pub fn effective_state(stored: CycleState, window: &CycleWindow, now: DateTime<Utc>) -> CycleState {
    match stored {
        CycleState::Open if window.closes_at <= now => CycleState::Closed,
        other => other,
    }
}

/// Whether consumers may place or change orders at `now`: only if the cycle
/// is effectively open and `opens_at <= now < closes_at`.
///
/// A cycle closed early by hand reports [`CycleError::Closed`] with its
/// window's `closes_at`; callers closing a cycle early should therefore also
/// move `closes_at` to the closing time so that the message stays true.
pub fn accepts_orders(
    stored: CycleState,
    window: &CycleWindow,
    now: DateTime<Utc>,
) -> Result<(), CycleError> {
    match effective_state(stored, window, now) {
        CycleState::Draft => Err(CycleError::Draft),
        CycleState::Distributed => Err(CycleError::Distributed),
        CycleState::Closed => Err(CycleError::Closed {
            closes_at: window.closes_at,
        }),
        CycleState::Open if now < window.opens_at => Err(CycleError::NotOpenYet {
            opens_at: window.opens_at,
        }),
        CycleState::Open => Ok(()),
    }
}

/// Moves a cycle from its stored state to `target`, returning the new state
/// to store.
///
/// The cycle's effective state at `now` (see [`effective_state`]) is what
/// counts. Allowed:
/// - draft → open, unless the window has already ended (then
///   [`CycleError::Closed`]: publishing it would be pointless);
/// - open → closed, at any time (closing early); also accepted when the
///   cycle is stored open but already closed by time, to persist that;
/// - closed → distributed.
///
/// Everything else, including reopening a closed cycle and "transitions" to
/// the current state, fails with [`CycleError::InvalidTransition`].
pub fn transition(
    stored: CycleState,
    target: CycleState,
    window: &CycleWindow,
    now: DateTime<Utc>,
) -> Result<CycleState, CycleError> {
    let from = effective_state(stored, window, now);
    match (from, target) {
        (CycleState::Draft, CycleState::Open) if window.closes_at <= now => {
            Err(CycleError::Closed {
                closes_at: window.closes_at,
            })
        }
        (CycleState::Draft, CycleState::Open)
        | (CycleState::Open, CycleState::Closed)
        | (CycleState::Closed, CycleState::Distributed) => Ok(target),
        (CycleState::Closed, CycleState::Closed) if stored == CycleState::Open => Ok(target),
        _ => Err(CycleError::InvalidTransition { from, to: target }),
    }
}

/// Whether producers may create or change their offers (products, prices,
/// stock) at `now`: while the cycle is a draft or effectively open (also
/// before `opens_at`), never once it is closed or distributed.
pub fn offers_editable(
    stored: CycleState,
    window: &CycleWindow,
    now: DateTime<Utc>,
) -> Result<(), CycleError> {
    match effective_state(stored, window, now) {
        CycleState::Draft | CycleState::Open => Ok(()),
        CycleState::Closed => Err(CycleError::Closed {
            closes_at: window.closes_at,
        }),
        CycleState::Distributed => Err(CycleError::Distributed),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
    }

    /// Opens on the 3rd at 08:00, closes on the 6th at 18:00.
    fn window() -> CycleWindow {
        CycleWindow::new(at(3, 8), at(6, 18)).unwrap()
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in CycleState::ALL {
            assert_eq!(state.as_str().parse::<CycleState>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        assert_eq!("OPEN".parse::<CycleState>(), Ok(CycleState::Open));
        assert_eq!(
            "paused".parse::<CycleState>(),
            Err(CycleError::UnknownState {
                input: "paused".into()
            })
        );
    }

    #[test]
    fn a_window_must_close_after_it_opens() {
        assert_eq!(
            CycleWindow::new(at(3, 8), at(3, 8)),
            Err(CycleError::WindowInverted)
        );
        assert_eq!(
            CycleWindow::new(at(4, 8), at(3, 8)),
            Err(CycleError::WindowInverted)
        );
    }

    #[test]
    fn a_window_lasts_at_most_sixty_days() {
        let opens = at(1, 0);
        assert!(CycleWindow::new(opens, opens + TimeDelta::days(60)).is_ok());
        assert_eq!(
            CycleWindow::new(opens, opens + TimeDelta::days(60) + TimeDelta::seconds(1)),
            Err(CycleError::WindowTooLong)
        );
    }

    #[test]
    fn an_open_cycle_closes_by_itself_at_its_closing_time() {
        let w = window();
        assert_eq!(
            effective_state(CycleState::Open, &w, at(6, 17)),
            CycleState::Open
        );
        assert_eq!(
            effective_state(CycleState::Open, &w, at(6, 18)),
            CycleState::Closed
        );
        assert_eq!(
            effective_state(CycleState::Draft, &w, at(7, 0)),
            CycleState::Draft
        );
        assert_eq!(
            effective_state(CycleState::Distributed, &w, at(1, 0)),
            CycleState::Distributed
        );
    }

    #[test]
    fn orders_are_accepted_only_inside_the_window_of_an_open_cycle() {
        let w = window();
        assert_eq!(accepts_orders(CycleState::Open, &w, at(3, 8)), Ok(()));
        assert_eq!(accepts_orders(CycleState::Open, &w, at(6, 17)), Ok(()));
        assert_eq!(
            accepts_orders(CycleState::Open, &w, at(3, 7)),
            Err(CycleError::NotOpenYet { opens_at: at(3, 8) })
        );
        assert_eq!(
            accepts_orders(CycleState::Open, &w, at(6, 18)),
            Err(CycleError::Closed {
                closes_at: at(6, 18)
            })
        );
        assert_eq!(
            accepts_orders(CycleState::Draft, &w, at(4, 0)),
            Err(CycleError::Draft)
        );
        assert_eq!(
            accepts_orders(CycleState::Closed, &w, at(4, 0)),
            Err(CycleError::Closed {
                closes_at: at(6, 18)
            })
        );
        assert_eq!(
            accepts_orders(CycleState::Distributed, &w, at(4, 0)),
            Err(CycleError::Distributed)
        );
    }

    #[test]
    fn the_lifecycle_goes_draft_open_closed_distributed() {
        let w = window();
        let now = at(4, 0);
        assert_eq!(
            transition(CycleState::Draft, CycleState::Open, &w, at(1, 0)),
            Ok(CycleState::Open)
        );
        assert_eq!(
            transition(CycleState::Open, CycleState::Closed, &w, now),
            Ok(CycleState::Closed)
        );
        assert_eq!(
            transition(CycleState::Closed, CycleState::Distributed, &w, now),
            Ok(CycleState::Distributed)
        );
    }

    #[test]
    fn a_cycle_closed_by_time_can_be_distributed_or_persisted_as_closed() {
        let w = window();
        let after = at(7, 0);
        assert_eq!(
            transition(CycleState::Open, CycleState::Distributed, &w, after),
            Ok(CycleState::Distributed)
        );
        assert_eq!(
            transition(CycleState::Open, CycleState::Closed, &w, after),
            Ok(CycleState::Closed)
        );
    }

    #[test]
    fn a_closed_cycle_cannot_be_reopened() {
        let w = window();
        assert_eq!(
            transition(CycleState::Closed, CycleState::Open, &w, at(4, 0)),
            Err(CycleError::InvalidTransition {
                from: CycleState::Closed,
                to: CycleState::Open
            })
        );
        assert_eq!(
            transition(CycleState::Open, CycleState::Open, &w, at(7, 0)),
            Err(CycleError::InvalidTransition {
                from: CycleState::Closed,
                to: CycleState::Open
            })
        );
    }

    #[test]
    fn other_transitions_are_refused() {
        let w = window();
        let now = at(4, 0);
        for from in CycleState::ALL {
            for to in CycleState::ALL {
                let allowed = matches!(
                    (from, to),
                    (CycleState::Draft, CycleState::Open)
                        | (CycleState::Open, CycleState::Closed)
                        | (CycleState::Closed, CycleState::Distributed)
                );
                let result = transition(from, to, &w, now);
                if allowed {
                    assert_eq!(result, Ok(to), "{from} -> {to}");
                } else {
                    assert_eq!(
                        result,
                        Err(CycleError::InvalidTransition { from, to }),
                        "{from} -> {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_draft_whose_window_has_passed_cannot_be_opened() {
        let w = window();
        assert_eq!(
            transition(CycleState::Draft, CycleState::Open, &w, at(6, 18)),
            Err(CycleError::Closed {
                closes_at: at(6, 18)
            })
        );
    }

    #[test]
    fn offers_are_editable_until_the_cycle_closes() {
        let w = window();
        assert_eq!(offers_editable(CycleState::Draft, &w, at(10, 0)), Ok(()));
        assert_eq!(offers_editable(CycleState::Open, &w, at(1, 0)), Ok(()));
        assert_eq!(offers_editable(CycleState::Open, &w, at(5, 0)), Ok(()));
        assert_eq!(
            offers_editable(CycleState::Open, &w, at(6, 18)),
            Err(CycleError::Closed {
                closes_at: at(6, 18)
            })
        );
        assert_eq!(
            offers_editable(CycleState::Closed, &w, at(5, 0)),
            Err(CycleError::Closed {
                closes_at: at(6, 18)
            })
        );
        assert_eq!(
            offers_editable(CycleState::Distributed, &w, at(5, 0)),
            Err(CycleError::Distributed)
        );
    }

    #[test]
    fn error_messages_tell_when() {
        assert_eq!(
            CycleError::Closed {
                closes_at: at(6, 18)
            }
            .to_string(),
            "this order cycle closed on 2025-03-06 at 18:00 UTC"
        );
        assert_eq!(
            CycleError::NotOpenYet { opens_at: at(3, 8) }.to_string(),
            "this order cycle opens on 2025-03-03 at 08:00 UTC"
        );
        assert_eq!(
            CycleError::InvalidTransition {
                from: CycleState::Closed,
                to: CycleState::Open
            }
            .to_string(),
            "an order cycle cannot go from closed to open"
        );
        assert_eq!(
            CycleError::WindowTooLong.to_string(),
            "an order cycle can stay open at most 60 days"
        );
    }
}
