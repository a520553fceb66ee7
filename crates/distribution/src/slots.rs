//! Weekly pickup slots: "every Thursday from 17:30 to 19:30, Paris time".
//!
//! A [`SlotRule`] is a weekday and a local time window in a time zone. Its occurrences are
//! computed in local time, so a slot stays at 17:30 on the wall clock across daylight-saving
//! changes (16:30 UTC in winter, 15:30 UTC in summer, for Paris). Two local times need a rule:
//! - a time that does not exist (the spring-forward gap, 02:30 on the last Sunday of March in
//!   Paris) moves forward by the length of the gap (to 03:30 summer time);
//! - an ambiguous time (the fall-back fold, 02:30 on the last Sunday of October) takes the
//!   earlier instant (02:30 summer time).

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Serialize;
use thiserror::Error;

use crate::model::serialize_tz;

/// A weekly pickup slot: a weekday and a local time window in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SlotRule {
    /// The day of the week (in the rule's time zone).
    pub weekday: Weekday,
    /// Local start time.
    pub starts: NaiveTime,
    /// Local end time, after `starts` on the same day.
    pub ends: NaiveTime,
    /// The time zone of `starts` and `ends`. Serialized as its IANA name.
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
}

/// Why a slot rule was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SlotError {
    /// The end time is not after the start time (slots do not cross midnight).
    #[error("a slot must end after it starts, on the same day")]
    EndsBeforeStart,
}

/// How far back [`resolve`] looks for the offset in effect before a gap (15-minute steps over
/// 49 hours: longer than any gap in the time-zone database, whole skipped days included).
const GAP_PROBES: u32 = 49 * 4;

impl SlotRule {
    /// A rule, checked: `ends` must be after `starts`.
    pub fn new(
        weekday: Weekday,
        starts: NaiveTime,
        ends: NaiveTime,
        timezone: Tz,
    ) -> Result<Self, SlotError> {
        if ends <= starts {
            return Err(SlotError::EndsBeforeStart);
        }
        Ok(SlotRule {
            weekday,
            starts,
            ends,
            timezone,
        })
    }

    /// The occurrence on a local date (must be the rule's weekday, else None). A local time that does not exist
    /// (spring-forward gap) moves forward by the gap; an ambiguous one (fall-back) takes the earlier instant.
    ///
    /// Should the end, so moved, not fall after the start (a window ending just after a gap it
    /// starts in), the end is the start plus the rule's nominal length. `None` as well at the
    /// very ends of chrono's date range.
    #[must_use]
    pub fn on(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if date.weekday() != self.weekday {
            return None;
        }
        let start = resolve(self.timezone, date.and_time(self.starts))?;
        let end = resolve(self.timezone, date.and_time(self.ends))?;
        if end > start {
            return Some((start, end));
        }
        let nominal = (self.ends - self.starts).max(TimeDelta::zero());
        Some((start, start.checked_add_signed(nominal)?))
    }

    /// The first occurrence starting strictly after `after`.
    ///
    /// Saturates at chrono's last representable instant (both ends) should no occurrence fit
    /// before it.
    #[must_use]
    pub fn next_after(&self, after: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let mut date = self.first_date_near(after);
        // The first candidate is at most 4 days after the local date of `after`, so its
        // successor a week later always starts after `after`.
        for _ in 0..3 {
            let Some(d) = date else { break };
            if let Some(occurrence) = self.on(d)
                && occurrence.0 > after
            {
                return occurrence;
            }
            date = d.checked_add_days(Days::new(7));
        }
        (DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC)
    }

    /// Every occurrence starting in [from, until).
    #[must_use]
    pub fn between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut occurrences = Vec::new();
        if from >= until {
            return occurrences;
        }
        let mut date = self.first_date_near(from);
        while let Some(d) = date {
            let Some(occurrence) = self.on(d) else { break };
            if occurrence.0 >= until {
                break;
            }
            if occurrence.0 >= from {
                occurrences.push(occurrence);
            }
            date = d.checked_add_days(Days::new(7));
        }
        occurrences
    }

    /// The first date of the rule's weekday on or after two days before the local date of
    /// `instant`: no occurrence on an earlier date can start after `instant`, even moved
    /// forward by a gap.
    fn first_date_near(&self, instant: DateTime<Utc>) -> Option<NaiveDate> {
        let local = instant.with_timezone(&self.timezone).date_naive();
        let from = local.checked_sub_days(Days::new(2))?;
        let ahead =
            (7 + self.weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
        from.checked_add_days(Days::new(u64::from(ahead)))
    }
}

/// The instant of a local time: the earlier one when ambiguous; in a gap, the local time read
/// with the offset in effect before the gap (which moves it forward by the gap's length).
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
        LocalResult::None => {
            let mut probe = local;
            for _ in 0..GAP_PROBES {
                probe = probe.checked_sub_signed(TimeDelta::minutes(15))?;
                if let Some(before) = tz.from_local_datetime(&probe).latest() {
                    let offset = before.offset().fix().local_minus_utc();
                    let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)))?;
                    return Some(utc.and_utc());
                }
            }
            None
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on bad fixtures")]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn thursday_evening() -> SlotRule {
        SlotRule::new(Weekday::Thu, time(17, 30), time(19, 30), Paris).unwrap()
    }

    #[test]
    fn a_slot_must_end_after_it_starts() {
        assert_eq!(
            SlotRule::new(Weekday::Thu, time(19, 30), time(17, 30), Paris),
            Err(SlotError::EndsBeforeStart)
        );
        assert_eq!(
            SlotRule::new(Weekday::Thu, time(17, 30), time(17, 30), Paris),
            Err(SlotError::EndsBeforeStart)
        );
    }

    #[test]
    fn a_rule_only_occurs_on_its_weekday() {
        assert_eq!(thursday_evening().on(date(2026, 3, 27)), None);
    }

    #[test]
    fn a_paris_evening_slot_keeps_its_wall_clock_time_across_the_march_change() {
        let rule = thursday_evening();
        // Winter time (UTC+1) before the last Sunday of March 2026 (the 29th)...
        assert_eq!(
            rule.on(date(2026, 3, 26)),
            Some((utc(2026, 3, 26, 16, 30), utc(2026, 3, 26, 18, 30)))
        );
        // ...summer time (UTC+2) after it.
        assert_eq!(
            rule.on(date(2026, 4, 2)),
            Some((utc(2026, 4, 2, 15, 30), utc(2026, 4, 2, 17, 30)))
        );
        assert_eq!(
            rule.between(utc(2026, 3, 20, 0, 0), utc(2026, 4, 10, 0, 0)),
            vec![
                (utc(2026, 3, 26, 16, 30), utc(2026, 3, 26, 18, 30)),
                (utc(2026, 4, 2, 15, 30), utc(2026, 4, 2, 17, 30)),
                (utc(2026, 4, 9, 15, 30), utc(2026, 4, 9, 17, 30)),
            ]
        );
    }

    #[test]
    fn a_paris_evening_slot_keeps_its_wall_clock_time_across_the_october_change() {
        let rule = thursday_evening();
        // Summer time before the last Sunday of October 2026 (the 25th), winter time after.
        assert_eq!(
            rule.next_after(utc(2026, 10, 20, 0, 0)),
            (utc(2026, 10, 22, 15, 30), utc(2026, 10, 22, 17, 30))
        );
        assert_eq!(
            rule.next_after(utc(2026, 10, 22, 15, 30)),
            (utc(2026, 10, 29, 16, 30), utc(2026, 10, 29, 18, 30))
        );
    }

    #[test]
    fn next_after_is_strictly_after() {
        let rule = thursday_evening();
        let start = utc(2026, 3, 26, 16, 30);
        assert_eq!(rule.next_after(start - TimeDelta::seconds(1)).0, start);
        assert_eq!(rule.next_after(start).0, utc(2026, 4, 2, 15, 30));
        // From the very end of the day before, in local time.
        assert_eq!(rule.next_after(utc(2026, 3, 25, 23, 30)).0, start);
    }

    #[test]
    fn between_is_half_open_and_empty_when_reversed() {
        let rule = thursday_evening();
        let start = utc(2026, 3, 26, 16, 30);
        let week_later = utc(2026, 4, 2, 15, 30);
        assert_eq!(rule.between(start, week_later).len(), 1);
        assert_eq!(rule.between(start, week_later)[0].0, start);
        assert!(rule.between(week_later, start).is_empty());
        assert!(rule.between(start, start).is_empty());
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_moves_forward_by_the_gap() {
        // 02:30 does not exist on 29 March 2026 in Paris: clocks jump from 02:00 to 03:00.
        let rule = SlotRule::new(Weekday::Sun, time(2, 30), time(4, 0), Paris).unwrap();
        // 03:30 summer time = 01:30 UTC; the end, 04:00 summer time, exists.
        assert_eq!(
            rule.on(date(2026, 3, 29)),
            Some((utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0)))
        );
        // The Sundays around it are ordinary.
        assert_eq!(
            rule.on(date(2026, 3, 22)).unwrap().0,
            utc(2026, 3, 22, 1, 30)
        );
        assert_eq!(rule.on(date(2026, 4, 5)).unwrap().0, utc(2026, 4, 5, 0, 30));
    }

    #[test]
    fn a_window_ending_right_after_the_gap_keeps_its_length() {
        // 02:30 moves to 03:30, after the end at 03:00: the slot lasts its 30 minutes.
        let rule = SlotRule::new(Weekday::Sun, time(2, 30), time(3, 0), Paris).unwrap();
        assert_eq!(
            rule.on(date(2026, 3, 29)),
            Some((utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0)))
        );
    }

    #[test]
    fn an_ambiguous_fall_back_time_takes_the_earlier_instant() {
        // 02:30 happens twice on 25 October 2026 in Paris (summer, then winter time).
        let rule = SlotRule::new(Weekday::Sun, time(2, 30), time(3, 30), Paris).unwrap();
        // 02:30 summer time = 00:30 UTC; 03:30 winter time = 02:30 UTC.
        assert_eq!(
            rule.on(date(2026, 10, 25)),
            Some((utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30)))
        );
        assert_eq!(
            rule.between(utc(2026, 10, 17, 0, 0), utc(2026, 11, 2, 0, 0))
                .iter()
                .map(|o| o.0)
                .collect::<Vec<_>>(),
            vec![
                utc(2026, 10, 18, 0, 30),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 11, 1, 1, 30),
            ]
        );
    }

    #[test]
    fn a_skipped_day_moves_the_slot_to_the_next_day() {
        // Samoa skipped Friday 30 December 2011, jumping from UTC-10 to UTC+14.
        let rule = SlotRule::new(
            Weekday::Fri,
            time(10, 0),
            time(12, 0),
            chrono_tz::Pacific::Apia,
        )
        .unwrap();
        assert_eq!(
            rule.on(date(2011, 12, 30)),
            Some((utc(2011, 12, 30, 20, 0), utc(2011, 12, 30, 22, 0)))
        );
    }
}
