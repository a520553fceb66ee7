//! What a claimed mail needs to be rendered, loaded for a whole claim at once (a fixed number
//! of queries however many mails, but for picking lists: a few per cycle and producer): its
//! market (name, time zone, and the contact that goes in `Reply-To`), its order as it is now
//! for the order mails, the recipient's unsubscribe token for announcements, the pickup point
//! of a pickup reminder, and a producer's picking list.

use std::collections::{HashMap, HashSet};

pub use distribution::PickingList;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    LineFilter, MarketView, OrderView, Role, Store, StoreError,
    entities::{account, distribution_slot, mail_subscription, order, outbox, pickup_point},
};

/// Where a pickup reminder sends the consumer: the slot's pickup point.
#[derive(Clone, Debug, PartialEq)]
pub struct PickupPlace {
    /// Its name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postcode.
    pub postal_code: String,
    /// Town.
    pub city: String,
    /// How to get in ("gate code 1234, ring twice"), as its host wrote it.
    pub access_notes: String,
}

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
    /// The pickup point of the payload's `slot_id` (pickup reminders).
    pub pickup: Option<PickupPlace>,
    /// The producer's picking list of the payload's `cycle_id` and `producer_id` (picking
    /// list mail; `None` when nothing is left on it).
    pub picking_list: Option<PickingList>,
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
        let places = self.pickup_places(&payloads).await?;
        let mut lists: HashMap<(i64, i64), distribution::PickingList> = HashMap::new();
        for (m, p) in mails.iter().zip(&payloads) {
            if m.kind != super::outbox::kind::PICKING_LIST {
                continue;
            }
            let (Some(cycle), Some(producer)) = (
                p.get("cycle_id").and_then(serde_json::Value::as_i64),
                p.get("producer_id").and_then(serde_json::Value::as_i64),
            ) else {
                continue;
            };
            if lists.contains_key(&(cycle, producer)) {
                continue;
            }
            let data = self
                .cycle_data(
                    cycle,
                    LineFilter {
                        producer_id: Some(producer),
                        slot_id: None,
                    },
                )
                .await?;
            if let Some(list) =
                distribution::picking_list(&data.cycle, &data.slots, &data.lines, producer)
            {
                lists.insert((cycle, producer), list);
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
                let pickup = payload
                    .get("slot_id")
                    .and_then(serde_json::Value::as_i64)
                    .and_then(|s| places.get(&s).cloned());
                let picking_list = (mail.kind == super::outbox::kind::PICKING_LIST)
                    .then(|| {
                        let cycle = payload.get("cycle_id")?.as_i64()?;
                        let producer = payload.get("producer_id")?.as_i64()?;
                        lists.get(&(cycle, producer)).cloned()
                    })
                    .flatten();
                MailContext {
                    pickup,
                    picking_list,
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

    /// The pickup points of the payloads' `slot_id`s, by slot id.
    async fn pickup_places(
        &self,
        payloads: &[serde_json::Value],
    ) -> Result<HashMap<i64, PickupPlace>, StoreError> {
        let slot_ids: HashSet<i64> = payloads
            .iter()
            .filter_map(|p| p.get("slot_id").and_then(serde_json::Value::as_i64))
            .collect();
        if slot_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let slots = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::Id.is_in(slot_ids))
            .all(self.db())
            .await?;
        let points: HashMap<i64, pickup_point::Model> = pickup_point::Entity::find()
            .filter(pickup_point::Column::Id.is_in(slots.iter().map(|s| s.pickup_point_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(slots
            .iter()
            .filter_map(|s| {
                let p = points.get(&s.pickup_point_id)?;
                Some((
                    s.id,
                    PickupPlace {
                        name: p.name.clone(),
                        address: p.address.clone(),
                        postal_code: p.postal_code.clone(),
                        city: p.city.clone(),
                        access_notes: p.access_notes.clone(),
                    },
                ))
            })
            .collect())
    }
}
