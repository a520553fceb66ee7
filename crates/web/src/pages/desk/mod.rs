//! The coordinator's desk: the market at a glance (`/desk`), its cycles with their documents
//! (`cycles.rs`), co-delivery rounds (`rounds.rs`), pickup points and slot rules (`places.rs`), staff and the
//! invitations that bring people in, with the public page that accepts one (`staff.rs`).
//!
//! Every desk page is about the coordinator's own market (`Actor::market_id`); a cycle, round
//! or invitation of another market answers 404, as the store does. Admins manage markets from
//! `/admin` (see `admin.rs`), may open any cycle's desk page, and work at the desk of the market
//! they choose there (the visitor then gives them that market).

pub(crate) mod audit;
pub(crate) mod cycles;
pub(crate) mod places;
pub(crate) mod rounds;
pub(crate) mod staff;
pub(crate) mod vehicles;

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::CycleState;
use poem::{Response, handler, http::StatusCode, web::Data};
use serde_json::{Value, json};
use store::{Actor, MarketView, Role, StoreError, Viewer};

use super::{PageError, Site, Visitor, answer, see_other};
use crate::pages::i18n::Lang;

/// The coordinator's market: its view and time zone. Admins have the market they chose in
/// `/admin`, if any: 404 here otherwise (they start at `/admin`).
pub(crate) async fn my_market(site: &Site, actor: &Actor) -> Result<(MarketView, Tz), PageError> {
    let id = actor
        .market_id
        .filter(|m| actor.coordinates(*m))
        .ok_or(PageError::NotFound)?;
    let m = site.store.market(id).await?;
    let tz = timezone(&m);
    Ok((m, tz))
}

/// A market's time zone (Paris if the stored one does not parse, as the store refuses those).
pub(crate) fn timezone(m: &MarketView) -> Tz {
    m.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// A coordinator (or admin) of the market: the actor; anyone else 404.
pub(crate) fn coordinator_of(actor: &Actor, market_id: i64) -> Result<(), PageError> {
    if actor.coordinates(market_id) {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// A store error in the desk's words: `desk-error-<code>` when the desk has it, the site's
/// translation otherwise.
pub(crate) fn say(site: &Site, lang: Lang, e: &StoreError) -> String {
    if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = e {
        let id = format!("desk-error-{}", code.replace('_', "-"));
        if site.words.has(lang, &id) {
            return site.t(lang, &id);
        }
    }
    site.store_error(lang, e)
}

/// A `datetime-local` value ("2026-12-03T18:00") in the market's time zone; `None` if it is
/// not one. A local time skipped by a daylight-saving change is refused; one that happens
/// twice is the first.
pub(crate) fn local_time(value: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The `datetime-local` value of an instant in the market's time zone.
pub(crate) fn local_value(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// A cycle's state as a message id suffix, and what a coordinator does next.
pub(crate) fn state_words(state: CycleState) -> (&'static str, &'static str) {
    match state {
        CycleState::Draft => ("desk-state-draft", "desk-next-draft"),
        CycleState::Open => ("desk-state-open", "desk-next-open"),
        CycleState::Closed => ("desk-state-closed", "desk-next-closed"),
        CycleState::Distributed => ("desk-state-distributed", "desk-next-distributed"),
    }
}

/// `/desk`: the market at a glance: its current cycles and what to do next, and how many
/// pickup points, slot rules and producers it has.
#[handler]
pub(crate) async fn home(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        if actor.role == Role::Admin && actor.market_id.is_none() {
            return Ok(see_other(&v, "/admin"));
        }
        let (market, tz) = my_market(&site, actor).await?;
        let cycles = site
            .store
            .list_cycles(Viewer::Actor(actor), market.id)
            .await?;
        let current: Vec<Value> = cycles
            .iter()
            .filter(|c| c.state != CycleState::Distributed)
            .map(|c| {
                let (state, next) = state_words(c.state);
                json!({
                    "id": c.id,
                    "name": c.name,
                    "state": site.t(v.lang, state),
                    "next": site.t(v.lang, next),
                    "opens": print::format::date_time(c.opens_at, tz, v.lang),
                    "closes": print::format::date_time(c.closes_at, tz, v.lang),
                })
            })
            .collect();
        let points = site.store.list_pickup_points(market.id).await?.len();
        let rules = site.store.list_slot_rules(market.id).await?.len();
        let producers = site.store.list_producers(market.id).await?.len();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "desk/home",
            "desk-title",
            json!({
                "market": market.name,
                "current": current,
                "past": cycles.len() - current.len(),
                "points": points,
                "rules": rules,
                "producers": producers,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}
