//! The API describes itself: an OpenAPI document and a docs page.

use crate::{
    both,
    helpers::{Db, TestApp},
};

both!(the_openapi_spec_and_docs_are_served);

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
