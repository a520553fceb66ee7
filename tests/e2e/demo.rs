//! The demo market loads into either database and looks like a real week.

use chrono::Utc;
use serde_json::json;

use crate::{
    both,
    helpers::{Db, TestApp},
};

const DEMO: &str = include_str!("../../fixtures/demo.json");

both!(the_demo_market_has_a_closed_and_an_open_cycle);

async fn the_demo_market_has_a_closed_and_an_open_cycle(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(&app.store, DEMO, Utc::now())
        .await
        .expect("the demo loads");
    let (producers, products, accounts, orders) = demo.counts;
    assert_eq!(producers, 40);
    assert!(products > 150, "{products} products");
    assert!(accounts > 60);
    assert!(orders > 30);

    let listed = app
        .get(
            &format!("/api/v1/markets/{}/producers", demo.market_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 40);
    let points = app
        .get(
            &format!("/api/v1/markets/{}/pickup-points", demo.market_id),
            None,
        )
        .await
        .expect(200);
    let kinds: Vec<&str> = points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["host_kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"town_hall") && kinds.contains(&"company"),
        "{kinds:?}"
    );

    let open = app
        .get(&format!("/api/v1/cycles/{}", demo.open_cycle_id), None)
        .await
        .expect(200);
    assert_eq!(open["state"], "open");
    assert!(open["offers"].as_array().unwrap().len() > 150);
    let closed = app
        .get(&format!("/api/v1/cycles/{}", demo.closed_cycle_id), None)
        .await
        .expect(200);
    assert_eq!(closed["state"], "closed");

    // A demo consumer logs in with the documented password, sees last week's basket, and
    // cannot change it any more.
    let token = app
        .login("marie.dupuis@example.org", store::fixtures::DEMO_PASSWORD)
        .await;
    let mine = app.get("/api/v1/me/orders", Some(&token)).await.expect(200);
    let last_week = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["cycle_id"] == demo.closed_cycle_id)
        .expect("a basket last week");
    app.delete(&format!("/api/v1/orders/{}", last_week["id"]), Some(&token))
        .await
        .expect_error(409, "cycle_closed");
    // And can order in this week's cycle.
    let offer = open["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["unit"] == "piece" && o["stock_left"] != "0")
        .unwrap();
    app.post(
        &format!("/api/v1/cycles/{}/orders", demo.open_cycle_id),
        Some(&token),
        json!({"slot_id": open["slots"][0]["id"], "lines": [{"offer_id": offer["id"], "quantity": 1}]}),
    )
    .await
    .expect(201);
    app.cleanup().await;
}
