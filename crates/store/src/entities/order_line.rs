//! @generated from the schema in `migrations/`: the `order_lines` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub offer_id: i64,
    pub quantity_milli: i64,
    pub unit_price_cents: i64,
    pub vat_basis_points: i32,
    pub kg_price_cents: Option<i64>,
    pub unit: String,
    pub variable_weight: bool,
    pub estimated_weight_milli: Option<i64>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
