//! Pickup-point volunteers: the distributions of the coming days, and one slot's baskets to
//! hand over and cash, on a phone, at a busy distribution, on a slow connection.
//!
//! The list is one light page (the shared stylesheet, no image, no script): the baskets
//! alphabetically, each with its lines and what is due, a search by name or phone done on the
//! server (`?q=`), and the count of baskets still to come. Each tap is one small form POSTed
//! to `/checkout/{slot}/baskets/{order}` and answered by a redirect back to the list at the
//! basket (`#basket-<id>`). A payment carries a random key made with the page
//! (`Store::check_out`'s idempotency key): a double tap records it once.

use std::sync::Arc;

use distribution::{Collection, PaymentMethod, SheetBasket, collation_key};
use domain::Money;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path, Query},
};
use print::format;
use serde::Deserialize;
use serde_json::{Value, json};
use store::{CheckoutList, NewPayment, Role, StoreError};

use super::{PageError, Site, Submission, Visitor, answer, i18n::Lang, see_other};

const STAFF: &[Role] = &[Role::Volunteer, Role::Coordinator];

#[derive(Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
}

/// `/checkout`: the distribution slots of today and the next days in the volunteer's market.
#[handler]
pub(crate) async fn distributions(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let actor = v.with_role(STAFF)?;
        let slots = site.store.checkout_slots(actor).await?;
        let slots: Vec<Value> = slots
            .iter()
            .map(|s| {
                json!({
                    "id": s.slot.id,
                    "point": s.slot.pickup_point_name,
                    "address": s.slot.pickup_point_address,
                    "when": format::range(s.slot.starts_at, s.slot.ends_at, s.timezone, v.lang),
                    "cycle": s.cycle_name,
                    "market": s.market_name,
                    "open": s.open_for_checkout,
                    "cancelled": s.slot.cancelled,
                    "note": s.slot.note,
                    "baskets": s.baskets,
                    "to_come": s.to_come,
                })
            })
            .collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "checkout/slots",
            "checkout-title",
            json!({ "slots": slots, "days": store::CHECKOUT_DAYS }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

/// Digits of a phone number or a search ("06 12 34" → "061234").
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// True when the basket answers the search: its name contains the words typed (accents and
/// case ignored), or its phone the digits typed (three at least).
fn matches(b: &SheetBasket, q: &str) -> bool {
    let key = collation_key(q);
    if key.is_empty() {
        return true;
    }
    let wanted = digits(q);
    collation_key(&b.consumer_name).contains(&key)
        || (wanted.len() >= 3
            && b.consumer_phone
                .as_deref()
                .is_some_and(|p| digits(p).contains(&wanted)))
}

/// An error to show next to one basket's form.
struct BasketError {
    order_id: i64,
    message: String,
}

/// The page of one slot's baskets, optionally filtered, with an error at one basket.
fn list_page(
    site: &Site,
    v: &Visitor,
    list: &CheckoutList,
    q: &str,
    error: Option<&BasketError>,
    status: StatusCode,
) -> Response {
    let lang = v.lang;
    let sheet = &list.sheet;
    let tz = sheet.cycle.timezone;
    let money = |m: Money| format::money(m, lang);
    let to_come = sheet
        .baskets
        .iter()
        .filter(|b| b.collection == Collection::Pending)
        .count();
    let baskets: Vec<Value> = sheet
        .baskets
        .iter()
        .filter(|b| matches(b, q))
        .map(|b| {
            let lines: Vec<Value> = b
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "what": format!(
                            "{} {}",
                            format::quantity_with_unit(l.quantity, l.unit, lang),
                            l.product_name
                        ),
                        "amount": money(l.final_total.unwrap_or(l.estimated_total)),
                    })
                })
                .collect();
            let state = b.collection.as_str();
            json!({
                "id": b.order_id,
                "name": b.consumer_name,
                "phone": b.consumer_phone,
                "lines": lines,
                "count": b.lines.len(),
                "total": money(b.total),
                "paid": money(b.paid),
                "paid_any": b.paid.cents() > 0,
                "due": money(b.due),
                "due_any": b.due.cents() > 0,
                "amount": format::csv_money(b.due, lang),
                "state": state,
                "pending": b.collection == Collection::Pending,
                "collected": b.collection == Collection::Collected,
                "absent": b.collection == Collection::NotCollected,
                "key": hex::encode(rand::random::<[u8; 16]>()),
                "error": error.filter(|e| e.order_id == b.order_id).map(|e| e.message.clone()),
            })
        })
        .collect();
    let slot = &list.slot;
    site.render(
        v,
        status,
        "checkout/list",
        &site.t_with(
            lang,
            "checkout-list-title",
            &[("point", slot.pickup_point_name.clone())],
        ),
        json!({
            "slot_id": slot.id,
            "point": slot.pickup_point_name,
            "address": slot.pickup_point_address,
            "when": format::range(slot.starts_at, slot.ends_at, tz, lang),
            "cancelled": slot.cancelled,
            "moved_from": slot.moved_from.map(|t| format::date_time(t, tz, lang)),
            "note": slot.note,
            "open": list.open_for_checkout,
            "cycle": sheet.cycle.name,
            "q": q,
            "total": sheet.baskets.len(),
            "to_come": to_come,
            "shown": baskets.len(),
            "baskets": baskets,
        }),
    )
}

/// `/checkout/{slot}`: the slot's baskets, alphabetically, `?q=` to search.
#[handler]
pub(crate) async fn slot_baskets(
    site: Data<&Arc<Site>>,
    v: Visitor,
    Path(slot_id): Path<i64>,
    Query(search): Query<Search>,
) -> Response {
    let r = async {
        let actor = v.with_role(STAFF)?;
        let list = site.store.checkout_list(actor, slot_id).await?;
        let q = search.q.as_deref().unwrap_or("").trim();
        Ok(list_page(&site, &v, &list, q, None, StatusCode::OK))
    }
    .await;
    answer(&site, &v, r)
}

/// An amount as typed on a phone: `12,50`, `12.50`, `12,50 €`, `€12.50`.
fn parse_amount(s: &str) -> Option<Money> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '€')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let d: rust_decimal::Decimal = cleaned.parse().ok()?;
    Money::from_decimal(d).ok()
}

/// What a tap asks: the basket's new state, and the payment made, if any.
fn tap(
    site: &Site,
    lang: Lang,
    form: &super::visitor::Form,
) -> Result<(Collection, Option<NewPayment>), Result<String, PageError>> {
    let bad = |what: &str| Err(PageError::BadRequest(format!("unknown {what}")));
    match form.get("action") {
        "collected" => Ok((Collection::Collected, None)),
        "not_collected" => Ok((Collection::NotCollected, None)),
        "pending" => Ok((Collection::Pending, None)),
        "paid" => {
            let method = match form.get("method") {
                "cash" => PaymentMethod::Cash,
                "cheque" => PaymentMethod::Cheque,
                "card" => PaymentMethod::Card,
                _ => return Err(Ok(site.t(lang, "checkout-error-method"))),
            };
            let Some(amount) = parse_amount(form.get("amount")) else {
                return Err(Ok(site.t(lang, "checkout-error-invalid-amount")));
            };
            let key = form.get("key");
            if key.len() < 16 || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("form key"));
            }
            Ok((
                Collection::Collected,
                Some(NewPayment {
                    method,
                    amount,
                    idempotency_key: Some(format!("page-{key}")),
                }),
            ))
        }
        _ => Err(bad("action")),
    }
}

/// A refused check-out in the volunteer's words: `checkout-error-<code>` when this area has
/// it (kept apart from the shared `error-` ids other areas may define), the store's otherwise.
fn error_text(site: &Site, lang: Lang, e: &StoreError) -> String {
    if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = e {
        let id = format!("checkout-error-{}", code.replace('_', "-"));
        if site.words.has(lang, &id) {
            return site.t(lang, &id);
        }
    }
    site.store_error(lang, e)
}

/// One tap on a basket: collected, absent, back to pending, or collected and paid.
#[handler]
pub(crate) async fn check_out(
    site: Data<&Arc<Site>>,
    Path((slot_id, order_id)): Path<(i64, i64)>,
    sub: Submission,
) -> Response {
    let Submission { visitor: v, form } = sub;
    let r = async {
        let actor = v.with_role(STAFF)?;
        // The basket must be this slot's (and the slot the volunteer's): 404 otherwise.
        let list = site.store.checkout_list(actor, slot_id).await?;
        if !list.sheet.baskets.iter().any(|b| b.order_id == order_id) {
            return Err(PageError::NotFound);
        }
        let again = |message: String, status: StatusCode| {
            let e = BasketError { order_id, message };
            list_page(&site, &v, &list, "", Some(&e), status)
        };
        let (collection, paid) = match tap(&site, v.lang, &form) {
            Ok(x) => x,
            Err(Ok(message)) => return Ok(again(message, StatusCode::UNPROCESSABLE_ENTITY)),
            Err(Err(e)) => return Err(e),
        };
        let done = match (&paid, collection) {
            (Some(_), _) => "checkout-paid",
            (None, Collection::Collected) => "checkout-collected",
            (None, Collection::NotCollected) => "checkout-absent",
            (None, Collection::Pending) => "checkout-pending",
        };
        match site
            .store
            .check_out(actor, order_id, collection, paid)
            .await
        {
            Ok(()) => Ok(see_other(
                &v,
                &format!("/checkout/{slot_id}?done={done}#basket-{order_id}"),
            )),
            Err(e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. })) => Ok(again(
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
    fn amounts_are_read_as_typed_on_a_phone() {
        assert_eq!(parse_amount("12,50"), Some(Money::from_cents(1250)));
        assert_eq!(parse_amount("12.5"), Some(Money::from_cents(1250)));
        assert_eq!(parse_amount("12,50\u{a0}€"), Some(Money::from_cents(1250)));
        assert_eq!(parse_amount("€3.40"), Some(Money::from_cents(340)));
        assert_eq!(parse_amount("douze"), None);
        assert_eq!(parse_amount(""), None);
    }

    #[test]
    fn phone_searches_need_three_digits() {
        assert_eq!(digits("06 12-34"), "061234");
    }
}
