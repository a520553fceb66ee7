//! Co-delivery round planner: speed on a large round, quality against the exact optimum on small
//! ones.
//!
//! ```text
//! cargo bench -p distribution --bench rounds
//! ```
//!
//! (a) 40 farms and 10 pickup points within 100 km of Parthenay, 50 shipments, a vehicle large
//!     enough for everything (and the same round with a 60-crate vehicle): solving time in ms,
//!     best of a few runs, plus the plan's size; the plan is checked and solved twice to confirm
//!     it is reproducible.
//! (b) 20 seeded small rounds (4 to 7 shipments, some with a small vehicle or time windows):
//!     kilometres of `plan_round` over those of `plan_round_exact`, mean and worst gap in %.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use distribution::routing::{
    DropPoint, Farm, Place, RoundPlan, RoundRequest, Shipment, check_plan, plan_round,
    plan_round_exact,
};
use rust_decimal::Decimal;

/// Parthenay, Deux-Sèvres.
const CENTRE: (f64, f64) = (46.65, -0.25);

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

    /// A place uniformly spread within `radius_km` of the centre.
    fn place(&mut self, key: String, radius_km: f64) -> Place {
        let r = radius_km * self.unit().sqrt();
        let angle = self.unit() * std::f64::consts::TAU;
        let latitude = CENTRE.0 + r * angle.cos() / 111.2;
        let longitude = CENTRE.1 + r * angle.sin() / (111.2 * latitude.to_radians().cos());
        Place {
            name: key.clone(),
            key,
            latitude,
            longitude,
        }
    }
}

fn departure() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 5, 0, 0).unwrap()
}

fn depot() -> Place {
    Place {
        key: "depot".into(),
        name: "Parthenay".into(),
        latitude: CENTRE.0,
        longitude: CENTRE.1,
    }
}

/// `farms` farms within 100 km, `points` points within 30 km, `shipments` shipments.
fn round(seed: u64, farms: usize, points: usize, shipments: usize, capacity: u32) -> RoundRequest {
    let mut rng = Seeded(seed);
    let mut req = RoundRequest::new(depot(), depot(), departure(), capacity);
    req.farms = (0..farms)
        .map(|i| Farm {
            producer_id: i as i64 + 1,
            place: rng.place(format!("farm:{}", i + 1), 100.0),
            window: None,
        })
        .collect();
    req.points = (0..points)
        .map(|i| DropPoint {
            slot_id: i as i64 + 101,
            place: rng.place(format!("point:{}", i + 101), 30.0),
            window: None,
        })
        .collect();
    // Every farm ships to one point at least, the rest at random, no pair twice.
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    while pairs.len() < shipments {
        let farm = if pairs.len() < farms {
            pairs.len() as i64 + 1
        } else {
            rng.below(farms as u64) as i64 + 1
        };
        let slot = rng.below(points as u64) as i64 + 101;
        if !pairs.contains(&(farm, slot)) {
            pairs.push((farm, slot));
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
                kg: Decimal::new(i64::from(crates) * 12_500, 3),
            }
        })
        .collect();
    req
}

fn timed(req: &RoundRequest) -> (RoundPlan, Duration) {
    let started = Instant::now();
    let plan = plan_round(req).expect("plan");
    (plan, started.elapsed())
}

fn large(name: &str, req: &RoundRequest) {
    let (plan, first) = timed(req);
    check_plan(req, &plan).expect("a valid plan");
    let mut best = first;
    for _ in 0..2 {
        let (again, took) = timed(req);
        assert_eq!(again, plan, "the same request must give the same plan");
        best = best.min(took);
    }
    println!(
        "(a) {name}: {} farms, {} points, {} shipments: {:.0} ms (first run {:.0} ms); \
         {} stops, {:.1} km, {} h {:02} min, {} unassigned; same plan on every run",
        req.farms.len(),
        req.points.len(),
        req.shipments.len(),
        best.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0,
        plan.stops.len(),
        plan.total_km,
        plan.total_minutes / 60,
        plan.total_minutes % 60,
        plan.unassigned.len(),
    );
}

fn main() {
    println!("== co-delivery rounds (vrp-core solver vs exact optimum)");

    // (a) Speed on a large round.
    let roomy = round(2025, 40, 10, 50, 400);
    large("roomy vehicle (400 crates)", &roomy);
    let mut tight = roomy.clone();
    tight.capacity_crates = 60;
    large("small vehicle (60 crates)", &tight);

    // (b) Quality on small rounds.
    let mut gaps = Vec::new();
    let mut solver_time = Duration::ZERO;
    let mut exact_time = Duration::ZERO;
    for seed in 0..20_u64 {
        let shipments = 4 + (seed % 4) as usize;
        let farms = 2 + (seed % 4) as usize;
        let points = 1 + (seed % 3) as usize;
        let mut req = round(
            1000 + seed,
            farms,
            points,
            shipments.min(farms * points),
            100,
        );
        req.shipments.truncate(shipments);
        match seed % 4 {
            1 => req.capacity_crates = 8,
            2 => {
                let opens = departure() + TimeDelta::hours(1);
                req.points[0].window = Some((opens, opens + TimeDelta::hours(2)));
            }
            3 => {
                req.farms[0].window = Some((departure(), departure() + TimeDelta::minutes(90)));
            }
            _ => {}
        }
        let started = Instant::now();
        let exact = plan_round_exact(&req).expect("exact plan");
        exact_time += started.elapsed();
        let started = Instant::now();
        let plan = plan_round(&req).expect("plan");
        solver_time += started.elapsed();
        check_plan(&req, &exact).expect("a valid exact plan");
        check_plan(&req, &plan).expect("a valid plan");
        assert_eq!(
            plan.unassigned.len(),
            exact.unassigned.len(),
            "seed {seed}: fewer shipments carried"
        );
        let gap = (plan.total_km - exact.total_km) / exact.total_km * 100.0;
        gaps.push(gap);
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let worst = gaps.iter().copied().fold(f64::MIN, f64::max);
    let optimal = gaps.iter().filter(|g| **g <= 0.05).count();
    println!(
        "(b) 20 small rounds (4-7 shipments): gap to the optimum mean {mean:.2} %, worst {worst:.2} %, \
         optimum found {optimal}/20; solver {:.0} ms per round, exact {:.0} ms per round",
        solver_time.as_secs_f64() * 1000.0 / 20.0,
        exact_time.as_secs_f64() * 1000.0 / 20.0,
    );
}
