//! Issue 10, points 4 and 5: a product's category and reference; the catalogue exported and
//! imported as CSV as LibreOffice writes it (preview, an error per cell naming its line and
//! column, re-import updating by reference, a producers' group with a producer column); the
//! recipes, what is in season, where their ingredients are on sale near given coordinates or
//! in the visitor's market, and the basket's suggestions. Pages and API, on both databases.

use serde_json::{Value, json};

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, World},
    pages_support::{Page, Visit, csrf_of},
};

both!(
    a_product_has_a_category_and_a_reference_unique_per_producer,
    a_catalogue_saved_by_libreoffice_is_previewed_imported_and_imported_again,
    a_broken_file_gets_an_error_per_cell_and_a_group_names_its_producers,
    recipes_say_what_is_in_season_and_where_it_is_on_sale,
);

const LIBREOFFICE: &[u8] = include_bytes!("../fixtures/catalogue-libreoffice.csv");
const LIBREOFFICE_BOM: &[u8] = include_bytes!("../fixtures/catalogue-libreoffice-bom.csv");
const BROKEN: &[u8] = include_bytes!("../fixtures/catalogue-broken.csv");

/// Posts a `multipart/form-data` form as a browser does: the CSRF token and one file field.
async fn upload(v: &Visit, path: &str, csrf: &str, field: &str, bytes: &[u8]) -> Page {
    let boundary = "----halle-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"catalogue.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = v
        .client
        .post(format!("{}{path}", v.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let html = resp.text().await.unwrap_or_default();
    Page {
        status,
        headers,
        html,
    }
}

/// The value of the hidden `csv` field of a preview, as the browser would send it back.
fn hidden_csv(html: &str) -> String {
    let at = html.find("name=\"csv\" value=\"").unwrap();
    let rest = &html[at + "name=\"csv\" value=\"".len()..];
    let raw = &rest[..rest.find('"').unwrap()];
    raw.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn logged_in(app: &TestApp, account_id: i64, lang: &str) -> Visit {
    let email = app.store.actor(account_id).await.unwrap().email;
    let mut v = app.visit(lang);
    v.log_in(&email, PASSWORD).await;
    v
}

async fn products(app: &TestApp, w: &World) -> Vec<Value> {
    app.get("/api/v1/me/products", w.producer.t())
        .await
        .expect(200)
        .as_array()
        .cloned()
        .unwrap()
}

async fn set_product(app: &TestApp, w: &World, i: usize, body: Value) -> crate::helpers::Answer {
    app.put(
        &format!("/api/v1/products/{}", w.products[i]),
        w.producer.t(),
        body,
    )
    .await
}

async fn a_product_has_a_category_and_a_reference_unique_per_producer(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let p = set_product(&app, &w, 0, json!({"name": "Carottes", "unit": "kg", "price": "2.80", "vat_rate": "5.5", "category": "vegetables", "reference": " LEG-01 "}))
        .await
        .expect(200);
    assert_eq!(p["category"], "vegetables");
    assert_eq!(p["reference"], "LEG-01");
    set_product(&app, &w, 1, json!({"name": "Œufs", "unit": "dozen", "price": "4.20", "vat_rate": "5.5", "category": "eggs", "reference": "LEG-01"}))
        .await
        .expect_error(409, "reference_taken");
    set_product(&app, &w, 1, json!({"name": "Œufs", "unit": "dozen", "price": "4.20", "vat_rate": "5.5", "category": "légumes"}))
        .await
        .expect_error(422, "invalid_category");
    // Without a category a product is `other`.
    let eggs = app
        .get(&format!("/api/v1/products/{}", w.products[1]), None)
        .await
        .expect(200);
    assert_eq!(eggs["category"], "other");
    assert_eq!(eggs["reference"], Value::Null);

    // The form: a select of categories, the reference next to its error.
    let mut v = logged_in(&app, w.producer.id, "fr").await;
    let form = v
        .get(&format!("/producer/products/{}", w.products[0]))
        .await;
    form.expect(200)
        .contains("<option value=\"vegetables\" selected>Légumes</option>")
        .contains("value=\"LEG-01\"");
    v.post(
        &format!("/producer/products/{}", w.products[1]),
        &[
            ("name", "Œufs"),
            ("unit", "dozen"),
            ("price", "4,20"),
            ("vat_rate", "5.5"),
            ("category", "eggs"),
            ("reference", "LEG-01"),
        ],
    )
    .await
    .expect(422)
    .contains("id=\"reference-error\"")
    .contains("Un autre de vos produits a déjà cette référence.");
    v.post(
        &format!("/producer/products/{}", w.products[1]),
        &[
            ("name", "Œufs"),
            ("unit", "dozen"),
            ("price", "4,20"),
            ("vat_rate", "5.5"),
            ("category", "eggs"),
            ("reference", "OEU-06"),
        ],
    )
    .await
    .expect(303);
    v.get("/producer/products")
        .await
        .expect(200)
        .contains("Œufs · réf. OEU-06");
    app.cleanup().await;
}

async fn a_catalogue_saved_by_libreoffice_is_previewed_imported_and_imported_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    set_product(&app, &w, 0, json!({"name": "Carottes", "unit": "kg", "price": "2.80", "vat_rate": "5.5", "category": "vegetables", "reference": "LEG-01"}))
        .await
        .expect(200);
    let mut v = logged_in(&app, w.producer.id, "fr").await;
    v.get("/catalogue")
        .await
        .expect(200)
        .contains("enctype=\"multipart/form-data\"");

    // Without its token the upload changes nothing.
    upload(&v, "/catalogue/import", "wrong", "file", LIBREOFFICE_BOM)
        .await
        .expect(403);

    // The preview of the file with a BOM: LEG-01 exists (update), four new.
    let preview = upload(&v, "/catalogue/import", &v.csrf, "file", LIBREOFFICE_BOM).await;
    preview
        .expect(200)
        .contains("4 à créer, 1 à mettre à jour, 0 refusé(s).")
        .contains("Poulet fermier entier");
    assert_eq!(
        products(&app, &w).await.len(),
        3,
        "a preview changes nothing"
    );
    let csrf = csrf_of(&preview.html).unwrap();
    let csv = hidden_csv(&preview.html);
    assert!(csv.starts_with('\u{feff}') && csv.contains("\"Chair ferme; idéale en salade\""));
    let done = upload(
        &v,
        "/catalogue/import/confirm",
        &csrf,
        "csv",
        csv.as_bytes(),
    )
    .await;
    done.expect(303);
    assert_eq!(done.location(), "/catalogue?done=catalogue-imported");
    v.get(done.location())
        .await
        .contains("Le catalogue est importé.");

    let list = products(&app, &w).await;
    assert_eq!(list.len(), 7);
    let by_ref = |r: &str| list.iter().find(|p| p["reference"] == r).cloned().unwrap();
    let leeks = by_ref("LEG-01");
    assert_eq!(leeks["id"], w.products[0], "updated, not duplicated");
    assert_eq!(leeks["name"], "Poireaux");
    assert_eq!(leeks["unit"], "bunch");
    assert_eq!(leeks["price"], "2.80");
    assert_eq!(
        leeks["description"],
        "Poireaux d’hiver, « Bleu de Solaise »"
    );
    let potatoes = by_ref("LEG-02");
    assert_eq!(potatoes["step"], "0.5");
    assert_eq!(potatoes["description"], "Chair ferme; idéale en salade");
    let chicken = by_ref("VOL-01");
    assert_eq!(chicken["category"], "poultry");
    assert_eq!(chicken["variable_weight"], true);
    assert_eq!(chicken["estimated_weight_kg"], "1.8");
    assert_eq!(chicken["description"], "Élevé en plein air \"110 jours\"");
    assert_eq!(by_ref("FRO-01")["category"], "cheese");
    assert_eq!(by_ref("EPI-01")["price"], "14.50");

    // The same file without BOM, again: five updates, nothing duplicated.
    let again = upload(&v, "/catalogue/import", &v.csrf, "file", LIBREOFFICE).await;
    again
        .expect(200)
        .contains("0 à créer, 5 à mettre à jour, 0 refusé(s).");
    let csrf = csrf_of(&again.html).unwrap();
    upload(
        &v,
        "/catalogue/import/confirm",
        &csrf,
        "csv",
        hidden_csv(&again.html).as_bytes(),
    )
    .await
    .expect(303);
    assert_eq!(products(&app, &w).await.len(), 7);

    // The export opens in LibreOffice as it is, and reads back.
    let resp = v
        .client
        .get(format!("{}/catalogue/export.csv", v.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with("\u{feff}reference;nom;categorie;unite;prix;tva;pas;poids_variable;poids_estime_kg;description"));
    assert!(
        text.contains("LEG-02;Pommes de terre Charlotte;vegetables;kg;2,40;5,5;0,5;non;;\"Chair ferme; idéale en salade\""),
        "{text}"
    );
    let round_trip = upload(&v, "/catalogue/import", &v.csrf, "file", &bytes).await;
    round_trip
        .expect(200)
        .contains("0 à créer, 7 à mettre à jour, 0 refusé(s).");
    app.cleanup().await;
}

async fn a_broken_file_gets_an_error_per_cell_and_a_group_names_its_producers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = logged_in(&app, w.producer.id, "fr").await;
    v.get("/catalogue").await.expect(200);
    let preview = upload(&v, "/catalogue/import", &v.csrf, "file", BROKEN).await;
    preview
        .expect(200)
        .contains("1 à créer, 0 à mettre à jour, 4 refusé(s).")
        .contains("<th scope=\"row\">Carottes</th>")
        .contains("Ligne 3, colonne « Unité » : « sac » — unité inconnue")
        .contains("Ligne 3, colonne « Prix » : « 2,8O » — ce n&#x27;est pas un nombre")
        .contains("Ligne 4, colonne « Référence » : « LEG-01 » — référence déjà utilisée")
        .contains("Ligne 5, colonne « Nom » : «  » — obligatoire")
        .contains("Ligne 5, colonne « TVA » : « 120 » — taux de TVA invalide")
        .contains("Ligne 6, colonne « Poids variable » : « oui »");
    // A spreadsheet saved as .xlsx (a zip: NUL bytes) is a page in French, not the edge's JSON.
    let xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00";
    upload(&v, "/catalogue/import", &v.csrf, "file", xlsx)
        .await
        .expect(422)
        .contains("Ce fichier n&#x27;est pas du texte");
    upload(
        &v,
        "/catalogue/import",
        &v.csrf,
        "file",
        "nom;prix\n\u{e9}".as_bytes(),
    )
    .await
    .expect(422)
    .contains("colonnes obligatoires : unite, tva");
    upload(
        &v,
        "/catalogue/import",
        &v.csrf,
        "file",
        b"nom;unite;prix;tva\n\xe9t\xe9;kg;1;5,5\n",
    )
    .await
    .expect(422)
    .contains("UTF-8");
    assert_eq!(products(&app, &w).await.len(), 3);

    // A coordinator imports for the producers of its market, named in a column.
    let mut c = logged_in(&app, w.coordinator.id, "fr").await;
    c.get("/catalogue").await.expect(200);
    let file = "producteur;reference;nom;unite;prix;tva\nLes Jardins du Thouet;JT-9;Radis;bunch;1,5;5,5\nFerme inconnue;X-1;Navets;kg;2;5,5\n";
    let preview = upload(&c, "/catalogue/import", &c.csrf, "file", file.as_bytes()).await;
    preview
        .expect(200)
        .contains("1 à créer, 0 à mettre à jour, 1 refusé(s).")
        .contains("Ligne 3, colonne « producteur » : « Ferme inconnue » — producteur inconnu");
    let csrf = csrf_of(&preview.html).unwrap();
    upload(
        &c,
        "/catalogue/import/confirm",
        &csrf,
        "csv",
        hidden_csv(&preview.html).as_bytes(),
    )
    .await
    .expect(303);
    assert!(
        products(&app, &w)
            .await
            .iter()
            .any(|p| p["name"] == "Radis" && p["reference"] == "JT-9")
    );
    // A consumer has no catalogue.
    let consumer = app
        .user(store::Role::Consumer, None, Some(w.market_id))
        .await;
    let mut k = logged_in(&app, consumer.id, "fr").await;
    k.get("/catalogue").await.expect(403);
    app.cleanup().await;
}

async fn recipes_say_what_is_in_season_and_where_it_is_on_sale(db: Db) {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        app.store
            .load_recipes(store::recipes::DEMO_RECIPES)
            .await
            .unwrap(),
        12
    );
    assert_eq!(
        app.store
            .load_recipes(store::recipes::DEMO_RECIPES)
            .await
            .unwrap(),
        0
    );
    let w = app.world().await;
    for (i, body) in [
        json!({"name": "Carottes", "unit": "kg", "price": "2.80", "vat_rate": "5.5", "step": "0.5", "category": "vegetables"}),
        json!({"name": "Œufs", "unit": "dozen", "price": "4.20", "vat_rate": "5.5", "category": "eggs"}),
        json!({"name": "Poulet fermier", "unit": "piece", "price": "12.50", "vat_rate": "5.5", "variable_weight": true, "estimated_weight_kg": "1.8", "category": "poultry"}),
    ]
    .into_iter()
    .enumerate()
    {
        set_product(&app, &w, i, body).await.expect(200);
    }

    // The list, and those in season in July (all-year ones only).
    let all = app.get("/api/v1/recipes", None).await.expect(200);
    assert_eq!(all.as_array().unwrap().len(), 12);
    let july = app.get("/api/v1/recipes?month=7", None).await.expect(200);
    let slugs: Vec<&str> = july
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["slug"].as_str())
        .collect();
    assert_eq!(slugs, vec!["tourteau-fromager", "truite-beurre-blanc"]);
    app.get("/api/v1/recipes?month=13", None)
        .await
        .expect_error(422, "invalid_month");

    // Near Parthenay (the world's pickup points are 1 km away), the chicken is on sale.
    let chicken = "/api/v1/recipes/poulet-fermier-pommes-cidre";
    let r = app
        .get(&format!("{chicken}?lat=46.6486&lon=-0.2469"), None)
        .await
        .expect(200);
    assert_eq!(
        r["recipe"]["title"]["en"],
        "Farm chicken with apples and cider"
    );
    let on_sale = r["on_sale"].as_array().unwrap();
    assert_eq!(on_sale.len(), 1, "{on_sale:?}");
    assert_eq!(on_sale[0]["product"], "Poulet fermier");
    assert_eq!(on_sale[0]["ingredient"], 0);
    assert_eq!(on_sale[0]["price"], "12.50");
    let d = on_sale[0]["distance_km"].as_f64().unwrap();
    assert!((0.5..1.5).contains(&d), "{d}");
    // From Niort, about 41 km as the crow flies: out of 30 km, within 50.
    let niort = app
        .get(&format!("{chicken}?lat=46.3237&lon=-0.4588"), None)
        .await
        .expect(200);
    assert!(niort["on_sale"].as_array().unwrap().is_empty());
    let niort = app
        .get(
            &format!("{chicken}?lat=46.3237&lon=-0.4588&radius_km=50"),
            None,
        )
        .await
        .expect(200);
    let d = niort["on_sale"][0]["distance_km"].as_f64().unwrap();
    assert!(
        (38.0..42.0).contains(&d),
        "Niort to the pickup point: {d} km"
    );
    app.get(&format!("{chicken}?lat=46.3"), None)
        .await
        .expect_error(422, "invalid_coordinates");
    app.get(&format!("{chicken}?lat=46.3&lon=0&radius_km=500"), None)
        .await
        .expect_error(422, "invalid_radius");
    app.get("/api/v1/recipes/pas-de-recette", None)
        .await
        .expect(404);
    // Anonymous without coordinates: nowhere to look. A member of the market: its cycle.
    let anon = app.get(chicken, None).await.expect(200);
    assert!(anon["on_sale"].as_array().unwrap().is_empty());
    let consumer = app
        .user(store::Role::Consumer, None, Some(w.market_id))
        .await;
    let mine = app.get(chicken, consumer.t()).await.expect(200);
    assert_eq!(mine["on_sale"][0]["own_market"], true);

    // The pages: in season this month, per category; a recipe in both languages.
    let mut v = app.visit("fr");
    v.get("/recipes?month=1")
        .await
        .expect(200)
        .contains("De saison en janvier, par catégorie")
        .contains("id=\"season-poultry\"")
        .contains("Poulet fermier aux pommes et au cidre");
    v.get("/recipes?month=juillet").await.expect(400);
    v.get("/recipes/poulet-fermier-pommes-cidre?lat=46,6486&lon=-0,2469&km=30")
        .await
        .expect(200)
        .contains("Poulet fermier — Les Jardins du Thouet")
        .contains("Marché test")
        .contains("1,1\u{a0}km");
    v.get("/recipes/poulet-fermier-pommes-cidre?lat=abc&lon=-0,2469")
        .await
        .expect(422)
        .contains("id=\"lat-error\"");
    app.visit("en")
        .get("/recipes/blanquette-de-veau")
        .await
        .expect(200)
        .contains("Veal blanquette")
        .contains("None of these ingredients is on sale");

    // The basket suggests what its chicken and eggs go into.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": "1"}, {"offer_id": w.offers[1], "quantity": "1"}]}),
    )
    .await
    .expect(201);
    let mut k = logged_in(&app, consumer.id, "fr").await;
    k.get(&format!("/shop/{}/basket", w.cycle_id))
        .await
        .expect(200)
        .contains("Des recettes avec ce panier")
        .contains("href=\"/recipes/poulet-fermier-pommes-cidre\"");
    app.cleanup().await;
}
