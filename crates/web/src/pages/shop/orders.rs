//! A member's orders: the list (current and past), one order (printable), and cancelling it
//! with a confirmation step. Changing an order is the shop again, pre-filled with it.

use std::sync::Arc;

use chrono::Utc;
use domain::Quantity;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use print::format;
use serde_json::{Value, json};
use store::{CycleLabel, OrderView, StoreError};

use super::{
    super::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other},
    member_of, shop_error, tz_of,
};

fn status_label(site: &Site, lang: Lang, o: &OrderView) -> String {
    site.t(
        lang,
        if o.status == "cancelled" {
            "shop-status-cancelled"
        } else {
            "shop-status-placed"
        },
    )
}

/// The order as its page and the list lay it out.
fn order_json(site: &Site, lang: Lang, o: &OrderView, c: Option<&CycleLabel>) -> Value {
    let tz = tz_of(c.map_or("Europe/Paris", |c| c.timezone.as_str()));
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let unit = if l.pricing.is_variable_weight() {
                domain::Unit::Piece
            } else {
                l.pricing.unit
            };
            json!({
                "name": l.product_name,
                "producer": l.producer_name,
                "qty": format::quantity_with_unit(l.quantity, unit, lang),
                "price": super::offers::price_label(site, lang, &l.pricing),
                "weighed": super::offers::weighed_label(site, lang, &l.pricing),
                "total": format::money(l.total, lang),
            })
        })
        .collect();
    let vat: Vec<Value> = o
        .totals
        .vat
        .iter()
        .map(|l| {
            json!({
                "rate": format!("{} %", format::quantity(Quantity::new(l.rate.percent()).unwrap_or(Quantity::ZERO), lang)),
                "net": format::money(l.net, lang),
                "vat": format::money(l.vat, lang),
            })
        })
        .collect();
    let placed = o.status != "cancelled";
    json!({
        "id": o.id,
        "cycle_id": o.cycle_id,
        "cycle": c.map(|c| c.name.clone()),
        "market": c.map(|c| c.market_name.clone()),
        "consumer": o.consumer_name,
        "by_someone_else": o.placed_by != o.account_id,
        "status": status_label(site, lang, o),
        "cancelled": !placed,
        "changeable": placed && c.is_some_and(|c| c.open),
        // Its slot cancelled: another is chosen on the basket page, while the cycle is open.
        "choose_slot": placed && o.slot.cancelled && c.is_some_and(|c| c.open),
        "slot": super::slots::slot_json(site, lang, tz, &o.slot),
        "lines": lines,
        "total": format::money(o.totals.total, lang),
        "vat": vat,
        "has_variable": o.lines.iter().any(|l| l.pricing.is_variable_weight()),
        "created": format::date_time(o.created_at, tz, lang),
        "current": placed && o.slot.ends_at > Utc::now(),
    })
}

/// `/orders`: the member's orders, current ones first, then past and cancelled ones.
#[handler]
pub(crate) async fn list(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.actor()?;
        let orders = site.store.orders_of(actor, member_of(&v)).await?;
        let labels = site
            .store
            .cycle_labels(orders.iter().map(|o| o.cycle_id))
            .await?;
        let all: Vec<Value> = orders
            .iter()
            .map(|o| order_json(&site, v.lang, o, labels.get(&o.cycle_id)))
            .collect();
        let (current, past): (Vec<Value>, Vec<Value>) =
            all.into_iter().partition(|o| o["current"] == json!(true));
        Ok(site.render(
            &v,
            StatusCode::OK,
            "shop/orders",
            "shop-orders-title",
            json!({ "current": current, "past": past }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// An order, if the visitor may see it (404 otherwise), and whether it is the visitor's own
/// basket (its own, or the member's it orders for): only then may it be changed from here.
async fn visible(
    site: &Site,
    v: &Visitor,
    id: i64,
) -> Result<(OrderView, Option<CycleLabel>, bool), PageError> {
    let actor = v.actor()?;
    let o = site.store.order(actor, id).await?;
    let mine = o.account_id == member_of(v).unwrap_or(actor.account_id);
    let label = site
        .store
        .cycle_labels([o.cycle_id])
        .await?
        .remove(&o.cycle_id);
    Ok((o, label, mine))
}

/// `/orders/{id}`: one order, printable.
#[handler]
pub(crate) async fn show(site: Data<&Arc<Site>>, v: Visitor, Path(id): Path<i64>) -> Response {
    let r = async {
        let (o, label, mine) = visible(&site, &v, id).await?;
        let mut page = order_json(&site, v.lang, &o, label.as_ref());
        page["mine"] = json!(mine);
        page["receipt"] = crate::pages::money::receipt_links(&site, v.actor()?, o.id).await?;
        if !mine {
            page["choose_slot"] = json!(false);
        }
        if let Some(l) = &label {
            page["payment"] = super::pay::order_state(&site, &v, &o, l.market_id, mine).await?;
        }
        let title = site.t_with(v.lang, "shop-order-title", &[("id", o.id.to_string())]);
        Ok(site.render(&v, StatusCode::OK, "shop/order", &title, page))
    }
    .await;
    answer(&site, &v, r)
}

/// `/orders/{id}/cancel`: "are you sure?".
#[handler]
pub(crate) async fn cancel_form(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        let (o, label, _) = visible(&site, &v, id).await?;
        let mut page = order_json(&site, v.lang, &o, label.as_ref());
        page["errors"] = json!({ "form": null });
        let title = site.t_with(v.lang, "shop-cancel-title", &[("id", o.id.to_string())]);
        Ok(site.render(&v, StatusCode::OK, "shop/cancel", &title, page))
    }
    .await;
    answer(&site, &v, r)
}

/// Cancels the order (stock given back), then the list of orders.
#[handler]
pub(crate) async fn cancel(
    site: Data<&Arc<Site>>,
    Path(id): Path<i64>,
    sub: Submission,
) -> Response {
    let v = sub.visitor;
    let r = async {
        let actor = v.actor()?;
        match site.store.cancel_order(actor, id).await {
            Ok(()) => Ok(see_other(&v, "/orders?done=order-cancelled")),
            Err(e @ StoreError::Conflict { .. }) => {
                let (o, label, _) = visible(&site, &v, id).await?;
                let mut page = order_json(&site, v.lang, &o, label.as_ref());
                page["errors"] = json!({ "form": shop_error(&site, v.lang, &e) });
                let title = site.t_with(v.lang, "shop-cancel-title", &[("id", o.id.to_string())]);
                Ok(site.render(&v, StatusCode::CONFLICT, "shop/cancel", &title, page))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    answer(&site, &v, r)
}
