//! A market's vehicles, which its co-delivery rounds can be planned with (`vehicle_ids` of
//! `POST /cycles/{id}/rounds`). Seen and kept by the market's coordinators only.

use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use store::{Store, VehicleInput, VehicleView};

use super::{
    BearerAuth, Tag,
    input::{Dec, NonBlank},
};
use crate::ApiError;

pub(crate) struct VehiclesApi {
    pub(crate) store: Store,
}

/// A vehicle to add, or a vehicle's new name and capacity.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct VehicleRequest {
    /// Name ("Kangoo"), 1 to 100 characters, unique among the market's vehicles in use.
    #[oai(validator(max_length = 100))]
    name: NonBlank,
    /// Crates it holds, 1 to 10,000.
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    capacity_crates: u32,
    /// Kilograms it carries (above 0, to the gram), when that binds; null: no weight limit.
    #[oai(nullable)]
    capacity_kg: Option<Dec>,
}

impl From<VehicleRequest> for VehicleInput {
    fn from(b: VehicleRequest) -> Self {
        Self {
            name: b.name.into(),
            capacity_crates: b.capacity_crates,
            capacity_kg: b.capacity_kg.map(Into::into),
        }
    }
}

/// One of a market's vehicles.
#[derive(Object)]
struct VehicleDto {
    /// Id.
    id: i64,
    /// The market.
    market_id: i64,
    /// Name.
    name: String,
    /// Crates it holds.
    capacity_crates: u32,
    /// Kilograms it carries, e.g. "400"; null: no weight limit.
    #[oai(nullable)]
    capacity_kg: Option<String>,
    /// Archived: offered for no new round, left out of rounds planned again.
    archived: bool,
}

impl From<VehicleView> for VehicleDto {
    fn from(v: VehicleView) -> Self {
        Self {
            id: v.id,
            market_id: v.market_id,
            name: v.name,
            capacity_crates: v.capacity_crates,
            capacity_kg: v.capacity_kg.map(|kg| kg.normalize().to_string()),
            archived: v.archived,
        }
    }
}

#[derive(ApiResponse)]
enum VehicleCreated {
    /// Added.
    #[oai(status = 201)]
    Created(Json<VehicleDto>),
}

#[OpenApi(tag = "Tag::Distribution")]
impl VehiclesApi {
    /// A market's vehicles, by name, the archived ones last (the market's coordinators).
    #[oai(
        path = "/markets/:id/vehicles",
        method = "get",
        operation_id = "list_vehicles"
    )]
    async fn list_vehicles(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<VehicleDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let list = self.store.list_vehicles(&actor, id.0).await?;
        Ok(Json(list.into_iter().map(Into::into).collect()))
    }

    /// Add a vehicle to a market (its coordinators).
    #[oai(
        path = "/markets/:id/vehicles",
        method = "post",
        operation_id = "create_vehicle"
    )]
    async fn create_vehicle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<VehicleRequest>,
    ) -> Result<VehicleCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let v = self
            .store
            .create_vehicle(&actor, id.0, body.0.into())
            .await?;
        Ok(VehicleCreated::Created(Json(v.into())))
    }

    /// Change a vehicle's name and capacity (its market's coordinators). Rounds already
    /// planned keep it as it was; a round planned again takes it as it is.
    #[oai(
        path = "/vehicles/:id",
        method = "put",
        operation_id = "update_vehicle"
    )]
    async fn update_vehicle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<VehicleRequest>,
    ) -> Result<Json<VehicleDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let v = self
            .store
            .update_vehicle(&actor, id.0, body.0.into())
            .await?;
        Ok(Json(v.into()))
    }

    /// Archive a vehicle (its market's coordinators): offered for no new round, left out of
    /// rounds planned again. Archiving twice changes nothing.
    #[oai(
        path = "/vehicles/:id/archive",
        method = "post",
        operation_id = "archive_vehicle"
    )]
    async fn archive_vehicle(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<VehicleDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(self.store.archive_vehicle(&actor, id.0).await?.into()))
    }
}
