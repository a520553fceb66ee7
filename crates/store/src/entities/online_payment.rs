//! @generated from the schema in `migrations/`: the `online_payments` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// One Stripe PaymentIntent of a basket.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "online_payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub market_id: i64,
    pub idempotency_key: String,
    pub intent_id: Option<String>,
    pub client_secret: Option<String>,
    pub status: String,
    pub amount_cents: i64,
    pub captured_cents: i64,
    pub refunded_cents: i64,
    pub operations: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
