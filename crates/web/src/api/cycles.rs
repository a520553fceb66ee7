//! Order cycles: their slots, their state, and producers' offers.

use domain::CycleState;
use poem::http::HeaderMap;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};
use store::{OfferInput, Store};

use super::{
    BearerAuth, Tag,
    cycle_json::{CycleBytes, CycleJson},
    dto::{CycleSummaryDto, NewSlotRequest, OfferDto, OfferSetRequest, SlotDto},
    markets::new_slot,
    price, quantity, viewer,
};
use crate::ApiError;

pub(crate) struct CyclesApi {
    pub(crate) store: Store,
    /// Each cycle's JSON, per version of what it shows.
    pub(crate) bytes: CycleBytes,
}

#[derive(ApiResponse)]
enum SlotCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<SlotDto>),
}

impl CyclesApi {
    async fn move_to(
        &self,
        auth: BearerAuth,
        id: i64,
        target: CycleState,
    ) -> Result<Json<CycleSummaryDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .transition_cycle(&actor, id, target)
                .await?
                .into(),
        ))
    }
}

#[OpenApi(tag = "Tag::Cycles")]
impl CyclesApi {
    /// A cycle with its distribution slots and every offer: price, unit, producer, stock left.
    #[oai(path = "/cycles/:id", method = "get", operation_id = "get_cycle")]
    async fn get_cycle(&self, id: Path<i64>, headers: &HeaderMap) -> Result<CycleJson, ApiError> {
        let shown = self.store.shown_cycle(viewer(headers), id.0).await?;
        Ok(CycleJson::answer(self.bytes.of(&shown)?, headers))
    }

    /// Open a draft cycle for orders (from its `opens_at`).
    #[oai(
        path = "/cycles/:id/open",
        method = "post",
        operation_id = "open_cycle"
    )]
    async fn open_cycle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<CycleSummaryDto>, ApiError> {
        self.move_to(auth, id.0, CycleState::Open).await
    }

    /// Close a cycle now, before its `closes_at`: orders freeze.
    #[oai(
        path = "/cycles/:id/close",
        method = "post",
        operation_id = "close_cycle"
    )]
    async fn close_cycle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<CycleSummaryDto>, ApiError> {
        self.move_to(auth, id.0, CycleState::Closed).await
    }

    /// Mark a closed cycle as distributed.
    #[oai(
        path = "/cycles/:id/distribute",
        method = "post",
        operation_id = "distribute_cycle"
    )]
    async fn distribute_cycle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<CycleSummaryDto>, ApiError> {
        self.move_to(auth, id.0, CycleState::Distributed).await
    }

    /// Add a distribution slot to a cycle (the market's coordinators).
    #[oai(
        path = "/cycles/:id/slots",
        method = "post",
        operation_id = "create_slot"
    )]
    async fn create_slot(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NewSlotRequest>,
    ) -> Result<SlotCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let s = self.store.add_slot(&actor, id.0, new_slot(body.0)).await?;
        Ok(SlotCreated::Created(Json(s.into())))
    }

    /// A producer's offers in a cycle.
    #[oai(
        path = "/cycles/:id/producers/:producer_id/offers",
        method = "get",
        operation_id = "list_offers"
    )]
    async fn list_offers(
        &self,
        id: Path<i64>,
        producer_id: Path<i64>,
        headers: &HeaderMap,
    ) -> Result<Json<Vec<OfferDto>>, ApiError> {
        self.store
            .shown_cycle(viewer(headers), id.0)
            .await
            .map(drop)?;
        let offers = self.store.producer_offers(id.0, producer_id.0).await?;
        Ok(Json(offers.into_iter().map(Into::into).collect()))
    }

    /// Set all of a producer's offers for a cycle in one request: every listed product is on
    /// sale with its price and stock; products left out are withdrawn. Stock already ordered
    /// stays reserved.
    #[oai(
        path = "/cycles/:id/producers/:producer_id/offers",
        method = "put",
        operation_id = "set_offers"
    )]
    async fn set_offers(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        producer_id: Path<i64>,
        body: Json<OfferSetRequest>,
    ) -> Result<Json<Vec<OfferDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let inputs = body
            .0
            .offers
            .into_iter()
            .map(|o| {
                Ok(OfferInput {
                    product_id: o.product_id,
                    price: o.price.map(|p| price("price", p)).transpose()?,
                    stock: quantity("stock", o.stock)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let offers = self
            .store
            .set_offers(&actor, id.0, producer_id.0, inputs)
            .await?;
        Ok(Json(offers.into_iter().map(Into::into).collect()))
    }

    /// Start this cycle's offer from the producer's offer in the previous cycle (same products,
    /// prices and stock), keeping what is already on sale.
    #[oai(
        path = "/cycles/:id/producers/:producer_id/offers/copy-previous",
        method = "post",
        operation_id = "copy_previous_offers"
    )]
    async fn copy_previous_offers(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        producer_id: Path<i64>,
    ) -> Result<Json<Vec<OfferDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let offers = self
            .store
            .copy_previous_offers(&actor, id.0, producer_id.0)
            .await?;
        Ok(Json(offers.into_iter().map(Into::into).collect()))
    }
}
