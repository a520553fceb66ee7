//! @generated from the schema in `migrations/`: the `alert_notices` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `alert_notices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subscription_id: i64,
    pub producer_id: Option<i64>,
    pub kind: String,
    pub distance_m: Option<i32>,
    pub link: String,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
