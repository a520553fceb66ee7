//! Co-delivery rounds on the desk: the form on a cycle's page plans one, a round's page shows
//! its plan stop by stop with its printable sheet, and a button plans it again from the
//! cycle's orders as they are now.

use std::sync::Arc;

use chrono_tz::Tz;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde_json::{Value, json};
use store::{NewRound, Role, RoundPlace, StoreError, Viewer};

use super::{
    coordinator_of,
    cycles::{cycle_page, document_of, document_response},
    local_time, say, timezone,
};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other, visitor::Form};

/// The numbers of a round's form, or the field that is wrong.
fn round_of(form: &Form, tz: Tz) -> Result<NewRound, &'static str> {
    let number = |name: &'static str| -> Result<f64, &'static str> {
        form.get(name)
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or(name)
    };
    if form.get("name").is_empty() {
        return Err("name");
    }
    if form.get("start_name").is_empty() {
        return Err("start_name");
    }
    let lat = number("start_lat").and_then(|x| {
        if (-90.0..=90.0).contains(&x) {
            Ok(x)
        } else {
            Err("start_lat")
        }
    })?;
    let lon = number("start_lon").and_then(|x| {
        if (-180.0..=180.0).contains(&x) {
            Ok(x)
        } else {
            Err("start_lon")
        }
    })?;
    let departure = local_time(form.get("departure"), tz).ok_or("departure")?;
    let ids = |name: &str| -> Vec<i64> {
        form.pairs()
            .filter(|(k, _)| *k == name)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect()
    };
    // The market's vehicles chosen, or one vehicle of the capacity given.
    let vehicle_ids = Some(ids("vehicle")).filter(|v| !v.is_empty());
    let capacity_crates = if vehicle_ids.is_some() && form.get("capacity_crates").is_empty() {
        0
    } else {
        form.get("capacity_crates")
            .parse::<u32>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or("capacity_crates")?
    };
    let producer_ids = ids("producer");
    if producer_ids.is_empty() {
        return Err("producers");
    }
    let slot_ids = ids("slot");
    if slot_ids.is_empty() {
        return Err("slots");
    }
    let start = RoundPlace {
        name: form.get("start_name").to_owned(),
        latitude: lat,
        longitude: lon,
    };
    Ok(NewRound {
        name: form.get("name").to_owned(),
        end: start.clone(),
        start,
        departure,
        capacity_crates,
        capacity_kg: None,
        vehicle_ids,
        speed_kmh: None,
        producer_ids,
        slot_ids,
    })
}

/// Plans a co-delivery round for the cycle.
#[handler]
pub(crate) async fn create_round(
    site: Data<&Arc<Site>>,
    id: Path<i64>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let c = site.store.cycle(Viewer::Actor(actor), id.0).await?;
        coordinator_of(actor, c.cycle.market_id)?;
        let tz = timezone(&site.store.market(c.cycle.market_id).await?);
        let again = |status, field: &str, message: String| {
            cycle_page(
                &site,
                &v,
                actor,
                id.0,
                status,
                Some(&form),
                json!({ field: message }),
            )
        };
        let def = match round_of(&form, tz) {
            Ok(def) => def,
            Err(field) => {
                let message = match field {
                    "producers" | "slots" => site.t(v.lang, "desk-error-choose-one"),
                    "name" | "start_name" => site.t(v.lang, "desk-error-required"),
                    "departure" => site.t(v.lang, "desk-error-date"),
                    _ => site.t(v.lang, "desk-error-number"),
                };
                return again(StatusCode::UNPROCESSABLE_ENTITY, field, message).await;
            }
        };
        match site.store.create_round(actor, id.0, def).await {
            Ok(round) => Ok(see_other(
                &v,
                &format!("/desk/rounds/{}?done=desk-round-planned", round.id),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                again(
                    crate::pages::site::store_status(&e),
                    "round",
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

/// `/desk/rounds/{id}`: a round's plan, stop by stop.
#[handler]
pub(crate) async fn show_round(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let round = site.store.round(actor, id.0).await?;
        let c = site
            .store
            .cycle(Viewer::Actor(actor), round.cycle_id)
            .await?;
        coordinator_of(actor, c.cycle.market_id)?;
        let lang = v.lang;
        let tz = round.timezone;
        let several = round.plan.rounds.len() > 1;
        let vehicles: Vec<Value> = round
            .plan
            .rounds
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let stops: Vec<Value> = r
                    .plan
                    .stops
                    .iter()
                    .map(|s| {
                        json!({
                            "sequence": s.sequence,
                            "kind": site.t(lang, &format!("desk-stop-{}", stop_kind(s.kind))),
                            "place": s.place.name,
                            "arrival": print::format::time_of_day(s.arrival, tz),
                            "departure": print::format::time_of_day(s.departure, tz),
                            "km": print::format::km(s.km_total, lang),
                            "load": s.load_crates,
                        })
                    })
                    .collect();
                json!({
                    "index": i + 1,
                    "name": r.vehicle.name,
                    "named": several || !r.vehicle.name.is_empty(),
                    "km": print::format::km(r.plan.total_km, lang),
                    "duration": print::format::duration(r.plan.total_minutes, lang),
                    "crates": r.plan.loaded_crates(),
                    "capacity": r.vehicle.capacity_crates,
                    "kg": r.plan.loaded_kg().round_dp(1).normalize().to_string(),
                    "stops": stops,
                })
            })
            .collect();
        let unassigned: Vec<String> = round
            .plan
            .unassigned
            .iter()
            .map(|u| u.reason.clone())
            .collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "desk/round",
            &round.name,
            json!({
                "id": round.id,
                "name": round.name,
                "cycle_id": round.cycle_id,
                "cycle": c.cycle.name,
                "km": print::format::km(round.plan.total_km, lang),
                "duration": print::format::duration(round.plan.total_minutes(), lang),
                "vehicles": vehicles,
                "unassigned": unassigned,
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

fn stop_kind(k: distribution::routing::StopKind) -> &'static str {
    use distribution::routing::StopKind;
    match k {
        StopKind::Start => "start",
        StopKind::Collect => "collect",
        StopKind::Deliver => "deliver",
        StopKind::End => "end",
    }
}

/// `/desk/rounds/{id}/round.{html|pdf|csv}`: the round sheet, as the API renders it.
#[handler]
pub(crate) async fn round_document(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path((id, file)): Path<(i64, String)>,
) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let ("round", format) = document_of(&file).ok_or(PageError::NotFound)? else {
            return Err(PageError::NotFound);
        };
        let round = site.store.round(actor, id).await?;
        let c = site
            .store
            .cycle(Viewer::Actor(actor), round.cycle_id)
            .await?;
        coordinator_of(actor, c.cycle.market_id)?;
        let lang = v.lang;
        let rendered = site
            .store
            .run_cpu(move || print::round(&round.plan, &round.name, round.timezone, format, lang))
            .await?;
        document_response(&v, rendered)
    }
    .await;
    answer(&site, &v, r)
}

/// Plans a round again from the cycle's orders as they are now.
#[handler]
pub(crate) async fn replan(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        site.store.replan_round(actor, id.0).await?;
        Ok(see_other(
            &v,
            &format!("/desk/rounds/{}?done=desk-round-replanned", id.0),
        ))
    }
    .await;
    answer(&site, &v, r)
}
