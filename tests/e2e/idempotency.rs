//! An accepted order is never duplicated: a retried request with the same `Idempotency-Key`
//! gets the first answer back.

use reqwest::Method;
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    a_retried_order_is_placed_once,
    concurrent_retries_place_one_order
);

async fn a_retried_order_is_placed_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let url = format!("{}/api/v1/cycles/{}/orders", app.base, w.cycle_id);
    let body = json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 3}]});
    let send = |key: &'static str, body: serde_json::Value| {
        app.client
            .request(Method::POST, &url)
            .bearer_auth(&consumer.token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send("panier-42", body.clone()).await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send("panier-42", body.clone()).await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "17");
    // The same key for another basket is a mistake, said as such.
    let other = send(
        "panier-42",
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 4}]}),
    )
    .await
    .unwrap();
    assert_eq!(other.status().as_u16(), 422);
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["code"], "idempotency_key_reused");
    // A retry that comes once the rest is sold out, or once the cycle has closed, still gets
    // its first answer, not "sold out" or "closed".
    let neighbour = app.user(Role::Consumer, None, None).await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        neighbour.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 17}]}),
    )
    .await
    .expect(201);
    for step in ["sold out", "closed"] {
        if step == "closed" {
            app.close_cycle(&w).await;
        }
        let late = send("panier-42", body.clone()).await.unwrap();
        assert_eq!(late.status().as_u16(), 201, "{step}");
        assert_eq!(late.headers().get("idempotent-replayed").unwrap(), "true");
        let late: serde_json::Value = late.json().await.unwrap();
        assert_eq!(late["id"], first["id"], "{step}");
    }
    assert_eq!(
        app.get("/api/v1/me/orders", consumer.t())
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.cleanup().await;
}

async fn concurrent_retries_place_one_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let url = format!("{}/api/v1/cycles/{}/orders", app.base, w.cycle_id);
    let body =
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[0], "quantity": "2.5"}]});
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let req = app
            .client
            .request(Method::POST, &url)
            .bearer_auth(&consumer.token)
            .header("Idempotency-Key", "double-clic")
            .json(&body);
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap();
            (status, body)
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.insert(body["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1, "every retry answers with the same order");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[0]).await, "47.5");
    app.cleanup().await;
}
