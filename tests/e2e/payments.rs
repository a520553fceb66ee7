//! Online payment against a real fake Stripe (localstripe, `stripe_support`): a basket paid by
//! card is authorised only on Stripe's word, captured after weighing for no more than was
//! held, partly refunded; a cancelled basket's hold is released; forged webhooks are refused
//! (400) and replayed ones answered 200 as already handled, neither changing anything; Stripe
//! unreachable keeps the order unpaid, and the retry makes one intent, not two.
#![expect(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, User, World},
    stripe_support::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET},
};

both!(
    a_card_payment_is_held_captured_after_weighing_and_partly_refunded,
    a_cancelled_basket_releases_its_hold_and_a_grown_one_pays_again,
    forged_replayed_and_late_webhooks_change_nothing,
    stripe_unreachable_keeps_the_order_unpaid_and_a_retry_charges_once,
);

/// The world's market takes cards through `api_url`, and Stripe's events come back to `app`.
pub(crate) async fn online_market(app: &TestApp, w: &World, api_url: &str) -> User {
    let admin = app.user(Role::Admin, None, None).await;
    let settings = app
        .put(
            &format!("/api/v1/markets/{}/payment-settings", w.market_id),
            admin.t(),
            json!({"mode": "both", "secret_key": SECRET_KEY, "publishable_key": PUBLISHABLE_KEY,
                   "webhook_secret": WEBHOOK_SECRET, "api_url": api_url,
                   "js_url": format!("{api_url}/js.stripe.com/v3/"), "weight_margin_percent": "15"}),
        )
        .await
        .expect(200);
    assert_eq!(settings["takes_cards"], true);
    admin
}

pub(crate) async fn order(app: &TestApp, w: &World, consumer: &User, lines: Value) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": lines}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn online(app: &TestApp, who: &User, order_id: i64) -> Value {
    app.get(
        &format!("/api/v1/orders/{order_id}/payments/online"),
        who.t(),
    )
    .await
    .expect(200)[0]
        .clone()
}

/// Waits until the server has handled a Stripe event of this type (localstripe posts its
/// webhooks a second after the change).
async fn handled(app: &TestApp, market_id: i64, event_type: &str) {
    for _ in 0..100 {
        let events = app.store.stripe_events_handled(market_id).await.unwrap();
        if events.iter().any(|e| e == event_type) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {event_type} webhook was handled");
}

async fn a_card_payment_is_held_captured_after_weighing_and_partly_refunded(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    online_market(&app, &w, &stripe.url).await;
    stripe
        .register_webhook(&format!("{}/stripe/webhooks/{}", app.base, w.market_id))
        .await;
    // Whoever reads the settings sees whether the secrets are set, never them.
    let shown = app
        .get(
            &format!("/api/v1/markets/{}/payment-settings", w.market_id),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    assert_eq!(shown["secret_key_set"], true);
    assert!(!shown.to_string().contains(SECRET_KEY));
    assert!(!shown.to_string().contains(WEBHOOK_SECRET));

    // 2 kg of carrots (5.60) and a chicken estimated 1.8 kg (22.50): held 5.60 + 22.50 + 15 %
    // of 22.50 rounded up (3.38) = 31.48.
    let consumer = app.user(Role::Consumer, None, None).await;
    let id = order(
        &app,
        &w,
        &consumer,
        json!([
            {"offer_id": w.offers[0], "quantity": "2"},
            {"offer_id": w.offers[2], "quantity": "1"}
        ]),
    )
    .await;
    let pay = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(pay["status"], "pay");
    assert_eq!(pay["amount"], "31.48");
    assert_eq!(pay["publishable_key"], PUBLISHABLE_KEY);
    let secret = pay["client_secret"].as_str().unwrap().to_owned();
    // Opening the page again shows the same intent: one hold per basket.
    let again = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again["client_secret"], secret.as_str());
    assert_eq!(stripe.intents().await.len(), 1);
    let held = stripe
        .intent(secret.split("_secret_").next().unwrap())
        .await;
    assert_eq!(held["amount"], 3148);
    assert_eq!(held["capture_method"], "manual");
    assert_eq!(held["metadata"]["halle_order_id"], id.to_string());

    // The browser pays; Halle believes Stripe, not the browser.
    let intent = stripe.pay_with_card(&secret).await;
    assert_eq!(
        online(&app, &consumer, id).await["status"],
        "requires_payment"
    );
    let rows = app
        .post(
            &format!("/api/v1/orders/{id}/payment/refresh"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(rows[0]["status"], "authorised");
    assert_eq!(rows[0]["intent_id"], intent.as_str());

    // Capture waits for the close.
    app.post(
        &format!("/api/v1/orders/{id}/payment/capture"),
        w.coordinator.t(),
        json!({}),
    )
    .await
    .expect_error(409, "cycle_open");
    app.close_cycle(&w).await;
    // The chicken weighs 1.9 kg: 23.75; the basket 29.35, below the hold.
    app.weigh_chicken(&w, "1.9").await;
    // A consumer does not capture.
    app.post(
        &format!("/api/v1/orders/{id}/payment/capture"),
        consumer.t(),
        json!({}),
    )
    .await
    .expect(403);
    let captured = app
        .post(
            &format!("/api/v1/orders/{id}/payment/capture"),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(captured["status"], "captured");
    assert_eq!(captured["captured"], "29.35");
    let at_stripe = stripe.intent(&intent).await;
    assert_eq!(at_stripe["status"], "succeeded");
    // Stripe's own signed webhook comes back and is taken (it changes nothing more).
    handled(&app, w.market_id, "payment_intent.succeeded").await;
    assert_eq!(online(&app, &consumer, id).await["captured"], "29.35");

    // The sheet shows it paid online, nothing due.
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            w.coordinator.t(),
        )
        .await
        .expect(200)[0];
    let basket = &sheet["baskets"][0];
    assert_eq!(basket["total"], "29.35");
    assert_eq!(basket["paid"], "29.35");
    assert_eq!(basket["due"], "0.00");
    assert_eq!(basket["payments"][0]["method"], "online");

    // The eggs... no: a carrot bunch missing at distribution, 4.20 back by a coordinator.
    app.post(
        &format!("/api/v1/orders/{id}/payment/refunds"),
        consumer.t(),
        json!({"amount": "4.20"}),
    )
    .await
    .expect(403);
    let refunded = app
        .post(
            &format!("/api/v1/orders/{id}/payment/refunds"),
            w.coordinator.t(),
            json!({"amount": "4.20"}),
        )
        .await
        .expect(200);
    assert_eq!(refunded["refunded"], "4.20");
    app.post(
        &format!("/api/v1/orders/{id}/payment/refunds"),
        w.coordinator.t(),
        json!({"amount": "30.00"}),
    )
    .await
    .expect_error(422, "invalid_amount");
    let refunds = stripe
        .api(
            Method::GET,
            &format!("/refunds?payment_intent={intent}"),
            &[],
        )
        .await;
    assert!(
        refunds["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["amount"] == 420),
        "{refunds}"
    );
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            w.coordinator.t(),
        )
        .await
        .expect(200)[0];
    assert_eq!(sheet["baskets"][0]["paid"], "25.15");
    assert_eq!(sheet["baskets"][0]["due"], "4.20");
    app.cleanup().await;
}

async fn a_cancelled_basket_releases_its_hold_and_a_grown_one_pays_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    online_market(&app, &w, &stripe.url).await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let id = order(
        &app,
        &w,
        &consumer,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;
    let pay = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(pay["amount"], "4.20");
    let first = stripe
        .pay_with_card(pay["client_secret"].as_str().unwrap())
        .await;
    app.post(
        &format!("/api/v1/orders/{id}/payment/refresh"),
        consumer.t(),
        json!({}),
    )
    .await
    .expect(200);

    // Smaller: the hold stays (capture will take less).
    // Bigger: the hold no longer covers it; it is released and the consumer pays again.
    app.put(
        &format!("/api/v1/orders/{id}"),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 2}]}),
    )
    .await
    .expect(200);
    assert_eq!(stripe.intent(&first).await["status"], "canceled");
    assert_eq!(online(&app, &consumer, id).await["status"], "cancelled");
    let pay = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(pay["status"], "pay");
    assert_eq!(pay["amount"], "8.40");
    let second = stripe
        .pay_with_card(pay["client_secret"].as_str().unwrap())
        .await;
    assert_ne!(first, second);
    app.post(
        &format!("/api/v1/orders/{id}/payment/refresh"),
        consumer.t(),
        json!({}),
    )
    .await
    .expect(200);

    // Cancelled: the hold is released at Stripe.
    app.delete(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(204);
    assert_eq!(stripe.intent(&second).await["status"], "canceled");
    assert_eq!(online(&app, &consumer, id).await["status"], "cancelled");
    // Nothing is left to reconcile.
    let found = app.store.reconcile_payments(w.market_id).await.unwrap();
    assert!(found.without_order.is_empty(), "{found:?}");
    assert!(found.mismatches.is_empty(), "{found:?}");
    // A charge made without an order (by hand, or by another program) is listed.
    let stray = stripe
        .api(
            Method::POST,
            "/payment_intents",
            &[("amount", "999"), ("currency", "eur")],
        )
        .await;
    let found = app.store.reconcile_payments(w.market_id).await.unwrap();
    assert_eq!(found.without_order.len(), 1, "{found:?}");
    assert_eq!(found.without_order[0].0, stray["id"].as_str().unwrap());
    app.cleanup().await;
}

fn event(id: &str, kind: &str, intent: &str) -> String {
    json!({"id": id, "object": "event", "type": kind, "api_version": "2017-08-15",
           "created": chrono::Utc::now().timestamp(), "livemode": false, "pending_webhooks": 1,
           "data": {"object": {"id": intent, "object": "payment_intent"}}})
    .to_string()
}

async fn deliver(app: &TestApp, market_id: i64, body: &str, signature: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/stripe/webhooks/{market_id}", app.base))
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn forged_replayed_and_late_webhooks_change_nothing(db: Db) {
    use stripe_webhook::Webhook;
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    online_market(&app, &w, &stripe.url).await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let id = order(
        &app,
        &w,
        &consumer,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;
    let pay = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    let intent = stripe
        .pay_with_card(pay["client_secret"].as_str().unwrap())
        .await;

    // Forged: signed with another secret, or not signed at all.
    let body = event(
        "evt_halle_1",
        "payment_intent.amount_capturable_updated",
        &intent,
    );
    let forged = Webhook::generate_test_header(&body, "whsec_not_the_market_s", None);
    let (status, answer) = deliver(&app, w.market_id, &body, &forged).await;
    assert_eq!(status, 400);
    assert_eq!(answer["code"], "bad_signature");
    let (status, _) = deliver(&app, w.market_id, &body, "t=1,v1=00").await;
    assert_eq!(status, 400);
    assert_eq!(
        online(&app, &consumer, id).await["status"],
        "requires_payment"
    );
    // Signed, but too old (a replay from long ago).
    let old = Webhook::generate_test_header(
        &body,
        WEBHOOK_SECRET,
        Some(chrono::Utc::now().timestamp() - 3_600),
    );
    assert_eq!(deliver(&app, w.market_id, &body, &old).await.0, 400);
    assert_eq!(
        online(&app, &consumer, id).await["status"],
        "requires_payment"
    );
    assert!(
        app.store
            .stripe_events_handled(w.market_id)
            .await
            .unwrap()
            .is_empty()
    );

    // Stripe's word: taken, and the intent is read back from Stripe.
    let signed = Webhook::generate_test_header(&body, WEBHOOK_SECRET, None);
    let (status, answer) = deliver(&app, w.market_id, &body, &signed).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(online(&app, &consumer, id).await["status"], "authorised");
    // The same delivery again (Stripe retries whatever it did not see answered 2xx): taken as
    // already handled, 200, and nothing changes.
    let events_before = app.store.stripe_events_handled(w.market_id).await.unwrap();
    let (status, answer) = deliver(&app, w.market_id, &body, &signed).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["code"], "already_handled");
    assert_eq!(online(&app, &consumer, id).await["status"], "authorised");
    assert_eq!(
        app.store.stripe_events_handled(w.market_id).await.unwrap(),
        events_before
    );
    // An event arriving late ("canceled" from before, say): Halle asks Stripe, which says the
    // intent is authorised, and so it stays.
    let late = event("evt_halle_2", "payment_intent.canceled", &intent);
    let signed = Webhook::generate_test_header(&late, WEBHOOK_SECRET, None);
    assert_eq!(deliver(&app, w.market_id, &late, &signed).await.0, 200);
    assert_eq!(online(&app, &consumer, id).await["status"], "authorised");
    // Another market's secret does not open this market's door.
    let (status, _) = deliver(&app, w.market_id + 1_000, &late, &signed).await;
    assert_eq!(status, 400);
    app.cleanup().await;
}

async fn stripe_unreachable_keeps_the_order_unpaid_and_a_retry_charges_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    // A port nothing listens on.
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let admin = online_market(&app, &w, &closed).await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let id = order(
        &app,
        &w,
        &consumer,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;
    for _ in 0..2 {
        let answer = app
            .post(
                &format!("/api/v1/orders/{id}/payment"),
                consumer.t(),
                json!({}),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 503, "{}", answer.body);
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .contains("not paid")
        );
    }
    let order_now = app
        .get(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(200);
    assert_eq!(order_now["status"], "placed");
    let rows = app
        .get(
            &format!("/api/v1/orders/{id}/payments/online"),
            consumer.t(),
        )
        .await
        .expect(200);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["status"], "creating");

    // Stripe is back: the same attempt goes through, once.
    app.put(
        &format!("/api/v1/markets/{}/payment-settings", w.market_id),
        admin.t(),
        json!({"api_url": stripe.url}),
    )
    .await
    .expect(200);
    let pay = app
        .post(
            &format!("/api/v1/orders/{id}/payment"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(pay["status"], "pay");
    let rows = app
        .get(
            &format!("/api/v1/orders/{id}/payments/online"),
            consumer.t(),
        )
        .await
        .expect(200);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(stripe.intents().await.len(), 1);
    app.cleanup().await;
}
