//! Stock never goes below zero, whatever the concurrency: 50 consumers race for 10 units.

use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(fifty_consumers_race_for_ten_units);

async fn fifty_consumers_race_for_ten_units(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    // Ten dozen eggs, no more.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [{"product_id": w.products[1], "stock": "10"}]}),
    )
    .await
    .expect(200);
    let mut consumers = Vec::new();
    for _ in 0..50 {
        consumers.push(app.user(Role::Consumer, None, None).await);
    }
    let app = std::sync::Arc::new(app);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(consumers.len()));
    let mut tasks = Vec::new();
    for c in consumers {
        let app = app.clone();
        let barrier = barrier.clone();
        let (cycle, slot, offer) = (w.cycle_id, w.slots[0], w.offers[1]);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            app.post(
                &format!("/api/v1/cycles/{cycle}/orders"),
                c.t(),
                json!({"slot_id": slot, "lines": [{"offer_id": offer, "quantity": 1}]}),
            )
            .await
        }));
    }
    let (mut won, mut lost) = (0, 0);
    for t in tasks {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            201 => won += 1,
            409 => {
                assert_eq!(a.body["code"], "insufficient_stock", "{}", a.body);
                assert_eq!(a.body["available"], "0", "{}", a.body);
                lost += 1;
            }
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!((won, lost), (10, 40));
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "0");
    let app = std::sync::Arc::into_inner(app).expect("no task holds the app any more");
    app.cleanup().await;
}
