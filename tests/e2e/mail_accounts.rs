//! The mails of issue 9 about accounts and baskets, through the real SMTP server (aiosmtpd, see
//! `mail.rs`): password reset (the page and the API, no enumeration, throttled, one-time and
//! expiring link, every session ended), a slot moved or cancelled (every consumer of the slot,
//! once per change, times in the market's zone), and the final amount after weighing (once
//! every variable-weight piece is weighed, only when it differs, once per basket). Each message
//! is parsed: headers, both parts, links followed against the running server.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mailparse::MailHeaderMap;
use print::Lang;
use reqwest::Method;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, User, World, iso, unique_name},
    mail::{Smtp, consumer, desk_mail, header, parts, worker},
};

/// The raw messages received so far whose `To` holds `to` and whose subject holds `subject`.
fn received(smtp: &Smtp, to: &str, subject: &str) -> Vec<Vec<u8>> {
    smtp.messages()
        .into_iter()
        .filter(|raw| {
            mailparse::parse_mail(raw).is_ok_and(|m| {
                header(&m, "To").contains(to) && header(&m, "Subject").contains(subject)
            })
        })
        .collect()
}

/// Waits until `n` messages match (at most 20 s), and returns them.
async fn wait_received(smtp: &Smtp, to: &str, subject: &str, n: usize) -> Vec<Vec<u8>> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let got = received(smtp, to, subject);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < until,
            "{} message(s) to {to} about {subject:?}, {n} expected",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A transactional message's headers: ours, with a date and no unsubscribe link.
fn transactional_headers(m: &mailparse::ParsedMail<'_>, to: &str) {
    assert!(header(m, "From").contains("halle@example.org"));
    assert!(header(m, "To").contains(to));
    let id = header(m, "Message-ID");
    assert!(
        id.starts_with("<halle.") && id.ends_with("@example.org>"),
        "{id}"
    );
    assert!(mailparse::dateparse(&header(m, "Date")).is_ok());
    assert!(m.headers.get_first_value("List-Unsubscribe").is_none());
    assert!(m.headers.get_first_value("List-Unsubscribe-Post").is_none());
}

/// The reset link of a message's text part.
fn reset_link(app: &TestApp, text: &str) -> String {
    let start = format!("{}/password-reset/", app.base);
    let at = text.find(&start).expect("a reset link in the text part");
    let token: String = text[at + start.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "a 64-digit token");
    format!("{start}{token}")
}

/// Asking for a new password by the page or the API answers the same for any address; the
/// account's mail (in its language) carries a link that sets a new password once, ends every
/// session and token, then says it was used; an expired or unknown link says so.
async fn password_reset_by_mail(db: Db) {
    let app = TestApp::spawn(db).await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let alice_email = format!("{}@example.org", unique_name("alice"));
    let alice = consumer(&app, &alice_email, "Alice Martin").await;
    let bob_email = format!("{}@example.org", unique_name("bob"));
    let bob = consumer(&app, &bob_email, "Bob Smith").await;
    let bob_actor = app.store.actor(bob.id).await.expect("Bob");
    app.store
        .set_language(&bob_actor, "en")
        .await
        .expect("Bob reads English");
    // Alice is logged in on a browser too.
    let mut elsewhere = app.visit("fr-FR");
    elsewhere.log_in(&alice_email, PASSWORD).await;

    // The login page leads to the form; without the form's token nothing happens.
    let mut v = app.visit("fr-FR");
    v.get("/login")
        .await
        .expect(200)
        .contains("href=\"/password-reset\"")
        .contains("Mot de passe oublié ?");
    v.get("/password-reset")
        .await
        .expect(200)
        .contains("<label for=\"email\"");
    let forged = v
        .post_raw("/password-reset", &[("email", alice_email.as_str())])
        .await;
    assert_eq!(forged.status.as_u16(), 403);
    let asked = v
        .post("/password-reset", &[("email", alice_email.as_str())])
        .await;
    assert_eq!(asked.status.as_u16(), 303);
    assert_eq!(asked.location(), "/password-reset?sent=1");
    let unknown = v
        .post("/password-reset", &[("email", "nobody-here@example.org")])
        .await;
    assert_eq!(unknown.status.as_u16(), 303);
    assert_eq!(
        unknown.location(),
        asked.location(),
        "the same answer for an address without an account"
    );
    v.get("/password-reset?sent=1")
        .await
        .expect(200)
        .contains("Si un compte utilise cette adresse");
    // The API says 202 whatever the address.
    for email in [
        bob_email.as_str(),
        "nobody-else@example.org",
        "not an address",
    ] {
        let a = app
            .post("/api/v1/auth/password-reset", None, json!({"email": email}))
            .await;
        assert_eq!(a.status.as_u16(), 202, "{email}: {}", a.body);
        assert_eq!(a.body, Value::Null);
    }

    let for_alice = wait_received(&smtp, &alice_email, "mot de passe", 1).await;
    let for_bob = wait_received(&smtp, &bob_email, "password", 1).await;
    // Asked again at once: throttled, nothing more goes (and the answer is the same).
    let again = v
        .post("/password-reset", &[("email", alice_email.as_str())])
        .await;
    assert_eq!(again.location(), "/password-reset?sent=1");
    app.post(
        "/api/v1/auth/password-reset",
        None,
        json!({"email": bob_email}),
    )
    .await
    .expect(202);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "one mail each, none for unknown addresses"
    );

    let m = mailparse::parse_mail(&for_alice[0]).expect("a message");
    transactional_headers(&m, &alice_email);
    assert_eq!(header(&m, "Subject"), "Votre nouveau mot de passe Halle");
    let (text, html) = parts(&m);
    assert!(
        text.contains("Bonjour Alice Martin") && text.contains("60 minutes"),
        "{text}"
    );
    let link = reset_link(&app, &text);
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    let token = link.rsplit('/').next().expect("the token").to_owned();
    let b = mailparse::parse_mail(&for_bob[0]).expect("a message");
    transactional_headers(&b, &bob_email);
    assert_eq!(header(&b, "Subject"), "Your new Halle password");
    let (bob_text, bob_html) = parts(&b);
    assert!(bob_text.contains("Hello Bob Smith"), "{bob_text}");
    let bob_link = reset_link(&app, &bob_text);
    assert!(bob_html.contains(&bob_link));

    // Only the token's hash is kept.
    let backend = app.store.db().get_database_backend();
    let hashes = app
        .store
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT token_hash FROM password_resets",
        ))
        .await
        .expect("the resets");
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        let h: String = h.try_get_by_index(0).expect("a hash");
        assert!(h.len() == 64 && h != token, "a hash, not the token");
    }

    // The link: the form, the password rules, then a new password.
    let path = link.strip_prefix(&app.base).expect("a link to this server");
    let mut r = app.visit("fr-FR");
    r.get(path)
        .await
        .expect(200)
        .contains(&alice_email)
        .contains("autocomplete=\"new-password\"");
    r.post(path, &[("password", "court")])
        .await
        .expect(422)
        .contains("aria-invalid=\"true\"");
    r.post(path, &[("password", "password123")])
        .await
        .expect(422)
        .contains("plus courants");
    let done = r
        .post(path, &[("password", "un-tout-nouveau-secret")])
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.html);
    assert_eq!(done.location(), "/login?done=password-reset");
    r.get("/login?done=password-reset")
        .await
        .expect(200)
        .contains("Votre mot de passe est changé");
    // Once only.
    r.get(path).await.expect(410).contains("déjà servi");
    let twice = r
        .post(path, &[("password", "encore-un-autre-secret")])
        .await;
    assert_eq!(twice.status.as_u16(), 410);
    // Every session and token of the account ended; the new password works, the old does not.
    app.get("/api/v1/me", alice.t()).await.expect(401);
    let page = elsewhere.get("/account").await;
    assert_eq!(page.status.as_u16(), 303, "the other browser is logged out");
    assert!(page.location().starts_with("/login"));
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": alice_email, "password": "un-tout-nouveau-secret"}),
    )
    .await
    .expect(200);
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": alice_email, "password": PASSWORD}),
    )
    .await
    .expect(401);
    // The used link is no longer anywhere in the database.
    let payloads = app
        .store
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT payload FROM outbox",
        ))
        .await
        .expect("the outbox");
    for p in &payloads {
        let p: String = p.try_get_by_index(0).expect("a payload");
        assert!(
            !p.contains(&token),
            "the used token stays in the outbox: {p}"
        );
    }

    // Bob's link expires unused.
    store::entities::password_reset::Entity::update_many()
        .col_expr(
            store::entities::password_reset::Column::ExpiresAt,
            Expr::value(Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(store::entities::password_reset::Column::AccountId.eq(bob.id))
        .exec(app.store.db())
        .await
        .expect("Bob's link expires");
    let mut en = app.visit("en-GB");
    let bob_path = bob_link
        .strip_prefix(&app.base)
        .expect("a link to this server");
    en.get(bob_path).await.expect(410).contains("expired");
    en.get(&format!("/password-reset/{}", "ab".repeat(32)))
        .await
        .expect(404);
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": bob_email, "password": PASSWORD}),
    )
    .await
    .expect(200);
    mailer.stop().await;
    app.cleanup().await;
}

/// A basket at `slot` for `who`: carrots and eggs.
async fn order_at(app: &TestApp, w: &World, who: &User, slot: i64) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        who.t(),
        json!({"slot_id": slot, "lines": [
            {"offer_id": w.offers[0], "quantity": "1.5"},
            {"offer_id": w.offers[1], "quantity": 1}
        ]}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .expect("an order id")
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .expect("an instant")
}

/// A slot moved then cancelled: each consumer of that slot (and nobody else) gets one mail per
/// change, in their language, with the old and new times in the market's zone and the place;
/// the same change made twice mails nothing more.
async fn slot_moved_or_cancelled_mails_its_consumers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let alice_email = format!("{}@example.org", unique_name("alice"));
    let alice = consumer(&app, &alice_email, "Alice Martin").await;
    let bob_email = format!("{}@example.org", unique_name("bob"));
    let bob = consumer(&app, &bob_email, "Bob Smith").await;
    let bob_actor = app.store.actor(bob.id).await.expect("Bob");
    app.store
        .set_language(&bob_actor, "en")
        .await
        .expect("Bob reads English");
    let carol_email = format!("{}@example.org", unique_name("carol"));
    let carol = consumer(&app, &carol_email, "Carol").await;
    let alice_order = order_at(&app, &w, &alice, w.slots[0]).await;
    let bob_order = order_at(&app, &w, &bob, w.slots[0]).await;
    order_at(&app, &w, &carol, w.slots[1]).await;
    wait_received(&smtp, "@example.org", "", 3).await;

    let cycle = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    let slot = cycle["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|s| s["id"] == w.slots[0])
        .cloned()
        .expect("the slot");
    let (old_start, old_end) = (instant(&slot["starts_at"]), instant(&slot["ends_at"]));
    let shift = chrono::Duration::hours(25);
    let (new_start, new_end) = (old_start + shift, old_end + shift);
    let path = format!("/api/v1/slots/{}", w.slots[0]);
    let moved = json!({"starts_at": iso(new_start), "ends_at": iso(new_end),
                       "note": "Salle prise : retrait le lendemain"})
    .to_string();
    app.raw(Method::PATCH, &path, w.coordinator.t(), &moved)
        .await
        .expect(200);

    let paris = chrono_tz::Europe::Paris;
    let to_alice = wait_received(&smtp, &alice_email, "Retrait déplacé", 1).await;
    let m = mailparse::parse_mail(&to_alice[0]).expect("a message");
    transactional_headers(&m, &alice_email);
    assert!(header(&m, "Subject").contains(&alice_order.to_string()));
    let coordinator_email = app.get("/api/v1/me", w.coordinator.t()).await.expect(200)["email"]
        .as_str()
        .map(str::to_owned)
        .expect("the coordinator's address");
    assert!(header(&m, "Reply-To").contains(&coordinator_email));
    let (text, html) = parts(&m);
    let old_fr = print::format::range(old_start, old_end, paris, Lang::Fr);
    let new_fr = print::format::range(new_start, new_end, paris, Lang::Fr);
    let link = format!("{}/orders/{alice_order}", app.base);
    for body in [&text, &html] {
        assert!(
            body.contains(&old_fr) && body.contains(&new_fr),
            "{old_fr} -> {new_fr}: {body}"
        );
        assert!(
            body.contains("Salle des fêtes") && body.contains("79200 Parthenay"),
            "{body}"
        );
        assert!(
            body.contains("Salle prise : retrait le lendemain"),
            "{body}"
        );
        assert!(body.contains(&link), "{body}");
    }
    let mut browser = app.visit("fr-FR");
    browser.log_in(&alice_email, PASSWORD).await;
    browser
        .get(&format!("/orders/{alice_order}"))
        .await
        .expect(200);
    let to_bob = wait_received(&smtp, &bob_email, "Pickup moved", 1).await;
    let b = mailparse::parse_mail(&to_bob[0]).expect("a message");
    assert!(header(&b, "Subject").contains(&bob_order.to_string()));
    let (bob_text, bob_html) = parts(&b);
    let old_en = print::format::range(old_start, old_end, paris, Lang::En);
    let new_en = print::format::range(new_start, new_end, paris, Lang::En);
    for body in [&bob_text, &bob_html] {
        assert!(body.contains(&old_en) && body.contains(&new_en), "{body}");
    }

    // The same change again: nobody is told twice.
    app.raw(Method::PATCH, &path, w.coordinator.t(), &moved)
        .await
        .expect(200);
    // Cancelled: both told again, at once.
    app.raw(
        Method::PATCH,
        &path,
        w.coordinator.t(),
        &json!({"cancelled": true}).to_string(),
    )
    .await
    .expect(200);
    let cancelled = wait_received(&smtp, &alice_email, "Retrait annulé", 1).await;
    let (text, _) = parts(&mailparse::parse_mail(&cancelled[0]).expect("a message"));
    assert!(text.contains(&new_fr) && text.contains("annulée"), "{text}");
    wait_received(&smtp, &bob_email, "Pickup cancelled", 1).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(received(&smtp, &alice_email, "Retrait").len(), 2);
    assert_eq!(received(&smtp, &bob_email, "Pickup").len(), 2);
    assert!(
        received(&smtp, &carol_email, "").len() == 1,
        "Carol collects elsewhere: her confirmation only"
    );
    let listed = desk_mail(&app, &w).await;
    assert_eq!(
        listed
            .iter()
            .filter(|m| m["kind"] == "slot_changed")
            .count(),
        4
    );
    mailer.stop().await;
    app.cleanup().await;
}

/// The final amount: told once every variable-weight piece of the basket is weighed, only when
/// it differs from the estimate, once per basket.
async fn final_amount_mail_after_weighing(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    // A second variable-weight product: a roast of about 1.2 kg at 15.00 €/kg (18.00 a piece).
    let roast = app
        .post(
            &format!("/api/v1/producers/{}/products", w.producer_id),
            w.producer.t(),
            json!({"name": "Rôti de porc", "unit": "piece", "price": "15.00", "vat_rate": "5.5",
                   "variable_weight": true, "estimated_weight_kg": "1.2"}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("a product id");
    let offers = app
        .put(
            &format!(
                "/api/v1/cycles/{}/producers/{}/offers",
                w.cycle_id, w.producer_id
            ),
            w.producer.t(),
            json!({"offers": [
                {"product_id": w.products[0], "stock": "50"},
                {"product_id": w.products[1], "stock": "20"},
                {"product_id": w.products[2], "stock": "6"},
                {"product_id": roast, "stock": "4"}
            ]}),
        )
        .await
        .expect(200);
    let roast_offer = offers
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["product_id"] == roast)
        .and_then(|o| o["id"].as_i64())
        .expect("the roast's offer");
    let alice_email = format!("{}@example.org", unique_name("alice"));
    let alice = consumer(&app, &alice_email, "Alice Martin").await;
    let bob_email = format!("{}@example.org", unique_name("bob"));
    let bob = consumer(&app, &bob_email, "Bob Smith").await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            alice.t(),
            json!({"slot_id": w.slots[0], "lines": [
                {"offer_id": w.offers[0], "quantity": "1.5"},
                {"offer_id": w.offers[2], "quantity": 2},
                {"offer_id": roast_offer, "quantity": 1}
            ]}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("an order id");
    let bob_order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            bob.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": 1}]}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("an order id");
    wait_received(&smtp, &alice_email, "", 1).await;
    wait_received(&smtp, &bob_email, "", 1).await;
    app.close_cycle(&w).await;

    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            w.coordinator.t(),
        )
        .await
        .expect(200)[0];
    let line_of = |order_id: i64, product: &str| {
        sheet["baskets"]
            .as_array()
            .expect("baskets")
            .iter()
            .find(|b| b["order_id"] == order_id)
            .and_then(|b| {
                b["lines"]
                    .as_array()
                    .expect("lines")
                    .iter()
                    .find(|l| l["product_name"] == product)
                    .map(|l| l["line_id"].as_i64().expect("a line id"))
            })
            .expect("the line")
    };
    let weigh = |line: i64, kg: Vec<&'static str>| {
        let app = &app;
        let w = &w;
        async move {
            app.put(
                &format!("/api/v1/order-lines/{line}/weights"),
                w.producer.t(),
                json!({"weights_kg": kg}),
            )
            .await
            .expect(204);
        }
    };
    // The chickens weighed, the roast not yet: nothing said.
    weigh(line_of(order, "Poulet fermier"), vec!["1.9", "1.75"]).await;
    // Bob's chicken weighs its estimate: the amount does not change, nothing said.
    weigh(line_of(bob_order, "Poulet fermier"), vec!["1.8"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(received(&smtp, &alice_email, "Montant final").len(), 0);
    assert_eq!(
        received(&smtp, &bob_email, "").len(),
        1,
        "Bob's confirmation only"
    );

    // The roast weighed: 45.00 + 18.00 + 4.20 = 67.20 estimated; 12.50 × 3.65 = 45.62 (half to
    // even) + 15.00 × 1.3 = 19.50 + 4.20 = 69.32 final.
    weigh(line_of(order, "Rôti de porc"), vec!["1.3"]).await;
    let got = wait_received(&smtp, &alice_email, "Montant final", 1).await;
    let m = mailparse::parse_mail(&got[0]).expect("a message");
    transactional_headers(&m, &alice_email);
    let subject = header(&m, "Subject");
    assert!(
        subject.contains(&order.to_string()) && subject.contains("69,32"),
        "{subject}"
    );
    let (text, html) = parts(&m);
    for body in [&text, &html] {
        for part in [
            "Poulet fermier",
            "Rôti de porc",
            "Carottes",
            "67,20",
            "69,32",
            "45,62",
            "19,50",
            "4,20",
            "3,65",
        ] {
            assert!(body.contains(part), "{part} missing: {body}");
        }
        assert!(
            body.contains(&format!("{}/orders/{order}", app.base)),
            "{body}"
        );
    }
    let mut browser = app.visit("fr-FR");
    browser.log_in(&alice_email, PASSWORD).await;
    browser.get(&format!("/orders/{order}")).await.expect(200);

    // A corrected weight afterwards: no second mail.
    weigh(line_of(order, "Rôti de porc"), vec!["1.25"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(received(&smtp, &alice_email, "Montant final").len(), 1);
    let listed = desk_mail(&app, &w).await;
    let finals: Vec<&Value> = listed
        .iter()
        .filter(|m| m["kind"] == "final_amount")
        .collect();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0]["recipient"], alice_email.as_str());
    mailer.stop().await;
    app.cleanup().await;
}

both!(
    password_reset_by_mail,
    slot_moved_or_cancelled_mails_its_consumers,
    final_amount_mail_after_weighing,
);
