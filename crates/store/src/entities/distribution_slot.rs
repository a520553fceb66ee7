//! @generated from the schema in `migrations/`: the `distribution_slots` table. Edit the migration, not this by hand.

use sea_orm::entity::prelude::*;

/// A row of `distribution_slots`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "distribution_slots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub pickup_point_id: i64,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub cancelled: bool,
    pub rule_id: Option<i64>,
    pub note: Option<String>,
    pub moved_from: Option<DateTimeUtc>,
}

/// The relations queries join through.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The row this one belongs to.
    #[sea_orm(
        belongs_to = "super::pickup_point::Entity",
        from = "Column::PickupPointId",
        to = "super::pickup_point::Column::Id"
    )]
    PickupPoint,
}

impl Related<super::pickup_point::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PickupPoint.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
