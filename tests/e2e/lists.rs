//! After the cycle closes: picking lists, distribution sheets, real weights and check-out, in
//! every format, with each role seeing only what is its own.

use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, User, World},
};

both!(
    picking_lists_and_sheets_follow_the_orders,
    weights_reprice_and_checkout_records_payment,
    lists_come_in_every_format_identically_each_time,
    a_round_collects_before_it_delivers,
);

/// Two baskets at the first slot and one at the second, then the cycle closes.
async fn week(app: &TestApp, w: &World) -> (User, User, User) {
    let emilie = app
        .named_user("Émilie Fabre", Role::Consumer, None, None)
        .await;
    let bruno = app
        .named_user("Bruno Durand", Role::Consumer, None, None)
        .await;
    let zoe = app.named_user("Zoé Adam", Role::Consumer, None, None).await;
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    for (who, slot, lines) in [
        (
            &emilie,
            w.slots[0],
            json!([{"offer_id": w.offers[0], "quantity": "2"}, {"offer_id": w.offers[2], "quantity": 1}]),
        ),
        (
            &bruno,
            w.slots[0],
            json!([{"offer_id": w.offers[0], "quantity": "1.5"}, {"offer_id": w.offers[1], "quantity": 2}]),
        ),
        (
            &zoe,
            w.slots[1],
            json!([{"offer_id": w.offers[1], "quantity": 1}, {"offer_id": w.offers[2], "quantity": 2}]),
        ),
    ] {
        app.post(&path, who.t(), json!({"slot_id": slot, "lines": lines}))
            .await
            .expect(201);
    }
    app.close_cycle(w).await;
    (emilie, bruno, zoe)
}

fn product<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_name"] == name)
        .unwrap()
}

async fn picking_lists_and_sheets_follow_the_orders(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (emilie, _, _) = week(&app, &w).await;

    // The producer's own list: totals, and the split per pickup point.
    let lists = app
        .get(
            &format!("/api/v1/cycles/{}/picking-lists", w.cycle_id),
            w.producer.t(),
        )
        .await
        .expect(200);
    let list = &lists[0];
    assert_eq!(lists.as_array().unwrap().len(), 1);
    let carrots = product(list, "Carottes");
    assert_eq!(carrots["total_quantity"], "3.5");
    let chicken = product(list, "Poulet fermier");
    assert_eq!(chicken["total_quantity"], "3");
    assert_eq!(chicken["estimated_kg"], "5.4");
    let per_slot: Vec<&str> = carrots["per_slot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["quantity"].as_str().unwrap())
        .collect();
    assert_eq!(per_slot, ["3.5"]);
    assert_eq!(list["points"].as_array().unwrap().len(), 2);
    assert_eq!(list["labels"].as_array().unwrap().len(), 3);

    // Nobody else's list for a producer; consumers see none.
    let rival = app.world().await;
    app.get(
        &format!(
            "/api/v1/cycles/{}/picking-lists?producer={}",
            w.cycle_id, w.producer_id
        ),
        rival.producer.t(),
    )
    .await
    .expect_error(403, "forbidden");
    app.get(
        &format!("/api/v1/cycles/{}/picking-lists", w.cycle_id),
        emilie.t(),
    )
    .await
    .expect_error(403, "forbidden");
    app.get(
        &format!("/api/v1/cycles/{}/picking-lists", w.cycle_id),
        w.coordinator.t(),
    )
    .await
    .expect(200);

    // The sheet of the first slot: alphabetical (Durand before Émilie Fabre's É), totals.
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let sheets = app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200);
    let sheet = &sheets[0];
    let names: Vec<&str> = sheet["baskets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["consumer_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bruno Durand", "Émilie Fabre"]);
    // Bruno: 1.5 × 2.80 + 2 × 4.20 = 12.60; Émilie: 2 × 2.80 + 22.50 = 28.10.
    assert_eq!(sheet["baskets"][0]["total"], "12.60");
    assert_eq!(sheet["baskets"][1]["total"], "28.10");
    assert_eq!(sheet["totals"]["total"], "40.70");
    assert_eq!(sheet["totals"]["due"], "40.70");
    assert_eq!(sheet["totals"]["pending"], 2);
    assert_eq!(sheet["crates"][0]["producer_name"], "Les Jardins du Thouet");
    app.get(&format!("/api/v1/slots/{}/sheet", w.slots[0]), emilie.t())
        .await
        .expect_error(403, "forbidden");
    app.get(
        &format!("/api/v1/slots/{}/sheet", w.slots[0]),
        rival.coordinator.t(),
    )
    .await
    .expect_error(403, "forbidden");
    let all = app
        .get(
            &format!("/api/v1/cycles/{}/sheets", w.cycle_id),
            volunteer.t(),
        )
        .await
        .expect(200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    app.cleanup().await;
}

async fn weights_reprice_and_checkout_records_payment(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let emilie = app
        .named_user("Émilie Fabre", Role::Consumer, None, None)
        .await;
    let order = app
        .post(
            &format!("/api/v1/cycles/{}/orders", w.cycle_id),
            emilie.t(),
            json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[2], "quantity": 1}, {"offer_id": w.offers[1], "quantity": 1}]}),
        )
        .await
        .expect(201);
    let order_id = order["id"].as_i64().unwrap();
    // Weights and check-out wait for the close.
    app.post(
        &format!("/api/v1/orders/{order_id}/checkout"),
        volunteer.t(),
        json!({"collection": "collected"}),
    )
    .await
    .expect_error(409, "cycle_open");
    app.close_cycle(&w).await;
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    let line = sheet["baskets"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap()
        .clone();
    assert_eq!(line["estimated_total"], "22.50");
    assert_eq!(sheet["baskets"][0]["total"], "26.70");
    let weights = format!("/api/v1/order-lines/{}/weights", line["line_id"]);
    app.put(
        &weights,
        w.producer.t(),
        json!({"weights_kg": ["1.9", "2.0"]}),
    )
    .await
    .expect_error(422, "wrong_piece_count");
    // Émilie sees the line (it is in her basket) but does not weigh it.
    app.put(&weights, emilie.t(), json!({"weights_kg": ["1.92"]}))
        .await
        .expect_error(403, "forbidden");
    app.put(&weights, w.producer.t(), json!({"weights_kg": ["1.92"]}))
        .await
        .expect(204);

    // Repriced: 1.92 kg × 12.50 = 24.00; the estimate is kept beside it.
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    let basket = &sheet["baskets"][0];
    let line = basket["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_name"] == "Poulet fermier")
        .unwrap();
    assert_eq!(line["estimated_total"], "22.50");
    assert_eq!(line["final_total"], "24.00");
    assert_eq!(line["actual_kg"], "1.92");
    assert_eq!(basket["estimated_total"], "26.70");
    assert_eq!(basket["total"], "28.20");

    // Paid in cash and collected.
    app.post(
        &format!("/api/v1/orders/{order_id}/checkout"),
        emilie.t(),
        json!({"collection": "collected", "payment": {"method": "cash", "amount": "28.20"}}),
    )
    .await
    .expect_error(403, "forbidden");
    // A payment carries an Idempotency-Key, so that a retry records it once.
    let paid = app
        .client
        .post(format!("{}/api/v1/orders/{order_id}/checkout", app.base))
        .bearer_auth(&volunteer.token)
        .header("Idempotency-Key", "cash-1")
        .json(&json!({"collection": "collected", "payment": {"method": "cash", "amount": "28.20"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 204);
    app.post(
        &format!("/api/v1/orders/{order_id}/checkout"),
        volunteer.t(),
        json!({"collection": "gone"}),
    )
    .await
    .expect_error(422, "invalid_collection");
    let sheet = &app
        .get(
            &format!("/api/v1/slots/{}/sheet", w.slots[0]),
            volunteer.t(),
        )
        .await
        .expect(200)[0];
    assert_eq!(sheet["baskets"][0]["paid"], "28.20");
    assert_eq!(sheet["baskets"][0]["due"], "0.00");
    assert_eq!(sheet["baskets"][0]["collection"], "collected");
    assert_eq!(sheet["totals"]["collected"], 1);
    app.cleanup().await;
}

async fn lists_come_in_every_format_identically_each_time(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    week(&app, &w).await;
    let token = w.coordinator.t();
    for path in [
        format!("/api/v1/cycles/{}/picking-lists", w.cycle_id),
        format!("/api/v1/cycles/{}/labels", w.cycle_id),
        format!("/api/v1/slots/{}/sheet", w.slots[0]),
    ] {
        for (format, content_type, starts) in [
            ("html", "text/html", &b"<!DOCTYPE html"[..]),
            ("csv", "text/csv", &b"\xEF\xBB\xBF"[..]),
            ("pdf", "application/pdf", &b"%PDF"[..]),
            ("json", "application/json", &b"["[..]),
        ] {
            let url = format!("{path}?format={format}");
            let (status, ct, first) = app.bytes(&url, token).await;
            assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&first));
            assert!(ct.starts_with(content_type), "{url}: {ct}");
            assert!(
                first.starts_with(starts),
                "{url} starts with {:?}",
                String::from_utf8_lossy(&first[..first.len().min(20)])
            );
            let (_, _, second) = app.bytes(&url, token).await;
            assert!(first == second, "{url} differs between two renders");
        }
    }
    let (_, _, html) = app
        .bytes(
            &format!("/api/v1/slots/{}/sheet?format=html", w.slots[0]),
            token,
        )
        .await;
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("Bruno Durand") && html.contains("Émilie Fabre"));
    let (_, _, csv) = app
        .bytes(
            &format!("/api/v1/slots/{}/sheet?format=csv&lang=fr", w.slots[0]),
            token,
        )
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(';') && csv.contains("12,60"), "{csv}");
    app.get(
        &format!("/api/v1/slots/{}/sheet?format=docx", w.slots[0]),
        token,
    )
    .await
    .expect_error(400, "invalid_format");
    app.cleanup().await;
}

async fn a_round_collects_before_it_delivers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let (emilie, _, _) = week(&app, &w).await;
    let departure = chrono::Utc::now() + chrono::Duration::days(3);
    let body = json!({
        "name": "Tournée du jeudi",
        "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "departure": departure.to_rfc3339(),
        "capacity_crates": 10,
        "producer_ids": [w.producer_id],
        "slot_ids": [w.slots[0], w.slots[1]]
    });
    app.post(
        &format!("/api/v1/cycles/{}/rounds", w.cycle_id),
        emilie.t(),
        body.clone(),
    )
    .await
    .expect_error(403, "forbidden");
    let round = app
        .post(
            &format!("/api/v1/cycles/{}/rounds", w.cycle_id),
            w.coordinator.t(),
            body,
        )
        .await
        .expect(201);
    assert_eq!(round["unassigned"], json!([]));
    let plan = app
        .get(
            &format!("/api/v1/rounds/{}", round["id"]),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    let kinds: Vec<&str> = plan["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"end"));
    let collect = kinds.iter().position(|k| *k == "collect").unwrap();
    let deliveries: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == "deliver")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(deliveries.len(), 2, "{kinds:?}");
    assert!(deliveries.iter().all(|d| *d > collect), "{kinds:?}");
    assert!(plan["total_km"].as_f64().unwrap() > 0.0);
    let (status, ct, pdf) = app
        .bytes(
            &format!("/api/v1/rounds/{}?format=pdf", round["id"]),
            w.coordinator.t(),
        )
        .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/pdf") && pdf.starts_with(b"%PDF"));
    app.get(&format!("/api/v1/rounds/{}", round["id"]), emilie.t())
        .await
        .expect_error(404, "not_found");
    app.cleanup().await;
}
