//! @generated from the schema in `migrations/`: the `alert_subscriptions` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `alert_subscriptions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub postcode: String,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: i32,
    pub categories: String,
    pub weekly_digest: bool,
    pub language: String,
    pub confirm_hash: String,
    pub unsubscribe_token: String,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub unsubscribed_at: Option<DateTimeUtc>,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
