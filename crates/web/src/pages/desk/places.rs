//! `/desk/points`: a market's pickup points (with their host and access notes) and the weekly
//! slot rules that give each cycle its slots.

use std::sync::Arc;

use chrono::Weekday;
use poem::{Response, handler, http::StatusCode, web::Data};
use serde_json::{Value, json};
use store::{Actor, HOST_KINDS, NewPickupPoint, Role, StoreError};

use super::{my_market, say};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other, visitor::Form};

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn weekday_id(d: Weekday) -> String {
    format!("desk-weekday-{}", d.num_days_from_monday())
}

/// Which form a page shows again with its errors.
enum Again<'a> {
    Nothing,
    Point(&'a Form, Value),
    Rule(&'a Form, Value),
}

/// `/desk/points`: pickup points and slot rules, with a form for each.
#[handler]
pub(crate) async fn list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        page(&site, &v, actor, StatusCode::OK, Again::Nothing).await
    }
    .await;
    answer(&site, &v, r)
}

async fn page(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    status: StatusCode,
    again: Again<'_>,
) -> Result<Response, PageError> {
    let (market, _) = my_market(site, actor).await?;
    let lang = v.lang;
    let points = site.store.list_pickup_points(market.id).await?;
    let rules = site.store.list_slot_rules(market.id).await?;
    let (point_form, point_errors, rule_form, rule_errors) = match again {
        Again::Nothing => (
            json!({ "host_kind": "town_hall", "latitude": market.latitude.to_string(),
                    "longitude": market.longitude.to_string(), "city": market.city }),
            json!({}),
            json!({ "starts": "17:30", "ends": "19:30", "weekday": "3" }),
            json!({}),
        ),
        Again::Point(f, e) => (f.echo(), e, json!({}), json!({})),
        Again::Rule(f, e) => (json!({}), json!({}), f.echo(), e),
    };
    let selected_kind = point_form["host_kind"].as_str().unwrap_or("").to_owned();
    let kinds: Vec<Value> = HOST_KINDS
        .iter()
        .map(|k| {
            json!({ "value": k, "label": site.t(lang, &format!("desk-host-{}", k.replace('_', "-"))),
                    "selected": *k == selected_kind })
        })
        .collect();
    let selected_point = rule_form["point"].as_str().unwrap_or("").to_owned();
    let selected_day = rule_form["weekday"].as_str().unwrap_or("").to_owned();
    let point_views: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "address": format!("{}, {} {}", p.address, p.postal_code, p.city),
                "host": p.host_name,
                "host_kind": site.t(lang, &format!("desk-host-{}", p.host_kind.replace('_', "-"))),
                "access_notes": p.access_notes,
                "selected": p.id.to_string() == selected_point,
            })
        })
        .collect();
    let weekdays: Vec<Value> = WEEKDAYS
        .iter()
        .map(|d| {
            let n = d.num_days_from_monday().to_string();
            json!({ "value": n, "label": site.t(lang, &weekday_id(*d)), "selected": n == selected_day })
        })
        .collect();
    let rule_views: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "point": r.pickup_point_name,
                "weekday": site.t(lang, &weekday_id(r.weekday)),
                "starts": r.starts,
                "ends": r.ends,
            })
        })
        .collect();
    Ok(site.render(
        v,
        status,
        "desk/points",
        "desk-points-title",
        json!({
            "market": market.name,
            "timezone": market.timezone,
            "points": point_views,
            "rules": rule_views,
            "kinds": kinds,
            "weekdays": weekdays,
            "point_form": point_form,
            "point_errors": point_errors,
            "rule_form": rule_form,
            "rule_errors": rule_errors,
        }),
    ))
}

fn coordinate(form: &Form, name: &str, bound: f64) -> Option<f64> {
    form.get(name)
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.abs() <= bound)
}

/// Adds a pickup point.
#[handler]
pub(crate) async fn create_point(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, _) = my_market(&site, actor).await?;
        let mut errors = serde_json::Map::new();
        for field in ["name", "address", "postal_code", "city", "host_name"] {
            if form.get(field).is_empty() {
                errors.insert(field.into(), json!(site.t(v.lang, "desk-error-required")));
            }
        }
        let lat = coordinate(&form, "latitude", 90.0);
        let lon = coordinate(&form, "longitude", 180.0);
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
            return page(
                &site,
                &v,
                actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                Again::Point(&form, Value::Object(errors)),
            )
            .await;
        };
        let created = site
            .store
            .create_pickup_point(
                actor,
                market.id,
                NewPickupPoint {
                    name: form.get("name").to_owned(),
                    address: form.get("address").to_owned(),
                    postal_code: form.get("postal_code").to_owned(),
                    city: form.get("city").to_owned(),
                    latitude,
                    longitude,
                    host_kind: form.get("host_kind").to_owned(),
                    host_name: form.get("host_name").to_owned(),
                    access_notes: form.get("access_notes").to_owned(),
                },
            )
            .await;
        match created {
            Ok(_) => Ok(see_other(&v, "/desk/points?done=desk-point-created")),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &e {
                    StoreError::Invalid { code, .. } if *code == "invalid_host_kind" => "host_kind",
                    _ => "form",
                };
                page(
                    &site,
                    &v,
                    actor,
                    crate::pages::site::store_status(&e),
                    Again::Point(&form, json!({ field: say(&site, v.lang, &e) })),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

/// Adds a weekly slot rule to one of the market's pickup points.
#[handler]
pub(crate) async fn create_rule(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, _) = my_market(&site, actor).await?;
        let points = site.store.list_pickup_points(market.id).await?;
        let point = form
            .get("point")
            .parse::<i64>()
            .ok()
            .filter(|p| points.iter().any(|x| x.id == *p));
        let weekday = form
            .get("weekday")
            .parse::<u8>()
            .ok()
            .and_then(|n| Weekday::try_from(n).ok());
        let again = |field: &str, message: String, status| {
            page(
                &site,
                &v,
                actor,
                status,
                Again::Rule(&form, json!({ field: message })),
            )
        };
        let Some(point) = point else {
            return again(
                "point",
                site.t(v.lang, "desk-error-choose-one"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        let Some(weekday) = weekday else {
            return again(
                "weekday",
                site.t(v.lang, "desk-error-choose-one"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        match site
            .store
            .create_slot_rule(actor, point, weekday, form.get("starts"), form.get("ends"))
            .await
        {
            Ok(_) => Ok(see_other(&v, "/desk/points?done=desk-rule-created")),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &e {
                    StoreError::Invalid { code, message } if *code == "invalid_time" => {
                        if message.contains(&format!("{:?}", form.get("starts"))) {
                            "starts"
                        } else {
                            "ends"
                        }
                    }
                    StoreError::Invalid { code, .. } if *code == "invalid_slot" => "ends",
                    _ => "form",
                };
                again(
                    field,
                    say(&site, v.lang, &e),
                    crate::pages::site::store_status(&e),
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}
