//! The periodic payment work (`Store::run_payment_work`, run by `halle serve` and `halle
//! payments run`) against localstripe, with an explicit `now`: a hold about to expire before
//! distribution is captured at its estimate and the difference refunded once weighed; a
//! cancelled basket's release that failed (Stripe unreachable) is retried until Stripe answers.
#![expect(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use store::{Role, entities::online_payment as op};

use crate::{
    both,
    helpers::{Db, TestApp, User, World},
    payments::{online, online_market, order},
    stripe_support::LocalStripe,
};

both!(
    a_hold_about_to_expire_is_captured_then_the_difference_refunded_after_weighing,
    a_release_that_failed_is_retried_until_stripe_answers,
);

/// A basket of `lines` by a new consumer, paid by card and authorised: (consumer, order, intent).
async fn authorised(
    app: &TestApp,
    w: &World,
    stripe: &LocalStripe,
    lines: Value,
) -> (User, i64, String) {
    let consumer = app.user(Role::Consumer, None, None).await;
    let id = order(app, w, &consumer, lines).await;
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
    let rows = app
        .post(
            &format!("/api/v1/orders/{id}/payment/refresh"),
            consumer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(rows[0]["status"], "authorised");
    (consumer, id, intent)
}

async fn a_hold_about_to_expire_is_captured_then_the_difference_refunded_after_weighing(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    online_market(&app, &w, &stripe.url).await;
    // 2 kg of carrots (5.60) and a chicken estimated 1.8 kg (22.50): 28.10, held 31.48.
    let (consumer, id, intent) = authorised(
        &app,
        &w,
        &stripe,
        json!([
            {"offer_id": w.offers[0], "quantity": "2"},
            {"offer_id": w.offers[2], "quantity": "1"}
        ]),
    )
    .await;

    // A fresh hold is left alone.
    let now = Utc::now();
    let work = app.store.run_payment_work(now).await.unwrap();
    assert!(work.captured_early.is_empty(), "{work:?}");
    assert_eq!(online(&app, &consumer, id).await["status"], "authorised");

    // Six days and a half later, the distribution (in 4 days) still to come.
    op::Entity::update_many()
        .col_expr(
            op::Column::CreatedAt,
            Expr::val(now - Duration::hours(6 * 24 + 13)),
        )
        .filter(op::Column::OrderId.eq(id))
        .exec(app.store.db())
        .await
        .unwrap();
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work.captured_early, vec![id], "{work:?}");
    assert!(work.failed.is_empty(), "{work:?}");
    let row = online(&app, &consumer, id).await;
    assert_eq!(row["status"], "captured");
    assert_eq!(row["captured"], "28.10");
    let at_stripe = stripe.intent(&intent).await;
    assert_eq!(at_stripe["status"], "succeeded");
    // Not weighed yet: nothing to refund; a second run changes nothing.
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work, store::PaymentWork::default());

    // Weighed: the chicken is 1.7 kg, 21.25; the basket 26.85, 1.25 below the capture.
    app.close_cycle(&w).await;
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            w.coordinator.t(),
        )
        .await
        .expect(200)[0];
    let chicken = sheet["baskets"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap()
        .clone();
    app.put(
        &format!("/api/v1/order-lines/{}/weights", chicken["line_id"]),
        w.producer.t(),
        json!({"weights_kg": ["1.7"]}),
    )
    .await
    .expect(204);
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work.differences_refunded, vec![(id, 125)], "{work:?}");
    assert_eq!(online(&app, &consumer, id).await["refunded"], "1.25");
    let refunds = stripe
        .api(
            reqwest::Method::GET,
            &format!("/refunds?payment_intent={intent}"),
            &[],
        )
        .await;
    // (localstripe also lists the part of the hold a partial capture left, as a refund of the
    // charge without the intent: only the intent's own refunds are Halle's.)
    let amounts: Vec<&Value> = refunds["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["payment_intent"] == intent.as_str())
        .map(|r| &r["amount"])
        .collect();
    assert_eq!(amounts, vec![&json!(125)], "{refunds}");
    // Done once: another run, or the capture at check-out, takes nothing more.
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work, store::PaymentWork::default());
    let captured = app
        .post(
            &format!("/api/v1/orders/{id}/payment/capture"),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(captured["captured"], "28.10");
    // The sheet: 28.10 taken, 1.25 given back, 26.85 paid, nothing due.
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            w.coordinator.t(),
        )
        .await
        .expect(200)[0];
    assert_eq!(sheet["baskets"][0]["total"], "26.85");
    assert_eq!(sheet["baskets"][0]["paid"], "26.85");
    assert_eq!(sheet["baskets"][0]["due"], "0.00");
    app.cleanup().await;
}

async fn a_release_that_failed_is_retried_until_stripe_answers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    let admin = online_market(&app, &w, &stripe.url).await;
    let (consumer, id, intent) = authorised(
        &app,
        &w,
        &stripe,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;

    // Stripe unreachable (a port nothing listens on) when the basket is cancelled: the order
    // is cancelled all the same, the hold stays at Stripe.
    let closed = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let point_at = |url: String| {
        let admin = &admin;
        let app = &app;
        let market = w.market_id;
        async move {
            app.put(
                &format!("/api/v1/markets/{market}/payment-settings"),
                admin.t(),
                json!({"api_url": url}),
            )
            .await
            .expect(200);
        }
    };
    point_at(closed).await;
    app.delete(&format!("/api/v1/orders/{id}"), consumer.t())
        .await
        .expect(204);
    assert_eq!(stripe.intent(&intent).await["status"], "requires_capture");
    assert_eq!(online(&app, &consumer, id).await["status"], "authorised");

    // The periodic work tries, fails, says so, and tries again next time.
    let now = Utc::now();
    for _ in 0..2 {
        let work = app.store.run_payment_work(now).await.unwrap();
        assert!(work.released.is_empty(), "{work:?}");
        assert_eq!(work.failed.len(), 1, "{work:?}");
        assert_eq!(work.failed[0].0, id);
    }
    assert_eq!(stripe.intent(&intent).await["status"], "requires_capture");

    // Stripe is back: released, once.
    point_at(stripe.url.clone()).await;
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work.released, vec![id], "{work:?}");
    assert!(work.failed.is_empty(), "{work:?}");
    assert_eq!(stripe.intent(&intent).await["status"], "canceled");
    assert_eq!(online(&app, &consumer, id).await["status"], "cancelled");
    let work = app.store.run_payment_work(now).await.unwrap();
    assert_eq!(work, store::PaymentWork::default());
    let found = app.store.reconcile_payments(w.market_id).await.unwrap();
    assert!(found.mismatches.is_empty(), "{found:?}");
    app.cleanup().await;
}
