//! What a coordinator's desk reads besides the use cases it shares with the API: the
//! co-delivery rounds of a cycle, as a list.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{Actor, Store, StoreError, cycles::Viewer, entities::delivery_round, rights};

/// A round in a cycle's list (its plan is read with [`Store::round`]).
#[derive(Clone, Debug)]
pub struct RoundSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// When it was defined.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Store {
    /// A cycle's co-delivery rounds, oldest first (the market's staff; 404 to anyone else).
    pub async fn list_rounds(
        &self,
        actor: &Actor,
        cycle_id: i64,
    ) -> Result<Vec<RoundSummary>, StoreError> {
        let c = self.readable_cycle(Viewer::Actor(actor), cycle_id).await?;
        if !rights::is_staff(actor, c.market_id) {
            return Err(StoreError::not_found("cycle", cycle_id));
        }
        let rows = delivery_round::Entity::find()
            .filter(delivery_round::Column::CycleId.eq(cycle_id))
            .order_by_asc(delivery_round::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| RoundSummary {
                id: r.id,
                name: r.name,
                created_at: r.created_at,
            })
            .collect())
    }
}
