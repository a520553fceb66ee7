//! Transactional notices that follow a change to what a consumer ordered, each written in the
//! transaction of that change:
//!
//! - a slot moved, cancelled or restored ([`enqueue_slot_changed`], called by the one write
//!   every slot change goes through, `Store::slot_change_in`: a coordinator's move and a host's
//!   flag alike): every consumer with a basket there, in one `INSERT ... SELECT`, once per
//!   change (unique key: the slot, its times and state before and after, the account);
//! - the final amount of a basket once weighed ([`enqueue_final_amount`], called by
//!   `Store::record_weights`): when every variable-weight piece is weighed and the total differs
//!   from the estimate, the lines with their estimated and final amounts, once per basket.
//!
//! Payloads carry instants (RFC 3339), cents and thousandths: the `mail` crate formats them in
//! the recipient's language and the market's time zone when it sends.

use std::collections::HashMap;

use chrono::Utc;
use distribution::{LineRow, VariableWeight, basket_amounts, line_amounts, weighed_kg};
use domain::{Money, Quantity};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::outbox::{NewMail, enqueue_to_accounts, kind};
use crate::{
    StoreError,
    catalogue::{corrupt, unit_of, vat_of},
    entities::{distribution_slot, line_weight, offer, order, order_line, pickup_point, product},
    members::INTERNAL_EMAIL_DOMAIN,
};

/// What a slot change is, for its mail: `cancelled`, `restored` or `moved`; `None` when
/// neither its times nor its state changed (a note alone).
pub fn slot_change_kind(
    before: &distribution_slot::Model,
    after: &distribution_slot::Model,
) -> Option<&'static str> {
    match (before.cancelled, after.cancelled) {
        (false, true) => Some("cancelled"),
        (true, false) => Some("restored"),
        _ if after.cancelled => None,
        _ if before.starts_at != after.starts_at || before.ends_at != after.ends_at => {
            Some("moved")
        }
        _ => None,
    }
}

/// Mails every consumer with a placed basket at the slot that `before` became `after`
/// (cancelled, restored or moved), inside the caller's transaction, in one statement. Returns
/// how many mails were written (none for a change of note only, or a change already told).
pub(crate) async fn enqueue_slot_changed(
    db: &impl ConnectionTrait,
    market_id: i64,
    before: &distribution_slot::Model,
    after: &distribution_slot::Model,
) -> Result<u64, StoreError> {
    let Some(change) = slot_change_kind(before, after) else {
        return Ok(0);
    };
    let point = pickup_point::Entity::find_by_id(after.pickup_point_id)
        .one(db)
        .await?
        .ok_or_else(|| corrupt("slot's pickup point", after.pickup_point_id))?;
    let payload = json!({
        "slot_id": after.id,
        "change": change,
        "old_starts_at": before.starts_at.to_rfc3339(),
        "old_ends_at": before.ends_at.to_rfc3339(),
        "new_starts_at": after.starts_at.to_rfc3339(),
        "new_ends_at": after.ends_at.to_rfc3339(),
        "point": point.name,
        "address": format!("{}, {} {}", point.address, point.postal_code, point.city),
        "note": after.note,
    });
    let key = format!(
        "slot_changed:{}:{}:{}:{}:{}:{}:{}",
        after.id,
        before.starts_at.timestamp(),
        before.ends_at.timestamp(),
        before.cancelled,
        after.starts_at.timestamp(),
        after.ends_at.timestamp(),
        after.cancelled,
    );
    let backend = db.get_database_backend();
    // Each row's payload is the change's with the basket's id first: `{"order_id":N,` then
    // the rest of the object.
    let sql = "INSERT INTO outbox (market_id, account_id, recipient, recipient_name, language, \
               kind, unique_key, payload, state, attempts, next_attempt_at, created_at) \
               SELECT $1, a.id, a.email, a.name, a.language, $2, \
               CAST($3 AS TEXT) || ':' || CAST(a.id AS TEXT), \
               '{\"order_id\":' || CAST(o.id AS TEXT) || ',' || SUBSTR(CAST($4 AS TEXT), 2), \
               'pending', 0, $5, $5 \
               FROM orders o JOIN accounts a ON a.id = o.account_id \
               WHERE o.slot_id = $6 AND o.status = 'placed' AND a.email NOT LIKE $7 \
               ON CONFLICT DO NOTHING";
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    let res = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            vec![
                market_id.into(),
                kind::SLOT_CHANGED.into(),
                key.into(),
                payload.to_string().into(),
                Utc::now().into(),
                after.id.into(),
                format!("%@{INTERNAL_EMAIL_DOMAIN}").into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// The lines of one basket as `distribution` prices them, read inside the caller's
/// transaction (so weights just written count): lines, their offers and products, weights.
async fn basket_lines(
    db: &impl ConnectionTrait,
    o: &order::Model,
) -> Result<Vec<LineRow>, StoreError> {
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?;
    let offers: HashMap<i64, offer::Model> = offer::Entity::find()
        .filter(offer::Column::Id.is_in(lines.iter().map(|l| l.offer_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let products: HashMap<i64, product::Model> = product::Entity::find()
        .filter(product::Column::Id.is_in(offers.values().map(|f| f.product_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut weights: HashMap<i64, Vec<(i32, Quantity)>> = HashMap::new();
    for w in line_weight::Entity::find()
        .filter(line_weight::Column::OrderLineId.is_in(lines.iter().map(|l| l.id)))
        .all(db)
        .await?
    {
        weights
            .entry(w.order_line_id)
            .or_default()
            .push((w.piece, Quantity::from_milli(w.weight_milli)));
    }
    lines
        .into_iter()
        .map(|l| {
            let f = offers
                .get(&l.offer_id)
                .ok_or_else(|| corrupt("line's offer", l.offer_id))?;
            let p = products
                .get(&f.product_id)
                .ok_or_else(|| corrupt("offer's product", f.product_id))?;
            let mut actual = weights.remove(&l.id).unwrap_or_default();
            actual.sort_by_key(|(piece, _)| *piece);
            Ok(LineRow {
                order_id: o.id,
                consumer_id: o.account_id,
                consumer_name: String::new(),
                consumer_phone: None,
                slot_id: o.slot_id,
                line_id: l.id,
                offer_id: l.offer_id,
                product_id: p.id,
                product_name: p.name.clone(),
                producer_id: f.producer_id,
                producer_name: String::new(),
                unit: unit_of(&l.unit)?,
                quantity: Quantity::from_milli(l.quantity_milli),
                unit_price: Money::from_cents(l.unit_price_cents),
                vat: vat_of(l.vat_basis_points)?,
                variable_weight: match (l.variable_weight, l.estimated_weight_milli) {
                    (true, Some(est)) => Some(VariableWeight {
                        estimated_kg: Quantity::from_milli(est),
                        price_per_kg: Money::from_cents(l.kg_price_cents.unwrap_or(f.price_cents)),
                        actual_kg: actual.into_iter().map(|(_, q)| q).collect(),
                    }),
                    _ => None,
                },
            })
        })
        .collect()
}

/// Mails the consumer of `o` its final amount, inside the caller's transaction, when every
/// variable-weight piece of the basket is weighed and the final total differs from the
/// estimated one; once per basket (a later correction of a weight mails nothing more).
/// Returns whether a mail was written.
pub(crate) async fn enqueue_final_amount(
    db: &impl ConnectionTrait,
    market_id: i64,
    o: &order::Model,
) -> Result<bool, StoreError> {
    let lines = basket_lines(db, o).await?;
    if lines.iter().all(|l| l.variable_weight.is_none()) {
        return Ok(false);
    }
    let refs: Vec<&LineRow> = lines.iter().collect();
    let amounts = basket_amounts(&refs);
    if !amounts.fully_weighed || amounts.estimated.total == amounts.effective.total {
        return Ok(false);
    }
    let rows: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let a = line_amounts(l);
            json!({
                "product": l.product_name,
                "quantity_milli": l.quantity.milli(),
                "unit": l.unit.to_string(),
                "weighed_milli": weighed_kg(l).map(|q| q.milli()),
                "estimated_cents": a.estimated.cents(),
                "final_cents": a.effective().cents(),
            })
        })
        .collect();
    let mail = NewMail {
        kind: kind::FINAL_AMOUNT,
        market_id: Some(market_id),
        unique_key: Some(format!("final_amount:{}", o.id)),
        payload: json!({
            "order_id": o.id,
            "lines": rows,
            "estimated_cents": amounts.estimated.total.cents(),
            "final_cents": amounts.effective.total.cents(),
        }),
    };
    Ok(enqueue_to_accounts(db, &mail, &[o.account_id]).await? == 1)
}
