//! Every page a person reads, in both languages: what the flows (browser_account, browser_shop,
//! browser_roles) do not pass through is visited here, once the week is closed, by each role in
//! turn (producer, coordinator, admin): axe-core, the 360 px check (documents to print aside)
//! and a screenshot (`tour-...`) for each. French on a phone without JavaScript, English on a
//! desktop with it. On the way, the producer weighs a piece sold by its real weight, and the
//! coordinator invites a volunteer, who joins through the link.

use serde_json::json;
use store::Role;

use crate::{
    both,
    browser::{Browser, Lang},
    browser_roles::{basket, log_in},
    helpers::{Db, TestApp, User},
};

both!(every_page_passes_axe_and_fits_a_phone_in_both_languages);

async fn every_page_passes_axe_and_fits_a_phone_in_both_languages(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    basket(&app, &w, "Zoé Martin", "06 11 22 33 44").await;
    // A chicken paid by its real weight, for the producer to weigh.
    let emile = app
        .named_user("Émile Dupont", Role::Consumer, None, None)
        .await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        emile.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": 1}]}),
    )
    .await
    .expect(201);
    app.close_cycle(&w).await;
    let admin = app.user(Role::Admin, None, None).await;
    let (cycle, market) = (w.cycle_id, w.market_id);

    // The flows looked at the rest already.
    let visitor = ["/no-such-page".to_owned()];
    let roles: Vec<(&User, Vec<String>)> = vec![
        (
            &w.producer,
            vec![
                "/producer/products".to_owned(),
                "/producer/products/new".to_owned(),
                format!("/producer/products/{}", w.products[2]),
                format!("/producer/cycles/{cycle}"),
                format!("/producer/cycles/{cycle}/picking.html"),
                format!("/producer/cycles/{cycle}/labels.html"),
            ],
        ),
        (
            &w.coordinator,
            vec![
                "/desk/cycles".to_owned(),
                format!("/desk/cycles/{cycle}"),
                format!("/desk/cycles/{cycle}/sheets.html"),
                "/desk/points".to_owned(),
                "/desk/staff".to_owned(),
            ],
        ),
        (
            &admin,
            vec!["/admin".to_owned(), format!("/admin/markets/{market}")],
        ),
    ];

    for (b, lang) in [
        (Browser::phone(&app).await, Lang::Fr),
        (Browser::desktop(&app).await, Lang::En),
    ] {
        if lang == Lang::En {
            b.goto("/").await;
            b.click("English").await;
        }
        for path in &visitor {
            tour(&b, path, lang).await;
        }
        for (user, pages) in &roles {
            log_in(&app, &b, user, lang).await;
            let mut invitation = None;
            for path in pages {
                tour(&b, path, lang).await;
                if *path == format!("/producer/cycles/{cycle}") {
                    weigh(&b, lang).await;
                }
                if path == "/desk/staff" {
                    invitation = Some(invite(&b, lang).await);
                }
            }
            b.goto("/account").await;
            b.click(lang.t("Se déconnecter", "Log out")).await;
            if let Some(link) = invitation {
                join(&b, &link, lang).await;
            }
        }
        b.close().await;
    }
    app.cleanup().await;
}

/// Opens `path` and looks at it: axe-core, the screen's width, a screenshot. Documents to
/// print (`.html`, A4 from crates/print) too: on a phone their wide tables scroll inside the
/// page instead of widening it.
async fn tour(b: &Browser, path: &str, lang: Lang) {
    b.goto(path).await;
    let name: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = if name.is_empty() { "home" } else { &name };
    b.look(&format!("tour-{name}-{}", lang.code())).await;
}

/// On the closed cycle's page, the producer enters the real weight of the chicken on a phone.
async fn weigh(b: &Browser, lang: Lang) {
    let t = |fr, en| lang.t(fr, en);
    let piece = b.group("Poulet fermier · Émile Dupont");
    piece
        .fill(t("Pièce 1 (kg)", "Piece 1 (kg)"), t("1,92", "1.85"))
        .await;
    piece
        .click(t(
            "Enregistrer (Poulet fermier, Émile Dupont)",
            "Save (Poulet fermier, Émile Dupont)",
        ))
        .await;
    b.assert_shows(t("Les pesées sont enregistrées.", "The weights are saved."))
        .await;
    assert_eq!(
        b.group("Poulet fermier · Émile Dupont")
            .value(t("Pièce 1 (kg)", "Piece 1 (kg)"))
            .await,
        t("1,92", "1.85")
    );
    b.look(&format!("producer-weighed-{}", lang.code())).await;
}

/// On the staff page, the coordinator invites a volunteer: the one-time link, as a path.
async fn invite(b: &Browser, lang: Lang) -> String {
    let t = |fr, en| lang.t(fr, en);
    b.choose(t("bénévole", "volunteer")).await;
    b.fill(t("Nom de la personne", "The person's name"), "Paul Girard")
        .await;
    b.click(t("Créer l'invitation", "Create the invitation"))
        .await;
    b.look(&format!("invited-{}", lang.code())).await;
    let link = b.value(t("Lien d'invitation", "Invitation link")).await;
    let at = link.find("/invitations/").expect("an invitation link");
    link[at..].to_owned()
}

/// The invited volunteer opens the link, chooses a password, and lands on the check-out.
async fn join(b: &Browser, link: &str, lang: Lang) {
    let t = |fr, en| lang.t(fr, en);
    b.goto(link).await;
    b.look(&format!("invitation-{}", lang.code())).await;
    b.fill(t("Nom et prénom", "Full name"), "Paul Girard").await;
    b.fill(
        t("Adresse e-mail", "Email address"),
        &format!("paul.{}@example.org", lang.code()),
    )
    .await;
    b.fill(t("Mot de passe", "Password"), "un mot de passe long")
        .await;
    b.click(t("Créer mon compte", "Create my account")).await;
    b.assert_path("/checkout").await;
    b.goto("/account").await;
    b.click(t("Se déconnecter", "Log out")).await;
}
