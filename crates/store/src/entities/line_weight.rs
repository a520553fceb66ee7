//! @generated from the schema in `migrations/`: the `line_weights` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// The real weight of one piece of a variable-weight line.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "line_weights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub piece: i32,
    pub weight_milli: i64,
    pub recorded_at: DateTimeUtc,
}

/// No declared relations: repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
