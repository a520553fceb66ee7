//! Every write endpoint of the API, tried by every role: who may, who is told no (403: it may
//! see the thing but not change it), who is told it does not exist (404: it may not even see
//! it), and that a refused write changed nothing at all in the database.
//!
//! Not in the table: `POST /auth/token` and `POST /accounts` (public by design), and the
//! endpoints that act on the caller's own session (`DELETE /auth/token`, `DELETE /me/tokens`,
//! `PUT /me/password`), tested in `tokens.rs`.

use chrono::{Duration, Utc};
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, User, World, iso},
};

both!(
    every_write_endpoint_with_every_role,
    who_changed_a_basket_is_recorded,
    drafts_are_seen_only_by_the_market_staff_and_producers,
    on_behalf_of_only_a_member_of_the_market,
);

/// The roles, in the order of each case's expected statuses.
const ROLES: [&str; 9] = [
    "anonymous",
    "owner consumer",
    "other consumer",
    "producer",
    "other producer",
    "volunteer",
    "coordinator",
    "other coordinator",
    "admin",
];

struct Fx {
    w: World,
    other: World,
    owner: User,
    consumer: User,
    volunteer: User,
    admin: User,
}

impl Fx {
    fn token(&self, role: usize) -> Option<&str> {
        match role {
            0 => None,
            1 => self.owner.t(),
            2 => self.consumer.t(),
            3 => self.w.producer.t(),
            4 => self.other.producer.t(),
            5 => self.volunteer.t(),
            6 => self.w.coordinator.t(),
            7 => self.other.coordinator.t(),
            _ => self.admin.t(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Case {
    CreateMarket,
    CreatePickupPoint,
    CreateProducer,
    CreateCycle,
    CreateProduct,
    UpdateProduct,
    DeleteProduct,
    OpenCycle,
    CloseCycle,
    DistributeCycle,
    CreateSlot,
    SetOffers,
    CopyPreviousOffers,
    CreateRound,
    SetLineWeights,
    CheckOut,
    CreateOrder,
    CreateOrderOnBehalf,
    UpdateOrder,
    DeleteOrder,
    CreateSlotRule,
    GenerateSlots,
    UpdateSlot,
    VoidPayment,
    ReplanRound,
}

/// Expected status per role, in [`ROLES`] order.
fn expected(case: Case) -> [u16; 9] {
    use Case::*;
    //                 anon own  cons prod oprd vol  coord ocrd admin
    match case {
        CreateMarket => [401, 403, 403, 403, 403, 403, 403, 403, 201],
        CreatePickupPoint | CreateProducer | CreateCycle | CreateSlotRule => {
            [401, 403, 403, 403, 403, 403, 201, 403, 201]
        }
        CreateProduct => [401, 403, 403, 201, 403, 403, 403, 403, 201],
        UpdateProduct => [401, 403, 403, 200, 403, 403, 403, 403, 200],
        DeleteProduct => [401, 403, 403, 204, 403, 403, 403, 403, 204],
        // A draft: only the market's staff and producers know it exists.
        OpenCycle => [401, 404, 404, 403, 404, 403, 200, 404, 200],
        CloseCycle | DistributeCycle | GenerateSlots | UpdateSlot => {
            [401, 403, 403, 403, 403, 403, 200, 403, 200]
        }
        CreateSlot | CreateRound => [401, 403, 403, 403, 403, 403, 201, 403, 201],
        SetOffers => [401, 403, 403, 200, 403, 403, 200, 403, 200],
        CopyPreviousOffers => [401, 404, 404, 200, 404, 403, 200, 404, 200],
        // The basket's consumer and the volunteer see the line, others do not.
        SetLineWeights => [401, 403, 404, 204, 404, 403, 204, 404, 204],
        CheckOut => [401, 403, 404, 404, 404, 204, 204, 404, 204],
        CreateOrder => [401, 201, 201, 201, 201, 201, 201, 201, 201],
        // The owner "on its own behalf" simply orders.
        CreateOrderOnBehalf => [401, 201, 403, 403, 403, 403, 201, 403, 201],
        // Volunteers read baskets but do not change them.
        UpdateOrder => [401, 200, 404, 404, 404, 403, 200, 404, 200],
        DeleteOrder => [401, 204, 404, 404, 404, 403, 204, 404, 204],
        // Payments are corrected by whoever checks baskets out: the market's staff.
        VoidPayment => [401, 404, 404, 404, 404, 200, 200, 404, 200],
        // Rounds are read by the staff and planned by those who run the market.
        ReplanRound => [401, 404, 404, 404, 404, 403, 200, 404, 200],
    }
}

const ALL: [Case; 25] = {
    use Case::*;
    [
        CreateMarket,
        CreatePickupPoint,
        CreateProducer,
        CreateCycle,
        CreateProduct,
        UpdateProduct,
        DeleteProduct,
        OpenCycle,
        CloseCycle,
        DistributeCycle,
        CreateSlot,
        SetOffers,
        CopyPreviousOffers,
        CreateRound,
        SetLineWeights,
        CheckOut,
        CreateOrder,
        CreateOrderOnBehalf,
        UpdateOrder,
        DeleteOrder,
        CreateSlotRule,
        GenerateSlots,
        UpdateSlot,
        VoidPayment,
        ReplanRound,
    ]
};

struct Req {
    method: Method,
    path: String,
    body: Option<Value>,
    /// An `Idempotency-Key` header (a check-out with a payment needs one).
    key: Option<String>,
}

fn req(method: Method, path: String, body: Value) -> Req {
    Req {
        method,
        path,
        body: Some(body),
        key: None,
    }
}

/// A cycle of the world's market: a draft opening an hour ago (so it can open), with one slot.
async fn draft_cycle(app: &TestApp, fx: &Fx, n: usize) -> (i64, i64) {
    let now = Utc::now();
    let c = app
        .post(
            &format!("/api/v1/markets/{}/cycles", fx.w.market_id),
            fx.w.coordinator.t(),
            json!({"name": format!("Semaine {n}"), "opens_at": iso(now - Duration::hours(1) + Duration::seconds(n as i64)),
                   "closes_at": iso(now + Duration::days(3)),
                   "slots": [{"pickup_point_id": fx.w.points[0], "starts_at": iso(now + Duration::days(4)),
                              "ends_at": iso(now + Duration::days(4) + Duration::hours(2))}]}),
        )
        .await
        .expect(201);
    (
        c["id"].as_i64().unwrap(),
        c["slots"][0]["id"].as_i64().unwrap(),
    )
}

/// A cycle open, with the producer's eggs and chicken on sale.
async fn open_cycle(app: &TestApp, fx: &Fx, n: usize) -> (i64, i64, Value) {
    let (cycle, slot) = draft_cycle(app, fx, n).await;
    app.post(
        &format!("/api/v1/cycles/{cycle}/open"),
        fx.w.coordinator.t(),
        json!({}),
    )
    .await
    .expect(200);
    let offers = app
        .put(
            &format!(
                "/api/v1/cycles/{cycle}/producers/{}/offers",
                fx.w.producer_id
            ),
            fx.w.producer.t(),
            json!({"offers": [{"product_id": fx.w.products[1], "stock": "20"},
                              {"product_id": fx.w.products[2], "stock": "6"}]}),
        )
        .await
        .expect(200);
    (cycle, slot, offers)
}

/// A closed cycle where the owner has a basket with one chicken: (order id, chicken line id).
async fn closed_basket(app: &TestApp, fx: &Fx, n: usize) -> (i64, i64, i64) {
    let (cycle, slot, offers) = open_cycle(app, fx, n).await;
    let chicken = offers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["product_id"] == fx.w.products[2])
        .unwrap()["id"]
        .clone();
    let order = app
        .post(
            &format!("/api/v1/cycles/{cycle}/orders"),
            fx.owner.t(),
            json!({"slot_id": slot, "lines": [{"offer_id": chicken, "quantity": 1}]}),
        )
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/cycles/{cycle}/close"),
        fx.w.coordinator.t(),
        json!({}),
    )
    .await
    .expect(200);
    let sheet = app
        .get(&format!("/api/v1/slots/{slot}/sheet"), fx.w.coordinator.t())
        .await
        .expect(200);
    let line = sheet[0]["baskets"][0]["lines"][0]["line_id"]
        .as_i64()
        .unwrap();
    (cycle, order["id"].as_i64().unwrap(), line)
}

/// A fresh target for `case`, and the request that writes to it.
async fn target(app: &TestApp, fx: &Fx, case: Case, n: usize) -> Req {
    use Case::*;
    let w = &fx.w;
    let now = Utc::now();
    let basket = |slot: i64, offer: i64| json!({"slot_id": slot, "lines": [{"offer_id": offer, "quantity": 1}]});
    match case {
        CreateMarket => req(
            Method::POST,
            "/api/v1/markets".into(),
            json!({"name": "Marché", "slug": format!("rights-{n}-{}", now.timestamp_nanos_opt().unwrap()),
                   "city": "Niort", "latitude": 46.3, "longitude": -0.46}),
        ),
        CreatePickupPoint => req(
            Method::POST,
            format!("/api/v1/markets/{}/pickup-points", w.market_id),
            json!({"name": "Épicerie", "address": "2 rue Haute", "postal_code": "79200", "city": "Parthenay",
                   "latitude": 46.6, "longitude": -0.2, "host_kind": "shop", "host_name": "Épicerie"}),
        ),
        CreateProducer => req(
            Method::POST,
            format!("/api/v1/markets/{}/producers", w.market_id),
            json!({"name": "Ferme", "farmer_name": "Alex", "address": "Le Bourg", "postal_code": "79200",
                   "city": "Parthenay", "latitude": 46.6, "longitude": -0.2}),
        ),
        CreateCycle => req(
            Method::POST,
            format!("/api/v1/markets/{}/cycles", w.market_id),
            json!({"name": "Semaine", "opens_at": iso(now + Duration::days(10)), "closes_at": iso(now + Duration::days(12))}),
        ),
        CreateProduct => req(
            Method::POST,
            format!("/api/v1/producers/{}/products", w.producer_id),
            json!({"name": "Poireaux", "unit": "kg", "price": "3.00", "vat_rate": "5.5"}),
        ),
        UpdateProduct | DeleteProduct => {
            let p = app
                .post(
                    &format!("/api/v1/producers/{}/products", w.producer_id),
                    w.producer.t(),
                    json!({"name": "Navets", "unit": "kg", "price": "2.00", "vat_rate": "5.5"}),
                )
                .await
                .expect(201);
            let path = format!("/api/v1/products/{}", p["id"]);
            match case {
                UpdateProduct => req(
                    Method::PUT,
                    path,
                    json!({"name": "Navets (changés)", "unit": "kg", "price": "0.10", "vat_rate": "5.5"}),
                ),
                _ => Req {
                    method: Method::DELETE,
                    path,
                    body: None,
                    key: None,
                },
            }
        }
        OpenCycle => {
            let (cycle, _) = draft_cycle(app, fx, n).await;
            req(
                Method::POST,
                format!("/api/v1/cycles/{cycle}/open"),
                json!({}),
            )
        }
        CloseCycle => {
            let (cycle, _, _) = open_cycle(app, fx, n).await;
            req(
                Method::POST,
                format!("/api/v1/cycles/{cycle}/close"),
                json!({}),
            )
        }
        DistributeCycle => {
            let (cycle, _, _) = closed_basket(app, fx, n).await;
            req(
                Method::POST,
                format!("/api/v1/cycles/{cycle}/distribute"),
                json!({}),
            )
        }
        CreateSlot => req(
            Method::POST,
            format!("/api/v1/cycles/{}/slots", w.cycle_id),
            json!({"pickup_point_id": w.points[1], "starts_at": iso(now + Duration::days(6)),
                   "ends_at": iso(now + Duration::days(6) + Duration::hours(2))}),
        ),
        SetOffers => req(
            Method::PUT,
            format!(
                "/api/v1/cycles/{}/producers/{}/offers",
                w.cycle_id, w.producer_id
            ),
            plenty(w),
        ),
        CopyPreviousOffers => {
            // A draft opening after the world's cycle, which has the producer's offers.
            let (cycle, _) = draft_cycle(app, fx, n).await;
            req(
                Method::POST,
                format!(
                    "/api/v1/cycles/{cycle}/producers/{}/offers/copy-previous",
                    w.producer_id
                ),
                json!({}),
            )
        }
        CreateRound => req(
            Method::POST,
            format!("/api/v1/cycles/{}/rounds", w.cycle_id),
            json!({"name": "Tournée", "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
                   "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
                   "departure": iso(now + Duration::days(3)), "capacity_crates": 10,
                   "producer_ids": [w.producer_id], "slot_ids": [w.slots[0]]}),
        ),
        SetLineWeights => {
            let (_, _, line) = closed_basket(app, fx, n).await;
            req(
                Method::PUT,
                format!("/api/v1/order-lines/{line}/weights"),
                json!({"weights_kg": ["1.9"]}),
            )
        }
        CheckOut => {
            let (_, order, _) = closed_basket(app, fx, n).await;
            Req {
                key: Some(format!("payment-{n}")),
                ..req(
                    Method::POST,
                    format!("/api/v1/orders/{order}/checkout"),
                    json!({"collection": "collected", "payment": {"method": "cash", "amount": "22.50"}}),
                )
            }
        }
        CreateOrder => req(
            Method::POST,
            format!("/api/v1/cycles/{}/orders", w.cycle_id),
            basket(w.slots[0], w.offers[1]),
        ),
        VoidPayment => {
            let (cycle, order, _) = closed_basket(app, fx, n).await;
            let paid = app
                .call_keyed(
                    Method::POST,
                    &format!("/api/v1/orders/{order}/checkout"),
                    fx.volunteer.t(),
                    Some(json!({"collection": "collected", "payment": {"method": "cash", "amount": "5.00"}})),
                    Some("first"),
                )
                .await;
            assert_eq!(paid.status.as_u16(), 204, "{}", paid.body);
            let sheets = app
                .get(
                    &format!("/api/v1/cycles/{cycle}/sheets"),
                    fx.w.coordinator.t(),
                )
                .await
                .expect(200);
            let payment = sheets
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["baskets"].as_array().unwrap())
                .find(|b| b["order_id"] == order)
                .unwrap()["payments"][0]["id"]
                .as_i64()
                .unwrap();
            req(
                Method::POST,
                format!("/api/v1/payments/{payment}/void"),
                json!({"reason": "recorded on the wrong basket"}),
            )
        }
        ReplanRound => {
            let round = app
                .post(
                    &format!("/api/v1/cycles/{}/rounds", w.cycle_id),
                    w.coordinator.t(),
                    json!({"name": format!("Tournée {n}"), "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
                           "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
                           "departure": iso(now + Duration::days(3)), "capacity_crates": 10,
                           "producer_ids": [w.producer_id], "slot_ids": [w.slots[0]]}),
                )
                .await
                .expect(201);
            req(
                Method::POST,
                format!("/api/v1/rounds/{}/replan", round["id"]),
                json!({}),
            )
        }
        CreateOrderOnBehalf => {
            let mut b = basket(w.slots[0], w.offers[1]);
            b["on_behalf_of"] = json!(fx.owner.id);
            req(
                Method::POST,
                format!("/api/v1/cycles/{}/orders", w.cycle_id),
                b,
            )
        }
        UpdateOrder | DeleteOrder => {
            let o = app
                .post(
                    &format!("/api/v1/cycles/{}/orders", w.cycle_id),
                    fx.owner.t(),
                    basket(w.slots[0], w.offers[1]),
                )
                .await
                .expect(201);
            let path = format!("/api/v1/orders/{}", o["id"]);
            match case {
                UpdateOrder => req(
                    Method::PUT,
                    path,
                    json!({"slot_id": w.slots[1], "lines": [{"offer_id": w.offers[1], "quantity": 3}]}),
                ),
                _ => Req {
                    method: Method::DELETE,
                    path,
                    body: None,
                    key: None,
                },
            }
        }
        CreateSlotRule => req(
            Method::POST,
            format!("/api/v1/pickup-points/{}/slot-rules", w.points[0]),
            json!({"weekday": "thu", "starts": "17:30", "ends": "19:30"}),
        ),
        GenerateSlots => req(
            Method::POST,
            format!("/api/v1/cycles/{}/slots/generate", w.cycle_id),
            json!({}),
        ),
        UpdateSlot => req(
            Method::PATCH,
            format!("/api/v1/slots/{}", w.slots[1]),
            json!({"note": format!("changed {n}")}),
        ),
    }
}

/// The world's offers with stock enough for every basket of the test.
fn plenty(w: &World) -> Value {
    json!({"offers": [{"product_id": w.products[0], "stock": "1000"},
                      {"product_id": w.products[1], "stock": "1000"},
                      {"product_id": w.products[2], "stock": "100"}]})
}

/// Every row of every table, as JSON, each table sorted: equal before and after means the
/// request wrote nothing.
async fn snapshot(app: &TestApp) -> Vec<Vec<String>> {
    use store::entities::*;
    let db = app.store.db();
    macro_rules! rows {
        ($($e:ident),+) => {
            vec![$({
                let mut rows: Vec<String> = $e::Entity::find()
                    .into_json()
                    .all(db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|v| v.to_string())
                    .collect();
                rows.sort();
                rows
            }),+]
        };
    }
    rows!(
        account,
        api_token,
        delivery_round,
        distribution_slot,
        idempotency_key,
        line_weight,
        market,
        market_producer,
        offer,
        order,
        order_cycle,
        order_line,
        payment,
        pickup_point,
        producer,
        product,
        slot_rule
    )
}

async fn every_write_endpoint_with_every_role(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let fx = Fx {
        owner: app.user(Role::Consumer, None, None).await,
        consumer: app.user(Role::Consumer, None, None).await,
        volunteer: app.user(Role::Volunteer, None, Some(w.market_id)).await,
        admin: app.user(Role::Admin, None, None).await,
        w,
        other,
    };
    let offers = format!(
        "/api/v1/cycles/{}/producers/{}/offers",
        fx.w.cycle_id, fx.w.producer_id
    );
    app.put(&offers, fx.w.producer.t(), plenty(&fx.w))
        .await
        .expect(200);
    let mut n = 0;
    let mut failures = Vec::new();
    for case in ALL {
        let statuses = expected(case);
        // The refused roles, all on one target: nothing may change.
        let refused = target(&app, &fx, case, n).await;
        n += 1;
        for (role, &status) in statuses.iter().enumerate() {
            if status < 400 {
                continue;
            }
            let before = snapshot(&app).await;
            let a = app
                .call(
                    refused.method.clone(),
                    &refused.path,
                    fx.token(role),
                    refused.body.clone(),
                )
                .await;
            if a.status.as_u16() != status {
                failures.push(format!(
                    "{case:?} by {}: expected {status}, got {} {}",
                    ROLES[role], a.status, a.body
                ));
            } else if a.body["code"].as_str().is_none_or(str::is_empty) {
                failures.push(format!("{case:?} by {}: no error code", ROLES[role]));
            }
            if snapshot(&app).await != before {
                failures.push(format!(
                    "{case:?} by {}: refused, yet the database changed",
                    ROLES[role]
                ));
            }
        }
        // Each allowed role on a fresh target of its own.
        for (role, &status) in statuses.iter().enumerate() {
            if status >= 400 {
                continue;
            }
            let r = target(&app, &fx, case, n).await;
            n += 1;
            let a = app
                .call_keyed(r.method, &r.path, fx.token(role), r.body, r.key.as_deref())
                .await;
            if a.status.as_u16() != status {
                failures.push(format!(
                    "{case:?} by {}: expected {status}, got {} {}",
                    ROLES[role], a.status, a.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    app.cleanup().await;
}

async fn who_changed_a_basket_is_recorded(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let alice = app.user(Role::Consumer, None, None).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let basket = |q: u32| json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": q}]});
    // Placed by the coordinator for Alice: Alice may change it, and each change says who.
    let mut b = basket(1);
    b["on_behalf_of"] = json!(alice.id);
    let o = app.post(&orders, w.coordinator.t(), b).await.expect(201);
    assert_eq!(o["placed_by"], w.coordinator.id);
    assert_eq!(o["updated_by"], Value::Null);
    let path = format!("/api/v1/orders/{}", o["id"]);
    let changed = app.put(&path, alice.t(), basket(2)).await.expect(200);
    assert_eq!(changed["updated_by"], alice.id);
    // A volunteer reads it, but changes nothing.
    app.get(&path, volunteer.t()).await.expect(200);
    app.put(&path, volunteer.t(), basket(20))
        .await
        .expect_error(403, "forbidden");
    app.delete(&path, volunteer.t())
        .await
        .expect_error(403, "forbidden");
    let still = app.get(&path, alice.t()).await.expect(200);
    assert_eq!(still["lines"][0]["quantity"], "2");
    assert_eq!(still["updated_by"], alice.id);
    // The coordinator mediates: cancels it, and is named for it.
    app.delete(&path, w.coordinator.t()).await.expect(204);
    let cancelled = app.get(&path, alice.t()).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["updated_by"], w.coordinator.id);
    app.cleanup().await;
}

async fn drafts_are_seen_only_by_the_market_staff_and_producers(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let volunteer = app.user(Role::Volunteer, None, Some(w.market_id)).await;
    let now = Utc::now();
    let draft = app
        .post(
            &format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": "Brouillon", "opens_at": iso(now + Duration::days(7)), "closes_at": iso(now + Duration::days(9)),
                   "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + Duration::days(10)),
                              "ends_at": iso(now + Duration::days(10) + Duration::hours(2))}]}),
        )
        .await
        .expect(201);
    let id = draft["id"].as_i64().unwrap();
    // The producer prepares its offer on the draft.
    app.put(
        &format!("/api/v1/cycles/{id}/producers/{}/offers", w.producer_id),
        w.producer.t(),
        json!({"offers": [{"product_id": w.products[1], "stock": "10"}]}),
    )
    .await
    .expect(200);
    let cycle = format!("/api/v1/cycles/{id}");
    let offers = format!("/api/v1/cycles/{id}/producers/{}/offers", w.producer_id);
    let list = format!("/api/v1/markets/{}/cycles", w.market_id);
    let listed = |body: &Value| {
        body.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"].as_i64() == Some(id))
    };
    for (who, token) in [
        ("the public", None),
        ("a consumer", consumer.t()),
        ("another market's producer", other.producer.t()),
        ("another market's coordinator", other.coordinator.t()),
    ] {
        let a = app.get(&cycle, token).await;
        assert_eq!(a.status.as_u16(), 404, "{who} reads the draft: {}", a.body);
        let a = app.get(&offers, token).await;
        assert_eq!(a.status.as_u16(), 404, "{who} reads its offers: {}", a.body);
        if token.is_some() {
            // Ordering on it does not tell that it exists either.
            let a = app
                .post(
                    &format!("{cycle}/orders"),
                    token,
                    json!({"slot_id": draft["slots"][0]["id"], "lines": [{"offer_id": 1, "quantity": 1}]}),
                )
                .await;
            assert_eq!(
                a.status.as_u16(),
                404,
                "{who} orders on the draft: {}",
                a.body
            );
        }
        let all = app.get(&list, token).await.expect(200);
        assert!(!listed(&all), "{who} sees the draft listed: {all}");
        // The open cycle stays public.
        assert!(
            app.get(&list, token)
                .await
                .expect(200)
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == w.cycle_id)
        );
    }
    for (who, token) in [
        ("the producer", w.producer.t()),
        ("a volunteer", volunteer.t()),
        ("the coordinator", w.coordinator.t()),
    ] {
        let c = app.get(&cycle, token).await;
        assert_eq!(
            c.status.as_u16(),
            200,
            "{who} cannot read the draft: {}",
            c.body
        );
        assert_eq!(c.body["offers"].as_array().unwrap().len(), 1);
        app.get(&offers, token).await.expect(200);
        assert!(listed(&app.get(&list, token).await.expect(200)), "{who}");
    }
    // Once open, everyone sees it.
    app.get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    app.cleanup().await;
}

async fn on_behalf_of_only_a_member_of_the_market(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let other = app.world().await;
    let member = app
        .named_user("Jeanne Membre", Role::Consumer, None, None)
        .await;
    let admin = app
        .named_user("Admin Secret", Role::Admin, None, None)
        .await;
    let volunteer = app
        .named_user("Vol Ailleurs", Role::Volunteer, None, Some(other.market_id))
        .await;
    let colleague = app.user(Role::Coordinator, None, Some(w.market_id)).await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let basket = |id: i64| {
        json!({"slot_id": w.slots[0], "on_behalf_of": id,
                                  "lines": [{"offer_id": w.offers[1], "quantity": 1}]})
    };
    let before = app.stock_left(w.cycle_id, w.offers[1]).await;
    for (who, id) in [
        ("an admin", admin.id),
        ("another market's coordinator", other.coordinator.id),
        ("another market's volunteer", volunteer.id),
        ("a producer", w.producer.id),
        ("a fellow coordinator", colleague.id),
        ("no account", 9_999_999),
    ] {
        let a = app.post(&orders, w.coordinator.t(), basket(id)).await;
        assert_eq!(a.status.as_u16(), 404, "for {who}: {}", a.body);
        assert_eq!(a.body["code"], "not_found");
        assert!(
            !a.body.to_string().contains("Secret") && !a.body.to_string().contains("Ailleurs"),
            "a name leaked: {}",
            a.body
        );
    }
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, before);
    let o = app
        .post(&orders, w.coordinator.t(), basket(member.id))
        .await
        .expect(201);
    assert_eq!(o["account_id"], member.id);
    assert_eq!(o["consumer_name"], "Jeanne Membre");
    app.cleanup().await;
}
