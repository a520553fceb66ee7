//! "Mot de passe oublié ?": ask for a link by email, then set a new password through it.
//!
//! `/password-reset` asks for the address and answers the same whatever it is (no account
//! enumeration): "if an account uses this address, a mail is on its way". The mail's link,
//! `/password-reset/{token}`, opens the new-password form; a used, expired or unknown link
//! gets a page saying so (410, or 404). Every POST carries the visitor's CSRF token; asking is
//! throttled per client address like logins, and per account by the store (one mail every few
//! minutes).

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;
use serde_json::json;
use store::StoreError;

use super::{PageError, Site, Submission, Visitor, see_other};

#[derive(Deserialize)]
pub(crate) struct Sent {
    sent: Option<String>,
}

/// `/password-reset`: the form asking for the address, or (`?sent=1`) the answer.
#[handler]
pub(crate) fn request_form(site: Data<&Arc<Site>>, v: Visitor, q: Query<Sent>) -> Response {
    if q.sent.is_some() {
        return site.render(
            &v,
            StatusCode::OK,
            "account/reset-sent",
            "reset-title",
            json!({ "minutes": store::RESET_MINUTES }),
        );
    }
    site.render(
        &v,
        StatusCode::OK,
        "account/reset-request",
        "reset-title",
        json!({ "form": {}, "errors": {} }),
    )
}

/// Asks for a link: the same answer for any address.
#[handler]
pub(crate) async fn request(
    site: Data<&Arc<Site>>,
    req: &poem::Request,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    if site.throttle.address(site.throttle.client(req)).is_err() {
        return site.render(
            &v,
            StatusCode::TOO_MANY_REQUESTS,
            "account/reset-request",
            "reset-title",
            json!({ "form": form.echo(), "errors": { "form": site.t(v.lang, "error-too-many-attempts") } }),
        );
    }
    match site.store.request_password_reset(form.get("email")).await {
        Ok(()) => see_other(&v, "/password-reset?sent=1"),
        Err(e) => site.error_page(&v, &PageError::from(e)),
    }
}

/// The page of a link that no longer works: 410 for a used or expired one, 404 otherwise.
fn gone(site: &Site, v: &Visitor, e: StoreError) -> Response {
    let (status, message) = match &e {
        StoreError::Conflict { code, .. } if *code == "reset_used" => {
            (StatusCode::GONE, "reset-used")
        }
        StoreError::Conflict { code, .. } if *code == "reset_expired" => {
            (StatusCode::GONE, "reset-expired")
        }
        StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "reset-unknown"),
        _ => return site.error_page(v, &PageError::from(e)),
    };
    site.render(
        v,
        status,
        "account/reset-gone",
        "reset-gone-title",
        json!({ "message": site.t(v.lang, message) }),
    )
}

fn new_password_page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    token: &str,
    email: &str,
    error: Option<String>,
) -> Response {
    site.render(
        v,
        status,
        "account/reset",
        "reset-new-title",
        json!({
            "token": token,
            "email": email,
            "errors": { "password": error },
            "min_password": store::MIN_PASSWORD_CHARS,
        }),
    )
}

/// `/password-reset/{token}`: the new-password form of a link that works.
#[handler]
pub(crate) async fn new_password_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    token: Path<String>,
) -> Response {
    match site.store.password_reset(&token.0).await {
        Ok(r) => new_password_page(&site, &v, StatusCode::OK, &token.0, &r.email, None),
        Err(e) => gone(&site, &v, e),
    }
}

/// Sets the new password: every session of the account ends, and the visitor logs in with it.
#[handler]
pub(crate) async fn new_password(
    site: Data<&Arc<Site>>,
    token: Path<String>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let reset = match site.store.password_reset(&token.0).await {
        Ok(r) => r,
        Err(e) => return gone(&site, &v, e),
    };
    match site
        .store
        .complete_password_reset(&token.0, form.get("password").to_owned())
        .await
    {
        Ok(()) => see_other(&v, "/login?done=password-reset"),
        Err(e @ StoreError::Invalid { .. }) => new_password_page(
            &site,
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token.0,
            &reset.email,
            Some(site.store_error(v.lang, &e)),
        ),
        Err(e) => gone(&site, &v, e),
    }
}
