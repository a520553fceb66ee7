//! @generated from the schema in `migrations/`: the `directory_entries` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `directory_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub producer_id: i64,
    pub summary: String,
    pub categories: String,
    pub labels: String,
    pub contact_note: String,
    pub farm_gate: bool,
    pub opening_hours: String,
    pub published: bool,
    pub first_published_at: Option<DateTimeUtc>,
    pub hidden: bool,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i64>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
