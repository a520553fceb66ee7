//! @generated from the schema in `migrations/`: the `market_producers` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `market_producers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_producers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub market_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub producer_id: i64,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
