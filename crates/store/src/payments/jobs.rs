//! The periodic work on card payments, run with an explicit `now` by a task of `halle serve`
//! (every few minutes) and by `halle payments run`:
//!
//! 1. **Holds about to expire.** A card hold lasts about 7 days. An authorisation older than
//!    [`HOLD_CAPTURE_AGE`] whose distribution is still to come is captured at the basket's
//!    estimate (weights recorded so far, estimates for the rest; never more than held), and a
//!    `payment_jobs` row, written in the capture's transaction, records that what the weighing
//!    finds below that capture is to be refunded.
//! 2. **The difference, after weighing.** Once every piece of the basket is weighed (or its
//!    distribution is over), the job refunds what was captured above the final total, with an
//!    idempotency key of its own (`<intent key>:difference`), and is done.
//! 3. **Releases that failed.** A basket cancelled while Stripe could not be reached keeps its
//!    hold (or its capture) at Stripe: every run releases (or refunds) it again, with the same
//!    idempotency keys as the first try, until Stripe answers.
//!
//! One basket's failure (Stripe unreachable, refused) is recorded and the run goes on.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    SqlErr,
    sea_query::{Expr, ExprTrait},
};

use super::intents::{AUTHORISED, CAPTURED, REQUIRES_PAYMENT};
use crate::{
    Store, StoreError,
    entities::{distribution_slot as slot, online_payment as op, order, payment_job as job},
};

/// How old an authorisation is when it is captured before distribution: 6 days and a half,
/// half a day before Stripe's 7 days run out.
pub const HOLD_CAPTURE_AGE: Duration = Duration::hours(6 * 24 + 12);

/// The job's kind: refund what the weighing finds below an early capture.
const REFUND_DIFFERENCE: &str = "refund_difference";

/// What one run of the periodic payment work did (order ids).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentWork {
    /// Baskets whose hold was captured at the estimate, before distribution.
    pub captured_early: Vec<i64>,
    /// Baskets refunded the difference after weighing: (order, cents).
    pub differences_refunded: Vec<(i64, i64)>,
    /// Cancelled baskets whose hold was released (or capture refunded) on a retry.
    pub released: Vec<i64>,
    /// Baskets left for the next run, and why.
    pub failed: Vec<(i64, String)>,
}

/// Records, in the early capture's transaction, that the difference is to be refunded later.
pub(super) async fn refund_later(
    db: &impl ConnectionTrait,
    r: &op::Model,
    captured_cents: i64,
) -> Result<(), StoreError> {
    let inserted = job::ActiveModel {
        online_payment_id: Set(r.id),
        order_id: Set(r.order_id),
        market_id: Set(r.market_id),
        kind: Set(REFUND_DIFFERENCE.to_owned()),
        captured_cents: Set(captured_cents),
        attempts: Set(0),
        last_error: Set(None),
        refunded_cents: Set(None),
        created_at: Set(Utc::now()),
        done_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Runs the periodic payment work as of `now` (see the module's header).
    pub async fn run_payment_work(&self, now: DateTime<Utc>) -> Result<PaymentWork, StoreError> {
        let mut work = PaymentWork::default();
        self.capture_expiring(now, &mut work).await?;
        self.refund_differences(now, &mut work).await?;
        self.retry_releases(&mut work).await?;
        Ok(work)
    }

    /// Captures at their estimate the authorisations older than [`HOLD_CAPTURE_AGE`] whose
    /// distribution starts after `now`.
    async fn capture_expiring(
        &self,
        now: DateTime<Utc>,
        work: &mut PaymentWork,
    ) -> Result<(), StoreError> {
        let rows = op::Entity::find()
            .filter(op::Column::Status.eq(AUTHORISED))
            .filter(op::Column::CreatedAt.lt(now - HOLD_CAPTURE_AGE))
            .all(self.db())
            .await?;
        for r in rows {
            let Some(o) = order::Entity::find_by_id(r.order_id).one(self.db()).await? else {
                continue;
            };
            if o.status != crate::orders::PLACED {
                continue;
            }
            let later = slot::Entity::find_by_id(o.slot_id)
                .one(self.db())
                .await?
                .is_some_and(|s| s.starts_at > now);
            if !later {
                // Distributed (or being): captured at check-out, for the weighed total.
                continue;
            }
            let done = async {
                let (estimate, _) = self.weighed_total(&o).await?;
                self.capture(&o, r.market_id, Some(estimate), true).await
            }
            .await;
            match done {
                Ok(v) if v.status == CAPTURED => work.captured_early.push(o.id),
                Ok(_) => {}
                Err(e) => work.failed.push((o.id, e.to_string())),
            }
        }
        Ok(())
    }

    /// Refunds, once the basket is weighed or distributed, what an early capture took above
    /// its final total.
    async fn refund_differences(
        &self,
        now: DateTime<Utc>,
        work: &mut PaymentWork,
    ) -> Result<(), StoreError> {
        let jobs = job::Entity::find()
            .filter(job::Column::DoneAt.is_null())
            .filter(job::Column::Kind.eq(REFUND_DIFFERENCE))
            .all(self.db())
            .await?;
        for j in jobs {
            match self.refund_difference(&j, now).await {
                Ok(Some(cents)) => {
                    self.job_done(&j, cents).await?;
                    if cents > 0 {
                        work.differences_refunded.push((j.order_id, cents));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.job_failed(&j, &e).await?;
                    work.failed.push((j.order_id, e.to_string()));
                }
            }
        }
        Ok(())
    }

    /// What one job refunded (`None`: not weighed yet, nothing done).
    async fn refund_difference(
        &self,
        j: &job::Model,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let r = self.intent_row(j.online_payment_id).await?;
        let o = order::Entity::find_by_id(j.order_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("order", j.order_id))?;
        if o.status != crate::orders::PLACED {
            // A cancelled basket is refunded whole (see `retry_releases`).
            return Ok(Some(0));
        }
        let over = slot::Entity::find_by_id(o.slot_id)
            .one(self.db())
            .await?
            .is_some_and(|s| s.ends_at <= now);
        let (total, weighed) = self.weighed_total(&o).await?;
        if !weighed && !over {
            return Ok(None);
        }
        let cents = std::cmp::min(
            j.captured_cents - total,
            r.captured_cents - r.refunded_cents,
        );
        if cents <= 0 {
            return Ok(Some(0));
        }
        let (stripe, _) = self.stripe_for(j.market_id).await?;
        let key = format!("{}:difference", r.idempotency_key);
        self.refund_keyed(&stripe, &r, cents, &key).await?;
        Ok(Some(cents))
    }

    async fn job_done(&self, j: &job::Model, cents: i64) -> Result<(), StoreError> {
        job::Entity::update_many()
            .col_expr(job::Column::DoneAt, Expr::val(Utc::now()))
            .col_expr(job::Column::RefundedCents, Expr::val(cents))
            .col_expr(job::Column::Attempts, Expr::val(j.attempts + 1))
            .filter(job::Column::Id.eq(j.id))
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn job_failed(&self, j: &job::Model, e: &StoreError) -> Result<(), StoreError> {
        tracing::warn!(order_id = j.order_id, error = %e, "a card refund is left for the next run");
        job::Entity::update_many()
            .col_expr(job::Column::Attempts, Expr::val(j.attempts + 1))
            .col_expr(job::Column::LastError, Expr::val(e.to_string()))
            .filter(job::Column::Id.eq(j.id))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Releases the holds (and refunds the captures) still at Stripe for cancelled baskets,
    /// with the idempotency keys of the first try.
    async fn retry_releases(&self, work: &mut PaymentWork) -> Result<(), StoreError> {
        let cancelled = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::Status.ne(crate::orders::PLACED));
        let rows = op::Entity::find()
            .filter(op::Column::IntentId.is_not_null())
            .filter(
                Condition::any()
                    .add(op::Column::Status.is_in([REQUIRES_PAYMENT, AUTHORISED]))
                    .add(
                        Condition::all().add(op::Column::Status.eq(CAPTURED)).add(
                            Expr::col(op::Column::RefundedCents)
                                .lt(Expr::col(op::Column::CapturedCents)),
                        ),
                    ),
            )
            .filter(op::Column::OrderId.in_subquery(cancelled.into_query()))
            .all(self.db())
            .await?;
        for r in rows {
            let done = async {
                let (stripe, _) = self.stripe_for(r.market_id).await?;
                if r.status == CAPTURED {
                    self.refund_row(&stripe, &r, r.captured_cents - r.refunded_cents)
                        .await
                } else {
                    self.release_intent(&stripe, &r).await
                }
            }
            .await;
            match done {
                Ok(()) => work.released.push(r.order_id),
                Err(e) => {
                    tracing::warn!(order_id = r.order_id, error = %e, "a card hold is left for the next run");
                    work.failed.push((r.order_id, e.to_string()));
                }
            }
        }
        Ok(())
    }
}
