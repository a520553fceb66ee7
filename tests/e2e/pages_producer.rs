//! Pages: a producer's space. The week's offer in one submit (pre-filled from the last cycle),
//! errors next to their row, the catalogue, and after close the picking list, labels, weights
//! and sales; other producers' things, other roles and forms without CSRF token refused.

use chrono::{Duration, Utc};
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, World, iso},
    pages_support::Visit,
};

both!(
    a_producer_publishes_the_week_in_one_submit_prefilled_from_last_cycle,
    a_refused_row_keeps_what_was_typed_with_its_error_next_to_it,
    a_producer_creates_edits_and_archives_products,
    a_producer_adds_a_phone_photo_to_a_product,
    after_close_a_producer_gets_its_lists_and_records_weights,
    other_producers_roles_and_forms_without_token_are_refused,
);

/// The world's producer, logged in through the login page.
async fn producer_visit(app: &TestApp, w: &World, lang: &str) -> Visit {
    let email = app.store.actor(w.producer.id).await.unwrap().email;
    let mut v = app.visit(lang);
    let page = v.log_in(&email, PASSWORD).await;
    assert_eq!(page.location(), "/producer");
    v
}

/// A second cycle of the world's market, a draft opening after the first.
async fn next_cycle(app: &TestApp, w: &World) -> i64 {
    let now = Utc::now();
    let c = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Semaine suivante", "opens_at": iso(now + Duration::days(3)),
                   "closes_at": iso(now + Duration::days(6)), "slots": []}),
        )
        .await
        .expect(201);
    c["id"].as_i64().unwrap()
}

/// The offers of a cycle by product id: (price, stock) as the API says.
async fn offers(app: &TestApp, w: &World, cycle_id: i64) -> Vec<(i64, String, String)> {
    let c = app
        .get(&format!("/api/v1/cycles/{cycle_id}"), w.coordinator.t())
        .await
        .expect(200);
    let mut out: Vec<(i64, String, String)> = c["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["product_id"].as_i64().unwrap(),
                o["price"].as_str().unwrap_or_default().to_owned(),
                o["stock_total"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The `value` of the input named `name`.
fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let v = tag.find("value=\"")?;
    let v = &tag[v + 7..];
    Some(v[..v.find('"')?].to_owned())
}

/// Whether the checkbox named `name` is ticked.
fn checked(html: &str, name: &str) -> bool {
    let Some(at) = html.find(&format!("name=\"{name}\"")) else {
        return false;
    };
    let rest = &html[at..];
    rest[..rest.find('>').unwrap()].contains("checked")
}

async fn a_producer_publishes_the_week_in_one_submit_prefilled_from_last_cycle(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let next = next_cycle(&app, &w).await;
    let [carrots, eggs, chicken] = [w.products[0], w.products[1], w.products[2]];
    let mut v = producer_visit(&app, &w, "fr-FR").await;

    let home = v.get("/producer").await;
    home.expect(200)
        .contains("Semaine suivante")
        .contains("Offre pas encore publiée")
        .contains(&format!("href=\"/producer/week/{next}\""))
        .contains("Semaine test");

    // Nothing offered in the new cycle yet: every row comes from the last one.
    let page = v.get(&format!("/producer/week/{next}")).await;
    page.expect(200)
        .contains("Pré-rempli avec votre offre du cycle « Semaine test »")
        .contains("<label for=\"price_");
    for p in [carrots, eggs, chicken] {
        assert!(checked(&page.html, &format!("sale_{p}")), "{p} on sale");
    }
    assert_eq!(
        value_of(&page.html, &format!("price_{carrots}")).as_deref(),
        Some("2,80")
    );
    assert_eq!(
        value_of(&page.html, &format!("stock_{carrots}")).as_deref(),
        Some("50")
    );
    // A GET writes nothing.
    assert!(offers(&app, &w, next).await.is_empty());

    // One submit: carrots at a new price, eggs as they were, no chicken this week.
    let (c, e) = (carrots.to_string(), eggs.to_string());
    let fields = [
        (format!("sale_{c}"), "on".to_owned()),
        (format!("price_{c}"), "3,10".to_owned()),
        (format!("stock_{c}"), "40".to_owned()),
        (format!("sale_{e}"), "on".to_owned()),
        (format!("price_{e}"), "4,20".to_owned()),
        (format!("stock_{e}"), "20".to_owned()),
        (format!("price_{chicken}"), "12,50".to_owned()),
        (format!("stock_{chicken}"), "6".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = v.post(&format!("/producer/week/{next}"), &fields).await;
    done.expect(303);
    assert_eq!(
        done.location(),
        format!("/producer/week/{next}?done=producer-week")
    );
    assert_eq!(
        offers(&app, &w, next).await,
        vec![
            (carrots, "3.10".to_owned(), "40".to_owned()),
            (eggs, "4.20".to_owned(), "20".to_owned()),
        ]
    );
    let page = v.get(done.location()).await;
    page.expect(200)
        .contains("Votre offre de la semaine est publiée.");
    assert!(!page.html.contains("Pré-rempli"), "now from this cycle");
    assert!(checked(&page.html, &format!("sale_{carrots}")));
    assert!(!checked(&page.html, &format!("sale_{chicken}")));
    assert_eq!(
        value_of(&page.html, &format!("price_{carrots}")).as_deref(),
        Some("3,10")
    );

    // Editing one price later is the same screen, the same one submit; in English too.
    v.get("/account").await;
    v.post("/language", &[("lang", "en"), ("next", "/producer")])
        .await
        .expect(303);
    let page = v.get(&format!("/producer/week/{next}")).await;
    page.expect(200).contains("Price incl. VAT (€ / kg)");
    assert_eq!(
        value_of(&page.html, &format!("price_{carrots}")).as_deref(),
        Some("3.10")
    );
    let mut edited = fields.clone();
    edited[1].1 = "2.95";
    v.post(&format!("/producer/week/{next}"), &edited)
        .await
        .expect(303);
    assert_eq!(offers(&app, &w, next).await[0].1, "2.95");
    v.get("/producer")
        .await
        .expect(200)
        .contains("2 products on sale");
    app.cleanup().await;
}

async fn a_refused_row_keeps_what_was_typed_with_its_error_next_to_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let [carrots, eggs] = [w.products[0], w.products[1]];
    let consumer = app
        .named_user("Émilie Fabre", Role::Consumer, None, None)
        .await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[0], "quantity": "2"}]}),
    )
    .await
    .expect(201);
    let before = offers(&app, &w, w.cycle_id).await;
    let mut v = producer_visit(&app, &w, "fr").await;
    let path = format!("/producer/week/{}", w.cycle_id);
    // Totals only: how much was ordered, never by whom.
    let page = v.get(&path).await;
    page.expect(200).contains("Déjà commandé : 2");
    assert!(
        !page.html.contains("Émilie"),
        "no consumer on the week's page"
    );

    let (c, e) = (carrots.to_string(), eggs.to_string());
    let fields = [
        (format!("sale_{c}"), "on"),
        (format!("price_{c}"), "2,80"),
        (format!("stock_{c}"), "1"),
        (format!("sale_{e}"), "on"),
        (format!("price_{e}"), "quatre"),
        (format!("stock_{e}"), "20"),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let page = v.post(&path, &fields).await;
    page.expect(422)
        .contains("Votre offre n&#x27;est pas enregistrée")
        .contains(&format!("id=\"stock_{carrots}-error\""))
        .contains("commandés : le stock ne peut pas être plus bas")
        .contains(&format!("id=\"price_{eggs}-error\""))
        .contains("Indiquez un prix en euros");
    // What was typed is all there, and nothing was saved.
    assert_eq!(
        value_of(&page.html, &format!("price_{eggs}")).as_deref(),
        Some("quatre")
    );
    assert_eq!(
        value_of(&page.html, &format!("stock_{carrots}")).as_deref(),
        Some("1")
    );
    assert!(page.html.contains(&format!(
        "id=\"price_{eggs}\" name=\"price_{eggs}\" type=\"text\" value=\"quatre\" inputmode=\"decimal\" aria-invalid=\"true\""
    )));
    assert_eq!(offers(&app, &w, w.cycle_id).await, before);

    // A fractional stock of something sold by the dozen, a ticked row without a stock.
    let fields = [
        (format!("sale_{e}"), "on"),
        (format!("price_{e}"), "4,20"),
        (format!("stock_{e}"), "2,5"),
        (format!("sale_{}", w.products[2]), "on"),
        (format!("price_{}", w.products[2]), "12,50"),
        (format!("stock_{}", w.products[2]), ""),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.post(&path, &fields)
        .await
        .expect(422)
        .contains("indiquez un stock entier")
        .contains("Indiquez le stock disponible cette semaine.");
    assert_eq!(offers(&app, &w, w.cycle_id).await, before);
    app.cleanup().await;
}

/// The id of a product of the producer by name, as the API lists them.
async fn product_id(app: &TestApp, w: &World, name: &str) -> Option<i64> {
    let list = app
        .get(
            &format!("/api/v1/producers/{}/products", w.producer_id),
            w.producer.t(),
        )
        .await
        .expect(200);
    let items = list.as_array().cloned().unwrap_or_default();
    items
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["id"].as_i64())
}

/// An image as a camera would send it.
fn photo(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// GETs a photo: (status, cache-control, bytes).
async fn fetch(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let resp = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        resp.status().as_u16(),
        cache,
        resp.bytes().await.unwrap().to_vec(),
    )
}

/// The product as the API shows it to its producer.
async fn product(app: &TestApp, w: &World, id: i64) -> serde_json::Value {
    app.get(&format!("/api/v1/products/{id}"), w.producer.t())
        .await
        .expect(200)
}

async fn a_producer_adds_a_phone_photo_to_a_product(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = producer_visit(&app, &w, "fr").await;
    v.get("/producer/products/new")
        .await
        .expect(200)
        .contains("enctype=\"multipart/form-data\"")
        .contains("type=\"file\"");
    let fields = [
        ("name", "Potimarron"),
        ("unit", "piece"),
        ("price", "2,40"),
        ("vat_rate", "5.5"),
    ];

    // Without the form's token: 403, nothing created.
    let token = std::mem::replace(&mut v.csrf, "forged".into());
    let big = photo(3000, 2000, image::ImageFormat::Jpeg);
    v.post_multipart(
        "/producer/products",
        &fields,
        &[("photo", "IMG_2041.jpg", &big)],
    )
    .await
    .expect(403);
    assert_eq!(product_id(&app, &w, "Potimarron").await, None);
    v.csrf = token;

    // A phone-sized photo with a new product, in one submit: stored scaled down.
    v.post_multipart(
        "/producer/products",
        &fields,
        &[("photo", "IMG_2041.jpg", &big)],
    )
    .await
    .expect(303);
    let id = product_id(&app, &w, "Potimarron").await.unwrap();
    let first = product(&app, &w, id).await["photo_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        first.starts_with(&format!("/photos/{id}.jpg?v=")),
        "{first}"
    );
    v.get("/producer/products")
        .await
        // (handlebars writes `=` as `&#x3D;` in an attribute; a browser reads it back)
        .contains(&format!("src=\"{}\"", first.replace('=', "&#x3D;")));
    let (status, cache, bytes) = fetch(&app, &first).await;
    assert_eq!(status, 200);
    assert!(cache.contains("immutable"), "{cache}");
    let stored = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((stored.width(), stored.height()), (1200, 800));
    assert!(bytes.len() < big.len() / 2, "{} bytes kept", bytes.len());

    // A file that is not an image refuses the whole form, with the error next to the file.
    let edit = format!("/producer/products/{id}");
    let renamed = [
        ("name", "Potimarron bio"),
        ("unit", "piece"),
        ("price", "2,40"),
        ("vat_rate", "5.5"),
    ];
    v.get(&edit).await.expect(200);
    v.post_multipart(
        &edit,
        &renamed,
        &[("photo", "prix.csv", b"nom;prix\nPotimarron;2,40\n")],
    )
    .await
    .expect(422)
    .contains("id=\"photo-error\"")
    .contains("pas une image lisible");
    let p = product(&app, &w, id).await;
    assert_eq!(p["name"], "Potimarron");
    assert_eq!(p["photo_url"], first.as_str());

    // No file chosen (the browser sends an empty part): the rest is saved, the photo kept.
    v.get(&edit).await.expect(200);
    v.post_multipart(&edit, &renamed, &[("photo", "", b"")])
        .await
        .expect(303);
    let p = product(&app, &w, id).await;
    assert_eq!(p["name"], "Potimarron bio");
    assert_eq!(p["photo_url"], first.as_str());

    // Another photo (a PNG) replaces it; the old address serves the new photo, briefly cached.
    v.get(&edit).await.expect(200);
    let png = photo(640, 480, image::ImageFormat::Png);
    v.post_multipart(&edit, &renamed, &[("photo", "courge.png", &png)])
        .await
        .expect(303);
    let second = product(&app, &w, id).await["photo_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);
    let (status, cache, bytes) = fetch(&app, &first).await;
    assert_eq!((status, cache.as_str()), (200, "public, max-age=60"));
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (640, 480));

    // Over 12 MB: refused from its announced length, before the body is sent (a raw request:
    // a client still writing 13 MB when the answer comes would see its pipe broken).
    let head = format!(
        "POST {edit} HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n",
        app.base.trim_start_matches("http://"),
        13 * 1024 * 1024
    );
    let mut tcp = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, head.as_bytes())
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let n = tokio::io::AsyncReadExt::read(&mut tcp, &mut answer)
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Removed: the product has none, and its address answers 404.
    v.get(&edit)
        .await
        .expect(200)
        .contains("name=\"remove_photo\"");
    v.post_multipart(
        &edit,
        &[renamed.as_slice(), &[("remove_photo", "on")]].concat(),
        &[],
    )
    .await
    .expect(303);
    assert!(product(&app, &w, id).await["photo_url"].is_null());
    assert_eq!(fetch(&app, &second).await.0, 404);

    // A product on sale shows its photo in the shop.
    let carrots = w.products[0];
    let edit = format!("/producer/products/{carrots}");
    v.get(&edit).await.expect(200);
    let carrot_fields = [
        ("name", "Carottes"),
        ("unit", "kg"),
        ("price", "2,80"),
        ("vat_rate", "5.5"),
    ];
    v.post_multipart(&edit, &carrot_fields, &[("photo", "carottes.jpg", &png)])
        .await
        .expect(303);
    let url = product(&app, &w, carrots).await["photo_url"]
        .as_str()
        .unwrap()
        .replace('=', "&#x3D;");
    app.visit("fr")
        .get(&format!("/shop/{}", w.cycle_id))
        .await
        .expect(200)
        .contains(&format!("class=\"offer-photo\" src=\"{url}\""));
    app.cleanup().await;
}

async fn a_producer_creates_edits_and_archives_products(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut v = producer_visit(&app, &w, "fr").await;
    v.get("/producer/products")
        .await
        .expect(200)
        .contains("Carottes")
        .contains("2,80\u{a0}€ / kg");
    v.get("/producer/products/new").await.expect(200);
    let refused = v
        .post(
            "/producer/products",
            &[
                ("name", "Radis"),
                ("unit", "bunch"),
                ("price", "-1"),
                ("vat_rate", "5.5"),
            ],
        )
        .await;
    refused
        .expect(422)
        .contains("id=\"price-error\"")
        .contains("value=\"Radis\"");
    v.post(
        "/producer/products",
        &[
            ("name", "Radis"),
            ("unit", "bunch"),
            ("price", "1,50"),
            ("vat_rate", "5.5"),
            ("photo_url", "javascript:alert(1)"),
        ],
    )
    .await
    .expect(422)
    .contains("id=\"photo_url-error\"");
    assert_eq!(product_id(&app, &w, "Radis").await, None);
    let created = v
        .post(
            "/producer/products",
            &[
                ("name", "Radis"),
                ("description", "Radis roses"),
                ("unit", "bunch"),
                ("price", "1,50"),
                ("vat_rate", "5.5"),
                ("photo_url", "https://example.org/radis.jpg"),
            ],
        )
        .await;
    created.expect(303);
    assert_eq!(
        created.location(),
        "/producer/products?done=producer-product-created"
    );
    v.get(created.location())
        .await
        .contains("Le produit est ajouté.")
        .contains("Radis")
        .contains("src=\"https://example.org/radis.jpg\"");
    let radis = product_id(&app, &w, "Radis").await.unwrap();

    // Edit: the form comes filled in; a variable weight needs its estimate.
    let page = v.get(&format!("/producer/products/{radis}")).await;
    page.expect(200);
    assert_eq!(value_of(&page.html, "price").as_deref(), Some("1,50"));
    assert_eq!(
        value_of(&page.html, "photo_url").as_deref(),
        Some("https://example.org/radis.jpg")
    );
    v.post(
        &format!("/producer/products/{radis}"),
        &[
            ("name", "Radis"),
            ("unit", "piece"),
            ("price", "1,80"),
            ("vat_rate", "5.5"),
            ("variable_weight", "on"),
        ],
    )
    .await
    .expect(422)
    .contains("id=\"estimated_weight_kg-error\"");
    v.post(
        &format!("/producer/products/{radis}"),
        &[
            ("name", "Radis ronds"),
            ("unit", "bunch"),
            ("price", "1,80"),
            ("vat_rate", "5.5"),
            ("photo_url", "https://example.org/radis.jpg"),
        ],
    )
    .await
    .expect(303);
    let p = app
        .get(&format!("/api/v1/products/{radis}"), w.producer.t())
        .await
        .expect(200);
    assert_eq!(p["name"], "Radis ronds");
    assert_eq!(p["price"], "1.80");

    // Archive: never offered, it goes; offered, it is archived and withdrawn.
    v.get("/producer/products").await;
    let gone = v
        .post(&format!("/producer/products/{radis}/archive"), &[])
        .await;
    assert_eq!(
        gone.location(),
        "/producer/products?done=producer-product-deleted"
    );
    let archived = v
        .post(
            &format!("/producer/products/{}/archive", w.products[0]),
            &[],
        )
        .await;
    assert_eq!(
        archived.location(),
        "/producer/products?done=producer-product-archived"
    );
    let page = v.get(archived.location()).await;
    page.expect(200)
        .contains("Le produit est archivé.")
        .contains("Archivés");
    assert!(
        !offers(&app, &w, w.cycle_id)
            .await
            .iter()
            .any(|o| o.0 == w.products[0]),
        "its offer is withdrawn"
    );
    // An archived product is no longer edited.
    v.get(&format!("/producer/products/{}", w.products[0]))
        .await
        .expect(404);
    app.cleanup().await;
}

async fn after_close_a_producer_gets_its_lists_and_records_weights(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app
        .named_user("Émilie Fabre", Role::Consumer, None, None)
        .await;
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": 1}, {"offer_id": w.offers[0], "quantity": "2"}]}),
    )
    .await
    .expect(201);
    let mut v = producer_visit(&app, &w, "fr").await;
    let cycle = format!("/producer/cycles/{}", w.cycle_id);
    // Weights wait for the close.
    v.get(&cycle)
        .await
        .expect(200)
        .contains("Les pesées se saisissent après la clôture");
    app.close_cycle(&w).await;
    // The week's page of a closed cycle leads here, and its offer no longer changes.
    let page = v.get(&format!("/producer/week/{}", w.cycle_id)).await;
    assert_eq!(page.location(), cycle);
    let sale = format!("sale_{}", w.products[1]);
    let price = format!("price_{}", w.products[1]);
    let stock = format!("stock_{}", w.products[1]);
    v.post(
        &format!("/producer/week/{}", w.cycle_id),
        &[
            (sale.as_str(), "on"),
            (price.as_str(), "5"),
            (stock.as_str(), "20"),
        ],
    )
    .await
    .expect(409)
    .contains("Ce cycle est clos");

    let page = v.get(&cycle).await;
    page.expect(200)
        .contains("Poulet fermier · Émilie Fabre")
        .contains("À peser")
        .contains("<caption>")
        .contains("5,60\u{a0}€")
        .contains("22,50\u{a0}€");
    for (doc, kind, start) in [
        ("picking.html", "text/html", "<!"),
        ("picking.pdf", "application/pdf", "%PDF"),
        ("picking.csv", "text/csv", "\u{feff}"),
        ("labels.html", "text/html", "<!"),
        ("labels.pdf", "application/pdf", "%PDF"),
        ("labels.csv", "text/csv", "\u{feff}"),
    ] {
        let resp = v
            .client
            .get(format!("{}{cycle}/{doc}", v.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{doc}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with(kind), "{doc}: {ct}");
        let bytes = resp.bytes().await.unwrap();
        assert!(
            String::from_utf8_lossy(&bytes).starts_with(start),
            "{doc} starts with {start:?}"
        );
        if doc.ends_with(".csv") {
            assert!(String::from_utf8_lossy(&bytes).contains("Poulet fermier"));
        }
    }
    v.get(&format!("{cycle}/picking.docx")).await.expect(404);

    // One small form per line: a wrong weight is refused next to its field.
    let at = page.html.find(&format!("action=\"{cycle}/lines/")).unwrap();
    let rest = &page.html[at + format!("action=\"{cycle}/lines/").len()..];
    let line: i64 = rest[..rest.find('/').unwrap()].parse().unwrap();
    let weights = format!("{cycle}/lines/{line}/weights");
    v.post(&weights, &[("piece_1", "lourd")])
        .await
        .expect(422)
        .contains(&format!("id=\"w{line}_1-error\""))
        .contains("value=\"lourd\"");
    let done = v.post(&weights, &[("piece_1", "1,92")]).await;
    done.expect(303);
    let page = v.get(done.location()).await;
    page.expect(200)
        .contains("Les pesées sont enregistrées.")
        .contains("Pesé")
        .contains("1,92\u{a0}kg")
        // 1.92 kg at 12.50 €/kg.
        .contains("24,00\u{a0}€");
    app.cleanup().await;
}

async fn other_producers_roles_and_forms_without_token_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let mut v = producer_visit(&app, &w, "fr").await;
    for path in [
        format!("/producer/products/{}", other.products[0]),
        format!("/producer/week/{}", other.cycle_id),
        format!("/producer/cycles/{}", other.cycle_id),
        format!("/producer/cycles/{}/picking.pdf", other.cycle_id),
        "/producer/week/nope".to_owned(),
    ] {
        v.get(&path).await.expect(404);
    }
    v.get("/producer").await;
    v.post(
        &format!("/producer/products/{}/archive", other.products[0]),
        &[],
    )
    .await
    .expect(404);
    let mine = format!("sale_{}", other.products[0]);
    v.post(
        &format!("/producer/week/{}", other.cycle_id),
        &[(mine.as_str(), "on")],
    )
    .await
    .expect(404);
    assert_eq!(
        app.get(&format!("/api/v1/products/{}", other.products[0]), None)
            .await
            .expect(200)["name"],
        "Carottes"
    );

    // Without its token, a form changes nothing.
    let before = offers(&app, &w, w.cycle_id).await;
    v.get(&format!("/producer/week/{}", w.cycle_id)).await;
    v.post_raw(&format!("/producer/week/{}", w.cycle_id), &[])
        .await
        .expect(403);
    assert_eq!(offers(&app, &w, w.cycle_id).await, before);
    v.post_raw(
        &format!("/producer/products/{}/archive", w.products[0]),
        &[],
    )
    .await
    .expect(403);
    assert!(product_id(&app, &w, "Carottes").await.is_some());

    // Other roles: 403; visitors: to the login page.
    let consumer = app.user(Role::Consumer, None, None).await;
    let email = app.store.actor(consumer.id).await.unwrap().email;
    let mut c = app.visit("fr");
    c.log_in(&email, PASSWORD).await;
    c.get("/producer").await.expect(403);
    c.get(&format!("/producer/week/{}", w.cycle_id))
        .await
        .expect(403);
    let anonymous = app.visit("fr").get("/producer/products").await;
    anonymous.expect(303);
    assert!(anonymous.location().starts_with("/login?next="));
    app.cleanup().await;
}
