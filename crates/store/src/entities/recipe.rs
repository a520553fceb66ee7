//! @generated from the schema in `migrations/`: the `recipes` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `recipes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub title_fr: String,
    pub title_en: String,
    pub summary_fr: String,
    pub summary_en: String,
    pub steps_fr: String,
    pub steps_en: String,
    pub serves: i32,
    pub minutes: i32,
    pub season_months: i32,
    pub created_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
