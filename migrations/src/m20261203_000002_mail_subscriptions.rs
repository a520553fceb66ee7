//! Mail: who wants a market's announcements (cycle open, closing reminder). One row per
//! (member, market), created when the member asks for them; `token` is the secret of the
//! one-click unsubscribe link the announcements carry (RFC 8058), and it can do nothing else.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailSubscriptions::Table)
                    .col(big_pk_auto(MailSubscriptions::Id))
                    .col(big_integer(MailSubscriptions::AccountId))
                    .col(big_integer(MailSubscriptions::MarketId))
                    .col(boolean(MailSubscriptions::CycleOpen))
                    .col(boolean(MailSubscriptions::ClosingReminder))
                    .col(string(MailSubscriptions::Token))
                    .col(timestamp_with_time_zone(MailSubscriptions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailSubscriptions::Table, MailSubscriptions::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailSubscriptions::Table, MailSubscriptions::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_subscriptions_member")
                    .table(MailSubscriptions::Table)
                    .col(MailSubscriptions::MarketId)
                    .col(MailSubscriptions::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_subscriptions_token")
                    .table(MailSubscriptions::Table)
                    .col(MailSubscriptions::Token)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MailSubscriptions {
    Table,
    Id,
    AccountId,
    MarketId,
    CycleOpen,
    ClosingReminder,
    Token,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}
