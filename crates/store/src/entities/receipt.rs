//! @generated from the schema in `migrations/`: the `receipts` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A basket's receipt: its number in the market's sequence, issued once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub market_id: i64,
    pub order_id: i64,
    pub seq: i64,
    pub number: String,
    pub issued_at: DateTimeUtc,
    pub issued_by: i64,
    pub total_cents: i64,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
