//! A product's category (a `domain::Category` slug: what shoppers, the directory and recipes
//! filter by; `other` for the products that existed before) and its optional reference, the
//! producer's own code for it, unique per producer: a catalogue imported again from CSV
//! updates the products of the same reference instead of adding copies.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(string_len(Products::Category, 40).default("other"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(string_len_null(Products::Reference, 64))
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in a unique index on both databases: products without a
        // reference do not collide.
        manager
            .create_index(
                Index::create()
                    .name("idx_products_producer_reference")
                    .table(Products::Table)
                    .col(Products::ProducerId)
                    .col(Products::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_category")
                    .table(Products::Table)
                    .col(Products::Category)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    ProducerId,
    Category,
    Reference,
}
