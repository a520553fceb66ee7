//! The staff's jobs in a real browser: a producer publishes the week in one submit, a mediator
//! (the coordinator) orders for a member, a volunteer checks a basket out, a host flags a date
//! the venue is unavailable. Each in French on a phone without JavaScript, then again in
//! English (the language switch) on a desktop with it; every page visited passes axe-core and
//! fits its screen, and is photographed.

use serde_json::json;
use store::Role;

use crate::{
    both,
    browser::{Browser, Lang},
    helpers::{Db, PASSWORD, TestApp, User, World},
};

both!(
    a_producer_publishes_the_week_in_one_submit,
    a_mediator_orders_for_a_member,
    a_volunteer_checks_a_basket_out,
    a_host_flags_a_date_the_venue_is_unavailable,
);

/// Logs `user` in through the login form, and switches the account's language to `lang` if
/// it is not.
pub async fn log_in(app: &TestApp, b: &Browser, user: &User, lang: Lang) {
    let email = app.store.actor(user.id).await.expect("the account").email;
    b.goto("/login").await;
    b.fill("email", &email).await;
    b.fill("password", PASSWORD).await;
    // The login page speaks the visitor's language.
    let page_lang = b.js("return document.documentElement.lang").await;
    b.click(if page_lang == "en" {
        "Log in"
    } else {
        "Se connecter"
    })
    .await;
    // The pages speak the account's language; the switch changes it.
    match (lang, b.shows("Se déconnecter").await) {
        (Lang::En, true) => b.click("English").await,
        (Lang::Fr, false) => b.click("Français").await,
        _ => {}
    }
    b.assert_shows(lang.t("Se déconnecter", "Log out")).await;
}

/// A consumer with a name, a phone and a basket (1.5 kg of carrots, a dozen eggs: 8.40 €) at
/// the world's first slot.
pub async fn basket(app: &TestApp, w: &World, name: &str, phone: &str) -> (User, i64) {
    let user = app.named_user(name, Role::Consumer, None, None).await;
    let actor = app.store.actor(user.id).await.expect("the consumer");
    app.store
        .set_profile(&actor, name, Some(phone), "fr")
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
    (user, order["id"].as_i64().expect("an order id"))
}

async fn a_producer_publishes_the_week_in_one_submit(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    for (b, lang, price) in [
        (Browser::phone(&app).await, Lang::Fr, "3,10"),
        (Browser::desktop(&app).await, Lang::En, "3.20"),
    ] {
        let t = |fr, en| lang.t(fr, en);
        let name = |page: &str| format!("{page}-{}", lang.code());
        log_in(&app, &b, &w.producer, lang).await;
        b.goto("/producer").await;
        b.assert_shows("Semaine test").await;
        b.look(&name("producer-home")).await;
        b.click(&format!(
            "{} (Semaine test)",
            t(
                "Modifier mon offre de la semaine",
                "Change my offer for the week"
            )
        ))
        .await;
        b.assert_path(&format!("/producer/week/{}", w.cycle_id))
            .await;
        b.look(&name("producer-week")).await;

        // Every product is a row; three changes, one submit.
        let on_sale = t("En vente cette semaine", "On sale this week");
        let price_label = t("Prix TTC", "Price incl. VAT");
        b.group("Carottes").fill(price_label, price).await;
        b.group("Œufs")
            .fill(t("Stock disponible", "Stock available"), "40")
            .await;
        // Off sale in French, back on sale (with a stock) in English.
        let chicken_on_sale = lang == Lang::En;
        let chicken = b.group("Poulet fermier");
        chicken.check(on_sale, chicken_on_sale).await;
        if chicken_on_sale {
            chicken.fill("Stock available", "4").await;
        }
        b.click(t("Publier mon offre", "Publish my offer")).await;
        b.assert_shows(t(
            "Votre offre de la semaine est publiée.",
            "Your offer for the week is published.",
        ))
        .await;

        // Read back from the store: the week page shows what was saved.
        b.goto(&format!("/producer/week/{}", w.cycle_id)).await;
        assert_eq!(b.group("Carottes").value(price_label).await, price);
        assert_eq!(
            b.group("Œufs")
                .value(t("Stock disponible", "Stock available"))
                .await,
            "40"
        );
        let listed = app
            .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
            .await
            .expect(200)["offers"]
            .as_array()
            .expect("offers")
            .iter()
            .any(|o| o["product_id"] == w.products[2]);
        assert_eq!(listed, chicken_on_sale, "the chicken's offer");
        b.close().await;
    }
    app.cleanup().await;
}

async fn a_mediator_orders_for_a_member(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;

    let b = Browser::phone(&app).await;
    log_in(&app, &b, &w.coordinator, Lang::Fr).await;
    b.assert_path("/desk").await;
    b.look("desk-fr").await;
    b.click("Adhérents").await;
    b.look("members-fr").await;
    b.fill("Nom ou téléphone", "Roux").await;
    b.click("Chercher").await;
    b.assert_shows("Personne ne correspond.").await;
    // Created on the spot, without an email, and ordered for at once.
    b.fill("Nom et prénom", "Mme Germaine Roux").await;
    b.fill("Téléphone", "05 49 64 00 00").await;
    b.click("Créer et commander pour cette personne").await;
    b.assert_shows("Vous commandez pour Mme Germaine Roux")
        .await;
    b.look("shop-for-member-fr").await;
    b.fill("Carottes, Quantité", "1").await;
    b.fill("Œufs, Quantité", "1").await;
    b.fill("Poulet fermier, Quantité", "1").await;
    b.click("Mettre dans mon panier").await;
    b.choose("Ferme du Bourg").await;
    b.click("Valider ma commande").await;
    b.assert_shows("Votre commande est passée. Merci !").await;
    b.assert_shows("Pour Mme Germaine Roux.").await;
    b.assert_shows("Passée par l'équipe du marché.").await;
    b.look("order-for-member-fr").await;
    b.click("Arrêter").await;
    b.assert_shows("Vous ne commandez plus pour cette personne.")
        .await;
    b.close().await;

    // In English: found by phone, the same basket changed.
    let b = Browser::desktop(&app).await;
    log_in(&app, &b, &w.coordinator, Lang::En).await;
    b.goto("/desk").await;
    b.look("desk-en").await;
    // The market's audit trail: the cycle opened and the offers listed.
    b.click("Audit trail").await;
    b.assert_shows("Cycle state").await;
    b.look("audit-en").await;
    b.goto("/desk").await;
    b.click("Members").await;
    b.fill("Name or phone", "05 49 64").await;
    b.click("Search").await;
    b.look("members-found-en").await;
    b.click("Order for this person Mme Germaine Roux").await;
    b.assert_shows("Ordering for Mme Germaine Roux").await;
    assert_eq!(b.value("Œufs, Quantity").await, "1");
    b.fill("Œufs, Quantity", "2").await;
    b.click("Put in my basket").await;
    b.click("Save the changes").await;
    b.assert_shows("Your order is changed.").await;
    b.assert_shows("For Mme Germaine Roux.").await;
    b.look("order-for-member-en").await;
    b.click("Stop").await;
    b.assert_shows("You no longer order for this person.").await;
    b.close().await;
    app.cleanup().await;
}

async fn a_volunteer_checks_a_basket_out(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    basket(&app, &w, "Émile Dupont", "07 55 66 77 88").await;
    app.close_cycle(&w).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let slot = format!("/checkout/{}", w.slots[0]);

    let b = Browser::phone(&app).await;
    log_in(&app, &b, &volunteer, Lang::Fr).await;
    b.assert_path("/checkout").await;
    b.assert_shows("2 paniers à venir sur 2").await;
    b.look("checkout-fr").await;
    b.click("Salle des fêtes").await;
    b.assert_path(&slot).await;
    b.look("checkout-slot-fr").await;
    b.fill("Rechercher un nom ou un téléphone", "zoe").await;
    b.click("Rechercher").await;
    assert!(!b.shows("Émile Dupont").await, "the search kept Émile");
    // Collected and paid in cash in one tap: the amount due is in the form already.
    assert_eq!(b.value("Montant payé (€)").await, "8,40");
    b.click("Récupéré et payé Zoé Martin").await;
    b.assert_shows("Paiement enregistré, panier récupéré.")
        .await;
    b.assert_shows("1 panier à venir sur 2").await;
    b.look("checkout-paid-fr").await;
    b.close().await;

    let b = Browser::desktop(&app).await;
    log_in(&app, &b, &volunteer, Lang::En).await;
    b.goto(&slot).await;
    b.assert_shows("1 basket still to come out of 2").await;
    let emile = b.group("Émile Dupont");
    assert_eq!(emile.value("Amount paid (€)").await, "8.40");
    emile.choose("Card (terminal)").await;
    emile.click("Collected and paid Émile Dupont").await;
    b.assert_shows("Payment recorded, basket collected.").await;
    b.assert_shows("Every basket is done (2 in all).").await;
    b.look("checkout-slot-en").await;
    b.close().await;

    let volunteer = app.store.actor(volunteer.id).await.expect("volunteer");
    let list = app
        .store
        .checkout_list(&volunteer, w.slots[0])
        .await
        .expect("the list");
    for basket in &list.sheet.baskets {
        assert_eq!(basket.collection, distribution::Collection::Collected);
        assert_eq!(basket.due.cents(), 0);
    }
    app.cleanup().await;
}

async fn a_host_flags_a_date_the_venue_is_unavailable(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    let coordinator = app
        .store
        .actor(w.coordinator.id)
        .await
        .expect("coordinator");
    let host = app
        .named_user("Mairie de Parthenay", Role::Host, None, None)
        .await;
    app.store
        .assign_host_venue(&coordinator, host.id, w.points[0])
        .await
        .expect("a venue for the host");
    let venue = app
        .store
        .host_venue(&app.store.actor(host.id).await.expect("host"))
        .await
        .expect("the venue");
    let day = venue.slots[0]
        .slot
        .starts_at
        .with_timezone(&venue.timezone)
        .date_naive()
        .to_string();

    // In English first: a date without a reason is refused, the error next to its field.
    let b = Browser::desktop(&app).await;
    log_in(&app, &b, &host, Lang::En).await;
    b.goto("/host").await;
    b.assert_shows("Salle des fêtes").await;
    b.look("host-en").await;
    b.fill("Date the venue is unavailable", &day).await;
    b.click("Flag the date").await;
    b.assert_shows("Say why (500 characters at most).").await;
    b.look("host-error-en").await;
    b.close().await;

    let b = Browser::phone(&app).await;
    log_in(&app, &b, &host, Lang::Fr).await;
    b.assert_path("/host").await;
    b.look("host-fr").await;
    b.fill("Date où le lieu n'est pas disponible", &day).await;
    b.fill("Raison", "Salle réquisitionnée pour les élections")
        .await;
    b.click("Signaler l'indisponibilité").await;
    b.assert_shows("La date est signalée").await;
    b.assert_shows("Annulé").await;
    b.assert_shows("Salle réquisitionnée pour les élections")
        .await;
    b.look("host-flagged-fr").await;
    b.close().await;
    app.cleanup().await;
}
