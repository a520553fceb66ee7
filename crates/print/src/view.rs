//! View models: what a printed document shows, with every string already
//! formatted for one language.
//!
//! The distribution values ([`PickingList`], [`DistributionSheet`],
//! [`RoundPlan`]) are turned into these `#[derive(Serialize)]` structs once;
//! the HTML templates render them as they are (Handlebars escapes every
//! `{{value}}`), and the PDF writer lays out the very same strings, so the
//! two formats cannot drift apart. CSV does not use them: it writes the raw
//! values in spreadsheet-friendly notation.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use distribution::routing::{FleetPlan, StopKind};
use distribution::{
    Collection, DistributionSheet, Label, PickItem, PickingList, SheetBasket, SheetLine,
};
use domain::{Money, Quantity, VatRate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::Lang;
use crate::format::{self, NBSP};
use crate::texts::Texts;

/// How many labels fit on one A4 sheet (2 columns × 7 rows).
pub(crate) const LABELS_PER_PAGE: usize = 14;
/// How many item lines a label shows before summing up the rest.
pub(crate) const LABEL_ITEM_LINES: usize = 5;

/// One product line of a picking list, a crate or a label.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemView {
    /// Product name.
    pub product_name: String,
    /// Quantity with its unit (`3 pièces`).
    pub quantity: String,
    /// Estimated weight of variable-weight products (`≈ 2,4 kg`), else empty.
    pub estimated_kg: String,
}

impl ItemView {
    fn new(item: &PickItem, lang: Lang) -> ItemView {
        ItemView {
            product_name: item.product_name.clone(),
            quantity: format::quantity_with_unit(item.quantity, item.unit, lang),
            estimated_kg: item
                .estimated_kg
                .map(|q| format::kg(q, lang, true))
                .unwrap_or_default(),
        }
    }
}

/// The picking lists document.
#[derive(Debug, Serialize)]
pub(crate) struct PickingDoc {
    /// Fixed labels.
    pub t: &'static Texts,
    /// Document title (HTML `<title>`, PDF metadata).
    pub title: String,
    /// One section per producer.
    pub lists: Vec<PickingView>,
    /// No producer at all.
    pub empty: bool,
}

/// One producer's picking list.
#[derive(Debug, Serialize)]
pub(crate) struct PickingView {
    /// Section heading: `Liste de préparation — Ferme du Bois`.
    pub heading: String,
    /// Producer name.
    pub producer_name: String,
    /// `Marché de Halle · Cycle 48`.
    pub subtitle: String,
    /// `Commandes closes le jeudi 26 novembre 2026, 12:00`.
    pub closed: String,
    /// `Valeur estimée : 123,40 €`.
    pub value: String,
    /// `20 points de retrait · 20 caisses`-style summary.
    pub crates: String,
    /// Whether any product is sold by variable weight (shows the weight column).
    pub has_weights: bool,
    /// Totals per product.
    pub products: Vec<ItemView>,
    /// One block (crate) per pickup slot.
    pub points: Vec<PointView>,
}

/// One pickup slot's crate on a picking list.
#[derive(Debug, Serialize)]
pub(crate) struct PointView {
    /// `Point de retrait : La Cour — jeudi 26 novembre 2026, 17:30–19:30`.
    pub heading: String,
    /// Pickup point name.
    pub point_name: String,
    /// Its address.
    pub address: String,
    /// The slot, formatted.
    pub when: String,
    /// The slot was cancelled (goods are listed all the same).
    pub cancelled: bool,
    /// What goes in the crate.
    pub items: Vec<ItemView>,
}

/// The labels document: pages of 14 labels, a new page for each producer.
#[derive(Debug, Serialize)]
pub(crate) struct LabelsDoc {
    /// Fixed labels.
    pub t: &'static Texts,
    /// Document title.
    pub title: String,
    /// Sheets of labels.
    pub pages: Vec<LabelPage>,
    /// No label at all.
    pub empty: bool,
}

/// One A4 sheet of labels.
#[derive(Debug, Serialize)]
pub(crate) struct LabelPage {
    /// The producer whose labels these are.
    pub producer_name: String,
    /// Up to [`LABELS_PER_PAGE`] labels.
    pub labels: Vec<LabelView>,
}

/// One bag label.
#[derive(Debug, Serialize)]
pub(crate) struct LabelView {
    /// Consumer name, printed large.
    pub consumer_name: String,
    /// Pickup point.
    pub point_name: String,
    /// Compact slot: `jeu. 26 nov., 17:30–19:30`.
    pub when: String,
    /// `Ferme du Bois · Commande n° 1234`.
    pub meta: String,
    /// Item lines (`3 pièces Chou`), at most [`LABEL_ITEM_LINES`].
    pub items: Vec<String>,
    /// `+ 3 autres articles` when the basket has more lines, else empty.
    pub more: String,
}

/// The distribution sheets document.
#[derive(Debug, Serialize)]
pub(crate) struct SheetDoc {
    /// Fixed labels.
    pub t: &'static Texts,
    /// Document title.
    pub title: String,
    /// One section per slot.
    pub sheets: Vec<SheetView>,
    /// No slot at all.
    pub empty: bool,
}

/// One slot's distribution sheet.
#[derive(Debug, Serialize)]
pub(crate) struct SheetView {
    /// `Feuille de distribution — La Cour`.
    pub heading: String,
    /// Pickup point name.
    pub point_name: String,
    /// Its address.
    pub address: String,
    /// The slot, formatted.
    pub when: String,
    /// `Marché de Halle · Cycle 48`.
    pub subtitle: String,
    /// The slot was cancelled.
    pub cancelled: bool,
    /// Baskets, in collation order of the consumer names.
    pub baskets: Vec<BasketView>,
    /// Whether there is any basket.
    pub has_baskets: bool,
    /// Slot totals.
    pub totals: TotalsView,
    /// What each producer delivers for this slot.
    pub crates: Vec<CrateView>,
}

/// One basket (order) on a distribution sheet.
#[derive(Debug, Serialize)]
pub(crate) struct BasketView {
    /// `Commande n° 1234`.
    pub order_ref: String,
    /// Consumer name, printed large.
    pub consumer_name: String,
    /// Phone, or empty.
    pub phone: String,
    /// The lines.
    pub lines: Vec<SheetLineView>,
    /// Row span of the basket in the HTML table (at least 1).
    pub rows: usize,
    /// Basket total (`≈ ` in front while estimates remain).
    pub total: String,
    /// Paid so far.
    pub paid: String,
    /// Payments, e.g. `carte 12,60 €`, or empty.
    pub payments: String,
    /// Amount still due.
    pub due: String,
    /// Whether something is still due.
    pub has_due: bool,
    /// Collection state in words.
    pub status: String,
    /// The box: `☐`, `☑` once collected, `☒` when not collected.
    pub check: String,
}

/// One line of a basket.
#[derive(Debug, Serialize)]
pub(crate) struct SheetLineView {
    /// Product name.
    pub product: String,
    /// Producer name.
    pub producer: String,
    /// Quantity with unit.
    pub quantity: String,
    /// Weight of variable-weight lines: `≈ 1,2 kg` or `1,234 kg (pesé)`, else empty.
    pub weight: String,
    /// Line amount (`≈ ` in front while estimated).
    pub amount: String,
}

/// The totals of a slot.
#[derive(Debug, Serialize)]
pub(crate) struct TotalsView {
    /// Number of baskets.
    pub baskets: String,
    /// `Retiré : 3 · Non retiré : 1 · À retirer : 12`.
    pub states: String,
    /// Total (effective).
    pub total: String,
    /// Estimated total (before weighing).
    pub estimated_total: String,
    /// Whether the estimate differs from the total.
    pub show_estimated: bool,
    /// Paid.
    pub paid: String,
    /// Due.
    pub due: String,
    /// VAT breakdown.
    pub vat: Vec<VatView>,
}

/// One VAT rate of a slot's totals.
#[derive(Debug, Serialize)]
pub(crate) struct VatView {
    /// `5,5 %`.
    pub rate: String,
    /// Excluding VAT.
    pub net: String,
    /// VAT.
    pub vat: String,
    /// Including VAT.
    pub gross: String,
}

/// One producer's delivery for a slot.
#[derive(Debug, Serialize)]
pub(crate) struct CrateView {
    /// Producer name.
    pub producer_name: String,
    /// Items.
    pub items: Vec<ItemView>,
}

/// The round document.
#[derive(Debug, Serialize)]
pub(crate) struct RoundDoc {
    /// Fixed labels.
    pub t: &'static Texts,
    /// Document title.
    pub title: String,
    /// `Tournée — Jeudi nord`.
    pub heading: String,
    /// Date of the first stop, or empty.
    pub date: String,
    /// `Distance : 42,0 km · Durée : 2 h 05` (all the vehicles).
    pub summary: String,
    /// One section per vehicle.
    pub vehicles: Vec<VehicleView>,
    /// Pickups that could not be planned.
    pub unassigned: Vec<UnassignedView>,
    /// Whether there are any.
    pub has_unassigned: bool,
}

/// One vehicle's round.
#[derive(Debug, Serialize)]
pub(crate) struct VehicleView {
    /// `Véhicule : Kangoo (20 caisses · 400 kg)`, or empty for a round's one ad-hoc vehicle.
    pub heading: String,
    /// The vehicle's name (empty for the ad-hoc one).
    pub name: String,
    /// Its distance, duration and what it carries.
    pub summary: String,
    /// Its stops.
    pub stops: Vec<StopView>,
}

/// One stop of a round.
#[derive(Debug, Serialize)]
pub(crate) struct StopView {
    /// Sequence number.
    pub sequence: String,
    /// Kind in words.
    pub kind: String,
    /// Place name.
    pub place: String,
    /// `08:30` or `08:30–08:45`.
    pub time: String,
    /// Distance from the previous stop.
    pub km_from_previous: String,
    /// Distance so far.
    pub km_total: String,
    /// What is on board after the stop.
    pub load: String,
    /// What to load and unload here, one line each.
    pub actions: Vec<String>,
}

/// A pickup that the round does not serve.
#[derive(Debug, Serialize)]
pub(crate) struct UnassignedView {
    /// Producer (name when the plan knows it).
    pub producer: String,
    /// Slot (pickup point name when the plan knows it).
    pub slot: String,
    /// Why.
    pub reason: String,
}

fn approx(text: String, approximate: bool) -> String {
    if approximate {
        format!("≈{NBSP}{text}")
    } else {
        text
    }
}

/// `5,5 %` / `5.5%`.
pub(crate) fn vat_rate(rate: VatRate, lang: Lang) -> String {
    let value = format::quantity(
        Quantity::new(rate.percent()).unwrap_or(Quantity::ZERO),
        lang,
    );
    match lang {
        Lang::Fr => format!("{value}{NBSP}%"),
        Lang::En => format!("{value}%"),
    }
}

/// `Marché · Cycle`.
fn subtitle(market: &str, cycle: &str) -> String {
    format!("{market} · {cycle}")
}

fn label_ref(t: &Texts, order_id: i64) -> String {
    format!("{}{NBSP}{order_id}", t.order_no)
}

/// Builds the picking lists view.
pub(crate) fn picking(lists: &[PickingList], lang: Lang) -> PickingDoc {
    let t = Texts::of(lang);
    let views: Vec<PickingView> = lists.iter().map(|l| picking_one(l, lang, t)).collect();
    let title = match lists {
        [one] => format!("{} — {}", t.picking_title, one.producer_name),
        _ => t.picking_title.to_string(),
    };
    PickingDoc {
        t,
        title,
        empty: views.is_empty(),
        lists: views,
    }
}

fn picking_one(list: &PickingList, lang: Lang, t: &'static Texts) -> PickingView {
    let tz = list.cycle.timezone;
    let has_weights = list.products.iter().any(|p| p.estimated_kg.is_some());
    let products = list
        .products
        .iter()
        .map(|p| ItemView {
            product_name: p.product_name.clone(),
            quantity: format::quantity_with_unit(p.total_quantity, p.unit, lang),
            estimated_kg: p
                .estimated_kg
                .map(|q| format::kg(q, lang, true))
                .unwrap_or_default(),
        })
        .collect();
    let points = list
        .points
        .iter()
        .map(|p| {
            let when = format::range(p.slot.starts_at, p.slot.ends_at, tz, lang);
            PointView {
                heading: format!("{} — {when}", p.slot.pickup_point_name),
                point_name: p.slot.pickup_point_name.clone(),
                address: p.slot.address.clone(),
                when,
                cancelled: p.slot.cancelled,
                items: p.items.iter().map(|i| ItemView::new(i, lang)).collect(),
            }
        })
        .collect();
    let crate_count = u32::try_from(list.points.len()).unwrap_or(u32::MAX);
    PickingView {
        heading: format!("{} — {}", t.picking_title, list.producer_name),
        producer_name: list.producer_name.clone(),
        subtitle: subtitle(&list.cycle.market_name, &list.cycle.name),
        closed: format!(
            "{} {}",
            t.closed_at,
            format::date_time(list.cycle.closes_at, tz, lang)
        ),
        value: format!(
            "{}{} {}",
            t.estimated_value,
            colon(lang),
            format::money(list.total_estimated, lang)
        ),
        crates: format!(
            "{} · {}",
            t.one_crate_per_point,
            t.crates_count(crate_count)
        ),
        has_weights,
        products,
        points,
    }
}

/// French puts a (no-break) space before a colon.
pub(crate) fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "\u{a0}:",
        Lang::En => ":",
    }
}

/// Builds the labels view.
pub(crate) fn labels(lists: &[PickingList], lang: Lang) -> LabelsDoc {
    let t = Texts::of(lang);
    let mut pages = Vec::new();
    for list in lists {
        let ends: BTreeMap<i64, _> = list
            .points
            .iter()
            .map(|p| (p.slot.slot_id, p.slot.ends_at))
            .collect();
        let views: Vec<LabelView> = list
            .labels
            .iter()
            .map(|l| label_one(l, list, ends.get(&l.slot_id).copied(), lang, t))
            .collect();
        let mut views = views.into_iter().peekable();
        while views.peek().is_some() {
            let chunk: Vec<LabelView> = views.by_ref().take(LABELS_PER_PAGE).collect();
            pages.push(LabelPage {
                producer_name: list.producer_name.clone(),
                labels: chunk,
            });
        }
    }
    let title = match lists {
        [one] => format!("{} — {}", t.labels_title, one.producer_name),
        _ => t.labels_title.to_string(),
    };
    LabelsDoc {
        t,
        title,
        empty: pages.is_empty(),
        pages,
    }
}

fn label_one(
    label: &Label,
    list: &PickingList,
    ends_at: Option<chrono::DateTime<chrono::Utc>>,
    lang: Lang,
    t: &Texts,
) -> LabelView {
    let tz = list.cycle.timezone;
    let lines: Vec<String> = label
        .items
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                format::quantity_with_unit(i.quantity, i.unit, lang),
                i.product_name
            )
        })
        .collect();
    let (items, more) = if lines.len() > LABEL_ITEM_LINES {
        let shown = LABEL_ITEM_LINES - 1;
        let rest = lines.len() - shown;
        (
            lines[..shown].to_vec(),
            format!("+{NBSP}{rest} {}", t.more_items),
        )
    } else {
        (lines, String::new())
    };
    LabelView {
        consumer_name: label.consumer_name.clone(),
        point_name: label.pickup_point_name.clone(),
        when: format::short_range(label.starts_at, ends_at, tz, lang),
        meta: format!("{} · {}", list.producer_name, label_ref(t, label.order_id)),
        items,
        more,
    }
}

/// Builds the distribution sheets view.
pub(crate) fn sheets(sheets: &[DistributionSheet], lang: Lang) -> SheetDoc {
    let t = Texts::of(lang);
    let views: Vec<SheetView> = sheets.iter().map(|s| sheet_one(s, lang, t)).collect();
    let title = match sheets {
        [one] => format!("{} — {}", t.sheet_title, one.slot.pickup_point_name),
        _ => t.sheet_title.to_string(),
    };
    SheetDoc {
        t,
        title,
        empty: views.is_empty(),
        sheets: views,
    }
}

/// Baskets in collation order of the consumer names, then by order id
/// (the order the distribution crate already gives; sorted again so a
/// hand-built sheet prints the same way).
pub(crate) fn sorted_baskets(sheet: &DistributionSheet) -> Vec<&SheetBasket> {
    let mut baskets: Vec<(String, &SheetBasket)> = sheet
        .baskets
        .iter()
        .map(|b| (distribution::collation_key(&b.consumer_name), b))
        .collect();
    baskets.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.order_id.cmp(&b.1.order_id)));
    baskets.into_iter().map(|(_, b)| b).collect()
}

fn sheet_one(sheet: &DistributionSheet, lang: Lang, t: &'static Texts) -> SheetView {
    let tz = sheet.cycle.timezone;
    let baskets: Vec<BasketView> = sorted_baskets(sheet)
        .into_iter()
        .map(|b| basket_one(b, lang, t))
        .collect();
    let totals = &sheet.totals;
    let c = colon(lang);
    let states = format!(
        "{}{c} {} · {}{c} {} · {}{c} {}",
        t.status_collected,
        totals.collected,
        t.status_not_collected,
        totals.not_collected,
        t.status_pending,
        totals.pending
    );
    SheetView {
        heading: format!("{} — {}", t.sheet_title, sheet.slot.pickup_point_name),
        point_name: sheet.slot.pickup_point_name.clone(),
        address: sheet.slot.address.clone(),
        when: format::range(sheet.slot.starts_at, sheet.slot.ends_at, tz, lang),
        subtitle: subtitle(&sheet.cycle.market_name, &sheet.cycle.name),
        cancelled: sheet.slot.cancelled,
        has_baskets: !baskets.is_empty(),
        baskets,
        totals: TotalsView {
            baskets: totals.baskets.to_string(),
            states,
            total: format::money(totals.total, lang),
            estimated_total: format::money(totals.estimated_total, lang),
            show_estimated: totals.estimated_total != totals.total,
            paid: format::money(totals.paid, lang),
            due: format::money(totals.due, lang),
            vat: totals
                .vat
                .iter()
                .map(|v| VatView {
                    rate: vat_rate(v.rate, lang),
                    net: format::money(v.net, lang),
                    vat: format::money(v.vat, lang),
                    gross: format::money(v.gross, lang),
                })
                .collect(),
        },
        crates: sheet
            .crates
            .iter()
            .map(|c| CrateView {
                producer_name: c.producer_name.clone(),
                items: c.items.iter().map(|i| ItemView::new(i, lang)).collect(),
            })
            .collect(),
    }
}

/// The amount a line counts for: the weighed price once known.
pub(crate) fn line_amount(line: &SheetLine) -> (Money, bool) {
    match line.final_total {
        Some(amount) => (amount, false),
        None => (line.estimated_total, line.variable_weight),
    }
}

fn line_one(line: &SheetLine, lang: Lang, t: &Texts) -> SheetLineView {
    let (amount, estimated) = line_amount(line);
    let weight = match (line.actual_kg, line.estimated_kg) {
        (Some(actual), _) if line.variable_weight => {
            format!("{} ({})", format::kg(actual, lang, false), t.weighed)
        }
        (_, Some(estimate)) if line.variable_weight => format::kg(estimate, lang, true),
        _ => String::new(),
    };
    SheetLineView {
        product: line.product_name.clone(),
        producer: line.producer_name.clone(),
        quantity: format::quantity_with_unit(line.quantity, line.unit, lang),
        weight,
        amount: approx(format::money(amount, lang), estimated),
    }
}

fn basket_one(basket: &SheetBasket, lang: Lang, t: &Texts) -> BasketView {
    let lines: Vec<SheetLineView> = basket.lines.iter().map(|l| line_one(l, lang, t)).collect();
    let payments = basket
        .payments
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                t.payment_method(p.method),
                format::money(p.amount, lang)
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let check = match basket.collection {
        Collection::Pending => "☐",
        Collection::Collected => "☑",
        Collection::NotCollected => "☒",
    };
    BasketView {
        order_ref: label_ref(t, basket.order_id),
        consumer_name: basket.consumer_name.clone(),
        phone: basket.consumer_phone.clone().unwrap_or_default(),
        rows: lines.len().max(1),
        lines,
        total: approx(format::money(basket.total, lang), !basket.fully_weighed),
        paid: format::money(basket.paid, lang),
        payments,
        due: format::money(basket.due, lang),
        has_due: !basket.due.is_zero(),
        status: t.collection(basket.collection).to_string(),
        check: check.to_string(),
    }
}

/// A decimal number of kilograms, as on the round sheet.
fn kg_decimal(value: Decimal, lang: Lang) -> String {
    let value = value.round_dp(1).normalize();
    match Quantity::new(value) {
        Ok(q) => format::kg(q, lang, false),
        Err(_) => format!("{value}{NBSP}kg"),
    }
}

/// Builds the round view: one section per vehicle.
pub(crate) fn round(plan: &FleetPlan, title: &str, tz: Tz, lang: Lang) -> RoundDoc {
    let t = Texts::of(lang);
    let c = colon(lang);
    // The plan names places, not producers or slots: learn the names from
    // the stops that collect from a producer or deliver to a slot.
    let mut producers: BTreeMap<i64, String> = BTreeMap::new();
    let mut slots: BTreeMap<i64, String> = BTreeMap::new();
    for stop in plan.rounds.iter().flat_map(|r| &r.plan.stops) {
        match stop.kind {
            StopKind::Collect => {
                if let Some(id) = stop.producer_id {
                    producers
                        .entry(id)
                        .or_insert_with(|| stop.place.name.clone());
                }
            }
            StopKind::Deliver => {
                if let Some(id) = stop.slot_id {
                    slots.entry(id).or_insert_with(|| stop.place.name.clone());
                }
            }
            StopKind::Start | StopKind::End => {}
        }
    }
    let producer_name = |id: i64| {
        producers
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    let slot_name = |id: i64| slots.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let stop_view = |s: &distribution::routing::Stop| {
        let kind = match s.kind {
            StopKind::Start => t.kind_start,
            StopKind::Collect => t.kind_collect,
            StopKind::Deliver => t.kind_deliver,
            StopKind::End => t.kind_end,
        };
        let arrival = format::time_of_day(s.arrival, tz);
        let departure = format::time_of_day(s.departure, tz);
        let time = if arrival == departure {
            arrival
        } else {
            format!("{arrival}–{departure}")
        };
        let mut actions = Vec::new();
        for c in &s.picked_up {
            actions.push(format!(
                "+ {} · {} → {}",
                t.crates_count(c.crates),
                kg_decimal(c.kg, lang),
                slot_name(c.slot_id)
            ));
        }
        for c in &s.dropped {
            actions.push(format!(
                "− {} · {} ({})",
                t.crates_count(c.crates),
                kg_decimal(c.kg, lang),
                producer_name(c.producer_id)
            ));
        }
        StopView {
            sequence: s.sequence.to_string(),
            kind: kind.to_string(),
            place: s.place.name.clone(),
            time,
            km_from_previous: format::km(s.km_from_previous, lang),
            km_total: format::km(s.km_total, lang),
            load: format!(
                "{} · {}",
                t.crates_count(s.load_crates),
                kg_decimal(s.load_kg, lang)
            ),
            actions,
        }
    };
    let vehicles = plan
        .rounds
        .iter()
        .map(|r| {
            let v = &r.vehicle;
            let capacity = match v.capacity_kg {
                Some(kg) => format!(
                    "{} · {}",
                    t.crates_count(v.capacity_crates),
                    kg_decimal(kg, lang)
                ),
                None => t.crates_count(v.capacity_crates),
            };
            VehicleView {
                heading: if v.name.is_empty() {
                    String::new()
                } else {
                    format!("{}{c} {} ({capacity})", t.vehicle, v.name)
                },
                name: v.name.clone(),
                summary: format!(
                    "{}{c} {} · {}{c} {} · {}{c} {} · {}",
                    t.distance,
                    format::km(r.plan.total_km, lang),
                    t.duration,
                    format::duration(r.plan.total_minutes, lang),
                    t.carried,
                    t.crates_count(r.plan.loaded_crates()),
                    kg_decimal(r.plan.loaded_kg(), lang)
                ),
                stops: r.plan.stops.iter().map(stop_view).collect(),
            }
        })
        .collect();
    let unassigned: Vec<UnassignedView> = plan
        .unassigned
        .iter()
        .map(|u| UnassignedView {
            producer: producer_name(u.producer_id),
            slot: slot_name(u.slot_id),
            reason: u.reason.clone(),
        })
        .collect();
    let heading = if title.is_empty() {
        t.round_title.to_string()
    } else {
        format!("{} — {title}", t.round_title)
    };
    RoundDoc {
        t,
        title: heading.clone(),
        heading,
        date: first_arrival(plan)
            .map(|a| format::long_date(a.with_timezone(&tz).date_naive(), lang))
            .unwrap_or_default(),
        summary: format!(
            "{}{c} {} · {}{c} {}",
            t.distance,
            format::km(plan.total_km, lang),
            t.duration,
            format::duration(plan.total_minutes(), lang)
        ),
        vehicles,
        has_unassigned: !unassigned.is_empty(),
        unassigned,
    }
}

/// When the round begins: its first stop's arrival (the vehicles leave together).
pub(crate) fn first_arrival(plan: &FleetPlan) -> Option<chrono::DateTime<chrono::Utc>> {
    plan.rounds
        .iter()
        .filter_map(|r| r.plan.stops.first())
        .map(|s| s.arrival)
        .min()
}
