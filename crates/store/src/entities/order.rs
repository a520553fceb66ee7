//! @generated from the schema in `migrations/`: the `orders` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub account_id: i64,
    pub slot_id: i64,
    pub placed_by: i64,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub collection: String,
    pub checked_at: Option<DateTimeUtc>,
    pub checked_by: Option<i64>,
    pub updated_by: Option<i64>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
