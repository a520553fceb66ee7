//! The search of [`plan_fleet`](super::plan_fleet) for several vehicles: a cheapest-insertion
//! construction, then SISR (string removals, insertion with blinks, simulated annealing; the first
//! pass's large neighbourhood search kept behind [`SISR`] to compare), then a last polish. Seeded and with a budget in
//! iterations: the same request gives the same plan. A search runs in steps ([`Search::start`],
//! [`Search::advance`], [`Search::finish`], its state in a [`Progress`]) so that the searches of a
//! round can be raced (`super::race`).

use super::super::network::{Activity, END, Network, START};
use super::super::polish::{Router, Seeded, kicks_for};
use super::{EPSILON, FleetSearch};

/// At most this many shipments taken out at once.
const MAX_REMOVED: usize = 10;
/// The search accepts plans up to this much longer than the best (a fraction), shrinking to 0.
const TOLERANCE: f64 = 0.01;
/// Candidates longer than this (a fraction) above the acceptance line are not polished.
const PROMISING: f64 = 0.03;
/// Left-out jobs are swapped in by ejecting one or two of this many carried jobs nearest them.
const EJECT_NEAR: usize = 10;
/// One iteration in this many first exchanges runs of whole trips between two vehicles.
const SWAP_ONE_IN: usize = 10;
/// The search fights for the jobs its best plan leaves out this many times.
const CHECKS: usize = 4;
/// SISR (Christiaens & Vanden Berghe 2020): the average number of shipments a ruin removes (c̄)
/// and the longest string, in activities (L_max), the paper's values.
const SISR_AVERAGE_REMOVED: f64 = 10.0;
const SISR_MAX_STRING: usize = 10;
/// The split string's depth (β): the run kept inside the string grows while a draw is above it.
const SISR_SPLIT_DEPTH: f64 = 0.01;
/// One iteration in this share takes out a seed job and the jobs nearest it by farm and point
/// (in any vehicle, anywhere in its round) instead of SISR's strings. With 2 to 4 vehicles whose
/// rounds rarely empty before the end, a round is one trip: SISR takes at most one string per
/// vehicle, and the jobs near a seed that its vehicle serves at another time of the day, or that
/// another vehicle serves, are seldom taken out together (BENCHMARKS.md, 7 December, fifth pass).
const RELATED_SHARE: f64 = 0.3;
/// The greedy insertion passes over a feasible position with this probability.
const BLINK: f64 = 0.01;
/// The annealing's temperature, from / to, in mean legs of the first plan. The paper's 100 to 1
/// on instances whose legs average some 250 units would be 0.4 to 0.004; starting at three times
/// the paper's (four times the 0.3 used before; the searches are raced, so the early plans matter
/// less) gave plans 0.2 points nearer the best known over 24 seeds (BENCHMARKS.md, 8 December,
/// ninth pass).
const T_START: f64 = 1.2;
const T_END: f64 = 0.005;
/// The temperature of [`Search::carry`]'s annealing on the rounds' time, in seconds.
const CARRY_TEMPERATURE: f64 = 60.0;
/// SISR (true), or the first pass's removals with a shrinking tolerance and the local search on
/// every promising candidate (kept to compare; BENCHMARKS.md, 7 December, second pass).
const SISR: bool = true;

/// A fleet solution: each vehicle's order, the jobs left out, the kilometres.
#[derive(Clone)]
struct Solution {
    orders: Vec<Vec<Activity>>,
    left: Vec<usize>,
    km: f64,
}

impl Solution {
    /// Carries more jobs, or as many in fewer kilometres (by more than `slack` km).
    fn beats(&self, other: &Solution, slack: f64) -> bool {
        self.left.len() < other.left.len()
            || (self.left.len() == other.left.len() && self.km < other.km - slack)
    }
}

/// For each job, every job, the nearest first by farm and point (itself first): the same for
/// every search of a round, worked out once ([`Search::new`] borrows it).
pub(super) fn related_jobs(net: &Network) -> Vec<Vec<usize>> {
    let apart = |a: usize, b: usize| {
        let (x, y) = (&net.jobs[a], &net.jobs[b]);
        net.km(x.pickup, y.pickup) + net.km(x.delivery, y.delivery)
    };
    (0..net.jobs.len())
        .map(|a| {
            let mut others: Vec<usize> = (0..net.jobs.len()).collect();
            others.sort_by(|&x, &y| {
                (x != a)
                    .cmp(&(y != a))
                    .then(apart(a, x).total_cmp(&apart(a, y)))
                    .then(x.cmp(&y))
            });
            others
        })
        .collect()
}

/// The fleet search: one [`Router`] per vehicle.
pub(super) struct Search<'a> {
    net: &'a Network,
    routers: Vec<Router<'a>>,
    budget: FleetSearch,
    /// Every job, for each job, the nearest first by farm and point ([`related_jobs`]).
    related: &'a [Vec<usize>],
    /// Scratch of [`Self::place`]: the vehicle of each job.
    owner: Vec<usize>,
}

impl<'a> Search<'a> {
    /// A search over the vehicles of `nets` (the round `net` with each vehicle's capacity);
    /// `related` is [`related_jobs`] of `net`.
    pub fn new(
        net: &'a Network,
        nets: &'a [Network],
        related: &'a [Vec<usize>],
        budget: FleetSearch,
    ) -> Self {
        Self {
            net,
            routers: nets.iter().map(Router::new).collect(),
            budget,
            related,
            owner: Vec::new(),
        }
    }

    fn km(&self, orders: &[Vec<Activity>]) -> f64 {
        self.routers.iter().zip(orders).map(|(r, o)| r.km(o)).sum()
    }

    /// Inserts `jobs` in turn, each in the vehicle where it costs the fewest kilometres; returns
    /// the vehicles whose rounds changed. Jobs that fit nowhere go to `sol.left`.
    fn insert(&mut self, sol: &mut Solution, jobs: &[usize], changed: &mut [bool]) {
        self.place(sol, jobs, changed, &mut || false, None);
    }

    /// [`Self::insert`], a feasible place passed over when `blink` says so. With `tried`, the
    /// jobs it marks (left out of rounds they fitted nowhere in) are tried only in the vehicles
    /// it marks (the rounds changed since): a round with more in it has no more room or time.
    fn place(
        &mut self,
        sol: &mut Solution,
        jobs: &[usize],
        changed: &mut [bool],
        blink: &mut dyn FnMut() -> bool,
        tried: Option<(&[bool], &[bool])>,
    ) {
        // Which vehicle carries each job: each job is tried first in the vehicle of the nearest
        // job carried, where it is likely cheapest, so that the others are searched under a
        // low limit (most of their positions ruled out at once).
        let mut owner = std::mem::take(&mut self.owner);
        owner.clear();
        owner.resize(self.net.jobs.len(), usize::MAX);
        for (v, order) in sol.orders.iter().enumerate() {
            for a in order {
                owner[a.job] = v;
            }
        }
        let vehicles = self.routers.len();
        for &job in jobs {
            let first = self.related[job]
                .iter()
                .map(|&k| owner[k])
                .find(|&v| v != usize::MAX)
                .unwrap_or(0);
            let mut best: Option<(f64, usize, usize, usize)> = None;
            for v in std::iter::once(first).chain((0..vehicles).filter(|&v| v != first)) {
                let router = &mut self.routers[v];
                if tried.is_some_and(|(jobs, vehicles)| jobs[job] && !vehicles[v]) {
                    continue;
                }
                // Only places cheaper than another vehicle's are looked for.
                let limit = best.map_or(f64::INFINITY, |(b, ..)| b);
                if let Some((cost, p, d)) = router.insertion(&sol.orders[v], job, blink, limit)
                    && best.is_none_or(|(b, ..)| cost < b - EPSILON)
                {
                    best = Some((cost, v, p, d));
                }
            }
            match best {
                Some((_, v, p, d)) => {
                    let order = &mut sol.orders[v];
                    order.insert(d, Activity { job, pickup: false });
                    order.insert(p, Activity { job, pickup: true });
                    changed[v] = true;
                    owner[job] = v;
                }
                None => sol.left.push(job),
            }
        }
        self.owner = owner;
    }

    /// Brings left-out jobs in by ejection: for each, one or two of the carried jobs nearest it
    /// (by farm and point) taken out, the left-out job inserted first, then those taken out put
    /// back anywhere; kept when everything fits, whatever the kilometres (carrying more comes
    /// first). Returns whether `sol` carries more.
    fn swap_in(&mut self, sol: &mut Solution) -> bool {
        let vehicles = self.routers.len();
        let mut gained = false;
        let mut i = 0;
        'jobs: while i < sol.left.len() {
            let job = sol.left[i];
            let near = self.nearest_carried(sol, job, EJECT_NEAR);
            let mut tries: Vec<Vec<usize>> = near.iter().map(|&k| vec![k]).collect();
            for (a, &k) in near.iter().enumerate() {
                tries.extend(near[a + 1..].iter().map(|&l| vec![k, l]));
            }
            for ejected in tries {
                let mut trial = sol.clone();
                trial.left.clear();
                let mut changed = vec![false; vehicles];
                for (v, order) in trial.orders.iter_mut().enumerate() {
                    let before = order.len();
                    order.retain(|a| !ejected.contains(&a.job));
                    changed[v] = order.len() != before;
                }
                let jobs: Vec<usize> = std::iter::once(job).chain(ejected).collect();
                self.insert(&mut trial, &jobs, &mut changed);
                if trial.left.is_empty() {
                    trial.left = sol.left.iter().copied().filter(|&j| j != job).collect();
                    self.settle(&mut trial, &changed);
                    *sol = trial;
                    gained = true;
                    i = 0;
                    continue 'jobs;
                }
            }
            i += 1;
        }
        gained
    }

    /// Where a vehicle's round can be cut into trips: the positions (0 to its length) where it
    /// is empty.
    fn trips(&self, order: &[Activity]) -> Vec<usize> {
        let net = self.net;
        let mut load = vec![0_i64; net.capacity.len()];
        let mut cuts = vec![0];
        for (i, a) in order.iter().enumerate() {
            let sign = if a.pickup { 1 } else { -1 };
            for (l, add) in load.iter_mut().zip(&net.jobs[a.job].load) {
                *l += sign * i64::from(*add);
            }
            if load.iter().all(|l| *l == 0) {
                cuts.push(i + 1);
            }
        }
        cuts
    }

    /// Swaps trips between two vehicles: `v`'s activities `a..b` for `w`'s `c..d` (each run whole
    /// trips, either may be empty), when both rounds stay feasible; returns whether it did.
    fn cross(
        &mut self,
        sol: &mut Solution,
        (v, (a, b)): (usize, (usize, usize)),
        (w, (c, d)): (usize, (usize, usize)),
        changed: &mut [bool],
    ) -> bool {
        if v == w || (a == b && c == d) {
            return false;
        }
        let (ov, ow) = (&sol.orders[v], &sol.orders[w]);
        let new_v: Vec<Activity> = [&ov[..a], &ow[c..d], &ov[b..]].concat();
        let new_w: Vec<Activity> = [&ow[..c], &ov[a..b], &ow[d..]].concat();
        if !(self.routers[v].fits(&new_v) && self.routers[w].fits(&new_w)) {
            return false;
        }
        sol.orders[v] = new_v;
        sol.orders[w] = new_w;
        changed[v] = true;
        changed[w] = true;
        true
    }

    /// Each exchange of two vehicles' rounds or of one trip of each, the left-out jobs then tried
    /// again (inserted, then swapped in); the best plan kept.
    fn exchanges(&mut self, sol: &mut Solution) {
        let vehicles = self.routers.len();
        // Until no exchange carries more or shortens the plan (each kept one does one or the
        // other: this ends).
        for (v, w) in (0..vehicles).flat_map(|v| (v + 1..vehicles).map(move |w| (v, w))) {
            {
                let (tv, tw) = (self.trips(&sol.orders[v]), self.trips(&sol.orders[w]));
                // Every run of whole trips (or none) of one for every run of the other.
                let runs = |t: &[usize]| -> Vec<(usize, usize)> {
                    (0..t.len())
                        .flat_map(|a| (a..t.len()).map(move |b| (a, b)))
                        .map(|(a, b)| (t[a], t[b]))
                        .filter(|(a, b)| a < b || *a == 0)
                        .collect()
                };
                let (rv, rw) = (runs(&tv), runs(&tw));
                let swaps: Vec<_> = rv
                    .iter()
                    .flat_map(|&x| rw.iter().map(move |&y| (x, y)))
                    .collect();
                for (sv, sw) in swaps {
                    let mut trial = sol.clone();
                    let mut changed = vec![false; vehicles];
                    if self.cross(&mut trial, (v, sv), (w, sw), &mut changed) {
                        let left = std::mem::take(&mut trial.left);
                        self.insert(&mut trial, &left, &mut changed);
                        if trial.left.len() == sol.left.len() {
                            // Only for room: no shorter plan is looked for here.
                            continue;
                        }
                        self.settle(&mut trial, &changed);
                        if trial.beats(sol, EPSILON) {
                            *sol = trial;
                            return self.exchanges(sol);
                        }
                    }
                }
            }
        }
    }

    /// The left-out jobs inserted again, swapped in, then trips exchanged between vehicles to
    /// make room for them.
    fn carry_more(&mut self, sol: &mut Solution) {
        if sol.left.is_empty() {
            return;
        }
        self.retry_left(sol, vec![false; self.routers.len()]);
        if !sol.left.is_empty() {
            self.exchanges(sol);
            self.swap_in(sol);
        }
    }

    /// The left-out jobs inserted again, then swapped in.
    fn retry_left(&mut self, trial: &mut Solution, mut changed: Vec<bool>) {
        let left = std::mem::take(&mut trial.left);
        self.insert(trial, &left, &mut changed);
        self.settle(trial, &changed);
        self.swap_in(trial);
    }

    /// The `count` carried jobs whose farm and point are nearest those of `job`.
    fn nearest_carried(&self, sol: &Solution, job: usize, count: usize) -> Vec<usize> {
        let net = self.net;
        let (sp, sd) = (net.jobs[job].pickup, net.jobs[job].delivery);
        let mut others: Vec<(f64, usize)> = sol
            .orders
            .iter()
            .flatten()
            .filter(|a| a.pickup)
            .map(|a| {
                let (p, d) = (net.jobs[a.job].pickup, net.jobs[a.job].delivery);
                (net.km(sp, p) + net.km(sd, d), a.job)
            })
            .collect();
        others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        others.into_iter().take(count).map(|(_, j)| j).collect()
    }

    /// Windows closing first, then the farthest from the start and end first.
    fn construction_order(&self) -> Vec<usize> {
        let net = self.net;
        let closes = |j: usize| {
            let job = &net.jobs[j];
            let end = |l: usize| net.locations[l].window.map_or(f64::INFINITY, |w| w.1);
            end(job.pickup).min(end(job.delivery))
        };
        let far = |j: usize| net.km(START, net.jobs[j].pickup) + net.km(net.jobs[j].delivery, END);
        let mut jobs: Vec<usize> = (0..net.jobs.len()).collect();
        jobs.sort_by(|&a, &b| {
            closes(a)
                .total_cmp(&closes(b))
                .then(far(b).total_cmp(&far(a)))
                .then(a.cmp(&b))
        });
        jobs
    }

    /// Polishes the changed rounds with the local search, and totals the kilometres.
    fn settle(&mut self, sol: &mut Solution, changed: &[bool]) {
        for (v, router) in self.routers.iter_mut().enumerate() {
            if changed[v] {
                sol.orders[v] = router.descend(&sol.orders[v]);
            }
        }
        sol.km = self.km(&sol.orders);
    }

    /// Takes a few jobs out (returned), by one of four removals.
    fn ruin(&self, sol: &mut Solution, rng: &mut Seeded, changed: &mut [bool]) -> Vec<usize> {
        let net = self.net;
        let assigned: Vec<(usize, usize)> = sol
            .orders
            .iter()
            .enumerate()
            .flat_map(|(v, o)| o.iter().filter(|a| a.pickup).map(move |a| (a.job, v)))
            .collect();
        if assigned.is_empty() {
            return Vec::new();
        }
        // A third of the jobs at most, but up to 4 in small rounds: swapping which shipment is
        // left out often takes moving three or four others between the vehicles.
        let most = assigned
            .len()
            .div_ceil(3)
            .max(4)
            .min(assigned.len())
            .min(MAX_REMOVED);
        let how_many = 1 + rng.below(most);
        let mut chosen: Vec<usize> = match rng.below(10) {
            // Random jobs.
            0..=1 => {
                let mut pool: Vec<usize> = assigned.iter().map(|(j, _)| *j).collect();
                let mut chosen = Vec::new();
                while chosen.len() < how_many && !pool.is_empty() {
                    chosen.push(pool.swap_remove(rng.below(pool.len())));
                }
                chosen
            }
            // A seed and the jobs whose farm and point are nearest its own, in any vehicle.
            // When jobs are left out, half the time one of them is the seed: the jobs in its
            // way make room for it.
            2..=5 => {
                let seed = if !sol.left.is_empty() && rng.below(2) == 0 {
                    sol.left[rng.below(sol.left.len())]
                } else {
                    assigned[rng.below(assigned.len())].0
                };
                let (sp, sd) = (net.jobs[seed].pickup, net.jobs[seed].delivery);
                let mut others: Vec<(f64, usize)> = assigned
                    .iter()
                    .map(|&(j, _)| {
                        let (p, d) = (net.jobs[j].pickup, net.jobs[j].delivery);
                        (net.km(sp, p) + net.km(sd, d), j)
                    })
                    .collect();
                others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                others.into_iter().take(how_many).map(|(_, j)| j).collect()
            }
            // A run of one vehicle's round.
            6..=8 => {
                let v = assigned[rng.below(assigned.len())].1;
                let order = &sol.orders[v];
                let length = (2 * how_many).min(order.len());
                let from = rng.below(order.len() - length + 1);
                let mut chosen: Vec<usize> = Vec::new();
                for a in &order[from..from + length] {
                    if !chosen.contains(&a.job) {
                        chosen.push(a.job);
                    }
                }
                chosen
            }
            // A whole round: its jobs go to the others, or come back.
            _ => {
                let v = assigned[rng.below(assigned.len())].1;
                sol.orders[v]
                    .iter()
                    .filter(|a| a.pickup)
                    .map(|a| a.job)
                    .collect()
            }
        };
        chosen.sort_unstable();
        chosen.dedup();
        for (v, order) in sol.orders.iter_mut().enumerate() {
            let before = order.len();
            order.retain(|a| chosen.binary_search(&a.job).is_err());
            changed[v] |= order.len() != before;
        }
        chosen
    }

    /// Fights for the jobs the best plan leaves out; the search goes on from there when it wins.
    /// Returns whether it did.
    fn fight(&mut self, best: &mut Solution, current: &mut Solution) -> bool {
        if best.left.is_empty() {
            return false;
        }
        let mut harder = best.clone();
        self.carry_more(&mut harder);
        if harder.beats(best, EPSILON) {
            *best = harder.clone();
            *current = harder;
            return true;
        }
        false
    }

    /// One time in [`SWAP_ONE_IN`], exchanges a random run of whole trips between two vehicles.
    fn random_cross(&mut self, candidate: &mut Solution, rng: &mut Seeded, changed: &mut [bool]) {
        if rng.below(SWAP_ONE_IN) != 0 {
            return;
        }
        let vehicles = self.routers.len();
        let v = rng.below(vehicles);
        let w = (v + 1 + rng.below(vehicles - 1)) % vehicles;
        let (tv, tw) = (
            self.trips(&candidate.orders[v]),
            self.trips(&candidate.orders[w]),
        );
        let mut pick = |t: &[usize]| {
            let (a, b) = (t[rng.below(t.len())], t[rng.below(t.len())]);
            (a.min(b), a.max(b))
        };
        let (sv, sw) = (pick(&tv), pick(&tw));
        self.cross(candidate, (v, sv), (w, sw), changed);
    }

    /// SISR's ruin: strings of activities (all of them, or with a run kept in the middle: the
    /// split string) taken out of the trips nearest a seed job, each trip (a stretch of a
    /// vehicle's round between two moments it is empty) at most once; a job is taken out whole,
    /// its pickup and delivery together. Returns the jobs taken out.
    fn string_ruin(
        &self,
        sol: &mut Solution,
        rng: &mut Seeded,
        changed: &mut [bool],
    ) -> Vec<usize> {
        let jobs = self.net.jobs.len();
        let mut tours: Vec<(usize, usize, usize)> = Vec::new();
        let mut at: Vec<Option<(usize, usize, usize)>> = vec![None; jobs];
        for (v, order) in sol.orders.iter().enumerate() {
            let cuts = self.trips(order);
            tours.extend(cuts.windows(2).map(|w| (v, w[0], w[1])));
            for (i, a) in order.iter().enumerate() {
                let slot = at[a.job].get_or_insert((v, i, i));
                if a.pickup {
                    slot.1 = i;
                } else {
                    slot.2 = i;
                }
            }
        }
        let carried: Vec<usize> = (0..jobs).filter(|&j| at[j].is_some()).collect();
        if carried.is_empty() {
            return Vec::new();
        }
        // The paper's equations 5 to 7: the longest string, the most strings, how many.
        let cardinality =
            tours.iter().map(|t| t.2 - t.1).sum::<usize>() as f64 / tours.len() as f64;
        let longest = cardinality.round().clamp(1.0, SISR_MAX_STRING as f64);
        let most = 4.0 * SISR_AVERAGE_REMOVED / (1.0 + longest) - 1.0;
        let strings = (1.0 + rng.unit() * most).floor().max(1.0) as usize;
        let seed = if !sol.left.is_empty() && rng.below(2) == 0 {
            sol.left[rng.below(sol.left.len())]
        } else {
            carried[rng.below(carried.len())]
        };
        let mut out = vec![false; jobs];
        let mut ruined = vec![false; tours.len()];
        let mut count = 0;
        for &job in &self.related[seed] {
            if count >= strings {
                break;
            }
            let Some((v, p, d)) = at[job] else {
                continue;
            };
            if out[job] {
                continue;
            }
            let pos = if rng.below(2) == 0 { p } else { d };
            let Some(t) = tours
                .iter()
                .position(|&(tv, a, b)| tv == v && a <= pos && pos < b)
            else {
                continue;
            };
            if ruined[t] {
                continue;
            }
            ruined[t] = true;
            count += 1;
            let (a, b) = (tours[t].1, tours[t].2);
            let (len, idx) = (b - a, pos - a);
            let l = 1 + rng.below(len.min(longest as usize));
            // Equation 8's string, or the split string keeping m activities inside it.
            let kept = if l < len && rng.below(2) == 0 {
                let mut m = 1;
                while l + m < len && rng.unit() >= SISR_SPLIT_DEPTH {
                    m += 1;
                }
                m
            } else {
                0
            };
            let total = l + kept;
            let lo = (idx + 1).saturating_sub(total);
            let hi = idx.min(len - total);
            let start = lo + rng.below(hi.saturating_sub(lo) + 1);
            let split = start + rng.below(l + 1);
            let order = &sol.orders[v];
            for i in start..start + total {
                if i < split || i >= split + kept || i == idx {
                    out[order[a + i].job] = true;
                }
            }
        }
        let chosen: Vec<usize> = (0..jobs).filter(|&j| out[j]).collect();
        take_out(sol, &out, changed);
        chosen
    }

    /// Takes out a seed job (a left-out one half the time when some are) and the carried jobs
    /// whose farm and point are nearest its own, in any vehicle: 1 to twice SISR's average
    /// number. Returns the jobs taken out.
    fn related_ruin(
        &self,
        sol: &mut Solution,
        rng: &mut Seeded,
        changed: &mut [bool],
    ) -> Vec<usize> {
        let jobs = self.net.jobs.len();
        let mut carried = vec![false; jobs];
        let mut count = 0;
        for a in sol.orders.iter().flatten().filter(|a| a.pickup) {
            carried[a.job] = true;
            count += 1;
        }
        if count == 0 {
            return Vec::new();
        }
        let seed = if !sol.left.is_empty() && rng.below(2) == 0 {
            sol.left[rng.below(sol.left.len())]
        } else {
            let k = rng.below(count);
            (0..jobs).filter(|&j| carried[j]).nth(k).unwrap_or(0)
        };
        let how_many = 1 + rng.below((2.0 * SISR_AVERAGE_REMOVED) as usize);
        let chosen: Vec<usize> = self.related[seed]
            .iter()
            .copied()
            .filter(|&j| carried[j])
            .take(how_many)
            .collect();
        let mut out = vec![false; jobs];
        for &j in &chosen {
            out[j] = true;
        }
        take_out(sol, &out, changed);
        chosen
    }

    /// SISR's orders of reinsertion: at random (4 in 11), the largest first (4), the farthest
    /// from the start and end first (2), the nearest first (1); ties at random.
    fn recreate_order(&self, jobs: &mut [usize], rng: &mut Seeded) {
        for i in (1..jobs.len()).rev() {
            jobs.swap(i, rng.below(i + 1));
        }
        let net = self.net;
        let far = |j: usize| net.km(START, net.jobs[j].pickup) + net.km(net.jobs[j].delivery, END);
        let size = |j: usize| {
            net.jobs[j]
                .load
                .iter()
                .zip(&net.capacity)
                .map(|(l, c)| f64::from(*l) / f64::from((*c).max(1)))
                .fold(0.0, f64::max)
        };
        match rng.below(11) {
            0..=3 => {}
            4..=7 => jobs.sort_by(|&a, &b| size(b).total_cmp(&size(a))),
            8..=9 => jobs.sort_by(|&a, &b| far(b).total_cmp(&far(a))),
            _ => jobs.sort_by(|&a, &b| far(a).total_cmp(&far(b))),
        }
    }

    /// [`Self::insert`] with blinks: each job at its cheapest place over all the vehicles, a
    /// feasible place passed over with probability [`BLINK`].
    fn insert_blinking(
        &mut self,
        sol: &mut Solution,
        jobs: &[usize],
        changed: &mut [bool],
        rng: &mut Seeded,
        tried: Option<(&[bool], &[bool])>,
    ) {
        self.place(sol, jobs, changed, &mut || rng.unit() < BLINK, tried);
    }

    /// The rounds' durations together, in seconds: driving and service (the windows open at the
    /// departure: no waiting).
    fn duration(&self, orders: &[Vec<Activity>]) -> f64 {
        let net = self.net;
        orders
            .iter()
            .map(|order| net.along(order, |a, b| net.solver_duration(a, b)))
            .sum()
    }

    /// Looks for a plan carrying more than `orders` (which leaves `left` out): SISR's ruin, the
    /// left-out jobs put back first into the room it made, then the others with blinks. Never more
    /// jobs left out; as many: accepted when they were left out less often so far (the paper's
    /// absences) and the rounds take less time, or the same jobs and the rounds' time by
    /// annealing. Time, not kilometres: the windows left them out, and every stop costs its
    /// service. At most `iterations` iterations; returns the first plan carrying more, its rounds
    /// polished (the kilometres are the next search's), or `None`.
    pub fn carry(
        &mut self,
        orders: Vec<Vec<Activity>>,
        left: Vec<usize>,
        iterations: usize,
    ) -> Option<(Vec<Vec<Activity>>, Vec<usize>)> {
        let vehicles = self.routers.len();
        let mut current = Solution {
            km: self.km(&orders),
            orders,
            left,
        };
        let mut time = self.duration(&current.orders);
        let goal = current.left.len();
        let mut rng = Seeded(self.budget.seed);
        let mut absences = vec![0_u64; self.net.jobs.len()];
        let mut changed = vec![false; vehicles];
        for _ in 0..iterations {
            for &j in &current.left {
                absences[j] += 1;
            }
            let mut candidate = current.clone();
            changed.iter_mut().for_each(|c| *c = false);
            self.random_cross(&mut candidate, &mut rng, &mut changed);
            let ruined = self.string_ruin(&mut candidate, &mut rng, &mut changed);
            let mut removed = std::mem::take(&mut candidate.left);
            let first = removed.len();
            removed.extend(ruined);
            self.recreate_order(&mut removed[first..], &mut rng);
            self.insert_blinking(&mut candidate, &removed, &mut changed, &mut rng, None);
            if candidate.left.len() < goal {
                self.settle(&mut candidate, &vec![true; vehicles]);
                return Some((candidate.orders, candidate.left));
            }
            if candidate.left.len() > current.left.len() {
                continue;
            }
            let absent = |s: &Solution| s.left.iter().map(|&j| absences[j]).sum::<u64>();
            let shorter = self.duration(&candidate.orders);
            let accept = match absent(&candidate).cmp(&absent(&current)) {
                std::cmp::Ordering::Less => shorter < time,
                std::cmp::Ordering::Equal => {
                    shorter < time - CARRY_TEMPERATURE * (1.0 - rng.unit()).ln()
                }
                std::cmp::Ordering::Greater => false,
            };
            if accept {
                current = candidate;
                time = shorter;
            }
        }
        None
    }

    /// Construction (or the feasible `start`: each vehicle's order and the jobs left out), large
    /// neighbourhood search, final polish. Returns each vehicle's order and the jobs left out.
    pub fn run(
        &mut self,
        start: Option<(Vec<Vec<Activity>>, Vec<usize>)>,
    ) -> (Vec<Vec<Activity>>, Vec<usize>) {
        let iterations = self.budget.iterations(self.net.jobs.len());
        let mut progress = self.start(start, iterations);
        self.advance(&mut progress, iterations);
        self.finish(progress)
    }

    /// The search's first plan (constructed, or the feasible `start`) and its state, for a
    /// search of `iterations` iterations in all.
    pub fn start(
        &mut self,
        start: Option<(Vec<Vec<Activity>>, Vec<usize>)>,
        iterations: usize,
    ) -> Progress {
        let vehicles = self.routers.len();
        let sol = match start {
            Some((orders, left)) => Solution {
                km: self.km(&orders),
                orders,
                left,
            },
            None => {
                let first = self.construction_order();
                let mut sol = Solution {
                    orders: vec![Vec::new(); vehicles],
                    left: Vec::new(),
                    km: 0.0,
                };
                let mut changed = vec![false; vehicles];
                self.insert(&mut sol, &first, &mut changed);
                self.settle(&mut sol, &changed);
                sol
            }
        };
        let net = self.net;
        let penalty = 2.0
            * net
                .jobs
                .iter()
                .map(|j| {
                    net.km(START, j.pickup) + net.km(j.pickup, j.delivery) + net.km(j.delivery, END)
                })
                .fold(0.0, f64::max);
        let jobs = net.jobs.len();
        // The mean leg of the first plan sets the temperature's scale.
        let legs = (2 * jobs + vehicles) as f64;
        let leg = (sol.km / legs).max(0.1);
        Progress {
            best: sol.clone(),
            current: sol,
            rng: Seeded(self.budget.seed),
            done: 0,
            iterations,
            penalty,
            hot: T_START * leg,
            cold: T_END * leg,
            absences: vec![0; jobs],
            fresh: false,
        }
    }

    /// The search's best plan so far: how many jobs it leaves out, its kilometres.
    pub fn standing(progress: &Progress) -> (usize, f64) {
        (progress.best.left.len(), progress.best.km)
    }

    /// The search's iterations up to `until` (of the `iterations` it was started for).
    pub fn advance(&mut self, progress: &mut Progress, until: usize) {
        let vehicles = self.routers.len();
        let jobs = self.net.jobs.len();
        let iterations = progress.iterations;
        let until = until.min(iterations);
        let check_every = (iterations / CHECKS).max(1);
        let mut changed = vec![false; vehicles];
        let Progress {
            best,
            current,
            rng,
            done,
            penalty,
            hot,
            cold,
            absences,
            fresh,
            ..
        } = progress;
        let (penalty, hot, cold) = (*penalty, *hot, *cold);
        if SISR {
            let cost = |s: &Solution| s.km + penalty * s.left.len() as f64;
            // Whether the current plan's left-out jobs were tried in its rounds as they are (not
            // after a polish reordered them), and which jobs those are.
            let mut was_left = vec![false; jobs];
            for it in *done..until {
                for &j in &current.left {
                    absences[j] += 1;
                }
                if it % check_every == check_every - 1 && self.fight(best, current) {
                    *fresh = false;
                }
                let mut candidate = current.clone();
                changed.iter_mut().for_each(|c| *c = false);
                self.random_cross(&mut candidate, rng, &mut changed);
                let ruined = if rng.unit() < RELATED_SHARE {
                    self.related_ruin(&mut candidate, rng, &mut changed)
                } else {
                    self.string_ruin(&mut candidate, rng, &mut changed)
                };
                let mut removed = std::mem::take(&mut candidate.left);
                was_left.iter_mut().for_each(|w| *w = false);
                if *fresh {
                    removed.iter().for_each(|&j| was_left[j] = true);
                }
                let ruined_rounds = changed.clone();
                removed.extend(ruined);
                self.recreate_order(&mut removed, rng);
                let tried = Some((was_left.as_slice(), ruined_rounds.as_slice()));
                self.insert_blinking(&mut candidate, &removed, &mut changed, rng, tried);
                candidate.km = self.km(&candidate.orders);
                if candidate.beats(best, EPSILON) {
                    // A new best: its changed rounds polished by the local search.
                    self.settle(&mut candidate, &changed);
                    *best = candidate.clone();
                    *current = candidate;
                    *fresh = false;
                    continue;
                }
                let progress = it as f64 / iterations as f64;
                let temperature = hot * (cold / hot).powf(progress);
                let absent = |s: &Solution| s.left.iter().map(|&j| absences[j]).sum::<u64>();
                // Carrying more first, else the jobs left out less often so far (the paper's
                // fleet minimisation), else the annealing on the kilometres.
                let accept = if candidate.left.len() != current.left.len() {
                    candidate.left.len() < current.left.len()
                        || absent(&candidate) < absent(current)
                } else if absent(&candidate) != absent(current) {
                    absent(&candidate) < absent(current)
                } else {
                    let threshold = cost(current) - temperature * (1.0 - rng.unit()).ln();
                    cost(&candidate) < threshold
                };
                if accept {
                    *current = candidate;
                    *fresh = true;
                }
            }
        } else {
            let first = self.construction_order();
            let (best, current, rng) = (&mut *best, &mut *current, &mut *rng);
            for it in *done..until {
                // Now and then, jobs still left out are fought for harder, and the search goes on
                // from there.
                if it % check_every == check_every - 1 {
                    self.fight(best, current);
                }
                let mut candidate = current.clone();
                changed.iter_mut().for_each(|c| *c = false);
                self.random_cross(&mut candidate, rng, &mut changed);
                let ruined = self.ruin(&mut candidate, rng, &mut changed);
                let mut removed = std::mem::take(&mut candidate.left);
                removed.extend(ruined);
                // The left-out jobs first, a third of the time; else in the construction's order,
                // or shuffled.
                let how = rng.below(3);
                if how == 1 {
                    let rank = |j: &usize| first.iter().position(|f| f == j).unwrap_or(usize::MAX);
                    removed.sort_by_key(rank);
                } else if how == 2 {
                    for i in (1..removed.len()).rev() {
                        removed.swap(i, rng.below(i + 1));
                    }
                }
                self.insert(&mut candidate, &removed, &mut changed);
                let tolerance = TOLERANCE * best.km * (1.0 - it as f64 / iterations as f64);
                // The local search only for candidates that may be kept: it costs the most.
                candidate.km = self.km(&candidate.orders);
                if candidate.left.len() >= best.left.len()
                    && candidate.km + penalty * (candidate.left.len() - best.left.len()) as f64
                        > (best.km + tolerance) * (1.0 + PROMISING)
                {
                    continue;
                }
                self.settle(&mut candidate, &changed);
                if candidate.beats(best, EPSILON) {
                    *best = candidate.clone();
                }
                // A job left out costs more than any detour, but not infinitely: the search may
                // drop one for a while to rearrange the rounds.
                let penalised = |s: &Solution| s.km + penalty * s.left.len() as f64;
                if penalised(&candidate) < penalised(best) + tolerance {
                    *current = candidate;
                }
            }
        }
        *done = until;
    }

    /// The search's end: its best plan, the left-out jobs once more, then the iterated local
    /// search on each round. Each vehicle's order and the jobs left out.
    pub fn finish(&mut self, progress: Progress) -> (Vec<Vec<Activity>>, Vec<usize>) {
        let mut sol = progress.best;
        self.carry_more(&mut sol);
        for (v, router) in self.routers.iter_mut().enumerate() {
            sol.orders[v] = router.polish(&sol.orders[v], kicks_for(sol.orders[v].len()));
        }
        (sol.orders, sol.left)
    }
}

/// A search between its steps: its best and current plans, its generator, how far it is.
pub(super) struct Progress {
    best: Solution,
    current: Solution,
    rng: Seeded,
    /// Iterations done, of `iterations` in all (the annealing's schedule).
    done: usize,
    iterations: usize,
    /// What a job left out costs, in km.
    penalty: f64,
    /// The annealing's temperatures, from and to.
    hot: f64,
    cold: f64,
    /// How often each job was left out of the current plan (the paper's absences).
    absences: Vec<u64>,
    /// Whether the current plan's left-out jobs were tried in its rounds as they are.
    fresh: bool,
}

/// Takes the jobs marked in `out` (by job) out of every vehicle's order, both their pickup and
/// delivery, and marks the vehicles whose order changed (the ruins' common last step).
fn take_out(sol: &mut Solution, out: &[bool], changed: &mut [bool]) {
    for (v, order) in sol.orders.iter_mut().enumerate() {
        let before = order.len();
        order.retain(|a| !out[a.job]);
        changed[v] |= order.len() != before;
    }
}
