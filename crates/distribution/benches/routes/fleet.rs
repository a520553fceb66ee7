//! Sections (e) to (g) of the routes bench: several vehicles, constraints binding.
//!
//! (e) `fleet-small`: 6 to 8 shipments, 2 or 3 vehicles small in crates (and kg), points closing
//!     2.5 to 3.75 hours after the departure or room only, 48 rounds against `plan_fleet_exact`.
//! (f) `fleet-large`: 50 to 100 stops, 2 to 4 vehicles, binding capacity and windows, against the
//!     best of 3 searches 3 times as long as the default, from other seeds, and against the best
//!     plan known (`routes/fleet-best-known.txt`, found by much longer searches; `-- fleet-best`
//!     runs them). `-- fleet-seeds`: the default from 4 other seeds, against the best known.
//! (g) `planted`: more than 80 shipments with tight windows (±15 minutes at every farm) around a
//!     planted feasible plan, one and two vehicles: how many shipments the planner leaves out,
//!     when a plan carrying them all exists by construction.
//! (h) `planted-binding`: 48 to 84 shipments, 2 to 4 vehicles full by weight or by crates, windows
//!     around a planted plan (an upper bound of the optimum), against the planted plan and the
//!     long runs of (f).
//! (i) `fleet-200`: 200 shipments, 4 and 6 vehicles: time.

use super::*;
use distribution::routing::{
    FleetPlan, FleetSearch, Vehicle, check_fleet_plan, plan_fleet, plan_fleet_exact,
    plan_fleet_with,
};

fn vehicle(name: &str, crates: u32, kg: Option<i64>) -> Vehicle {
    Vehicle {
        name: name.to_string(),
        capacity_crates: crates,
        capacity_kg: kg.map(Decimal::from),
    }
}

fn timed_fleet(
    req: &RoundRequest,
    vehicles: &[Vehicle],
    search: FleetSearch,
) -> (FleetPlan, Duration, Duration) {
    let cpu = cpu_time();
    let started = Instant::now();
    let plan = plan_fleet_with(req, vehicles, search).expect("plan");
    (plan, started.elapsed(), cpu_time().saturating_sub(cpu))
}

fn used(plan: &FleetPlan) -> usize {
    plan.rounds
        .iter()
        .filter(|r| r.plan.stops.len() > 2)
        .count()
}

/// Farms within `r_km` of the depot, `points` points within 20 km closing `closes` minutes (one
/// more quarter per point) after the departure, shipments of 1 to 4 crates, 12 kg each.
fn fleet_round(
    seed: u64,
    farms: usize,
    points: usize,
    shipments: usize,
    r_km: f64,
    closes: i64,
) -> RoundRequest {
    let mut rng = Seeded(seed);
    let depot = centre();
    let mut req = RoundRequest::new(depot.clone(), depot, departure(), 0);
    for id in 1..=farms as i64 {
        req.farms.push(Farm {
            producer_id: id,
            place: around(&mut rng, format!("farm:{id}"), 46.65, -0.25, r_km),
            window: None,
        });
    }
    for id in 1..=points as i64 {
        req.points.push(DropPoint {
            slot_id: 100 + id,
            place: around(&mut rng, format!("point:{id}"), 46.65, -0.25, 20.0),
            window: Some((
                departure(),
                departure() + TimeDelta::minutes(closes + 15 * id),
            )),
        });
    }
    let mut pairs = Vec::new();
    while pairs.len() < shipments {
        let farm = if pairs.len() < farms {
            pairs.len() as i64 + 1
        } else {
            1 + rng.below(farms as u64) as i64
        };
        let pair = (farm, 101 + rng.below(points as u64) as i64);
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    req.shipments = pairs
        .into_iter()
        .map(|(producer_id, slot_id)| {
            let crates = 1 + rng.below(4) as u32;
            Shipment {
                producer_id,
                slot_id,
                crates,
                kg: Decimal::from(crates * 12),
            }
        })
        .collect();
    req
}

/// A vehicle's size: crates, and kg when it has a weight limit.
type Size = (u32, Option<i64>);

pub(super) fn fleet_small() {
    println!(
        "(e) 2-3 vehicles, 6-8 shipments, binding capacity and windows, against plan_fleet_exact"
    );
    // (setting, points close this many minutes after the departure (one more quarter per
    // point), vehicles: crates and kg).
    let settings: [(&str, i64, &[Size]); 3] = [
        (
            "2 vehicles, windows 2.5-3.25 h",
            150,
            &[(6, None), (7, Some(60)), (4, Some(40))],
        ),
        (
            "2 vehicles, room only (10 h)",
            600,
            &[(5, None), (6, Some(50)), (4, Some(40))],
        ),
        (
            "3 vehicles, windows 3-3.75 h",
            180,
            &[(5, None), (4, Some(40)), (3, None)],
        ),
    ];
    let mut by_size: Vec<Band> = (6..=8)
        .map(|n| Band::new(&format!("{n} shipments, all settings")))
        .collect();
    let (mut fewer, mut one_short, mut all_carried) = (0, 0, 0);
    let mut count = 0;
    for (name, closes, sizes) in settings {
        let mut band = Band::new(name);
        let three = name.starts_with('3');
        for seed in 0..16_u64 {
            let shipments = 6 + (seed % 3) as usize;
            let req = fleet_round(300 + seed, 5, 3, shipments, 30.0, closes);
            let fleet: Vec<Vehicle> = if three {
                sizes
                    .iter()
                    .enumerate()
                    .map(|(v, (c, kg))| vehicle(&format!("V{v}"), *c, *kg))
                    .collect()
            } else if seed % 2 == 0 {
                vec![
                    vehicle("A", sizes[0].0, None),
                    vehicle("B", sizes[0].0, None),
                ]
            } else {
                vec![
                    vehicle("A", sizes[1].0, sizes[1].1),
                    vehicle("B", sizes[2].0, sizes[2].1),
                ]
            };
            let exact = plan_fleet_exact(&req, &fleet).expect("exact");
            check_fleet_plan(&req, &fleet, &exact).expect("a valid optimum");
            let (plan, _, took) = timed_fleet(&req, &fleet, FleetSearch::default());
            check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
            // Binding: the largest vehicle alone carries fewer shipments than the fleet.
            let largest = fleet
                .iter()
                .max_by_key(|v| v.capacity_crates)
                .expect("vehicles");
            let mut alone = req.clone();
            alone.capacity_crates = largest.capacity_crates;
            alone.capacity_kg = largest.capacity_kg;
            let single = plan_round_exact(&alone).expect("exact single");
            if single.unassigned.len() > exact.unassigned.len() {
                one_short += 1;
            }
            if plan.unassigned.len() > exact.unassigned.len() {
                fewer += 1;
            }
            if exact.unassigned.is_empty() {
                all_carried += 1;
            }
            count += 1;
            let gap = (plan.total_km - exact.total_km) / exact.total_km.max(1.0) * 100.0;
            println!(
                "   {name}, seed {seed:>2}: {shipments} shipments, {} km vs optimum {} km: gap {gap:5.2} %; carried {} vs {} \
                 (largest vehicle alone: {}); vehicles used {} / {}; CPU {:.0} ms",
                plan.total_km,
                exact.total_km,
                shipments - plan.unassigned.len(),
                shipments - exact.unassigned.len(),
                shipments - single.unassigned.len(),
                used(&plan),
                used(&exact),
                took.as_secs_f64() * 1000.0
            );
            band.gaps.push(gap);
            band.times.push(took);
            by_size[shipments - 6].gaps.push(gap);
            by_size[shipments - 6].times.push(took);
        }
        band.print();
    }
    for band in &by_size {
        band.print();
    }
    println!(
        "   of {count}: carrying fewer shipments than the optimum {fewer}; the largest vehicle alone carries fewer than the fleet {one_short}; \
         the optimum carries everything {all_carried}"
    );
}

/// The best of 3 searches 3 times as long as the default (each of its searches from several
/// seeds 3 times as long), from other seeds: more shipments carried, then fewer kilometres. `LONG_RUNS=n` in the environment runs n of them instead (0:
/// the default plan stands in, to compare settings quickly).
fn best_long_run(req: &RoundRequest, fleet: &[Vehicle]) -> FleetPlan {
    let mut reference: Option<FleetPlan> = None;
    let runs: u64 = std::env::var("LONG_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    if runs == 0 {
        return plan_fleet(req, fleet).expect("plan");
    }
    for run in 0..runs {
        let default = FleetSearch::default();
        let long = FleetSearch {
            iterations_per_shipment: 3 * default.iterations_per_shipment,
            max_iterations: 3 * default.max_iterations,
            total_iterations: 3 * default.total_iterations,
            seed: 0x5eed + 1000 * run,
        };
        let (p, _, _) = timed_fleet(req, fleet, long);
        check_fleet_plan(req, fleet, &p).expect("a valid plan");
        let better = reference.as_ref().is_none_or(|r| {
            p.unassigned.len() < r.unassigned.len()
                || (p.unassigned.len() == r.unassigned.len() && p.total_km < r.total_km)
        });
        if better {
            reference = Some(p);
        }
    }
    reference.expect("three runs")
}

/// The same plan twice, and how much another listing order changes it (%).
fn stable(req: &RoundRequest, fleet: &[Vehicle], plan: &FleetPlan, seed: u64) -> f64 {
    let again = plan_fleet(req, fleet).expect("plan");
    assert_eq!(*plan, again, "the same request gives the same plan");
    let mut shuffled = req.clone();
    Seeded(seed).shuffle(&mut shuffled.shipments);
    Seeded(seed + 1).shuffle(&mut shuffled.farms);
    let other = plan_fleet(&shuffled, fleet).expect("plan");
    check_fleet_plan(&shuffled, fleet, &other).expect("a valid plan");
    (other.total_km - plan.total_km).abs() / plan.total_km * 100.0
}

/// The (f) instances: (seed, farms, shipments, vehicles, the points close this many minutes after
/// the departure).
const LARGE: [(u64, usize, usize, usize, i64); 6] = [
    (405, 40, 50, 2, 600),
    (401, 45, 60, 2, 720),
    (402, 50, 70, 3, 540),
    (406, 60, 80, 4, 480),
    (403, 70, 90, 3, 660),
    (404, 90, 110, 4, 600),
];

/// An (f) instance: 5 points within 20 km, farms within 25 km; every other vehicle full by
/// weight first (24 crates, 250 kg: 20 crates of 12 kg), the others by crates (20 crates, 400 kg).
fn large_instance(
    (seed, farms, shipments, vehicles, closes): (u64, usize, usize, usize, i64),
) -> (RoundRequest, Vec<Vehicle>) {
    let req = fleet_round(seed, farms, 5, shipments, 25.0, closes);
    let fleet: Vec<Vehicle> = (0..vehicles)
        .map(|v| {
            if v % 2 == 0 {
                vehicle(&format!("V{v}"), 24, Some(250))
            } else {
                vehicle(&format!("V{v}"), 20, Some(400))
            }
        })
        .collect();
    (req, fleet)
}

/// The best plans known for the (f) instances (`routes/fleet-best-known.txt`: how they were found
/// is written there): by instance seed, the kilometres with every shipment carried.
fn best_known(seed: u64) -> Option<f64> {
    include_str!("fleet-best-known.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            let s: u64 = fields.next()?.parse().ok()?;
            let km: f64 = fields.next()?.parse().ok()?;
            (s == seed).then_some(km)
        })
        .reduce(f64::min)
}

/// `fleet-best`: long searches on the (f) instances, to find their best known plans.
/// `BEST_RUNS` plans (default 4), each `BEST_SCALE` times the default search (default 30: each of
/// its searches and all together 30 times as many iterations),
/// from other seeds than the planner's and the (f) reference's; prints one line per instance in
/// the format of `routes/fleet-best-known.txt` (the better of it and the file's).
pub(super) fn fleet_best() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (runs, scale) = (env("BEST_RUNS", 4), env("BEST_SCALE", 30) as usize);
    println!("# fleet-best: {runs} plans of {scale} times the default search");
    for instance in LARGE {
        let (req, fleet) = large_instance(instance);
        let default = FleetSearch::default();
        let mut best: Option<FleetPlan> = None;
        for run in 0..runs {
            let long = FleetSearch {
                iterations_per_shipment: scale * default.iterations_per_shipment,
                max_iterations: scale * default.max_iterations,
                total_iterations: scale * default.total_iterations,
                seed: 0xbe57_0000 + 1000 * run,
            };
            let (p, _, took) = timed_fleet(&req, &fleet, long);
            check_fleet_plan(&req, &fleet, &p).expect("a valid plan");
            println!(
                "#   {} shipments, run {run}: {:.1} km, {} left out, CPU {:.1} s",
                instance.2,
                p.total_km,
                p.unassigned.len(),
                took.as_secs_f64()
            );
            if p.unassigned.is_empty() && best.as_ref().is_none_or(|b| p.total_km < b.total_km) {
                best = Some(p);
            }
        }
        let km = best.map_or(f64::INFINITY, |b| b.total_km);
        let known = best_known(instance.0).unwrap_or(f64::INFINITY);
        println!("{} {:.1}", instance.0, km.min(known));
    }
}

/// `fleet-seeds`: the default search on the (f) instances from `FLEET_SEEDS` seeds (default 4)
/// other than the planner's: how much one plan's length owes to its seed, against the best known.
/// `FLEET_ONLY=<instance seed>` runs one instance; `FLEET_PER_SHIPMENT`, `FLEET_MAX` and
/// `FLEET_TOTAL` set the search's iterations per shipment, at most, and of all the searches
/// together (to compare budgets); `FLEET_FROM=0` starts from the planner's own seed (default 1:
/// the seeds after it).
pub(super) fn fleet_seeds() {
    let seeds: u64 = std::env::var("FLEET_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    println!(
        "(f') the (f) instances, the default search from {seeds} other seeds, against the best known"
    );
    let mut band = Band::new("(f) from other seeds");
    let mut left_out = 0;
    let only: Option<u64> = std::env::var("FLEET_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    for instance in LARGE {
        if only.is_some_and(|s| s != instance.0) {
            continue;
        }
        let (req, fleet) = large_instance(instance);
        let known = best_known(instance.0).expect("a best known plan for every (f) instance");
        let mut line = Vec::new();
        for k in 0..seeds {
            let env = |name: &str, default: usize| {
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            let d = FleetSearch::default();
            let search = FleetSearch {
                seed: FleetSearch::default()
                    .seed
                    .wrapping_add(7919 * (k + env("FLEET_FROM", 1) as u64)),
                iterations_per_shipment: env("FLEET_PER_SHIPMENT", d.iterations_per_shipment),
                max_iterations: env("FLEET_MAX", d.max_iterations),
                total_iterations: env("FLEET_TOTAL", d.total_iterations),
            };
            let (plan, _, took) = timed_fleet(&req, &fleet, search);
            check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
            let gap = (plan.total_km - known) / known * 100.0;
            left_out += plan.unassigned.len();
            if plan.unassigned.is_empty() {
                band.gaps.push(gap);
                band.times.push(took);
                line.push(format!("{gap:.2} % ({:.1} km)", plan.total_km));
            } else {
                line.push(format!("{} left out", plan.unassigned.len()));
            }
            line.push(format!("{:.0} ms", took.as_secs_f64() * 1000.0));
        }
        println!(
            "   {} shipments, {} vehicles, best known {known:.1} km: {}",
            instance.2,
            instance.3,
            line.join(", ")
        );
    }
    band.print();
    println!("   shipments left out in all: {left_out}");
}

/// (i) `fleet-200`: 200 shipments from 150 farms, like (f), with 4 vehicles (points closing after
/// 15 hours: too little room, some 30 shipments left out) and 6 (points closing after 11.7 hours):
/// how long the planner takes at this size.
pub(super) fn fleet_200() {
    println!("(i) 200 shipments, 4 and 6 vehicles: time");
    for instance in [(407_u64, 150, 200, 4, 900), (408, 150, 200, 6, 700)] {
        let (req, fleet) = large_instance(instance);
        let (plan, wall, took) = timed_fleet(&req, &fleet, FleetSearch::default());
        check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
        let stops: usize = plan.rounds.iter().map(|r| r.plan.stops.len() - 2).sum();
        println!(
            "   {} shipments, {stops} stops, {} vehicles: {:.1} km, {} left out; CPU {:.0} ms (wall {:.0} ms)",
            instance.2,
            instance.3,
            plan.total_km,
            plan.unassigned.len(),
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0
        );
    }
}

pub(super) fn fleet_large() {
    println!(
        "(f) 50-100 stops, 2-4 vehicles, binding capacity and windows, against the best of 3 searches 3 times as long \
         and the best known plan (routes/fleet-best-known.txt)"
    );
    let mut band = Band::new("50-100 stops, 2-4 vehicles");
    let mut known_band = Band::new("against the best known");
    let mut carried_less = 0;
    for instance in LARGE {
        let (req, fleet) = large_instance(instance);
        let (seed, _, shipments, vehicles, _) = instance;
        let (plan, wall, took) = timed_fleet(&req, &fleet, FleetSearch::default());
        check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
        let spread = stable(&req, &fleet, &plan, seed);
        let reference = best_long_run(&req, &fleet);
        let gap = (plan.total_km - reference.total_km) / reference.total_km * 100.0;
        let stops: usize = plan.rounds.iter().map(|r| r.plan.stops.len() - 2).sum();
        let known = best_known(seed);
        let known_gap = known.map(|k| (plan.total_km - k) / k * 100.0);
        println!(
            "   {shipments} shipments, {stops} stops, {vehicles} vehicles: {:.1} km, {} unassigned ({} used); \
             best long run {:.1} km, {} unassigned: gap {gap:5.2} %; best known {} km: gap {}; \
             CPU {:.0} ms (wall {:.0} ms); shuffled listing {spread:.2} %",
            plan.total_km,
            plan.unassigned.len(),
            used(&plan),
            reference.total_km,
            reference.unassigned.len(),
            known.map_or("-".to_string(), |k| format!("{k:.1}")),
            known_gap.map_or("-".to_string(), |g| format!("{g:5.2} %")),
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0,
        );
        if let Some(g) = known_gap
            && plan.unassigned.is_empty()
        {
            known_band.gaps.push(g);
            known_band.times.push(took);
        }
        // Kilometres compare only between plans carrying as much.
        if plan.unassigned.len() == reference.unassigned.len() {
            band.gaps.push(gap);
            band.times.push(took);
        } else {
            carried_less += usize::from(plan.unassigned.len() > reference.unassigned.len());
        }
    }
    band.print();
    known_band.print();
    println!(
        "   instances where the planner carries fewer shipments than the long runs: {carried_less}"
    );
}

/// How a planted instance is drawn (see [`plant`]).
struct Shape {
    /// The points' places, within `points_km` of the depot.
    points: usize,
    points_km: f64,
    /// How far the blocks' centres are from the depot, in degrees of latitude and longitude.
    reach: (f64, f64),
    /// The farms of a block within this of its centre.
    farm_km: f64,
    /// Crates per shipment: 1 to this.
    crates_up_to: u64,
    /// Kilograms per crate: `kg` plus below `kg_spread` (0: exactly `kg`).
    kg: u32,
    kg_spread: u64,
    /// The points open this long before the planted time (`None`: at the departure) and close
    /// this long after it, in minutes; the farms ±15 minutes.
    point_opens: Option<f64>,
    point_closes: f64,
}

/// A planted instance: each vehicle's route visits `blocks` blocks of `per_block` farms then one
/// point (the block's own slot, at one of the shape's places); every shipment of a block goes to
/// its point; the windows are the planted times ±15 minutes at the farms and as the shape says
/// at the points: the planted plan carries everything, by construction. Returns the request, each
/// vehicle's largest block in crates and in kg, and the planted plan's kilometres.
fn plant(
    seed: u64,
    (vehicles, blocks, per_block): (usize, usize, usize),
    shape: &Shape,
) -> (RoundRequest, Vec<(u32, u32)>, f64) {
    let mut rng = Seeded(seed);
    let depot = centre();
    let mut req = RoundRequest::new(depot.clone(), depot.clone(), departure(), 0);
    let places: Vec<Place> = (0..shape.points)
        .map(|p| {
            around(
                &mut rng,
                format!("point:{p}"),
                46.65,
                -0.25,
                shape.points_km,
            )
        })
        .collect();
    let minutes = |m: f64| TimeDelta::milliseconds((m * 60_000.0) as i64);
    let mut largest = Vec::new();
    let mut producer = 0_i64;
    let mut planted_km = 0.0;
    for v in 0..vehicles {
        let mut at = depot.clone();
        let mut clock = 0.0_f64; // minutes after the departure, leaving `at`
        let (mut crates_most, mut kg_most) = (0_u32, 0_u32);
        // Each vehicle works one sector: the farms of a block around a centre in it.
        for b in 0..blocks {
            let angle = (v as f64 + (b as f64 + 0.5) / blocks as f64) / vehicles as f64
                * std::f64::consts::TAU;
            let (clat, clon) = (
                46.65 + shape.reach.0 * angle.cos(),
                -0.25 + shape.reach.1 * angle.sin(),
            );
            let slot = (v * blocks + b) as i64 + 1;
            let (mut crates_in, mut kg_in) = (0, 0);
            for _ in 0..per_block {
                producer += 1;
                let farm = around(
                    &mut rng,
                    format!("farm:{producer}"),
                    clat,
                    clon,
                    shape.farm_km,
                );
                let km = road_km(&at, &farm, req.detour_factor);
                planted_km += km;
                clock += km / req.speed_kmh * 60.0;
                req.farms.push(Farm {
                    producer_id: producer,
                    place: farm.clone(),
                    window: Some((
                        departure() + minutes(clock - 15.0),
                        departure() + minutes(clock + 15.0),
                    )),
                });
                clock += f64::from(req.collect_minutes);
                let crates = 1 + rng.below(shape.crates_up_to) as u32;
                let per_crate = if shape.kg_spread == 0 {
                    shape.kg
                } else {
                    shape.kg + rng.below(shape.kg_spread) as u32
                };
                crates_in += crates;
                kg_in += crates * per_crate;
                req.shipments.push(Shipment {
                    producer_id: producer,
                    slot_id: slot,
                    crates,
                    kg: Decimal::from(crates * per_crate),
                });
                at = farm;
            }
            crates_most = crates_most.max(crates_in);
            kg_most = kg_most.max(kg_in);
            let point = places[rng.below(shape.points as u64) as usize].clone();
            let km = road_km(&at, &point, req.detour_factor);
            planted_km += km;
            clock += km / req.speed_kmh * 60.0;
            let opens = shape
                .point_opens
                .map_or(departure(), |m| departure() + minutes(clock - m));
            req.points.push(DropPoint {
                slot_id: slot,
                place: point.clone(),
                window: Some((opens, departure() + minutes(clock + shape.point_closes))),
            });
            clock += f64::from(req.deliver_minutes);
            at = point;
        }
        planted_km += road_km(&at, &depot, req.detour_factor);
        largest.push((crates_most, kg_most));
    }
    (req, largest, planted_km)
}

/// (g): blocks of 7 to 12 farms, points ±30 minutes, each vehicle exactly as large in crates as
/// its largest block, no weight limit.
fn planted(
    seed: u64,
    vehicles: usize,
    blocks: usize,
    per_block: usize,
) -> (RoundRequest, Vec<Vehicle>, f64) {
    let shape = Shape {
        points: 4,
        points_km: 15.0,
        reach: (0.35, 0.5),
        farm_km: 10.0,
        crates_up_to: 3,
        kg: 10,
        kg_spread: 0,
        point_opens: Some(30.0),
        point_closes: 30.0,
    };
    let (req, largest, km) = plant(seed, (vehicles, blocks, per_block), &shape);
    let fleet = largest
        .iter()
        .enumerate()
        .map(|(v, (crates, _))| vehicle(&format!("V{v}"), *crates, None))
        .collect();
    (req, fleet, km)
}

pub(super) fn planted_windows() {
    println!("(g) > 80 shipments, tight windows around a planted plan that carries them all");
    for (seed, vehicles, blocks, per_block) in [
        (501_u64, 1, 9, 10),
        (502, 1, 12, 8),
        (503, 1, 10, 12),
        (504, 2, 6, 8),
        (505, 2, 8, 7),
        (506, 3, 5, 8),
    ] {
        let (req, fleet, planted_km) = planted(seed, vehicles, blocks, per_block);
        let n = req.shipments.len();
        let (plan, wall, took) = timed_fleet(&req, &fleet, FleetSearch::default());
        check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
        println!(
            "   {n} shipments, {vehicles} vehicle(s), {} stops planted: {} left out, {:.1} km (planted plan {planted_km:.1} km, {:+.2} %), CPU {:.0} ms (wall {:.0} ms)",
            blocks * (per_block + 1) * vehicles,
            plan.unassigned.len(),
            plan.total_km,
            (plan.total_km - planted_km) / planted_km * 100.0,
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0,
        );
    }
}

/// A planted instance like (f): blocks of 5 to 7 farms (1 to 4 crates of 8 to 16 kg each), 5
/// point places within 20 km, the points open from the departure to 15 minutes after the planted
/// time. Every other vehicle is exactly as heavy as its heaviest block allows (its crates 3 more),
/// the others exactly as large in crates as their largest block (their kg 40 more): capacity and
/// windows bind, and the planted plan carries everything, its kilometres an upper bound of the
/// optimum.
fn planted_binding(
    seed: u64,
    vehicles: usize,
    blocks: usize,
    per_block: usize,
) -> (RoundRequest, Vec<Vehicle>, f64) {
    let shape = Shape {
        points: 5,
        points_km: 20.0,
        reach: (0.2, 0.28),
        farm_km: 8.0,
        crates_up_to: 4,
        kg: 8,
        kg_spread: 9,
        point_opens: None,
        point_closes: 15.0,
    };
    let (req, largest, km) = plant(seed, (vehicles, blocks, per_block), &shape);
    let fleet = largest
        .iter()
        .enumerate()
        .map(|(v, (crates, kg))| {
            if v % 2 == 0 {
                vehicle(&format!("V{v}"), crates + 3, Some(i64::from(*kg)))
            } else {
                vehicle(&format!("V{v}"), *crates, Some(i64::from(*kg) + 40))
            }
        })
        .collect();
    (req, fleet, km)
}

pub(super) fn planted_binding_set() {
    println!(
        "(h) 50-100 stops, 2-4 vehicles, capacity (kg or crates) and windows binding, around a planted plan; \
         against the best known (planted plan or best of 3 long runs)"
    );
    let mut band = Band::new("planted (f)-like");
    let mut carried_less = 0;
    for (seed, vehicles, blocks, per_block) in [
        (607_u64, 2, 4, 6),
        (601, 2, 5, 6),
        (603, 3, 4, 5),
        (605, 4, 3, 5),
        (602, 2, 6, 7),
        (604, 3, 4, 7),
        (606, 4, 3, 7),
    ] {
        let (req, fleet, planted_km) = planted_binding(seed, vehicles, blocks, per_block);
        let n = req.shipments.len();
        let (plan, wall, took) = timed_fleet(&req, &fleet, FleetSearch::default());
        check_fleet_plan(&req, &fleet, &plan).expect("a valid plan");
        let spread = stable(&req, &fleet, &plan, seed);
        let long = best_long_run(&req, &fleet);
        let best = if long.unassigned.is_empty() {
            long.total_km.min(planted_km)
        } else {
            planted_km
        };
        let gap = (plan.total_km - best) / best * 100.0;
        println!(
            "   {n} shipments, {vehicles} vehicles, {} stops planted: {:.1} km, {} left out; planted {planted_km:.1} km, \
             long run {:.1} km, {} left out: gap to the best known {gap:5.2} %; CPU {:.0} ms (wall {:.0} ms); shuffled listing {spread:.2} %",
            blocks * (per_block + 1) * vehicles,
            plan.total_km,
            plan.unassigned.len(),
            long.total_km,
            long.unassigned.len(),
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0,
        );
        if plan.unassigned.is_empty() {
            band.gaps.push(gap);
            band.times.push(took);
        } else {
            carried_less += 1;
        }
    }
    band.print();
    println!("   instances where the planner leaves shipments out (none need be): {carried_less}");
}
