//! The directory: search by postcode, town and coordinates within a radius, with filters,
//! against distances checked by hand (Parthenay to Niort: 39.6 km between the places dataset's
//! town centres, "about 41 km" between the town halls); producers' entries kept by their
//! producer and their coordinator; alerts with double opt-in, a match recorded once, nothing
//! for the unconfirmed or the unsubscribed. The places come from the npm packages
//! tests/tools/install-places installs (tests/run calls it).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use store::entities::{alert_notice, alert_subscription};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, User, World},
    pages_support::Visit,
};

/// Niort's centre as the places dataset has it.
pub(crate) const NIORT: (f64, f64) = (46.32313, -0.45877);

async fn app_with_places(db: Db) -> TestApp {
    let app = TestApp::spawn(db).await;
    import_places(&app).await;
    app
}

/// Loads the places dataset (postcodes and towns with coordinates) into `app`'s database.
pub(crate) async fn import_places(app: &TestApp) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("places");
    assert!(
        store::PlacesDataset::present(&dir),
        "run tests/tools/install-places first"
    );
    let done = app
        .store
        .import_places(store::PlacesDataset::read(&dir).expect("the places dataset"))
        .await
        .expect("places imported");
    assert!(done.postcodes > 5_000, "{done:?}");
}

/// A visit (French) logged in as the account `account_id`.
pub(crate) async fn logged_in(app: &TestApp, account_id: i64) -> Visit {
    let email = app
        .store
        .actor(account_id)
        .await
        .expect("the account")
        .email;
    let mut v = app.visit("fr");
    v.log_in(&email, PASSWORD).await;
    v
}

/// A producer of the world's market in Niort, with its id.
async fn niort_producer(app: &TestApp, w: &World) -> i64 {
    niort_producer_of(app, w.market_id, &w.coordinator).await
}

/// A cheese maker in Niort, "Fromagerie du Marais", added to `market_id` by its coordinator.
pub(crate) async fn niort_producer_of(app: &TestApp, market_id: i64, coordinator: &User) -> i64 {
    let p = app
        .post(
            &format!("/api/v1/markets/{market_id}/producers"),
            coordinator.t(),
            json!({"name": "Fromagerie du Marais", "farmer_name": "Lou", "address": "Rue Ricard", "postal_code": "79000",
                   "city": "Niort", "latitude": NIORT.0, "longitude": NIORT.1}),
        )
        .await
        .expect(201);
    p["id"].as_i64().expect("producer id")
}

/// Saves an entry through its form, published.
pub(crate) async fn publish(v: &mut Visit, producer_id: i64, fields: &[(&str, &str)]) {
    let path = format!("/directory/producers/{producer_id}/edit");
    v.get(&path).await.expect(200);
    let mut all = vec![("published", "1")];
    all.extend_from_slice(fields);
    let page = v.post(&path, &all).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.html);
}

/// The results list of a search page, as text: "name — distance" lines.
fn hits(html: &str) -> Vec<String> {
    html.split("<li data-map-lat=")
        .skip(1)
        .filter_map(|li| {
            let name = li.split("\">").nth(2)?.split("</a>").next()?;
            let km = li.split("<strong>").nth(1)?.split("</strong>").next()?;
            Some(format!("{name} — {km}"))
        })
        .collect()
}

async fn search_by_postcode_town_and_coordinates(db: Db) {
    let app = app_with_places(db).await;
    let w = app.world().await;
    let niort = niort_producer(&app, &w).await;
    // The producer keeps its own entry; the coordinator keeps the Niort one.
    let mut producer = logged_in(&app, w.producer.id).await;
    publish(
        &mut producer,
        w.producer_id,
        &[
            ("categories", "vegetables"),
            ("categories", "eggs"),
            ("labels", "organic"),
            ("farm_gate", "1"),
            ("opening_hours", "Vendredi 16 h – 19 h"),
        ],
    )
    .await;
    let mut coordinator = logged_in(&app, w.coordinator.id).await;
    publish(&mut coordinator, niort, &[("categories", "cheese")]).await;

    let mut v = app.visit("fr");
    // 79200 is Parthenay (46.64832, -0.24672): Le Tallud's farm (46.61, -0.31) at 6.4 km, Niort
    // at 39.6 km (both by hand, haversine on a calculator), nearest first.
    let page = v.get("/directory?q=79200&radius=50").await;
    page.expect(200).contains("Parthenay (79200)");
    assert_eq!(
        hits(&page.html)[..2],
        [
            "Les Jardins du Thouet — 6,4 km".to_owned(),
            "Fromagerie du Marais — 39,6 km".to_owned()
        ]
    );
    assert!(page.html.len() < 50_000, "{} bytes", page.html.len());
    // 30 km leaves Niort out; the town name, any case and accents, finds the same place.
    let page = v.get("/directory?q=parthenay&radius=30").await;
    page.expect(200).contains("Parthenay (79200)");
    assert!(
        hits(&page.html)
            .iter()
            .any(|h| h.starts_with("Les Jardins"))
    );
    assert!(!hits(&page.html).iter().any(|h| h.starts_with("Fromagerie")));
    // Coordinates (what the browser's position sends as lat/lon).
    let page = v
        .get("/directory?lat=46.32313&lon=-0.45877&radius=50")
        .await;
    let found = hits(&page.expect(200).html);
    assert_eq!(found[0], "Fromagerie du Marais — 0,0 km");
    assert!(
        found.contains(&"Les Jardins du Thouet — 33,9 km".to_owned()),
        "{found:?}"
    );
    // Filters: category, label.
    let page = v.get("/directory?q=79200&radius=50&category=cheese").await;
    assert_eq!(
        hits(&page.html)[..1],
        ["Fromagerie du Marais — 39,6 km".to_owned()]
    );
    assert!(!page.html.contains("Les Jardins du Thouet"));
    let page = v.get("/directory?q=Niort&radius=50&label=organic").await;
    assert!(page.html.contains("Les Jardins du Thouet"));
    assert!(!page.html.contains("Fromagerie du Marais"));
    // "I can collect near here": the market's points are in Parthenay, slots within days:
    // around Parthenay both producers qualify; 10 km around Niort there is no point at all.
    let page = v.get("/directory?q=79200&radius=10&collect=1").await;
    page.expect(200).contains("Salle des fêtes");
    assert!(page.html.contains("Les Jardins du Thouet"));
    let page = v.get("/directory?q=79000&radius=10&collect=1").await;
    assert!(!page.html.contains("Fromagerie du Marais"), "{}", page.html);
    let page = v.get("/directory?q=79000&radius=10").await;
    assert!(page.html.contains("Fromagerie du Marais"));
    // The same search as JSON.
    let found = app
        .get(
            "/api/v1/directory/search?q=79200&radius_km=50&categories=cheese",
            None,
        )
        .await
        .expect(200);
    assert_eq!(found["place"], "Parthenay (79200)");
    assert_eq!(found["producers"][0]["name"], "Fromagerie du Marais");
    assert_eq!(found["producers"][0]["distance_km"], 39.6);
    assert_eq!(found["producers_total"], 1);
    app.get("/api/v1/directory/search?q=79200&radius_km=500", None)
        .await
        .expect_error(422, "invalid_radius");
    app.get("/api/v1/directory/search?q=79200&labels=shiny", None)
        .await
        .expect_error(422, "invalid_label");
    // Bad input answers the form again with its error, never a 500.
    v.get("/directory?q=Nulle-Part-Sur-Mer&radius=30")
        .await
        .expect(422)
        .contains("inconnus");
    v.get("/directory?q=79200&radius=500")
        .await
        .expect(422)
        .contains("entre 5 et 100 km");
    // The producer's page: what it makes, farm gate, its market's points and next slots.
    let page = v
        .get(&format!("/directory/producers/{}", w.producer_id))
        .await;
    page.expect(200)
        .contains("Légumes, Œufs")
        .contains("Vente à la ferme")
        .contains("Vendredi 16 h – 19 h")
        .contains(&format!("/directory/points/{}", w.points[0]));
    v.get(&format!("/directory/points/{}", w.points[0]))
        .await
        .expect(200)
        .contains("Les Jardins du Thouet");
    // Another market's coordinator may not edit it; an admin hides it.
    let mut stranger = app.visit("fr");
    stranger.get("/directory").await.expect(200);
    let page = stranger
        .get(&format!("/directory/producers/{}/edit", w.producer_id))
        .await;
    assert_eq!(page.status.as_u16(), 303, "a visitor is sent to log in");
    let admin = app.user(store::Role::Admin, None, None).await;
    let mut admin_v = logged_in(&app, admin.id).await;
    admin_v
        .get(&format!("/directory/producers/{niort}/edit"))
        .await
        .expect(200);
    let page = admin_v
        .post(
            &format!("/directory/producers/{niort}/hide"),
            &[("hidden", "1")],
        )
        .await;
    assert_eq!(page.status.as_u16(), 303);
    v.get(&format!("/directory/producers/{niort}"))
        .await
        .expect(404);
    let page = v.get("/directory?q=79200&radius=50").await;
    assert!(!page.html.contains("Fromagerie du Marais"));
    app.cleanup().await;
}

async fn alerts_opt_in_match_and_unsubscribe(db: Db) {
    let app = app_with_places(db).await;
    let w = app.world().await;
    let sign_up = |email: &'static str, categories: &'static str| {
        let mut v = app.visit("fr");
        async move {
            v.get("/directory/alerts").await.expect(200);
            let mut fields = vec![("email", email), ("postcode", "79000"), ("radius", "50")];
            if !categories.is_empty() {
                fields.push(("categories", categories));
            }
            let page = v.post("/directory/alerts", &fields).await;
            assert_eq!(page.status.as_u16(), 303, "{}", page.html);
            v
        }
    };
    let mut confirmed = sign_up("ana@example.org", "vegetables").await;
    let _unconfirmed = sign_up("ben@example.org", "").await;
    let _other_category = {
        let mut v = sign_up("cleo@example.org", "cheese").await;
        confirm(&app, &mut v, "cleo@example.org").await;
        v
    };
    confirm(&app, &mut confirmed, "ana@example.org").await;
    // A bad address or postcode: the form again, the error next to its field.
    let mut v = app.visit("fr");
    v.get("/directory/alerts").await.expect(200);
    v.post(
        "/directory/alerts",
        &[
            ("email", "pas-une-adresse"),
            ("postcode", "79000"),
            ("radius", "50"),
        ],
    )
    .await
    .expect(422)
    .contains("adresse électronique");

    // Le Tallud is 33.9 km from Niort: within ana's 50 km, vegetables.
    let mut producer = logged_in(&app, w.producer.id).await;
    publish(
        &mut producer,
        w.producer_id,
        &[("categories", "vegetables")],
    )
    .await;
    publish(
        &mut producer,
        w.producer_id,
        &[("categories", "vegetables"), ("summary", "Encore")],
    )
    .await;
    let matches = alert_notice::Entity::find()
        .filter(alert_notice::Column::Kind.eq("match"))
        .all(app.store.db())
        .await
        .unwrap();
    assert_eq!(
        matches.len(),
        1,
        "one match, for the confirmed vegetables subscriber"
    );
    assert_eq!(matches[0].distance_m, Some(33_872));
    let admin = app.user(store::Role::Admin, None, None).await;
    let mut admin_v = logged_in(&app, admin.id).await;
    let page = admin_v.get("/admin/alerts").await;
    page.expect(200)
        .contains("ana@example.org")
        .contains("33,9 km");
    assert!(!page.html.contains("cleo@example.org</td>\n<td><a"));

    // Unsubscribed (one button on the link's page): a new producer near Niort matches nobody.
    let token = subscription(&app, "ana@example.org")
        .await
        .unsubscribe_token;
    let path = format!("/directory/alerts/unsubscribe/{token}");
    confirmed.get(&path).await.expect(200);
    let page = confirmed.post(&path, &[]).await;
    assert_eq!(page.status.as_u16(), 303);
    confirmed
        .get(page.location())
        .await
        .expect(200)
        .contains("Vous êtes désinscrit");
    let niort = niort_producer(&app, &w).await;
    let mut coordinator = logged_in(&app, w.coordinator.id).await;
    publish(&mut coordinator, niort, &[("categories", "vegetables")]).await;
    let matches = alert_notice::Entity::find()
        .filter(alert_notice::Column::Kind.eq("match"))
        .count_matches(&app)
        .await;
    assert_eq!(
        matches, 1,
        "nothing for the unsubscribed, the unconfirmed or cheese"
    );
    app.cleanup().await;
}

/// The confirmation link recorded for `email` (a path).
pub(crate) async fn confirm_link(app: &TestApp, email: &str) -> String {
    let s = subscription(app, email).await;
    alert_notice::Entity::find()
        .filter(alert_notice::Column::SubscriptionId.eq(s.id))
        .filter(alert_notice::Column::Kind.eq("confirm"))
        .one(app.store.db())
        .await
        .unwrap()
        .unwrap()
        .link
}

/// The alert subscription of `email`.
pub(crate) async fn subscription(app: &TestApp, email: &str) -> alert_subscription::Model {
    alert_subscription::Entity::find()
        .filter(alert_subscription::Column::Email.eq(email))
        .one(app.store.db())
        .await
        .unwrap()
        .unwrap()
}

/// Follows the confirmation link recorded for `email` and presses its button.
async fn confirm(app: &TestApp, v: &mut Visit, email: &str) {
    let link = confirm_link(app, email).await;
    v.get(&link)
        .await
        .expect(200)
        .contains("Confirmer mon inscription");
    let page = v.post(&link, &[]).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.html);
    v.get(page.location())
        .await
        .expect(200)
        .contains("Inscription confirmée");
}

trait CountMatches {
    async fn count_matches(self, app: &TestApp) -> usize;
}

impl CountMatches for sea_orm::Select<alert_notice::Entity> {
    async fn count_matches(self, app: &TestApp) -> usize {
        self.all(app.store.db()).await.unwrap().len()
    }
}

both!(
    search_by_postcode_town_and_coordinates,
    alerts_opt_in_match_and_unsubscribe,
    a_recipe_looks_around_a_postcode_or_a_town,
    alert_mails_confirm_match_digest_and_unsubscribe,
);

/// The recipe page's "near here" box takes a postcode or a town, like the directory.
async fn a_recipe_looks_around_a_postcode_or_a_town(db: Db) {
    let app = app_with_places(db).await;
    app.store
        .load_recipes(store::recipes::DEMO_RECIPES)
        .await
        .unwrap();
    let chicken = "/recipes/poulet-fermier-pommes-cidre";
    let mut v = app.visit("fr");
    v.get(&format!("{chicken}?q=79200&km=30"))
        .await
        .expect(200)
        .contains("Autour de : Parthenay (79200)")
        .contains("value=\"79200\"");
    v.get(&format!("{chicken}?q=parthenay"))
        .await
        .expect(200)
        .contains("Parthenay (79200)");
    v.get(&format!("{chicken}?q=Zzyzx"))
        .await
        .expect(422)
        .contains("id=\"q-error\"");
    app.cleanup().await;
}

/// Alert mails through the outbox and the real SMTP server: the confirmation link mailed at
/// sign-up confirms; a publication mails each confirmed matching subscriber once (publishing
/// again mails nobody), with List-Unsubscribe; the unconfirmed get the confirmation only; the
/// mailed one-click unsubscribe stops the mail; the weekly digest goes once a week.
async fn alert_mails_confirm_match_digest_and_unsubscribe(db: Db) {
    use std::time::Duration;

    use mailparse::MailHeaderMap;

    use crate::mail::{Smtp, header, parts, worker};

    let app = app_with_places(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let to = |email: &str| {
        let email = email.to_owned();
        smtp.messages()
            .into_iter()
            .filter(move |raw| {
                mailparse::parse_mail(raw).is_ok_and(|m| header(&m, "To").contains(&email))
            })
            .collect::<Vec<_>>()
    };
    let link_in = |text: &str, path: &str| -> String {
        let start = format!("{}{path}", app.base);
        text.split_whitespace()
            .find(|w| w.starts_with(&start))
            .unwrap_or_else(|| panic!("a link to {start} in {text}"))
            .strip_prefix(&app.base)
            .map(str::to_owned)
            .unwrap_or_default()
    };
    // Ana (immediate mail) and Ben (never confirms) sign up through the form.
    for email in ["ana@example.org", "ben@example.org"] {
        let mut v = app.visit("fr");
        v.get("/directory/alerts").await.expect(200);
        let page = v
            .post(
                "/directory/alerts",
                &[
                    ("email", email),
                    ("postcode", "79000"),
                    ("radius", "50"),
                    ("categories", "vegetables"),
                ],
            )
            .await;
        assert_eq!(page.status.as_u16(), 303, "{}", page.html);
    }
    // Cleo chose the weekly digest, in English.
    let cleo = app
        .store
        .subscribe_alerts(store::AlertRequest {
            email: "cleo@example.org".into(),
            postcode: "79000".into(),
            radius_km: 50,
            categories: Vec::new(),
            weekly_digest: true,
            language: "en".into(),
        })
        .await
        .expect("a sign-up");
    app.store
        .confirm_alerts(&cleo.confirm_token)
        .await
        .expect("confirmed");
    smtp.wait_for(3, Duration::from_secs(20)).await;
    let confirmation = to("ana@example.org");
    assert_eq!(confirmation.len(), 1);
    let m = mailparse::parse_mail(&confirmation[0]).expect("a message");
    assert!(header(&m, "Subject").contains("Confirmez"));
    assert!(m.headers.get_first_value("List-Unsubscribe").is_none());
    let (text, html) = parts(&m);
    let link = link_in(&text, "/directory/alerts/confirm/");
    assert!(html.contains(&link), "{html}");
    // The link's page shows a button; pressing it confirms.
    let mut ana = app.visit("fr");
    ana.get(&link)
        .await
        .expect(200)
        .contains("Confirmer mon inscription");
    let page = ana.post(&link, &[]).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.html);

    // Le Tallud's farm, 33.9 km from Niort, vegetables: Ana gets one mail now, Cleo later.
    let mut producer = logged_in(&app, w.producer.id).await;
    publish(
        &mut producer,
        w.producer_id,
        &[("categories", "vegetables")],
    )
    .await;
    smtp.wait_for(4, Duration::from_secs(20)).await;
    let got = to("ana@example.org");
    assert_eq!(got.len(), 2);
    let m = mailparse::parse_mail(&got[1]).expect("a message");
    assert!(
        header(&m, "Subject").contains("Les Jardins du Thouet"),
        "{}",
        header(&m, "Subject")
    );
    let (text, html) = parts(&m);
    for body in [&text, &html] {
        assert!(body.contains("33,9 km"), "{body}");
    }
    let page = link_in(&text, "/directory/producers/");
    ana.get(&page)
        .await
        .expect(200)
        .contains("Les Jardins du Thouet");
    let unsubscribe = header(&m, "List-Unsubscribe");
    let url = unsubscribe
        .trim()
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .expect("List-Unsubscribe is <URL>")
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/directory/alerts/unsubscribe/", app.base)),
        "{url}"
    );
    assert!(text.contains(&url) && html.contains(&url));
    assert_eq!(
        header(&m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    // Published again: nobody is mailed twice.
    publish(
        &mut producer,
        w.producer_id,
        &[("categories", "vegetables"), ("summary", "Encore")],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 4);
    assert_eq!(to("ben@example.org").len(), 1, "the confirmation only");

    // The one-click POST, as a mail client sends it: no cookie, no form token.
    let path = url.strip_prefix(&app.base).unwrap_or_default().to_owned();
    let one_click = app
        .visit("fr")
        .post_raw(&path, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(one_click.status.as_u16(), 303, "{}", one_click.html);
    assert!(one_click.location().contains("done=alerts-unsubscribed"));
    ana.get(&path)
        .await
        .expect(200)
        .contains("Ces alertes sont désactivées");
    let niort = niort_producer(&app, &w).await;
    let mut coordinator = logged_in(&app, w.coordinator.id).await;
    publish(&mut coordinator, niort, &[("categories", "vegetables")]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        to("ana@example.org").len(),
        2,
        "no more mail once unsubscribed"
    );

    // The weekly digest: nothing during the week the producers were matched; the next week
    // one message with both, in English; run again that week, nothing more.
    let now = chrono::Utc::now();
    assert_eq!(app.store.send_alert_digests(now).await.expect("digest"), 0);
    let next_week = now + chrono::Duration::days(7);
    assert_eq!(
        app.store
            .send_alert_digests(next_week)
            .await
            .expect("digest"),
        1
    );
    assert_eq!(
        app.store
            .send_alert_digests(next_week)
            .await
            .expect("digest"),
        0
    );
    smtp.wait_for(5, Duration::from_secs(20)).await;
    let got = to("cleo@example.org");
    assert_eq!(got.len(), 2, "the confirmation, then the digest");
    let m = mailparse::parse_mail(&got[1]).expect("a message");
    assert!(header(&m, "Subject").contains("new producers"));
    assert!(header(&m, "List-Unsubscribe").contains("/directory/alerts/unsubscribe/"));
    let (text, _) = parts(&m);
    assert!(
        text.contains("Les Jardins du Thouet") && text.contains("Fromagerie du Marais"),
        "{text}"
    );
    assert!(text.contains("33.9 km"), "{text}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 5);
    mailer.stop().await;
    app.cleanup().await;
}
