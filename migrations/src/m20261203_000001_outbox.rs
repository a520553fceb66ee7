//! Mail: the outbox. Every email is a row written in the same transaction as the event that
//! causes it (an order placed, a cycle opened), so a crash never loses one and a rolled-back
//! event never sends one. A worker claims due rows, renders and sends them, and records the
//! outcome on the row: what was sent to whom, and what failed and why, stay readable.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(big_integer_null(Outbox::MarketId))
                    .col(big_integer_null(Outbox::AccountId))
                    .col(string(Outbox::Recipient))
                    .col(string(Outbox::RecipientName))
                    .col(string(Outbox::Language))
                    .col(string(Outbox::Kind))
                    // (kind, object, recipient): what makes a time-based mail go once only.
                    .col(string_null(Outbox::UniqueKey))
                    // What the message needs to be rendered, as JSON (ids, names, links).
                    .col(text(Outbox::Payload))
                    // pending, sent or failed (gave up: a permanent refusal, or too many tries).
                    .col(string(Outbox::State))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    // A claim by a worker: nobody else takes the row before this instant.
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    // Which claim holds it (random per claim): only that claim records the outcome.
                    .col(string_null(Outbox::ClaimedBy))
                    .col(text_null(Outbox::LastError))
                    .col(string_null(Outbox::MessageId))
                    .col(string_null(Outbox::Subject))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_unique_key")
                    .table(Outbox::Table)
                    .col(Outbox::UniqueKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What the worker looks for: pending rows by due time.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // What the coordinators' page lists: a market's mail, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_market")
                    .table(Outbox::Table)
                    .col(Outbox::MarketId)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    MarketId,
    AccountId,
    Recipient,
    RecipientName,
    Language,
    Kind,
    UniqueKey,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    ClaimedBy,
    LastError,
    MessageId,
    Subject,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}
