//! The offers of a shop, as the page lays them out: built from a cycle for one language
//! ([`ShopOffers::build`]), the same for every visitor, so that it can be kept and reused
//! (a cache keyed by (cycle, language) and dropped on any change of the cycle's offers), and
//! the small per-visitor part ([`ShopOffers::for_visitor`]): the text filter, and the
//! quantities and errors of the visitor's basket.

use std::collections::HashMap;

use chrono_tz::Tz;
use domain::{ProductPricing, Quantity, Unit};
use print::format;
use serde::Serialize;
use serde_json::{Value, json};
use store::{CycleView, OfferView};

use super::super::{Site, i18n::Lang};

/// Below this many ordering steps left (ten), an offer shows how much is left.
const LOW_STEPS: i64 = 10;

/// Every offer of a cycle, grouped by producer then by kind, in one language.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ShopOffers {
    /// The cycle.
    pub(crate) cycle_id: i64,
    /// Its name.
    pub(crate) name: String,
    /// When ordering closes, in the market's time zone.
    pub(crate) closes: String,
    /// The cycle takes orders now.
    pub(crate) open: bool,
    /// Producers, by name.
    pub(crate) producers: Vec<ProducerOffers>,
    /// How many offers in all.
    pub(crate) count: usize,
}

/// One producer's offers.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProducerOffers {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) kinds: Vec<KindOffers>,
}

/// Offers of one kind (sold by the unit, by weight, weighed pieces, by volume).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct KindOffers {
    pub(crate) label: String,
    pub(crate) offers: Vec<ShopOffer>,
}

/// One offer, ready to lay out.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ShopOffer {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// The product's photo, if any.
    pub(crate) photo: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) producer: String,
    /// `2,80 € / kg`.
    pub(crate) price: String,
    /// For a weighed piece: `Pièce d'environ 1,8 kg, soit environ 22,50 €`.
    pub(crate) weighed: Option<String>,
    /// The unit, as a label after the input: `kg`, `douzaine(s)`.
    pub(crate) unit: String,
    /// The input's `step` and `min` (a dot decimal).
    pub(crate) step: String,
    /// `numeric` for units counted whole, `decimal` otherwise.
    pub(crate) inputmode: &'static str,
    /// `Plus que 3 kg` when little is left.
    pub(crate) low: Option<String>,
    /// Nothing left.
    pub(crate) sold_out: bool,
    /// Lower-case name, description and producer, for the text filter.
    #[serde(skip)]
    haystack: String,
}

fn kind_of(p: &ProductPricing) -> (u8, &'static str) {
    if p.is_variable_weight() {
        return (2, "shop-kind-weighed");
    }
    match p.unit {
        Unit::Piece | Unit::Bunch | Unit::Dozen => (0, "shop-kind-unit"),
        Unit::Kg | Unit::G => (1, "shop-kind-weight"),
        Unit::L | Unit::Cl => (3, "shop-kind-volume"),
    }
}

/// `1.5` for an input's `step`.
pub(crate) fn dot_decimal(q: Quantity) -> String {
    q.value().normalize().to_string()
}

/// The price of an offer per unit: `2,80 € / kg`, or per kg for a weighed piece.
pub(crate) fn price_label(site: &Site, lang: Lang, p: &ProductPricing) -> String {
    let unit = if p.is_variable_weight() {
        "kg"
    } else {
        format::unit_name(p.unit, lang)
    };
    site.t_with(
        lang,
        "shop-price-per",
        &[
            ("price", format::money(p.price, lang)),
            ("unit", unit.to_owned()),
        ],
    )
}

/// For a weighed piece: its estimated weight and price.
pub(crate) fn weighed_label(site: &Site, lang: Lang, p: &ProductPricing) -> Option<String> {
    let kg = p.variable_weight?;
    Some(site.t_with(
        lang,
        "shop-weighed",
        &[
            ("weight", format::kg(kg, lang, false)),
            ("price", format::money(p.unit_price(), lang)),
        ],
    ))
}

/// `Plus que 3 kg` when an offer runs low (fewer than ten steps left), nothing otherwise.
pub(crate) fn low_label(site: &Site, lang: Lang, o: &OfferView) -> Option<String> {
    let left = o.stock_left;
    let low = !left.is_zero() && left.milli() < o.step.milli().max(1) * LOW_STEPS;
    low.then(|| left_label(site, lang, o.pricing.unit, left))
}

/// `Plus que 3 kg`.
pub(crate) fn left_label(site: &Site, lang: Lang, unit: Unit, left: Quantity) -> String {
    site.t_with(
        lang,
        "shop-stock-left",
        &[("left", format::quantity_with_unit(left, unit, lang))],
    )
}

impl ShopOffers {
    /// The offers of `cycle` in `lang`, dates in `tz`: the same for every visitor.
    pub(crate) fn build(site: &Site, lang: Lang, tz: Tz, cycle: &CycleView) -> Self {
        let mut producers: Vec<ProducerOffers> = Vec::new();
        let mut kinds: HashMap<(i64, u8), usize> = HashMap::new();
        // The store gives offers by producer name then product name.
        for o in &cycle.offers {
            if producers.last().is_none_or(|p| p.id != o.producer_id) {
                producers.push(ProducerOffers {
                    id: o.producer_id,
                    name: o.producer_name.clone(),
                    kinds: Vec::new(),
                });
            }
            let Some(producer) = producers.last_mut() else {
                continue;
            };
            let (rank, label) = kind_of(&o.pricing);
            let at = *kinds.entry((o.producer_id, rank)).or_insert_with(|| {
                producer.kinds.push(KindOffers {
                    label: label.to_owned(),
                    offers: Vec::new(),
                });
                producer.kinds.len() - 1
            });
            let unit = if o.pricing.is_variable_weight() {
                Unit::Piece
            } else {
                o.pricing.unit
            };
            producer.kinds[at].offers.push(ShopOffer {
                id: o.id,
                name: o.product_name.clone(),
                photo: o.photo_url.clone(),
                description: o.description.clone(),
                producer: o.producer_name.clone(),
                price: price_label(site, lang, &o.pricing),
                weighed: weighed_label(site, lang, &o.pricing),
                unit: format::unit_label(unit, Quantity::from_milli(2000), lang),
                step: dot_decimal(o.step),
                inputmode: if unit.is_countable() {
                    "numeric"
                } else {
                    "decimal"
                },
                low: low_label(site, lang, o),
                sold_out: o.stock_left.is_zero(),
                haystack: format!(
                    "{} {} {}",
                    o.product_name,
                    o.description.as_deref().unwrap_or_default(),
                    o.producer_name
                )
                .to_lowercase(),
            });
        }
        // Kinds in a fixed order within each producer (by the unit, then by weight...).
        for p in &mut producers {
            p.kinds.sort_by_key(|k| {
                [
                    "shop-kind-unit",
                    "shop-kind-weight",
                    "shop-kind-weighed",
                    "shop-kind-volume",
                ]
                .iter()
                .position(|l| *l == k.label)
            });
            for k in &mut p.kinds {
                k.label = site.t(lang, &k.label);
            }
        }
        Self {
            cycle_id: cycle.cycle.id,
            name: cycle.cycle.name.clone(),
            closes: format::date_time(cycle.cycle.closes_at, tz, lang),
            open: cycle.cycle.state == domain::CycleState::Open,
            count: cycle.offers.len(),
            producers,
        }
    }

    /// The page's context for one visitor: the offers matching `q` (every word, in the name,
    /// description or producer; all when blank), each with `qty` (what the visitor's basket
    /// holds, or what it typed) and `error` (what is wrong with that line).
    pub(crate) fn for_visitor(
        &self,
        q: &str,
        qty: &HashMap<i64, String>,
        errors: &HashMap<i64, String>,
    ) -> Value {
        let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
        let mut shown = 0;
        let producers: Vec<Value> = self
            .producers
            .iter()
            .filter_map(|p| {
                let kinds: Vec<Value> = p
                    .kinds
                    .iter()
                    .filter_map(|k| {
                        let offers: Vec<Value> = k
                            .offers
                            .iter()
                            .filter(|o| words.iter().all(|w| o.haystack.contains(w.as_str())))
                            .map(|o| {
                                let mut v = json!(o);
                                v["qty"] = json!(qty.get(&o.id));
                                v["error"] = json!(errors.get(&o.id));
                                // A sold-out offer already in the basket can still be kept.
                                v["orderable"] =
                                    json!(self.open && (!o.sold_out || qty.contains_key(&o.id)));
                                v
                            })
                            .collect();
                        shown += offers.len();
                        (!offers.is_empty()).then(|| json!({ "label": k.label, "offers": offers }))
                    })
                    .collect();
                (!kinds.is_empty()).then(|| json!({ "id": p.id, "name": p.name, "kinds": kinds }))
            })
            .collect();
        json!({
            "cycle_id": self.cycle_id,
            "name": self.name,
            "closes": self.closes,
            "open": self.open,
            "count": self.count,
            "shown": shown,
            "producers": producers,
        })
    }
}
