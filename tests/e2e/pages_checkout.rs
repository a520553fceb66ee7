//! Pages: volunteers checking baskets out at the pickup point (`/checkout`), and hosts flagging
//! the dates their venue is unavailable (`/host`).

use chrono::Duration;
use serde_json::json;
use store::{Actor, Role};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, User, World},
    pages_support::{Page, Visit},
};

async fn actor(app: &TestApp, id: i64) -> Actor {
    app.store.actor(id).await.expect("the account")
}

/// A consumer with a name and a phone, and a basket at the world's first slot.
async fn basket(app: &TestApp, w: &World, name: &str, phone: &str) -> (User, i64) {
    let user = app.named_user(name, Role::Consumer, None, None).await;
    let a = actor(app, user.id).await;
    app.store
        .set_profile(&a, name, Some(phone), "fr")
        .await
        .expect("a phone number");
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            user.t(),
            json!({"slot_id": w.slots[0], "lines": [
                {"offer_id": w.offers[0], "quantity": "1.5"},
                {"offer_id": w.offers[1], "quantity": 1}
            ]}),
        )
        .await
        .expect(201);
    (user, order["id"].as_i64().expect("order id"))
}

/// A logged-in browser for the account.
async fn browser(app: &TestApp, id: i64, lang: &str) -> Visit {
    let mut v = app.visit(lang);
    v.log_in(&actor(app, id).await.email, PASSWORD).await;
    v
}

/// The value of the `key` field of a basket's form.
fn key_of(page: &Page, order_id: i64) -> String {
    let at = page
        .html
        .find(&format!("id=\"basket-{order_id}\""))
        .expect("the basket on the page");
    let rest = &page.html[at..];
    let k = rest.find("name=\"key\" value=\"").expect("a key") + "name=\"key\" value=\"".len();
    rest[k..k + rest[k..].find('"').expect("end of key")].to_owned()
}

async fn payments_of(app: &TestApp, volunteer: &Actor, slot: i64, order: i64) -> usize {
    let list = app
        .store
        .checkout_list(volunteer, slot)
        .await
        .expect("list");
    list.sheet
        .baskets
        .iter()
        .find(|b| b.order_id == order)
        .map(|b| b.payments.len())
        .expect("the basket")
}

async fn a_volunteer_checks_a_basket_out_and_the_count_drops(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (_, zoe) = basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    let (_, emile) = basket(&app, &w, "Émile Dupont", "07 55 66 77 88").await;
    app.close_cycle(&w).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let va = actor(&app, volunteer.id).await;

    let mut v = app.visit("fr");
    let login = v.log_in(&va.email, PASSWORD).await;
    assert_eq!(login.location(), "/checkout");
    v.get("/checkout")
        .await
        .expect(200)
        .contains("Salle des fêtes")
        .contains(&format!("href=\"/checkout/{}\"", w.slots[0]))
        .contains("2 paniers à venir sur 2");
    let slot = w.slots[0];
    let list = v.get(&format!("/checkout/{slot}")).await;
    list.expect(200)
        .contains("2 paniers à venir sur 2")
        .contains("1,5\u{a0}kg Carottes")
        .contains("Récupéré et payé");
    let (d, z) = (
        list.html.find("Émile Dupont").expect("Émile"),
        list.html.find("Zoé Martin").expect("Zoé"),
    );
    assert!(d < z, "alphabetical, accents ignored");

    // Search by name (accents and case ignored) and by phone, on the server.
    let found = v.get(&format!("/checkout/{slot}?q=zoe")).await;
    found.expect(200).contains("Zoé Martin");
    assert!(!found.html.contains("Émile Dupont"), "{}", found.html);
    let found = v.get(&format!("/checkout/{slot}?q=0755")).await;
    found.expect(200).contains("Émile Dupont");
    assert!(!found.html.contains("Zoé Martin"));

    // Collected and paid in cash, in one tap: the due amount is in the form already.
    let page = v.get(&format!("/checkout/{slot}")).await;
    let key = key_of(&page, zoe);
    // 1.5 kg carrots at 2.80 + a dozen eggs at 4.20 = 8.40.
    page.contains("value=\"8,40\"");
    let tap = [
        ("action", "paid"),
        ("method", "cash"),
        ("amount", "8,40"),
        ("key", key.as_str()),
    ];
    let done = v
        .post(&format!("/checkout/{slot}/baskets/{zoe}"), &tap)
        .await;
    done.expect(303);
    assert_eq!(
        done.location(),
        format!("/checkout/{slot}?done=checkout-paid#basket-{zoe}")
    );
    // The same tap again (a double tap, a retry on a slow connection): one payment.
    v.post(&format!("/checkout/{slot}/baskets/{zoe}"), &tap)
        .await
        .expect(303);
    assert_eq!(payments_of(&app, &va, slot, zoe).await, 1);
    let after = v.get(&format!("/checkout/{slot}?done=checkout-paid")).await;
    after
        .expect(200)
        .contains("Paiement enregistré")
        .contains("1 panier à venir sur 2");
    let list = app.store.checkout_list(&va, slot).await.expect("list");
    let b = list
        .sheet
        .baskets
        .iter()
        .find(|b| b.order_id == zoe)
        .expect("Zoé's basket");
    assert_eq!(b.collection, distribution::Collection::Collected);
    assert_eq!(b.paid.cents(), 840);
    assert_eq!(b.due.cents(), 0);

    // Collected without paying (paid online, say), then undone.
    let page = v.get(&format!("/checkout/{slot}")).await;
    let key = key_of(&page, emile);
    v.post(
        &format!("/checkout/{slot}/baskets/{emile}"),
        &[("action", "collected"), ("key", key.as_str())],
    )
    .await
    .expect(303);
    v.get(&format!("/checkout/{slot}"))
        .await
        .contains("Tous les paniers sont passés (2 au total).");
    v.post(
        &format!("/checkout/{slot}/baskets/{emile}"),
        &[("action", "pending"), ("key", key.as_str())],
    )
    .await
    .expect(303);
    v.get(&format!("/checkout/{slot}"))
        .await
        .contains("1 panier à venir sur 2");

    // A wrong amount: the list again, the error next to the basket, nothing recorded.
    let page = v.get(&format!("/checkout/{slot}")).await;
    let key = key_of(&page, emile);
    let refused = v
        .post(
            &format!("/checkout/{slot}/baskets/{emile}"),
            &[
                ("action", "paid"),
                ("method", "card"),
                ("amount", "douze"),
                ("key", key.as_str()),
            ],
        )
        .await;
    refused
        .expect(422)
        .contains("Indiquez un montant")
        .contains(&format!("aria-describedby=\"error-{emile}\""));
    assert_eq!(payments_of(&app, &va, slot, emile).await, 0);

    // The same in English.
    app.store.set_language(&va, "en").await.expect("English");
    let mut en = browser(&app, volunteer.id, "en").await;
    en.get(&format!("/checkout/{slot}"))
        .await
        .expect(200)
        .contains("1 basket still to come out of 2")
        .contains("1.5\u{a0}kg Carottes")
        .contains("value=\"8.40\"");
    app.cleanup().await;
}

async fn check_out_is_refused_to_others_and_without_the_form_token(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (consumer, order) = basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    let slot = w.slots[0];
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let va = actor(&app, volunteer.id).await;

    // Before the cycle closes, the list says so and a tap is refused with a reason.
    let mut v = browser(&app, volunteer.id, "fr").await;
    let page = v.get(&format!("/checkout/{slot}")).await;
    page.expect(200).contains("pas encore closes");
    assert!(!page.html.contains("Récupéré et payé"));
    v.post(
        &format!("/checkout/{slot}/baskets/{order}"),
        &[("action", "collected")],
    )
    .await
    .expect(409)
    .contains("pas encore closes");
    app.close_cycle(&w).await;

    // A consumer: 403, on the list and on a tap.
    let mut c = browser(&app, consumer.id, "fr").await;
    c.get("/checkout").await.expect(403);
    c.get(&format!("/checkout/{slot}")).await.expect(403);
    c.post(
        &format!("/checkout/{slot}/baskets/{order}"),
        &[("action", "collected")],
    )
    .await
    .expect(403);

    // A volunteer of another market: 404, as if the slot did not exist.
    let other = app.world().await;
    let stranger = app.user(Role::Volunteer, None, Some(other.market_id)).await;
    let mut s = browser(&app, stranger.id, "fr").await;
    s.get(&format!("/checkout/{slot}")).await.expect(404);
    s.post(
        &format!("/checkout/{slot}/baskets/{order}"),
        &[("action", "collected")],
    )
    .await
    .expect(404);
    let page = s.get("/checkout").await;
    page.expect(200);
    assert!(!page.html.contains(&format!("/checkout/{slot}\"")));
    // A basket of another slot, through this volunteer's own slot: 404.
    let mut own = browser(&app, volunteer.id, "fr").await;
    own.get(&format!("/checkout/{}", w.slots[1]))
        .await
        .expect(200);
    own.post(
        &format!("/checkout/{}/baskets/{order}", w.slots[1]),
        &[("action", "collected")],
    )
    .await
    .expect(404);

    // Without the form's token: 403, and the basket is as it was.
    own.get(&format!("/checkout/{slot}")).await.expect(200);
    own.post_raw(
        &format!("/checkout/{slot}/baskets/{order}"),
        &[("action", "collected")],
    )
    .await
    .expect(403);
    let list = app.store.checkout_list(&va, slot).await.expect("list");
    assert_eq!(
        list.sheet.baskets[0].collection,
        distribution::Collection::Pending
    );
    // Not logged in: off to the login page.
    let mut anonymous = app.visit("fr");
    let page = anonymous.get(&format!("/checkout/{slot}")).await;
    page.expect(303);
    assert!(page.location().starts_with("/login?next="));
    app.cleanup().await;
}

async fn the_list_of_a_hundred_baskets_stays_light(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    app.put(
        &format!(
            "/api/v1/cycles/{}/producers/{}/offers",
            w.cycle_id, w.producer_id
        ),
        w.producer.t(),
        json!({"offers": [
            {"product_id": w.products[0], "stock": "500"},
            {"product_id": w.products[1], "stock": "500"},
            {"product_id": w.products[2], "stock": "500"}
        ]}),
    )
    .await
    .expect(200);
    for i in 0..100 {
        let a = app
            .store
            .insert_account_with_hash(
                &format!("member{i}@example.org"),
                "not a hash".into(),
                format!("Membre {i:03} Durand-Lefèvre"),
                Some(format!("06 00 00 {:02} {:02}", i / 100, i % 100)),
                Role::Consumer,
                None,
                None,
            )
            .await
            .expect("a member");
        let lines = w
            .offers
            .iter()
            .map(|o| domain::RequestedLine {
                offer_id: *o,
                quantity: domain::Quantity::from_milli(1000),
            })
            .collect();
        app.store
            .place_order(
                &a,
                w.cycle_id,
                None,
                store::OrderRequest {
                    slot_id: w.slots[0],
                    lines,
                },
                None,
            )
            .await
            .expect("a basket");
    }
    app.close_cycle(&w).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let mut v = browser(&app, volunteer.id, "fr").await;
    let page = v.get(&format!("/checkout/{}", w.slots[0])).await;
    page.expect(200).contains("100 paniers à venir sur 100");
    let bytes = page.html.len();
    println!("check-out list of 100 baskets of 3 lines: {bytes} bytes of HTML");
    // About 1.6 KB a basket with its lines and its payment form (8 KB for the whole page
    // gzipped); the stylesheet is cached.
    assert!(bytes < 300_000, "{bytes} bytes");
    assert!(!page.html.contains("<img") && !page.html.contains("<script"));
    app.cleanup().await;
}

async fn a_host_flags_a_date_and_the_slot_is_cancelled_or_moved(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (consumer, order) = basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    let coordinator = actor(&app, w.coordinator.id).await;
    let host = app
        .named_user("Mairie de Parthenay", Role::Host, None, None)
        .await;
    app.store
        .assign_host_venue(&coordinator, host.id, w.points[0])
        .await
        .expect("a venue for the host");
    let ha = actor(&app, host.id).await;
    let venue = app.store.host_venue(&ha).await.expect("the venue");
    let tz = venue.timezone;
    let day = venue.slots[0]
        .slot
        .starts_at
        .with_timezone(&tz)
        .date_naive();

    let mut h = app.visit("fr");
    let login = h.log_in(&ha.email, PASSWORD).await;
    assert_eq!(login.location(), "/host");
    let page = h.get("/host").await;
    page.expect(200)
        .contains("Salle des fêtes")
        .contains("Paniers attendus")
        .contains(&format!("id=\"slot-{}\"", w.slots[0]));
    assert!(
        page.html.contains("<td class=\"num\">1</td>"),
        "one basket expected: {}",
        page.html
    );

    // Another venue's date cannot be flagged: 404, and that slot is untouched.
    let other_point = w.points[1].to_string();
    let other_day = app
        .store
        .venue(&coordinator, w.points[1])
        .await
        .expect("the other venue")
        .slots[0]
        .slot
        .starts_at
        .with_timezone(&tz)
        .date_naive()
        .to_string();
    h.post(
        "/host/closures",
        &[
            ("point", other_point.as_str()),
            ("day", other_day.as_str()),
            ("reason", "Travaux"),
        ],
    )
    .await
    .expect(404);
    // Without the form's token: 403 and nothing flagged.
    h.get("/host").await.expect(200);
    h.post_raw(
        "/host/closures",
        &[("day", day.to_string().as_str()), ("reason", "Élections")],
    )
    .await
    .expect(403);
    assert!(
        app.store
            .market_closures(&coordinator, w.market_id)
            .await
            .expect("closures")
            .is_empty()
    );
    // A blank reason: the form again, the error next to the field.
    let point = w.points[0].to_string();
    h.post(
        "/host/closures",
        &[
            ("point", point.as_str()),
            ("day", day.to_string().as_str()),
            ("reason", " "),
        ],
    )
    .await
    .expect(422)
    .contains("aria-describedby=\"reason-hint reason-error\"");

    let done = h
        .post(
            "/host/closures",
            &[
                ("point", point.as_str()),
                ("day", day.to_string().as_str()),
                ("reason", "Salle réquisitionnée pour les élections"),
            ],
        )
        .await;
    done.expect(303);
    assert_eq!(done.location(), "/host?done=host-flagged");
    h.get("/host?done=host-flagged")
        .await
        .expect(200)
        .contains("La date est signalée")
        .contains("Annulé")
        .contains("Salle réquisitionnée pour les élections");
    // Twice the same date: a conflict, said next to the date.
    h.post(
        "/host/closures",
        &[
            ("point", point.as_str()),
            ("day", day.to_string().as_str()),
            ("reason", "Encore"),
        ],
    )
    .await
    .expect(409)
    .contains("déjà signalée");

    // The consumer's basket says its slot is cancelled, and why.
    let mine = app
        .get(&format!("/api/v1/orders/{order}"), consumer.t())
        .await
        .expect(200);
    assert_eq!(mine["slot"]["cancelled"], true, "{mine}");
    let view = app
        .store
        .order(&actor(&app, consumer.id).await, order)
        .await
        .expect("the order");
    assert!(view.slot.cancelled);
    assert_eq!(
        view.slot.note.as_deref(),
        Some("Salle réquisitionnée pour les élections")
    );
    // The market's coordinators see the flag, with who flagged it.
    let flags = app
        .store
        .market_closures(&coordinator, w.market_id)
        .await
        .expect("closures");
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].day, day);
    assert_eq!(flags[0].flagged_by_name, "Mairie de Parthenay");
    // The volunteers' list says so too.
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    browser(&app, volunteer.id, "fr")
        .await
        .get(&format!("/checkout/{}", w.slots[0]))
        .await
        .expect(200)
        .contains("Ce créneau est annulé.");

    // A coordinator flags the other venue's date, moving its slot a day later, same hours.
    app.store
        .set_language(&coordinator, "en")
        .await
        .expect("English");
    let mut c = browser(&app, w.coordinator.id, "en").await;
    c.get(&format!("/host?point={}", w.points[1]))
        .await
        .expect(200)
        .contains("Ferme du Bourg");
    let before = app
        .store
        .venue(&coordinator, w.points[1])
        .await
        .expect("venue")
        .slots[0]
        .slot
        .clone();
    let next_day = (chrono::NaiveDate::parse_from_str(&other_day, "%Y-%m-%d").expect("a date")
        + Duration::days(1))
    .to_string();
    let moved = c
        .post(
            "/host/closures",
            &[
                ("point", other_point.as_str()),
                ("day", other_day.as_str()),
                ("reason", "Harvest festival"),
                ("move_to", next_day.as_str()),
            ],
        )
        .await;
    moved.expect(303);
    assert_eq!(
        moved.location(),
        format!("/host?point={}&done=host-flagged", w.points[1])
    );
    let after = app
        .store
        .venue(&coordinator, w.points[1])
        .await
        .expect("venue")
        .slots[0]
        .slot
        .clone();
    assert!(!after.cancelled);
    assert_eq!(after.starts_at - before.starts_at, Duration::days(1));
    assert_eq!(after.ends_at - before.ends_at, Duration::days(1));
    assert_eq!(after.moved_from, Some(before.starts_at));
    c.get(&format!("/host?point={}", w.points[1]))
        .await
        .expect(200)
        .contains("Moved (first planned on")
        .contains("Harvest festival");

    // A consumer is refused the host's page; a host of no venue finds nothing.
    browser(&app, consumer.id, "fr")
        .await
        .get("/host")
        .await
        .expect(403);
    let lost = app.user(Role::Host, None, None).await;
    browser(&app, lost.id, "fr")
        .await
        .get("/host")
        .await
        .expect(404);
    app.cleanup().await;
}

async fn the_demo_has_a_distribution_to_check_out_and_a_host(db: Db) {
    let app = TestApp::spawn(db).await;
    let demo = store::fixtures::load_demo(
        &app.store,
        include_str!("../../fixtures/demo.json"),
        chrono::Utc::now(),
    )
    .await
    .expect("the demo loads");
    let login = |role: &str| {
        demo.logins
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, e)| e.clone())
            .expect("a login for the role")
    };
    let mut v = app.visit("fr");
    v.log_in(&login("volunteer"), store::fixtures::DEMO_PASSWORD)
        .await;
    v.get("/checkout").await.expect(200);
    // Last week's cycle is closed: one of its slots is today or in the next days, with baskets.
    let volunteer = app
        .store
        .checkout_slots(&actor(&app, v_id(&app, &login("volunteer")).await).await)
        .await
        .expect("the slots");
    let ready = volunteer
        .iter()
        .find(|s| s.open_for_checkout && s.baskets > 0)
        .expect("a distribution with baskets to check out");
    v.get(&format!("/checkout/{}", ready.slot.id))
        .await
        .expect(200)
        .contains("Récupéré");

    let mut h = app.visit("fr");
    h.log_in(&login("host"), store::fixtures::DEMO_PASSWORD)
        .await;
    h.get("/host")
        .await
        .expect(200)
        .contains("Salle des fêtes")
        .contains("Paniers attendus");
    app.cleanup().await;
}

/// The id of the account of an email.
async fn v_id(app: &TestApp, email: &str) -> i64 {
    app.store
        .log_in(email, store::fixtures::DEMO_PASSWORD)
        .await
        .expect("the demo account")
        .session
        .actor
        .account_id
}

async fn a_slot_generated_on_a_flagged_date_comes_cancelled(db: Db) {
    use chrono::Datelike;
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let coordinator = actor(&app, w.coordinator.id).await;
    let tz = app
        .store
        .venue(&coordinator, w.points[0])
        .await
        .expect("the venue")
        .timezone;
    let day = chrono::Utc::now().with_timezone(&tz).date_naive() + Duration::days(10);
    let weekday = format!("{:?}", day.weekday()).to_lowercase();
    app.post(
        &format!("/api/v1/pickup-points/{}/slot-rules", w.points[0]),
        w.coordinator.t(),
        json!({"weekday": weekday, "starts": "17:30", "ends": "19:30"}),
    )
    .await
    .expect(201);
    app.store
        .flag_venue_unavailable(
            &coordinator,
            w.points[0],
            store::VenueFlag {
                day,
                reason: "Fête de la ville".into(),
                move_to: None,
            },
        )
        .await
        .expect("flagged before any slot exists");
    let closes = (day - Duration::days(1))
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    let cycle = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Plus tard", "opens_at": crate::helpers::iso(chrono::Utc::now() + Duration::hours(1)),
                   "closes_at": crate::helpers::iso(closes)}),
        )
        .await
        .expect(201);
    let slots = app
        .post(
            &format!("/api/v1/cycles/{}/slots/generate", cycle["id"]),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    let slots = slots.as_array().expect("slots");
    assert_eq!(slots.len(), 1, "{slots:?}");
    assert_eq!(slots[0]["cancelled"], true, "{slots:?}");
    let venue = app
        .store
        .venue(&coordinator, w.points[0])
        .await
        .expect("the venue");
    let generated = venue
        .slots
        .iter()
        .find(|s| Some(s.slot.id) == slots[0]["id"].as_i64())
        .expect("the generated slot");
    assert_eq!(generated.slot.note.as_deref(), Some("Fête de la ville"));
    app.cleanup().await;
}

both!(
    a_slot_generated_on_a_flagged_date_comes_cancelled,
    the_demo_has_a_distribution_to_check_out_and_a_host,
    a_volunteer_checks_a_basket_out_and_the_count_drops,
    check_out_is_refused_to_others_and_without_the_form_token,
    the_list_of_a_hundred_baskets_stays_light,
    a_host_flags_a_date_and_the_slot_is_cancelled_or_moved,
);
