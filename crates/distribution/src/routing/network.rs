//! The validated round both planners work on: the locations, the distance and time matrices, the
//! jobs; and the [`RoundPlan`] built back from an order of activities.
//!
//! Times are seconds after the departure. A location is a place in one role (start, end,
//! collect, deliver) with one window: activities at the same location in a row are one stop, so
//! the service time is spent once. Both planners use [`Network::advance`] for the clock, so the
//! plan's times are exactly those the planners checked the windows with.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{
    Cargo, Place, RoundPlan, RoundRequest, RoutingError, Stop, StopKind, Unassigned, road_km,
};

/// Index of the start location.
pub(super) const START: usize = 0;
/// Index of the end location.
pub(super) const END: usize = 1;

/// What the vehicle does at a location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    Start,
    End,
    Collect,
    Deliver,
}

/// A place in one role, with one window.
#[derive(Clone, Debug)]
pub(super) struct Location {
    pub place: Place,
    pub role: Role,
    /// (earliest, latest) arrival, seconds after the departure.
    pub window: Option<(f64, f64)>,
    /// Service time, seconds, spent once per stop.
    pub service: f64,
}

/// A shipment the vehicle can carry on its own: collected at `pickup`, delivered at `delivery`.
#[derive(Clone, Debug)]
pub(super) struct Job {
    /// Index in the request's shipments.
    pub shipment: usize,
    pub pickup: usize,
    pub delivery: usize,
    /// Crates, then grams when the vehicle has a weight limit.
    pub load: Vec<i32>,
}

/// One half of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Activity {
    /// Index in [`Network::jobs`].
    pub job: usize,
    pub pickup: bool,
}

/// A shipment left out, by index in the request's shipments, with the reason.
pub(super) type LeftOut = (usize, String);

/// The validated round.
#[derive(Clone)]
pub(super) struct Network {
    pub locations: Vec<Location>,
    /// Each location's window and service as [`Self::advance`] reads them, side by side: the
    /// earliest and latest arrival (infinite without a window) and the service, seconds.
    clock: Vec<(f64, f64, f64)>,
    /// Road kilometres, row-major.
    km: Vec<f64>,
    /// Driving seconds, row-major.
    drive: Vec<f64>,
    pub jobs: Vec<Job>,
    /// Crates, then grams when the vehicle has a weight limit.
    pub capacity: Vec<i32>,
    /// Shipments that cannot be carried whatever the order of the stops.
    pub left_out: Vec<LeftOut>,
}

/// Seconds from `origin` to `at`.
fn seconds_after(origin: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    (at - origin).num_milliseconds() as f64 / 1000.0
}

/// `origin` plus whole seconds (rounded down, so that an arrival the planner found in time is
/// shown in time).
pub(super) fn instant(origin: DateTime<Utc>, seconds: f64) -> DateTime<Utc> {
    let whole = seconds.floor();
    let delta = if whole.is_finite() && whole.abs() < 1e12 {
        TimeDelta::try_seconds(whole as i64)
    } else {
        None
    };
    delta
        .and_then(|d| origin.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Kilometres rounded to 0.1 km.
pub(super) fn round_km(km: f64) -> f64 {
    (km * 10.0).round() / 10.0
}

fn check_place(place: &Place) -> Result<(), RoutingError> {
    let ok = place.latitude.is_finite()
        && place.longitude.is_finite()
        && place.latitude.abs() <= 90.0
        && place.longitude.abs() <= 180.0;
    if ok {
        Ok(())
    } else {
        Err(RoutingError::BadCoordinates {
            name: place.name.clone(),
            latitude: place.latitude,
            longitude: place.longitude,
        })
    }
}

fn check_window(
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    what: impl FnOnce() -> String,
) -> Result<(), RoutingError> {
    match window {
        Some((start, end)) if end < start => Err(RoutingError::BadWindow { what: what() }),
        _ => Ok(()),
    }
}

/// A vehicle's capacity as the planners see it: crates, then grams (rounded down) when the round
/// is `weighed`, unlimited when the vehicle has no weight limit.
pub(super) fn capacity_of(crates: u32, kg: Option<Decimal>, weighed: bool) -> Vec<i32> {
    let grams = kg.map_or(i32::MAX, |kg| {
        (kg * Decimal::from(1000))
            .floor()
            .to_i64()
            .and_then(|g| i32::try_from(g).ok())
            .unwrap_or(i32::MAX)
    });
    std::iter::once(i32::try_from(crates).unwrap_or(i32::MAX))
        .chain(weighed.then_some(grams))
        .collect()
}

/// Grams in `kg`, rounded up (a shipment is never lighter than it says).
fn grams_up(kg: Decimal) -> Option<i64> {
    (kg * Decimal::from(1000)).ceil().to_i64()
}

/// "08:47 UTC": the time of a window's end in a reason.
fn hhmm(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

impl Network {
    /// Validates the request and builds the matrices and jobs.
    pub fn build(req: &RoundRequest) -> Result<Self, RoutingError> {
        if !(req.speed_kmh.is_finite() && req.speed_kmh > 0.0) {
            return Err(RoutingError::BadSetting {
                what: "speed".to_string(),
                detail: format!("{} km/h, expected a positive number", req.speed_kmh),
            });
        }
        if !(req.detour_factor.is_finite() && req.detour_factor >= 1.0) {
            return Err(RoutingError::BadSetting {
                what: "detour factor".to_string(),
                detail: format!("{}, expected a number of at least 1", req.detour_factor),
            });
        }
        if let Some(kg) = req.capacity_kg
            && kg.is_sign_negative()
        {
            return Err(RoutingError::BadSetting {
                what: "vehicle capacity".to_string(),
                detail: format!("{kg} kg"),
            });
        }

        // Places: valid coordinates, and one position per key.
        let all_places = [&req.start, &req.end]
            .into_iter()
            .chain(req.farms.iter().map(|f| &f.place))
            .chain(req.points.iter().map(|p| &p.place));
        let mut positions: HashMap<&str, (f64, f64)> = HashMap::new();
        for place in all_places {
            check_place(place)?;
            let at = (place.latitude, place.longitude);
            let known = *positions.entry(place.key.as_str()).or_insert(at);
            if (known.0 - at.0).abs() > 1e-9 || (known.1 - at.1).abs() > 1e-9 {
                return Err(RoutingError::ConflictingPlace {
                    key: place.key.clone(),
                });
            }
        }

        let mut farms = HashMap::new();
        for (i, farm) in req.farms.iter().enumerate() {
            if farms.insert(farm.producer_id, i).is_some() {
                return Err(RoutingError::Duplicate {
                    what: format!("producer {}", farm.producer_id),
                });
            }
            check_window(farm.window, || format!("farm \"{}\"", farm.place.name))?;
        }
        let mut points = HashMap::new();
        for (i, point) in req.points.iter().enumerate() {
            if points.insert(point.slot_id, i).is_some() {
                return Err(RoutingError::Duplicate {
                    what: format!("slot {}", point.slot_id),
                });
            }
            check_window(point.window, || {
                format!("pickup point \"{}\"", point.place.name)
            })?;
        }

        let weighed = req.capacity_kg.is_some();
        let capacity_grams = req.capacity_kg.map(|kg| {
            (kg * Decimal::from(1000))
                .floor()
                .to_i64()
                .unwrap_or(i64::MAX)
        });

        // Locations, in a deterministic order: start, end, then as the shipments name them.
        let mut locations = vec![
            Location {
                place: req.start.clone(),
                role: Role::Start,
                window: None,
                service: 0.0,
            },
            Location {
                place: req.end.clone(),
                role: Role::End,
                window: None,
                service: 0.0,
            },
        ];
        type LocationKey = (Role, String, Option<(i64, i64)>);
        let mut index: HashMap<LocationKey, usize> = HashMap::new();
        let mut locate = |role: Role,
                          place: &Place,
                          window: Option<(DateTime<Utc>, DateTime<Utc>)>,
                          minutes: u32| {
            let key = (
                role,
                place.key.clone(),
                window.map(|(s, e)| (s.timestamp_millis(), e.timestamp_millis())),
            );
            *index.entry(key).or_insert_with(|| {
                locations.push(Location {
                    place: place.clone(),
                    role,
                    window: window.map(|(s, e)| {
                        (
                            seconds_after(req.departure, s),
                            seconds_after(req.departure, e),
                        )
                    }),
                    service: f64::from(minutes) * 60.0,
                });
                locations.len() - 1
            })
        };

        let mut planned = Vec::new();
        for (i, s) in req.shipments.iter().enumerate() {
            let farm = farms.get(&s.producer_id).map(|&f| &req.farms[f]).ok_or(
                RoutingError::UnknownFarm {
                    producer_id: s.producer_id,
                    slot_id: s.slot_id,
                },
            )?;
            let point = points.get(&s.slot_id).map(|&p| &req.points[p]).ok_or(
                RoutingError::UnknownPoint {
                    producer_id: s.producer_id,
                    slot_id: s.slot_id,
                },
            )?;
            let grams =
                grams_up(s.kg)
                    .filter(|g| *g >= 0)
                    .ok_or_else(|| RoutingError::BadSetting {
                        what: format!(
                            "weight of the shipment from producer {} to slot {}",
                            s.producer_id, s.slot_id
                        ),
                        detail: format!("{} kg", s.kg),
                    })?;
            let pickup = locate(Role::Collect, &farm.place, farm.window, req.collect_minutes);
            let delivery = locate(
                Role::Deliver,
                &point.place,
                point.window,
                req.deliver_minutes,
            );
            planned.push((i, s, farm, point, grams, pickup, delivery));
        }

        let n = locations.len();
        let mut km = vec![0.0; n * n];
        let mut drive = vec![0.0; n * n];
        for (a, from) in locations.iter().enumerate() {
            for (b, to) in locations.iter().enumerate() {
                let d = road_km(&from.place, &to.place, req.detour_factor);
                km[a * n + b] = d;
                drive[a * n + b] = d / req.speed_kmh * 3600.0;
            }
        }

        let capacity: Vec<i32> =
            std::iter::once(i32::try_from(req.capacity_crates).unwrap_or(i32::MAX))
                .chain(capacity_grams.map(|g| i32::try_from(g).unwrap_or(i32::MAX)))
                .collect();
        let clock = locations
            .iter()
            .map(|l| {
                let (earliest, latest) = l.window.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                (earliest, latest, l.service)
            })
            .collect();
        let mut net = Self {
            locations,
            clock,
            km,
            drive,
            jobs: Vec::new(),
            capacity,
            left_out: Vec::new(),
        };

        for (i, s, farm, point, grams, pickup, delivery) in planned {
            if s.crates > req.capacity_crates {
                net.left_out.push((
                    i,
                    format!(
                        "{} crates do not fit in a vehicle that holds {}",
                        s.crates, req.capacity_crates
                    ),
                ));
                continue;
            }
            if let (Some(limit), Some(cap)) = (capacity_grams, req.capacity_kg)
                && grams > limit
            {
                net.left_out.push((
                    i,
                    format!("{} kg exceed the vehicle's limit of {} kg", s.kg, cap),
                ));
                continue;
            }
            // The earliest the vehicle can be at the farm, then at the point: straight there.
            let Some(collected) = net.advance(START, 0.0, pickup) else {
                let closes = farm.window.map(|w| hhmm(w.1)).unwrap_or_default();
                net.left_out.push((
                    i,
                    format!(
                        "the vehicle cannot reach {} before its window closes at {closes}",
                        farm.place.name
                    ),
                ));
                continue;
            };
            if net.advance(pickup, collected, delivery).is_none() {
                let closes = point.window.map(|w| hhmm(w.1)).unwrap_or_default();
                net.left_out.push((
                    i,
                    format!(
                        "the vehicle cannot reach {} before its window closes at {closes}, even straight from {}",
                        point.place.name, farm.place.name
                    ),
                ));
                continue;
            }
            let mut load = vec![i32::try_from(s.crates).unwrap_or(i32::MAX)];
            if weighed {
                load.push(i32::try_from(grams).unwrap_or(i32::MAX));
            }
            net.jobs.push(Job {
                shipment: i,
                pickup,
                delivery,
                load,
            });
        }
        Ok(net)
    }

    /// The same round for a vehicle of another capacity (crates, then grams when the round is
    /// weighed): the jobs keep their indices.
    pub fn with_capacity(&self, capacity: Vec<i32>) -> Self {
        let mut net = self.clone();
        net.capacity = capacity;
        net
    }

    /// The round reduced to some of its jobs (`jobs`, indices in [`Self::jobs`], become jobs 0,
    /// 1, …), for a vehicle of `capacity`.
    pub fn restricted(&self, jobs: &[usize], capacity: Vec<i32>) -> Self {
        Self {
            locations: self.locations.clone(),
            clock: self.clock.clone(),
            km: self.km.clone(),
            drive: self.drive.clone(),
            jobs: jobs.iter().map(|&j| self.jobs[j].clone()).collect(),
            capacity,
            left_out: Vec::new(),
        }
    }

    /// Whether loads carry grams besides crates (some vehicle has a weight limit).
    pub fn weighed(&self) -> bool {
        self.capacity.len() > 1
    }

    /// Number of locations.
    pub fn size(&self) -> usize {
        self.locations.len()
    }

    /// Road kilometres from `a` to `b`.
    pub fn km(&self, a: usize, b: usize) -> f64 {
        self.km[a * self.size() + b]
    }

    /// Driving seconds from `a` to `b`.
    pub fn drive(&self, a: usize, b: usize) -> f64 {
        self.drive[a * self.size() + b]
    }

    /// The sum of `leg` over a route doing `order`, from the start to the end.
    pub fn along(&self, order: &[Activity], leg: impl Fn(usize, usize) -> f64) -> f64 {
        let mut at = START;
        let mut total = 0.0;
        for a in order {
            let here = self.location(*a);
            total += leg(at, here);
            at = here;
        }
        total + leg(at, END)
    }

    /// Location of an activity.
    pub fn location(&self, activity: Activity) -> usize {
        let job = &self.jobs[activity.job];
        if activity.pickup {
            job.pickup
        } else {
            job.delivery
        }
    }

    /// The latest arrival at `location` (infinite without a window) and its service, seconds.
    pub fn closes(&self, location: usize) -> (f64, f64) {
        let (_, latest, service) = self.clock[location];
        (latest, service)
    }

    /// The clock: leaving `from` at `time`, when the vehicle leaves `to` after its service there,
    /// or `None` when it arrives after the window's end. Staying at the same location (another
    /// shipment of the same stop) takes no time.
    pub fn advance(&self, from: usize, time: f64, to: usize) -> Option<f64> {
        if from == to {
            return Some(time);
        }
        let arrival = time + self.drive(from, to);
        // Without a window, (−∞, +∞): the same arithmetic as no window at all.
        let (earliest, latest, service) = self.clock[to];
        if arrival > latest {
            return None;
        }
        Some(arrival.max(earliest) + service)
    }

    /// The travel time the solver sees from `a` to `b`: driving plus the service at `b`, nothing
    /// when staying. With windows shifted by the service time (see [`Self::solver_window`]) this
    /// is exactly [`Self::advance`].
    pub fn solver_duration(&self, a: usize, b: usize) -> f64 {
        if a == b {
            0.0
        } else {
            self.drive(a, b) + self.locations[b].service
        }
    }

    /// The window the solver sees at a location: shifted by the service time, since its arrival
    /// is the end of the service.
    pub fn solver_window(&self, location: usize) -> Option<(f64, f64)> {
        let l = &self.locations[location];
        l.window
            .map(|(earliest, latest)| (earliest + l.service, latest + l.service))
    }

    /// The plan for an order of activities (each job's pickup before its delivery), with the
    /// shipments the planner left out.
    pub fn plan(
        &self,
        req: &RoundRequest,
        order: &[Activity],
        left_out: Vec<LeftOut>,
    ) -> RoundPlan {
        let cargo = |job: usize| {
            let s = &req.shipments[self.jobs[job].shipment];
            Cargo {
                producer_id: s.producer_id,
                slot_id: s.slot_id,
                crates: s.crates,
                kg: s.kg,
            }
        };
        let mut stops = vec![Stop {
            sequence: 0,
            kind: StopKind::Start,
            place: req.start.clone(),
            producer_id: None,
            slot_id: None,
            arrival: req.departure,
            departure: req.departure,
            km_from_previous: 0.0,
            km_total: 0.0,
            load_crates: 0,
            load_kg: Decimal::ZERO,
            picked_up: Vec::new(),
            dropped: Vec::new(),
        }];
        let (mut at, mut time, mut km_total) = (START, 0.0_f64, 0.0_f64);
        let (mut crates, mut kg) = (0_u32, Decimal::ZERO);

        let mut rest = order;
        while let Some(first) = rest.first() {
            let here = self.location(*first);
            let len = rest
                .iter()
                .take_while(|a| self.location(**a) == here)
                .count();
            let (group, tail) = rest.split_at(len);
            rest = tail;

            let location = &self.locations[here];
            let arrival = time + self.drive(at, here);
            let start = location
                .window
                .map_or(arrival, |(earliest, _)| arrival.max(earliest));
            let departure = start + location.service;
            let km = self.km(at, here);
            km_total += km;

            let (mut picked_up, mut dropped) = (Vec::new(), Vec::new());
            for activity in group {
                let c = cargo(activity.job);
                if activity.pickup {
                    crates = crates.saturating_add(c.crates);
                    kg += c.kg;
                    picked_up.push(c);
                } else {
                    crates = crates.saturating_sub(c.crates);
                    kg -= c.kg;
                    dropped.push(c);
                }
            }
            let handled = || picked_up.iter().chain(dropped.iter());
            let common = |id: fn(&Cargo) -> i64| {
                let first = handled().next().map(id);
                first.filter(|f| handled().all(|c| id(c) == *f))
            };
            let collect = location.role == Role::Collect;
            stops.push(Stop {
                sequence: u32::try_from(stops.len()).unwrap_or(u32::MAX),
                kind: if collect {
                    StopKind::Collect
                } else {
                    StopKind::Deliver
                },
                place: location.place.clone(),
                producer_id: if collect {
                    common(|c| c.producer_id)
                } else {
                    None
                },
                slot_id: if collect { None } else { common(|c| c.slot_id) },
                arrival: instant(req.departure, arrival),
                departure: instant(req.departure, departure),
                km_from_previous: round_km(km),
                km_total: round_km(km_total),
                load_crates: crates,
                load_kg: kg,
                picked_up,
                dropped,
            });
            at = here;
            time = departure;
        }

        let km = self.km(at, END);
        km_total += km;
        let arrival = instant(req.departure, time + self.drive(at, END));
        stops.push(Stop {
            sequence: u32::try_from(stops.len()).unwrap_or(u32::MAX),
            kind: StopKind::End,
            place: req.end.clone(),
            producer_id: None,
            slot_id: None,
            arrival,
            departure: arrival,
            km_from_previous: round_km(km),
            km_total: round_km(km_total),
            load_crates: crates,
            load_kg: kg,
            picked_up: Vec::new(),
            dropped: Vec::new(),
        });

        let mut unassigned: Vec<LeftOut> = self.left_out.iter().cloned().chain(left_out).collect();
        unassigned.sort_by_key(|(i, _)| *i);
        let seconds = (arrival - req.departure).num_seconds().max(0);
        RoundPlan {
            stops,
            total_km: round_km(km_total),
            total_minutes: u32::try_from((seconds + 30) / 60).unwrap_or(u32::MAX),
            unassigned: unassigned
                .into_iter()
                .map(|(i, reason)| Unassigned {
                    producer_id: req.shipments[i].producer_id,
                    slot_id: req.shipments[i].slot_id,
                    reason,
                })
                .collect(),
        }
    }
}
