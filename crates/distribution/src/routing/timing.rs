//! Constant-time feasibility checks for the local search and the cheapest insertion: a round's
//! clock, loads and latest departures computed once ([`Schedule`] for insertions, [`Prefix`] for
//! moves of the local search), so that a change is checked on the stops it touches only.
//!
//! Both use [`Network::advance`], the clock of the plans, and are exact: waiting for a window to
//! open is counted. The clock is monotone (leaving earlier never arrives later), which is what
//! lets a check stop as soon as the changed round is back on or ahead of the old one's time.

use super::network::{Activity, Network, START};

/// A feasible route's clock and loads, to check insertions exactly in constant time each:
/// `departure[i]` and the load after position `i` (0 the start, `i` the route's activity
/// `i - 1`), and the latest departure from position `i` that keeps every later window (the start
/// of the route excluded: nothing to keep before the first activity).
pub(super) struct Schedule {
    /// The location of each position, the end's last.
    at: Vec<usize>,
    pub departure: Vec<f64>,
    /// Loads after each position, `dims` values per position.
    load: Vec<i64>,
    pub dims: usize,
    latest: Vec<f64>,
    /// Whether the route keeps the capacity after every activity.
    room: bool,
}

impl Schedule {
    pub fn of(net: &Network, locations: &[usize], route: &[Activity]) -> Self {
        let mut schedule = Self {
            at: Vec::new(),
            departure: Vec::new(),
            load: Vec::new(),
            dims: net.capacity.len(),
            latest: Vec::new(),
            room: true,
        };
        let _ = schedule.refill(net, locations, route);
        schedule
    }

    /// Makes this the schedule of another route, in the same buffers; returns whether the route
    /// keeps the capacity after every activity and every window.
    pub fn refill(&mut self, net: &Network, locations: &[usize], route: &[Activity]) -> bool {
        let loads: Vec<i64> = net
            .jobs
            .iter()
            .flat_map(|j| j.load.iter().map(|l| i64::from(*l)))
            .collect();
        self.refill_with(net, &loads, locations, route)
    }

    /// [`Self::refill`] with the jobs' loads side by side (`dims` values per job).
    pub fn refill_with(
        &mut self,
        net: &Network,
        loads: &[i64],
        locations: &[usize],
        route: &[Activity],
    ) -> bool {
        let len = route.len();
        let dims = net.capacity.len();
        self.dims = dims;
        let departure = &mut self.departure;
        departure.clear();
        departure.resize(len + 1, 0.0);
        let load = &mut self.load;
        load.clear();
        load.resize(dims * (len + 1), 0);
        let room = forward(net, loads, locations, route, 0, (departure, load));
        // A window missed leaves every later departure infinite.
        let on_time = departure[len].is_finite();
        // latest[i]: the latest departure from position i keeping positions i + 1.. in time.
        let latest = &mut self.latest;
        latest.clear();
        latest.resize(len + 2, f64::INFINITY);
        backward(net, locations, len, latest);
        self.at.clear();
        self.at.extend_from_slice(locations);
        self.room = room;
        room && on_time
    }

    /// [`Self::refill_with`] for a route whose first `kept` and last `shared` activities are the
    /// last route's (`kept + shared` at most the shorter's length): the departures and loads from
    /// position `kept` on, the latest departures up to the shared end, the rest moved. The same
    /// numbers as a refill: each is computed by the same steps from the same inputs.
    pub fn update(
        &mut self,
        net: &Network,
        loads: &[i64],
        locations: &[usize],
        route: &[Activity],
        (kept, shared): (usize, usize),
    ) -> bool {
        if !self.room {
            // Which positions of the last route were over the capacity is not kept.
            return self.refill_with(net, loads, locations, route);
        }
        let (old, len) = (self.departure.len() - 1, route.len());
        let dims = self.dims;
        let departure = &mut self.departure;
        departure.resize(len + 1, 0.0);
        let load = &mut self.load;
        load.resize(dims * (len + 1), 0);
        let room = forward(net, loads, locations, route, kept, (departure, load));
        let on_time = departure[len].is_finite();
        // The shared end's latest departures (positions from `len + 1 - shared` to the end's),
        // where they now are.
        let from_new = len + 1 - shared;
        let latest = &mut self.latest;
        move_tail(latest, old + 1 - shared, from_new, f64::INFINITY);
        latest[len] = f64::INFINITY;
        backward(net, locations, from_new.min(len), latest);
        self.at.clear();
        self.at.extend_from_slice(locations);
        self.room = room;
        room && on_time
    }

    /// The load after position `i`.
    pub fn load(&self, i: usize) -> &[i64] {
        &self.load[i * self.dims..(i + 1) * self.dims]
    }

    /// Whether leaving `from` at `time`, the vehicle can still make position `next` and all the
    /// positions after it in time (`latest` is exact: waiting for a window to open is counted).
    #[inline]
    pub fn keeps(&self, net: &Network, from: usize, time: f64, next: usize) -> bool {
        if next >= self.departure.len() {
            return true;
        }
        net.advance(from, time, self.at[next])
            .is_some_and(|t| t <= self.latest[next] + 1e-6)
    }
}

/// Moves `v[from_old..]` (a route's shared end) to start at `from_new`, the vector then ending
/// with it: longer (the new room filled with `fill`, overwritten by the caller) or shorter.
pub(super) fn move_tail<T: Copy>(v: &mut Vec<T>, from_old: usize, from_new: usize, fill: T) {
    let old_len = v.len();
    let new_len = from_new + (old_len - from_old);
    if new_len >= old_len {
        v.resize(new_len, fill);
        v.copy_within(from_old..old_len, from_new);
    } else {
        v.copy_within(from_old..old_len, from_new);
        v.truncate(new_len);
    }
}

/// The departures and loads after positions `from + 1` to the route's end, each from the one
/// before (`departure` and `load` already sized for the route); whether every load computed
/// fits the vehicle.
fn forward(
    net: &Network,
    loads: &[i64],
    locations: &[usize],
    route: &[Activity],
    from: usize,
    (departure, load): (&mut [f64], &mut [i64]),
) -> bool {
    let dims = net.capacity.len();
    let mut room = true;
    for i in from + 1..=route.len() {
        departure[i] = net
            .advance(locations[i - 1], departure[i - 1], locations[i])
            .unwrap_or(f64::INFINITY);
        let a = route[i - 1];
        let sign = if a.pickup { 1 } else { -1 };
        for (k, l) in loads[a.job * dims..(a.job + 1) * dims].iter().enumerate() {
            let after = load[(i - 1) * dims + k] + sign * *l;
            load[i * dims + k] = after;
            room &= after <= i64::from(net.capacity[k]);
        }
    }
    room
}

/// The latest departures from positions `upto - 1` down to 0, each from the one after.
fn backward(net: &Network, locations: &[usize], upto: usize, latest: &mut [f64]) {
    for i in (0..upto).rev() {
        let (here, next) = (locations[i], locations[i + 1]);
        latest[i] = if here == next {
            latest[i + 1]
        } else {
            let (close, service) = net.closes(next);
            close.min(latest[i + 1] - service) - net.drive(here, next)
        };
    }
}

/// A round of blocks (the activities done in a row at one location) indexed for the local
/// search's moves: the departure and loads after each block, and the block of each job's
/// pickup. A move that rearranges blocks `from..resume` is checked by [`Prefix::keeps`] on the
/// rearranged part, then on the blocks after it until the clock is back on the old round's time.
pub(super) struct Prefix {
    /// Departure after each block.
    departure: Vec<f64>,
    /// Load after each block, `dims` values per block.
    load: Vec<i64>,
    dims: usize,
    /// The block of each job's pickup (`usize::MAX`: not in the round).
    pickup_block: Vec<usize>,
    /// When each job's pickup was met in the current check.
    seen: Vec<u64>,
    check: u64,
    locations: Vec<usize>,
}

impl Prefix {
    /// An empty index for the jobs of `net`.
    pub fn new(net: &Network) -> Self {
        Self {
            departure: Vec::new(),
            load: Vec::new(),
            dims: net.capacity.len(),
            pickup_block: vec![usize::MAX; net.jobs.len()],
            seen: vec![0; net.jobs.len()],
            check: 0,
            locations: Vec::new(),
        }
    }

    /// Indexes a feasible round given as its blocks: (location, activities).
    pub fn index<'b>(
        &mut self,
        net: &Network,
        blocks: impl Iterator<Item = (usize, &'b [Activity])>,
    ) {
        self.departure.clear();
        self.load.clear();
        self.locations.clear();
        let dims = self.dims;
        let mut load = vec![0_i64; dims];
        let (mut at, mut time) = (START, 0.0);
        for (k, (location, activities)) in blocks.enumerate() {
            time = net.advance(at, time, location).unwrap_or(f64::INFINITY);
            at = location;
            for a in activities {
                let sign = if a.pickup { 1 } else { -1 };
                for (l, add) in load.iter_mut().zip(&net.jobs[a.job].load) {
                    *l += sign * i64::from(*add);
                }
                if a.pickup {
                    self.pickup_block[a.job] = k;
                }
            }
            self.departure.push(time);
            self.load.extend_from_slice(&load);
            self.locations.push(location);
        }
    }

    /// Whether the indexed round stays feasible when its blocks `from..resume` are replaced by
    /// `region` (the same activities, rearranged): precedence and capacity in the region, the
    /// clock there and after it until it is no later than before.
    pub fn keeps<'b>(
        &mut self,
        net: &Network,
        from: usize,
        region: impl Iterator<Item = (usize, &'b [Activity])>,
        resume: usize,
    ) -> bool {
        self.check += 1;
        let check = self.check;
        let dims = self.dims;
        let mut load = vec![0_i64; dims];
        let (mut at, mut time) = if from == 0 {
            (START, 0.0)
        } else {
            load.copy_from_slice(&self.load[(from - 1) * dims..from * dims]);
            (self.locations[from - 1], self.departure[from - 1])
        };
        for (location, activities) in region {
            let Some(next) = net.advance(at, time, location) else {
                return false;
            };
            (at, time) = (location, next);
            for a in activities {
                let job = &net.jobs[a.job];
                if a.pickup {
                    self.seen[a.job] = check;
                    for ((l, add), cap) in load.iter_mut().zip(&job.load).zip(&net.capacity) {
                        *l += i64::from(*add);
                        if *l > i64::from(*cap) {
                            return false;
                        }
                    }
                } else {
                    if self.pickup_block[a.job] >= from && self.seen[a.job] != check {
                        return false;
                    }
                    for (l, sub) in load.iter_mut().zip(&job.load) {
                        *l -= i64::from(*sub);
                    }
                }
            }
        }
        // The blocks after the region are as they were, and so are their loads.
        for k in resume..self.locations.len() {
            let location = self.locations[k];
            let Some(next) = net.advance(at, time, location) else {
                return false;
            };
            (at, time) = (location, next);
            if time <= self.departure[k] {
                return true;
            }
        }
        true
    }
}
