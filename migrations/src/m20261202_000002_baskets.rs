//! Pages: the draft basket a consumer (or a mediator for a member) fills in the shop before
//! confirming it, kept per (account, cycle) so that it survives a reload and a new login.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BasketLines::Table)
                    .col(big_integer(BasketLines::AccountId))
                    .col(big_integer(BasketLines::CycleId))
                    .col(big_integer(BasketLines::OfferId))
                    .col(big_integer(BasketLines::QuantityMilli))
                    .col(timestamp_with_time_zone(BasketLines::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(BasketLines::AccountId)
                            .col(BasketLines::CycleId)
                            .col(BasketLines::OfferId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BasketLines::Table, BasketLines::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BasketLines::Table, BasketLines::CycleId)
                            .to(OrderCycles::Table, OrderCycles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BasketLines::Table, BasketLines::OfferId)
                            .to(Offers::Table, Offers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(BasketLines::QuantityMilli).gt(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum BasketLines {
    Table,
    AccountId,
    CycleId,
    OfferId,
    QuantityMilli,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrderCycles {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
}
