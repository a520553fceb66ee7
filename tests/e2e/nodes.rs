//! Halle as processes: `halle serve` killed with `kill -9` in the middle of a rush and started
//! again, and two `halle serve` processes on one PostgreSQL schema sharing a rush, tokens,
//! sessions and prices. (SIGTERM in a rush is in `faults.rs`.)

use std::{
    collections::BTreeSet,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    faults::{Node, serve, wait_exit},
    helpers::{Db, PASSWORD, TestApp},
};

both!(kill_9_in_a_rush_loses_no_acknowledged_basket);

/// What the clients of a rush heard.
#[derive(Default)]
struct Heard {
    /// Orders answered 201.
    created: BTreeSet<i64>,
    /// Every other answer: status and `code`.
    others: Vec<(u16, String)>,
    /// Requests sent but never answered (the connection failed, or the answer was cut): each
    /// may or may not have been written.
    unanswered: usize,
}

/// `clients` (a node's base URL and a bearer token each) send `basket` to the cycle's orders
/// one after the other, as fast as they are answered, each until its node stops answering, or,
/// with `until_sold_out`, until it is told the stock is gone; a minute at most. `placed` counts
/// the baskets answered 201 as they come.
async fn rush(
    clients: Vec<(String, String)>,
    cycle_id: i64,
    basket: Value,
    until_sold_out: bool,
    placed: Arc<AtomicUsize>,
) -> Heard {
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(60);
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(base, token)| {
            let (http, basket, placed) = (http.clone(), basket.clone(), placed.clone());
            let path = format!("{base}/api/v1/cycles/{cycle_id}/orders");
            tokio::spawn(async move {
                let mut heard = Heard::default();
                while Instant::now() < until {
                    let Ok(resp) = http
                        .post(&path)
                        .bearer_auth(&token)
                        .json(&basket)
                        .send()
                        .await
                    else {
                        heard.unanswered += 1;
                        break;
                    };
                    let status = resp.status().as_u16();
                    let Ok(body) = resp.json::<Value>().await else {
                        heard.unanswered += 1;
                        break;
                    };
                    if status == 201 {
                        heard
                            .created
                            .insert(body["id"].as_i64().expect("an order id"));
                        placed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let code = body["code"].as_str().unwrap_or_default().to_owned();
                    let sold_out = status == 409 && code == "insufficient_stock";
                    heard.others.push((status, code));
                    if until_sold_out && sold_out {
                        break;
                    }
                }
                heard
            })
        })
        .collect();
    let mut all = Heard::default();
    for t in tasks {
        let h = t.await.expect("a client of the rush");
        all.created.extend(h.created);
        all.others.extend(h.others);
        all.unanswered += h.unanswered;
    }
    all
}

/// The ids of the cycle's orders in the database.
async fn stored_orders(app: &TestApp, cycle_id: i64) -> BTreeSet<i64> {
    let backend = app.store.db().get_database_backend();
    app.store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id FROM orders WHERE cycle_id = {cycle_id}"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect()
}

/// For every offer of the cycle, `stock_left + sold = stock_total` and nothing is below zero;
/// returns what is left of each offer (thousandths) by offer id.
async fn stock_balances(app: &TestApp, cycle_id: i64) -> std::collections::BTreeMap<i64, i64> {
    let backend = app.store.db().get_database_backend();
    let rows = app
        .store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT o.id, o.stock_left_milli AS left_milli, o.stock_total_milli AS total, \
                 CAST((SELECT COALESCE(SUM(l.quantity_milli), 0) FROM order_lines l \
                  JOIN orders r ON r.id = l.order_id \
                  WHERE l.offer_id = o.id AND r.status = 'placed') AS BIGINT) AS sold \
                 FROM offers o WHERE o.cycle_id = {cycle_id}"
            ),
        ))
        .await
        .unwrap();
    let mut left_by_offer = std::collections::BTreeMap::new();
    for r in rows {
        let id: i64 = r.try_get("", "id").unwrap();
        let (left, total, sold): (i64, i64, i64) = (
            r.try_get("", "left_milli").unwrap(),
            r.try_get("", "total").unwrap(),
            r.try_get("", "sold").unwrap(),
        );
        assert!(left >= 0, "offer {id}: {left} left");
        assert_eq!(left + sold, total, "offer {id}: left + sold = total");
        left_by_offer.insert(id, left);
    }
    left_by_offer
}

/// Stops a node as systemd would, and checks it exits 0.
async fn stop(mut child: Node) {
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let status = wait_exit(&mut child, Duration::from_secs(15)).await;
    assert!(status.success(), "halle did not exit cleanly: {status:?}");
}

async fn kill_9_in_a_rush_loses_no_acknowledged_basket(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    // Plenty of stock: the rush is stopped by the kill, not by the stock.
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
    let mut tokens = Vec::new();
    for _ in 0..24 {
        tokens.push(app.user(Role::Consumer, None, None).await.token);
    }
    let url = app.database_url();
    let (mut child, base) = serve(&url).await;
    let basket = json!({"slot_id": w.slots[0], "lines": [
        {"offer_id": w.offers[0], "quantity": "0.5"},
        {"offer_id": w.offers[1], "quantity": 1}
    ]});
    let clients = tokens.iter().map(|t| (base.clone(), t.clone())).collect();
    let placed = Arc::new(AtomicUsize::new(0));
    let rushing = tokio::spawn(rush(
        clients,
        w.cycle_id,
        basket.clone(),
        false,
        placed.clone(),
    ));
    // In the thick of it: a hundred baskets placed (a minute at most, on a loaded machine).
    let until = Instant::now() + Duration::from_secs(60);
    while placed.load(Ordering::Relaxed) < 100 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL: no handler runs, nothing is drained.
    child.kill().unwrap();
    child.wait().unwrap();
    let heard = rushing.await.unwrap();
    assert!(
        !heard.created.is_empty(),
        "no basket placed before the kill"
    );
    assert!(
        heard.others.iter().all(|(s, _)| *s == 503),
        "unexpected answers: {:?}",
        heard.others
    );

    // Started again on the same database.
    let (child, base) = serve(&url).await;
    let stored = stored_orders(&app, w.cycle_id).await;
    let lost: Vec<_> = heard.created.difference(&stored).collect();
    assert!(lost.is_empty(), "answered 201 but not stored: {lost:?}");
    // Only a basket whose answer never came may be there without a 201 (at most one per client).
    let extra = stored.difference(&heard.created).count();
    assert!(
        extra <= heard.unanswered,
        "{extra} orders stored that nobody was told of, {} requests unanswered",
        heard.unanswered
    );
    stock_balances(&app, w.cycle_id).await;
    // And the node serves again.
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/cycles/{}/orders", w.cycle_id))
        .bearer_auth(&tokens[0])
        .json(&basket)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    stop(child).await;
    stock_balances(&app, w.cycle_id).await;
    eprintln!(
        "kill -9 ({db:?}): {} baskets answered 201, all stored; {} unanswered, {extra} of them stored",
        heard.created.len(),
        heard.unanswered
    );
    app.cleanup().await;
}

/// A page visitor (cookies kept, redirects not followed) on a node's `base`.
fn visitor(app: &TestApp, base: &str, cookie: &str) -> crate::pages_support::Visit {
    let mut v = app.visit_with_cookie("fr", cookie);
    v.base = base.to_owned();
    v
}

/// The `halle_session=...` pair of a login's answer.
fn session_cookie(page: &crate::pages_support::Page) -> String {
    page.cookies()
        .into_iter()
        .filter(|c| c.starts_with("halle_session="))
        .find_map(|c| c.split(';').next().map(str::to_owned))
        .expect("a session cookie")
}

/// A bearer token made on the node at `base`.
async fn token_on(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let resp = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// The status of `GET /api/v1/me` with `token` on the node at `base`.
async fn me(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Two `halle serve` processes on one PostgreSQL schema, behind nothing but their two ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_share_one_database() {
    let app = TestApp::spawn(Db::Postgres).await;
    let w = app.world().await;
    let url = app.database_url();
    let ((a, node_a), (b, node_b)) = tokio::join!(serve(&url), serve(&url));
    let http = reqwest::Client::new();
    let orders = |base: &str| format!("{base}/api/v1/cycles/{}/orders", w.cycle_id);
    let eggs = json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});

    // A price changed on A is what B charges the very next basket.
    let consumer = app.user(Role::Consumer, None, None).await;
    let mut early = BTreeSet::new();
    let place = |base: String, token: String| {
        let (http, eggs, path) = (http.clone(), eggs.clone(), orders(&base));
        async move {
            let resp = http
                .post(path)
                .bearer_auth(token)
                .json(&eggs)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            resp.json::<Value>().await.unwrap()
        }
    };
    let first = place(node_b.clone(), consumer.token.clone()).await;
    assert_eq!(first["lines"][0]["unit_price"], "4.20");
    early.insert(first["id"].as_i64().unwrap());
    let resp = http
        .put(format!(
            "{node_a}/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ))
        .bearer_auth(&w.producer.token)
        .json(&json!({"offers": [
            {"product_id": w.products[0], "stock": "50"},
            {"product_id": w.products[1], "price": "4.00", "stock": "300"},
            {"product_id": w.products[2], "stock": "6"}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let second = place(node_b.clone(), consumer.token.clone()).await;
    assert_eq!(second["lines"][0]["unit_price"], "4.00", "{second}");
    early.insert(second["id"].as_i64().unwrap());

    // A rush split across both nodes sells the 298 dozens left, no more, and loses nothing.
    let mut clients = Vec::new();
    for i in 0..24 {
        let base = if i % 2 == 0 { &node_a } else { &node_b };
        let user = app.user(Role::Consumer, None, None).await;
        clients.push((base.clone(), user.token));
    }
    let heard = rush(
        clients,
        w.cycle_id,
        eggs.clone(),
        true,
        Arc::new(AtomicUsize::new(0)),
    )
    .await;
    assert_eq!(heard.unanswered, 0);
    assert!(
        heard
            .others
            .iter()
            .all(|(s, c)| (*s == 409 && c == "insufficient_stock") || *s == 503),
        "unexpected answers: {:?}",
        heard.others
    );
    assert_eq!(heard.created.len(), 298, "every dozen sold, once");
    let mut created = heard.created.clone();
    created.extend(early);
    assert_eq!(stored_orders(&app, w.cycle_id).await, created);
    let left = stock_balances(&app, w.cycle_id).await;
    assert_eq!(left[&w.offers[1]], 0);

    // A token made on A works on B; logged out on A, B refuses it at once.
    let user = app.user(Role::Consumer, None, None).await;
    let email = app.store.actor(user.id).await.unwrap().email;
    let token = token_on(&http, &node_a, &email, PASSWORD).await;
    assert_eq!(me(&http, &node_b, &token).await, 200);
    let resp = http
        .delete(format!("{node_a}/api/v1/auth/token"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(me(&http, &node_b, &token).await, 401);

    // A session opened on A works on B; logged out on A, B refuses it at once, even for a page
    // that only shows (B read it a moment ago).
    let mut on_a = visitor(&app, &node_a, "");
    let cookie = session_cookie(&on_a.log_in(&email, PASSWORD).await);
    let mut on_b = visitor(&app, &node_b, &cookie);
    on_b.get("/account").await.expect(200);
    // (The page gives the session's CSRF token to the logout form.)
    on_a.get("/account").await.expect(200);
    on_a.post("/logout", &[]).await.expect(303);
    let page = on_b.get("/account").await;
    page.expect(303);
    assert!(page.location().starts_with("/login"), "{}", page.location());

    // A password changed on A ends B's tokens and sessions at once.
    let on_b_token = token_on(&http, &node_b, &email, PASSWORD).await;
    let mut on_b = visitor(&app, &node_b, "");
    on_b.log_in(&email, PASSWORD).await;
    on_b.get("/account").await.expect(200);
    assert_eq!(me(&http, &node_b, &on_b_token).await, 200);
    let on_a_token = token_on(&http, &node_a, &email, PASSWORD).await;
    let resp = http
        .put(format!("{node_a}/api/v1/me/password"))
        .bearer_auth(&on_a_token)
        .json(&json!({"old_password": PASSWORD, "new_password": "a much longer one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(me(&http, &node_b, &on_b_token).await, 401);
    on_b.get("/account").await.expect(303);
    token_on(&http, &node_b, &email, "a much longer one").await;

    tokio::join!(stop(a), stop(b));
    app.cleanup().await;
}
