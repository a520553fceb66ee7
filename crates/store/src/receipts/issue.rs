//! Issuing a basket's receipt under the market's gapless counter, and reading it back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use distribution::{Receipt, ReceiptStamp};
use domain::Money;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    SqlErr, Statement,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::{
    Actor, LineFilter, Store, StoreError,
    catalogue::corrupt,
    entities::{market, order, receipt},
    orders::numbered,
    reports::{ensure_closed, market_timezone},
    rights,
};

/// An issued receipt, as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptView {
    /// The basket.
    pub order_id: i64,
    /// As printed: `2026-000123`.
    pub number: String,
    /// Its place in the market's sequence.
    pub seq: i64,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The basket's total incl. VAT at issue.
    pub total: Money,
}

fn view(r: &receipt::Model) -> ReceiptView {
    ReceiptView {
        order_id: r.order_id,
        number: r.number.clone(),
        seq: r.seq,
        issued_at: r.issued_at,
        total: Money::from_cents(r.total_cents),
    }
}

/// `2026-000123`: the year of issue in the market's time zone, then the sequence.
fn number(year: i32, seq: i64) -> String {
    format!("{year}-{seq:06}")
}

impl Store {
    /// The basket's receipt as it would print now, stamped with `stamp` (one slot's data: the
    /// lines, weights and payments of the basket).
    pub(crate) async fn basket_receipt(
        &self,
        o: &order::Model,
        stamp: ReceiptStamp,
    ) -> Result<Receipt, StoreError> {
        let data = self
            .cycle_data(
                o.cycle_id,
                LineFilter {
                    producer_id: None,
                    slot_id: Some(o.slot_id),
                },
            )
            .await?;
        let state = data.states.iter().find(|s| s.order_id == o.id).cloned();
        distribution::receipt(stamp, &data.cycle, &data.slots, &data.lines, state.as_ref())
            .ok_or_else(|| StoreError::not_found("receipt", o.id))
    }

    /// Issues the receipt of basket `o` inside the caller's transaction, or returns the one it
    /// has. `total_cents` is the basket's total as computed before the transaction.
    ///
    /// The basket's row is locked first (PostgreSQL; SQLite's single writer is lock enough),
    /// so that two issues of one basket take turns and the second finds the first's receipt;
    /// then the market's counter row, by an `UPDATE ... RETURNING` that holds its lock until
    /// the transaction ends: every issuer of the market waits for the one before to commit or
    /// roll back, and takes the next number of what was committed.
    pub(crate) async fn issue_receipt_in(
        &self,
        tx: &DatabaseTransaction,
        o: &order::Model,
        market_id: i64,
        issued_by: i64,
        total_cents: i64,
    ) -> Result<receipt::Model, StoreError> {
        order::Entity::find_by_id(o.id)
            .lock_exclusive()
            .one(tx)
            .await?
            .ok_or_else(|| StoreError::not_found("order", o.id))?;
        if let Some(r) = receipt::Entity::find()
            .filter(receipt::Column::OrderId.eq(o.id))
            .one(tx)
            .await?
        {
            return Ok(r);
        }
        let m = market::Entity::find_by_id(market_id)
            .one(tx)
            .await?
            .ok_or_else(|| corrupt("order's market", market_id))?;
        let tz = market_timezone(&m)?;
        let backend = tx.get_database_backend();
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            numbered(
                backend,
                "INSERT INTO receipt_counters (market_id, last_seq) VALUES (?, 0) \
                 ON CONFLICT (market_id) DO NOTHING",
            ),
            [market_id.into()],
        ))
        .await?;
        let row = tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "UPDATE receipt_counters SET last_seq = last_seq + 1 WHERE market_id = ? \
                     RETURNING last_seq",
                ),
                [market_id.into()],
            ))
            .await?
            .ok_or_else(|| corrupt("receipt counter", market_id))?;
        let seq: i64 = row.try_get_by_index(0)?;
        let now = Utc::now();
        let year = now.with_timezone(&tz).format("%Y").to_string();
        let year: i32 = year.parse().unwrap_or(0);
        let inserted = receipt::ActiveModel {
            market_id: Set(market_id),
            order_id: Set(o.id),
            seq: Set(seq),
            number: Set(number(year, seq)),
            issued_at: Set(now),
            issued_by: Set(issued_by),
            total_cents: Set(total_cents),
            ..Default::default()
        }
        .insert(tx)
        .await;
        match inserted {
            Ok(r) => Ok(r),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(StoreError::unavailable(
                    "another receipt was being issued for this basket; try again",
                    1,
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that a basket may get its receipt: placed, and its cycle closed.
    fn receipt_ready(
        o: &order::Model,
        c: &crate::entities::order_cycle::Model,
    ) -> Result<(), StoreError> {
        if o.status != "placed" {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        ensure_closed(c, "a receipt is issued once the cycle has closed")
    }

    /// Issues a basket's receipt (the market's coordinators and volunteers), for a basket
    /// settled without a check-out as collected; a basket that has one keeps it (same number).
    pub async fn issue_receipt(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<ReceiptView, StoreError> {
        let (o, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !rights::may_check_out(actor, market_id) {
            return Err(StoreError::forbidden(
                "receipts are issued by the market's coordinators and volunteers",
            ));
        }
        if let Some(r) = self.receipt_row(self.db(), order_id).await? {
            return Ok(view(&r));
        }
        let c = self.cycle_row(self.db(), o.cycle_id).await?;
        Self::receipt_ready(&o, &c)?;
        let draft = self.basket_receipt(&o, placeholder(order_id)).await?;
        let w = self.write().await?;
        let r = self
            .issue_receipt_in(&w.tx, &o, market_id, actor.account_id, draft.total.cents())
            .await?;
        w.commit().await?;
        Ok(view(&r))
    }

    /// Issues the receipt of a basket being checked out as collected, in the check-out's
    /// transaction (`total_cents` read before it).
    pub(crate) async fn receipt_total_for_checkout(
        &self,
        o: &order::Model,
    ) -> Result<Option<i64>, StoreError> {
        if self.receipt_row(self.db(), o.id).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(
            self.basket_receipt(o, placeholder(o.id))
                .await?
                .total
                .cents(),
        ))
    }

    async fn receipt_row(
        &self,
        db: &impl ConnectionTrait,
        order_id: i64,
    ) -> Result<Option<receipt::Model>, StoreError> {
        Ok(receipt::Entity::find()
            .filter(receipt::Column::OrderId.eq(order_id))
            .one(db)
            .await?)
    }

    /// A basket's receipt, for its consumer (or whoever placed it) and the market's staff;
    /// 404 while none was issued.
    pub async fn receipt(&self, actor: &Actor, order_id: i64) -> Result<Receipt, StoreError> {
        let (o, _) = self.visible_order(self.db(), actor, order_id).await?;
        let r = self
            .receipt_row(self.db(), order_id)
            .await?
            .ok_or_else(|| StoreError::not_found("receipt", order_id))?;
        self.basket_receipt(
            &o,
            ReceiptStamp {
                number: r.number,
                issued_at: r.issued_at,
                order_id,
            },
        )
        .await
    }

    /// Whether a basket has a receipt, and which (its consumer and the market's staff).
    pub async fn receipt_of(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<Option<ReceiptView>, StoreError> {
        self.visible_order(self.db(), actor, order_id).await?;
        Ok(self
            .receipt_row(self.db(), order_id)
            .await?
            .as_ref()
            .map(view))
    }

    /// The receipts issued for a cycle's baskets, by basket (the market's staff: for the
    /// desk's list of orders).
    pub async fn cycle_receipts(
        &self,
        actor: &Actor,
        cycle_id: i64,
    ) -> Result<HashMap<i64, ReceiptView>, StoreError> {
        let c = self.cycle_row(self.db(), cycle_id).await?;
        if !rights::is_staff(actor, c.market_id) {
            return Err(StoreError::forbidden(
                "a cycle's receipts are for the market's coordinators and volunteers",
            ));
        }
        let rows = receipt::Entity::find()
            .filter(
                receipt::Column::OrderId.in_subquery(
                    Query::select()
                        .column(order::Column::Id)
                        .from(order::Entity)
                        .and_where(Expr::col(order::Column::CycleId).eq(cycle_id))
                        .to_owned(),
                ),
            )
            .limit(100_000)
            .all(self.db())
            .await?;
        Ok(rows.iter().map(|r| (r.order_id, view(r))).collect())
    }
}

/// A stamp for computing a basket's amounts before its receipt exists.
fn placeholder(order_id: i64) -> ReceiptStamp {
    ReceiptStamp {
        number: String::new(),
        issued_at: DateTime::<Utc>::UNIX_EPOCH,
        order_id,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_carry_the_year_and_six_digits() {
        assert_eq!(super::number(2026, 123), "2026-000123");
        assert_eq!(super::number(2027, 1_234_567), "2027-1234567");
    }
}
