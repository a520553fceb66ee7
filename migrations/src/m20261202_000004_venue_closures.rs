//! Hosts: the dates a pickup point's venue is unavailable (flagged by its host, with a reason,
//! the slot of that date cancelled or moved), and where a moved slot was first planned, so that
//! its consumers can be told it moved.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VenueClosures::Table)
                    .col(big_pk_auto(VenueClosures::Id))
                    .col(big_integer(VenueClosures::PickupPointId))
                    .col(date(VenueClosures::Day))
                    .col(string(VenueClosures::Reason))
                    .col(date_null(VenueClosures::MovedTo))
                    .col(big_integer(VenueClosures::FlaggedBy))
                    .col(timestamp_with_time_zone(VenueClosures::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VenueClosures::Table, VenueClosures::PickupPointId)
                            .to(PickupPoints::Table, PickupPoints::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(VenueClosures::Table, VenueClosures::FlaggedBy)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One flag per venue and date: a second one is a conflict, not a second cancellation.
        manager
            .create_index(
                Index::create()
                    .name("idx_venue_closures_point_day")
                    .table(VenueClosures::Table)
                    .col(VenueClosures::PickupPointId)
                    .col(VenueClosures::Day)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DistributionSlots::Table)
                    .add_column(timestamp_with_time_zone_null(DistributionSlots::MovedFrom))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum VenueClosures {
    Table,
    Id,
    PickupPointId,
    Day,
    Reason,
    MovedTo,
    FlaggedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PickupPoints {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DistributionSlots {
    Table,
    MovedFrom,
}
