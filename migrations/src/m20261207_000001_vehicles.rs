//! A market's vehicles, for co-delivery rounds planned with several of them: a name, a capacity
//! in crates and, when it binds, in kilograms (kept in grams, an exact integer on SQLite and
//! PostgreSQL alike). Archived vehicles stay, so that rounds planned with them still read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Vehicles::Table)
                    .col(big_pk_auto(Vehicles::Id))
                    .col(big_integer(Vehicles::MarketId))
                    .col(string(Vehicles::Name))
                    .col(integer(Vehicles::CapacityCrates))
                    // Grams (thousandths of a kilogram); none: no weight limit.
                    .col(big_integer_null(Vehicles::CapacityKgMilli))
                    .col(boolean(Vehicles::Archived).default(false))
                    .col(timestamp_with_time_zone(Vehicles::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Vehicles::Table, Vehicles::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A market's vehicles, listed on every round form.
        manager
            .create_index(
                Index::create()
                    .name("idx_vehicles_market")
                    .table(Vehicles::Table)
                    .col(Vehicles::MarketId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Vehicles {
    Table,
    Id,
    MarketId,
    Name,
    CapacityCrates,
    CapacityKgMilli,
    Archived,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}
