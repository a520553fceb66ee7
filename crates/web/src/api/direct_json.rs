//! A JSON answer whose bytes are written by its handler, where poem-openapi's `Json<T>` first
//! builds a `serde_json::Value` of `T` (a map, and a string for every field's name, of every
//! object): for the answers read at high rates, such as the directory's search (40 hits of 10
//! fields, each hit's JSON kept from one search to the next). The document declares what
//! `Json<T>` declares; a test compares each such answer with what poem-openapi sends for `T`.

use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Json,
    registry::{MetaResponses, Registry},
    types::{ToJSON, Type},
};

/// JSON bytes written by hand, declared in the document as `T` (the directory's search, see
/// `directory`); a test compares them with what poem-openapi sends for `T`.
pub(crate) struct JsonBytes<T> {
    bytes: Vec<u8>,
    declared: std::marker::PhantomData<fn() -> T>,
}

impl<T> JsonBytes<T> {
    /// `bytes`, a JSON value of what `T` declares.
    pub(crate) fn new(bytes: Vec<u8>) -> JsonBytes<T> {
        JsonBytes {
            bytes,
            declared: std::marker::PhantomData,
        }
    }
}

impl<T> IntoResponse for JsonBytes<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(self.bytes)
    }
}

impl<T: Type + ToJSON> ApiResponse for JsonBytes<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        Json::<T>::register(registry);
    }
}
