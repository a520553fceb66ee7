//! Business rules of issue 7: a withdrawn offer stays withdrawn, an order line keeps what it
//! was sold on, archiving withdraws, a changed quantity takes the current price, check-out
//! payments are idempotent and can be voided, and CSV cells from users cannot run formulas.

use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, User, World},
};

both!(
    a_withdrawn_offer_stays_withdrawn_when_baskets_give_stock_back,
    editing_a_product_does_not_rewrite_orders_already_placed,
    editing_an_archived_product_keeps_it_archived,
    archiving_a_product_withdraws_its_offers_still_on_sale,
    a_line_whose_quantity_changes_takes_the_current_price,
    a_retried_checkout_records_its_payment_once_and_a_payment_can_be_voided,
    csv_cells_written_by_users_cannot_run_formulas,
);

async fn order(app: &TestApp, w: &World, who: &User, lines: Value) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        who.t(),
        json!({"slot_id": w.slots[0], "lines": lines}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap()
}

/// The producer's offers for the world's cycle, all at once.
async fn set_offers(app: &TestApp, w: &World, offers: Value) -> Value {
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({ "offers": offers }),
    )
    .await
    .expect(200)
}

/// The offer as the cycle's public JSON shows it, if it shows it.
async fn public_offer(app: &TestApp, w: &World, offer_id: i64) -> Option<Value> {
    let c = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    c["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == offer_id)
        .cloned()
}

fn line(order: &Value, offer_id: i64) -> &Value {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["offer_id"] == offer_id)
        .unwrap()
}

async fn a_withdrawn_offer_stays_withdrawn_when_baskets_give_stock_back(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (eggs, carrots) = (w.offers[1], w.offers[0]);
    let anna = app.user(Role::Consumer, None, None).await;
    let ben = app.user(Role::Consumer, None, None).await;
    let carla = app.user(Role::Consumer, None, None).await;
    let a = order(&app, &w, &anna, json!([{"offer_id": eggs, "quantity": 3}])).await;
    let b = order(&app, &w, &ben, json!([{"offer_id": eggs, "quantity": 2}])).await;

    // The producer withdraws the eggs: what was ordered stays, nothing more is sold.
    set_offers(
        &app,
        &w,
        json!([{"product_id": w.products[0], "stock": "50"}, {"product_id": w.products[2], "stock": "6"}]),
    )
    .await;

    // Anna cancels, Ben reduces: the stock they give back does not come back on sale.
    app.delete(&format!("/api/v1/orders/{a}"), anna.t())
        .await
        .expect(204);
    let modified = app
        .put(
            &format!("/api/v1/orders/{b}"),
            ben.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 1}]}),
        )
        .await
        .expect(200);
    assert_eq!(line(&modified, eggs)["quantity"], "1");
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        carla.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 1}]}),
    )
    .await
    .expect_error(422, "offer_withdrawn");
    assert_eq!(public_offer(&app, &w, eggs).await, None);
    // Ben may keep what he has, not take more back.
    app.put(
        &format!("/api/v1/orders/{b}"),
        ben.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 2}]}),
    )
    .await
    .expect_error(422, "offer_withdrawn");
    app.put(
        &format!("/api/v1/orders/{b}"),
        ben.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 1}, {"offer_id": carrots, "quantity": "1"}]}),
    )
    .await
    .expect(200);
    assert_eq!(public_offer(&app, &w, eggs).await, None);

    // Only the producer puts it back on sale: 20 dozen, 1 still ordered by Ben.
    set_offers(
        &app,
        &w,
        json!([{"product_id": w.products[0], "stock": "50"}, {"product_id": w.products[1], "stock": "20"},
               {"product_id": w.products[2], "stock": "6"}]),
    )
    .await;
    assert_eq!(app.stock_left(w.cycle_id, eggs).await, "19");
    order(&app, &w, &carla, json!([{"offer_id": eggs, "quantity": 1}])).await;
    assert_eq!(app.stock_left(w.cycle_id, eggs).await, "18");
    app.cleanup().await;
}

async fn editing_a_product_does_not_rewrite_orders_already_placed(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (carrots, chicken) = (w.offers[0], w.offers[2]);
    let anna = app.user(Role::Consumer, None, None).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let id = order(
        &app,
        &w,
        &anna,
        json!([{"offer_id": carrots, "quantity": "2"}, {"offer_id": chicken, "quantity": 1}]),
    )
    .await;
    let before = app
        .get(&format!("/api/v1/orders/{id}"), anna.t())
        .await
        .expect(200);
    app.close_cycle(&w).await;

    // After the close, the producer sells carrots by the gram and chicken by the piece.
    app.put(
        &format!("/api/v1/products/{}", w.products[0]),
        w.producer.t(),
        json!({"name": "Carottes", "unit": "g", "price": "0.01", "vat_rate": "20", "step": "100"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/api/v1/products/{}", w.products[2]),
        w.producer.t(),
        json!({"name": "Poulet fermier", "unit": "piece", "price": "12.50", "vat_rate": "5.5"}),
    )
    .await
    .expect(200);

    // The order reads the same.
    let after = app
        .get(&format!("/api/v1/orders/{id}"), anna.t())
        .await
        .expect(200);
    assert_eq!(after["lines"], before["lines"]);
    assert_eq!(after["total"], before["total"]);
    assert_eq!(line(&after, carrots)["unit"], "kg");
    assert_eq!(line(&after, chicken)["variable_weight"], true);
    assert_eq!(line(&after, chicken)["estimated_weight_kg"], "1.8");

    // The lists too: 2 kg of carrots to pick, the chicken still at 12.50 €/kg.
    let lists = app
        .get(
            &format!("/api/v1/cycles/{}/picking-lists", w.cycle_id),
            w.producer.t(),
        )
        .await
        .expect(200);
    let text = lists.to_string();
    assert!(!text.contains("\"g\""), "{text}");
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    assert_eq!(sheet["baskets"][0]["total"], "28.10");
    let chicken_line = sheet["baskets"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap()
        .clone();
    assert_eq!(chicken_line["estimated_total"], "22.50");
    let carrot_line = sheet["baskets"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_name"] == "Carottes")
        .unwrap()
        .clone();
    assert_eq!(carrot_line["quantity"], "2");
    assert_eq!(carrot_line["unit"], "kg");
    // And the chicken is weighed as it was sold: by the piece at a variable weight.
    app.put(
        &format!("/api/v1/order-lines/{}/weights", chicken_line["line_id"]),
        w.producer.t(),
        json!({"weights_kg": ["1.92"]}),
    )
    .await
    .expect(204);
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    assert_eq!(sheet["baskets"][0]["total"], "29.60");
    app.cleanup().await;
}

async fn editing_an_archived_product_keeps_it_archived(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let path = format!("/api/v1/products/{}", w.products[1]);
    app.delete(&path, w.producer.t()).await.expect(200);
    app.get(&path, None).await.expect_error(404, "not_found");
    let edited = app
        .put(
            &path,
            w.producer.t(),
            json!({"name": "Œufs bio", "unit": "dozen", "price": "4.50", "vat_rate": "5.5"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["active"], false);
    app.get(&path, None).await.expect_error(404, "not_found");
    app.cleanup().await;
}

async fn archiving_a_product_withdraws_its_offers_still_on_sale(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let eggs = w.offers[1];
    let anna = app.user(Role::Consumer, None, None).await;
    let ben = app.user(Role::Consumer, None, None).await;
    let a = order(&app, &w, &anna, json!([{"offer_id": eggs, "quantity": 2}])).await;
    // Cached: the sale cache has seen the offer on sale.
    order(&app, &w, &ben, json!([{"offer_id": eggs, "quantity": 1}])).await;

    app.delete(
        &format!("/api/v1/products/{}", w.products[1]),
        w.producer.t(),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        ben.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 1}]}),
    )
    .await
    .expect_error(422, "offer_withdrawn");
    assert_eq!(public_offer(&app, &w, eggs).await, None);
    // What was ordered stays ordered; what Anna gives back is not sold again.
    let kept = app
        .get(&format!("/api/v1/orders/{a}"), anna.t())
        .await
        .expect(200);
    assert_eq!(line(&kept, eggs)["quantity"], "2");
    app.delete(&format!("/api/v1/orders/{a}"), anna.t())
        .await
        .expect(204);
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        ben.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 1}]}),
    )
    .await
    .expect_error(422, "offer_withdrawn");
    // An archived product cannot be put on sale again by the offer either.
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [{"product_id": w.products[1], "stock": "20"}]}),
    )
    .await
    .expect_error(422, "archived_product");
    app.cleanup().await;
}

async fn a_line_whose_quantity_changes_takes_the_current_price(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (carrots, eggs) = (w.offers[0], w.offers[1]);
    let anna = app.user(Role::Consumer, None, None).await;
    let id = order(&app, &w, &anna, json!([{"offer_id": eggs, "quantity": 1}])).await;
    let all = |eggs_price: &str| {
        json!([{"product_id": w.products[0], "stock": "50"}, {"product_id": w.products[1], "stock": "20", "price": eggs_price},
               {"product_id": w.products[2], "stock": "6"}])
    };
    set_offers(&app, &w, all("5.00")).await;

    // Ten dozen now: the whole line at today's price, not at the 4.20 of the first dozen.
    let path = format!("/api/v1/orders/{id}");
    let modified = app
        .put(
            &path,
            anna.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 10}]}),
        )
        .await
        .expect(200);
    assert_eq!(line(&modified, eggs)["unit_price"], "5.00");
    assert_eq!(line(&modified, eggs)["total"], "50.00");

    // Unchanged, it keeps the price it was last changed at, whatever the offer says now.
    set_offers(&app, &w, all("6.00")).await;
    let modified = app
        .put(
            &path,
            anna.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": eggs, "quantity": 10}, {"offer_id": carrots, "quantity": "1"}]}),
        )
        .await
        .expect(200);
    assert_eq!(line(&modified, eggs)["unit_price"], "5.00");
    assert_eq!(line(&modified, carrots)["unit_price"], "2.80");
    assert_eq!(modified["total"], "52.80");
    app.cleanup().await;
}

/// POSTs a check-out with an optional Idempotency-Key; the status and the JSON body, if any.
async fn checkout(
    app: &TestApp,
    who: &User,
    order_id: i64,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}/api/v1/orders/{order_id}/checkout", app.base))
        .bearer_auth(&who.token)
        .json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn a_retried_checkout_records_its_payment_once_and_a_payment_can_be_voided(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let anna = app.user(Role::Consumer, None, None).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let id = order(
        &app,
        &w,
        &anna,
        json!([{"offer_id": w.offers[1], "quantity": 3}]),
    )
    .await;
    app.close_cycle(&w).await;
    let paid = json!({"collection": "collected", "payment": {"method": "cash", "amount": "12.60"}});

    // The same check-out sent twice (a poor connection): one payment.
    for _ in 0..2 {
        let (status, _) = checkout(&app, &volunteer, id, Some("pay-1"), paid.clone()).await;
        assert_eq!(status, 204);
    }
    let sheet_path = format!("/api/v1/slots/{}/sheet", w.slots[0]);
    let sheet = &app.get(&sheet_path, volunteer.t()).await.expect(200)[0];
    let basket = &sheet["baskets"][0];
    assert_eq!(basket["paid"], "12.60");
    assert_eq!(basket["due"], "0.00");
    let payments = basket["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1);
    let payment_id = payments[0]["id"].as_i64().unwrap();

    // The key stands for that request only; a payment without a key is refused.
    let other = json!({"collection": "collected", "payment": {"method": "cash", "amount": "1.00"}});
    let (status, body) = checkout(&app, &volunteer, id, Some("pay-1"), other.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let (status, body) = checkout(&app, &volunteer, id, None, other).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency_key_required"))
    );
    // Collection alone needs no key: it is the same whatever the number of tries.
    let (status, _) = checkout(
        &app,
        &volunteer,
        id,
        None,
        json!({"collection": "collected"}),
    )
    .await;
    assert_eq!(status, 204);

    // A mistaken payment is voided, with who, when and why; the sheet no longer counts it.
    let void = format!("/api/v1/payments/{payment_id}/void");
    app.post(&void, anna.t(), json!({"reason": "wrong basket"}))
        .await
        .expect_error(404, "not_found");
    let elsewhere = app.world().await;
    app.post(
        &void,
        elsewhere.coordinator.t(),
        json!({"reason": "wrong basket"}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(&void, volunteer.t(), json!({"reason": ""}))
        .await
        .expect_error(400, "invalid_request");
    let voided = app
        .post(&void, volunteer.t(), json!({"reason": "wrong basket"}))
        .await
        .expect(200);
    assert_eq!(voided["id"], payment_id);
    assert_eq!(voided["amount"], "12.60");
    assert_eq!(voided["voided_by"], volunteer.id);
    assert_eq!(voided["void_reason"], "wrong basket");
    assert!(voided["voided_at"].is_string());
    app.post(&void, w.coordinator.t(), json!({"reason": "again"}))
        .await
        .expect_error(409, "payment_voided");
    let sheet = &app.get(&sheet_path, volunteer.t()).await.expect(200)[0];
    assert_eq!(sheet["baskets"][0]["paid"], "0.00");
    assert_eq!(sheet["baskets"][0]["due"], "12.60");
    assert_eq!(sheet["baskets"][0]["payments"], json!([]));
    // The retried request still answers as the first did, and records nothing again.
    let (status, _) = checkout(&app, &volunteer, id, Some("pay-1"), paid).await;
    assert_eq!(status, 204);
    let sheet = &app.get(&sheet_path, volunteer.t()).await.expect(200)[0];
    assert_eq!(sheet["baskets"][0]["paid"], "0.00");
    app.cleanup().await;
}

async fn csv_cells_written_by_users_cannot_run_formulas(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mallory = app
        .named_user("=HYPERLINK(\"http://x\")", Role::Consumer, None, None)
        .await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    order(
        &app,
        &w,
        &mallory,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;
    app.close_cycle(&w).await;
    for (path, who) in [
        (
            format!("/api/v1/slots/{}/sheet?format=csv", w.slots[0]),
            &volunteer,
        ),
        (
            format!("/api/v1/cycles/{}/sheets?format=csv", w.cycle_id),
            &volunteer,
        ),
        (
            format!("/api/v1/cycles/{}/labels?format=csv", w.cycle_id),
            &w.producer,
        ),
    ] {
        let (status, _, bytes) = app.bytes(&path, who.t()).await;
        assert_eq!(status, 200, "{path}");
        let text = String::from_utf8(bytes).unwrap();
        // Quoted by the CSV writer (the name holds quotes), and starting with a quote mark.
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
            "{path}: {text}"
        );
        assert!(!text.contains("\"=HYPERLINK"), "{path}: {text}");
    }
    app.cleanup().await;
}
