//! The API describes itself: an OpenAPI document and a docs page.

use serde_json::Value;

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(
    the_openapi_spec_and_docs_are_served,
    the_document_declares_what_the_server_does
);

async fn the_openapi_spec_and_docs_are_served(db: Db) {
    let app = TestApp::spawn(db).await;
    let spec = app.get("/api/openapi.json", None).await.expect(200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/auth/token",
        "/markets",
        "/markets/{id}/cycles",
        "/cycles/{id}",
        "/cycles/{id}/orders",
        "/orders/{id}",
        "/cycles/{id}/producers/{producer_id}/offers",
        "/cycles/{id}/producers/{producer_id}/offers/copy-previous",
        "/producers/{id}/products",
        "/products/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the spec");
    }
    let docs = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status().as_u16(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    app.cleanup().await;
}

/// What the review of issue 7 found undeclared: nulls, documents' media types, 415, closed
/// request objects, required text.
async fn the_document_declares_what_the_server_does(db: Db) {
    let app = TestApp::spawn(db).await;
    let doc = app.get("/api/openapi.json", None).await.expect(200);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, field) in [
        ("AccountDto", "market_id"),
        ("AccountDto", "producer_id"),
        ("ProducerDto", "phone"),
        ("ProducerDto", "email"),
        ("ProducerDto", "website"),
        ("ProducerDto", "social"),
        ("ProductDto", "description"),
        ("ProductDto", "estimated_weight_kg"),
        ("OfferDto", "description"),
        ("OfferDto", "estimated_weight_kg"),
        ("OrderLineDto", "estimated_weight_kg"),
    ] {
        assert_eq!(
            schemas[name]["properties"][field]["nullable"], true,
            "{name}.{field} can be null"
        );
    }
    // Every field of every response schema that is not required is there as null or declared
    // absent: poem-openapi writes Option fields as null unless told otherwise.
    for (name, s) in schemas {
        let required: Vec<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (field, f) in s["properties"].as_object().into_iter().flatten() {
            if !required.contains(&field.as_str()) && name != "ErrorBody" {
                assert!(
                    f["nullable"] == true || f.get("default").is_some(),
                    "{name}.{field} is optional but neither nullable nor defaulted"
                );
            }
        }
    }
    let paths = doc["paths"].as_object().unwrap();
    for doc_path in [
        "/cycles/{id}/picking-lists",
        "/cycles/{id}/labels",
        "/cycles/{id}/sheets",
        "/slots/{id}/sheet",
        "/rounds/{id}",
    ] {
        let content = &paths[doc_path]["get"]["responses"]["200"]["content"];
        for media_type in [
            "application/json",
            "text/html",
            "text/csv",
            "application/pdf",
        ] {
            assert!(
                content.get(media_type).is_some(),
                "{doc_path}: {media_type}"
            );
        }
        assert!(
            content.get("application/octet-stream").is_none(),
            "{doc_path}"
        );
    }
    let mut bodies = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Some(body) = op.get("requestBody") else {
                continue;
            };
            bodies += 1;
            assert!(
                op["responses"]["415"].is_object(),
                "{method} {path} takes a body and can answer 415"
            );
            let reference = body["content"]["application/json; charset=utf-8"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: {body}"));
            let name = reference.trim_start_matches("#/components/schemas/");
            assert_eq!(
                schemas[name]["additionalProperties"], false,
                "{name} refuses unknown fields"
            );
        }
    }
    assert!(bodies > 15, "{bodies} operations take a body");
    let producer = &schemas["NewProducerRequest"]["properties"];
    for field in ["name", "farmer_name", "address", "postal_code", "city"] {
        assert_eq!(producer[field]["type"], "string", "{field}");
        assert_eq!(producer[field]["minLength"], 1, "{field} is required text");
        assert!(producer[field]["pattern"].is_string(), "{field}: not blank");
    }
    app.cleanup().await;
}
