//! The directory, read: producers and pickup points around a place (the same search as the
//! `/directory` page, the same store use case).

use distribution::directory::Label;
use domain::Category;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use store::{DirectorySearch, Store};

use super::Tag;
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
    ) -> Result<Json<SearchDto>, ApiError> {
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
        Ok(Json(SearchDto {
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
