//! Receipts and settlements (issue 9, point 8), through a real server on SQLite and
//! PostgreSQL: a receipt issued at check-out and on demand, once, in one gapless sequence per
//! market (also when baskets are checked out at once on two nodes, and when an issuer rolls
//! back), its VAT breakdown and payments; the producers' settlements with hand-checked
//! amounts, in JSON, CSV and PDF, each producer seeing only its own.

use chrono::{Datelike, Utc};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde_json::{Value, json};
use store::Role;

use crate::both;
use crate::helpers::{Db, PASSWORD, TestApp, User, World};
use crate::pages_support::Visit;

both!(
    receipts_and_settlements_with_hand_checked_amounts,
    concurrent_issuing_takes_every_number_once,
    receipts_and_settlements_on_the_pages
);

/// A second producer in the world's market, with cider at 20 % VAT on offer: (its id, its
/// account, its offer).
async fn cider_maker(app: &TestApp, w: &World) -> (i64, User, i64) {
    let p = app
        .post(
            &format!("/api/v1/markets/{}/producers", w.market_id),
            w.coordinator.t(),
            json!({"name": "Cidrerie Belle Gâtine", "farmer_name": "Jean", "address": "Le Bourg", "postal_code": "79200",
                   "city": "Pompaire", "latitude": 46.6, "longitude": -0.23, "email": "jean@example.fr"}),
        )
        .await
        .expect(201);
    let id = p["id"].as_i64().unwrap();
    let user = app.user(Role::Producer, Some(id), None).await;
    let product = app
        .post(
            &format!("/api/v1/producers/{id}/products"),
            user.t(),
            json!({"name": "Cidre brut", "unit": "piece", "price": "6.50", "vat_rate": "20"}),
        )
        .await
        .expect(201);
    let offers = app
        .put(
            &format!("/api/v1/cycles/{}/producers/{id}/offers", w.cycle_id),
            user.t(),
            json!({"offers": [{"product_id": product["id"], "stock": "40"}]}),
        )
        .await
        .expect(200);
    (id, user, offers[0]["id"].as_i64().unwrap())
}

async fn order(app: &TestApp, w: &World, who: &User, lines: Value) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        who.t(),
        json!({"slot_id": w.slots[0], "lines": lines}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap()
}

fn number(seq: i64) -> String {
    format!("{}-{seq:06}", Utc::now().year())
}

async fn receipts_and_settlements_with_hand_checked_amounts(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (cider_id, cider_user, cider_offer) = cider_maker(&app, &w).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let anne = app
        .named_user("Anne Morin", Role::Consumer, None, None)
        .await;
    let bruno = app
        .named_user("Bruno Roy", Role::Consumer, None, None)
        .await;
    app.put(
        &format!("/api/v1/markets/{}/payment-settings", w.market_id),
        w.coordinator.t(),
        json!({"commission_percent": "7.5"}),
    )
    .await
    .expect(200);
    // Anne: 1.5 kg carrots (4.20), 2 dozen eggs (8.40), a chicken (22.50 estimated), 2 ciders
    // (13.00). Bruno: a dozen eggs (4.20).
    let a = order(
        &app,
        &w,
        &anne,
        json!([{"offer_id": w.offers[0], "quantity": "1.5"}, {"offer_id": w.offers[1], "quantity": 2},
               {"offer_id": w.offers[2], "quantity": 1}, {"offer_id": cider_offer, "quantity": 2}]),
    )
    .await;
    let b = order(
        &app,
        &w,
        &bruno,
        json!([{"offer_id": w.offers[1], "quantity": 1}]),
    )
    .await;
    // Nothing before the close.
    app.post(
        &format!("/api/v1/orders/{b}/receipt"),
        w.coordinator.t(),
        json!({}),
    )
    .await
    .expect_error(409, "cycle_open");
    app.get(
        &format!("/api/v1/cycles/{}/settlements", w.cycle_id),
        w.coordinator.t(),
    )
    .await
    .expect_error(409, "cycle_open");
    app.close_cycle(&w).await;

    // The chicken weighs 1.92 kg: 24.00. Anne's basket is 49.60.
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    let chicken_line = sheet["baskets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap().iter())
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap()["line_id"]
        .clone();
    let weights = format!("/api/v1/order-lines/{chicken_line}/weights");
    app.put(&weights, w.producer.t(), json!({"weights_kg": ["1.92"]}))
        .await
        .expect(204);

    // No receipt until it is issued.
    app.get(&format!("/api/v1/orders/{a}/receipt"), anne.t())
        .await
        .expect_error(404, "not_found");
    // Anne collects her basket and pays 30.00 in cash: her receipt is issued, number 1.
    app.call_keyed(
        reqwest::Method::POST,
        &format!("/api/v1/orders/{a}/checkout"),
        volunteer.t(),
        Some(json!({"collection": "collected", "payment": {"method": "cash", "amount": "30.00"}})),
        Some("anne-cash"),
    )
    .await
    .expect(204);
    let r = app
        .get(&format!("/api/v1/orders/{a}/receipt?format=json"), anne.t())
        .await
        .expect(200);
    assert_eq!(r["stamp"]["number"], number(1));
    assert_eq!(r["consumer_name"], "Anne Morin");
    assert_eq!(r["cycle"]["market_name"], "Marché test");
    assert_eq!(r["total"], "49.60");
    let lines = r["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 4);
    let chicken = lines
        .iter()
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap();
    assert_eq!(
        (
            &chicken["unit_price"],
            &chicken["price_unit"],
            &chicken["weighed_kg"],
            &chicken["amount"]
        ),
        (
            &json!("12.50"),
            &json!("kg"),
            &json!("1.92"),
            &json!("24.00")
        )
    );
    // 5.5 %: 36.60 incl. VAT = 34.69 + 1.91; 20 %: 13.00 = 10.83 + 2.17.
    assert_eq!(
        r["vat"],
        json!([
            {"rate": "5.5", "gross": "36.60", "net": "34.69", "vat": "1.91"},
            {"rate": "20", "gross": "13.00", "net": "10.83", "vat": "2.17"}
        ])
    );
    assert_eq!(
        (&r["on_the_spot"], &r["paid"], &r["due"]),
        (&json!("30.00"), &json!("30.00"), &json!("19.60"))
    );
    assert_eq!(r["payments"][0]["method"], "cash");
    // Weights are final once the receipt is issued.
    app.put(&weights, w.producer.t(), json!({"weights_kg": ["2.10"]}))
        .await
        .expect_error(409, "receipt_issued");
    // Checked out again (undo, then collected): the same receipt.
    for collection in ["pending", "collected"] {
        app.post(
            &format!("/api/v1/orders/{a}/checkout"),
            volunteer.t(),
            json!({"collection": collection}),
        )
        .await
        .expect(204);
    }
    // Bruno does not come and pays nothing: the desk issues his receipt, number 2, once.
    app.post(
        &format!("/api/v1/orders/{b}/checkout"),
        volunteer.t(),
        json!({"collection": "not_collected"}),
    )
    .await
    .expect(204);
    app.post(&format!("/api/v1/orders/{b}/receipt"), bruno.t(), json!({}))
        .await
        .expect_error(403, "forbidden");
    let issued = app
        .post(
            &format!("/api/v1/orders/{b}/receipt"),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        (&issued["number"], &issued["seq"], &issued["total"]),
        (&json!(number(2)), &json!(2), &json!("4.20"))
    );
    let again = app
        .post(
            &format!("/api/v1/orders/{b}/receipt"),
            volunteer.t(),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again["number"], number(2));
    // Reprinted: the same number. Bruno sees his, not Anne's.
    let r2 = app
        .get(&format!("/api/v1/orders/{a}/receipt"), w.coordinator.t())
        .await
        .expect(200);
    assert_eq!(r2["stamp"]["number"], number(1));
    app.get(&format!("/api/v1/orders/{a}/receipt"), bruno.t())
        .await
        .expect_error(404, "not_found");
    let (status, content_type, pdf) = app
        .bytes(
            &format!("/api/v1/orders/{b}/receipt?format=pdf&lang=en"),
            bruno.t(),
        )
        .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    let (_, _, html) = app
        .bytes(&format!("/api/v1/orders/{a}/receipt?format=html"), anne.t())
        .await;
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains(&format!("Reçu n° {}", number(1))), "{html}");
    assert!(html.contains("49,60\u{a0}€"));

    // Settlements. Anne's 30.00 is shared 36.60 : 13.00 between the two producers: the cider
    // maker gets 30 × 13 / 49.60 = 7.8629... -> 7.86, the larger share 30.00 - 7.86 = 22.14.
    // Commission 7.5 %: 22.14 -> 1.6605 -> 1.66; 7.86 -> 0.5895 -> 0.59.
    let all = app
        .get(
            &format!("/api/v1/cycles/{}/settlements", w.cycle_id),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    let of = |id: i64| all.iter().find(|s| s["producer_id"] == id).unwrap().clone();
    let jardins = of(w.producer_id);
    let fields = |s: &Value| {
        [
            "sold",
            "online",
            "on_the_spot",
            "collected",
            "outstanding",
            "commission",
            "owed",
        ]
        .map(|k| s[k].as_str().unwrap().to_owned())
    };
    // 4.20 + 8.40 + 24.00 (Anne) + 4.20 (Bruno) = 40.80.
    assert_eq!(
        fields(&jardins),
        ["40.80", "0.00", "22.14", "22.14", "18.66", "1.66", "20.48"]
    );
    assert_eq!(jardins["baskets"], 2);
    assert_eq!(jardins["commission_bp"], 750);
    let poulet = jardins["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_name"] == "Poulet fermier")
        .unwrap()
        .clone();
    assert_eq!(
        (&poulet["weighed_kg"], &poulet["amount"]),
        (&json!("1.92"), &json!("24.00"))
    );
    let cidre = of(cider_id);
    assert_eq!(
        fields(&cidre),
        ["13.00", "0.00", "7.86", "7.86", "5.14", "0.59", "7.27"]
    );
    assert_eq!(cidre["vat"][0]["net"], "10.83");

    // A producer sees its own only; a volunteer or a consumer none.
    let own = app
        .get(
            &format!("/api/v1/cycles/{}/settlements", w.cycle_id),
            cider_user.t(),
        )
        .await
        .expect(200);
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["owed"], "7.27");
    app.get(
        &format!(
            "/api/v1/cycles/{}/settlements?producer={}",
            w.cycle_id, w.producer_id
        ),
        cider_user.t(),
    )
    .await
    .expect_error(403, "forbidden");
    for who in [&volunteer, &anne] {
        app.get(
            &format!("/api/v1/cycles/{}/settlements", w.cycle_id),
            who.t(),
        )
        .await
        .expect_error(403, "forbidden");
    }
    // CSV as LibreOffice reads it, and PDF.
    let (status, content_type, csv) = app
        .bytes(
            &format!(
                "/api/v1/cycles/{}/settlements?format=csv&producer={}",
                w.cycle_id, w.producer_id
            ),
            w.coordinator.t(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("Les Jardins du Thouet;Semaine test;Dû au producteur;;;;;;;;20,48\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(
            "Les Jardins du Thouet;Semaine test;produit;Poulet fermier;pièce;1;1,92;5,5;;;24,00\r\n"
        ),
        "{csv}"
    );
    let (status, _, pdf) = app
        .bytes(
            &format!("/api/v1/cycles/{}/settlements?format=pdf", w.cycle_id),
            cider_user.t(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF"));
    app.cleanup().await;
}

/// Twelve baskets checked out at once (on PostgreSQL, half through a second node) take the
/// numbers 1 to 12, each once; an issuer that takes a number and rolls back leaves no gap.
async fn concurrent_issuing_takes_every_number_once(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let mut baskets = Vec::new();
    for i in 0..13 {
        let who = app
            .named_user(&format!("Client {i}"), Role::Consumer, None, None)
            .await;
        baskets.push(
            order(
                &app,
                &w,
                &who,
                json!([{"offer_id": w.offers[1], "quantity": 1}]),
            )
            .await,
        );
    }
    app.close_cycle(&w).await;
    let other = match db {
        Db::Postgres => Some(app.other_node().await),
        Db::Sqlite => None,
    };
    let last = baskets.pop().unwrap();
    let checkouts = baskets.iter().enumerate().map(|(i, id)| {
        let node = match (&other, i % 2) {
            (Some(o), 1) => o,
            _ => &app,
        };
        let token = volunteer.token.clone();
        async move {
            node.call_keyed(
                reqwest::Method::POST,
                &format!("/api/v1/orders/{id}/checkout"),
                Some(&token),
                Some(json!({"collection": "collected", "payment": {"method": "card", "amount": "4.20"}})),
                Some(&format!("pay-{id}")),
            )
            .await
            .expect(204);
        }
    });
    join_all(checkouts).await;
    let mut seqs = Vec::new();
    for id in &baskets {
        let r = app
            .get(&format!("/api/v1/orders/{id}/receipt"), w.coordinator.t())
            .await
            .expect(200);
        let n = r["stamp"]["number"].as_str().unwrap().to_owned();
        seqs.push(n.rsplit('-').next().unwrap().parse::<i64>().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=12).collect::<Vec<i64>>());

    if db == Db::Postgres {
        // Another transaction takes number 13 and holds it; the desk's issue waits for it; it
        // rolls back: the desk's receipt is number 13, not 14.
        let conn = app.store.db();
        let tx = conn.begin().await.unwrap();
        let taken = tx
            .query_one_raw(Statement::from_sql_and_values(
                conn.get_database_backend(),
                "UPDATE receipt_counters SET last_seq = last_seq + 1 WHERE market_id = $1 RETURNING last_seq",
                [w.market_id.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.try_get_by_index::<i64>(0).unwrap(), 13);
        let issuing = {
            let base = app.base.clone();
            let token = w.coordinator.token.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{base}/api/v1/orders/{last}/receipt"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !issuing.is_finished(),
            "the issue waits for the counter's lock"
        );
        tx.rollback().await.unwrap();
        let r = issuing.await.unwrap();
        assert_eq!(r["number"], number(13));
    } else {
        let r = app
            .post(
                &format!("/api/v1/orders/{last}/receipt"),
                w.coordinator.t(),
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(r["number"], number(13));
    }
    if let Some(o) = other {
        o.cleanup().await;
    }
    app.cleanup().await;
}

/// `who`, logged in through the login page.
async fn visit(app: &TestApp, who: &User) -> Visit {
    let email = app.store.actor(who.id).await.unwrap().email;
    let mut v = app.visit("fr");
    v.log_in(&email, PASSWORD).await;
    v
}

/// The consumer finds the receipt on its order page, the producer its settlement on its cycle
/// page, the coordinator both on the desk; nobody else's.
async fn receipts_and_settlements_on_the_pages(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let anne = app
        .named_user("Anne Morin", Role::Consumer, None, None)
        .await;
    let bruno = app
        .named_user("Bruno Roy", Role::Consumer, None, None)
        .await;
    let a = order(
        &app,
        &w,
        &anne,
        json!([{"offer_id": w.offers[1], "quantity": 2}]),
    )
    .await;
    app.close_cycle(&w).await;
    let mut consumer = visit(&app, &anne).await;
    let page = consumer.get(&format!("/orders/{a}")).await;
    page.expect(200);
    assert!(
        !page.html.contains("receipt.pdf"),
        "no receipt before check-out"
    );
    app.call_keyed(
        reqwest::Method::POST,
        &format!("/api/v1/orders/{a}/checkout"),
        w.coordinator.t(),
        Some(json!({"collection": "collected", "payment": {"method": "cheque", "amount": "8.40"}})),
        Some("anne-cheque"),
    )
    .await
    .expect(204);
    consumer
        .get(&format!("/orders/{a}"))
        .await
        .expect(200)
        .contains(&format!("Reçu n° {}", number(1)))
        .contains(&format!("/orders/{a}/receipt.pdf"));
    let pdf = consumer.get(&format!("/orders/{a}/receipt.pdf")).await;
    pdf.expect(200);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.html.starts_with("%PDF"));
    consumer
        .get(&format!("/orders/{a}/receipt.html"))
        .await
        .expect(200)
        .contains("8,40\u{a0}€")
        .contains("Chèque");
    let mut other = visit(&app, &bruno).await;
    other
        .get(&format!("/orders/{a}/receipt.pdf"))
        .await
        .expect(404);

    let mut producer = visit(&app, &w.producer).await;
    producer
        .get(&format!("/producer/cycles/{}", w.cycle_id))
        .await
        .expect(200)
        .contains(&format!("/producer/settlements/{}.csv", w.cycle_id));
    let csv = producer
        .get(&format!("/producer/settlements/{}.csv", w.cycle_id))
        .await;
    csv.expect(200);
    assert!(
        csv.html
            .contains("Les Jardins du Thouet;Semaine test;Dû au producteur;;;;;;;;8,40"),
        "{}",
        csv.html
    );
    other
        .get(&format!("/producer/settlements/{}.csv", w.cycle_id))
        .await
        .expect(403);

    let mut desk = visit(&app, &w.coordinator).await;
    desk.get(&format!("/desk/cycles/{}", w.cycle_id))
        .await
        .expect(200)
        .contains(&number(1))
        .contains(&format!("/desk/cycles/{}/settlements.pdf", w.cycle_id));
    let pdf = desk
        .get(&format!("/desk/cycles/{}/settlements.pdf", w.cycle_id))
        .await;
    pdf.expect(200);
    assert!(pdf.html.starts_with("%PDF"));
    desk.get(&format!("/orders/{a}/receipt.pdf"))
        .await
        .expect(200);
    // The commission, from the cycle's page: 7,5 %; 60 % is refused.
    desk.get(&format!("/desk/cycles/{}", w.cycle_id))
        .await
        .expect(200);
    let saved = desk
        .post(
            &format!("/desk/cycles/{}/commission", w.cycle_id),
            &[("commission", "7,5")],
        )
        .await;
    assert_eq!(saved.status.as_u16(), 303);
    desk.get(saved.location())
        .await
        .expect(200)
        .contains("La commission est enregistrée.")
        .contains("value=\"7,5\"");
    desk.post(
        &format!("/desk/cycles/{}/commission", w.cycle_id),
        &[("commission", "60")],
    )
    .await
    .expect(400);
    let own = app
        .get(
            &format!("/api/v1/cycles/{}/settlements", w.cycle_id),
            w.producer.t(),
        )
        .await
        .expect(200);
    // 8.40 collected, 7.5 %: 0.63; owed 7.77.
    assert_eq!(
        (&own[0]["commission"], &own[0]["owed"]),
        (&json!("0.63"), &json!("7.77"))
    );
    app.cleanup().await;
}
