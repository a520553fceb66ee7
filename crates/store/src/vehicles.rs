//! A market's vehicles: what its co-delivery rounds can be planned with. Kept by the market's
//! coordinators (list, add, change, archive); nobody else sees them (another market's
//! coordinator gets 404 for a vehicle, 403 for a market's list). Kilograms are kept in grams,
//! exact on SQLite and PostgreSQL alike. An archived vehicle stays in the table so that rounds
//! planned with it still read; it is offered for no new round, and a round planned again
//! leaves it out.

use chrono::Utc;
use distribution::routing::{MAX_VEHICLES, Vehicle};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{Actor, Store, StoreError, entities::vehicle, rights};

/// The most crates a vehicle is said to hold.
pub const MAX_VEHICLE_CRATES: u32 = 10_000;
/// The most kilograms a vehicle is said to carry (a 40-tonne lorry).
const MAX_VEHICLE_KG: i64 = 40_000;

/// A vehicle as the coordinators see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VehicleView {
    /// Id.
    pub id: i64,
    /// The market.
    pub market_id: i64,
    /// Name ("Kangoo").
    pub name: String,
    /// Crates it holds.
    pub capacity_crates: u32,
    /// Kilograms it carries; `None`: no weight limit.
    pub capacity_kg: Option<Decimal>,
    /// Offered for no new round.
    pub archived: bool,
}

impl VehicleView {
    /// The vehicle as the planner knows it.
    pub fn planned(&self) -> Vehicle {
        Vehicle {
            name: self.name.clone(),
            capacity_crates: self.capacity_crates,
            capacity_kg: self.capacity_kg,
        }
    }
}

/// What a coordinator says of a vehicle.
#[derive(Clone, Debug)]
pub struct VehicleInput {
    /// Name, 1 to 100 characters, unique among the market's vehicles in use.
    pub name: String,
    /// Crates it holds, 1 to 10,000.
    pub capacity_crates: u32,
    /// Kilograms it carries (above 0, to the gram), if that binds.
    pub capacity_kg: Option<Decimal>,
}

fn view(m: vehicle::Model) -> VehicleView {
    VehicleView {
        id: m.id,
        market_id: m.market_id,
        name: m.name,
        capacity_crates: u32::try_from(m.capacity_crates).unwrap_or(0),
        capacity_kg: m.capacity_kg_milli.map(|g| Decimal::new(g, 3).normalize()),
        archived: m.archived,
    }
}

/// The checked input: trimmed name, capacity in grams.
fn checked(input: &VehicleInput) -> Result<(String, Option<i64>), StoreError> {
    crate::text::check_chars("name", &input.name)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::invalid(
            "invalid_field",
            "name is required and at most 100 characters long",
        ));
    }
    if input.capacity_crates == 0 || input.capacity_crates > MAX_VEHICLE_CRATES {
        return Err(StoreError::invalid(
            "invalid_capacity",
            format!("capacity_crates must be from 1 to {MAX_VEHICLE_CRATES}"),
        ));
    }
    let grams = match input.capacity_kg {
        None => None,
        Some(kg) => {
            let grams = kg * Decimal::from(1000);
            if kg <= Decimal::ZERO
                || kg > Decimal::from(MAX_VEHICLE_KG)
                || grams.fract() != Decimal::ZERO
            {
                return Err(StoreError::invalid(
                    "invalid_capacity",
                    format!(
                        "capacity_kg must be above 0 and at most {MAX_VEHICLE_KG}, to the gram"
                    ),
                ));
            }
            Some(i64::try_from(grams).map_err(|_| {
                StoreError::invalid("invalid_capacity", "capacity_kg is out of range")
            })?)
        }
    };
    Ok((name.to_owned(), grams))
}

/// Which of a round's vehicles are taken when some are archived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Archived {
    /// A new round: an archived vehicle is refused (`vehicle_archived`).
    Refuse,
    /// A round planned again: archived vehicles are left out; none left is refused.
    Skip,
}

impl Store {
    fn vehicles_forbidden() -> StoreError {
        StoreError::forbidden("only this market's coordinators can see and change its vehicles")
    }

    /// A market's vehicles, by name, the archived ones last (its coordinators).
    pub async fn list_vehicles(
        &self,
        actor: &Actor,
        market_id: i64,
    ) -> Result<Vec<VehicleView>, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(Self::vehicles_forbidden());
        }
        let rows = vehicle::Entity::find()
            .filter(vehicle::Column::MarketId.eq(market_id))
            .order_by_asc(vehicle::Column::Archived)
            .order_by_asc(vehicle::Column::Name)
            .order_by_asc(vehicle::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Refuses a name another vehicle in use of the market has (case aside).
    async fn unique_name(&self, market_id: i64, name: &str, id: i64) -> Result<(), StoreError> {
        let lower = name.to_lowercase();
        let taken = vehicle::Entity::find()
            .filter(vehicle::Column::MarketId.eq(market_id))
            .filter(vehicle::Column::Archived.eq(false))
            .filter(vehicle::Column::Id.ne(id))
            .all(self.db())
            .await?
            .iter()
            .any(|v| v.name.to_lowercase() == lower);
        if taken {
            return Err(StoreError::conflict(
                "duplicate_name",
                format!("the market already has a vehicle named \"{name}\""),
            ));
        }
        Ok(())
    }

    /// Adds a vehicle to a market (its coordinators).
    pub async fn create_vehicle(
        &self,
        actor: &Actor,
        market_id: i64,
        input: VehicleInput,
    ) -> Result<VehicleView, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(Self::vehicles_forbidden());
        }
        let (name, grams) = checked(&input)?;
        self.unique_name(market_id, &name, 0).await?;
        let v = vehicle::ActiveModel {
            market_id: Set(market_id),
            name: Set(name),
            capacity_crates: Set(i32::try_from(input.capacity_crates).unwrap_or(i32::MAX)),
            capacity_kg_milli: Set(grams),
            archived: Set(false),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(view(v))
    }

    /// A vehicle its market's coordinators may change (anyone else: 404).
    async fn coordinated_vehicle(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<vehicle::Model, StoreError> {
        let v = vehicle::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("vehicle", id))?;
        if !rights::runs_market(actor, v.market_id) {
            return Err(StoreError::not_found("vehicle", id));
        }
        Ok(v)
    }

    /// Changes a vehicle's name and capacity (its market's coordinators); rounds already
    /// planned keep the vehicle as it was, a round planned again takes it as it is.
    pub async fn update_vehicle(
        &self,
        actor: &Actor,
        id: i64,
        input: VehicleInput,
    ) -> Result<VehicleView, StoreError> {
        let v = self.coordinated_vehicle(actor, id).await?;
        let (name, grams) = checked(&input)?;
        if !v.archived {
            self.unique_name(v.market_id, &name, id).await?;
        }
        let mut m: vehicle::ActiveModel = v.into();
        m.name = Set(name);
        m.capacity_crates = Set(i32::try_from(input.capacity_crates).unwrap_or(i32::MAX));
        m.capacity_kg_milli = Set(grams);
        Ok(view(m.update(self.db()).await?))
    }

    /// Archives a vehicle (its market's coordinators): offered for no new round; archiving
    /// twice changes nothing.
    pub async fn archive_vehicle(&self, actor: &Actor, id: i64) -> Result<VehicleView, StoreError> {
        let v = self.coordinated_vehicle(actor, id).await?;
        if v.archived {
            return Ok(view(v));
        }
        let mut m: vehicle::ActiveModel = v.into();
        m.archived = Set(true);
        Ok(view(m.update(self.db()).await?))
    }

    /// The vehicles a round of `market_id` is planned with, in the order given.
    pub(crate) async fn round_vehicles(
        &self,
        market_id: i64,
        ids: &[i64],
        archived: Archived,
    ) -> Result<Vec<Vehicle>, StoreError> {
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if ids.is_empty() || ids.len() > MAX_VEHICLES || unique.len() != ids.len() {
            return Err(StoreError::invalid(
                "invalid_round",
                format!("a round has 1 to {MAX_VEHICLES} different vehicles"),
            ));
        }
        let rows = vehicle::Entity::find()
            .filter(vehicle::Column::Id.is_in(unique))
            .filter(vehicle::Column::MarketId.eq(market_id))
            .all(self.db())
            .await?;
        let mut vehicles = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(v) = rows.iter().find(|v| v.id == *id) else {
                return Err(StoreError::invalid(
                    "unknown_vehicle",
                    format!("vehicle {id} is not one of this market's"),
                ));
            };
            if v.archived {
                if archived == Archived::Refuse {
                    return Err(StoreError::invalid(
                        "vehicle_archived",
                        format!("vehicle \"{}\" is archived", v.name),
                    ));
                }
                continue;
            }
            vehicles.push(view(v.clone()).planned());
        }
        if vehicles.is_empty() {
            return Err(StoreError::invalid(
                "vehicle_archived",
                "every vehicle of this round is archived: plan a new round",
            ));
        }
        Ok(vehicles)
    }
}
