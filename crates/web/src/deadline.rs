//! Request deadlines: a request not answered within `WebOptions::request_timeout` is answered
//! 503 (`unavailable`, with `Retry-After`; a page in the visitor's words for pages) and dropped,
//! so that a stuck database (a table locked, a pool with no connection to give) does not hold
//! the client, nor pile up requests, for as long as it is stuck. Dropping a request rolls back
//! its transaction, if it had one.
//!
//! Uploads (`multipart/form-data`) have longer ([`UPLOAD_LIMIT`]): their body is read, and a
//! photo scaled down, within the request. So has planning a co-delivery round (`POST
//! …/rounds`, `POST …/rounds/{id}/replan`): the planner's search, on a blocking thread, takes
//! a second or two for a hundred stops and several vehicles in a release build, and ten times
//! as long in a debug build (`cargo run -p halle -- demo`).
//!
//! A basket in the order writer's hands is the exception (see `store::deadline`): the writer
//! itself turns it away, unwritten, at the same deadline if its batch has not begun, and a
//! batch in progress is waited for, so that a basket answered 503 is never written and a
//! written one is answered 201.

use std::time::{Duration, Instant};

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};
use store::deadline::Deadline;

use crate::{ApiError, error::ErrorBody};

/// What a client is told when its request ran out of time.
const MESSAGE: &str =
    "the server could not answer in time (the database is slow or busy): please try again";
/// Seconds to wait before trying again.
const RETRY_AFTER: u64 = 2;
/// The deadline of an upload (`multipart/form-data`: a product's photo, a catalogue file): its
/// body comes from a phone on a slow link and a photo is scaled down after, both within the
/// request. A stuck database still answers it 503 within the pool's acquire timeout.
const UPLOAD_LIMIT: Duration = Duration::from_secs(120);

/// Whether a request plans a round (see the module's documentation): it has
/// [`UPLOAD_LIMIT`] too.
fn plans_a_round(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == poem::http::Method::POST
        && (path.ends_with("/rounds") || (path.contains("/rounds/") && path.ends_with("/replan")))
}

/// Who is asking: the answer's shape.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    /// The JSON API: the API's error body.
    Json,
    /// The pages: an error that `pages::html_errors` renders as a page.
    Page,
}

/// Calls `ep` with `req`, for at most `limit` (see the module's documentation).
pub(crate) async fn within<E: Endpoint>(
    ep: &E,
    req: Request,
    limit: Duration,
    answer: Answer,
) -> poem::Result<Response> {
    let upload = req
        .content_type()
        .is_some_and(|t| t.trim_start().starts_with("multipart/form-data"));
    let limit = if upload || plans_a_round(&req) {
        limit.max(UPLOAD_LIMIT)
    } else {
        limit
    };
    let deadline = Deadline::new(Instant::now() + limit);
    let path = req.uri().path().to_owned();
    let call = deadline.clone().scope(ep.call(req));
    tokio::pin!(call);
    tokio::select! {
        r = &mut call => return r.map(IntoResponse::into_response),
        () = tokio::time::sleep_until(deadline.at().into()) => {}
    }
    // A basket with the order writer, or written: its own answer is on its way.
    while deadline.shielded() {
        tokio::select! {
            r = &mut call => return r.map(IntoResponse::into_response),
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
    }
    tracing::warn!(path = %path, limit_ms = limit.as_millis(), "request cut at its deadline");
    Err(timed_out(answer))
}

fn timed_out(answer: Answer) -> poem::Error {
    match answer {
        Answer::Json => poem::Error::from_response(
            ApiError::Unavailable(ErrorBody::new("unavailable", MESSAGE), RETRY_AFTER)
                .into_response(),
        ),
        Answer::Page => poem::Error::from_string(MESSAGE, StatusCode::SERVICE_UNAVAILABLE),
    }
}
