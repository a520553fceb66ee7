//! Halle's HTTP face: the JSON API under `/api/v1` (poem-openapi; spec at `/api/openapi.json`,
//! docs at `/api/docs`), the pages for people (see `pages`), bearer-token authentication, and the mapping of every failure to a
//! JSON `{code, message}` body with the right status.
//!
//! Error philosophy: what the caller did wrong is a 4xx with a machine-readable `code` and a
//! sentence for humans; a database failure is an opaque 500, logged once with its cause. Parse
//! errors raised by poem itself (malformed JSON, wrong types, unknown fields, bad path ids) are
//! caught at the edge and given the same JSON shape.

mod api;
mod compress;
mod deadline;
mod error;
mod headers;
mod log_buffer;
mod ops;
mod pages;
mod pieces;
mod runtime;
mod serve;
mod startup;
mod stripe_hook;
mod throttle;

pub use error::{ApiError, ErrorBody};
pub use log_buffer::{LogBuffer, LogGuard};
pub use runtime::server_runtime;
pub use startup::{Application, app, app_with};
pub use throttle::WebOptions;
