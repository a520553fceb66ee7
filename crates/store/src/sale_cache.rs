//! What each cycle sells (the cycle, its slots, its offers with their products), kept in memory
//! for the order path.
//!
//! Under a rush every basket needs the same cycle, slot and offers. Reading them from the
//! database for each basket cost two queries, and on PostgreSQL those reads were most of a
//! basket's cost. Here they are read once per cycle and kept, on three rules:
//! - *The cache only ever says yes.* A basket the cache cannot take (unknown slot or offer,
//!   closed cycle, bad quantity) is prepared again from the database, which gives the answer.
//! - *The writer checks every yes.* Inside its transaction, the order writer reads back the
//!   cycle's state and times, the slot, and each offer's cycle, price and product rules, and
//!   sends back a basket prepared on anything that changed; it is then prepared again from the
//!   database. No basket is ever written at a stale price or into a closed cycle.
//! - *Writes forget it.* Every change to cycles, slots, offers or products in this process bumps
//!   a generation that makes every entry stale; an entry also expires after [`KEEP`], which
//!   bounds how long another node's change of a name or a time can show in an answer.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    SlotView, StoreError,
    cycles::load_slots,
    entities::{distribution_slot, order_cycle},
    orders::OfferInfo,
};

/// How long an entry is trusted at most (changes made by this process forget it at once).
const KEEP: Duration = Duration::from_secs(10);

/// The most cycles kept; past it the cache starts again empty (a market has one or two open).
const MAX_CYCLES: usize = 256;

/// One cycle as the order path needs it.
pub(crate) struct CycleSale {
    generation: u64,
    loaded_at: Instant,
    pub(crate) cycle: order_cycle::Model,
    pub(crate) slots: HashMap<i64, SlotView>,
    pub(crate) offers: HashMap<i64, OfferInfo>,
}

#[derive(Default)]
pub(crate) struct SaleCache {
    generation: AtomicU64,
    cycles: RwLock<HashMap<i64, Arc<CycleSale>>>,
    /// One load at a time: when a cycle opens, 200 baskets arriving together make one load.
    loading: tokio::sync::Mutex<()>,
}

impl SaleCache {
    /// Forgets everything: called after any committed change to what a cycle sells.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current generation: an entry of any cache loaded under another is stale.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn fresh(&self, cycle_id: i64) -> Option<Arc<CycleSale>> {
        let generation = self.generation.load(Ordering::Acquire);
        let cycles = self.cycles.read().ok()?;
        cycles
            .get(&cycle_id)
            .filter(|s| s.generation == generation && s.loaded_at.elapsed() < KEEP)
            .cloned()
    }

    /// The cycle's sale, from memory or loaded. `None` if it cannot be loaded (an unknown
    /// cycle, say): the caller then goes to the database, which says why.
    pub(crate) async fn get(
        &self,
        db: &impl ConnectionTrait,
        cycle_id: i64,
    ) -> Option<Arc<CycleSale>> {
        if let Some(s) = self.fresh(cycle_id) {
            return Some(s);
        }
        let _one = self.loading.lock().await;
        if let Some(s) = self.fresh(cycle_id) {
            return Some(s);
        }
        // Read the generation before loading: a change committed during the load makes this
        // entry stale at once rather than keeping what it may have missed.
        let generation = self.generation.load(Ordering::Acquire);
        let sale = Arc::new(load(db, cycle_id, generation).await.ok()??);
        if let Ok(mut cycles) = self.cycles.write() {
            if cycles.len() >= MAX_CYCLES {
                cycles.clear();
            }
            cycles.insert(cycle_id, sale.clone());
        }
        Some(sale)
    }
}

async fn load(
    db: &impl ConnectionTrait,
    cycle_id: i64,
    generation: u64,
) -> Result<Option<CycleSale>, StoreError> {
    let loaded_at = Instant::now();
    let Some(cycle) = order_cycle::Entity::find_by_id(cycle_id).one(db).await? else {
        return Ok(None);
    };
    let slots = distribution_slot::Entity::find()
        .filter(distribution_slot::Column::CycleId.eq(cycle_id))
        .all(db)
        .await?;
    let slots = load_slots(db, slots)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let offers = crate::orders::offer_infos(db, cycle_id, None).await?;
    Ok(Some(CycleSale {
        generation,
        loaded_at,
        cycle,
        slots,
        offers,
    }))
}
