//! @generated from the schema in `migrations/`: the `venue_closures` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `venue_closures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "venue_closures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pickup_point_id: i64,
    pub day: Date,
    pub reason: String,
    pub moved_to: Option<Date>,
    pub flagged_by: i64,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
