//! @generated from the schema in `migrations/`: the `payments` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A payment recorded for a basket.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub method: String,
    pub amount_cents: i64,
    pub recorded_by: i64,
    pub recorded_at: DateTimeUtc,
    pub idempotency_key: Option<String>,
    pub voided_at: Option<DateTimeUtc>,
    pub voided_by: Option<i64>,
    pub void_reason: Option<String>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
