//! A local search polish of the solver's round, then an iterated local search around it.
//!
//! The round is seen as a sequence of **blocks**: the activities done in a row at one location
//! (one stop of the plan). Moving a block moves its whole stop, so that a stop split in two (a
//! detour to a pickup point halfway through the round, say) can be merged back by moving one of
//! its halves next to the other.
//!
//! - Moves: 2-opt (reverse a run of blocks), Or-opt (move a run of one to three blocks elsewhere,
//!   as it is or reversed), and moving one activity into another block at the same location
//!   (which merges stops). A move is taken when it shortens the round and the round stays
//!   feasible: every pickup before its delivery, the load within the capacity after every
//!   activity, every window met with [`Network::advance`], the clock the plans are built with.
//!   Distances are symmetric (haversine), so a reversed run costs what it did.
//! - Iterated local search: from the best round, a random *segment double bridge* (three cuts in
//!   a window of a few dozen blocks, the two middle pieces swapped), a local search, and the
//!   result kept when it is shorter. The generator is seeded with a constant and the budget is a
//!   number of kicks, a function of the round's size: the same round gives the same plan on every
//!   run and every machine.

use std::rc::Rc;

use super::network::{Activity, END, Network, START};
use super::timing::{Prefix, Schedule, move_tail};

/// Kicks of the iterated local search per block of the round…
const KICKS_PER_BLOCK: usize = 10;
/// …at least, and at most.
const KICKS_MIN: usize = 100;
const KICKS_MAX: usize = 1_500;
/// The double bridge cuts within a window of at most this many blocks.
const KICK_SPAN: usize = 30;
/// Moves are tried towards this many nearest locations of a stop.
const NEIGHBOURS: usize = 12;
/// A move must gain at least this much (km) to be taken: rounding noise is not a gain.
const EPSILON: f64 = 1e-7;

/// SplitMix64: a small seeded generator, so that the search is the same on every run (the
/// fleet search's too).
pub(super) struct Seeded(pub u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform below `n` (n ≥ 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// The activities done in a row at one location.
#[derive(Clone, Debug)]
struct Block {
    location: usize,
    /// Shared: candidate rounds copy blocks, rarely change them.
    activities: Rc<Vec<Activity>>,
}

/// How much search: the number of kicks of the iterated local search for a round of `blocks`
/// stops. Zero: the local search only.
pub(super) fn kicks_for(blocks: usize) -> usize {
    (blocks * KICKS_PER_BLOCK).clamp(KICKS_MIN, KICKS_MAX)
}

/// Shortens a feasible order of activities; the result is feasible too, and never longer.
pub(super) fn polish(net: &Network, order: &[Activity], kicks: usize) -> Vec<Activity> {
    Router::new(net).polish(order, kicks)
}

/// One vehicle's round searcher: feasibility, cheapest insertion and the local search on its
/// own network (its capacity). Several rounds of a fleet each keep one, so that the neighbour
/// lists are computed once.
pub(super) struct Router<'a> {
    search: Search<'a>,
}

impl<'a> Router<'a> {
    /// A searcher on `net`.
    pub fn new(net: &'a Network) -> Self {
        Self {
            search: Search::new(net),
        }
    }

    /// Whether a round is feasible for this vehicle.
    pub fn fits(&mut self, order: &[Activity]) -> bool {
        self.search.feasible_order(order)
    }

    /// Kilometres of a round, start to end.
    pub fn km(&self, order: &[Activity]) -> f64 {
        // As `length` on the order's blocks, without building them (the fleet search totals its
        // rounds every iteration).
        let net = self.search.net;
        net.along(order, |a, b| net.km(a, b))
    }

    /// The cheapest feasible insertion of `job` into `route` adding at most `limit` km: the
    /// kilometres it adds and the positions of its pickup and delivery (see [`inserted`]); `None`
    /// when it fits nowhere. Each feasible pair of positions is passed over when `blink` says so
    /// (SISR's greedy insertion with blinks).
    pub fn insertion(
        &mut self,
        route: &[Activity],
        job: usize,
        blink: &mut dyn FnMut() -> bool,
        limit: f64,
    ) -> Option<(f64, usize, usize)> {
        self.search.insertion_at(route, job, blink, limit)
    }

    /// The local search only: improving moves until none is left.
    pub fn descend(&mut self, order: &[Activity]) -> Vec<Activity> {
        let start = normalised(to_blocks(self.search.net, order));
        if !self.search.feasible(&start) {
            return order.to_vec();
        }
        flatten(&self.search.descend(start))
    }

    /// The local search, then `kicks` kicks of the iterated local search.
    pub fn polish(&mut self, order: &[Activity], kicks: usize) -> Vec<Activity> {
        let search = &mut self.search;
        let start = normalised(to_blocks(search.net, order));
        if !search.feasible(&start) {
            // Not ours to repair: the solver's order is kept as it is.
            return order.to_vec();
        }
        let mut best = search.descend(start);
        let mut best_km = search.length(&best);
        let mut rng = Seeded(0x4841_4c4c_4521);
        for _ in 0..kicks {
            let Some(kicked) = search.kick(&best, &mut rng) else {
                continue;
            };
            let improved = search.descend(kicked);
            let km = search.length(&improved);
            if km < best_km - EPSILON {
                best = improved;
                best_km = km;
            }
        }
        flatten(&best)
    }
}

/// A first round for the large rounds `vrp-core`'s constructions are too slow for (their cost
/// grows with the fourth power of the shipments): the shipments one by one, each at its cheapest
/// feasible pickup and delivery positions. Two orders are tried, the shipments with windows first
/// (closing first) then the farthest, or then the nearest; the round carrying more shipments,
/// then the shorter, is kept. Returns the order and the jobs that fit nowhere.
pub(super) fn construct(net: &Network) -> (Vec<Activity>, Vec<usize>) {
    let closes = |j: usize| {
        let job = &net.jobs[j];
        let end = |l: usize| net.locations[l].window.map_or(f64::INFINITY, |w| w.1);
        end(job.pickup).min(end(job.delivery))
    };
    let far = |j: usize| net.km(START, net.jobs[j].pickup) + net.km(net.jobs[j].delivery, END);
    let mut best: Option<(Vec<Activity>, Vec<usize>, f64)> = None;
    for farthest in [true, false] {
        let mut jobs: Vec<usize> = (0..net.jobs.len()).collect();
        jobs.sort_by(|&a, &b| {
            let by_distance = if farthest {
                far(b).total_cmp(&far(a))
            } else {
                far(a).total_cmp(&far(b))
            };
            closes(a)
                .total_cmp(&closes(b))
                .then(by_distance)
                .then(a.cmp(&b))
        });
        let mut search = Search::new(net);
        let (route, left_out) = search.insert_all(Vec::new(), &jobs);
        let km = search.length(&to_blocks(net, &route));
        let better = best.as_ref().is_none_or(|(_, l, k)| {
            left_out.len() < l.len() || (left_out.len() == l.len() && km < *k - EPSILON)
        });
        if better {
            best = Some((route, left_out, km));
        }
        if best.as_ref().is_some_and(|(_, l, _)| l.is_empty()) {
            break;
        }
    }
    best.map(|(route, left_out, _)| (route, left_out))
        .unwrap_or_default()
}

/// After the polish, the jobs left out are tried again (the round may have room or time for
/// them now), then polished once more; the rounds carrying more shipments win.
pub(super) fn reinsert(
    net: &Network,
    order: Vec<Activity>,
    left: &[usize],
) -> (Vec<Activity>, Vec<usize>) {
    if left.is_empty() {
        return (order, Vec::new());
    }
    let mut search = Search::new(net);
    let (route, still) = search.insert_all(order.clone(), left);
    if still.len() == left.len() {
        return (order, left.to_vec());
    }
    let blocks = search.descend(normalised(to_blocks(net, &route)));
    (flatten(&blocks), still)
}

/// Blocks as the checks see them: a location and what is done there.
fn visits(blocks: &[Block]) -> impl DoubleEndedIterator<Item = (usize, &[Activity])> {
    blocks.iter().map(|b| (b.location, b.activities.as_slice()))
}

fn to_blocks(net: &Network, order: &[Activity]) -> Vec<Block> {
    order
        .iter()
        .map(|a| Block {
            location: net.location(*a),
            activities: Rc::new(vec![*a]),
        })
        .collect()
}

fn flatten(blocks: &[Block]) -> Vec<Activity> {
    blocks
        .iter()
        .flat_map(|b| b.activities.iter().copied())
        .collect()
}

/// Merges consecutive blocks at the same location, drops empty ones.
fn normalised(blocks: Vec<Block>) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    for block in blocks {
        if block.activities.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.location == block.location => {
                Rc::make_mut(&mut last.activities).extend(block.activities.iter().copied());
            }
            _ => out.push(block),
        }
    }
    out
}

struct Search<'a> {
    net: &'a Network,
    /// Scratch: status of each job while checking (0 waiting, 1 on board, 2 delivered).
    status: Vec<u8>,
    /// The nearest other locations of each location, nearest first.
    near: Vec<Vec<usize>>,
    /// The round being improved, indexed for the moves' checks.
    prefix: Prefix,
    /// The last route insertions were checked against, its locations and schedule: a fleet
    /// inserts each job into every vehicle's round, most of them unchanged since the last job.
    indexed: Option<Indexed>,
    scratch: Scratch,
    /// The jobs' loads side by side (as many values per job as the capacity has).
    loads: Vec<i64>,
}

/// A float as a key ordered as [`f64::total_cmp`] orders floats (integer comparisons are
/// cheaper in the insertion's heap).
fn ordered(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The float of an [`ordered`] key.
fn unordered(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// The cheapest insertion's buffers, kept from call to call.
#[derive(Default)]
struct Scratch {
    cheapest_delivery: Vec<f64>,
    /// By position: the kilometres to and from the delivery, the pickup's detour, the pickup
    /// and delivery's detour together.
    to_delivery: Vec<f64>,
    from_delivery: Vec<f64>,
    pickup_detour: Vec<f64>,
    adjacent: Vec<f64>,
    /// By pickup position: when the vehicle leaves the pickup, whether the delivery right
    /// after it keeps the route's windows, whether the rest of the route does.
    collected: Vec<f64>,
    pair_fits: Vec<bool>,
    rest_fits: Vec<bool>,
    /// Pickup positions keyed by the least a pair starting there can cost (its [`ordered`]
    /// key, then the position).
    pickups: Vec<u128>,
    candidates: Vec<(f64, usize, usize)>,
    /// By position: the first at or after it where the vehicle has no room for the job.
    no_room: Vec<usize>,
    /// By position: whether the delivery there, on the route's own time, keeps the rest of the
    /// route in time ([`UNKNOWN`], [`FITS`], [`FAILS`]).
    delivery_fits: Vec<u8>,
}

const UNKNOWN: u8 = 0;
const FITS: u8 = 1;
const FAILS: u8 = 2;

/// A route, its locations (the start's and the end's around), the kilometres of its legs, its
/// [`Schedule`] and whether it is feasible.
struct RouteIndex {
    locations: Vec<usize>,
    legs: Vec<f64>,
    schedule: Schedule,
    feasible: bool,
}

/// The route last indexed, and its index.
type Indexed = (Vec<Activity>, Rc<RouteIndex>);

impl<'a> Search<'a> {
    fn new(net: &'a Network) -> Self {
        let size = net.size();
        let near = (0..size)
            .map(|a| {
                let mut others: Vec<usize> = (0..size).filter(|&b| b != a).collect();
                others.sort_by(|&x, &y| net.km(a, x).total_cmp(&net.km(a, y)).then(x.cmp(&y)));
                others.truncate(NEIGHBOURS);
                others
            })
            .collect();
        Self {
            net,
            status: vec![0; net.jobs.len()],
            near,
            prefix: Prefix::new(net),
            indexed: None,
            scratch: Scratch::default(),
            loads: net
                .jobs
                .iter()
                .flat_map(|j| j.load.iter().map(|l| i64::from(*l)))
                .collect(),
        }
    }

    fn km(&self, a: usize, b: usize) -> f64 {
        self.net.km(a, b)
    }

    /// Location before block `i` (the start for the first).
    fn before(blocks: &[Block], i: usize) -> usize {
        if i == 0 {
            START
        } else {
            blocks[i - 1].location
        }
    }

    /// Location after block `i` (the end for the last).
    fn after(blocks: &[Block], i: usize) -> usize {
        blocks.get(i + 1).map_or(END, |b| b.location)
    }

    fn length(&self, blocks: &[Block]) -> f64 {
        let mut at = START;
        let mut km = 0.0;
        for b in blocks {
            km += self.km(at, b.location);
            at = b.location;
        }
        km + self.km(at, END)
    }

    /// Pickups before deliveries, capacity after every activity, windows with the plan's clock.
    fn feasible(&mut self, blocks: &[Block]) -> bool {
        self.feasible_visits(visits(blocks))
    }

    /// [`Self::feasible`] on a plain order of activities.
    fn feasible_order(&mut self, order: &[Activity]) -> bool {
        let net = self.net;
        self.feasible_visits(
            order
                .iter()
                .map(|a| (net.location(*a), std::slice::from_ref(a))),
        )
    }

    /// The check itself, on the visits in order: a location and what is done there.
    fn feasible_visits<'b>(
        &mut self,
        visits: impl Iterator<Item = (usize, &'b [Activity])>,
    ) -> bool {
        let net = self.net;
        self.status.iter_mut().for_each(|s| *s = 0);
        let mut load = vec![0_i64; net.capacity.len()];
        let (mut at, mut time) = (START, 0.0);
        for (location, activities) in visits {
            let Some(next) = net.advance(at, time, location) else {
                return false;
            };
            at = location;
            time = next;
            for a in activities {
                let job = &net.jobs[a.job];
                let status = &mut self.status[a.job];
                if a.pickup {
                    if *status != 0 {
                        return false;
                    }
                    *status = 1;
                    for ((l, add), cap) in load.iter_mut().zip(&job.load).zip(&net.capacity) {
                        *l += i64::from(*add);
                        if *l > i64::from(*cap) {
                            return false;
                        }
                    }
                } else {
                    if *status != 1 {
                        return false;
                    }
                    *status = 2;
                    for (l, sub) in load.iter_mut().zip(&job.load) {
                        *l -= i64::from(*sub);
                    }
                }
            }
        }
        true
    }

    /// Whether each job of `route` is picked up once, then delivered once (the order part of
    /// [`Self::feasible_order`]).
    fn picked_up_first(&mut self, route: &[Activity]) -> bool {
        for a in route {
            self.status[a.job] = 0;
        }
        for a in route {
            let status = &mut self.status[a.job];
            let (before, after) = if a.pickup { (0, 1) } else { (1, 2) };
            if *status != before {
                return false;
            }
            *status = after;
        }
        true
    }

    /// Inserts `jobs` one by one into `route`, each at its cheapest feasible pickup and delivery
    /// positions; returns the route and the jobs that fit nowhere.
    fn insert_all(
        &mut self,
        mut route: Vec<Activity>,
        jobs: &[usize],
    ) -> (Vec<Activity>, Vec<usize>) {
        let mut left_out = Vec::new();
        for &job in jobs {
            match self.insertion(&route, job, &mut || false, f64::INFINITY) {
                Some((_, longer)) => route = longer,
                None => left_out.push(job),
            }
        }
        (route, left_out)
    }

    /// The cheapest feasible insertion of `job` into `route`: the kilometres added and the new
    /// route. Every pair of positions is checked in constant time against the route's
    /// [`Schedule`] (the clock shifted by the pickup is carried along the delivery's positions),
    /// pickup positions by the least a pair starting there can cost, so that those that cannot
    /// beat the best pair found (or `limit`) are skipped (distances obey the triangle
    /// inequality). The chosen pair is checked in full once more.
    fn insertion(
        &mut self,
        route: &[Activity],
        job: usize,
        blink: &mut dyn FnMut() -> bool,
        limit: f64,
    ) -> Option<(f64, Vec<Activity>)> {
        self.insertion_at(route, job, blink, limit)
            .map(|(cost, p, d)| (cost, inserted(route, job, p, d)))
    }

    /// [`Self::insertion`]'s search: the kilometres added and the positions (see [`inserted`]).
    fn insertion_at(
        &mut self,
        route: &[Activity],
        job: usize,
        blink: &mut dyn FnMut() -> bool,
        limit: f64,
    ) -> Option<(f64, usize, usize)> {
        let net = self.net;
        let (p_loc, d_loc) = (net.jobs[job].pickup, net.jobs[job].delivery);
        let index = self.indexed(route);
        let RouteIndex {
            locations,
            legs: edges,
            schedule,
            feasible: whole,
        } = &*index;
        let whole = *whole;
        // Pickup before route[p], delivery before route[d] (d ≥ p; d == p: right after it).
        let len = route.len();
        let load = &net.jobs[job].load;
        let fits = |at: &[i64]| {
            at.iter()
                .zip(load)
                .zip(&net.capacity)
                .all(|((a, l), c)| a + i64::from(*l) <= i64::from(*c))
        };
        // One pass from the end over the route's legs (buffers reused from call to call: the
        // fleet search makes tens of thousands of these calls a second): the delivery's detours
        // (the kilometres to and from it, kept for the pairs below), the least the delivery can
        // add at position d or later, and the pickup positions by the least a pair starting
        // there can cost (right after each other, or the pickup's detour and the cheapest later
        // delivery's), sorted by that then by position; the search stops after a few of them.
        // Positions where the vehicle has no room for the job, or that cannot beat `limit`, are
        // left out at once (the search would stop at the first of the latter).
        let mut scratch = std::mem::take(&mut self.scratch);
        let Scratch {
            cheapest_delivery,
            to_delivery,
            from_delivery,
            pickup_detour,
            adjacent,
            collected,
            pair_fits,
            rest_fits,
            pickups,
            candidates,
            no_room,
            delivery_fits,
        } = &mut scratch;
        cheapest_delivery.clear();
        cheapest_delivery.resize(len + 2, f64::INFINITY);
        to_delivery.clear();
        to_delivery.resize(len + 1, 0.0);
        from_delivery.clear();
        from_delivery.resize(len + 1, 0.0);
        pickup_detour.clear();
        pickup_detour.resize(len + 1, 0.0);
        adjacent.clear();
        adjacent.resize(len + 1, 0.0);
        collected.clear();
        collected.resize(len + 1, 0.0);
        pair_fits.clear();
        pair_fits.resize(len + 1, false);
        rest_fits.clear();
        rest_fits.resize(len + 1, false);
        pickups.clear();
        no_room.clear();
        no_room.resize(len + 2, len + 1);
        delivery_fits.clear();
        delivery_fits.resize(len + 1, UNKNOWN);
        let legs = &edges[..=len];
        let pd = net.km(p_loc, d_loc);
        for p in (0..=len).rev() {
            let (x, y) = (locations[p], locations[p + 1]);
            let xy = legs[p];
            let (xd, dy) = (net.km(x, d_loc), net.km(d_loc, y));
            to_delivery[p] = xd;
            from_delivery[p] = dy;
            cheapest_delivery[p] = cheapest_delivery[p + 1].min(xd + dy - xy);
            if !fits(schedule.load(p)) {
                no_room[p] = p;
                continue;
            }
            no_room[p] = no_room[p + 1];
            // Positions the pickup cannot be made from in time, or where the clock with the
            // pickup in keeps neither the delivery right after it nor the rest of the route, can
            // do nothing: left out before the sort.
            let (xp, py) = (net.km(x, p_loc), net.km(p_loc, y));
            let add_p = xp + py - xy;
            let together = xp + pd + dy - xy;
            let least = together.min(add_p + cheapest_delivery[p + 1]);
            if least > limit + EPSILON {
                continue;
            }
            let Some(at_pickup) = net.advance(x, schedule.departure[p], p_loc) else {
                continue;
            };
            let next_too = net
                .advance(p_loc, at_pickup, d_loc)
                .is_some_and(|t| schedule.keeps(net, d_loc, t, p + 1));
            let later = schedule.keeps(net, p_loc, at_pickup, p + 1);
            if !next_too && !later {
                continue;
            }
            pickup_detour[p] = add_p;
            adjacent[p] = together;
            collected[p] = at_pickup;
            pair_fits[p] = next_too;
            rest_fits[p] = later;
            pickups.push(u128::from(ordered(least)) << 64 | p as u128);
        }
        pickups.sort_unstable();
        candidates.clear();
        let mut bound = limit;
        for &entry in pickups.iter() {
            let (key, p) = ((entry >> 64) as u64, entry as u64 as usize);
            if unordered(key) > bound + EPSILON {
                break;
            }
            let add_p = pickup_detour[p];
            if pair_fits[p] {
                let cost = adjacent[p];
                if cost <= bound + EPSILON && !blink() {
                    bound = bound.min(cost);
                    candidates.push((cost, p, p));
                }
            }
            if !rest_fits[p] {
                continue;
            }
            // The clock after each later position, with the pickup in; once it is back on the
            // route's own time (the detour absorbed by a wait), it stays there.
            // Up to the first later position without room for the job.
            let (mut at, mut time, mut synced) = (p_loc, collected[p], false);
            for d in p + 1..no_room[p + 1] {
                if add_p + cheapest_delivery[d] > bound + EPSILON {
                    // No later position can do better than the best pair found.
                    break;
                }
                let u = locations[d];
                let on_time = synced;
                if synced {
                    time = schedule.departure[d];
                } else {
                    let Some(t) = net.advance(at, time, u) else {
                        break;
                    };
                    (at, time) = (u, t);
                    synced = time <= schedule.departure[d];
                }
                let cost = add_p + to_delivery[d] + from_delivery[d] - legs[d];
                if cost > bound + EPSILON {
                    continue;
                }
                let deliver = || {
                    net.advance(u, time, d_loc)
                        .is_some_and(|t| schedule.keeps(net, d_loc, t, d + 1))
                };
                // On the route's own time, whatever the pickup's position: checked once.
                let delivered = if on_time {
                    if delivery_fits[d] == UNKNOWN {
                        delivery_fits[d] = if deliver() { FITS } else { FAILS };
                    }
                    delivery_fits[d] == FITS
                } else {
                    deliver()
                };
                if delivered && !blink() {
                    bound = bound.min(cost);
                    candidates.push((cost, p, d));
                }
            }
        }
        candidates
            .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        // The schedule's checks allow a microsecond: the full check has the last word. On a
        // feasible route without the job, it is the check from the pickup's position on (the
        // route before it is unchanged), until the clock is back on the route's own time.
        let mut found = None;
        let absent = !scratch.candidates.is_empty() && route.iter().all(|a| a.job != job);
        for &(cost, p, d) in scratch.candidates.iter() {
            let fits = if whole && absent {
                inserted_fits(net, locations, schedule, job, p, d)
            } else {
                self.feasible_order(&inserted(route, job, p, d))
            };
            if fits {
                found = Some((cost, p, d));
                break;
            }
        }
        self.scratch = scratch;
        found
    }

    /// The locations, legs and schedule of `route`, from the last call's when it is the same
    /// route, and whether the route is feasible.
    fn indexed(&mut self, route: &[Activity]) -> Rc<RouteIndex> {
        if let Some((last, index)) = &self.indexed
            && last.as_slice() == route
        {
            return Rc::clone(index);
        }
        let net = self.net;
        // Feasible: each job picked up once, then delivered once (checked here), the capacity
        // and the windows kept (by the schedule).
        let ordered = self.picked_up_first(route);
        let loads = &self.loads;
        // The last index's buffers when nothing else holds them (the usual case), and its numbers
        // for the activities at the start and the end that the two routes share (an insertion
        // or a ruin changes the middle).
        if let Some((last, index)) = &mut self.indexed
            && let Some(reused) = Rc::get_mut(index)
        {
            let kept = last.iter().zip(route).take_while(|(a, b)| a == b).count();
            let most = last.len().min(route.len()) - kept;
            let shared = last
                .iter()
                .rev()
                .zip(route.iter().rev())
                .take(most)
                .take_while(|(a, b)| a == b)
                .count();
            let locations = &mut reused.locations;
            locations_of(net, route, locations);
            let kept_all = reused
                .schedule
                .update(net, loads, locations, route, (kept, shared));
            // Legs likewise: those of the shared start, the shared end's moved.
            let (old, len) = (last.len(), route.len());
            let legs = &mut reused.legs;
            let from_new = len + 1 - shared;
            move_tail(legs, old + 1 - shared, from_new, 0.0);
            for i in kept..from_new {
                legs[i] = net.km(locations[i], locations[i + 1]);
            }
            reused.feasible = ordered && kept_all;
            last.clear();
            last.extend_from_slice(route);
            return Rc::clone(index);
        }
        let mut locations = Vec::with_capacity(route.len() + 2);
        locations_of(net, route, &mut locations);
        let mut schedule = Schedule::of(net, &[START, END], &[]);
        let kept = schedule.refill_with(net, loads, &locations, route);
        let index = Rc::new(RouteIndex {
            legs: locations.windows(2).map(|w| net.km(w[0], w[1])).collect(),
            locations,
            schedule,
            feasible: ordered && kept,
        });
        self.indexed = Some((route.to_vec(), Rc::clone(&index)));
        index
    }

    /// Takes improving moves until none is left.
    fn descend(&mut self, mut blocks: Vec<Block>) -> Vec<Block> {
        loop {
            if let Some(better) = self.two_opt(&blocks) {
                blocks = better;
                continue;
            }
            if let Some(better) = self.or_opt(&blocks) {
                blocks = better;
                continue;
            }
            if let Some(better) = self.join(&blocks) {
                blocks = better;
                continue;
            }
            return blocks;
        }
    }

    /// Blocks by location: `positions[l]` lists the indices of the blocks at location `l`.
    fn positions(&self, blocks: &[Block]) -> Vec<Vec<usize>> {
        let mut positions = vec![Vec::new(); self.net.size()];
        for (i, b) in blocks.iter().enumerate() {
            positions[b.location].push(i);
        }
        positions
    }

    /// Reverses `blocks[i..=j]` when shorter and feasible. Only the reversals that make one of
    /// their two new edges join near neighbours, and shorten it, are tried.
    fn two_opt(&mut self, blocks: &[Block]) -> Option<Vec<Block>> {
        let n = blocks.len();
        self.prefix.index(self.net, visits(blocks));
        let positions = self.positions(blocks);
        let mut tries: Vec<(usize, usize)> = Vec::new();
        for i in 0..n {
            // New edge (a, c) from the block before i.
            let (a, b) = (Self::before(blocks, i), blocks[i].location);
            for &c in &self.near[a] {
                if self.km(a, c) >= self.km(a, b) {
                    break;
                }
                tries.extend(positions[c].iter().filter(|&&j| j > i).map(|&j| (i, j)));
            }
        }
        for j in 0..n {
            // New edge (b, d) to the block after j.
            let (c, d) = (blocks[j].location, Self::after(blocks, j));
            for &b in &self.near[d] {
                if self.km(d, b) >= self.km(c, d) {
                    break;
                }
                tries.extend(positions[b].iter().filter(|&&i| i < j).map(|&i| (i, j)));
            }
        }
        for (i, j) in tries {
            let (a, b) = (Self::before(blocks, i), blocks[i].location);
            let (c, d) = (blocks[j].location, Self::after(blocks, j));
            let delta = self.km(a, c) + self.km(b, d) - self.km(a, b) - self.km(c, d);
            if delta < -EPSILON
                && self
                    .prefix
                    .keeps(self.net, i, visits(&blocks[i..=j]).rev(), j + 1)
            {
                let mut candidate = blocks.to_vec();
                candidate[i..=j].reverse();
                return Some(normalised(candidate));
            }
        }
        None
    }

    /// Moves `blocks[i..i + len]` (len 1 to 3), as it is or reversed, between two other blocks
    /// when shorter and feasible; only next to near neighbours of the run's ends.
    fn or_opt(&mut self, blocks: &[Block]) -> Option<Vec<Block>> {
        let n = blocks.len();
        self.prefix.index(self.net, visits(blocks));
        let positions = self.positions(blocks);
        let mut places: Vec<usize> = Vec::new();
        for len in 1..=3.min(n) {
            for i in 0..=n - len {
                let j = i + len - 1;
                let (prev, next) = (Self::before(blocks, i), Self::after(blocks, j));
                let (first, last) = (blocks[i].location, blocks[j].location);
                let removed = self.km(prev, first) + self.km(last, next) - self.km(prev, next);
                if removed <= EPSILON {
                    continue;
                }
                // Insertion before original block `q`: after a neighbour of an end, or before.
                places.clear();
                for end in [first, last] {
                    for &x in &self.near[end] {
                        if self.km(end, x) >= removed {
                            break;
                        }
                        if x == START {
                            places.push(0);
                        } else if x == END {
                            places.push(n);
                        }
                        for &p in &positions[x] {
                            places.push(p);
                            places.push(p + 1);
                        }
                    }
                }
                places.sort_unstable();
                places.dedup();
                for &q in places.iter().filter(|&&q| q < i || q > j + 1) {
                    let x = if q == 0 {
                        START
                    } else {
                        blocks[q - 1].location
                    };
                    let y = blocks.get(q).map_or(END, |b| b.location);
                    let base = self.km(x, y);
                    for reversed in [false, true] {
                        let (head, tail) = if reversed {
                            (last, first)
                        } else {
                            (first, last)
                        };
                        let added = self.km(x, head) + self.km(tail, y) - base;
                        if added - removed < -EPSILON
                            && self.keeps_moved(blocks, i, len, q, reversed)
                        {
                            return Some(normalised(moved(blocks, i, len, q, reversed)));
                        }
                    }
                }
            }
        }
        None
    }

    /// Whether [`moved`]`(blocks, i, len, q, reversed)` is feasible, on the indexed `blocks`.
    fn keeps_moved(
        &mut self,
        blocks: &[Block],
        i: usize,
        len: usize,
        q: usize,
        reversed: bool,
    ) -> bool {
        let (net, run) = (self.net, &blocks[i..i + len]);
        // Backwards: the run goes before block q, and q..i shift after it; forwards (q > i +
        // len): i + len..q shift before it.
        match (q < i, reversed) {
            (true, false) => {
                let region = visits(run).chain(visits(&blocks[q..i]));
                self.prefix.keeps(net, q, region, i + len)
            }
            (true, true) => {
                let region = visits(run).rev().chain(visits(&blocks[q..i]));
                self.prefix.keeps(net, q, region, i + len)
            }
            (false, false) => {
                let region = visits(&blocks[i + len..q]).chain(visits(run));
                self.prefix.keeps(net, i, region, q)
            }
            (false, true) => {
                let region = visits(&blocks[i + len..q]).chain(visits(run).rev());
                self.prefix.keeps(net, i, region, q)
            }
        }
    }

    /// Moves one activity out of its block into another block at the same location, when the
    /// round gets shorter (its block empties) or stays as long with fewer stops, and feasible.
    fn join(&mut self, blocks: &[Block]) -> Option<Vec<Block>> {
        let n = blocks.len();
        for i in 0..n {
            let single = blocks[i].activities.len() == 1;
            let saved = if single {
                self.km(Self::before(blocks, i), blocks[i].location)
                    + self.km(blocks[i].location, Self::after(blocks, i))
                    - self.km(Self::before(blocks, i), Self::after(blocks, i))
            } else {
                0.0
            };
            if saved <= EPSILON {
                continue;
            }
            for k in 0..n {
                if k == i || blocks[k].location != blocks[i].location {
                    continue;
                }
                let mut candidate = blocks.to_vec();
                let activity = candidate[i].activities[0];
                Rc::make_mut(&mut candidate[i].activities).clear();
                Rc::make_mut(&mut candidate[k].activities).push(activity);
                if self.feasible(&candidate) {
                    return Some(normalised(candidate));
                }
            }
        }
        None
    }

    /// A segment double bridge: `A B C D` → `A C B D`, with `B` and `C` short; `None` when the
    /// result is not feasible.
    fn kick(&mut self, blocks: &[Block], rng: &mut Seeded) -> Option<Vec<Block>> {
        let n = blocks.len();
        if n < 4 {
            return None;
        }
        let span = KICK_SPAN.min(n);
        let from = rng.below(n - span + 1);
        let mut cuts = [
            from + rng.below(span),
            from + rng.below(span),
            from + rng.below(span),
        ];
        cuts.sort_unstable();
        let [a, b, c] = cuts;
        if a == b || b == c {
            return None;
        }
        let mut candidate = Vec::with_capacity(n);
        candidate.extend_from_slice(&blocks[..a]);
        candidate.extend_from_slice(&blocks[b..c]);
        candidate.extend_from_slice(&blocks[a..b]);
        candidate.extend_from_slice(&blocks[c..]);
        self.feasible(&candidate).then(|| normalised(candidate))
    }
}

/// The locations of `route`'s activities, the start's and the end's around, into `out`.
fn locations_of(net: &Network, route: &[Activity], out: &mut Vec<usize>) {
    out.clear();
    out.push(START);
    out.extend(route.iter().map(|a| net.location(*a)));
    out.push(END);
}

/// `route` with `job` inserted: its pickup before `route[p]`, its delivery before `route[d]`
/// (`d ≥ p`; `d == p`: right after the pickup).
pub(super) fn inserted(route: &[Activity], job: usize, p: usize, d: usize) -> Vec<Activity> {
    let mut out = Vec::with_capacity(route.len() + 2);
    out.extend_from_slice(&route[..p]);
    out.push(Activity { job, pickup: true });
    out.extend_from_slice(&route[p..d]);
    out.push(Activity { job, pickup: false });
    out.extend_from_slice(&route[d..]);
    out
}

/// Whether a feasible route (its `locations` and `schedule`) that does not carry `job` stays
/// feasible with the job inserted at `p` and `d` (as [`inserted`]): exactly the full check of the
/// new route, which is the old one up to `p`. The loads while the job is on board, then the clock
/// from `p` until it is back on the old route's time (the clock is monotone: the rest keeps its
/// windows, as it did).
fn inserted_fits(
    net: &Network,
    locations: &[usize],
    schedule: &Schedule,
    job: usize,
    p: usize,
    d: usize,
) -> bool {
    let load = &net.jobs[job].load;
    // After the pickup and after each activity before the delivery (a delivery's load is below
    // the one before it, checked already).
    for i in p..=d {
        let room = schedule
            .load(i)
            .iter()
            .zip(load)
            .zip(&net.capacity)
            .all(|((a, l), c)| a + i64::from(*l) <= i64::from(*c));
        if !room {
            return false;
        }
    }
    let (p_loc, d_loc) = (net.jobs[job].pickup, net.jobs[job].delivery);
    let (mut at, mut time) = (locations[p], schedule.departure[p]);
    let on_board = std::iter::once(p_loc)
        .chain(locations[p + 1..=d].iter().copied())
        .chain(std::iter::once(d_loc));
    for location in on_board {
        let Some(next) = net.advance(at, time, location) else {
            return false;
        };
        (at, time) = (location, next);
    }
    // The route's positions d + 1.. (its activities d..), the end excluded.
    let after = &locations[d + 1..locations.len() - 1];
    for (&location, &departure) in after.iter().zip(&schedule.departure[d + 1..]) {
        let Some(next) = net.advance(at, time, location) else {
            return false;
        };
        (at, time) = (location, next);
        if time <= departure {
            return true;
        }
    }
    true
}

/// `blocks` with `blocks[i..i + len]` moved before original block `q` (outside the run),
/// reversed or not.
fn moved(blocks: &[Block], i: usize, len: usize, q: usize, reversed: bool) -> Vec<Block> {
    let mut run: Vec<Block> = blocks[i..i + len].to_vec();
    if reversed {
        run.reverse();
    }
    let mut out = Vec::with_capacity(blocks.len());
    for (k, block) in blocks.iter().enumerate() {
        if k == q {
            out.extend(run.iter().cloned());
        }
        if k < i || k >= i + len {
            out.push(block.clone());
        }
    }
    if q == blocks.len() {
        out.extend(run);
    }
    out
}
