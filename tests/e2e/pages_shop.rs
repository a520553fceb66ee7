//! Pages: a market's home, the shop, the basket, orders, and digital mediation, through real
//! HTTP like a browser without JavaScript.

use chrono::{Duration, Utc};
use domain::{Quantity, RequestedLine};
use serde_json::json;
use store::{OrderRequest, Role};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, World, iso},
    pages_support::Visit,
};

async fn email_of(app: &TestApp, id: i64) -> String {
    app.store.actor(id).await.expect("the account").email
}

/// A new consumer, signed up through the page, in the browser `v`.
async fn sign_up(v: &mut Visit, name: &str, email: &str) {
    v.get("/signup").await.expect(200);
    v.post(
        "/signup",
        &[
            ("name", name),
            ("email", email),
            ("password", "un mot de passe long"),
        ],
    )
    .await
    .expect(303);
}

/// Someone else buys `milli` thousandths of an offer, straight through the store.
async fn buy_elsewhere(app: &TestApp, w: &World, offer: usize, quantity: &str) -> i64 {
    let buyer = app.user(Role::Consumer, None, None).await;
    let actor = app.store.actor(buyer.id).await.expect("the buyer");
    let placed = app
        .store
        .place_order(
            &actor,
            w.cycle_id,
            None,
            OrderRequest {
                slot_id: w.slots[0],
                lines: vec![RequestedLine {
                    offer_id: w.offers[offer],
                    quantity: Quantity::new(quantity.parse().expect("a decimal"))
                        .expect("a quantity"),
                }],
            },
            None,
        )
        .await
        .expect("the other order");
    match placed {
        store::Placed::Created(o) | store::Placed::Replayed(o) => o.id,
    }
}

fn order_id_of(location: &str) -> i64 {
    location
        .strip_prefix("/orders/")
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not an order's page: {location}"))
}

async fn a_consumer_shops_confirms_changes_and_cancels(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let [carrots, eggs, chicken] = [w.offers[0], w.offers[1], w.offers[2]];
    let slug = app.store.market(w.market_id).await.expect("market").slug;
    let mut v = app.visit("fr-FR");

    // The market's home: who runs it, the open cycle, the slots, the producers.
    v.get(&format!("/m/{slug}"))
        .await
        .expect(200)
        .contains("Marché test")
        .contains("Semaine test")
        .contains("Salle des fêtes")
        .contains("Accueilli par Ville")
        .contains("Les Jardins du Thouet")
        .contains("camille@example.fr")
        .contains(&format!("href=\"/shop/{}\"", w.cycle_id));
    v.get("/m/no-such-market").await.expect(404);

    sign_up(&mut v, "Mme Jeanne Roux", "jeanne.shop@example.org").await;
    let shop = format!("/shop/{}", w.cycle_id);
    let basket = format!("{shop}/basket");
    let page = v.get(&shop).await;
    page.expect(200)
        .contains("Carottes")
        .contains("2,80\u{a0}€ / kg")
        .contains("Pièce d&#x27;environ 1,8\u{a0}kg, soit environ 22,50\u{a0}€")
        .contains("Au poids")
        .contains("Pièces pesées")
        .contains("Plus que 6\u{a0}pièces")
        .contains(&format!(
            "name=\"q_{carrots}\" type=\"number\" min=\"0\" step=\"0.5\" inputmode=\"decimal\""
        ))
        .contains(&format!(
            "name=\"q_{eggs}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\""
        ));

    // The text filter, server side.
    let page = v.get(&format!("{shop}?q=carot")).await;
    page.expect(200).contains("Carottes");
    assert!(!page.html.contains("Poulet fermier"), "filtered out");

    // One form, one submit: the draft basket, then the basket page.
    let page = v
        .post(
            &shop,
            &[
                (&format!("q_{carrots}"), "1,5"),
                (&format!("q_{eggs}"), "2"),
                (&format!("q_{chicken}"), ""),
            ],
        )
        .await;
    page.expect(303);
    assert_eq!(page.location(), basket);

    // It survives a reload, and a new login.
    v.get(&shop).await.contains(&format!("name=\"q_{carrots}\" type=\"number\" min=\"0\" step=\"0.5\" inputmode=\"decimal\" value=\"1.5\""));
    v.post("/logout", &[]).await.expect(303);
    v.log_in("jeanne.shop@example.org", "un mot de passe long")
        .await;
    v.get(&basket)
        .await
        .expect(200)
        .contains("Carottes")
        .contains("Œufs")
        .contains("12,60\u{a0}€")
        .contains("dont TVA 5,5 %")
        .contains("Salle des fêtes");

    // Confirming without a slot says so next to the slots.
    v.post(&basket, &[("action", "confirm")])
        .await
        .expect(422)
        .contains("Choisissez un lieu et une heure de retrait.");
    let slot = w.slots[0].to_string();
    let page = v
        .post(&basket, &[("action", "confirm"), ("slot", &slot)])
        .await;
    page.expect(303);
    assert!(
        page.location().ends_with("?done=order-placed"),
        "{}",
        page.location()
    );
    let order = order_id_of(page.location());
    v.get(page.location())
        .await
        .expect(200)
        .contains("Votre commande est passée.")
        .contains("Commande passée")
        .contains("12,60\u{a0}€")
        .contains("Salle des fêtes");
    let stored = app
        .store
        .order(
            &app.store
                .actor(order_owner(&app, order).await)
                .await
                .expect("owner"),
            order,
        )
        .await
        .expect("order");
    assert_eq!(stored.lines.len(), 2);

    // Change it: the shop again, pre-filled from the order.
    v.get(&shop)
        .await
        .contains("Vous avez déjà une commande")
        .contains(&format!("name=\"q_{eggs}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"2\""));
    v.post(&shop, &[(&format!("q_{eggs}"), "3")])
        .await
        .expect(303);
    v.get(&basket).await.expect(200).contains("16,80\u{a0}€");
    let page = v
        .post(
            &basket,
            &[
                ("action", "confirm"),
                ("slot", &slot),
                (&format!("q_{eggs}"), "3"),
            ],
        )
        .await;
    page.expect(303);
    assert_eq!(
        page.location(),
        format!("/orders/{order}?done=order-changed")
    );
    v.get(&format!("/orders/{order}"))
        .await
        .contains("16,80\u{a0}€");
    v.get("/orders")
        .await
        .expect(200)
        .contains(&format!("/orders/{order}"));

    // Cancel it, after a confirmation step.
    v.get(&format!("/orders/{order}/cancel"))
        .await
        .expect(200)
        .contains("Oui, annuler la commande");
    let page = v.post(&format!("/orders/{order}/cancel"), &[]).await;
    page.expect(303);
    assert_eq!(page.location(), "/orders?done=order-cancelled");
    v.get(&format!("/orders/{order}"))
        .await
        .expect(200)
        .contains("Annulée");
    let cycle = app
        .store
        .cycle(store::Viewer::Anonymous, w.cycle_id)
        .await
        .expect("the cycle");
    let eggs_left = cycle
        .offers
        .iter()
        .find(|o| o.id == eggs)
        .expect("eggs")
        .stock_left;
    assert_eq!(
        eggs_left,
        Quantity::from_milli(20_000),
        "the stock came back"
    );
    app.cleanup().await;
}

async fn order_owner(app: &TestApp, order: i64) -> i64 {
    use sea_orm::EntityTrait;
    store::entities::order::Entity::find_by_id(order)
        .one(app.store.db())
        .await
        .expect("a query")
        .expect("the order")
        .account_id
}

async fn running_out_shows_only_n_left_next_to_the_line_and_keeps_the_basket(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let [carrots, eggs, chicken] = [w.offers[0], w.offers[1], w.offers[2]];
    let mut v = app.visit("fr");
    sign_up(&mut v, "Paul Petit", "paul.shop@example.org").await;
    let shop = format!("/shop/{}", w.cycle_id);
    let basket = format!("{shop}/basket");

    // A quantity off the product's step is refused next to its line, nothing else lost.
    v.get(&shop).await;
    let page = v
        .post(
            &shop,
            &[
                (&format!("q_{carrots}"), "0.3"),
                (&format!("q_{chicken}"), "5"),
            ],
        )
        .await;
    page.expect(422)
        .contains("Ce produit se commande par 0,5.")
        .contains(&format!("id=\"e{carrots}\""))
        .contains("value=\"0.3\"");
    v.post(
        &shop,
        &[
            (&format!("q_{carrots}"), "1"),
            (&format!("q_{chicken}"), "5"),
        ],
    )
    .await
    .expect(303);

    // Meanwhile someone else buys 4 of the 6 chickens, and every egg.
    buy_elsewhere(&app, &w, 2, "4").await;
    buy_elsewhere(&app, &w, 1, "20").await;
    let page = v.get(&shop).await;
    page.expect(200).contains("Épuisé");
    assert!(
        !page.html.contains(&format!("name=\"q_{eggs}\"")),
        "a sold-out offer takes no order"
    );

    v.get(&basket)
        .await
        .expect(200)
        .contains("Plus que 2\u{a0}pièces");
    let slot = w.slots[1].to_string();
    let page = v
        .post(&basket, &[("action", "confirm"), ("slot", &slot)])
        .await;
    page.expect(409).contains(&format!(
        "<p class=\"error\" id=\"e{chicken}\">Plus que 2\u{a0}pièces</p>"
    ));
    // Nothing lost: the basket is still there after a reload.
    v.get(&basket)
        .await
        .expect(200)
        .contains(&format!("name=\"q_{chicken}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"5\""))
        .contains(&format!("name=\"q_{carrots}\""));
    // Taking what is left goes through.
    let page = v
        .post(
            &basket,
            &[
                ("action", "confirm"),
                ("slot", &slot),
                (&format!("q_{chicken}"), "2"),
            ],
        )
        .await;
    page.expect(303);
    assert!(
        page.location().ends_with("?done=order-placed"),
        "{}",
        page.location()
    );

    // Changing the order: it may keep its 2 chickens, not take a third.
    let page = v.get(&shop).await;
    page.contains("Épuisé").contains(&format!(
        "name=\"q_{chicken}\" type=\"number\" min=\"0\" step=\"1\" inputmode=\"numeric\" value=\"2\""
    ));
    v.post(&shop, &[(&format!("q_{chicken}"), "3")])
        .await
        .expect(303);
    v.get(&basket).await;
    v.post(&basket, &[("action", "confirm"), ("slot", &slot)])
        .await
        .expect(409)
        .contains(&format!(
            "<p class=\"error\" id=\"e{chicken}\">Plus que 2\u{a0}pièces</p>"
        ));
    app.cleanup().await;
}

async fn other_peoples_orders_and_draft_cycles_are_not_found(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut a = app.visit("fr");
    sign_up(&mut a, "Anne", "anne.shop@example.org").await;
    let shop = format!("/shop/{}", w.cycle_id);
    a.get(&shop).await;
    a.post(&shop, &[(&format!("q_{}", w.offers[1]), "1")])
        .await
        .expect(303);
    a.get(&format!("{shop}/basket")).await;
    let slot = w.slots[0].to_string();
    let page = a
        .post(
            &format!("{shop}/basket"),
            &[("action", "confirm"), ("slot", &slot)],
        )
        .await;
    let order = order_id_of(page.location());

    let mut b = app.visit("fr");
    sign_up(&mut b, "Bruno", "bruno.shop@example.org").await;
    b.get(&format!("/orders/{order}")).await.expect(404);
    b.get(&format!("/orders/{order}/cancel")).await.expect(404);
    b.get("/orders").await;
    b.post(&format!("/orders/{order}/cancel"), &[])
        .await
        .expect(404);
    a.get(&format!("/orders/{order}"))
        .await
        .expect(200)
        .contains("Commande passée");
    // Bruno's basket is his own.
    b.get(&format!("{shop}/basket"))
        .await
        .expect(200)
        .contains("Votre panier est vide.");

    // A draft cycle's shop does not exist for consumers.
    let now = Utc::now();
    let draft = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Brouillon", "opens_at": iso(now + Duration::days(6)), "closes_at": iso(now + Duration::days(8)),
                   "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + Duration::days(9)), "ends_at": iso(now + Duration::days(9) + Duration::hours(2))}]}),
        )
        .await
        .expect(201);
    let draft_id = draft["id"].as_i64().expect("cycle id");
    b.get(&format!("/shop/{draft_id}")).await.expect(404);
    b.get(&format!("/shop/{draft_id}/basket")).await.expect(404);
    app.visit("fr")
        .get(&format!("/shop/{draft_id}"))
        .await
        .expect(404);
    app.cleanup().await;
}

async fn forms_without_their_csrf_token_change_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = app.visit("fr");
    sign_up(&mut v, "Claire", "claire.shop@example.org").await;
    let shop = format!("/shop/{}", w.cycle_id);
    v.get(&shop).await;
    let field = format!("q_{}", w.offers[1]);
    v.post_raw(&shop, &[(field.as_str(), "2")])
        .await
        .expect(403);
    v.get(&format!("{shop}/basket"))
        .await
        .contains("Votre panier est vide.");

    v.post(&shop, &[(field.as_str(), "2")]).await.expect(303);
    v.get(&format!("{shop}/basket")).await;
    let slot = w.slots[0].to_string();
    v.post_raw(
        &format!("{shop}/basket"),
        &[("action", "confirm"), ("slot", &slot)],
    )
    .await
    .expect(403);
    v.get("/orders").await.contains("Aucune commande.");
    let page = v
        .post(
            &format!("{shop}/basket"),
            &[("action", "confirm"), ("slot", &slot)],
        )
        .await;
    let order = order_id_of(page.location());
    v.post_raw(&format!("/orders/{order}/cancel"), &[])
        .await
        .expect(403);
    v.get(&format!("/orders/{order}"))
        .await
        .contains("Commande passée");
    app.cleanup().await;
}

async fn a_coordinator_orders_for_a_member_without_email(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let coordinator = email_of(&app, w.coordinator.id).await;
    let mut c = app.visit("fr");
    c.log_in(&coordinator, PASSWORD).await;

    // Nobody yet; create her on the spot, with no email: the session orders for her.
    c.get("/desk/members?q=Paulette")
        .await
        .expect(200)
        .contains("Personne ne correspond.");
    c.post("/desk/members", &[("name", ""), ("phone", "")])
        .await
        .expect(422)
        .contains("aria-invalid=\"true\"");
    let page = c
        .post(
            "/desk/members",
            &[("name", "Mme Paulette Martin"), ("phone", "05 49 12 34 56")],
        )
        .await;
    page.expect(303);
    let shop = format!("/shop/{}", w.cycle_id);
    assert_eq!(page.location(), shop);
    c.get(&shop)
        .await
        .expect(200)
        .contains("Vous commandez pour Mme Paulette Martin");
    c.post(
        &shop,
        &[
            (&format!("q_{}", w.offers[0]), "2"),
            (&format!("q_{}", w.offers[1]), "1"),
            (&format!("q_{}", w.offers[2]), "1"),
        ],
    )
    .await
    .expect(303);
    c.get(&format!("{shop}/basket"))
        .await
        .contains("Vous commandez pour Mme Paulette Martin");
    let slot = w.slots[0].to_string();
    let page = c
        .post(
            &format!("{shop}/basket"),
            &[("action", "confirm"), ("slot", &slot)],
        )
        .await;
    page.expect(303);
    let order = order_id_of(page.location());
    let page = c.get(&format!("/orders/{order}")).await;
    page.expect(200)
        .contains("Pour Mme Paulette Martin.")
        .contains("Passée par l&#x27;équipe du marché.");
    assert!(
        !page.html.contains("members.halle.invalid"),
        "the internal address never shows"
    );
    c.get("/orders").await.contains(&format!("/orders/{order}"));

    // Stored for her, placed by the coordinator.
    use sea_orm::EntityTrait;
    let row = store::entities::order::Entity::find_by_id(order)
        .one(app.store.db())
        .await
        .expect("a query")
        .expect("the order");
    assert_eq!(row.placed_by, w.coordinator.id);
    assert_ne!(row.account_id, w.coordinator.id);
    let member = app.store.actor(row.account_id).await.expect("the member");
    assert_eq!(member.name, "Mme Paulette Martin");
    assert_eq!(member.role, Role::Consumer);

    // Stop: no banner any more; find her again by phone, order for her again.
    let page = c.post("/desk/members/stop", &[]).await;
    page.expect(303);
    let page = c.get(page.location()).await;
    assert!(!page.html.contains("Vous commandez pour"), "{}", page.html);
    let page = c.get("/desk/members?q=0549").await;
    page.expect(200).contains("Mme Paulette Martin");
    assert!(
        !page.html.contains("members.halle.invalid"),
        "the internal address never shows"
    );
    c.post(&format!("/desk/members/{}/act", row.account_id), &[])
        .await
        .expect(303);
    c.get("/orders")
        .await
        .contains("Vous commandez pour Mme Paulette Martin")
        .contains(&format!("/orders/{order}"));

    // No password opens her account; a consumer has no desk, and cannot act for her.
    let mut her = app.visit("fr");
    her.get("/login").await;
    her.post("/login", &[("email", &member.email), ("password", "")])
        .await
        .expect(401);
    let mut consumer = app.visit("fr");
    sign_up(&mut consumer, "Denis", "denis.shop@example.org").await;
    consumer.get("/desk/members?q=Paulette").await.expect(403);
    consumer.get("/").await;
    consumer
        .post(&format!("/desk/members/{}/act", row.account_id), &[])
        .await
        .expect(403);
    app.cleanup().await;
}

async fn the_shop_in_english(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = app.visit("en-GB,en;q=0.9");
    sign_up(&mut v, "Emma Stone", "emma.shop@example.org").await;
    let shop = format!("/shop/{}", w.cycle_id);
    v.get(&shop)
        .await
        .expect(200)
        .contains("<html lang=\"en\">")
        .contains("€2.80 / kg")
        .contains("A piece of about 1.8\u{a0}kg, about €22.50")
        .contains("Only 6\u{a0}pieces left")
        .contains("Put in my basket");
    v.post(&shop, &[(&format!("q_{}", w.offers[1]), "1.5")])
        .await
        .expect(422)
        .contains("This product is sold by the unit: a whole number.");
    v.post(&shop, &[(&format!("q_{}", w.offers[1]), "2")])
        .await
        .expect(303);
    v.get(&format!("{shop}/basket"))
        .await
        .expect(200)
        .contains("€8.40")
        .contains("Place my order");
    let eggs = w.offers[1].to_string();
    let page = v
        .post(&format!("{shop}/basket"), &[("remove", eggs.as_str())])
        .await;
    page.expect(303);
    v.get(page.location())
        .await
        .contains("Your basket is saved.")
        .contains("Your basket is empty.");
    app.cleanup().await;
}

both!(
    a_consumer_shops_confirms_changes_and_cancels,
    running_out_shows_only_n_left_next_to_the_line_and_keeps_the_basket,
    other_peoples_orders_and_draft_cycles_are_not_found,
    forms_without_their_csrf_token_change_nothing,
    a_coordinator_orders_for_a_member_without_email,
    the_shop_in_english,
);
