//! @generated from the schema in `migrations/`: the `pickup_points` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `pickup_points`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_points")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub market_id: i64,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub host_kind: String,
    pub host_name: String,
    pub access_notes: String,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
