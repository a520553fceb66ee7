//! A whole cycle as its users live it: create, open, offer, order, modify, cancel, close, frozen.

use chrono::{Duration, Utc};
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, iso},
};

both!(
    a_whole_cycle_from_draft_to_frozen,
    a_variable_weight_piece_is_priced_at_its_estimated_weight,
    a_producer_copies_last_cycles_offer_in_one_call,
    a_producer_cannot_lower_stock_below_what_is_ordered,
    a_mediator_orders_on_a_consumers_behalf,
);

async fn a_whole_cycle_from_draft_to_frozen(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let now = Utc::now();

    // A draft cycle takes no orders.
    let draft = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Semaine suivante", "opens_at": iso(now - Duration::hours(1)), "closes_at": iso(now + Duration::days(2)),
                   "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + Duration::days(3)), "ends_at": iso(now + Duration::days(3) + Duration::hours(2))}]}),
        )
        .await
        .expect(201);
    assert_eq!(draft["state"], "draft");
    let draft_id = draft["id"].as_i64().unwrap();
    let draft_slot = draft["slots"][0]["id"].as_i64().unwrap();
    // A draft does not exist for consumers; its staff are told it is not open yet.
    app.post(
        &format!("/api/v1/cycles/{draft_id}/orders"),
        consumer.t(),
        json!({"slot_id": draft_slot, "lines": [{"offer_id": w.offers[0], "quantity": "1"}]}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/cycles/{draft_id}/orders"),
        w.coordinator.t(),
        json!({"slot_id": draft_slot, "lines": [{"offer_id": w.offers[0], "quantity": "1"}]}),
    )
    .await
    .expect_error(409, "cycle_not_open");

    // The open cycle shows its slots and offers, with price, unit, producer and stock left.
    let cycle = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    assert_eq!(cycle["state"], "open");
    assert_eq!(cycle["slots"].as_array().unwrap().len(), 2);
    let carrots = cycle["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == w.offers[0])
        .unwrap();
    assert_eq!(carrots["price"], "2.80");
    assert_eq!(carrots["unit"], "kg");
    assert_eq!(carrots["producer_name"], "Les Jardins du Thouet");
    assert_eq!(carrots["stock_left"], "50");

    // Order: 1.5 kg of carrots and 2 dozen eggs.
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            consumer.t(),
            json!({"slot_id": w.slots[0], "lines": [
                {"offer_id": w.offers[0], "quantity": "1.5"},
                {"offer_id": w.offers[1], "quantity": 2}
            ]}),
        )
        .await;
    assert!(order.headers.get("location").is_some());
    let order = order.expect(201);
    let id = order["id"].as_i64().unwrap();
    assert_eq!(order["status"], "placed");
    // 1.5 × 2.80 = 4.20; 2 × 4.20 = 8.40; total 12.60, all at 5.5 %.
    assert_eq!(order["total"], "12.60");
    assert_eq!(order["vat"][0]["rate"], "5.5");
    assert_eq!(order["vat"][0]["gross"], "12.60");
    assert_eq!(order["vat"][0]["net"], "11.94");
    assert_eq!(order["vat"][0]["vat"], "0.66");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[0]).await, "48.5");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "18");

    // Modify: more carrots, no eggs, a chicken, and the other pickup point.
    let modified = app
        .put(
            &format!("/api/v1/orders/{id}"),
            consumer.t(),
            json!({"slot_id": w.slots[1], "lines": [
                {"offer_id": w.offers[0], "quantity": "3"},
                {"offer_id": w.offers[2], "quantity": "1"}
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(modified["slot"]["id"], w.slots[1]);
    assert_eq!(modified["lines"].as_array().unwrap().len(), 2);
    // 3 × 2.80 = 8.40; chicken 1.8 kg × 12.50 = 22.50.
    assert_eq!(modified["total"], "30.90");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[0]).await, "47");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "20");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[2]).await, "5");
    let mine = app.get("/api/v1/me/orders", consumer.t()).await.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);

    // Cancel gives everything back.
    app.delete(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(204);
    assert_eq!(app.stock_left(w.cycle_id, w.offers[0]).await, "50");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[2]).await, "6");
    let cancelled = app
        .get(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    app.delete(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect_error(409, "order_cancelled");

    // A second basket, then the coordinator closes the cycle early.
    let kept = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            consumer.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201);
    let kept_id = kept["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/cycles/{}/close", w.cycle_id),
        consumer.t(),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    let closed = app
        .post(
            &format!("/api/v1/cycles/{}/close", w.cycle_id),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(closed["state"], "closed");

    // Frozen: no new order, no change, no cancellation; the basket reads the same.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(409, "cycle_closed");
    app.put(
        &format!("/api/v1/orders/{kept_id}"),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 5}]}),
    )
    .await
    .expect_error(409, "cycle_closed");
    app.delete(&format!("/api/v1/orders/{kept_id}"), consumer.t())
        .await
        .expect_error(409, "cycle_closed");
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": []}),
    )
    .await
    .expect_error(409, "cycle_closed");
    let after = app
        .get(&format!("/api/v1/orders/{kept_id}"), consumer.t())
        .await
        .expect(200);
    assert_eq!(after["lines"], kept["lines"]);
    assert_eq!(after["total"], "4.20");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "19");

    // Closed, then distributed; never back.
    let done = app
        .post(
            &format!("/api/v1/cycles/{}/distribute", w.cycle_id),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(done["state"], "distributed");
    app.post(
        &format!("/api/v1/cycles/{}/open", w.cycle_id),
        w.coordinator.t(),
        json!({}),
    )
    .await
    .expect_error(409, "invalid_transition");
    app.cleanup().await;
}

async fn a_variable_weight_piece_is_priced_at_its_estimated_weight(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let cycle = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    let chicken = cycle["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == w.offers[2])
        .unwrap();
    assert_eq!(chicken["variable_weight"], true);
    assert_eq!(chicken["estimated_weight_kg"], "1.8");
    assert_eq!(chicken["price"], "12.50");
    assert_eq!(chicken["unit_price"], "22.50");
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            consumer.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": 2}]}),
        )
        .await
        .expect(201);
    assert_eq!(order["lines"][0]["unit_price"], "22.50");
    assert_eq!(order["lines"][0]["estimated_weight_kg"], "1.8");
    assert_eq!(order["total"], "45.00");
    // Half a chicken is not a thing.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": "0.5"}]}),
    )
    .await
    .expect_error(422, "invalid_quantity");
    app.cleanup().await;
}

async fn a_producer_copies_last_cycles_offer_in_one_call(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let now = Utc::now();
    let next = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Semaine d'après", "opens_at": iso(now + Duration::days(3)), "closes_at": iso(now + Duration::days(10)),
                   "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + Duration::days(11)), "ends_at": iso(now + Duration::days(11) + Duration::hours(2))}]}),
        )
        .await
        .expect(201);
    let next_id = next["id"].as_i64().unwrap();
    let copied = app
        .post(
            &format!(
                "/api/v1/cycles/{next_id}/producers/{}/offers/copy-previous",
                w.producer_id
            ),
            w.producer.t(),
            json!({}),
        )
        .await
        .expect(200);
    let copied = copied.as_array().unwrap();
    assert_eq!(copied.len(), 3);
    let eggs = copied
        .iter()
        .find(|o| o["product_id"] == w.products[1])
        .unwrap();
    assert_eq!(eggs["stock_total"], "20");
    assert_eq!(eggs["stock_left"], "20");
    assert_eq!(eggs["price"], "4.20");

    // Then one call sets the week: a new price for eggs, chicken withdrawn.
    let set = app
        .put(
            &format!(
                "/api/v1/cycles/{next_id}/producers/{}/offers",
                w.producer_id
            ),
            w.producer.t(),
            json!({"offers": [
                {"product_id": w.products[0], "stock": "30"},
                {"product_id": w.products[1], "stock": "12", "price": "4.50"}
            ]}),
        )
        .await
        .expect(200);
    let set = set.as_array().unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.iter().any(|o| o["product_id"] == w.products[1]
        && o["price"] == "4.50"
        && o["stock_left"] == "12"));
    app.cleanup().await;
}

async fn a_producer_cannot_lower_stock_below_what_is_ordered(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 8}]}),
    )
    .await
    .expect(201);
    let path = format!(
        "/api/v1/cycles/{}/producers/{}/offers",
        w.cycle_id, w.producer_id
    );
    let body = |stock: &str| {
        json!({"offers": [
            {"product_id": w.products[0], "stock": "50"},
            {"product_id": w.products[1], "stock": stock},
            {"product_id": w.products[2], "stock": "6"}
        ]})
    };
    app.put(&path, w.producer.t(), body("5"))
        .await
        .expect_error(409, "stock_below_ordered");
    // Lowering to exactly what is ordered sells out; raising puts more on sale.
    app.put(&path, w.producer.t(), body("8")).await.expect(200);
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "0");
    app.put(&path, w.producer.t(), body("15")).await.expect(200);
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "7");
    app.cleanup().await;
}

async fn a_mediator_orders_on_a_consumers_behalf(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let other = app.user(Role::Consumer, None, None).await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            w.coordinator.t(),
            json!({"slot_id": w.slots[0], "on_behalf_of": consumer.id, "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(order["account_id"], consumer.id);
    let id = order["id"].as_i64().unwrap();
    // The consumer sees it as theirs; a consumer cannot order for someone else.
    app.get(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        other.t(),
        json!({"slot_id": w.slots[0], "on_behalf_of": consumer.id, "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(403, "forbidden");
    app.cleanup().await;
}
