//! @generated from the schema in `migrations/`: the `mail_subscriptions` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `mail_subscriptions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub market_id: i64,
    pub cycle_open: bool,
    pub closing_reminder: bool,
    pub token: String,
    pub created_at: DateTimeUtc,
    pub pickup_day_before: bool,
    pub pickup_hours_before: bool,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
