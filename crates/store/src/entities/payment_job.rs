//! @generated from the schema in `migrations/`: the `payment_jobs` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// Deferred work on a card payment (the difference to refund after an early capture).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub online_payment_id: i64,
    pub order_id: i64,
    pub market_id: i64,
    pub kind: String,
    pub captured_cents: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub refunded_cents: Option<i64>,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
