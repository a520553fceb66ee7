//! Faults around the order writer and the process: SIGTERM in the middle of a rush, nodes
//! migrating one database at once, `halle report` on a database that is not migrated, and a
//! change of basket racing a close of its cycle.
//!
//! The process tests run the real `halle` binary, built once per run with the cargo that runs
//! the tests (`CARGO_BIN_EXE_*` only covers a package's own binaries).

use std::{
    collections::BTreeSet,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use store::{Role, Store, StoreOptions};

use crate::{
    both,
    helpers::{Db, TestApp, pg_url, schema_url, unique_name},
};

/// The `halle` command: crates/halle's source, built as this package's `halle-under-test`
/// binary (see tests/Cargo.toml).
pub(crate) async fn halle_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_halle-under-test"))
}

/// A connection for creating and dropping schemas: one is enough.
async fn admin() -> Store {
    Store::connect_with(
        &pg_url(),
        &StoreOptions {
            pg_pool: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

both!(
    sigterm_in_a_rush_drains_every_basket,
    nodes_migrating_together_both_succeed,
    report_never_migrates,
    a_basket_stuck_behind_a_lock_is_turned_away_and_never_written
);

/// A `halle` process a test started: killed and waited for when dropped, so that a test that
/// fails (panics) half-way leaves no server behind holding its port and database connections.
/// It derefs to the [`Child`] for what the test does to it (signals, `wait`).
pub(crate) struct Node(Child);

impl Node {
    /// Takes charge of `child`.
    pub(crate) fn new(child: Child) -> Self {
        Self(child)
    }
}

impl std::ops::Deref for Node {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Already gone (stopped by the test): nothing to do. Otherwise SIGKILL, then reap it.
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `halle serve` on `url`, port 0, and returns it with its base URL.
pub(crate) async fn serve(url: &str) -> (Node, String) {
    let mut child = Node::new(
        Command::new(halle_bin().await)
            .args(["serve", "--bind", "127.0.0.1:0", "--db-pool", "4"])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start halle serve"),
    );
    let stdout = child.stdout.take().expect("its standard output");
    let base = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.expect("read its output");
                if let Some(base) = line.strip_prefix("Halle listening on ") {
                    return base.to_owned();
                }
            }
            panic!("halle serve ended without listening");
        }),
    )
    .await
    .expect("halle serve listens within a minute")
    .expect("read its output");
    (child, base)
}

/// Waits for `child` to exit, for at most `limit`.
pub(crate) async fn wait_exit(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("halle did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sigterm_in_a_rush_drains_every_basket(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    // Plenty of eggs and carrots: the rush is stopped by SIGTERM, not by the stock.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "stock": "100000"},
            {"product_id": w.products[1], "stock": "100000"}
        ]}),
    )
    .await
    .expect(200);
    let mut consumers = Vec::new();
    for _ in 0..24 {
        consumers.push(app.user(Role::Consumer, None, None).await);
    }
    let (mut child, base) = serve(&app.database_url()).await;
    let pid = child.id();
    let client = reqwest::Client::new();
    let path = format!("{base}/api/v1/cycles/{}/orders", w.cycle_id);
    let basket = json!({"slot_id": w.slots[0], "lines": [
        {"offer_id": w.offers[0], "quantity": "0.5"},
        {"offer_id": w.offers[1], "quantity": 1}
    ]});
    let answered_201 = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let mut tasks = Vec::new();
    for c in consumers {
        let (client, path, basket, created) = (
            client.clone(),
            path.clone(),
            basket.clone(),
            answered_201.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut others = Vec::new();
            // Until the server stops answering.
            while let Ok(resp) = client
                .post(&path)
                .bearer_auth(&c.token)
                .json(&basket)
                .send()
                .await
            {
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                if status == 201 {
                    created
                        .lock()
                        .unwrap()
                        .push(body["id"].as_i64().expect("an id"));
                } else {
                    others.push(status);
                }
            }
            others
        }));
    }
    // Let the rush build up (a minute at most on a loaded machine), then stop the server as
    // systemd or a container runtime would.
    let until = Instant::now() + Duration::from_secs(60);
    while answered_201.lock().unwrap().len() < 50 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = answered_201.lock().unwrap().len();
    assert!(before > 0, "no basket placed before SIGTERM");
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let stopped_at = Instant::now();
    let status = wait_exit(&mut child, Duration::from_secs(15)).await;
    assert!(
        status.success(),
        "halle did not exit cleanly on SIGTERM: {status:?}"
    );
    assert!(stopped_at.elapsed() < Duration::from_secs(12));
    let mut other_statuses = BTreeSet::new();
    for t in tasks {
        other_statuses.extend(t.await.unwrap());
    }
    // Nothing but a turned-away basket (503) may be answered otherwise than 201 here.
    assert!(
        other_statuses.iter().all(|s| *s == 503),
        "unexpected answers: {other_statuses:?}"
    );

    // Every basket answered 201 is there, and nothing else.
    let created: BTreeSet<i64> = answered_201.lock().unwrap().iter().copied().collect();
    let backend = app.store.db().get_database_backend();
    let stored: BTreeSet<i64> = app
        .store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id FROM orders WHERE cycle_id = {}", w.cycle_id),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect();
    assert_eq!(stored, created, "orders stored vs orders answered 201");
    // And the stock adds up: left + sold = total, offer by offer.
    let rows = app
        .store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT o.id, o.stock_left_milli AS left_milli, o.stock_total_milli AS total, \
                 CAST((SELECT COALESCE(SUM(l.quantity_milli), 0) FROM order_lines l \
                  WHERE l.offer_id = o.id) AS BIGINT) AS sold \
                 FROM offers o WHERE o.cycle_id = {}",
                w.cycle_id
            ),
        ))
        .await
        .unwrap();
    for r in rows {
        let (left, total, sold): (i64, i64, i64) = (
            r.try_get("", "left_milli").unwrap(),
            r.try_get("", "total").unwrap(),
            r.try_get::<i64>("", "sold").unwrap(),
        );
        assert_eq!(
            left + sold,
            total,
            "offer {}",
            r.try_get::<i64>("", "id").unwrap()
        );
    }
    app.cleanup().await;
}

/// A fresh database nobody migrated yet: a SQLite file, or a PostgreSQL schema.
async fn fresh_database(db: Db) -> (String, String) {
    match db {
        Db::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name("halle_fresh")));
            (
                format!("sqlite://{}", path.display()),
                path.display().to_string(),
            )
        }
        Db::Postgres => {
            let schema = unique_name("halle_f");
            let admin = admin().await;
            admin
                .db()
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .unwrap();
            (schema_url(&schema), schema)
        }
    }
}

async fn drop_database(db: Db, name: &str) {
    match db {
        Db::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{name}{suffix}"));
            }
        }
        Db::Postgres => {
            let _ = admin()
                .await
                .db()
                .execute_unprepared(&format!("DROP SCHEMA \"{name}\" CASCADE"))
                .await;
        }
    }
}

async fn nodes_migrating_together_both_succeed(db: Db) {
    for _ in 0..4 {
        let (url, name) = fresh_database(db).await;
        let options = StoreOptions {
            pg_pool: 2,
            ..Default::default()
        };
        let (a, b) = tokio::join!(
            Store::connect_with(&url, &options),
            Store::connect_with(&url, &options)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.expect("the first node migrates");
        rb.expect("the second node migrates");
        assert_eq!(a.pending_migrations().await.unwrap(), Vec::<String>::new());
        // Each migration recorded once, and the schema usable.
        let backend = a.db().get_database_backend();
        let rows = a
            .db()
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT version, COUNT(*) AS n FROM seaql_migrations GROUP BY version",
            ))
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for r in rows {
            assert_eq!(r.try_get::<i64>("", "n").unwrap(), 1);
        }
        a.db()
            .execute_unprepared("SELECT COUNT(*) FROM order_lines")
            .await
            .unwrap();
        drop(a);
        drop(b);
        drop_database(db, &name).await;
    }
}

async fn report_never_migrates(db: Db) {
    let (url, name) = fresh_database(db).await;
    let bin = halle_bin().await;
    let report_url = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["report", "picking-lists", "--cycle", "1", "--output", "-"])
            .env("DATABASE_URL", report_url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run halle report")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "report succeeded on an empty database"
    );
    assert!(
        stderr.contains("not up to date") && stderr.contains("halle migrate"),
        "unclear error: {stderr}"
    );
    // Nothing was created: not even the migrations' own table.
    let store = Store::connect_with(
        &url,
        &StoreOptions {
            pg_pool: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let backend = store.db().get_database_backend();
    let tables = match backend {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '{name}'"
        ),
        _ => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'".to_owned(),
    };
    let n: i64 = store
        .db()
        .query_one_raw(Statement::from_string(backend, tables))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(n, 0, "report created tables");
    drop(store);
    drop_database(db, &name).await;
}

/// PostgreSQL only: SQLite has one writer at a time, so a close and a change cannot interleave.
/// A transaction holding the cycle row (as closing it does) makes a change of basket wait, and
/// the change then sees the cycle closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_modify_and_cancel_wait_for_a_close_of_their_cycle() {
    let app = TestApp::spawn(Db::Postgres).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let basket =
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let o = app
            .post(
                &format!("/api/v1/cycles/{}/orders", w.cycle_id),
                consumer.t(),
                basket.clone(),
            )
            .await
            .expect(201);
        ids.push(o["id"].as_i64().unwrap());
    }
    use sea_orm::TransactionTrait;
    // A coordinator's close, caught between its UPDATE and its COMMIT.
    let close = app.store.db().begin().await.unwrap();
    close
        .execute_unprepared(&format!(
            "UPDATE order_cycles SET state = 'closed' WHERE id = {}",
            w.cycle_id
        ))
        .await
        .unwrap();
    let app = Arc::new(app);
    let (a1, a2) = (app.clone(), app.clone());
    let token = consumer.token.clone();
    let (id0, id1) = (ids[0], ids[1]);
    let modify = tokio::spawn(async move {
        a1.put(
            &format!("/api/v1/orders/{id0}"),
            Some(&token),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 2}]}),
        )
        .await
    });
    let token = consumer.token.clone();
    let cancel = tokio::spawn(async move {
        a2.delete(&format!("/api/v1/orders/{id1}"), Some(&token))
            .await
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !modify.is_finished(),
        "the change did not wait for the cycle's close"
    );
    assert!(
        !cancel.is_finished(),
        "the cancel did not wait for the cycle's close"
    );
    close.commit().await.unwrap();
    modify.await.unwrap().expect_error(409, "cycle_closed");
    cancel.await.unwrap().expect_error(409, "cycle_closed");
    let app = Arc::into_inner(app).expect("no task holds the app");
    app.cleanup().await;
}

/// Another process holds what the order writer needs (SQLite's write lock, or on PostgreSQL the
/// offer's row) for longer than a basket may wait: the basket is answered 503 with Retry-After,
/// not 500 and not an endless wait, and it is not written once the lock goes.
async fn a_basket_stuck_behind_a_lock_is_turned_away_and_never_written(db: Db) {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let other = Store::connect_with(
        &app.database_url(),
        &StoreOptions {
            pg_pool: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let holder = other
        .db()
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: (db == Db::Sqlite).then_some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
        .unwrap();
    if db == Db::Postgres {
        holder
            .execute_unprepared(&format!(
                "SELECT id FROM offers WHERE id = {} FOR UPDATE",
                w.offers[1]
            ))
            .await
            .unwrap();
    }
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let basket =
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    let started = Instant::now();
    let asked = app.post(&orders, consumer.t(), basket.clone());
    let answer = tokio::time::timeout(Duration::from_secs(30), asked)
        .await
        .expect("an answer while the lock is still held");
    let waited = started.elapsed();
    let retry_after = answer.headers.get("retry-after").cloned();
    answer.expect_error(503, "unavailable");
    assert!(retry_after.is_some(), "no Retry-After");
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    holder.rollback().await.unwrap();
    // The lock gone, nothing of that basket shows up; a new try goes through.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get("/api/v1/me/orders", consumer.t()).await.expect(200),
        json!([])
    );
    app.post(&orders, consumer.t(), basket).await.expect(201);
    drop(other);
    app.cleanup().await;
}
