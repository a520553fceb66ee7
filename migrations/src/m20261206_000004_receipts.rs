//! Receipts and settlements (issue 9, point 8): a receipt per basket, numbered in one gapless
//! sequence per market. The market's counter is one row of `receipt_counters`, incremented in
//! the same transaction that inserts the receipt: on PostgreSQL the increment holds the row's
//! lock until commit, so two nodes never take the same number, and a transaction that rolls
//! back takes its increment with it, so no number is skipped.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReceiptCounters::Table)
                    .col(big_integer(ReceiptCounters::MarketId).primary_key())
                    // The last number issued (0: none yet).
                    .col(big_integer(ReceiptCounters::LastSeq))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReceiptCounters::Table, ReceiptCounters::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Receipts::Table)
                    .col(big_pk_auto(Receipts::Id))
                    .col(big_integer(Receipts::MarketId))
                    .col(big_integer(Receipts::OrderId))
                    .col(big_integer(Receipts::Seq))
                    // As printed: `2026-000123` (year of issue, then the market's sequence).
                    .col(string(Receipts::Number))
                    .col(timestamp_with_time_zone(Receipts::IssuedAt))
                    .col(big_integer(Receipts::IssuedBy))
                    // The basket's total incl. VAT when the receipt was issued.
                    .col(big_integer(Receipts::TotalCents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Receipts::Table, Receipts::MarketId)
                            .to(Markets::Table, Markets::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Receipts::Table, Receipts::OrderId)
                            .to(Orders::Table, Orders::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_receipts_order")
                    .table(Receipts::Table)
                    .col(Receipts::OrderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_receipts_market_seq")
                    .table(Receipts::Table)
                    .col(Receipts::MarketId)
                    .col(Receipts::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ReceiptCounters {
    Table,
    MarketId,
    LastSeq,
}

#[derive(DeriveIden)]
enum Receipts {
    Table,
    Id,
    MarketId,
    OrderId,
    Seq,
    Number,
    IssuedAt,
    IssuedBy,
    TotalCents,
}

#[derive(DeriveIden)]
enum Markets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}
