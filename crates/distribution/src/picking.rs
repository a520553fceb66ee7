//! Picking lists: what each producer prepares for a cycle.
//!
//! Producers prepare exactly what was ordered. A [`PickingList`] gives one producer the totals
//! per product (with the split per slot), one crate per pickup slot ([`PickPoint`]), and one
//! [`Label`] per basket to stick on each consumer's bag.
//!
//! Grouping is one sort of line indices by integer keys (ranks of names, slot positions, ids),
//! then a walk over contiguous runs: no quadratic scan, and the output never depends on hash
//! order or on the order of the input lines.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Money, PricedLine, Quantity, Unit, basket_totals};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{CycleInfo, Index, LineRow, SlotInfo, SlotKey};
use crate::pricing::{estimated_priced_line, quantity_of};

/// Everything one producer prepares for one cycle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PickingList {
    /// The cycle.
    pub cycle: CycleInfo,
    /// The producer.
    pub producer_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// Totals per product, by product name (alphabetical, accents ignored), then id.
    pub products: Vec<PickProduct>,
    /// One crate per slot: by starts_at, then point name, then slot id (slots missing from the
    /// cycle's slot list last, by id).
    pub points: Vec<PickPoint>,
    /// One per basket: by slot order as above, then consumer sort key, then order id.
    pub labels: Vec<Label>,
    /// Value incl. VAT of everything on the list (estimated).
    pub total_estimated: Money,
}

/// The total of one product on a picking list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PickProduct {
    /// The product.
    pub product_id: i64,
    /// The product's name.
    pub product_name: String,
    /// The unit it is ordered in.
    pub unit: Unit,
    /// Everything ordered of it this cycle, in `unit`.
    pub total_quantity: Quantity,
    /// Variable weight: total estimated kg (pieces × estimated kg).
    pub estimated_kg: Option<Quantity>,
    /// The split per slot, in slot order.
    pub per_slot: Vec<SlotQuantity>,
}

/// How much of a product goes to one slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlotQuantity {
    /// The slot.
    pub slot_id: i64,
    /// The slot's pickup point name (`"?"` for a slot missing from the slot list).
    pub pickup_point_name: String,
    /// When the slot starts.
    pub starts_at: DateTime<Utc>,
    /// The quantity, in the product's unit.
    pub quantity: Quantity,
}

/// One crate: what a producer delivers to one slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PickPoint {
    /// The slot (a stand-in with `"?"` names for a slot missing from the slot list).
    pub slot: SlotInfo,
    /// The products for this slot, by product name.
    pub items: Vec<PickItem>,
}

/// A quantity of one product.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PickItem {
    /// The product.
    pub product_id: i64,
    /// The product's name.
    pub product_name: String,
    /// The unit it is ordered in.
    pub unit: Unit,
    /// How much, in `unit`.
    pub quantity: Quantity,
    /// Variable weight: estimated kg (pieces × estimated kg).
    pub estimated_kg: Option<Quantity>,
}

/// A basket label: one producer's share of one consumer's basket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    /// The order (basket).
    pub order_id: i64,
    /// The consumer's name.
    pub consumer_name: String,
    /// The slot the basket is collected at.
    pub slot_id: i64,
    /// The slot's pickup point name.
    pub pickup_point_name: String,
    /// When the slot starts.
    pub starts_at: DateTime<Utc>,
    /// The producer's products in this basket, by product name.
    pub items: Vec<PickItem>,
}

/// The picking lists of every producer with lines, by producer name (alphabetical, accents
/// ignored), then id.
///
/// `lines` holds only lines of placed orders; a line whose slot is not in `slots` is still
/// listed, under a stand-in slot named `"?"`.
#[must_use]
pub fn picking_lists(cycle: &CycleInfo, slots: &[SlotInfo], lines: &[LineRow]) -> Vec<PickingList> {
    let refs: Vec<&LineRow> = lines.iter().collect();
    build(cycle, slots, &refs)
}

/// The picking list of one producer, `None` when it has no lines. Equal to that producer's
/// entry of [`picking_lists`].
#[must_use]
pub fn picking_list(
    cycle: &CycleInfo,
    slots: &[SlotInfo],
    lines: &[LineRow],
    producer_id: i64,
) -> Option<PickingList> {
    let refs: Vec<&LineRow> = lines
        .iter()
        .filter(|l| l.producer_id == producer_id)
        .collect();
    build(cycle, slots, &refs).into_iter().next()
}

/// Sort key of a line on picking lists: producer, slot, consumer, order, product, line.
type PickKey = (u32, i64, SlotKey, u32, i64, u32, i64, Unit, i64, usize);

fn build(cycle: &CycleInfo, slots: &[SlotInfo], lines: &[&LineRow]) -> Vec<PickingList> {
    let ix = Index::new(cycle, slots, lines);
    let mut keyed: Vec<(PickKey, &LineRow)> = lines
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let key = (
                ix.producer(l).rank,
                l.producer_id,
                ix.slot_key(l.slot_id),
                ix.order(l).rank,
                l.order_id,
                ix.product(l).rank,
                l.product_id,
                l.unit,
                l.line_id,
                i,
            );
            (key, l)
        })
        .collect();
    keyed.sort_unstable_by_key(|&(key, _)| key);
    let sorted: Vec<&LineRow> = keyed.into_iter().map(|(_, l)| l).collect();

    sorted
        .chunk_by(|a, b| a.producer_id == b.producer_id)
        .filter_map(|group| producer_list(&ix, cycle, group))
        .collect()
}

/// The list of one producer from its lines, sorted by slot, consumer, order, product, line.
fn producer_list(ix: &Index<'_>, cycle: &CycleInfo, group: &[&LineRow]) -> Option<PickingList> {
    let first = *group.first()?;
    let producer = ix.producer(first).line;

    let points = group
        .chunk_by(|a, b| a.slot_id == b.slot_id)
        .filter_map(|run| {
            let slot_id = run.first()?.slot_id;
            Some(PickPoint {
                slot: ix.slot_info(slot_id),
                items: aggregate_items(ix, run.iter().copied()),
            })
        })
        .collect();

    let labels = group
        .chunk_by(|a, b| a.slot_id == b.slot_id && a.order_id == b.order_id)
        .filter_map(|run| {
            let line = *run.first()?;
            let (pickup_point_name, starts_at) = ix.slot_label(line.slot_id);
            Some(Label {
                order_id: line.order_id,
                consumer_name: ix.order(line).line.consumer_name.clone(),
                slot_id: line.slot_id,
                pickup_point_name: pickup_point_name.to_owned(),
                starts_at,
                items: sorted_items(ix, run),
            })
        })
        .collect();

    let priced: Vec<PricedLine> = group.iter().map(|l| estimated_priced_line(l)).collect();

    Some(PickingList {
        cycle: cycle.clone(),
        producer_id: producer.producer_id,
        producer_name: producer.producer_name.clone(),
        products: products(ix, group),
        points,
        labels,
        total_estimated: basket_totals(&priced).total,
    })
}

/// Running total of one product.
struct ProductTotal<'a> {
    line: &'a LineRow,
    quantity: Decimal,
    estimated_kg: Option<Decimal>,
    per_slot: Vec<(i64, Decimal)>,
}

/// Totals per product with their split per slot; `group` is sorted by slot first.
fn products(ix: &Index<'_>, group: &[&LineRow]) -> Vec<PickProduct> {
    let mut totals: BTreeMap<(u32, i64, Unit), ProductTotal<'_>> = BTreeMap::new();
    for &line in group {
        let product = ix.product(line);
        let total = totals
            .entry((product.rank, line.product_id, line.unit))
            .or_insert_with(|| ProductTotal {
                line: product.line,
                quantity: Decimal::ZERO,
                estimated_kg: None,
                per_slot: Vec::new(),
            });
        let quantity = line.quantity.value();
        total.quantity += quantity;
        add_estimated_kg(&mut total.estimated_kg, line);
        match total.per_slot.last_mut() {
            Some((slot_id, q)) if *slot_id == line.slot_id => *q += quantity,
            _ => total.per_slot.push((line.slot_id, quantity)),
        }
    }
    totals
        .into_iter()
        .map(|((_, product_id, unit), total)| PickProduct {
            product_id,
            product_name: total.line.product_name.clone(),
            unit,
            total_quantity: quantity_of(total.quantity),
            estimated_kg: total.estimated_kg.map(quantity_of),
            per_slot: total
                .per_slot
                .into_iter()
                .map(|(slot_id, quantity)| {
                    let (pickup_point_name, starts_at) = ix.slot_label(slot_id);
                    SlotQuantity {
                        slot_id,
                        pickup_point_name: pickup_point_name.to_owned(),
                        starts_at,
                        quantity: quantity_of(quantity),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Adds a line's estimated kg (pieces × estimated kg of a piece) to a running total.
fn add_estimated_kg(total: &mut Option<Decimal>, line: &LineRow) {
    if let Some(vw) = &line.variable_weight {
        *total.get_or_insert(Decimal::ZERO) += line.quantity.value() * vw.estimated_kg.value();
    }
}

/// Sums lines already sorted by product (rank, id, unit): one pass over contiguous runs.
fn sorted_items(ix: &Index<'_>, lines: &[&LineRow]) -> Vec<PickItem> {
    lines
        .chunk_by(|a, b| a.product_id == b.product_id && a.unit == b.unit)
        .filter_map(|run| {
            let first = *run.first()?;
            let mut quantity = Decimal::ZERO;
            let mut kg = None;
            for &line in run {
                quantity += line.quantity.value();
                add_estimated_kg(&mut kg, line);
            }
            Some(PickItem {
                product_id: first.product_id,
                product_name: ix.product(first).line.product_name.clone(),
                unit: first.unit,
                quantity: quantity_of(quantity),
                estimated_kg: kg.map(quantity_of),
            })
        })
        .collect()
}

/// Running total of one product in a crate.
struct ItemTotal<'a> {
    line: &'a LineRow,
    quantity: Decimal,
    estimated_kg: Option<Decimal>,
}

/// Sums lines per product (and unit), by product name then id. Shared with the crates of the
/// distribution sheets.
pub(crate) fn aggregate_items<'a>(
    ix: &Index<'a>,
    lines: impl IntoIterator<Item = &'a LineRow>,
) -> Vec<PickItem> {
    let mut items: BTreeMap<(u32, i64, Unit), ItemTotal<'a>> = BTreeMap::new();
    for line in lines {
        let product = ix.product(line);
        let item = items
            .entry((product.rank, line.product_id, line.unit))
            .or_insert(ItemTotal {
                line: product.line,
                quantity: Decimal::ZERO,
                estimated_kg: None,
            });
        item.quantity += line.quantity.value();
        add_estimated_kg(&mut item.estimated_kg, line);
    }
    items
        .into_iter()
        .map(|((_, product_id, unit), item)| PickItem {
            product_id,
            product_name: item.line.product_name.clone(),
            unit,
            quantity: quantity_of(item.quantity),
            estimated_kg: item.estimated_kg.map(quantity_of),
        })
        .collect()
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on bad fixtures")]
pub(crate) mod tests {
    use super::*;
    use crate::pricing::tests::{chicken, fixed_line};
    use chrono::TimeZone;

    pub(crate) fn cycle() -> CycleInfo {
        CycleInfo {
            id: 12,
            name: "Semaine 12".into(),
            market_name: "Halle".into(),
            timezone: chrono_tz::Europe::Paris,
            opens_at: Utc.with_ymd_and_hms(2026, 3, 16, 8, 0, 0).unwrap(),
            closes_at: Utc.with_ymd_and_hms(2026, 3, 23, 20, 0, 0).unwrap(),
        }
    }

    pub(crate) fn slot(slot_id: i64, name: &str, hour: u32) -> SlotInfo {
        SlotInfo {
            slot_id,
            pickup_point_id: slot_id * 10,
            pickup_point_name: name.into(),
            address: format!("{slot_id} rue du Marché"),
            starts_at: Utc.with_ymd_and_hms(2026, 3, 26, hour, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 3, 26, hour + 2, 0, 0).unwrap(),
            cancelled: false,
        }
    }

    pub(crate) fn line(
        line_id: i64,
        order: (i64, &str, i64),
        producer: (i64, &str),
        product: (i64, &str),
        milli: i64,
    ) -> LineRow {
        LineRow {
            order_id: order.0,
            consumer_id: order.0 * 100,
            consumer_name: order.1.into(),
            slot_id: order.2,
            producer_id: producer.0,
            producer_name: producer.1.into(),
            product_id: product.0,
            offer_id: product.0 + 1000,
            product_name: product.1.into(),
            unit: Unit::Piece,
            ..fixed_line(line_id, milli, 150)
        }
    }

    pub(crate) fn q(units: i64) -> Quantity {
        Quantity::from_milli(units * 1000)
    }

    /// Two producers, two slots (the later one listed first), three baskets.
    fn fixture() -> (Vec<SlotInfo>, Vec<LineRow>) {
        let slots = vec![slot(2, "Gare", 18), slot(1, "Mairie", 16)];
        let ferme = (7, "Ferme du Pré");
        let verger = (3, "Verger");
        let lines = vec![
            line(1, (100, "Zoé", 2), ferme, (50, "Salade"), 2000),
            line(2, (100, "Zoé", 2), ferme, (51, "Carottes"), 1000),
            line(3, (101, "Bruno", 1), ferme, (50, "Salade"), 1000),
            line(4, (101, "Bruno", 1), verger, (60, "Pommes"), 3000),
            line(5, (102, "Anne", 2), ferme, (50, "Salade"), 4000),
            line(6, (102, "Anne", 2), ferme, (50, "Salade"), 1000),
        ];
        (slots, lines)
    }

    #[test]
    fn picking_lists_total_each_product_and_split_it_per_slot() {
        let (slots, lines) = fixture();
        let lists = picking_lists(&cycle(), &slots, &lines);
        let names: Vec<&str> = lists.iter().map(|l| l.producer_name.as_str()).collect();
        assert_eq!(names, ["Ferme du Pré", "Verger"]);

        let ferme = &lists[0];
        assert_eq!(ferme.producer_id, 7);
        let products: Vec<(&str, Quantity)> = ferme
            .products
            .iter()
            .map(|p| (p.product_name.as_str(), p.total_quantity))
            .collect();
        assert_eq!(products, [("Carottes", q(1)), ("Salade", q(8))]);
        let salade = &ferme.products[1];
        let split: Vec<(i64, &str, Quantity)> = salade
            .per_slot
            .iter()
            .map(|s| (s.slot_id, s.pickup_point_name.as_str(), s.quantity))
            .collect();
        // Mairie (16:00) comes before Gare (18:00).
        assert_eq!(split, [(1, "Mairie", q(1)), (2, "Gare", q(7))]);
        assert_eq!(salade.estimated_kg, None);
        // 9 pieces at 1.50.
        assert_eq!(ferme.total_estimated, Money::from_cents(1350));
    }

    #[test]
    fn each_slot_gets_one_crate_in_slot_order() {
        let (slots, lines) = fixture();
        let ferme = picking_list(&cycle(), &slots, &lines, 7).unwrap();
        let points: Vec<(i64, Vec<(&str, Quantity)>)> = ferme
            .points
            .iter()
            .map(|p| {
                (
                    p.slot.slot_id,
                    p.items
                        .iter()
                        .map(|i| (i.product_name.as_str(), i.quantity))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            points,
            [
                (1, vec![("Salade", q(1))]),
                (2, vec![("Carottes", q(1)), ("Salade", q(7))]),
            ]
        );
    }

    #[test]
    fn labels_are_one_per_basket_by_slot_then_consumer() {
        let (slots, lines) = fixture();
        let ferme = picking_list(&cycle(), &slots, &lines, 7).unwrap();
        let labels: Vec<(i64, &str, &str, usize)> = ferme
            .labels
            .iter()
            .map(|l| {
                (
                    l.order_id,
                    l.consumer_name.as_str(),
                    l.pickup_point_name.as_str(),
                    l.items.len(),
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                (101, "Bruno", "Mairie", 1),
                (102, "Anne", "Gare", 1),
                (100, "Zoé", "Gare", 2),
            ]
        );
        // Anne's two salad lines make one item of 5.
        assert_eq!(ferme.labels[1].items[0].quantity, q(5));
        assert_eq!(ferme.labels[1].starts_at, slots[0].starts_at);
    }

    #[test]
    fn one_producers_list_equals_its_entry_among_all_lists() {
        let (slots, mut lines) = fixture();
        for producer_id in [7, 3] {
            let all = picking_lists(&cycle(), &slots, &lines);
            let one = picking_list(&cycle(), &slots, &lines, producer_id).unwrap();
            assert!(all.contains(&one));
        }
        assert_eq!(picking_list(&cycle(), &slots, &lines, 99), None);
        // The order of the input lines does not matter.
        let before = picking_lists(&cycle(), &slots, &lines);
        lines.reverse();
        assert_eq!(picking_lists(&cycle(), &slots, &lines), before);
    }

    #[test]
    fn variable_weight_pieces_carry_their_estimated_kg() {
        let (slots, _) = fixture();
        let lines = vec![
            LineRow {
                slot_id: 1,
                order_id: 1,
                ..chicken(1, 2, &[])
            },
            LineRow {
                slot_id: 2,
                order_id: 2,
                consumer_name: "Bob".into(),
                ..chicken(2, 1, &[1900])
            },
        ];
        let list = picking_list(&cycle(), &slots, &lines, 1).unwrap();
        // The two lines are two products in the fixture; make them one.
        assert_eq!(list.products.len(), 2);
        let lines: Vec<LineRow> = lines
            .into_iter()
            .map(|l| LineRow { product_id: 9, ..l })
            .collect();
        let list = picking_list(&cycle(), &slots, &lines, 1).unwrap();
        let poulet = &list.products[0];
        assert_eq!(poulet.total_quantity, q(3));
        assert_eq!(poulet.estimated_kg, Some(Quantity::from_milli(5400)));
        assert_eq!(
            list.points[0].items[0].estimated_kg,
            Some(Quantity::from_milli(3600))
        );
        assert_eq!(
            list.labels[1].items[0].estimated_kg,
            Some(Quantity::from_milli(1800))
        );
        // Picking lists are estimated: 3 × 22.50.
        assert_eq!(list.total_estimated, Money::from_cents(6750));
    }

    #[test]
    fn goods_for_an_unknown_slot_are_still_listed_last() {
        let (slots, mut lines) = fixture();
        lines.push(line(
            7,
            (103, "Chloé", 99),
            (7, "Ferme du Pré"),
            (50, "Salade"),
            1000,
        ));
        let ferme = picking_list(&cycle(), &slots, &lines, 7).unwrap();
        let last = ferme.points.last().unwrap();
        assert_eq!(last.slot.slot_id, 99);
        assert_eq!(last.slot.pickup_point_name, "?");
        assert_eq!(ferme.labels.last().unwrap().order_id, 103);
        assert_eq!(ferme.products[1].total_quantity, q(9));
    }
}
