//! Pages: the coordinators' desk (cycles from slot rules, who published, documents to the
//! session), staff invitations (accepted once, refused once used or expired), the admin's
//! markets, and the refusals (other markets, other roles, forms without their CSRF token).

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use store::{Role, Viewer, entities::invitation};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, World},
    pages_support::Visit,
};

async fn email_of(app: &TestApp, id: i64) -> String {
    app.store.actor(id).await.expect("the account").email
}

/// The world's coordinator, logged in through the pages.
async fn coordinator(app: &TestApp, w: &World, lang: &str) -> Visit {
    let mut v = app.visit(lang);
    v.log_in(&email_of(app, w.coordinator.id).await, PASSWORD)
        .await;
    v
}

/// The invitation link's token in a page.
fn token_in(html: &str) -> String {
    let at = html.find("/invitations/").expect("an invitation link") + "/invitations/".len();
    html[at..at + 64].to_owned()
}

/// A `datetime-local` value in Paris time (the markets' default time zone).
pub(crate) fn paris(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn a_coordinator_creates_opens_and_closes_a_cycle_from_slot_rules(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = coordinator(&app, &w, "fr-FR").await;
    v.get("/desk").await.expect(200).contains("Semaine test");

    v.get("/desk/points").await.expect(200);
    let point = w.points[0].to_string();
    let rule = v
        .post(
            "/desk/points/rules",
            &[
                ("point", point.as_str()),
                ("weekday", "3"),
                ("starts", "17:30"),
                ("ends", "19:30"),
            ],
        )
        .await;
    rule.expect(303);
    v.get("/desk/points")
        .await
        .expect(200)
        .contains("jeudi")
        .contains("17:30–19:30");

    // A wrong end time: the form again, the error next to its field.
    v.post(
        "/desk/points/rules",
        &[
            ("point", point.as_str()),
            ("weekday", "3"),
            ("starts", "17:30"),
            ("ends", "dix-neuf heures"),
        ],
    )
    .await
    .expect(422)
    .contains("rule-ends-error");

    v.get("/desk/cycles").await.expect(200);
    let now = Utc::now();
    let opens = paris(now + Duration::hours(1));
    let closes = paris(now + Duration::days(2));
    let created = v
        .post(
            "/desk/cycles",
            &[
                ("name", "Semaine des pages"),
                ("opens_at", opens.as_str()),
                ("closes_at", closes.as_str()),
                ("from_rules", "1"),
            ],
        )
        .await;
    created.expect(303);
    let path = created.location().split('?').next().unwrap().to_owned();
    assert!(path.starts_with("/desk/cycles/"), "{path}");
    let cycle_id: i64 = path["/desk/cycles/".len()..].parse().unwrap();
    let cycle = app
        .store
        .cycle(
            Viewer::Actor(&app.store.actor(w.coordinator.id).await.unwrap()),
            cycle_id,
        )
        .await
        .unwrap();
    assert_eq!(cycle.slots.len(), 1, "one slot from the one rule");
    assert_eq!(cycle.slots[0].pickup_point_id, w.points[0]);
    v.get(&format!("{path}?done=desk-cycle-created"))
        .await
        .expect(200)
        .contains("Le cycle est créé.")
        .contains("En préparation")
        .contains("Salle des fêtes")
        .contains("Les Jardins du Thouet")
        .contains("pas encore publiée");

    // A close before the opening: refused next to the close field.
    v.post(
        "/desk/cycles",
        &[
            ("name", "À l'envers"),
            ("opens_at", closes.as_str()),
            ("closes_at", opens.as_str()),
        ],
    )
    .await
    .expect(422)
    .contains("closes_at-error");

    v.get(&path).await.expect(200);
    v.post(&format!("{path}/state"), &[("to", "open")])
        .await
        .expect(303);
    v.get(&path)
        .await
        .expect(200)
        .contains("Ouvert aux commandes");
    v.post(&format!("{path}/state"), &[("to", "close")])
        .await
        .expect(303);
    v.get(&path).await.expect(200).contains("Clos");
    // Opening a closed cycle again: a clear conflict.
    v.post(&format!("{path}/state"), &[("to", "open")])
        .await
        .expect(409);

    // The world's cycle: the producer has published, in English too.
    let mut en = coordinator(&app, &w, "en").await;
    en.get("/desk").await.expect(200);
    en.post("/language", &[("lang", "en"), ("next", "/desk")])
        .await
        .expect(303);
    en.get(&format!("/desk/cycles/{}", w.cycle_id))
        .await
        .expect(200)
        .contains("Open for orders")
        .contains("published (3 products)");
    app.cleanup().await;
}

async fn a_coordinator_downloads_the_sheets_as_pdf_and_csv(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let emilie = app
        .named_user("Émilie Fabre", Role::Consumer, None, None)
        .await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        emilie.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 2}]}),
    )
    .await
    .expect(201);
    app.close_cycle(&w).await;
    let mut v = coordinator(&app, &w, "fr").await;
    let cycle = format!("/desk/cycles/{}", w.cycle_id);
    v.get(&cycle)
        .await
        .expect(200)
        .contains("Émilie Fabre")
        .contains("8,40\u{a0}€")
        .contains(&format!("{cycle}/sheets.pdf"));

    let pdf = v
        .client
        .get(format!("{}{cycle}/sheets.pdf", v.base))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status().as_u16(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(
        pdf.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

    let csv = v
        .client
        .get(format!("{}{cycle}/picking.csv", v.base))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert!(text.contains("Œufs"), "{text}");

    let html = v.get(&format!("{cycle}/sheets.html")).await;
    html.expect(200).contains("Émilie Fabre");
    v.get(&format!("{cycle}/labels.pdf")).await.expect(200);
    v.get(&format!("{cycle}/picking.html?producer={}", w.producer_id))
        .await
        .expect(200)
        .contains("Œufs");
    v.get(&format!("{cycle}/sheets.exe")).await.expect(404);

    // A co-delivery round from the farm to both slots, planned, shown, planned again.
    v.get(&cycle).await.expect(200);
    let departure = paris(Utc::now() + Duration::days(4) - Duration::hours(3));
    let producer = w.producer_id.to_string();
    let (s0, s1) = (w.slots[0].to_string(), w.slots[1].to_string());
    let planned = v
        .post(
            &format!("{cycle}/rounds"),
            &[
                ("name", "Tournée du jeudi"),
                ("start_name", "Dépôt"),
                ("start_lat", "46,64"),
                ("start_lon", "-0.25"),
                ("departure", departure.as_str()),
                ("capacity_crates", "40"),
                ("producer", producer.as_str()),
                ("slot", s0.as_str()),
                ("slot", s1.as_str()),
            ],
        )
        .await;
    planned.expect(303);
    let round = planned.location().split('?').next().unwrap().to_owned();
    assert!(round.starts_with("/desk/rounds/"), "{round}");
    v.get(&round)
        .await
        .expect(200)
        .contains("Tournée du jeudi")
        .contains("Les Jardins du Thouet");
    v.post(&format!("{round}/replan"), &[]).await.expect(303);
    let sheet = v
        .client
        .get(format!("{}{round}/round.pdf", v.base))
        .send()
        .await
        .unwrap();
    assert_eq!(sheet.status().as_u16(), 200);
    assert!(sheet.bytes().await.unwrap().starts_with(b"%PDF"));
    v.get(&cycle).await.expect(200).contains("Tournée du jeudi");
    // No slot chosen: the form again, the error next to the slots.
    v.post(
        &format!("{cycle}/rounds"),
        &[
            ("name", "Sans créneau"),
            ("start_name", "Dépôt"),
            ("start_lat", "46.64"),
            ("start_lon", "-0.25"),
            ("departure", departure.as_str()),
            ("capacity_crates", "40"),
            ("producer", producer.as_str()),
        ],
    )
    .await
    .expect(422)
    .contains("slots-error");

    // Without a session: off to the login page, nothing served.
    let anonymous = app.visit("fr").get(&format!("{cycle}/sheets.pdf")).await;
    anonymous.expect(303);
    assert!(anonymous.location().starts_with("/login?next="));
    app.cleanup().await;
}

async fn a_volunteer_accepts_an_invitation_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = coordinator(&app, &w, "fr").await;
    v.get("/desk/staff").await.expect(200);
    let made = v
        .post(
            "/desk/staff/invitations",
            &[
                ("role", "volunteer"),
                ("name", "Paul Girard"),
                ("email", "paul@example.org"),
            ],
        )
        .await;
    made.expect(201).contains("Invitation créée");
    let token = token_in(&made.html);

    let mut paul = app.visit("fr");
    paul.get(&format!("/invitations/{token}"))
        .await
        .expect(200)
        .contains("Test coordinator vous invite")
        .contains("bénévole");
    // Too short a password: the form again, nothing used up.
    paul.post(
        &format!("/invitations/{token}"),
        &[
            ("name", "Paul Girard"),
            ("email", "paul@example.org"),
            ("password", "court"),
        ],
    )
    .await
    .expect(422)
    .contains("password-error");
    let accepted = paul
        .post(
            &format!("/invitations/{token}"),
            &[
                ("name", "Paul Girard"),
                ("email", "paul@example.org"),
                ("password", "un mot de passe long"),
            ],
        )
        .await;
    accepted.expect(303);
    assert_eq!(accepted.location(), "/checkout");
    assert!(
        accepted
            .cookies()
            .iter()
            .any(|c| c.starts_with("halle_session=")),
        "a session"
    );
    // The new account is the market's volunteer, and can log in.
    let mut again = app.visit("fr");
    again
        .log_in("paul@example.org", "un mot de passe long")
        .await;
    v.get("/desk/staff")
        .await
        .expect(200)
        .contains("Paul Girard")
        .contains("acceptée");

    // The link works once.
    let mut other = app.visit("fr");
    other
        .get(&format!("/invitations/{token}"))
        .await
        .expect(410)
        .contains("déjà servi");
    other.get("/login").await.expect(200);
    other
        .post(
            &format!("/invitations/{token}"),
            &[
                ("name", "Quelqu'un d'autre"),
                ("email", "autre@example.org"),
                ("password", "un mot de passe long"),
            ],
        )
        .await
        .expect(410);
    assert!(
        app.store
            .log_in("autre@example.org", "un mot de passe long")
            .await
            .is_err()
    );

    // An expired link is refused.
    v.get("/desk/staff").await.expect(200);
    let late = v
        .post(
            "/desk/staff/invitations",
            &[("role", "coordinator"), ("name", "Léa Petit")],
        )
        .await;
    late.expect(201);
    let late_token = token_in(&late.html);
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(invitation::Column::Name.eq("Léa Petit"))
        .exec(app.store.db())
        .await
        .unwrap();
    let mut lea = app.visit("en");
    lea.get(&format!("/invitations/{late_token}"))
        .await
        .expect(410)
        .contains("has expired");

    // A withdrawn link is gone too.
    v.get("/desk/staff").await.expect(200);
    let withdrawn = v
        .post(
            "/desk/staff/invitations",
            &[("role", "volunteer"), ("name", "Marc Roy")],
        )
        .await;
    let withdrawn_token = token_in(&withdrawn.html);
    let id = invitation::Entity::find()
        .filter(invitation::Column::Name.eq("Marc Roy"))
        .one(app.store.db())
        .await
        .unwrap()
        .unwrap()
        .id;
    v.get("/desk/staff").await.expect(200);
    v.post(&format!("/desk/staff/invitations/{id}/revoke"), &[])
        .await
        .expect(303);
    app.visit("fr")
        .get(&format!("/invitations/{withdrawn_token}"))
        .await
        .expect(404);
    app.cleanup().await;
}

async fn an_invitation_accepted_twice_at_once_makes_one_account(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let actor = app.store.actor(w.coordinator.id).await.unwrap();
    let grant = app
        .store
        .create_invitation(
            &actor,
            w.market_id,
            store::NewInvitation {
                role: Role::Volunteer,
                name: "Deux onglets".into(),
                email: None,
                producer_id: None,
                pickup_point_id: None,
            },
        )
        .await
        .unwrap();
    let path = format!("/invitations/{}", grant.token);
    let mut tabs = Vec::new();
    for n in 0..2 {
        let mut tab = app.visit("fr");
        tab.get(&path).await.expect(200);
        tabs.push((tab, format!("onglet{n}@example.org")));
    }
    let answers = futures_util::future::join_all(tabs.iter_mut().map(|(tab, email)| {
        let path = path.clone();
        let email = email.clone();
        async move {
            tab.post(
                &path,
                &[
                    ("name", "Deux onglets"),
                    ("email", email.as_str()),
                    ("password", "un mot de passe long"),
                ],
            )
            .await
            .status
            .as_u16()
        }
    }))
    .await;
    let mut sorted = answers.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec![303, 410],
        "one account, one refusal: {answers:?}"
    );
    let staff = app.store.market_staff(&actor, w.market_id).await.unwrap();
    assert_eq!(
        staff.iter().filter(|s| s.name == "Deux onglets").count(),
        1,
        "one account"
    );
    app.cleanup().await;
}

async fn a_producer_and_a_host_are_invited_for_their_farm_and_point(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = coordinator(&app, &w, "fr").await;
    v.get("/desk/staff").await.expect(200);
    // A host needs its pickup point.
    v.post(
        "/desk/staff/invitations",
        &[("role", "host"), ("name", "Mairie de Parthenay")],
    )
    .await
    .expect(422)
    .contains("invite-point-error");
    let point = w.points[0].to_string();
    let host = v
        .post(
            "/desk/staff/invitations",
            &[
                ("role", "host"),
                ("name", "Mairie de Parthenay"),
                ("point", point.as_str()),
            ],
        )
        .await;
    host.expect(201);
    let token = token_in(&host.html);
    let mut mairie = app.visit("fr");
    mairie
        .get(&format!("/invitations/{token}"))
        .await
        .expect(200)
        .contains("Salle des fêtes");
    mairie
        .post(
            &format!("/invitations/{token}"),
            &[
                ("name", "Accueil mairie"),
                ("email", "mairie@example.org"),
                ("password", "un mot de passe long"),
            ],
        )
        .await
        .expect(303);
    let grant = app
        .store
        .log_in("mairie@example.org", "un mot de passe long")
        .await
        .unwrap();
    assert_eq!(grant.session.actor.role, Role::Host);

    // A new producer: its record is made, and the account manages it.
    v.get("/desk/staff").await.expect(200);
    let farm = v
        .post(
            "/desk/staff/invitations",
            &[
                ("role", "producer"),
                ("name", "Jean Morin"),
                ("producer", "new"),
                ("producer_name", "Chèvrerie des Aulnes"),
                ("address", "Les Aulnes"),
                ("postal_code", "79200"),
                ("city", "Pompaire"),
            ],
        )
        .await;
    farm.expect(201);
    let token = token_in(&farm.html);
    let mut jean = app.visit("fr");
    jean.get(&format!("/invitations/{token}"))
        .await
        .expect(200)
        .contains("Chèvrerie des Aulnes");
    jean.post(
        &format!("/invitations/{token}"),
        &[
            ("name", "Jean Morin"),
            ("email", "jean@example.org"),
            ("password", "un mot de passe long"),
        ],
    )
    .await
    .expect(303);
    let jean = app
        .store
        .log_in("jean@example.org", "un mot de passe long")
        .await
        .unwrap();
    let producers = app.store.list_producers(w.market_id).await.unwrap();
    let chevrerie = producers
        .iter()
        .find(|p| p.name == "Chèvrerie des Aulnes")
        .unwrap();
    assert_eq!(jean.session.actor.producer_id, Some(chevrerie.id));
    app.cleanup().await;
}

async fn an_admin_creates_a_market_and_invites_its_coordinator(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.user(Role::Admin, None, None).await;
    let mut v = app.visit("fr");
    v.log_in(&email_of(&app, admin.id).await, PASSWORD).await;
    v.get("/admin").await.expect(200);
    let slug = format!("halle-du-thouet-{}", admin.id);
    let made = v
        .post(
            "/admin",
            &[
                ("name", "Halle du Thouet"),
                ("slug", slug.as_str()),
                ("city", "Parthenay"),
                ("timezone", "Europe/Paris"),
                ("latitude", "46,65"),
                ("longitude", "-0.25"),
            ],
        )
        .await;
    made.expect(303);
    let path = made.location().split('?').next().unwrap().to_owned();
    // The same slug again: refused next to its field.
    v.get("/admin").await.expect(200);
    v.post(
        "/admin",
        &[
            ("name", "Autre"),
            ("slug", slug.as_str()),
            ("city", "Niort"),
            ("timezone", "Europe/Paris"),
            ("latitude", "46.3"),
            ("longitude", "-0.46"),
        ],
    )
    .await
    .expect(409)
    .contains("market-slug-error");

    v.get(&path)
        .await
        .expect(200)
        .contains("Personne ne coordonne");
    // Without a market chosen, the desk sends an admin to /admin; once chosen, the desk's
    // pages are that market's.
    assert_eq!(v.get("/desk").await.location(), "/admin");
    v.get(&path).await;
    let opened = v.post(&format!("{path}/desk"), &[]).await;
    assert_eq!(opened.location(), "/desk");
    v.get("/desk").await.expect(200).contains("Halle du Thouet");
    v.get("/desk/points").await.expect(200);
    v.get("/desk/cycles").await.expect(200);
    v.get(&path).await;
    let invited = v
        .post(
            &format!("{path}/invitations"),
            &[("name", "Claire Dubois"), ("email", "claire@example.org")],
        )
        .await;
    invited.expect(201);
    let token = token_in(&invited.html);
    let mut claire = app.visit("fr");
    claire
        .get(&format!("/invitations/{token}"))
        .await
        .expect(200)
        .contains("Halle du Thouet");
    let accepted = claire
        .post(
            &format!("/invitations/{token}"),
            &[
                ("name", "Claire Dubois"),
                ("email", "claire@example.org"),
                ("password", "un mot de passe long"),
            ],
        )
        .await;
    accepted.expect(303);
    assert_eq!(accepted.location(), "/desk");
    claire
        .get("/desk")
        .await
        .expect(200)
        .contains("Halle du Thouet");
    v.get(&path).await.expect(200).contains("Claire Dubois");
    // The admin opens the market's cycles from its page.
    let actor = app.store.actor(admin.id).await.unwrap();
    let market_id: i64 = path["/admin/markets/".len()..].parse().unwrap();
    let now = Utc::now();
    let cycle = app
        .store
        .create_cycle(
            &actor,
            market_id,
            store::NewCycle {
                name: "Première semaine".into(),
                opens_at: now + Duration::hours(1),
                closes_at: now + Duration::days(2),
                slots: vec![],
            },
        )
        .await
        .unwrap();
    v.get(&path)
        .await
        .expect(200)
        .contains(&format!("/desk/cycles/{}", cycle.cycle.id));
    v.get(&format!("/desk/cycles/{}", cycle.cycle.id))
        .await
        .expect(200)
        .contains("Première semaine");
    app.cleanup().await;
}

async fn other_markets_and_other_roles_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let mut stranger = coordinator(&app, &other, "fr").await;
    let cycle = format!("/desk/cycles/{}", w.cycle_id);
    stranger.get(&cycle).await.expect(404);
    stranger
        .get(&format!("{cycle}/sheets.pdf"))
        .await
        .expect(404);
    stranger
        .get(&format!("{cycle}/picking.csv"))
        .await
        .expect(404);
    stranger.get("/desk").await.expect(200);
    stranger
        .post(&format!("{cycle}/state"), &[("to", "close")])
        .await
        .expect(404);
    let still = app.stock_left(w.cycle_id, w.offers[0]).await;
    assert_eq!(still, "50", "the cycle is still open and untouched");
    stranger.get("/admin").await.expect(403);
    // Another market's invitation cannot be withdrawn (nor seen).
    let actor = app.store.actor(w.coordinator.id).await.unwrap();
    let grant = app
        .store
        .create_invitation(
            &actor,
            w.market_id,
            store::NewInvitation {
                role: Role::Volunteer,
                name: "Invitée de A".into(),
                email: None,
                producer_id: None,
                pickup_point_id: None,
            },
        )
        .await
        .unwrap();
    stranger.get("/desk/staff").await.expect(200);
    stranger
        .post(
            &format!("/desk/staff/invitations/{}/revoke", grant.invitation.id),
            &[],
        )
        .await
        .expect(404);
    app.visit("fr")
        .get(&format!("/invitations/{}", grant.token))
        .await
        .expect(200);

    for role in [Role::Volunteer, Role::Consumer, Role::Producer] {
        let user = app
            .user(
                role,
                (role == Role::Producer).then_some(w.producer_id),
                Some(w.market_id),
            )
            .await;
        let mut v = app.visit("fr");
        v.log_in(&email_of(&app, user.id).await, PASSWORD).await;
        v.get("/desk").await.expect(403);
        v.get(&cycle).await.expect(403);
        v.get("/desk/staff").await.expect(403);
        v.get("/admin").await.expect(403);
    }
    let anonymous = app.visit("fr").get("/desk").await;
    anonymous.expect(303);
    assert!(anonymous.location().starts_with("/login?next="));
    app.cleanup().await;
}

async fn desk_forms_without_their_csrf_token_change_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = coordinator(&app, &w, "fr").await;
    v.get("/desk/cycles").await.expect(200);
    let now = Utc::now();
    let (opens, closes) = (
        paris(now + Duration::hours(1)),
        paris(now + Duration::days(2)),
    );
    let actor = app.store.actor(w.coordinator.id).await.unwrap();
    let before = app
        .store
        .list_cycles(Viewer::Actor(&actor), w.market_id)
        .await
        .unwrap()
        .len();
    v.post_raw(
        "/desk/cycles",
        &[
            ("name", "Sans jeton"),
            ("opens_at", &opens),
            ("closes_at", &closes),
        ],
    )
    .await
    .expect(403);
    v.post_raw(
        "/desk/cycles",
        &[
            ("csrf", "0".repeat(48).as_str()),
            ("name", "Mauvais jeton"),
            ("opens_at", &opens),
            ("closes_at", &closes),
        ],
    )
    .await
    .expect(403);
    let after = app
        .store
        .list_cycles(Viewer::Actor(&actor), w.market_id)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after, "no cycle was created");
    v.post_raw(
        &format!("/desk/cycles/{}/state", w.cycle_id),
        &[("to", "close")],
    )
    .await
    .expect(403);
    v.post_raw(
        "/desk/staff/invitations",
        &[("role", "volunteer"), ("name", "Sans jeton")],
    )
    .await
    .expect(403);
    assert!(
        invitation::Entity::find()
            .all(app.store.db())
            .await
            .unwrap()
            .is_empty(),
        "no invitation was made"
    );
    app.cleanup().await;
}

both!(
    a_coordinator_creates_opens_and_closes_a_cycle_from_slot_rules,
    a_coordinator_downloads_the_sheets_as_pdf_and_csv,
    a_volunteer_accepts_an_invitation_once,
    an_invitation_accepted_twice_at_once_makes_one_account,
    a_producer_and_a_host_are_invited_for_their_farm_and_point,
    an_admin_creates_a_market_and_invites_its_coordinator,
    other_markets_and_other_roles_are_refused,
    desk_forms_without_their_csrf_token_change_nothing,
);
