//! What a claimed mail needs to be rendered, loaded for a whole claim at once (a fixed number
//! of queries however many mails): its market (name, time zone, and the contact that goes in
//! `Reply-To`), its order as it is now for the order mails, and the recipient's unsubscribe
//! token for announcements.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    MarketView, OrderView, Role, Store, StoreError,
    entities::{account, mail_subscription, order, outbox},
};

/// One mail with what it says.
#[derive(Clone, Debug)]
pub struct MailContext {
    /// The row.
    pub mail: outbox::Model,
    /// Its payload, parsed.
    pub payload: serde_json::Value,
    /// Its market.
    pub market: Option<MarketView>,
    /// The market's contact: its first coordinator's address.
    pub reply_to: Option<String>,
    /// The order, for order mails.
    pub order: Option<OrderView>,
    /// The recipient's one-click unsubscribe token, for announcements.
    pub unsubscribe_token: Option<String>,
}

impl Store {
    /// The contexts of `mails`, in the same order.
    pub async fn mail_contexts(
        &self,
        mails: Vec<outbox::Model>,
    ) -> Result<Vec<MailContext>, StoreError> {
        let payloads: Vec<serde_json::Value> = mails
            .iter()
            .map(|m| serde_json::from_str(&m.payload).unwrap_or(serde_json::Value::Null))
            .collect();
        let market_ids: HashSet<i64> = mails.iter().filter_map(|m| m.market_id).collect();
        let mut markets: HashMap<i64, MarketView> = HashMap::new();
        let mut contacts: HashMap<i64, String> = HashMap::new();
        for id in &market_ids {
            if let Ok(m) = self.market(*id).await {
                markets.insert(*id, m);
            }
        }
        if !market_ids.is_empty() {
            let coordinators = account::Entity::find()
                .filter(account::Column::MarketId.is_in(market_ids.iter().copied()))
                .filter(account::Column::Role.eq(Role::Coordinator.as_str()))
                .order_by_asc(account::Column::Id)
                .all(self.db())
                .await?;
            for c in coordinators {
                if let Some(m) = c.market_id {
                    contacts.entry(m).or_insert(c.email);
                }
            }
        }
        let order_ids: Vec<i64> = payloads
            .iter()
            .filter_map(|p| p.get("order_id").and_then(serde_json::Value::as_i64))
            .collect();
        let mut orders: HashMap<i64, OrderView> = HashMap::new();
        if !order_ids.is_empty() {
            let rows = order::Entity::find()
                .filter(order::Column::Id.is_in(order_ids))
                .all(self.db())
                .await?;
            for o in self.order_views(rows).await? {
                orders.insert(o.id, o);
            }
        }
        let announced: HashSet<i64> = mails
            .iter()
            .filter(|m| super::outbox::kind::ANNOUNCEMENTS.contains(&m.kind.as_str()))
            .filter_map(|m| m.account_id)
            .collect();
        let mut tokens: HashMap<(i64, i64), String> = HashMap::new();
        if !announced.is_empty() {
            for s in mail_subscription::Entity::find()
                .filter(mail_subscription::Column::AccountId.is_in(announced))
                .all(self.db())
                .await?
            {
                tokens.insert((s.account_id, s.market_id), s.token);
            }
        }
        Ok(mails
            .into_iter()
            .zip(payloads)
            .map(|(mail, payload)| {
                let order = payload
                    .get("order_id")
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|id| orders.get(&id).cloned());
                let unsubscribe_token = match (mail.account_id, mail.market_id) {
                    (Some(a), Some(m)) => tokens.get(&(a, m)).cloned(),
                    _ => None,
                };
                MailContext {
                    market: mail.market_id.and_then(|m| markets.get(&m).cloned()),
                    reply_to: mail.market_id.and_then(|m| contacts.get(&m).cloned()),
                    order,
                    unsubscribe_token,
                    payload,
                    mail,
                }
            })
            .collect())
    }
}
