//! A product's photo, as the address of an image (optional): shown on the producer's
//! catalogue and wherever the product is. Set apart from the product's other fields (its own
//! use case), so that replacing a product through the API keeps its photo.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Products::Table)
                    .add_column(string_len_null(Products::PhotoUrl, 500))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    PhotoUrl,
}
