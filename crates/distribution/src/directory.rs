//! The directory's pure computations: great-circle distances, the bounding box a radius search
//! filters on before measuring, the key town names are compared by, and the labels a producer
//! may show.
//!
//! The spatial method: the store's searches ask a k-d tree of unit vectors kept in memory
//! ([`index::PlaceIndex`]: the circle is a ball in space, so places are tested by their chord,
//! boxes of places counted whole, and only the places on the circle's very edge measured by the
//! haversine formula). The SQL reference path asks the radius's circle's bounding box of plain
//! indexed latitude and longitude columns (a B-tree on SQLite and PostgreSQL alike; no
//! extension such as earthdistance or PostGIS), then the exact haversine distance of each place
//! in it: the box holds every point of the circle, and at a 100 km radius some 27 % more area,
//! which the exact distance then drops.

pub mod index;

use serde::{Deserialize, Serialize};

/// The Earth's mean radius (IUGG), in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The radii a search accepts, in km.
pub const MIN_RADIUS_KM: u32 = 5;
/// See [`MIN_RADIUS_KM`].
pub const MAX_RADIUS_KM: u32 = 100;

/// A point on the Earth, in degrees (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lon: f64,
}

impl Point {
    /// A point, if both coordinates are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Option<Point> {
        (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
            .then_some(Point { lat, lon })
    }
}

/// The great-circle distance between two points, in km (haversine formula on a sphere of
/// [`EARTH_RADIUS_KM`]; within 0.5 % of the ellipsoid's at French latitudes).
pub fn distance_km(a: Point, b: Point) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A latitude/longitude box, in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

impl BoundingBox {
    /// The smallest box holding every point within `radius_km` of `center`. A degree of
    /// longitude shrinks with the cosine of the latitude: the box widens east-west with it
    /// (it is computed at the box's edge nearest a pole, so that no corner of the circle is
    /// cut). Near a pole, every longitude.
    pub fn around(center: Point, radius_km: f64) -> BoundingBox {
        let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let min_lat = (center.lat - dlat).max(-90.0);
        let max_lat = (center.lat + dlat).min(90.0);
        let widest = min_lat.abs().max(max_lat.abs()).to_radians().cos();
        let dlon = if widest < 1e-6 {
            180.0
        } else {
            (dlat / widest).min(180.0)
        };
        BoundingBox {
            min_lat,
            max_lat,
            min_lon: (center.lon - dlon).max(-180.0),
            max_lon: (center.lon + dlon).min(180.0),
        }
    }

    /// True when `p` is inside (edges included).
    pub fn contains(&self, p: Point) -> bool {
        p.lat >= self.min_lat
            && p.lat <= self.max_lat
            && p.lon >= self.min_lon
            && p.lon <= self.max_lon
    }
}

/// What town names are compared by: lower case, French accents and ligatures folded, every
/// run of other characters (hyphen, apostrophe, space) one space, and "saint"/"sainte" as
/// written in full or abbreviated ("St-Maixent" finds "Saint-Maixent-l'École").
pub fn name_key(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => folded.push('a'),
            'ç' => folded.push('c'),
            'é' | 'è' | 'ê' | 'ë' => folded.push('e'),
            'î' | 'ï' | 'í' | 'ì' => folded.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => folded.push('o'),
            'û' | 'ü' | 'ù' | 'ú' => folded.push('u'),
            'ÿ' | 'ý' => folded.push('y'),
            'ñ' => folded.push('n'),
            'œ' => folded.push_str("oe"),
            'æ' => folded.push_str("ae"),
            c if c.is_ascii_alphanumeric() => folded.push(c),
            _ => folded.push(' '),
        }
    }
    folded
        .split_whitespace()
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A French postcode: five digits.
pub fn is_postcode(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A quality or farming label a producer may show in the directory. Stored as its slug;
/// names come from the pages' catalogues (`label-<slug>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Agriculture biologique (AB, Eurofeuille).
    Organic,
    /// Nature & Progrès.
    NatureProgres,
    /// Demeter (biodynamic).
    Demeter,
    /// Haute valeur environnementale.
    Hve,
    /// Label Rouge.
    LabelRouge,
    /// AOP / AOC.
    Aop,
    /// Bienvenue à la ferme.
    BienvenueFerme,
}

impl Label {
    /// Every label, in the order lists show them.
    pub const ALL: [Label; 7] = [
        Label::Organic,
        Label::NatureProgres,
        Label::Demeter,
        Label::Hve,
        Label::LabelRouge,
        Label::Aop,
        Label::BienvenueFerme,
    ];

    /// The stable slug.
    pub fn slug(self) -> &'static str {
        match self {
            Label::Organic => "organic",
            Label::NatureProgres => "nature_progres",
            Label::Demeter => "demeter",
            Label::Hve => "hve",
            Label::LabelRouge => "label_rouge",
            Label::Aop => "aop",
            Label::BienvenueFerme => "bienvenue_ferme",
        }
    }

    /// Reads a slug (case and surrounding spaces ignored).
    pub fn parse(slug: &str) -> Option<Label> {
        let wanted = slug.trim().to_ascii_lowercase();
        Label::ALL.into_iter().find(|l| l.slug() == wanted)
    }
}

/// A list of slugs as stored: each wrapped in commas (",a,b,"), or "" for none, so that one
/// `LIKE '%,a,%'` finds it.
pub fn wrap_slugs<'a>(slugs: impl IntoIterator<Item = &'a str>) -> String {
    let inner: Vec<&str> = slugs.into_iter().collect();
    if inner.is_empty() {
        String::new()
    } else {
        format!(",{},", inner.join(","))
    }
}

/// The slugs of a stored list.
pub fn unwrap_slugs(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> Point {
        Point { lat, lon }
    }

    #[test]
    fn parthenay_to_niort_is_about_41_km() {
        // The towns' centres as the places dataset has them; by hand (the spherical law of
        // cosines on a calculator) 39.6 km, "about 41 km" between the town halls.
        let d = distance_km(p(46.64832, -0.24672), p(46.32313, -0.45877));
        assert!((d - 39.64).abs() < 0.05, "{d}");
    }

    #[test]
    fn a_degree_of_longitude_at_46_degrees_is_not_a_degree_of_latitude() {
        let east = distance_km(p(46.0, 0.0), p(46.0, 1.0));
        let north = distance_km(p(46.0, 0.0), p(47.0, 0.0));
        assert!((east - 77.3).abs() < 0.5, "{east}");
        assert!((north - 111.2).abs() < 0.5, "{north}");
    }

    #[test]
    fn the_box_holds_every_point_of_the_circle() {
        let c = p(46.5, -0.3);
        for r in [5.0, 41.0, 100.0] {
            let b = BoundingBox::around(c, r);
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                // A point at distance r (slightly less) on this bearing.
                let d = (r * 0.999) / EARTH_RADIUS_KM;
                let (la, lo) = (c.lat.to_radians(), c.lon.to_radians());
                let la2 = (la.sin() * d.cos() + la.cos() * d.sin() * bearing.cos()).asin();
                let lo2 =
                    lo + (bearing.sin() * d.sin() * la.cos()).atan2(d.cos() - la.sin() * la2.sin());
                let q = p(la2.to_degrees(), lo2.to_degrees());
                assert!(distance_km(c, q) <= r);
                assert!(b.contains(q), "r {r} bearing {step}");
            }
        }
    }

    #[test]
    fn town_names_compare_without_accents_case_or_abbreviations() {
        assert_eq!(name_key("Saint-Maixent-l'École"), "saint maixent l ecole");
        assert_eq!(name_key("ST MAIXENT L ECOLE"), "saint maixent l ecole");
        assert_eq!(name_key("  Châtillon-sur-Thouet "), "chatillon sur thouet");
        assert_eq!(name_key("Cœuvres"), "coeuvres");
    }

    #[test]
    fn postcodes_are_five_digits() {
        assert!(is_postcode("79200"));
        assert!(!is_postcode("7920"));
        assert!(!is_postcode("2A004"));
    }

    #[test]
    fn slugs_wrap_and_unwrap() {
        assert_eq!(wrap_slugs(["a", "b"]), ",a,b,");
        assert_eq!(wrap_slugs([]), "");
        assert_eq!(unwrap_slugs(",a,b,").collect::<Vec<_>>(), ["a", "b"]);
        for l in Label::ALL {
            assert_eq!(Label::parse(l.slug()), Some(l));
        }
    }
}
