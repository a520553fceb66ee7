//! @generated from the schema in `migrations/`: the `market_payment_settings` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A market's payment settings; the Stripe keys never leave the store.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_payment_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub market_id: i64,
    pub mode: String,
    pub stripe_secret_key: Option<String>,
    pub stripe_publishable_key: Option<String>,
    pub stripe_webhook_secret: Option<String>,
    pub stripe_api_url: Option<String>,
    pub stripe_js_url: Option<String>,
    pub weight_margin_bp: i32,
    pub commission_bp: i32,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
