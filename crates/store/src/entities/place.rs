//! @generated from the schema in `migrations/`: the `places` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `places`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "places")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub postcode: String,
    pub insee: String,
    pub name: String,
    pub name_key: String,
    pub department: String,
    pub latitude: f64,
    pub longitude: f64,
    pub main: bool,
    pub approximate: bool,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
