//! Weekly slot rules of pickup points ("every Thursday 17:30 to 19:30"), the slots a cycle gets
//! from them, and the week-by-week changes (a bank holiday moves or cancels one slot), with the
//! consumers who must be told.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use distribution::SlotRule;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    Actor, SlotView, Store, StoreError,
    catalogue::corrupt,
    cycles::{load_slots, stored_state},
    entities::{account, distribution_slot, market, order, pickup_point, slot_rule},
};

/// A weekly slot rule.
#[derive(Clone, Debug)]
pub struct SlotRuleView {
    /// Id.
    pub id: i64,
    /// The pickup point it opens.
    pub pickup_point_id: i64,
    /// The point's name.
    pub pickup_point_name: String,
    /// Day of the week.
    pub weekday: Weekday,
    /// Local start time, "17:30".
    pub starts: String,
    /// Local end time, "19:30".
    pub ends: String,
    /// The market's time zone the times are in.
    pub timezone: String,
}

/// A change to one week's slot.
#[derive(Clone, Debug, Default)]
pub struct SlotChange {
    /// New start.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// Cancel it (true) or restore it (false).
    pub cancelled: Option<bool>,
    /// Why ("Jour férié : retrait le vendredi").
    pub note: Option<String>,
}

/// A consumer with a basket at a slot, to be told of a change.
#[derive(Clone, Debug)]
pub struct SlotConsumer {
    /// The basket.
    pub order_id: i64,
    /// The consumer's account.
    pub account_id: i64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone, if given.
    pub phone: Option<String>,
}

fn weekday_number(d: Weekday) -> i16 {
    i16::try_from(d.num_days_from_monday()).unwrap_or(0)
}

fn weekday_of(n: i16) -> Result<Weekday, StoreError> {
    u8::try_from(n)
        .ok()
        .and_then(|n| Weekday::try_from(n).ok())
        .ok_or_else(|| corrupt("weekday", n))
}

fn time(s: &str) -> Result<NaiveTime, StoreError> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| StoreError::invalid("invalid_time", format!("{s:?} is not a time like 17:30")))
}

impl Store {
    async fn point_and_market(
        &self,
        pickup_point_id: i64,
    ) -> Result<(pickup_point::Model, market::Model), StoreError> {
        let p = pickup_point::Entity::find_by_id(pickup_point_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("pickup point", pickup_point_id))?;
        let m = market::Entity::find_by_id(p.market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("point's market", p.market_id))?;
        Ok((p, m))
    }

    /// Adds a weekly slot rule to a pickup point (the market's coordinators).
    pub async fn create_slot_rule(
        &self,
        actor: &Actor,
        pickup_point_id: i64,
        weekday: Weekday,
        starts: &str,
        ends: &str,
    ) -> Result<SlotRuleView, StoreError> {
        let (p, m) = self.point_and_market(pickup_point_id).await?;
        if !crate::rights::runs_market(actor, m.id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can set its slots",
            ));
        }
        let tz = crate::reports::market_timezone(&m)?;
        let (s, e) = (time(starts)?, time(ends)?);
        SlotRule::new(weekday, s, e, tz)
            .map_err(|err| StoreError::invalid("invalid_slot", err.to_string()))?;
        let r = slot_rule::ActiveModel {
            pickup_point_id: Set(p.id),
            weekday: Set(weekday_number(weekday)),
            starts_local: Set(s.format("%H:%M").to_string()),
            ends_local: Set(e.format("%H:%M").to_string()),
            active: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(SlotRuleView {
            id: r.id,
            pickup_point_id: p.id,
            pickup_point_name: p.name,
            weekday,
            starts: r.starts_local,
            ends: r.ends_local,
            timezone: m.timezone,
        })
    }

    /// A market's active slot rules.
    pub async fn list_slot_rules(&self, market_id: i64) -> Result<Vec<SlotRuleView>, StoreError> {
        let m = market::Entity::find_by_id(market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("market", market_id))?;
        let points = pickup_point::Entity::find()
            .filter(pickup_point::Column::MarketId.eq(market_id))
            .all(self.db())
            .await?;
        let rules = slot_rule::Entity::find()
            .filter(slot_rule::Column::PickupPointId.is_in(points.iter().map(|p| p.id)))
            .filter(slot_rule::Column::Active.eq(true))
            .order_by_asc(slot_rule::Column::Weekday)
            .order_by_asc(slot_rule::Column::StartsLocal)
            .order_by_asc(slot_rule::Column::Id)
            .all(self.db())
            .await?;
        rules
            .into_iter()
            .map(|r| {
                let p = points
                    .iter()
                    .find(|p| p.id == r.pickup_point_id)
                    .ok_or_else(|| corrupt("rule's point", r.pickup_point_id))?;
                Ok(SlotRuleView {
                    id: r.id,
                    pickup_point_id: r.pickup_point_id,
                    pickup_point_name: p.name.clone(),
                    weekday: weekday_of(r.weekday)?,
                    starts: r.starts_local,
                    ends: r.ends_local,
                    timezone: m.timezone.clone(),
                })
            })
            .collect()
    }

    /// Gives a cycle one slot per active rule of its market: the rule's first occurrence after
    /// the cycle closes, at the rule's local time whatever the daylight-saving offset. Rules
    /// that already have their slot in the cycle are skipped. Returns the cycle's slots.
    pub async fn generate_slots(
        &self,
        actor: &Actor,
        cycle_id: i64,
    ) -> Result<Vec<SlotView>, StoreError> {
        let c = self.coordinated_cycle(actor, cycle_id).await?;
        domain::offers_editable(
            stored_state(&c)?,
            &domain::CycleWindow {
                opens_at: c.opens_at,
                closes_at: c.closes_at,
            },
            Utc::now(),
        )?;
        let m = market::Entity::find_by_id(c.market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("cycle's market", c.market_id))?;
        let tz = crate::reports::market_timezone(&m)?;
        let existing = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::CycleId.eq(cycle_id))
            .all(self.db())
            .await?;
        let w = self.write().await?;
        for r in self.list_slot_rules(c.market_id).await? {
            let rule = SlotRule::new(r.weekday, time(&r.starts)?, time(&r.ends)?, tz)
                .map_err(|e| corrupt("slot rule", e.to_string()))?;
            let (starts_at, ends_at) = rule.next_after(c.closes_at);
            if existing.iter().any(|s| {
                s.rule_id == Some(r.id)
                    || (s.pickup_point_id == r.pickup_point_id && s.starts_at == starts_at)
            }) {
                continue;
            }
            // A date the venue's host flagged unavailable: the slot comes cancelled or moved.
            let closure =
                crate::venues::closure_on(&w.tx, r.pickup_point_id, tz, starts_at).await?;
            let (moved_start, moved_end, cancelled) =
                closure.as_ref().map_or((starts_at, ends_at, false), |x| {
                    crate::venues::closure_change(x, tz, starts_at, ends_at)
                });
            distribution_slot::ActiveModel {
                cycle_id: Set(cycle_id),
                pickup_point_id: Set(r.pickup_point_id),
                starts_at: Set(moved_start),
                ends_at: Set(moved_end),
                cancelled: Set(cancelled),
                rule_id: Set(Some(r.id)),
                note: Set(closure.map(|x| x.reason)),
                moved_from: Set((moved_start != starts_at).then_some(starts_at)),
                ..Default::default()
            }
            .insert(&w.tx)
            .await?;
        }
        w.commit().await?;
        self.sales.changed();
        let slots = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::CycleId.eq(cycle_id))
            .order_by_asc(distribution_slot::Column::StartsAt)
            .order_by_asc(distribution_slot::Column::Id)
            .all(self.db())
            .await?;
        load_slots(self.db(), slots).await
    }

    /// The consumers with a basket at a slot (the market's coordinators and volunteers).
    pub async fn slot_consumers(
        &self,
        actor: &Actor,
        slot_id: i64,
    ) -> Result<Vec<SlotConsumer>, StoreError> {
        let s = distribution_slot::Entity::find_by_id(slot_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("slot", slot_id))?;
        let c = self.cycle_row(self.db(), s.cycle_id).await?;
        if !crate::rights::is_staff(actor, c.market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators and volunteers see who collects where",
            ));
        }
        let orders = order::Entity::find()
            .filter(order::Column::SlotId.eq(slot_id))
            .filter(order::Column::Status.eq("placed"))
            .order_by_asc(order::Column::Id)
            .all(self.db())
            .await?;
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(orders.iter().map(|o| o.account_id)))
            .all(self.db())
            .await?;
        let mut out: Vec<SlotConsumer> = orders
            .iter()
            .filter_map(|o| {
                accounts
                    .iter()
                    .find(|a| a.id == o.account_id)
                    .map(|a| SlotConsumer {
                        order_id: o.id,
                        account_id: a.id,
                        name: a.name.clone(),
                        email: a.email.clone(),
                        phone: a.phone.clone(),
                    })
            })
            .collect();
        out.sort_by(|a, b| {
            (distribution::collation_key(&a.name), a.order_id)
                .cmp(&(distribution::collation_key(&b.name), b.order_id))
        });
        Ok(out)
    }

    /// Moves or cancels one week's slot (the market's coordinators), and lists the consumers
    /// with a basket there, who must be told.
    pub async fn change_slot(
        &self,
        actor: &Actor,
        slot_id: i64,
        change: SlotChange,
    ) -> Result<(SlotView, Vec<SlotConsumer>), StoreError> {
        let s = distribution_slot::Entity::find_by_id(slot_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("slot", slot_id))?;
        let c = self.cycle_row(self.db(), s.cycle_id).await?;
        if !crate::rights::runs_market(actor, c.market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can move a slot",
            ));
        }
        let updated = self.write_slot_change(actor, &c, s, change).await?;
        let view = load_slots(self.db(), vec![updated])
            .await?
            .pop()
            .ok_or_else(|| corrupt("slot", slot_id))?;
        let consumers = self.slot_consumers(actor, slot_id).await?;
        Ok((view, consumers))
    }

    /// Checks and writes a change to one week's slot, in its own transaction: what a
    /// coordinator's move and a host's flag (`venues.rs`) share once each checked its right.
    /// A slot moved away from its time keeps where it was first planned (`moved_from`), so its
    /// consumers are told it moved; moved back, it is as planned again.
    pub(crate) async fn write_slot_change(
        &self,
        actor: &Actor,
        c: &crate::entities::order_cycle::Model,
        s: distribution_slot::Model,
        change: SlotChange,
    ) -> Result<distribution_slot::Model, StoreError> {
        let w = self.write().await?;
        let updated = self.slot_change_in(&w.tx, actor, c, s, change).await?;
        w.commit().await?;
        self.sales.changed();
        Ok(updated)
    }

    /// [`Store::write_slot_change`] inside the caller's transaction (the caller commits, then
    /// tells the sale cache).
    pub(crate) async fn slot_change_in(
        &self,
        tx: &impl sea_orm::ConnectionTrait,
        actor: &Actor,
        c: &crate::entities::order_cycle::Model,
        s: distribution_slot::Model,
        change: SlotChange,
    ) -> Result<distribution_slot::Model, StoreError> {
        if stored_state(c)? == domain::CycleState::Distributed {
            return Err(StoreError::conflict(
                "cycle_distributed",
                "this cycle is over",
            ));
        }
        let starts_at = change.starts_at.unwrap_or(s.starts_at);
        let ends_at = change.ends_at.unwrap_or(s.ends_at);
        if ends_at <= starts_at || ends_at - starts_at > chrono::Duration::hours(24) {
            return Err(StoreError::invalid(
                "invalid_slot",
                "a slot ends after it starts, within 24 hours",
            ));
        }
        crate::text::check_all([("note", change.note.as_deref())])?;
        if change
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > 500)
        {
            return Err(StoreError::invalid(
                "invalid_field",
                "note is at most 500 characters long",
            ));
        }
        let planned = s.moved_from.unwrap_or(s.starts_at);
        let detail = slot_change_detail(&s, starts_at, &change);
        crate::audit::record(
            tx,
            actor,
            c.market_id,
            crate::audit::kind::SLOT,
            format!("slot {}, {}", s.id, c.name),
            detail,
        )
        .await?;
        let before = s.clone();
        let mut m: distribution_slot::ActiveModel = s.into();
        m.starts_at = Set(starts_at);
        m.ends_at = Set(ends_at);
        m.moved_from = Set((starts_at != planned).then_some(planned));
        if let Some(cancelled) = change.cancelled {
            m.cancelled = Set(cancelled);
        }
        if change.note.is_some() {
            m.note = Set(change.note);
        }
        let updated = m.update(tx).await?;
        // Its consumers are told in the same transaction: the change and its mail commit
        // together.
        crate::mail::notices::enqueue_slot_changed(tx, c.market_id, &before, &updated).await?;
        Ok(updated)
    }
}

/// What a change does to a slot, for the audit trail: its start (UTC), cancelled or not, its
/// note.
fn slot_change_detail(
    s: &distribution_slot::Model,
    starts_at: chrono::DateTime<chrono::Utc>,
    change: &SlotChange,
) -> String {
    let mut parts = Vec::new();
    if starts_at != s.starts_at {
        let f = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        parts.push(format!("{} → {}", f(s.starts_at), f(starts_at)));
    }
    match change.cancelled {
        Some(true) if !s.cancelled => parts.push("cancelled".to_owned()),
        Some(false) if s.cancelled => parts.push("no longer cancelled".to_owned()),
        _ => {}
    }
    if let Some(note) = change
        .note
        .as_deref()
        .filter(|n| Some(*n) != s.note.as_deref())
    {
        parts.push(format!("note: {note}"));
    }
    if parts.is_empty() {
        "unchanged".to_owned()
    } else {
        parts.join(", ")
    }
}
