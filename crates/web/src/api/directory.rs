//! The directory, read: producers and pickup points around a place (the same search as the
//! `/directory` page, the same store use case).
//!
//! The answer is written by hand from each hit's JSON, made by serde the first time the hit is
//! shown and kept with it (`store::Kept`: once per load of the directory, not once per
//! search); only the distance, the next slot and the totals are written per search. The DTOs
//! below declare the answer in the OpenAPI document; a test checks that the bytes are what
//! poem-openapi would send for them.

use distribution::directory::Label;
use domain::Category;
use poem_openapi::{Object, OpenApi, param::Query};
use serde::Serialize;
use store::{DirectorySearch, SearchResults, Store};

use super::{Tag, direct_json::JsonBytes};
use crate::ApiError;

pub(crate) struct DirectoryApi {
    pub(crate) store: Store,
}

/// A producer found.
#[derive(Object)]
struct ProducerHitDto {
    id: i64,
    name: String,
    city: String,
    postal_code: String,
    latitude: f64,
    longitude: f64,
    /// Category slugs.
    categories: Vec<String>,
    /// Label slugs.
    labels: Vec<String>,
    farm_gate: bool,
    /// Great-circle distance from the place searched, in km.
    distance_km: f64,
}

/// A pickup point found.
#[derive(Object)]
struct PointHitDto {
    id: i64,
    name: String,
    address: String,
    city: String,
    postal_code: String,
    latitude: f64,
    longitude: f64,
    market: String,
    /// Start of its next slot within 14 days, if any.
    #[oai(nullable)]
    next_slot_starts_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Great-circle distance from the place searched, in km.
    distance_km: f64,
}

/// One page of results (20 of each kind), nearest first.
#[derive(Object)]
struct SearchDto {
    /// The place searched around.
    place: String,
    latitude: f64,
    longitude: f64,
    producers: Vec<ProducerHitDto>,
    producers_total: u64,
    points: Vec<PointHitDto>,
    points_total: u64,
    /// The next page's number, when there is more.
    #[oai(nullable)]
    next_page: Option<u32>,
}

fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::unprocessable(code, message)
}

#[OpenApi(tag = "Tag::Directory")]
impl DirectoryApi {
    /// Producers and pickup points within `radius_km` (5 to 100) of a postcode, a town or
    /// coordinates (`q`: "79200", "Parthenay", "46.65,-0.25"), filtered by comma-separated
    /// category and label slugs and `collect` (a pickup point near with a slot in 14 days).
    #[oai(
        path = "/directory/search",
        method = "get",
        operation_id = "search_directory"
    )]
    async fn search_directory(
        &self,
        q: Query<String>,
        radius_km: Query<Option<i64>>,
        categories: Query<Option<String>>,
        labels: Query<Option<String>>,
        collect: Query<Option<bool>>,
        page: Query<Option<i64>>,
    ) -> Result<JsonBytes<SearchDto>, ApiError> {
        // Whole numbers of any sign are read, then checked here: a 422 that says the range,
        // rather than a 400 from the parser for a negative number.
        let radius_km = u32::try_from(radius_km.0.unwrap_or(30))
            .map_err(|_| bad("invalid_radius", "radius_km goes from 5 to 100".into()))?;
        let page = u32::try_from(page.0.unwrap_or(0))
            .map_err(|_| bad("invalid_page", "page is 0 or more".into()))?;
        let place = self.store.locate(&q.0).await?;
        let categories = categories
            .0
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| Category::parse(s).map_err(|e| bad("invalid_category", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let labels = labels
            .0
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                Label::parse(s).ok_or_else(|| bad("invalid_label", format!("unknown label {s:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let found = self
            .store
            .search_directory(&DirectorySearch {
                center: place.point,
                radius_km,
                categories,
                labels,
                collect_near: collect.0.unwrap_or(false),
                page: page.min(1000),
            })
            .await?;
        Ok(JsonBytes::new(search_answer(
            &place.label,
            place.point,
            &found,
        )))
    }
}

/// A producer's fields but its distance, as the API names them.
#[derive(Serialize)]
struct ProducerShown<'a> {
    id: i64,
    name: &'a str,
    city: &'a str,
    postal_code: &'a str,
    latitude: f64,
    longitude: f64,
    categories: Vec<&'static str>,
    labels: Vec<&'static str>,
    farm_gate: bool,
}

/// A pickup point's fields before its next slot and distance, as the API names them.
#[derive(Serialize)]
struct PointShown<'a> {
    id: i64,
    name: &'a str,
    address: &'a str,
    city: &'a str,
    postal_code: &'a str,
    latitude: f64,
    longitude: f64,
    market: &'a str,
}

/// `value`'s JSON object without its closing brace.
fn open_object(value: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).unwrap_or_default();
    out.pop();
    out
}

/// A number or string as serde writes it (it cannot fail for these).
fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let _ = serde_json::to_writer(out, value);
}

/// A distance as the API gives it: km to a tenth.
fn rounded_km(d: f64) -> f64 {
    (d * 10.0).round() / 10.0
}

fn write_producer(out: &mut Vec<u8>, p: &store::ProducerFound) {
    out.extend_from_slice(p.kept.get_or_make(|| {
        open_object(&ProducerShown {
            id: p.id,
            name: &p.name,
            city: &p.city,
            postal_code: &p.postal_code,
            latitude: p.point.lat,
            longitude: p.point.lon,
            categories: p.categories.iter().map(|c| c.slug()).collect(),
            labels: p.labels.iter().map(|l| l.slug()).collect(),
            farm_gate: p.farm_gate,
        })
    }));
    write_json_field(out, "distance_km", &rounded_km(p.distance_km));
    out.push(b'}');
}

fn write_point(out: &mut Vec<u8>, p: &store::PointFound) {
    out.extend_from_slice(p.kept.get_or_make(|| {
        open_object(&PointShown {
            id: p.id,
            name: &p.name,
            address: &p.address,
            city: &p.city,
            postal_code: &p.postal_code,
            latitude: p.point.lat,
            longitude: p.point.lon,
            market: &p.market_name,
        })
    }));
    let next_slot = p.next_slot.map(|(starts, _)| starts.to_rfc3339());
    write_json_field(out, "next_slot_starts_at", &next_slot);
    write_json_field(out, "distance_km", &rounded_km(p.distance_km));
    out.push(b'}');
}

/// The answer's bytes: [`SearchDto`]'s fields, in its order.
fn search_answer(
    place: &str,
    at: distribution::directory::Point,
    found: &SearchResults,
) -> Vec<u8> {
    // Room for a page of the directory (some 10 KB) from the start: no copy as it grows.
    let mut out = Vec::with_capacity(16 * 1024);
    out.extend_from_slice(b"{\"place\":");
    write_json(&mut out, &place);
    write_json_field(&mut out, "latitude", &at.lat);
    write_json_field(&mut out, "longitude", &at.lon);
    write_list(&mut out, "producers", &found.producers, write_producer);
    write_json_field(&mut out, "producers_total", &(found.producers_total as u64));
    write_list(&mut out, "points", &found.points, write_point);
    write_json_field(&mut out, "points_total", &(found.points_total as u64));
    write_json_field(&mut out, "next_page", &found.next_page);
    out.push(b'}');
    out
}

/// `,"name":` and `value`.
fn write_json_field(out: &mut Vec<u8>, name: &str, value: &impl Serialize) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    write_json(out, value);
}

/// `,"name":[` the items, each written by `write`, `]`.
fn write_list<T>(out: &mut Vec<u8>, name: &str, items: &[T], write: fn(&mut Vec<u8>, &T)) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":[");
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use distribution::directory::Point;
    use poem_openapi::types::ToJSON;
    use store::{Kept, PointFound, PointHit, ProducerFound, ProducerHit};

    use super::*;

    #[test]
    fn the_search_written_by_hand_is_what_poem_openapi_would_send() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-10T16:30:00.25Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok();
        let here = Point {
            lat: 46.648_32,
            lon: -0.246_72,
        };
        let point_hit = |id: i64| {
            Arc::new(PointHit {
                id,
                name: "Mairie \"centre\"".into(),
                address: "1 place de l'Église".into(),
                city: "Parthenay".into(),
                postal_code: "79200".into(),
                point: here,
                market_name: "Marché".into(),
                timezone: chrono_tz::Europe::Paris,
                kept: Kept::default(),
            })
        };
        let farm = Arc::new(ProducerHit {
            id: 7,
            name: "Ferme des Œillets".into(),
            city: "Niort".into(),
            postal_code: "79000".into(),
            point: Point {
                lat: 46.323_13,
                lon: -0.458_77,
            },
            categories: vec![Category::Vegetables, Category::Dairy],
            labels: vec![],
            farm_gate: true,
            kept: Kept::default(),
        });
        let mut found = SearchResults {
            producers: vec![ProducerFound {
                hit: farm.clone(),
                distance_km: 39.642,
            }],
            producers_total: 1,
            points: vec![
                PointFound {
                    hit: point_hit(1),
                    next_slot: at.map(|t| (t, t + chrono::Duration::hours(2))),
                    distance_km: 0.06,
                },
                PointFound {
                    hit: point_hit(2),
                    next_slot: None,
                    distance_km: 0.0,
                },
            ],
            points_total: 2,
            next_page: None,
        };
        let dto = |found: &SearchResults| SearchDto {
            place: "Parthenay (79200)".into(),
            latitude: here.lat,
            longitude: here.lon,
            producers: found
                .producers
                .iter()
                .map(|p| ProducerHitDto {
                    id: p.id,
                    name: p.name.clone(),
                    city: p.city.clone(),
                    postal_code: p.postal_code.clone(),
                    latitude: p.point.lat,
                    longitude: p.point.lon,
                    categories: p.categories.iter().map(|c| c.slug().to_owned()).collect(),
                    labels: p.labels.iter().map(|l| l.slug().to_owned()).collect(),
                    farm_gate: p.farm_gate,
                    distance_km: rounded_km(p.distance_km),
                })
                .collect(),
            producers_total: found.producers_total as u64,
            points: found
                .points
                .iter()
                .map(|p| PointHitDto {
                    id: p.id,
                    name: p.name.clone(),
                    address: p.address.clone(),
                    city: p.city.clone(),
                    postal_code: p.postal_code.clone(),
                    latitude: p.point.lat,
                    longitude: p.point.lon,
                    market: p.market_name.clone(),
                    next_slot_starts_at: p.next_slot.map(|s| s.0),
                    distance_km: rounded_km(p.distance_km),
                })
                .collect(),
            points_total: found.points_total as u64,
            next_page: found.next_page,
        };
        let written = |found: &SearchResults| {
            serde_json::from_slice::<serde_json::Value>(&search_answer(
                "Parthenay (79200)",
                here,
                found,
            ))
            .ok()
        };
        assert_eq!(written(&found), dto(&found).to_json());
        // Again, from the hits' kept JSON, at other distances, with a next page.
        found.producers[0].distance_km = 12.35;
        found.next_page = Some(1);
        assert!(!farm.kept.get_or_make(Vec::new).is_empty(), "kept");
        assert_eq!(written(&found), dto(&found).to_json());
        // Nothing found.
        let none = SearchResults::default();
        assert_eq!(written(&none), dto(&none).to_json());
    }
}
