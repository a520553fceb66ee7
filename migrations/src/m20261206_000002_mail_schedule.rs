//! Mail on a schedule (closing and pickup reminders): each market's timing, and two more
//! wishes per member. `market_mail_settings` holds a market's hours (a market without a row
//! has the defaults: a closing reminder 24 h before close, the second pickup reminder 3 h
//! before the slot). `mail_subscriptions` gains the pickup reminders: the day before (on
//! unless the member says no) and some hours before (off unless the member asks).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MarketMailSettings::Table)
                    .col(big_integer(MarketMailSettings::MarketId).primary_key())
                    .col(integer(MarketMailSettings::ClosingReminderHours).default(24))
                    .col(integer(MarketMailSettings::PickupReminderHours).default(3))
                    .col(timestamp_with_time_zone(MarketMailSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MarketMailSettings::Table, MarketMailSettings::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(MailSubscriptions::Table)
                    .add_column(boolean(MailSubscriptions::PickupDayBefore).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailSubscriptions::Table)
                    .add_column(boolean(MailSubscriptions::PickupHoursBefore).default(false))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum MarketMailSettings {
    Table,
    MarketId,
    ClosingReminderHours,
    PickupReminderHours,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailSubscriptions {
    Table,
    PickupDayBefore,
    PickupHoursBefore,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}
