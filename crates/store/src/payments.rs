//! Online payment (issue 9, the money half): what a market accepts (on the spot, online or
//! both), its Stripe keys (stored, never shown back), and the life of a basket paid by card:
//! a PaymentIntent with manual capture created only for a committed order, authorised only on
//! Stripe's word (a verified webhook, or a retrieve of the intent), captured after weighing for
//! no more than was held, released or refunded when the basket is cancelled, partly refunded by
//! a coordinator. Money captured or refunded online is also written to `payments` (method
//! `online`), so the check-out sheets show it beside what is paid on the spot.
//!
//! Every call to Stripe carries an idempotency key stored before the call: a retry after a
//! lost answer (Stripe unreachable) uses the same key, and never charges twice.
//!
//! Mail: nothing here sends email. The place a confirmation would be queued is
//! [`Store::sync_intent`] (an intent becoming `authorised` or `captured`): see `PaymentEvent`.

mod amounts;
mod card;
mod intents;
mod jobs;
mod reconcile;
mod settings;
mod stripe;
mod webhook;

pub use amounts::hold_cents;
pub use card::CardConfirmation;
pub use intents::{OnlinePaymentView, PaymentEvent, PaymentPage};
pub use jobs::{HOLD_CAPTURE_AGE, PaymentWork};
pub use reconcile::{Mismatch, Reconciliation};
pub use settings::{PaymentMode, PaymentSettings, PaymentSettingsUpdate};
pub use webhook::{WebhookOutcome, WebhookRefusal};
