//! The server holds to its OpenAPI document (issue 7, item 18): what schemathesis found, one
//! case each. Text is text, required text is not blank, nulls are declared, documents come in
//! the media types declared, a body of another media type is a documented 415, and a 405 says
//! which methods its path takes.

use reqwest::Method;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    request_text_is_strict,
    answers_match_the_document,
    other_media_types_and_methods_are_answered_as_documented,
);

fn producer(overrides: Value) -> Value {
    let mut p = json!({
        "name": "Ferme du Bois", "farmer_name": "Anne Roux", "address": "1 route des Bois",
        "postal_code": "79200", "city": "Parthenay", "latitude": 46.6, "longitude": -0.2
    });
    for (k, v) in overrides.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

async fn request_text_is_strict(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let path = format!("/api/v1/markets/{}/producers", w.market_id);
    let coordinator = w.coordinator.t();
    let refused = [
        (json!({"name": false}), "a boolean name"),
        (json!({"name": 12}), "a number name"),
        (json!({"city": ["Parthenay"]}), "an array city"),
        (json!({"phone": 549000000}), "a number phone"),
        (json!({"farmer_name": ""}), "an empty farmer_name"),
        (json!({"address": "   "}), "a blank address"),
        (json!({"postal_code": "\t\n"}), "a blank postal_code"),
        (
            json!({"name": "x".repeat(201)}),
            "a name over 200 characters",
        ),
        (json!({"latitude": 91.0}), "a latitude beyond the pole"),
    ];
    for (overrides, what) in refused {
        let a = app.post(&path, coordinator, producer(overrides)).await;
        assert_eq!(a.status.as_u16(), 400, "{what}: {} {}", a.status, a.body);
        assert!(
            a.body["code"].is_string() && a.body["message"].is_string(),
            "{what}"
        );
    }
    // What is left is a valid producer; null optional fields and a null description (the
    // default) are accepted, as the document says.
    let created = app
        .post(
            &path,
            coordinator,
            producer(json!({"description": null, "phone": null})),
        )
        .await
        .expect(201);
    assert_eq!(created["description"], "");
    assert_eq!(created["phone"], Value::Null);
    // Nothing was created named "false" or "12".
    let producers = app.get(&path, None).await.expect(200);
    let names: Vec<&str> = producers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        !names.contains(&"false") && !names.contains(&"12"),
        "{names:?}"
    );

    // A sign-up with a number for a password and a boolean for a name.
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": "typed@example.org", "password": 123456, "name": true}),
    )
    .await
    .expect_error(400, "invalid_request");
    app.post(
        "/api/v1/accounts",
        None,
        json!({"email": " ", "password": "longenough", "name": "Zoé"}),
    )
    .await
    .expect_error(400, "invalid_request");
    // Decimals are digits: "1_000" or "1e3" are not prices.
    let product =
        |price: Value| json!({"name": "Radis", "unit": "bunch", "price": price, "vat_rate": "5.5"});
    let products = format!("/api/v1/producers/{}/products", w.producer_id);
    for price in [json!("1_000"), json!("1e3"), json!(""), json!(true)] {
        app.post(&products, w.producer.t(), product(price.clone()))
            .await
            .expect_error(400, "invalid_request");
    }
    app.post(&products, w.producer.t(), product(json!("1.20")))
        .await
        .expect(201);
    app.post(&products, w.producer.t(), product(json!(1.2)))
        .await
        .expect(201);
    app.cleanup().await;
}

/// The schema a `$ref` in the document points to.
fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

async fn answers_match_the_document(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let doc = app.get("/api/openapi.json", None).await.expect(200);
    let consumer = app.user(Role::Consumer, None, None).await;

    // A consumer's market_id and producer_id are null, and declared so.
    let me = app.get("/api/v1/me", consumer.t()).await.expect(200);
    assert_eq!(me["market_id"], Value::Null);
    for field in ["market_id", "producer_id"] {
        assert_eq!(
            schema(&doc, "AccountDto")["properties"][field]["nullable"],
            true,
            "AccountDto.{field}"
        );
    }
    // Every field an answer carries as null is nullable in its schema.
    let cycle = app
        .get(&format!("/api/v1/cycles/{}", w.cycle_id), None)
        .await
        .expect(200);
    let producers = app
        .get(&format!("/api/v1/markets/{}/producers", w.market_id), None)
        .await
        .expect(200);
    let products = app
        .get(
            &format!("/api/v1/producers/{}/products", w.producer_id),
            None,
        )
        .await
        .expect(200);
    for (values, name) in [
        (&cycle["offers"], "OfferDto"),
        (&producers, "ProducerDto"),
        (&products, "ProductDto"),
    ] {
        let mut nulls = 0;
        for value in values.as_array().unwrap() {
            for (field, v) in value.as_object().unwrap() {
                if v.is_null() {
                    nulls += 1;
                    assert_eq!(
                        schema(&doc, name)["properties"][field]["nullable"],
                        true,
                        "{name}.{field} comes back null"
                    );
                }
            }
        }
        assert!(nulls > 0, "the world has a null in some {name}");
    }

    // Documents come in the media types their operation declares.
    app.close_cycle(&w).await;
    let op = &doc["paths"]["/cycles/{id}/picking-lists"]["get"]["responses"]["200"]["content"];
    for (format, media_type) in [
        ("json", "application/json"),
        ("html", "text/html"),
        ("csv", "text/csv"),
        ("pdf", "application/pdf"),
    ] {
        let (status, content_type, _) = app
            .bytes(
                &format!(
                    "/api/v1/cycles/{}/picking-lists?format={format}",
                    w.cycle_id
                ),
                w.coordinator.t(),
            )
            .await;
        assert_eq!(status, 200, "{format}");
        assert!(
            content_type.starts_with(media_type),
            "{format}: {content_type}"
        );
        assert!(op.get(media_type).is_some(), "{media_type} is not declared");
    }
    assert!(op.get("application/octet-stream").is_none());
    app.cleanup().await;
}

async fn other_media_types_and_methods_are_answered_as_documented(db: Db) {
    let app = TestApp::spawn(db).await;
    let doc = app.get("/api/openapi.json", None).await.expect(200);

    // A body that is not JSON: 415, declared for the operation.
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/token", app.base))
        .header("content-type", "text/plain")
        .body("email=a@b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_media_type");
    assert!(doc["paths"]["/auth/token"]["post"]["responses"]["415"].is_object());

    // A method the path does not take: 405 with the methods it takes.
    for (method, path, allow) in [
        (Method::TRACE, "/api/v1/orders/1", "DELETE, GET, PUT, HEAD"),
        (Method::PATCH, "/api/v1/markets", "GET, POST, HEAD"),
        (Method::DELETE, "/api/v1/me", "GET, HEAD"),
    ] {
        let a = app.call(method.clone(), path, None, None).await;
        assert_eq!(a.status.as_u16(), 405, "{method} {path}");
        assert_eq!(a.body["code"], "method_not_allowed");
        assert_eq!(
            a.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
    app.cleanup().await;
}
