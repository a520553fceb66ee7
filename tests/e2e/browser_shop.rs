//! A consumer in a real browser: from the market's home, signs up, filters the shop, fills a
//! basket, is told to choose a slot, confirms, changes the order, cancels it. In French on a
//! phone without JavaScript, then in English (the language switch) on a desktop with it; every
//! page visited passes axe-core and fits its screen, and is photographed.

use crate::{
    both,
    browser::{Browser, Lang},
    helpers::{Db, TestApp, World},
};

both!(a_consumer_signs_up_shops_changes_and_cancels_a_basket);

async fn a_consumer_signs_up_shops_changes_and_cancels_a_basket(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let slug = app.store.market(w.market_id).await.expect("market").slug;

    let phone = Browser::phone(&app).await;
    shop(&phone, &w, &slug, Lang::Fr, "jeanne@example.org").await;
    phone.close().await;

    let desktop = Browser::desktop(&app).await;
    shop(&desktop, &w, &slug, Lang::En, "jane@example.org").await;
    desktop.close().await;
    app.cleanup().await;
}

async fn shop(b: &Browser, w: &World, slug: &str, lang: Lang, email: &str) {
    let t = |fr, en| lang.t(fr, en);
    let name = |page: &str| format!("{page}-{}", lang.code());

    b.goto(&format!("/m/{slug}")).await;
    if lang == Lang::En {
        b.click("English").await;
    }
    b.assert_shows("Les Jardins du Thouet").await;
    b.assert_shows("Salle des fêtes").await;
    b.look(&name("market")).await;

    b.click(t("Commander", "Order")).await;
    b.assert_path(&format!("/shop/{}", w.cycle_id)).await;
    // A visitor sees the offers, and is asked to sign up to order.
    b.assert_shows("Poulet fermier").await;
    b.click(t("Créer un compte", "Sign up")).await;
    b.look(&name("signup-from-shop")).await;
    b.fill(t("Nom et prénom", "Full name"), "Mme Jeanne Roux")
        .await;
    b.fill(t("Adresse e-mail", "Email address"), email).await;
    b.fill(t("Mot de passe", "Password"), "un mot de passe long")
        .await;
    b.click(t("Créer mon compte", "Create my account")).await;
    b.assert_path(&format!("/shop/{}", w.cycle_id)).await;
    b.look(&name("shop")).await;

    // The text filter, without scripts: a GET form.
    b.fill(
        t(
            "Chercher un produit ou un producteur",
            "Search a product or a producer",
        ),
        "carot",
    )
    .await;
    b.click(t("Chercher", "Search")).await;
    b.assert_shows("Carottes").await;
    assert!(
        !b.shows("Poulet fermier").await,
        "the filter kept the chicken"
    );
    b.look(&name("shop-filtered")).await;
    b.click(t("Tout afficher", "Show all")).await;

    // One form for every quantity, one submit.
    let qty = t("Quantité", "Quantity");
    b.fill(&format!("Carottes, {qty}"), "1.5").await;
    b.fill(&format!("Œufs, {qty}"), "2").await;
    b.click(t("Mettre dans mon panier", "Put in my basket"))
        .await;
    b.assert_path(&format!("/shop/{}/basket", w.cycle_id)).await;
    // 1.5 kg of carrots at 2.80 + 2 dozen eggs at 4.20 = 12.60, VAT 5.5 % in it.
    b.assert_shows(t("12,60 €", "€12.60")).await;
    b.look(&name("basket")).await;

    // A form without its CSRF token (stripped from the page) is refused, and changes nothing.
    b.choose("Salle des fêtes").await;
    b.js("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
        .await;
    b.click(t("Valider ma commande", "Place my order")).await;
    b.assert_shows(t(
        "Ce formulaire a expiré ou ne vient pas de Halle.",
        "This form has expired or did not come from Halle.",
    ))
    .await;
    b.goto("/orders").await;
    b.assert_shows(t("Aucune commande.", "No orders.")).await;
    b.goto(&format!("/shop/{}/basket", w.cycle_id)).await;

    // No slot chosen: said next to the slots, nothing lost.
    b.click(t("Valider ma commande", "Place my order")).await;
    b.assert_shows(t(
        "Choisissez un lieu et une heure de retrait.",
        "Choose a pickup place and time.",
    ))
    .await;
    b.assert_shows(t("12,60 €", "€12.60")).await;
    b.look(&name("basket-error")).await;
    b.choose("Salle des fêtes").await;
    b.click(t("Valider ma commande", "Place my order")).await;
    b.assert_shows(t(
        "Votre commande est passée. Merci !",
        "Your order is placed. Thank you!",
    ))
    .await;
    b.assert_shows("Salle des fêtes").await;
    b.look(&name("order")).await;

    // Changed: the shop again, pre-filled from the order.
    b.click(t("Modifier ma commande", "Change my order")).await;
    assert_eq!(b.value(&format!("Œufs, {qty}")).await, "2");
    b.fill(&format!("Œufs, {qty}"), "3").await;
    b.click(t("Mettre dans mon panier", "Put in my basket"))
        .await;
    b.assert_shows(t("16,80 €", "€16.80")).await;
    b.click(t("Valider les changements", "Save the changes"))
        .await;
    b.assert_shows(t("Votre commande est modifiée.", "Your order is changed."))
        .await;
    b.assert_shows(t("16,80 €", "€16.80")).await;

    // Cancelled, after a confirmation step.
    b.click(t("Annuler la commande", "Cancel the order")).await;
    b.look(&name("cancel")).await;
    b.click(t("Oui, annuler la commande", "Yes, cancel the order"))
        .await;
    b.assert_shows(t("Votre commande est annulée.", "Your order is cancelled."))
        .await;
    b.goto("/orders").await;
    b.look(&name("orders")).await;
}
