//! The audit trail of staff actions: each kind of action (an offer's price and stock, a
//! cycle's state, a line's weights, a check-out with a payment, a slot cancelled, an
//! invitation made and withdrawn) leaves its row, with who and when, in the same
//! transaction as the change (a change refused half-way leaves none); the market's coordinators read it (API and `/desk/audit`, by
//! kind and days, a page at a time); other markets' coordinators do not, and consumers' own
//! basket actions are not in it.

use serde_json::{Value, json};
use store::{NewInvitation, Role};

use crate::{
    both,
    helpers::{Answer, Db, PASSWORD, TestApp, World},
};

both!(every_staff_action_leaves_its_row_for_its_market_s_coordinators_only);

/// The market's trail, as its coordinator `token` reads it through the API.
async fn trail(app: &TestApp, market_id: i64, token: Option<&str>, query: &str) -> Value {
    app.get(&format!("/api/v1/markets/{market_id}/audit{query}"), token)
        .await
        .expect(200)
}

/// The world's producer sets its three offers' stocks, and the first one's price.
async fn offer(app: &TestApp, w: &World, stocks: [&str; 3], price: &str) -> Answer {
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "stock": stocks[0], "price": price},
            {"product_id": w.products[1], "stock": stocks[1]},
            {"product_id": w.products[2], "stock": stocks[2]}
        ]}),
    )
    .await
}

fn kinds(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn every_staff_action_leaves_its_row_for_its_market_s_coordinators_only(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let coordinator = app.store.authenticate(&w.coordinator.token).await.unwrap();
    let consumer = app.user(Role::Consumer, None, None).await;
    // Setting the world up through the API: the cycle opened by its coordinator, the offers
    // listed by the producer.
    let initial = trail(&app, w.market_id, w.coordinator.t(), "").await;
    let first = kinds(&initial);
    for k in ["cycle", "price", "stock"] {
        assert!(first.iter().any(|s| s == k), "no {k} in {initial}");
    }
    let opened = initial["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cycle")
        .unwrap();
    assert_eq!(opened["detail"], "draft → open", "{initial}");
    assert_eq!(opened["actor_id"], w.coordinator.id);

    // A consumer's basket is not a staff action.
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            consumer.t(),
            json!({"slot_id": w.slots[0], "lines": [
                {"offer_id": w.offers[2], "quantity": 1},
                {"offer_id": w.offers[1], "quantity": 1}
            ]}),
        )
        .await
        .expect(201);
    let order_id = order["id"].as_i64().unwrap();
    assert_eq!(
        kinds(&trail(&app, w.market_id, w.coordinator.t(), "").await).len(),
        first.len(),
        "a basket is in the trail"
    );

    // A change refused half-way (the first price is fine, a stock below what is ordered is
    // not) leaves no row: the trail is written in the change's own transaction.
    let before = trail(&app, w.market_id, w.coordinator.t(), "").await;
    offer(&app, &w, ["50", "20", "0"], "9.99")
        .await
        .expect_error(409, "stock_below_ordered");
    assert_eq!(
        trail(&app, w.market_id, w.coordinator.t(), "").await,
        before,
        "a refused change is in the trail"
    );

    // The producer's price and stock.
    offer(&app, &w, ["40", "30", "5"], "3.10").await.expect(200);
    let page = trail(&app, w.market_id, w.coordinator.t(), "?kind=price").await;
    let prices = page["entries"].as_array().unwrap();
    assert!(!prices.is_empty());
    assert!(prices.iter().all(|e| e["kind"] == "price"), "{page}");
    let carrots = prices
        .iter()
        .find(|e| e["detail"].as_str().unwrap().ends_with("3.10"))
        .unwrap_or_else(|| panic!("no price change to 3.10 in {page}"));
    assert_eq!(carrots["actor_id"], w.producer.id);
    assert!(
        kinds(&trail(&app, w.market_id, w.coordinator.t(), "?kind=stock").await)
            .iter()
            .all(|k| k == "stock")
    );

    // A slot moved by the coordinator.
    app.call(
        reqwest::Method::PATCH,
        &format!("/api/v1/slots/{}", w.slots[1]),
        w.coordinator.t(),
        Some(json!({"cancelled": true, "note": "Salle prise"})),
    )
    .await
    .expect(200);

    // The cycle closed, a weight, a check-out with a payment.
    app.close_cycle(&w).await;
    app.weigh_chicken(&w, "1.92").await;
    app.call_keyed(
        reqwest::Method::POST,
        &format!("/api/v1/orders/{order_id}/checkout"),
        w.coordinator.t(),
        Some(json!({"collection": "collected", "payment": {"method": "cash", "amount": "28.20"}})),
        Some("pay-1"),
    )
    .await
    .expect(204);

    // An invitation made and withdrawn (the desk's pages do it through the store).
    let grant = app
        .store
        .create_invitation(
            &coordinator,
            w.market_id,
            NewInvitation {
                role: Role::Volunteer,
                name: "Paul Durand".into(),
                email: None,
                producer_id: None,
                pickup_point_id: None,
            },
        )
        .await
        .unwrap();
    app.store
        .revoke_invitation(&coordinator, grant.invitation.id)
        .await
        .unwrap();

    let all = trail(&app, w.market_id, w.coordinator.t(), "").await;
    let seen = kinds(&all);
    for k in [
        "price",
        "stock",
        "slot",
        "cycle",
        "weight",
        "checkout",
        "invitation",
    ] {
        assert!(seen.iter().any(|s| s == k), "no {k} in {all}");
    }
    // Newest first: the withdrawn invitation, by the coordinator, now.
    let newest = &all["entries"][0];
    assert_eq!(newest["kind"], "invitation", "{all}");
    assert_eq!(newest["actor_id"], w.coordinator.id);
    assert!(newest["detail"].as_str().unwrap().contains("Paul Durand"));
    let cycle = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cycle")
        .unwrap();
    assert_eq!(cycle["detail"], "open → closed");
    assert_eq!(all["page"], 1);
    assert_eq!(all["has_next"], false);
    // Days: today holds everything; a span before today, nothing.
    let today = chrono::Utc::now().date_naive();
    let q = format!("?from={today}&to={today}");
    assert_eq!(
        kinds(&trail(&app, w.market_id, w.coordinator.t(), &q).await).len(),
        seen.len()
    );
    let before = today - chrono::Duration::days(3);
    let q = format!("?from={before}&to={before}");
    assert!(kinds(&trail(&app, w.market_id, w.coordinator.t(), &q).await).is_empty());
    // Bad filters are 422 with a code.
    for (q, code) in [
        ("?kind=basket", "invalid_kind"),
        ("?from=yesterday", "invalid_dates"),
        ("?page=0", "invalid_page"),
    ] {
        app.get(
            &format!("/api/v1/markets/{}/audit{q}", w.market_id),
            w.coordinator.t(),
        )
        .await
        .expect_error(422, code);
    }

    // Not the producer's, nor another market's coordinator's, to read.
    app.get(
        &format!("/api/v1/markets/{}/audit", w.market_id),
        w.producer.t(),
    )
    .await
    .expect_error(403, "forbidden");
    let other = app.world().await;
    app.get(
        &format!("/api/v1/markets/{}/audit", w.market_id),
        other.coordinator.t(),
    )
    .await
    .expect_error(403, "forbidden");
    let theirs = trail(&app, other.market_id, other.coordinator.t(), "").await;
    assert!(
        theirs["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor_id"] == other.coordinator.id || e["actor_id"] == other.producer.id),
        "another market's trail shows this one's actions: {theirs}"
    );

    // The desk page, for the coordinator: the rows, the filter kept in the form.
    let email = app.get("/api/v1/me", w.coordinator.t()).await.expect(200)["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut desk = app.visit("fr");
    desk.log_in(&email, PASSWORD).await;
    desk.get("/desk/audit")
        .await
        .expect(200)
        .contains("Journal des modifications")
        .contains("Paul Durand")
        .contains("open → closed")
        .contains("<label for=\"audit-kind\">");
    desk.get("/desk/audit?kind=weight")
        .await
        .expect(200)
        .contains("1.92 kg")
        .contains("<option value=\"weight\" selected>");
    let other_email = app
        .get("/api/v1/me", other.coordinator.t())
        .await
        .expect(200)["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut elsewhere = app.visit("fr");
    elsewhere.log_in(&other_email, PASSWORD).await;
    let page = elsewhere.get("/desk/audit").await;
    page.expect(200);
    assert!(!page.html.contains("Paul Durand"), "{}", page.html);
    app.cleanup().await;
}
