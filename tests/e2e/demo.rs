//! The demo market loads into either database and looks like a real week.

use chrono::Utc;
use serde_json::json;

use crate::{
    both,
    helpers::{Db, TestApp},
};

/// The demo market `halle demo` loads.
pub(crate) const DEMO: &str = include_str!("../../fixtures/demo.json");

both!(
    the_demo_market_has_a_closed_and_an_open_cycle,
    the_demo_weeks_lists_and_sheets_add_up_in_every_format,
);

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

/// On the demo market's closed week: every producer's picking list and every slot's sheet, in
/// every format, twice; the sheets' totals are the baskets' totals as their consumers see them.
async fn the_demo_weeks_lists_and_sheets_add_up_in_every_format(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(&app.store, DEMO, Utc::now())
        .await
        .expect("the demo loads");
    let coordinator = app
        .login(
            "sophie.marchand@example.org",
            store::fixtures::DEMO_PASSWORD,
        )
        .await;
    let token = Some(coordinator.as_str());
    let cycle = demo.closed_cycle_id;
    // The market's two vehicles, for rounds shared among them.
    let vehicles = app
        .get(
            &format!("/api/v1/markets/{}/vehicles", demo.market_id),
            token,
        )
        .await
        .expect(200);
    let names: Vec<&str> = vehicles
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Camion frigo", "Kangoo"]);

    let sheets = app
        .get(&format!("/api/v1/cycles/{cycle}/sheets"), token)
        .await
        .expect(200);
    let mut sheet_total = rust_decimal::Decimal::ZERO;
    let mut baskets = 0;
    for sheet in sheets.as_array().unwrap() {
        let mut sum = rust_decimal::Decimal::ZERO;
        for b in sheet["baskets"].as_array().unwrap() {
            let order = app
                .get(&format!("/api/v1/orders/{}", b["order_id"]), token)
                .await
                .expect(200);
            assert_eq!(
                order["total"], b["total"],
                "basket {} on the sheet and in the API",
                b["order_id"]
            );
            sum += b["total"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap();
            baskets += 1;
        }
        assert_eq!(
            sheet["totals"]["total"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            sum
        );
        sheet_total += sum;
    }
    assert!(baskets > 20, "{baskets} baskets");
    assert!(sheet_total > rust_decimal::Decimal::from(100));

    let lists = app
        .get(&format!("/api/v1/cycles/{cycle}/picking-lists"), token)
        .await
        .expect(200);
    let list_total: rust_decimal::Decimal = lists
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["total_estimated"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        list_total, sheet_total,
        "what producers prepare is what consumers pay (nothing weighed yet)"
    );

    for path in [
        format!("/api/v1/cycles/{cycle}/picking-lists"),
        format!("/api/v1/cycles/{cycle}/labels"),
        format!("/api/v1/cycles/{cycle}/sheets"),
    ] {
        for format in ["html", "csv", "pdf", "json"] {
            let url = format!("{path}?format={format}");
            let (status, _, first) = app.bytes(&url, token).await;
            assert_eq!(status, 200, "{url}");
            assert!(first.len() > 1000, "{url}: {} bytes", first.len());
            let (_, _, second) = app.bytes(&url, token).await;
            assert!(first == second, "{url} is not reproducible");
        }
    }
    app.cleanup().await;
}
