//! @generated from the schema in `migrations/`: the `products` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `products`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub producer_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub unit: String,
    pub price_cents: i64,
    pub vat_basis_points: i32,
    pub step_milli: i64,
    pub variable_weight: bool,
    pub estimated_weight_milli: Option<i64>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub photo_url: Option<String>,
    pub category: String,
    pub reference: Option<String>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
