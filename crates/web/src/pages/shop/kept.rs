//! The shop's offers kept rendered: the big part of the shop page (236 offers, ~140 KB in the
//! demo) is rendered once per (cycle, what the cycle shows — `Store::shown_cycle`'s version,
//! language, logged in or not), with a hole in each orderable offer's input for the visitor's
//! quantity, and each plain `GET` splices the visitor's basket into it (a copy of the bytes)
//! instead of rendering 236 offers again.
//!
//! What the kept HTML cannot say takes the full render (`ShopOffers::for_visitor`): a `?q=`
//! filter, the page again after a refused form (typed text, errors), a sold-out offer kept in
//! the basket. Both give the same bytes (tested in `tests/e2e/pages_shop_speed.rs`).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, RwLock},
};

use domain::Quantity;
use serde_json::{Value, json};

use super::{
    super::{Site, i18n::Lang},
    offers::{ShopOffers, dot_decimal},
};

/// What marks a hole while rendering: never in a product's text (checked).
const MARK: char = '\u{1}';

/// The offers of one (cycle, version, language, logged in or not), rendered with holes.
pub(crate) struct KeptOffers {
    /// The rendered offers, holes taken out.
    html: String,
    /// Where each offer's ` value="..."` goes: (byte offset in `html`, offer id), in order.
    holes: Vec<(usize, i64)>,
    /// Offers with nothing left: one kept in a basket takes the full render.
    sold_out: HashSet<i64>,
    /// The page's `shop` context, without its producers.
    pub(crate) meta: Value,
    /// The cycle's name.
    pub(crate) title: String,
}

impl KeptOffers {
    /// Renders `offers` with a mark for each orderable offer's quantity, and takes the marks
    /// out; `None` when the marks cannot be found back (the page is then rendered in full).
    pub(crate) fn render(
        site: &Site,
        lang: Lang,
        logged_in: bool,
        offers: &ShopOffers,
    ) -> Option<Self> {
        let mut sold_out = HashSet::new();
        let mut marks = HashMap::new();
        for o in offers
            .producers
            .iter()
            .flat_map(|p| &p.kinds)
            .flat_map(|k| &k.offers)
        {
            if o.sold_out {
                sold_out.insert(o.id);
            } else {
                marks.insert(o.id, format!("{MARK}{}{MARK}", o.id));
            }
        }
        let shop = offers.for_visitor("", &marks, &HashMap::new());
        let marked = site.render_part(
            lang,
            "shop/offers",
            json!({ "shop": shop, "logged_in": logged_in }),
        )?;
        let mut html = String::with_capacity(marked.len());
        let mut holes = Vec::new();
        let open = format!(" value=\"{MARK}");
        let mut rest = marked.as_str();
        while let Some(at) = rest.find(&open) {
            html.push_str(&rest[..at]);
            let after = &rest[at + open.len()..];
            let end = after.find(MARK)?;
            let id: i64 = after[..end].parse().ok()?;
            rest = after[end..].strip_prefix(&format!("{MARK}\""))?;
            holes.push((html.len(), id));
        }
        html.push_str(rest);
        if html.contains(MARK) {
            return None;
        }
        let mut meta = shop;
        if let Some(m) = meta.as_object_mut() {
            m.remove("producers");
        }
        Some(Self {
            html,
            holes,
            sold_out,
            meta,
            title: offers.name.clone(),
        })
    }

    /// The offers' HTML for a visitor whose basket holds `lines`; `None` when a sold-out offer
    /// is in it (the full render then shows it, orderable).
    pub(crate) fn splice(&self, lines: &BTreeMap<i64, Quantity>) -> Option<String> {
        if lines.keys().any(|id| self.sold_out.contains(id)) {
            return None;
        }
        let mut out = String::with_capacity(self.html.len() + 24 * lines.len());
        let mut from = 0;
        for (at, id) in &self.holes {
            if let Some(q) = lines.get(id) {
                out.push_str(&self.html[from..*at]);
                out.push_str(" value=\"");
                out.push_str(&handlebars::html_escape(&dot_decimal(*q)));
                out.push('"');
                from = *at;
            }
        }
        out.push_str(&self.html[from..]);
        Some(out)
    }
}

/// Key: (cycle, language, logged in).
type Key = (i64, Lang, bool);

/// The kept offers of each (cycle, language, logged in or not), at the latest version seen.
#[derive(Default)]
pub(crate) struct KeptPages {
    kept: RwLock<HashMap<Key, (u64, Arc<KeptOffers>)>>,
}

/// The most kept (a market has one or two open cycles, two languages, two kinds of visitor).
const MAX_KEPT: usize = 1024;

impl KeptPages {
    /// The kept offers of `key` at `version`, if rendered already.
    pub(crate) fn get(&self, key: Key, version: u64) -> Option<Arc<KeptOffers>> {
        let kept = self.kept.read().ok()?;
        kept.get(&key)
            .filter(|(v, _)| *v == version)
            .map(|(_, k)| k.clone())
    }

    /// Keeps `offers` for `key` at `version` (a newer version replaces an older one only).
    pub(crate) fn keep(&self, key: Key, version: u64, offers: Arc<KeptOffers>) {
        if let Ok(mut kept) = self.kept.write() {
            if kept.len() >= MAX_KEPT && !kept.contains_key(&key) {
                kept.clear();
            }
            if kept.get(&key).is_none_or(|(v, _)| *v <= version) {
                kept.insert(key, (version, offers));
            }
        }
    }
}
