//! The life of a basket paid by card: the hold (a PaymentIntent with manual capture), its
//! authorisation read back from Stripe, capture after weighing, release, refunds.

use chrono::{DateTime, Utc};
use domain::Money;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, SqlErr, sea_query::Expr,
};

use super::{
    amounts::hold_cents,
    settings::PaymentMode,
    stripe::{Intent, Stripe},
};
use crate::{
    Actor, LineFilter, Store, StoreError,
    catalogue::corrupt,
    entities::{online_payment as op, order, payment},
    rights,
};

pub(crate) const CREATING: &str = "creating";
pub(crate) const REQUIRES_PAYMENT: &str = "requires_payment";
pub(crate) const AUTHORISED: &str = "authorised";
pub(crate) const CAPTURED: &str = "captured";
pub(crate) const CANCELLED: &str = "cancelled";

/// Halle's name for a Stripe PaymentIntent status.
pub(crate) fn halle_status(stripe_status: &str) -> &'static str {
    match stripe_status {
        "requires_capture" => AUTHORISED,
        "succeeded" => CAPTURED,
        "canceled" => CANCELLED,
        _ => REQUIRES_PAYMENT,
    }
}

/// One PaymentIntent of a basket, as staff and the consumer may see it.
#[derive(Clone, Debug)]
pub struct OnlinePaymentView {
    /// Id.
    pub id: i64,
    /// The basket.
    pub order_id: i64,
    /// Stripe's id of the intent (`None` while Stripe has not answered its creation).
    pub intent_id: Option<String>,
    /// `creating`, `requires_payment`, `authorised`, `captured` or `cancelled`.
    pub status: String,
    /// What the card was asked to hold.
    pub amount: Money,
    /// What was captured.
    pub captured: Money,
    /// What was refunded since.
    pub refunded: Money,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

fn payment_view(r: &op::Model) -> OnlinePaymentView {
    OnlinePaymentView {
        id: r.id,
        order_id: r.order_id,
        intent_id: r.intent_id.clone(),
        status: r.status.clone(),
        amount: Money::from_cents(r.amount_cents),
        captured: Money::from_cents(r.captured_cents),
        refunded: Money::from_cents(r.refunded_cents),
        created_at: r.created_at,
    }
}

/// What the payment page shows.
#[derive(Clone, Debug)]
pub enum PaymentPage {
    /// The card is to be entered: Stripe.js confirms this intent in the browser.
    Pay {
        /// The amount held.
        amount: Money,
        /// The intent's client secret, for Stripe.js only.
        client_secret: String,
        /// The market's publishable key.
        publishable_key: String,
        /// Where Stripe.js is loaded from.
        js_url: String,
    },
    /// Already authorised for this amount: nothing to do.
    Authorised(Money),
    /// Already captured.
    Captured(Money),
}

/// What happened to a basket's payment. The mail half (order confirmations) hooks here: see
/// [`Store::payment_event`], called in the transaction that records the change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The card holds the amount (cents).
    Authorised { order_id: i64, cents: i64 },
    /// The amount (cents) was taken.
    Captured { order_id: i64, cents: i64 },
    /// The hold was released.
    Released { order_id: i64 },
    /// The amount (cents) was refunded.
    Refunded { order_id: i64, cents: i64 },
}

impl Store {
    /// The hook for what a payment change should tell people (the consumer's confirmation, a
    /// refund notice). Called inside the transaction that records the change, so a mail outbox
    /// row written here commits or rolls back with it. Today it only logs.
    pub(crate) async fn payment_event(
        &self,
        _db: &impl ConnectionTrait,
        event: PaymentEvent,
    ) -> Result<(), StoreError> {
        tracing::info!(?event, "payment");
        Ok(())
    }

    /// The PaymentIntents of a basket, newest first, for who may see the basket.
    pub async fn online_payments(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<Vec<OnlinePaymentView>, StoreError> {
        self.visible_order(self.db(), actor, order_id).await?;
        Ok(self
            .intent_rows(self.db(), order_id)
            .await?
            .iter()
            .map(payment_view)
            .collect())
    }

    pub(crate) async fn intent_rows(
        &self,
        db: &impl ConnectionTrait,
        order_id: i64,
    ) -> Result<Vec<op::Model>, StoreError> {
        Ok(op::Entity::find()
            .filter(op::Column::OrderId.eq(order_id))
            .order_by_desc(op::Column::Id)
            .all(db)
            .await?)
    }

    /// What the card must hold for a basket: its total, variable-weight pieces at their
    /// estimate plus the market's margin.
    pub(super) async fn hold_for(
        &self,
        o: &order::Model,
        margin_bp: i32,
    ) -> Result<i64, StoreError> {
        let view = self
            .order_views(vec![o.clone()])
            .await?
            .pop()
            .ok_or_else(|| corrupt("order", o.id))?;
        let lines: Vec<(i64, bool)> = view
            .lines
            .iter()
            .map(|l| (l.total.cents(), l.pricing.is_variable_weight()))
            .collect();
        Ok(hold_cents(&lines, margin_bp))
    }

    /// Opens (or takes up again) the card payment of a committed basket: the consumer's own,
    /// or one a coordinator placed for them. The intent is created after the order exists, with
    /// an idempotency key stored first: if Stripe cannot be reached, the order stays unpaid
    /// and the next try sends the same key, so Stripe makes one intent whatever the tries.
    pub async fn start_online_payment(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<PaymentPage, StoreError> {
        let (o, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !rights::may_change_order(actor, &o, market_id) {
            return Err(StoreError::forbidden(
                "only the consumer pays for this basket",
            ));
        }
        if o.status != crate::orders::PLACED {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        let (stripe, settings) = self.stripe_for(market_id).await?;
        let view = super::settings::view(market_id, Some(&settings));
        let publishable_key = match (&view.publishable_key, view.takes_cards()) {
            (Some(k), true) => k.clone(),
            _ => {
                return Err(StoreError::conflict(
                    "online_payment_off",
                    "this market's Stripe account is not set up",
                ));
            }
        };
        let hold = self.hold_for(&o, settings.weight_margin_bp).await?;
        if hold <= 0 {
            return Err(StoreError::conflict(
                "nothing_to_pay",
                "this basket is empty",
            ));
        }
        let pay = |r: &op::Model| -> Result<PaymentPage, StoreError> {
            Ok(PaymentPage::Pay {
                amount: Money::from_cents(r.amount_cents),
                client_secret: r
                    .client_secret
                    .clone()
                    .ok_or_else(|| corrupt("client secret", r.id))?,
                publishable_key: publishable_key.clone(),
                js_url: view.js_url.clone(),
            })
        };
        for r in self.intent_rows(self.db(), order_id).await? {
            match r.status.as_str() {
                CAPTURED => return Ok(PaymentPage::Captured(Money::from_cents(r.captured_cents))),
                AUTHORISED if r.amount_cents >= hold => {
                    return Ok(PaymentPage::Authorised(Money::from_cents(r.amount_cents)));
                }
                REQUIRES_PAYMENT if r.amount_cents == hold && r.client_secret.is_some() => {
                    return pay(&r);
                }
                CREATING if r.amount_cents == hold => {
                    let r = self.create_intent(&stripe, r).await?;
                    return pay(&r);
                }
                // The basket changed since: this intent no longer fits (a grown basket needs
                // a new authorisation). Release it first.
                AUTHORISED | REQUIRES_PAYMENT => self.release_intent(&stripe, &r).await?,
                CREATING => {
                    let r = self.create_intent(&stripe, r).await?;
                    self.release_intent(&stripe, &r).await?;
                }
                _ => {}
            }
        }
        let now = Utc::now();
        let row = op::ActiveModel {
            order_id: Set(order_id),
            market_id: Set(market_id),
            idempotency_key: Set(format!(
                "halle-{order_id}-{}",
                hex::encode(rand::random::<[u8; 8]>())
            )),
            intent_id: Set(None),
            client_secret: Set(None),
            status: Set(CREATING.to_owned()),
            amount_cents: Set(hold),
            captured_cents: Set(0),
            refunded_cents: Set(0),
            operations: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        let r = self.create_intent(&stripe, row).await?;
        pay(&r)
    }

    /// Asks Stripe for the intent of a `creating` row (again, with the same key).
    async fn create_intent(&self, stripe: &Stripe, r: op::Model) -> Result<op::Model, StoreError> {
        let intent = stripe
            .create_intent(&r.idempotency_key, r.amount_cents, r.order_id, r.market_id)
            .await?;
        let mut m: op::ActiveModel = r.into();
        m.intent_id = Set(Some(intent.id.clone()));
        m.client_secret = Set(intent.client_secret.clone());
        m.status = Set(halle_status(&intent.status).to_owned());
        m.updated_at = Set(Utc::now());
        Ok(m.update(self.db()).await?)
    }

    /// Cancels an intent not captured (releases its hold).
    pub(super) async fn release_intent(
        &self,
        stripe: &Stripe,
        r: &op::Model,
    ) -> Result<(), StoreError> {
        if let Some(id) = &r.intent_id {
            let intent = stripe
                .cancel_intent(&format!("{}:cancel", r.idempotency_key), id)
                .await?;
            self.sync_intent(r, &intent).await?;
        }
        Ok(())
    }

    /// Brings a row in line with the intent Stripe returned: the only way a basket becomes
    /// authorised or captured. Idempotent, and safe whatever order events arrive in, since it
    /// writes Stripe's current state. Money captured appears in `payments` (method `online`).
    pub(crate) async fn sync_intent(
        &self,
        r: &op::Model,
        intent: &Intent,
    ) -> Result<(), StoreError> {
        let status = halle_status(&intent.status);
        if status == r.status {
            return Ok(());
        }
        let w = self.write().await?;
        let now = Utc::now();
        let mut update = op::Entity::update_many()
            .col_expr(op::Column::Status, Expr::val(status))
            .col_expr(op::Column::UpdatedAt, Expr::val(now));
        if status == CAPTURED && r.captured_cents == 0 {
            // Captured without Halle's own answer (lost, or done from Stripe's dashboard).
            let cents = intent.amount_received.unwrap_or(r.amount_cents);
            update = update.col_expr(op::Column::CapturedCents, Expr::val(cents));
            self.record_online(
                &w.tx,
                r.order_id,
                cents,
                &format!("stripe:{}:capture", intent.id),
            )
            .await?;
            self.payment_event(
                &w.tx,
                PaymentEvent::Captured {
                    order_id: r.order_id,
                    cents,
                },
            )
            .await?;
        }
        let changed = update
            .filter(op::Column::Id.eq(r.id))
            .filter(op::Column::Status.eq(r.status.clone()))
            .exec(&w.tx)
            .await?;
        if changed.rows_affected == 1 {
            match status {
                AUTHORISED => {
                    self.payment_event(
                        &w.tx,
                        PaymentEvent::Authorised {
                            order_id: r.order_id,
                            cents: r.amount_cents,
                        },
                    )
                    .await?;
                }
                CANCELLED => {
                    self.payment_event(
                        &w.tx,
                        PaymentEvent::Released {
                            order_id: r.order_id,
                        },
                    )
                    .await?;
                }
                _ => {}
            }
            w.commit().await?;
        }
        Ok(())
    }

    /// Money that moved online, in the check-out's `payments` (refunds negative), once per key.
    async fn record_online(
        &self,
        db: &impl ConnectionTrait,
        order_id: i64,
        cents: i64,
        key: &str,
    ) -> Result<(), StoreError> {
        let known = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order_id))
            .filter(payment::Column::IdempotencyKey.eq(key))
            .one(db)
            .await?;
        if known.is_some() {
            return Ok(());
        }
        let o = order::Entity::find_by_id(order_id)
            .one(db)
            .await?
            .ok_or_else(|| corrupt("payment's order", order_id))?;
        let inserted = payment::ActiveModel {
            order_id: Set(order_id),
            method: Set(distribution::PaymentMethod::Online.as_str().to_owned()),
            amount_cents: Set(cents),
            recorded_by: Set(o.account_id),
            recorded_at: Set(Utc::now()),
            idempotency_key: Set(Some(key.to_owned())),
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

    /// Reads a basket's open intents back from Stripe (after the payment page, or when in
    /// doubt): the consumer, or the market's staff.
    pub async fn refresh_online_payment(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<Vec<OnlinePaymentView>, StoreError> {
        let (_, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        let rows = self.intent_rows(self.db(), order_id).await?;
        if rows
            .iter()
            .any(|r| r.intent_id.is_some() && is_open(&r.status))
        {
            let (stripe, _) = self.stripe_for(market_id).await?;
            for r in &rows {
                if let Some(id) = r.intent_id.as_deref().filter(|_| is_open(&r.status)) {
                    let intent = stripe.retrieve_intent(id).await?;
                    self.sync_intent(r, &intent).await?;
                }
            }
        }
        self.online_payments(actor, order_id).await
    }

    /// The basket's total once weighed (estimate for pieces not weighed yet), in cents.
    async fn final_total_cents(&self, o: &order::Model) -> Result<i64, StoreError> {
        Ok(self.weighed_total(o).await?.0)
    }

    /// The basket's total in cents as its sheet has it (pieces not weighed yet at their
    /// estimate), and whether every piece is weighed.
    pub(super) async fn weighed_total(&self, o: &order::Model) -> Result<(i64, bool), StoreError> {
        let data = self
            .cycle_data(
                o.cycle_id,
                LineFilter {
                    producer_id: None,
                    slot_id: Some(o.slot_id),
                },
            )
            .await?;
        let sheet = distribution::distribution_sheet(
            &data.cycle,
            &data.slots,
            &data.lines,
            &data.states,
            o.slot_id,
        )
        .ok_or_else(|| corrupt("slot of order", o.id))?;
        sheet
            .baskets
            .iter()
            .find(|b| b.order_id == o.id)
            .map(|b| (b.total.cents(), b.fully_weighed))
            .ok_or_else(|| corrupt("basket on its sheet", o.id))
    }

    /// Captures a basket's authorisation once weighed or at distribution (the market's
    /// coordinators and volunteers): the basket's final total, never more than was held;
    /// what is above stays due on the spot.
    pub async fn capture_online_payment(
        &self,
        actor: &Actor,
        order_id: i64,
    ) -> Result<OnlinePaymentView, StoreError> {
        let (o, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !rights::may_check_out(actor, market_id) {
            return Err(StoreError::forbidden(
                "payments are captured by the market's coordinators and volunteers",
            ));
        }
        if o.status != crate::orders::PLACED {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        let c = self.cycle_row(self.db(), o.cycle_id).await?;
        crate::reports::ensure_closed(&c, "a payment is captured once the cycle has closed")?;
        let total = self.final_total_cents(&o).await?;
        self.capture(&o, market_id, Some(total), false).await
    }

    /// Captures the basket's authorisation for `wanted` cents (at most what is held; the
    /// estimate when `None`). `early`: captured before weighing, because the hold would expire;
    /// a job to refund what the weighing finds below the capture is written with it.
    pub(super) async fn capture(
        &self,
        o: &order::Model,
        market_id: i64,
        wanted: Option<i64>,
        early: bool,
    ) -> Result<OnlinePaymentView, StoreError> {
        let rows = self.intent_rows(self.db(), o.id).await?;
        if let Some(done) = rows.iter().find(|r| r.status == CAPTURED) {
            return Ok(payment_view(done));
        }
        let r = rows
            .into_iter()
            .find(|r| r.status == AUTHORISED)
            .ok_or_else(|| {
                StoreError::conflict(
                    "not_authorised",
                    "no card payment is authorised for this basket",
                )
            })?;
        let intent_id = r
            .intent_id
            .clone()
            .ok_or_else(|| corrupt("intent id", r.id))?;
        let amount = wanted.unwrap_or(r.amount_cents).min(r.amount_cents);
        let (stripe, _) = self.stripe_for(market_id).await?;
        if amount <= 0 {
            self.release_intent(&stripe, &r).await?;
            return Ok(payment_view(&self.intent_row(r.id).await?));
        }
        let intent = stripe
            .capture_intent(
                &format!("{}:capture", r.idempotency_key),
                &intent_id,
                amount,
            )
            .await?;
        let w = self.write().await?;
        let changed = op::Entity::update_many()
            .col_expr(op::Column::Status, Expr::val(CAPTURED))
            .col_expr(op::Column::CapturedCents, Expr::val(amount))
            .col_expr(op::Column::UpdatedAt, Expr::val(Utc::now()))
            .filter(op::Column::Id.eq(r.id))
            .filter(op::Column::Status.eq(AUTHORISED))
            .exec(&w.tx)
            .await?;
        if changed.rows_affected == 1 {
            self.record_online(
                &w.tx,
                o.id,
                amount,
                &format!("stripe:{}:capture", intent.id),
            )
            .await?;
            if early {
                super::jobs::refund_later(&w.tx, &r, amount).await?;
            }
            self.payment_event(
                &w.tx,
                PaymentEvent::Captured {
                    order_id: o.id,
                    cents: amount,
                },
            )
            .await?;
            w.commit().await?;
        }
        Ok(payment_view(&self.intent_row(r.id).await?))
    }

    pub(crate) async fn intent_row(&self, id: i64) -> Result<op::Model, StoreError> {
        op::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("payment", id))
    }

    /// Refunds part of a captured card payment (a product missing at distribution): the
    /// market's coordinators. A retry of the same refund (same amount, nothing refunded
    /// between) sends the same idempotency key.
    pub async fn refund_online_payment(
        &self,
        actor: &Actor,
        order_id: i64,
        amount: Money,
    ) -> Result<OnlinePaymentView, StoreError> {
        let (_, market_id) = self.visible_order(self.db(), actor, order_id).await?;
        if !actor.coordinates(market_id) {
            return Err(StoreError::forbidden(
                "refunds are made by the market's coordinators",
            ));
        }
        let r = self
            .intent_rows(self.db(), order_id)
            .await?
            .into_iter()
            .find(|r| r.status == CAPTURED)
            .ok_or_else(|| {
                StoreError::conflict("not_captured", "no card payment was taken for this basket")
            })?;
        let left = r.captured_cents - r.refunded_cents;
        if amount.cents() <= 0 || amount.cents() > left {
            return Err(StoreError::invalid(
                "invalid_amount",
                format!(
                    "a refund is between 0.01 € and what is left of the card payment ({} €)",
                    Money::from_cents(left)
                ),
            ));
        }
        let (stripe, _) = self.stripe_for(market_id).await?;
        self.refund_row(&stripe, &r, amount.cents()).await?;
        Ok(payment_view(&self.intent_row(r.id).await?))
    }

    pub(super) async fn refund_row(
        &self,
        stripe: &Stripe,
        r: &op::Model,
        cents: i64,
    ) -> Result<(), StoreError> {
        let key = format!("{}:refund:{}:{cents}", r.idempotency_key, r.refunded_cents);
        self.refund_keyed(stripe, r, cents, &key).await
    }

    /// Refunds `cents` of a captured intent with the idempotency key `key`, and records it.
    pub(super) async fn refund_keyed(
        &self,
        stripe: &Stripe,
        r: &op::Model,
        cents: i64,
        key: &str,
    ) -> Result<(), StoreError> {
        let intent_id = r
            .intent_id
            .clone()
            .ok_or_else(|| corrupt("intent id", r.id))?;
        let refund = stripe.refund(key, &intent_id, cents).await?;
        let w = self.write().await?;
        let changed = op::Entity::update_many()
            .col_expr(
                op::Column::RefundedCents,
                Expr::val(r.refunded_cents + refund.amount),
            )
            .col_expr(op::Column::Operations, Expr::val(r.operations + 1))
            .col_expr(op::Column::UpdatedAt, Expr::val(Utc::now()))
            .filter(op::Column::Id.eq(r.id))
            .filter(op::Column::RefundedCents.eq(r.refunded_cents))
            .exec(&w.tx)
            .await?;
        if changed.rows_affected == 1 {
            self.record_online(
                &w.tx,
                r.order_id,
                -refund.amount,
                &format!("stripe:{}", refund.id),
            )
            .await?;
            self.payment_event(
                &w.tx,
                PaymentEvent::Refunded {
                    order_id: r.order_id,
                    cents: refund.amount,
                },
            )
            .await?;
            w.commit().await?;
        }
        Ok(())
    }

    /// After a basket changed (before close): an authorisation smaller than the new hold is
    /// released, and the consumer is asked to pay again (a new intent, for the new total); a
    /// larger one is kept, and capture will take less. Best effort: Stripe unreachable leaves
    /// the old hold, which `halle payments reconcile` lists.
    pub(crate) async fn payments_after_change(&self, order_id: i64) {
        if let Err(e) = self.follow_change(order_id).await {
            tracing::warn!(order_id, error = %e, "the card payment could not follow the basket's change");
        }
    }

    pub(super) async fn follow_change(&self, order_id: i64) -> Result<(), StoreError> {
        let rows = self.intent_rows(self.db(), order_id).await?;
        let open: Vec<&op::Model> = rows.iter().filter(|r| is_open(&r.status)).collect();
        if open.is_empty() {
            return Ok(());
        }
        let o = order::Entity::find_by_id(order_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("order", order_id))?;
        let (stripe, settings) = self.stripe_for(open[0].market_id).await?;
        let hold = self.hold_for(&o, settings.weight_margin_bp).await?;
        for r in open {
            if o.status != crate::orders::PLACED || r.amount_cents < hold || r.status != AUTHORISED
            {
                self.release_intent(&stripe, r).await?;
            }
        }
        if o.status != crate::orders::PLACED {
            for r in rows.iter().filter(|r| r.status == CAPTURED) {
                let left = r.captured_cents - r.refunded_cents;
                if left > 0 {
                    self.refund_row(&stripe, r, left).await?;
                }
            }
        }
        Ok(())
    }

    /// Whether a market takes online payment (for the pages).
    pub async fn market_takes_cards(&self, market_id: i64) -> Result<bool, StoreError> {
        Ok(self.payment_settings(market_id).await?.takes_cards())
    }

    /// Whether a market takes payment on the spot.
    pub async fn market_takes_cash(&self, market_id: i64) -> Result<bool, StoreError> {
        Ok(self.payment_settings(market_id).await?.mode != PaymentMode::Online)
    }
}

pub(crate) fn is_open(status: &str) -> bool {
    matches!(status, REQUIRES_PAYMENT | AUTHORISED)
}
