//! The audit trail of staff actions: who changed a price, a stock, a weight, a check-out, a
//! cycle's state, a slot or the staff's invitations, in which market, and when. Written in the
//! same transaction as the change; read by the market's coordinators, newest first.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(big_integer(AuditEvents::MarketId))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    // The account, and its name then: the trail reads the same if it is renamed.
                    // No account for what the system does on its own (`halle demo`'s loader).
                    .col(big_integer_null(AuditEvents::ActorId))
                    .col(string(AuditEvents::ActorName))
                    .col(string_len(AuditEvents::Kind, 32))
                    .col(string(AuditEvents::Subject))
                    .col(text(AuditEvents::Detail))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuditEvents::Table, AuditEvents::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuditEvents::Table, AuditEvents::ActorId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A market's trail, newest first, by kind or not.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_market_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::MarketId)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_market_kind_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::MarketId)
                    .col(AuditEvents::Kind)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    MarketId,
    At,
    ActorId,
    ActorName,
    Kind,
    Subject,
    Detail,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}
