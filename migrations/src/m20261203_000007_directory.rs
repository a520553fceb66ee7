//! The regional directory: places (postcodes and towns with their coordinates, loaded by
//! `halle places import` from a dataset a package registry ships), producers' public entries,
//! and "new producer near you" alert subscriptions with the notices they are owed.
//!
//! Distance search filters on a bounding box of indexed latitude/longitude columns, then
//! computes the exact great-circle distance of what is left: plain B-tree indexes, the same on
//! SQLite and PostgreSQL (see `distribution::geo`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per (postcode, commune) that has coordinates.
        manager
            .create_table(
                Table::create()
                    .table(Places::Table)
                    .col(big_pk_auto(Places::Id))
                    .col(string_len(Places::Postcode, 5))
                    .col(string_len(Places::Insee, 5))
                    .col(string_len(Places::Name, 200))
                    // Lower case, accents and punctuation folded: what town search compares.
                    .col(string_len(Places::NameKey, 200))
                    .col(string_len(Places::Department, 3))
                    .col(double(Places::Latitude))
                    .col(double(Places::Longitude))
                    // The commune that gives the postcode its name (its "ligne d'acheminement").
                    .col(boolean(Places::Main))
                    // Coordinates borrowed from a neighbouring postcode: the dataset had none.
                    .col(boolean(Places::Approximate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_places_postcode", Places::Table, &["postcode"]))
            .await?;
        manager
            .create_index(index("idx_places_name_key", Places::Table, &["name_key"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DirectoryEntries::Table)
                    .col(big_integer(DirectoryEntries::ProducerId).primary_key())
                    .col(text(DirectoryEntries::Summary))
                    // Slugs of domain::Category and domain::Label, each wrapped in commas
                    // (",vegetables,eggs,"), so that a filter is one LIKE on both databases.
                    .col(string_len(DirectoryEntries::Categories, 300))
                    .col(string_len(DirectoryEntries::Labels, 300))
                    .col(text(DirectoryEntries::ContactNote))
                    .col(boolean(DirectoryEntries::FarmGate))
                    .col(text(DirectoryEntries::OpeningHours))
                    .col(boolean(DirectoryEntries::Published))
                    .col(timestamp_with_time_zone_null(
                        DirectoryEntries::FirstPublishedAt,
                    ))
                    .col(boolean(DirectoryEntries::Hidden))
                    .col(timestamp_with_time_zone(DirectoryEntries::UpdatedAt))
                    .col(big_integer_null(DirectoryEntries::UpdatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryEntries::Table, DirectoryEntries::ProducerId)
                            .to(Producers::Table, Producers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The bounding boxes of distance search.
        manager
            .create_index(index(
                "idx_producers_lat_lon",
                Producers::Table,
                &["latitude", "longitude"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_pickup_points_lat_lon",
                PickupPoints::Table,
                &["latitude", "longitude"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AlertSubscriptions::Table)
                    .col(big_pk_auto(AlertSubscriptions::Id))
                    .col(string_len(AlertSubscriptions::Email, 320))
                    .col(string_len(AlertSubscriptions::Postcode, 5))
                    .col(double(AlertSubscriptions::Latitude))
                    .col(double(AlertSubscriptions::Longitude))
                    .col(integer(AlertSubscriptions::RadiusKm))
                    // ",dairy,bread," or "" for every category.
                    .col(string_len(AlertSubscriptions::Categories, 300))
                    .col(boolean(AlertSubscriptions::WeeklyDigest))
                    .col(string_len(AlertSubscriptions::Language, 2))
                    // SHA-256 of the confirmation link's token.
                    .col(string_len_uniq(AlertSubscriptions::ConfirmHash, 64))
                    // The unsubscribe link's token, kept whole: every message carries it, and
                    // it can do nothing but unsubscribe.
                    .col(string_len_uniq(AlertSubscriptions::UnsubscribeToken, 64))
                    .col(timestamp_with_time_zone(AlertSubscriptions::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        AlertSubscriptions::ConfirmedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        AlertSubscriptions::UnsubscribedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_alert_subscriptions_lat_lon",
                AlertSubscriptions::Table,
                &["latitude", "longitude"],
            ))
            .await?;

        // What each subscriber is owed: its confirmation link, then one notice per producer
        // that starts near it. The mail outbox sends them (sent_at); until then admins read them.
        manager
            .create_table(
                Table::create()
                    .table(AlertNotices::Table)
                    .col(big_pk_auto(AlertNotices::Id))
                    .col(big_integer(AlertNotices::SubscriptionId))
                    .col(big_integer_null(AlertNotices::ProducerId))
                    .col(string_len(AlertNotices::Kind, 16))
                    .col(integer_null(AlertNotices::DistanceM))
                    .col(text(AlertNotices::Link))
                    .col(timestamp_with_time_zone(AlertNotices::CreatedAt))
                    .col(timestamp_with_time_zone_null(AlertNotices::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertNotices::Table, AlertNotices::SubscriptionId)
                            .to(AlertSubscriptions::Table, AlertSubscriptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertNotices::Table, AlertNotices::ProducerId)
                            .to(Producers::Table, Producers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One match per subscriber and producer, whoever publishes twice (confirmation
        // notices have no producer: NULLs never collide).
        let mut unique = index(
            "idx_alert_notices_once",
            AlertNotices::Table,
            &["subscription_id", "producer_id"],
        );
        unique.unique();
        manager.create_index(unique).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Places {
    Table,
    Id,
    Postcode,
    Insee,
    Name,
    NameKey,
    Department,
    Latitude,
    Longitude,
    Main,
    Approximate,
}

#[derive(DeriveIden)]
enum DirectoryEntries {
    Table,
    ProducerId,
    Summary,
    Categories,
    Labels,
    ContactNote,
    FarmGate,
    OpeningHours,
    Published,
    FirstPublishedAt,
    Hidden,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Producers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PickupPoints {
    Table,
}

#[derive(DeriveIden)]
enum AlertSubscriptions {
    Table,
    Id,
    Email,
    Postcode,
    Latitude,
    Longitude,
    RadiusKm,
    Categories,
    WeeklyDigest,
    Language,
    ConfirmHash,
    UnsubscribeToken,
    CreatedAt,
    ConfirmedAt,
    UnsubscribedAt,
}

#[derive(DeriveIden)]
enum AlertNotices {
    Table,
    Id,
    SubscriptionId,
    ProducerId,
    Kind,
    DistanceM,
    Link,
    CreatedAt,
    SentAt,
}
