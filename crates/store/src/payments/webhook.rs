//! Stripe's webhooks: checked with the market's signing secret (`async-stripe`'s
//! `Webhook::construct_event`: HMAC and a 5-minute tolerance), taken once per event id, and
//! never trusted for state: a verified event about an intent makes Halle
//! retrieve that intent from Stripe and write what Stripe says now, so events arriving late or
//! out of order change nothing wrong.
//!
//! A replay (the same event id, signed) is answered as taken and changes nothing: Stripe
//! sends an event again whenever it did not see a 2xx (our answer lost, a timeout), and an
//! error would make it retry for three days and flag the endpoint. A forged, stale or
//! foreign delivery is refused (400) and changes nothing either.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr};
use serde::Deserialize;
use stripe_webhook::{Webhook, WebhookError};

use crate::{
    Store, StoreError,
    entities::{online_payment as op, stripe_event},
};

/// What a webhook delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// A new event, handled.
    Handled,
    /// An event already handled, delivered again: nothing changed.
    AlreadyHandled,
}

/// Why a webhook was not taken.
#[derive(Debug)]
pub enum WebhookRefusal {
    /// Not from Stripe, or not for this market (answer 400): `(code, message)`.
    Refused(&'static str, String),
    /// Taken, but could not be handled now (Stripe unreachable, database): Stripe retries.
    Failed(StoreError),
}

impl From<StoreError> for WebhookRefusal {
    fn from(e: StoreError) -> Self {
        Self::Failed(e)
    }
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    type_: String,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: RawObject,
}

#[derive(Deserialize)]
struct RawObject {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    payment_intent: Option<String>,
}

impl Store {
    /// Handles one webhook delivery for `market_id`: `payload` is the raw body, `signature`
    /// the `Stripe-Signature` header.
    pub async fn stripe_webhook(
        &self,
        market_id: i64,
        payload: &str,
        signature: &str,
    ) -> Result<WebhookOutcome, WebhookRefusal> {
        let refused = |code, m: &str| WebhookRefusal::Refused(code, m.to_owned());
        let settings = self
            .payment_settings_row(self.db(), market_id)
            .await?
            .ok_or_else(|| refused("unknown_market", "no Stripe account for this market"))?;
        let secret = settings
            .stripe_webhook_secret
            .as_deref()
            .ok_or_else(|| refused("unknown_market", "no webhook secret for this market"))?;
        match Webhook::construct_event(payload, signature, secret) {
            // The signature held; an event `async-stripe` cannot type (another API version, a
            // compatible fake Stripe) is read below for the few fields Halle uses.
            Ok(_) | Err(WebhookError::BadParse(_)) => {}
            Err(e) => {
                tracing::warn!(market_id, error = %e, "webhook refused");
                return Err(refused(
                    "bad_signature",
                    "the Stripe-Signature does not match",
                ));
            }
        }
        let event: RawEvent = serde_json::from_str(payload)
            .map_err(|_| refused("bad_event", "not a Stripe event"))?;
        if stripe_event::Entity::find_by_id(event.id.clone())
            .one(self.db())
            .await
            .map_err(StoreError::from)?
            .is_some()
        {
            return Ok(WebhookOutcome::AlreadyHandled);
        }
        let intent_id = match event.data.object.object.as_deref() {
            Some("payment_intent") => event.data.object.id.clone(),
            _ => event.data.object.payment_intent.clone(),
        };
        if let Some(intent_id) = intent_id {
            let row = op::Entity::find()
                .filter(op::Column::IntentId.eq(intent_id.clone()))
                .filter(op::Column::MarketId.eq(market_id))
                .one(self.db())
                .await
                .map_err(StoreError::from)?;
            match row {
                Some(r) => {
                    let (stripe, _) = self.stripe_for(market_id).await?;
                    let intent = stripe
                        .retrieve_intent(&intent_id)
                        .await
                        .map_err(StoreError::from)?;
                    self.sync_intent(&r, &intent).await?;
                }
                // Listed by `halle payments reconcile`.
                None => tracing::warn!(
                    market_id,
                    intent_id,
                    "Stripe event about an intent without an order"
                ),
            }
        }
        let inserted = stripe_event::ActiveModel {
            event_id: Set(event.id),
            market_id: Set(market_id),
            event_type: Set(event.type_),
            received_at: Set(Utc::now()),
        }
        .insert(self.db())
        .await;
        match inserted {
            Ok(_) => Ok(WebhookOutcome::Handled),
            // The same event handled at once by another delivery: what it did is done.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(WebhookOutcome::AlreadyHandled)
            }
            Err(e) => Err(StoreError::from(e).into()),
        }
    }

    /// How many Stripe events were handled for a market (for tests and the desk).
    pub async fn stripe_events_handled(&self, market_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(stripe_event::Entity::find()
            .filter(stripe_event::Column::MarketId.eq(market_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| e.event_type)
            .collect())
    }
}
