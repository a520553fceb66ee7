//! @generated from the schema in `migrations/`: the `markets` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `markets`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "markets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub description: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
