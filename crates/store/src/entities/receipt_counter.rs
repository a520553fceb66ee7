//! @generated from the schema in `migrations/`: the `receipt_counters` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A market's receipt counter: the last number it issued.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipt_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub market_id: i64,
    pub last_seq: i64,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
