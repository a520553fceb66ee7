//! Group commit for new orders.
//!
//! Under a rush every basket wants the same few hot offers. Written one transaction per basket,
//! each holds its offers' row locks until its commit is on disk, and baskets queue behind each
//! other's commits (measured: under 400 orders/s on PostgreSQL with 200 clients). Here one writer
//! task per process takes every basket waiting at that moment (up to [`MAX_BATCH`]), locks their
//! offers once in ascending id order, decides in arrival order which baskets fit the stock left,
//! writes them all, and commits once. A basket never waits for more than the batch in progress.
//!
//! Baskets are prepared outside the transaction, often from memory (`sale_cache`), so the
//! writer checks, under its locks, what each was prepared on: its slot still open in an open
//! cycle, each offer still in that cycle at the same price, VAT, unit and step. A basket prepared
//! on anything else is sent back [`Written::Stale`] and prepared again from the database.
//!
//! Nothing changes for the caller: a basket is accepted (201) only once the transaction holding
//! it has committed, a basket that does not fit gets "only N left", and the `CHECK
//! (stock_left_milli >= 0)` of the offers table still backs the arithmetic up. If a batch fails
//! as a whole (say, an idempotency key taken meanwhile by another node), its baskets are retried
//! one by one, so one bad basket never sinks the others.
//!
//! Faults: a COMMIT that fails on PostgreSQL may still have committed (its answer lost with the
//! connection), so before retrying anything the writer asks the server, on a new connection,
//! what became of the transaction (`txid_status`); a basket is never written twice nor
//! answered 201 unless it is there. Each basket has a deadline ([`MAX_WAIT`]): past it, it is
//! answered 503 "try again" and never written. A batch that fails for want of the database (no
//! connection, a lock not granted in time) answers 503 too. [`OrderWriter::shutdown`] stops
//! taking baskets and returns once every basket handed over is answered.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    time::{Duration, Instant},
};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use crate::{
    StoreError,
    cycles::check_accepts_orders,
    entities::{idempotency_key, offer, order, order_cycle, order_line},
    orders::{IdempotencyKey, OfferBasis, Prepared, columns},
    read_cache::ReadCache,
};

/// The most baskets committed together.
const MAX_BATCH: usize = 128;

/// What the writer says of one basket.
pub(crate) enum Written {
    /// Placed, with this id.
    Placed(i64),
    /// Its idempotency key is already stored, or was carried by an earlier basket of the same
    /// batch: nothing was written, and the caller answers with the order placed under it.
    DuplicateKey,
    /// Prepared on a cycle, slot or offer that has changed since (see `sale_cache`): nothing
    /// was written, and the caller prepares it again from the database.
    Stale,
}

struct Job {
    prepared: Prepared,
    idempotency: Option<IdempotencyKey>,
    /// After this, the basket is not written any more: its caller is answered "try again".
    deadline: Instant,
    /// When it was handed to the writer.
    handed: Instant,
    reply: oneshot::Sender<(Prepared, Result<Written, StoreError>)>,
}

/// The longest a basket waits for the writer before being turned away with "try again later"
/// (503). A batch takes milliseconds; a basket still waiting after this means the database is
/// unreachable or stuck, and a client should not hang on it.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(10);

/// How long after a lost answer to COMMIT the writer keeps asking PostgreSQL whether it
/// committed, before giving up.
const OUTCOME_WAIT: Duration = Duration::from_secs(10);

/// The handle to the writer task.
pub(crate) struct OrderWriter {
    jobs: mpsc::Sender<Job>,
    /// Set to ask the writer to stop taking baskets and finish those it has.
    stop: watch::Sender<bool>,
    /// Becomes true (or its sender goes away) once the writer has answered its last basket.
    done: watch::Receiver<bool>,
}

impl OrderWriter {
    /// Starts the writer on a thread of its own, with its own connection: on the server's
    /// runtime, each of a batch's statements would wait behind every request ready to run, and
    /// under load that made a batch take tens of milliseconds instead of a few.
    pub(crate) async fn start(
        opts: sea_orm::ConnectOptions,
        gate: Option<std::sync::Arc<Mutex<()>>>,
        shown: std::sync::Arc<ReadCache>,
    ) -> Result<Self, StoreError> {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let (stop, stopped) = watch::channel(false);
        let (finished, done) = watch::channel(false);
        let (ready, started) = oneshot::channel::<Result<(), DbErr>>();
        std::thread::Builder::new()
            .name("halle-order-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ =
                            ready.send(Err(DbErr::Custom(format!("order writer runtime: {e}"))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match sea_orm::Database::connect(opts).await {
                        Ok(db) => {
                            let _ = ready.send(Ok(()));
                            // Ends on `shutdown`, or when the last Store holding the sender is
                            // dropped, once every basket handed over is answered.
                            run(db, gate, rx, stopped, shown).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
                let _ = finished.send(true);
            })
            .map_err(|e| StoreError::Db(DbErr::Custom(format!("order writer thread: {e}"))))?;
        started.await.map_err(|_| {
            StoreError::Db(DbErr::Custom("the order writer did not start".into()))
        })??;
        Ok(Self { jobs, stop, done })
    }

    /// Hands a basket to the writer and waits for its transaction to commit (or not).
    pub(crate) async fn write(
        &self,
        prepared: Prepared,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<(Prepared, Written), StoreError> {
        let (reply, answer) = oneshot::channel();
        // The request's own deadline, when sooner (see `deadline`): a basket the writer has
        // not begun to write by then is turned away, unwritten.
        let request = crate::deadline::current();
        let mut deadline = Instant::now() + MAX_WAIT;
        if let Some(r) = &request {
            deadline = deadline.min(r.at());
            // From here the basket may be written: the request must not be cut any more.
            r.shield(true);
        }
        let job = Job {
            prepared,
            idempotency,
            deadline,
            handed: Instant::now(),
            reply,
        };
        let outcome = self.hand_over(job, answer, deadline).await;
        if let Some(r) = &request {
            // Still shielded once written (a 201 or a replay must be answered); free to be cut
            // again when nothing was.
            let written = matches!(outcome, Ok((_, Written::Placed(_) | Written::DuplicateKey)));
            r.shield(written);
        }
        outcome
    }

    /// Sends `job` and waits for the writer's answer.
    async fn hand_over(
        &self,
        job: Job,
        answer: oneshot::Receiver<(Prepared, Result<Written, StoreError>)>,
        deadline: Instant,
    ) -> Result<(Prepared, Written), StoreError> {
        // A full queue waits too, but no longer than the basket's deadline.
        match tokio::time::timeout_at(deadline.into(), self.jobs.send(job)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(stopped()),
            Err(_) => return Err(busy()),
        }
        // The writer answers every basket it took, by its deadline or with its batch's outcome:
        // waiting here without a timeout of our own is what guarantees that a basket is never
        // written after its client was told it was not.
        let (prepared, result) = answer.await.map_err(|_| stopped())?;
        result.map(|w| (prepared, w))
    }

    /// Whether the writer runs and takes baskets, and how many wait for it (for `/readyz`).
    pub(crate) fn health(&self) -> (bool, usize) {
        let alive = !*self.done.borrow() && !*self.stop.borrow() && !self.jobs.is_closed();
        (alive, self.jobs.max_capacity() - self.jobs.capacity())
    }

    /// Stops taking baskets, and returns once every basket already handed over is answered
    /// (its batch committed or failed). Baskets offered afterwards are turned away (503).
    pub(crate) async fn shutdown(&self) {
        self.stop.send_replace(true);
        let mut done = self.done.clone();
        // An error means the writer thread is gone already: nothing left to wait for.
        let _ = done.wait_for(|finished| *finished).await;
    }
}

/// The answer to a basket the writer can no longer take.
fn stopped() -> StoreError {
    StoreError::unavailable(
        "the server is shutting down: please try again in a moment",
        1,
    )
}

/// The answer to a basket that waited [`MAX_WAIT`] without being written.
fn busy() -> StoreError {
    StoreError::unavailable(
        "the order could not be recorded in time; nothing was ordered: please try again",
        5,
    )
}

async fn run(
    db: DatabaseConnection,
    gate: Option<std::sync::Arc<Mutex<()>>>,
    mut rx: mpsc::Receiver<Job>,
    mut stop: watch::Receiver<bool>,
    shown: std::sync::Arc<ReadCache>,
) {
    let mut stopping = false;
    loop {
        let first = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                job = rx.recv() => job,
                // Asked to stop (or the handle is gone): take no more baskets, but write those
                // already in the queue.
                _ = stop.wait_for(|s| *s) => {
                    stopping = true;
                    rx.close();
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let _held = match &gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        let batch = answer_late(batch);
        if batch.is_empty() {
            continue;
        }
        let began = Instant::now();
        record_batch(&batch, began);
        let outcome = write_batch(&db, &batch).await;
        metrics::histogram!(crate::ops::WRITER_BATCH_SECONDS).record(began.elapsed().as_secs_f64());
        match outcome {
            Ok(results) => reply_all(batch, results, &shown),
            Err(Failure::Unknown(e)) => {
                let cause = e.to_string();
                fail_all(batch, || unknown_outcome(&cause));
            }
            Err(Failure::NotWritten(_)) if batch.len() > 1 => {
                // Nothing of the batch was written: one by one, so that one bad basket (say, an
                // idempotency key taken meanwhile by another node) does not sink the others.
                for job in batch {
                    if Instant::now() >= job.deadline {
                        let _ = job.reply.send((job.prepared, Err(busy())));
                        continue;
                    }
                    let result = match write_batch(&db, std::slice::from_ref(&job)).await {
                        Ok(mut r) => r.pop().unwrap_or_else(|| {
                            Err(StoreError::Db(DbErr::Custom("empty batch".into())))
                        }),
                        Err(Failure::NotWritten(e)) => Err(not_written(e, job.deadline)),
                        Err(Failure::Unknown(e)) => Err(unknown_outcome(&e.to_string())),
                    };
                    stock_moved(&shown, &job, &result);
                    let _ = job.reply.send((job.prepared, result));
                }
            }
            // A batch of one (larger ones are retried above).
            Err(Failure::NotWritten(e)) => {
                let cause = e.to_string();
                let mut e = Some(e);
                for job in batch {
                    let e = e.take().unwrap_or_else(|| DbErr::Custom(cause.clone()));
                    let _ = job
                        .reply
                        .send((job.prepared, Err(not_written(e, job.deadline))));
                }
            }
        }
    }
}

/// Records a batch's size and how long each of its baskets waited for it.
fn record_batch(batch: &[Job], began: Instant) {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a batch holds at most MAX_BATCH"
    )]
    metrics::histogram!(crate::ops::WRITER_BATCH_SIZE).record(batch.len() as f64);
    let waited = metrics::histogram!(crate::ops::WRITER_WAIT);
    for job in batch {
        waited.record(began.saturating_duration_since(job.handed).as_secs_f64());
    }
}

/// Answers the baskets past their deadline ("try again", nothing written) and returns the others.
fn answer_late(batch: Vec<Job>) -> Vec<Job> {
    let now = Instant::now();
    let (late, on_time): (Vec<Job>, Vec<Job>) = batch.into_iter().partition(|j| now >= j.deadline);
    for job in late {
        let _ = job.reply.send((job.prepared, Err(busy())));
    }
    on_time
}

/// The answer to a basket whose batch failed and wrote nothing: "try again" (503) when the
/// database could not be reached or the basket ran out of time, a database error otherwise.
fn not_written(e: DbErr, deadline: Instant) -> StoreError {
    if is_transient(&e) || Instant::now() >= deadline {
        busy()
    } else {
        // Kept whole: the caller recognises a unique violation of an idempotency key.
        StoreError::Db(e)
    }
}

/// A failure of the database's availability, not of the statement: no connection, a lock not
/// granted in time (PostgreSQL `lock_timeout`, SQLite busy), a statement cancelled, a deadlock
/// or serialization failure. The same basket may well succeed later.
fn is_transient(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as SqlxError};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                SqlxError::Database(d) => {
                    let code = d.code().unwrap_or_default();
                    // PostgreSQL: lock_not_available, query_canceled, deadlock_detected,
                    // serialization_failure; SQLite: BUSY and LOCKED (extended codes too).
                    // (PostgreSQL's SQLSTATEs have five characters, SQLite's numbers fewer.)
                    matches!(code.as_ref(), "55P03" | "57014" | "40P01" | "40001")
                        || (code.len() < 5
                            && code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)))
                }
                SqlxError::Io(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed => true,
                _ => false,
            }
        }
        _ => false,
    }
}

fn unknown_outcome(cause: &str) -> StoreError {
    StoreError::Db(DbErr::Custom(format!(
        "the order batch's COMMIT failed and whether it took effect could not be learnt: {cause}"
    )))
}

/// Answers every basket of a batch with the same failure.
fn fail_all(batch: Vec<Job>, error: impl Fn() -> StoreError) {
    for job in batch {
        let _ = job.reply.send((job.prepared, Err(error())));
    }
}

/// A basket written took stock: the cycle's readers see it from the next read on, whether its
/// caller is still there to hear of it or not (told before the caller is answered).
fn stock_moved(shown: &ReadCache, job: &Job, result: &Result<Written, StoreError>) {
    if matches!(result, Ok(Written::Placed(_))) {
        shown.stock_moved(job.prepared.cycle_id);
    }
}

/// One result per job, in order.
fn reply_all(batch: Vec<Job>, results: Vec<Result<Written, StoreError>>, shown: &ReadCache) {
    let mut results = results.into_iter();
    for job in batch {
        let result = results
            .next()
            .unwrap_or_else(|| Err(StoreError::Db(DbErr::Custom("missing batch result".into()))));
        stock_moved(shown, &job, &result);
        // A caller that went away (client disconnected) has nothing to hear.
        let _ = job.reply.send((job.prepared, result));
    }
}

/// Why a batch was not written.
enum Failure {
    /// Nothing of it is in the database: its baskets may be tried again.
    NotWritten(DbErr),
    /// Its COMMIT was sent but whether it took effect could not be learnt: its baskets must
    /// not be written again, nor answered as placed.
    Unknown(DbErr),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Self::NotWritten(e)
    }
}

/// Writes a batch in one transaction; returns one result per job, in order.
async fn write_batch(
    db: &DatabaseConnection,
    jobs: &[Job],
) -> Result<Vec<Result<Written, StoreError>>, Failure> {
    let backend = db.get_database_backend();
    let options = TransactionOptions {
        sqlite_transaction_mode: (backend == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let tx = db.begin_with_options(options).await?;

    // The batch's slots and cycles, locked against a change of state until the commit.
    let now = chrono::Utc::now();
    let slot_ids: BTreeSet<i64> = jobs.iter().map(|j| j.prepared.slot.id).collect();
    let open_slots = open_slots(&tx, backend, &slot_ids, now).await?;

    // Lock every offer of the batch once, in ascending id order, and read what is left with
    // what its baskets were priced on.
    let ids: BTreeSet<i64> = jobs
        .iter()
        .flat_map(|j| j.prepared.lines.iter().map(|l| l.offer_id))
        .collect();
    let stmt = by_ids(
        backend,
        "SELECT o.id, o.stock_left_milli, o.cycle_id, o.price_cents, p.unit, p.vat_basis_points, \
         p.step_milli, p.variable_weight, p.estimated_weight_milli \
         FROM offers o JOIN products p ON p.id = o.product_id",
        "o.id",
        &ids,
        "FOR NO KEY UPDATE OF o",
    );
    let rows = tx.query_all_raw(stmt).await?;
    let mut left: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
    let mut basis: HashMap<i64, OfferBasis> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        left.insert(id, row.try_get("", "stock_left_milli")?);
        basis.insert(
            id,
            OfferBasis {
                cycle_id: row.try_get("", "cycle_id")?,
                price_cents: row.try_get("", "price_cents")?,
                unit: row.try_get("", "unit")?,
                vat_basis_points: row.try_get("", "vat_basis_points")?,
                step_milli: row.try_get("", "step_milli")?,
                variable_weight: row.try_get("", "variable_weight")?,
                estimated_weight_milli: row.try_get("", "estimated_weight_milli")?,
            },
        );
    }
    let stale = |p: &Prepared| {
        open_slots.get(&p.slot.id) != Some(&p.cycle_id)
            || p.lines
                .iter()
                .any(|l| basis.get(&l.offer_id) != Some(&l.basis))
    };

    // Decide, in arrival order, which baskets fit. A key already stored, or already used by
    // an earlier basket of the batch, sends its basket back to be answered with that order.
    let mut results: Vec<Option<Result<Written, StoreError>>> = Vec::with_capacity(jobs.len());
    let mut keys = stored_keys(&tx, backend, jobs).await?;
    let live = live_tokens(&tx, backend, jobs, now).await?;
    let mut taken: BTreeMap<i64, i64> = BTreeMap::new();
    for job in jobs {
        // Placed with a token this node took from memory: it must still be there (not logged
        // out or revoked on any node), for the same account.
        if let Some(t) = &job.prepared.token
            && live.get(t) != Some(&job.prepared.placed_by)
        {
            results.push(Some(Err(StoreError::Unauthenticated(
                "missing, unknown or expired token".into(),
            ))));
            continue;
        }
        if let Some(k) = &job.idempotency
            && !keys.insert((job.prepared.placed_by, k.key.clone()))
        {
            results.push(Some(Ok(Written::DuplicateKey)));
            continue;
        }
        if stale(&job.prepared) {
            results.push(Some(Ok(Written::Stale)));
            continue;
        }
        let short = job
            .prepared
            .lines
            .iter()
            .find(|l| left.get(&l.offer_id).copied().unwrap_or(0) < l.quantity_milli);
        if let Some(l) = short {
            results.push(Some(Err(StoreError::InsufficientStock {
                offer_id: l.offer_id,
                product: l.product_name.clone(),
                requested: domain::Quantity::from_milli(l.quantity_milli),
                available: domain::Quantity::from_milli(Ord::max(
                    left.get(&l.offer_id).copied().unwrap_or(0),
                    0,
                )),
            })));
            continue;
        }
        for l in &job.prepared.lines {
            *left.entry(l.offer_id).or_default() -= l.quantity_milli;
            *taken.entry(l.offer_id).or_default() += l.quantity_milli;
        }
        results.push(None);
    }

    if !taken.is_empty() && backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE offers o SET stock_left_milli = o.stock_left_milli - d.q \
             FROM unnest($1::int8[], $2::int8[]) AS d(id, q) WHERE o.id = d.id",
            [
                sea_orm::Value::from(taken.keys().copied().collect::<Vec<i64>>()),
                sea_orm::Value::from(taken.values().copied().collect::<Vec<i64>>()),
            ],
        ))
        .await?;
    } else if !taken.is_empty() {
        let mut case = Expr::case(Expr::col(offer::Column::Id).eq(0i64), Expr::val(0i64));
        for (&id, &q) in &taken {
            case = case.case(Expr::col(offer::Column::Id).eq(id), Expr::val(q));
        }
        offer::Entity::update_many()
            .col_expr(
                offer::Column::StockLeftMilli,
                Expr::col(offer::Column::StockLeftMilli)
                    .sub(Into::<Expr>::into(case.finally(Expr::val(0i64)))),
            )
            .filter(offer::Column::Id.is_in(taken.keys().copied()))
            .exec(&tx)
            .await?;
    }

    let accepted = results.iter().filter(|r| r.is_none()).count();
    let (ids, xid) = allocate_order_ids(&tx, backend, accepted).await?;
    let mut ids = ids.into_iter();
    let mut placed: Vec<(i64, &Job)> = Vec::with_capacity(accepted);
    for (job, result) in jobs.iter().zip(results.iter_mut()) {
        if result.is_some() {
            continue;
        }
        let id = ids
            .next()
            .ok_or_else(|| DbErr::Custom("too few order ids".into()))?;
        placed.push((id, job));
        *result = Some(Ok(Written::Placed(id)));
    }
    if backend == DbBackend::Postgres {
        insert_pg(&tx, &placed).await?;
    } else {
        insert_rows(&tx, &placed).await?;
    }
    // Each consumer's confirmation commits with its order, in one statement for the batch.
    let placed_ids: Vec<i64> = placed.iter().map(|(id, _)| *id).collect();
    crate::outbox::enqueue_for_orders(&tx, crate::outbox::kind::ORDER_PLACED, &placed_ids).await?;
    if let Err(e) = tx.commit().await {
        // On PostgreSQL a COMMIT whose answer was lost (a connection reset) may well have
        // committed: trying the baskets again would write them twice. Ask on a fresh
        // connection. A batch that wrote nothing (no basket accepted) has no xid and can
        // always be tried again; SQLite's COMMIT either commits or reports that it did not.
        if let Some(xid) = xid {
            match commit_outcome(db, xid).await {
                Outcome::Committed => {
                    tracing::warn!(error = %e, "an order batch committed though its COMMIT failed");
                }
                Outcome::Aborted => return Err(Failure::NotWritten(e)),
                Outcome::Unknown => return Err(Failure::Unknown(e)),
            }
        } else {
            return Err(Failure::NotWritten(e));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Db(DbErr::Custom("undecided basket".into())))))
        .collect())
}

/// The batch's idempotency keys that are already stored, as (account, key).
async fn stored_keys(
    tx: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    jobs: &[Job],
) -> Result<HashSet<(i64, String)>, DbErr> {
    let asked: Vec<(i64, &str)> = jobs
        .iter()
        .filter_map(|j| {
            j.idempotency
                .as_ref()
                .map(|k| (j.prepared.placed_by, k.key.as_str()))
        })
        .collect();
    if asked.is_empty() {
        return Ok(HashSet::new());
    }
    let stmt = if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(
            backend,
            "SELECT k.account_id, k.key FROM idempotency_keys k \
             JOIN unnest($1::int8[], $2::text[]) AS d(account_id, key) \
             ON k.account_id = d.account_id AND k.key = d.key",
            [
                asked.iter().map(|(a, _)| *a).collect::<Vec<i64>>().into(),
                asked
                    .iter()
                    .map(|(_, k)| (*k).to_owned())
                    .collect::<Vec<String>>()
                    .into(),
            ],
        )
    } else {
        // One JSON parameter, not two placeholders a key: SQLite limits a statement's
        // parameters (32766 in the bundled 3.51), and any batch must fit.
        let pairs = serde_json::Value::from(
            asked
                .iter()
                .map(|(a, k)| serde_json::json!([a, k]))
                .collect::<Vec<_>>(),
        );
        Statement::from_sql_and_values(
            backend,
            "SELECT k.account_id, k.key FROM json_each(?) AS d \
             JOIN idempotency_keys k ON k.account_id = d.value ->> 0 AND k.key = d.value ->> 1",
            [sea_orm::Value::from(pairs.to_string())],
        )
    };
    tx.query_all_raw(stmt)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "account_id")?, row.try_get("", "key")?)))
        .collect()
}

/// Of the tokens the batch's baskets were placed with unchecked (see
/// `Store::authenticate_for_order`), those still valid, with their account: one query a batch.
async fn live_tokens(
    tx: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    jobs: &[Job],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let asked: BTreeSet<&str> = jobs
        .iter()
        .filter_map(|j| j.prepared.token.as_deref())
        .collect();
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let select = "SELECT token_hash, account_id, expires_at FROM api_tokens";
    let stmt = if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(
            backend,
            format!("{select} WHERE token_hash = ANY($1::text[])"),
            [asked
                .iter()
                .map(|t| (*t).to_owned())
                .collect::<Vec<String>>()
                .into()],
        )
    } else {
        // One JSON array, as in `by_ids`: any number of tokens fits one statement.
        let list = serde_json::Value::from(asked.iter().copied().collect::<Vec<&str>>());
        Statement::from_sql_and_values(
            backend,
            format!("{select} WHERE token_hash IN (SELECT value FROM json_each(?))"),
            [sea_orm::Value::from(list.to_string())],
        )
    };
    let mut live = HashMap::with_capacity(asked.len());
    for row in tx.query_all_raw(stmt).await? {
        let expires_at: chrono::DateTime<chrono::Utc> = row.try_get("", "expires_at")?;
        if expires_at > now {
            live.insert(
                row.try_get("", "token_hash")?,
                row.try_get("", "account_id")?,
            );
        }
    }
    Ok(live)
}

/// `select` for the rows whose `column` is one of `ids`, in ascending order. PostgreSQL gets one
/// statement text whatever the number of ids (an array, not a list of placeholders), so that it
/// is parsed and planned once per connection, not once per batch size, and so does SQLite (a
/// JSON array); `locking` (a `FOR ...`
/// clause) applies there only, SQLite's single writer being lock enough.
fn by_ids(
    backend: DbBackend,
    select: &str,
    column: &str,
    ids: &BTreeSet<i64>,
    locking: &str,
) -> Statement {
    if backend == DbBackend::Postgres {
        Statement::from_sql_and_values(
            backend,
            format!("{select} WHERE {column} = ANY($1::int8[]) ORDER BY {column} {locking}"),
            [sea_orm::Value::from(
                ids.iter().copied().collect::<Vec<i64>>(),
            )],
        )
    } else {
        // Likewise one JSON array on SQLite, whose statements take a limited number of
        // parameters (32766 in the bundled 3.51): a list of placeholders would cap the batch.
        let list = serde_json::Value::from(ids.iter().copied().collect::<Vec<i64>>());
        Statement::from_sql_and_values(
            backend,
            format!(
                "{select} WHERE {column} IN (SELECT value FROM json_each(?)) ORDER BY {column}"
            ),
            [sea_orm::Value::from(list.to_string())],
        )
    }
}

/// Of `slot_ids`, those still taking baskets (not cancelled, their cycle open), with their
/// cycle. On PostgreSQL the slots and cycles are share-locked until the commit, so that a cycle
/// closed or a slot cancelled meanwhile waits for the baskets already accepted.
async fn open_slots(
    tx: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    slot_ids: &BTreeSet<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HashMap<i64, i64>, DbErr> {
    let select = format!(
        "SELECT s.id AS slot_id, s.cancelled AS slot_cancelled, {} \
         FROM distribution_slots s JOIN order_cycles c ON c.id = s.cycle_id",
        columns::<order_cycle::Entity>("c")
    );
    let stmt = by_ids(backend, &select, "s.id", slot_ids, "FOR SHARE OF s, c");
    let mut open = HashMap::new();
    for row in tx.query_all_raw(stmt).await? {
        let cycle = order_cycle::Model::from_query_result(&row, "c_")?;
        let cancelled: bool = row.try_get("", "slot_cancelled")?;
        if !cancelled && check_accepts_orders(&cycle, now).is_ok() {
            open.insert(row.try_get("", "slot_id")?, cycle.id);
        }
    }
    Ok(open)
}

/// Reserves `n` order ids, so that a batch's orders go in with one multi-row insert and each
/// basket knows its id. PostgreSQL: from the table's own sequence, with the transaction's id
/// (to learn the outcome of a COMMIT whose answer was lost). SQLite: after the largest id,
/// which is safe since the batch holds SQLite's single write lock.
async fn allocate_order_ids(
    tx: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    n: usize,
) -> Result<(Vec<i64>, Option<i64>), DbErr> {
    if n == 0 {
        return Ok((Vec::new(), None));
    }
    let count = i64::try_from(n).map_err(|_| DbErr::Custom("batch too large".into()))?;
    if backend == DbBackend::Postgres {
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id, txid_current() AS xid \
                 FROM generate_series(1, $1::int8)",
                [count.into()],
            ))
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        let xid = match rows.first() {
            Some(r) => Some(r.try_get::<i64>("", "xid")?),
            None => None,
        };
        Ok((ids, xid))
    } else {
        let row = tx
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(id), 0) AS m FROM orders",
            ))
            .await?;
        // Orders are never deleted (cancelling is a status), so no id is ever handed out twice.
        let last: i64 = match row {
            Some(r) => r.try_get("", "m")?,
            None => 0,
        };
        Ok(((last + 1..=last + count).collect(), None))
    }
}

/// What became of a PostgreSQL transaction.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Committed,
    Aborted,
    Unknown,
}

/// Asks PostgreSQL what became of transaction `xid` (`txid_status`, made for a client that
/// lost its connection during COMMIT), waiting while it is still in progress, for at most
/// [`OUTCOME_WAIT`]. The writer's pool drops a broken connection, so this runs on a new one.
async fn commit_outcome(db: &DatabaseConnection, xid: i64) -> Outcome {
    let until = Instant::now() + OUTCOME_WAIT;
    loop {
        let status = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT txid_status($1::int8) AS status",
                [xid.into()],
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get::<Option<String>>("", "status").ok().flatten());
        match status.as_deref() {
            Some("committed") => return Outcome::Committed,
            Some("aborted") => return Outcome::Aborted,
            // Still in progress, or the server cannot be reached yet: ask again, for a while.
            _ if Instant::now() < until => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => return Outcome::Unknown,
        }
    }
}

/// A batch's orders, lines and idempotency keys as multi-row inserts (SQLite).
async fn insert_rows(
    tx: &sea_orm::DatabaseTransaction,
    placed: &[(i64, &Job)],
) -> Result<(), DbErr> {
    if placed.is_empty() {
        return Ok(());
    }
    let orders = placed.iter().map(|(id, job)| {
        let p = &job.prepared;
        order::ActiveModel {
            id: Set(*id),
            cycle_id: Set(p.cycle_id),
            account_id: Set(p.consumer_id),
            slot_id: Set(p.slot.id),
            placed_by: Set(p.placed_by),
            status: Set(crate::orders::PLACED.to_owned()),
            created_at: Set(p.now),
            updated_at: Set(p.now),
            collection: Set("pending".to_owned()),
            checked_at: Set(None),
            checked_by: Set(None),
            updated_by: Set(None),
        }
    });
    for chunk in chunks(orders) {
        order::Entity::insert_many(chunk)
            .exec_without_returning(tx)
            .await?;
    }
    let lines = placed.iter().flat_map(|(id, job)| {
        job.prepared
            .lines
            .iter()
            .map(move |l| order_line::ActiveModel {
                order_id: Set(*id),
                offer_id: Set(l.offer_id),
                quantity_milli: Set(l.quantity_milli),
                unit_price_cents: Set(l.unit_price_cents),
                vat_basis_points: Set(l.vat_basis_points),
                kg_price_cents: Set(l.kg_price_cents),
                unit: Set(l.basis.unit.clone()),
                variable_weight: Set(l.basis.variable_weight),
                estimated_weight_milli: Set(l.basis.estimated_weight_milli),
                ..Default::default()
            })
    });
    for chunk in chunks(lines) {
        order_line::Entity::insert_many(chunk)
            .exec_without_returning(tx)
            .await?;
    }
    let keys: Vec<idempotency_key::ActiveModel> = placed
        .iter()
        .filter_map(|(id, job)| {
            job.idempotency
                .as_ref()
                .map(|k| idempotency_key::ActiveModel {
                    account_id: Set(job.prepared.placed_by),
                    key: Set(k.key.clone()),
                    request_hash: Set(k.request_hash.clone()),
                    order_id: Set(*id),
                    created_at: Set(job.prepared.now),
                })
        })
        .collect();
    for chunk in chunks(keys) {
        idempotency_key::Entity::insert_many(chunk)
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
}

/// Rows per multi-row insert on SQLite: a statement takes at most 32766 parameters (the
/// bundled SQLite 3.51's `SQLITE_MAX_VARIABLE_NUMBER`), which 1,000 rows of up to 32 columns
/// stay under, whatever the batch's size (128 baskets of 100 lines are 12,800 lines).
const ROWS_PER_INSERT: usize = 1000;

/// `rows` in vectors of at most [`ROWS_PER_INSERT`].
fn chunks<T>(rows: impl IntoIterator<Item = T>) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some(last) if last.len() < ROWS_PER_INSERT => last.push(row),
            _ => out.push(vec![row]),
        }
    }
    out
}

/// A batch's orders, lines and idempotency keys in three statements whose text does not depend
/// on the batch's size (`unnest` of arrays).
async fn insert_pg(tx: &sea_orm::DatabaseTransaction, placed: &[(i64, &Job)]) -> Result<(), DbErr> {
    if placed.is_empty() {
        return Ok(());
    }
    let backend = DbBackend::Postgres;
    let orders = |f: fn(i64, &Prepared) -> i64| -> sea_orm::Value {
        placed
            .iter()
            .map(|(id, j)| f(*id, &j.prepared))
            .collect::<Vec<i64>>()
            .into()
    };
    let times: Vec<_> = placed.iter().map(|(_, j)| j.prepared.now).collect();
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO orders (id, cycle_id, account_id, slot_id, placed_by, created_at, updated_at, status, collection) \
         SELECT d.id, d.cycle_id, d.account_id, d.slot_id, d.placed_by, d.at, d.at, 'placed', 'pending' \
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::timestamptz[]) \
         AS d(id, cycle_id, account_id, slot_id, placed_by, at)",
        [
            orders(|id, _| id),
            orders(|_, p| p.cycle_id),
            orders(|_, p| p.consumer_id),
            orders(|_, p| p.slot.id),
            orders(|_, p| p.placed_by),
            times.into(),
        ],
    ))
    .await?;

    let lines: Vec<(i64, &crate::orders::NewLine)> = placed
        .iter()
        .flat_map(|(id, j)| j.prepared.lines.iter().map(move |l| (*id, l)))
        .collect();
    let column = |f: fn(&(i64, &crate::orders::NewLine)) -> i64| -> sea_orm::Value {
        lines.iter().map(f).collect::<Vec<i64>>().into()
    };
    let vat: Vec<i32> = lines.iter().map(|(_, l)| l.vat_basis_points).collect();
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO order_lines (order_id, offer_id, quantity_milli, unit_price_cents, vat_basis_points, kg_price_cents, \
         unit, variable_weight, estimated_weight_milli) \
         SELECT d.order_id, d.offer_id, d.q, d.price, d.vat, NULLIF(d.kg, -1), d.unit, d.vw, NULLIF(d.est, -1) \
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int8[], $7::text[], $8::bool[], $9::int8[]) \
         AS d(order_id, offer_id, q, price, vat, kg, unit, vw, est)",
        [
            column(|(id, _)| *id),
            column(|(_, l)| l.offer_id),
            column(|(_, l)| l.quantity_milli),
            column(|(_, l)| l.unit_price_cents),
            vat.into(),
            // No price per kg is -1 here, NULL in the table.
            column(|(_, l)| l.kg_price_cents.unwrap_or(-1)),
            // What the line is sold on (unit, variable weight, estimated weight; -1 is NULL).
            lines
                .iter()
                .map(|(_, l)| l.basis.unit.clone())
                .collect::<Vec<String>>()
                .into(),
            lines
                .iter()
                .map(|(_, l)| l.basis.variable_weight)
                .collect::<Vec<bool>>()
                .into(),
            column(|(_, l)| l.basis.estimated_weight_milli.unwrap_or(-1)),
        ],
    ))
    .await?;

    let keyed: Vec<(i64, &Job, &IdempotencyKey)> = placed
        .iter()
        .filter_map(|(id, j)| j.idempotency.as_ref().map(|k| (*id, *j, k)))
        .collect();
    if !keyed.is_empty() {
        let accounts: Vec<i64> = keyed.iter().map(|(_, j, _)| j.prepared.placed_by).collect();
        let names: Vec<String> = keyed.iter().map(|(_, _, k)| k.key.clone()).collect();
        let hashes: Vec<String> = keyed
            .iter()
            .map(|(_, _, k)| k.request_hash.clone())
            .collect();
        let ids: Vec<i64> = keyed.iter().map(|(id, _, _)| *id).collect();
        let times: Vec<_> = keyed.iter().map(|(_, j, _)| j.prepared.now).collect();
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO idempotency_keys (account_id, key, request_hash, order_id, created_at) \
             SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[])",
            [accounts.into(), names.into(), hashes.into(), ids.into(), times.into()],
        ))
        .await?;
    }
    Ok(())
}

#[cfg(test)]
#[expect(
    clippy::unwrap_used,
    reason = "a test that cannot set itself up stops there"
)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Iterable, TransactionTrait};

    use super::*;
    use crate::{Store, StoreOptions};

    fn temp_sqlite() -> (String, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "halle_batch_{}_{}.db",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        (format!("sqlite://{}", path.display()), path)
    }

    #[tokio::test]
    async fn a_sqlite_id_list_takes_any_number_of_ids() {
        let (url, path) = temp_sqlite();
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        // Far more than the 32766 parameters a SQLite statement takes.
        let ids: BTreeSet<i64> = (1..=40_000).collect();
        let stmt = by_ids(DbBackend::Sqlite, "SELECT id FROM offers", "id", &ids, "");
        let rows = store.db().query_all_raw(stmt).await.unwrap();
        assert!(rows.is_empty());
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn multi_row_inserts_stay_under_sqlite_parameter_limit() {
        const SQLITE_MAX_VARIABLE_NUMBER: usize = 32766;
        for columns in [
            order::Column::iter().count(),
            order_line::Column::iter().count(),
            idempotency_key::Column::iter().count(),
        ] {
            assert!(ROWS_PER_INSERT * columns <= SQLITE_MAX_VARIABLE_NUMBER);
        }
        let sizes: Vec<usize> = chunks(0..2501).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1000, 1000, 501]);
        assert!(chunks(std::iter::empty::<i64>()).is_empty());
    }

    /// The test PostgreSQL (`HALLE_TEST_PG_URL`, as the end-to-end tests).
    fn pg_url() -> String {
        std::env::var("HALLE_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
    }

    #[tokio::test]
    async fn the_outcome_of_a_postgres_transaction_can_be_learnt_afterwards() {
        let store = Store::connect_with(
            &pg_url(),
            &StoreOptions {
                pg_pool: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let db = store.db();
        let xid = |tx: sea_orm::DatabaseTransaction| async move {
            let row = tx
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT txid_current() AS xid",
                ))
                .await
                .unwrap()
                .unwrap();
            (tx, row.try_get::<i64>("", "xid").unwrap())
        };
        let (tx, committed) = xid(db.begin().await.unwrap()).await;
        tx.commit().await.unwrap();
        let (tx, aborted) = xid(db.begin().await.unwrap()).await;
        tx.rollback().await.unwrap();
        assert_eq!(commit_outcome(db, committed).await, Outcome::Committed);
        assert_eq!(commit_outcome(db, aborted).await, Outcome::Aborted);
    }
}
