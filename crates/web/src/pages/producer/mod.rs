//! The producer's pages: its home (the cycles of its markets), its products, the week's offer
//! on one screen, and a closed cycle's documents, weights and sales.
//!
//! Every page is for a producer's account (others get 403; an account without a producer,
//! such as an admin's, gets 404). What is not the producer's (another producer's product, a
//! cycle of a market it does not sell through) is 404, as the store answers.

mod cycle;
mod products;
mod week;

use std::sync::Arc;

use chrono_tz::Tz;
use poem::{Response, handler, http::StatusCode, web::Data};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use store::{Actor, Role, StoreError};

use super::{PageError, Site, Visitor, answer, i18n::Lang};

pub(crate) use cycle::{cycle_page, document, weights};
pub(crate) use products::{
    archive_product, create_product, edit_product_form, new_product_form, product_list,
    update_product,
};
pub(crate) use week::{publish_week, week_form};

/// How many closed cycles the home page lists.
const CLOSED_SHOWN: usize = 8;

/// The producer account asking, and its producer.
fn producer(v: &Visitor) -> Result<(&Actor, i64), PageError> {
    let a = v.with_role(&[Role::Producer])?;
    let id = a.producer_id.ok_or(PageError::NotFound)?;
    Ok((a, id))
}

/// An id from the path; anything else is a page that does not exist.
fn id_of(s: &str) -> Result<i64, PageError> {
    s.parse().map_err(|_| PageError::NotFound)
}

/// A market's time zone; Paris when it does not parse.
fn zone(tz: &str) -> Tz {
    tz.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// A decimal as people type it: `2,80`, `2.80`, ` 1 500 `; `None` if it is not one.
fn decimal(s: &str) -> Option<Decimal> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let digits = cleaned.strip_prefix('-').unwrap_or(&cleaned);
    if digits.is_empty()
        || digits.starts_with('.')
        || digits.matches('.').count() > 1
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return None;
    }
    cleaned.parse().ok()
}

/// A store error in the producer's words: `producer-error-<code>` when this area has it (the
/// codes other areas may word differently), the site's translation otherwise.
fn store_error(site: &Site, lang: Lang, e: &StoreError) -> String {
    if let StoreError::Invalid { code, .. } | StoreError::Conflict { code, .. } = e {
        let id = format!("producer-error-{}", code.replace('_', "-"));
        if site.words.has(lang, &id) {
            return site.t(lang, &id);
        }
    }
    site.store_error(lang, e)
}

/// The cycle as the pages show it: name, market, state and dates in the market's zone.
fn cycle_view(
    site: &Site,
    lang: Lang,
    c: &store::CycleSummary,
    market_name: &str,
    timezone: &str,
) -> Value {
    let tz = zone(timezone);
    json!({
        "id": c.id,
        "name": c.name,
        "market": market_name,
        "state": c.state.as_str(),
        "state_label": site.t(lang, &format!("producer-state-{}", c.state.as_str())),
        "opens_at": print::format::date_time(c.opens_at, tz, lang),
        "closes_at": print::format::date_time(c.closes_at, tz, lang),
    })
}

/// `/producer`: the cycles of its markets, to publish its offer or, once closed, to prepare.
#[handler]
pub(crate) async fn home(site: Data<&Arc<Site>>, v: Visitor) -> Response {
    let r = async {
        let (a, producer_id) = producer(&v)?;
        let cycles = site
            .store
            .producer_cycles(a, producer_id, CLOSED_SHOWN)
            .await?;
        let view = |p: &store::ProducerCycle| {
            let mut c = cycle_view(&site, v.lang, &p.cycle, &p.market_name, &p.timezone);
            c["on_sale"] = json!(p.on_sale);
            c["published"] = json!(p.on_sale > 0);
            c
        };
        let open: Vec<Value> = cycles.iter().filter(|p| p.editable).map(view).collect();
        let closed: Vec<Value> = cycles.iter().filter(|p| !p.editable).map(view).collect();
        Ok(site.render(
            &v,
            StatusCode::OK,
            "producer/home",
            "producer-home-title",
            json!({ "open": open, "closed": closed }),
        ))
    }
    .await;
    answer(&site, &v, r)
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_are_read_as_people_type_them() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().ok();
        assert_eq!(decimal("2,80"), d("2.80"));
        assert_eq!(decimal(" 2.8 "), d("2.8"));
        assert_eq!(decimal("1 500"), d("1500"));
        assert_eq!(decimal("12"), d("12"));
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("1,2,3"), None);
        assert_eq!(decimal("abc"), None);
        assert_eq!(decimal(",5"), None);
        assert_eq!(decimal("1e3"), None);
    }
}
