//! Hosts' venues: the pickup point a host account speaks for (a town hall, a shop, a company),
//! the slots planned there with the number of baskets expected, and the dates the venue is
//! unavailable.
//!
//! A host flags a date with a reason: the slot of that date at the venue is cancelled, or moved
//! to another date at the same hours, through the same write as a coordinator's move
//! (`slots.rs`), so its consumers see it on their basket (`SlotView::cancelled`, `note`,
//! `moved_from`). The flag is kept (`venue_closures`): the market's coordinators see it, and a
//! slot generated later from the rules for that date is cancelled or moved at once.
//!
//! Rights (`rights.rs`): a host reads and flags only its own venue; the market's coordinators
//! and admins read and flag any of the market's; volunteers read. Anyone else: 404.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};

use crate::{
    Actor, PickupPointView, Role, SlotView, Store, StoreError,
    catalogue::{corrupt, pickup_point_view},
    cycles::load_slots,
    entities::{
        account, distribution_slot, market, order, order_cycle, pickup_point, venue_closure,
    },
    reports::market_timezone,
    rights,
};

/// A slot planned at a venue.
#[derive(Clone, Debug)]
pub struct VenueSlot {
    /// The slot (cancelled, moved, and why).
    pub slot: SlotView,
    /// The cycle's name ("Semaine 49").
    pub cycle_name: String,
    /// Baskets placed for this slot.
    pub baskets: u64,
}

/// A date a venue is unavailable.
#[derive(Clone, Debug)]
pub struct VenueClosure {
    /// Id.
    pub id: i64,
    /// The venue.
    pub pickup_point_id: i64,
    /// Its name.
    pub pickup_point_name: String,
    /// The date, in the market's time zone.
    pub day: NaiveDate,
    /// Why, as the host wrote it.
    pub reason: String,
    /// The date the slot moves to, when it moves rather than being cancelled.
    pub moved_to: Option<NaiveDate>,
    /// Who flagged it.
    pub flagged_by: i64,
    /// Their name.
    pub flagged_by_name: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A venue as its host sees it.
#[derive(Clone, Debug)]
pub struct Venue {
    /// The pickup point.
    pub point: PickupPointView,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone, dates and times are shown in.
    pub timezone: Tz,
    /// Slots from today on, by start.
    pub slots: Vec<VenueSlot>,
    /// Dates flagged unavailable from today on, by date.
    pub closures: Vec<VenueClosure>,
}

/// A date to flag unavailable.
#[derive(Clone, Debug)]
pub struct VenueFlag {
    /// The date, in the market's time zone.
    pub day: NaiveDate,
    /// Why (required, at most 500 characters): consumers read it.
    pub reason: String,
    /// Move the slot of that date to this date (same hours) instead of cancelling it.
    pub move_to: Option<NaiveDate>,
}

/// What a flag did.
#[derive(Clone, Debug)]
pub struct Flagged {
    /// The flag.
    pub closure: VenueClosure,
    /// The slots it cancelled or moved (none when no slot is planned yet on that date).
    pub slots: Vec<SlotView>,
    /// Baskets at those slots, whose consumers must be told.
    pub baskets: u64,
}

/// The instant at `t`'s local time of day on `day` (the earlier one when DST makes it
/// ambiguous, an hour later when it does not exist).
fn same_time_on(tz: Tz, t: DateTime<Utc>, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_time(t.with_timezone(&tz).time());
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or(t, |d| d.with_timezone(&Utc))
}

/// Start of `day` in `tz`, as an instant.
fn start_of(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |d| d.with_timezone(&Utc),
        )
}

/// What a closure does to a slot planned `starts_at`..`ends_at`: its new times, and whether
/// it is cancelled.
pub(crate) fn closure_change(
    c: &venue_closure::Model,
    tz: Tz,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, bool) {
    match c.moved_to {
        Some(to) => (
            same_time_on(tz, starts_at, to),
            same_time_on(tz, starts_at, to) + (ends_at - starts_at),
            false,
        ),
        None => (starts_at, ends_at, true),
    }
}

/// The closure of `point_id` on the local date of `starts_at`, if any.
pub(crate) async fn closure_on(
    db: &impl sea_orm::ConnectionTrait,
    point_id: i64,
    tz: Tz,
    starts_at: DateTime<Utc>,
) -> Result<Option<venue_closure::Model>, StoreError> {
    Ok(venue_closure::Entity::find()
        .filter(venue_closure::Column::PickupPointId.eq(point_id))
        .filter(venue_closure::Column::Day.eq(starts_at.with_timezone(&tz).date_naive()))
        .one(db)
        .await?)
}

impl Store {
    /// The venue a host account speaks for: 404 for any other account, and for a host not yet
    /// given a venue.
    pub async fn host_venue(&self, actor: &Actor) -> Result<Venue, StoreError> {
        let point_id = self.host_point(actor).await?;
        self.venue(actor, point_id).await
    }

    /// The pickup point a host account names, if it is one.
    async fn host_point(&self, actor: &Actor) -> Result<i64, StoreError> {
        if actor.role != Role::Host {
            return Err(StoreError::not_found("venue", actor.account_id));
        }
        account::Entity::find_by_id(actor.account_id)
            .one(self.db())
            .await?
            .and_then(|a| a.pickup_point_id)
            .ok_or_else(|| StoreError::not_found("venue", actor.account_id))
    }

    /// The point and its market, if the actor may read the venue; 404 otherwise.
    async fn readable_venue(
        &self,
        actor: &Actor,
        point_id: i64,
    ) -> Result<(pickup_point::Model, market::Model, bool), StoreError> {
        let not_found = || StoreError::not_found("venue", point_id);
        let p = pickup_point::Entity::find_by_id(point_id)
            .one(self.db())
            .await?
            .ok_or_else(not_found)?;
        let hosts = actor.role == Role::Host && self.host_point(actor).await.ok() == Some(p.id);
        if !rights::may_read_venue(actor, hosts, p.market_id) {
            return Err(not_found());
        }
        let m = market::Entity::find_by_id(p.market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("point's market", p.market_id))?;
        Ok((p, m, hosts))
    }

    /// A venue's slots from today on and its flagged dates (its host, the market's staff).
    pub async fn venue(&self, actor: &Actor, point_id: i64) -> Result<Venue, StoreError> {
        let (p, m, _) = self.readable_venue(actor, point_id).await?;
        let tz = market_timezone(&m)?;
        let today = Utc::now().with_timezone(&tz).date_naive();
        let since = start_of(tz, today);
        let rows = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::PickupPointId.eq(point_id))
            .filter(distribution_slot::Column::StartsAt.gte(since))
            .order_by_asc(distribution_slot::Column::StartsAt)
            .order_by_asc(distribution_slot::Column::Id)
            .limit(60)
            .all(self.db())
            .await?;
        let cycles: HashMap<i64, String> = order_cycle::Entity::find()
            .filter(order_cycle::Column::Id.is_in(rows.iter().map(|s| s.cycle_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let counts = self.basket_counts(rows.iter().map(|s| s.id)).await?;
        let slots = load_slots(self.db(), rows)
            .await?
            .into_iter()
            .map(|s| VenueSlot {
                cycle_name: cycles.get(&s.cycle_id).cloned().unwrap_or_default(),
                baskets: counts.get(&s.id).copied().unwrap_or(0),
                slot: s,
            })
            .collect();
        let closures = self
            .closures_where(
                venue_closure::Entity::find()
                    .filter(venue_closure::Column::PickupPointId.eq(point_id))
                    .filter(venue_closure::Column::Day.gte(today)),
            )
            .await?;
        Ok(Venue {
            point: pickup_point_view(p),
            market_name: m.name,
            timezone: tz,
            slots,
            closures,
        })
    }

    /// Placed baskets per slot.
    pub(crate) async fn basket_counts(
        &self,
        slot_ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, u64>, StoreError> {
        let rows: Vec<(i64, i64)> = order::Entity::find()
            .select_only()
            .column(order::Column::SlotId)
            .column_as(order::Column::Id.count(), "n")
            .filter(order::Column::SlotId.is_in(slot_ids))
            .filter(order::Column::Status.eq("placed"))
            .group_by(order::Column::SlotId)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(s, n)| (s, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    /// The dates flagged unavailable at a market's venues from today on (its coordinators and
    /// volunteers, admins), by date.
    pub async fn market_closures(
        &self,
        actor: &Actor,
        market_id: i64,
    ) -> Result<Vec<VenueClosure>, StoreError> {
        if !rights::is_staff(actor, market_id) {
            return Err(StoreError::not_found("market", market_id));
        }
        let m = market::Entity::find_by_id(market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("market", market_id))?;
        let today = Utc::now().with_timezone(&market_timezone(&m)?).date_naive();
        let points: Vec<i64> = pickup_point::Entity::find()
            .select_only()
            .column(pickup_point::Column::Id)
            .filter(pickup_point::Column::MarketId.eq(market_id))
            .into_tuple()
            .all(self.db())
            .await?;
        self.closures_where(
            venue_closure::Entity::find()
                .filter(venue_closure::Column::PickupPointId.is_in(points))
                .filter(venue_closure::Column::Day.gte(today)),
        )
        .await
    }

    async fn closures_where(
        &self,
        q: sea_orm::Select<venue_closure::Entity>,
    ) -> Result<Vec<VenueClosure>, StoreError> {
        let rows = q
            .order_by_asc(venue_closure::Column::Day)
            .order_by_asc(venue_closure::Column::Id)
            .all(self.db())
            .await?;
        let points: HashMap<i64, String> = pickup_point::Entity::find()
            .filter(pickup_point::Column::Id.is_in(rows.iter().map(|r| r.pickup_point_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let people: HashMap<i64, String> = account::Entity::find()
            .filter(account::Column::Id.is_in(rows.iter().map(|r| r.flagged_by)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| VenueClosure {
                id: r.id,
                pickup_point_id: r.pickup_point_id,
                pickup_point_name: points.get(&r.pickup_point_id).cloned().unwrap_or_default(),
                day: r.day,
                reason: r.reason,
                moved_to: r.moved_to,
                flagged_by: r.flagged_by,
                flagged_by_name: people.get(&r.flagged_by).cloned().unwrap_or_default(),
                created_at: r.created_at,
            })
            .collect())
    }

    /// Flags a date a venue is unavailable (its host, the market's coordinators, admins): the
    /// slots of that date at the venue, in cycles not yet distributed, are cancelled or moved,
    /// all with the flag in one transaction. A date already flagged is a conflict; a date past,
    /// a blank reason, or a move to the same date, before the cycle closes or more than two
    /// weeks away, is invalid.
    pub async fn flag_venue_unavailable(
        &self,
        actor: &Actor,
        point_id: i64,
        flag: VenueFlag,
    ) -> Result<Flagged, StoreError> {
        let (p, m, hosts) = self.readable_venue(actor, point_id).await?;
        if !rights::may_flag_venue(actor, hosts, p.market_id) {
            return Err(StoreError::forbidden(
                "a venue's dates are flagged by its host or the market's coordinators",
            ));
        }
        let tz = market_timezone(&m)?;
        let today = Utc::now().with_timezone(&tz).date_naive();
        let reason = flag.reason.trim().to_owned();
        crate::text::check_chars("reason", &reason)?;
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(StoreError::invalid(
                "invalid_reason",
                "say why the venue is unavailable (500 characters at most)",
            ));
        }
        if flag.day < today || flag.day > today + Duration::days(366) {
            return Err(StoreError::invalid(
                "invalid_day",
                "the date is today or later, within a year",
            ));
        }
        if let Some(to) = flag.move_to
            && (to == flag.day || to < today || (to - flag.day).num_days().abs() > 14)
        {
            return Err(StoreError::invalid(
                "invalid_move",
                "a slot moves to another date, from today on, within two weeks of the first",
            ));
        }
        let from = start_of(tz, flag.day);
        let until = start_of(tz, flag.day + Duration::days(1));
        let planned = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::PickupPointId.eq(point_id))
            .filter(distribution_slot::Column::StartsAt.gte(from))
            .filter(distribution_slot::Column::StartsAt.lt(until))
            .order_by_asc(distribution_slot::Column::Id)
            .all(self.db())
            .await?;
        let cycles: HashMap<i64, order_cycle::Model> = order_cycle::Entity::find()
            .filter(order_cycle::Column::Id.is_in(planned.iter().map(|s| s.cycle_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let now = Utc::now();
        let w = self.write().await?;
        let inserted = venue_closure::ActiveModel {
            pickup_point_id: Set(point_id),
            day: Set(flag.day),
            reason: Set(reason.clone()),
            moved_to: Set(flag.move_to),
            flagged_by: Set(actor.account_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&w.tx)
        .await;
        let closure = match inserted {
            Ok(c) => c,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(StoreError::conflict(
                    "already_flagged",
                    "this date is already flagged unavailable",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let mut changed = Vec::new();
        for s in planned {
            let c = cycles
                .get(&s.cycle_id)
                .ok_or_else(|| corrupt("slot's cycle", s.cycle_id))?;
            if crate::cycles::stored_state(c)? == domain::CycleState::Distributed {
                continue;
            }
            let (starts_at, ends_at, cancelled) =
                closure_change(&closure, tz, s.starts_at, s.ends_at);
            if !cancelled && starts_at <= c.closes_at {
                return Err(StoreError::invalid(
                    "invalid_move",
                    "the slot would come before its cycle closes: choose a later date",
                ));
            }
            let change = crate::SlotChange {
                starts_at: Some(starts_at),
                ends_at: Some(ends_at),
                cancelled: Some(cancelled),
                note: Some(reason.clone()),
            };
            changed.push(self.slot_change_in(&w.tx, actor, c, s, change).await?);
        }
        w.commit().await?;
        self.sales.changed();
        let baskets = self
            .basket_counts(changed.iter().map(|s| s.id))
            .await?
            .values()
            .sum();
        let slots = load_slots(self.db(), changed).await?;
        Ok(Flagged {
            closure: VenueClosure {
                id: closure.id,
                pickup_point_id: point_id,
                pickup_point_name: p.name,
                day: closure.day,
                reason: closure.reason,
                moved_to: closure.moved_to,
                flagged_by: actor.account_id,
                flagged_by_name: actor.name.clone(),
                created_at: closure.created_at,
            },
            slots,
            baskets,
        })
    }

    /// Makes a host account speak for a pickup point (the point's market's coordinators,
    /// admins). Only an account of role host can be given a venue; any other answers 404.
    pub async fn assign_host_venue(
        &self,
        actor: &Actor,
        account_id: i64,
        point_id: i64,
    ) -> Result<(), StoreError> {
        let p = pickup_point::Entity::find_by_id(point_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("pickup point", point_id))?;
        if !rights::runs_market(actor, p.market_id) {
            return Err(StoreError::forbidden(
                "a venue's host is named by the market's coordinators",
            ));
        }
        let a = account::Entity::find_by_id(account_id)
            .one(self.db())
            .await?
            .filter(|a| a.role == Role::Host.as_str())
            .ok_or_else(|| StoreError::not_found("account", account_id))?;
        let mut m: account::ActiveModel = a.into();
        m.pickup_point_id = Set(Some(point_id));
        m.market_id = Set(Some(p.market_id));
        m.update(self.db()).await?;
        Ok(())
    }
}
