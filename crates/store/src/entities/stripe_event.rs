//! @generated from the schema in `migrations/`: the `stripe_events` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A Stripe event already handled.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub market_id: i64,
    pub event_type: String,
    pub received_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
