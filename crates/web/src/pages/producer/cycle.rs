//! `/producer/cycles/{cycle_id}`: a cycle after close, for its producer: the picking list and
//! labels as HTML, PDF and CSV (`/producer/cycles/{id}/picking.pdf`, `labels.csv`, ...,
//! rendered by the `print` crate from the store's `picking_lists`, as the API does), one small
//! form per variable-weight line to record its real weights (`piece_1`, `piece_2`, ... in kg),
//! and the cycle's sales per product (quantity, amount incl. VAT, VAT).

use std::sync::Arc;

use domain::Quantity;
use poem::{
    IntoResponse, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path},
};
use serde_json::{Map, Value, json};
use store::{ProducerReport, StoreError};

use super::{cycle_view, decimal, id_of, producer, store_error};
use crate::pages::{PageError, Site, Submission, Visitor, answer, see_other};

/// The documents a producer downloads, by the last segment of their path.
const DOCUMENTS: [&str; 6] = [
    "picking.html",
    "picking.pdf",
    "picking.csv",
    "labels.html",
    "labels.pdf",
    "labels.csv",
];

/// Errors of one line's weight form: the line, and its fields' messages.
type LineErrors = Option<(i64, Map<String, Value>)>;

fn page(
    site: &Site,
    v: &Visitor,
    status: StatusCode,
    report: &ProducerReport,
    errors: &LineErrors,
    typed: &Map<String, Value>,
) -> Response {
    let lang = v.lang;
    let closed = store::is_closed(&report.cycle);
    let id = report.cycle.id;
    let docs = |kind: &str| {
        json!(["html", "pdf", "csv"]
            .iter()
            .map(|f| json!({ "href": format!("/producer/cycles/{id}/{kind}.{f}"), "label": f.to_uppercase() }))
            .collect::<Vec<_>>())
    };
    let weigh: Vec<Value> = report
        .weigh
        .iter()
        .map(|l| {
            let mine = errors.as_ref().filter(|(line, _)| *line == l.line_id);
            let pieces: Vec<Value> = (1..=l.pieces)
                .map(|n| {
                    let name = format!("piece_{n}");
                    let value = match mine {
                        Some(_) => typed
                            .get(&name)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        None => l
                            .actual_kg
                            .get(n - 1)
                            .map(|w| print::format::csv_quantity(*w, lang))
                            .unwrap_or_default(),
                    };
                    json!({
                        "id": format!("w{}_{n}", l.line_id),
                        "name": name,
                        "label": site.t_with(lang, "producer-weigh-piece", &[("n", n.to_string())]),
                        "value": value,
                        "error": mine.and_then(|(_, e)| e.get(&name).cloned()),
                    })
                })
                .collect();
            let weighed = l.actual_kg.len() == l.pieces && l.pieces > 0;
            let total = Quantity::from_milli(l.actual_kg.iter().map(|w| w.milli()).sum());
            json!({
                "line_id": l.line_id,
                "order_id": l.order_id,
                "consumer": l.consumer_name,
                "product": l.product_name,
                "pieces": l.pieces,
                "estimated": print::format::kg(l.estimated_kg, lang, true),
                "weighed": weighed.then(|| print::format::kg(total, lang, false)),
                "inputs": pieces,
                "form_error": mine.and_then(|(_, e)| e.get("form").cloned()),
            })
        })
        .collect();
    let sales: Vec<Value> = report
        .sales
        .iter()
        .map(|s| {
            json!({
                "product": s.product_name,
                "quantity": print::format::quantity_with_unit(s.quantity, s.unit, lang),
                "amount": print::format::money(s.amount, lang),
                "vat": print::format::money(s.vat, lang),
                "estimated": s.estimated,
            })
        })
        .collect();
    let title = site.t_with(
        lang,
        "producer-cycle-title",
        &[("cycle", report.cycle.name.clone())],
    );
    site.render(
        v,
        status,
        "producer/cycle",
        &title,
        json!({
            "cycle": cycle_view(site, lang, &report.cycle, &report.market_name, &report.timezone),
            "closed": closed,
            "picking": docs("picking"),
            "labels": docs("labels"),
            "weigh": weigh,
            "sales": sales,
            "any_estimated": report.sales.iter().any(|s| s.estimated),
            "total": print::format::money(report.total, lang),
            "total_vat": print::format::money(report.total_vat, lang),
        }),
    )
}

/// The cycle's page for its producer.
#[handler]
pub(crate) async fn cycle_page(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(cycle): Path<String>,
) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycle_id = id_of(&cycle)?;
        let report = site.store.producer_report(a, producer_id, cycle_id).await?;
        Ok(page(&site, &v, StatusCode::OK, &report, &None, &Map::new()))
    }
    .await;
    answer(&site, &v, r)
}

/// A picking list or the labels, as HTML (shown), PDF or CSV (downloaded), in the visitor's
/// language.
#[handler]
pub(crate) async fn document(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path((cycle, doc)): Path<(String, String)>,
) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycle_id = id_of(&cycle)?;
        if !DOCUMENTS.contains(&doc.as_str()) {
            return Err(PageError::NotFound);
        }
        let (kind, ext) = doc.split_once('.').ok_or(PageError::NotFound)?;
        let format: print::Format = ext.parse().map_err(|_| PageError::NotFound)?;
        let (_, lists) = site
            .store
            .picking_lists(a, cycle_id, Some(producer_id))
            .await?;
        let lang = v.lang;
        let labels = kind == "labels";
        let rendered = site
            .store
            .run_cpu(move || {
                if labels {
                    print::labels(&lists, format, lang)
                } else {
                    print::picking_lists(&lists, format, lang)
                }
            })
            .await?
            .map_err(|e| {
                tracing::error!(error = %e, "a producer's document failed to render");
                PageError::Internal
            })?;
        let disposition = if format == print::Format::Html {
            "inline"
        } else {
            "attachment"
        };
        Ok(v.finish(
            Response::builder()
                .status(StatusCode::OK)
                .content_type(rendered.content_type)
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("{disposition}; filename=\"{}\"", rendered.file_name),
                )
                .header(header::CACHE_CONTROL, "no-store")
                .body(rendered.bytes)
                .into_response(),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// Records the real weights of one variable-weight line (one field per piece, in kg).
#[handler]
pub(crate) async fn weights(
    site: Data<&Arc<Site>>,
    sub: Submission,
    Path((cycle, line)): Path<(String, String)>,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycle_id = id_of(&cycle)?;
        let line_id = id_of(&line)?;
        let report = site.store.producer_report(a, producer_id, cycle_id).await?;
        let l = report
            .weigh
            .iter()
            .find(|l| l.line_id == line_id)
            .ok_or(PageError::NotFound)?;
        let mut errors = Map::new();
        let mut weights = Vec::new();
        for n in 1..=l.pieces {
            let name = format!("piece_{n}");
            match decimal(form.get(&name)).map(Quantity::new) {
                Some(Ok(q)) if !q.is_zero() && q.milli() <= 100_000 => weights.push(q),
                _ => {
                    errors.insert(name, Value::String(site.t(v.lang, "producer-error-weight")));
                }
            }
        }
        let typed = form.echo().as_object().cloned().unwrap_or_default();
        if !errors.is_empty() {
            return Ok(page(
                &site,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                &report,
                &Some((line_id, errors)),
                &typed,
            ));
        }
        match site.store.record_weights(a, line_id, weights).await {
            Ok(()) => Ok(see_other(
                &v,
                &format!("/producer/cycles/{cycle_id}?done=producer-weights#line-{line_id}"),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => {
                let mut errors = Map::new();
                errors.insert(
                    "form".to_owned(),
                    Value::String(store_error(&site, v.lang, &e)),
                );
                Ok(page(
                    &site,
                    &v,
                    crate::pages::site::store_status(&e),
                    &report,
                    &Some((line_id, errors)),
                    &typed,
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}
