//! Weekly slot rules of pickup points, the slots a cycle gets from them, and one week's changes.

use chrono::{DateTime, Utc, Weekday};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use store::{SlotChange, SlotConsumer, SlotRuleView, Store};

use super::{
    BearerAuth, Tag,
    dto::SlotDto,
    input::{NonBlank, Text},
};
use crate::ApiError;

pub(crate) struct SlotsApi {
    pub(crate) store: Store,
}

/// A weekly slot rule: "every Thursday 17:30 to 19:30", in the market's time zone.
#[derive(Object)]
struct SlotRuleDto {
    /// Id.
    id: i64,
    /// The pickup point.
    pickup_point_id: i64,
    /// Its name.
    pickup_point_name: String,
    /// mon, tue, wed, thu, fri, sat or sun.
    weekday: String,
    /// Local start, "17:30".
    starts: String,
    /// Local end, "19:30".
    ends: String,
    /// The time zone of those times.
    timezone: String,
}

fn weekday_name(d: Weekday) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.num_days_from_monday() as usize % 7]
}

impl From<SlotRuleView> for SlotRuleDto {
    fn from(r: SlotRuleView) -> Self {
        Self {
            id: r.id,
            pickup_point_id: r.pickup_point_id,
            pickup_point_name: r.pickup_point_name,
            weekday: weekday_name(r.weekday).to_owned(),
            starts: r.starts,
            ends: r.ends,
            timezone: r.timezone,
        }
    }
}

/// A weekly slot rule to add.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct NewSlotRuleRequest {
    /// mon, tue, wed, thu, fri, sat or sun.
    weekday: NonBlank,
    /// Local start, "17:30".
    starts: NonBlank,
    /// Local end, "19:30".
    ends: NonBlank,
}

/// One week's change to a slot; absent fields stay as they are.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct SlotChangeRequest {
    /// New start.
    #[oai(nullable)]
    starts_at: Option<DateTime<Utc>>,
    /// New end.
    #[oai(nullable)]
    ends_at: Option<DateTime<Utc>>,
    /// Cancel (true) or restore (false) this week's slot.
    #[oai(nullable)]
    cancelled: Option<bool>,
    /// Why, for the consumers ("Jour férié : retrait vendredi").
    #[oai(nullable)]
    note: Option<Text>,
}

/// A consumer with a basket at a slot.
#[derive(Object)]
struct SlotConsumerDto {
    /// The basket.
    order_id: i64,
    /// The consumer's account.
    account_id: i64,
    /// Name.
    name: String,
    /// Email, to tell them.
    email: String,
    /// Phone, if given.
    #[oai(nullable)]
    phone: Option<String>,
}

impl From<SlotConsumer> for SlotConsumerDto {
    fn from(c: SlotConsumer) -> Self {
        Self {
            order_id: c.order_id,
            account_id: c.account_id,
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

/// The slot after the change, and who has a basket there.
#[derive(Object)]
struct SlotChanged {
    /// The slot.
    slot: SlotDto,
    /// The consumers to tell.
    consumers: Vec<SlotConsumerDto>,
}

#[derive(ApiResponse)]
enum RuleCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<SlotRuleDto>),
}

#[OpenApi(tag = "Tag::Cycles")]
impl SlotsApi {
    /// Add a weekly slot rule to a pickup point (the market's coordinators).
    #[oai(
        path = "/pickup-points/:id/slot-rules",
        method = "post",
        operation_id = "create_slot_rule"
    )]
    async fn create_slot_rule(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NewSlotRuleRequest>,
    ) -> Result<RuleCreated, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let weekday: Weekday = body.weekday.parse().map_err(|_| {
            ApiError::unprocessable(
                "invalid_weekday",
                "weekday is mon, tue, wed, thu, fri, sat or sun",
            )
        })?;
        let rule = self
            .store
            .create_slot_rule(&actor, id.0, weekday, &body.starts, &body.ends)
            .await?;
        Ok(RuleCreated::Created(Json(rule.into())))
    }

    /// A market's weekly slot rules.
    #[oai(
        path = "/markets/:id/slot-rules",
        method = "get",
        operation_id = "list_slot_rules"
    )]
    async fn list_slot_rules(&self, id: Path<i64>) -> Result<Json<Vec<SlotRuleDto>>, ApiError> {
        Ok(Json(
            self.store
                .list_slot_rules(id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Give a cycle its slots from the market's weekly rules: each rule's first occurrence after
    /// the cycle closes, at the rule's local time across daylight-saving changes.
    #[oai(
        path = "/cycles/:id/slots/generate",
        method = "post",
        operation_id = "generate_slots"
    )]
    async fn generate_slots(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<SlotDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .generate_slots(&actor, id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Move or cancel one week's slot (a bank holiday); answers with the consumers to tell.
    #[oai(path = "/slots/:id", method = "patch", operation_id = "update_slot")]
    async fn update_slot(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<SlotChangeRequest>,
    ) -> Result<Json<SlotChanged>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        let (slot, consumers) = self
            .store
            .change_slot(
                &actor,
                id.0,
                SlotChange {
                    starts_at: b.starts_at,
                    ends_at: b.ends_at,
                    cancelled: b.cancelled,
                    note: b.note.map(Into::into),
                },
            )
            .await?;
        Ok(Json(SlotChanged {
            slot: slot.into(),
            consumers: consumers.into_iter().map(Into::into).collect(),
        }))
    }

    /// The consumers with a basket at a slot (the market's coordinators and volunteers).
    #[oai(
        path = "/slots/:id/consumers",
        method = "get",
        operation_id = "list_slot_consumers"
    )]
    async fn list_slot_consumers(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<Vec<SlotConsumerDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .slot_consumers(&actor, id.0)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }
}
