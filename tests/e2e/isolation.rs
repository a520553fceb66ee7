//! Tenants are isolated: a consumer sees only its orders, a producer manages only its products
//! and offers, a coordinator only its market.

use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    a_consumer_cannot_see_or_touch_anothers_order,
    a_producer_manages_only_its_own_catalogue_and_offers,
    a_coordinator_manages_only_its_own_market,
);

async fn a_consumer_cannot_see_or_touch_anothers_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let alice = app.user(Role::Consumer, None, None).await;
    let bob = app.user(Role::Consumer, None, None).await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            alice.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 2}]}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/orders/{}", order["id"]);
    app.get(&path, bob.t()).await.expect_error(404, "not_found");
    app.put(
        &path,
        bob.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 20}]}),
    )
    .await
    .expect_error(404, "not_found");
    app.delete(&path, bob.t())
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        app.get("/api/v1/me/orders", bob.t()).await.expect(200),
        json!([])
    );
    // The producer is no coordinator either.
    app.get(&path, w.producer.t())
        .await
        .expect_error(404, "not_found");
    // The market's coordinator and volunteers can see it; another market's cannot.
    app.get(&path, w.coordinator.t()).await.expect(200);
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    app.get(&path, volunteer.t()).await.expect(200);
    let elsewhere = app.world().await;
    app.get(&path, elsewhere.coordinator.t())
        .await
        .expect_error(404, "not_found");
    // Alice's order is intact.
    let still = app.get(&path, alice.t()).await.expect(200);
    assert_eq!(still["lines"][0]["quantity"], "2");
    assert_eq!(still["status"], "placed");
    app.cleanup().await;
}

async fn a_producer_manages_only_its_own_catalogue_and_offers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let rival = app.world().await; // another market, another producer
    let product = format!("/api/v1/products/{}", w.products[0]);
    let body =
        json!({"name": "Carottes (volées)", "unit": "kg", "price": "0.10", "vat_rate": "5.5"});
    // The product is public (it is on sale): the rival is told no, not "not found".
    app.put(&product, rival.producer.t(), body.clone())
        .await
        .expect_error(403, "forbidden");
    app.delete(&product, rival.producer.t())
        .await
        .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/producers/{}/products", w.producer_id),
        rival.producer.t(),
        body,
    )
    .await
    .expect_error(403, "forbidden");
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        rival.producer.t(),
        json!({"offers": []}),
    )
    .await
    .expect_error(403, "forbidden");
    // Nor can it slip another producer's product into its own offer.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            rival.cycle_id, rival.producer_id
        ),
        rival.producer.t(),
        json!({"offers": [{"product_id": w.products[0], "stock": "1"}]}),
    )
    .await
    .expect_error(422, "unknown_product");
    // Its own product, fine; an offered product is archived rather than deleted.
    let mine = app
        .put(
            &product,
            w.producer.t(),
            json!({"name": "Carottes nouvelles", "unit": "kg", "price": "3.10", "vat_rate": "5.5", "step": "0.5"}),
        )
        .await
        .expect(200);
    assert_eq!(mine["price"], "3.10");
    let archived = app.delete(&product, w.producer.t()).await.expect(200);
    assert_eq!(archived["active"], false);
    // Archived, it is nobody else's business: "not found".
    app.put(
        &product,
        rival.producer.t(),
        json!({"name": "X", "unit": "kg", "price": "0.10", "vat_rate": "5.5"}),
    )
    .await
    .expect_error(404, "not_found");
    app.get(&product, None).await.expect_error(404, "not_found");
    let listed = app
        .get("/api/v1/me/products", w.producer.t())
        .await
        .expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    app.cleanup().await;
}

async fn a_coordinator_manages_only_its_own_market(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let cycle = json!({"name": "Intrus", "opens_at": "2030-01-01T00:00:00Z", "closes_at": "2030-01-05T00:00:00Z"});
    let path = format!("/api/v1/markets/{}/cycles", w.market_id);
    app.post(&path, other.coordinator.t(), cycle.clone())
        .await
        .expect_error(403, "forbidden");
    app.post(&path, consumer.t(), cycle.clone())
        .await
        .expect_error(403, "forbidden");
    app.post(&path, w.producer.t(), cycle)
        .await
        .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/cycles/{}/close", w.cycle_id),
        other.coordinator.t(),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/markets/{}/pickup-points", w.market_id),
        other.coordinator.t(),
        json!({"name": "X", "address": "X", "postal_code": "1", "city": "X", "latitude": 0, "longitude": 0, "host_kind": "shop", "host_name": "X"}),
    )
    .await
    .expect_error(403, "forbidden");
    // A slot at another market's pickup point is refused.
    app.post(
        &format!("/api/v1/cycles/{}/slots", w.cycle_id),
        w.coordinator.t(),
        json!({"pickup_point_id": other.points[0], "starts_at": "2030-01-06T16:30:00Z", "ends_at": "2030-01-06T18:30:00Z"}),
    )
    .await
    .expect_error(422, "unknown_pickup_point");
    app.cleanup().await;
}
