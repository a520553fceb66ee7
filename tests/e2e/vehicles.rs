//! A market's vehicles (kept by its coordinators only) and co-delivery rounds shared among
//! several of them: every shipment carried, each vehicle within its crates and kilograms, the
//! same plan when planned again, both vehicles named on the round sheet in every format; a
//! round planned before vehicles came still reads; the desk's vehicles page.

use distribution::routing::{FleetPlan, RoundPlan};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use store::{Role, entities::delivery_round};

use crate::{
    both,
    browser::{Browser, Lang},
    browser_roles::log_in,
    helpers::{Db, PASSWORD, TestApp, World},
    pages_desk::paris,
};

both!(
    vehicles_are_kept_by_their_market_s_coordinators_only,
    a_round_is_shared_among_the_market_s_vehicles,
    a_round_planned_before_vehicles_came_still_reads,
    the_desk_keeps_the_market_s_vehicles_and_plans_with_them,
    the_vehicles_form_passes_axe_on_a_phone,
);

/// Three baskets: 6.3 kg for the first slot, 4.1 kg for the second (one crate each, from the
/// world's one farm); then the cycle closes.
async fn baskets(app: &TestApp, w: &World) {
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    for (slot, lines) in [
        (
            w.slots[0],
            json!([{"offer_id": w.offers[0], "quantity": "2"}, {"offer_id": w.offers[2], "quantity": 1}]),
        ),
        (
            w.slots[0],
            json!([{"offer_id": w.offers[0], "quantity": "1.5"}, {"offer_id": w.offers[1], "quantity": 2}]),
        ),
        (
            w.slots[1],
            json!([{"offer_id": w.offers[1], "quantity": 1}, {"offer_id": w.offers[2], "quantity": 2}]),
        ),
    ] {
        let who = app.user(Role::Consumer, None, None).await;
        app.post(&path, who.t(), json!({"slot_id": slot, "lines": lines}))
            .await
            .expect(201);
    }
    app.close_cycle(w).await;
}

fn round_body(w: &World, vehicles: Option<Vec<i64>>) -> Value {
    let mut body = json!({
        "name": "Tournée du jeudi",
        "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "departure": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
        "producer_ids": [w.producer_id],
        "slot_ids": [w.slots[0], w.slots[1]]
    });
    match vehicles {
        Some(ids) => body["vehicle_ids"] = json!(ids),
        None => body["capacity_crates"] = json!(10),
    }
    body
}

async fn vehicle(app: &TestApp, w: &World, name: &str, crates: u32, kg: &str) -> i64 {
    app.post(
        &format!("/api/v1/markets/{}/vehicles", w.market_id),
        w.coordinator.t(),
        json!({"name": name, "capacity_crates": crates, "capacity_kg": kg}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap()
}

async fn vehicles_are_kept_by_their_market_s_coordinators_only(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let list = format!("/api/v1/markets/{}/vehicles", w.market_id);
    let coordinator = w.coordinator.t();
    let kangoo = app
        .post(
            &list,
            coordinator,
            json!({"name": "Kangoo", "capacity_crates": 20, "capacity_kg": "400"}),
        )
        .await
        .expect(201);
    assert_eq!(kangoo["capacity_kg"], "400");
    assert_eq!(kangoo["archived"], false);
    let id = kangoo["id"].as_i64().unwrap();
    // Bad input: a code for each.
    for (body, status, code) in [
        (
            json!({"name": "  ", "capacity_crates": 5}),
            400,
            "invalid_request",
        ),
        (
            json!({"name": "Vélo", "capacity_crates": 0}),
            400,
            "invalid_request",
        ),
        (
            json!({"name": "Vélo", "capacity_crates": 10001}),
            400,
            "invalid_request",
        ),
        (
            json!({"name": "Vélo", "capacity_crates": 2, "capacity_kg": "-5"}),
            422,
            "invalid_capacity",
        ),
        (
            json!({"name": "Vélo", "capacity_crates": 2, "capacity_kg": "0.0001"}),
            422,
            "invalid_capacity",
        ),
        (
            json!({"name": "kangoo", "capacity_crates": 2}),
            409,
            "duplicate_name",
        ),
    ] {
        app.post(&list, coordinator, body)
            .await
            .expect_error(status, code);
    }
    // Changed, listed, archived (twice: the same), and then its name is free again.
    let changed = app
        .put(
            &format!("/api/v1/vehicles/{id}"),
            coordinator,
            json!({"name": "Kangoo II", "capacity_crates": 22, "capacity_kg": null}),
        )
        .await
        .expect(200);
    assert_eq!(changed["capacity_kg"], Value::Null);
    assert_eq!(changed["capacity_crates"], 22);
    let all = app.get(&list, coordinator).await.expect(200);
    assert_eq!(all.as_array().unwrap().len(), 1);
    for _ in 0..2 {
        let archived = app
            .post(
                &format!("/api/v1/vehicles/{id}/archive"),
                coordinator,
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(archived["archived"], true);
    }
    app.post(
        &list,
        coordinator,
        json!({"name": "Kangoo II", "capacity_crates": 20}),
    )
    .await
    .expect(201);
    // Rights: a producer and a consumer 403 on the market's list; another market's
    // coordinator 403 on the list, 404 on the vehicle.
    let consumer = app.user(Role::Consumer, None, None).await;
    for who in [w.producer.t(), consumer.t()] {
        app.get(&list, who).await.expect_error(403, "forbidden");
        app.post(&list, who, json!({"name": "X", "capacity_crates": 2}))
            .await
            .expect_error(403, "forbidden");
    }
    let other = app.world().await;
    let stranger = other.coordinator.t();
    app.get(&list, stranger)
        .await
        .expect_error(403, "forbidden");
    app.post(&list, stranger, json!({"name": "X", "capacity_crates": 2}))
        .await
        .expect_error(403, "forbidden");
    app.put(
        &format!("/api/v1/vehicles/{id}"),
        stranger,
        json!({"name": "Volé", "capacity_crates": 2}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/vehicles/{id}/archive"),
        w.producer.t(),
        json!({}),
    )
    .await
    .expect_error(404, "not_found");
    app.get(&list, None)
        .await
        .expect_error(401, "unauthenticated");
    app.cleanup().await;
}

/// A decimal, as a JSON string or number.
fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Crates and kg carried by a vehicle's round, checked against its capacity at every stop.
fn within(vehicle: &Value) -> (u64, f64) {
    let crates = vehicle["capacity_crates"].as_u64().unwrap();
    let kg = Some(&vehicle["capacity_kg"])
        .filter(|k| !k.is_null())
        .map(num);
    for stop in vehicle["stops"].as_array().unwrap() {
        assert!(stop["load_crates"].as_u64().unwrap() <= crates, "{stop}");
        let load = num(&stop["load_kg"]);
        if let Some(kg) = kg {
            assert!(
                load <= kg + 1e-9,
                "{} carries {load} kg of {kg}",
                vehicle["name"]
            );
        }
    }
    let delivered = vehicle["stops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["dropped"].as_array().unwrap().clone())
        .count();
    (u64::try_from(delivered).unwrap(), num(&vehicle["kg"]))
}

async fn a_round_is_shared_among_the_market_s_vehicles(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    baskets(&app, &w).await;
    let small = vehicle(&app, &w, "Kangoo", 20, "5").await;
    let large = vehicle(&app, &w, "Camion frigo", 60, "6.5").await;
    let rounds = format!("/api/v1/cycles/{}/rounds", w.cycle_id);
    let coordinator = w.coordinator.t();
    // The Kangoo alone cannot take the first slot's 6.3 kg.
    let alone = app
        .post(&rounds, coordinator, round_body(&w, Some(vec![small])))
        .await
        .expect(201);
    assert_eq!(alone["unassigned"].as_array().unwrap().len(), 1, "{alone}");
    // Both together carry everything, each within its crates and kg.
    let created = app
        .post(
            &rounds,
            coordinator,
            round_body(&w, Some(vec![small, large])),
        )
        .await
        .expect(201);
    assert_eq!(created["unassigned"], json!([]), "{created}");
    assert_eq!(created["vehicles"].as_array().unwrap().len(), 2);
    let path = format!("/api/v1/rounds/{}", created["id"]);
    let plan = app.get(&path, coordinator).await.expect(200);
    let vehicles = plan["vehicles"].as_array().unwrap();
    assert_eq!(vehicles[0]["name"], "Kangoo");
    assert_eq!(vehicles[1]["name"], "Camion frigo");
    let (delivered, kg) = vehicles
        .iter()
        .map(within)
        .fold((0, 0.0), |(d, k), (d1, k1)| (d + d1, k + k1));
    assert_eq!(delivered, 2, "{plan}");
    assert!((kg - 10.4).abs() < 1e-9, "{kg} kg carried in all");
    assert!(
        plan.get("stops").is_none(),
        "several vehicles: no top-level stops"
    );
    // Planned again: the same plan.
    let again = app
        .post(&format!("{path}/replan"), coordinator, json!({}))
        .await
        .expect(200);
    assert_eq!(again["vehicles"], created["vehicles"]);
    assert_eq!(app.get(&path, coordinator).await.expect(200), plan);
    // The round sheet names both vehicles in every format.
    for format in ["html", "csv", "json"] {
        let (status, _, bytes) = app
            .bytes(&format!("{path}?format={format}"), coordinator)
            .await;
        assert_eq!(status, 200);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("Kangoo") && text.contains("Camion frigo"),
            "{format}: {text}"
        );
    }
    let (status, ct, pdf) = app.bytes(&format!("{path}?format=pdf"), coordinator).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/pdf") && pdf.starts_with(b"%PDF"));
    // An archived vehicle: refused for a new round, left out when planned again.
    app.post(
        &format!("/api/v1/vehicles/{small}/archive"),
        coordinator,
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &rounds,
        coordinator,
        round_body(&w, Some(vec![small, large])),
    )
    .await
    .expect_error(422, "vehicle_archived");
    let replanned = app
        .post(&format!("{path}/replan"), coordinator, json!({}))
        .await
        .expect(200);
    assert_eq!(replanned["vehicles"].as_array().unwrap().len(), 1);
    assert_eq!(replanned["vehicles"][0]["name"], "Camion frigo");
    // Unknown vehicles (another market's), duplicates, and none: refused.
    let other = app.world().await;
    let foreign = app
        .post(
            &format!("/api/v1/markets/{}/vehicles", other.market_id),
            other.coordinator.t(),
            json!({"name": "Ailleurs", "capacity_crates": 10}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    app.post(
        &rounds,
        coordinator,
        round_body(&w, Some(vec![large, foreign])),
    )
    .await
    .expect_error(422, "unknown_vehicle");
    app.post(
        &rounds,
        coordinator,
        round_body(&w, Some(vec![large, large])),
    )
    .await
    .expect_error(422, "invalid_round");
    app.post(&rounds, coordinator, round_body(&w, Some(vec![])))
        .await
        .expect_error(422, "invalid_round");
    // Neither vehicles nor a capacity.
    let mut bare = round_body(&w, None);
    bare.as_object_mut().unwrap().remove("capacity_crates");
    app.post(&rounds, coordinator, bare)
        .await
        .expect_error(422, "invalid_field");
    // The one-vehicle round as before: its stops at the top, one unnamed vehicle.
    let single = app
        .post(&rounds, coordinator, round_body(&w, None))
        .await
        .expect(201);
    assert_eq!(single["vehicles"].as_array().unwrap().len(), 1);
    assert_eq!(single["vehicles"][0]["name"], "");
    let one = app
        .get(&format!("/api/v1/rounds/{}", single["id"]), coordinator)
        .await
        .expect(200);
    assert_eq!(one["stops"], one["vehicles"][0]["stops"]);
    assert_eq!(
        one["stops"].as_array().unwrap().first().unwrap()["kind"],
        "start"
    );
    app.cleanup().await;
}

async fn a_round_planned_before_vehicles_came_still_reads(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    baskets(&app, &w).await;
    let coordinator = w.coordinator.t();
    let created = app
        .post(
            &format!("/api/v1/cycles/{}/rounds", w.cycle_id),
            coordinator,
            round_body(&w, None),
        )
        .await
        .expect(201);
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/rounds/{id}");
    let before = app.get(&path, coordinator).await.expect(200);
    // The row as rounds were stored before vehicles: a bare RoundPlan.
    let row = delivery_round::Entity::find_by_id(id)
        .one(app.store.db())
        .await
        .unwrap()
        .unwrap();
    let fleet: FleetPlan = serde_json::from_str(row.plan.as_deref().unwrap()).unwrap();
    let mut old: RoundPlan = fleet.rounds[0].plan.clone();
    old.unassigned = fleet.unassigned.clone();
    let mut m: delivery_round::ActiveModel = row.into();
    m.plan = Set(Some(serde_json::to_string(&old).unwrap()));
    m.update(app.store.db()).await.unwrap();
    let after = app.get(&path, coordinator).await.expect(200);
    assert_eq!(after, before);
    let (status, _, csv) = app.bytes(&format!("{path}?format=csv"), coordinator).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(csv).unwrap().contains("Dépôt"));
    app.cleanup().await;
}

async fn the_desk_keeps_the_market_s_vehicles_and_plans_with_them(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    baskets(&app, &w).await;
    let email = app.store.actor(w.coordinator.id).await.unwrap().email;
    let mut v = app.visit("fr-FR");
    v.log_in(&email, PASSWORD).await;
    v.get("/desk")
        .await
        .expect(200)
        .contains("href=\"/desk/vehicles\"");
    v.get("/desk/vehicles")
        .await
        .expect(200)
        .contains("<label for=\"vehicle-name\">")
        .contains("Aucun véhicule");
    // Errors next to their fields.
    let wrong = v
        .post(
            "/desk/vehicles",
            &[
                ("name", ""),
                ("capacity_crates", "0"),
                ("capacity_kg", "-3"),
            ],
        )
        .await;
    wrong
        .expect(422)
        .contains("id=\"vehicle-name-error\"")
        .contains("id=\"vehicle-crates-error\"")
        .contains("id=\"vehicle-kg-error\"");
    for (name, crates, kg) in [("Kangoo", "20", "5"), ("Camion frigo", "60", "6,5")] {
        v.post(
            "/desk/vehicles",
            &[
                ("name", name),
                ("capacity_crates", crates),
                ("capacity_kg", kg),
            ],
        )
        .await
        .expect(303);
    }
    v.post(
        "/desk/vehicles",
        &[
            ("name", "KANGOO"),
            ("capacity_crates", "3"),
            ("capacity_kg", ""),
        ],
    )
    .await
    .expect(409)
    .contains("Le marché a déjà un véhicule de ce nom.");
    let list = app
        .get(
            &format!("/api/v1/markets/{}/vehicles", w.market_id),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].to_string())
        .collect();
    assert_eq!(list[0]["name"], "Camion frigo");
    assert_eq!(list[0]["capacity_kg"], "6.5");
    // Changed through its form.
    let edit = format!("/desk/vehicles/{}", ids[1]);
    v.get(&edit).await.expect(200).contains("value=\"Kangoo\"");
    v.post(
        &edit,
        &[
            ("name", "Kangoo"),
            ("capacity_crates", "21"),
            ("capacity_kg", "5"),
        ],
    )
    .await
    .expect(303);
    // The cycle's round form offers them; a round with both, no capacity needed.
    let cycle = format!("/desk/cycles/{}", w.cycle_id);
    v.get(&cycle)
        .await
        .expect(200)
        .contains("name=\"vehicle\"")
        .contains("Camion frigo");
    let departure = paris(chrono::Utc::now() + chrono::Duration::days(3));
    let producer = w.producer_id.to_string();
    let (s0, s1) = (w.slots[0].to_string(), w.slots[1].to_string());
    let planned = v
        .post(
            &format!("{cycle}/rounds"),
            &[
                ("name", "Tournée partagée"),
                ("start_name", "Dépôt"),
                ("start_lat", "46.65"),
                ("start_lon", "-0.25"),
                ("departure", departure.as_str()),
                ("capacity_crates", ""),
                ("vehicle", ids[1].as_str()),
                ("vehicle", ids[0].as_str()),
                ("producer", producer.as_str()),
                ("slot", s0.as_str()),
                ("slot", s1.as_str()),
            ],
        )
        .await;
    planned.expect(303);
    let round = planned.location().split('?').next().unwrap().to_owned();
    v.get(&round)
        .await
        .expect(200)
        .contains("Véhicule : Kangoo")
        .contains("Véhicule : Camion frigo");
    // Archived: gone from the form.
    v.post(&format!("/desk/vehicles/{}/archive", ids[1]), &[])
        .await
        .expect(303);
    let page = v.get(&cycle).await;
    page.expect(200);
    assert!(
        !page
            .html
            .contains(&format!("name=\"vehicle\" value=\"{}\"", ids[1]))
    );
    app.cleanup().await;
}

/// The vehicles' page in a real browser, French, on a phone without JavaScript: the form, its
/// errors next to their fields, a vehicle added; axe-core and the 360 px check on each; then
/// in English at 1280 px.
async fn the_vehicles_form_passes_axe_on_a_phone(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let b = Browser::phone(&app).await;
    log_in(&app, &b, &w.coordinator, Lang::Fr).await;
    b.goto("/desk/vehicles").await;
    b.assert_shows("Aucun véhicule").await;
    b.look("vehicles-fr").await;
    b.fill("capacity_crates", "0").await;
    b.click("Ajouter le véhicule").await;
    b.assert_shows("Indiquez un nombre de caisses entre 1 et 10 000.")
        .await;
    b.look("vehicles-errors-fr").await;
    b.fill("name", "Camion frigo").await;
    b.fill("capacity_crates", "60").await;
    b.fill("capacity_kg", "1200").await;
    b.click("Ajouter le véhicule").await;
    b.assert_shows("Le véhicule est enregistré.").await;
    b.assert_shows("Archiver Camion frigo").await;
    b.look("vehicles-saved-fr").await;
    b.close().await;
    // The same page in English on a 1280 px screen (with JavaScript), the vehicle listed.
    let desk = Browser::desktop(&app).await;
    log_in(&app, &desk, &w.coordinator, Lang::En).await;
    desk.goto("/desk/vehicles").await;
    desk.assert_shows("Archive Camion frigo").await;
    desk.assert_shows("Add the vehicle").await;
    desk.look("vehicles-en").await;
    desk.close().await;
    app.cleanup().await;
}
