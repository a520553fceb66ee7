//! After the cycle closes: picking lists and labels for producers, distribution sheets for the
//! pickup points, real weights of variable-weight pieces, and baskets checked out on the spot.
//!
//! Every list comes as JSON, printable HTML, CSV or PDF (`?format=`, or the `Accept` header),
//! in French or English (`?lang=`); all formats render the same computed value.

use distribution::{Collection, PaymentMethod};
use poem::http::HeaderMap;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::{Binary, Json},
};
use print::{Format, Lang, Rendered};
use store::{NewPayment, Store};

use super::{
    BearerAuth, Tag,
    document::Document,
    input::{Dec, NonBlank},
    price, quantity,
};
use crate::ApiError;

pub(crate) struct DistributionApi {
    pub(crate) store: Store,
}

#[derive(ApiResponse)]
enum Done {
    /// Recorded.
    #[oai(status = 204)]
    Done,
}

/// The real weights of a variable-weight line, one per piece.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct WeightsRequest {
    /// Kilograms, one per piece, e.g. ["1.92", "1.75"].
    weights_kg: Vec<Dec>,
}

/// A payment made at the pickup point.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PaymentRequest {
    /// cash, cheque or card (card terminal).
    method: NonBlank,
    /// Euros, e.g. "23.40".
    amount: Dec,
}

/// What happened to a basket at the pickup point.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct CheckoutRequest {
    /// collected, not_collected, or pending (to undo).
    collection: NonBlank,
    /// A payment made on the spot.
    #[oai(nullable)]
    payment: Option<PaymentRequest>,
}

/// Why a payment is voided.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct VoidRequest {
    /// Why ("recorded on the wrong basket"), 1 to 500 characters.
    #[oai(validator(max_length = 500))]
    reason: NonBlank,
}

/// A payment recorded at the pickup point, and its correction if it was voided.
#[derive(Object)]
struct PaymentDto {
    /// Id.
    id: i64,
    /// The basket.
    order_id: i64,
    /// cash, cheque, card or online.
    method: String,
    /// Euros, e.g. "23.40".
    amount: String,
    /// Who recorded it.
    recorded_by: i64,
    /// When.
    recorded_at: chrono::DateTime<chrono::Utc>,
    /// When it was voided.
    #[oai(nullable)]
    voided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who voided it.
    #[oai(nullable)]
    voided_by: Option<i64>,
    /// Why.
    #[oai(nullable)]
    void_reason: Option<String>,
}

/// A place by name and coordinates.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PlaceRequest {
    /// Name on the round sheet.
    name: NonBlank,
    /// Latitude.
    #[oai(validator(minimum(value = "-90"), maximum(value = "90")))]
    latitude: f64,
    /// Longitude.
    #[oai(validator(minimum(value = "-180"), maximum(value = "180")))]
    longitude: f64,
}

/// A co-delivery round to plan.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct RoundRequestDto {
    /// Name ("Tournée nord du jeudi").
    name: NonBlank,
    /// Where the vehicle starts (a depot, a farm).
    start: PlaceRequest,
    /// Where it ends.
    end: PlaceRequest,
    /// When it leaves.
    departure: chrono::DateTime<chrono::Utc>,
    /// Crates the one vehicle carries; required unless `vehicle_ids` are given.
    #[oai(
        nullable,
        validator(minimum(value = "0"), maximum(value = "4294967295"))
    )]
    capacity_crates: Option<u32>,
    /// Kilograms it carries, if that binds (not used with `vehicle_ids`).
    #[oai(nullable)]
    capacity_kg: Option<Dec>,
    /// The market's vehicles to share the round among (`GET /markets/{id}/vehicles`), 1 to
    /// 20; each carries within its own crates and kilograms. Without them, the round goes in
    /// one vehicle of `capacity_crates` and `capacity_kg`.
    #[oai(nullable)]
    vehicle_ids: Option<Vec<i64>>,
    /// Average speed in km/h (45 by default).
    #[oai(nullable)]
    speed_kmh: Option<f64>,
    /// Producers to collect from.
    producer_ids: Vec<i64>,
    /// Slots to deliver to, arriving before each starts.
    slot_ids: Vec<i64>,
}

#[derive(ApiResponse)]
enum RoundCreated {
    /// Planned: `GET /rounds/{id}` gives it in any format.
    #[oai(status = 201)]
    Created(Json<RoundCreatedDto>),
}

/// One vehicle's part of a planned round.
#[derive(Object)]
struct VehicleRoundDto {
    /// The vehicle's name (empty for a round's one ad-hoc vehicle).
    name: String,
    /// Kilometres.
    total_km: f64,
    /// Minutes from the departure to the end.
    total_minutes: u32,
    /// Number of stops, start and end included.
    stops: usize,
    /// Crates loaded over the round.
    crates: u32,
    /// Kilograms loaded over the round, e.g. "212.5".
    kg: String,
}

/// A planned round.
#[derive(Object)]
struct RoundCreatedDto {
    /// Id.
    id: i64,
    /// Kilometres in all, every vehicle together.
    total_km: f64,
    /// Minutes of the longest vehicle's round (they leave together).
    total_minutes: u32,
    /// Number of stops, start and end included, every vehicle together.
    stops: usize,
    /// Each vehicle's part, in the order of `vehicle_ids` (one for a round without them).
    vehicles: Vec<VehicleRoundDto>,
    /// Shipments that could not be planned (capacity, time windows), with why.
    unassigned: Vec<String>,
}

fn round_summary(round: &store::RoundView) -> RoundCreatedDto {
    RoundCreatedDto {
        id: round.id,
        total_km: round.plan.total_km,
        total_minutes: round.plan.total_minutes(),
        stops: round.plan.rounds.iter().map(|r| r.plan.stops.len()).sum(),
        vehicles: round
            .plan
            .rounds
            .iter()
            .map(|r| VehicleRoundDto {
                name: r.vehicle.name.clone(),
                total_km: r.plan.total_km,
                total_minutes: r.plan.total_minutes,
                stops: r.plan.stops.len(),
                crates: r.plan.loaded_crates(),
                kg: r.plan.loaded_kg().normalize().to_string(),
            })
            .collect(),
        unassigned: round
            .plan
            .unassigned
            .iter()
            .map(|u| {
                format!(
                    "producer {} to slot {}: {}",
                    u.producer_id, u.slot_id, u.reason
                )
            })
            .collect(),
    }
}

fn place(p: PlaceRequest) -> store::RoundPlace {
    store::RoundPlace {
        name: p.name.into(),
        latitude: p.latitude,
        longitude: p.longitude,
    }
}

/// Picks the format: `?format=` first, then the `Accept` header, JSON by default.
pub(crate) fn negotiate(format: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(f) = format {
        return f.parse().map_err(|e: print::PrintError| {
            ApiError::bad_request("invalid_format", e.to_string())
        });
    }
    let accept = headers
        .get(poem::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(if accept.contains("application/pdf") {
        Format::Pdf
    } else if accept.contains("text/csv") {
        Format::Csv
    } else if accept.contains("text/html") {
        Format::Html
    } else {
        Format::Json
    })
}

pub(crate) fn language(lang: Option<&str>) -> Result<Lang, ApiError> {
    lang.map_or(Ok(Lang::Fr), |l| {
        l.parse()
            .map_err(|e: print::PrintError| ApiError::bad_request("invalid_lang", e.to_string()))
    })
}

pub(crate) fn document(
    rendered: Result<Rendered, print::PrintError>,
) -> Result<Document, ApiError> {
    let r = rendered.map_err(|e| {
        tracing::error!(error = %e, "rendering failed");
        ApiError::Internal(poem_openapi::payload::Json(crate::ErrorBody {
            code: "internal".into(),
            message: "the document could not be rendered".into(),
            offer_id: None,
            available: None,
        }))
    })?;
    let disposition = if r.content_type.starts_with("text/html")
        || r.content_type.starts_with("application/json")
    {
        format!("inline; filename=\"{}\"", r.file_name)
    } else {
        format!("attachment; filename=\"{}\"", r.file_name)
    };
    Ok(Document::Ok(
        Binary(r.bytes),
        r.content_type.to_owned(),
        disposition,
    ))
}

impl DistributionApi {
    /// Renders a document on a blocking thread, a few at once (the store's CPU gate): a large
    /// PDF must not hold an async worker that takes baskets. 503 with `Retry-After` when too
    /// many wait already.
    async fn render(
        &self,
        job: impl FnOnce() -> Result<Rendered, print::PrintError> + Send + 'static,
    ) -> Result<Document, ApiError> {
        document(self.store.run_cpu(job).await?)
    }

    /// Who asks, and for which format and language: what every document endpoint starts with.
    async fn reader(
        &self,
        auth: &BearerAuth,
        format: &Query<Option<String>>,
        lang: &Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<(store::Actor, Format, Lang), ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok((
            actor,
            negotiate(format.0.as_deref(), headers)?,
            language(lang.0.as_deref())?,
        ))
    }
}

#[OpenApi(tag = "Tag::Distribution")]
impl DistributionApi {
    /// Picking (harvest) lists of a cycle: per producer, each product's total and its split per
    /// pickup point (one crate per point). Producers get their own; the market's coordinators
    /// and volunteers get every producer's, or `?producer=`.
    #[oai(
        path = "/cycles/:id/picking-lists",
        method = "get",
        operation_id = "get_picking_lists"
    )]
    async fn get_picking_lists(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        producer: Query<Option<i64>>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let (actor, format, lang) = self.reader(&auth, &format, &lang, headers).await?;
        let (_, lists) = self.store.picking_lists(&actor, id.0, producer.0).await?;
        self.render(move || print::picking_lists(&lists, format, lang))
            .await
    }

    /// Bag labels of a cycle: one per basket and producer (consumer, pickup point, items).
    #[oai(
        path = "/cycles/:id/labels",
        method = "get",
        operation_id = "get_labels"
    )]
    async fn get_labels(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        producer: Query<Option<i64>>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let (actor, format, lang) = self.reader(&auth, &format, &lang, headers).await?;
        let (_, lists) = self.store.picking_lists(&actor, id.0, producer.0).await?;
        self.render(move || print::labels(&lists, format, lang))
            .await
    }

    /// Every distribution sheet of a cycle, one per slot (the market's coordinators and
    /// volunteers).
    #[oai(
        path = "/cycles/:id/sheets",
        method = "get",
        operation_id = "get_cycle_sheets"
    )]
    async fn get_cycle_sheets(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let (actor, format, lang) = self.reader(&auth, &format, &lang, headers).await?;
        let sheets = self.store.distribution_sheets(&actor, id.0, None).await?;
        self.render(move || print::distribution_sheets(&sheets, format, lang))
            .await
    }

    /// The distribution sheet of a slot: every basket alphabetically, its lines, total, paid or
    /// due, a signature column, the slot's totals and what each producer delivers.
    #[oai(
        path = "/slots/:id/sheet",
        method = "get",
        operation_id = "get_slot_sheet"
    )]
    async fn get_slot_sheet(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let (actor, format, lang) = self.reader(&auth, &format, &lang, headers).await?;
        let cycle_id = self.store.slot_cycle(id.0).await?;
        let sheets = self
            .store
            .distribution_sheets(&actor, cycle_id, Some(id.0))
            .await?;
        self.render(move || print::distribution_sheets(&sheets, format, lang))
            .await
    }

    /// Plan a co-delivery round for a cycle (the market's coordinators): Halle orders the stops
    /// (collections before the deliveries they feed, vehicle capacity, arrival before each
    /// slot) on road-like distances: great-circle distance times 1.3.
    #[oai(
        path = "/cycles/:id/rounds",
        method = "post",
        operation_id = "create_round"
    )]
    async fn create_round(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<RoundRequestDto>,
    ) -> Result<RoundCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let round = self
            .store
            .create_round(
                &actor,
                id.0,
                store::NewRound {
                    name: b.name.into(),
                    start: place(b.start),
                    end: place(b.end),
                    departure: b.departure,
                    capacity_crates: b.capacity_crates.unwrap_or(0),
                    capacity_kg: b.capacity_kg.map(Into::into),
                    vehicle_ids: b.vehicle_ids,
                    speed_kmh: b.speed_kmh,
                    producer_ids: b.producer_ids,
                    slot_ids: b.slot_ids,
                },
            )
            .await?;
        Ok(RoundCreated::Created(Json(round_summary(&round))))
    }

    /// A round: for each vehicle (`vehicles`: name, capacity, ordered stops with arrival
    /// times, kilometres, load at each stop, what comes off at each delivery, crates and kg
    /// loaded), the totals and the shipments left out with why (the market's coordinators and
    /// volunteers). A round of one vehicle also has its `stops` at the top.
    #[oai(path = "/rounds/:id", method = "get", operation_id = "get_round")]
    async fn get_round(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        format: Query<Option<String>>,
        lang: Query<Option<String>>,
        headers: &HeaderMap,
    ) -> Result<Document, ApiError> {
        let (actor, format, lang) = self.reader(&auth, &format, &lang, headers).await?;
        let round = self.store.round(&actor, id.0).await?;
        self.render(move || print::round(&round.plan, &round.name, round.timezone, format, lang))
            .await
    }

    /// Plan a round again from its definition and the cycle's orders as they are now (the
    /// market's coordinators); `GET /rounds/{id}` then gives the new plan. A round's plan is
    /// otherwise the one computed when it was created.
    #[oai(
        path = "/rounds/:id/replan",
        method = "post",
        operation_id = "replan_round"
    )]
    async fn replan_round(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<RoundCreatedDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let round = self.store.replan_round(&actor, id.0).await?;
        Ok(Json(round_summary(&round)))
    }

    /// Record the real weight of each piece of a variable-weight line (its producer, after the
    /// cycle closes): totals, sheets and amounts due are repriced from it.
    #[oai(
        path = "/order-lines/:id/weights",
        method = "put",
        operation_id = "set_line_weights"
    )]
    async fn set_line_weights(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<WeightsRequest>,
    ) -> Result<Done, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let weights = body
            .0
            .weights_kg
            .into_iter()
            .map(|w| quantity("weights_kg", w))
            .collect::<Result<Vec<_>, _>>()?;
        self.store.record_weights(&actor, id.0, weights).await?;
        Ok(Done::Done)
    }

    /// Check a basket out at the pickup point: collected or not, and a payment on the spot
    /// (the market's coordinators and volunteers).
    #[oai(
        path = "/orders/:id/checkout",
        method = "post",
        operation_id = "check_out_order"
    )]
    async fn check_out_order(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        /// Required with a payment, e.g. a UUID made once per payment on the device: a
        /// check-out sent again with the same key (a retry on a poor connection) records the
        /// payment once; the same key with another payment answers 422
        /// `idempotency_key_reused`. Without a payment the request is idempotent anyway (the
        /// collection state is set, not toggled).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: Json<CheckoutRequest>,
    ) -> Result<Done, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let collection: Collection = b.collection.parse().map_err(|_| {
            ApiError::unprocessable(
                "invalid_collection",
                "collection is collected, not_collected or pending",
            )
        })?;
        let payment = match b.payment {
            Some(p) => {
                let method: PaymentMethod = p.method.parse().map_err(|_| {
                    ApiError::unprocessable(
                        "invalid_payment_method",
                        "method is cash, cheque or card",
                    )
                })?;
                if method == PaymentMethod::Online {
                    return Err(ApiError::unprocessable(
                        "invalid_payment_method",
                        "online payments are recorded by the payment provider, not at the pickup point",
                    ));
                }
                let idempotency_key = match idempotency_key.0 {
                    Some(k) if k.is_empty() || k.len() > 255 => {
                        return Err(ApiError::bad_request(
                            "invalid_idempotency_key",
                            "Idempotency-Key must be 1 to 255 characters",
                        ));
                    }
                    key => key,
                };
                Some(NewPayment {
                    method,
                    amount: price("amount", p.amount)?,
                    idempotency_key,
                })
            }
            None => None,
        };
        self.store
            .check_out(&actor, id.0, collection, payment)
            .await?;
        Ok(Done::Done)
    }

    /// Void a payment recorded by mistake (the market's coordinators and volunteers), with a
    /// reason. The payment is kept with who voided it, when and why; sheets no longer count
    /// it. Payment ids are in the distribution sheets' JSON (`baskets[].payments[].id`).
    #[oai(
        path = "/payments/:id/void",
        method = "post",
        operation_id = "void_payment"
    )]
    async fn void_payment(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<VoidRequest>,
    ) -> Result<Json<PaymentDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let p = self
            .store
            .void_payment(&actor, id.0, &body.0.reason)
            .await?;
        Ok(Json(PaymentDto {
            id: p.id,
            order_id: p.order_id,
            method: p.method.as_str().to_owned(),
            amount: super::dto::money(p.amount),
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
            voided_at: p.voided_at,
            voided_by: p.voided_by,
            void_reason: p.void_reason,
        }))
    }
}
