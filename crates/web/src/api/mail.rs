//! Mail: what a market sent to whom and what failed (its coordinators), and a member's wishes
//! for a market's announcements.

use chrono::{DateTime, Utc};
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};
use store::{
    Store,
    mail::outbox::MailView,
    mail::schedule::MailSettingsView,
    mail::subscriptions::{MailWishes as Wishes, SubscriptionView},
};

use super::{BearerAuth, Tag};
use crate::ApiError;

pub(crate) struct MailApi {
    pub(crate) store: Store,
}

/// One email of the outbox.
#[derive(Object)]
struct MailDto {
    /// Id.
    id: i64,
    /// To whom (address).
    recipient: String,
    /// Their name.
    recipient_name: String,
    /// order_placed, order_changed, order_cancelled, cycle_open, invitation, closing_reminder,
    /// pickup_day_before, pickup_hours_before, picking_list.
    kind: String,
    /// pending (to send, or to try again at `next_attempt_at`), sent, failed (given up).
    state: String,
    /// Tries so far.
    attempts: i32,
    /// Its subject, once sent.
    #[oai(nullable)]
    subject: Option<String>,
    /// Why the last try failed.
    #[oai(nullable)]
    last_error: Option<String>,
    /// When it was written.
    created_at: DateTime<Utc>,
    /// When the SMTP server accepted it.
    #[oai(nullable)]
    sent_at: Option<DateTime<Utc>>,
    /// Next try, while pending.
    next_attempt_at: DateTime<Utc>,
}

impl From<MailView> for MailDto {
    fn from(m: MailView) -> Self {
        Self {
            id: m.id,
            recipient: m.recipient,
            recipient_name: m.recipient_name,
            kind: m.kind,
            state: m.state,
            attempts: m.attempts,
            subject: m.subject,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            next_attempt_at: m.next_attempt_at,
        }
    }
}

/// What a member wants from a market.
#[derive(Object)]
struct MailWishes {
    /// An email when a cycle opens.
    cycle_open: bool,
    /// A reminder before a cycle closes, when no order was placed.
    closing_reminder: bool,
    /// A reminder of one's pickup the day before (at 18:00): on unless said no.
    pickup_day_before: bool,
    /// Another reminder a few hours before the pickup: off unless asked.
    pickup_hours_before: bool,
}

impl From<SubscriptionView> for MailWishes {
    fn from(s: SubscriptionView) -> Self {
        Self {
            cycle_open: s.cycle_open,
            closing_reminder: s.closing_reminder,
            pickup_day_before: s.pickup_day_before,
            pickup_hours_before: s.pickup_hours_before,
        }
    }
}

/// What a member asks of a market's mail; a pickup wish left out stays as it was.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct MailWishesUpdate {
    /// An email when a cycle opens.
    cycle_open: bool,
    /// A reminder before a cycle closes, when no order was placed.
    closing_reminder: bool,
    /// A reminder of one's pickup the day before (absent or null: unchanged).
    #[oai(nullable)]
    pickup_day_before: Option<bool>,
    /// Another reminder a few hours before the pickup (absent or null: unchanged).
    #[oai(nullable)]
    pickup_hours_before: Option<bool>,
}

/// When a market's reminders go.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct MailSettings {
    /// Hours before a cycle closes when members who have not ordered are reminded (1 to 168).
    closing_reminder_hours: i32,
    /// Hours before a slot when the consumers who asked for it are reminded again (1 to 12).
    pickup_reminder_hours: i32,
}

impl From<MailSettingsView> for MailSettings {
    fn from(s: MailSettingsView) -> Self {
        Self {
            closing_reminder_hours: s.closing_reminder_hours,
            pickup_reminder_hours: s.pickup_reminder_hours,
        }
    }
}

#[OpenApi(tag = "Tag::Mail")]
impl MailApi {
    /// A market's mail, newest first (500 at most): who was sent what, and what failed and
    /// why. For its coordinators. `state` keeps only pending, sent or failed mail.
    #[oai(
        path = "/markets/:id/mail",
        method = "get",
        operation_id = "list_market_mail"
    )]
    async fn list_market_mail(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        state: Query<Option<String>>,
    ) -> Result<Json<Vec<MailDto>>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let state = match state.0.as_deref() {
            None => None,
            Some(s @ ("pending" | "sent" | "failed")) => Some(s),
            Some(_) => {
                return Err(ApiError::unprocessable(
                    "invalid_state",
                    "state is pending, sent or failed",
                ));
            }
        };
        Ok(Json(
            self.store
                .market_mail(&actor, id.0, state)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// What the caller wants from a market's mail (only the pickup reminder of the day before
    /// until set).
    #[oai(
        path = "/markets/:id/mail-wishes",
        method = "get",
        operation_id = "get_mail_wishes"
    )]
    async fn get_mail_wishes(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
    ) -> Result<Json<MailWishes>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        self.store.market(id.0).await?;
        Ok(Json(self.store.mail_wishes(&actor, id.0).await?.into()))
    }

    /// Sets what the caller wants from a market's mail: announcements of each cycle opening,
    /// reminders before close, pickup reminders (left out: unchanged). Every such mail carries
    /// a one-click unsubscribe link.
    #[oai(
        path = "/markets/:id/mail-wishes",
        method = "put",
        operation_id = "set_mail_wishes"
    )]
    async fn set_mail_wishes(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<MailWishesUpdate>,
    ) -> Result<Json<MailWishes>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let now = self.store.mail_wishes(&actor, id.0).await?;
        let wishes = Wishes {
            cycle_open: body.cycle_open,
            closing_reminder: body.closing_reminder,
            pickup_day_before: body.pickup_day_before.unwrap_or(now.pickup_day_before),
            pickup_hours_before: body.pickup_hours_before.unwrap_or(now.pickup_hours_before),
        };
        Ok(Json(
            self.store
                .set_mail_wishes(&actor, id.0, wishes)
                .await?
                .into(),
        ))
    }

    /// When a market's reminders go: the closing reminder, and the second pickup reminder
    /// (the first goes at 18:00 the day before, the market's time).
    #[oai(
        path = "/markets/:id/mail-settings",
        method = "get",
        operation_id = "get_mail_settings"
    )]
    async fn get_mail_settings(&self, id: Path<i64>) -> Result<Json<MailSettings>, ApiError> {
        Ok(Json(self.store.mail_settings(id.0).await?.into()))
    }

    /// Sets when a market's reminders go (its coordinators).
    #[oai(
        path = "/markets/:id/mail-settings",
        method = "put",
        operation_id = "set_mail_settings"
    )]
    async fn set_mail_settings(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<MailSettings>,
    ) -> Result<Json<MailSettings>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let settings = MailSettingsView {
            closing_reminder_hours: body.closing_reminder_hours,
            pickup_reminder_hours: body.pickup_reminder_hours,
        };
        Ok(Json(
            self.store
                .set_mail_settings(&actor, id.0, settings)
                .await?
                .into(),
        ))
    }
}
