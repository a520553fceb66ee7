//! The outbox: one row per email, written in the same transaction as the event that causes it.
//!
//! To send mail from a use case, call one of the `enqueue*` functions with the use case's own
//! transaction (`&w.tx`, or the order writer's batch transaction) before it commits: the row
//! commits with the event or not at all. Each is one statement, whatever the number of
//! recipients (a cycle opening to 10,000 members is one `INSERT ... SELECT`). A row carries what
//! is needed to render it (`payload`, JSON: ids and names), not the rendered text: the worker
//! (crate `mail`) renders it when it sends, in the recipient's language.
//!
//! A row with a `unique_key` goes in once only (`ON CONFLICT DO NOTHING`): reminders found by a
//! periodic task, or a cycle opened twice, never mail anyone twice.
//!
//! Sending: a worker [`Store::claim_mail`]s due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
//! two nodes never take the same row; SQLite: one writer at a time), each claim marked with a
//! random id and a lease; it sends them and records every outcome at once
//! ([`Store::record_mail`]), only for rows its claim still holds. A node that dies between
//! sending and recording leaves its rows to be taken again once the lease ends: a message may
//! then go twice (SMTP has no way to ask), never zero times.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};

use crate::{Actor, Store, StoreError, entities::outbox, members::INTERNAL_EMAIL_DOMAIN, rights};

/// Waiting to be sent (or to be tried again at `next_attempt_at`).
pub const PENDING: &str = "pending";
/// Accepted by the SMTP server.
pub const SENT: &str = "sent";
/// Given up: refused for good by the SMTP server, or too many tries; `last_error` says why.
pub const FAILED: &str = "failed";

/// The kinds of email, each with its templates in `templates/mail/{fr,en}/<kind>.*.hbs`.
pub mod kind {
    /// To the consumer, once an order is placed.
    pub const ORDER_PLACED: &str = "order_placed";
    /// To the consumer, once an order is changed.
    pub const ORDER_CHANGED: &str = "order_changed";
    /// To the consumer, once an order is cancelled.
    pub const ORDER_CANCELLED: &str = "order_cancelled";
    /// To the members who asked for it, when a cycle opens (an announcement).
    pub const CYCLE_OPEN: &str = "cycle_open";
    /// To someone invited to a market's staff: the one-time link.
    pub const INVITATION: &str = "invitation";
    /// Announcements and reminders: they carry `List-Unsubscribe`; the others do not.
    pub const ANNOUNCEMENTS: &[&str] = &[
        CYCLE_OPEN,
        CLOSING_REMINDER,
        PICKUP_DAY_BEFORE,
        PICKUP_HOURS_BEFORE,
        DIRECTORY_ALERT,
        DIRECTORY_ALERT_DIGEST,
    ];
    /// To an account that asked for a new password: the one-time link (transactional).
    pub const PASSWORD_RESET: &str = "password_reset";
    /// To every consumer with a basket at a slot that was moved or cancelled: old and new
    /// date, time and place, in the market's time zone.
    pub const SLOT_CHANGED: &str = "slot_changed";
    /// To the consumer, once every variable-weight piece of a basket is weighed and its final
    /// total differs from the estimate: the lines, the estimated and the final amounts.
    pub const FINAL_AMOUNT: &str = "final_amount";
    /// To the members who asked for it and have not ordered, some hours before a cycle
    /// closes (the market's setting).
    pub const CLOSING_REMINDER: &str = "closing_reminder";
    /// To each consumer with an order on a slot, the day before it (at 18:00, the market's
    /// time), unless they said no.
    pub const PICKUP_DAY_BEFORE: &str = "pickup_day_before";
    /// To the consumers who asked for it, a few hours before their slot (the market's
    /// setting).
    pub const PICKUP_HOURS_BEFORE: &str = "pickup_hours_before";
    /// To each producer when a cycle closes: its picking list, in the body and as a PDF.
    pub const PICKING_LIST: &str = "picking_list";
    /// To someone who asked for the directory's alerts: the confirmation link (double opt-in).
    pub const DIRECTORY_ALERT_CONFIRM: &str = "directory_alert_confirm";
    /// To a confirmed alert subscriber: a producer just published its entry near them.
    pub const DIRECTORY_ALERT: &str = "directory_alert";
    /// To a confirmed alert subscriber who chose the weekly digest: last week's new producers.
    pub const DIRECTORY_ALERT_DIGEST: &str = "directory_alert_digest";
}

/// What to send, to whom is said by the `enqueue*` function called.
#[derive(Clone, Debug)]
pub struct NewMail {
    /// One of [`kind`].
    pub kind: &'static str,
    /// The market it is about (its name, its contact as `Reply-To`).
    pub market_id: Option<i64>,
    /// Once only: a second mail with the same key is not written. For a mail to several
    /// accounts, each row's key is this followed by `:` and the account id.
    pub unique_key: Option<String>,
    /// What the templates need besides the market, the order and the recipient.
    pub payload: serde_json::Value,
}

/// `$1, $2...` as the backend wants them (SQLite reads `?1, ?2...`).
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The columns every enqueue writes, in this order.
pub(crate) const COLUMNS: &str = "market_id, account_id, recipient, recipient_name, language, kind, \
                       unique_key, payload, state, attempts, next_attempt_at, created_at";

/// Mails `mail` to each of `accounts` that has a real address (members created without email
/// have none), inside the caller's transaction. Returns how many rows were written.
pub async fn enqueue_to_accounts(
    db: &impl ConnectionTrait,
    mail: &NewMail,
    accounts: &[i64],
) -> Result<u64, DbErr> {
    if accounts.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let (ids, list) = if backend == DbBackend::Postgres {
        ("a.id = ANY($6::int8[])", Value::from(accounts.to_vec()))
    } else {
        (
            "a.id IN (SELECT value FROM json_each($6))",
            Value::from(serde_json::Value::from(accounts.to_vec()).to_string()),
        )
    };
    let sql = format!(
        "INSERT INTO outbox ({COLUMNS}) \
         SELECT $1, a.id, a.email, a.name, a.language, $2, \
         CASE WHEN $3 IS NULL THEN NULL ELSE CAST($3 AS TEXT) || ':' || CAST(a.id AS TEXT) END, \
         $4, 'pending', 0, $5, $5 FROM accounts a WHERE {ids} AND a.email NOT LIKE $7 \
         ON CONFLICT DO NOTHING"
    );
    let now = Utc::now();
    let res = db
        .execute_raw(statement(
            backend,
            &sql,
            vec![
                mail.market_id.into(),
                mail.kind.into(),
                mail.unique_key.clone().into(),
                mail.payload.to_string().into(),
                now.into(),
                list,
                format!("%@{INTERNAL_EMAIL_DOMAIN}").into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// Mails `mail` to an address that has no account yet (an invitation), inside the caller's
/// transaction. Returns whether the row was written (not when its unique key was taken).
pub async fn enqueue_to_address(
    db: &impl ConnectionTrait,
    mail: &NewMail,
    email: &str,
    name: &str,
    language: &str,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let sql = format!(
        "INSERT INTO outbox ({COLUMNS}) VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) \
         ON CONFLICT DO NOTHING"
    );
    let res = db
        .execute_raw(statement(
            backend,
            &sql,
            vec![
                mail.market_id.into(),
                email.into(),
                name.into(),
                language.into(),
                mail.kind.into(),
                mail.unique_key.clone().into(),
                mail.payload.to_string().into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Mails the consumer of each of `orders` (placed, changed, cancelled: `kind`), with the order's
/// market, inside the caller's transaction: one statement for a whole batch of orders. The
/// order is read back when the mail is rendered.
pub async fn enqueue_for_orders(
    db: &impl ConnectionTrait,
    kind: &'static str,
    orders: &[i64],
) -> Result<u64, DbErr> {
    if orders.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let ids = if backend == DbBackend::Postgres {
        "o.id = ANY($1::int8[])"
    } else {
        "o.id IN (SELECT value FROM json_each($1))"
    };
    let list = if backend == DbBackend::Postgres {
        Value::from(orders.to_vec())
    } else {
        Value::from(serde_json::Value::from(orders.to_vec()).to_string())
    };
    let sql = format!(
        "INSERT INTO outbox ({COLUMNS}) \
         SELECT c.market_id, a.id, a.email, a.name, a.language, $2, NULL, \
         '{{\"order_id\":' || CAST(o.id AS TEXT) || '}}', 'pending', 0, $3, $3 \
         FROM orders o JOIN accounts a ON a.id = o.account_id \
         JOIN order_cycles c ON c.id = o.cycle_id \
         WHERE {ids} AND a.email NOT LIKE $4"
    );
    let res = db
        .execute_raw(statement(
            backend,
            &sql,
            vec![
                list,
                kind.into(),
                Utc::now().into(),
                format!("%@{INTERNAL_EMAIL_DOMAIN}").into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// Mails a market's announcement (`mail.kind`, say a cycle opening) to every member who asked
/// for it (`column` of `mail_subscriptions` true: `cycle_open`, `closing_reminder`), inside the
/// caller's transaction, in one statement. With a `unique_key`, a member gets it once.
pub async fn enqueue_to_subscribers(
    db: &impl ConnectionTrait,
    mail: &NewMail,
    market_id: i64,
    column: Subscription,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "INSERT INTO outbox ({COLUMNS}) \
         SELECT $1, a.id, a.email, a.name, a.language, $2, \
         CASE WHEN $3 IS NULL THEN NULL ELSE CAST($3 AS TEXT) || ':' || CAST(a.id AS TEXT) END, \
         $4, 'pending', 0, $5, $5 \
         FROM mail_subscriptions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.market_id = $1 AND s.{} AND a.email NOT LIKE $6 \
         ON CONFLICT DO NOTHING",
        column.column()
    );
    let res = db
        .execute_raw(statement(
            backend,
            &sql,
            vec![
                market_id.into(),
                mail.kind.into(),
                mail.unique_key.clone().into(),
                mail.payload.to_string().into(),
                Utc::now().into(),
                format!("%@{INTERNAL_EMAIL_DOMAIN}").into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// What a member can ask a market for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// The announcement of each cycle opening.
    CycleOpen,
    /// A reminder some hours before close, when they have not ordered.
    ClosingReminder,
}

impl Subscription {
    fn column(self) -> &'static str {
        match self {
            Self::CycleOpen => "cycle_open",
            Self::ClosingReminder => "closing_reminder",
        }
    }
}

/// How a send ended, for [`Store::record_mail`].
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Accepted by the SMTP server.
    Sent {
        /// The `Message-ID` it went with.
        message_id: String,
        /// Its subject, for the coordinators' list.
        subject: String,
    },
    /// Not now (connection refused, 4xx): try again at `at`.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// What happened.
        error: String,
    },
    /// Never (5xx, or an address that cannot be written): give up.
    Failed {
        /// Why.
        error: String,
    },
}

/// A mail as the coordinators' page and API show it.
#[derive(Clone, Debug)]
pub struct MailView {
    /// Id.
    pub id: i64,
    /// To whom.
    pub recipient: String,
    /// Their name.
    pub recipient_name: String,
    /// One of [`kind`].
    pub kind: String,
    /// pending, sent or failed.
    pub state: String,
    /// Tries so far.
    pub attempts: i32,
    /// Subject, once sent.
    pub subject: Option<String>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Accepted by the SMTP server.
    pub sent_at: Option<DateTime<Utc>>,
    /// Next try, while pending.
    pub next_attempt_at: DateTime<Utc>,
}

impl From<outbox::Model> for MailView {
    fn from(m: outbox::Model) -> Self {
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

/// The outbox's backlog, for `/metrics`: what waits, what was given up, and since when the
/// oldest waiting mail has waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Mails not sent yet (due now or waiting for a retry).
    pub pending: i64,
    /// Mails given up (5xx, too many tries): kept for the coordinators' list.
    pub failed: i64,
    /// When the oldest pending mail was written.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// The most mails a coordinator's list shows.
pub const LIST_LIMIT: u64 = 500;

impl Store {
    /// Claims up to `limit` due mails for `lease` (nobody else takes them meanwhile), counting
    /// a try on each; returns them with the claim's id, to give back to
    /// [`Store::record_mail`].
    pub async fn claim_mail(
        &self,
        limit: u64,
        lease: Duration,
    ) -> Result<(String, Vec<outbox::Model>), StoreError> {
        let claim = hex::encode(rand::random::<[u8; 16]>());
        let now = Utc::now();
        let backend = self.db().get_database_backend();
        let lock = if backend == DbBackend::Postgres {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE outbox SET claimed_until = $1, claimed_by = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
             AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_attempt_at, id \
             LIMIT $4 {lock})"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let w = self.write().await?;
        let res =
            w.tx.execute_raw(statement(
                backend,
                &sql,
                vec![
                    (now + lease).into(),
                    claim.clone().into(),
                    now.into(),
                    limit.into(),
                ],
            ))
            .await?;
        if res.rows_affected() == 0 {
            w.commit().await?;
            return Ok((claim, Vec::new()));
        }
        let rows = outbox::Entity::find()
            .filter(outbox::Column::ClaimedBy.eq(claim.clone()))
            .filter(outbox::Column::State.eq(PENDING))
            .order_by_asc(outbox::Column::Id)
            .all(&w.tx)
            .await?;
        w.commit().await?;
        Ok((claim, rows))
    }

    /// Records how each claimed mail went, in one transaction; a row whose claim was lost
    /// (the lease ended and another worker took it) is left to that worker.
    pub async fn record_mail(
        &self,
        claim: &str,
        outcomes: Vec<(i64, Outcome)>,
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let backend = self.db().get_database_backend();
        let now = Utc::now();
        let w = self.write().await?;
        let mut outcomes = outcomes;
        if backend == DbBackend::Postgres {
            // The sent ones (nearly all) in one statement: a round trip each made a batch of
            // 500 wait on PostgreSQL (see BENCHMARKS.md, bulk mail).
            let (mut ids, mut mids, mut subjects) = (Vec::new(), Vec::new(), Vec::new());
            outcomes.retain(|(id, o)| match o {
                Outcome::Sent {
                    message_id,
                    subject,
                } => {
                    ids.push(*id);
                    mids.push(message_id.clone());
                    subjects.push(subject.clone());
                    false
                }
                _ => true,
            });
            if !ids.is_empty() {
                w.tx.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "UPDATE outbox AS o SET state = 'sent', sent_at = $1, message_id = d.mid, \
                     subject = d.subj, claimed_until = NULL, last_error = NULL \
                     FROM unnest($2::int8[], $3::text[], $4::text[]) AS d(id, mid, subj) \
                     WHERE o.id = d.id AND o.claimed_by = $5",
                    [
                        now.into(),
                        ids.into(),
                        mids.into(),
                        subjects.into(),
                        claim.into(),
                    ],
                ))
                .await?;
            }
        }
        for (id, outcome) in outcomes {
            let (sql, values): (&str, Vec<Value>) = match outcome {
                Outcome::Sent {
                    message_id,
                    subject,
                } => (
                    "UPDATE outbox SET state = 'sent', sent_at = $1, message_id = $2, subject = $3, \
                     claimed_until = NULL, last_error = NULL WHERE id = $4 AND claimed_by = $5",
                    vec![
                        now.into(),
                        message_id.into(),
                        subject.into(),
                        id.into(),
                        claim.into(),
                    ],
                ),
                Outcome::Retry { at, error } => (
                    "UPDATE outbox SET next_attempt_at = $1, last_error = $2, claimed_until = NULL \
                     WHERE id = $3 AND claimed_by = $4",
                    vec![at.into(), error.into(), id.into(), claim.into()],
                ),
                Outcome::Failed { error } => (
                    "UPDATE outbox SET state = 'failed', last_error = $1, claimed_until = NULL \
                     WHERE id = $2 AND claimed_by = $3",
                    vec![error.into(), id.into(), claim.into()],
                ),
            };
            w.tx.execute_raw(statement(backend, sql, values)).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// The outbox's [`Backlog`], in one query over the `(state, next_attempt_at)` index:
    /// sent mail (nearly every row) is not read.
    pub async fn outbox_backlog(&self) -> Result<Backlog, StoreError> {
        let backend = self.db().get_database_backend();
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
                 COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
                 MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest \
                 FROM outbox WHERE state IN ('pending', 'failed')",
            ))
            .await?;
        let Some(row) = row else {
            return Ok(Backlog::default());
        };
        Ok(Backlog {
            pending: row.try_get("", "pending")?,
            failed: row.try_get("", "failed")?,
            oldest_pending: row.try_get("", "oldest")?,
        })
    }

    /// A market's mail, newest first (at most [`LIST_LIMIT`]), `state` only when given: for
    /// its coordinators and admins.
    pub async fn market_mail(
        &self,
        actor: &Actor,
        market_id: i64,
        state: Option<&str>,
    ) -> Result<Vec<MailView>, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only the market's coordinators see its mail",
            ));
        }
        let mut q = outbox::Entity::find().filter(outbox::Column::MarketId.eq(market_id));
        if let Some(s) = state {
            q = q.filter(outbox::Column::State.eq(s));
        }
        Ok(q.order_by_desc(outbox::Column::Id)
            .limit(LIST_LIMIT)
            .all(self.db())
            .await?
            .into_iter()
            .map(MailView::from)
            .collect())
    }
}
