//! The directory, read: producers and pickup points around a place (the same search as the
//! `/directory` page, the same store use case).

use distribution::directory::Label;
use domain::Category;
use poem_openapi::{Object, OpenApi, param::Query};
use serde::Serialize;
use store::{DirectorySearch, Store};

use super::{
    Tag,
    direct_json::{DirectJson, rfc3339},
};
use crate::ApiError;

pub(crate) struct DirectoryApi {
    pub(crate) store: Store,
}

/// A producer found.
#[derive(Object, Serialize)]
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
#[derive(Object, Serialize)]
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
    #[serde(serialize_with = "rfc3339")]
    next_slot_starts_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Great-circle distance from the place searched, in km.
    distance_km: f64,
}

/// One page of results (20 of each kind), nearest first (sent by serde, see `direct_json`).
#[derive(Object, Serialize)]
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
    ) -> Result<DirectJson<SearchDto>, ApiError> {
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
        Ok(DirectJson(SearchDto {
            place: place.label,
            latitude: place.point.lat,
            longitude: place.point.lon,
            producers: found
                .producers
                .into_iter()
                .map(|p| ProducerHitDto {
                    id: p.id,
                    name: p.name,
                    city: p.city,
                    postal_code: p.postal_code,
                    latitude: p.point.lat,
                    longitude: p.point.lon,
                    categories: p.categories.iter().map(|c| c.slug().to_owned()).collect(),
                    labels: p.labels.iter().map(|l| l.slug().to_owned()).collect(),
                    farm_gate: p.farm_gate,
                    distance_km: (p.distance_km * 10.0).round() / 10.0,
                })
                .collect(),
            producers_total: found.producers_total as u64,
            points: found
                .points
                .into_iter()
                .map(|p| PointHitDto {
                    id: p.id,
                    name: p.name,
                    address: p.address,
                    city: p.city,
                    postal_code: p.postal_code,
                    latitude: p.point.lat,
                    longitude: p.point.lon,
                    market: p.market_name,
                    next_slot_starts_at: p.next_slot.map(|s| s.0),
                    distance_km: (p.distance_km * 10.0).round() / 10.0,
                })
                .collect(),
            points_total: found.points_total as u64,
            next_page: found.next_page,
        }))
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::*;

    #[test]
    fn the_search_sent_by_serde_is_what_poem_openapi_would_send() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-10T16:30:00.25Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok();
        let point = |id: i64, next_slot_starts_at| PointHitDto {
            id,
            name: "Mairie \"centre\"".into(),
            address: "1 place de l'Église".into(),
            city: "Parthenay".into(),
            postal_code: "79200".into(),
            latitude: 46.648_32,
            longitude: -0.246_72,
            market: "Marché".into(),
            next_slot_starts_at,
            distance_km: 0.1,
        };
        let dto = SearchDto {
            place: "Parthenay (79200)".into(),
            latitude: 46.648_32,
            longitude: -0.246_72,
            producers: vec![ProducerHitDto {
                id: 7,
                name: "Ferme des Œillets".into(),
                city: "Niort".into(),
                postal_code: "79000".into(),
                latitude: 46.323_13,
                longitude: -0.458_77,
                categories: vec!["vegetables".into(), "dairy".into()],
                labels: vec![],
                farm_gate: true,
                distance_km: 39.6,
            }],
            producers_total: 1,
            points: vec![point(1, at), point(2, None)],
            points_total: 2,
            next_page: None,
        };
        let by_serde: serde_json::Value =
            serde_json::from_slice(&serde_json::to_vec(&dto).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(Some(by_serde), dto.to_json());
        let mut more = dto;
        more.next_page = Some(1);
        assert_eq!(serde_json::to_value(&more).ok(), more.to_json());
    }
}
