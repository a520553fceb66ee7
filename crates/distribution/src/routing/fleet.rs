//! Several vehicles in one round: [`plan_fleet`] shares the shipments among a market's vehicles
//! and orders each vehicle's stops; [`plan_fleet_exact`] does it optimally for small rounds;
//! [`check_fleet_plan`] verifies any fleet plan.
//!
//! # The model
//!
//! The vehicles share the round's start, end, departure and settings
//! ([`RoundRequest::speed_kmh`], service times…); each has its own capacity in crates and in kg
//! (the request's own capacity is not used). Each shipment travels in one vehicle, from its farm
//! to its point. The objective: as many shipments carried as possible, then the fewest kilometres
//! for all the vehicles together. A vehicle with nothing to carry stays at its start (its round
//! is the start and the end, the kilometres between them). Each vehicle's round is an ordinary
//! [`RoundPlan`], checked by [`check_plan`](super::check_plan) against its own capacity and the
//! shipments it carries.
//!
//! # The search
//!
//! One vehicle: [`plan_round`](super::plan_round) with that vehicle's capacity. Several: the
//! shipments in their canonical order (so that the listing order does not matter), each inserted
//! where it costs the fewest kilometres over all the vehicles' rounds (windows closing first, the
//! farthest first); then SISR (Christiaens & Vanden Berghe 2020, "Slack Induction by String
//! Removals"): strings of consecutive activities (or split strings, a run kept in their middle)
//! taken out of the trips nearest a seed shipment (a trip: the stretch of a vehicle's round between
//! two moments it is empty), every shipment of a string taken out whole, pickup and delivery;
//! or, three times in ten, a seed shipment and the carried shipments whose farm and point are
//! nearest its own, in any vehicle (a round of 2 to 4 vehicles is often one long trip, from
//! which SISR takes a single string); then put back one by one at their cheapest feasible
//! places over all the vehicles, each feasible place passed over with probability 0.01
//! (blinks), in a random, largest-first,
//! farthest-first or nearest-first order. The result is accepted by simulated annealing on the
//! kilometres (the temperature falling from 1.2 to 0.005 mean legs), except between plans leaving
//! different shipments out: carrying more wins, else the plan whose left-out shipments were left
//! out least often so far (the paper's absences). A new best plan's changed rounds are polished by
//! the local search of the `polish` submodule; one iteration in ten first exchanges runs of whole
//! trips between two vehicles. Four times during the search and at its end, shipments still left
//! out are fought for: inserted again, swapped in by ejecting one or two carried shipments near
//! them, and made room for by exchanging runs of trips between each pair of vehicles (with
//! vehicles of several sizes, the trips that need the larger one may have fallen to the smaller).
//! Each round is finally polished by the iterated local search. The round is searched from
//! several seeds, the best plan kept: 8 times when it is small, else as many times as a total
//! budget holds (15 searches at 50 shipments, 8 at 90, 7 at 110, 2 at 200). The searches run
//! on two threads (the plan does not depend on how many), each lowering its own priority so
//! that the server's async workers, which take the orders, win the CPU. When the best plan
//! still leaves shipments out, a last phase looks for a plan carrying more: ruins and
//! reinsertions that never leave more out, the left-out shipments put back first, accepted on
//! the rounds' time rather than their kilometres (the windows are what left them out, and every
//! stop costs its service time); a plan carrying more is then searched again for kilometres. The
//! generators are
//! seeded with constants and the budget is a number of iterations set by the round's size: the
//! same request gives the same plan on every run. The code is in the `search` submodule.

mod search;

use rust_decimal::Decimal;
use search::{Progress, Search, related_jobs};
use serde::{Deserialize, Serialize};

use super::network::{Activity, LeftOut, Network, capacity_of};
use super::{
    EXACT_MAX_SHIPMENTS, RoundPlan, RoundRequest, RoutingError, Unassigned, canonical, check,
    exact, in_request_order, plan_round,
};

/// The most vehicles a round may have.
pub const MAX_VEHICLES: usize = 20;

/// Iterations of one search at least, whatever the round's size.
const ITERATIONS_MIN: usize = 1_000;
/// Rounds of at most this many shipments are searched [`RESTARTS`] times, from other seeds.
const SMALL_ROUND: usize = 16;
const RESTARTS: u64 = 8;
/// Larger rounds are searched as many times as [`FleetSearch::total_iterations`] holds, from
/// other seeds, at most this many: one search's result owes more to its seed than to its length
/// (one search 30 times as long is no better than the best of three; BENCHMARKS.md, 7 December,
/// third pass).
const MAX_SEARCHES: usize = 16;
/// Larger rounds race their searches: each search is stopped at 1/8, 1/4 and 1/2 of its
/// iterations, and only the better half (by its best plan so far: the most shipments carried,
/// then the fewest kilometres) goes on. A whole search costs as much as 16/5 raced ones (all to
/// 1/8, half to 1/4, a quarter to 1/2, an eighth to the end), so a round gets 16/5 times the
/// searches [`FleetSearch::total_iterations`] holds: a search's seed decides its basin early,
/// and the searches in poor ones stop before they have cost much (BENCHMARKS.md, 7 December,
/// eighth pass).
const RUNGS: u32 = 4;
/// Searches are raced when the budget holds at least this many whole ones (up to some 160
/// shipments): with fewer (2 at 200 shipments), the last rung would run one search on one
/// thread, and it left 3 more shipments out at 200 than two whole searches side by side.
const RACE_FROM: u64 = 4;
/// Rounds of up to this many shipments get all of [`FleetSearch::total_iterations`].
const FULL_BUDGET: usize = 100;
/// When the best of the searches leaves shipments out, at most this many times
/// `Search::carry` spends two thirds ([`CARRY_SHARE`]) of a search's iterations looking for a
/// plan carrying more, and a search of a third ([`AFTER_CARRY_SHARE`]) of the iterations shortens
/// the plan it finds (BENCHMARKS.md, 7 December, fourth pass).
const CARRY_ROUNDS: usize = 3;
const CARRY_SHARE: (usize, usize) = (2, 3);
const AFTER_CARRY_SHARE: usize = 3;
/// Not above this many shipments: at 200, 4 vehicles, it carried 4 more of the 32 left out but
/// took the plan from 10 to 15 s of CPU (the aim is under 10 s).
const CARRY_MAX_SHIPMENTS: usize = 150;
/// Added to the planner's seed for the searches after the fleet minimisation.
const CARRY_SEED: u64 = 0xca77;
/// The searches of a round run on at most this many threads at once (the machine's cores if
/// fewer): the plan is the same however many (BENCHMARKS.md, 7 December, sixth pass).
const THREADS: usize = 2;
/// The nice value of the search threads (0 is the default, 19 the lowest priority).
const PLAN_NICE: i32 = 10;
/// Rounding noise is not a gain.
const EPSILON: f64 = 1e-7;
/// Why a shipment no vehicle could fit in is left out.
const LEFT_OUT: &str = "it cannot be fitted into any vehicle's round along with the other shipments (time windows or room)";

/// One of the market's vehicles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    /// The name the coordinator knows it by ("Kangoo", "Camion frigo").
    pub name: String,
    /// How many crates it holds.
    pub capacity_crates: u32,
    /// How many kilograms it may carry; `None`: no weight limit.
    pub capacity_kg: Option<Decimal>,
}

/// How much the fleet search does. [`plan_fleet`] uses [`FleetSearch::default`]; benchmarks
/// compare it with longer searches from other seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetSearch {
    /// Iterations of one search (SISR) per shipment (at least 1,000 in all)…
    pub iterations_per_shipment: usize,
    /// …and at most.
    pub max_iterations: usize,
    /// Iterations of all the searches of a round of 17 to 100 shipments together (above, less
    /// with the square of the size): as many searches from other seeds as this holds (at least
    /// one, at most 16), each run whole, or 16/5 times as many raced (see [`RUNGS`]); the best
    /// plan kept.
    pub total_iterations: usize,
    /// The seed of the (first) search's generator.
    pub seed: u64,
}

impl FleetSearch {
    /// Iterations of one search of a round of `shipments` shipments.
    pub fn iterations(&self, shipments: usize) -> usize {
        (shipments * self.iterations_per_shipment)
            .max(ITERATIONS_MIN)
            .min(self.max_iterations.max(ITERATIONS_MIN))
    }

    /// How many searches a round of `shipments` shipments gets: as many as
    /// [`Self::total_iterations`] holds, which shrinks with the square of the size above
    /// [`FULL_BUDGET`] shipments (an iteration costs more in longer rounds: a search of 9,000
    /// iterations takes some 1.1 s of CPU at 90 to 110 shipments, 5 s at 200): 110 shipments get
    /// 83 % of it (7 searches), 200 a quarter (2 searches, on two threads: the wall time of one).
    fn searches(&self, shipments: usize) -> u64 {
        if shipments <= SMALL_ROUND {
            RESTARTS
        } else {
            let under = FULL_BUDGET.min(shipments);
            let total = self.total_iterations * under / shipments * under / shipments;
            total
                .div_ceil(self.iterations(shipments))
                .clamp(1, MAX_SEARCHES) as u64
        }
    }
}

impl Default for FleetSearch {
    /// The planner's: 100 iterations per shipment, at most 9,000, for each of the searches of
    /// 72,000 iterations in all (15 whole searches at 50 shipments, 8 at 90, 7 at 110: raced,
    /// 48, 26 and 22), on two threads: 2.3 s of CPU at 56 stops, 4.6 s at 98 and 4.4 s at 124
    /// with 2 to 4 vehicles, 1.2, 2.4 and 2.4 s of wall time on two free cores (BENCHMARKS.md,
    /// 7 December, eighth pass).
    fn default() -> Self {
        Self {
            iterations_per_shipment: 100,
            max_iterations: 9_000,
            total_iterations: 72_000,
            seed: 0x4841_4c4c_4546,
        }
    }
}

/// One vehicle's round in a fleet plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VehicleRound {
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Its stops; its `unassigned` is always empty (see [`FleetPlan::unassigned`]).
    pub plan: RoundPlan,
}

/// A planned round with several vehicles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetPlan {
    /// One round per vehicle, in the request's order of the vehicles.
    pub rounds: Vec<VehicleRound>,
    /// Kilometres of all the rounds, rounded to 0.1 km.
    pub total_km: f64,
    /// Shipments no vehicle carries, in the request's order.
    pub unassigned: Vec<Unassigned>,
}

/// The request as a round of the largest vehicle (so that a shipment is left out as too large
/// only when no vehicle can take it), with a weight dimension when some vehicle has a limit.
fn fleet_request(req: &RoundRequest, vehicles: &[Vehicle]) -> Result<RoundRequest, RoutingError> {
    if vehicles.is_empty() || vehicles.len() > MAX_VEHICLES {
        return Err(RoutingError::BadSetting {
            what: "vehicles".to_string(),
            detail: format!("{} vehicles, expected 1 to {MAX_VEHICLES}", vehicles.len()),
        });
    }
    if let Some(v) = vehicles
        .iter()
        .find(|v| v.capacity_kg.is_some_and(|kg| kg.is_sign_negative()))
    {
        return Err(RoutingError::BadSetting {
            what: format!("capacity of vehicle \"{}\"", v.name),
            detail: format!("{} kg", v.capacity_kg.unwrap_or_default()),
        });
    }
    let mut base = req.clone();
    base.capacity_crates = vehicles
        .iter()
        .map(|v| v.capacity_crates)
        .max()
        .unwrap_or(0);
    base.capacity_kg = if vehicles.iter().all(|v| v.capacity_kg.is_none()) {
        None
    } else if vehicles.iter().any(|v| v.capacity_kg.is_none()) {
        // Weighed for the others; this one takes anything (2,000 t is beyond any shipment's
        // grams in 32 bits).
        Some(Decimal::from(2_000_000))
    } else {
        vehicles.iter().filter_map(|v| v.capacity_kg).max()
    };
    Ok(base)
}

/// The request as one vehicle's round: its capacity.
fn vehicle_request(req: &RoundRequest, vehicle: &Vehicle) -> RoundRequest {
    let mut one = req.clone();
    one.capacity_crates = vehicle.capacity_crates;
    one.capacity_kg = vehicle.capacity_kg;
    one
}

/// Builds the fleet plan from each vehicle's order of activities (on the canonical request).
fn fleet_plan(
    req: &RoundRequest,
    canonical: &RoundRequest,
    net: &Network,
    vehicles: &[Vehicle],
    orders: &[Vec<Activity>],
    left: Vec<LeftOut>,
) -> FleetPlan {
    let rounds: Vec<VehicleRound> = vehicles
        .iter()
        .zip(orders)
        .map(|(vehicle, order)| {
            let mut plan = net.plan(&vehicle_request(canonical, vehicle), order, Vec::new());
            plan.unassigned.clear();
            VehicleRound {
                vehicle: vehicle.clone(),
                plan,
            }
        })
        .collect();
    let mut unassigned: Vec<LeftOut> = net.left_out.iter().cloned().chain(left).collect();
    unassigned.sort_by_key(|(i, _)| *i);
    let mut unassigned: Vec<Unassigned> = unassigned
        .into_iter()
        .map(|(i, reason)| Unassigned {
            producer_id: canonical.shipments[i].producer_id,
            slot_id: canonical.shipments[i].slot_id,
            reason,
        })
        .collect();
    in_request_order(req, &mut unassigned);
    let km: f64 = orders.iter().map(|o| super::order_km(net, o)).sum();
    FleetPlan {
        rounds,
        total_km: super::network::round_km(km),
        unassigned,
    }
}

/// Plans a round with several vehicles: which vehicle carries which shipment, and the order of
/// each vehicle's stops. Deterministic: a seeded search with a fixed budget.
///
/// Errors when the request is inconsistent (as [`plan_round`]) or when there are no vehicles or
/// more than [`MAX_VEHICLES`]; shipments no vehicle can carry are listed in
/// [`FleetPlan::unassigned`].
pub fn plan_fleet(req: &RoundRequest, vehicles: &[Vehicle]) -> Result<FleetPlan, RoutingError> {
    plan_fleet_with(req, vehicles, FleetSearch::default())
}

/// [`plan_fleet`] with another budget or seed for the search of several vehicles (one vehicle is
/// always planned by [`plan_round`]).
pub fn plan_fleet_with(
    req: &RoundRequest,
    vehicles: &[Vehicle],
    search: FleetSearch,
) -> Result<FleetPlan, RoutingError> {
    let base = fleet_request(req, vehicles)?;
    if let [vehicle] = vehicles {
        let mut plan = plan_round(&vehicle_request(&base, vehicle))?;
        let unassigned = std::mem::take(&mut plan.unassigned);
        return Ok(FleetPlan {
            total_km: plan.total_km,
            rounds: vec![VehicleRound {
                vehicle: vehicle.clone(),
                plan,
            }],
            unassigned,
        });
    }
    let canonical = canonical(&base);
    let net = Network::build(&canonical)?;
    let nets: Vec<Network> = vehicles
        .iter()
        .map(|v| net.with_capacity(capacity_of(v.capacity_crates, v.capacity_kg, net.weighed())))
        .collect();
    // The search, on threads of low priority: the server's async workers come first.
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (orders, left) =
        at_low_priority(|| search_fleet(&net, &nets, search, threads.min(THREADS)));
    let left = left
        .into_iter()
        .map(|job| (net.jobs[job].shipment, LEFT_OUT.to_string()))
        .collect();
    Ok(fleet_plan(req, &canonical, &net, vehicles, &orders, left))
}

/// A search's plan: each vehicle's order, the jobs left out, the kilometres.
type Found = (Vec<Vec<Activity>>, Vec<usize>, f64);

/// The fleet search on `threads` threads: the best of several searches from other seeds (raced
/// when the round is large), then, when it leaves shipments out, the fight for them. Each
/// vehicle's order and the jobs left out.
fn search_fleet(
    net: &Network,
    nets: &[Network],
    search: FleetSearch,
    threads: usize,
) -> (Vec<Vec<Activity>>, Vec<usize>) {
    // Several searches from other seeds, the best kept.
    let related = related_jobs(net);
    let searches = search.searches(net.jobs.len());
    let (mut orders, mut left, mut km) = if net.jobs.len() <= SMALL_ROUND || searches < RACE_FROM {
        race(net, nets, &related, search, (searches, 1), threads)
    } else {
        // As many raced searches as cost `searches` whole ones (rounded).
        let shares = u64::from(RUNGS + 1);
        let racers = (searches * (1 << RUNGS) + shares / 2) / shares;
        race(net, nets, &related, search, (racers, RUNGS), threads)
    };
    // Carrying a shipment matters more than kilometres: when the best plan leaves some out, they
    // are fought for once more (`Search::carry`, on the rounds' time), and a plan carrying more
    // is searched again for kilometres (from there: it never carries less).
    let jobs = net.jobs.len();
    for round in 0..CARRY_ROUNDS {
        if left.is_empty() || jobs > CARRY_MAX_SHIPMENTS {
            break;
        }
        let seed = search.seed.wrapping_add(CARRY_SEED + round as u64);
        let tries = search.iterations(jobs) * CARRY_SHARE.0 / CARRY_SHARE.1;
        let Some(start) = Search::new(net, nets, &related, FleetSearch { seed, ..search }).carry(
            orders.clone(),
            left.clone(),
            tries,
        ) else {
            break;
        };
        let again = FleetSearch {
            iterations_per_shipment: search.iterations_per_shipment / AFTER_CARRY_SHARE,
            max_iterations: search.max_iterations / AFTER_CARRY_SHARE,
            seed,
            ..search
        };
        let (o, l) = Search::new(net, nets, &related, again).run(Some(start));
        let k: f64 = o.iter().map(|o| super::order_km(net, o)).sum();
        if beats((l.len(), k), (left.len(), km)) {
            (orders, left, km) = (o, l, k);
        }
    }
    (orders, left)
}

/// The best of `racers` searches from the seeds `search.seed`, `search.seed + 1`…, raced over
/// `rungs` rungs (1: each search run whole; see [`RUNGS`]): each vehicle's order, the jobs left
/// out, the kilometres. The searches are shared among `threads` threads (see [`on_threads`]);
/// the searches kept at each rung and the best plan are chosen in the order of the seeds, the
/// first of equal plans kept: the same plan whatever the number of threads and whichever ends
/// first.
fn race(
    net: &Network,
    nets: &[Network],
    related: &[Vec<usize>],
    search: FleetSearch,
    (racers, rungs): (u64, u32),
    threads: usize,
) -> Found {
    let length = search.iterations(net.jobs.len());
    // Where the searches are stopped: 1/2^(rungs - 1) of the length, then twice that, … the end.
    let stops: Vec<usize> = (0..rungs).rev().map(|i| length >> i).collect();
    let searcher = |k: u64| {
        let budget = FleetSearch {
            seed: search.seed.wrapping_add(k),
            ..search
        };
        Search::new(net, nets, related, budget)
    };
    let first = stops.first().copied().unwrap_or(length);
    let mut alive: Vec<(u64, Progress)> =
        on_threads((0..racers.max(1)).collect(), threads, &|k: u64| {
            let mut one = searcher(k);
            let mut progress = one.start(None, length);
            one.advance(&mut progress, first);
            (k, progress)
        });
    for &until in stops.iter().skip(1) {
        better_half(&mut alive, Search::standing);
        alive = on_threads(alive, threads, &|(k, mut progress): (u64, Progress)| {
            searcher(k).advance(&mut progress, until);
            (k, progress)
        });
    }
    let found: Vec<Found> = on_threads(alive, threads, &|(k, progress): (u64, Progress)| {
        let (orders, left) = searcher(k).finish(progress);
        let km: f64 = orders.iter().map(|o| super::order_km(net, o)).sum();
        (orders, left, km)
    });
    let mut best: Option<Found> = None;
    for (orders, left, km) in found {
        if best
            .as_ref()
            .is_none_or(|(_, l, k)| beats((left.len(), km), (l.len(), *k)))
        {
            best = Some((orders, left, km));
        }
    }
    best.unwrap_or_default()
}

/// Whether a plan leaving `left` jobs out in `km` kilometres beats one leaving `than_left` out in
/// `than_km`: it carries more, or as many in fewer kilometres (rounding noise is not a gain).
fn beats((left, km): (usize, f64), (than_left, than_km): (usize, f64)) -> bool {
    left < than_left || (left == than_left && km < than_km - EPSILON)
}

/// Keeps the better half of the searches (rounded up), by `standing`: the fewest jobs left out,
/// then the fewest kilometres, then the first seed; the kept ones in the order of their seeds.
fn better_half<T>(alive: &mut Vec<(u64, T)>, standing: impl Fn(&T) -> (usize, f64)) {
    alive.sort_by(|(k, a), (l, b)| {
        let (x, y) = (standing(a), standing(b));
        x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)).then(k.cmp(l))
    });
    alive.truncate(alive.len().div_ceil(2));
    alive.sort_by_key(|(k, _)| *k);
}

/// `work` on each of `items`, shared among `threads` threads (item `i` on thread
/// `i % threads`, the first the calling one, each of the others first lowering its own priority
/// ([`lower_priority`])); the results in the items' order.
fn on_threads<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    work: &(dyn Fn(T) -> R + Sync),
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    let mut shares: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % threads].push((i, item));
    }
    let mut shares = shares.into_iter();
    let mine = shares.next().unwrap_or_default();
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = shares
            .map(|share| {
                scope.spawn(move || {
                    lower_priority();
                    share
                        .into_iter()
                        .map(|(i, item)| (i, work(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, R)> = mine.into_iter().map(|(i, item)| (i, work(item))).collect();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `work` on a thread of its own at low priority ([`lower_priority`]): the caller's thread
/// (a blocking thread of the server's runtime, reused for other work) keeps its own.
fn at_low_priority<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            lower_priority();
            work()
        });
        match worker.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Lowers the calling thread's priority to a nice value of [`PLAN_NICE`] (Linux: a thread's
/// nice value is its own), so that the server's async workers win the CPU over a plan's
/// searches (issue 7: orders are taken while rounds are planned). Never raises it; does nothing
/// where it cannot.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let tid = rustix::thread::gettid();
        if getpriority_process(Some(tid)).is_ok_and(|now| now < PLAN_NICE) {
            // Refused (a sandbox): the search runs at the caller's priority.
            let _ = setpriority_process(Some(tid), PLAN_NICE);
        }
    }
}

/// Plans a small round with several vehicles optimally: the most shipments carried, then the
/// fewest kilometres, over every sharing of the shipments and every order of each vehicle's
/// stops. Errors with [`RoutingError::TooLargeForExact`] above [`EXACT_MAX_SHIPMENTS`]
/// shipments; the yardstick of [`plan_fleet`] in tests and benchmarks.
pub fn plan_fleet_exact(
    req: &RoundRequest,
    vehicles: &[Vehicle],
) -> Result<FleetPlan, RoutingError> {
    if req.shipments.len() > EXACT_MAX_SHIPMENTS {
        return Err(RoutingError::TooLargeForExact {
            shipments: req.shipments.len(),
            max: EXACT_MAX_SHIPMENTS,
        });
    }
    let base = fleet_request(req, vehicles)?;
    let net = Network::build(&base)?;
    let capacities: Vec<Vec<i32>> = vehicles
        .iter()
        .map(|v| capacity_of(v.capacity_crates, v.capacity_kg, net.weighed()))
        .collect();
    let (orders, left) = exact::solve_fleet(&net, &capacities);
    let left = left
        .into_iter()
        .map(|job| {
            (
                net.jobs[job].shipment,
                "it cannot be fitted into any vehicle's round along with the other shipments"
                    .to_string(),
            )
        })
        .collect();
    Ok(fleet_plan(req, &base, &net, vehicles, &orders, left))
}

/// Checks a fleet plan against its request and vehicles, with a message on the first problem
/// found: one round per vehicle, each checked by [`check_plan`](super::check_plan) against the
/// vehicle's capacity and the shipments it carries; every shipment carried by exactly one
/// vehicle or listed as unassigned; the total kilometres the sum of the rounds'.
pub fn check_fleet_plan(
    req: &RoundRequest,
    vehicles: &[Vehicle],
    plan: &FleetPlan,
) -> Result<(), String> {
    if plan.rounds.len() != vehicles.len() {
        return Err(format!(
            "{} rounds for {} vehicles",
            plan.rounds.len(),
            vehicles.len()
        ));
    }
    // Which vehicle carries each shipment (usize::MAX: unassigned).
    let mut carried: Vec<Option<usize>> = vec![None; req.shipments.len()];
    for (v, (round, vehicle)) in plan.rounds.iter().zip(vehicles).enumerate() {
        if round.vehicle != *vehicle {
            return Err(format!("round {v} is not vehicle \"{}\"'s", vehicle.name));
        }
        if !round.plan.unassigned.is_empty() {
            return Err(format!(
                "the round of vehicle \"{}\" lists shipments of its own as unassigned",
                vehicle.name
            ));
        }
        let mut mine = vehicle_request(req, vehicle);
        mine.shipments.clear();
        for cargo in round.plan.stops.iter().flat_map(|s| &s.picked_up) {
            let i = (0..req.shipments.len())
                .find(|&i| {
                    let s = &req.shipments[i];
                    carried[i].is_none()
                        && s.producer_id == cargo.producer_id
                        && s.slot_id == cargo.slot_id
                        && s.crates == cargo.crates
                        && s.kg == cargo.kg
                })
                .ok_or_else(|| {
                    format!(
                        "vehicle \"{}\" collects the crates from producer {} to slot {}, which are unknown or carried twice",
                        vehicle.name, cargo.producer_id, cargo.slot_id
                    )
                })?;
            carried[i] = Some(v);
            mine.shipments.push(req.shipments[i].clone());
        }
        check::check(&mine, &round.plan)
            .map_err(|e| format!("the round of vehicle \"{}\": {e}", vehicle.name))?;
    }
    for left in &plan.unassigned {
        let i = (0..req.shipments.len())
            .find(|&i| {
                let s = &req.shipments[i];
                carried[i].is_none()
                    && s.producer_id == left.producer_id
                    && s.slot_id == left.slot_id
            })
            .ok_or_else(|| {
                format!(
                    "the shipment from producer {} to slot {} is listed as unassigned but carried or unknown",
                    left.producer_id, left.slot_id
                )
            })?;
        carried[i] = Some(usize::MAX);
    }
    if let Some(i) = carried.iter().position(Option::is_none) {
        let s = &req.shipments[i];
        return Err(format!(
            "the shipment from producer {} to slot {} is neither carried nor listed as unassigned",
            s.producer_id, s.slot_id
        ));
    }
    let total: f64 = plan.rounds.iter().map(|r| r.plan.total_km).sum();
    let slack = 0.05 * plan.rounds.len() as f64 + 1e-6;
    if (plan.total_km - total).abs() > slack {
        return Err(format!(
            "the plan's total of {} km is not the {total:.1} km of its rounds",
            plan.total_km
        ));
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests stop loudly")]
mod tests {
    use super::*;
    use crate::routing::tests::{Seeded, departure, place};
    use crate::routing::{DropPoint, Farm, Shipment, check_plan, plan_round};
    use chrono::TimeDelta;

    fn vehicle(name: &str, crates: u32, kg: Option<i64>) -> Vehicle {
        Vehicle {
            name: name.to_string(),
            capacity_crates: crates,
            capacity_kg: kg.map(Decimal::from),
        }
    }

    /// `shipments` shipments from farms within some 40 km to 3 points, crates of 1 to 4, the
    /// points' windows closing 2 to 3 hours after the departure: two vehicles of 6 crates
    /// cannot be replaced by one.
    fn binding(seed: u64, shipments: usize) -> RoundRequest {
        let mut rng = Seeded(seed);
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 0);
        let farms = shipments.min(6);
        for id in 1..=farms as i64 {
            req.farms.push(Farm {
                producer_id: id,
                place: place(
                    &format!("farm:{id}"),
                    46.65 + (rng.unit() - 0.5) * 0.7,
                    -0.25 + (rng.unit() - 0.5) * 1.0,
                ),
                window: None,
            });
        }
        for id in 1..=3_i64 {
            let closes = departure() + TimeDelta::minutes(110 + 20 * id);
            req.points.push(DropPoint {
                slot_id: 100 + id,
                place: place(
                    &format!("point:{id}"),
                    46.65 + (rng.unit() - 0.5) * 0.5,
                    -0.25 + (rng.unit() - 0.5) * 0.7,
                ),
                window: Some((departure(), closes)),
            });
        }
        for i in 0..shipments {
            let crates = 1 + rng.below(4) as u32;
            req.shipments.push(Shipment {
                producer_id: 1 + (i % farms) as i64,
                slot_id: 101 + rng.below(3) as i64,
                crates,
                kg: Decimal::from(crates * 12),
            });
        }
        req
    }

    #[test]
    fn two_vehicles_with_binding_constraints_are_near_the_optimum() {
        let fleet = [vehicle("A", 6, Some(60)), vehicle("B", 5, None)];
        let mut worst: f64 = 0.0;
        for seed in 0..5 {
            let req = binding(seed, 6 + (seed as usize % 2));
            let exact = plan_fleet_exact(&req, &fleet).unwrap();
            check_fleet_plan(&req, &fleet, &exact).unwrap();
            let plan = plan_fleet(&req, &fleet).unwrap();
            check_fleet_plan(&req, &fleet, &plan).unwrap();
            assert_eq!(plan.unassigned.len(), exact.unassigned.len(), "seed {seed}");
            assert!(plan.total_km + 0.2 >= exact.total_km, "seed {seed}");
            worst = worst.max((plan.total_km - exact.total_km) / exact.total_km.max(1.0));
        }
        assert!(worst <= 0.03, "worst gap {:.2} %", worst * 100.0);
    }

    #[test]
    fn the_plan_is_the_same_whatever_the_listing_order() {
        let fleet = [
            vehicle("A", 8, None),
            vehicle("B", 8, None),
            vehicle("C", 4, None),
        ];
        let mut rng = Seeded(3);
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot, departure(), 0);
        for id in 1..=30_i64 {
            req.farms.push(Farm {
                producer_id: id,
                place: place(
                    &format!("farm:{id}"),
                    46.65 + (rng.unit() - 0.5) * 0.6,
                    -0.25 + (rng.unit() - 0.5) * 0.8,
                ),
                window: None,
            });
        }
        for id in 1..=4_i64 {
            req.points.push(DropPoint {
                slot_id: id,
                place: place(
                    &format!("point:{id}"),
                    46.65 + (rng.unit() - 0.5) * 0.6,
                    -0.25 + (rng.unit() - 0.5) * 0.8,
                ),
                window: Some((departure(), departure() + TimeDelta::hours(10))),
            });
        }
        req.shipments = (1..=30_i64)
            .map(|id| Shipment {
                producer_id: id,
                slot_id: 1 + rng.below(4) as i64,
                crates: 1 + rng.below(3) as u32,
                kg: Decimal::from(10),
            })
            .collect();
        let plan = plan_fleet(&req, &fleet).unwrap();
        check_fleet_plan(&req, &fleet, &plan).unwrap();
        assert!(plan.unassigned.is_empty(), "{:?}", plan.unassigned);
        // The windows need more than one vehicle.
        let used = plan
            .rounds
            .iter()
            .filter(|r| r.plan.stops.len() > 2)
            .count();
        assert!(used >= 2, "{used} vehicles used");
        assert_eq!(plan_fleet(&req, &fleet).unwrap(), plan);
        let mut shuffled = req.clone();
        shuffled.shipments.reverse();
        shuffled.farms.reverse();
        shuffled.points.rotate_left(1);
        let other = plan_fleet(&shuffled, &fleet).unwrap();
        check_fleet_plan(&shuffled, &fleet, &other).unwrap();
        assert!((other.total_km - plan.total_km).abs() <= 0.01 * plan.total_km);
    }

    /// The network of `binding(seed, 20)`, each vehicle's, and a short search from `from`.
    fn short_search(
        fleet: &[Vehicle],
        seed: u64,
        from: u64,
    ) -> (Network, Vec<Network>, FleetSearch) {
        let req = canonical(&fleet_request(&binding(seed, 20), fleet).unwrap());
        let net = Network::build(&req).unwrap();
        let nets: Vec<Network> = fleet
            .iter()
            .map(|v| {
                net.with_capacity(capacity_of(v.capacity_crates, v.capacity_kg, net.weighed()))
            })
            .collect();
        let search = FleetSearch {
            iterations_per_shipment: 10,
            max_iterations: 200,
            total_iterations: 1_000,
            seed: from,
        };
        (net, nets, search)
    }

    #[test]
    fn the_searches_on_two_threads_give_the_sequential_plan() {
        let fleet = [vehicle("A", 6, Some(60)), vehicle("B", 5, None)];
        for seed in [1, 2] {
            let (net, nets, search) = short_search(&fleet, seed, 7 + seed);
            for (racers, rungs) in [(5, 1), (7, RUNGS)] {
                let related = related_jobs(&net);
                let alone = race(&net, &nets, &related, search, (racers, rungs), 1);
                let two = race(&net, &nets, &related, search, (racers, rungs), 2);
                assert_eq!(two, alone, "seed {seed}");
                assert_eq!(race(&net, &nets, &related, search, (racers, rungs), 2), two);
            }
            assert_eq!(
                search_fleet(&net, &nets, search, 2),
                search_fleet(&net, &nets, search, 1)
            );
        }
    }

    #[test]
    fn a_race_of_one_rung_is_the_best_of_whole_searches() {
        let fleet = [vehicle("A", 6, Some(60)), vehicle("B", 5, None)];
        let (net, nets, search) = short_search(&fleet, 3, 11);
        let related = related_jobs(&net);
        let whole: Vec<Found> = (0..4)
            .map(|k| {
                let budget = FleetSearch {
                    seed: search.seed + k,
                    ..search
                };
                let (orders, left) = Search::new(&net, &nets, &related, budget).run(None);
                let km = orders.iter().map(|o| super::super::order_km(&net, o)).sum();
                (orders, left, km)
            })
            .collect();
        let raced = race(&net, &nets, &related, search, (4, 1), 2);
        // The first of the best: fewest left out, then fewest km.
        let best = whole
            .iter()
            .fold(None::<&Found>, |best, f| match best {
                Some(b) if (b.1.len(), b.2) <= (f.1.len(), f.2 + EPSILON) => Some(b),
                _ => Some(f),
            })
            .unwrap();
        assert_eq!(&raced, best);
        assert!(whole.contains(&raced));
    }

    #[test]
    fn a_rung_keeps_the_better_half_in_the_order_of_the_seeds() {
        // (seed, (left out, km))
        let mut alive = vec![
            (0_u64, (1_usize, 500.0)),
            (1, (0, 600.0)),
            (2, (0, 550.0)),
            (3, (0, 550.0)),
            (4, (2, 100.0)),
        ];
        better_half(&mut alive, |s| *s);
        let kept: Vec<u64> = alive.iter().map(|(k, _)| *k).collect();
        assert_eq!(kept, [1, 2, 3]);
        better_half(&mut alive, |s| *s);
        let kept: Vec<u64> = alive.iter().map(|(k, _)| *k).collect();
        assert_eq!(kept, [2, 3]);
        better_half(&mut alive, |s| *s);
        assert_eq!(alive, [(2, (0, 550.0))]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_search_threads_lower_their_priority_but_not_the_callers() {
        use rustix::process::getpriority_process;
        let mine = || getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let before = mine();
        let theirs = at_low_priority(mine);
        assert!(theirs >= PLAN_NICE.max(before), "{theirs}");
        let fleet = [vehicle("A", 6, None), vehicle("B", 6, None)];
        let plan = plan_fleet(&binding(3, 20), &fleet).unwrap();
        check_fleet_plan(&binding(3, 20), &fleet, &plan).unwrap();
        assert_eq!(mine(), before);
    }

    #[test]
    fn one_vehicle_is_the_single_round_planner() {
        let mut req = binding(4, 7);
        req.capacity_crates = 9;
        let plan = plan_round(&req).unwrap();
        let fleet = [vehicle("Kangoo", 9, None)];
        let one = plan_fleet(&req, &fleet).unwrap();
        check_fleet_plan(&req, &fleet, &one).unwrap();
        assert_eq!(one.rounds[0].plan.stops, plan.stops);
        assert_eq!(one.unassigned, plan.unassigned);
        assert_eq!(one.total_km, plan.total_km);
    }

    #[test]
    fn a_shipment_only_the_larger_vehicle_holds_travels_in_it() {
        let fleet = [vehicle("small", 3, None), vehicle("large", 10, Some(100))];
        let mut req = binding(7, 6);
        for p in &mut req.points {
            p.window = None;
        }
        req.shipments[0].crates = 8;
        req.shipments[1].crates = 11;
        let plan = plan_fleet(&req, &fleet).unwrap();
        check_fleet_plan(&req, &fleet, &plan).unwrap();
        assert_eq!(plan.unassigned.len(), 1);
        assert!(plan.unassigned[0].reason.contains("11 crates"));
        let big = &req.shipments[0];
        let in_large = plan.rounds[1]
            .plan
            .stops
            .iter()
            .flat_map(|s| &s.picked_up)
            .any(|c| c.producer_id == big.producer_id && c.crates == 8);
        assert!(in_large);
        for round in &plan.rounds {
            let mut own = req.clone();
            own.capacity_crates = round.vehicle.capacity_crates;
            own.capacity_kg = round.vehicle.capacity_kg;
            assert!(
                round
                    .plan
                    .stops
                    .iter()
                    .all(|s| s.load_crates <= own.capacity_crates)
            );
        }
        assert!(matches!(
            plan_fleet(&req, &[]),
            Err(RoutingError::BadSetting { .. })
        ));
    }

    #[test]
    fn check_fleet_plan_catches_a_shipment_in_two_vehicles() {
        let fleet = [vehicle("A", 6, None), vehicle("B", 6, None)];
        let req = binding(2, 6);
        let plan = plan_fleet(&req, &fleet).unwrap();
        check_fleet_plan(&req, &fleet, &plan).unwrap();
        let mut twice = plan.clone();
        let (from, to) = if twice.rounds[0].plan.stops.len() > 2 {
            (0, 1)
        } else {
            (1, 0)
        };
        twice.rounds[to] = twice.rounds[from].clone();
        twice.rounds[to].vehicle = fleet[to].clone();
        assert!(check_fleet_plan(&req, &fleet, &twice).is_err());
        let mut km = plan.clone();
        km.total_km += 1.0;
        assert!(
            check_fleet_plan(&req, &fleet, &km)
                .unwrap_err()
                .contains("km")
        );
        // And each round is an ordinary round of its vehicle.
        for (round, v) in plan.rounds.iter().zip(&fleet) {
            let mut own = req.clone();
            own.capacity_crates = v.capacity_crates;
            own.shipments = round
                .plan
                .stops
                .iter()
                .flat_map(|s| &s.picked_up)
                .map(|c| Shipment {
                    producer_id: c.producer_id,
                    slot_id: c.slot_id,
                    crates: c.crates,
                    kg: c.kg,
                })
                .collect();
            check_plan(&own, &round.plan).unwrap();
        }
    }

    #[test]
    fn no_vehicle_passes_through_a_place_it_has_nothing_to_do_at() {
        // Thirty farms of 2 to 4 crates each, all to a point at the depot; three vehicles, the
        // third too small for any shipment, the first two too small to carry everything in one
        // trip.
        let mut rng = Seeded(11);
        let depot = place("depot", 46.65, -0.25);
        let mut req = RoundRequest::new(depot.clone(), depot.clone(), departure(), 0);
        for id in 1..=30_i64 {
            req.farms.push(Farm {
                producer_id: id,
                place: place(
                    &format!("farm:{id}"),
                    46.65 + (rng.unit() - 0.5) * 0.8,
                    -0.25 + (rng.unit() - 0.5) * 1.1,
                ),
                window: None,
            });
        }
        req.points.push(DropPoint {
            slot_id: 7,
            place: place("point:hub", 46.65, -0.25),
            window: None,
        });
        req.shipments = (1..=30_i64)
            .map(|id| Shipment {
                producer_id: id,
                slot_id: 7,
                crates: 2 + rng.below(3) as u32,
                kg: Decimal::from(10),
            })
            .collect();
        let total: u32 = req.shipments.iter().map(|s| s.crates).sum();
        let fleet = [
            vehicle("A", total / 2 + 4, None),
            vehicle("B", total / 2 + 4, None),
            vehicle("C", 1, None),
        ];
        let plan = plan_fleet(&req, &fleet).unwrap();
        // Every inner stop collects or delivers something (check_plan, round by round).
        check_fleet_plan(&req, &fleet, &plan).unwrap();
        assert!(plan.unassigned.is_empty(), "{:?}", plan.unassigned);
        let mut farms: Vec<i64> = Vec::new();
        for round in &plan.rounds {
            let stops = &round.plan.stops;
            // Never the same place twice in a row: no stop split for nothing.
            assert!(
                stops[1..stops.len() - 1]
                    .windows(2)
                    .all(|w| w[0].place.key != w[1].place.key)
            );
            farms.extend(stops.iter().filter_map(|s| s.producer_id));
            // The depot's place only to deliver, and not more often than the vehicle's room
            // requires: as many times as its crates need trips, at most.
            let at_depot = stops[1..stops.len() - 1]
                .iter()
                .filter(|s| s.place.key == "point:hub")
                .count();
            if stops.len() > 2 {
                let carried: u32 = stops
                    .iter()
                    .flat_map(|s| &s.picked_up)
                    .map(|c| c.crates)
                    .sum();
                let trips = carried.div_ceil(round.vehicle.capacity_crates) as usize;
                assert!(
                    (1..=trips).contains(&at_depot),
                    "{}: {at_depot} stops at the hub for {trips} trip(s)",
                    round.vehicle.name
                );
            }
        }
        // Each farm visited once, by one vehicle.
        farms.sort_unstable();
        assert_eq!(farms, (1..=30).collect::<Vec<_>>());
        // The useless vehicle stays at the depot: start and end only, no kilometres.
        assert_eq!(plan.rounds[2].plan.stops.len(), 2);
        assert!(plan.rounds[2].plan.total_km.abs() < 1e-9);
    }
}
