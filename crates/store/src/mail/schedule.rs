//! Mail written on a schedule: what a periodic task (`mail::Scheduler`, in `halle serve`)
//! finds due at a given time, and each market's timing of it.
//!
//! [`Store::schedule_mail`] takes `now` from its caller (tests give the time they want), looks
//! at what is due at that time and writes it to the outbox:
//! - the closing reminder, from `closing_reminder_hours` before a cycle closes until it closes,
//!   to the members who asked for it and have no order in that cycle;
//! - the pickup reminder of the day before, from 18:00 (the market's time) the day before a
//!   slot until it starts, to each consumer with an order on it who did not say no;
//! - the second pickup reminder, from `pickup_reminder_hours` before the slot until it starts,
//!   to those who asked for it;
//! - each producer's picking list, once its cycle has closed (a cycle closed by hand writes
//!   them in its closing transaction; a cycle that closes by its clock gets them here).
//!
//! `now` only says what is due: rows are written (and sendable) at the real time.
//!
//! Every row has a `unique_key` (the cycle or the slot and its start, the producer, the
//! account): a reminder is written once however many ticks and nodes look, and a tick that was
//! missed is caught up by the next one, as long as the slot has not started (and for a week
//! after close for picking lists).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use serde_json::json;

use super::{
    outbox::{COLUMNS, kind, statement},
    subscriptions::{MailWishes, new_row},
};
use crate::{
    Actor, Store, StoreError,
    entities::{distribution_slot, mail_subscription, market_mail_settings, order, order_cycle},
    members::INTERNAL_EMAIL_DOMAIN,
    rights,
};

/// A closing reminder goes this many hours before close unless the market says otherwise.
pub const DEFAULT_CLOSING_REMINDER_HOURS: i32 = 24;
/// The second pickup reminder goes this many hours before the slot unless the market says
/// otherwise.
pub const DEFAULT_PICKUP_REMINDER_HOURS: i32 = 3;
/// The local time of the pickup reminder of the day before.
pub const DAY_BEFORE_AT: NaiveTime = match NaiveTime::from_hms_opt(18, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
/// How long after its close a cycle's picking lists are still written by a late tick.
const PICKING_CATCH_UP_DAYS: i64 = 7;

/// A market's reminder timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailSettingsView {
    /// Hours before a cycle closes when the closing reminder goes (1 to 168).
    pub closing_reminder_hours: i32,
    /// Hours before a slot when the second pickup reminder goes (1 to 12).
    pub pickup_reminder_hours: i32,
}

impl Default for MailSettingsView {
    fn default() -> Self {
        Self {
            closing_reminder_hours: DEFAULT_CLOSING_REMINDER_HOURS,
            pickup_reminder_hours: DEFAULT_PICKUP_REMINDER_HOURS,
        }
    }
}

/// What one look at the clock wrote (rows, not counting those already there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scheduled {
    /// Closing reminders.
    pub closing_reminders: u64,
    /// Pickup reminders of the day before.
    pub pickup_day_before: u64,
    /// Pickup reminders a few hours before.
    pub pickup_hours_before: u64,
    /// Picking lists.
    pub picking_lists: u64,
}

impl Scheduled {
    /// Rows written in all.
    pub fn total(&self) -> u64 {
        self.closing_reminders
            + self.pickup_day_before
            + self.pickup_hours_before
            + self.picking_lists
    }
}

/// When the pickup reminder of the day before a slot starting at `starts_at` is due: 18:00 the
/// day before, in the market's time zone (the earlier of the two on a DST fold, the next valid
/// time on a gap).
pub fn day_before_due(starts_at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local_day = starts_at.with_timezone(&tz).date_naive();
    let eve = local_day
        .pred_opt()
        .unwrap_or(local_day)
        .and_time(DAY_BEFORE_AT);
    tz.from_local_datetime(&eve)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(eve + Duration::hours(1)))
                .earliest()
        })
        .map_or(starts_at - Duration::days(1), |t| t.with_timezone(&Utc))
}

fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Paris)
}

fn not_internal() -> String {
    format!("%@{INTERNAL_EMAIL_DOMAIN}")
}

/// Writes each producer's picking list mail for `cycle_id` (to the accounts of every producer
/// with something ordered in it), once per cycle, producer and account. Inside the caller's
/// transaction: the close of a cycle calls it in its own.
pub(crate) async fn enqueue_picking_lists(
    db: &impl ConnectionTrait,
    cycle_id: i64,
) -> Result<u64, DbErr> {
    let sql = format!(
        "INSERT INTO outbox ({COLUMNS}) \
         SELECT c.market_id, a.id, a.email, a.name, a.language, $2, \
         'picking_list:' || CAST(c.id AS TEXT) || ':' || CAST(p.producer_id AS TEXT) || ':' || CAST(a.id AS TEXT), \
         '{{\"cycle_id\":' || CAST(c.id AS TEXT) || ',\"producer_id\":' || CAST(p.producer_id AS TEXT) || '}}', \
         'pending', 0, $3, $3 \
         FROM (SELECT DISTINCT f.producer_id FROM order_lines l JOIN orders o ON o.id = l.order_id \
               JOIN offers f ON f.id = l.offer_id WHERE o.cycle_id = $1 AND o.status <> 'cancelled') p \
         JOIN order_cycles c ON c.id = $1 \
         JOIN accounts a ON a.producer_id = p.producer_id AND a.role = 'producer' \
         WHERE a.disabled_at IS NULL AND a.email NOT LIKE $4 \
         ON CONFLICT DO NOTHING"
    );
    let res = db
        .execute_raw(statement(
            db.get_database_backend(),
            &sql,
            vec![
                cycle_id.into(),
                kind::PICKING_LIST.into(),
                Utc::now().into(),
                not_internal().into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

impl Store {
    /// A market's reminder timing (the defaults until its coordinators set it).
    pub async fn mail_settings(&self, market_id: i64) -> Result<MailSettingsView, StoreError> {
        self.market(market_id).await?;
        Ok(self
            .settings_of([market_id])
            .await?
            .remove(&market_id)
            .unwrap_or_default())
    }

    /// Sets a market's reminder timing (its coordinators): the closing reminder 1 to 168 hours
    /// before close, the second pickup reminder 1 to 12 hours before the slot.
    pub async fn set_mail_settings(
        &self,
        actor: &Actor,
        market_id: i64,
        settings: MailSettingsView,
    ) -> Result<MailSettingsView, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only the market's coordinators set its reminders",
            ));
        }
        if !(1..=168).contains(&settings.closing_reminder_hours) {
            return Err(StoreError::invalid(
                "invalid_closing_reminder_hours",
                "the closing reminder goes 1 to 168 hours before close",
            ));
        }
        if !(1..=12).contains(&settings.pickup_reminder_hours) {
            return Err(StoreError::invalid(
                "invalid_pickup_reminder_hours",
                "the second pickup reminder goes 1 to 12 hours before the slot",
            ));
        }
        let w = self.write().await?;
        market_mail_settings::Entity::insert(market_mail_settings::ActiveModel {
            market_id: Set(market_id),
            closing_reminder_hours: Set(settings.closing_reminder_hours),
            pickup_reminder_hours: Set(settings.pickup_reminder_hours),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(market_mail_settings::Column::MarketId)
                .update_columns([
                    market_mail_settings::Column::ClosingReminderHours,
                    market_mail_settings::Column::PickupReminderHours,
                    market_mail_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&w.tx)
        .await?;
        w.commit().await?;
        Ok(settings)
    }

    /// The timing of each of `markets` (defaults for those without a row).
    async fn settings_of(
        &self,
        markets: impl IntoIterator<Item = i64>,
    ) -> Result<std::collections::HashMap<i64, MailSettingsView>, StoreError> {
        let ids: Vec<i64> = markets.into_iter().collect();
        let mut out: std::collections::HashMap<i64, MailSettingsView> = ids
            .iter()
            .map(|m| (*m, MailSettingsView::default()))
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        for r in market_mail_settings::Entity::find()
            .filter(market_mail_settings::Column::MarketId.is_in(ids))
            .all(self.db())
            .await?
        {
            out.insert(
                r.market_id,
                MailSettingsView {
                    closing_reminder_hours: r.closing_reminder_hours,
                    pickup_reminder_hours: r.pickup_reminder_hours,
                },
            );
        }
        Ok(out)
    }

    /// Writes to the outbox every reminder and picking list due at `now` and not written yet
    /// (see the module). Safe to call as often as wanted, from any number of nodes.
    pub async fn schedule_mail(&self, now: DateTime<Utc>) -> Result<Scheduled, StoreError> {
        let mut done = Scheduled {
            closing_reminders: self.schedule_closing_reminders(now).await?,
            picking_lists: self.schedule_picking_lists(now).await?,
            ..Scheduled::default()
        };
        let (day, hours) = self.schedule_pickup_reminders(now).await?;
        done.pickup_day_before = day;
        done.pickup_hours_before = hours;
        Ok(done)
    }

    async fn schedule_closing_reminders(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let cycles = order_cycle::Entity::find()
            .filter(order_cycle::Column::State.eq(domain::CycleState::Open.as_str()))
            .filter(order_cycle::Column::OpensAt.lte(now))
            .filter(order_cycle::Column::ClosesAt.gt(now))
            .filter(order_cycle::Column::ClosesAt.lte(now + Duration::hours(168)))
            .all(self.db())
            .await?;
        let settings = self.settings_of(cycles.iter().map(|c| c.market_id)).await?;
        let mut written = 0;
        for c in cycles {
            let hours = settings
                .get(&c.market_id)
                .map_or(DEFAULT_CLOSING_REMINDER_HOURS, |s| s.closing_reminder_hours);
            if now < c.closes_at - Duration::hours(i64::from(hours)) {
                continue;
            }
            let sql = format!(
                "INSERT INTO outbox ({COLUMNS}) \
                 SELECT $1, a.id, a.email, a.name, a.language, $2, \
                 $3 || CAST(a.id AS TEXT), $4, 'pending', 0, $5, $5 \
                 FROM mail_subscriptions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.market_id = $1 AND s.closing_reminder AND a.disabled_at IS NULL \
                 AND a.email NOT LIKE $6 AND NOT EXISTS (SELECT 1 FROM orders o \
                 WHERE o.account_id = a.id AND o.cycle_id = $7 AND o.status <> 'cancelled') \
                 ON CONFLICT DO NOTHING"
            );
            let payload = json!({
                "cycle_id": c.id,
                "cycle_name": c.name,
                "closes_at": c.closes_at.to_rfc3339(),
            });
            written += self
                .insert_rows(
                    &sql,
                    vec![
                        c.market_id.into(),
                        kind::CLOSING_REMINDER.into(),
                        format!("closing_reminder:{}:", c.id).into(),
                        payload.to_string().into(),
                        Utc::now().into(),
                        not_internal().into(),
                        c.id.into(),
                    ],
                )
                .await?;
        }
        Ok(written)
    }

    async fn schedule_picking_lists(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let cycles = order_cycle::Entity::find()
            .filter(order_cycle::Column::State.is_in([
                domain::CycleState::Open.as_str(),
                domain::CycleState::Closed.as_str(),
            ]))
            .filter(order_cycle::Column::ClosesAt.lte(now))
            .filter(order_cycle::Column::ClosesAt.gt(now - Duration::days(PICKING_CATCH_UP_DAYS)))
            .all(self.db())
            .await?;
        let mut written = 0;
        for c in cycles {
            let w = self.write().await?;
            written += enqueue_picking_lists(&w.tx, c.id).await?;
            w.commit().await?;
        }
        Ok(written)
    }

    /// Both pickup reminders: (day before, hours before) rows written.
    async fn schedule_pickup_reminders(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64), StoreError> {
        let slots = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::Cancelled.eq(false))
            .filter(distribution_slot::Column::StartsAt.gt(now))
            .filter(distribution_slot::Column::StartsAt.lte(now + Duration::hours(48)))
            .all(self.db())
            .await?;
        if slots.is_empty() {
            return Ok((0, 0));
        }
        let cycles: std::collections::HashMap<i64, order_cycle::Model> =
            order_cycle::Entity::find()
                .filter(order_cycle::Column::Id.is_in(slots.iter().map(|s| s.cycle_id)))
                .filter(order_cycle::Column::State.ne(domain::CycleState::Draft.as_str()))
                .all(self.db())
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        let settings = self
            .settings_of(cycles.values().map(|c| c.market_id))
            .await?;
        let (mut day, mut hours) = (0, 0);
        for s in slots {
            let Some(c) = cycles.get(&s.cycle_id) else {
                continue;
            };
            let market = self.market(c.market_id).await?;
            let tz = tz_of(&market.timezone);
            let before = settings
                .get(&c.market_id)
                .map_or(DEFAULT_PICKUP_REMINDER_HOURS, |x| x.pickup_reminder_hours);
            let day_due = now >= day_before_due(s.starts_at, tz);
            let hours_due = now >= s.starts_at - Duration::hours(i64::from(before));
            if !day_due && !hours_due {
                continue;
            }
            self.give_wishes_to_slot_consumers(&s, c.market_id).await?;
            if day_due {
                day += self
                    .enqueue_pickup(&s, c.market_id, kind::PICKUP_DAY_BEFORE)
                    .await?;
            }
            if hours_due {
                hours += self
                    .enqueue_pickup(&s, c.market_id, kind::PICKUP_HOURS_BEFORE)
                    .await?;
            }
        }
        Ok((day, hours))
    }

    /// Gives each consumer with an order on `slot` a wishes row (the defaults) when they have
    /// none: their reminders then carry an unsubscribe link, and their wishes decide.
    async fn give_wishes_to_slot_consumers(
        &self,
        slot: &distribution_slot::Model,
        market_id: i64,
    ) -> Result<(), StoreError> {
        let consumers: Vec<i64> = order::Entity::find()
            .filter(order::Column::SlotId.eq(slot.id))
            .filter(order::Column::Status.ne("cancelled"))
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| o.account_id)
            .collect();
        if consumers.is_empty() {
            return Ok(());
        }
        let have: std::collections::HashSet<i64> = mail_subscription::Entity::find()
            .filter(mail_subscription::Column::MarketId.eq(market_id))
            .filter(mail_subscription::Column::AccountId.is_in(consumers.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| r.account_id)
            .collect();
        let mut missing: Vec<i64> = consumers
            .into_iter()
            .filter(|a| !have.contains(a))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let w = self.write().await?;
        mail_subscription::Entity::insert_many(
            missing
                .iter()
                .map(|a| new_row(*a, market_id, MailWishes::DEFAULT)),
        )
        .on_conflict(
            OnConflict::columns([
                mail_subscription::Column::MarketId,
                mail_subscription::Column::AccountId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// One pickup reminder (`which`) to each consumer of `slot` whose wishes say yes, once per
    /// slot, start time (a moved slot is reminded again) and account.
    async fn enqueue_pickup(
        &self,
        slot: &distribution_slot::Model,
        market_id: i64,
        which: &'static str,
    ) -> Result<u64, StoreError> {
        let wish = if which == kind::PICKUP_DAY_BEFORE {
            "s.pickup_day_before"
        } else {
            "s.pickup_hours_before"
        };
        let sql = format!(
            "INSERT INTO outbox ({COLUMNS}) \
             SELECT $1, a.id, a.email, a.name, a.language, $2, $3 || CAST(a.id AS TEXT), \
             '{{\"order_id\":' || CAST(o.id AS TEXT) || ',\"slot_id\":' || CAST(o.slot_id AS TEXT) || '}}', \
             'pending', 0, $4, $4 \
             FROM orders o JOIN accounts a ON a.id = o.account_id \
             JOIN mail_subscriptions s ON s.account_id = a.id AND s.market_id = $1 \
             WHERE o.slot_id = $5 AND o.status <> 'cancelled' AND {wish} \
             AND a.disabled_at IS NULL AND a.email NOT LIKE $6 \
             ON CONFLICT DO NOTHING"
        );
        let key = format!("{which}:{}:{}:", slot.id, slot.starts_at.timestamp());
        self.insert_rows(
            &sql,
            vec![
                market_id.into(),
                which.into(),
                key.into(),
                Utc::now().into(),
                slot.id.into(),
                not_internal().into(),
            ],
        )
        .await
    }

    /// Runs one `INSERT ... SELECT` of outbox rows in a transaction of its own; the rows
    /// written.
    async fn insert_rows(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<u64, StoreError> {
        let w = self.write().await?;
        let res =
            w.tx.execute_raw(statement(self.db().get_database_backend(), sql, values))
                .await?;
        w.commit().await?;
        Ok(res.rows_affected())
    }
}

#[cfg(test)]
#[expect(
    clippy::unwrap_used,
    reason = "a test that cannot set itself up stops there"
)]
mod tests {
    use super::*;

    fn paris(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_day_before_is_at_six_in_the_evening_local_time() {
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(
            day_before_due(paris(2026, 12, 10, 17), tz),
            paris(2026, 12, 9, 18)
        );
        // A slot at 08:00 is reminded at 18:00 the evening before, not 24 h before.
        assert_eq!(
            day_before_due(paris(2026, 12, 10, 8), tz),
            paris(2026, 12, 9, 18)
        );
        // Across the spring DST change: still 18:00 local the day before.
        assert_eq!(
            day_before_due(paris(2027, 3, 29, 17), tz),
            paris(2027, 3, 28, 18)
        );
    }
}
