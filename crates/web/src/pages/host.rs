//! Hosts (a town hall, a shop, a company lending a room): the slots planned at their venue
//! with the baskets expected, and a form to flag a date the venue is unavailable, with a
//! reason. The slot of that date is then cancelled, or moved to another date at the same hours
//! (`Store::flag_venue_unavailable`), and its consumers see it on their basket.
//!
//! A host sees its own venue at `/host`; the market's coordinators and volunteers (and admins)
//! see any of the market's venues at `/host?point=<id>`. Another venue answers 404.

use std::sync::Arc;

use chrono::NaiveDate;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use print::format;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{Actor, Role, StoreError, Venue, VenueFlag};

use super::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other};

const WHO: &[Role] = &[Role::Host, Role::Coordinator, Role::Volunteer];

#[derive(Deserialize)]
pub(crate) struct Which {
    point: Option<i64>,
}

/// The venue the page is about: the host's own, or the one asked for by staff.
async fn venue_of(site: &Site, actor: &Actor, point: Option<i64>) -> Result<Venue, PageError> {
    Ok(match (actor.role, point) {
        (Role::Host, _) => site.store.host_venue(actor).await?,
        (_, Some(p)) => site.store.venue(actor, p).await?,
        (_, None) => return Err(PageError::NotFound),
    })
}

/// The venue's page, with the flag form as sent and its errors.
fn page(
    site: &Site,
    v: &Visitor,
    venue: &Venue,
    form: Value,
    errors: Value,
    status: StatusCode,
) -> Response {
    let lang = v.lang;
    let tz = venue.timezone;
    let slots: Vec<Value> = venue
        .slots
        .iter()
        .map(|s| {
            json!({
                "id": s.slot.id,
                "when": format::range(s.slot.starts_at, s.slot.ends_at, tz, lang),
                "cycle": s.cycle_name,
                "baskets": s.baskets,
                "cancelled": s.slot.cancelled,
                "moved_from": s.slot.moved_from.map(|t| format::date_time(t, tz, lang)),
                "note": s.slot.note,
            })
        })
        .collect();
    let closures: Vec<Value> = venue
        .closures
        .iter()
        .map(|c| {
            json!({
                "day": format::long_date(c.day, lang),
                "reason": c.reason,
                "moved_to": c.moved_to.map(|d| format::long_date(d, lang)),
                "by": c.flagged_by_name,
            })
        })
        .collect();
    let p = &venue.point;
    site.render(
        v,
        status,
        "host/venue",
        &p.name,
        json!({
            "point_id": p.id,
            "address": format!("{}, {} {}", p.address, p.postal_code, p.city),
            "host_name": p.host_name,
            "market": venue.market_name,
            "slots": slots,
            "closures": closures,
            "form": form,
            "errors": errors,
            "today": chrono::Utc::now().with_timezone(&tz).date_naive().to_string(),
        }),
    )
}

/// `/host`: the venue's slots, baskets expected, flagged dates, and the flag form.
#[handler]
pub(crate) async fn venue_page(site: Data<&Arc<Site>>, v: Visitor, q: Query<Which>) -> Response {
    let r = async {
        let actor = v.with_role(WHO)?;
        let venue = venue_of(&site, actor, q.point).await?;
        Ok(page(
            &site,
            &v,
            &venue,
            json!({}),
            json!({}),
            StatusCode::OK,
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// A date as a date input sends it (`2026-12-24`), or as typed where the browser has no date
/// picker (`24/12/2026`).
fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

/// The field of the flag form a store refusal belongs to.
fn field_of(e: &StoreError) -> &'static str {
    match e {
        StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } => match *code {
            "invalid_day" | "already_flagged" => "day",
            "invalid_reason" | "invalid_text" => "reason",
            "invalid_move" => "move_to",
            _ => "form",
        },
        _ => "form",
    }
}

/// A refusal in the host's words: `host-error-<code>` when this area has it.
fn error_text(site: &Site, lang: Lang, e: &StoreError) -> String {
    if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = e {
        let id = format!("host-error-{}", code.replace('_', "-"));
        if site.words.has(lang, &id) {
            return site.t(lang, &id);
        }
    }
    site.store_error(lang, e)
}

/// Flags a date the venue is unavailable: its slot is cancelled or moved.
#[handler]
pub(crate) async fn flag(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(WHO)?;
        let point = match form.opt("point") {
            Some(p) => Some(
                p.parse::<i64>()
                    .map_err(|_| PageError::BadRequest("unknown venue".into()))?,
            ),
            None => None,
        };
        // The venue asked for, checked against the actor's rights (a host's own venue only).
        let venue = match (actor.role, point) {
            (Role::Host, Some(p)) => {
                let own = site.store.host_venue(actor).await?;
                if own.point.id != p {
                    return Err(PageError::NotFound);
                }
                own
            }
            _ => venue_of(&site, actor, point).await?,
        };
        let again = |field: &str, message: String, status: StatusCode| {
            page(
                &site,
                &v,
                &venue,
                form.echo(),
                json!({ field: message }),
                status,
            )
        };
        let Some(day) = parse_day(form.get("day")) else {
            return Ok(again(
                "day",
                site.t(v.lang, "host-error-day"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        };
        let move_to = match form.opt("move_to") {
            None => None,
            Some(s) => match parse_day(s) {
                Some(d) => Some(d),
                None => {
                    return Ok(again(
                        "move_to",
                        site.t(v.lang, "host-error-day"),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ));
                }
            },
        };
        let flag = VenueFlag {
            day,
            reason: form.get("reason").to_owned(),
            move_to,
        };
        match site
            .store
            .flag_venue_unavailable(actor, venue.point.id, flag)
            .await
        {
            Ok(_) => {
                let back = if actor.role == Role::Host {
                    "/host?done=host-flagged".to_owned()
                } else {
                    format!("/host?point={}&done=host-flagged", venue.point.id)
                };
                Ok(see_other(&v, &back))
            }
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => Ok(again(
                field_of(&e),
                error_text(&site, v.lang, &e),
                super::site::store_status(&e),
            )),
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_come_from_a_date_input_or_as_typed() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 24);
        assert_eq!(parse_day("2026-12-24"), d);
        assert_eq!(parse_day("24/12/2026"), d);
        assert_eq!(parse_day("Noël"), None);
    }
}
