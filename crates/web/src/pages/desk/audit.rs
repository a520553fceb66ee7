//! `/desk/audit`: the market's audit trail, for its coordinators: who changed a price, a stock,
//! a weight, a check-out, a cycle's state, a slot or an invitation, and when; newest first,
//! filtered by kind and days (`?kind=&from=&to=`), a page at a time (`&page=`).

use std::sync::Arc;

use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{AuditFilter, Role, StoreError, audit::kind};

use super::my_market;
use crate::pages::{PageError, Site, Visitor, answer};

/// The query of `/desk/audit`.
#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
}

/// A day of the filter (`YYYY-MM-DD`, as `<input type="date">` sends it); empty is none.
fn day(value: Option<&str>) -> Result<Option<chrono::NaiveDate>, PageError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                PageError::Store(StoreError::Invalid {
                    code: "invalid_dates",
                    message: format!("{v} is not a day (YYYY-MM-DD)"),
                })
            }),
    }
}

/// `GET /desk/audit`.
#[handler]
pub(crate) async fn list(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let (market, tz) = my_market(&site, actor).await?;
        let filter = AuditFilter {
            kind: q.kind.clone().filter(|k| !k.is_empty()),
            from: day(q.from.as_deref())?,
            to: day(q.to.as_deref())?,
            page: q.page.unwrap_or(1).clamp(1, 100_000),
        };
        let trail = site.store.audit_trail(actor, market.id, &filter).await?;
        let label = |k: &str| site.t(v.lang, &format!("audit-kind-{k}"));
        let rows: Vec<Value> = trail
            .entries
            .iter()
            .map(|e| {
                json!({
                    "when": print::format::date_time(e.at, tz, v.lang),
                    "who": e.actor_name,
                    "kind": label(&e.kind),
                    "subject": e.subject,
                    "detail": e.detail,
                })
            })
            .collect();
        let kinds: Vec<Value> = kind::ALL
            .iter()
            .map(|k| json!({"value": k, "label": label(k), "selected": filter.kind.as_deref() == Some(*k)}))
            .collect();
        let day_value = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let (from, to) = (day_value(filter.from), day_value(filter.to));
        // The filter, kept in the links to the other pages.
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("kind", filter.kind.as_deref().unwrap_or(""))
            .append_pair("from", from.as_deref().unwrap_or(""))
            .append_pair("to", to.as_deref().unwrap_or(""))
            .finish();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "desk/audit",
            "audit-title",
            json!({
                "market": market.name,
                "rows": rows,
                "kinds": kinds,
                "from": from,
                "to": to,
                "page": trail.page,
                "previous": (trail.page > 1).then(|| format!("/desk/audit?{query}&page={}", trail.page - 1)),
                "next": trail.has_next.then(|| format!("/desk/audit?{query}&page={}", trail.page + 1)),
            }),
        ))
    }
    .await;
    answer(&site, &v, r)
}
