//! Search by distance: producers and pickup points within a radius of a point, filtered by
//! category, label and "I can collect near here" (a pickup point within the radius with a slot
//! in the next [`COLLECT_DAYS`] days, of a market the producer sells through), sorted by
//! great-circle distance.
//!
//! The database filters on the radius's bounding box (indexed latitude and longitude, see
//! `distribution::directory`), the entry's flags and the filters; the exact distance is then
//! computed for each row left, which drops the box's corners, and sorts. A page is
//! [`PAGE_SIZE`] results of each kind.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use distribution::directory::{BoundingBox, Label, Point, distance_km};
use domain::Category;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
};

use super::{categories_of, labels_of, upcoming_slots};
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

/// A producer found.
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
    /// From the centre, in km.
    pub distance_km: f64,
}

/// A pickup point found.
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
    /// Its next slot within [`COLLECT_DAYS`] days.
    pub next_slot: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// From the centre, in km.
    pub distance_km: f64,
}

/// A page of results.
#[derive(Clone, Debug, Default)]
pub struct SearchResults {
    /// This page's producers, nearest first.
    pub producers: Vec<ProducerHit>,
    /// Producers found in all.
    pub producers_total: usize,
    /// This page's pickup points, nearest first.
    pub points: Vec<PointHit>,
    /// Pickup points found in all.
    pub points_total: usize,
    /// The next page, when there is more.
    pub next_page: Option<u32>,
}

#[derive(FromQueryResult)]
struct ProducerRow {
    id: i64,
    name: String,
    city: String,
    postal_code: String,
    latitude: f64,
    longitude: f64,
    categories: String,
    labels: String,
    farm_gate: bool,
}

#[derive(FromQueryResult)]
struct PointRow {
    id: i64,
    name: String,
    address: String,
    city: String,
    postal_code: String,
    latitude: f64,
    longitude: f64,
    market_id: i64,
    market_name: String,
    timezone: String,
}

fn sort_by_distance<T>(hits: &mut [T], key: impl Fn(&T) -> (f64, i64)) {
    hits.sort_by(|a, b| {
        let (da, ia) = key(a);
        let (db, ib) = key(b);
        da.total_cmp(&db).then(ia.cmp(&ib))
    });
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
    /// one page of each. `invalid_radius` outside 5 to 100 km.
    pub async fn search_directory(&self, s: &DirectorySearch) -> Result<SearchResults, StoreError> {
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
        use distribution::directory::{MAX_RADIUS_KM, MIN_RADIUS_KM};
        if !(MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&s.radius_km) {
            return Err(StoreError::invalid(
                "invalid_radius",
                format!("the radius is {MIN_RADIUS_KM} to {MAX_RADIUS_KM} km"),
            ));
        }
        let radius = f64::from(s.radius_km);
        let bbox = BoundingBox::around(s.center, radius);

        // Pickup points first: "collect near here" needs their markets.
        let mut q = pickup_point::Entity::find()
            .select_only()
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
            );
        if method == Method::BoundingBox {
            q = q
                .filter(pickup_point::Column::Latitude.between(bbox.min_lat, bbox.max_lat))
                .filter(pickup_point::Column::Longitude.between(bbox.min_lon, bbox.max_lon));
        }
        let rows = q.into_model::<PointRow>().all(self.db()).await?;
        let rows: Vec<(PointRow, f64)> = rows
            .into_iter()
            .filter_map(|r| {
                let d = distance_km(
                    s.center,
                    Point {
                        lat: r.latitude,
                        lon: r.longitude,
                    },
                );
                (d <= radius).then_some((r, d))
            })
            .collect();
        let slots = upcoming_slots(
            self,
            rows.iter().map(|(r, _)| r.id).collect(),
            now,
            Some(now + Duration::days(COLLECT_DAYS)),
        )
        .await?;
        let mut next: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
        for slot in slots {
            next.entry(slot.pickup_point_id)
                .or_insert((slot.starts_at, slot.ends_at));
        }
        let collect_markets: HashSet<i64> = rows
            .iter()
            .filter(|(r, _)| next.contains_key(&r.id))
            .map(|(r, _)| r.market_id)
            .collect();
        let mut points: Vec<PointHit> = rows
            .into_iter()
            .filter(|(r, _)| !s.collect_near || next.contains_key(&r.id))
            .map(|(r, d)| PointHit {
                next_slot: next.get(&r.id).copied(),
                id: r.id,
                name: r.name,
                address: r.address,
                city: r.city,
                postal_code: r.postal_code,
                point: Point {
                    lat: r.latitude,
                    lon: r.longitude,
                },
                market_name: r.market_name,
                timezone: r.timezone.parse().unwrap_or(chrono_tz::Europe::Paris),
                distance_km: d,
            })
            .collect();
        sort_by_distance(&mut points, |p| (p.distance_km, p.id));

        let mut producers = if s.collect_near && collect_markets.is_empty() {
            Vec::new()
        } else {
            self.producers_near(s, method, &bbox, &collect_markets)
                .await?
        };
        sort_by_distance(&mut producers, |p| (p.distance_km, p.id));

        let start = (s.page as usize).saturating_mul(PAGE_SIZE);
        let more = producers.len() > start + PAGE_SIZE || points.len() > start + PAGE_SIZE;
        let page = |total: usize| start.min(total)..(start + PAGE_SIZE).min(total);
        let (producers_total, points_total) = (producers.len(), points.len());
        Ok(SearchResults {
            producers: producers.drain(page(producers_total)).collect(),
            producers_total,
            points: points.drain(page(points_total)).collect(),
            points_total,
            next_page: more.then_some(s.page + 1),
        })
    }

    async fn producers_near(
        &self,
        s: &DirectorySearch,
        method: Method,
        bbox: &BoundingBox,
        collect_markets: &HashSet<i64>,
    ) -> Result<Vec<ProducerHit>, StoreError> {
        let mut q = producer::Entity::find()
            .select_only()
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
        let rows = q.into_model::<ProducerRow>().all(self.db()).await?;
        let selling: Option<HashSet<i64>> = if s.collect_near {
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
            Some(selling)
        } else {
            None
        };
        let radius = f64::from(s.radius_km);
        Ok(rows
            .into_iter()
            .filter(|r| selling.as_ref().is_none_or(|set| set.contains(&r.id)))
            .filter_map(|r| {
                let point = Point {
                    lat: r.latitude,
                    lon: r.longitude,
                };
                let d = distance_km(s.center, point);
                (d <= radius).then(|| ProducerHit {
                    id: r.id,
                    categories: categories_of(&r.categories),
                    labels: labels_of(&r.labels),
                    name: r.name,
                    city: r.city,
                    postal_code: r.postal_code,
                    point,
                    farm_gate: r.farm_gate,
                    distance_km: d,
                })
            })
            .collect())
    }
}
