//! Connecting to SQLite or PostgreSQL, running the migrations, and the transaction helpers that
//! make write use cases safe on both.

use std::{sync::Arc, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use tokio::sync::{Mutex, MutexGuard};

use crate::{
    StoreError,
    gate::{Gate, cores},
};

/// Logins and sign-ups waiting for a hashing permit, at most; each waits at most
/// [`HASHING_WAIT`]. A hash takes some 20-50 ms a core: a short queue is enough for honest
/// bursts, and a flood is refused at once instead of holding memory and connections.
const HASHING_MAX_WAITING: usize = 32;
const HASHING_WAIT: Duration = Duration::from_millis(500);
/// Documents and round plans waiting for a permit, at most, each at most [`CPU_WAIT`]: a
/// coordinator asking for a PDF can wait a few seconds; more than that many at once is a
/// flood.
const CPU_MAX_WAITING: usize = 16;
const CPU_WAIT: Duration = Duration::from_secs(10);

/// The PostgreSQL advisory lock held while migrating is (this, a hash of the schema migrated):
/// nodes migrating the same schema wait for each other, other schemas of the same database
/// (the test suite's, say) do not. Any constant shared by every Halle node: "hall".
const MIGRATION_LOCK: i32 = 0x6861_6c6c;

/// Opens a SQLite file once, alone, before the pools: two processes opening a new file at the
/// same moment (nodes starting together, `halle migrate` beside `halle serve`) collide on
/// switching it to WAL, and SQLite answers "database is locked" at once, without waiting on its
/// busy timeout. The first open is retried for a few seconds; once the file is in WAL mode,
/// later opens need no such switch.
async fn open_sqlite_file(opts: &ConnectOptions) -> Result<(), StoreError> {
    let mut first = opts.clone();
    first.max_connections(1).min_connections(0);
    let mut tries = 0;
    loop {
        match Database::connect(first.clone()).await {
            Ok(db) => return Ok(db.close().await?),
            // SQLITE_BUSY's own message, whichever layer wraps it.
            Err(e) if tries < 100 && e.to_string().contains("database is locked") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Which database engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default, one file on disk.
    Sqlite,
    /// Production and the test suite.
    Postgres,
}

/// The handle every use case goes through: a connection pool plus what it takes to write safely.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// SQLite allows one writer at a time. Queueing writers here, in the process, is fair and
    /// cheap; leaving it to SQLite's busy handler means polling and sleeping under load.
    write_gate: Option<Arc<Mutex<()>>>,
    /// Recently seen bearer tokens, so that a busy client does not cost two queries a request.
    pub(crate) tokens: Arc<crate::auth::TokenCache>,
    pub(crate) sessions: Arc<crate::sessions::SessionCache>,
    /// The group-commit writer of new orders (see `order_batch`).
    pub(crate) writer: Arc<crate::order_batch::OrderWriter>,
    /// What each cycle sells, for the order path (see `sale_cache`).
    pub(crate) sales: Arc<crate::sale_cache::SaleCache>,
    /// What each cycle shows, for its readers (see `read_cache`).
    pub(crate) shown: Arc<crate::read_cache::ReadCache>,
    /// The directory searches read (see `directory::index`).
    pub(crate) directory: Arc<crate::directory::index::DirectoryIndex>,
    /// Password hashing and checking (argon2id, 19 MiB each): one per core at once.
    pub(crate) hashing: Arc<Gate>,
    /// Route planning and document rendering: one less than the cores at once (at least one),
    /// so that a core is always left for taking baskets.
    pub(crate) cpu: Arc<Gate>,
}

/// A write transaction, holding the SQLite write gate (if any) until it is dropped.
pub(crate) struct WriteTx<'a> {
    pub(crate) tx: DatabaseTransaction,
    _gate: Option<MutexGuard<'a, ()>>,
    /// Told of the commit: the directory in memory checks its version before the next search.
    directory: &'a crate::directory::index::DirectoryIndex,
}

impl WriteTx<'_> {
    /// Commits and lets the write gate go at once (`self.tx.commit()` alone keeps the gate
    /// until the end of the caller's scope, where a later write of the same task would wait
    /// for it forever).
    ///
    /// The request is shielded from its deadline while the COMMIT is in flight, and stays so
    /// once it took effect (see `deadline`): cut then, it could be answered 503 for a change
    /// that is in the database.
    pub(crate) async fn commit(self) -> Result<(), sea_orm::DbErr> {
        let directory = self.directory;
        let done = crate::deadline::committing(self.tx.commit()).await;
        directory.written();
        done
    }
}

/// How to connect, beyond the URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// PostgreSQL's `search_path` (the test suite gives each test a schema of its own).
    pub pg_schema: Option<String>,
    /// PostgreSQL connections for reads and ordinary writes, all kept open; the order writer
    /// has one more of its own.
    pub pg_pool: u32,
    /// The longest a request waits for a connection of the pool before it is answered 503
    /// "try again" ([`StoreError::Unavailable`]): when the database is stuck, requests fail
    /// fast instead of queueing behind connections that do not come back.
    pub acquire_timeout: Duration,
}

impl StoreOptions {
    /// The default PostgreSQL pool. 16 connections kept open, measured on the rush benchmark
    /// with every client's first basket arriving at once (2 cores): 32 opened on demand made
    /// those first baskets wait 230-300 ms, mostly for PostgreSQL to start backends; 16 on
    /// demand 170-200 ms; 16 kept open 135-160 ms. A busy pool gains nothing from more
    /// connections than the cores can serve.
    pub const DEFAULT_PG_POOL: u32 = 16;
    /// The default [`StoreOptions::acquire_timeout`]: well within a request's deadline (10 s
    /// by default, `web::WebOptions`), far above the few milliseconds a healthy pool takes.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pg_schema: None,
            pg_pool: Self::DEFAULT_PG_POOL,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path.db` or `postgres://...`); a SQLite file is created if
    /// missing, in WAL mode with foreign keys enforced.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// Like [`Store::connect`], with options.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if options.pg_pool == 0 {
            return Err(StoreError::invalid(
                "invalid_pool",
                "the PostgreSQL pool needs at least one connection",
            ));
        }
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::invalid(
                "unsupported_database",
                format!("unsupported database URL {url:?}: use sqlite://FILE or postgres://..."),
            ));
        };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(options.acquire_timeout);
        match backend {
            Backend::Sqlite => {
                opts.max_connections(4).map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        // FULL: an order the API acknowledged survives a power cut too.
                        .synchronous(SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                });
            }
            Backend::Postgres => {
                // Kept open: see StoreOptions::DEFAULT_PG_POOL.
                opts.max_connections(options.pg_pool)
                    .min_connections(options.pg_pool)
                    .idle_timeout(None);
                if let Some(schema) = &options.pg_schema {
                    opts.set_schema_search_path(schema.clone());
                }
            }
        }
        // The order writer gets a connection of its own: queued behind the readers of a busy
        // pool, every batch would wait for them.
        let mut writer_opts = opts.clone();
        // A basket waits at most order_batch::MAX_WAIT in all: a batch must not queue 30 s for
        // a connection that is not coming.
        writer_opts
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Postgres {
            // Nor wait without end for a row lock: a batch stuck behind a transaction that does
            // not finish fails, and its baskets are answered "try again" (503).
            writer_opts.map_sqlx_postgres_opts(|o| o.options([("lock_timeout", "5s")]));
        }
        if backend == Backend::Sqlite {
            open_sqlite_file(&opts).await?;
        }
        let db = Database::connect(opts).await?;
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let shown: Arc<crate::read_cache::ReadCache> = Arc::default();
        let writer = Arc::new(
            crate::order_batch::OrderWriter::start(writer_opts, write_gate.clone(), shown.clone())
                .await?,
        );
        Ok(Self {
            db,
            backend,
            write_gate,
            tokens: Arc::default(),
            sessions: Arc::default(),
            writer,
            sales: Arc::default(),
            shown,
            directory: Arc::default(),
            hashing: Arc::new(Gate::new(
                "password checks",
                cores(),
                HASHING_MAX_WAITING,
                HASHING_WAIT,
                1,
            )),
            cpu: Arc::new(Gate::new(
                "documents and round plans",
                cores().saturating_sub(1),
                CPU_MAX_WAITING,
                CPU_WAIT,
                2,
            )),
        })
    }

    /// Applies every pending migration (the same [`Migrator`] as `halle migrate`), in one
    /// transaction holding a database-wide lock, so that nodes starting together do not race:
    /// the first migrates, the others wait for it and then find nothing left to do. On
    /// PostgreSQL the lock is a transaction-scoped advisory lock (released on commit, rollback
    /// or a lost connection, never left behind), and DDL being transactional, a failed
    /// migration leaves the schema as it was. On SQLite, `BEGIN IMMEDIATE` takes the database's
    /// write lock first (other processes wait on the busy timeout); the write gate queues this
    /// process's own writers.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let w = self.write().await?;
        if self.backend == Backend::Postgres {
            w.tx.execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))",
                [MIGRATION_LOCK.into()],
            ))
            .await?;
        }
        // Each migration's own transaction becomes a savepoint of this one.
        Migrator::up(&w.tx, None).await?;
        w.commit().await?;
        Ok(())
    }

    /// Runs CPU-heavy work (rendering a document, planning a round) on a blocking thread,
    /// a few at once; [`StoreError::Busy`] when too many wait already.
    pub async fn run_cpu<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        self.cpu.run(job).await
    }

    /// The migrations this database lacks, by name, without changing anything (a database
    /// never migrated lacks them all). For commands that must not migrate, like `halle report`.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        Ok(Migrator::get_pending_migrations_read_only(&self.db)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    }

    /// Stops taking new baskets (they are answered 503 "try again") and returns once the order
    /// writer has finished its batch in progress and answered every basket handed to it. Call
    /// it after the server stopped accepting requests and before the process exits.
    pub async fn shutdown(&self) {
        self.writer.shutdown().await;
    }

    /// The connection pool, for read-only queries.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` behind the write gate on SQLite (so a
    /// transaction never fails half-way on a lock upgrade), a plain `BEGIN` on PostgreSQL, where
    /// row locks taken by guarded `UPDATE`s do the serialising.
    pub(crate) async fn write(&self) -> Result<WriteTx<'_>, StoreError> {
        let gate = match &self.write_gate {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let tx = self.db.begin_with_options(options).await?;
        Ok(WriteTx {
            tx,
            _gate: gate,
            directory: &self.directory,
        })
    }
}
