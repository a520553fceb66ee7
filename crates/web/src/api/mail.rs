//! Mail: what a market sent to whom and what failed (its coordinators), and a member's wishes
//! for a market's announcements.

use chrono::{DateTime, Utc};
use poem_openapi::{Object, OpenApi, param::Path, param::Query, payload::Json};
use store::{Store, mail::outbox::MailView, mail::subscriptions::SubscriptionView};

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
    /// order_placed, order_changed, order_cancelled, cycle_open, invitation.
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
#[oai(deny_unknown_fields)]
struct MailWishes {
    /// An email when a cycle opens.
    cycle_open: bool,
    /// A reminder before a cycle closes, when no order was placed.
    closing_reminder: bool,
}

impl From<SubscriptionView> for MailWishes {
    fn from(s: SubscriptionView) -> Self {
        Self {
            cycle_open: s.cycle_open,
            closing_reminder: s.closing_reminder,
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

    /// What the caller wants from a market's mail (all false until set).
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
    /// reminders before close. Every such mail carries a one-click unsubscribe link.
    #[oai(
        path = "/markets/:id/mail-wishes",
        method = "put",
        operation_id = "set_mail_wishes"
    )]
    async fn set_mail_wishes(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<MailWishes>,
    ) -> Result<Json<MailWishes>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json(
            self.store
                .set_mail_wishes(&actor, id.0, body.cycle_open, body.closing_reminder)
                .await?
                .into(),
        ))
    }
}
