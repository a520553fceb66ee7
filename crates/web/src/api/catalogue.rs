//! Producers and their products.

use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};
use store::Store;

use super::{
    BearerAuth, Tag,
    dto::{ProducerDto, ProductDto, ProductRequest},
    new_product,
};
use crate::ApiError;

pub(crate) struct ProducersApi {
    pub(crate) store: Store,
}

#[derive(ApiResponse)]
enum ProductCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<ProductDto>),
}

#[derive(ApiResponse)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per request and returned at once"
)]
enum ProductDeleted {
    /// Deleted: it had never been offered.
    #[oai(status = 204)]
    Deleted,
    /// Archived rather than deleted, since past cycles offered it.
    #[oai(status = 200)]
    Archived(Json<ProductDto>),
}

#[OpenApi(tag = "Tag::Producers")]
impl ProducersApi {
    /// One producer.
    #[oai(path = "/producers/:id", method = "get", operation_id = "get_producer")]
    async fn get_producer(&self, id: Path<i64>) -> Result<Json<ProducerDto>, ApiError> {
        Ok(Json(self.store.producer(id.0).await?.into()))
    }

    /// A producer's active products.
    #[oai(
        path = "/producers/:id/products",
        method = "get",
        operation_id = "list_products"
    )]
    async fn list_products(&self, id: Path<i64>) -> Result<Json<Vec<ProductDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_products(None, id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// The logged-in producer's products, archived ones included.
    #[oai(
        path = "/me/products",
        method = "get",
        operation_id = "list_my_products"
    )]
    async fn list_my_products(&self, auth: BearerAuth) -> Result<Json<Vec<ProductDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let producer_id = actor
            .producer_id
            .ok_or_else(|| ApiError::forbidden("this account is not a producer's"))?;
        Ok(Json(
            self.store
                .list_products(Some(&actor), producer_id)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Add a product to a producer's catalogue (that producer).
    #[oai(
        path = "/producers/:id/products",
        method = "post",
        operation_id = "create_product"
    )]
    async fn create_product(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<ProductRequest>,
    ) -> Result<ProductCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let p = self
            .store
            .create_product(&actor, id.0, new_product(body.0)?)
            .await?;
        Ok(ProductCreated::Created(Json(p.into())))
    }

    /// One product.
    #[oai(path = "/products/:id", method = "get", operation_id = "get_product")]
    async fn get_product(&self, id: Path<i64>) -> Result<Json<ProductDto>, ApiError> {
        Ok(Json(self.store.product(None, id.0).await?.into()))
    }

    /// Replace a product's fields (its producer).
    #[oai(
        path = "/products/:id",
        method = "put",
        operation_id = "update_product"
    )]
    async fn update_product(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<ProductRequest>,
    ) -> Result<Json<ProductDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .update_product(&actor, id.0, new_product(body.0)?)
                .await?
                .into(),
        ))
    }

    /// Delete a product; one that was ever offered is archived instead.
    #[oai(
        path = "/products/:id",
        method = "delete",
        operation_id = "delete_product"
    )]
    async fn delete_product(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<ProductDeleted, ApiError> {
        let actor = auth.actor(&self.store).await?;
        if self.store.delete_product(&actor, id.0).await? {
            Ok(ProductDeleted::Archived(Json(
                self.store.product(Some(&actor), id.0).await?.into(),
            )))
        } else {
            Ok(ProductDeleted::Deleted)
        }
    }
}
