//! A JSON answer serialized straight from its value to bytes by serde, where poem-openapi's
//! `Json<T>` first builds a `serde_json::Value` of it (a map, and a string for every field's
//! name, of every object): for the answers read at high rates, such as the directory's search
//! (40 hits of 10 fields). The document declares what `Json<T>` declares. `T` derives both
//! `Object` (the schema) and `Serialize` (the bytes) with the same field names; a test compares
//! the two encodings of each such DTO.

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Json,
    registry::{MetaResponses, Registry},
    types::{ToJSON, Type},
};
use serde::Serialize;

/// `T` as JSON, serialized by serde (see the module's header).
pub(crate) struct DirectJson<T>(pub(crate) T);

impl<T: Serialize + Send> IntoResponse for DirectJson<T> {
    fn into_response(self) -> Response {
        // Room for a page of the directory (some 10 KB) from the start: no copy as it grows.
        let mut bytes = Vec::with_capacity(16 * 1024);
        match serde_json::to_writer(&mut bytes, &self.0) {
            Ok(()) => Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(bytes),
            Err(e) => {
                tracing::error!(error = %e, "serializing an answer");
                crate::ApiError::Internal(crate::error::ErrorBody::new(
                    "internal",
                    "something went wrong on our side; please try again",
                ))
                .into_response()
            }
        }
    }
}

impl<T: Type + ToJSON + Serialize + Send> ApiResponse for DirectJson<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        Json::<T>::register(registry);
    }
}

/// A time as poem-openapi's `ToJSON` writes it (RFC 3339, `+00:00`), for `serialize_with`.
pub(crate) fn rfc3339<S: serde::Serializer>(
    t: &Option<chrono::DateTime<chrono::Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}
