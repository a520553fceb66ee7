//! Baskets: place, read, modify, cancel.

use domain::RequestedLine;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path},
    payload::Json,
};
use store::{IdempotencyKey, OrderRequest, Placed, Store};

use super::{
    BearerAuth, Tag,
    dto::{OrderDto, OrderRequestDto},
    quantity,
};
use crate::ApiError;

pub(crate) struct OrdersApi {
    pub(crate) store: Store,
}

#[derive(ApiResponse)]
enum OrderCreated {
    /// The order is placed and its stock reserved. With an `Idempotency-Key` already used for
    /// the same request, the first answer again, with `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(
        Json<OrderDto>,
        #[oai(header = "Location")] String,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
}

#[derive(ApiResponse)]
enum OrderCancelled {
    /// Cancelled; its stock is back on sale.
    #[oai(status = 204)]
    Cancelled,
}

fn order_request(body: &OrderRequestDto) -> Result<OrderRequest, ApiError> {
    let lines = body
        .lines
        .iter()
        .map(|l| {
            Ok(RequestedLine {
                offer_id: l.offer_id,
                quantity: quantity("quantity", l.quantity)?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(OrderRequest {
        slot_id: body.slot_id,
        lines,
    })
}

#[OpenApi(tag = "Tag::Orders")]
impl OrdersApi {
    /// Place a basket in an open cycle. Stock is reserved at once and shared by every pickup
    /// point; asking for more than is left answers 409 `insufficient_stock` with what is left,
    /// and a slot whose distribution was cancelled answers 409 `slot_cancelled`.
    #[oai(
        path = "/cycles/:id/orders",
        method = "post",
        operation_id = "create_order"
    )]
    async fn create_order(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        /// Makes retries safe: the same key and request return the first answer.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: Json<OrderRequestDto>,
    ) -> Result<OrderCreated, ApiError> {
        let actor = auth.actor_for_order(&self.store).await?;
        let request = order_request(&body)?;
        let key = match idempotency_key.0 {
            Some(k) if k.is_empty() || k.len() > 255 => {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 characters",
                ));
            }
            Some(k) => Some(IdempotencyKey::new(k, id.0, body.on_behalf_of, &request)),
            None => None,
        };
        let placed = self
            .store
            .place_order(&actor, id.0, body.on_behalf_of, request, key)
            .await?;
        let (view, replayed) = match placed {
            Placed::Created(v) => (v, None),
            Placed::Replayed(v) => (v, Some("true".to_owned())),
        };
        let location = format!("/api/v1/orders/{}", view.id);
        Ok(OrderCreated::Created(Json(view.into()), location, replayed))
    }

    /// One basket: yours, or any of your market's if you coordinate it or volunteer for it.
    #[oai(path = "/orders/:id", method = "get", operation_id = "get_order")]
    async fn get_order(&self, auth: BearerAuth, id: Path<i64>) -> Result<Json<OrderDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(self.store.order(&actor, id.0).await?.into()))
    }

    /// Change a basket while its cycle is open: new lines and slot replace the old ones; stock
    /// moves by the difference. A cancelled slot answers 409 `slot_cancelled`: a basket whose
    /// slot was cancelled moves to another.
    #[oai(path = "/orders/:id", method = "put", operation_id = "update_order")]
    async fn update_order(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<OrderRequestDto>,
    ) -> Result<Json<OrderDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let request = order_request(&body)?;
        Ok(Json(
            self.store.modify_order(&actor, id.0, request).await?.into(),
        ))
    }

    /// Cancel a basket while its cycle is open.
    #[oai(path = "/orders/:id", method = "delete", operation_id = "delete_order")]
    async fn delete_order(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<OrderCancelled, ApiError> {
        let actor = auth.actor(&self.store).await?;
        self.store.cancel_order(&actor, id.0).await?;
        Ok(OrderCancelled::Cancelled)
    }

    /// Your baskets, newest first.
    #[oai(path = "/me/orders", method = "get", operation_id = "list_my_orders")]
    async fn list_my_orders(&self, auth: BearerAuth) -> Result<Json<Vec<OrderDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .my_orders(&actor)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }
}
