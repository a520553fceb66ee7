//! `POST /stripe/webhooks/{market}`: Stripe's events for one market, as raw signed bodies.
//! The store checks the signature with the market's secret and refuses a replay; this only
//! turns its answer into HTTP: 200 taken (code `ok`), 200 for an event already handled
//! delivered again (code `already_handled`: nothing changed, and Stripe, which retries
//! whatever is not 2xx, stops sending it), 400 refused (forged, stale, another market's, not a
//! Stripe event: nothing changed), 503 taken but not handled now (Stripe retries later).

use poem::{
    Response, handler,
    http::{HeaderMap, StatusCode},
    web::{Data, Path},
};
use store::{Store, WebhookOutcome, WebhookRefusal};

fn json(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(serde_json::json!({ "code": code, "message": message }).to_string())
}

#[handler]
pub(crate) async fn stripe_webhook(
    Path(market_id): Path<i64>,
    headers: &HeaderMap,
    body: String,
    Data(store): Data<&Store>,
) -> Response {
    let Some(signature) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return json(
            StatusCode::BAD_REQUEST,
            "bad_signature",
            "no Stripe-Signature header",
        );
    };
    match store.stripe_webhook(market_id, &body, signature).await {
        Ok(WebhookOutcome::Handled) => json(StatusCode::OK, "ok", "event handled"),
        Ok(WebhookOutcome::AlreadyHandled) => json(
            StatusCode::OK,
            "already_handled",
            "this event was already handled: nothing changed",
        ),
        Err(WebhookRefusal::Refused(code, message)) => {
            json(StatusCode::BAD_REQUEST, code, &message)
        }
        Err(WebhookRefusal::Failed(e)) => {
            tracing::warn!(market_id, error = %e, "a Stripe event could not be handled now");
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the event could not be handled now; send it again later",
            )
        }
    }
}
