//! The store's error type: what a caller can act on, and the database failures it cannot.

use domain::Quantity;
use sea_orm::DbErr;

/// Why a store operation did not happen. Nothing was written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist, or the actor may not know it exists.
    #[error("{entity} {id} not found")]
    NotFound {
        /// What was looked for ("order", "cycle", ...).
        entity: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// The actor is known but its role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Wrong email or password, or an expired or unknown token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The request is well formed but breaks a business rule (bad quantity, unknown offer...).
    #[error("{message}")]
    Invalid {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The request clashes with the current state (cycle closed, email taken...).
    #[error("{message}")]
    Conflict {
        /// Machine-readable reason.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// Not enough stock left on an offer for the quantity asked.
    #[error("only {available} left of {product}")]
    InsufficientStock {
        /// The offer that ran short.
        offer_id: i64,
        /// The product's name.
        product: String,
        /// The quantity asked for.
        requested: Quantity,
        /// What is left to order.
        available: Quantity,
    },
    /// The server has too much of this work in hand; try again after `retry_after_secs`.
    #[error("the server is busy ({what}); try again in {retry_after_secs} s")]
    Busy {
        /// What it is busy with ("password checks", "documents").
        what: &'static str,
        /// When to try again, in seconds.
        retry_after_secs: u64,
    },
    /// Cannot be done now (the server is shutting down, or the database did not answer in
    /// time); nothing was written, and the same request may succeed later.
    #[error("{message}")]
    Unavailable {
        /// Human-readable explanation.
        message: String,
        /// A sensible wait before trying again, in seconds.
        retry_after_secs: u32,
    },
    /// The database failed; nothing the caller did wrong.
    #[error("database error")]
    Db(#[source] DbErr),
}

impl From<DbErr> for StoreError {
    /// A database failure; no connection free in the pool in time is [`StoreError::Unavailable`]
    /// (503, try again), not a failure: the database is stuck or overloaded (the work of the
    /// request so far was read-only, or rolled back with its transaction).
    fn from(e: DbErr) -> Self {
        match e {
            DbErr::ConnectionAcquire(_) => Self::unavailable(
                "the database is too busy to answer now: please try again",
                2,
            ),
            e => Self::Db(e),
        }
    }
}

impl StoreError {
    pub(crate) fn not_found(entity: &'static str, id: i64) -> Self {
        Self::NotFound { entity, id }
    }

    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn unavailable(message: impl Into<String>, retry_after_secs: u32) -> Self {
        Self::Unavailable {
            message: message.into(),
            retry_after_secs,
        }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }
}

impl From<domain::QuantityError> for StoreError {
    fn from(e: domain::QuantityError) -> Self {
        Self::invalid("invalid_quantity", e.to_string())
    }
}

impl From<domain::CycleError> for StoreError {
    fn from(e: domain::CycleError) -> Self {
        use domain::CycleError as E;
        let code = match &e {
            E::Closed { .. } | E::Distributed => "cycle_closed",
            E::NotOpenYet { .. } | E::Draft => "cycle_not_open",
            E::InvalidTransition { .. } => "invalid_transition",
            E::WindowInverted | E::WindowTooLong | E::UnknownState { .. } => {
                return Self::invalid("invalid_window", e.to_string());
            }
        };
        Self::conflict(code, e.to_string())
    }
}

impl From<domain::CatalogueError> for StoreError {
    fn from(e: domain::CatalogueError) -> Self {
        Self::invalid("invalid_product", e.to_string())
    }
}

impl From<domain::BasketError> for StoreError {
    fn from(e: domain::BasketError) -> Self {
        Self::invalid("invalid_basket", e.to_string())
    }
}
