//! The regional directory, across every market of the server: producers' public entries
//! (what they make, labels, how to reach them, farm-gate sales), the markets they sell through
//! with those markets' pickup points and next slots, search by distance, and "new producer near
//! you" alerts.
//!
//! - `places`: postcodes and towns to coordinates (`halle places import`).
//! - this file: entries, kept by the producer and by its markets' coordinators; hidden by admins.
//! - `search`: producers and pickup points within a radius, with filters.
//! - `index`: the directory kept in memory that searches read (k-d trees), checked against a
//!   version row the database keeps.
//! - `alerts`: sign-up with double opt-in, unsubscribe, and the matches a publication records.
//!
//! Distances and boxes are computed by `distribution::directory` (pure).

mod alerts;
pub(crate) mod demo;
pub(crate) mod index;
mod places;
mod search;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use distribution::directory::{Label, unwrap_slugs, wrap_slugs};
use domain::{Category, CycleState};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

pub use alerts::{AlertNotice, AlertRequest, AlertSignup, AlertSubscriptionView};
pub use index::DIRECTORY_RECHECK;
pub use places::{Located, PlacesDataset, PlacesImported};
pub use search::{
    COLLECT_DAYS, DirectorySearch, Kept, PAGE_SIZE, PointFound, PointHit, ProducerFound,
    ProducerHit, SearchResults,
};

use crate::{
    Actor, PickupPointView, ProducerView, Role, Store, StoreError,
    catalogue::{pickup_point_view, producer_view},
    entities::{
        directory_entry, distribution_slot, market, market_producer, order_cycle, pickup_point,
        producer,
    },
};

/// Longest summary, opening hours or contact note, in characters.
pub const MAX_ENTRY_TEXT: usize = 2000;
/// A slot's start and end.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Next slots shown per pickup point.
const NEXT_SLOTS: usize = 3;

/// What a producer (or its coordinator) writes in its entry.
#[derive(Clone, Debug, Default)]
pub struct EntryInput {
    /// A few words: what the farm makes, how.
    pub summary: String,
    /// What it makes.
    pub categories: Vec<Category>,
    /// Its labels.
    pub labels: Vec<Label>,
    /// How to reach it besides the producer's phone, email, website and social page
    /// ("SMS rather than calls", "on the market of Melle on Fridays").
    pub contact_note: String,
    /// Sells at the farm gate.
    pub farm_gate: bool,
    /// When the farm shop is open ("Fri 16-19h, Sat 9-12h").
    pub opening_hours: String,
    /// Shown in the directory.
    pub published: bool,
}

/// A producer's entry as stored, with the producer.
#[derive(Clone, Debug)]
pub struct DirectoryEntry {
    /// The producer (name, address, coordinates, phone, email, website, social).
    pub producer: ProducerView,
    /// See [`EntryInput`].
    pub summary: String,
    /// See [`EntryInput`].
    pub categories: Vec<Category>,
    /// See [`EntryInput`].
    pub labels: Vec<Label>,
    /// See [`EntryInput`].
    pub contact_note: String,
    /// See [`EntryInput`].
    pub farm_gate: bool,
    /// See [`EntryInput`].
    pub opening_hours: String,
    /// Published by its producer or coordinator.
    pub published: bool,
    /// Hidden by an admin (then not shown, whatever `published` says).
    pub hidden: bool,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl DirectoryEntry {
    /// Shown to the public.
    pub fn visible(&self) -> bool {
        self.published && !self.hidden
    }
}

/// A market a producer sells through.
#[derive(Clone, Debug)]
pub struct MarketLink {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Its page: `/m/{slug}`.
    pub slug: String,
}

/// A pickup point with its next slots.
#[derive(Clone, Debug)]
pub struct PointSlots {
    /// The point.
    pub point: PickupPointView,
    /// Its market.
    pub market: MarketLink,
    /// The market's time zone.
    pub timezone: Tz,
    /// The next slots (start, end), soonest first, not cancelled, of published cycles.
    pub next_slots: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A producer's public page: its entry, markets, their pickup points and next slots.
#[derive(Clone, Debug)]
pub struct DirectoryProducer {
    /// The entry.
    pub entry: DirectoryEntry,
    /// Where it sells.
    pub markets: Vec<MarketLink>,
    /// Those markets' pickup points.
    pub points: Vec<PointSlots>,
}

/// A pickup point's public page.
#[derive(Clone, Debug)]
pub struct DirectoryPoint {
    /// The point, market and next slots.
    pub point: PointSlots,
    /// The market's producers that are in the directory.
    pub producers: Vec<ProducerView>,
}

pub(crate) fn categories_of(stored: &str) -> Vec<Category> {
    unwrap_slugs(stored)
        .filter_map(|s| Category::parse(s).ok())
        .collect()
}

pub(crate) fn labels_of(stored: &str) -> Vec<Label> {
    unwrap_slugs(stored).filter_map(Label::parse).collect()
}

fn entry_of(p: producer::Model, e: directory_entry::Model) -> DirectoryEntry {
    DirectoryEntry {
        producer: producer_view(p),
        categories: categories_of(&e.categories),
        labels: labels_of(&e.labels),
        summary: e.summary,
        contact_note: e.contact_note,
        farm_gate: e.farm_gate,
        opening_hours: e.opening_hours,
        published: e.published,
        hidden: e.hidden,
        updated_at: e.updated_at,
    }
}

fn market_link(m: &market::Model) -> MarketLink {
    MarketLink {
        id: m.id,
        name: m.name.clone(),
        slug: m.slug.clone(),
    }
}

fn check_text(field: &str, value: &str) -> Result<(), StoreError> {
    crate::text::check_chars(field, value)?;
    if value.chars().count() > MAX_ENTRY_TEXT {
        return Err(StoreError::invalid(
            "invalid_entry_text",
            format!("{field} is longer than {MAX_ENTRY_TEXT} characters"),
        ));
    }
    Ok(())
}

impl Store {
    /// Write: an entry is kept by its producer, by a coordinator of a market it sells through,
    /// or an admin.
    async fn may_edit_entry(&self, actor: &Actor, producer_id: i64) -> Result<bool, StoreError> {
        if actor.is_producer(producer_id) {
            return Ok(true);
        }
        match (actor.role, actor.market_id) {
            (Role::Coordinator, Some(m)) => self.producer_in_market(producer_id, m).await,
            _ => Ok(false),
        }
    }

    /// The entry to edit (an empty, unpublished one if it was never written). 404 to anyone
    /// who may not edit it.
    pub async fn directory_entry_for_edit(
        &self,
        actor: &Actor,
        producer_id: i64,
    ) -> Result<DirectoryEntry, StoreError> {
        if !self.may_edit_entry(actor, producer_id).await? {
            return Err(StoreError::not_found("producer", producer_id));
        }
        let p = producer::Entity::find_by_id(producer_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("producer", producer_id))?;
        let e = directory_entry::Entity::find_by_id(producer_id)
            .one(self.db())
            .await?;
        Ok(match e {
            Some(e) => entry_of(p, e),
            None => DirectoryEntry {
                producer: producer_view(p),
                summary: String::new(),
                categories: Vec::new(),
                labels: Vec::new(),
                contact_note: String::new(),
                farm_gate: false,
                opening_hours: String::new(),
                published: false,
                hidden: false,
                updated_at: Utc::now(),
            },
        })
    }

    /// Writes a producer's entry (its producer, a coordinator of one of its markets, an admin).
    /// When the entry is published (and not hidden), the confirmed alert subscribers around
    /// it are matched in the same transaction; returns how many new matches were recorded.
    pub async fn save_directory_entry(
        &self,
        actor: &Actor,
        producer_id: i64,
        input: EntryInput,
    ) -> Result<(DirectoryEntry, u64), StoreError> {
        if !self.may_edit_entry(actor, producer_id).await? {
            return Err(StoreError::not_found("producer", producer_id));
        }
        check_text("summary", &input.summary)?;
        check_text("contact_note", &input.contact_note)?;
        check_text("opening_hours", &input.opening_hours)?;
        if input.published && input.categories.is_empty() {
            return Err(StoreError::invalid(
                "missing_categories",
                "a published entry names at least one category",
            ));
        }
        let mut categories = input.categories.clone();
        categories.sort_unstable();
        categories.dedup();
        let mut labels = input.labels.clone();
        labels.sort_unstable_by_key(|l| Label::ALL.iter().position(|x| x == l));
        labels.dedup();
        let now = Utc::now();
        let w = self.write().await?;
        let p = producer::Entity::find_by_id(producer_id)
            .one(&w.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("producer", producer_id))?;
        let old = directory_entry::Entity::find_by_id(producer_id)
            .one(&w.tx)
            .await?;
        let hidden = old.as_ref().is_some_and(|e| e.hidden);
        let first_published_at = old
            .as_ref()
            .and_then(|e| e.first_published_at)
            .or(input.published.then_some(now));
        let row = directory_entry::ActiveModel {
            producer_id: Set(producer_id),
            summary: Set(input.summary),
            categories: Set(wrap_slugs(categories.iter().map(|c| c.slug()))),
            labels: Set(wrap_slugs(labels.iter().map(|l| l.slug()))),
            contact_note: Set(input.contact_note),
            farm_gate: Set(input.farm_gate),
            opening_hours: Set(input.opening_hours),
            published: Set(input.published),
            first_published_at: Set(first_published_at),
            hidden: Set(hidden),
            updated_at: Set(now),
            updated_by: Set((actor.account_id > 0).then_some(actor.account_id)),
        };
        let saved = if old.is_some() {
            row.update(&w.tx).await?
        } else {
            row.insert(&w.tx).await?
        };
        let matched = if saved.published && !saved.hidden {
            alerts::match_producer(&w.tx, &p, &saved, now).await?
        } else {
            0
        };
        w.commit().await?;
        Ok((entry_of(p, saved), matched))
    }

    /// Hides (or shows again) an entry: admins only (403 to anyone else who sees it).
    pub async fn hide_directory_entry(
        &self,
        actor: &Actor,
        producer_id: i64,
        hidden: bool,
    ) -> Result<(), StoreError> {
        if actor.role != Role::Admin {
            return Err(StoreError::Forbidden(
                "only an administrator hides a directory entry".into(),
            ));
        }
        let w = self.write().await?;
        let e = directory_entry::Entity::find_by_id(producer_id)
            .one(&w.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("directory entry", producer_id))?;
        let mut e: directory_entry::ActiveModel = e.into();
        e.hidden = Set(hidden);
        e.updated_at = Set(Utc::now());
        e.update(&w.tx).await?;
        w.commit().await?;
        Ok(())
    }

    /// A producer's public page: 404 unless its entry is published and not hidden.
    pub async fn directory_producer(
        &self,
        producer_id: i64,
    ) -> Result<DirectoryProducer, StoreError> {
        let e = directory_entry::Entity::find_by_id(producer_id)
            .one(self.db())
            .await?
            .filter(|e| e.published && !e.hidden)
            .ok_or_else(|| StoreError::not_found("producer", producer_id))?;
        let p = producer::Entity::find_by_id(producer_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("producer", producer_id))?;
        let market_ids: Vec<i64> = market_producer::Entity::find()
            .filter(market_producer::Column::ProducerId.eq(producer_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| m.market_id)
            .collect();
        let markets = market::Entity::find()
            .filter(market::Column::Id.is_in(market_ids.clone()))
            .order_by_asc(market::Column::Name)
            .all(self.db())
            .await?;
        let points = pickup_point::Entity::find()
            .filter(pickup_point::Column::MarketId.is_in(market_ids))
            .order_by_asc(pickup_point::Column::Name)
            .all(self.db())
            .await?;
        let points = self.with_next_slots(&markets, points).await?;
        Ok(DirectoryProducer {
            entry: entry_of(p, e),
            markets: markets.iter().map(market_link).collect(),
            points,
        })
    }

    /// A pickup point's public page (any point of any market: they are public places).
    pub async fn directory_point(&self, point_id: i64) -> Result<DirectoryPoint, StoreError> {
        let point = pickup_point::Entity::find_by_id(point_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("pickup point", point_id))?;
        let m = market::Entity::find_by_id(point.market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("pickup point", point_id))?;
        let producer_ids: Vec<i64> = market_producer::Entity::find()
            .filter(market_producer::Column::MarketId.eq(m.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| r.producer_id)
            .collect();
        let listed: Vec<i64> = directory_entry::Entity::find()
            .filter(directory_entry::Column::ProducerId.is_in(producer_ids))
            .filter(directory_entry::Column::Published.eq(true))
            .filter(directory_entry::Column::Hidden.eq(false))
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| e.producer_id)
            .collect();
        let producers = producer::Entity::find()
            .filter(producer::Column::Id.is_in(listed))
            .order_by_asc(producer::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(producer_view)
            .collect();
        let mut points = self
            .with_next_slots(std::slice::from_ref(&m), vec![point])
            .await?;
        let point = points
            .pop()
            .ok_or_else(|| StoreError::not_found("pickup point", point_id))?;
        Ok(DirectoryPoint { point, producers })
    }

    /// Each point with its next slots (published cycles only, not cancelled), in one query.
    async fn with_next_slots(
        &self,
        markets: &[market::Model],
        points: Vec<pickup_point::Model>,
    ) -> Result<Vec<PointSlots>, StoreError> {
        let slots = upcoming_slots(
            self,
            Some(points.iter().map(|p| p.id).collect()),
            Utc::now(),
            None,
        )
        .await?;
        let mut by_point: HashMap<i64, Vec<Span>> = HashMap::new();
        for s in slots {
            let v = by_point.entry(s.pickup_point_id).or_default();
            if v.len() < NEXT_SLOTS {
                v.push((s.starts_at, s.ends_at));
            }
        }
        let markets: HashMap<i64, &market::Model> = markets.iter().map(|m| (m.id, m)).collect();
        Ok(points
            .into_iter()
            .filter_map(|p| {
                let m = markets.get(&p.market_id)?;
                Some(PointSlots {
                    next_slots: by_point.remove(&p.id).unwrap_or_default(),
                    market: market_link(m),
                    timezone: m.timezone.parse().unwrap_or(chrono_tz::Europe::Paris),
                    point: pickup_point_view(p),
                })
            })
            .collect())
    }
}

/// The slots of `points` (of every point: `None`) starting from `from` (until `until`), not
/// cancelled, in cycles that are not drafts, soonest first.
pub(crate) async fn upcoming_slots(
    store: &Store,
    points: Option<Vec<i64>>,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<distribution_slot::Model>, StoreError> {
    use sea_orm::{JoinType, QuerySelect};
    if points.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = distribution_slot::Entity::find()
        .join(
            JoinType::InnerJoin,
            distribution_slot::Entity::belongs_to(order_cycle::Entity)
                .from(distribution_slot::Column::CycleId)
                .to(order_cycle::Column::Id)
                .into(),
        )
        .filter(order_cycle::Column::State.ne(CycleState::Draft.as_str()))
        .filter(distribution_slot::Column::Cancelled.eq(false))
        .filter(distribution_slot::Column::StartsAt.gte(from));
    if let Some(points) = points {
        q = q.filter(distribution_slot::Column::PickupPointId.is_in(points));
    }
    if let Some(until) = until {
        q = q.filter(distribution_slot::Column::StartsAt.lt(until));
    }
    Ok(q.order_by_asc(distribution_slot::Column::StartsAt)
        .all(store.db())
        .await?)
}
