//! The directory through the real browser, as a newcomer to `halle demo` walks it: from the
//! home page to the directory, a postcode, a radius and a category, producers and pickup
//! points nearest first in km, the next page, a town, coordinates, the errors next to their
//! field; a producer's page and a pickup point's; the alert sign-up with an email only, its
//! confirmation link and its unsubscribe link; a recipe reached from the home page. French on
//! a phone without JavaScript (the list alone), English on a desktop with it (the map over the
//! same list, its tile server pointed at a closed local port: no internet, and the map must
//! not break without tiles). axe-core, the 360 px check and a screenshot (`directory-...`) on
//! every page.

use chrono::Utc;
use serde_json::Value;
use store::Role;

use crate::{
    both,
    browser::{Browser, Lang},
    demo::DEMO,
    directory::{confirm_link, import_places, logged_in, niort_producer_of, publish, subscription},
    helpers::{Db, TestApp},
};

both!(the_directory_passes_axe_and_fits_a_phone_in_both_languages);

/// Tiles from a port nobody listens on: every tile fails at once, as without internet.
const NO_TILES: &str = "http://127.0.0.1:9/{z}/{x}/{y}.png";

async fn the_directory_passes_axe_and_fits_a_phone_in_both_languages(db: Db) {
    let app = TestApp::spawn_with(
        db,
        web::WebOptions {
            map_tiles: Some(NO_TILES),
            ..Default::default()
        },
    )
    .await;
    import_places(&app).await;
    let demo = store::fixtures::load_demo(&app.store, DEMO, Utc::now())
        .await
        .expect("the demo loads");
    // A cheese maker in Niort, for a distance checked by hand.
    let coordinator = app
        .user(Role::Coordinator, None, Some(demo.market_id))
        .await;
    let niort = niort_producer_of(&app, demo.market_id, &coordinator).await;
    let mut desk = logged_in(&app, coordinator.id).await;
    publish(&mut desk, niort, &[("categories", "cheese")]).await;

    for (b, lang) in [
        (Browser::phone(&app).await, Lang::Fr),
        (Browser::desktop(&app).await, Lang::En),
    ] {
        let t = |fr, en| lang.t(fr, en);
        let name = |page: &str| format!("directory-{page}-{}", lang.code());
        let place = t(
            "Code postal, commune ou coordonnées",
            "Postcode, town or coordinates",
        );
        let search = t("Rechercher", "Search");

        // The way in: the home page links to the directory.
        b.goto("/").await;
        if lang == Lang::En {
            b.click("English").await;
        }
        b.click(t(
            "Trouver les producteurs et les points de retrait autour de chez moi",
            "Find producers and pickup points near me",
        ))
        .await;
        b.assert_path("/directory").await;
        b.look(&name("home")).await;

        // A postcode, 50 km, cheese. 79200 is Parthenay (46.64832, -0.24672 in the places
        // dataset); Niort's centre (46.32313, -0.45877) is 39.6 km from it by the haversine
        // formula on a calculator ("about 41 km" between the town halls).
        b.fill(place, "79200").await;
        b.select(t("Dans un rayon de", "Within"), "50 km").await;
        b.select(t("Produits", "Products"), t("Fromages", "Cheese"))
            .await;
        b.click(search).await;
        b.assert_shows("Parthenay (79200)").await;
        let cheese = listed(&b, "producers").await;
        nearest_first(&cheese);
        assert!(
            cheese
                .iter()
                .any(|(n, km)| n == "Fromagerie du Marais" && *km == t("39,6 km", "39.6 km")),
            "{cheese:?}"
        );
        assert!(
            !cheese.iter().any(|(n, _)| n == "Les Jardins du Thouet"),
            "a market gardener among cheese makers: {cheese:?}"
        );
        let points = listed(&b, "points").await;
        nearest_first(&points);
        assert_eq!(
            points[0],
            (
                "Salle des fêtes de l'Hôtel de Ville".to_owned(),
                t("0,1 km", "0.1 km").to_owned()
            ),
            "{points:?}"
        );
        the_map(&b, lang, cheese.len() + points.len()).await;
        b.look(&name("cheese")).await;

        // Every category: more than a page, and the next link.
        b.select(
            t("Produits", "Products"),
            t("Tous les produits", "Any product"),
        )
        .await;
        b.click(search).await;
        let first = listed(&b, "producers").await;
        assert_eq!(first.len(), 20, "{first:?}");
        nearest_first(&first);
        // Le Fournil des Grands Champs, Pompaire (46.60262, -0.24876): 5.1 km by hand.
        assert!(
            first.contains(&(
                "Le Fournil des Grands Champs".to_owned(),
                t("5,1 km", "5.1 km").to_owned()
            )),
            "{first:?}"
        );
        b.look(&name("results")).await;
        b.click(t("Résultats suivants", "Next results")).await;
        assert!(b.path().await.contains("page=1"), "{}", b.path().await);
        let second = listed(&b, "producers").await;
        assert!(!second.is_empty());
        nearest_first(&[first[19].clone(), second[0].clone()]);
        b.look(&name("page-2")).await;

        // A town's name, any case: 30 km leaves Niort out.
        b.fill(place, "parthenay").await;
        b.select(t("Dans un rayon de", "Within"), "30 km").await;
        b.click(search).await;
        b.assert_shows("Parthenay (79200)").await;
        let town = listed(&b, "producers").await;
        assert!(!town.iter().any(|(n, _)| n == "Fromagerie du Marais"));
        assert!(town.iter().any(|(n, _)| n == "Les Jardins du Thouet"));
        b.look(&name("town")).await;

        // Coordinates: Niort's centre, the cheese maker at 0 km.
        b.fill(place, "46.32313, -0.45877").await;
        b.click(search).await;
        let here = listed(&b, "producers").await;
        assert_eq!(
            here[0],
            (
                "Fromagerie du Marais".to_owned(),
                t("0,0 km", "0.0 km").to_owned()
            )
        );
        b.look(&name("coordinates")).await;

        // Bad input: the form again, the error next to its field, never a 500.
        let unknown = t(
            "Code postal ou commune inconnus",
            "Unknown postcode or town",
        );
        for (typed, page) in [
            ("Nulle-Part-Sur-Mer", "error-place"),
            ("00000", "error-postcode"),
        ] {
            b.fill(place, typed).await;
            b.click(search).await;
            error_next_to(&b, "q", unknown).await;
            b.look(&name(page)).await;
        }
        // The radius is chosen from a list: out of range only by a link edited by hand.
        b.goto("/directory?q=79200&radius=500").await;
        error_next_to(
            &b,
            "radius",
            t(
                "Choisissez un rayon entre 5 et 100 km.",
                "Choose a radius from 5 to 100 km.",
            ),
        )
        .await;
        b.look(&name("error-radius")).await;

        // A producer's page, then one of its pickup points.
        b.goto("/directory?q=79200&radius=50&category=cheese").await;
        b.click("Fromagerie du Marais").await;
        b.assert_path(&format!("/directory/producers/{niort}"))
            .await;
        b.assert_shows(t("Fromages", "Cheese")).await;
        b.assert_shows("Salle des fêtes de l'Hôtel de Ville").await;
        // It gave no phone, email or website: no empty "Contact" heading.
        let headings = b
            .js("return [...document.querySelectorAll('main h2')].map(h => h.id).join(' ')")
            .await;
        assert_eq!(headings, "markets points", "{headings}");
        b.look(&name("producer")).await;
        // A demo farm that gave them: its contact, as links.
        b.goto("/directory?q=79200&radius=10").await;
        b.click("Les Jardins du Thouet").await;
        b.assert_shows("Contact").await;
        b.look(&name("producer-contact")).await;
        b.goto(&format!("/directory/producers/{niort}")).await;
        b.click("Salle des fêtes de l'Hôtel de Ville").await;
        b.assert_shows("Fromagerie du Marais").await;
        b.look(&name("point")).await;

        // Alerts, with an email only: the sign-up, its confirmation link, its unsubscribe link.
        b.click(t("Retour à l'annuaire", "Back to the directory"))
            .await;
        b.click(t(
            "Être prévenu quand un producteur s'installe près de chez moi",
            "Tell me when a producer starts near me",
        ))
        .await;
        b.look(&name("alerts")).await;
        let email_label = t("Adresse électronique", "Email address");
        b.fill(email_label, "pas-une-adresse").await;
        b.fill(t("Code postal", "Postcode"), "79200").await;
        b.click(t("M'inscrire", "Sign me up")).await;
        error_next_to(
            &b,
            "email",
            t("Indiquez une adresse électronique", "Give an email address"),
        )
        .await;
        b.look(&name("alerts-error")).await;
        let email = format!("lea.{}@example.org", lang.code());
        b.fill(email_label, &email).await;
        b.click(t("M'inscrire", "Sign me up")).await;
        b.assert_shows(t(
            "Suivez le lien de confirmation",
            "Follow the confirmation link",
        ))
        .await;
        b.look(&name("alerts-signed-up")).await;
        assert!(subscription(&app, &email).await.confirmed_at.is_none());
        b.goto(&confirm_link(&app, &email).await).await;
        b.look(&name("alert-confirm")).await;
        b.click(t("Confirmer mon inscription", "Confirm my sign-up"))
            .await;
        b.assert_shows(t("Inscription confirmée", "Sign-up confirmed"))
            .await;
        b.look(&name("alert-confirmed")).await;
        let s = subscription(&app, &email).await;
        assert!(s.confirmed_at.is_some() && s.unsubscribed_at.is_none());
        b.goto(&format!(
            "/directory/alerts/unsubscribe/{}",
            s.unsubscribe_token
        ))
        .await;
        b.look(&name("alert-unsubscribe")).await;
        b.click(t("Me désinscrire", "Unsubscribe me")).await;
        b.assert_shows(t("Vous êtes désinscrit", "You are unsubscribed"))
            .await;
        b.look(&name("alert-unsubscribed")).await;
        assert!(subscription(&app, &email).await.unsubscribed_at.is_some());

        // A recipe, from the home page, and where its ingredients are around a postcode.
        b.goto("/").await;
        b.click(t(
            "Que cuisiner ce mois-ci : les recettes de saison et où trouver leurs ingrédients",
            "What to cook this month: seasonal recipes and where to find their ingredients",
        ))
        .await;
        b.assert_path("/recipes").await;
        b.look(&name("recipes")).await;
        let recipe = b
            .js("return document.querySelector('main a[href^=\"/recipes/\"]').textContent")
            .await;
        b.click(recipe.as_str().expect("a recipe on the list"))
            .await;
        b.fill(t("Code postal ou commune", "Postcode or town"), "79200")
            .await;
        b.click(t("Chercher près d'ici", "Search near here")).await;
        b.assert_shows("Parthenay (79200)").await;
        b.look(&name("recipe")).await;
        b.close().await;
    }
    app.cleanup().await;
}

/// The list under the heading `heading_id` ("producers" or "points"): (name, distance) pairs.
async fn listed(b: &Browser, heading_id: &str) -> Vec<(String, String)> {
    let rows = b
        .js(&format!(
            "return [...document.querySelectorAll('#{heading_id} + ol.results > li')]
               .map(li => [li.querySelector('a').textContent, li.querySelector('strong').textContent])"
        ))
        .await;
    rows.as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let text = |i: usize| r[i].as_str().unwrap_or_default().replace('\u{a0}', " ");
            (text(0), text(1))
        })
        .collect()
}

/// Asserts the distances ("3,4 km" or "3.4 km") never decrease.
#[track_caller]
fn nearest_first(rows: &[(String, String)]) {
    let km: Vec<f64> = rows
        .iter()
        .map(|(_, d)| {
            d.trim_end_matches(" km")
                .replace(',', ".")
                .parse()
                .unwrap_or_else(|_| panic!("{d:?} is no distance in km"))
        })
        .collect();
    assert!(km.is_sorted(), "not nearest first: {rows:?}");
}

/// Asserts the field `id` is marked invalid and described by the error beside it, which says
/// `words`.
async fn error_next_to(b: &Browser, id: &str, words: &str) {
    let found = b
        .js(&format!(
            "const f = document.getElementById('{id}');
             const e = document.getElementById('{id}-error');
             return [f.getAttribute('aria-invalid'), f.getAttribute('aria-describedby') || '',
                     e ? e.textContent : '', e ? f.parentElement.contains(e) : false]"
        ))
        .await;
    assert_eq!(found[0], "true", "{id} is not marked invalid: {found}");
    assert!(
        found[1]
            .as_str()
            .is_some_and(|d| d.split(' ').any(|i| i == format!("{id}-error"))),
        "{id} is not described by its error: {found}"
    );
    assert!(
        found[2].as_str().is_some_and(|e| e.contains(words)) && found[3] == true,
        "no {words:?} beside {id}: {found}"
    );
}

/// With JavaScript (the English desktop), the map shows one marker per result listed (and no
/// broken image) and "use my position" is offered; without (the French phone), the list is the
/// whole page.
async fn the_map(b: &Browser, lang: Lang, results: usize) {
    let map = b
        .js("const m = document.getElementById('directory-map');
             if (!m) { return null; }
             const icons = [...m.querySelectorAll('.leaflet-marker-icon')];
             const here = document.getElementById('use-position');
             return { hidden: m.hidden, here: here.getClientRects().length > 0, height: m.getBoundingClientRect().height,
                      leaflet: m.classList.contains('leaflet-container'), markers: icons.length,
                      broken: icons.filter(i => i.tagName === 'IMG' && i.complete && i.naturalWidth === 0).length }")
        .await;
    assert!(map.is_object(), "no map on the page");
    if lang == Lang::Fr {
        assert_eq!(map["hidden"], true, "{map}");
        assert_eq!(map["leaflet"], false, "{map}");
        // "Use my position" needs the script: no dead button without it.
        assert_eq!(map["here"], false, "{map}");
        return;
    }
    assert_eq!(map["hidden"], false, "{map}");
    assert_eq!(map["here"], true, "{map}");
    assert!(map["height"].as_f64().unwrap_or(0.0) >= 200.0, "{map}");
    assert_eq!(map["markers"], Value::from(results), "{map}");
    assert_eq!(map["broken"], 0, "{map}");
}
