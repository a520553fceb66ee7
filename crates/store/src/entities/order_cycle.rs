//! @generated from the schema in `migrations/`: the `order_cycles` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `order_cycles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_cycles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub market_id: i64,
    pub name: String,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    pub state: String,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
