//! The one error shape of the API, and how store errors and poem's own errors map onto it.

use poem::{Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};
use store::StoreError;

/// Every error body: a stable machine-readable `code` and a human `message`.
#[derive(Clone, Debug, Object)]
pub struct ErrorBody {
    /// Stable, machine-readable reason, e.g. `insufficient_stock`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// For `insufficient_stock`: the offer that ran short.
    #[oai(skip_serializing_if_is_none)]
    pub offer_id: Option<i64>,
    /// For `insufficient_stock`: how much is left, in the product's unit.
    #[oai(skip_serializing_if_is_none)]
    pub available: Option<String>,
}

impl ErrorBody {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> Json<Self> {
        Json(Self {
            code: code.to_owned(),
            message: message.into(),
            offer_id: None,
            available: None,
        })
    }
}

/// The error responses an operation can give.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request could not be read (malformed JSON, wrong type, unknown field).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Authenticated, but not allowed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such thing (or not yours).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Clashes with the current state: stock, cycle closed, taken email...
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Well-formed but breaks a rule (quantity, price, dates...).
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many attempts from this address or for this account (`too_many_attempts`): wait
    /// `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Our fault; logged on the server.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The server cannot do this now: too much of this work in hand (`busy`), shutting
    /// down or the database too slow (`unavailable`). Nothing was done: try again after
    /// `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

impl ApiError {
    /// A 400 with this code and message.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::BadRequest(ErrorBody::new(code, message))
    }

    /// A 422 with this code and message.
    pub fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::Unprocessable(ErrorBody::new(code, message))
    }

    /// A 429 `too_many_attempts`, to try again after `retry_after_secs`.
    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        Self::TooManyRequests(
            ErrorBody::new(
                "too_many_attempts",
                format!("too many attempts; try again in {retry_after_secs} s"),
            ),
            retry_after_secs,
        )
    }

    /// A 403 with this message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(ErrorBody::new("forbidden", message))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, .. } => {
                Self::NotFound(ErrorBody::new("not_found", format!("{entity} not found")))
            }
            StoreError::Forbidden(m) => Self::Forbidden(ErrorBody::new("forbidden", m)),
            StoreError::Unauthenticated(m) => {
                Self::Unauthorized(ErrorBody::new("unauthenticated", m))
            }
            StoreError::Invalid { code, message } => {
                Self::Unprocessable(ErrorBody::new(code, message))
            }
            StoreError::Conflict { code, message } => Self::Conflict(ErrorBody::new(code, message)),
            StoreError::InsufficientStock {
                offer_id,
                ref product,
                available,
                ..
            } => {
                let message = if available.is_zero() {
                    format!("{product} is sold out")
                } else {
                    format!("only {available} of {product} left")
                };
                Self::Conflict(Json(ErrorBody {
                    code: "insufficient_stock".into(),
                    message,
                    offer_id: Some(offer_id),
                    available: Some(available.to_string()),
                }))
            }
            StoreError::Busy {
                retry_after_secs, ..
            } => Self::Unavailable(ErrorBody::new("busy", e.to_string()), retry_after_secs),
            StoreError::Unavailable {
                message,
                retry_after_secs,
            } => Self::Unavailable(
                ErrorBody::new("unavailable", message),
                u64::from(retry_after_secs),
            ),
            StoreError::Db(err) => {
                tracing::error!(error = %err, cause = ?err, "database error");
                Self::Internal(ErrorBody::new(
                    "internal",
                    "something went wrong on our side; please try again",
                ))
            }
        }
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        411 => "length_required",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "too_many_attempts",
        503 => "unavailable",
        s if s < 500 => "bad_request",
        _ => "internal",
    }
}

/// Turns any error that escaped the operations (poem's parse errors, unknown routes, missing
/// auth headers, panics caught by poem) into the API's JSON error shape.
pub(crate) async fn json_errors(err: poem::Error) -> Response {
    if err.is_from_response() {
        // Already one of our JSON error responses.
        return err.into_response();
    }
    let status = err.status();
    let message = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        "something went wrong on our side; please try again".to_owned()
    } else if status == StatusCode::NOT_FOUND {
        "no such page or resource".to_owned()
    } else {
        err.to_string()
    };
    let body = serde_json::json!({ "code": code_for(status), "message": message });
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}
