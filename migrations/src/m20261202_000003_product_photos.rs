//! Uploaded product photos, kept in the database beside the product: several Halle servers
//! share one PostgreSQL and no disk, so a photo sent to one must be served by the other. A
//! photo is stored once, already scaled down for the web (see `store::photos`); the product's
//! `photo_url` then points at `/photos/{product}.jpg?v={version}`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProductPhotos::Table)
                    .col(big_integer(ProductPhotos::ProductId).primary_key())
                    .col(string_len(ProductPhotos::ContentType, 40))
                    .col(integer(ProductPhotos::Width))
                    .col(integer(ProductPhotos::Height))
                    .col(string_len(ProductPhotos::Version, 16))
                    .col(blob(ProductPhotos::Bytes))
                    .col(timestamp_with_time_zone(ProductPhotos::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductPhotos::Table, ProductPhotos::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ProductPhotos {
    Table,
    ProductId,
    ContentType,
    Width,
    Height,
    Version,
    Bytes,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
