//! A distribution slot as the consumers' pages show it: when and where, and, when its venue
//! was flagged unavailable (`store::venues`), that it is cancelled or moved and why, in one
//! sentence ("La distribution du jeudi 3 décembre 2026 à la Mairie est annulée : ...").
//!
//! A cancelled slot takes no basket (the store answers 409 `slot_cancelled`): the basket shows
//! it without a choice, and an order at it says so with a way to choose another.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use print::format;
use serde_json::{Value, json};
use store::SlotView;

use super::super::{Site, i18n::Lang};

/// The local date of `at`, in words.
fn day(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    format::long_date(at.with_timezone(&tz).date_naive(), lang)
}

/// What happened to the slot, in one sentence: `None` for a slot as planned.
pub(crate) fn notice(site: &Site, lang: Lang, tz: Tz, s: &SlotView) -> Option<String> {
    let reason = s.note.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let point = ("point", s.pickup_point_name.clone());
    if s.cancelled {
        let date = ("date", day(s.starts_at, tz, lang));
        return Some(match reason {
            Some(r) => site.t_with(
                lang,
                "shop-slot-cancelled-notice",
                &[date, point, ("reason", r.to_owned())],
            ),
            None => site.t_with(lang, "shop-slot-cancelled-notice-bare", &[date, point]),
        });
    }
    let from = s.moved_from.filter(|f| *f != s.starts_at)?;
    let to_text = day(s.starts_at, tz, lang);
    let from_text = day(from, tz, lang);
    // "du jeudi 3 au vendredi 4 décembre 2026": the month and year said once when the same.
    let from_words: Vec<&str> = from_text.split(' ').collect();
    let common = from_words
        .iter()
        .rev()
        .zip(to_text.split(' ').rev())
        .take(2)
        .take_while(|(a, b)| **a == *b)
        .count();
    let from_text = from_words
        .iter()
        .take(from_words.len().saturating_sub(common))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let dates = [point, ("from", from_text), ("to", to_text)];
    Some(match reason {
        Some(r) => {
            let mut args = dates.to_vec();
            args.push(("reason", r.to_owned()));
            site.t_with(lang, "shop-slot-moved-notice", &args)
        }
        None => site.t_with(lang, "shop-slot-moved-notice-bare", &dates),
    })
}

/// The slot for a template: `id`, `when`, `point`, `address`, `cancelled`, `moved` and
/// `notice` (see [`notice`]).
pub(crate) fn slot_json(site: &Site, lang: Lang, tz: Tz, s: &SlotView) -> Value {
    json!({
        "id": s.id,
        "when": format::range(s.starts_at, s.ends_at, tz, lang),
        "point": s.pickup_point_name,
        "address": s.pickup_point_address,
        "cancelled": s.cancelled,
        "moved": !s.cancelled && s.moved_from.is_some_and(|f| f != s.starts_at),
        "notice": notice(site, lang, tz, s),
    })
}
