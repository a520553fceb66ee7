//! @generated from the schema in `migrations/`: the `product_photos` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `product_photos`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_photos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub version: String,
    pub bytes: Vec<u8>,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
