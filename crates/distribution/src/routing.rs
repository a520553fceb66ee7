//! Co-delivery rounds: once an order cycle has closed, a coordinator puts one vehicle on the road
//! to collect the crates at the farms and bring them to the pickup points before the distribution
//! starts. [`plan_round`] orders the stops of such a round ([`RoundRequest`]) into a
//! [`RoundPlan`]: every crate collected before it is delivered, the vehicle never loaded above its
//! capacity (crates, and kilograms when given), every farm and pickup point reached within its
//! time window, and as few kilometres as possible.
//!
//! # The model
//!
//! - Each [`Shipment`] (the crates of one producer for one pickup slot) is a pickup-and-delivery
//!   job: collected at the producer's [`Farm`], delivered at the slot's [`DropPoint`].
//! - Distances are **not** road distances: they are great-circle (haversine) distances multiplied
//!   by a detour factor ([`RoundRequest::detour_factor`], 1.3 by default, a common approximation of
//!   road distance over great-circle distance in rural France). Driving times follow at an average
//!   speed ([`RoundRequest::speed_kmh`], 45 km/h by default). See [`road_km`].
//! - A stop costs a service time: [`RoundRequest::collect_minutes`] at a farm,
//!   [`RoundRequest::deliver_minutes`] at a pickup point (10 min each by default), **once per
//!   stop**, however many shipments are handled there. Consecutive activities of the same kind at
//!   the same place (with the same window) are one [`Stop`] carrying several [`Cargo`].
//! - A time window means: the vehicle arrives no later than the window's end; arriving before its
//!   start, it waits there, and the service starts when the window opens.
//! - The objective is the total distance, start to end. As durations are proportional to
//!   distances, this is also the driving time; waiting only happens when a window forces it.
//! - A shipment that cannot be carried (larger than the vehicle, windows that cannot be met) is
//!   listed in [`RoundPlan::unassigned`] with a reason instead of failing the whole round.
//!
//! # The solver
//!
//! [`plan_round`] first puts the shipments in a canonical order (by the places of their farm and
//! point), so that the plan does not depend on the order the request lists them in. Then:
//!
//! - Rounds of at most 30 shipments are searched by `vrp-core` (evolutionary ruin-and-recreate
//!   with local search), configured for reproducibility: a fixed random seed, one thread, a static
//!   operator selection, operators that never depend on hash-map orders, and a budget in
//!   generations, never in seconds. Details in the `solver` submodule.
//! - Larger rounds start from a cheapest-insertion round: `vrp-core`'s constructions cost about
//!   the fourth power of the shipments (5.5 s of wall time for 100 on the loaded 2-core server).
//! - Every round is then polished on its stops (2-opt, Or-opt of one to three stops, merging a
//!   stop split in two) and improved by an iterated local search with a seeded generator and a
//!   budget in kicks (the `polish` submodule); every move keeps the precedences, the capacity
//!   and the windows, checked with the plan's own clock.
//!
//! The same request therefore gives the same plan on every run and every machine. On TSPLIB
//! rounds of 51 to 105 stops the plans are 0.09 % above the optimum on average (0.64 % at worst),
//! in a fifth of a second of CPU (`cargo bench -p distribution --bench routes`, BENCHMARKS.md).
//! Call it from a blocking task in async code.
//!
//! Several vehicles: [`plan_fleet`] shares the shipments among a market's [`Vehicle`]s and plans
//! one round per vehicle ([`FleetPlan`]); [`plan_fleet_exact`] is its yardstick and
//! [`check_fleet_plan`] its check (the `fleet` submodule).
//!
//! [`plan_round_exact`] finds the optimum by dynamic programming over the stop orders, for small
//! rounds (at most [`EXACT_MAX_SHIPMENTS`] shipments); it is the yardstick of the solver in tests
//! and benchmarks. [`check_plan`] verifies any plan against its request.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod check;
mod exact;
mod fleet;
mod network;
mod polish;
mod ruin;
mod solver;
mod timing;

pub use fleet::{
    FleetPlan, FleetSearch, MAX_VEHICLES, Vehicle, VehicleRound, check_fleet_plan, plan_fleet,
    plan_fleet_exact, plan_fleet_with,
};

/// The largest round [`plan_round_exact`] accepts, in shipments.
pub const EXACT_MAX_SHIPMENTS: usize = 8;

/// Mean Earth radius in kilometres (IUGG), for the great-circle distance.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A place the vehicle goes to: a depot, a farm or a pickup point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Identifies the place ("depot", "farm:12", "point:3"). Two places with the same key are the
    /// same place and must have the same coordinates.
    pub key: String,
    /// The name shown to the driver.
    pub name: String,
    /// Latitude in degrees (WGS 84), −90 to 90.
    pub latitude: f64,
    /// Longitude in degrees (WGS 84), −180 to 180.
    pub longitude: f64,
}

/// A producer's farm, where crates are collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Farm {
    /// The producer's id.
    pub producer_id: i64,
    /// Where the farm is.
    pub place: Place,
    /// When the vehicle may come (start, end): it arrives before the end, waiting for the start if
    /// it is early. `None`: at any time.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A pickup slot's point, where crates are delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DropPoint {
    /// The pickup slot's id.
    pub slot_id: i64,
    /// Where the pickup point is.
    pub place: Place,
    /// When the vehicle may come (start, end): it arrives before the end, waiting for the start if
    /// it is early. Usually (departure, slot start): the crates must be there before the
    /// distribution starts. `None`: at any time.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Crates of one producer for one pickup slot: collected at the farm, delivered at the point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    /// The producer whose farm the crates are collected at.
    pub producer_id: i64,
    /// The pickup slot whose point the crates are delivered to.
    pub slot_id: i64,
    /// Number of crates.
    pub crates: u32,
    /// Weight in kilograms.
    pub kg: Decimal,
}

/// A round to plan: one vehicle, where it starts and ends, and what it carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundRequest {
    /// Where the vehicle leaves from (a depot or a farm).
    pub start: Place,
    /// Where the vehicle ends its round (a depot or a farm).
    pub end: Place,
    /// When the vehicle leaves `start`.
    pub departure: DateTime<Utc>,
    /// How many crates the vehicle holds.
    pub capacity_crates: u32,
    /// How many kilograms the vehicle may carry; `None`: no weight limit.
    pub capacity_kg: Option<Decimal>,
    /// Average speed in km/h over the approximated road distances (default 45).
    pub speed_kmh: f64,
    /// Road distance over great-circle distance, at least 1 (default 1.3). See [`road_km`].
    pub detour_factor: f64,
    /// Minutes spent at each farm stop (default 10).
    pub collect_minutes: u32,
    /// Minutes spent at each pickup point stop (default 10).
    pub deliver_minutes: u32,
    /// The farms of the shipments' producers.
    pub farms: Vec<Farm>,
    /// The points of the shipments' slots.
    pub points: Vec<DropPoint>,
    /// What to carry.
    pub shipments: Vec<Shipment>,
}

impl RoundRequest {
    /// A request with no farm, point nor shipment yet and the default settings: 45 km/h, detour
    /// factor 1.3, 10 minutes per farm stop and per pickup point stop, no weight limit.
    pub fn new(start: Place, end: Place, departure: DateTime<Utc>, capacity_crates: u32) -> Self {
        Self {
            start,
            end,
            departure,
            capacity_crates,
            capacity_kg: None,
            speed_kmh: 45.0,
            detour_factor: 1.3,
            collect_minutes: 10,
            deliver_minutes: 10,
            farms: Vec::new(),
            points: Vec::new(),
            shipments: Vec::new(),
        }
    }
}

/// What happens at a stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    /// The vehicle leaves its start place.
    Start,
    /// Crates are collected at a farm.
    Collect,
    /// Crates are delivered at a pickup point.
    Deliver,
    /// The vehicle reaches its end place.
    End,
}

/// A shipment's crates as handled at a stop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cargo {
    /// The producer the crates come from.
    pub producer_id: i64,
    /// The pickup slot the crates go to.
    pub slot_id: i64,
    /// Number of crates.
    pub crates: u32,
    /// Weight in kilograms.
    pub kg: Decimal,
}

/// One stop of a planned round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// Position in the round, from 0 (the start).
    pub sequence: u32,
    /// What happens here.
    pub kind: StopKind,
    /// Where.
    pub place: Place,
    /// The producer collected from, when all the crates collected here are one producer's.
    pub producer_id: Option<i64>,
    /// The slot delivered to, when all the crates delivered here are for one slot.
    pub slot_id: Option<i64>,
    /// When the vehicle gets here (whole seconds). Before the window's start, it waits.
    pub arrival: DateTime<Utc>,
    /// When the vehicle leaves (after the waiting and the service time).
    pub departure: DateTime<Utc>,
    /// Kilometres from the previous stop, rounded to 0.1 km.
    pub km_from_previous: f64,
    /// Kilometres since the start, rounded to 0.1 km.
    pub km_total: f64,
    /// Crates on board when the vehicle leaves.
    pub load_crates: u32,
    /// Kilograms on board when the vehicle leaves.
    pub load_kg: Decimal,
    /// Crates collected here.
    pub picked_up: Vec<Cargo>,
    /// Crates delivered here.
    pub dropped: Vec<Cargo>,
}

/// A shipment left out of the round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unassigned {
    /// The shipment's producer.
    pub producer_id: i64,
    /// The shipment's slot.
    pub slot_id: i64,
    /// Why it could not be carried, for the coordinator.
    pub reason: String,
}

/// A planned round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundPlan {
    /// The stops in order, from the start to the end.
    pub stops: Vec<Stop>,
    /// Total kilometres, rounded to 0.1 km.
    pub total_km: f64,
    /// Minutes from the departure to the arrival at the end, rounded.
    pub total_minutes: u32,
    /// Shipments left out of the round, in the request's order.
    pub unassigned: Vec<Unassigned>,
}

/// Why a round cannot be planned at all.
#[derive(Clone, Debug, PartialEq, Error, Serialize)]
pub enum RoutingError {
    /// A shipment names a producer that has no farm in the request.
    #[error(
        "shipment from producer {producer_id} to slot {slot_id}: producer {producer_id} has no farm in the round"
    )]
    UnknownFarm {
        /// The shipment's producer.
        producer_id: i64,
        /// The shipment's slot.
        slot_id: i64,
    },
    /// A shipment names a slot that has no point in the request.
    #[error(
        "shipment from producer {producer_id} to slot {slot_id}: slot {slot_id} has no pickup point in the round"
    )]
    UnknownPoint {
        /// The shipment's producer.
        producer_id: i64,
        /// The shipment's slot.
        slot_id: i64,
    },
    /// A producer has two farms, or a slot two points.
    #[error("{what} appears twice in the round")]
    Duplicate {
        /// "producer 12", "slot 3".
        what: String,
    },
    /// Coordinates outside the globe, or not numbers.
    #[error("place \"{name}\" has invalid coordinates ({latitude}, {longitude})")]
    BadCoordinates {
        /// The place's name.
        name: String,
        /// The latitude given.
        latitude: f64,
        /// The longitude given.
        longitude: f64,
    },
    /// Two places share a key but not their coordinates.
    #[error("place \"{key}\" is given at two different positions")]
    ConflictingPlace {
        /// The shared key.
        key: String,
    },
    /// A window that ends before it starts.
    #[error("the time window of {what} ends before it starts")]
    BadWindow {
        /// "farm …", "pickup point …".
        what: String,
    },
    /// A setting or quantity out of range.
    #[error("invalid {what}: {detail}")]
    BadSetting {
        /// Which setting ("speed", "detour factor", …).
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// [`plan_round_exact`] was given a round too large to enumerate.
    #[error("{shipments} shipments are too many for the exact planner (at most {max})")]
    TooLargeForExact {
        /// Shipments in the request.
        shipments: usize,
        /// The limit, [`EXACT_MAX_SHIPMENTS`].
        max: usize,
    },
    /// The solver failed: a bug rather than a property of the round.
    #[error("the round planner failed: {0}")]
    Solver(String),
}

/// Approximated road distance in kilometres between two places: the great-circle (haversine)
/// distance times `detour_factor`, since roads are not straight. Not rounded.
///
/// The approximation needs no map data; on the small roads between farms the true factor varies
/// from about 1.2 to 1.6 (1.3 is the usual default), so the kilometres of a plan are an estimate,
/// while the order of the stops is rarely affected.
pub fn road_km(a: &Place, b: &Place, detour_factor: f64) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin() * detour_factor
}

/// Plans a round with the `vrp-core` solver: deterministic, a fixed budget of generations.
///
/// Errors only when the request is inconsistent (unknown farm or point, bad coordinates or
/// settings) or the solver itself fails; shipments that cannot be carried are returned in
/// [`RoundPlan::unassigned`].
pub fn plan_round(req: &RoundRequest) -> Result<RoundPlan, RoutingError> {
    let canonical = canonical(req);
    let net = network::Network::build(&canonical)?;
    // Small rounds: `vrp-core`'s search, polished. Large ones: a cheapest-insertion round,
    // polished by the iterated local search (see the `polish` submodule).
    let (order, left_out) = if net.jobs.len() <= solver::LARGEST_FOR_VRP_CORE {
        let (order, left_out) = solver::solve(&net)?;
        let order = polish::polish(&net, &order, polish::kicks_for(order.len()));
        (order, left_out)
    } else {
        let (order, left) = polish::construct(&net);
        let order = polish::polish(&net, &order, polish::kicks_for(order.len()));
        let (order, left) = polish::reinsert(&net, order, &left);
        let reason = "it cannot be fitted into the round along with the other shipments (time windows or the vehicle's room)";
        let left_out: Vec<_> = left
            .into_iter()
            .map(|job| (net.jobs[job].shipment, reason.to_string()))
            .collect();
        // Insertion is greedy about what fits: when it leaves shipments out of a mid-size
        // round, `vrp-core`'s search (which first minimises them) has its say too.
        if !left_out.is_empty() && net.jobs.len() <= solver::LARGEST_FOR_SECOND_OPINION {
            let (other, other_left) = solver::solve(&net)?;
            let other = polish::polish(&net, &other, polish::kicks_for(other.len()));
            let better = other_left.len() < left_out.len()
                || (other_left.len() == left_out.len()
                    && order_km(&net, &other) < order_km(&net, &order) - 1e-9);
            if better {
                (other, other_left)
            } else {
                (order, left_out)
            }
        } else {
            (order, left_out)
        }
    };
    let mut plan = net.plan(&canonical, &order, left_out);
    in_request_order(req, &mut plan.unassigned);
    Ok(plan)
}

/// Kilometres of an order of activities, from the start to the end.
fn order_km(net: &network::Network, order: &[network::Activity]) -> f64 {
    let mut at = network::START;
    let mut km = 0.0;
    for a in order {
        let here = net.location(*a);
        km += net.km(at, here);
        at = here;
    }
    km + net.km(at, network::END)
}

/// The request with its shipments in a canonical order: by the farm's position, then the
/// point's, then the quantities and ids. The solver's search depends on the order it is given
/// the shipments in; so the plan does not depend on the order they are listed in.
fn canonical(req: &RoundRequest) -> RoundRequest {
    let farm = |id: i64| {
        req.farms
            .iter()
            .find(|f| f.producer_id == id)
            .map(|f| &f.place)
    };
    let point = |id: i64| {
        req.points
            .iter()
            .find(|p| p.slot_id == id)
            .map(|p| &p.place)
    };
    let position = |place: Option<&Place>| place.map(|p| (p.latitude, p.longitude, p.key.clone()));
    let mut keyed: Vec<_> = req
        .shipments
        .iter()
        .map(|s| {
            (
                position(farm(s.producer_id)),
                position(point(s.slot_id)),
                s.clone(),
            )
        })
        .collect();
    let order = |a: &Option<(f64, f64, String)>, b: &Option<(f64, f64, String)>| match (a, b) {
        (Some(a), Some(b)) => {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        }
        _ => a.is_some().cmp(&b.is_some()),
    };
    keyed.sort_by(|a, b| {
        order(&a.0, &b.0)
            .then_with(|| order(&a.1, &b.1))
            .then(a.2.crates.cmp(&b.2.crates))
            .then(a.2.kg.cmp(&b.2.kg))
            .then(a.2.producer_id.cmp(&b.2.producer_id))
            .then(a.2.slot_id.cmp(&b.2.slot_id))
    });
    let mut canonical = req.clone();
    canonical.shipments = keyed.into_iter().map(|(_, _, s)| s).collect();
    canonical
}

/// Puts the unassigned shipments back in the request's order.
fn in_request_order(req: &RoundRequest, unassigned: &mut [Unassigned]) {
    let mut used = vec![false; req.shipments.len()];
    let mut rank = |u: &Unassigned| {
        let found = req.shipments.iter().enumerate().position(|(i, s)| {
            !used[i] && s.producer_id == u.producer_id && s.slot_id == u.slot_id
        });
        if let Some(i) = found {
            used[i] = true;
        }
        found.unwrap_or(usize::MAX)
    };
    let mut ranked: Vec<(usize, Unassigned)> =
        unassigned.iter().map(|u| (rank(u), u.clone())).collect();
    ranked.sort_by_key(|(r, _)| *r);
    for (slot, (_, u)) in unassigned.iter_mut().zip(ranked) {
        *slot = u;
    }
}

/// Plans a round exactly: the shortest round among those that carry as many shipments as
/// possible, by dynamic programming over the stop orders. Only for small rounds: errors with
/// [`RoutingError::TooLargeForExact`] above [`EXACT_MAX_SHIPMENTS`] shipments.
pub fn plan_round_exact(req: &RoundRequest) -> Result<RoundPlan, RoutingError> {
    if req.shipments.len() > EXACT_MAX_SHIPMENTS {
        return Err(RoutingError::TooLargeForExact {
            shipments: req.shipments.len(),
            max: EXACT_MAX_SHIPMENTS,
        });
    }
    let net = network::Network::build(req)?;
    let (order, left_out) = exact::solve(&net);
    Ok(net.plan(req, &order, left_out))
}

/// Checks a plan against its request, with a message on the first problem found: each shipment
/// collected exactly once and delivered exactly once after it, or listed as unassigned; the load
/// never above the capacity (crates, and kg when limited); time windows respected and times
/// consistent with the distances; consecutive stops of the same kind at the same place merged;
/// kilometres consistent with [`road_km`] and with each other.
pub fn check_plan(req: &RoundRequest, plan: &RoundPlan) -> Result<(), String> {
    check::check(req, plan)
}

impl RoundPlan {
    /// Crates collected over the round (what the vehicle is loaded with, in all).
    pub fn loaded_crates(&self) -> u32 {
        self.stops
            .iter()
            .flat_map(|s| &s.picked_up)
            .map(|c| c.crates)
            .sum()
    }

    /// Kilograms collected over the round.
    pub fn loaded_kg(&self) -> Decimal {
        self.stops
            .iter()
            .flat_map(|s| &s.picked_up)
            .map(|c| c.kg)
            .sum()
    }
}

impl FleetPlan {
    /// A one-vehicle plan as a fleet of one: its shipments left out become the fleet's.
    pub fn of_one(vehicle: Vehicle, mut plan: RoundPlan) -> Self {
        let unassigned = std::mem::take(&mut plan.unassigned);
        Self {
            total_km: plan.total_km,
            rounds: vec![VehicleRound { vehicle, plan }],
            unassigned,
        }
    }

    /// Minutes of the longest vehicle's round (they leave together).
    pub fn total_minutes(&self) -> u32 {
        self.rounds
            .iter()
            .map(|r| r.plan.total_minutes)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests stop loudly")]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    pub(super) fn place(key: &str, latitude: f64, longitude: f64) -> Place {
        Place {
            key: key.to_string(),
            name: key.to_uppercase(),
            latitude,
            longitude,
        }
    }

    pub(super) fn departure() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, 6, 0, 0).unwrap()
    }

    fn farm(producer_id: i64, latitude: f64, longitude: f64) -> Farm {
        Farm {
            producer_id,
            place: place(&format!("farm:{producer_id}"), latitude, longitude),
            window: None,
        }
    }

    fn point(slot_id: i64, latitude: f64, longitude: f64) -> DropPoint {
        DropPoint {
            slot_id,
            place: place(&format!("point:{slot_id}"), latitude, longitude),
            window: None,
        }
    }

    fn shipment(producer_id: i64, slot_id: i64, crates: u32) -> Shipment {
        Shipment {
            producer_id,
            slot_id,
            crates,
            kg: Decimal::new(i64::from(crates) * 125, 1),
        }
    }

    /// Parthenay as the depot, a few farms around, two pickup points.
    fn small_request(capacity: u32) -> RoundRequest {
        let depot = place("depot", 46.6486, -0.2469);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), capacity);
        req.farms = vec![
            farm(1, 46.70, -0.10),
            farm(2, 46.55, -0.35),
            farm(3, 46.62, -0.05),
            farm(4, 46.75, -0.40),
        ];
        req.points = vec![point(10, 46.58, -0.33), point(20, 46.80, -0.20)];
        req.shipments = vec![
            shipment(1, 10, 3),
            shipment(1, 20, 2),
            shipment(2, 20, 4),
            shipment(3, 10, 1),
            shipment(4, 10, 2),
        ];
        req
    }

    /// A small deterministic generator for seeded random instances (SplitMix64; the fleet's
    /// tests use it too).
    pub(super) struct Seeded(pub u64);

    impl Seeded {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        pub(super) fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }

        pub(super) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_request(seed: u64, shipments: usize) -> RoundRequest {
        let mut rng = Seeded(seed);
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 12);
        let farms = 2 + rng.below(4) as i64;
        let points = 1 + rng.below(3) as i64;
        for id in 1..=farms {
            req.farms.push(farm(
                id,
                46.65 + (rng.unit() - 0.5) * 0.8,
                -0.25 + (rng.unit() - 0.5) * 1.2,
            ));
        }
        for id in 1..=points {
            req.points.push(point(
                100 + id,
                46.65 + (rng.unit() - 0.5) * 0.8,
                -0.25 + (rng.unit() - 0.5) * 1.2,
            ));
        }
        for _ in 0..shipments {
            let producer = 1 + rng.below(farms as u64) as i64;
            let slot = 101 + rng.below(points as u64) as i64;
            req.shipments
                .push(shipment(producer, slot, 1 + rng.below(5) as u32));
        }
        req
    }

    fn kinds(plan: &RoundPlan) -> Vec<StopKind> {
        plan.stops.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn a_small_round_passes_its_own_check() {
        let req = small_request(20);
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.unassigned.is_empty());
        assert_eq!(plan.stops.first().unwrap().kind, StopKind::Start);
        assert_eq!(plan.stops.last().unwrap().kind, StopKind::End);
        // 4 farms and 2 points, each visited once when nothing forces a second visit.
        assert_eq!(plan.stops.len(), 8, "{:?}", kinds(&plan));
        assert!(plan.total_km > 0.0);
        assert_eq!(plan.stops.last().unwrap().load_crates, 0);
    }

    #[test]
    fn an_empty_round_goes_straight_to_the_end() {
        let mut req = small_request(20);
        req.shipments.clear();
        req.end = place("elsewhere", 46.70, -0.30);
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(kinds(&plan), vec![StopKind::Start, StopKind::End]);
        let direct = road_km(&req.start, &req.end, req.detour_factor);
        assert!((plan.total_km - direct).abs() <= 0.05);
    }

    #[test]
    fn road_distance_is_the_great_circle_times_the_detour_factor() {
        // Paris – Lyon: about 392 km as the crow flies.
        let paris = place("paris", 48.8566, 2.3522);
        let lyon = place("lyon", 45.7640, 4.8357);
        let crow = road_km(&paris, &lyon, 1.0);
        assert!((crow - 392.0).abs() < 3.0, "{crow}");
        assert!((road_km(&paris, &lyon, 1.3) - crow * 1.3).abs() < 1e-9);
        assert_eq!(road_km(&paris, &paris, 1.3), 0.0);
    }

    #[test]
    fn every_crate_is_collected_before_it_is_delivered() {
        let req = small_request(20);
        let plan = plan_round(&req).unwrap();
        for s in &req.shipments {
            let collected = plan.stops.iter().position(|stop| {
                stop.picked_up
                    .iter()
                    .any(|c| c.producer_id == s.producer_id && c.slot_id == s.slot_id)
            });
            let delivered = plan.stops.iter().position(|stop| {
                stop.dropped
                    .iter()
                    .any(|c| c.producer_id == s.producer_id && c.slot_id == s.slot_id)
            });
            assert!(collected.unwrap() < delivered.unwrap(), "{s:?}");
        }
        // A plan delivering before collecting is refused by the check.
        let mut wrong = plan.clone();
        let first_deliver = wrong
            .stops
            .iter()
            .position(|s| s.kind == StopKind::Deliver)
            .unwrap();
        let cargo = wrong.stops[first_deliver].dropped[0].clone();
        let pick = wrong
            .stops
            .iter()
            .position(|s| {
                s.picked_up
                    .iter()
                    .any(|c| c.producer_id == cargo.producer_id && c.slot_id == cargo.slot_id)
            })
            .unwrap();
        let moved = wrong.stops[pick]
            .picked_up
            .iter()
            .position(|c| c == &cargo)
            .unwrap();
        let taken = wrong.stops[pick].picked_up.remove(moved);
        wrong.stops[first_deliver].picked_up.push(taken);
        assert!(check_plan(&req, &wrong).is_err());
    }

    #[test]
    fn a_small_vehicle_delivers_before_collecting_more() {
        // Two farms north, one point south; each shipment fills the vehicle.
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 5);
        req.farms = vec![farm(1, 46.80, -0.25), farm(2, 46.82, -0.20)];
        req.points = vec![point(10, 46.50, -0.25)];
        req.shipments = vec![shipment(1, 10, 5), shipment(2, 10, 4)];
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.unassigned.is_empty());
        assert_eq!(
            kinds(&plan),
            vec![
                StopKind::Start,
                StopKind::Collect,
                StopKind::Deliver,
                StopKind::Collect,
                StopKind::Deliver,
                StopKind::End
            ]
        );
        assert!(plan.stops.iter().all(|s| s.load_crates <= 5));
        // With a big vehicle, one trip north is enough.
        req.capacity_crates = 9;
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(plan.stops.len(), 5, "{:?}", kinds(&plan));
        assert_eq!(plan.stops.iter().map(|s| s.load_crates).max(), Some(9));
    }

    #[test]
    fn the_weight_limit_counts_as_well_as_the_crates() {
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 50);
        req.farms = vec![farm(1, 46.80, -0.25), farm(2, 46.82, -0.20)];
        req.points = vec![point(10, 46.50, -0.25)];
        req.shipments = vec![shipment(1, 10, 2), shipment(2, 10, 2)];
        req.shipments[0].kg = Decimal::new(300, 0);
        req.shipments[1].kg = Decimal::new(300, 0);
        req.capacity_kg = Some(Decimal::new(500, 0));
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.unassigned.is_empty());
        assert_eq!(
            plan.stops
                .iter()
                .filter(|s| s.kind == StopKind::Deliver)
                .count(),
            2
        );
        assert!(plan.stops.iter().all(|s| s.load_kg <= Decimal::new(500, 0)));
    }

    #[test]
    fn a_time_window_puts_its_farm_first() {
        // Farm 1 north, farm 2 east, the point south: the short way is farm 1, farm 2, point.
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 20);
        req.farms = vec![farm(1, 46.90, -0.25), farm(2, 46.65, 0.05)];
        req.points = vec![point(10, 46.45, -0.25)];
        req.shipments = vec![shipment(1, 10, 2), shipment(2, 10, 2)];
        let free = plan_round(&req).unwrap();
        let order: Vec<_> = free.stops.iter().filter_map(|s| s.producer_id).collect();
        assert_eq!(order, vec![1, 2], "without windows");

        // Farm 2 can only be visited during the first hour: it comes first.
        let opens = departure();
        req.farms[1].window = Some((opens, opens + TimeDelta::hours(1)));
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        let order: Vec<_> = plan.stops.iter().filter_map(|s| s.producer_id).collect();
        assert_eq!(order, vec![2, 1]);
        let at_farm_2 = plan
            .stops
            .iter()
            .find(|s| s.producer_id == Some(2))
            .unwrap();
        assert!(at_farm_2.arrival <= opens + TimeDelta::hours(1));
        assert!(plan.total_km > free.total_km);

        // A plan that reaches farm 2 late is refused by the check.
        let mut late = plan.clone();
        for stop in late.stops.iter_mut().skip(1) {
            stop.arrival += TimeDelta::hours(1);
            stop.departure += TimeDelta::hours(1);
        }
        assert!(check_plan(&req, &late).unwrap_err().contains("window"));
    }

    #[test]
    fn an_early_arrival_waits_for_the_window_to_open() {
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 20);
        req.farms = vec![farm(1, 46.70, -0.25)];
        req.points = vec![point(10, 46.60, -0.25)];
        let opens = departure() + TimeDelta::hours(2);
        req.farms[0].window = Some((opens, opens + TimeDelta::hours(1)));
        req.shipments = vec![shipment(1, 10, 2)];
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        let stop = &plan.stops[1];
        assert!(stop.arrival < opens);
        assert_eq!(stop.departure, opens + TimeDelta::minutes(10));
    }

    #[test]
    fn a_shipment_with_an_unreachable_window_is_left_out_with_a_reason() {
        let mut req = small_request(20);
        req.points[1].window = Some((
            departure() - TimeDelta::hours(2),
            departure() + TimeDelta::minutes(5),
        ));
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        let left: Vec<_> = plan
            .unassigned
            .iter()
            .map(|u| (u.producer_id, u.slot_id))
            .collect();
        assert_eq!(left, vec![(1, 20), (2, 20)]);
        assert!(
            plan.unassigned[0].reason.contains("window"),
            "{}",
            plan.unassigned[0].reason
        );
    }

    #[test]
    fn the_same_request_gives_the_same_plan() {
        // A small round (searched with a population) and a larger one (searched greedily), with a
        // small vehicle and a window, so that the search matters.
        let small = random_request(3, 8);
        let mut large = random_request(7, 24);
        large.farms.extend(
            (10..22).map(|id| farm(id, 46.3 + (id as f64) * 0.05, -0.9 + (id as f64) * 0.06)),
        );
        for (i, s) in large.shipments.iter_mut().enumerate().skip(10) {
            s.producer_id = 10 + i as i64 % 12;
        }
        large.capacity_crates = 15;
        let opens = departure() + TimeDelta::hours(3);
        large.points[0].window = Some((opens, opens + TimeDelta::hours(6)));
        for req in [small, large] {
            let first = plan_round(&req).unwrap();
            check_plan(&req, &first).unwrap();
            let second = plan_round(&req).unwrap();
            assert_eq!(first, second);
            // Also from another thread, after other work.
            let _ = plan_round(&small_request(20)).unwrap();
            let third = std::thread::spawn(move || plan_round(&req).unwrap())
                .join()
                .unwrap();
            assert_eq!(first, third);
        }
    }

    #[test]
    fn windows_that_cannot_all_be_met_leave_a_shipment_out() {
        // Two farms in opposite directions, each open for the first 45 minutes only: either can
        // be reached in time, not both.
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 20);
        let closes = departure() + TimeDelta::minutes(45);
        req.farms = vec![farm(1, 46.85, -0.25), farm(2, 46.45, -0.25)];
        for f in &mut req.farms {
            f.window = Some((departure(), closes));
        }
        req.points = vec![point(10, 46.66, -0.26)];
        req.shipments = vec![shipment(1, 10, 2), shipment(2, 10, 3)];
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(plan.unassigned.len(), 1);
        assert!(
            plan.unassigned[0].reason.contains("time windows"),
            "{}",
            plan.unassigned[0].reason
        );
        let exact = plan_round_exact(&req).unwrap();
        check_plan(&req, &exact).unwrap();
        assert_eq!(exact.unassigned.len(), 1);
    }

    #[test]
    fn a_shipment_larger_than_the_vehicle_is_left_out_with_a_reason() {
        let mut req = small_request(5);
        req.shipments.push(shipment(2, 10, 6));
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(plan.unassigned.len(), 1);
        let left = &plan.unassigned[0];
        assert_eq!((left.producer_id, left.slot_id), (2, 10));
        assert!(left.reason.contains("6 crates"), "{}", left.reason);
        // Everything else is carried.
        let carried: usize = plan.stops.iter().map(|s| s.dropped.len()).sum();
        assert_eq!(carried, req.shipments.len() - 1);

        let mut heavy = small_request(20);
        heavy.capacity_kg = Some(Decimal::new(40, 0));
        heavy.shipments[2].kg = Decimal::new(41, 0);
        let plan = plan_round(&heavy).unwrap();
        check_plan(&heavy, &plan).unwrap();
        assert_eq!(plan.unassigned.len(), 1);
        assert!(
            plan.unassigned[0].reason.contains("kg"),
            "{}",
            plan.unassigned[0].reason
        );
    }

    #[test]
    fn inconsistent_requests_are_refused_with_a_readable_error() {
        let mut req = small_request(20);
        req.shipments.push(shipment(9, 10, 1));
        let err = plan_round(&req).unwrap_err();
        assert_eq!(
            err,
            RoutingError::UnknownFarm {
                producer_id: 9,
                slot_id: 10
            }
        );
        assert!(err.to_string().contains("producer 9"));

        let mut req = small_request(20);
        req.shipments.push(shipment(1, 99, 1));
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::UnknownPoint { slot_id: 99, .. })
        ));

        let mut req = small_request(20);
        req.farms[0].place.latitude = 95.0;
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::BadCoordinates { .. })
        ));

        let mut req = small_request(20);
        req.points[0].place.longitude = f64::NAN;
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::BadCoordinates { .. })
        ));

        let mut req = small_request(20);
        req.speed_kmh = 0.0;
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::BadSetting { .. })
        ));

        let mut req = small_request(20);
        req.farms[1].window = Some((departure(), departure() - TimeDelta::minutes(1)));
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::BadWindow { .. })
        ));

        let mut req = small_request(20);
        req.points[1].place.key = "point:10".to_string();
        assert!(matches!(
            plan_round(&req),
            Err(RoutingError::ConflictingPlace { .. })
        ));

        let req = random_request(1, EXACT_MAX_SHIPMENTS + 1);
        assert!(matches!(
            plan_round_exact(&req),
            Err(RoutingError::TooLargeForExact { .. })
        ));
    }

    #[test]
    fn shipments_at_the_same_farm_make_one_stop() {
        let req = small_request(20);
        let plan = plan_round(&req).unwrap();
        let at_farm_1: Vec<_> = plan
            .stops
            .iter()
            .filter(|s| s.producer_id == Some(1))
            .collect();
        assert_eq!(at_farm_1.len(), 1);
        assert_eq!(at_farm_1[0].picked_up.len(), 2);
        // One service time for the stop, not one per shipment.
        let stay = at_farm_1[0].departure - at_farm_1[0].arrival;
        assert_eq!(stay, TimeDelta::minutes(10));
        let point_10 = plan.stops.iter().find(|s| s.slot_id == Some(10)).unwrap();
        assert_eq!(point_10.dropped.len(), 3);
    }

    #[test]
    fn the_solver_is_within_a_few_percent_of_the_optimum_on_small_rounds() {
        let mut worst: f64 = 0.0;
        for seed in 0..6 {
            let req = random_request(seed, 4 + (seed as usize % 4));
            let exact = plan_round_exact(&req).unwrap();
            check_plan(&req, &exact).unwrap();
            let plan = plan_round(&req).unwrap();
            check_plan(&req, &plan).unwrap();
            assert_eq!(plan.unassigned.len(), exact.unassigned.len(), "seed {seed}");
            assert!(
                plan.total_km + 0.1 >= exact.total_km,
                "seed {seed}: the optimum is not optimal"
            );
            let gap = (plan.total_km - exact.total_km) / exact.total_km.max(1.0);
            worst = worst.max(gap);
        }
        assert!(worst <= 0.03, "worst gap {:.1} %", worst * 100.0);
    }

    #[test]
    fn the_exact_planner_respects_capacity_and_windows_too() {
        let mut req = random_request(11, 6);
        req.capacity_crates = 6;
        let opens = departure() + TimeDelta::minutes(30);
        req.points[0].window = Some((opens, opens + TimeDelta::hours(3)));
        let exact = plan_round_exact(&req).unwrap();
        check_plan(&req, &exact).unwrap();
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.total_km + 0.1 >= exact.total_km);
        assert!(
            plan.total_km <= exact.total_km * 1.05 + 0.1,
            "{} vs {}",
            plan.total_km,
            exact.total_km
        );
    }

    #[test]
    fn check_plan_catches_tampered_plans() {
        let req = small_request(20);
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();

        let mut lost = plan.clone();
        let i = lost
            .stops
            .iter()
            .position(|s| s.kind == StopKind::Deliver)
            .unwrap();
        lost.stops[i].dropped.pop();
        assert!(check_plan(&req, &lost).is_err());

        let mut km = plan.clone();
        km.total_km += 1.0;
        assert!(check_plan(&req, &km).unwrap_err().contains("km"));

        let mut load = plan.clone();
        load.stops[1].load_crates += 1;
        assert!(check_plan(&req, &load).is_err());

        let mut small = req.clone();
        small.capacity_crates = 3;
        assert!(check_plan(&small, &plan).unwrap_err().contains("capacity"));
    }

    /// `farms` farms within about 60 km, one crate each to a pickup point at the depot.
    fn star_request(seed: u64, farms: i64) -> RoundRequest {
        let mut rng = Seeded(seed);
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 1000);
        for id in 1..=farms {
            req.farms.push(farm(
                id,
                46.65 + (rng.unit() - 0.5) * 1.0,
                -0.25 + (rng.unit() - 0.5) * 1.4,
            ));
        }
        req.points = vec![point(10, 46.65, -0.25)];
        req.shipments = (1..=farms).map(|id| shipment(id, 10, 1)).collect();
        req
    }

    /// The optimal round of a star request, by Held–Karp dynamic programming: its kilometres.
    fn held_karp(req: &RoundRequest) -> f64 {
        let places: Vec<&Place> = std::iter::once(&req.start)
            .chain(req.farms.iter().map(|f| &f.place))
            .collect();
        let n = places.len() - 1;
        let d = |a: usize, b: usize| road_km(places[a], places[b], req.detour_factor);
        let full = 1_usize << n;
        let mut best = vec![f64::INFINITY; full * n];
        for j in 0..n {
            best[(1 << j) * n + j] = d(0, j + 1);
        }
        for set in 1..full {
            for j in (0..n).filter(|j| set & (1 << j) != 0) {
                let here = best[set * n + j];
                for k in (0..n).filter(|k| set & (1 << k) == 0) {
                    let next = (set | (1 << k)) * n + k;
                    best[next] = best[next].min(here + d(j + 1, k + 1));
                }
            }
        }
        (0..n)
            .map(|j| best[(full - 1) * n + j] + d(j + 1, 0))
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn the_planner_finds_the_optimal_tour_of_small_rounds() {
        for seed in 0..2 {
            let req = star_request(40 + seed, 9);
            let optimum = held_karp(&req);
            let plan = plan_round(&req).unwrap();
            check_plan(&req, &plan).unwrap();
            assert!(
                (plan.total_km - optimum).abs() <= 0.1,
                "seed {seed}: {} km, optimum {optimum:.1} km",
                plan.total_km
            );
        }
    }

    #[test]
    fn a_round_never_passes_through_a_place_it_has_nothing_to_do_at() {
        // Forty farms, their crates to a point at the depot, a roomy vehicle: every farm once,
        // then the point once, never the depot's place on the way.
        let req = star_request(7, 40);
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(plan.stops.len(), 40 + 1 + 2, "{:?}", kinds(&plan));
        let inner = &plan.stops[1..plan.stops.len() - 1];
        assert!(
            inner
                .iter()
                .all(|s| !s.picked_up.is_empty() || !s.dropped.is_empty())
        );
        let mut farms: Vec<i64> = inner.iter().filter_map(|s| s.producer_id).collect();
        farms.sort_unstable();
        assert_eq!(farms, (1..=40).collect::<Vec<_>>());
        assert_eq!(inner.last().unwrap().kind, StopKind::Deliver);
        assert_eq!(inner.last().unwrap().dropped.len(), 40);
        // No stop at the depot's place but the last delivery.
        let at_depot = inner
            .iter()
            .filter(|s| road_km(&s.place, &req.start, 1.0) < 0.01)
            .count();
        assert_eq!(at_depot, 1);
        // And not longer than a tour two-opt cannot improve: no crossing legs.
        let legs: Vec<(&Place, &Place)> = plan
            .stops
            .windows(2)
            .map(|w| (&w[0].place, &w[1].place))
            .collect();
        for (i, a) in legs.iter().enumerate() {
            for b in legs.iter().skip(i + 2) {
                let now = road_km(a.0, a.1, 1.0) + road_km(b.0, b.1, 1.0);
                let swapped = road_km(a.0, b.0, 1.0) + road_km(a.1, b.1, 1.0);
                assert!(swapped >= now - 1e-6, "a two-opt move shortens the round");
            }
        }
    }

    #[test]
    fn listing_the_stops_in_another_order_gives_the_same_round() {
        // A mid-size round with several points and a vehicle that has to go back and forth.
        let mut req = random_request(21, 0);
        req.farms = (1..=30)
            .map(|id| farm(id, 46.3 + (id % 7) as f64 * 0.1, -0.8 + (id as f64) * 0.04))
            .collect();
        let mut rng = Seeded(5);
        req.shipments = (0..40)
            .map(|i| {
                let producer = if i < 30 {
                    i + 1
                } else {
                    1 + rng.below(30) as i64
                };
                let slot = 101 + rng.below(req.points.len() as u64) as i64;
                shipment(producer, slot, 1 + rng.below(4) as u32)
            })
            .collect();
        req.capacity_crates = 25;
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.unassigned.is_empty());
        let mut shuffled = req.clone();
        shuffled.shipments.reverse();
        shuffled.farms.reverse();
        shuffled.points.reverse();
        for i in 0..shuffled.shipments.len() {
            let j = rng.below(shuffled.shipments.len() as u64) as usize;
            shuffled.shipments.swap(i, j);
        }
        let other = plan_round(&shuffled).unwrap();
        check_plan(&shuffled, &other).unwrap();
        let change = (other.total_km - plan.total_km).abs() / plan.total_km;
        assert!(
            change < 0.01,
            "{} km vs {} km",
            plan.total_km,
            other.total_km
        );
        // Same request, same plan.
        assert_eq!(plan_round(&req).unwrap(), plan);
    }

    #[test]
    fn a_large_round_keeps_capacity_and_windows() {
        let mut req = star_request(9, 36);
        req.points.push(point(20, 46.9, -0.1));
        for s in req.shipments.iter_mut().skip(18) {
            s.slot_id = 20;
            s.crates = 3;
        }
        req.capacity_crates = 20;
        req.capacity_kg = Some(Decimal::new(200, 0));
        let opens = departure() + TimeDelta::hours(1);
        // The round takes some 37 hours (1,300 km): the point closes at 40.
        req.points[1].window = Some((opens, opens + TimeDelta::hours(39)));
        req.farms[0].window = Some((departure(), departure() + TimeDelta::minutes(90)));
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert!(plan.unassigned.is_empty(), "{:?}", plan.unassigned);
        assert!(plan.stops.iter().all(|s| s.load_crates <= 20));
        // A shipment no vehicle can carry is still left out with its reason.
        req.shipments[3].crates = 21;
        let plan = plan_round(&req).unwrap();
        check_plan(&req, &plan).unwrap();
        assert_eq!(plan.unassigned.len(), 1);
        assert_eq!(plan.unassigned[0].producer_id, req.shipments[3].producer_id);
    }
}
