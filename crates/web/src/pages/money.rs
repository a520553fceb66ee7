//! Receipts and settlements for people (issue 9, point 8), rendered by the `print` crate from
//! the same store use cases as the API:
//! - `/orders/{id}/receipt.{html,pdf}`: a basket's receipt, for its consumer (from its order
//!   page) and the market's staff (from the desk's orders of a cycle);
//! - `/producer/settlements/{cycle}.{html,pdf,csv}`: a producer's own settlement of a cycle;
//! - `/desk/cycles/{id}/settlements.{html,pdf,csv}`: every producer's, on the desk's list of
//!   documents (`desk::cycles::document`);
//! - `POST /desk/cycles/{id}/commission`: the market's commission, set by its coordinators
//!   from a cycle's page (a percent, 0 by default, 50 at most), then back to that page.

use std::sync::Arc;

use poem::{
    Response, handler,
    web::{Data, Path},
};
use print::Format;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use store::{Actor, PaymentSettingsUpdate, Role, Viewer};

use super::{
    PageError, Site, Submission, Visitor, answer, desk::cycles::document_response, see_other,
};

/// A basket's receipt, in the format asked.
async fn receipt(site: &Site, v: &Visitor, id: i64, format: Format) -> Result<Response, PageError> {
    let actor = v.actor()?;
    let receipt = site.store.receipt(actor, id).await?;
    let lang = v.lang;
    let rendered = site
        .store
        .run_cpu(move || print::receipt(&receipt, format, lang))
        .await?;
    document_response(v, rendered)
}

/// `/orders/{id}/receipt.html`.
#[handler]
pub(crate) async fn receipt_html(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Response {
    let r = receipt(&site, &v, id, Format::Html).await;
    answer(&site, &v, r)
}

/// `/orders/{id}/receipt.pdf`.
#[handler]
pub(crate) async fn receipt_pdf(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Response {
    let r = receipt(&site, &v, id, Format::Pdf).await;
    answer(&site, &v, r)
}

/// What an order's page shows of its receipt: its number and links, once issued.
pub(crate) async fn receipt_links(
    site: &Site,
    actor: &Actor,
    order_id: i64,
) -> Result<Value, PageError> {
    Ok(match site.store.receipt_of(actor, order_id).await? {
        Some(r) => json!({
            "number": r.number,
            "html": format!("/orders/{order_id}/receipt.html"),
            "pdf": format!("/orders/{order_id}/receipt.pdf"),
        }),
        None => Value::Null,
    })
}

/// `/producer/settlements/{cycle}.{html,pdf,csv}`: the producer's own settlement.
#[handler]
pub(crate) async fn producer_settlement(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(file): Path<String>,
) -> Response {
    let r = async {
        let actor = v.with_role(&[Role::Producer])?;
        let (cycle, ext) = file.rsplit_once('.').ok_or(PageError::NotFound)?;
        let cycle: i64 = cycle.parse().map_err(|_| PageError::NotFound)?;
        let format = document_format(ext)?;
        settlement(&site, &v, actor, cycle, None, format).await
    }
    .await;
    answer(&site, &v, r)
}

/// `html`, `pdf` or `csv`; anything else is not a page.
pub(crate) fn document_format(ext: &str) -> Result<Format, PageError> {
    match ext {
        "html" => Ok(Format::Html),
        "pdf" => Ok(Format::Pdf),
        "csv" => Ok(Format::Csv),
        _ => Err(PageError::NotFound),
    }
}

/// A cycle's settlements (one producer's, or every one the actor may see) as a document.
pub(crate) async fn settlement(
    site: &Site,
    v: &Visitor,
    actor: &Actor,
    cycle: i64,
    producer: Option<i64>,
    format: Format,
) -> Result<Response, PageError> {
    let list = site.store.settlements(actor, cycle, producer).await?;
    let lang = v.lang;
    let rendered = site
        .store
        .run_cpu(move || print::settlements(&list, format, lang))
        .await?;
    document_response(v, rendered)
}

/// A commission in basis points as a coordinator types it: `7,5` / `7.5`.
pub(crate) fn percent_text(bp: i32, lang: super::i18n::Lang) -> String {
    let d = (Decimal::from(bp) / Decimal::from(100)).normalize();
    let q = domain::Quantity::new(d).unwrap_or(domain::Quantity::ZERO);
    print::format::csv_quantity(q, lang)
}

/// A typed percent (`7,5`, `7.5`, ` 10 `) as basis points, when it is 0 to 50 with at most
/// two decimals.
fn basis_points(typed: &str) -> Option<i32> {
    let d: Decimal = typed.trim().replace(',', ".").parse().ok()?;
    let bp = (d * Decimal::from(100)).normalize();
    if bp.scale() > 0 || bp < Decimal::ZERO || bp > Decimal::from(5_000) {
        return None;
    }
    i32::try_from(bp.mantissa()).ok()
}

/// `POST /desk/cycles/{id}/commission`: the market's commission (its coordinators), then
/// the cycle's page again.
#[handler]
pub(crate) async fn set_commission(
    site: Data<&Arc<Site>>,
    Path(id): Path<i64>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(&[Role::Coordinator])?;
        let c = site.store.cycle(Viewer::Actor(actor), id).await?;
        super::desk::coordinator_of(actor, c.cycle.market_id)?;
        let bp = basis_points(form.get("commission"))
            .ok_or_else(|| PageError::BadRequest(site.t(v.lang, "money-commission-invalid")))?;
        site.store
            .set_payment_settings(
                actor,
                c.cycle.market_id,
                PaymentSettingsUpdate {
                    commission_bp: Some(bp),
                    ..PaymentSettingsUpdate::default()
                },
            )
            .await?;
        Ok(see_other(
            &v,
            &format!("/desk/cycles/{id}?done=money-commission-saved"),
        ))
    }
    .await;
    answer(&site, &v, r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_commission_is_typed_as_a_percent_with_a_comma_or_a_point() {
        assert_eq!(super::basis_points("7,5"), Some(750));
        assert_eq!(super::basis_points(" 10 "), Some(1_000));
        assert_eq!(super::basis_points("0"), Some(0));
        assert_eq!(super::basis_points("50.01"), None);
        assert_eq!(super::basis_points("-1"), None);
        assert_eq!(super::basis_points("2.555"), None);
        assert_eq!(super::basis_points("dix"), None);
    }
}
