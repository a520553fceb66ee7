//! @generated from the schema in `migrations/`: the `delivery_rounds` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A co-delivery round and its plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub name: String,
    pub request: String,
    pub plan: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
