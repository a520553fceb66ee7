//! @generated from the schema in `migrations/`: the `audit_events` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// One staff action of a market's audit trail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub market_id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub kind: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
