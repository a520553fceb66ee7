//! Pages: consumers see a slot cancelled or moved because its venue is unavailable, and move
//! their order to another slot; a cancelled slot cannot be chosen, on the pages or the API.

use chrono::{Datelike, Duration, NaiveDate};
use print::{Lang, format::long_date};
use serde_json::json;
use store::{Actor, Role, VenueFlag};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, User, World},
    pages_support::Visit,
};

const REASON: &str = "Salle réquisitionnée pour les élections";

async fn actor(app: &TestApp, id: i64) -> Actor {
    app.store.actor(id).await.expect("the account")
}

/// A logged-in browser for the account.
async fn browser(app: &TestApp, id: i64, lang: &str) -> Visit {
    let mut v = app.visit(lang);
    v.log_in(&actor(app, id).await.email, PASSWORD).await;
    v
}

/// A consumer's order of one dozen eggs at the world's first slot, through the API.
async fn order_at_first_slot(app: &TestApp, w: &World, name: &str) -> (User, i64) {
    let user = app.named_user(name, Role::Consumer, None, None).await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            user.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201);
    (user, order["id"].as_i64().expect("order id"))
}

/// The slot's local date, and in words.
async fn day_of(app: &TestApp, w: &World, slot: i64, lang: Lang) -> (NaiveDate, String) {
    let coordinator = actor(app, w.coordinator.id).await;
    let tz = app
        .store
        .venue(&coordinator, w.points[0])
        .await
        .expect("a venue")
        .timezone;
    let cycle = app
        .store
        .cycle(store::Viewer::Actor(&coordinator), w.cycle_id)
        .await
        .expect("the cycle");
    let s = cycle.slots.iter().find(|s| s.id == slot).expect("the slot");
    let day = s.starts_at.with_timezone(&tz).date_naive();
    (day, long_date(day, lang))
}

/// The town hall's host flags the first slot's date through the host page: it is cancelled.
async fn host_cancels_first_slot(app: &TestApp, w: &World) {
    let coordinator = actor(app, w.coordinator.id).await;
    let host = app
        .named_user("Mairie de Parthenay", Role::Host, None, None)
        .await;
    app.store
        .assign_host_venue(&coordinator, host.id, w.points[0])
        .await
        .expect("a venue for the host");
    let day = day_of(app, w, w.slots[0], Lang::Fr).await.0.to_string();
    let point = w.points[0].to_string();
    let mut h = browser(app, host.id, "fr").await;
    h.get("/host").await.expect(200);
    let done = h
        .post(
            "/host/closures",
            &[
                ("point", point.as_str()),
                ("day", day.as_str()),
                ("reason", REASON),
            ],
        )
        .await;
    done.expect(303);
    assert_eq!(done.location(), "/host?done=host-flagged");
}

/// A coordinator moves the second slot a day later, same hours.
async fn coordinator_moves_second_slot(app: &TestApp, w: &World) {
    let coordinator = actor(app, w.coordinator.id).await;
    let (day, _) = day_of(app, w, w.slots[1], Lang::Fr).await;
    app.store
        .flag_venue_unavailable(
            &coordinator,
            w.points[1],
            VenueFlag {
                day,
                reason: "Fête des moissons".into(),
                move_to: Some(day + Duration::days(1)),
            },
        )
        .await
        .expect("moved");
}

async fn a_consumer_sees_the_cancelled_slot_and_moves_the_order(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (consumer, order) = order_at_first_slot(&app, &w, "Léa Martin").await;
    let (planned, first_planned) = day_of(&app, &w, w.slots[1], Lang::Fr).await;
    host_cancels_first_slot(&app, &w).await;
    coordinator_moves_second_slot(&app, &w).await;
    let (_, fr_day) = day_of(&app, &w, w.slots[0], Lang::Fr).await;
    let (moved_day, moved_to) = day_of(&app, &w, w.slots[1], Lang::Fr).await;
    assert_eq!(moved_day, planned + Duration::days(1));
    let order_page = format!("/orders/{order}");
    let basket = format!("/shop/{}/basket", w.cycle_id);

    // The order page says it, in French, with a way to choose another slot.
    let mut v = browser(&app, consumer.id, "fr").await;
    v.get(&order_page)
        .await
        .expect(200)
        .contains(&format!(
            "La distribution du {fr_day} à Salle des fêtes est annulée : {REASON}. \
             Choisissez un autre créneau."
        ))
        .contains(&format!("href=\"{basket}\""));
    v.get("/orders").await.expect(200).contains(&format!(
        "La distribution du {fr_day} à Salle des fêtes est annulée : {REASON}."
    ));

    // The market's home shows the cancelled slot as cancelled, the moved one with its old date.
    let slug = app.store.market(w.market_id).await.expect("market").slug;
    // The month and year are said once when both dates are in the same ones.
    let words: Vec<&str> = first_planned.split(' ').collect();
    let first_planned_short = if planned.year() != moved_day.year() {
        first_planned.clone()
    } else if planned.month() != moved_day.month() {
        words[..3].join(" ")
    } else {
        words[..2].join(" ")
    };
    let moved = format!(
        "La distribution à Ferme du Bourg est déplacée du {first_planned_short} au {moved_to} : \
         Fête des moissons."
    );
    v.get(&format!("/m/{slug}"))
        .await
        .expect(200)
        .contains("<span class=\"badge out\">Annulée</span>")
        .contains(REASON)
        .contains(&moved);

    // The basket shows the cancelled slot without a choice; the moved one, with its old date.
    v.get(&basket)
        .await
        .expect(200)
        .contains(&format!("name=\"slot\" value=\"{}\" disabled", w.slots[0]))
        .contains(&moved);

    // Confirming on the cancelled slot anyway: the basket again, the error by the slots, the
    // order untouched.
    let eggs = format!("q_{}", w.offers[1]);
    let first = w.slots[0].to_string();
    v.post(
        &basket,
        &[
            (eggs.as_str(), "2"),
            ("slot", first.as_str()),
            ("action", "confirm"),
        ],
    )
    .await
    .expect(409)
    .contains("<p class=\"error\" id=\"slot-error\">Cette distribution est annulée")
    .contains(&format!(
        "name=\"{eggs}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"2\""
    ));
    let a = actor(&app, consumer.id).await;
    let kept = app.store.order(&a, order).await.expect("the order");
    assert_eq!(kept.slot.id, w.slots[0]);
    assert_eq!(kept.lines[0].quantity.to_string(), "1");

    // In English too.
    app.store.set_language(&a, "en").await.expect("English");
    let (_, en_day) = day_of(&app, &w, w.slots[0], Lang::En).await;
    browser(&app, consumer.id, "en")
        .await
        .get(&order_page)
        .await
        .expect(200)
        .contains(&format!(
            "The distribution of {en_day} at Salle des fêtes is cancelled: {REASON}. \
             Choose another slot."
        ))
        .contains("Choose another slot</a>");
    // (The language is the account's: back to French for the browser above.)
    app.store.set_language(&a, "fr").await.expect("French");

    // Another slot: the order moves there, with the two eggs of the basket.
    let second = w.slots[1].to_string();
    let done = v
        .post(
            &basket,
            &[
                (eggs.as_str(), "2"),
                ("slot", second.as_str()),
                ("action", "confirm"),
            ],
        )
        .await;
    done.expect(303);
    assert_eq!(done.location(), format!("{order_page}?done=order-changed"));
    let moved_order = app.store.order(&a, order).await.expect("the order");
    assert_eq!(moved_order.slot.id, w.slots[1]);
    assert_eq!(moved_order.lines[0].quantity.to_string(), "2");
    let page = v.get(&order_page).await;
    page.expect(200).contains("Ferme du Bourg").contains(&moved);
    assert!(!page.html.contains("est annulée"), "{}", page.html);

    // The API refuses the cancelled slot: a new order, and moving an order back to it.
    let other = app.user(Role::Consumer, None, None).await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        other.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(409, "slot_cancelled");
    app.put(
        &format!("/api/v1/orders/{order}"),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(409, "slot_cancelled");
    app.cleanup().await;
}

async fn a_new_basket_cannot_be_placed_on_a_cancelled_slot(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    host_cancels_first_slot(&app, &w).await;
    let consumer = app
        .named_user("Paul Roux", Role::Consumer, None, None)
        .await;
    let mut v = browser(&app, consumer.id, "fr").await;
    let shop = format!("/shop/{}", w.cycle_id);
    let basket = format!("{shop}/basket");
    let eggs = format!("q_{}", w.offers[1]);
    v.get(&shop).await.expect(200);
    v.post(&shop, &[(eggs.as_str(), "3")]).await.expect(303);
    // Only the other slot can be chosen: it is the one checked.
    v.get(&basket)
        .await
        .expect(200)
        .contains(&format!("name=\"slot\" value=\"{}\" disabled", w.slots[0]))
        .contains(&format!("name=\"slot\" value=\"{}\" checked", w.slots[1]));
    let first = w.slots[0].to_string();
    v.post(&basket, &[("slot", first.as_str()), ("action", "confirm")])
        .await
        .expect(409)
        .contains("id=\"slot-error\">Cette distribution est annulée")
        .contains(&format!(
            "name=\"{eggs}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"3\""
        ));
    // Nothing placed, nothing lost: the basket is still there.
    let a = actor(&app, consumer.id).await;
    assert!(
        app.store
            .orders_of(&a, None)
            .await
            .expect("orders")
            .is_empty()
    );
    v.get(&basket).await.expect(200).contains("value=\"3\"");
    app.cleanup().await;
}

async fn the_demo_has_a_cancelled_and_a_moved_slot(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(
        &app.store,
        include_str!("../../fixtures/demo.json"),
        chrono::Utc::now(),
    )
    .await
    .expect("the demo loads");
    let slug = app.store.market(demo.market_id).await.expect("market").slug;
    app.visit("fr")
        .get(&format!("/m/{slug}"))
        .await
        .expect(200)
        .contains("est annulée : Parking fermé pour travaux de voirie.")
        .contains("est déplacée du")
        .contains("Place occupée par la fête du village.");
    app.cleanup().await;
}

both!(
    a_consumer_sees_the_cancelled_slot_and_moves_the_order,
    a_new_basket_cannot_be_placed_on_a_cancelled_slot,
    the_demo_has_a_cancelled_and_a_moved_slot,
);
