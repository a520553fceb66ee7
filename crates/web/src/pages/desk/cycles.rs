//! A market's cycles on the desk: the list and the form that creates one (its slots from the
//! market's slot rules), a cycle's page (its state and the buttons that move it on, its slots,
//! which producers have published their offer, its orders, its documents, its co-delivery
//! rounds), and the documents themselves served to the session.

use std::{collections::HashSet, sync::Arc};

use chrono::{Duration, DurationRound, Utc};
use domain::{CycleState, Money};
use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::{Data, Path, Query},
};
use print::Format;
use serde_json::{Value, json};
use store::{Actor, NewCycle, Role, StoreError, Viewer};

use super::{coordinator_of, local_time, local_value, my_market, say, state_words, timezone};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other, visitor::Form};

/// `/desk/cycles`: every cycle of the market, and the form to create one.
#[handler]
pub(crate) async fn list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let tz = my_market(&site, actor).await?.1;
        let now = Utc::now()
            .duration_trunc(Duration::hours(1))
            .unwrap_or_else(|_| Utc::now());
        let form = json!({
            "name": "",
            "opens_at": local_value(now + Duration::hours(1), tz),
            "closes_at": local_value(now + Duration::days(4), tz),
            "from_rules": true,
        });
        list_page(&site, &v, actor, StatusCode::OK, form, json!({})).await
    }
    .await;
    answer(&site, &v, r)
}

async fn list_page(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    status: StatusCode,
    form: Value,
    errors: Value,
) -> Result<Response, PageError> {
    let (market, tz) = my_market(site, actor).await?;
    let cycles = site
        .store
        .list_cycles(Viewer::Actor(actor), market.id)
        .await?;
    let cycles: Vec<Value> = cycles
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "state": site.t(v.lang, state_words(c.state).0),
                "opens": print::format::date_time(c.opens_at, tz, v.lang),
                "closes": print::format::date_time(c.closes_at, tz, v.lang),
            })
        })
        .collect();
    let rules = site.store.list_slot_rules(market.id).await?.len();
    Ok(site.render(
        v,
        status,
        "desk/cycles",
        "desk-cycles-title",
        json!({
            "market": market.name,
            "timezone": market.timezone,
            "cycles": cycles,
            "rules": rules,
            "form": form,
            "errors": errors,
        }),
    ))
}

/// Creates a draft cycle, with a slot per slot rule of the market when asked.
#[handler]
pub(crate) async fn create(site: Data<&Arc<Site>>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, tz) = my_market(&site, actor).await?;
        let mut echo = form.echo();
        echo["from_rules"] = json!(form.opt("from_rules").is_some());
        let mut errors = serde_json::Map::new();
        if form.get("name").is_empty() {
            errors.insert("name".into(), json!(site.t(v.lang, "desk-error-required")));
        }
        let opens = local_time(form.get("opens_at"), tz);
        let closes = local_time(form.get("closes_at"), tz);
        for (field, value) in [("opens_at", opens), ("closes_at", closes)] {
            if value.is_none() {
                errors.insert(field.into(), json!(site.t(v.lang, "desk-error-date")));
            }
        }
        let (Some(opens_at), Some(closes_at), true) = (opens, closes, errors.is_empty()) else {
            return list_page(
                &site,
                &v,
                actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                echo,
                Value::Object(errors),
            )
            .await;
        };
        let created = site
            .store
            .create_cycle(
                actor,
                market.id,
                NewCycle {
                    name: form.get("name").to_owned(),
                    opens_at,
                    closes_at,
                    slots: vec![],
                },
            )
            .await;
        let cycle = match created {
            Ok(c) => c,
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let field = match &e {
                    StoreError::Invalid { code, .. } if *code == "invalid_window" => "closes_at",
                    StoreError::Invalid { code, .. }
                        if *code == "invalid_field" || *code == "invalid_text" =>
                    {
                        "name"
                    }
                    _ => "form",
                };
                return list_page(
                    &site,
                    &v,
                    actor,
                    crate::pages::site::store_status(&e),
                    echo,
                    json!({ field: say(&site, v.lang, &e) }),
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        };
        if form.opt("from_rules").is_some() {
            site.store.generate_slots(actor, cycle.cycle.id).await?;
        }
        Ok(see_other(
            &v,
            &format!("/desk/cycles/{}?done=desk-cycle-created", cycle.cycle.id),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `/desk/cycles/{id}`: a cycle and everything a coordinator does with it.
#[handler]
pub(crate) async fn show(site: Data<&Arc<Site>>, v: Visitor, id: Path<i64>) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        cycle_page(&site, &v, actor, id.0, StatusCode::OK, None, json!({})).await
    }
    .await;
    answer(&site, &v, r)
}

/// The documents of a cycle, each in three formats.
const DOCUMENTS: [(&str, &str); 4] = [
    ("sheets", "desk-doc-sheets"),
    ("picking", "desk-doc-picking"),
    ("labels", "desk-doc-labels"),
    ("settlements", "desk-doc-settlements"),
];

#[expect(
    clippy::too_many_lines,
    reason = "one page's context, field after field"
)]
pub(super) async fn cycle_page(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    id: i64,
    status: StatusCode,
    round_form: Option<&Form>,
    round_errors: Value,
) -> Result<Response, PageError> {
    let view = site.store.cycle(Viewer::Actor(actor), id).await?;
    let c = &view.cycle;
    coordinator_of(actor, c.market_id)?;
    let market = site.store.market(c.market_id).await?;
    let tz = timezone(&market);
    let lang = v.lang;
    let (state, next) = state_words(c.state);
    let producers = site.store.list_producers(c.market_id).await?;
    let published: HashSet<i64> = view.offers.iter().map(|o| o.producer_id).collect();
    let producers: Vec<Value> = producers
        .iter()
        .map(|p| {
            let offers = view.offers.iter().filter(|o| o.producer_id == p.id).count();
            json!({
                "id": p.id,
                "name": p.name,
                "published": published.contains(&p.id),
                "offers": offers,
            })
        })
        .collect();
    let slots: Vec<Value> = view
        .slots
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "point": s.pickup_point_name,
                "when": print::format::range(s.starts_at, s.ends_at, tz, lang),
                "cancelled": s.cancelled,
            })
        })
        .collect();
    let sheets = site.store.distribution_sheets(actor, id, None).await?;
    let receipts = site.store.cycle_receipts(actor, id).await?;
    let commission_bp = site
        .store
        .payment_settings(c.market_id)
        .await?
        .commission_bp;
    let mut orders = vec![];
    let mut total = Money::ZERO;
    for sheet in &sheets {
        for b in &sheet.baskets {
            total = total + b.total;
            orders.push(json!({
                "id": b.order_id,
                "consumer": b.consumer_name,
                "slot": sheet.slot.pickup_point_name,
                "when": print::format::range(sheet.slot.starts_at, sheet.slot.ends_at, tz, lang),
                "total": print::format::money(b.total, lang),
                "collection": site.t(lang, &format!("desk-collection-{}", b.collection.as_str().replace('_', "-"))),
                "receipt": receipts.get(&b.order_id).map(|r| r.number.clone()),
            }));
        }
    }
    let rounds = site.store.list_rounds(actor, id).await?;
    let rounds: Vec<Value> = rounds
        .iter()
        .map(|r| json!({ "id": r.id, "name": r.name }))
        .collect();
    let documents: Vec<Value> = DOCUMENTS
        .iter()
        .map(|(file, label)| json!({ "file": file, "label": site.t(lang, label) }))
        .collect();
    // The market's vehicles in use, checked again when the form comes back.
    let chosen: HashSet<String> = round_form
        .map(|f| {
            f.pairs()
                .filter(|(k, _)| *k == "vehicle")
                .map(|(_, v)| v.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let vehicles: Vec<Value> = site
        .store
        .list_vehicles(actor, c.market_id)
        .await?
        .into_iter()
        .filter(|v| !v.archived)
        .map(|v| {
            json!({
                "id": v.id,
                "name": v.name,
                "crates": v.capacity_crates,
                "kg": v.capacity_kg.map(|kg| kg.normalize().to_string()),
                "checked": chosen.contains(&v.id.to_string()),
            })
        })
        .collect();
    let round_form = match round_form {
        Some(f) => f.echo(),
        None => json!({
            "name": "",
            "start_name": market.name,
            "start_lat": market.latitude.to_string(),
            "start_lon": market.longitude.to_string(),
            "departure": view
                .slots
                .first()
                .map(|s| local_value(s.starts_at - Duration::hours(3), tz))
                .unwrap_or_default(),
            "capacity_crates": "40",
        }),
    };
    let actions: Vec<Value> = [
        (CycleState::Draft, "open", "desk-action-open"),
        (CycleState::Open, "close", "desk-action-close"),
        (CycleState::Closed, "distributed", "desk-action-distributed"),
    ]
    .iter()
    .filter(|(from, _, _)| *from == c.state)
    .map(|(_, to, label)| json!({ "to": to, "label": site.t(lang, label) }))
    .collect();
    let editable = matches!(c.state, CycleState::Draft | CycleState::Open);
    Ok(site.render(
        v,
        status,
        "desk/cycle",
        &c.name,
        json!({
            "id": c.id,
            "name": c.name,
            "state": site.t(lang, state),
            "next": site.t(lang, next),
            "opens": print::format::date_time(c.opens_at, tz, lang),
            "closes": print::format::date_time(c.closes_at, tz, lang),
            "actions": actions,
            "editable": editable,
            "slots": slots,
            "producers": producers,
            "published": published.len(),
            "producer_count": producers.len(),
            "order_count": orders.len(),
            "orders": orders,
            "orders_total": print::format::money(total, lang),
            "documents": documents,
            "commission": crate::pages::money::percent_text(commission_bp, lang),
            "rounds": rounds,
            "round_form": round_form,
            "vehicles": vehicles,
            "errors": round_errors,
            "timezone": market.timezone,
        }),
    ))
}

/// Opens a cycle, closes it early, or marks it distributed (`to` = open, close, distributed).
#[handler]
pub(crate) async fn transition(site: Data<&Arc<Site>>, id: Path<i64>, sub: Submission) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (target, done) = match form.get("to") {
            "open" => (CycleState::Open, "cycle-opened"),
            "close" => (CycleState::Closed, "cycle-closed"),
            "distributed" => (CycleState::Distributed, "cycle-distributed"),
            _ => {
                return Err(PageError::BadRequest(
                    site.t(v.lang, "desk-error-bad-request"),
                ));
            }
        };
        let c = site.store.cycle(Viewer::Actor(actor), id.0).await?;
        coordinator_of(actor, c.cycle.market_id)?;
        site.store.transition_cycle(actor, id.0, target).await?;
        Ok(see_other(
            &v,
            &format!("/desk/cycles/{}?done=desk-{done}", id.0),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// Gives the cycle a slot per slot rule of the market (rules it has a slot for are skipped).
#[handler]
pub(crate) async fn generate_slots(
    site: Data<&Arc<Site>>,
    id: Path<i64>,
    sub: Submission,
) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let c = site.store.cycle(Viewer::Actor(actor), id.0).await?;
        coordinator_of(actor, c.cycle.market_id)?;
        site.store.generate_slots(actor, id.0).await?;
        Ok(see_other(
            &v,
            &format!("/desk/cycles/{}?done=desk-slots", id.0),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// `sheets.pdf`, `picking.csv`, `labels.html`...: what it is, and in which format.
pub(super) fn document_of(file: &str) -> Option<(&str, Format)> {
    let (kind, ext) = file.rsplit_once('.')?;
    let format = match ext {
        "html" => Format::Html,
        "pdf" => Format::Pdf,
        "csv" => Format::Csv,
        _ => return None,
    };
    ["sheets", "picking", "labels", "round", "settlements"]
        .contains(&kind)
        .then_some((kind, format))
}

/// A rendered document as the browser gets it: shown (HTML) or downloaded (CSV, PDF).
pub(crate) fn document_response(
    v: &Visitor,
    rendered: Result<print::Rendered, print::PrintError>,
) -> Result<Response, PageError> {
    let r = rendered.map_err(|e| {
        tracing::error!(error = %e, "a document failed to render");
        PageError::Internal
    })?;
    let disposition = if r.content_type.starts_with("text/html") {
        format!("inline; filename=\"{}\"", r.file_name)
    } else {
        format!("attachment; filename=\"{}\"", r.file_name)
    };
    Ok(v.finish(
        Response::builder()
            .status(StatusCode::OK)
            .content_type(r.content_type)
            .header(header::CONTENT_DISPOSITION, disposition)
            .header(header::CACHE_CONTROL, "no-store")
            .body(r.bytes),
    ))
}

/// `?producer=`: one producer's picking list or labels.
#[derive(serde::Deserialize)]
pub(crate) struct OneProducer {
    producer: Option<i64>,
}

/// `/desk/cycles/{id}/{sheets|picking|labels}.{html|pdf|csv}`: every producer's picking list
/// and labels (or one producer's, `?producer=`), every slot's distribution sheet, as the API
/// renders them.
#[handler]
pub(crate) async fn document(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path((id, file)): Path<(i64, String)>,
    q: Query<OneProducer>,
) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (kind, format) = document_of(&file).ok_or(PageError::NotFound)?;
        let c = site.store.cycle(Viewer::Actor(actor), id).await?;
        coordinator_of(actor, c.cycle.market_id)?;
        let lang = v.lang;
        let rendered = match kind {
            "sheets" => {
                let sheets = site.store.distribution_sheets(actor, id, None).await?;
                site.store
                    .run_cpu(move || print::distribution_sheets(&sheets, format, lang))
                    .await?
            }
            "picking" => {
                let (_, lists) = site.store.picking_lists(actor, id, q.producer).await?;
                site.store
                    .run_cpu(move || print::picking_lists(&lists, format, lang))
                    .await?
            }
            "labels" => {
                let (_, lists) = site.store.picking_lists(actor, id, q.producer).await?;
                site.store
                    .run_cpu(move || print::labels(&lists, format, lang))
                    .await?
            }
            "settlements" => {
                return crate::pages::money::settlement(&site, &v, actor, id, q.producer, format)
                    .await;
            }
            _ => return Err(PageError::NotFound),
        };
        document_response(&v, rendered)
    }
    .await;
    answer(&site, &v, r)
}
