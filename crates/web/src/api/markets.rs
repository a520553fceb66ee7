//! Markets, with their pickup points, producers and cycles.

use poem::http::HeaderMap;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use store::{AuditFilter, NewCycle, NewMarket, NewPickupPoint, NewProducer, NewSlot, Store};

use super::{
    BearerAuth, Tag,
    dto::{
        CycleDto, CycleSummaryDto, MarketDto, NewCycleRequest, NewMarketRequest,
        NewPickupPointRequest, NewProducerRequest, PickupPointDto, ProducerDto,
    },
    viewer,
};
use crate::{ApiError, error::ErrorBody};

pub(crate) struct MarketsApi {
    pub(crate) store: Store,
}

#[derive(ApiResponse)]
enum MarketCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<MarketDto>),
}

#[derive(ApiResponse)]
enum PickupPointCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<PickupPointDto>),
}

#[derive(ApiResponse)]
enum ProducerCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<ProducerDto>),
}

#[derive(ApiResponse)]
enum CycleCreated {
    /// Created, as a draft: open it with `POST /cycles/{id}/open`.
    #[oai(status = 201)]
    Created(Json<CycleDto>),
}

/// One staff action of a market's audit trail.
#[derive(Object)]
struct AuditEntryDto {
    id: i64,
    /// When.
    at: chrono::DateTime<chrono::Utc>,
    /// Who: the account; null for the system itself (the demo's loader).
    #[oai(nullable)]
    actor_id: Option<i64>,
    /// Who: its name at the time.
    actor_name: String,
    /// `price`, `stock`, `weight`, `checkout`, `cycle`, `slot` or `invitation`.
    kind: String,
    /// What it was done to (`Carottes, Semaine 48`).
    subject: String,
    /// What changed (`2.50 → 3.10`).
    detail: String,
}

/// A page of a market's audit trail, newest first.
#[derive(Object)]
struct AuditPageDto {
    entries: Vec<AuditEntryDto>,
    /// This page, from 1.
    page: u64,
    /// Whether an older page follows.
    has_next: bool,
}

/// A day of the audit filter (`YYYY-MM-DD`).
fn audit_day(value: Option<&str>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    value
        .map(|v| {
            chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                ApiError::Unprocessable(ErrorBody::new(
                    "invalid_dates",
                    format!("{v} is not a day (YYYY-MM-DD)"),
                ))
            })
        })
        .transpose()
}

pub(crate) fn new_slot(s: super::dto::NewSlotRequest) -> NewSlot {
    NewSlot {
        pickup_point_id: s.pickup_point_id,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
    }
}

#[OpenApi(tag = "Tag::Markets")]
impl MarketsApi {
    /// Every market.
    #[oai(path = "/markets", method = "get", operation_id = "list_markets")]
    async fn list_markets(&self) -> Result<Json<Vec<MarketDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_markets()
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Create a market (administrators).
    #[oai(path = "/markets", method = "post", operation_id = "create_market")]
    async fn create_market(
        &self,
        auth: BearerAuth,
        body: Json<NewMarketRequest>,
    ) -> Result<MarketCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let m = self
            .store
            .create_market(
                &actor,
                NewMarket {
                    name: b.name.into(),
                    slug: b.slug.into(),
                    timezone: b
                        .timezone
                        .map_or_else(|| "Europe/Paris".to_owned(), Into::into),
                    description: b.description.into(),
                    city: b.city.into(),
                    latitude: b.latitude,
                    longitude: b.longitude,
                },
            )
            .await?;
        Ok(MarketCreated::Created(Json(m.into())))
    }

    /// One market.
    #[oai(path = "/markets/:id", method = "get", operation_id = "get_market")]
    async fn get_market(&self, id: Path<i64>) -> Result<Json<MarketDto>, ApiError> {
        Ok(Json(self.store.market(id.0).await?.into()))
    }

    /// A market's pickup points.
    #[oai(
        path = "/markets/:id/pickup-points",
        method = "get",
        operation_id = "list_pickup_points"
    )]
    async fn list_pickup_points(
        &self,
        id: Path<i64>,
    ) -> Result<Json<Vec<PickupPointDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_pickup_points(id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Add a pickup point (the market's coordinators).
    #[oai(
        path = "/markets/:id/pickup-points",
        method = "post",
        operation_id = "create_pickup_point"
    )]
    async fn create_pickup_point(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NewPickupPointRequest>,
    ) -> Result<PickupPointCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let p = self
            .store
            .create_pickup_point(
                &actor,
                id.0,
                NewPickupPoint {
                    name: b.name.into(),
                    address: b.address.into(),
                    postal_code: b.postal_code.into(),
                    city: b.city.into(),
                    latitude: b.latitude,
                    longitude: b.longitude,
                    host_kind: b.host_kind.into(),
                    host_name: b.host_name.into(),
                    access_notes: b.access_notes.into(),
                },
            )
            .await?;
        Ok(PickupPointCreated::Created(Json(p.into())))
    }

    /// The producers selling through a market.
    #[oai(
        path = "/markets/:id/producers",
        method = "get",
        operation_id = "list_producers"
    )]
    async fn list_producers(&self, id: Path<i64>) -> Result<Json<Vec<ProducerDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_producers(id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Add a producer to a market (the market's coordinators).
    #[oai(
        path = "/markets/:id/producers",
        method = "post",
        operation_id = "create_producer"
    )]
    async fn create_producer(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NewProducerRequest>,
    ) -> Result<ProducerCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let p = self
            .store
            .create_producer(
                &actor,
                id.0,
                NewProducer {
                    name: b.name.into(),
                    farmer_name: b.farmer_name.into(),
                    description: b.description.into(),
                    address: b.address.into(),
                    postal_code: b.postal_code.into(),
                    city: b.city.into(),
                    latitude: b.latitude,
                    longitude: b.longitude,
                    phone: b.phone.map(Into::into),
                    email: b.email.map(Into::into),
                    website: b.website.map(Into::into),
                    social: b.social.map(Into::into),
                },
            )
            .await?;
        Ok(ProducerCreated::Created(Json(p.into())))
    }

    /// A market's order cycles, newest first.
    #[oai(
        path = "/markets/:id/cycles",
        method = "get",
        operation_id = "list_cycles"
    )]
    async fn list_cycles(
        &self,
        id: Path<i64>,
        headers: &HeaderMap,
    ) -> Result<Json<Vec<CycleSummaryDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_cycles(viewer(headers), id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Create an order cycle with its distribution slots (the market's coordinators).
    #[oai(
        path = "/markets/:id/cycles",
        method = "post",
        operation_id = "create_cycle"
    )]
    async fn create_cycle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NewCycleRequest>,
    ) -> Result<CycleCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let c = self
            .store
            .create_cycle(
                &actor,
                id.0,
                NewCycle {
                    name: b.name.into(),
                    opens_at: b.opens_at,
                    closes_at: b.closes_at,
                    slots: b.slots.into_iter().map(new_slot).collect(),
                },
            )
            .await?;
        Ok(CycleCreated::Created(Json(c.into())))
    }

    /// A market's audit trail (its coordinators): who changed a price, a stock, a weight, a
    /// check-out, a cycle's state, a slot or an invitation, and when; newest first, 50 a page,
    /// by kind and days (UTC, both included).
    #[oai(
        path = "/markets/:id/audit",
        method = "get",
        operation_id = "market_audit_trail"
    )]
    async fn audit_trail(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        kind: Query<Option<String>>,
        from: Query<Option<String>>,
        to: Query<Option<String>>,
        page: Query<Option<i64>>,
    ) -> Result<Json<AuditPageDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let page = match page.0 {
            None => 1,
            Some(p) => u64::try_from(p).map_err(|_| {
                ApiError::Unprocessable(ErrorBody::new("invalid_page", "pages start at 1"))
            })?,
        };
        let filter = AuditFilter {
            kind: kind.0,
            from: audit_day(from.0.as_deref())?,
            to: audit_day(to.0.as_deref())?,
            page,
        };
        let trail = self.store.audit_trail(&actor, id.0, &filter).await?;
        Ok(Json(AuditPageDto {
            entries: trail
                .entries
                .into_iter()
                .map(|e| AuditEntryDto {
                    id: e.id,
                    at: e.at,
                    actor_id: e.actor_id,
                    actor_name: e.actor_name,
                    kind: e.kind,
                    subject: e.subject,
                    detail: e.detail,
                })
                .collect(),
            page: trail.page,
            has_next: trail.has_next,
        }))
    }
}
