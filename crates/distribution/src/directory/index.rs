//! Places kept in memory for searches by distance: an R*-tree (`rstar`) over (longitude,
//! latitude), asked for the radius's [`BoundingBox`], then the exact great-circle distance of
//! each place in the box, which drops the box's corners.
//!
//! Why an R-tree rather than a grid of cells: producers cluster (around towns, in valleys,
//! along the coast) and the directory spans a region or a country; the tree's boxes follow the
//! density with no cell size to tune, a 5 km search visits a handful of nodes and a 100 km one
//! the few hundred places it returns. It is built in one go (bulk loading, some milliseconds
//! for 20,000 places) each time the directory is loaded, and never changed afterwards: a new
//! snapshot replaces it, so readers never wait for a writer.

use rstar::{AABB, RTree, primitives::GeomWithData};

use super::{BoundingBox, Point, distance_km};

/// Places by position: each is known by its position in the list it was built from.
#[derive(Debug, Default)]
pub struct PlaceIndex {
    tree: RTree<GeomWithData<[f64; 2], usize>>,
}

impl PlaceIndex {
    /// The index of `places`, in their order (the first is 0).
    pub fn new(places: impl IntoIterator<Item = Point>) -> PlaceIndex {
        let items = places
            .into_iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.lon, p.lat], i))
            .collect();
        PlaceIndex {
            tree: RTree::bulk_load(items),
        }
    }

    /// How many places.
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The places within `radius_km` of `center` (edge included), each with its distance from
    /// the centre (`distance_km(center, place)`), in no particular order.
    pub fn within(&self, center: Point, radius_km: f64) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.within_where(center, radius_km, |_| true)
    }

    /// The places within `radius_km` of `center` that `keep` keeps, as [`Index::within`]:
    /// `keep` is asked first, so that the distance (three trigonometric functions) is computed
    /// only for the places a search's filters let through.
    pub fn within_where<'a>(
        &'a self,
        center: Point,
        radius_km: f64,
        keep: impl Fn(usize) -> bool + 'a,
    ) -> impl Iterator<Item = (usize, f64)> + 'a {
        let b = BoundingBox::around(center, radius_km);
        let envelope = AABB::from_corners([b.min_lon, b.min_lat], [b.max_lon, b.max_lat]);
        self.tree.locate_in_envelope(envelope).filter_map(move |g| {
            if !keep(g.data) {
                return None;
            }
            let [lon, lat] = *g.geom();
            let d = distance_km(center, Point { lat, lon });
            (d <= radius_km).then_some((g.data, d))
        })
    }
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

    #[test]
    fn the_index_finds_what_measuring_every_place_finds() {
        let all = places(5_000, 0x9e37_79b9_7f4a_7c15);
        let index = PlaceIndex::new(all.iter().copied());
        assert_eq!(index.len(), all.len());
        for (center, r) in [
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
        ] {
            let mut found: Vec<(usize, f64)> = index.within(center, r).collect();
            found.sort_by_key(|&(i, _)| i);
            let brute: Vec<(usize, f64)> = all
                .iter()
                .enumerate()
                .map(|(i, &p)| (i, distance_km(center, p)))
                .filter(|&(_, d)| d <= r)
                .collect();
            assert_eq!(found, brute, "around {center:?}, {r} km");
        }
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let index = PlaceIndex::new([]);
        assert!(index.is_empty());
        assert_eq!(
            index
                .within(
                    Point {
                        lat: 46.0,
                        lon: 0.0
                    },
                    100.0
                )
                .count(),
            0
        );
    }
}
