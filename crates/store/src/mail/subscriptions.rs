//! Who wants a market's announcements: one row per (member, market), with the secret of the
//! one-click unsubscribe link (RFC 8058) that every announcement carries. Only announcements
//! and reminders depend on it; a consumer's order mail is transactional and always goes.
//! The one-click unsubscribe stops all four: announcements and reminders alike.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};

use crate::{Actor, Store, StoreError, entities::mail_subscription};

/// A member's wishes for one market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionView {
    /// The market.
    pub market_id: i64,
    /// Mail me when a cycle opens.
    pub cycle_open: bool,
    /// Remind me before a cycle closes, when I have not ordered.
    pub closing_reminder: bool,
    /// Remind me of my pickup the day before (on until the member says no).
    pub pickup_day_before: bool,
    /// Remind me of my pickup again a few hours before (off until asked).
    pub pickup_hours_before: bool,
}

/// What a member asks of a market's mail, as a form or the API sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailWishes {
    /// Mail me when a cycle opens.
    pub cycle_open: bool,
    /// Remind me before a cycle closes, when I have not ordered.
    pub closing_reminder: bool,
    /// Remind me of my pickup the day before.
    pub pickup_day_before: bool,
    /// Remind me of my pickup again a few hours before.
    pub pickup_hours_before: bool,
}

impl MailWishes {
    /// What a member who never said anything gets: only the pickup reminder the day before.
    pub const DEFAULT: Self = Self {
        cycle_open: false,
        closing_reminder: false,
        pickup_day_before: true,
        pickup_hours_before: false,
    };
}

fn view(market_id: i64, w: MailWishes) -> SubscriptionView {
    SubscriptionView {
        market_id,
        cycle_open: w.cycle_open,
        closing_reminder: w.closing_reminder,
        pickup_day_before: w.pickup_day_before,
        pickup_hours_before: w.pickup_hours_before,
    }
}

/// A new row (and its unsubscribe token) for `account_id` in `market_id`.
pub(crate) fn new_row(
    account_id: i64,
    market_id: i64,
    w: MailWishes,
) -> mail_subscription::ActiveModel {
    mail_subscription::ActiveModel {
        account_id: Set(account_id),
        market_id: Set(market_id),
        cycle_open: Set(w.cycle_open),
        closing_reminder: Set(w.closing_reminder),
        pickup_day_before: Set(w.pickup_day_before),
        pickup_hours_before: Set(w.pickup_hours_before),
        token: Set(hex::encode(rand::random::<[u8; 20]>())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

impl Store {
    /// Sets what the actor wants from a market (creating the row, and its unsubscribe token,
    /// the first time).
    pub async fn set_mail_wishes(
        &self,
        actor: &Actor,
        market_id: i64,
        wishes: MailWishes,
    ) -> Result<SubscriptionView, StoreError> {
        self.market(market_id).await?;
        self.set_mail_wishes_of(actor.account_id, market_id, wishes)
            .await
    }

    /// [`Store::set_mail_wishes`] for an account, with no actor: the demo, the benchmarks.
    pub async fn set_mail_wishes_of(
        &self,
        account_id: i64,
        market_id: i64,
        wishes: MailWishes,
    ) -> Result<SubscriptionView, StoreError> {
        let w = self.write().await?;
        mail_subscription::Entity::insert(new_row(account_id, market_id, wishes))
            .on_conflict(
                OnConflict::columns([
                    mail_subscription::Column::MarketId,
                    mail_subscription::Column::AccountId,
                ])
                .update_columns([
                    mail_subscription::Column::CycleOpen,
                    mail_subscription::Column::ClosingReminder,
                    mail_subscription::Column::PickupDayBefore,
                    mail_subscription::Column::PickupHoursBefore,
                ])
                .to_owned(),
            )
            .exec_without_returning(&w.tx)
            .await?;
        w.commit().await?;
        Ok(view(market_id, wishes))
    }

    /// What the actor wants from a market ([`MailWishes::DEFAULT`] until asked).
    pub async fn mail_wishes(
        &self,
        actor: &Actor,
        market_id: i64,
    ) -> Result<SubscriptionView, StoreError> {
        let row = mail_subscription::Entity::find()
            .filter(mail_subscription::Column::AccountId.eq(actor.account_id))
            .filter(mail_subscription::Column::MarketId.eq(market_id))
            .one(self.db())
            .await?;
        Ok(view(
            market_id,
            row.map_or(MailWishes::DEFAULT, |r| MailWishes {
                cycle_open: r.cycle_open,
                closing_reminder: r.closing_reminder,
                pickup_day_before: r.pickup_day_before,
                pickup_hours_before: r.pickup_hours_before,
            }),
        ))
    }

    /// The markets whose mail concerns the actor, by name: those it set wishes for, ordered
    /// from, or belongs to, and `also` (a market it is looking at). For the wishes page.
    pub async fn mail_markets(
        &self,
        actor: &Actor,
        also: Option<i64>,
    ) -> Result<Vec<crate::MarketView>, StoreError> {
        use sea_orm::ConnectionTrait;
        let sql = "SELECT market_id FROM mail_subscriptions WHERE account_id = $1 \
                   UNION SELECT c.market_id FROM orders o JOIN order_cycles c ON c.id = o.cycle_id \
                   WHERE o.account_id = $1 \
                   UNION SELECT market_id FROM accounts WHERE id = $1 AND market_id IS NOT NULL";
        let rows = self
            .db()
            .query_all_raw(super::outbox::statement(
                self.db().get_database_backend(),
                sql,
                vec![actor.account_id.into()],
            ))
            .await?;
        let mut ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
            .collect();
        ids.extend(also);
        ids.sort_unstable();
        ids.dedup();
        let mut markets = Vec::with_capacity(ids.len());
        for id in ids {
            markets.push(self.market(id).await?);
        }
        markets.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(markets)
    }

    /// The one-click unsubscribe: no more announcements nor reminders (closing, pickup) from
    /// that market for the holder of `token`. Returns the market's id; `NotFound` for an
    /// unknown token. Doing it twice is no error.
    pub async fn unsubscribe(&self, token: &str) -> Result<i64, StoreError> {
        let row = mail_subscription::Entity::find()
            .filter(mail_subscription::Column::Token.eq(token))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("subscription", 0))?;
        let w = self.write().await?;
        mail_subscription::Entity::update_many()
            .col_expr(
                mail_subscription::Column::CycleOpen,
                sea_orm::sea_query::Expr::val(false),
            )
            .col_expr(
                mail_subscription::Column::ClosingReminder,
                sea_orm::sea_query::Expr::val(false),
            )
            .col_expr(
                mail_subscription::Column::PickupDayBefore,
                sea_orm::sea_query::Expr::val(false),
            )
            .col_expr(
                mail_subscription::Column::PickupHoursBefore,
                sea_orm::sea_query::Expr::val(false),
            )
            .filter(mail_subscription::Column::Id.eq(row.id))
            .exec(&w.tx)
            .await?;
        w.commit().await?;
        Ok(row.market_id)
    }
}
