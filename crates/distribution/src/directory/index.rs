//! Places kept in memory for searches by distance: each place as a unit vector (x, y, z) on the
//! sphere, in a static k-d tree of boxes, so that "within r km" is a sphere test with three
//! multiplications and no trigonometry.
//!
//! Why unit vectors: the chord between two points of the sphere grows with their great-circle
//! distance (`chord = 2 sin(d / 2R)`), so the circle of radius r on the Earth is exactly the
//! ball of radius `2 sin(r / 2R)` in space: a place is in it when its squared chord is below
//! the ball's, and a box of places is wholly in it (or wholly out) from its corners. Only
//! places within a hair (a chord of [`EDGE`], some micrometres) of the circle's edge are
//! measured by the haversine formula ([`distance_km`]), which stays the one that decides; so
//! the answers are the haversine's, place for place, as the SQL paths' are.
//!
//! Why a k-d tree of our own rather than an R-tree crate: a search must count every place in
//! the circle that its filters keep, and show only a page of the nearest. The tree keeps its
//! places in its own order, each box a contiguous run of them, so a box wholly inside the
//! circle is counted without measuring its places (by its length when nothing is filtered, by
//! its tally of the places' tags when the filter asks only those, by one pass over the run's
//! filter data otherwise); and the page's places come from a
//! nearest-first walk that stops after them. Places cluster (around towns, along the coast):
//! the boxes, split at the median of their widest side, follow the density with no cell size
//! to tune. It is built in one go (milliseconds for 20,000 places) each time the directory is
//! loaded and never changed afterwards: a new snapshot replaces it, so readers never wait.

use std::{cmp::Reverse, collections::BinaryHeap};

use super::{EARTH_RADIUS_KM, Point, distance_km};

/// Places per leaf box, at most.
const LEAF: usize = 8;

/// The chord (on the unit sphere) within which a place's side of the circle's edge is decided
/// by the haversine formula rather than by its chord: 1e-12, some 6 micrometres on the Earth,
/// far above the rounding of either computation (about 1e-16 here, a nanometre's fraction of a
/// metre there) and far below any two places' distance that matters.
const EDGE: f64 = 1e-12;

/// A box of places: the run `start..end` of the tree's order.
#[derive(Debug)]
struct Node {
    lo: [f64; 3],
    hi: [f64; 3],
    start: u32,
    end: u32,
    /// The second child's position in `nodes` (the first is the next one); 0 for a leaf.
    right: u32,
}

/// Places by position, in a static k-d tree (see the module's header). A place is known by its
/// position in the list [`PlaceIndex::build`] returns.
#[derive(Debug, Default)]
pub struct PlaceIndex {
    nodes: Vec<Node>,
    xyz: Vec<[f64; 3]>,
    at: Vec<Point>,
    /// Each place's tags, when the index was given them ([`PlaceIndex::with_tags`]).
    tags: Vec<u32>,
    /// For each node, the run of `tallies` that counts its places by tags (empty where reading
    /// the places' own tags is as quick).
    tallied: Vec<(u32, u32)>,
    /// (tags, how many places of a box have exactly these), box after box.
    tallies: Vec<(u32, u32)>,
}

/// The unit vector of a point.
fn unit(p: Point) -> [f64; 3] {
    let (lat, lon) = (p.lat.to_radians(), p.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn square_distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    x * x + y * y + z * z
}

/// The bounds of a search: its centre, and the squared chords below which a place is surely in
/// the circle (`inside`) and above which surely out (`outside`).
struct Around {
    center: Point,
    radius_km: f64,
    c: [f64; 3],
    inside: f64,
    outside: f64,
}

impl Around {
    fn new(center: Point, radius_km: f64) -> Around {
        let half = radius_km / (2.0 * EARTH_RADIUS_KM);
        // Past half the globe every place is in: a chord no place reaches.
        let chord = if half >= std::f64::consts::FRAC_PI_2 {
            3.0
        } else {
            2.0 * half.sin()
        };
        let (inside, outside) = ((chord - EDGE).max(0.0), chord + EDGE);
        Around {
            center,
            radius_km,
            c: unit(center),
            inside: inside * inside,
            outside: outside * outside,
        }
    }

    /// True when the place at `p`, `d2` (its squared chord) from the centre, is within the
    /// radius, as the haversine formula says.
    fn holds(&self, d2: f64, p: Point) -> bool {
        d2 < self.inside || (d2 <= self.outside && distance_km(self.center, p) <= self.radius_km)
    }

    /// The squared chord from the centre to the nearest point of a box.
    fn nearest(&self, n: &Node) -> f64 {
        (0..3)
            .map(|k| {
                let gap = (n.lo[k] - self.c[k]).max(self.c[k] - n.hi[k]).max(0.0);
                gap * gap
            })
            .sum()
    }

    /// The squared chord from the centre to the farthest corner of a box.
    fn farthest(&self, n: &Node) -> f64 {
        (0..3)
            .map(|k| {
                let far = (self.c[k] - n.lo[k]).abs().max((n.hi[k] - self.c[k]).abs());
                far * far
            })
            .sum()
    }
}

impl PlaceIndex {
    /// The index of `items`, each placed at `at(item)`, and the items in the index's order: a
    /// place's position in that list is the one the queries name and ask `keep` about.
    pub fn build<T>(items: Vec<T>, at: impl Fn(&T) -> Point) -> (PlaceIndex, Vec<T>) {
        let mut placed: Vec<([f64; 3], Point, T)> = items
            .into_iter()
            .map(|t| {
                let p = at(&t);
                (unit(p), p, t)
            })
            .collect();
        let mut nodes = Vec::new();
        if !placed.is_empty() {
            split(&mut placed, 0, &mut nodes);
        }
        let mut xyz = Vec::with_capacity(placed.len());
        let mut points = Vec::with_capacity(placed.len());
        let mut ordered = Vec::with_capacity(placed.len());
        for (u, p, t) in placed {
            xyz.push(u);
            points.push(p);
            ordered.push(t);
        }
        (
            PlaceIndex {
                nodes,
                xyz,
                at: points,
                ..PlaceIndex::default()
            },
            ordered,
        )
    }

    /// Gives each place (by position) its tags, a set of bits the caller chooses (what a place
    /// makes, its labels): [`PlaceIndex::count_within_tagged`] then counts a box wholly inside
    /// the circle from how many of its places have each set of tags, not place by place.
    /// Places share few sets (a producer makes one to three kinds of food, with a label or
    /// none): a box of thousands has some hundreds.
    pub fn with_tags(mut self, tag: impl Fn(usize) -> u32) -> PlaceIndex {
        let tags: Vec<u32> = (0..self.xyz.len()).map(tag).collect();
        self.tallied = Vec::with_capacity(self.nodes.len());
        self.tallies.clear();
        let mut counted: Vec<u32> = Vec::new();
        for node in &self.nodes {
            counted.clear();
            counted.extend_from_slice(&tags[node.start as usize..node.end as usize]);
            counted.sort_unstable();
            let first = self.tallies.len();
            for run in counted.chunk_by(|x, y| x == y) {
                self.tallies.push((run[0], run.len() as u32));
            }
            // Worth it where it saves at least half the reads.
            if 2 * (self.tallies.len() - first) > counted.len() {
                self.tallies.truncate(first);
            }
            self.tallied.push((first as u32, self.tallies.len() as u32));
        }
        self.tallies.shrink_to_fit();
        self.tags = tags;
        self
    }

    /// How many places within `radius_km` of `center` have tags that `keep` keeps (tags given
    /// by [`PlaceIndex::with_tags`]; without them, every place's are 0). The same count as
    /// [`PlaceIndex::count_within_where`] asking each place's tags.
    pub fn count_within_tagged(
        &self,
        center: Point,
        radius_km: f64,
        keep: impl Fn(u32) -> bool,
    ) -> usize {
        let tallied = |n: usize| {
            let &(from, to) = self.tallied.get(n)?;
            (from < to).then(|| {
                self.tallies[from as usize..to as usize]
                    .iter()
                    .filter(|(tags, _)| keep(*tags))
                    .map(|&(_, count)| count as usize)
                    .sum()
            })
        };
        self.count(
            &Around::new(center, radius_km),
            Some(&|i| keep(self.tag(i))),
            tallied,
        )
    }

    /// The tags of the place at `i` ([`PlaceIndex::with_tags`]; 0 without them).
    pub fn tag(&self, i: usize) -> u32 {
        self.tags.get(i).copied().unwrap_or(0)
    }

    /// The index of `places`, in their order (for callers that keep no data of their own).
    pub fn new(places: impl IntoIterator<Item = Point>) -> (PlaceIndex, Vec<Point>) {
        PlaceIndex::build(places.into_iter().collect(), |p| *p)
    }

    /// How many places.
    pub fn len(&self) -> usize {
        self.xyz.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.xyz.is_empty()
    }

    /// Where the place at `i` is.
    pub fn point(&self, i: usize) -> Point {
        self.at[i]
    }

    /// How many places are within `radius_km` of `center` (edge included, as
    /// [`distance_km`] measures). Boxes wholly inside the circle are counted by their length.
    pub fn count_within(&self, center: Point, radius_km: f64) -> usize {
        self.count::<fn(usize) -> bool>(&Around::new(center, radius_km), None, |_| None)
    }

    /// How many places within `radius_km` of `center` `keep` keeps (it is asked of the places
    /// in the circle only, boxes wholly inside in one run each).
    pub fn count_within_where(
        &self,
        center: Point,
        radius_km: f64,
        keep: impl Fn(usize) -> bool,
    ) -> usize {
        self.count(&Around::new(center, radius_km), Some(&keep), |_| None)
    }

    /// The places in the circle that `keep` keeps (all without it); `tallied(n)` is the count
    /// of box `n`, wholly inside, when known without reading its places.
    fn count<F: Fn(usize) -> bool>(
        &self,
        a: &Around,
        keep: Option<&F>,
        tallied: impl Fn(usize) -> Option<usize>,
    ) -> usize {
        let mut found = 0;
        self.walk_nodes(a, |n, whole| {
            let node = &self.nodes[n];
            let run = node.start as usize..node.end as usize;
            if whole {
                found += match (tallied(n), keep) {
                    (Some(count), _) => count,
                    (None, None) => run.len(),
                    (None, Some(keep)) => run.filter(|&i| keep(i)).count(),
                };
            } else {
                found += run
                    .filter(|&i| a.holds(square_distance(&self.xyz[i], &a.c), self.at[i]))
                    .filter(|&i| keep.is_none_or(|keep| keep(i)))
                    .count();
            }
        });
        found
    }

    /// Calls `f` with every place within `radius_km` of `center`, in no particular order.
    pub fn for_each_within(&self, center: Point, radius_km: f64, mut f: impl FnMut(usize)) {
        let a = Around::new(center, radius_km);
        self.walk(&a, |run, whole| {
            for i in run {
                if whole || a.holds(square_distance(&self.xyz[i], &a.c), self.at[i]) {
                    f(i);
                }
            }
        });
    }

    /// Calls `visit(run, whole)` for each leaf box that meets the circle, and for each larger
    /// box wholly inside it (`whole`: every place of the run is in the circle).
    fn walk(&self, a: &Around, mut visit: impl FnMut(std::ops::Range<usize>, bool)) {
        self.walk_nodes(a, |n, whole| {
            let node = &self.nodes[n];
            visit(node.start as usize..node.end as usize, whole);
        });
    }

    /// [`PlaceIndex::walk`], naming the boxes by their position in `nodes`.
    fn walk_nodes(&self, a: &Around, mut visit: impl FnMut(usize, bool)) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack = vec![0usize];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n];
            if a.nearest(node) > a.outside {
                continue;
            }
            if a.farthest(node) < a.inside {
                visit(n, true);
            } else if node.right == 0 {
                visit(n, false);
            } else {
                stack.push(node.right as usize);
                stack.push(n + 1);
            }
        }
    }

    /// The `n` nearest places within `radius_km` of `center` that `keep` keeps, nearest first,
    /// each with its distance ([`distance_km`]); places equally far in the order of `tie`. The
    /// same as measuring every place, sorting by (distance, tie) and taking the first `n`; the
    /// walk goes nearest box first, keeps only the places that can still be among the first
    /// `n` (the `n` nearest met so far, and any place their `n`th's chord cannot tell apart
    /// from it), and stops at the first box farther than that.
    pub fn nearest_within<K: Ord>(
        &self,
        center: Point,
        radius_km: f64,
        n: usize,
        keep: impl Fn(usize) -> bool,
        tie: impl Fn(usize) -> K,
    ) -> Vec<(usize, f64)> {
        if n == 0 || self.nodes.is_empty() {
            return Vec::new();
        }
        let a = Around::new(center, radius_km);
        // Squared chords are never negative: their bits order them as the numbers do.
        let mut boxes = BinaryHeap::new();
        boxes.push(Reverse((a.nearest(&self.nodes[0]).to_bits(), 0u32)));
        // (squared chord, place): every kept place met within `bound`.
        let mut found: Vec<(f64, usize)> = Vec::with_capacity(2 * n + LEAF);
        let mut bound = a.outside;
        while let Some(Reverse((key, i))) = boxes.pop() {
            if f64::from_bits(key) > bound {
                break;
            }
            let node = &self.nodes[i as usize];
            if node.right == 0 {
                let before = found.len();
                for j in node.start as usize..node.end as usize {
                    let d2 = square_distance(&self.xyz[j], &a.c);
                    if d2 <= bound && a.holds(d2, self.at[j]) && keep(j) {
                        found.push((d2, j));
                    }
                }
                if found.len() > before && found.len() >= n {
                    bound = bound.min(within_reach_of_nth(&mut found, n));
                }
            } else {
                for child in [i + 1, node.right] {
                    let d2 = a.nearest(&self.nodes[child as usize]);
                    if d2 <= bound {
                        boxes.push(Reverse((d2.to_bits(), child)));
                    }
                }
            }
        }
        let mut measured: Vec<(usize, f64)> = found
            .into_iter()
            .map(|(_, i)| (i, distance_km(center, self.at[i])))
            .collect();
        measured.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| tie(x.0).cmp(&tie(y.0))));
        measured.truncate(n);
        measured
    }
}

/// Keeps in `found` (at least `n` places with their squared chords) the `n` nearest and any
/// place their `n`th's chord cannot tell apart from it; returns the squared chord of that reach.
fn within_reach_of_nth(found: &mut Vec<(f64, usize)>, n: usize) -> f64 {
    let (_, nth, _) = found.select_nth_unstable_by(n - 1, |x, y| x.0.total_cmp(&y.0));
    let reach = nth.0.sqrt() + 2.0 * EDGE;
    let bound = reach * reach;
    found.retain(|p| p.0 <= bound);
    bound
}

/// Builds the boxes of `items` (at `offset` in the tree's order), depth first.
fn split<T>(items: &mut [([f64; 3], Point, T)], offset: usize, nodes: &mut Vec<Node>) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for (u, _, _) in items.iter() {
        for k in 0..3 {
            lo[k] = lo[k].min(u[k]);
            hi[k] = hi[k].max(u[k]);
        }
    }
    let me = nodes.len();
    nodes.push(Node {
        lo,
        hi,
        start: offset as u32,
        end: (offset + items.len()) as u32,
        right: 0,
    });
    if items.len() <= LEAF {
        return;
    }
    let axis = (0..3)
        .max_by(|&x, &y| (hi[x] - lo[x]).total_cmp(&(hi[y] - lo[y])))
        .unwrap_or(0);
    let mid = items.len() / 2;
    items.select_nth_unstable_by(mid, |x, y| x.0[axis].total_cmp(&y.0[axis]));
    let (left, right) = items.split_at_mut(mid);
    split(left, offset, nodes);
    nodes[me].right = nodes.len() as u32;
    split(right, offset + mid, nodes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (xorshift).
    fn places(n: usize, mut seed: u64) -> Vec<Point> {
        let mut unit = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_000) as f64 / 1_000_000.0
        };
        (0..n)
            .map(|_| Point {
                lat: 43.0 + 4.0 * unit(),
                lon: -1.8 + 4.3 * unit(),
            })
            .collect()
    }

    fn searches(all: &[Point]) -> Vec<(Point, f64)> {
        vec![
            (all[0], 5.0),
            (
                Point {
                    lat: 46.5,
                    lon: -0.3,
                },
                41.0,
            ),
            (
                Point {
                    lat: 45.0,
                    lon: 0.5,
                },
                100.0,
            ),
            (
                Point {
                    lat: 50.0,
                    lon: 5.0,
                },
                20.0,
            ),
            // Wider than the region: every place.
            (
                Point {
                    lat: 45.0,
                    lon: 0.5,
                },
                5000.0,
            ),
        ]
    }

    /// Every place measured, kept, sorted by (distance, position).
    fn brute(
        all: &[Point],
        center: Point,
        r: f64,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f64)> {
        let mut v: Vec<(usize, f64)> = all
            .iter()
            .enumerate()
            .map(|(i, &p)| (i, distance_km(center, p)))
            .filter(|&(i, d)| d <= r && keep(i))
            .collect();
        v.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
        v
    }

    #[test]
    fn the_index_counts_and_orders_what_measuring_every_place_does() {
        let (index, all) = PlaceIndex::new(places(5_000, 0x9e37_79b9_7f4a_7c15));
        assert_eq!(index.len(), all.len());
        for (center, r) in searches(&all) {
            let expected = brute(&all, center, r, |_| true);
            assert_eq!(
                index.count_within(center, r),
                expected.len(),
                "{center:?} {r}"
            );
            let mut each = Vec::new();
            index.for_each_within(center, r, |i| each.push(i));
            each.sort_unstable();
            let mut ids: Vec<usize> = expected.iter().map(|&(i, _)| i).collect();
            ids.sort_unstable();
            assert_eq!(each, ids, "{center:?} {r}");
            for n in [0, 1, 20, 60, 100_000] {
                let near = index.nearest_within(center, r, n, |_| true, |i| i);
                assert_eq!(
                    near,
                    expected[..n.min(expected.len())],
                    "{center:?} {r} {n}"
                );
            }
        }
    }

    #[test]
    fn filters_are_asked_of_the_places_in_the_circle() {
        let (index, all) = PlaceIndex::new(places(5_000, 0x1234_5678_9abc_def1));
        let keep = |i: usize| i % 7 == 3;
        for (center, r) in searches(&all) {
            let expected = brute(&all, center, r, keep);
            assert_eq!(index.count_within_where(center, r, keep), expected.len());
            let near = index.nearest_within(center, r, 20, keep, |i| i);
            assert_eq!(near, expected[..20.min(expected.len())], "{center:?} {r}");
        }
    }

    #[test]
    fn counting_by_tags_is_counting_place_by_place() {
        let (index, all) = PlaceIndex::new(places(5_000, 0x0bad_cafe_dead_beef));
        // Few sets of tags, as producers have: one to three bits of eight.
        let tags: Vec<u32> = (0..all.len() as u32)
            .map(|i| (1 << (i % 8)) | if i % 3 == 0 { 1 << ((i / 3) % 8) } else { 0 })
            .collect();
        let index = index.with_tags(|i| tags[i]);
        assert!(!index.tallies.is_empty(), "large boxes are tallied");
        for (center, r) in searches(&all) {
            for wanted in [0b1u32, 0b1010_0000, 0xff, 0x100] {
                let keep = |t: u32| t & wanted != 0;
                assert_eq!(
                    index.count_within_tagged(center, r, keep),
                    brute(&all, center, r, |i| keep(tags[i])).len(),
                    "{center:?} {r} {wanted:#b}"
                );
            }
        }
        // Without tags, every place's are 0.
        let (untagged, _) = PlaceIndex::new(places(50, 1));
        assert_eq!(untagged.count_within_tagged(all[0], 5000.0, |t| t == 0), 50);
        assert_eq!(untagged.count_within_tagged(all[0], 5000.0, |t| t != 0), 0);
    }

    #[test]
    fn places_on_the_edge_and_at_the_same_spot_are_decided_by_the_haversine() {
        let center = Point {
            lat: 46.5,
            lon: -0.3,
        };
        // The same spot many times (ties broken by position), the centre itself, and places
        // at exactly the radius's haversine distance north and east of the centre.
        let mut all = vec![center; 12];
        let dlat = (10.0 / EARTH_RADIUS_KM).to_degrees();
        all.push(Point {
            lat: center.lat + dlat,
            lon: center.lon,
        });
        all.extend((0..200).map(|k| Point {
            lat: center.lat,
            lon: center.lon + 0.12 + f64::from(k) * 1e-6,
        }));
        let north = distance_km(center, all[12]);
        let (index, all) = PlaceIndex::new(all);
        for r in [5.0, 9.0, 10.0, north, 9.2] {
            let expected = brute(&all, center, r, |_| true);
            assert_eq!(index.count_within(center, r), expected.len(), "{r}");
            let near = index.nearest_within(center, r, 5, |_| true, |i| i);
            assert_eq!(near, expected[..5.min(expected.len())], "{r}");
        }
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let (index, _) = PlaceIndex::new([]);
        let c = Point {
            lat: 46.0,
            lon: 0.0,
        };
        assert!(index.is_empty());
        assert_eq!(index.count_within(c, 100.0), 0);
        assert!(
            index
                .nearest_within(c, 100.0, 20, |_| true, |i| i)
                .is_empty()
        );
    }
}
