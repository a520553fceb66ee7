//! Human formatting of amounts, quantities, units and dates, in French and
//! English, with no locale library: chrono's `unstable-locales` feature is
//! not enabled, so day and month names are written out here.
//!
//! French typography: `12,60 €` (no-break space U+00A0 before the euro sign,
//! decimal comma, thousands grouped with a narrow no-break space U+202F:
//! `1 234,50 €`), dates as `jeudi 26 novembre 2026, 17:30–19:30` (and
//! `1er` for the first day of a month). English: `€12.60`, `€1,234.50`,
//! `Thursday 26 November 2026, 17:30–19:30`. Times are 24-hour in both.
//!
//! CSV cells use the plain machine-friendly variants ([`csv_money`],
//! [`csv_quantity`]): no currency sign, no grouping, decimal comma in French
//! so that a French spreadsheet reads them as numbers.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use domain::{Money, Quantity, Unit};
use rust_decimal::Decimal;

use crate::Lang;

/// No-break space (before the euro sign in French).
pub(crate) const NBSP: char = '\u{a0}';
/// Narrow no-break space (French thousands separator).
pub(crate) const NNBSP: char = '\u{202f}';
/// En dash, between the two ends of a time range.
pub(crate) const EN_DASH: char = '–';

const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DAYS_FR_SHORT: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const DAYS_EN_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const MONTHS_EN_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Groups the digits of a non-negative integer written in ASCII, from the
/// right, in threes.
fn group_digits(digits: &str, separator: char) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3 * 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(ch);
    }
    out
}

/// Splits cents into sign, grouped units and two-digit cents.
fn money_parts(money: Money, separator: char) -> (bool, String, String) {
    let cents = money.cents();
    let negative = cents < 0;
    let abs = cents.unsigned_abs();
    let units = group_digits(&(abs / 100).to_string(), separator);
    (negative, units, format!("{:02}", abs % 100))
}

/// An amount for people: `12,60 €` / `1 234,50 €` in French, `€12.60` /
/// `€1,234.50` in English; negative amounts get a leading minus sign.
#[must_use]
pub fn money(money: Money, lang: Lang) -> String {
    match lang {
        Lang::Fr => {
            let (negative, units, cents) = money_parts(money, NNBSP);
            let sign = if negative { "-" } else { "" };
            format!("{sign}{units},{cents}{NBSP}€")
        }
        Lang::En => {
            let (negative, units, cents) = money_parts(money, ',');
            let sign = if negative { "-" } else { "" };
            format!("{sign}€{units}.{cents}")
        }
    }
}

/// An amount for a CSV cell: `12,60` (French) or `12.60` (English), no
/// currency sign and no grouping.
#[must_use]
pub fn csv_money(money: Money, lang: Lang) -> String {
    let cents = money.cents();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let point = decimal_point(lang);
    format!("{sign}{}{point}{:02}", abs / 100, abs % 100)
}

fn decimal_point(lang: Lang) -> char {
    match lang {
        Lang::Fr => ',',
        Lang::En => '.',
    }
}

/// Writes a decimal without trailing zeros, with the language's decimal
/// point and, when `group` is set, thousands grouping.
fn decimal(value: Decimal, lang: Lang, group: bool) -> String {
    let text = value.normalize().to_string();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let int = if group {
        let separator = match lang {
            Lang::Fr => NNBSP,
            Lang::En => ',',
        };
        group_digits(int, separator)
    } else {
        int.to_string()
    };
    match frac {
        Some(frac) => format!("{sign}{int}{}{frac}", decimal_point(lang)),
        None => format!("{sign}{int}"),
    }
}

/// A quantity for people: `1,5` / `1 500` in French, `1.5` / `1,500` in
/// English (no trailing zeros).
#[must_use]
pub fn quantity(quantity: Quantity, lang: Lang) -> String {
    decimal(quantity.value(), lang, true)
}

/// A quantity for a CSV cell: `1,5` (French) or `1.5` (English), no grouping.
#[must_use]
pub fn csv_quantity(quantity: Quantity, lang: Lang) -> String {
    decimal(quantity.value(), lang, false)
}

/// The label of a unit after a number, plural where the language wants it:
/// French `1 pièce`, `1,5 pièce`, `2 pièces`, `3 bottes`; English `1 piece`,
/// `2 pieces`, `2 bunches`, `2 dozen`. Measures (kg, g, L, cl) never change.
#[must_use]
pub fn unit_label(unit: Unit, quantity: Quantity, lang: Lang) -> String {
    // French: plural from 2; English: plural for anything but exactly 1.
    let plural = match lang {
        Lang::Fr => quantity.value() >= Decimal::TWO,
        Lang::En => quantity.value() != Decimal::ONE,
    };
    let singular = unit_name(unit, lang);
    if !plural {
        return singular.to_string();
    }
    match (lang, unit) {
        (Lang::Fr, Unit::Piece | Unit::Bunch | Unit::Dozen) => format!("{singular}s"),
        (Lang::En, Unit::Piece) => "pieces".to_string(),
        (Lang::En, Unit::Bunch) => "bunches".to_string(),
        _ => singular.to_string(),
    }
}

/// The singular label of a unit (a CSV "unit" column, a table heading).
#[must_use]
pub fn unit_name(unit: Unit, lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => unit.label_fr(),
        Lang::En => unit.label_en(),
    }
}

/// A quantity with its unit: `3 pièces`, `1,5 kg`, `2 bunches`.
#[must_use]
pub fn quantity_with_unit(q: Quantity, unit: Unit, lang: Lang) -> String {
    format!("{}{NBSP}{}", quantity(q, lang), unit_label(unit, q, lang))
}

/// A weight in kilograms: `1,2 kg`; `approximate` prefixes `≈ `.
#[must_use]
pub fn kg(q: Quantity, lang: Lang, approximate: bool) -> String {
    let prefix = if approximate { "≈\u{a0}" } else { "" };
    format!("{prefix}{}{NBSP}kg", quantity(q, lang))
}

/// A distance in kilometres with one decimal: `12,4 km` / `12.4 km`.
#[must_use]
pub fn km(value: f64, lang: Lang) -> String {
    let value = if value.is_finite() {
        value.max(0.0)
    } else {
        0.0
    };
    let text = format!("{value:.1}");
    let text = match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    };
    format!("{text}{NBSP}km")
}

/// A duration in minutes: `45 min`, `2 h 05` (French) / `2 h 05 min`.
#[must_use]
pub fn duration(minutes: u32, lang: Lang) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, lang) {
        (0, _) => format!("{m}{NBSP}min"),
        (_, Lang::Fr) => format!("{h}{NBSP}h{NBSP}{m:02}"),
        (_, Lang::En) => format!("{h}{NBSP}h{NBSP}{m:02}{NBSP}min"),
    }
}

fn weekday_index(date: NaiveDate) -> usize {
    date.weekday().num_days_from_monday() as usize
}

fn month_index(date: NaiveDate) -> usize {
    date.month0() as usize
}

/// A long date: `jeudi 26 novembre 2026` (`jeudi 1er octobre 2026`) /
/// `Thursday 26 November 2026`.
#[must_use]
pub fn long_date(date: NaiveDate, lang: Lang) -> String {
    let (w, m) = (weekday_index(date), month_index(date));
    match lang {
        Lang::Fr => {
            let day = if date.day() == 1 {
                "1er".to_string()
            } else {
                date.day().to_string()
            };
            format!("{} {day} {} {}", DAYS_FR[w], MONTHS_FR[m], date.year())
        }
        Lang::En => format!(
            "{} {} {} {}",
            DAYS_EN[w],
            date.day(),
            MONTHS_EN[m],
            date.year()
        ),
    }
}

/// A short date: `jeu. 26 nov.` / `Thu 26 Nov`.
#[must_use]
pub fn short_date(date: NaiveDate, lang: Lang) -> String {
    let (w, m) = (weekday_index(date), month_index(date));
    match lang {
        Lang::Fr => {
            let day = if date.day() == 1 {
                "1er".to_string()
            } else {
                date.day().to_string()
            };
            format!("{} {day} {}", DAYS_FR_SHORT[w], MONTHS_FR_SHORT[m])
        }
        Lang::En => format!("{} {} {}", DAYS_EN_SHORT[w], date.day(), MONTHS_EN_SHORT[m]),
    }
}

/// A time of day, 24-hour: `17:30`.
#[must_use]
pub fn time_of_day(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

/// A date and time: `jeudi 26 novembre 2026, 17:30`.
#[must_use]
pub fn date_time(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{}, {}",
        long_date(local.date_naive(), lang),
        time_of_day(at, tz)
    )
}

/// A time range, usually a pickup slot: `jeudi 26 novembre 2026,
/// 17:30–19:30`; a range ending on another local day repeats the date:
/// `samedi 31 octobre 2026, 22:00 – dimanche 1er novembre 2026, 01:00`.
#[must_use]
pub fn range(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
    if s.date_naive() == e.date_naive() {
        format!(
            "{}, {}{EN_DASH}{}",
            long_date(s.date_naive(), lang),
            time_of_day(start, tz),
            time_of_day(end, tz)
        )
    } else {
        format!(
            "{} {EN_DASH} {}",
            date_time(start, tz, lang),
            date_time(end, tz, lang)
        )
    }
}

/// A compact time range for labels: `jeu. 26 nov., 17:30–19:30`.
#[must_use]
pub fn short_range(start: DateTime<Utc>, end: Option<DateTime<Utc>>, tz: Tz, lang: Lang) -> String {
    let s = start.with_timezone(&tz);
    let day = short_date(s.date_naive(), lang);
    match end {
        Some(end) if end.with_timezone(&tz).date_naive() == s.date_naive() => format!(
            "{day}, {}{EN_DASH}{}",
            time_of_day(start, tz),
            time_of_day(end, tz)
        ),
        _ => format!("{day}, {}", time_of_day(start, tz)),
    }
}

/// A local date and time for CSV cells, sortable: `2026-11-26 17:30`.
#[must_use]
pub fn csv_date_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A file-name-safe slug: lowercase ASCII letters, digits and dashes
/// (accents removed with the sheet's collation key), at most 48 characters.
#[must_use]
pub fn slug(text: &str) -> String {
    let key = distribution::collation_key(text);
    let mut out = String::with_capacity(key.len());
    for ch in key.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn french_money_has_a_decimal_comma_and_a_no_break_space_before_the_euro_sign() {
        assert_eq!(money(Money::from_cents(1260), Lang::Fr), "12,60\u{a0}€");
        assert_eq!(money(Money::from_cents(5), Lang::Fr), "0,05\u{a0}€");
        assert_eq!(money(Money::ZERO, Lang::Fr), "0,00\u{a0}€");
    }

    #[test]
    fn french_money_groups_thousands_with_a_narrow_no_break_space() {
        assert_eq!(
            money(Money::from_cents(123_450), Lang::Fr),
            "1\u{202f}234,50\u{a0}€"
        );
        assert_eq!(
            money(Money::from_cents(100_000_000), Lang::Fr),
            "1\u{202f}000\u{202f}000,00\u{a0}€"
        );
        assert_eq!(money(Money::from_cents(99_999), Lang::Fr), "999,99\u{a0}€");
    }

    #[test]
    fn english_money_puts_the_euro_sign_first_with_a_decimal_point() {
        assert_eq!(money(Money::from_cents(1260), Lang::En), "€12.60");
        assert_eq!(money(Money::from_cents(123_450), Lang::En), "€1,234.50");
    }

    #[test]
    fn negative_money_keeps_its_sign() {
        assert_eq!(money(Money::from_cents(-1260), Lang::Fr), "-12,60\u{a0}€");
        assert_eq!(money(Money::from_cents(-1260), Lang::En), "-€12.60");
        assert_eq!(csv_money(Money::from_cents(-5), Lang::Fr), "-0,05");
    }

    #[test]
    fn csv_money_is_a_bare_number_in_the_language_s_notation() {
        assert_eq!(csv_money(Money::from_cents(123_450), Lang::Fr), "1234,50");
        assert_eq!(csv_money(Money::from_cents(123_450), Lang::En), "1234.50");
    }

    #[test]
    fn quantities_drop_trailing_zeros_and_use_the_decimal_comma_in_french() {
        let q = Quantity::new(dec!(1.500)).unwrap_or(Quantity::ZERO);
        assert_eq!(quantity(q, Lang::Fr), "1,5");
        assert_eq!(quantity(q, Lang::En), "1.5");
        let big = Quantity::new(dec!(12500)).unwrap_or(Quantity::ZERO);
        assert_eq!(quantity(big, Lang::Fr), "12\u{202f}500");
        assert_eq!(csv_quantity(big, Lang::Fr), "12500");
    }

    #[test]
    fn units_take_the_plural_the_language_wants() {
        let one = Quantity::from_milli(1000);
        let half = Quantity::from_milli(1500);
        let two = Quantity::from_milli(2000);
        assert_eq!(unit_label(Unit::Piece, one, Lang::Fr), "pièce");
        assert_eq!(unit_label(Unit::Piece, half, Lang::Fr), "pièce");
        assert_eq!(unit_label(Unit::Piece, two, Lang::Fr), "pièces");
        assert_eq!(unit_label(Unit::Bunch, two, Lang::Fr), "bottes");
        assert_eq!(unit_label(Unit::Kg, two, Lang::Fr), "kg");
        assert_eq!(unit_label(Unit::Bunch, two, Lang::En), "bunches");
        assert_eq!(unit_label(Unit::Dozen, two, Lang::En), "dozen");
        assert_eq!(
            quantity_with_unit(two, Unit::Piece, Lang::Fr),
            "2\u{a0}pièces"
        );
    }

    #[test]
    fn a_french_slot_reads_like_a_french_calendar() {
        let tz = chrono_tz::Europe::Paris;
        // 26 November 2026 is a Thursday; Paris is UTC+1 in November.
        let s = range(
            utc(2026, 11, 26, 16, 30),
            utc(2026, 11, 26, 18, 30),
            tz,
            Lang::Fr,
        );
        assert_eq!(s, "jeudi 26 novembre 2026, 17:30–19:30");
        let e = range(
            utc(2026, 11, 26, 16, 30),
            utc(2026, 11, 26, 18, 30),
            tz,
            Lang::En,
        );
        assert_eq!(e, "Thursday 26 November 2026, 17:30–19:30");
    }

    #[test]
    fn the_first_of_the_month_is_premier_in_french() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
        assert_eq!(long_date(date, Lang::Fr), "jeudi 1er octobre 2026");
        assert_eq!(short_date(date, Lang::Fr), "jeu. 1er oct.");
    }

    #[test]
    fn summer_times_use_the_summer_offset() {
        let tz = chrono_tz::Europe::Paris;
        // 2 July 2026, 15:30Z is 17:30 in Paris (UTC+2).
        assert_eq!(time_of_day(utc(2026, 7, 2, 15, 30), tz), "17:30");
        assert_eq!(
            csv_date_time(utc(2026, 7, 2, 15, 30), tz),
            "2026-07-02 17:30"
        );
    }

    #[test]
    fn a_range_across_midnight_repeats_the_date() {
        let tz = chrono_tz::Europe::Paris;
        let s = range(
            utc(2026, 11, 26, 21, 0),
            utc(2026, 11, 27, 0, 30),
            tz,
            Lang::Fr,
        );
        assert_eq!(
            s,
            "jeudi 26 novembre 2026, 22:00 – vendredi 27 novembre 2026, 01:30"
        );
    }

    #[test]
    fn durations_and_distances_are_short() {
        assert_eq!(duration(45, Lang::Fr), "45\u{a0}min");
        assert_eq!(duration(125, Lang::Fr), "2\u{a0}h\u{a0}05");
        assert_eq!(km(12.44, Lang::Fr), "12,4\u{a0}km");
        assert_eq!(km(f64::NAN, Lang::En), "0.0\u{a0}km");
    }
}
