//! What the store tells an operator: whether it is ready to serve (`/readyz`), how its
//! connection pool is used, and the counts it records through the `metrics` facade (rendered
//! by `web` at `/metrics`; with no recorder installed, as in `halle report`, recording costs
//! next to nothing). Metric names are listed here, once, so that `web` describes and buckets
//! them without repeating strings.

use std::time::Duration;

use sea_orm::ConnectionTrait;

use crate::{Backend, Placed, Store, StoreError};

/// Baskets placed (a new order; a replayed idempotency key is `replayed="true"`).
pub const BASKETS_PLACED: &str = "halle_baskets_placed_total";
/// Baskets refused, by `reason` (the store error's kind: insufficient_stock, invalid, ...).
pub const BASKETS_REFUSED: &str = "halle_baskets_refused_total";
/// Baskets per batch of the order writer (histogram).
pub const WRITER_BATCH_SIZE: &str = "halle_order_writer_batch_size";
/// How long a basket waited for its batch to begin, in seconds (histogram).
pub const WRITER_WAIT: &str = "halle_order_writer_wait_seconds";
/// How long a batch's transaction took, in seconds (histogram).
pub const WRITER_BATCH_SECONDS: &str = "halle_order_writer_batch_seconds";

/// How long `/readyz` waits for the database before saying it is not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` checks, each true when fine.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Readiness {
    /// The database answered `SELECT 1` within two seconds.
    pub database: bool,
    /// No migration of this build is missing from the database.
    pub migrations: bool,
    /// The order writer's thread runs and takes baskets.
    pub order_writer: bool,
    /// Baskets handed to the writer and not yet taken into a batch.
    pub order_queue: usize,
}

impl Readiness {
    /// True when every check passed.
    pub fn ready(&self) -> bool {
        self.database && self.migrations && self.order_writer
    }
}

/// The connection pool's use, read when metrics are scraped.
#[derive(Clone, Copy, Debug)]
pub struct PoolUse {
    /// Connections open now.
    pub open: u32,
    /// Of those, idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

impl Store {
    /// Checks what serving needs: the database reachable, the schema up to date, the order
    /// writer alive. Never fails: a failed check is a `false`.
    pub async fn readiness(&self) -> Readiness {
        let database = matches!(
            tokio::time::timeout(READY_TIMEOUT, self.db().execute_unprepared("SELECT 1")).await,
            Ok(Ok(_))
        );
        let migrations = database
            && matches!(
                tokio::time::timeout(READY_TIMEOUT, self.pending_migrations()).await,
                Ok(Ok(pending)) if pending.is_empty()
            );
        let (order_writer, order_queue) = self.writer.health();
        Readiness {
            database,
            migrations,
            order_writer,
            order_queue,
        }
    }

    /// Whether the order writer runs, and how many baskets wait for it: no query.
    pub fn readiness_of_writer(&self) -> (bool, usize) {
        self.writer.health()
    }

    /// How the connection pool (readers and ordinary writes; the order writer has its own
    /// connection besides) is used now.
    pub fn pool_use(&self) -> PoolUse {
        let (open, idle, max) = match self.backend() {
            Backend::Postgres => {
                let pool = self.db().get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            Backend::Sqlite => {
                let pool = self.db().get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
        };
        PoolUse {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }
}

/// Counts a basket's outcome and hands it back.
pub(crate) fn count_basket(result: Result<Placed, StoreError>) -> Result<Placed, StoreError> {
    match &result {
        Ok(Placed::Created(_)) => {
            metrics::counter!(BASKETS_PLACED, "replayed" => "false").increment(1)
        }
        Ok(Placed::Replayed(_)) => {
            metrics::counter!(BASKETS_PLACED, "replayed" => "true").increment(1)
        }
        Err(e) => metrics::counter!(BASKETS_REFUSED, "reason" => reason(e)).increment(1),
    }
    result
}

/// A store error's kind, as a metric label.
fn reason(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound { .. } => "not_found",
        StoreError::Forbidden(_) => "forbidden",
        StoreError::Unauthenticated(_) => "unauthenticated",
        StoreError::Invalid { .. } => "invalid",
        StoreError::Conflict { .. } => "conflict",
        StoreError::InsufficientStock { .. } => "insufficient_stock",
        StoreError::Busy { .. } => "busy",
        StoreError::Unavailable { .. } => "unavailable",
        StoreError::Db(_) => "database",
    }
}
