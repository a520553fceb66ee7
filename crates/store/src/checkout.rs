//! Check-out at the pickup point, as the volunteers' pages read it: the distributions of the
//! coming days in the volunteer's market, and one slot's baskets (its distribution sheet).
//! The writes are `Store::check_out` (`reports.rs`): collected or not, paid on the spot.
//!
//! Rights: the market's staff (coordinators, volunteers) and admins; a slot of another market
//! answers 404, as if it did not exist.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use distribution::DistributionSheet;
use domain::{CycleState, CycleWindow, effective_state};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    Actor, LineFilter, Role, SlotView, Store, StoreError,
    catalogue::corrupt,
    cycles::{load_slots, stored_state},
    entities::{distribution_slot, market, order, order_cycle},
    reports::market_timezone,
    rights,
};

/// How many days ahead the check-out list looks, today included.
pub const CHECKOUT_DAYS: i64 = 8;

/// A distribution slot on the volunteers' list.
#[derive(Clone, Debug)]
pub struct CheckoutSlot {
    /// The slot.
    pub slot: SlotView,
    /// Its cycle's name.
    pub cycle_name: String,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone.
    pub timezone: Tz,
    /// True once the cycle is closed: baskets can be checked out.
    pub open_for_checkout: bool,
    /// Baskets placed for the slot.
    pub baskets: u64,
    /// Of those, baskets neither collected nor marked not collected.
    pub to_come: u64,
}

/// One slot's baskets to check out.
#[derive(Clone, Debug)]
pub struct CheckoutList {
    /// The slot as consumers see it (cancelled, moved).
    pub slot: SlotView,
    /// Its baskets, alphabetically, with lines, amounts due and states.
    pub sheet: DistributionSheet,
    /// True once the cycle is closed: baskets can be checked out.
    pub open_for_checkout: bool,
}

fn checkable(c: &order_cycle::Model, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let state = effective_state(
        stored_state(c)?,
        &CycleWindow {
            opens_at: c.opens_at,
            closes_at: c.closes_at,
        },
        now,
    );
    Ok(!matches!(state, CycleState::Open | CycleState::Draft))
}

impl Store {
    /// The slots of today and the next days ([`CHECKOUT_DAYS`]) in the actor's market (every
    /// market for an admin), by start, each with its baskets and those still to come. Only
    /// the market's staff and admins: anyone else is refused.
    pub async fn checkout_slots(&self, actor: &Actor) -> Result<Vec<CheckoutSlot>, StoreError> {
        let markets = match (actor.role, actor.market_id) {
            (Role::Admin, _) => market::Entity::find().all(self.db()).await?,
            (Role::Coordinator | Role::Volunteer, Some(m)) => market::Entity::find_by_id(m)
                .one(self.db())
                .await?
                .into_iter()
                .collect(),
            _ => {
                return Err(StoreError::forbidden(
                    "check-out is for the market's coordinators and volunteers",
                ));
            }
        };
        let now = Utc::now();
        let mut out = Vec::new();
        for m in markets {
            let tz = market_timezone(&m)?;
            let today = now.with_timezone(&tz).date_naive();
            let since = tz
                .from_local_datetime(&today.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map_or(now - Duration::days(1), |d| d.with_timezone(&Utc));
            let cycles: HashMap<i64, order_cycle::Model> = order_cycle::Entity::find()
                .filter(order_cycle::Column::MarketId.eq(m.id))
                .filter(order_cycle::Column::State.ne(CycleState::Draft.as_str()))
                .filter(order_cycle::Column::ClosesAt.lt(since + Duration::days(CHECKOUT_DAYS)))
                .all(self.db())
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
            let rows = distribution_slot::Entity::find()
                .filter(distribution_slot::Column::CycleId.is_in(cycles.keys().copied()))
                .filter(distribution_slot::Column::EndsAt.gte(since))
                .filter(
                    distribution_slot::Column::StartsAt.lt(since + Duration::days(CHECKOUT_DAYS)),
                )
                .order_by_asc(distribution_slot::Column::StartsAt)
                .order_by_asc(distribution_slot::Column::Id)
                .all(self.db())
                .await?;
            let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
            let counts: Vec<(i64, String, i64)> = order::Entity::find()
                .select_only()
                .column(order::Column::SlotId)
                .column(order::Column::Collection)
                .column_as(order::Column::Id.count(), "n")
                .filter(order::Column::SlotId.is_in(ids))
                .filter(order::Column::Status.eq("placed"))
                .group_by(order::Column::SlotId)
                .group_by(order::Column::Collection)
                .into_tuple()
                .all(self.db())
                .await?;
            for s in load_slots(self.db(), rows).await? {
                let c = cycles
                    .get(&s.cycle_id)
                    .ok_or_else(|| corrupt("slot's cycle", s.cycle_id))?;
                let of_slot = counts.iter().filter(|(id, _, _)| *id == s.id);
                let baskets = of_slot.clone().map(|(_, _, n)| *n).sum::<i64>();
                let to_come = of_slot
                    .filter(|(_, state, _)| state == "pending")
                    .map(|(_, _, n)| *n)
                    .sum::<i64>();
                out.push(CheckoutSlot {
                    cycle_name: c.name.clone(),
                    market_name: m.name.clone(),
                    timezone: tz,
                    open_for_checkout: checkable(c, now)?,
                    baskets: u64::try_from(baskets).unwrap_or(0),
                    to_come: u64::try_from(to_come).unwrap_or(0),
                    slot: s,
                });
            }
        }
        out.sort_by_key(|s| (s.slot.starts_at, s.slot.id));
        Ok(out)
    }

    /// One slot's baskets to check out (the market's staff, admins; 404 for anyone else).
    pub async fn checkout_list(
        &self,
        actor: &Actor,
        slot_id: i64,
    ) -> Result<CheckoutList, StoreError> {
        let not_found = || StoreError::not_found("slot", slot_id);
        let s = distribution_slot::Entity::find_by_id(slot_id)
            .one(self.db())
            .await?
            .ok_or_else(not_found)?;
        let c = self.cycle_row(self.db(), s.cycle_id).await?;
        if !rights::may_check_out(actor, c.market_id) {
            return Err(not_found());
        }
        let open_for_checkout = checkable(&c, Utc::now())?;
        let slot = load_slots(self.db(), vec![s])
            .await?
            .pop()
            .ok_or_else(not_found)?;
        let data = self
            .cycle_data(
                c.id,
                LineFilter {
                    producer_id: None,
                    slot_id: Some(slot_id),
                },
            )
            .await?;
        let sheet = self
            .cpu
            .run(move || {
                distribution::distribution_sheet(
                    &data.cycle,
                    &data.slots,
                    &data.lines,
                    &data.states,
                    slot_id,
                )
            })
            .await?
            .ok_or_else(not_found)?;
        Ok(CheckoutList {
            slot,
            sheet,
            open_for_checkout,
        })
    }
}
