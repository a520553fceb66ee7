//! Co-delivery rounds: a coordinator names a vehicle, a start and an end, the farms to collect
//! from and the slots to deliver to; the crates to carry come from the cycle's orders (one crate
//! per producer and pickup point, as producers pack them), and `distribution::routing` orders the
//! stops.
//!
//! A round's definition is stored with its plan, computed once at creation (the solver takes
//! up to a second for 50 stops, on a blocking thread behind the store's CPU gate). Reading a
//! round reads the stored plan; `replan_round` computes it again from the definition and the
//! cycle's orders as they are now, on a coordinator's explicit request.
//!
//! A round goes in one ad-hoc vehicle (the capacity given with it) or in several of the market's
//! vehicles (`vehicle_ids`, planned by `distribution::routing::plan_fleet`). Either way the plan
//! is stored as a `FleetPlan` (one ad-hoc vehicle: a fleet of one, its name empty); plans stored
//! before vehicles came, a bare `RoundPlan`, read back as a fleet of one. Planned again, a round
//! takes its vehicles as they are now and leaves out the archived ones.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use distribution::routing::{
    DropPoint, Farm, FleetPlan, Place, RoundPlan, RoundRequest, Shipment, Vehicle, plan_fleet,
};
use domain::Unit;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::{
    Actor, Store, StoreError,
    catalogue::corrupt,
    entities::{delivery_round, distribution_slot, market, pickup_point, producer},
    reports::LineFilter,
    vehicles::Archived,
};

/// A place given by name and coordinates (a depot, a farm).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoundPlace {
    /// Name shown on the round sheet.
    pub name: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
}

/// What a coordinator says of a round.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewRound {
    /// Name ("Tournée nord du jeudi").
    pub name: String,
    /// Where the vehicle starts.
    pub start: RoundPlace,
    /// Where it ends (often the start).
    pub end: RoundPlace,
    /// When it leaves.
    pub departure: DateTime<Utc>,
    /// How many crates the ad-hoc vehicle carries (not used with `vehicle_ids`).
    #[serde(default)]
    pub capacity_crates: u32,
    /// How many kg it carries, if that binds (not used with `vehicle_ids`).
    #[serde(default)]
    pub capacity_kg: Option<Decimal>,
    /// The market's vehicles to plan with, instead of one ad-hoc vehicle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_ids: Option<Vec<i64>>,
    /// Average speed, km/h (45 when absent).
    pub speed_kmh: Option<f64>,
    /// The producers to collect from.
    pub producer_ids: Vec<i64>,
    /// The slots to deliver to (their pickup points; arrive before each slot starts).
    pub slot_ids: Vec<i64>,
}

/// A round and its plan.
#[derive(Clone, Debug)]
pub struct RoundView {
    /// Id.
    pub id: i64,
    /// The cycle.
    pub cycle_id: i64,
    /// Name.
    pub name: String,
    /// The market's time zone, for printing times.
    pub timezone: chrono_tz::Tz,
    /// Each vehicle's ordered stops, and the shipments none carries.
    pub plan: FleetPlan,
}

impl NewRound {
    /// The one ad-hoc vehicle of a round without `vehicle_ids` (no name: the round's).
    fn ad_hoc(&self) -> Vehicle {
        Vehicle {
            name: String::new(),
            capacity_crates: self.capacity_crates,
            capacity_kg: self.capacity_kg,
        }
    }
}

/// A stored plan: a `FleetPlan`, or a `RoundPlan` stored before rounds had vehicles (read as
/// the fleet of its one ad-hoc vehicle).
fn read_plan(stored: &str, def: &NewRound) -> Result<FleetPlan, StoreError> {
    if let Ok(plan) = serde_json::from_str::<FleetPlan>(stored) {
        return Ok(plan);
    }
    let old: RoundPlan =
        serde_json::from_str(stored).map_err(|e| corrupt("round plan", e.to_string()))?;
    Ok(FleetPlan::of_one(def.ad_hoc(), old))
}

/// Estimated kg of a line, to load the vehicle: weights and volumes as they are (1 L ≈ 1 kg),
/// variable-weight pieces at their estimate, and half a kilo for any other piece, bunch or dozen.
fn estimated_kg(line: &distribution::LineRow) -> Decimal {
    let q = line.quantity.value();
    if let Some(v) = &line.variable_weight {
        return q * v.estimated_kg.value();
    }
    match line.unit {
        Unit::Kg | Unit::L => q,
        Unit::G => q / Decimal::from(1000),
        Unit::Cl => q / Decimal::from(100),
        Unit::Piece | Unit::Bunch | Unit::Dozen => q / Decimal::from(2),
    }
}

impl Store {
    async fn round_request(
        &self,
        cycle_id: i64,
        def: &NewRound,
    ) -> Result<(RoundRequest, chrono_tz::Tz), StoreError> {
        let data = self.cycle_data(cycle_id, LineFilter::default()).await?;
        let producers = producer::Entity::find()
            .filter(producer::Column::Id.is_in(def.producer_ids.iter().copied()))
            .all(self.db())
            .await?;
        if producers.len() != def.producer_ids.len() {
            return Err(StoreError::invalid(
                "unknown_producer",
                "a producer of this round does not exist",
            ));
        }
        let slots = distribution_slot::Entity::find()
            .find_also_related(pickup_point::Entity)
            .filter(distribution_slot::Column::Id.is_in(def.slot_ids.iter().copied()))
            .filter(distribution_slot::Column::CycleId.eq(cycle_id))
            .all(self.db())
            .await?;
        if slots.len() != def.slot_ids.len() {
            return Err(StoreError::invalid(
                "unknown_slot",
                "a slot of this round is not one of this cycle's",
            ));
        }
        let place = |key: String, name: &str, latitude: f64, longitude: f64| Place {
            key,
            name: name.to_owned(),
            latitude,
            longitude,
        };
        let mut req = RoundRequest::new(
            place(
                "start".into(),
                &def.start.name,
                def.start.latitude,
                def.start.longitude,
            ),
            place(
                "end".into(),
                &def.end.name,
                def.end.latitude,
                def.end.longitude,
            ),
            def.departure,
            def.capacity_crates,
        );
        req.capacity_kg = def.capacity_kg;
        if let Some(speed) = def.speed_kmh {
            req.speed_kmh = speed;
        }
        req.farms = producers
            .iter()
            .map(|p| Farm {
                producer_id: p.id,
                place: place(
                    format!("producer-{}", p.id),
                    &p.name,
                    p.latitude,
                    p.longitude,
                ),
                window: None,
            })
            .collect();
        req.points = slots
            .iter()
            .map(|(s, p)| {
                let p = p
                    .as_ref()
                    .ok_or_else(|| corrupt("slot's pickup point", s.pickup_point_id))?;
                Ok(DropPoint {
                    slot_id: s.id,
                    place: place(format!("slot-{}", s.id), &p.name, p.latitude, p.longitude),
                    window: Some((def.departure, s.starts_at)),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // One crate per producer and slot, as producers pack them.
        let mut shipments: BTreeMap<(i64, i64), Decimal> = BTreeMap::new();
        for line in &data.lines {
            if def.producer_ids.contains(&line.producer_id) && def.slot_ids.contains(&line.slot_id)
            {
                *shipments
                    .entry((line.producer_id, line.slot_id))
                    .or_default() += estimated_kg(line);
            }
        }
        req.shipments = shipments
            .into_iter()
            .map(|((producer_id, slot_id), kg)| Shipment {
                producer_id,
                slot_id,
                crates: 1,
                kg: kg.round_dp(1),
            })
            .collect();
        Ok((req, data.cycle.timezone))
    }

    /// Defines a round for a cycle and plans it (the market's coordinators).
    pub async fn create_round(
        &self,
        actor: &Actor,
        cycle_id: i64,
        def: NewRound,
    ) -> Result<RoundView, StoreError> {
        let c = self.coordinated_cycle(actor, cycle_id).await?;
        crate::text::check_all([
            ("name", Some(def.name.as_str())),
            ("start.name", Some(&def.start.name)),
            ("end.name", Some(&def.end.name)),
        ])?;
        if def.name.trim().is_empty() || def.name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_field",
                "name is required and at most 200 characters long",
            ));
        }
        if def.producer_ids.is_empty()
            || def.slot_ids.is_empty()
            || def.producer_ids.len() > 200
            || def.slot_ids.len() > 100
        {
            return Err(StoreError::invalid(
                "invalid_round",
                "a round collects from 1 to 200 producers and delivers to 1 to 100 slots",
            ));
        }
        let vehicles = self
            .vehicles_of(&def, c.market_id, Archived::Refuse)
            .await?;
        let (req, timezone) = self.round_request(cycle_id, &def).await?;
        let plan = self.plan(req, vehicles).await?;
        let definition =
            serde_json::to_string(&def).map_err(|e| corrupt("round definition", e.to_string()))?;
        let planned =
            serde_json::to_string(&plan).map_err(|e| corrupt("round plan", e.to_string()))?;
        let r = delivery_round::ActiveModel {
            cycle_id: Set(cycle_id),
            name: Set(def.name.trim().to_owned()),
            request: Set(definition),
            plan: Set(Some(planned)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(RoundView {
            id: r.id,
            cycle_id,
            name: r.name,
            timezone,
            plan,
        })
    }

    /// The vehicles a round is planned with: the market's named in `vehicle_ids`, or the one
    /// ad-hoc vehicle of the definition.
    async fn vehicles_of(
        &self,
        def: &NewRound,
        market_id: i64,
        archived: Archived,
    ) -> Result<Vec<Vehicle>, StoreError> {
        match &def.vehicle_ids {
            Some(ids) => self.round_vehicles(market_id, ids, archived).await,
            None => {
                if def.capacity_crates == 0 {
                    return Err(StoreError::invalid(
                        "invalid_field",
                        "capacity_crates is required (above 0) when no vehicle_ids are given",
                    ));
                }
                Ok(vec![def.ad_hoc()])
            }
        }
    }

    /// Plans a round on a blocking thread, behind the CPU gate.
    async fn plan(
        &self,
        req: RoundRequest,
        vehicles: Vec<Vehicle>,
    ) -> Result<FleetPlan, StoreError> {
        self.cpu
            .run(move || plan_fleet(&req, &vehicles))
            .await?
            .map_err(|e| StoreError::invalid("unsolvable_round", e.to_string()))
    }

    /// A round and its stored plan (the market's staff).
    pub async fn round(&self, actor: &Actor, id: i64) -> Result<RoundView, StoreError> {
        let (r, market_id) = self.staff_round(actor, id).await?;
        let Some(stored) = r.plan.as_deref() else {
            // Every round is stored with its plan; one without is planned and kept once.
            return self.replan(r, market_id).await;
        };
        let def: NewRound = serde_json::from_str(&r.request)
            .map_err(|e| corrupt("round definition", e.to_string()))?;
        let plan = read_plan(stored, &def)?;
        let m = market::Entity::find_by_id(market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("cycle's market", market_id))?;
        let timezone = crate::reports::market_timezone(&m)?;
        Ok(RoundView {
            id: r.id,
            cycle_id: r.cycle_id,
            name: r.name,
            timezone,
            plan,
        })
    }

    /// Plans a round again from its definition and the cycle's orders as they are now, and
    /// keeps the new plan (the market's coordinators).
    pub async fn replan_round(&self, actor: &Actor, id: i64) -> Result<RoundView, StoreError> {
        let (r, market_id) = self.staff_round(actor, id).await?;
        if !crate::rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can plan its rounds",
            ));
        }
        self.replan(r, market_id).await
    }

    /// A round and its market, for the market's staff (anyone else: 404, as if it did not
    /// exist).
    async fn staff_round(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(delivery_round::Model, i64), StoreError> {
        let r = delivery_round::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("round", id))?;
        let c = self.cycle_row(self.db(), r.cycle_id).await?;
        if !crate::rights::is_staff(actor, c.market_id) {
            return Err(StoreError::not_found("round", id));
        }
        Ok((r, c.market_id))
    }

    async fn replan(
        &self,
        r: delivery_round::Model,
        market_id: i64,
    ) -> Result<RoundView, StoreError> {
        let def: NewRound = serde_json::from_str(&r.request)
            .map_err(|e| corrupt("round definition", e.to_string()))?;
        let vehicles = self.vehicles_of(&def, market_id, Archived::Skip).await?;
        let (req, timezone) = self.round_request(r.cycle_id, &def).await?;
        let plan = self.plan(req, vehicles).await?;
        let planned =
            serde_json::to_string(&plan).map_err(|e| corrupt("round plan", e.to_string()))?;
        let (id, cycle_id, name) = (r.id, r.cycle_id, r.name.clone());
        let mut m: delivery_round::ActiveModel = r.into();
        m.plan = Set(Some(planned));
        m.update(self.db()).await?;
        Ok(RoundView {
            id,
            cycle_id,
            name,
            timezone,
            plan,
        })
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests stop loudly")]
mod tests {
    use super::*;

    #[test]
    fn a_plan_stored_before_vehicles_reads_as_a_fleet_of_one() {
        let def: NewRound = serde_json::from_str(
            r#"{"name":"Jeudi","start":{"name":"D","latitude":46.6,"longitude":-0.3},
                "end":{"name":"D","latitude":46.6,"longitude":-0.3},
                "departure":"2026-12-10T07:00:00Z","capacity_crates":12,"capacity_kg":"300",
                "speed_kmh":null,"producer_ids":[1],"slot_ids":[2]}"#,
        )
        .unwrap();
        let old = r#"{"stops":[],"total_km":12.5,"total_minutes":40,
            "unassigned":[{"producer_id":1,"slot_id":2,"reason":"too many crates"}]}"#;
        let plan = read_plan(old, &def).unwrap();
        assert_eq!(plan.rounds.len(), 1);
        assert_eq!(plan.rounds[0].vehicle.capacity_crates, 12);
        assert_eq!(plan.rounds[0].vehicle.capacity_kg, Some(Decimal::from(300)));
        assert!(plan.rounds[0].vehicle.name.is_empty());
        assert!(plan.rounds[0].plan.unassigned.is_empty());
        assert_eq!(plan.unassigned.len(), 1);
        assert!((plan.total_km - 12.5).abs() < 1e-9);
        assert_eq!(plan.total_minutes(), 40);
        // And a fleet plan reads back as written.
        let fleet = serde_json::to_string(&plan).unwrap();
        assert_eq!(read_plan(&fleet, &def).unwrap(), plan);
        assert!(def.vehicle_ids.is_none());
    }
}
