//! Request deadlines: a database stuck behind a lock answers 503 within the deadline (JSON for
//! the API, a page for pages), `/readyz` says so once the pool is held up, and the node serves
//! again as soon as the lock goes. Baskets keep the order writer's guarantees: one answered 503
//! is not written, one written is answered 201, even past the deadline.
//!
//! PostgreSQL only: `LOCK TABLE` is how a stuck database is made for real here (SQLite's single
//! writer is covered by `faults::a_basket_stuck_behind_a_lock_is_turned_away_and_never_written`).

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};
use serde_json::json;
use store::{Role, Store, StoreOptions};

use crate::helpers::{Db, PASSWORD, TestApp};

/// The deadline the tests give the server.
const DEADLINE: Duration = Duration::from_secs(2);
/// What a loaded machine may add to it.
const SLACK: Duration = Duration::from_secs(3);

async fn spawn() -> TestApp {
    TestApp::spawn_with(
        Db::Postgres,
        web::WebOptions {
            request_timeout: DEADLINE,
            ..Default::default()
        },
    )
    .await
}

/// Another connection to the test's database (one, as a stuck job or a migration would be).
async fn other(app: &TestApp) -> Store {
    Store::connect_with(
        &app.database_url(),
        &StoreOptions {
            pg_pool: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Takes `table` in ACCESS EXCLUSIVE mode, in a transaction held until it is dropped or
/// rolled back: no one may even read it meanwhile.
async fn lock(store: &Store, table: &str) -> DatabaseTransaction {
    let tx = store.db().begin().await.unwrap();
    tx.execute_unprepared(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .await
        .unwrap();
    tx
}

async fn count_orders(app: &TestApp, cycle_id: i64) -> i64 {
    app.store
        .db()
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM orders WHERE cycle_id = {cycle_id}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_locked_table_is_answered_503_in_time_and_served_again_once_free() {
    let app = spawn().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let me = app.get("/api/v1/me", consumer.t()).await.expect(200);
    let email = me["email"].as_str().unwrap().to_owned();
    let mut browser = app.visit("en");
    browser.log_in(&email, PASSWORD).await;
    browser.get("/orders").await.expect(200);
    app.get("/api/v1/me/orders", consumer.t()).await.expect(200);

    let other = other(&app).await;
    let held = lock(&other, "orders").await;
    // More requests than the pool has connections (8): those that get one wait on the lock,
    // the others on the pool; every one is answered 503 by the deadline.
    let asked: Vec<_> = (0..10)
        .map(|_| {
            let (client, url, token) = (
                app.client.clone(),
                format!("{}/api/v1/me/orders", app.base),
                consumer.token.clone(),
            );
            tokio::spawn(async move {
                let started = Instant::now();
                let resp = client.get(url).bearer_auth(token).send().await.unwrap();
                let status = resp.status().as_u16();
                let retry = resp.headers().get("retry-after").cloned();
                let body: serde_json::Value = resp.json().await.unwrap();
                (status, retry, body, started.elapsed())
            })
        })
        .collect();
    for a in asked {
        let (status, retry, body, took) = a.await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(retry.is_some(), "no Retry-After");
        assert!(took < DEADLINE + SLACK, "answered after {took:?}");
    }
    // A page: the error page, in the visitor's words, with its status.
    let started = Instant::now();
    let page = browser.get("/orders").await;
    assert!(started.elapsed() < DEADLINE + SLACK);
    page.expect(503).contains("The server is very busy");
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The pool is held up behind the lock: the node says it is not ready.
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.body);
    assert_eq!(ready.body["database"], false, "{}", ready.body);

    held.rollback().await.unwrap();
    // The lock gone, the connections come back: answers and readiness as before.
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let orders = app.get("/api/v1/me/orders", consumer.t()).await;
        let ready = app.get("/readyz", None).await;
        if orders.status == 200 && ready.status == 200 {
            break;
        }
        assert!(
            Instant::now() < until,
            "still {} / {} after the lock went",
            orders.status,
            ready.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.get("/orders").await.expect(200);
    drop(other);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_baskets_past_the_deadline_are_answered_by_the_order_writer() {
    let app = spawn().await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let basket =
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    let other = other(&app).await;

    // The offers locked for longer than the writer waits for a lock (5 s): the basket, in the
    // writer's hands, is not cut at the request's deadline; the writer turns it away, and it
    // is not written.
    app.post(&orders, consumer.t(), basket.clone())
        .await
        .expect(201);
    let before = count_orders(&app, w.cycle_id).await;
    let held = lock(&other, "offers").await;
    let started = Instant::now();
    let answer = app.post(&orders, consumer.t(), basket.clone()).await;
    let took = started.elapsed();
    answer.expect_error(503, "unavailable");
    assert!(
        took < Duration::from_secs(10) + SLACK,
        "answered after {took:?}"
    );
    held.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count_orders(&app, w.cycle_id).await,
        before,
        "a 503 basket was written"
    );

    // The lock goes after the deadline but before the writer gives up: the basket is written,
    // and answered 201 though it took longer than the deadline (answering 503 would tell the
    // client a placed basket was not).
    app.post(&orders, consumer.t(), basket.clone())
        .await
        .expect(201);
    let before = count_orders(&app, w.cycle_id).await;
    let held = lock(&other, "offers").await;
    let app = std::sync::Arc::new(app);
    let (a, token, b) = (app.clone(), consumer.token.clone(), basket.clone());
    let path = orders.clone();
    let started = Instant::now();
    let asked = tokio::spawn(async move { a.post(&path, Some(&token), b).await });
    tokio::time::sleep(DEADLINE + Duration::from_millis(1000)).await;
    held.rollback().await.unwrap();
    let answer = asked.await.unwrap();
    let took = started.elapsed();
    let after = count_orders(&app, w.cycle_id).await;
    assert_eq!(
        answer.status.as_u16(),
        201,
        "the basket in the writer's hands was not waited for: {}",
        answer.body
    );
    assert!(
        took > DEADLINE,
        "answered in {took:?}, before the lock went"
    );
    assert_eq!(after, before + 1, "the basket answered 201 is not stored");
    drop(other);
    let app = std::sync::Arc::into_inner(app).expect("no task holds the app");
    app.cleanup().await;
}
