//! "A new producer near you" alerts, without an account: the sign-up form
//! (`/directory/alerts`), the confirmation link's page (double opt-in: one button), the
//! unsubscribe link's page (one button), and what admins read while the mail outbox is not
//! there yet (`/admin/alerts`: the notices recorded).
//!
//! A link's page never changes anything by being opened (a mail scanner follows links): the
//! button posts. The unsubscribe POST is also the one-click of every alert mail's
//! `List-Unsubscribe` header, so it asks for no session nor CSRF token.

use std::sync::Arc;

use distribution::directory::{MAX_RADIUS_KM, MIN_RADIUS_KM};
use domain::Category;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use print::format;
use serde_json::{Value, json};
use store::{AlertRequest, AlertSubscriptionView, StoreError};

use super::{DEFAULT_RADIUS, RADII, categories_json, km, names};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other};

fn form_page(
    site: &Site,
    v: &Visitor,
    form: Value,
    chosen: &[Category],
    errors: Value,
    status: StatusCode,
) -> Response {
    let radius = form
        .get("radius")
        .and_then(Value::as_str)
        .and_then(|r| r.parse::<u32>().ok())
        .unwrap_or(DEFAULT_RADIUS);
    site.render(
        v,
        status,
        "directory/alerts",
        "alerts-title",
        json!({
            "form": form,
            "radii": RADII.iter().map(|r| json!({"km": r, "chosen": *r == radius})).collect::<Vec<_>>(),
            "categories": categories_json(site, v.lang, chosen),
            "errors": errors,
        }),
    )
}

/// `/directory/alerts`: the sign-up form.
#[handler]
pub(crate) async fn sign_up_form(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    form_page(&site, &v, json!({}), &[], json!({}), StatusCode::OK)
}

/// Records a sign-up; the confirmation link goes to the address given.
#[handler]
pub(crate) async fn sign_up(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let chosen: Vec<Category> = form
            .pairs()
            .filter(|(k, _)| *k == "categories")
            .filter_map(|(_, s)| Category::parse(s).ok())
            .collect();
        let radius = form.get("radius").parse::<u32>().ok();
        let again = |field: &str, id: &str| {
            form_page(
                &site,
                &v,
                form.echo(),
                &chosen,
                json!({ field: site.t(v.lang, id) }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        };
        let Some(radius) = radius.filter(|r| (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(r)) else {
            return Ok(again("radius", "directory-error-radius"));
        };
        let request = AlertRequest {
            email: form.get("email").to_owned(),
            postcode: form.get("postcode").to_owned(),
            radius_km: radius,
            categories: chosen.clone(),
            weekly_digest: form.opt("weekly_digest").is_some(),
            language: v.lang.code().to_owned(),
        };
        match site.store.subscribe_alerts(request).await {
            Ok(_) => Ok(see_other(&v, "/directory/alerts?done=alerts-signed-up")),
            Err(StoreError::Invalid { code, .. }) => Ok(match code {
                "invalid_email" => again("email", "alerts-error-email"),
                "invalid_postcode" => again("postcode", "alerts-error-postcode"),
                "unknown_place" => again("postcode", "alerts-error-unknown-postcode"),
                "invalid_radius" => again("radius", "directory-error-radius"),
                _ => again("form", "error-bad-request"),
            }),
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

fn subscription_json(site: &Site, v: &Visitor, s: &AlertSubscriptionView) -> Value {
    json!({
        "email": s.email,
        "postcode": s.postcode,
        "radius": s.radius_km,
        "categories": if s.categories.is_empty() { site.t(v.lang, "alerts-all-categories") } else { names(site, v.lang, &s.categories) },
        "weekly_digest": s.weekly_digest,
        "confirmed": s.confirmed,
        "unsubscribed": s.unsubscribed,
    })
}

fn link_page(
    site: &Site,
    v: &Visitor,
    template: &str,
    title: &str,
    token: &str,
    s: &AlertSubscriptionView,
) -> Response {
    site.render(
        v,
        StatusCode::OK,
        template,
        title,
        json!({ "token": token, "subscription": subscription_json(site, v, s) }),
    )
}

fn token_ok(token: &str) -> Result<(), PageError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// `/directory/alerts/confirm/{token}`: what is about to be confirmed, and the button.
#[handler]
pub(crate) async fn confirm_page(
    site: Data<&Arc<Site>>,
    v: Visitor,
    token: Path<String>,
) -> Response {
    let r = async {
        token_ok(&token)?;
        let s = site.store.alert_by_confirm_token(&token).await?;
        Ok(link_page(
            &site,
            &v,
            "directory/alert-confirm",
            "alerts-confirm-title",
            &token,
            &s,
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// Confirms (double opt-in).
#[handler]
pub(crate) async fn confirm(
    site: Data<&Arc<Site>>,
    sub: Submission,
    token: Path<String>,
) -> Response {
    let Submission { visitor: v, .. } = sub;
    let r = async {
        token_ok(&token)?;
        site.store.confirm_alerts(&token).await?;
        Ok(see_other(
            &v,
            &format!(
                "/directory/alerts/confirm/{}?done=alerts-confirmed",
                token.0
            ),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `/directory/alerts/unsubscribe/{token}`: one button.
#[handler]
pub(crate) async fn unsubscribe_page(
    site: Data<&Arc<Site>>,
    v: Visitor,
    token: Path<String>,
) -> Response {
    let r = async {
        token_ok(&token)?;
        let s = site.store.alert_by_unsubscribe_token(&token).await?;
        Ok(link_page(
            &site,
            &v,
            "directory/alert-unsubscribe",
            "alerts-unsubscribe-title",
            &token,
            &s,
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// Unsubscribes: the page's button, or a mail client's RFC 8058 one-click POST
/// (`List-Unsubscribe=One-Click`, no cookie, no form token). The token in the path is the
/// secret, and all it can do is unsubscribe: no CSRF token is asked for.
#[handler]
pub(crate) async fn unsubscribe(
    site: Data<&Arc<Site>>,
    v: Visitor,
    token: Path<String>,
) -> Response {
    let r = async {
        token_ok(&token)?;
        site.store.unsubscribe_alerts(&token).await?;
        Ok(see_other(
            &v,
            &format!(
                "/directory/alerts/unsubscribe/{}?done=alerts-unsubscribed",
                token.0
            ),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `/admin/alerts`: the notices owed to subscribers (confirmations and matches), newest first.
#[handler]
pub(crate) async fn admin_notices(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[])?;
        let notices = site.store.alert_notices(actor, 200).await?;
        let tz = chrono_tz::Europe::Paris;
        let rows: Vec<Value> = notices
            .iter()
            .map(|n| {
                json!({
                    "id": n.id,
                    "match": n.kind == "match",
                    "email": n.email,
                    "weekly": n.weekly_digest,
                    "producer_id": n.producer.as_ref().map(|p| p.0),
                    "producer": n.producer.as_ref().map(|p| p.1.clone()),
                    "distance": n.distance_km.map(|d| km(d, v.lang)),
                    "when": format::date_time(n.created_at, tz, v.lang),
                    "sent": n.sent_at.is_some(),
                })
            })
            .collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "directory/admin-alerts",
            "alerts-admin-title",
            json!({ "notices": rows }),
        ))
    }
    .await;
    answer(&site, &v, r)
}
