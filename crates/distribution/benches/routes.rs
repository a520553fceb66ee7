//! Route quality: how far `plan_round` is from the optimum, and how long it takes, by size.
//!
//! ```text
//! cargo bench -p distribution --bench routes            # everything (a few minutes)
//! ROUTES_ONLY=eil51,kroA100 cargo bench -p distribution --bench routes -- tsplib
//! ```
//!
//! (a) TSPLIB instances with a published optimum (51 to 200 stops, uniform, clustered and grid;
//!     `benches/tsplib/README.md`): node 1 is the depot and a pickup point, every other node a
//!     farm shipping one crate there; one roomy vehicle, no window, so the best round is the
//!     optimal tour. Coordinates are laid on the equator (1 unit = a fixed fraction of a degree)
//!     and the plan's order of places is measured with TSPLIB's own metric (rounded Euclidean),
//!     the one the optimum is given in. Also: the same stops listed in a shuffled order, with
//!     other ids, and the length difference.
//! (b) Generated uniform and clustered rounds of 9 to 13 farms (one point at the depot), against
//!     the exact optimum by Held–Karp dynamic programming over the same kilometres.
//! (c) Generated rounds with binding constraints (a small vehicle in crates or kg, time windows,
//!     several farms and points, 4 to 8 shipments), against `plan_round_exact`.
//! (d) Larger constrained rounds (40 farms, 5 points, 60 shipments, 60-crate vehicle, windows on
//!     the points): time, and the plan passes `check_plan`.
//!
//! (e) to (i): several vehicles with binding capacity and windows (`routes/fleet.rs`): against
//!     `plan_fleet_exact` on small rounds, longer searches and the best known plans on large ones,
//!     planted plans, the time at 200 shipments. `-- fleet-seeds` (the default search from other
//!     seeds) and `-- fleet-best` (long searches for `routes/fleet-best-known.txt`) run only when
//!     named.
//!
//! Each section prints the gap and time per instance, then the mean and worst by size band.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use distribution::routing::{
    DropPoint, Farm, Place, RoundPlan, RoundRequest, Shipment, StopKind, check_plan, plan_round,
    plan_round_exact, road_km,
};
use rust_decimal::Decimal;

#[path = "routes/fleet.rs"]
mod fleet;

/// TSPLIB instances and their published optima.
const TSPLIB: [(&str, &str, u64); 15] = [
    ("eil51", include_str!("tsplib/eil51.tsp"), 426),
    ("berlin52", include_str!("tsplib/berlin52.tsp"), 7542),
    ("st70", include_str!("tsplib/st70.tsp"), 675),
    ("eil76", include_str!("tsplib/eil76.tsp"), 538),
    ("pr76", include_str!("tsplib/pr76.tsp"), 108_159),
    ("rat99", include_str!("tsplib/rat99.tsp"), 1211),
    ("kroA100", include_str!("tsplib/kroa100.tsp"), 21_282),
    ("kroC100", include_str!("tsplib/kroc100.tsp"), 20_749),
    ("kroD100", include_str!("tsplib/krod100.tsp"), 21_294),
    ("rd100", include_str!("tsplib/rd100.tsp"), 7910),
    ("eil101", include_str!("tsplib/eil101.tsp"), 629),
    ("lin105", include_str!("tsplib/lin105.tsp"), 14_379),
    ("ch150", include_str!("tsplib/ch150.tsp"), 6528),
    ("rat195", include_str!("tsplib/rat195.tsp"), 2323),
    ("kroA200", include_str!("tsplib/kroa200.tsp"), 29_368),
];

/// SplitMix64: a small seeded generator, so that every run benchmarks the same rounds.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

fn departure() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 5, 0, 0).unwrap()
}

fn place(key: String, latitude: f64, longitude: f64) -> Place {
    Place {
        name: key.clone(),
        key,
        latitude,
        longitude,
    }
}

fn parse_tsp(text: &str) -> Vec<(f64, f64)> {
    let mut nodes = Vec::new();
    let mut in_coords = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("NODE_COORD_SECTION") {
            in_coords = true;
            continue;
        }
        if !in_coords || line.is_empty() {
            continue;
        }
        if line == "EOF" {
            break;
        }
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(|f| f.parse().expect("a number"))
            .collect();
        nodes.push((fields[1], fields[2]));
    }
    nodes
}

/// A TSP as a round: node `depot` is the depot and the point, the others farms, one crate each.
/// Farms get ids (and list order) from `ids`.
fn tsp_round(nodes: &[(f64, f64)], ids: &[usize]) -> RoundRequest {
    let (xs, ys): (Vec<f64>, Vec<f64>) = nodes.iter().copied().unzip();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::MAX, f64::min),
        xs.iter().copied().fold(f64::MIN, f64::max),
    );
    let (y0, y1) = (
        ys.iter().copied().fold(f64::MAX, f64::min),
        ys.iter().copied().fold(f64::MIN, f64::max),
    );
    // About 100 km across, on the equator where a degree is the same both ways.
    let scale = 0.9 / (x1 - x0).max(y1 - y0);
    let at = |i: usize| {
        let (x, y) = nodes[i];
        ((y - (y0 + y1) / 2.0) * scale, (x - (x0 + x1) / 2.0) * scale)
    };
    let (lat, lon) = at(0);
    let depot = place("depot".into(), lat, lon);
    let mut req = RoundRequest::new(depot.clone(), depot, departure(), 10_000);
    req.detour_factor = 1.0;
    req.points = vec![DropPoint {
        slot_id: 1,
        place: place("point:hub".into(), lat, lon),
        window: None,
    }];
    for &node in ids {
        let (lat, lon) = at(node);
        req.farms.push(Farm {
            producer_id: 1000 + node as i64 * 7 % 1009,
            place: place(format!("farm:{node}"), lat, lon),
            window: None,
        });
    }
    req.shipments = req
        .farms
        .iter()
        .map(|f| Shipment {
            producer_id: f.producer_id,
            slot_id: 1,
            crates: 1,
            kg: Decimal::new(12, 0),
        })
        .collect();
    req
}

/// The TSPLIB nodes the plan visits in order, the depot (node 0) first and last.
fn tour_of(plan: &RoundPlan) -> Vec<usize> {
    let mut tour: Vec<usize> = Vec::new();
    for stop in &plan.stops {
        let node = stop
            .place
            .key
            .strip_prefix("farm:")
            .map_or(0, |n| n.parse().unwrap());
        if tour.last() != Some(&node) {
            tour.push(node);
        }
    }
    tour
}

fn nint_length(nodes: &[(f64, f64)], tour: &[usize]) -> u64 {
    tour.windows(2)
        .map(|w| {
            let (a, b) = (nodes[w[0]], nodes[w[1]]);
            ((a.0 - b.0).hypot(a.1 - b.1) + 0.5).floor() as u64
        })
        .sum()
}

/// Stops that are neither the start nor the end, and places visited more than once.
fn needless(plan: &RoundPlan) -> usize {
    let inner: Vec<&str> = plan
        .stops
        .iter()
        .filter(|s| matches!(s.kind, StopKind::Collect | StopKind::Deliver))
        .map(|s| s.place.key.as_str())
        .collect();
    let mut keys = inner.clone();
    keys.sort_unstable();
    keys.dedup();
    inner.len() - keys.len()
}

struct Band {
    name: String,
    gaps: Vec<f64>,
    times: Vec<Duration>,
}

impl Band {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            gaps: Vec::new(),
            times: Vec::new(),
        }
    }

    fn print(&self) {
        if self.gaps.is_empty() {
            return;
        }
        let mean = self.gaps.iter().sum::<f64>() / self.gaps.len() as f64;
        let worst = self.gaps.iter().copied().fold(f64::MIN, f64::max);
        let t_mean = self.times.iter().sum::<Duration>().as_secs_f64() / self.times.len() as f64;
        let t_worst = self.times.iter().max().copied().unwrap_or_default();
        println!(
            "   {:<34} {:>3} instances: gap mean {mean:5.2} %, worst {worst:5.2} %; CPU time mean {:6.0} ms, worst {:6.0} ms",
            self.name,
            self.gaps.len(),
            t_mean * 1000.0,
            t_worst.as_secs_f64() * 1000.0
        );
    }
}

/// CPU time used by this process so far (user + system, `/proc/self/stat`, 100 ticks a
/// second): on a shared machine, what the planner costs, whatever else runs.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// Plans `req`: the plan and its CPU time.
fn timed(req: &RoundRequest) -> (RoundPlan, Duration) {
    let (plan, _, cpu) = timed_cpu(req);
    (plan, cpu)
}

fn timed_cpu(req: &RoundRequest) -> (RoundPlan, Duration, Duration) {
    let cpu = cpu_time();
    let started = Instant::now();
    let plan = plan_round(req).expect("plan");
    (plan, started.elapsed(), cpu_time().saturating_sub(cpu))
}

fn wanted(name: &str) -> bool {
    std::env::var("ROUTES_ONLY")
        .map(|only| only.split(',').any(|o| o.eq_ignore_ascii_case(name)))
        .unwrap_or(true)
}

fn tsplib() {
    println!("(a) TSPLIB, published optima (gap with TSPLIB's rounded Euclidean metric)");
    let mut bands = [
        Band::new("51-76 stops"),
        Band::new("99-105 stops"),
        Band::new("150-200 stops"),
    ];
    let mut shuffle_worst: f64 = 0.0;
    for (name, text, optimum) in TSPLIB {
        if !wanted(name) {
            continue;
        }
        let nodes = parse_tsp(text);
        let ids: Vec<usize> = (1..nodes.len()).collect();
        let req = tsp_round(&nodes, &ids);
        let (plan, wall, took) = timed_cpu(&req);
        check_plan(&req, &plan).expect("a valid plan");
        let tour = tour_of(&plan);
        let length = nint_length(&nodes, &tour);
        let gap = (length as f64 - optimum as f64) / optimum as f64 * 100.0;

        // The same stops, listed in another order (and with other ids).
        let mut rng = Seeded(nodes.len() as u64);
        let mut shuffled = ids.clone();
        rng.shuffle(&mut shuffled);
        let mut other = tsp_round(&nodes, &shuffled);
        for f in &mut other.farms {
            f.producer_id += 5000;
        }
        for s in &mut other.shipments {
            s.producer_id += 5000;
        }
        rng.shuffle(&mut other.shipments);
        let (again, _) = timed(&other);
        let other_length = nint_length(&nodes, &tour_of(&again));
        let spread = (other_length as f64 - length as f64).abs() / length as f64 * 100.0;
        shuffle_worst = shuffle_worst.max(spread);

        println!(
            "   {name:<9} {:>3} stops: {length:>7} vs optimum {optimum:>7}: gap {gap:5.2} %, CPU {:6.0} ms \
             (wall {:6.0} ms); {} needless stops; shuffled listing: {other_length} ({spread:.2} %)",
            plan.stops.len() - 2,
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0,
            needless(&plan),
        );
        let band = match nodes.len() {
            0..=80 => 0,
            81..=120 => 1,
            _ => 2,
        };
        bands[band].gaps.push(gap);
        bands[band].times.push(took);
    }
    let mut all = Band::new("all 51-105 stops");
    for band in &bands[..2] {
        all.gaps.extend(&band.gaps);
        all.times.extend(&band.times);
    }
    for band in bands.iter().chain([&all]) {
        band.print();
    }
    println!("   worst length change with a shuffled listing: {shuffle_worst:.2} %");
}

/// Held–Karp over the farms of a round whose single point is at the depot: the optimal tour's
/// kilometres.
fn held_karp(req: &RoundRequest) -> f64 {
    let places: Vec<&Place> = std::iter::once(&req.start)
        .chain(req.farms.iter().map(|f| &f.place))
        .collect();
    let n = places.len() - 1;
    let d = |a: usize, b: usize| road_km(places[a], places[b], req.detour_factor);
    let full = 1usize << n;
    let mut best = vec![f64::INFINITY; full * n];
    for j in 0..n {
        best[(1 << j) * n + j] = d(0, j + 1);
    }
    for set in 1..full {
        for j in 0..n {
            let here = best[set * n + j];
            if set & (1 << j) == 0 || !here.is_finite() {
                continue;
            }
            for k in 0..n {
                if set & (1 << k) != 0 {
                    continue;
                }
                let next = (set | (1 << k)) * n + k;
                let km = here + d(j + 1, k + 1);
                if km < best[next] {
                    best[next] = km;
                }
            }
        }
    }
    (0..n)
        .map(|j| best[(full - 1) * n + j] + d(j + 1, 0))
        .fold(f64::INFINITY, f64::min)
}

/// The plan's kilometres, unrounded.
fn plan_km(req: &RoundRequest, plan: &RoundPlan) -> f64 {
    plan.stops
        .windows(2)
        .map(|w| road_km(&w[0].place, &w[1].place, req.detour_factor))
        .sum()
}

fn centre() -> Place {
    place("depot".into(), 46.65, -0.25)
}

/// A farm `r_km` at most from `(lat, lon)`.
fn around(rng: &mut Seeded, key: String, lat: f64, lon: f64, r_km: f64) -> Place {
    let r = r_km * rng.unit().sqrt();
    let angle = rng.unit() * std::f64::consts::TAU;
    let latitude = lat + r * angle.cos() / 111.2;
    let longitude = lon + r * angle.sin() / (111.2 * latitude.to_radians().cos());
    place(key, latitude, longitude)
}

/// `farms` farms uniform within 60 km, or in 3 clusters of 8 km; one point at the depot.
fn generated(seed: u64, farms: usize, clustered: bool) -> RoundRequest {
    let mut rng = Seeded(seed);
    let depot = centre();
    let mut req = RoundRequest::new(depot.clone(), depot.clone(), departure(), 1000);
    let centres: Vec<Place> = (0..3)
        .map(|c| {
            around(
                &mut rng,
                format!("c{c}"),
                depot.latitude,
                depot.longitude,
                60.0,
            )
        })
        .collect();
    for i in 0..farms {
        let key = format!("farm:{i}");
        let p = if clustered {
            let c = &centres[rng.below(3) as usize];
            around(&mut rng, key, c.latitude, c.longitude, 8.0)
        } else {
            around(&mut rng, key, depot.latitude, depot.longitude, 60.0)
        };
        req.farms.push(Farm {
            producer_id: i as i64 + 1,
            place: p,
            window: None,
        });
    }
    req.points = vec![DropPoint {
        slot_id: 1,
        place: place("point:hub".into(), depot.latitude, depot.longitude),
        window: None,
    }];
    req.shipments = (1..=farms as i64)
        .map(|producer_id| Shipment {
            producer_id,
            slot_id: 1,
            crates: 2,
            kg: Decimal::new(25, 0),
        })
        .collect();
    req
}

fn small_exact() {
    println!("(b) generated rounds, 9-13 farms, against the Held-Karp optimum");
    let mut bands = [
        Band::new("uniform 9-13 farms"),
        Band::new("clustered 9-13 farms"),
    ];
    for seed in 0..10_u64 {
        for (b, clustered) in [false, true].into_iter().enumerate() {
            let req = generated(100 + seed, 9 + (seed % 5) as usize, clustered);
            let optimum = held_karp(&req);
            let (plan, took) = timed(&req);
            check_plan(&req, &plan).expect("a valid plan");
            assert_eq!(needless(&plan), 0, "a needless stop");
            let km = plan_km(&req, &plan);
            let gap = (km - optimum) / optimum * 100.0;
            assert!(gap > -1e-6, "below the optimum?");
            bands[b].gaps.push(gap.max(0.0));
            bands[b].times.push(took);
        }
    }
    for band in &bands {
        band.print();
    }
}

/// Several farms and points, 4 to 8 shipments, with a binding constraint.
fn constrained_small(seed: u64) -> (RoundRequest, &'static str) {
    let mut rng = Seeded(seed);
    let depot = centre();
    let mut req = RoundRequest::new(depot.clone(), depot.clone(), departure(), 100);
    let farms = 3 + rng.below(4) as i64;
    let points = 1 + rng.below(3) as i64;
    for id in 1..=farms {
        req.farms.push(Farm {
            producer_id: id,
            place: around(&mut rng, format!("farm:{id}"), 46.65, -0.25, 60.0),
            window: None,
        });
    }
    for id in 1..=points {
        req.points.push(DropPoint {
            slot_id: 100 + id,
            place: around(&mut rng, format!("point:{id}"), 46.65, -0.25, 25.0),
            window: None,
        });
    }
    let shipments = 4 + (seed % 5) as usize;
    let mut pairs = Vec::new();
    while pairs.len() < shipments.min((farms * points) as usize) {
        let pair = (
            1 + rng.below(farms as u64) as i64,
            101 + rng.below(points as u64) as i64,
        );
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    req.shipments = pairs
        .into_iter()
        .map(|(producer_id, slot_id)| {
            let crates = 2 + rng.below(6) as u32;
            Shipment {
                producer_id,
                slot_id,
                crates,
                kg: Decimal::new(i64::from(crates) * 14, 0),
            }
        })
        .collect();
    let total: u32 = req.shipments.iter().map(|s| s.crates).sum();
    let kind = match seed % 3 {
        0 => {
            req.capacity_crates = (total / 2).max(8);
            "capacity in crates"
        }
        1 => {
            let total_kg: Decimal = req.shipments.iter().map(|s| s.kg).sum();
            req.capacity_kg = Some((total_kg / Decimal::new(2, 0)).max(Decimal::new(100, 0)));
            "capacity in kg"
        }
        _ => {
            let opens = departure() + TimeDelta::minutes(60);
            req.points[0].window = Some((opens, opens + TimeDelta::minutes(90)));
            req.farms[0].window = Some((departure(), departure() + TimeDelta::minutes(75)));
            "time windows"
        }
    };
    (req, kind)
}

fn small_constrained() {
    println!(
        "(c) generated rounds with binding constraints, 4-8 shipments, against the exact planner"
    );
    let mut bands = [
        Band::new("capacity in crates"),
        Band::new("capacity in kg"),
        Band::new("time windows"),
    ];
    let mut fewer = 0;
    for seed in 0..30_u64 {
        let (req, kind) = constrained_small(500 + seed);
        let exact = plan_round_exact(&req).expect("exact");
        let (plan, took) = timed(&req);
        check_plan(&req, &plan).expect("a valid plan");
        check_plan(&req, &exact).expect("a valid exact plan");
        if plan.unassigned.len() > exact.unassigned.len() {
            fewer += 1;
            continue;
        }
        let gap = (plan_km(&req, &plan) - plan_km(&req, &exact)) / plan_km(&req, &exact) * 100.0;
        let band = bands.iter_mut().find(|b| b.name == kind).unwrap();
        band.gaps.push(gap.max(0.0));
        band.times.push(took);
    }
    for band in &bands {
        band.print();
    }
    println!("   rounds carrying fewer shipments than the optimum: {fewer}");
}

fn large_constrained() {
    println!("(d) 40 farms, 5 points, 60 or 200 shipments, binding capacity and windows");
    // Windows: each point open until `hours` after the departure (plus one per point). With the
    // 60-crate vehicle (some 60 h for everything) both leave shipments out: the count is shown,
    // not compared with an optimum.
    for (seed, capacity, hours, shipments) in [
        (7_u64, 1000, None, 60),
        (7, 60, None, 60),
        (8, 60, Some(40), 60),
        (8, 60, Some(12), 60),
        (9, 40, Some(12), 60),
        // The mixed benchmark's plan: 40 farms, each shipping to each of 5 slots' points.
        (10, 2000, Some(40), 200),
    ] {
        let mut rng = Seeded(seed);
        let depot = centre();
        let mut req = RoundRequest::new(depot.clone(), depot.clone(), departure(), capacity);
        for id in 1..=40 {
            req.farms.push(Farm {
                producer_id: id,
                place: around(&mut rng, format!("farm:{id}"), 46.65, -0.25, 100.0),
                window: None,
            });
        }
        for id in 1..=5 {
            req.points.push(DropPoint {
                slot_id: 100 + id,
                place: around(&mut rng, format!("point:{id}"), 46.65, -0.25, 30.0),
                window: hours.map(|h| (departure(), departure() + TimeDelta::hours(h + id))),
            });
        }
        let mut pairs = Vec::new();
        while pairs.len() < shipments {
            let farm = if pairs.len() < 40 {
                pairs.len() as i64 + 1
            } else {
                1 + rng.below(40) as i64
            };
            let pair = (farm, 101 + rng.below(5) as i64);
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
        req.shipments = pairs
            .into_iter()
            .map(|(producer_id, slot_id)| {
                let crates = 1 + rng.below(6) as u32;
                Shipment {
                    producer_id,
                    slot_id,
                    crates,
                    kg: Decimal::new(i64::from(crates) * 12, 0),
                }
            })
            .collect();
        let (plan, wall, took) = timed_cpu(&req);
        check_plan(&req, &plan).expect("a valid plan");
        let (again, _) = timed(&req);
        assert_eq!(plan, again, "the same request gives the same plan");
        let mut shuffled = req.clone();
        Seeded(seed).shuffle(&mut shuffled.shipments);
        Seeded(seed + 1).shuffle(&mut shuffled.farms);
        let (other, _) = timed(&shuffled);
        println!(
            "   {shipments} shipments, capacity {capacity:>4} crates, windows {:<5}: {} stops, {:.1} km, {} unassigned, CPU {:.0} ms \
             (wall {:.0} ms); shuffled listing {:.1} km",
            hours.map_or("none".to_string(), |h| format!("{h} h")),
            plan.stops.len(),
            plan.total_km,
            plan.unassigned.len(),
            took.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0,
            other.total_km
        );
    }
}

fn main() {
    let section = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| section.as_deref().is_none_or(|s| s == name);
    println!("== route quality (plan_round against optima)");
    if run("tsplib") {
        tsplib();
    }
    if run("small") {
        small_exact();
        small_constrained();
    }
    if run("large") {
        large_constrained();
    }
    if run("fleet-small") {
        fleet::fleet_small();
    }
    if run("fleet-large") {
        fleet::fleet_large();
    }
    // Not in the default run: minutes of long searches, for routes/fleet-best-known.txt.
    if section.as_deref() == Some("fleet-best") {
        fleet::fleet_best();
    }
    if section.as_deref() == Some("fleet-seeds") {
        fleet::fleet_seeds();
    }
    if run("planted") {
        fleet::planted_windows();
    }
    if run("planted-binding") {
        fleet::planted_binding_set();
    }
    if run("fleet-200") {
        fleet::fleet_200();
    }
}
