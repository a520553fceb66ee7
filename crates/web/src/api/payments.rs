//! Online payment: a market's payment settings (its Stripe secrets are written, never read
//! back), the card payment of a basket (opened by its consumer, read back from Stripe, captured
//! after weighing by staff, partly refunded by a coordinator). Stripe's webhooks are not here:
//! they are signed raw bodies, served by `crate::stripe_hook` at `/stripe/webhooks/{market}`.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use store::{
    OnlinePaymentView, PaymentMode, PaymentPage, PaymentSettings, PaymentSettingsUpdate, Store,
};

use super::{BearerAuth, Tag, input::Dec, price};
use crate::ApiError;

pub(crate) struct PaymentsApi {
    pub(crate) store: Store,
}

/// How a market is paid. Its secrets never appear: only whether they are set.
#[derive(Object)]
struct PaymentSettingsDto {
    market_id: i64,
    /// on_the_spot, online or both.
    mode: String,
    /// Stripe's publishable key (public).
    #[oai(nullable)]
    publishable_key: Option<String>,
    secret_key_set: bool,
    webhook_secret_set: bool,
    /// Whether consumers can pay by card now.
    takes_cards: bool,
    /// Margin on variable-weight pieces held on the card, in percent.
    weight_margin_percent: String,
    /// The market's commission on sales, in percent.
    commission_percent: String,
    /// Where Stripe sends this market's events.
    webhook_path: String,
}

fn percent(bp: i32) -> String {
    rust_decimal::Decimal::new(i64::from(bp), 2)
        .normalize()
        .to_string()
}

impl From<PaymentSettings> for PaymentSettingsDto {
    fn from(s: PaymentSettings) -> Self {
        Self {
            market_id: s.market_id,
            mode: s.mode.as_str().to_owned(),
            takes_cards: s.takes_cards(),
            publishable_key: s.publishable_key,
            secret_key_set: s.secret_key_set,
            webhook_secret_set: s.webhook_secret_set,
            weight_margin_percent: percent(s.weight_margin_bp),
            commission_percent: percent(s.commission_bp),
            webhook_path: format!("/stripe/webhooks/{}", s.market_id),
        }
    }
}

/// A change of payment settings; a field left out keeps its value.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PaymentSettingsRequest {
    /// on_the_spot, online or both.
    #[oai(nullable)]
    mode: Option<String>,
    /// Stripe secret key (sk_...), written only.
    #[oai(nullable)]
    secret_key: Option<String>,
    /// Stripe publishable key (pk_...).
    #[oai(nullable)]
    publishable_key: Option<String>,
    /// Stripe webhook signing secret (whsec_...), written only.
    #[oai(nullable)]
    webhook_secret: Option<String>,
    /// Another Stripe API base URL (admins only: a local fake Stripe).
    #[oai(nullable)]
    api_url: Option<String>,
    /// Another Stripe.js URL (admins only).
    #[oai(nullable)]
    js_url: Option<String>,
    /// Margin on variable-weight pieces, percent (0 to 50).
    #[oai(nullable)]
    weight_margin_percent: Option<Dec>,
    /// Commission, percent (0 to 50).
    #[oai(nullable)]
    commission_percent: Option<Dec>,
}

fn basis_points(field: &str, d: Option<Dec>) -> Result<Option<i32>, ApiError> {
    let Some(d) = d else { return Ok(None) };
    let bp = (rust_decimal::Decimal::from(d) * rust_decimal::Decimal::from(100)).normalize();
    if bp.scale() > 0 || bp < rust_decimal::Decimal::ZERO || bp > rust_decimal::Decimal::from(5_000)
    {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("{field} is between 0 and 50, with at most two decimals"),
        ));
    }
    Ok(Some(i32::try_from(bp.mantissa()).unwrap_or(0)))
}

/// The card payment of a basket to make.
#[derive(Object)]
struct PaymentStartDto {
    /// pay (confirm with Stripe.js), authorised or captured.
    status: String,
    /// Euros held on the card.
    amount: String,
    /// For Stripe.js only (`stripe.confirmCardPayment`).
    #[oai(nullable)]
    client_secret: Option<String>,
    #[oai(nullable)]
    publishable_key: Option<String>,
    #[oai(nullable)]
    js_url: Option<String>,
}

/// One PaymentIntent of a basket.
#[derive(Object)]
struct OnlinePaymentDto {
    id: i64,
    order_id: i64,
    #[oai(nullable)]
    intent_id: Option<String>,
    /// creating, requires_payment, authorised, captured or cancelled.
    status: String,
    amount: String,
    captured: String,
    refunded: String,
}

impl From<OnlinePaymentView> for OnlinePaymentDto {
    fn from(v: OnlinePaymentView) -> Self {
        Self {
            id: v.id,
            order_id: v.order_id,
            intent_id: v.intent_id,
            status: v.status,
            amount: v.amount.amount().to_string(),
            captured: v.captured.amount().to_string(),
            refunded: v.refunded.amount().to_string(),
        }
    }
}

/// A partial refund.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct RefundRequest {
    /// Euros, e.g. "4.20".
    amount: Dec,
}

#[derive(ApiResponse)]
enum Started {
    /// What to do to pay.
    #[oai(status = 200)]
    Ok(Json<PaymentStartDto>),
}

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// A market's payment settings (its coordinators): whether its secrets are set, never them.
    #[oai(
        path = "/markets/:id/payment-settings",
        method = "get",
        operation_id = "get_payment_settings"
    )]
    async fn get_payment_settings(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<PaymentSettingsDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        if !actor.coordinates(id.0) {
            return Err(ApiError::forbidden(
                "payment settings are for the market's coordinators",
            ));
        }
        Ok(Json(self.store.payment_settings(id.0).await?.into()))
    }

    /// Change a market's payment settings (its coordinators; another Stripe API: admins only).
    #[oai(
        path = "/markets/:id/payment-settings",
        method = "put",
        operation_id = "update_payment_settings"
    )]
    async fn update_payment_settings(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<PaymentSettingsRequest>,
    ) -> Result<Json<PaymentSettingsDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let body = body.0;
        let mode = match body.mode.as_deref() {
            None => None,
            Some(m) => Some(PaymentMode::parse(m).ok_or_else(|| {
                ApiError::unprocessable("invalid_field", "mode is on_the_spot, online or both")
            })?),
        };
        let update = PaymentSettingsUpdate {
            mode,
            secret_key: body.secret_key,
            publishable_key: body.publishable_key,
            webhook_secret: body.webhook_secret,
            api_url: body.api_url,
            js_url: body.js_url,
            weight_margin_bp: basis_points("weight_margin_percent", body.weight_margin_percent)?,
            commission_bp: basis_points("commission_percent", body.commission_percent)?,
        };
        Ok(Json(
            self.store
                .set_payment_settings(&actor, id.0, update)
                .await?
                .into(),
        ))
    }

    /// Open the card payment of a committed basket (its consumer): the card will hold its
    /// total, variable-weight pieces at their estimate plus the market's margin. Answers 503
    /// when Stripe cannot be reached: the basket stays unpaid, and trying again never charges
    /// twice.
    #[oai(
        path = "/orders/:id/payment",
        method = "post",
        operation_id = "start_payment"
    )]
    async fn start_payment(&self, auth: BearerAuth, id: Path<i64>) -> Result<Started, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let page = self.store.start_online_payment(&actor, id.0).await?;
        let dto = match page {
            PaymentPage::Pay {
                amount,
                client_secret,
                publishable_key,
                js_url,
            } => PaymentStartDto {
                status: "pay".to_owned(),
                amount: amount.amount().to_string(),
                client_secret: Some(client_secret),
                publishable_key: Some(publishable_key),
                js_url: Some(js_url),
            },
            PaymentPage::Authorised(m) | PaymentPage::Captured(m) => PaymentStartDto {
                status: if matches!(page, PaymentPage::Authorised(_)) {
                    "authorised"
                } else {
                    "captured"
                }
                .to_owned(),
                amount: m.amount().to_string(),
                client_secret: None,
                publishable_key: None,
                js_url: None,
            },
        };
        Ok(Started::Ok(Json(dto)))
    }

    /// A basket's card payments, read back from Stripe first (the browser's word is never
    /// taken: this is what marks a basket authorised after the payment page).
    #[oai(
        path = "/orders/:id/payment/refresh",
        method = "post",
        operation_id = "refresh_payment"
    )]
    async fn refresh_payment(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<OnlinePaymentDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let rows = self.store.refresh_online_payment(&actor, id.0).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// A basket's card payments as Halle recorded them.
    #[oai(
        path = "/orders/:id/payments/online",
        method = "get",
        operation_id = "list_online_payments"
    )]
    async fn list_online_payments(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<OnlinePaymentDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let rows = self.store.online_payments(&actor, id.0).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Capture a basket's card payment after weighing or at distribution (coordinators and
    /// volunteers): its final total, never more than held; the rest is due on the spot.
    #[oai(
        path = "/orders/:id/payment/capture",
        method = "post",
        operation_id = "capture_payment"
    )]
    async fn capture_payment(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<OnlinePaymentDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .capture_online_payment(&actor, id.0)
                .await?
                .into(),
        ))
    }

    /// Refund part of a captured card payment, e.g. a product missing at distribution
    /// (coordinators).
    #[oai(
        path = "/orders/:id/payment/refunds",
        method = "post",
        operation_id = "refund_payment"
    )]
    async fn refund_payment(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<RefundRequest>,
    ) -> Result<Json<OnlinePaymentDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let amount = price("amount", body.0.amount)?;
        Ok(Json(
            self.store
                .refund_online_payment(&actor, id.0, amount)
                .await?
                .into(),
        ))
    }
}
