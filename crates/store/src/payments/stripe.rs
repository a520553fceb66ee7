//! The calls Halle makes to Stripe, through `async-stripe`: each one carries an idempotency key
//! chosen by the caller and stored before the call, so a retry after a lost answer never
//! creates, captures or refunds twice. Answers are read into the few fields Halle needs (a
//! compatible Stripe, such as the local one the tests run, may leave others out).

use std::{collections::HashMap, time::Duration};

use serde::Deserialize;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::{
    payment_intent::{
        CancelPaymentIntent, CapturePaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent,
        ListPaymentIntent, RetrievePaymentIntent, UpdatePaymentIntent,
    },
    refund::CreateRefund,
    token::RetrieveToken,
};

use crate::StoreError;

/// Stripe's real API, unless a market's settings name another one.
pub(crate) const STRIPE_API: &str = "https://api.stripe.com/";

/// How long one call may take before Halle tells the consumer to try again.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A PaymentIntent as Halle reads it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Intent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: Option<i64>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// A refund as Halle reads it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Refund {
    pub id: String,
    pub amount: i64,
}

/// A card token made by Stripe.js in the consumer's browser, as Halle reads it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Token {
    pub card: TokenCard,
}

/// The card a token stands for (its number never reaches Halle).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TokenCard {
    pub id: String,
}

#[derive(Deserialize)]
struct IntentList {
    data: Vec<Intent>,
}

/// A market's Stripe account.
pub(crate) struct Stripe {
    client: Client,
}

impl Stripe {
    pub(crate) fn new(secret_key: &str, api_url: Option<&str>) -> Result<Self, StoreError> {
        let mut url = api_url.unwrap_or(STRIPE_API).to_owned();
        if !url.ends_with('/') {
            url.push('/');
        }
        let client = ClientBuilder::new(secret_key)
            .url(url)
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| StoreError::invalid("stripe_config", e.to_string()))?;
        Ok(Self { client })
    }

    /// A PaymentIntent in euros, captured later by Halle (manual capture), tagged with its
    /// order so that `halle payments reconcile` can tell whose it is.
    pub(crate) async fn create_intent(
        &self,
        key: &str,
        amount_cents: i64,
        order_id: i64,
        market_id: i64,
    ) -> Result<Intent, StripeCallError> {
        let req = CreatePaymentIntent::new(amount_cents, stripe_types::Currency::EUR)
            .capture_method(stripe_shared::PaymentIntentCaptureMethod::Manual)
            .metadata(HashMap::from([
                ("halle_order_id".to_owned(), order_id.to_string()),
                ("halle_market_id".to_owned(), market_id.to_string()),
            ]));
        self.send(req, Some(key)).await
    }

    pub(crate) async fn retrieve_intent(&self, id: &str) -> Result<Intent, StripeCallError> {
        self.send(RetrievePaymentIntent::new(id), None).await
    }

    /// The token Stripe.js made from the card the consumer typed.
    pub(crate) async fn retrieve_token(&self, id: &str) -> Result<Token, StripeCallError> {
        self.send(RetrieveToken::new(id), None).await
    }

    /// Confirms an intent with the card of a token: Stripe authorises the hold, or asks for
    /// 3-D Secure (`requires_action`, completed by Stripe.js with the client secret).
    pub(crate) async fn confirm_with_card(
        &self,
        key: &str,
        id: &str,
        card_id: &str,
    ) -> Result<Intent, StripeCallError> {
        let _: Intent = self
            .send(
                UpdatePaymentIntent::new(id).payment_method(card_id),
                Some(&format!("{key}:method")),
            )
            .await?;
        self.send(
            ConfirmPaymentIntent::new(id),
            Some(&format!("{key}:confirm")),
        )
        .await
    }

    /// Captures `amount_cents` of an authorised intent (never more than it holds).
    pub(crate) async fn capture_intent(
        &self,
        key: &str,
        id: &str,
        amount_cents: i64,
    ) -> Result<Intent, StripeCallError> {
        let req = CapturePaymentIntent::new(id).amount_to_capture(amount_cents);
        self.send(req, Some(key)).await
    }

    /// Releases an authorisation (or an intent not paid yet).
    pub(crate) async fn cancel_intent(
        &self,
        key: &str,
        id: &str,
    ) -> Result<Intent, StripeCallError> {
        self.send(CancelPaymentIntent::new(id), Some(key)).await
    }

    pub(crate) async fn refund(
        &self,
        key: &str,
        intent_id: &str,
        amount_cents: i64,
    ) -> Result<Refund, StripeCallError> {
        let req = CreateRefund::new()
            .payment_intent(intent_id)
            .amount(amount_cents);
        self.send(req, Some(key)).await
    }

    /// The account's intents (the most recent ones Stripe lists, up to 100).
    pub(crate) async fn list_intents(&self) -> Result<Vec<Intent>, StripeCallError> {
        let list: IntentList = self.send(ListPaymentIntent::new().limit(100), None).await?;
        Ok(list.data)
    }

    async fn send<R: StripeRequest, T: for<'de> Deserialize<'de>>(
        &self,
        req: R,
        key: Option<&str>,
    ) -> Result<T, StripeCallError> {
        let mut call = req.build().customize::<miniserde::json::Value>();
        if let Some(key) = key {
            let key = IdempotencyKey::new(key)
                .map_err(|e| StripeCallError::Refused(400, e.to_string()))?;
            call = call.request_strategy(RequestStrategy::Idempotent(key));
        }
        let value = call
            .send(&self.client)
            .await
            .map_err(StripeCallError::from)?;
        serde_json::from_str(&miniserde::json::to_string(&value))
            .map_err(|e| StripeCallError::Unreadable(e.to_string()))
    }
}

/// Why a call to Stripe did not do what was asked.
#[derive(Debug)]
pub(crate) enum StripeCallError {
    /// Stripe could not be reached, or did not answer in time: the outcome is unknown and the
    /// same call (same key) may be tried again.
    Unreachable(String),
    /// Stripe answered and refused (status, message).
    Refused(u16, String),
    /// Stripe answered something Halle cannot read.
    Unreadable(String),
}

impl From<StripeError> for StripeCallError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Stripe(errors, status) => {
                Self::Refused(status, errors.message.clone().unwrap_or_default())
            }
            StripeError::JSONDeserialize(m) => Self::Unreadable(m),
            StripeError::ClientError(m) | StripeError::ConfigError(m) => Self::Unreachable(m),
            StripeError::Timeout => Self::Unreachable("timeout".to_owned()),
        }
    }
}

impl From<StripeCallError> for StoreError {
    fn from(e: StripeCallError) -> Self {
        match e {
            StripeCallError::Unreachable(m) => {
                tracing::warn!(error = %m, "Stripe unreachable");
                StoreError::unavailable(
                    "the card payment service cannot be reached just now: your order is kept, not paid; try again in a few minutes (you will not be charged twice)",
                    60,
                )
            }
            StripeCallError::Refused(status, m) => {
                tracing::warn!(status, error = %m, "Stripe refused a call");
                StoreError::conflict(
                    "stripe_refused",
                    format!("the card payment service refused: {m}"),
                )
            }
            StripeCallError::Unreadable(m) => {
                tracing::error!(error = %m, "unreadable answer from Stripe");
                StoreError::unavailable(
                    "the card payment service answered something unexpected: try again in a few minutes",
                    60,
                )
            }
        }
    }
}
