//! What an operator watches: `/healthz`, `/readyz` (database, migrations, order writer),
//! Prometheus metrics at `/metrics`, and the request id every answer carries back.

use serde_json::json;
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    health_and_readiness_answer_and_readiness_follows_the_order_writer,
    every_answer_carries_a_request_id,
    metrics_count_requests_baskets_the_writer_and_the_pool,
    every_answer_carries_the_security_headers,
    common_passwords_are_refused_wherever_a_password_is_chosen,
);

async fn health_and_readiness_answer_and_readiness_follows_the_order_writer(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, _, body) = app.bytes("/healthz", None).await;
    assert_eq!((status, body.as_slice()), (200, b"ok".as_slice()));
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(
        ready,
        json!({"ready": true, "database": true, "migrations": true,
               "order_writer": true, "order_queue": 0})
    );
    // A writer that stopped (as at shutdown) makes the node not ready: a balancer takes it out.
    app.store.shutdown().await;
    let not = app.get("/readyz", None).await.expect(503);
    assert_eq!(not["ready"], false, "{not}");
    assert_eq!(not["order_writer"], false, "{not}");
    assert_eq!(not["database"], true, "{not}");
    app.cleanup().await;
}

async fn every_answer_carries_a_request_id(db: Db) {
    let app = TestApp::spawn(db).await;
    let get = |id: Option<&'static str>, path: &'static str| {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };
    // A sane id from the client (a proxy's) is kept, on a page, the API and an error alike.
    for path in ["/healthz", "/api/v1/cycles/999999", "/no/such/page", "/"] {
        let res = get(Some("edge-7f3a.1"), path).await.unwrap();
        assert_eq!(res.headers()["x-request-id"], "edge-7f3a.1", "{path}");
    }
    // Otherwise one is made: 32 hex digits, new each time.
    let a = get(None, "/healthz").await.unwrap();
    let b = get(Some("not an id; <script>"), "/healthz").await.unwrap();
    let (a, b) = (
        a.headers()["x-request-id"].to_str().unwrap().to_owned(),
        b.headers()["x-request-id"].to_str().unwrap().to_owned(),
    );
    for id in [&a, &b] {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    assert_ne!(a, b);
    app.cleanup().await;
}

async fn metrics_count_requests_baskets_the_writer_and_the_pool(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let consumer = app.user(Role::Consumer, None, None).await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    app.post(
        &orders,
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 1}]}),
    )
    .await
    .expect(201);
    app.post(
        &orders,
        consumer.t(),
        json!({"slot_id": w.slots[0], "lines": [{"offer_id": w.offers[1], "quantity": 100000}]}),
    )
    .await
    .expect_error(422, "invalid_quantity");
    let (status, headers, body) = app.bytes("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(headers.starts_with("text/plain"), "{headers}");
    let text = String::from_utf8(body).unwrap();
    for expected in [
        // By route template, never by raw path: ids would make a series per cycle.
        "halle_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/cycles/:param0/orders\",status=\"201\",le=\"+Inf\"}",
        "route=\"/api/v1/cycles/:param0/orders\",status=\"422\"",
        "halle_baskets_placed_total{replayed=\"false\"}",
        "halle_baskets_refused_total{reason=\"invalid\"}",
        "halle_order_writer_batch_size_bucket{le=\"1\"}",
        "halle_order_writer_wait_seconds_bucket",
        "halle_order_writer_batch_seconds_count",
        "halle_db_pool_connections{state=\"max\"}",
        "halle_db_pool_connections{state=\"in_use\"}",
        "halle_order_writer_queue",
        "# TYPE halle_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        !text.contains(&format!("/api/v1/cycles/{}/orders", w.cycle_id)),
        "a raw path leaked into a label"
    );
    app.cleanup().await;
}

async fn every_answer_carries_the_security_headers(db: Db) {
    let app = TestApp::spawn(db).await;
    for (path, status) in [
        ("/", 200),
        ("/login", 200),
        ("/healthz", 200),
        ("/api/v1/cycles/999999", 404),
        ("/no/such/page", 404),
        ("/api/openapi.json", 200),
    ] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self';"),
            "{path}: no inline script: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    // A route with a policy of its own keeps it: the API docs run Swagger UI's inline script.
    let res = app
        .client
        .get(format!("{}/api/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    app.cleanup().await;
}

async fn common_passwords_are_refused_wherever_a_password_is_chosen(db: Db) {
    let app = TestApp::spawn(db).await;
    // Sign-up, whatever the case.
    for common in ["password123", "QWERTYUIOP", "1q2w3e4r5t"] {
        let a = app
            .post(
                "/api/v1/accounts",
                None,
                json!({"email": "x@example.org", "password": common, "name": "X"}),
            )
            .await
            .expect_error(422, "common_password");
        assert!(a["message"].as_str().unwrap().contains("common"), "{a}");
    }
    // A password change.
    let user = app.user(Role::Consumer, None, None).await;
    app.put(
        "/api/v1/me/password",
        user.t(),
        json!({"old_password": crate::helpers::PASSWORD, "new_password": "iloveyou123"}),
    )
    .await
    .expect_error(422, "common_password");
    app.get("/api/v1/me", user.t()).await.expect(200);
    app.cleanup().await;
}
