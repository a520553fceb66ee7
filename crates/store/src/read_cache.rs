//! What a cycle shows to its readers (the cycle, its slots, its offers with their price and
//! stock left), kept in memory for the busiest read of the app: every visitor of the shop loads
//! it, and under a launch-day rush thousands do at once.
//!
//! Each cycle's [`ShownCycle`] carries a *version*: a number that changes whenever what the
//! cycle shows changes, and only then. Callers key what they derive from the view on it (the
//! API keeps its JSON bytes and their gzip per version; a page can keep its HTML), so that
//! nothing is serialized or rendered twice for the same content. Versions are unique within a
//! process, never reused, and mean nothing to another process (an `ETag` is built from the
//! bytes, not from the version).
//!
//! An entry is kept on these rules:
//! - *Local writes show on the very next read.* Every write through this process that changes
//!   what a cycle shows bumps a counter the entry was loaded under, and the next read loads the
//!   cycle again before answering: catalogue, cycle, slot and offer writes bump the sale
//!   cache's generation (`SaleCache::changed`, which makes every entry stale), and order writes
//!   (place, modify, cancel: stock moves) bump the cycle's own stock mark
//!   ([`ReadCache::stock_moved`]): the order writer does it for each basket it wrote, after
//!   the commit and before answering, so even a basket whose client went away shows. The
//!   counters are read *before* loading, so a write committed during a load makes the new entry
//!   stale at once rather than hiding the write.
//! - *Other nodes' writes show within [`CYCLE_RECHECK`] (plus one load).* An entry older than
//!   that is loaded again by one request while the others keep being served the entry they
//!   have; if the load finds the same content, the version stays (and so do the bytes kept for
//!   it).
//! - *Time.* The state shown is computed from the clock (an open cycle past its close is
//!   closed): an entry of an open cycle is not used past its `closes_at`.
//! - *Rights stay the caller's.* The view is the same for every reader who may see the cycle;
//!   [`Store::shown_cycle`] applies `rights::may_read_cycle` to drafts exactly as before, and a
//!   published cycle costs no query and no token look-up.
//!
//! Any new write that changes a cycle's offers, products, producers' names, pickup points or
//! slots must call `self.sales.changed()` after its commit (or `stock_moved` for stock alone).

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use domain::CycleState;

use crate::{
    CycleView, Store, StoreError, Viewer,
    cycles::{load_view, stored_state},
    entities::order_cycle,
    rights,
};

/// How long an entry is served before it is checked against the database again: a change made
/// by another node shows within this (and the time of one load).
pub const CYCLE_RECHECK: Duration = Duration::from_secs(1);

/// The most cycles kept; past it the cache starts again empty (a market has one or two open).
const MAX_CYCLES: usize = 256;

/// What a cycle shows, as of one version.
#[derive(Debug)]
pub struct ShownCycle {
    /// Changes whenever [`ShownCycle::view`] does, and only then (unique within the process).
    pub version: u64,
    /// The cycle, its slots and offers, as [`Store::cycle`] returns them.
    pub view: CycleView,
    /// The row, for the rights on drafts.
    row: order_cycle::Model,
}

struct Entry {
    shown: Arc<ShownCycle>,
    /// When its load began, in [`ReadCache::loads`].
    load: u64,
    /// The sale cache's generation and the cycle's stock mark, read before loading.
    generation: u64,
    stock: u64,
    checked_at: Instant,
    /// Past this instant the state shown is wrong (an open cycle closes by the clock).
    expires_at: Option<DateTime<Utc>>,
}

enum Found {
    /// Good to serve.
    Fresh(Arc<ShownCycle>),
    /// Good to serve, but due for a check against the database.
    Due(Arc<ShownCycle>),
    /// Must be loaded again before answering (or never was).
    Stale,
}

/// The cache itself, one per [`Store`].
#[derive(Default)]
pub(crate) struct ReadCache {
    /// Where versions come from.
    versions: AtomicU64,
    /// Loads begun so far: a reader that waited for a load begun after it arrived takes that
    /// load's answer, whatever was written meanwhile (it shows every write answered before the
    /// reader came). Under a rush, when every basket makes the entry stale, the readers waiting
    /// then share one load instead of each making its own.
    loads: AtomicU64,
    entries: RwLock<HashMap<i64, Entry>>,
    /// Per cycle, bumped by every local order write (stock moved).
    stock: RwLock<HashMap<i64, u64>>,
    /// One load at a time per cycle: 1,000 readers of a cycle that just changed make one load.
    /// Per cycle, so that a flood of reads of cycles that do not exist (each a query that
    /// finds nothing) queues behind itself and not in front of the readers of a real one.
    loading: std::sync::Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// The shop's baskets (`basket_cache`), dropped with the stock marks above.
    pub(crate) baskets: crate::basket_cache::BasketCache,
}

impl ReadCache {
    /// Stock moved in `cycle_id` (an order placed, changed or cancelled through this process):
    /// the next read of the cycle loads it again.
    pub(crate) fn stock_moved(&self, cycle_id: i64) {
        if let Ok(mut stock) = self.stock.write() {
            if stock.len() >= MAX_CYCLES && !stock.contains_key(&cycle_id) {
                // Starting again from zero could make a mark equal to an entry's old one:
                // forget the entries too.
                stock.clear();
                if let Ok(mut entries) = self.entries.write() {
                    entries.clear();
                }
            }
            *stock.entry(cycle_id).or_default() += 1;
        }
    }

    pub(crate) fn stock_mark(&self, cycle_id: i64) -> u64 {
        self.stock
            .read()
            .ok()
            .and_then(|s| s.get(&cycle_id).copied())
            .unwrap_or_default()
    }

    fn find(&self, cycle_id: i64, generation: u64) -> Found {
        let stock = self.stock_mark(cycle_id);
        let Ok(entries) = self.entries.read() else {
            return Found::Stale;
        };
        match entries.get(&cycle_id) {
            Some(e)
                if e.generation == generation
                    && e.stock == stock
                    && e.expires_at.is_none_or(|t| Utc::now() < t) =>
            {
                if e.checked_at.elapsed() < CYCLE_RECHECK {
                    Found::Fresh(e.shown.clone())
                } else {
                    Found::Due(e.shown.clone())
                }
            }
            _ => Found::Stale,
        }
    }

    /// The lock of `cycle_id`'s loads.
    fn lock_of(&self, cycle_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut locks) = self.loading.lock() else {
            return Arc::default();
        };
        // Locks are removed once nobody waits on them; a reader cancelled halfway (its client
        // went away) may leave one behind: bounded here. Starting again costs at most one
        // extra load.
        if locks.len() >= 16 * MAX_CYCLES {
            locks.clear();
        }
        locks.entry(cycle_id).or_default().clone()
    }

    /// Forgets `cycle_id`'s lock if nobody else holds or waits for it.
    fn release(&self, cycle_id: i64, lock: &Arc<tokio::sync::Mutex<()>>) {
        if let Ok(mut locks) = self.loading.lock()
            && Arc::strong_count(lock) <= 2
        {
            locks.remove(&cycle_id);
        }
    }

    /// The entry of a load begun after `arrived`, if it is still good for the clock.
    fn loaded_since(&self, cycle_id: i64, arrived: u64) -> Option<Arc<ShownCycle>> {
        let entries = self.entries.read().ok()?;
        entries
            .get(&cycle_id)
            .filter(|e| e.load > arrived && e.expires_at.is_none_or(|t| Utc::now() < t))
            .map(|e| e.shown.clone())
    }

    /// The version of a cycle's entry if it is fresh, without any query or wait; `None` when
    /// it must be loaded (call [`Store::shown_cycle`]).
    fn fresh_version(&self, cycle_id: i64, generation: u64) -> Option<u64> {
        match self.find(cycle_id, generation) {
            Found::Fresh(s) | Found::Due(s) => Some(s.version),
            Found::Stale => None,
        }
    }
}

impl Store {
    /// What the cycle shows, from memory when fresh (see the module's header): no query for a
    /// published cycle; a draft only for who may read it (404 otherwise), as [`Store::cycle`].
    pub async fn shown_cycle(
        &self,
        viewer: Viewer<'_>,
        id: i64,
    ) -> Result<Arc<ShownCycle>, StoreError> {
        let shown = self.shown_unchecked(id).await?;
        if shown.row.state == CycleState::Draft.as_str() {
            let actor = self.resolve(viewer).await?;
            if !rights::may_read_cycle(self, actor.as_ref(), &shown.row).await? {
                return Err(StoreError::not_found("cycle", id));
            }
        }
        Ok(shown)
    }

    /// The version of what the cycle shows now, if this process holds it fresh: no query, no
    /// wait, no rights (a page keeping its HTML per version still reads the cycle through
    /// [`Store::shown_cycle`] for the rights and on `None`).
    pub fn cycle_version(&self, id: i64) -> Option<u64> {
        self.shown.fresh_version(id, self.sales.generation())
    }

    async fn shown_unchecked(&self, id: i64) -> Result<Arc<ShownCycle>, StoreError> {
        let cache = &self.shown;
        let arrived = cache.loads.load(Ordering::Acquire);
        let due = match cache.find(id, self.sales.generation()) {
            Found::Fresh(s) => return Ok(s),
            Found::Due(s) => Some(s),
            Found::Stale => None,
        };
        let lock = cache.lock_of(id);
        let answer = match due {
            // One reader checks; the others keep being served meanwhile.
            Some(s) => match lock.try_lock() {
                Err(_) => Ok(s),
                Ok(_one) => match cache.find(id, self.sales.generation()) {
                    Found::Fresh(s) => Ok(s),
                    _ => self.load_shown(id).await,
                },
            },
            None => {
                let _one = lock.lock().await;
                if let Some(s) = cache.loaded_since(id, arrived) {
                    Ok(s)
                } else if let Found::Fresh(s) | Found::Due(s) =
                    cache.find(id, self.sales.generation())
                {
                    Ok(s)
                } else {
                    self.load_shown(id).await
                }
            }
        };
        cache.release(id, &lock);
        answer
    }

    /// Loads the cycle and keeps it, with a new version only if its content changed. Called
    /// holding the cycle's lock of `loading`.
    async fn load_shown(&self, id: i64) -> Result<Arc<ShownCycle>, StoreError> {
        let cache = &self.shown;
        let load = cache.loads.fetch_add(1, Ordering::AcqRel) + 1;
        let generation = self.sales.generation();
        let stock = cache.stock_mark(id);
        let checked_at = Instant::now();
        let now = Utc::now();
        let (row, view) = match load_view(self.db(), id, now).await {
            Ok(loaded) => loaded,
            Err(e) => {
                if matches!(e, StoreError::NotFound { .. })
                    && let Ok(mut entries) = cache.entries.write()
                {
                    entries.remove(&id);
                }
                return Err(e);
            }
        };
        let expires_at = (stored_state(&row)? == CycleState::Open && row.closes_at > now)
            .then_some(row.closes_at);
        let previous = cache
            .entries
            .read()
            .ok()
            .and_then(|e| e.get(&id).map(|e| e.shown.clone()));
        let shown = match previous {
            Some(p) if p.view == view && p.row == row => p,
            _ => Arc::new(ShownCycle {
                version: cache.versions.fetch_add(1, Ordering::AcqRel) + 1,
                view,
                row,
            }),
        };
        if let Ok(mut entries) = cache.entries.write() {
            if entries.len() >= MAX_CYCLES && !entries.contains_key(&id) {
                entries.clear();
            }
            // A load begun later (two at once, rarely: see `lock_of`) keeps its place.
            if entries.get(&id).is_some_and(|e| e.load > load) {
                return Ok(shown);
            }
            entries.insert(
                id,
                Entry {
                    shown: shown.clone(),
                    load,
                    generation,
                    stock,
                    checked_at,
                    expires_at,
                },
            );
        }
        Ok(shown)
    }
}
