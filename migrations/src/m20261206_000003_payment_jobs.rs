//! Card payments' deferred work (issue 9): a hold about to expire before distribution is
//! captured at its estimate, and what the weighing finds below that estimate is to be refunded
//! later. One row per such intent says so, until the periodic task has refunded the
//! difference (or found none): attempts and the last error are kept for the desk and the logs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentJobs::Table)
                    .col(big_pk_auto(PaymentJobs::Id))
                    .col(big_integer(PaymentJobs::OnlinePaymentId))
                    .col(big_integer(PaymentJobs::OrderId))
                    .col(big_integer(PaymentJobs::MarketId))
                    // refund_difference
                    .col(string(PaymentJobs::Kind))
                    // What was captured at the estimate, in cents.
                    .col(big_integer(PaymentJobs::CapturedCents))
                    .col(integer(PaymentJobs::Attempts))
                    .col(text_null(PaymentJobs::LastError))
                    // What the job refunded once done (0: nothing to refund).
                    .col(big_integer_null(PaymentJobs::RefundedCents))
                    .col(timestamp_with_time_zone(PaymentJobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(PaymentJobs::DoneAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentJobs::Table, PaymentJobs::OnlinePaymentId)
                            .to(OnlinePayments::Table, OnlinePayments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_jobs_payment_kind")
                    .table(PaymentJobs::Table)
                    .col(PaymentJobs::OnlinePaymentId)
                    .col(PaymentJobs::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_jobs_done")
                    .table(PaymentJobs::Table)
                    .col(PaymentJobs::DoneAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PaymentJobs {
    Table,
    Id,
    OnlinePaymentId,
    OrderId,
    MarketId,
    Kind,
    CapturedCents,
    Attempts,
    LastError,
    RefundedCents,
    CreatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum OnlinePayments {
    Table,
    Id,
}
