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

/// `?market=` of `/account/mail`: a market to show besides the member's own.
#[derive(Deserialize)]
pub(crate) struct MarketQuery {
    market: Option<i64>,
}

/// The four wishes of one market as the form shows them.
fn wishes_json(m: &store::MarketView, w: &store::mail::subscriptions::SubscriptionView) -> Value {
    json!({
        "id": m.id,
        "name": m.name,
        "city": m.city,
        "cycle_open": w.cycle_open,
        "closing_reminder": w.closing_reminder,
        "pickup_day_before": w.pickup_day_before,
        "pickup_hours_before": w.pickup_hours_before,
    })
}

/// `GET /account/mail`: which mails the member wants, per market (those it set wishes for,
/// ordered from or belongs to, and `?market=`).
#[handler]
pub(crate) async fn wishes_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Query(q): Query<MarketQuery>,
) -> Response {
    let r = async {
        let actor = v.actor()?;
        let also = match q.market {
            Some(id) => match site.store.market(id).await {
                Ok(_) => Some(id),
                Err(StoreError::NotFound { .. }) => return Err(PageError::NotFound),
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let mut markets = Vec::new();
        for m in site.store.mail_markets(actor, also).await? {
            let w = site.store.mail_wishes(actor, m.id).await?;
            markets.push(wishes_json(&m, &w));
        }
        Ok(site.render(
            &v,
            StatusCode::OK,
            "mail/wishes",
            "mail-wishes-title",
            json!({ "markets": markets }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `POST /account/mail`: the form's wishes, for each market it lists (`market` fields; a box
/// left unticked is a no).
#[handler]
pub(crate) async fn wishes(site: Data<&Arc<Site>>, sub: crate::pages::Submission) -> Response {
    let crate::pages::Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.actor()?;
        let ids: Vec<i64> = form
            .pairs()
            .filter(|(k, _)| *k == "market")
            .map(|(_, id)| id.trim().parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| PageError::BadRequest("market is a number".into()))?;
        if ids.is_empty() || ids.len() > 100 {
            return Err(PageError::BadRequest("one to 100 markets".into()));
        }
        let ticked = |id: i64, what: &str| {
            let name = format!("{what}_{id}");
            form.pairs().any(|(k, _)| k == name)
        };
        for id in ids {
            let wishes = store::mail::subscriptions::MailWishes {
                cycle_open: ticked(id, "cycle_open"),
                closing_reminder: ticked(id, "closing_reminder"),
                pickup_day_before: ticked(id, "pickup_day_before"),
                pickup_hours_before: ticked(id, "pickup_hours_before"),
            };
            match site.store.set_mail_wishes(actor, id, wishes).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => return Err(PageError::NotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(crate::pages::see_other(
            &v,
            "/account/mail?done=mail-wishes",
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `POST /desk/mail/settings`: when the coordinator's market sends its reminders.
#[handler]
pub(crate) async fn settings(site: Data<&Arc<Site>>, sub: crate::pages::Submission) -> Response {
    let crate::pages::Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, _) = my_market(&site, actor).await?;
        let hours = |name: &str| form.get(name).parse::<i32>().unwrap_or(0);
        let wanted = store::mail::schedule::MailSettingsView {
            closing_reminder_hours: hours("closing_reminder_hours"),
            pickup_reminder_hours: hours("pickup_reminder_hours"),
        };
        match site.store.set_mail_settings(actor, market.id, wanted).await {
            Ok(_) => Ok(crate::pages::see_other(&v, "/desk/mail?done=mail-settings")),
            Err(e @ StoreError::Invalid { .. }) => {
                let message = site.store_error(v.lang, &e);
                Ok(site.render(
                    &v,
                    crate::pages::site::store_status(&e),
                    "mail/settings",
                    "mail-settings-title",
                    json!({ "form": form.echo(), "error": message }),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `GET /desk/mail/settings`: the form.
#[handler]
pub(crate) async fn settings_form(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, _) = my_market(&site, actor).await?;
        let s = site.store.mail_settings(market.id).await?;
        Ok(site.render(
            &v,
            StatusCode::OK,
            "mail/settings",
            "mail-settings-title",
            json!({
                "form": {
                    "closing_reminder_hours": s.closing_reminder_hours.to_string(),
                    "pickup_reminder_hours": s.pickup_reminder_hours.to_string(),
                },
                "error": null,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}
