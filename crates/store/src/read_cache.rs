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
//!   the commit and before answering, so even a basket whose client went away shows. The counters are read *before* loading, so a write committed
//!   during a load makes the new entry stale at once rather than hiding the write.
//! - *Other nodes' writes show within [`RECHECK`] (plus one load).* An entry older than that is
//!   loaded again by one request while the others keep being served the entry they have; if the
//!   load finds the same content, the version stays (and so do the bytes kept for it).
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
pub const RECHECK: Duration = Duration::from_secs(1);

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
    entries: RwLock<HashMap<i64, Entry>>,
    /// Per cycle, bumped by every local order write (stock moved).
    stock: RwLock<HashMap<i64, u64>>,
    /// One load at a time: 1,000 readers of a cycle that just changed make one load.
    loading: tokio::sync::Mutex<()>,
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

    fn stock_mark(&self, cycle_id: i64) -> u64 {
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
                if e.checked_at.elapsed() < RECHECK {
                    Found::Fresh(e.shown.clone())
                } else {
                    Found::Due(e.shown.clone())
                }
            }
            _ => Found::Stale,
        }
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
        match cache.find(id, self.sales.generation()) {
            Found::Fresh(s) => return Ok(s),
            Found::Due(s) => {
                // One reader checks; the others keep being served meanwhile.
                let Ok(_one) = cache.loading.try_lock() else {
                    return Ok(s);
                };
                if let Found::Fresh(s) = cache.find(id, self.sales.generation()) {
                    return Ok(s);
                }
                return self.load_shown(id).await;
            }
            Found::Stale => {}
        }
        let _one = cache.loading.lock().await;
        if let Found::Fresh(s) | Found::Due(s) = cache.find(id, self.sales.generation()) {
            return Ok(s);
        }
        self.load_shown(id).await
    }

    /// Loads the cycle and keeps it, with a new version only if its content changed. Called
    /// holding `loading`.
    async fn load_shown(&self, id: i64) -> Result<Arc<ShownCycle>, StoreError> {
        let cache = &self.shown;
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
            entries.insert(
                id,
                Entry {
                    shown: shown.clone(),
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
