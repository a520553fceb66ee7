//! Distribution sheets: what the volunteers of one pickup slot check baskets out with.
//!
//! A [`DistributionSheet`] lists the slot's baskets alphabetically by consumer (accents and
//! case ignored, see [`collation_key`]), each with its lines, estimated and effective totals
//! (weighed lines at their real price, see [`crate::pricing`]), what was paid and what is due,
//! and whether it was collected; then the slot's totals with one VAT breakdown, and the crate
//! each producer brings to the slot.
//!
//! Grouping is one sort of line indices by integer keys, then a walk over contiguous runs.

use std::cmp::max;
use std::collections::BTreeMap;

use domain::{Money, PricedLine, Quantity, Unit, VatBreakdownLine, VatRate, basket_totals};
use serde::Serialize;

use crate::model::{
    BasketState, Collection, CycleInfo, IdMap, Index, LineRow, Payment, SlotInfo, SlotKey,
};
use crate::picking::{PickItem, aggregate_items};
use crate::pricing::{basket_amounts, effective_priced_line, estimated_kg, weighed_kg};

/// The sheet of one pickup slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistributionSheet {
    /// The cycle.
    pub cycle: CycleInfo,
    /// The slot.
    pub slot: SlotInfo,
    /// Alphabetical by consumer: [`collation_key`] of the name, then order id.
    pub baskets: Vec<SheetBasket>,
    /// Sums over the baskets.
    pub totals: SheetTotals,
    /// What each producer delivers to this slot: by producer name, items by product name.
    pub crates: Vec<ProducerCrate>,
}

/// One basket on a distribution sheet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SheetBasket {
    /// The order.
    pub order_id: i64,
    /// The consumer's name.
    pub consumer_name: String,
    /// The consumer's phone number, if known.
    pub consumer_phone: Option<String>,
    /// By producer name, then product name, then line id.
    pub lines: Vec<SheetLine>,
    /// The basket as ordered (every line estimated).
    pub estimated_total: Money,
    /// What the consumer pays: weighed lines at their final price, the others estimated.
    pub total: Money,
    /// True when no variable-weight line still waits for weighing.
    pub fully_weighed: bool,
    /// Sum of the payments.
    pub paid: Money,
    /// `max(total - paid, 0)`.
    pub due: Money,
    /// Whether the basket was collected (pending without a recorded state).
    pub collection: Collection,
    /// The payments, as recorded.
    pub payments: Vec<Payment>,
}

/// One line of a basket on a distribution sheet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SheetLine {
    /// The order line.
    pub line_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// The product's name.
    pub product_name: String,
    /// The unit ordered in.
    pub unit: Unit,
    /// How much was ordered.
    pub quantity: Quantity,
    /// Price incl. VAT of one unit as ordered (estimated piece price for variable weight).
    pub unit_price: Money,
    /// The VAT rate.
    pub vat: VatRate,
    /// The line as ordered.
    pub estimated_total: Money,
    /// The weighed price, once every piece is weighed.
    pub final_total: Option<Money>,
    /// True for a variable-weight line (sold by the piece, priced by the kg).
    pub variable_weight: bool,
    /// Variable weight: estimated kg of the line (pieces × estimated kg).
    pub estimated_kg: Option<Quantity>,
    /// Variable weight: total real kg, once every piece is weighed.
    pub actual_kg: Option<Quantity>,
}

/// The totals of a distribution sheet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SheetTotals {
    /// Number of baskets.
    pub baskets: usize,
    /// Baskets collected.
    pub collected: usize,
    /// Baskets not collected.
    pub not_collected: usize,
    /// Baskets still pending.
    pub pending: usize,
    /// Sum of the baskets' estimated totals.
    pub estimated_total: Money,
    /// Sum of the baskets' totals.
    pub total: Money,
    /// Sum of the payments.
    pub paid: Money,
    /// Sum of the baskets' dues (an overpaid basket does not reduce another's due).
    pub due: Money,
    /// VAT breakdown of every effective line of the slot, by rate (one `basket_totals` call).
    pub vat: Vec<VatBreakdownLine>,
}

/// What one producer delivers to one slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProducerCrate {
    /// The producer.
    pub producer_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// The products, by product name.
    pub items: Vec<PickItem>,
}

/// One sheet per distinct slot of `slots` (even without baskets), in the order of the picking
/// points: by start, then point name, then slot id. Lines of slots missing from `slots` are on
/// the picking lists only. A basket without a [`BasketState`] is pending with no payments; when
/// an order has several states, the first one counts.
#[must_use]
pub fn distribution_sheets(
    cycle: &CycleInfo,
    slots: &[SlotInfo],
    lines: &[LineRow],
    states: &[BasketState],
) -> Vec<DistributionSheet> {
    let refs: Vec<&LineRow> = lines.iter().collect();
    build(cycle, slots, &refs, states)
}

/// The sheet of one slot, `None` when the slot is not in `slots`. Equal to that slot's entry of
/// [`distribution_sheets`].
#[must_use]
pub fn distribution_sheet(
    cycle: &CycleInfo,
    slots: &[SlotInfo],
    lines: &[LineRow],
    states: &[BasketState],
    slot_id: i64,
) -> Option<DistributionSheet> {
    let slot = slots.iter().find(|s| s.slot_id == slot_id)?;
    let refs: Vec<&LineRow> = lines.iter().filter(|l| l.slot_id == slot_id).collect();
    build(cycle, std::slice::from_ref(slot), &refs, states)
        .into_iter()
        .next()
}

/// The key names are sorted by: lowercase, accents and ligatures removed (`é→e`, `ç→c`,
/// `œ→oe`, `æ→ae`, `ß→ss`, …, combining marks dropped), surrounding whitespace trimmed.
///
/// "Émilie" gives "emilie", so it sorts between "Durand" and "Fabre".
#[must_use]
pub fn collation_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        match fold(c) {
            Fold::Keep => key.push(c),
            Fold::Drop => {}
            Fold::To(s) => key.push_str(s),
        }
    }
    key
}

/// What [`collation_key`] does with one lowercase character.
enum Fold {
    Keep,
    Drop,
    To(&'static str),
}

/// Latin letters with diacritics and ligatures, as plain ASCII.
fn fold(c: char) -> Fold {
    if c.is_ascii() {
        return Fold::Keep;
    }
    Fold::To(match c {
        // Combining diacritical marks (decomposed input such as "e\u{301}").
        '\u{300}'..='\u{36f}' => return Fold::Drop,
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' => "a",
        'æ' | 'ǽ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ẽ' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ǒ' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ǔ' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        // Typographic apostrophe, as typed on phones ("D’Artagnan").
        '’' | 'ʼ' => "'",
        _ => return Fold::Keep,
    })
}

/// Sort key of a line on sheets: slot, consumer, order, producer, product, line.
type SheetKey = (SlotKey, u32, i64, u32, i64, u32, i64, i64, usize);

fn build(
    cycle: &CycleInfo,
    slots: &[SlotInfo],
    lines: &[&LineRow],
    states: &[BasketState],
) -> Vec<DistributionSheet> {
    let ix = Index::new(cycle, slots, lines);
    let mut by_order: IdMap<&BasketState> = IdMap::default();
    for state in states {
        by_order.entry(state.order_id).or_insert(state);
    }

    let mut keyed: Vec<(SheetKey, &LineRow)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| ix.knows_slot(l.slot_id))
        .map(|(i, &l)| {
            let key = (
                ix.slot_key(l.slot_id),
                ix.order(l).rank,
                l.order_id,
                ix.producer(l).rank,
                l.producer_id,
                ix.product(l).rank,
                l.product_id,
                l.line_id,
                i,
            );
            (key, l)
        })
        .collect();
    keyed.sort_unstable_by_key(|&(key, _)| key);
    let sorted: Vec<&LineRow> = keyed.into_iter().map(|(_, l)| l).collect();

    let mut runs = sorted.chunk_by(|a, b| a.slot_id == b.slot_id).peekable();
    ix.slots()
        .iter()
        .map(|&slot| {
            let run = runs
                .next_if(|run| run.first().is_some_and(|l| l.slot_id == slot.slot_id))
                .unwrap_or(&[]);
            slot_sheet(&ix, cycle, slot, run, &by_order)
        })
        .collect()
}

/// The sheet of one slot from its lines, sorted by consumer, order, producer, product, line.
fn slot_sheet(
    ix: &Index<'_>,
    cycle: &CycleInfo,
    slot: &SlotInfo,
    lines: &[&LineRow],
    states: &IdMap<&BasketState>,
) -> DistributionSheet {
    let baskets: Vec<SheetBasket> = lines
        .chunk_by(|a, b| a.order_id == b.order_id)
        .filter_map(|run| basket(ix, run, states))
        .collect();

    let count = |c: Collection| baskets.iter().filter(|b| b.collection == c).count();
    let effective: Vec<PricedLine> = lines.iter().map(|l| effective_priced_line(l)).collect();
    let totals = SheetTotals {
        baskets: baskets.len(),
        collected: count(Collection::Collected),
        not_collected: count(Collection::NotCollected),
        pending: count(Collection::Pending),
        estimated_total: baskets.iter().map(|b| b.estimated_total).sum(),
        total: baskets.iter().map(|b| b.total).sum(),
        paid: baskets.iter().map(|b| b.paid).sum(),
        due: baskets.iter().map(|b| b.due).sum(),
        vat: basket_totals(&effective).vat,
    };

    let mut by_producer: BTreeMap<(u32, i64), Vec<&LineRow>> = BTreeMap::new();
    for &line in lines {
        by_producer
            .entry((ix.producer(line).rank, line.producer_id))
            .or_default()
            .push(line);
    }
    let crates = by_producer
        .into_values()
        .filter_map(|producer_lines| {
            let first = *producer_lines.first()?;
            Some(ProducerCrate {
                producer_id: first.producer_id,
                producer_name: ix.producer(first).line.producer_name.clone(),
                items: aggregate_items(ix, producer_lines),
            })
        })
        .collect();

    DistributionSheet {
        cycle: cycle.clone(),
        slot: slot.clone(),
        baskets,
        totals,
        crates,
    }
}

/// One basket from its lines, sorted by producer, product, line.
fn basket(ix: &Index<'_>, lines: &[&LineRow], states: &IdMap<&BasketState>) -> Option<SheetBasket> {
    let consumer = ix.order(*lines.first()?).line;
    let amounts = basket_amounts(lines);
    let sheet_lines = lines
        .iter()
        .zip(&amounts.estimated.lines)
        .zip(&amounts.effective.lines)
        .map(|((&line, &estimated), &effective)| {
            let actual_kg = weighed_kg(line);
            SheetLine {
                line_id: line.line_id,
                producer_name: ix.producer(line).line.producer_name.clone(),
                product_name: ix.product(line).line.product_name.clone(),
                unit: line.unit,
                quantity: line.quantity,
                unit_price: line.unit_price,
                vat: line.vat,
                estimated_total: estimated,
                final_total: actual_kg.map(|_| effective),
                variable_weight: line.variable_weight.is_some(),
                estimated_kg: estimated_kg(line),
                actual_kg,
            }
        })
        .collect();

    let state = states.get(&consumer.order_id);
    let payments = state.map(|s| s.payments.clone()).unwrap_or_default();
    let paid: Money = payments.iter().map(|p| p.amount).sum();
    let total = amounts.effective.total;
    Some(SheetBasket {
        order_id: consumer.order_id,
        consumer_name: consumer.consumer_name.clone(),
        consumer_phone: consumer.consumer_phone.clone(),
        lines: sheet_lines,
        estimated_total: amounts.estimated.total,
        total,
        fully_weighed: amounts.fully_weighed,
        paid,
        due: max(total - paid, Money::ZERO),
        collection: state.map_or(Collection::Pending, |s| s.collection),
        payments,
    })
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on bad fixtures")]
mod tests {
    use super::*;
    use crate::model::{PaymentMethod, VariableWeight};
    use crate::picking::picking_lists;
    use crate::picking::tests::{cycle, line, q, slot};
    use crate::pricing::line_amounts;
    use crate::pricing::tests::chicken;
    use proptest::prelude::*;

    const FERME: (i64, &str) = (7, "Ferme du Pré");
    const VERGER: (i64, &str) = (3, "Verger");

    fn slots() -> Vec<SlotInfo> {
        vec![
            slot(2, "Gare", 18),
            slot(1, "Mairie", 16),
            slot(3, "École", 17),
        ]
    }

    /// Four baskets at the Gare (slot 2), one at the Mairie; nothing at the École.
    fn lines() -> Vec<LineRow> {
        vec![
            line(1, (100, "Fabre", 2), FERME, (50, "Salade"), 2000), // 3.00
            line(2, (101, "Émilie", 2), VERGER, (60, "Pommes"), 1000), // 1.50
            line(3, (101, "Émilie", 2), FERME, (50, "Salade"), 1000), // 1.50
            line(4, (102, "Durand", 2), FERME, (51, "Carottes"), 4000), // 6.00
            line(5, (103, "zoé", 2), VERGER, (60, "Pommes"), 2000),  // 3.00
            line(6, (104, "Bruno", 1), FERME, (50, "Salade"), 1000),
        ]
    }

    fn pay(method: PaymentMethod, cents: i64) -> Payment {
        Payment {
            id: cents,
            method,
            amount: Money::from_cents(cents),
        }
    }

    fn states() -> Vec<BasketState> {
        vec![
            BasketState {
                order_id: 100,
                collection: Collection::Collected,
                payments: vec![pay(PaymentMethod::Cash, 200), pay(PaymentMethod::Card, 100)],
            },
            BasketState {
                order_id: 101,
                collection: Collection::NotCollected,
                payments: vec![],
            },
            BasketState {
                order_id: 102,
                collection: Collection::Collected,
                payments: vec![pay(PaymentMethod::Online, 1000)],
            },
        ]
    }

    fn gare() -> DistributionSheet {
        distribution_sheet(&cycle(), &slots(), &lines(), &states(), 2).unwrap()
    }

    #[test]
    fn collation_keys_ignore_case_accents_and_ligatures() {
        assert_eq!(collation_key("Émilie"), "emilie");
        assert_eq!(collation_key("E\u{301}milie"), "emilie");
        assert_eq!(
            collation_key("  Françoise LŒUILLET "),
            "francoise loeuillet"
        );
        assert_eq!(collation_key("Ærø Straße"), "aero strasse");
        assert_eq!(collation_key("D’Artagnan"), "d'artagnan");
        assert_eq!(collation_key("Łukasz Żółć"), "lukasz zolc");
        assert_eq!(collation_key("李"), "李");
    }

    #[test]
    fn baskets_are_alphabetical_with_accents_ignored() {
        let names: Vec<String> = gare()
            .baskets
            .iter()
            .map(|b| b.consumer_name.clone())
            .collect();
        assert_eq!(names, ["Durand", "Émilie", "Fabre", "zoé"]);
    }

    #[test]
    fn basket_lines_are_by_producer_then_product() {
        let emilie = &gare().baskets[1];
        let lines: Vec<(&str, &str)> = emilie
            .lines
            .iter()
            .map(|l| (l.producer_name.as_str(), l.product_name.as_str()))
            .collect();
        assert_eq!(lines, [("Ferme du Pré", "Salade"), ("Verger", "Pommes")]);
    }

    #[test]
    fn sheets_total_what_is_paid_and_due_and_count_collections() {
        let sheet = gare();
        let summary: Vec<(i64, Money, Money, Money, Collection)> = sheet
            .baskets
            .iter()
            .map(|b| (b.order_id, b.total, b.paid, b.due, b.collection))
            .collect();
        let m = Money::from_cents;
        assert_eq!(
            summary,
            [
                // Overpaid: nothing due, and no credit taken off the others.
                (102, m(600), m(1000), m(0), Collection::Collected),
                (101, m(300), m(0), m(300), Collection::NotCollected),
                (100, m(300), m(300), m(0), Collection::Collected),
                // No recorded state: pending, nothing paid.
                (103, m(300), m(0), m(300), Collection::Pending),
            ]
        );
        assert_eq!(sheet.baskets[2].payments.len(), 2);
        let t = &sheet.totals;
        assert_eq!(
            (t.baskets, t.collected, t.not_collected, t.pending),
            (4, 2, 1, 1)
        );
        assert_eq!(t.estimated_total, m(1500));
        assert_eq!(t.total, m(1500));
        assert_eq!(t.paid, m(1300));
        assert_eq!(t.due, m(600));
        assert_eq!(t.vat.len(), 1);
        assert_eq!(t.vat[0].gross, m(1500));
        assert_eq!(t.vat[0].net + t.vat[0].vat, m(1500));
    }

    #[test]
    fn each_producer_has_a_crate_for_the_slot() {
        let sheet = gare();
        let crates: Vec<(&str, Vec<(&str, Quantity)>)> = sheet
            .crates
            .iter()
            .map(|c| {
                (
                    c.producer_name.as_str(),
                    c.items
                        .iter()
                        .map(|i| (i.product_name.as_str(), i.quantity))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            crates,
            [
                ("Ferme du Pré", vec![("Carottes", q(4)), ("Salade", q(3))]),
                ("Verger", vec![("Pommes", q(3))]),
            ]
        );
    }

    #[test]
    fn every_slot_gets_a_sheet_in_picking_order_even_when_empty() {
        let sheets = distribution_sheets(&cycle(), &slots(), &lines(), &states());
        let order: Vec<(i64, usize)> = sheets
            .iter()
            .map(|s| (s.slot.slot_id, s.baskets.len()))
            .collect();
        // Mairie 16:00, École 17:00, Gare 18:00.
        assert_eq!(order, [(1, 1), (3, 0), (2, 4)]);
        assert_eq!(sheets[1].totals.total, Money::ZERO);
        assert!(sheets[1].crates.is_empty());
        assert_eq!(sheets[2], gare());
        assert_eq!(
            distribution_sheet(&cycle(), &slots(), &lines(), &states(), 9),
            None
        );
    }

    #[test]
    fn a_weighed_chicken_is_repriced_on_the_sheet() {
        let bird = |weights: &[i64]| LineRow {
            slot_id: 1,
            ..chicken(1, 1, weights)
        };
        let sheet = distribution_sheet(&cycle(), &slots(), &[bird(&[])], &[], 1).unwrap();
        let basket = &sheet.baskets[0];
        assert_eq!(basket.estimated_total, Money::from_cents(2250));
        assert_eq!(basket.total, Money::from_cents(2250));
        assert!(!basket.fully_weighed);
        assert_eq!(
            basket.lines[0].estimated_kg,
            Some(Quantity::from_milli(1800))
        );
        assert_eq!(basket.lines[0].actual_kg, None);
        assert_eq!(basket.lines[0].final_total, None);

        let sheet = distribution_sheet(&cycle(), &slots(), &[bird(&[1920])], &[], 1).unwrap();
        let basket = &sheet.baskets[0];
        assert_eq!(basket.estimated_total, Money::from_cents(2250));
        assert_eq!(basket.total, Money::from_cents(2400));
        assert_eq!(basket.due, Money::from_cents(2400));
        assert!(basket.fully_weighed);
        let line = &basket.lines[0];
        assert!(line.variable_weight);
        assert_eq!(line.actual_kg, Some(Quantity::from_milli(1920)));
        assert_eq!(line.final_total, Some(Money::from_cents(2400)));
        assert_eq!(sheet.totals.total, Money::from_cents(2400));
        assert_eq!(sheet.totals.estimated_total, Money::from_cents(2250));
    }

    #[test]
    fn a_partly_weighed_basket_stays_estimated_on_the_sheet() {
        let birds = LineRow {
            slot_id: 1,
            ..chicken(1, 2, &[1920])
        };
        let sheet = distribution_sheet(&cycle(), &slots(), &[birds], &[], 1).unwrap();
        let basket = &sheet.baskets[0];
        assert_eq!(basket.total, Money::from_cents(4500));
        assert!(!basket.fully_weighed);
        assert_eq!(basket.lines[0].final_total, None);
    }

    #[test]
    fn lines_of_an_unknown_slot_stay_off_the_sheets() {
        let mut all = lines();
        all.push(line(9, (200, "Anne", 42), FERME, (50, "Salade"), 1000));
        let sheets = distribution_sheets(&cycle(), &slots(), &all, &states());
        assert_eq!(sheets.iter().map(|s| s.baskets.len()).sum::<usize>(), 5);
    }

    /// `orders` baskets of 6 lines over `producers` producers and `slots` slots.
    fn big(orders: i64, producers: i64, slot_count: i64) -> (Vec<SlotInfo>, Vec<LineRow>) {
        let slots: Vec<SlotInfo> = (0..slot_count)
            .map(|s| slot(s, &format!("Point {s}"), 8 + u32::try_from(s % 10).unwrap()))
            .collect();
        let mut lines = Vec::new();
        for order in 0..orders {
            let name = format!("Consommateur {}", (order * 7919) % orders);
            for k in 0..6 {
                let producer = (order * 31 + k * 17) % producers;
                let product = producer * 10 + (order + k) % 10;
                let mut l = line(
                    order * 6 + k,
                    (order, name.as_str(), order % slot_count),
                    (producer, "Producteur"),
                    (product, "Produit"),
                    1000 + (order % 3) * 1000,
                );
                l.producer_name = format!("Producteur {producer}");
                l.product_name = format!("Produit {product}");
                if k == 5 {
                    l.variable_weight = Some(VariableWeight {
                        estimated_kg: Quantity::from_milli(1500),
                        price_per_kg: Money::from_cents(1000),
                        actual_kg: vec![Quantity::from_milli(1450); usize::from(order % 2 == 0)],
                    });
                }
                lines.push(l);
            }
        }
        (slots, lines)
    }

    #[test]
    fn a_small_load_is_complete_and_consistent() {
        let (slots, lines) = big(300, 12, 5);
        let lists = picking_lists(&cycle(), &slots, &lines);
        let sheets = distribution_sheets(&cycle(), &slots, &lines, &[]);
        let picked: Money = lists.iter().map(|l| l.total_estimated).sum();
        let estimated: Money = sheets.iter().map(|s| s.totals.estimated_total).sum();
        assert_eq!(picked, estimated);
        let labels: usize = lists.iter().map(|l| l.labels.len()).sum();
        let sheet_lines: usize = sheets
            .iter()
            .flat_map(|s| &s.baskets)
            .map(|b| b.lines.len())
            .sum();
        assert_eq!(sheet_lines, lines.len());
        assert!(labels >= 300);
    }

    fn arb_line() -> impl Strategy<Value = LineRow> {
        (
            (0i64..12, 0i64..5, 0i64..4, 0i64..6),
            (
                1i64..=4,
                0i64..=5_000,
                any::<bool>(),
                500i64..=3_000,
                0usize..=5,
            ),
            prop_oneof![
                Just(VatRate::REDUCED_5_5),
                Just(VatRate::STANDARD_20),
                Just(VatRate::ZERO)
            ],
        )
            .prop_map(
                |((order, slot, producer, product), (pieces, cents, vw, kg, weighed), vat)| {
                    let mut l = line(
                        0,
                        (
                            order,
                            ["Émilie", "Durand", "fabre", "Zoé"][order as usize % 4],
                            slot,
                        ),
                        (
                            producer,
                            ["Ferme", "Verger", "Rucher", "Élevage"][producer as usize],
                        ),
                        (producer * 10 + product, "Produit"),
                        pieces * 1000,
                    );
                    l.unit_price = Money::from_cents(cents);
                    l.vat = vat;
                    if vw {
                        let pieces = usize::try_from(pieces).unwrap();
                        l.variable_weight = Some(VariableWeight {
                            estimated_kg: Quantity::from_milli(kg),
                            price_per_kg: Money::from_cents(cents),
                            actual_kg: vec![Quantity::from_milli(kg + 37); weighed.min(pieces)],
                        });
                    }
                    l
                },
            )
    }

    fn arb_state() -> impl Strategy<Value = BasketState> {
        (
            0i64..12,
            prop::sample::select(Collection::ALL.to_vec()),
            prop::collection::vec(0i64..3_000, 0..3),
        )
            .prop_map(|(order_id, collection, amounts)| BasketState {
                order_id,
                collection,
                payments: amounts
                    .into_iter()
                    .map(|cents| pay(PaymentMethod::Cash, cents))
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn basket_and_sheet_totals_add_up(
            mut lines in prop::collection::vec(arb_line(), 0..40),
            states in prop::collection::vec(arb_state(), 0..12),
        ) {
            for (i, l) in lines.iter_mut().enumerate() {
                l.line_id = i64::try_from(i).unwrap();
            }
            // Slot 4 is not in the slot list.
            let slots = vec![slot(0, "A", 9), slot(1, "B", 9), slot(2, "C", 12), slot(3, "D", 8)];
            let sheets = distribution_sheets(&cycle(), &slots, &lines, &states);
            prop_assert_eq!(sheets.len(), 4);
            for sheet in &sheets {
                for basket in &sheet.baskets {
                    let rows: Vec<&LineRow> = lines
                        .iter()
                        .filter(|l| l.order_id == basket.order_id && l.slot_id == sheet.slot.slot_id)
                        .collect();
                    let effective: Money = rows.iter().map(|l| line_amounts(l).effective()).sum();
                    prop_assert_eq!(basket.total, effective);
                    prop_assert_eq!(basket_amounts(&rows).effective.total, effective);
                    let from_lines: Money = basket
                        .lines
                        .iter()
                        .map(|l| l.final_total.unwrap_or(l.estimated_total))
                        .sum();
                    prop_assert_eq!(basket.total, from_lines);
                    prop_assert_eq!(
                        basket.estimated_total,
                        basket.lines.iter().map(|l| l.estimated_total).sum::<Money>()
                    );
                    prop_assert_eq!(basket.due, max(basket.total - basket.paid, Money::ZERO));
                }
                let t = &sheet.totals;
                prop_assert_eq!(t.baskets, sheet.baskets.len());
                prop_assert_eq!(t.collected + t.not_collected + t.pending, t.baskets);
                prop_assert_eq!(t.total, sheet.baskets.iter().map(|b| b.total).sum::<Money>());
                prop_assert_eq!(
                    t.estimated_total,
                    sheet.baskets.iter().map(|b| b.estimated_total).sum::<Money>()
                );
                prop_assert_eq!(t.paid, sheet.baskets.iter().map(|b| b.paid).sum::<Money>());
                prop_assert_eq!(t.due, sheet.baskets.iter().map(|b| b.due).sum::<Money>());
                prop_assert_eq!(t.vat.iter().map(|v| v.gross).sum::<Money>(), t.total);
                let one = distribution_sheet(&cycle(), &slots, &lines, &states, sheet.slot.slot_id);
                prop_assert_eq!(one.as_ref(), Some(sheet));
            }
            let listed: usize = sheets.iter().flat_map(|s| &s.baskets).map(|b| b.lines.len()).sum();
            prop_assert_eq!(listed, lines.iter().filter(|l| l.slot_id != 4).count());
            // Picking lists never drop goods, unknown slot included.
            let picked: usize = picking_lists(&cycle(), &slots, &lines)
                .iter()
                .flat_map(|l| &l.labels)
                .map(|label| label.items.len())
                .sum();
            prop_assert!(picked <= lines.len());
            prop_assert_eq!(picked == 0, lines.is_empty());
        }
    }
}
