//! Online payment (issue 9): a market's payment settings (on the spot, online or both; its
//! Stripe keys, never shown back), one row per Stripe PaymentIntent of a basket, and the ids of
//! the Stripe events already handled (a replayed webhook changes nothing).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MarketPaymentSettings::Table)
                    .col(big_integer(MarketPaymentSettings::MarketId).primary_key())
                    // on_the_spot | online | both
                    .col(string(MarketPaymentSettings::Mode))
                    .col(string_null(MarketPaymentSettings::StripeSecretKey))
                    .col(string_null(MarketPaymentSettings::StripePublishableKey))
                    .col(string_null(MarketPaymentSettings::StripeWebhookSecret))
                    // Another Stripe API (a local fake Stripe in tests); set by an admin only.
                    .col(string_null(MarketPaymentSettings::StripeApiUrl))
                    .col(string_null(MarketPaymentSettings::StripeJsUrl))
                    // What variable-weight pieces count above their estimate, in basis points.
                    .col(integer(MarketPaymentSettings::WeightMarginBp))
                    .col(integer(MarketPaymentSettings::CommissionBp))
                    .col(timestamp_with_time_zone(MarketPaymentSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                MarketPaymentSettings::Table,
                                MarketPaymentSettings::MarketId,
                            )
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OnlinePayments::Table)
                    .col(big_pk_auto(OnlinePayments::Id))
                    .col(big_integer(OnlinePayments::OrderId))
                    .col(big_integer(OnlinePayments::MarketId))
                    // Sent with every call about this intent: a retry never makes a second one.
                    .col(string(OnlinePayments::IdempotencyKey))
                    .col(string_null(OnlinePayments::IntentId))
                    .col(string_null(OnlinePayments::ClientSecret))
                    // creating | requires_payment | authorised | captured | cancelled | failed
                    .col(string(OnlinePayments::Status))
                    .col(big_integer(OnlinePayments::AmountCents))
                    .col(big_integer(OnlinePayments::CapturedCents))
                    .col(big_integer(OnlinePayments::RefundedCents))
                    .col(integer(OnlinePayments::Operations))
                    .col(timestamp_with_time_zone(OnlinePayments::CreatedAt))
                    .col(timestamp_with_time_zone(OnlinePayments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OnlinePayments::Table, OnlinePayments::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_online_payments_key")
                    .table(OnlinePayments::Table)
                    .col(OnlinePayments::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_online_payments_intent")
                    .table(OnlinePayments::Table)
                    .col(OnlinePayments::IntentId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_online_payments_order")
                    .table(OnlinePayments::Table)
                    .col(OnlinePayments::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .col(string(StripeEvents::EventId).primary_key())
                    .col(big_integer(StripeEvents::MarketId))
                    .col(string(StripeEvents::EventType))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MarketPaymentSettings {
    Table,
    MarketId,
    Mode,
    StripeSecretKey,
    StripePublishableKey,
    StripeWebhookSecret,
    StripeApiUrl,
    StripeJsUrl,
    WeightMarginBp,
    CommissionBp,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OnlinePayments {
    Table,
    Id,
    OrderId,
    MarketId,
    IdempotencyKey,
    IntentId,
    ClientSecret,
    Status,
    AmountCents,
    CapturedCents,
    RefundedCents,
    Operations,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    EventId,
    MarketId,
    EventType,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
