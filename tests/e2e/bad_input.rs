//! Bad input gets a clear 4xx with a JSON `{code, message}`: never a 500, never a panic, and
//! nothing already accepted is lost.

use reqwest::Method;
use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    malformed_requests_get_a_json_4xx,
    impossible_quantities_are_refused,
    unknown_things_are_404_or_422,
    authentication_is_required_and_checked,
    product_input_is_validated,
);

async fn malformed_requests_get_a_json_4xx(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let cases = [
        ("{", "truncated JSON"),
        ("not json at all", "not JSON"),
        ("[]", "an array instead of an object"),
        (
            r#"{"slot_id": "one", "lines": []}"#,
            "a string for an integer",
        ),
        (r#"{"slot_id": 1.5, "lines": []}"#, "a fraction for an id"),
        (
            r#"{"slot_id": 1, "lines": [{"offer_id": 1, "quantity": true}]}"#,
            "a boolean quantity",
        ),
        (
            r#"{"slot_id": 1, "lines": [], "surprise": 1}"#,
            "an unknown field",
        ),
        (
            r#"{"slot_id": 1, "lines": [{"offer_id": 1, "quantity": 1, "discount": 5}]}"#,
            "an unknown nested field",
        ),
        (r#"{"lines": []}"#, "a missing field"),
        (
            r#"{"slot_id": 99999999999999999999999999, "lines": []}"#,
            "an absurdly large id",
        ),
    ];
    for (body, what) in cases {
        let a = app.raw(Method::POST, &path, consumer.t(), body).await;
        assert!(
            a.status.is_client_error(),
            "{what}: got {} {}",
            a.status,
            a.body
        );
        assert!(
            a.body["code"].is_string() && a.body["message"].is_string(),
            "{what}: body {}",
            a.body
        );
    }
    // A bad id in the path.
    app.get("/api/v1/cycles/abc", None)
        .await
        .expect_error(400, "invalid_request");
    app.get("/api/v1/cycles/99999999999999999999999", None)
        .await
        .expect_error(400, "invalid_request");
    // An unknown route is a JSON 404 too.
    app.get("/api/v1/nowhere", None)
        .await
        .expect_error(404, "not_found");
    // A body far too large is refused before it is read: announce 2 MiB, send none of it, and
    // the answer comes back at once.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        consumer.token,
        2 * 1024 * 1024
    );
    let status_line = raw_http(&app.base, &head).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // Nothing above created an order.
    let mine = app.get("/api/v1/me/orders", consumer.t()).await.expect(200);
    assert_eq!(mine, json!([]));
    app.cleanup().await;
}

async fn impossible_quantities_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let line = |offer: i64, q: serde_json::Value| json!({"slot_id": w.slots[0], "lines": [{"offer_id": offer, "quantity": q}]});
    for (offer, q) in [
        (w.offers[1], json!(-1)),
        (w.offers[1], json!("-2")),
        (w.offers[1], json!(0)),
        (w.offers[1], json!("1.5")), // eggs by the dozen: whole numbers
        (w.offers[1], json!(2.5)),   // the same, as a JSON number
        (w.offers[0], json!("0.3")), // carrots: steps of 0.5 kg
        (w.offers[0], json!("0.0001")), // finer than a gram
        (w.offers[1], json!(1_000_000_000_i64)),
        (w.offers[1], json!(1001)),
    ] {
        app.post(&path, consumer.t(), line(offer, q.clone()))
            .await
            .expect_error(422, "invalid_quantity");
    }
    // Numbers no decimal can hold are refused while reading the request.
    for q in [
        json!("1e30"),
        json!(1e30),
        json!("12345678901234567890123456789012"),
    ] {
        let a = app
            .post(&path, consumer.t(), line(w.offers[1], q.clone()))
            .await;
        assert!(a.status.is_client_error(), "{q}: {} {}", a.status, a.body);
        assert!(a.body["code"].is_string(), "{q}: {}", a.body);
    }
    // A number too large to be a decimal at all is a parse error, still a JSON 400.
    let a = app
        .raw(
            Method::POST,
            &path,
            consumer.t(),
            &format!(
                r#"{{"slot_id": {}, "lines": [{{"offer_id": {}, "quantity": 1e400}}]}}"#,
                w.slots[0], w.offers[1]
            ),
        )
        .await;
    assert_eq!(a.status.as_u16(), 400, "{}", a.body);
    // Empty baskets and repeated offers.
    app.post(
        &path,
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": []}),
    )
    .await
    .expect_error(422, "invalid_basket");
    app.post(
        &path,
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}, {"offer_id": w.offers[1], "quantity": 2}]}),
    )
    .await
    .expect_error(422, "invalid_basket");
    // More than there is: 409 with what is left.
    let short = app
        .post(&path, consumer.t(), line(w.offers[2], json!(7)))
        .await
        .expect_error(409, "insufficient_stock");
    assert_eq!(short["available"], "6");
    assert_eq!(short["offer_id"], w.offers[2]);
    // Stock untouched by all of this.
    assert_eq!(app.stock_left(w.cycle_id, w.offers[1]).await, "20");
    assert_eq!(app.stock_left(w.cycle_id, w.offers[2]).await, "6");
    app.cleanup().await;
}

async fn unknown_things_are_404_or_422(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    app.get("/api/v1/cycles/987654", None)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/markets/987654", None)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/orders/987654", consumer.t())
        .await
        .expect_error(404, "not_found");
    app.post(
        "/api/v1/cycles/987654/orders",
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(404, "not_found");
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    app.post(
        &path,
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": 987654, "quantity": 1}]}),
    )
    .await
    .expect_error(422, "unknown_offer");
    app.post(
        &path,
        consumer.t(),
        json!({"slot_id": 987654, "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect_error(422, "unknown_slot");
    app.cleanup().await;
}

async fn authentication_is_required_and_checked(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let path = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    let body = json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]});
    app.post(&path, None, body.clone())
        .await
        .expect_error(401, "unauthenticated");
    app.post(&path, Some("not-a-token"), body)
        .await
        .expect_error(401, "unauthenticated");
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": "nobody@example.org", "password": "x"}),
    )
    .await
    .expect_error(401, "unauthenticated");
    // Sign up, then log in.
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "Lea.Martin@Example.org", "password": "jardin79-potager", "name": "Léa Martin"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "lea.martin@example.org", "password": "un-autre-mot", "name": "Léa M."}),
    )
    .await
    .expect_error(409, "email_taken");
    app.post(
        "/api/v1/auth/token",
        None,
        json!({"email": "lea.martin@example.org", "password": "wrong"}),
    )
    .await
    .expect_error(401, "unauthenticated");
    let token = app
        .login("lea.martin@example.org", "jardin79-potager")
        .await;
    let me = app.get("/api/v1/me", Some(&token)).await.expect(200);
    assert_eq!(me["role"], "consumer");
    assert_eq!(me["name"], "Léa Martin");
    app.cleanup().await;
}

async fn product_input_is_validated(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let path = format!("/api/v1/producers/{}/products", w.producer_id);
    for (body, code) in [
        (
            json!({"name": "X", "unit": "barrel", "price": "1", "vat_rate": "5.5"}),
            "invalid_unit",
        ),
        (
            json!({"name": "X", "unit": "kg", "price": "-1", "vat_rate": "5.5"}),
            "invalid_price",
        ),
        (
            json!({"name": "X", "unit": "kg", "price": "1.234", "vat_rate": "5.5"}),
            "invalid_price",
        ),
        (
            json!({"name": "X", "unit": "kg", "price": "1", "vat_rate": "150"}),
            "invalid_vat_rate",
        ),
        (
            json!({"name": "X", "unit": "kg", "price": "1", "vat_rate": "5.5", "variable_weight": true}),
            "invalid_product",
        ),
        (
            json!({"name": "X", "unit": "kg", "price": "1", "vat_rate": "5.5", "variable_weight": true, "estimated_weight_kg": "1"}),
            "invalid_product",
        ),
        (
            json!({"name": "X", "unit": "piece", "price": "1", "vat_rate": "5.5", "step": "0.5"}),
            "invalid_quantity",
        ),
    ] {
        let a = app.post(&path, w.producer.t(), body.clone()).await;
        assert_eq!(a.status.as_u16(), 422, "{body}: {}", a.body);
        assert_eq!(a.body["code"], code, "{body}: {}", a.body);
    }
    // A blank name breaks the document's schema (minLength, a visible character): 400.
    for name in ["", "  "] {
        app.post(
            &path,
            w.producer.t(),
            json!({"name": name, "unit": "kg", "price": "1", "vat_rate": "5.5"}),
        )
        .await
        .expect_error(400, "invalid_request");
    }
    // Prices stay exact to the cent on every database.
    let p = app
        .post(&path, w.producer.t(), json!({"name": "Safran", "unit": "g", "price": "38.00", "vat_rate": "5.5", "step": "0.1"}))
        .await
        .expect(201);
    assert_eq!(p["price"], "38.00");
    assert_eq!(p["step"], "0.1");
    let big = app
        .post(
            &path,
            w.producer.t(),
            json!({"name": "Tracteur", "unit": "piece", "price": "999999.99", "vat_rate": "20"}),
        )
        .await
        .expect(201);
    assert_eq!(big["price"], "999999.99");
    app.cleanup().await;
}

/// Sends raw request bytes and returns the status line of the answer.
async fn raw_http(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer without waiting for the body")
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
