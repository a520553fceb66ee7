//! Expensive work cannot be used to stop the market: password checks are throttled per client
//! address and per account and bounded overall (a flood gets 429 or 503 with `Retry-After`,
//! quickly, instead of piling up), documents and round plans run a few at a time off the async
//! threads, and baskets keep being taken meanwhile.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, User, World},
};

both!(
    a_login_flood_is_refused_quickly_while_baskets_are_taken,
    logins_from_one_address_are_throttled,
    an_account_is_throttled,
    a_password_needs_ten_characters,
    baskets_are_taken_while_rounds_and_documents_are_asked_for,
    a_round_keeps_its_plan_until_replanned,
);

/// One login attempt with a fresh email, from `address` when given (X-Forwarded-For).
async fn login_attempt(app: &TestApp, n: usize, address: Option<String>) -> (u16, Option<String>) {
    let mut req = app
        .client
        .post(format!("{}/api/v1/auth/token", app.base))
        .json(&json!({"email": format!("flood{n}@example.org"), "password": "not the password"}));
    if let Some(a) = address {
        req = req.header("x-forwarded-for", a);
    }
    let resp = req.send().await.expect("the server answers");
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (resp.status().as_u16(), retry)
}

async fn place_basket(app: &TestApp, w: &World, consumer: &User) -> Duration {
    let started = Instant::now();
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[0], "quantity": "0.5"}]}),
    )
    .await
    .expect(201);
    started.elapsed()
}

async fn a_login_flood_is_refused_quickly_while_baskets_are_taken(db: Db) {
    // Behind a trusted proxy, each attempt from an address of its own: the per-address
    // throttle lets them all through, so the hashing bound is what holds.
    let app = TestApp::spawn_with(
        db,
        web::WebOptions {
            trust_proxy: true,
            ..Default::default()
        },
    )
    .await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let started = Instant::now();
    let flood: Vec<_> = (0..300)
        .map(|n| {
            let address = format!("10.{}.{}.{}", n / 65_536, (n / 256) % 256, n % 256);
            login_attempt(&app, n, Some(address))
        })
        .collect();
    let baskets = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut times = Vec::new();
        for _ in 0..3 {
            times.push(place_basket(&app, &w, &consumer).await);
        }
        times
    };
    let (answers, basket_times) = tokio::join!(futures_util::future::join_all(flood), baskets);
    let elapsed = started.elapsed();
    let refused = answers.iter().filter(|(s, _)| *s == 503).count();
    for (status, retry) in &answers {
        assert!(matches!(status, 401 | 503), "unexpected status {status}");
        if *status == 503 {
            assert!(
                retry.as_deref().is_some_and(|r| r.parse::<u64>().is_ok()),
                "no Retry-After"
            );
        }
    }
    assert!(refused > 0, "300 concurrent password checks were all run");
    assert!(
        elapsed < Duration::from_secs(20),
        "the flood took {elapsed:?}"
    );
    for t in basket_times {
        assert!(
            t < Duration::from_secs(5),
            "a basket took {t:?} during the flood"
        );
    }
    app.cleanup().await;
}

async fn logins_from_one_address_are_throttled(db: Db) {
    let app = TestApp::spawn(db).await;
    let answers =
        futures_util::future::join_all((0..120).map(|n| login_attempt(&app, n, None))).await;
    let throttled: Vec<_> = answers.iter().filter(|(s, _)| *s == 429).collect();
    assert!(
        throttled.len() >= 40,
        "only {} of 120 throttled",
        throttled.len()
    );
    assert!(throttled.iter().all(|(_, r)| {
        r.as_deref()
            .is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1))
    }));
    // A proxy's word is not taken unless configured: forged X-Forwarded-For headers change
    // nothing (the address gets back one attempt a second, hence not all of them).
    let forged = futures_util::future::join_all(
        (0..20).map(|n| login_attempt(&app, 1000 + n, Some(format!("192.0.2.{n}")))),
    )
    .await;
    assert!(forged.iter().filter(|(s, _)| *s == 429).count() >= 10);
    let answer = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"email": "x@example.org", "password": "whatever it is"}),
        )
        .await;
    if answer.status.as_u16() != 401 {
        answer.expect_error(429, "too_many_attempts");
    }
    app.cleanup().await;
}

async fn an_account_is_throttled(db: Db) {
    let app = TestApp::spawn(db).await;
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "lea@example.org", "password": "jardin-de-lea", "name": "Léa"}),
    )
    .await
    .expect(201);
    for _ in 0..10 {
        app.post(
            "/api/v1/auth/token",
            None,
            json!({"email": "lea@example.org", "password": "wrong guess"}),
        )
        .await
        .expect_error(401, "unauthenticated");
    }
    let answer = app
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            Some(json!({"email": "Lea@Example.org", "password": "jardin-de-lea"})),
        )
        .await;
    let retry = answer.headers.get("retry-after").cloned();
    answer.expect_error(429, "too_many_attempts");
    let secs: u64 = retry.unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&secs), "Retry-After: {secs}");
    app.cleanup().await;
}

async fn a_password_needs_ten_characters(db: Db) {
    let app = TestApp::spawn(db).await;
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "court@example.org", "password": "123456789", "name": "Court"}),
    )
    .await
    .expect_error(422, "weak_password");
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "court@example.org", "password": "1234567890", "name": "Court"}),
    )
    .await
    .expect_error(422, "common_password");
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "court@example.org", "password": "court-2026", "name": "Court"}),
    )
    .await
    .expect(201);
    app.cleanup().await;
}

fn round_body(w: &World) -> Value {
    json!({
        "name": "Tournée du jeudi",
        "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "departure": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
        "capacity_crates": 10,
        "producer_ids": [w.producer_id],
        "slot_ids": [w.slots[0], w.slots[1]]
    })
}

async fn baskets_are_taken_while_rounds_and_documents_are_asked_for(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    place_basket(&app, &w, &consumer).await;
    let token = w.coordinator.token.clone();
    let documents: Vec<_> = (0..12)
        .map(|i| {
            let app = &app;
            let w = &w;
            let token = token.clone();
            async move {
                if i % 3 == 0 {
                    let resp = app
                        .client
                        .post(format!("{}/api/v1/cycles/{}/rounds", app.base, w.cycle_id))
                        .bearer_auth(&token)
                        .json(&round_body(w))
                        .send()
                        .await
                        .expect("an answer");
                    (
                        resp.status().as_u16(),
                        resp.headers().contains_key("retry-after"),
                    )
                } else {
                    let path = if i % 3 == 1 {
                        format!("/api/v1/cycles/{}/sheets?format=pdf", w.cycle_id)
                    } else {
                        format!("/api/v1/cycles/{}/picking-lists?format=pdf", w.cycle_id)
                    };
                    let resp = app
                        .client
                        .get(format!("{}{path}", app.base))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("an answer");
                    (
                        resp.status().as_u16(),
                        resp.headers().contains_key("retry-after"),
                    )
                }
            }
        })
        .collect();
    let baskets = async {
        let mut times = Vec::new();
        for _ in 0..5 {
            times.push(place_basket(&app, &w, &consumer).await);
        }
        times
    };
    let (answers, times) = tokio::join!(futures_util::future::join_all(documents), baskets);
    for (status, retry_after) in answers {
        assert!(
            matches!(status, 200 | 201) || (status == 503 && retry_after),
            "a document or round got {status}"
        );
    }
    for t in times {
        assert!(
            t < Duration::from_secs(2),
            "a basket took {t:?} among documents"
        );
    }
    app.cleanup().await;
}

async fn a_round_keeps_its_plan_until_replanned(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    // Orders for the first slot only: the plan delivers there alone.
    place_basket(&app, &w, &consumer).await;
    let round = app
        .post(
            &format!("/api/v1/cycles/{}/rounds", w.cycle_id),
            w.coordinator.t(),
            round_body(&w),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/rounds/{}", round["id"]);
    let deliveries = |plan: &Value| {
        plan["stops"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "deliver")
            .count()
    };
    let first = app.get(&path, w.coordinator.t()).await.expect(200);
    assert_eq!(deliveries(&first), 1, "{first}");
    // A basket for the second slot: reading the round gives the plan it was made with.
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        consumer.t(),
        json!({"slot_id": w.slots[1], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect(201);
    let again = app.get(&path, w.coordinator.t()).await.expect(200);
    assert_eq!(again, first);
    // Asked for, the round is planned again with what is ordered now, and kept so.
    app.post(&format!("{path}/replan"), consumer.t(), json!({}))
        .await
        .expect_error(404, "not_found");
    let replanned = app
        .post(&format!("{path}/replan"), w.coordinator.t(), json!({}))
        .await
        .expect(200);
    let now = app.get(&path, w.coordinator.t()).await.expect(200);
    assert_eq!(deliveries(&now), 2, "{now}");
    assert_eq!(
        replanned["stops"].as_u64(),
        now["stops"].as_array().map(|s| s.len() as u64)
    );
    app.cleanup().await;
}
