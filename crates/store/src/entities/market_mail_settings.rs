//! @generated from the schema in `migrations/`: the `market_mail_settings` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A market's reminder timing; a market without a row has the defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_mail_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub market_id: i64,
    pub closing_reminder_hours: i32,
    pub pickup_reminder_hours: i32,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
