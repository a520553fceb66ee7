//! The recipe pages and the catalogue import through the real browser: French on a phone
//! without JavaScript, English on a desktop with it; axe-core, the 360 px check and a
//! screenshot (`recipes-...`, `catalogue-...`) on each page, errors included. The producer
//! uploads the broken file, reads its errors and imports its one good line.

use serde_json::json;

use crate::{
    both,
    browser::{Browser, Lang},
    browser_roles::log_in,
    helpers::{Db, TestApp},
};

both!(recipe_and_import_pages_pass_axe_and_fit_a_phone);

async fn recipe_and_import_pages_pass_axe_and_fit_a_phone(db: Db) {
    let app = TestApp::spawn(db).await;
    app.store
        .load_recipes(store::recipes::DEMO_RECIPES)
        .await
        .unwrap();
    let w = app.world().await;
    app.put(
        &format!("/api/v1/products/{}", w.products[2]),
        w.producer.t(),
        json!({"name": "Poulet fermier", "unit": "piece", "price": "12.50", "vat_rate": "5.5", "variable_weight": true, "estimated_weight_kg": "1.8", "category": "poultry"}),
    )
    .await
    .expect(200);
    let broken = std::fs::canonicalize(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/catalogue-broken.csv"
    ))
    .unwrap();

    for (b, lang) in [
        (Browser::phone(&app).await, Lang::Fr),
        (Browser::desktop(&app).await, Lang::En),
    ] {
        let t = |fr, en| lang.t(fr, en);
        let code = lang.code();
        if lang == Lang::En {
            b.goto("/").await;
            b.click("English").await;
        }
        b.goto("/recipes?month=1").await;
        b.assert_shows(t("De saison en janvier", "In season in January"))
            .await;
        b.look(&format!("recipes-list-{code}")).await;
        assert!(
            b.shows(t(
                "Poulet fermier aux pommes et au cidre",
                "Farm chicken with apples and cider"
            ))
            .await
        );
        b.goto("/recipes/poulet-fermier-pommes-cidre").await;
        b.fill("Latitude", t("46,6486", "46.6486")).await;
        b.fill("Longitude", t("-0,2469", "-0.2469")).await;
        b.click(t("Chercher près d'ici", "Search near here")).await;
        b.assert_shows("Poulet fermier — Les Jardins du Thouet")
            .await;
        b.look(&format!("recipes-on-sale-{code}")).await;
        b.fill("Latitude", "abc").await;
        b.click(t("Chercher près d'ici", "Search near here")).await;
        b.assert_shows(t(
            "Une latitude entre -90 et 90",
            "A latitude between -90 and 90",
        ))
        .await;
        b.look(&format!("recipes-error-{code}")).await;

        // The producer imports its catalogue: the upload, the preview with its errors.
        log_in(&app, &b, &w.producer, lang).await;
        b.goto("/catalogue").await;
        b.look(&format!("catalogue-{code}")).await;
        b.field(t("Fichier CSV", "CSV file"))
            .await
            .send_keys(broken.to_str().unwrap())
            .await
            .unwrap();
        b.click(t("Voir ce qui sera importé", "See what will be imported"))
            .await;
        b.assert_shows(t(
            "Ligne 3, colonne « Unité » : « sac »",
            "Line 3, column \"Unité\": \"sac\"",
        ))
        .await;
        b.look(&format!("catalogue-preview-{code}")).await;
        b.click(t("Importer 1 ligne(s)", "Import 1 line(s)")).await;
        b.assert_shows(t("Le catalogue est importé.", "The catalogue is imported."))
            .await;
        b.goto("/account").await;
        b.click(t("Se déconnecter", "Log out")).await;
        b.close().await;
    }
    app.cleanup().await;
}
