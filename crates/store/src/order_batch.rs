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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{
    StoreError,
    cycles::check_accepts_orders,
    entities::{idempotency_key, offer, order, order_cycle, order_line},
    orders::{IdempotencyKey, OfferBasis, Prepared, columns},
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
    reply: oneshot::Sender<(Prepared, Result<Written, StoreError>)>,
}

/// The handle to the writer task.
pub(crate) struct OrderWriter {
    jobs: mpsc::Sender<Job>,
}

impl OrderWriter {
    /// Starts the writer on a thread of its own, with its own connection: on the server's
    /// runtime, each of a batch's statements would wait behind every request ready to run, and
    /// under load that made a batch take tens of milliseconds instead of a few.
    pub(crate) async fn start(
        opts: sea_orm::ConnectOptions,
        gate: Option<std::sync::Arc<Mutex<()>>>,
    ) -> Result<Self, StoreError> {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
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
                            // Ends when the last Store holding the sender is dropped.
                            run(db, gate, rx).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| StoreError::Db(DbErr::Custom(format!("order writer thread: {e}"))))?;
        started.await.map_err(|_| {
            StoreError::Db(DbErr::Custom("the order writer did not start".into()))
        })??;
        Ok(Self { jobs })
    }

    /// Hands a basket to the writer and waits for its transaction to commit (or not).
    pub(crate) async fn write(
        &self,
        prepared: Prepared,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<(Prepared, Written), StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Db(DbErr::Custom("the order writer stopped".into()));
        self.jobs
            .send(Job {
                prepared,
                idempotency,
                reply,
            })
            .await
            .map_err(|_| gone())?;
        let (prepared, result) = answer.await.map_err(|_| gone())?;
        result.map(|w| (prepared, w))
    }
}

async fn run(
    db: DatabaseConnection,
    gate: Option<std::sync::Arc<Mutex<()>>>,
    mut rx: mpsc::Receiver<Job>,
) {
    while let Some(first) = rx.recv().await {
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
        match write_batch(&db, &batch).await {
            Ok(results) => reply_all(batch, results),
            Err(_) if batch.len() > 1 => {
                for job in batch {
                    let result = match write_batch(&db, std::slice::from_ref(&job)).await {
                        Ok(mut r) => r.pop().unwrap_or_else(|| {
                            Err(StoreError::Db(DbErr::Custom("empty batch".into())))
                        }),
                        Err(e) => Err(StoreError::Db(e)),
                    };
                    let _ = job.reply.send((job.prepared, result));
                }
            }
            Err(e) => reply_all(batch, vec![Err(StoreError::Db(e))]),
        }
    }
}

fn reply_all(batch: Vec<Job>, mut results: Vec<Result<Written, StoreError>>) {
    // One result per job; a single error stands for the whole batch.
    let shared_error = (results.len() == 1 && batch.len() > 1).then(|| results.pop());
    let mut results = results.into_iter();
    for job in batch {
        let result = match &shared_error {
            Some(Some(Err(e))) => Err(StoreError::Db(DbErr::Custom(e.to_string()))),
            _ => results.next().unwrap_or_else(|| {
                Err(StoreError::Db(DbErr::Custom("missing batch result".into())))
            }),
        };
        // A caller that went away (client disconnected) has nothing to hear.
        let _ = job.reply.send((job.prepared, result));
    }
}

/// Writes a batch in one transaction; returns one result per job, in order.
async fn write_batch(
    db: &DatabaseConnection,
    jobs: &[Job],
) -> Result<Vec<Result<Written, StoreError>>, DbErr> {
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
    let mut taken: BTreeMap<i64, i64> = BTreeMap::new();
    for job in jobs {
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
    let mut ids = allocate_order_ids(&tx, backend, accepted)
        .await?
        .into_iter();
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
    tx.commit().await?;
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
        let any = vec!["(account_id = ? AND key = ?)"; asked.len()].join(" OR ");
        Statement::from_sql_and_values(
            backend,
            format!("SELECT account_id, key FROM idempotency_keys WHERE {any}"),
            asked
                .iter()
                .flat_map(|(a, k)| [sea_orm::Value::from(*a), sea_orm::Value::from(*k)]),
        )
    };
    tx.query_all_raw(stmt)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "account_id")?, row.try_get("", "key")?)))
        .collect()
}

/// `select` for the rows whose `column` is one of `ids`, in ascending order. PostgreSQL gets one
/// statement text whatever the number of ids (an array, not a list of placeholders), so that it
/// is parsed and planned once per connection, not once per batch size; `locking` (a `FOR ...`
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
        let marks = vec!["?"; ids.len()].join(", ");
        Statement::from_sql_and_values(
            backend,
            format!("{select} WHERE {column} IN ({marks}) ORDER BY {column}"),
            ids.iter().map(|&id| id.into()),
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
/// basket knows its id. PostgreSQL: from the table's own sequence. SQLite: after the largest id,
/// which is safe since the batch holds SQLite's single write lock.
async fn allocate_order_ids(
    tx: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    n: usize,
) -> Result<Vec<i64>, DbErr> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| DbErr::Custom("batch too large".into()))?;
    if backend == DbBackend::Postgres {
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id FROM generate_series(1, $1::int8)",
                [count.into()],
            ))
            .await?;
        rows.iter().map(|r| r.try_get::<i64>("", "id")).collect()
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
        Ok((last + 1..=last + count).collect())
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
    order::Entity::insert_many(orders)
        .exec_without_returning(tx)
        .await?;
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
                ..Default::default()
            })
    });
    order_line::Entity::insert_many(lines)
        .exec_without_returning(tx)
        .await?;
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
    if !keys.is_empty() {
        idempotency_key::Entity::insert_many(keys)
            .exec_without_returning(tx)
            .await?;
    }
    Ok(())
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
        "INSERT INTO order_lines (order_id, offer_id, quantity_milli, unit_price_cents, vat_basis_points, kg_price_cents) \
         SELECT d.order_id, d.offer_id, d.q, d.price, d.vat, NULLIF(d.kg, -1) \
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int8[]) \
         AS d(order_id, offer_id, q, price, vat, kg)",
        [
            column(|(id, _)| *id),
            column(|(_, l)| l.offer_id),
            column(|(_, l)| l.quantity_milli),
            column(|(_, l)| l.unit_price_cents),
            vat.into(),
            // No price per kg is -1 here, NULL in the table.
            column(|(_, l)| l.kg_price_cents.unwrap_or(-1)),
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
