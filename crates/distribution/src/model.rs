//! The inputs of the distribution computations, as the store loads them for one order cycle:
//! the cycle ([`CycleInfo`]), its pickup slots ([`SlotInfo`]), every order line of its placed
//! orders with the names the printed lists need ([`LineRow`], [`VariableWeight`]), and what
//! happened to each basket at the pickup point ([`BasketState`], [`Collection`], [`Payment`],
//! [`PaymentMethod`]).
//!
//! The module also holds the crate-internal index ([`Index`]) shared by the picking lists and
//! the distribution sheets: the order of slots, and the canonical name and sort rank of every
//! producer, product and consumer. Building it is linear (plus sorting the distinct names), so
//! that grouping tens of thousands of lines stays a matter of one sort of line indices.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::{Money, Quantity, Unit, VatRate};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

use crate::sheet::collation_key;

/// Serializes a time zone as its IANA name (`"Europe/Paris"`).
///
/// For `#[serde(serialize_with = "crate::model::serialize_tz")]` on `Tz` fields, since
/// `chrono_tz` is built without its `serde` feature.
pub(crate) fn serialize_tz<S: Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(tz.name())
}

/// The order cycle the lists are printed for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CycleInfo {
    /// The cycle's id.
    pub id: i64,
    /// The cycle's name ("Semaine 12").
    pub name: String,
    /// The name of the market running the cycle.
    pub market_name: String,
    /// The market's time zone, in which slot times are shown. Serialized as its IANA name.
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
    /// When the cycle opened for orders.
    pub opens_at: DateTime<Utc>,
    /// When the cycle closed for orders.
    pub closes_at: DateTime<Utc>,
}

/// One pickup slot of the cycle: a time window at a pickup point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlotInfo {
    /// The slot's id.
    pub slot_id: i64,
    /// The pickup point's id.
    pub pickup_point_id: i64,
    /// The pickup point's name.
    pub pickup_point_name: String,
    /// The pickup point's postal address.
    pub address: String,
    /// When the slot starts.
    pub starts_at: DateTime<Utc>,
    /// When the slot ends.
    pub ends_at: DateTime<Utc>,
    /// True when the slot was cancelled (its baskets are still listed: goods are never dropped).
    pub cancelled: bool,
}

/// One order line with everything the lists need (store loads all of a cycle's in one query).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineRow {
    /// The order (basket) the line belongs to.
    pub order_id: i64,
    /// The consumer who placed the order.
    pub consumer_id: i64,
    /// The consumer's display name.
    pub consumer_name: String,
    /// The consumer's phone number, if known.
    pub consumer_phone: Option<String>,
    /// The slot the order is collected at.
    pub slot_id: i64,
    /// The line's id.
    pub line_id: i64,
    /// The offer (product in this cycle) ordered.
    pub offer_id: i64,
    /// The product ordered.
    pub product_id: i64,
    /// The product's name.
    pub product_name: String,
    /// The producer of the product.
    pub producer_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// The unit the product is ordered in.
    pub unit: Unit,
    /// How much was ordered, in `unit`.
    pub quantity: Quantity,
    /// Price of one ordering unit incl. VAT as ordered (the estimated piece price for variable weight).
    pub unit_price: Money,
    /// The VAT rate included in `unit_price`.
    pub vat: VatRate,
    /// Variable weight: estimated kg of one piece, and the price per kg.
    pub variable_weight: Option<VariableWeight>,
}

/// The weighing data of a variable-weight line (sold by the piece, priced by the kg).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariableWeight {
    /// Estimated weight of one piece, in kg.
    pub estimated_kg: Quantity,
    /// VAT-inclusive price of one kg.
    pub price_per_kg: Money,
    /// Real weights recorded after harvest, one per piece; empty until weighed.
    pub actual_kg: Vec<Quantity>,
}

/// Whether a basket was collected at its pickup point.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// Not yet handed over (the state of every basket before distribution).
    #[default]
    Pending,
    /// Handed over to the consumer.
    Collected,
    /// The consumer did not come.
    NotCollected,
}

impl Collection {
    /// Every state, in declaration order.
    pub const ALL: [Collection; 3] = [
        Collection::Pending,
        Collection::Collected,
        Collection::NotCollected,
    ];

    /// The stable machine name, as serialized: `"pending"`, `"collected"`, `"not_collected"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Collection::Pending => "pending",
            Collection::Collected => "collected",
            Collection::NotCollected => "not_collected",
        }
    }
}

impl fmt::Display for Collection {
    /// The machine name of [`Collection::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Collection {
    type Err = ParseNameError;

    /// Case-insensitive match on the machine names, ignoring surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        Collection::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| ParseNameError {
                what: "collection state",
                input: s.to_owned(),
                expected: "pending, collected or not_collected",
            })
    }
}

/// How a basket was (partly) paid.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Banknotes and coins.
    Cash,
    /// A cheque.
    Cheque,
    /// A bank card at the pickup point.
    Card,
    /// Paid online before distribution.
    Online,
}

impl PaymentMethod {
    /// Every method, in declaration order.
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Cash,
        PaymentMethod::Cheque,
        PaymentMethod::Card,
        PaymentMethod::Online,
    ];

    /// The stable machine name, as serialized: `"cash"`, `"cheque"`, `"card"`, `"online"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::Card => "card",
            PaymentMethod::Online => "online",
        }
    }
}

impl fmt::Display for PaymentMethod {
    /// The machine name of [`PaymentMethod::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentMethod {
    type Err = ParseNameError;

    /// Case-insensitive match on the machine names, ignoring surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        PaymentMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| ParseNameError {
                what: "payment method",
                input: s.to_owned(),
                expected: "cash, cheque, card or online",
            })
    }
}

/// Why a [`Collection`] or [`PaymentMethod`] name was not recognised.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown {what} \"{input}\" (expected {expected})")]
pub struct ParseNameError {
    /// What was being parsed ("collection state", "payment method").
    pub what: &'static str,
    /// The text that was given.
    pub input: String,
    /// The accepted names, for the message.
    pub expected: &'static str,
}

/// One payment received for a basket (a voided one is not given to the lists at all).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Payment {
    /// Its id, which `POST /payments/{id}/void` takes to correct a mistaken entry.
    pub id: i64,
    /// How it was paid.
    pub method: PaymentMethod,
    /// How much was paid, VAT included.
    pub amount: Money,
}

/// What happened to a basket at the pickup point.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BasketState {
    /// The order (basket).
    pub order_id: i64,
    /// Whether it was collected.
    pub collection: Collection,
    /// The payments received, in the order they were recorded.
    pub payments: Vec<Payment>,
}

/// A hasher for database ids: one multiplication (Fibonacci hashing). Ids come from the
/// store, not from adversaries, and maps keyed by them are only looked up, never iterated into
/// the output, so SipHash's protection is not needed and its cost is.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, id: i64) {
        self.0 = (self.0 ^ id.cast_unsigned()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by database id, hashed with [`IdHasher`].
pub(crate) type IdMap<V> = HashMap<i64, V, BuildHasherDefault<IdHasher>>;

/// The sort position of a slot: its rank in distribution order, then its id. Slots missing
/// from the cycle's slot list come after every known slot, by id.
pub(crate) type SlotKey = (usize, i64);

/// A name chosen for an id, and its rank in alphabetical (collation) order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Canon<'a> {
    /// The line the name was taken from (the one with the smallest line id).
    pub(crate) line: &'a LineRow,
    /// The alphabetical rank of the name.
    pub(crate) rank: u32,
}

/// Slot order and canonical names of one set of lines, shared by picking lists and sheets.
///
/// Every id gets the name of its line with the smallest line id (the store gives the same name
/// on every line; this only makes the output independent of the order of the input lines).
pub(crate) struct Index<'a> {
    cycle: &'a CycleInfo,
    /// Distinct slots (first occurrence of each id), by start, point name, then id.
    slots: Vec<&'a SlotInfo>,
    slot_rank: IdMap<usize>,
    producers: IdMap<Canon<'a>>,
    products: IdMap<Canon<'a>>,
    orders: IdMap<Canon<'a>>,
}

impl<'a> Index<'a> {
    /// Indexes `slots` and `lines`. Linear, plus sorting the distinct slots and names.
    pub(crate) fn new(cycle: &'a CycleInfo, slots: &'a [SlotInfo], lines: &[&'a LineRow]) -> Self {
        let mut distinct: Vec<(&'a SlotInfo, String)> = Vec::with_capacity(slots.len());
        let mut seen: HashSet<i64, BuildHasherDefault<IdHasher>> = HashSet::default();
        for slot in slots {
            if seen.insert(slot.slot_id) {
                distinct.push((slot, collation_key(&slot.pickup_point_name)));
            }
        }
        distinct.sort_by(|(a, ka), (b, kb)| {
            (a.starts_at, ka, &a.pickup_point_name, a.slot_id).cmp(&(
                b.starts_at,
                kb,
                &b.pickup_point_name,
                b.slot_id,
            ))
        });
        let slots: Vec<&'a SlotInfo> = distinct.into_iter().map(|(slot, _)| slot).collect();
        let slot_rank: IdMap<usize> = slots
            .iter()
            .enumerate()
            .map(|(rank, slot)| (slot.slot_id, rank))
            .collect();

        let mut producers: IdMap<&'a LineRow> = IdMap::default();
        let mut products: IdMap<&'a LineRow> = IdMap::default();
        let mut orders: IdMap<&'a LineRow> = IdMap::default();
        for &line in lines {
            keep_first(&mut producers, line.producer_id, line);
            keep_first(&mut products, line.product_id, line);
            keep_first(&mut orders, line.order_id, line);
        }
        Index {
            cycle,
            slots,
            slot_rank,
            producers: ranked(producers, |l| &l.producer_name, true),
            products: ranked(products, |l| &l.product_name, true),
            orders: ranked(orders, |l| &l.consumer_name, false),
        }
    }

    /// The distinct known slots, in distribution order.
    pub(crate) fn slots(&self) -> &[&'a SlotInfo] {
        &self.slots
    }

    /// True when the slot is in the cycle's slot list.
    pub(crate) fn knows_slot(&self, slot_id: i64) -> bool {
        self.slot_rank.contains_key(&slot_id)
    }

    /// The sort position of a slot.
    pub(crate) fn slot_key(&self, slot_id: i64) -> SlotKey {
        match self.slot_rank.get(&slot_id) {
            Some(&rank) => (rank, slot_id),
            None => (self.slots.len(), slot_id),
        }
    }

    /// The slot's details, or for a slot missing from the slot list a stand-in with its id,
    /// `"?"` as point name and address, pickup point id 0 and the cycle's closing time.
    pub(crate) fn slot_info(&self, slot_id: i64) -> SlotInfo {
        match self
            .slot_rank
            .get(&slot_id)
            .and_then(|&r| self.slots.get(r))
        {
            Some(slot) => (*slot).clone(),
            None => SlotInfo {
                slot_id,
                pickup_point_id: 0,
                pickup_point_name: "?".to_owned(),
                address: "?".to_owned(),
                starts_at: self.cycle.closes_at,
                ends_at: self.cycle.closes_at,
                cancelled: false,
            },
        }
    }

    /// The point name and start of a slot, without cloning (`"?"` and the cycle's closing time
    /// for a slot missing from the slot list, as in [`Index::slot_info`]).
    pub(crate) fn slot_label(&self, slot_id: i64) -> (&str, DateTime<Utc>) {
        match self
            .slot_rank
            .get(&slot_id)
            .and_then(|&r| self.slots.get(r))
        {
            Some(slot) => (&slot.pickup_point_name, slot.starts_at),
            None => ("?", self.cycle.closes_at),
        }
    }

    /// The canonical producer of an id (present for every producer of the indexed lines).
    pub(crate) fn producer(&self, line: &'a LineRow) -> Canon<'a> {
        canon(&self.producers, line.producer_id, line)
    }

    /// The canonical product of a line's product id.
    pub(crate) fn product(&self, line: &'a LineRow) -> Canon<'a> {
        canon(&self.products, line.product_id, line)
    }

    /// The canonical consumer of a line's order; its rank follows [`collation_key`] only, so
    /// that equal keys fall back to the order id.
    pub(crate) fn order(&self, line: &'a LineRow) -> Canon<'a> {
        canon(&self.orders, line.order_id, line)
    }
}

fn canon<'a>(map: &IdMap<Canon<'a>>, id: i64, line: &'a LineRow) -> Canon<'a> {
    map.get(&id).copied().unwrap_or(Canon {
        line,
        rank: u32::MAX,
    })
}

/// Keeps, per id, the line with the smallest line id (the first one on ties).
fn keep_first<'a>(map: &mut IdMap<&'a LineRow>, id: i64, line: &'a LineRow) {
    match map.entry(id) {
        Entry::Vacant(entry) => {
            entry.insert(line);
        }
        Entry::Occupied(mut entry) => {
            if line.line_id < entry.get().line_id {
                entry.insert(line);
            }
        }
    }
}

/// Ranks the canonical names alphabetically: by [`collation_key`], then (when `raw_tie`) by the
/// name itself, so that two different names never share a rank unless `raw_tie` is false.
fn ranked<'a>(
    canonical: IdMap<&'a LineRow>,
    name: impl Fn(&'a LineRow) -> &'a str,
    raw_tie: bool,
) -> IdMap<Canon<'a>> {
    let mut names: Vec<(String, &'a str)> = canonical
        .values()
        .map(|&line| (collation_key(name(line)), name(line)))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut ranks: HashMap<&'a str, u32> = HashMap::with_capacity(names.len());
    let mut rank: u32 = 0;
    let mut previous: Option<&(String, &'a str)> = None;
    for entry in &names {
        if let Some(prev) = previous
            && (prev.0 != entry.0 || raw_tie)
        {
            rank = rank.saturating_add(1);
        }
        ranks.insert(entry.1, rank);
        previous = Some(entry);
    }
    canonical
        .into_iter()
        .map(|(id, line)| {
            let rank = ranks.get(name(line)).copied().unwrap_or(u32::MAX);
            (id, Canon { line, rank })
        })
        .collect()
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly on bad fixtures")]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StrDeserializer};

    fn from_name<T: for<'de> Deserialize<'de>>(name: &str) -> T {
        let de: StrDeserializer<'_, ValueError> = name.into_deserializer();
        T::deserialize(de).unwrap()
    }

    #[test]
    fn collection_states_round_trip_through_their_names() {
        for c in Collection::ALL {
            assert_eq!(c.as_str().parse::<Collection>(), Ok(c));
            assert_eq!(from_name::<Collection>(c.as_str()), c);
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Collection::NotCollected.as_str(), "not_collected");
        assert_eq!(
            " NOT_COLLECTED ".parse::<Collection>(),
            Ok(Collection::NotCollected)
        );
        assert_eq!(Collection::default(), Collection::Pending);
    }

    #[test]
    fn payment_methods_round_trip_through_their_names() {
        for m in PaymentMethod::ALL {
            assert_eq!(m.as_str().parse::<PaymentMethod>(), Ok(m));
            assert_eq!(from_name::<PaymentMethod>(m.as_str()), m);
        }
        let err = "bitcoin".parse::<PaymentMethod>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown payment method \"bitcoin\" (expected cash, cheque, card or online)"
        );
    }
}
