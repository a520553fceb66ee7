//! The directory kept in memory, for searches by distance (`search::search_snapshot`): the
//! published, visible producers (what a hit shows, their categories and labels as one bit set,
//! the markets they sell through) and every pickup point (what a hit shows, its market, its
//! slots of the coming days), each kind in a k-d tree of unit vectors
//! (`distribution::directory::index`), laid out in the tree's order so that a search's filters
//! read them in runs.
//!
//! A [`Snapshot`] is never changed: a load builds a new one and swaps it in, so readers never
//! wait for a writer (they hold an `Arc` of the snapshot they began with). It is kept on these
//! rules, like the cycles' read cache (`read_cache`):
//! - *Versions.* The database keeps one row, `directory_version`, whose number goes up at the
//!   commit of any transaction that writes an entry, a producer, a pickup point, a market, a
//!   market's producers, a slot or a cycle (triggers: no write path can forget it, whoever
//!   writes). A snapshot remembers the version read *before* it was loaded, so a write
//!   committed during a load makes the next check load again rather than hide it.
//! - *Local writes show on the very next search.* Every write transaction of this process
//!   (`WriteTx::commit`) and every bump of the sale cache's generation marks the snapshot as
//!   to be checked: the next search reads the version (one primary-key read) and loads again
//!   if it moved, waiting for that load.
//! - *Other nodes' writes show within [`DIRECTORY_RECHECK`] (plus one load).* A snapshot older
//!   than that is checked by one search while the others keep being answered from it.
//! - *Time.* Slots are loaded for [`COLLECT_DAYS`] plus [`SLOT_HORIZON_DAYS`] ahead, and the
//!   snapshot is loaded again before that horizon runs short; "the next slot" is computed at
//!   each search from the clock.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use distribution::directory::{Label, index::PlaceIndex};
use domain::Category;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Statement,
};

use super::{
    COLLECT_DAYS, PointHit, ProducerHit, Span,
    search::{PointRow, ProducerRow},
    upcoming_slots,
};
use crate::{
    Store, StoreError,
    entities::{directory_entry, market_producer, pickup_point, producer},
};

/// How long a snapshot is used before the version is read again: another node's change shows
/// within this (and the time of one load).
pub const DIRECTORY_RECHECK: Duration = Duration::from_secs(1);

/// Slots are loaded this many days past "collect near here"'s window; the snapshot is loaded
/// again once that many days have passed since.
const SLOT_HORIZON_DAYS: i64 = 1;

/// A listed producer.
pub(super) struct IndexedProducer {
    /// What a hit shows (shared with the searches that find it).
    pub(super) hit: Arc<ProducerHit>,
    /// The markets it sells through, by their place in [`Snapshot::markets`].
    pub(super) markets: Vec<u32>,
}

/// A pickup point.
pub(super) struct IndexedPoint {
    /// What a hit shows (shared with the searches that find it).
    pub(super) hit: Arc<PointHit>,
    /// Its market, by its place in [`Snapshot::markets`].
    pub(super) market: u32,
    /// Its slots from the load on, soonest first (not cancelled, of cycles that are not
    /// drafts), up to [`COLLECT_DAYS`] + [`SLOT_HORIZON_DAYS`] ahead.
    pub(super) slots: Vec<Span>,
}

/// A producer's categories (bit `k` for `Category::ALL[k]`) and labels (bit `16 + k` for
/// `Label::ALL[k]`), what the filters ask.
pub(super) fn tags(categories: &[Category], labels: &[Label]) -> u32 {
    let mut bits = 0;
    for c in categories {
        if let Some(k) = Category::ALL.iter().position(|x| x == c) {
            bits |= 1 << k;
        }
    }
    for l in labels {
        if let Some(k) = Label::ALL.iter().position(|x| x == l) {
            bits |= 1 << (16 + k);
        }
    }
    bits
}

/// The directory as of one load. Producers and points are in their trees' order: the
/// position a tree names is the position in these lists.
pub(crate) struct Snapshot {
    pub(super) producers: Vec<IndexedProducer>,
    /// Their places, each with its [`tags`] (what the filters ask).
    pub(super) producer_places: PlaceIndex,
    pub(super) points: Vec<IndexedPoint>,
    pub(super) point_places: PlaceIndex,
    /// How many markets (producers and points name them by their place, 0 to this).
    pub(super) markets: usize,
    /// Past this the slots loaded may not cover a search's window.
    valid_until: DateTime<Utc>,
}

/// A snapshot, with what it was loaded under.
struct Held {
    snapshot: Arc<Snapshot>,
    /// `directory_version` read before the load (or the last check that found it unchanged).
    version: i64,
    /// [`DirectoryIndex::written`] and the sale cache's generation, read before that.
    written: u64,
    generation: u64,
    checked_at: Instant,
}

/// The most places kept found (every postcode and town name is some 45,000); past it the
/// map starts again empty.
const MAX_LOCATED: usize = 100_000;

/// Places found by postcode or town name (`Store::locate`), for the directory version they
/// were read under: `halle places import` bumps the version, so a version read within
/// [`DIRECTORY_RECHECK`] vouches for them as it does for the snapshot.
#[derive(Default)]
struct KeptPlaces {
    version: i64,
    places: HashMap<String, super::Located>,
}

/// The directory in memory, one per [`Store`].
#[derive(Default)]
pub(crate) struct DirectoryIndex {
    held: RwLock<Option<Arc<Held>>>,
    located: RwLock<KeptPlaces>,
    /// Bumped after every local write transaction's commit.
    written: AtomicU64,
    /// One check or load at a time.
    loading: tokio::sync::Mutex<()>,
}

impl DirectoryIndex {
    /// A local write committed: the next search checks the version first.
    pub(crate) fn written(&self) {
        self.written.fetch_add(1, Ordering::AcqRel);
    }

    fn held(&self) -> Option<Arc<Held>> {
        self.held.read().ok().and_then(|h| h.clone())
    }

    /// The place found for `key` under `version`, if kept.
    pub(super) fn kept_place(&self, version: i64, key: &str) -> Option<super::Located> {
        let located = self.located.read().ok()?;
        (located.version == version)
            .then(|| located.places.get(key).cloned())
            .flatten()
    }

    /// Keeps the place found for `key` under `version` (unless a newer version is kept).
    pub(super) fn keep_place(&self, version: i64, key: String, place: super::Located) {
        let Ok(mut located) = self.located.write() else {
            return;
        };
        if located.version != version || located.places.len() >= MAX_LOCATED {
            if located.version > version {
                return;
            }
            located.version = version;
            located.places.clear();
        }
        located.places.insert(key, place);
    }

    /// True when `h` stands for every local write so far and its slots cover now.
    fn current(&self, h: &Held, generation: u64) -> bool {
        h.written == self.written.load(Ordering::Acquire)
            && h.generation == generation
            && Utc::now() < h.snapshot.valid_until
    }
}

#[derive(FromQueryResult)]
struct Version {
    version: i64,
}

async fn read_version(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let v = Version::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM directory_version WHERE id = 1",
    ))
    .one(db)
    .await?;
    Ok(v.map_or(0, |v| v.version))
}

impl Store {
    /// The directory as searches see it now (see the module's header).
    pub(crate) async fn directory_snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        Ok(self.directory_held().await?.snapshot.clone())
    }

    /// The directory's version as searches see it now: what places found (`Store::locate`)
    /// are kept under. The same rule as the snapshot's: checked when due by one caller while
    /// the others go on with the one held (a place looked up in the database by every request
    /// of that moment instead made each second's check a stall under a rush).
    pub(super) async fn directory_version(&self) -> Result<i64, StoreError> {
        Ok(self.directory_held().await?.version)
    }

    /// The snapshot held, checked or loaded first when the rules say so.
    async fn directory_held(&self) -> Result<Arc<Held>, StoreError> {
        let ix = &self.directory;
        if let Some(h) = ix.held()
            && ix.current(&h, self.sales.generation())
        {
            if h.checked_at.elapsed() < DIRECTORY_RECHECK {
                return Ok(h);
            }
            // Due for a check: one search makes it, the others are answered meanwhile.
            let Ok(_one) = ix.loading.try_lock() else {
                return Ok(h);
            };
            return self.check_directory(Some(h)).await;
        }
        let _one = ix.loading.lock().await;
        // Another search may have checked while this one waited.
        let held = ix.held();
        if let Some(h) = &held
            && ix.current(h, self.sales.generation())
            && h.checked_at.elapsed() < DIRECTORY_RECHECK
        {
            return Ok(h.clone());
        }
        self.check_directory(held).await
    }

    /// Reads the version and loads the directory again if it moved (or the slots run short).
    /// Called holding `loading`.
    async fn check_directory(&self, held: Option<Arc<Held>>) -> Result<Arc<Held>, StoreError> {
        let ix = &self.directory;
        let written = ix.written.load(Ordering::Acquire);
        let generation = self.sales.generation();
        let checked_at = Instant::now();
        let version = read_version(self.db()).await?;
        let snapshot = match held {
            Some(h) if h.version == version && Utc::now() < h.snapshot.valid_until => {
                h.snapshot.clone()
            }
            _ => Arc::new(load(self, Utc::now()).await?),
        };
        let held = Arc::new(Held {
            snapshot,
            version,
            written,
            generation,
            checked_at,
        });
        if let Ok(mut slot) = ix.held.write() {
            *slot = Some(held.clone());
        }
        Ok(held)
    }
}

/// Reads the directory: four queries, whatever its size.
async fn load(store: &Store, now: DateTime<Utc>) -> Result<Snapshot, StoreError> {
    let db = store.db();
    let rows = ProducerRow::select(producer::Entity::find())
        .filter(directory_entry::Column::Published.eq(true))
        .filter(directory_entry::Column::Hidden.eq(false))
        .into_model::<ProducerRow>()
        .all(db)
        .await?;
    // Markets are named by their place among those met, in the order met.
    let mut places: HashMap<i64, u32> = HashMap::new();
    let mut place_of = |m: i64| {
        let next = places.len() as u32;
        *places.entry(m).or_insert(next)
    };
    let mut markets: HashMap<i64, Vec<u32>> = HashMap::new();
    for (m, p) in market_producer::Entity::find()
        .select_only()
        .columns([
            market_producer::Column::MarketId,
            market_producer::Column::ProducerId,
        ])
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
    {
        markets.entry(p).or_default().push(place_of(m));
    }
    let producers: Vec<IndexedProducer> = rows
        .into_iter()
        .map(|r| IndexedProducer {
            markets: markets.remove(&r.id).unwrap_or_default(),
            hit: Arc::new(r.hit()),
        })
        .collect();

    let valid_until = now + chrono::Duration::days(SLOT_HORIZON_DAYS);
    let mut slots: HashMap<i64, Vec<Span>> = HashMap::new();
    for s in upcoming_slots(
        store,
        None,
        now,
        Some(valid_until + chrono::Duration::days(COLLECT_DAYS)),
    )
    .await?
    {
        slots
            .entry(s.pickup_point_id)
            .or_default()
            .push((s.starts_at, s.ends_at));
    }
    let points: Vec<IndexedPoint> = PointRow::select(pickup_point::Entity::find())
        .into_model::<PointRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| IndexedPoint {
            market: place_of(r.market_id),
            slots: slots.remove(&r.id).unwrap_or_default(),
            hit: Arc::new(r.hit()),
        })
        .collect();

    let (producer_places, producers) = PlaceIndex::build(producers, |p| p.hit.point);
    let producer_places =
        producer_places.with_tags(|i| tags(&producers[i].hit.categories, &producers[i].hit.labels));
    let (point_places, points) = PlaceIndex::build(points, |p| p.hit.point);
    Ok(Snapshot {
        producer_places,
        point_places,
        producers,
        points,
        markets: places.len(),
        valid_until,
    })
}
