//! @generated from the schema in `migrations/`: the `vehicles` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A market's vehicle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vehicles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub market_id: i64,
    pub name: String,
    pub capacity_crates: i32,
    pub capacity_kg_milli: Option<i64>,
    pub archived: bool,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
