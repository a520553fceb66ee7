//! The core market: markets, producers, products, pickup points, order cycles with their slots
//! and offers, accounts with their API tokens, orders and their lines, idempotency keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .to_owned()
}

fn index(
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Markets::Table)
                    .col(big_pk_auto(Markets::Id))
                    .col(string(Markets::Name))
                    .col(string_uniq(Markets::Slug))
                    .col(string(Markets::Timezone))
                    .col(text(Markets::Description))
                    .col(string(Markets::City))
                    .col(double(Markets::Latitude))
                    .col(double(Markets::Longitude))
                    .col(timestamp_with_time_zone(Markets::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Producers::Table)
                    .col(big_pk_auto(Producers::Id))
                    .col(string(Producers::Name))
                    .col(string(Producers::FarmerName))
                    .col(text(Producers::Description))
                    .col(string(Producers::Address))
                    .col(string(Producers::PostalCode))
                    .col(string(Producers::City))
                    .col(double(Producers::Latitude))
                    .col(double(Producers::Longitude))
                    .col(string_null(Producers::Phone))
                    .col(string_null(Producers::Email))
                    .col(string_null(Producers::Website))
                    .col(string_null(Producers::Social))
                    .col(timestamp_with_time_zone(Producers::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketProducers::Table)
                    .col(big_integer(MarketProducers::MarketId))
                    .col(big_integer(MarketProducers::ProducerId))
                    .primary_key(
                        Index::create()
                            .col(MarketProducers::MarketId)
                            .col(MarketProducers::ProducerId),
                    )
                    .foreign_key(&mut fk(
                        MarketProducers::Table,
                        MarketProducers::MarketId,
                        Markets::Table,
                        Markets::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        MarketProducers::Table,
                        MarketProducers::ProducerId,
                        Producers::Table,
                        Producers::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(big_pk_auto(Products::Id))
                    .col(big_integer(Products::ProducerId))
                    .col(string(Products::Name))
                    .col(text_null(Products::Description))
                    .col(string(Products::Unit))
                    .col(big_integer(Products::PriceCents))
                    .col(integer(Products::VatBasisPoints))
                    .col(big_integer(Products::StepMilli))
                    .col(boolean(Products::VariableWeight))
                    .col(big_integer_null(Products::EstimatedWeightMilli))
                    .col(boolean(Products::Active))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .foreign_key(&mut fk(
                        Products::Table,
                        Products::ProducerId,
                        Producers::Table,
                        Producers::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_products_producer",
                Products::Table,
                &["producer_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PickupPoints::Table)
                    .col(big_pk_auto(PickupPoints::Id))
                    .col(big_integer(PickupPoints::MarketId))
                    .col(string(PickupPoints::Name))
                    .col(string(PickupPoints::Address))
                    .col(string(PickupPoints::PostalCode))
                    .col(string(PickupPoints::City))
                    .col(double(PickupPoints::Latitude))
                    .col(double(PickupPoints::Longitude))
                    .col(string(PickupPoints::HostKind))
                    .col(string(PickupPoints::HostName))
                    .col(text(PickupPoints::AccessNotes))
                    .col(timestamp_with_time_zone(PickupPoints::CreatedAt))
                    .foreign_key(&mut fk(
                        PickupPoints::Table,
                        PickupPoints::MarketId,
                        Markets::Table,
                        Markets::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderCycles::Table)
                    .col(big_pk_auto(OrderCycles::Id))
                    .col(big_integer(OrderCycles::MarketId))
                    .col(string(OrderCycles::Name))
                    .col(timestamp_with_time_zone(OrderCycles::OpensAt))
                    .col(timestamp_with_time_zone(OrderCycles::ClosesAt))
                    .col(string(OrderCycles::State))
                    .col(timestamp_with_time_zone(OrderCycles::CreatedAt))
                    .foreign_key(&mut fk(
                        OrderCycles::Table,
                        OrderCycles::MarketId,
                        Markets::Table,
                        Markets::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_cycles_market",
                OrderCycles::Table,
                &["market_id", "opens_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DistributionSlots::Table)
                    .col(big_pk_auto(DistributionSlots::Id))
                    .col(big_integer(DistributionSlots::CycleId))
                    .col(big_integer(DistributionSlots::PickupPointId))
                    .col(timestamp_with_time_zone(DistributionSlots::StartsAt))
                    .col(timestamp_with_time_zone(DistributionSlots::EndsAt))
                    .col(boolean(DistributionSlots::Cancelled))
                    .foreign_key(&mut fk(
                        DistributionSlots::Table,
                        DistributionSlots::CycleId,
                        OrderCycles::Table,
                        OrderCycles::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        DistributionSlots::Table,
                        DistributionSlots::PickupPointId,
                        PickupPoints::Table,
                        PickupPoints::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_slots_cycle",
                DistributionSlots::Table,
                &["cycle_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(big_pk_auto(Offers::Id))
                    .col(big_integer(Offers::CycleId))
                    .col(big_integer(Offers::ProductId))
                    .col(big_integer(Offers::ProducerId))
                    .col(big_integer(Offers::PriceCents))
                    .col(big_integer(Offers::StockTotalMilli))
                    // The last line of defence for "stock never goes below zero": the use cases
                    // already decrement with a guarded UPDATE, this CHECK makes a bug fail loudly.
                    .col(
                        big_integer(Offers::StockLeftMilli)
                            .check(Expr::col(Offers::StockLeftMilli).gte(0)),
                    )
                    .col(timestamp_with_time_zone(Offers::UpdatedAt))
                    .foreign_key(&mut fk(
                        Offers::Table,
                        Offers::CycleId,
                        OrderCycles::Table,
                        OrderCycles::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Offers::Table,
                        Offers::ProductId,
                        Products::Table,
                        Products::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_offers_cycle_product",
                Offers::Table,
                &["cycle_id", "product_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_offers_producer",
                Offers::Table,
                &["producer_id", "cycle_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(big_pk_auto(Accounts::Id))
                    .col(string_uniq(Accounts::Email))
                    .col(string(Accounts::PasswordHash))
                    .col(string(Accounts::Name))
                    .col(string_null(Accounts::Phone))
                    .col(string(Accounts::Role))
                    .col(big_integer_null(Accounts::ProducerId))
                    .col(big_integer_null(Accounts::MarketId))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .foreign_key(&mut fk(
                        Accounts::Table,
                        Accounts::ProducerId,
                        Producers::Table,
                        Producers::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        Accounts::Table,
                        Accounts::MarketId,
                        Markets::Table,
                        Markets::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(string(ApiTokens::TokenHash).primary_key())
                    .col(big_integer(ApiTokens::AccountId))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .foreign_key(&mut fk(
                        ApiTokens::Table,
                        ApiTokens::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(big_pk_auto(Orders::Id))
                    .col(big_integer(Orders::CycleId))
                    .col(big_integer(Orders::AccountId))
                    .col(big_integer(Orders::SlotId))
                    .col(big_integer(Orders::PlacedBy))
                    .col(string(Orders::Status))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(&mut fk(
                        Orders::Table,
                        Orders::CycleId,
                        OrderCycles::Table,
                        OrderCycles::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Orders::Table,
                        Orders::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        Orders::Table,
                        Orders::SlotId,
                        DistributionSlots::Table,
                        DistributionSlots::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_orders_cycle",
                Orders::Table,
                &["cycle_id", "status"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_orders_account",
                Orders::Table,
                &["account_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(big_pk_auto(OrderLines::Id))
                    .col(big_integer(OrderLines::OrderId))
                    .col(big_integer(OrderLines::OfferId))
                    .col(big_integer(OrderLines::QuantityMilli))
                    .col(big_integer(OrderLines::UnitPriceCents))
                    .col(integer(OrderLines::VatBasisPoints))
                    .foreign_key(&mut fk(
                        OrderLines::Table,
                        OrderLines::OrderId,
                        Orders::Table,
                        Orders::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        OrderLines::Table,
                        OrderLines::OfferId,
                        Offers::Table,
                        Offers::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uq_order_lines_offer",
                OrderLines::Table,
                &["order_id", "offer_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_order_lines_offer",
                OrderLines::Table,
                &["offer_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_integer(IdempotencyKeys::AccountId))
                    .col(string(IdempotencyKeys::Key))
                    .col(string(IdempotencyKeys::RequestHash))
                    .col(big_integer(IdempotencyKeys::OrderId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::AccountId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(&mut fk(
                        IdempotencyKeys::Table,
                        IdempotencyKeys::OrderId,
                        Orders::Table,
                        Orders::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
    Name,
    Slug,
    Timezone,
    Description,
    City,
    Latitude,
    Longitude,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Producers {
    Table,
    Id,
    Name,
    FarmerName,
    Description,
    Address,
    PostalCode,
    City,
    Latitude,
    Longitude,
    Phone,
    Email,
    Website,
    Social,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketProducers {
    Table,
    MarketId,
    ProducerId,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    ProducerId,
    Name,
    Description,
    Unit,
    PriceCents,
    VatBasisPoints,
    StepMilli,
    VariableWeight,
    EstimatedWeightMilli,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PickupPoints {
    Table,
    Id,
    MarketId,
    Name,
    Address,
    PostalCode,
    City,
    Latitude,
    Longitude,
    HostKind,
    HostName,
    AccessNotes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderCycles {
    Table,
    Id,
    MarketId,
    Name,
    OpensAt,
    ClosesAt,
    State,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DistributionSlots {
    Table,
    Id,
    CycleId,
    PickupPointId,
    StartsAt,
    EndsAt,
    Cancelled,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    CycleId,
    ProductId,
    ProducerId,
    PriceCents,
    StockTotalMilli,
    StockLeftMilli,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Email,
    PasswordHash,
    Name,
    Phone,
    Role,
    ProducerId,
    MarketId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    TokenHash,
    AccountId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    CycleId,
    AccountId,
    SlotId,
    PlacedBy,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    OrderId,
    OfferId,
    QuantityMilli,
    UnitPriceCents,
    VatBasisPoints,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    AccountId,
    Key,
    RequestHash,
    OrderId,
    CreatedAt,
}
