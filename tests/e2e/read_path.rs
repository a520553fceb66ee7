//! The read every visitor makes, `GET /api/v1/cycles/{id}`, is answered from memory (see
//! `store::read_cache` and `web::api::cycle_json`): what changes through this server shows on
//! the very next read, what changes elsewhere shows within a second or two, drafts stay hidden,
//! and the gzip and 304 answers say the same as the plain one.

use std::{
    io::Read,
    time::{Duration, Instant},
};

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, World, iso},
};

both!(
    local_changes_show_on_the_next_read,
    another_nodes_changes_show_within_seconds,
    gzip_and_etag_say_the_same_as_the_plain_answer,
    drafts_stay_hidden_from_who_may_not_see_them,
    an_open_cycle_shows_closed_once_its_time_is_past,
    large_answers_are_gzipped_when_the_client_accepts_it,
    reads_among_orders_end_on_the_last_stock
);

/// The offer `offer_id` of a cycle's JSON.
fn offer(cycle: &Value, offer_id: i64) -> &Value {
    cycle["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["id"] == offer_id)
        .expect("the offer")
}

fn cycle_path(w: &World) -> String {
    format!("/api/v1/cycles/{}", w.cycle_id)
}

/// Reads `path` on `app` until `shown` holds, for a few seconds at most: a node rechecks what
/// it keeps every second, so the change shows after one or two reads in practice. The bound is
/// loose on purpose (a loaded machine must not fail the test); how long it took is printed.
async fn poll(app: &TestApp, path: &str, shown: impl Fn(&Value) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let body = app.get(path, None).await.expect(200);
        if shown(&body) {
            let took = start.elapsed();
            eprintln!("shown after {took:?}");
            return took;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the change never showed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn local_changes_show_on_the_next_read(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let path = cycle_path(&w);
    let eggs = w.offers[1];
    let first = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&first, eggs)["stock_left"], "20");

    // An order placed: the very next read shows the stock it took.
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            consumer.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 2}]}),
        )
        .await
        .expect(201);
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&after, eggs)["stock_left"], "18");

    // Changed, then cancelled: each shows at once.
    app.put(
        &format!("/api/v1/orders/{}", order["id"]),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 5}]}),
    )
    .await
    .expect(200);
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&after, eggs)["stock_left"], "15");
    app.delete(&format!("/api/v1/orders/{}", order["id"]), consumer.t())
        .await
        .expect(204);
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&after, eggs)["stock_left"], "20");

    // The producer changes a price: shown on the next read.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "stock": "50"},
            {"product_id": w.products[1], "price": "4.60", "stock": "20"},
            {"product_id": w.products[2], "stock": "6"}
        ]}),
    )
    .await
    .expect(200);
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&after, eggs)["price"], "4.60");

    // The coordinator closes the cycle: shown on the next read.
    app.close_cycle(&w).await;
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(after["state"], "closed");
    app.cleanup().await;
}

async fn another_nodes_changes_show_within_seconds(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.other_node().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let path = cycle_path(&w);
    let eggs = w.offers[1];
    // The other node keeps the cycle in memory.
    let before = other.get(&path, None).await.expect(200);
    assert_eq!(offer(&before, eggs)["stock_left"], "20");

    // An order on the first node shows on the other.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 3}]}),
    )
    .await
    .expect(201);
    poll(&other, &path, |c| offer(c, eggs)["stock_left"] == "17").await;

    // A price changed behind both nodes' backs (by hand in the database) shows on both.
    app.store
        .db()
        .execute_unprepared(&format!(
            "UPDATE offers SET price_cents = 475 WHERE id = {eggs}"
        ))
        .await
        .unwrap();
    poll(&app, &path, |c| offer(c, eggs)["price"] == "4.75").await;
    poll(&other, &path, |c| offer(c, eggs)["price"] == "4.75").await;
    other.cleanup().await;
    app.cleanup().await;
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

async fn gzip_and_etag_say_the_same_as_the_plain_answer(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let url = format!("{}{}", app.base, cycle_path(&w));

    let plain = app.client.get(&url).send().await.unwrap();
    assert_eq!(plain.status().as_u16(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    assert_eq!(plain.headers().get_all("vary").iter().count(), 1);
    assert_eq!(
        plain.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let plain = plain.bytes().await.unwrap();
    let json: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(json["id"], w.cycle_id);

    let gz = app
        .client
        .get(&url)
        .header("accept-encoding", "br;q=1.0, gzip;q=0.8, *;q=0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status().as_u16(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["vary"], "accept-encoding");
    let gz_etag = gz.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_etag, etag, "another representation, another tag");
    let gz = gz.bytes().await.unwrap();
    assert!(
        gz.len() < plain.len() / 3,
        "{} vs {}",
        gz.len(),
        plain.len()
    );
    assert_eq!(gunzip(&gz), plain.to_vec());

    // gzip refused (q=0): plain.
    let refused = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    assert_eq!(refused.bytes().await.unwrap(), plain);

    // The same ETag again: 304, no body; for each representation.
    for (tag, encoding) in [(&etag, "identity"), (&gz_etag, "gzip")] {
        let again = app
            .client
            .get(&url)
            .header("if-none-match", tag.as_str())
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{tag} {encoding}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }

    // After an order the content changed: a 200 with another tag.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect(201);
    let changed = app
        .client
        .get(&url)
        .header("if-none-match", etag.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(offer(&changed, w.offers[1])["stock_left"], "19");
    app.cleanup().await;
}

async fn drafts_stay_hidden_from_who_may_not_see_them(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let now = Utc::now();
    let draft = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Semaine prochaine", "opens_at": iso(now + chrono::Duration::days(6)),
                   "closes_at": iso(now + chrono::Duration::days(9)), "slots": []}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/cycles/{}", draft["id"]);
    // Read (and so kept in memory) by who may see it first...
    app.get(&path, w.coordinator.t()).await.expect(200);
    app.get(&path, w.producer.t()).await.expect(200);
    // ...still not found for the others, gzip or not, whatever they send.
    app.get(&path, None).await.expect_error(404, "not_found");
    app.get(&path, consumer.t())
        .await
        .expect_error(404, "not_found");
    let gz = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept-encoding", "gzip")
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status().as_u16(), 404);
    app.get(&path, Some("not-a-token"))
        .await
        .expect_error(401, "unauthenticated");
    // Opened: everyone sees it, at once.
    app.post(&format!("{path}/open"), w.coordinator.t(), json!({}))
        .await
        .expect(200);
    let open = app.get(&path, None).await.expect(200);
    assert_eq!(open["state"], "open");
    app.cleanup().await;
}

async fn an_open_cycle_shows_closed_once_its_time_is_past(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let now = Utc::now();
    let closes_at = now + chrono::Duration::seconds(4);
    let cycle = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Vente flash", "opens_at": iso(now - chrono::Duration::hours(1)),
                   "closes_at": iso(closes_at), "slots": []}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/cycles/{}", cycle["id"]);
    app.post(&format!("{path}/open"), w.coordinator.t(), json!({}))
        .await
        .expect(200);
    let open = app.get(&path, None).await.expect(200);
    assert_eq!(open["state"], "open");
    // Wait for the clock, not for the cache: the first read past closes_at says closed.
    while Utc::now() <= closes_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = app.get(&path, None).await.expect(200);
    assert_eq!(closed["state"], "closed");
    app.cleanup().await;
}

async fn large_answers_are_gzipped_when_the_client_accepts_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let url = format!("{}/api/openapi.json", app.base);
    let plain = app.client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let gz = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status().as_u16(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["vary"], "accept-encoding");
    let gz = gz.bytes().await.unwrap();
    assert!(gz.len() < plain.len() / 2);
    assert_eq!(gunzip(&gz), plain.to_vec());
    // A small answer goes as it is.
    let small = app
        .client
        .get(format!("{}/api/v1/markets", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status().as_u16(), 200);
    assert!(small.headers().get("content-encoding").is_none());
    app.cleanup().await;
}

/// Readers and buyers at once: every read answers, and once the last basket is answered the
/// next read shows exactly what is left.
async fn reads_among_orders_end_on_the_last_stock(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let path = cycle_path(&w);
    let (carrots, slot) = (w.offers[0], w.slots[0]);
    let mut consumers = Vec::new();
    for _ in 0..10 {
        consumers.push(app.user(Role::Consumer, None, None).await);
    }
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let buying = consumers.iter().map(|c| {
        let (app, orders) = (&app, &orders);
        async move {
            for _ in 0..3 {
                app.post(
                    orders,
                    c.t(),
                    json!({"slot_id": slot, "lines": [{"offer_id": carrots, "quantity": "0.5"}]}),
                )
                .await
                .expect(201);
            }
        }
    });
    let reading = (0..20).map(|_| {
        let (app, path) = (&app, &path);
        async move {
            for _ in 0..5 {
                let c = app.get(path, None).await.expect(200);
                let left: f64 = offer(&c, carrots)["stock_left"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((35.0..=50.0).contains(&left), "{left}");
            }
        }
    });
    futures_util::future::join(
        futures_util::future::join_all(buying),
        futures_util::future::join_all(reading),
    )
    .await;
    // 10 consumers x 3 baskets x 0.5 kg of 50 kg.
    let after = app.get(&path, None).await.expect(200);
    assert_eq!(offer(&after, carrots)["stock_left"], "35");
    app.cleanup().await;
}
