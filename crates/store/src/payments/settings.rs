//! A market's payment settings. The Stripe secret key and webhook secret are written here and
//! read only by the calls to Stripe: no view carries them.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::{Actor, Role, Store, StoreError, entities::market_payment_settings as settings};

/// How a market's consumers may pay.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PaymentMode {
    /// Cash, cheque or card at the pickup point (what every market did before).
    OnTheSpot,
    /// By card online, before distribution.
    Online,
    /// Either.
    Both,
}

impl PaymentMode {
    /// The stable machine name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OnTheSpot => "on_the_spot",
            Self::Online => "online",
            Self::Both => "both",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "on_the_spot" => Some(Self::OnTheSpot),
            "online" => Some(Self::Online),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    /// Whether consumers may pay online.
    pub const fn online(self) -> bool {
        matches!(self, Self::Online | Self::Both)
    }
}

/// What may be shown of a market's payment settings: never its secrets, only whether they are set.
#[derive(Clone, Debug)]
pub struct PaymentSettings {
    /// The market.
    pub market_id: i64,
    /// How it is paid.
    pub mode: PaymentMode,
    /// Stripe's publishable key (public by design: Stripe.js needs it in the page).
    pub publishable_key: Option<String>,
    /// Where the payment page loads Stripe.js from.
    pub js_url: String,
    /// Whether a secret key is set.
    pub secret_key_set: bool,
    /// Whether a webhook secret is set.
    pub webhook_secret_set: bool,
    /// Margin on variable-weight pieces, in basis points (1500 = 15 %).
    pub weight_margin_bp: i32,
    /// The market's commission on sales, in basis points (0 = none).
    pub commission_bp: i32,
}

impl PaymentSettings {
    /// Whether the market takes card payments now (online allowed and Stripe configured).
    pub fn takes_cards(&self) -> bool {
        self.mode.online()
            && self.secret_key_set
            && self.webhook_secret_set
            && self.publishable_key.is_some()
    }
}

/// A change of payment settings; `None` keeps what is stored.
#[derive(Clone, Default)]
pub struct PaymentSettingsUpdate {
    /// How consumers may pay.
    pub mode: Option<PaymentMode>,
    /// Stripe secret key (`sk_...`).
    pub secret_key: Option<String>,
    /// Stripe publishable key (`pk_...`).
    pub publishable_key: Option<String>,
    /// Stripe webhook signing secret (`whsec_...`).
    pub webhook_secret: Option<String>,
    /// Another Stripe API than Stripe's (admins only: a local fake Stripe for tests).
    pub api_url: Option<String>,
    /// Another Stripe.js than Stripe's (admins only, with `api_url`).
    pub js_url: Option<String>,
    /// Margin on variable-weight pieces, basis points.
    pub weight_margin_bp: Option<i32>,
    /// Commission, basis points.
    pub commission_bp: Option<i32>,
}

impl std::fmt::Debug for PaymentSettingsUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSettingsUpdate")
            .field("mode", &self.mode)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "***"),
            )
            .finish_non_exhaustive()
    }
}

/// The default margin on variable-weight pieces: 15 %.
pub const DEFAULT_WEIGHT_MARGIN_BP: i32 = 1_500;
const STRIPE_JS: &str = "https://js.stripe.com/v3/";

pub(crate) fn view(market_id: i64, row: Option<&settings::Model>) -> PaymentSettings {
    match row {
        None => PaymentSettings {
            market_id,
            mode: PaymentMode::OnTheSpot,
            publishable_key: None,
            js_url: STRIPE_JS.to_owned(),
            secret_key_set: false,
            webhook_secret_set: false,
            weight_margin_bp: DEFAULT_WEIGHT_MARGIN_BP,
            commission_bp: 0,
        },
        Some(r) => PaymentSettings {
            market_id,
            mode: PaymentMode::parse(&r.mode).unwrap_or(PaymentMode::OnTheSpot),
            publishable_key: r.stripe_publishable_key.clone(),
            js_url: r
                .stripe_js_url
                .clone()
                .unwrap_or_else(|| STRIPE_JS.to_owned()),
            secret_key_set: r.stripe_secret_key.is_some(),
            webhook_secret_set: r.stripe_webhook_secret.is_some(),
            weight_margin_bp: r.weight_margin_bp,
            commission_bp: r.commission_bp,
        },
    }
}

fn check_key(value: &Option<String>, prefix: &str, field: &'static str) -> Result<(), StoreError> {
    if let Some(v) = value
        && (!v.starts_with(prefix) || v.len() > 255 || v.chars().any(char::is_whitespace))
    {
        return Err(StoreError::invalid(
            "invalid_field",
            format!("{field} must start with {prefix} and hold no spaces"),
        ));
    }
    Ok(())
}

impl Store {
    pub(crate) async fn payment_settings_row(
        &self,
        db: &impl ConnectionTrait,
        market_id: i64,
    ) -> Result<Option<settings::Model>, StoreError> {
        Ok(settings::Entity::find_by_id(market_id).one(db).await?)
    }

    /// A market's payment settings, as anyone may know them (no secret in them).
    pub async fn payment_settings(&self, market_id: i64) -> Result<PaymentSettings, StoreError> {
        let row = self.payment_settings_row(self.db(), market_id).await?;
        Ok(view(market_id, row.as_ref()))
    }

    /// Changes a market's payment settings (its coordinators, or an admin; another Stripe API
    /// than Stripe's only by an admin).
    pub async fn set_payment_settings(
        &self,
        actor: &Actor,
        market_id: i64,
        update: PaymentSettingsUpdate,
    ) -> Result<PaymentSettings, StoreError> {
        crate::entities::market::Entity::find_by_id(market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("market", market_id))?;
        if !actor.coordinates(market_id) {
            return Err(StoreError::forbidden(
                "payment settings are changed by the market's coordinators",
            ));
        }
        if (update.api_url.is_some() || update.js_url.is_some()) && actor.role != Role::Admin {
            return Err(StoreError::forbidden(
                "only an admin may point a market at another Stripe",
            ));
        }
        check_key(&update.secret_key, "sk_", "the Stripe secret key")?;
        check_key(&update.publishable_key, "pk_", "the Stripe publishable key")?;
        check_key(&update.webhook_secret, "whsec_", "the webhook secret")?;
        for bp in [update.weight_margin_bp, update.commission_bp]
            .into_iter()
            .flatten()
        {
            if !(0..=5_000).contains(&bp) {
                return Err(StoreError::invalid(
                    "invalid_field",
                    "a margin or commission is between 0 and 50 %",
                ));
            }
        }
        let w = self.write().await?;
        let old = self.payment_settings_row(&w.tx, market_id).await?;
        let now = Utc::now();
        let mut row: settings::ActiveModel = match old.clone() {
            Some(o) => o.into(),
            None => settings::ActiveModel {
                market_id: Set(market_id),
                mode: Set(PaymentMode::OnTheSpot.as_str().to_owned()),
                stripe_secret_key: Set(None),
                stripe_publishable_key: Set(None),
                stripe_webhook_secret: Set(None),
                stripe_api_url: Set(None),
                stripe_js_url: Set(None),
                weight_margin_bp: Set(DEFAULT_WEIGHT_MARGIN_BP),
                commission_bp: Set(0),
                updated_at: Set(now),
            },
        };
        if let Some(m) = update.mode {
            row.mode = Set(m.as_str().to_owned());
        }
        if let Some(v) = update.secret_key {
            row.stripe_secret_key = Set(Some(v));
        }
        if let Some(v) = update.publishable_key {
            row.stripe_publishable_key = Set(Some(v));
        }
        if let Some(v) = update.webhook_secret {
            row.stripe_webhook_secret = Set(Some(v));
        }
        if let Some(v) = update.api_url {
            row.stripe_api_url = Set(Some(v));
        }
        if let Some(v) = update.js_url {
            row.stripe_js_url = Set(Some(v));
        }
        if let Some(v) = update.weight_margin_bp {
            row.weight_margin_bp = Set(v);
        }
        if let Some(v) = update.commission_bp {
            row.commission_bp = Set(v);
        }
        row.updated_at = Set(now);
        let saved = match old {
            Some(_) => row.update(&w.tx).await?,
            None => row.insert(&w.tx).await?,
        };
        w.commit().await?;
        Ok(view(market_id, Some(&saved)))
    }

    /// The market's Stripe client, or why it has none.
    pub(crate) async fn stripe_for(
        &self,
        market_id: i64,
    ) -> Result<(super::stripe::Stripe, settings::Model), StoreError> {
        let row = self
            .payment_settings_row(self.db(), market_id)
            .await?
            .filter(|r| PaymentMode::parse(&r.mode).is_some_and(PaymentMode::online))
            .ok_or_else(|| {
                StoreError::conflict(
                    "online_payment_off",
                    "this market does not take payment online",
                )
            })?;
        let key = row.stripe_secret_key.as_deref().ok_or_else(|| {
            StoreError::conflict(
                "online_payment_off",
                "this market's Stripe account is not set up",
            )
        })?;
        let stripe = super::stripe::Stripe::new(key, row.stripe_api_url.as_deref())?;
        Ok((stripe, row))
    }
}
