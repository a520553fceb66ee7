//! Mail pages: `/desk/mail`, what the coordinator's market sent to whom and what failed (and
//! why); `/unsubscribe/{token}`, the link every announcement carries: a GET shows a button
//! (a GET never changes anything: mail scanners follow links), the POST unsubscribes. The POST
//! is also RFC 8058's one-click target (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`),
//! sent by mail clients without cookie or form token: the token in the path is the secret,
//! and all it can do is stop announcements.

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{Role, StoreError};

use super::desk::my_market;
use crate::pages::{PageError, Site, Visitor, answer};

/// `?state=` of `/desk/mail`.
#[derive(Deserialize)]
pub(crate) struct StateFilter {
    state: Option<String>,
}

/// `/desk/mail`.
#[handler]
pub(crate) async fn desk(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Query(filter): Query<StateFilter>,
) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, tz) = my_market(&site, actor).await?;
        let state = filter
            .state
            .as_deref()
            .filter(|s| matches!(*s, "pending" | "sent" | "failed"));
        let mails = site.store.market_mail(actor, market.id, state).await?;
        let rows: Vec<Value> = mails
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "to": m.recipient,
                    "name": m.recipient_name,
                    "kind": site.t(v.lang, &format!("mail-kind-{}", m.kind.replace('_', "-"))),
                    "state": site.t(v.lang, &format!("mail-state-{}", m.state)),
                    "failed": m.state == "failed",
                    "subject": m.subject,
                    "error": m.last_error,
                    "attempts": m.attempts,
                    "when": print::format::date_time(m.sent_at.unwrap_or(m.created_at), tz, v.lang),
                })
            })
            .collect();
        let count = |s: &str| mails.iter().filter(|m| m.state == s).count();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "mail/desk",
            "mail-desk-title",
            json!({
                "market": market.name,
                "mails": rows,
                "sent": count("sent"),
                "pending": count("pending"),
                "failed": count("failed"),
                "filter": state,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `GET /unsubscribe/{token}`: the page with the button.
#[handler]
pub(crate) async fn unsubscribe_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(token): Path<String>,
) -> Response {
    let page = json!({ "token": token, "done": false });
    site.render(
        &v,
        StatusCode::OK,
        "mail/unsubscribe",
        "mail-unsubscribe-title",
        page,
    )
}

/// `POST /unsubscribe/{token}`: the button, or a mail client's one-click.
#[handler]
pub(crate) async fn unsubscribe(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(token): Path<String>,
) -> Response {
    let r = async {
        let known = token.len() <= 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
        if !known {
            return Err(PageError::NotFound);
        }
        let market_id = match site.store.unsubscribe(&token).await {
            Ok(m) => m,
            Err(StoreError::NotFound { .. }) => return Err(PageError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let market = site.store.market(market_id).await?;
        Ok(site.render(
            &v,
            StatusCode::OK,
            "mail/unsubscribe",
            "mail-unsubscribe-title",
            json!({ "token": token, "done": true, "market": market.name }),
        ))
    }
    .await;
    answer(&site, &v, r)
}
