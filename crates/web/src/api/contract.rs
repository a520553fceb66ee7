//! The OpenAPI document as served, and the `Allow` header that goes with it.
//!
//! poem-openapi generates the document from the operations and types; a few things the server
//! does are not expressible through its derives, and are written into the document here, from
//! the generated document itself:
//! - request objects refuse unknown fields (`deny_unknown_fields`): `additionalProperties: false`;
//! - an operation that takes a JSON body answers `415` to a body of another media type;
//! - the `format` and `lang` query parameters of the documents take a closed set of values.
//!
//! A `405` lists the methods of its path in `Allow` (RFC 9110), from the same document.

use std::collections::BTreeSet;

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};
use serde_json::{Value, json};

use crate::error::json_errors;

/// The formats and languages the document endpoints accept (see `print::Format`, `print::Lang`).
const FORMATS: [&str; 4] = ["json", "html", "csv", "pdf"];
const LANGS: [&str; 2] = ["fr", "en"];
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document poem-openapi generated (`OpenApiService::spec`), completed as the module header
/// says.
pub(crate) fn complete(generated: &str) -> Value {
    let Ok(mut doc) = serde_json::from_str::<Value>(generated) else {
        // poem-openapi serialises its own types; this cannot fail, and if it did the generated
        // document would still be served as it is.
        return Value::String(generated.to_owned());
    };
    let mut request_schemas = BTreeSet::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if METHODS.contains(&method.as_str()) {
                    complete_operation(op, &mut request_schemas);
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let mut todo: Vec<String> = request_schemas.into_iter().collect();
        let mut closed = BTreeSet::new();
        while let Some(name) = todo.pop() {
            if !closed.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = schemas.get_mut(&name).and_then(Value::as_object_mut) {
                collect_refs(&Value::Object(schema.clone()), &mut todo);
                if schema.get("type") == Some(&json!("object")) {
                    schema.insert("additionalProperties".into(), Value::Bool(false));
                }
            }
        }
    }
    doc
}

fn complete_operation(op: &mut Value, request_schemas: &mut BTreeSet<String>) {
    if let Some(body) = op.get("requestBody") {
        let mut refs = Vec::new();
        collect_refs(body, &mut refs);
        request_schemas.extend(refs);
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.insert(
                "415".into(),
                json!({
                    "description": "The body is not sent as `application/json`.",
                    "content": {"application/json; charset=utf-8": {
                        "schema": {"$ref": "#/components/schemas/ErrorBody"}
                    }}
                }),
            );
        }
    }
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            let constraint = match (p["in"].as_str(), p["name"].as_str()) {
                (Some("query"), Some("format")) => ("enum", json!(FORMATS)),
                (Some("query"), Some("lang")) => ("enum", json!(LANGS)),
                // create_order refuses an empty key or one over 255 characters.
                (Some("header"), Some("Idempotency-Key")) => ("maxLength", json!(255)),
                _ => continue,
            };
            if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                if constraint.0 == "maxLength" {
                    schema.insert("minLength".into(), json!(1));
                }
                schema.insert(constraint.0.into(), constraint.1);
            }
        }
    }
}

/// Every schema name `value` refers to (`#/components/schemas/<name>`).
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => {
                        if let Some(name) = r.strip_prefix("#/components/schemas/") {
                            out.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// For each path of the document, its segments (`None` for a parameter) and the methods it
/// takes, as an `Allow` header value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Methods {
    prefix: String,
    paths: Vec<(Vec<Option<String>>, String)>,
}

impl Methods {
    /// The methods of each path of `doc`, served under `prefix` (`/api/v1`).
    pub(crate) fn new(doc: &Value, prefix: &str) -> Self {
        let mut paths = Vec::new();
        if let Some(map) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in map {
                let Some(item) = item.as_object() else {
                    continue;
                };
                let mut methods: Vec<String> = item
                    .keys()
                    .filter(|m| METHODS.contains(&m.as_str()))
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                // poem answers HEAD wherever GET is served.
                if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
                    methods.push("HEAD".into());
                }
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect();
                paths.push((segments, methods.join(", ")));
            }
        }
        Self {
            prefix: prefix.trim_end_matches('/').to_owned(),
            paths,
        }
    }

    /// The `Allow` value for a request path: that of the path template matching it with the
    /// most literal segments, as the router prefers them.
    pub(crate) fn allowed(&self, path: &str) -> Option<&str> {
        let rest = path.strip_prefix(&self.prefix)?;
        let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
        self.paths
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| match t {
                        Some(literal) => literal == s,
                        None => !s.is_empty(),
                    })
            })
            .max_by_key(|(template, _)| template.iter().filter(|t| t.is_some()).count())
            .map(|(_, allow)| allow.as_str())
    }

    /// Calls `ep`; a `405` comes back as the API's JSON error with an `Allow` header.
    pub(crate) async fn answer<E: Endpoint>(&self, ep: &E, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_owned();
        let mut resp = match ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => json_errors(e).await,
            Err(e) => return Err(e),
        };
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self
                .allowed(&path)
                .and_then(|a| poem::http::HeaderValue::from_str(a).ok())
        {
            resp.headers_mut().insert(poem::http::header::ALLOW, allow);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn allow_lists_the_methods_of_the_best_matching_path() {
        let doc = json!({"paths": {
            "/orders/{id}": {"get": {}, "put": {}, "delete": {}},
            "/me/orders": {"get": {}},
            "/{kind}/orders": {"post": {}},
        }});
        let m = Methods::new(&doc, "/api/v1");
        assert_eq!(
            m.allowed("/api/v1/orders/12"),
            Some("DELETE, GET, PUT, HEAD")
        );
        assert_eq!(m.allowed("/api/v1/me/orders"), Some("GET, HEAD"));
        assert_eq!(m.allowed("/api/v1/x/orders"), Some("POST"));
        assert_eq!(m.allowed("/api/v1/orders/"), None);
        assert_eq!(m.allowed("/elsewhere/orders/1"), None);
    }

    #[test]
    fn request_objects_are_closed_and_bodies_document_415() {
        let generated = json!({
            "paths": {"/things": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}},
                "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }, "get": {
                "parameters": [{"in": "query", "name": "format", "schema": {"type": "string"}}],
                "responses": {}
            }}},
            "components": {"schemas": {
                "NewThing": {"type": "object", "properties": {"part": {"$ref": "#/components/schemas/Part"}}},
                "Part": {"type": "object"},
                "Thing": {"type": "object"},
            }}
        });
        let doc = complete(&generated.to_string());
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["NewThing"]["additionalProperties"], json!(false));
        assert_eq!(schemas["Part"]["additionalProperties"], json!(false));
        assert!(schemas["Thing"].get("additionalProperties").is_none());
        assert!(doc["paths"]["/things"]["post"]["responses"]["415"].is_object());
        assert!(
            doc["paths"]["/things"]["get"]["responses"]
                .get("415")
                .is_none()
        );
        assert_eq!(
            doc["paths"]["/things"]["get"]["parameters"][0]["schema"]["enum"],
            json!(FORMATS)
        );
    }
}
