//! `halle payments reconcile`: what Stripe holds against what Halle recorded. Lists the
//! intents no basket knows (a charge without an order), and the baskets whose payment state
//! disagrees with Stripe's (an authorisation still held for a cancelled basket, a capture
//! Halle did not record).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::intents::{AUTHORISED, CAPTURED, halle_status, is_open};
use crate::{
    Store, StoreError,
    entities::{online_payment as op, order},
};

/// One basket whose payment state disagrees with Stripe's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The basket.
    pub order_id: i64,
    /// The intent.
    pub intent_id: String,
    /// What Halle recorded.
    pub halle: String,
    /// What Stripe says (Halle's name for it).
    pub stripe: String,
    /// The basket's status (`placed`, `cancelled`).
    pub order_status: String,
}

/// What `reconcile` found for one market.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Intents at Stripe that no basket of Halle's knows: (intent id, amount in cents, status).
    pub without_order: Vec<(String, i64, String)>,
    /// Baskets that disagree with Stripe.
    pub mismatches: Vec<Mismatch>,
}

impl Store {
    /// Compares a market's intents at Stripe with its baskets.
    pub async fn reconcile_payments(&self, market_id: i64) -> Result<Reconciliation, StoreError> {
        let (stripe, _) = self.stripe_for(market_id).await?;
        let rows: HashMap<String, op::Model> = op::Entity::find()
            .filter(op::Column::MarketId.eq(market_id))
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|r| r.intent_id.clone().map(|id| (id, r)))
            .collect();
        let orders: HashMap<i64, String> = order::Entity::find()
            .filter(order::Column::Id.is_in(rows.values().map(|r| r.order_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| (o.id, o.status))
            .collect();
        let mut out = Reconciliation::default();
        let listed = stripe.list_intents().await?;
        let seen: std::collections::HashSet<String> = listed.iter().map(|i| i.id.clone()).collect();
        let check = |intent: &super::stripe::Intent, out: &mut Reconciliation| {
            let Some(r) = rows.get(&intent.id) else {
                out.without_order
                    .push((intent.id.clone(), intent.amount, intent.status.clone()));
                return;
            };
            let stripe_says = halle_status(&intent.status);
            let order_status = orders.get(&r.order_id).cloned().unwrap_or_default();
            let held_for_nothing = order_status != crate::orders::PLACED
                && (stripe_says == AUTHORISED
                    || (stripe_says == CAPTURED && r.refunded_cents < r.captured_cents));
            if stripe_says != r.status || held_for_nothing {
                out.mismatches.push(Mismatch {
                    order_id: r.order_id,
                    intent_id: intent.id.clone(),
                    halle: r.status.clone(),
                    stripe: stripe_says.to_owned(),
                    order_status,
                });
            }
        };
        for intent in listed {
            // Intents of other markets sharing the Stripe account are theirs to reconcile.
            if intent
                .metadata
                .get("halle_market_id")
                .is_some_and(|m| *m != market_id.to_string())
            {
                continue;
            }
            check(&intent, &mut out);
        }
        // Open intents older than the list Stripe returned.
        for (id, r) in &rows {
            if !seen.contains(id) && is_open(&r.status) {
                let intent = stripe.retrieve_intent(id).await?;
                check(&intent, &mut out);
            }
        }
        out.mismatches.sort_by_key(|m| m.order_id);
        Ok(out)
    }

    /// The markets that take payment online (for `halle payments reconcile` without a market).
    pub async fn markets_paid_online(&self) -> Result<Vec<i64>, StoreError> {
        Ok(crate::entities::market_payment_settings::Entity::find()
            .filter(crate::entities::market_payment_settings::Column::Mode.ne("on_the_spot"))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| s.market_id)
            .collect())
    }
}
