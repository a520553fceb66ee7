//! Who wants a market's announcements: one row per (member, market), with the secret of the
//! one-click unsubscribe link (RFC 8058) that every announcement carries. Only announcements
//! and reminders depend on it; a consumer's order mail is transactional and always goes.

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
}

impl Store {
    /// Sets what the actor wants from a market (creating the row, and its unsubscribe token,
    /// the first time).
    pub async fn set_mail_wishes(
        &self,
        actor: &Actor,
        market_id: i64,
        cycle_open: bool,
        closing_reminder: bool,
    ) -> Result<SubscriptionView, StoreError> {
        self.market(market_id).await?;
        self.set_mail_wishes_of(actor.account_id, market_id, cycle_open, closing_reminder)
            .await
    }

    /// [`Store::set_mail_wishes`] for an account, with no actor: the demo, the benchmarks.
    pub async fn set_mail_wishes_of(
        &self,
        account_id: i64,
        market_id: i64,
        cycle_open: bool,
        closing_reminder: bool,
    ) -> Result<SubscriptionView, StoreError> {
        let w = self.write().await?;
        mail_subscription::Entity::insert(mail_subscription::ActiveModel {
            account_id: Set(account_id),
            market_id: Set(market_id),
            cycle_open: Set(cycle_open),
            closing_reminder: Set(closing_reminder),
            token: Set(hex::encode(rand::random::<[u8; 20]>())),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                mail_subscription::Column::MarketId,
                mail_subscription::Column::AccountId,
            ])
            .update_columns([
                mail_subscription::Column::CycleOpen,
                mail_subscription::Column::ClosingReminder,
            ])
            .to_owned(),
        )
        .exec_without_returning(&w.tx)
        .await?;
        w.commit().await?;
        Ok(SubscriptionView {
            market_id,
            cycle_open,
            closing_reminder,
        })
    }

    /// What the actor wants from a market (nothing until asked).
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
        Ok(SubscriptionView {
            market_id,
            cycle_open: row.as_ref().is_some_and(|r| r.cycle_open),
            closing_reminder: row.as_ref().is_some_and(|r| r.closing_reminder),
        })
    }

    /// The one-click unsubscribe: no more announcements nor reminders from that market for
    /// the holder of `token`. Returns the market's id; `NotFound` for an unknown token. Doing
    /// it twice is no error.
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
            .filter(mail_subscription::Column::Id.eq(row.id))
            .exec(&w.tx)
            .await?;
        w.commit().await?;
        Ok(row.market_id)
    }
}
