//! Business rules of issue 7: a withdrawn offer is recorded as such, an order line keeps what
//! it was sold on, and check-out payments are idempotent and can be voided with a reason.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When the producer (or archiving the product) withdrew the offer: stock released by a
        // cancelled or reduced basket then never comes back on sale. Offers withdrawn before
        // this migration cannot be told from sold-out ones (both had stock_left 0), so they stay
        // as they were.
        manager
            .alter_table(
                Table::alter()
                    .table(Offers::Table)
                    .add_column(timestamp_with_time_zone_null(Offers::WithdrawnAt))
                    .to_owned(),
            )
            .await?;

        // What each line was sold on, so that editing the product later (unit, variable
        // weight, estimated weight) does not rewrite orders already placed.
        for col in [
            ColumnDef::new(OrderLines::Unit)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(OrderLines::VariableWeight)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(OrderLines::EstimatedWeightMilli)
                .big_integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OrderLines::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE order_lines SET \
                   unit = (SELECT p.unit FROM offers o JOIN products p ON p.id = o.product_id \
                           WHERE o.id = order_lines.offer_id), \
                   variable_weight = (SELECT p.variable_weight FROM offers o \
                           JOIN products p ON p.id = o.product_id WHERE o.id = order_lines.offer_id), \
                   estimated_weight_milli = (SELECT p.estimated_weight_milli FROM offers o \
                           JOIN products p ON p.id = o.product_id WHERE o.id = order_lines.offer_id)",
            )
            .await?;

        // A check-out payment carries the client's Idempotency-Key (a retried request records
        // it once), and a mistaken one is voided, not deleted: who, when and why are kept.
        for col in [
            ColumnDef::new(Payments::IdempotencyKey)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Payments::VoidedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Payments::VoidedBy)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Payments::VoidReason)
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_payments_order_key")
                    .table(Payments::Table)
                    .col(Payments::OrderId)
                    .col(Payments::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Unit,
    VariableWeight,
    EstimatedWeightMilli,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    OrderId,
    IdempotencyKey,
    VoidedAt,
    VoidedBy,
    VoidReason,
}
