//! Mail on a schedule: closing and pickup reminders written at the time given to the store's
//! use case (no test waits real hours), once whatever the number of looks; the running task
//! writing them by itself on two nodes; each producer's picking list at close, with its PDF
//! attached; the members' wishes page and the coordinators' reminder settings.

use std::time::{Duration, Instant};

use chrono::Utc;
use mailparse::MailHeaderMap;
use serde_json::{Value, json};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, World, iso, unique_name},
    mail::{Smtp, all_sent, consumer, desk_mail, header, parts, place, worker},
};

/// Places an order of carrots on `slot` for `who`.
async fn order_on(app: &TestApp, w: &World, token: Option<&str>, slot: i64) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        token,
        json!({"slot_id": slot, "lines": [{"offer_id": w.offers[0], "quantity": "1.5"}]}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .expect("an order id")
}

/// A pickup point with access notes, and a slot there in the world's cycle at `starts_at`.
async fn slot_with_notes(app: &TestApp, w: &World, starts_at: chrono::DateTime<Utc>) -> i64 {
    let point = app
        .post(
            &format!("/api/v1/markets/{}/pickup-points", w.market_id),
            w.coordinator.t(),
            json!({"name": "Grange des Aulnes", "address": "4 chemin des Aulnes", "postal_code": "79200",
                   "city": "Châtillon", "latitude": 46.66, "longitude": -0.26, "host_kind": "farm",
                   "host_name": "Ferme", "access_notes": "Portail vert, code 4521"}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("point id");
    app.post(
        &format!("/api/v1/cycles/{}/slots", w.cycle_id),
        w.coordinator.t(),
        json!({"pickup_point_id": point, "starts_at": iso(starts_at),
               "ends_at": iso(starts_at + chrono::Duration::hours(2))}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .expect("slot id")
}

/// The mails of `kind` in the market's outbox.
async fn of_kind(app: &TestApp, w: &World, kind: &str) -> Vec<Value> {
    desk_mail(app, w)
        .await
        .into_iter()
        .filter(|m| m["kind"] == kind)
        .collect()
}

/// The message sent to `email` whose subject contains `subject`.
fn message_to<'a>(raw: &'a [Vec<u8>], email: &str, subject: &str) -> mailparse::ParsedMail<'a> {
    raw.iter()
        .map(|r| mailparse::parse_mail(r).expect("a message"))
        .find(|m| header(m, "To").contains(email) && header(m, "Subject").contains(subject))
        .unwrap_or_else(|| panic!("no mail to {email} about {subject:?}"))
}

/// The path of one of `app`'s absolute URLs, as a mail carries them.
fn local<'a>(app: &TestApp, url: &'a str) -> &'a str {
    url.strip_prefix(app.base.as_str())
        .unwrap_or_else(|| panic!("{url} is not on the server"))
}

/// The one-click URL of a message's `List-Unsubscribe`.
fn one_click_url(m: &mailparse::ParsedMail<'_>) -> String {
    assert_eq!(
        header(m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    header(m, "List-Unsubscribe")
        .trim()
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .expect("List-Unsubscribe is <URL>")
        .to_owned()
}

/// The closing reminder goes to who asked and has not ordered, from 24 h before close; the
/// pickup reminders at 18:00 the day before (to every consumer of the slot but who said no) and
/// 3 h before (to who asked), with the point's address and access notes; each once, however
/// often the clock is looked at; all with a one-click unsubscribe that works.
async fn reminders_follow_the_clock_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let now = Utc::now();
    let slot = slot_with_notes(&app, &w, now + chrono::Duration::days(4)).await;
    let wishes = format!("/api/v1/markets/{}/mail-wishes", w.market_id);
    // Bob wants the closing reminder and does not order; Carol wants it too but orders, and
    // asks for the reminder a few hours before; Alice says nothing and orders; Dan orders and
    // says no to pickup reminders.
    let (bob_mail, alice_mail, carol_mail, dan_mail) = (
        format!("{}@example.org", unique_name("bob")),
        format!("{}@example.org", unique_name("alice")),
        format!("{}@example.org", unique_name("carol")),
        format!("{}@example.org", unique_name("dan")),
    );
    let bob = consumer(&app, &bob_mail, "Bob").await;
    let alice = consumer(&app, &alice_mail, "Alice").await;
    let carol = consumer(&app, &carol_mail, "Carol").await;
    let dan = consumer(&app, &dan_mail, "Dan").await;
    app.put(
        &wishes,
        bob.t(),
        json!({"cycle_open": false, "closing_reminder": true}),
    )
    .await
    .expect(200);
    let set = app
        .put(
            &wishes,
            carol.t(),
            json!({"cycle_open": false, "closing_reminder": true, "pickup_hours_before": true}),
        )
        .await
        .expect(200);
    assert_eq!(set["pickup_day_before"], true, "on unless said no");
    assert_eq!(set["pickup_hours_before"], true);
    app.put(
        &wishes,
        dan.t(),
        json!({"cycle_open": false, "closing_reminder": false, "pickup_day_before": false}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get(&wishes, alice.t()).await.expect(200),
        json!({"cycle_open": false, "closing_reminder": false, "pickup_day_before": true, "pickup_hours_before": false})
    );
    for who in [&alice, &carol, &dan] {
        order_on(&app, &w, who.t(), slot).await;
    }
    let orders_mail = desk_mail(&app, &w).await.len();

    let cycle = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    let closes: chrono::DateTime<Utc> = cycle["closes_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("closes_at");
    let at = |t: chrono::DateTime<Utc>| {
        let store = app.store.clone();
        async move { store.schedule_mail(t).await.expect("schedule") }
    };
    // Three days before close: nothing yet.
    assert_eq!(at(now).await.total(), 0);
    assert_eq!(at(closes - chrono::Duration::hours(25)).await.total(), 0);
    // 24 h before: Bob only; looked at again, or by a late tick, nothing more.
    assert_eq!(
        at(closes - chrono::Duration::hours(23))
            .await
            .closing_reminders,
        1
    );
    assert_eq!(at(closes - chrono::Duration::hours(22)).await.total(), 0);
    assert_eq!(of_kind(&app, &w, "closing_reminder").await.len(), 1);
    // The market moves its closing reminder to 48 h: already written, not written again.
    app.put(
        &format!("/api/v1/markets/{}/mail-settings", w.market_id),
        w.coordinator.t(),
        json!({"closing_reminder_hours": 48, "pickup_reminder_hours": 3}),
    )
    .await
    .expect(200);
    assert_eq!(at(closes - chrono::Duration::hours(30)).await.total(), 0);

    // The slot starts in 4 days: its day-before reminder is due at 18:00 Paris the day before.
    let starts = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200)["slots"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == slot).cloned())
        .and_then(|s| s["starts_at"].as_str().and_then(|t| t.parse().ok()))
        .expect("the slot's start");
    let due = store::mail::schedule::day_before_due(starts, chrono_tz::Europe::Paris);
    let before = at(due - chrono::Duration::minutes(1)).await;
    assert_eq!(before.pickup_day_before + before.pickup_hours_before, 0);
    let day = at(due + chrono::Duration::minutes(1)).await;
    assert_eq!(day.pickup_day_before, 2, "Alice and Carol, not Dan");
    // Two hours later, no reminder again (the cycle may have closed in between when the test
    // runs between 17:00 and 19:00 UTC: its picking list is then written, checked below).
    let later = at(due + chrono::Duration::hours(2)).await;
    assert_eq!(
        later.closing_reminders + later.pickup_day_before + later.pickup_hours_before,
        0
    );
    let hours = at(starts - chrono::Duration::minutes(170)).await;
    assert_eq!(hours.pickup_hours_before, 1, "Carol only");
    assert_eq!(hours.pickup_day_before, 0);
    assert_eq!(at(starts - chrono::Duration::minutes(10)).await.total(), 0);
    // Once the cycle has closed (before or after the eve, depending on the hour the test
    // runs), the producer's picking list is written too, once.
    at(closes + chrono::Duration::minutes(1)).await;
    assert_eq!(of_kind(&app, &w, "picking_list").await.len(), 1);
    // Once started, nothing more for that slot.
    assert_eq!(at(starts + chrono::Duration::minutes(1)).await.total(), 0);
    assert_eq!(desk_mail(&app, &w).await.len(), orders_mail + 1 + 1 + 2 + 1);

    // Sent through a real SMTP server.
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let listed = all_sent(&app, &w).await;
    let raw = smtp.wait_for(listed.len(), Duration::from_secs(20)).await;
    let m = message_to(&raw, &bob_mail, "La vente ferme bientôt");
    let (text, html) = parts(&m);
    let shop = format!("{}/shop/{}", app.base, w.cycle_id);
    assert!(text.contains(&shop) && html.contains(&shop), "{text}");
    assert!(text.contains("Semaine test"));
    assert!(one_click_url(&m).starts_with(&format!("{}/unsubscribe/", app.base)));
    // Its link opens the shop of that cycle, for Bob logged in.
    let mut bob_visit = app.visit("fr-FR");
    bob_visit.log_in(&bob_mail, PASSWORD).await;
    bob_visit
        .get(local(&app, &shop))
        .await
        .expect(200)
        .contains("Carottes");

    let m = message_to(&raw, &alice_mail, "votre retrait demain");
    let (text, html) = parts(&m);
    for body in [&text, &html] {
        assert!(body.contains("Grange des Aulnes"), "{body}");
        assert!(body.contains("4 chemin des Aulnes"), "{body}");
        assert!(body.contains("Portail vert, code 4521"), "{body}");
        assert!(body.contains("Carottes"), "{body}");
    }
    let wishes_link = format!("{}/account/mail", app.base);
    assert!(text.contains(&wishes_link) && html.contains(&wishes_link));
    // The wishes link opens Alice's choices for this market.
    let mut alice_visit = app.visit("fr-FR");
    alice_visit.log_in(&alice_mail, PASSWORD).await;
    alice_visit
        .get(local(&app, &wishes_link))
        .await
        .expect(200)
        .contains(&format!(
            "name=\"pickup_day_before_{}\" checked",
            w.market_id
        ));
    // Alice clicks one-click: no more reminders from this market.
    let url = one_click_url(&m);
    let clicked = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("the one-click POST");
    assert_eq!(clicked.status().as_u16(), 200);
    assert_eq!(
        app.get(&wishes, alice.t()).await.expect(200)["pickup_day_before"],
        false
    );
    let m = message_to(&raw, &carol_mail, "Votre retrait approche");
    let (text, _) = parts(&m);
    assert!(text.contains("Portail vert, code 4521"), "{text}");
    one_click_url(&m);
    assert!(
        raw.iter()
            .map(|r| mailparse::parse_mail(r).expect("a message"))
            .all(|m| !header(&m, "To").contains(&dan_mail)
                || !header(&m, "Subject").contains("retrait")),
        "Dan said no to pickup reminders"
    );
    mailer.stop().await;
    app.cleanup().await;
}

/// Closing a cycle writes each producer's picking list in the same transaction: the message
/// is `multipart/mixed` (the text and HTML with the list, then the PDF, the very file the
/// producer downloads); the scheduler does not write it again.
async fn picking_list_arrives_with_its_pdf(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let alice = consumer(
        &app,
        &format!("{}@example.org", unique_name("alice")),
        "Alice",
    )
    .await;
    place(&app, &w, &alice).await;
    app.close_cycle(&w).await;
    assert_eq!(of_kind(&app, &w, "picking_list").await.len(), 1);
    let again = app
        .store
        .schedule_mail(Utc::now() + chrono::Duration::minutes(1))
        .await
        .expect("schedule");
    assert_eq!(again.picking_lists, 0, "written once, at close");

    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    all_sent(&app, &w).await;
    let raw = smtp.wait_for(2, Duration::from_secs(20)).await;
    let producer_email = app.get("/api/v1/me", w.producer.t()).await.expect(200)["email"]
        .as_str()
        .map(str::to_owned)
        .expect("the producer's address");
    let m = message_to(&raw, &producer_email, "Liste de préparation");
    assert!(m.headers.get_first_value("List-Unsubscribe").is_none());
    assert_eq!(m.ctype.mimetype, "multipart/mixed");
    assert_eq!(m.subparts.len(), 2, "the message, then the PDF");
    let (text, html) = parts(&m.subparts[0]);
    for body in [&text, &html] {
        assert!(body.contains("Carottes") && body.contains("Œufs"), "{body}");
        assert!(body.contains("Salle des fêtes"), "{body}");
        assert!(body.contains("1,5"), "{body}");
    }
    // Its link opens the producer's page of the cycle (labels, spreadsheet).
    let cycle_page = format!("{}/producer/cycles/{}", app.base, w.cycle_id);
    assert!(text.contains(&cycle_page) && html.contains(&cycle_page));
    let mut producer = app.visit("fr-FR");
    producer.log_in(&producer_email, PASSWORD).await;
    producer.get(local(&app, &cycle_page)).await.expect(200);
    let pdf = &m.subparts[1];
    assert_eq!(pdf.ctype.mimetype, "application/pdf");
    let disposition = pdf.get_content_disposition();
    assert_eq!(
        disposition.disposition,
        mailparse::DispositionType::Attachment
    );
    assert!(
        disposition
            .params
            .get("filename")
            .is_some_and(|f| f.ends_with(".pdf") && f.starts_with("liste-de-preparation")),
        "{:?}",
        disposition.params
    );
    let bytes = pdf.get_body_raw().expect("the PDF's bytes");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let parsed = lopdf::Document::load_mem(&bytes).expect("a PDF that parses whole");
    assert!(!parsed.get_pages().is_empty(), "with at least one page");
    let (status, _, downloaded) = app
        .bytes(
            &format!(
                "/api/v1/cycles/{}/picking-lists?producer={}&format=pdf&lang=fr",
                w.cycle_id, w.producer_id
            ),
            w.producer.t(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        bytes == downloaded,
        "the attachment is the producer's picking list PDF"
    );
    mailer.stop().await;
    app.cleanup().await;
}

/// A member, Bob, who wants the closing reminder and has not ordered, and the market's reminder
/// moved to 4 days before close: the world's cycle closes in 3, so Bob's reminder is due now.
async fn closing_reminder_due_now(app: &TestApp, w: &World) {
    let bob = consumer(app, &format!("{}@example.org", unique_name("bob")), "Bob").await;
    app.put(
        &format!("/api/v1/markets/{}/mail-wishes", w.market_id),
        bob.t(),
        json!({"cycle_open": false, "closing_reminder": true}),
    )
    .await
    .expect(200);
    // The world's cycle closes in 3 days; remind 4 days ahead: due now.
    app.put(
        &format!("/api/v1/markets/{}/mail-settings", w.market_id),
        w.coordinator.t(),
        json!({"closing_reminder_hours": 96, "pickup_reminder_hours": 3}),
    )
    .await
    .expect(200);
}

/// The running task writes a due reminder by itself, on two nodes at once, once.
async fn the_task_writes_reminders_by_itself_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.other_node().await;
    closing_reminder_due_now(&app, &w).await;
    let tick = Duration::from_millis(100);
    let here = mail::Scheduler::start(app.store.clone(), tick);
    let there = mail::Scheduler::start(other.store.clone(), tick);
    let until = Instant::now() + Duration::from_secs(20);
    while of_kind(&app, &w, "closing_reminder").await.is_empty() {
        assert!(Instant::now() < until, "the task wrote nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Many more ticks on both nodes: still one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let written = of_kind(&app, &w, "closing_reminder").await;
    assert_eq!(written.len(), 1, "{written:?}");
    here.stop().await;
    there.stop().await;
    other.cleanup().await;
    app.cleanup().await;
}

/// `halle mail` writes what is due and exits; run again (or beside a serving node), it writes
/// nothing more.
async fn the_command_writes_what_is_due_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    closing_reminder_due_now(&app, &w).await;
    let url = app.database_url();
    let run = || {
        let url = url.clone();
        async move {
            let bin = crate::faults::halle_bin().await;
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(bin)
                    .arg("mail")
                    .env("DATABASE_URL", url)
                    .env("RUST_LOG", "warn")
                    .output()
                    .expect("run halle mail")
            })
            .await
            .expect("the command's thread");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let first = run().await;
    assert!(first.contains("1 closing reminder(s)"), "{first}");
    let second = run().await;
    assert!(second.contains("0 closing reminder(s)"), "{second}");
    let written = of_kind(&app, &w, "closing_reminder").await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        written[0]["state"], "pending",
        "for a serving node's worker to send"
    );
    app.cleanup().await;
}

/// The member's wishes page (linked from the account page; CSRF; no JavaScript) and the
/// coordinator's reminder settings form.
async fn wishes_page_and_settings_form(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let email = format!("{}@example.org", unique_name("member"));
    consumer(&app, &email, "Membre").await;
    let mut v = app.visit("fr-FR");
    v.log_in(&email, PASSWORD).await;
    v.get("/account")
        .await
        .expect(200)
        .contains("href=\"/account/mail\"");
    v.get("/account/mail")
        .await
        .expect(200)
        .contains("aucun marché");
    let market = format!("/account/mail?market={}", w.market_id);
    v.get(&market)
        .await
        .expect(200)
        .contains("Marché test")
        .contains(&format!(
            "name=\"pickup_day_before_{}\" checked",
            w.market_id
        ))
        .contains("Quelques heures avant mon retrait");
    let id = w.market_id.to_string();
    let hours = format!("pickup_hours_before_{id}");
    let open = format!("cycle_open_{id}");
    // No CSRF token: refused, nothing changed.
    let refused = v
        .post_raw("/account/mail", &[("market", &id), (&hours, "on")])
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    let saved = v
        .post(
            "/account/mail",
            &[("market", &id), (&hours, "on"), (&open, "on")],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303);
    let page = v.get(saved.location()).await;
    page.expect(200)
        .contains("Vos choix de courriels sont enregistrés")
        .contains(&format!("name=\"{hours}\" checked"))
        .contains(&format!("name=\"{open}\" checked"));
    // Unticked is no: the day-before reminder is now off.
    assert!(
        !page
            .html
            .contains(&format!("name=\"pickup_day_before_{id}\" checked"))
    );
    // A market that does not exist: 404.
    v.get("/account/mail?market=999999").await.expect(404);
    // Logged out: to the login page.
    let anonymous = app.visit("en").get("/account/mail").await;
    assert_eq!(anonymous.status.as_u16(), 303);

    // The coordinator's settings (in the account's language, French).
    let coordinator_email = app.get("/api/v1/me", w.coordinator.t()).await.expect(200)["email"]
        .as_str()
        .map(str::to_owned)
        .expect("an address");
    let mut desk = app.visit("en-GB");
    desk.log_in(&coordinator_email, PASSWORD).await;
    desk.get("/desk/mail")
        .await
        .expect(200)
        .contains("href=\"/desk/mail/settings\"");
    desk.get("/desk/mail/settings")
        .await
        .expect(200)
        .contains("Rappel avant la fermeture (heures)")
        .contains("value=\"24\"");
    let bad = desk
        .post(
            "/desk/mail/settings",
            &[
                ("closing_reminder_hours", "500"),
                ("pickup_reminder_hours", "3"),
            ],
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.html.contains("de 1 à 168 heures"), "{}", bad.html);
    let ok = desk
        .post(
            "/desk/mail/settings",
            &[
                ("closing_reminder_hours", "36"),
                ("pickup_reminder_hours", "2"),
            ],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 303);
    assert_eq!(
        app.get(
            &format!("/api/v1/markets/{}/mail-settings", w.market_id),
            None
        )
        .await
        .expect(200),
        json!({"closing_reminder_hours": 36, "pickup_reminder_hours": 2})
    );
    // Only its coordinators set them.
    app.put(
        &format!("/api/v1/markets/{}/mail-settings", w.market_id),
        w.producer.t(),
        json!({"closing_reminder_hours": 36, "pickup_reminder_hours": 2}),
    )
    .await
    .expect_error(403, "forbidden");
    app.put(
        &format!("/api/v1/markets/{}/mail-settings", w.market_id),
        w.coordinator.t(),
        json!({"closing_reminder_hours": 0, "pickup_reminder_hours": 2}),
    )
    .await
    .expect_error(422, "invalid_closing_reminder_hours");
    app.cleanup().await;
}

both!(
    reminders_follow_the_clock_once,
    picking_list_arrives_with_its_pdf,
    the_task_writes_reminders_by_itself_once,
    wishes_page_and_settings_form,
    the_command_writes_what_is_due_once,
);
