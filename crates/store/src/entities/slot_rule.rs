//! @generated from the schema in `migrations/`: the `slot_rules` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A weekly slot rule of a pickup point.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "slot_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pickup_point_id: i64,
    pub weekday: i16,
    pub starts_local: String,
    pub ends_local: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
