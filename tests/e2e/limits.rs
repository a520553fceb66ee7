//! What the server reads is bounded whatever the protocol, and text it cannot store is refused
//! as bad input: a body over 1 MiB gets 413 over cleartext HTTP/2 too (where a body may come
//! with no length at all), and a NUL character in any text gets 422, never a 500.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp, iso},
};

both!(
    an_oversized_body_is_refused_over_h2c,
    nul_in_text_is_bad_input,
);

/// A login body of `size` bytes, sent over HTTP/2 prior knowledge as a stream: no
/// Content-Length, no Transfer-Encoding (HTTP/2 has none).
async fn h2c_login(app: &TestApp, size: usize) -> reqwest::StatusCode {
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("an HTTP/2 client");
    let prefix = br#"{"email": "nobody@example.org", "password": ""#.to_vec();
    let suffix = br#""}"#.to_vec();
    let filler = size.saturating_sub(prefix.len() + suffix.len());
    let mut chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(prefix)];
    for _ in 0..filler / 16_384 {
        chunks.push(Ok(vec![b'a'; 16_384]));
    }
    chunks.push(Ok(vec![b'a'; filler % 16_384]));
    chunks.push(Ok(suffix));
    let resp = client
        .post(format!("{}/api/v1/auth/token", app.base))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("the server answers over h2c");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    resp.status()
}

async fn an_oversized_body_is_refused_over_h2c(db: Db) {
    let app = TestApp::spawn(db).await;
    assert_eq!(h2c_login(&app, 2 * 1024 * 1024).await.as_u16(), 413);
    // A small body still works over h2c: a wrong password is a 401, not a 413.
    assert_eq!(h2c_login(&app, 200).await.as_u16(), 401);
    app.cleanup().await;
}

async fn nul_in_text_is_bad_input(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let admin = app.user(Role::Admin, None, None).await;
    let now = Utc::now();
    let nul = "Jardin\u{0}s";
    let cases: Vec<(Method, String, Option<&str>, Value)> = vec![
        (
            Method::POST,
            "/api/v1/accounts".into(),
            None,
            json!({"email": "nul@example.org", "password": "long enough pass", "name": nul}),
        ),
        (
            Method::POST,
            "/api/v1/auth/token".into(),
            None,
            json!({"email": nul, "password": "long enough pass"}),
        ),
        (
            Method::POST,
            "/api/v1/markets".into(),
            admin.t(),
            json!({"name": nul, "slug": "nul", "city": "Parthenay", "latitude": 46.65, "longitude": -0.25}),
        ),
        (
            Method::POST,
            format!("/api/v1/markets/{}/producers", w.market_id),
            w.coordinator.t(),
            json!({"name": nul, "farmer_name": "Camille", "address": "La Touche", "postal_code": "79200",
                   "city": "Le Tallud", "latitude": 46.61, "longitude": -0.31, "email": "c@example.fr"}),
        ),
        (
            Method::POST,
            format!("/api/v1/markets/{}/pickup-points", w.market_id),
            w.coordinator.t(),
            json!({"name": "Salle", "address": nul, "postal_code": "79200", "city": "Parthenay",
                   "latitude": 46.64, "longitude": -0.24, "host_kind": "farm", "host_name": "Ville"}),
        ),
        (
            Method::POST,
            format!("/api/v1/producers/{}/products", w.producer_id),
            w.producer.t(),
            json!({"name": nul, "unit": "kg", "price": "2.80", "vat_rate": "5.5"}),
        ),
        (
            Method::POST,
            format!("/api/v1/producers/{}/products", w.producer_id),
            w.producer.t(),
            json!({"name": "Radis", "description": nul, "unit": "kg", "price": "2.80", "vat_rate": "5.5"}),
        ),
        (
            Method::POST,
            format!("/api/v1/markets/{}/cycles", w.market_id),
            w.coordinator.t(),
            json!({"name": nul, "opens_at": iso(now), "closes_at": iso(now + Duration::days(3)),
                   "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + Duration::days(4)),
                              "ends_at": iso(now + Duration::days(4) + Duration::hours(2))}]}),
        ),
    ];
    for (method, path, token, body) in cases {
        let answer = app
            .call(method.clone(), &path, token, Some(body.clone()))
            .await;
        assert_eq!(
            answer.status.as_u16(),
            422,
            "{method} {path} with {body}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["code"], "invalid_text",
            "{path}: {}",
            answer.body
        );
    }
    // An escaped backslash followed by "u0000" is not a NUL: it is the text `\u0000`.
    let text = app
        .post(
            &format!("/api/v1/producers/{}/products", w.producer_id),
            w.producer.t(),
            json!({"name": "Radis \\u0000", "unit": "kg", "price": "2.80", "vat_rate": "5.5"}),
        )
        .await
        .expect(201);
    assert_eq!(text["name"], "Radis \\u0000");
    // NUL in a path or a query string.
    app.get(&format!("/api/v1/cycles/{}?x=%00", w.cycle_id), None)
        .await
        .expect_error(422, "invalid_text");
    app.get("/api/v1/markets/%00", None)
        .await
        .expect_error(422, "invalid_text");
    app.cleanup().await;
}
