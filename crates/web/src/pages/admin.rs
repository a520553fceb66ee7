//! `/admin`: the administrators' pages: every market, a form to create one, and each market's
//! coordinators with the invitation that brings in a new one.

use std::sync::Arc;

use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::{Value, json};
use store::{NewInvitation, NewMarket, Role, StoreError};

use super::{
    PageError, Site, Submission, Visitor, answer,
    desk::{
        say,
        staff::{invitation_json, invited_page},
        timezone,
    },
    see_other,
    visitor::Form,
};

/// `/admin`: the markets.
#[handler]
pub(crate) async fn home(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        v.with_role(&[])?;
        let form = json!({ "timezone": "Europe/Paris", "latitude": "46.6", "longitude": "-0.3" });
        markets_page(&site, &v, StatusCode::OK, form, json!({})).await
    }
    .await;
    answer(&site, &v, r)
}

async fn markets_page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    form: Value,
    errors: Value,
) -> Result<Response, PageError> {
    let markets = site.store.list_markets().await?;
    let markets: Vec<Value> = markets
        .iter()
        .map(|m| json!({ "id": m.id, "name": m.name, "city": m.city, "slug": m.slug, "timezone": m.timezone }))
        .collect();
    Ok(site.render(
        v,
        status,
        "admin/home",
        "admin-title",
        json!({ "markets": markets, "form": form, "errors": errors }),
    ))
}

fn number(form: &Form, name: &str, bound: f64) -> Option<f64> {
    form.get(name)
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.abs() <= bound)
}

/// Creates a market.
#[handler]
pub(crate) async fn create_market(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[])?;
        let mut errors = serde_json::Map::new();
        for field in ["name", "slug", "city", "timezone"] {
            if form.get(field).is_empty() {
                errors.insert(field.into(), json!(site.t(v.lang, "desk-error-required")));
            }
        }
        let slug = form.get("slug");
        if !slug.is_empty()
            && !slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            errors.insert("slug".into(), json!(site.t(v.lang, "admin-error-slug")));
        }
        let lat = number(&form, "latitude", 90.0);
        let lon = number(&form, "longitude", 180.0);
        if lat.is_none() {
            errors.insert(
                "latitude".into(),
                json!(site.t(v.lang, "desk-error-number")),
            );
        }
        if lon.is_none() {
            errors.insert(
                "longitude".into(),
                json!(site.t(v.lang, "desk-error-number")),
            );
        }
        let (Some(latitude), Some(longitude), true) = (lat, lon, errors.is_empty()) else {
            return markets_page(
                &site,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.echo(),
                Value::Object(errors),
            )
            .await;
        };
        let created = site
            .store
            .create_market(
                actor,
                NewMarket {
                    name: form.get("name").to_owned(),
                    slug: slug.to_owned(),
                    timezone: form.get("timezone").to_owned(),
                    description: form.get("description").to_owned(),
                    city: form.get("city").to_owned(),
                    latitude,
                    longitude,
                },
            )
            .await;
        match created {
            Ok(m) => Ok(see_other(
                &v,
                &format!("/admin/markets/{}?done=desk-market-created", m.id),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &e {
                    StoreError::Conflict { code, .. } if *code == "slug_taken" => "slug",
                    StoreError::Invalid { code, .. } if *code == "invalid_timezone" => "timezone",
                    _ => "form",
                };
                markets_page(
                    &site,
                    &v,
                    crate::pages::site::store_status(&e),
                    form.echo(),
                    json!({ field: say(&site, v.lang, &e) }),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `/admin/markets/{id}`: a market's coordinators and their invitations.
#[handler]
pub(crate) async fn market(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        v.with_role(&[])?;
        market_page(&site, &v, id.0, StatusCode::OK, json!({}), json!({})).await
    }
    .await;
    answer(&site, &v, r)
}

async fn market_page(
    site: &Site,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    form: Value,
    errors: Value,
) -> Result<Response, PageError> {
    let actor = v.actor()?;
    let m = site.store.market(id).await?;
    let tz = timezone(&m);
    let coordinators: Vec<Value> = site
        .store
        .market_staff(actor, id)
        .await?
        .iter()
        .filter(|s| s.role == Role::Coordinator)
        .map(|s| json!({ "name": s.name, "email": s.email, "phone": s.phone }))
        .collect();
    let invitations: Vec<Value> = site
        .store
        .list_invitations(actor, id)
        .await?
        .iter()
        .filter(|i| i.role == Role::Coordinator)
        .map(|i| invitation_json(site, v, i, tz))
        .collect();
    let cycles: Vec<Value> = site
        .store
        .list_cycles(store::Viewer::Actor(actor), id)
        .await?
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "state": site.t(v.lang, super::desk::state_words(c.state).0),
                "closes": print::format::date_time(c.closes_at, tz, v.lang),
            })
        })
        .collect();
    Ok(site.render(
        v,
        status,
        "admin/market",
        &m.name,
        json!({
            "id": m.id,
            "name": m.name,
            "city": m.city,
            "timezone": m.timezone,
            "coordinators": coordinators,
            "invitations": invitations,
            "cycles": cycles,
            "form": form,
            "errors": errors,
        }),
    ))
}

/// Invites a coordinator of the market.
#[handler]
pub(crate) async fn invite(
    site: Data<&Arc<Site>>,
    req: &Request,
    id: Path<i64>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[])?;
        let again = |status, field: &str, message: String| {
            market_page(
                &site,
                &v,
                id.0,
                status,
                form.echo(),
                json!({ field: message }),
            )
        };
        if form.get("name").is_empty() {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
                site.t(v.lang, "desk-error-required"),
            )
            .await;
        }
        let new = NewInvitation {
            role: Role::Coordinator,
            name: form.get("name").to_owned(),
            email: form.opt("email").map(str::to_owned),
            producer_id: None,
            pickup_point_id: None,
        };
        match site.store.create_invitation(actor, id.0, new).await {
            Ok(grant) => Ok(invited_page(
                &site,
                &v,
                req,
                &grant,
                &format!("/admin/markets/{}", id.0),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &e {
                    StoreError::Invalid { code, .. } if *code == "invalid_email" => "email",
                    StoreError::Invalid { code, .. } if *code == "invalid_name" => "name",
                    _ => "form",
                };
                again(
                    crate::pages::site::store_status(&e),
                    field,
                    say(&site, v.lang, &e),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// `POST /admin/markets/{id}/desk`: the admin works at that market's desk (`/desk` and its
/// pages), until it chooses another.
#[handler]
pub(crate) async fn open_desk(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let v = sub.visitor;
    let r = async {
        v.with_role(&[])?;
        let m = site.store.market(id.0).await?;
        let mut r = see_other(&v, "/desk");
        super::visitor::append_cookie(
            &mut r,
            &v.cookie(super::visitor::DESK_MARKET_COOKIE, &m.id.to_string(), None),
        );
        Ok(r)
    }
    .await;
    answer(&site, &v, r)
}
