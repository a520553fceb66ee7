//! @generated from the schema in `migrations/`: the `basket_lines` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `basket_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "basket_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cycle_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub offer_id: i64,
    pub quantity_milli: i64,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
