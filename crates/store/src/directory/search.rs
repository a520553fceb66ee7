//! Search by distance: producers and pickup points within a radius of a point, filtered by
//! category, label and "I can collect near here" (a pickup point within the radius with a slot
//! in the next [`COLLECT_DAYS`] days, of a market the producer sells through), sorted by
//! great-circle distance, then by id. A page is [`PAGE_SIZE`] results of each kind.
//!
//! [`Store::search_directory`] answers from the directory kept in memory (`index`: a k-d tree
//! of the listed producers and one of the pickup points, with what a hit shows and the points'
//! coming slots): the totals counted in the circle, the page's hits found nearest first, with
//! no query. Two SQL paths give the same answer and stay as the
//! references the tests and the benchmark compare it with: [`Store::search_directory_sql`]
//! (the bounding box on the indexed latitude and longitude columns, then the exact distance;
//! only ids and coordinates read for every row in the box, the rest for the page's rows) and
//! [`Store::search_directory_scan`] (every producer and point measured).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, OnceLock},
};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use distribution::directory::{BoundingBox, Label, Point, distance_km};
use domain::Category;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
};

use super::{Span, categories_of, index::Snapshot, labels_of, upcoming_slots};
use crate::{
    Store, StoreError,
    entities::{directory_entry, market, market_producer, pickup_point, producer},
};

/// Results per page, of each kind.
pub const PAGE_SIZE: usize = 20;
/// "I can collect near here": a slot within this many days.
pub const COLLECT_DAYS: i64 = 14;

/// A search.
#[derive(Clone, Debug)]
pub struct DirectorySearch {
    /// Around where.
    pub center: Point,
    /// How far, in km (5 to 100).
    pub radius_km: u32,
    /// Producers making any of these (none: every category).
    pub categories: Vec<Category>,
    /// Producers with any of these labels (none: with or without).
    pub labels: Vec<Label>,
    /// Only producers one can collect from near here, and only pickup points with a slot soon.
    pub collect_near: bool,
    /// Which page, from 0.
    pub page: u32,
}

/// A producer as a search shows it (its distance is the [`ProducerFound`]'s).
#[derive(Clone, Debug)]
pub struct ProducerHit {
    /// Producer id (its page: `/directory/producers/{id}`).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Town.
    pub city: String,
    /// Postcode.
    pub postal_code: String,
    /// Where.
    pub point: Point,
    /// What it makes.
    pub categories: Vec<Category>,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Sells at the farm gate.
    pub farm_gate: bool,
    /// Its JSON, once sent (see [`Kept`]).
    pub kept: Kept,
}

/// A pickup point as a search shows it (its distance and next slot are the [`PointFound`]'s).
#[derive(Clone, Debug)]
pub struct PointHit {
    /// Id (its page: `/directory/points/{id}`).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Town.
    pub city: String,
    /// Postcode.
    pub postal_code: String,
    /// Where.
    pub point: Point,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone.
    pub timezone: Tz,
    /// Its JSON, once sent (see [`Kept`]).
    pub kept: Kept,
}

/// The hit's JSON as the API sends it (`web::api::directory`, its only maker), made the first
/// time the hit is sent and kept with it. The directory in memory shares its hits with the
/// searches that find them, so this is made once per load of the directory rather than once
/// per search. Not part of what a hit says: `Debug` shows none of it, and a hit read from the
/// database starts without.
#[derive(Clone, Default)]
pub struct Kept(OnceLock<Box<[u8]>>);

impl Kept {
    /// What was kept, made by `make` the first time.
    pub fn get_or_make(&self, make: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.0.get_or_init(|| make().into_boxed_slice())
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kept")
    }
}

/// A producer found: the hit (shared, not copied), and how far it is.
#[derive(Clone, Debug)]
pub struct ProducerFound {
    /// What it shows.
    pub hit: Arc<ProducerHit>,
    /// From the centre, in km.
    pub distance_km: f64,
}

impl std::ops::Deref for ProducerFound {
    type Target = ProducerHit;
    fn deref(&self) -> &ProducerHit {
        &self.hit
    }
}

/// A pickup point found: the hit (shared, not copied), its next slot, and how far it is.
#[derive(Clone, Debug)]
pub struct PointFound {
    /// What it shows.
    pub hit: Arc<PointHit>,
    /// Its next slot within [`COLLECT_DAYS`] days.
    pub next_slot: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// From the centre, in km.
    pub distance_km: f64,
}

impl std::ops::Deref for PointFound {
    type Target = PointHit;
    fn deref(&self) -> &PointHit {
        &self.hit
    }
}

/// A page of results.
#[derive(Clone, Debug, Default)]
pub struct SearchResults {
    /// This page's producers, nearest first.
    pub producers: Vec<ProducerFound>,
    /// Producers found in all.
    pub producers_total: usize,
    /// This page's pickup points, nearest first.
    pub points: Vec<PointFound>,
    /// Pickup points found in all.
    pub points_total: usize,
    /// The next page, when there is more.
    pub next_page: Option<u32>,
}

/// A producer inside the box that passes the filters: only what measuring needs.
#[derive(FromQueryResult)]
struct ProducerSpot {
    id: i64,
    latitude: f64,
    longitude: f64,
}

/// A producer as a hit shows it (read for the page's rows, or for every listed producer by the
/// in-memory index).
#[derive(FromQueryResult)]
pub(super) struct ProducerRow {
    pub(super) id: i64,
    name: String,
    city: String,
    postal_code: String,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
    categories: String,
    labels: String,
    farm_gate: bool,
}

impl ProducerRow {
    /// The columns read, producer's then entry's (joined on the producer).
    pub(super) fn select(
        q: sea_orm::Select<producer::Entity>,
    ) -> sea_orm::Select<producer::Entity> {
        q.select_only()
            .columns([
                producer::Column::Id,
                producer::Column::Name,
                producer::Column::City,
                producer::Column::PostalCode,
                producer::Column::Latitude,
                producer::Column::Longitude,
            ])
            .columns([
                directory_entry::Column::Categories,
                directory_entry::Column::Labels,
                directory_entry::Column::FarmGate,
            ])
            .join(
                JoinType::InnerJoin,
                producer::Entity::belongs_to(directory_entry::Entity)
                    .from(producer::Column::Id)
                    .to(directory_entry::Column::ProducerId)
                    .into(),
            )
    }

    /// The hit.
    pub(super) fn hit(self) -> ProducerHit {
        ProducerHit {
            id: self.id,
            categories: categories_of(&self.categories),
            labels: labels_of(&self.labels),
            point: Point {
                lat: self.latitude,
                lon: self.longitude,
            },
            name: self.name,
            city: self.city,
            postal_code: self.postal_code,
            farm_gate: self.farm_gate,
            kept: Kept::default(),
        }
    }
}

/// A pickup point inside the box: only what measuring and "collect near here" need.
#[derive(FromQueryResult)]
struct PointSpot {
    id: i64,
    latitude: f64,
    longitude: f64,
    market_id: i64,
}

/// A pickup point as a hit shows it, with its market (read for the page's rows, or for every
/// point by the in-memory index).
#[derive(FromQueryResult)]
pub(super) struct PointRow {
    pub(super) id: i64,
    name: String,
    address: String,
    city: String,
    postal_code: String,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
    pub(super) market_id: i64,
    market_name: String,
    timezone: String,
}

impl PointRow {
    /// The columns read, point's then market's (joined on the point).
    pub(super) fn select(
        q: sea_orm::Select<pickup_point::Entity>,
    ) -> sea_orm::Select<pickup_point::Entity> {
        q.select_only()
            .columns([
                pickup_point::Column::Id,
                pickup_point::Column::Name,
                pickup_point::Column::Address,
                pickup_point::Column::City,
                pickup_point::Column::PostalCode,
                pickup_point::Column::Latitude,
                pickup_point::Column::Longitude,
                pickup_point::Column::MarketId,
            ])
            .column_as(market::Column::Name, "market_name")
            .column(market::Column::Timezone)
            .join(
                JoinType::InnerJoin,
                pickup_point::Entity::belongs_to(market::Entity)
                    .from(pickup_point::Column::MarketId)
                    .to(market::Column::Id)
                    .into(),
            )
    }

    /// The hit.
    pub(super) fn hit(self) -> PointHit {
        PointHit {
            id: self.id,
            point: Point {
                lat: self.latitude,
                lon: self.longitude,
            },
            name: self.name,
            address: self.address,
            city: self.city,
            postal_code: self.postal_code,
            market_name: self.market_name,
            timezone: self.timezone.parse().unwrap_or(chrono_tz::Europe::Paris),
            kept: Kept::default(),
        }
    }
}

fn sort_by_distance<T>(hits: &mut [T], key: impl Fn(&T) -> (f64, i64)) {
    hits.sort_by(|a, b| {
        let (da, ia) = key(a);
        let (db, ib) = key(b);
        da.total_cmp(&db).then(ia.cmp(&ib))
    });
}

/// The page's hits in its order, each made of its measure and its row read by id (a row gone
/// meanwhile is left out).
fn in_page_order<R, H>(
    page: Vec<(i64, Point, f64)>,
    mut rows: HashMap<i64, R>,
    hit: impl Fn(f64, R) -> H,
) -> Vec<H> {
    page.into_iter()
        .filter_map(|(id, _, d)| rows.remove(&id).map(|r| hit(d, r)))
        .collect()
}

/// The range of a page's results among `total`, and whether more pages follow.
fn page_of(page: u32, total: usize) -> std::ops::Range<usize> {
    let start = (page as usize).saturating_mul(PAGE_SIZE);
    start.min(total)..start.saturating_add(PAGE_SIZE).min(total)
}

/// `invalid_radius` outside 5 to 100 km.
fn check_radius(s: &DirectorySearch) -> Result<(), StoreError> {
    use distribution::directory::{MAX_RADIUS_KM, MIN_RADIUS_KM};
    if !(MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&s.radius_km) {
        return Err(StoreError::invalid(
            "invalid_radius",
            format!("the radius is {MIN_RADIUS_KM} to {MAX_RADIUS_KM} km"),
        ));
    }
    Ok(())
}

/// A search answered from a snapshot of the directory (see `index`): the same answer as the
/// SQL path below, without a query. The totals are counts (the trees count boxes wholly inside
/// the circle without measuring their places); only the page's hits, and those before them,
/// are found one by one, nearest first, and measured.
pub(super) fn search_snapshot(
    snap: &Snapshot,
    s: &DirectorySearch,
    now: DateTime<Utc>,
) -> SearchResults {
    let radius = f64::from(s.radius_km);
    let until = now + Duration::days(COLLECT_DAYS);
    // Slots are kept soonest first: the first not yet begun, if it is soon enough.
    let next_slot = |i: usize| {
        snap.points[i]
            .slots
            .iter()
            .find(|(start, _)| *start >= now)
            .filter(|(start, _)| *start < until)
            .copied()
    };
    let point_ok = |i: usize| !s.collect_near || next_slot(i).is_some();
    let points_total = if s.collect_near {
        snap.point_places
            .count_within_where(s.center, radius, |i| next_slot(i).is_some())
    } else {
        snap.point_places.count_within(s.center, radius)
    };
    let points = snap.point_places.nearest_within(
        s.center,
        radius,
        page_of(s.page, points_total).end,
        point_ok,
        |i| snap.points[i].hit.id,
    );

    // "Collect near here": the markets of the points in the circle with a slot soon.
    let mut collect_markets = vec![false; snap.markets];
    if s.collect_near {
        snap.point_places.for_each_within(s.center, radius, |i| {
            if next_slot(i).is_some()
                && let Some(m) = collect_markets.get_mut(snap.points[i].market as usize)
            {
                *m = true;
            }
        });
    }
    let wanted = super::index::tags(&s.categories, &[]);
    let labelled = super::index::tags(&[], &s.labels);
    let tags_ok =
        |tags: u32| (wanted == 0 || tags & wanted != 0) && (labelled == 0 || tags & labelled != 0);
    let producer_ok = |i: usize| {
        tags_ok(snap.producer_places.tag(i))
            && (!s.collect_near
                || snap.producers[i]
                    .markets
                    .iter()
                    .any(|&m| collect_markets.get(m as usize) == Some(&true)))
    };
    let unfiltered = s.categories.is_empty() && s.labels.is_empty() && !s.collect_near;
    let (producers_total, producers) = if s.collect_near && !collect_markets.contains(&true) {
        (0, Vec::new())
    } else {
        let total = if unfiltered {
            snap.producer_places.count_within(s.center, radius)
        } else if !s.collect_near {
            // Categories and labels only: boxes counted by their tallies of tags.
            snap.producer_places
                .count_within_tagged(s.center, radius, tags_ok)
        } else {
            snap.producer_places
                .count_within_where(s.center, radius, producer_ok)
        };
        let page = snap.producer_places.nearest_within(
            s.center,
            radius,
            page_of(s.page, total).end,
            producer_ok,
            |i| snap.producers[i].hit.id,
        );
        (total, page)
    };

    let more = page_of(s.page, producers_total).end < producers_total
        || page_of(s.page, points_total).end < points_total;
    let skip = page_of(s.page, usize::MAX).start;
    SearchResults {
        producers: producers
            .into_iter()
            .skip(skip)
            .map(|(i, d)| ProducerFound {
                hit: snap.producers[i].hit.clone(),
                distance_km: d,
            })
            .collect(),
        producers_total,
        points: points
            .into_iter()
            .skip(skip)
            .map(|(i, d)| PointFound {
                hit: snap.points[i].hit.clone(),
                next_slot: next_slot(i),
                distance_km: d,
            })
            .collect(),
        points_total,
        next_page: more.then_some(s.page + 1),
    }
}

/// How a search reaches the rows: through the bounding box on the indexes, or (the benchmark's
/// reference) by reading every producer and point and measuring each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    BoundingBox,
    FullScan,
}

impl Store {
    /// Producers and pickup points within `s.radius_km` of `s.center`, filtered, nearest first,
    /// one page of each, answered from memory (see `index`: no query while the directory has
    /// not changed). `invalid_radius` outside 5 to 100 km.
    pub async fn search_directory(&self, s: &DirectorySearch) -> Result<SearchResults, StoreError> {
        check_radius(s)?;
        let snap = self.directory_snapshot().await?;
        Ok(search_snapshot(&snap, s, Utc::now()))
    }

    /// The same answer as [`Store::search_directory`] asked of the database: the bounding box on
    /// the indexed coordinates, then the exact distance (the benchmark's second reference).
    pub async fn search_directory_sql(
        &self,
        s: &DirectorySearch,
    ) -> Result<SearchResults, StoreError> {
        self.search_with(s, Method::BoundingBox, Utc::now()).await
    }

    /// The same answer as [`Store::search_directory`] by a brute-force scan of every producer
    /// and pickup point (no bounding box): the benchmark's reference.
    pub async fn search_directory_scan(
        &self,
        s: &DirectorySearch,
    ) -> Result<SearchResults, StoreError> {
        self.search_with(s, Method::FullScan, Utc::now()).await
    }

    async fn search_with(
        &self,
        s: &DirectorySearch,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, StoreError> {
        check_radius(s)?;
        let radius = f64::from(s.radius_km);
        let bbox = BoundingBox::around(s.center, radius);
        let measure = |lat: f64, lon: f64| {
            let point = Point { lat, lon };
            let d = distance_km(s.center, point);
            (d <= radius).then_some((point, d))
        };

        // Pickup points first: "collect near here" needs their markets. Only ids and
        // coordinates are read for all of them; names and addresses for the page's only.
        let mut q = pickup_point::Entity::find().select_only().columns([
            pickup_point::Column::Id,
            pickup_point::Column::Latitude,
            pickup_point::Column::Longitude,
            pickup_point::Column::MarketId,
        ]);
        if method == Method::BoundingBox {
            q = q
                .filter(pickup_point::Column::Latitude.between(bbox.min_lat, bbox.max_lat))
                .filter(pickup_point::Column::Longitude.between(bbox.min_lon, bbox.max_lon));
        }
        let spots: Vec<(PointSpot, Point, f64)> = q
            .into_model::<PointSpot>()
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|r| measure(r.latitude, r.longitude).map(|(p, d)| (r, p, d)))
            .collect();
        let slots = upcoming_slots(
            self,
            Some(spots.iter().map(|(r, _, _)| r.id).collect()),
            now,
            Some(now + Duration::days(COLLECT_DAYS)),
        )
        .await?;
        let mut next: HashMap<i64, Span> = HashMap::new();
        for slot in slots {
            next.entry(slot.pickup_point_id)
                .or_insert((slot.starts_at, slot.ends_at));
        }
        let collect_markets: HashSet<i64> = spots
            .iter()
            .filter(|(r, _, _)| next.contains_key(&r.id))
            .map(|(r, _, _)| r.market_id)
            .collect();
        let mut points: Vec<(i64, Point, f64)> = spots
            .into_iter()
            .filter(|(r, _, _)| !s.collect_near || next.contains_key(&r.id))
            .map(|(r, p, d)| (r.id, p, d))
            .collect();
        sort_by_distance(&mut points, |&(id, _, d)| (d, id));

        let mut producers = if s.collect_near && collect_markets.is_empty() {
            Vec::new()
        } else {
            self.producers_near(s, method, &bbox, &collect_markets)
                .await?
                .into_iter()
                .filter_map(|r| measure(r.latitude, r.longitude).map(|(p, d)| (r.id, p, d)))
                .collect()
        };
        sort_by_distance(&mut producers, |&(id, _, d)| (d, id));

        let (producers_total, points_total) = (producers.len(), points.len());
        let more = page_of(s.page, producers_total).end < producers_total
            || page_of(s.page, points_total).end < points_total;
        let producers = self
            .producer_hits(producers.drain(page_of(s.page, producers_total)).collect())
            .await?;
        let points = self
            .point_hits(points.drain(page_of(s.page, points_total)).collect(), &next)
            .await?;
        Ok(SearchResults {
            producers,
            producers_total,
            points,
            points_total,
            next_page: more.then_some(s.page + 1),
        })
    }

    /// The published, visible producers inside the box (or anywhere, for the scan) that pass
    /// the filters, unmeasured.
    async fn producers_near(
        &self,
        s: &DirectorySearch,
        method: Method,
        bbox: &BoundingBox,
        collect_markets: &HashSet<i64>,
    ) -> Result<Vec<ProducerSpot>, StoreError> {
        let mut q = producer::Entity::find()
            .select_only()
            .columns([
                producer::Column::Id,
                producer::Column::Latitude,
                producer::Column::Longitude,
            ])
            .join(
                JoinType::InnerJoin,
                producer::Entity::belongs_to(directory_entry::Entity)
                    .from(producer::Column::Id)
                    .to(directory_entry::Column::ProducerId)
                    .into(),
            )
            .filter(directory_entry::Column::Published.eq(true))
            .filter(directory_entry::Column::Hidden.eq(false));
        if method == Method::BoundingBox {
            q = q
                .filter(producer::Column::Latitude.between(bbox.min_lat, bbox.max_lat))
                .filter(producer::Column::Longitude.between(bbox.min_lon, bbox.max_lon));
        }
        if !s.categories.is_empty() {
            let mut any = Condition::any();
            for c in &s.categories {
                any =
                    any.add(directory_entry::Column::Categories.like(format!("%,{},%", c.slug())));
            }
            q = q.filter(any);
        }
        if !s.labels.is_empty() {
            let mut any = Condition::any();
            for l in &s.labels {
                any = any.add(directory_entry::Column::Labels.like(format!("%,{},%", l.slug())));
            }
            q = q.filter(any);
        }
        let rows = q.into_model::<ProducerSpot>().all(self.db()).await?;
        if !s.collect_near {
            return Ok(rows);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut selling = HashSet::new();
        // In chunks: SQLite takes at most 32766 parameters.
        for chunk in ids.chunks(10_000) {
            let found = market_producer::Entity::find()
                .filter(market_producer::Column::ProducerId.is_in(chunk.to_vec()))
                .filter(
                    market_producer::Column::MarketId
                        .is_in(collect_markets.iter().copied().collect::<Vec<_>>()),
                )
                .all(self.db())
                .await?;
            selling.extend(found.into_iter().map(|m| m.producer_id));
        }
        Ok(rows
            .into_iter()
            .filter(|r| selling.contains(&r.id))
            .collect())
    }

    /// The page's producers, whole, in the order given.
    async fn producer_hits(
        &self,
        page: Vec<(i64, Point, f64)>,
    ) -> Result<Vec<ProducerFound>, StoreError> {
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let rows: HashMap<i64, ProducerRow> = ProducerRow::select(producer::Entity::find())
            .filter(producer::Column::Id.is_in(page.iter().map(|(id, _, _)| *id)))
            .into_model::<ProducerRow>()
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(in_page_order(page, rows, |d, r| ProducerFound {
            hit: Arc::new(r.hit()),
            distance_km: d,
        }))
    }

    /// The page's pickup points, whole, in the order given.
    async fn point_hits(
        &self,
        page: Vec<(i64, Point, f64)>,
        next: &HashMap<i64, Span>,
    ) -> Result<Vec<PointFound>, StoreError> {
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let rows: HashMap<i64, PointRow> = PointRow::select(pickup_point::Entity::find())
            .filter(pickup_point::Column::Id.is_in(page.iter().map(|(id, _, _)| *id)))
            .into_model::<PointRow>()
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(in_page_order(page, rows, |d, r| PointFound {
            next_slot: next.get(&r.id).copied(),
            hit: Arc::new(r.hit()),
            distance_km: d,
        }))
    }
}
