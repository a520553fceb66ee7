//! One card payment through a real browser against localstripe (`stripe_support`): a consumer
//! confirms a basket in a market that takes cards, lands on the payment page, whose Stripe.js
//! (localstripe's stand-in, loaded from the market's configured address) mounts the card field
//! and tokenises the card 4242 4242 4242 4242; Halle confirms the intent with Stripe and the
//! order page says "paiement autorisé" on Stripe's word. The same page without JavaScript says
//! that card payment needs it, that the basket stays reserved and that paying on the spot is
//! possible. Every page passes axe-core and fits its screen.

use serde_json::json;
use store::Role;

use crate::{
    both,
    browser::{Browser, Lang},
    browser_roles::log_in,
    helpers::{Db, TestApp, World},
    stripe_support::{LocalStripe, PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET},
};

both!(a_consumer_pays_a_basket_by_card_in_the_browser);

/// The world's market takes cards (and cash) through the local Stripe.
async fn takes_cards(app: &TestApp, w: &World, stripe: &LocalStripe) {
    let admin = app.user(Role::Admin, None, None).await;
    let settings = app
        .put(
            &format!("/api/v1/markets/{}/payment-settings", w.market_id),
            admin.t(),
            json!({"mode": "both", "secret_key": SECRET_KEY, "publishable_key": PUBLISHABLE_KEY,
                   "webhook_secret": WEBHOOK_SECRET, "api_url": stripe.url,
                   "js_url": format!("{}/js.stripe.com/v3/", stripe.url)}),
        )
        .await
        .expect(200);
    assert_eq!(settings["takes_cards"], true);
    stripe
        .register_webhook(&format!("{}/stripe/webhooks/{}", app.base, w.market_id))
        .await;
}

async fn a_consumer_pays_a_basket_by_card_in_the_browser(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let stripe = LocalStripe::start().await;
    takes_cards(&app, &w, &stripe).await;
    let consumer = app
        .named_user("Mme Carole Payet", Role::Consumer, None, None)
        .await;

    let b = Browser::desktop(&app).await;
    log_in(&app, &b, &consumer, Lang::Fr).await;
    b.goto(&format!("/shop/{}", w.cycle_id)).await;
    b.fill("Carottes, Quantité", "1.5").await;
    b.fill("Œufs, Quantité", "2").await;
    b.click("Mettre dans mon panier").await;
    b.choose("Salle des fêtes").await;
    b.click("Valider ma commande").await;

    // The payment page: the order is placed, its card payment opened at Stripe.
    b.assert_shows("Votre commande est passée. Merci !").await;
    b.assert_shows("Montant réservé sur votre carte : 12,60 €.")
        .await;
    let path = b.path().await;
    let order_id: i64 = path
        .trim_start_matches("/orders/")
        .split('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a payment page: {path}"));
    assert!(
        path.starts_with(&format!("/orders/{order_id}/pay")),
        "{path}"
    );
    // Stripe.js came from the configured address and mounted its card field; the message for
    // browsers without JavaScript is gone.
    let mounted = b
        .js("return document.querySelectorAll('#card input').length")
        .await;
    assert_eq!(mounted, json!(5), "the card field is not mounted");
    assert!(!b.shows("a besoin de JavaScript").await);
    b.look("pay-fr").await;
    assert_eq!(stripe.intents().await.len(), 1);

    // The card, typed into Stripe.js's field (localstripe's has five boxes).
    b.js("const v = ['4242424242424242', '12', '30', '123', '79200'];
          document.querySelectorAll('#card input').forEach((e, i) => {
            e.value = v[i]; e.dispatchEvent(new Event('input', { bubbles: true }));
          });
          return true")
        .await;
    // Amounts are written with a no-break space before the euro sign.
    b.click("Payer 12,60\u{a0}€").await;
    b.assert_path(&format!("/orders/{order_id}?done=payment-sent"))
        .await;
    b.assert_shows("Paiement autorisé : 12,60 € réservés sur votre carte.")
        .await;
    b.look("pay-authorised-fr").await;

    // Stripe holds it, and so does Halle, on Stripe's word.
    let intents = stripe.intents().await;
    assert_eq!(intents.len(), 1, "{intents:?}");
    assert_eq!(intents[0]["status"], "requires_capture");
    assert_eq!(intents[0]["amount"], 1260);
    let rows = app
        .get(
            &format!("/api/v1/orders/{order_id}/payments/online"),
            consumer.t(),
        )
        .await
        .expect(200);
    assert_eq!(rows[0]["status"], "authorised");
    // The payment page now says so, and offers no card field.
    b.goto(&format!("/orders/{order_id}/pay")).await;
    b.assert_shows("Paiement autorisé").await;
    assert!(!b.shows("Payer 12,60").await);
    b.close().await;

    // Without JavaScript (English, a phone): what to do instead, the basket kept.
    let other = app
        .named_user("Mr Paul Cash", Role::Consumer, None, None)
        .await;
    let id = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            other.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("an order id");
    let phone = Browser::phone(&app).await;
    log_in(&app, &phone, &other, Lang::En).await;
    phone.goto(&format!("/orders/{id}")).await;
    phone.assert_shows("Not paid yet.").await;
    phone.click("Pay by card").await;
    phone.assert_path(&format!("/orders/{id}/pay")).await;
    phone
        .assert_shows("Card payment needs JavaScript, which is not on for this page.")
        .await;
    phone.assert_shows("Your basket stays reserved").await;
    phone
        .assert_shows("You can also pay on the spot, at pickup.")
        .await;
    phone.look("pay-nojs-en").await;
    phone.close().await;
    app.cleanup().await;
}
