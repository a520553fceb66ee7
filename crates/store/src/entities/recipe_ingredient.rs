//! @generated from the schema in `migrations/`: the `recipe_ingredients` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `recipe_ingredients`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipe_ingredients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recipe_id: i64,
    pub position: i32,
    pub category: String,
    pub keyword: Option<String>,
    pub name_fr: String,
    pub name_en: String,
    pub amount: String,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
