//! The shop's own use cases, for the consumers' pages: a market found by its slug with the
//! names of who runs it, the draft basket of (member, cycle), and a member's orders.
//!
//! A draft basket is what a consumer has put in the shop's form but not confirmed yet: kept in
//! `basket_lines` per (account, cycle), so that it survives a page reload and a new login, and
//! emptied once the order is placed or changed. It reserves no stock: the stock is checked when
//! the basket is confirmed (`place_order` / `modify_order`).
//!
//! Whose basket: the actor's own, or, for a mediator ordering for someone, the member's
//! (`for_member`, checked by [`Store::member`]: 404 for anyone the actor may not order for).

use std::collections::HashMap;

use chrono::Utc;
use domain::{
    Quantity, QuantityError, RequestedLine, Unit, validate_order_quantity, validate_requested_lines,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::{
    Actor, MarketView, OrderView, Role, Store, StoreError, Viewer,
    catalogue::{corrupt, unit_of},
    cycles::check_accepts_orders,
    entities::{account, basket_line, market, offer, order, order_cycle, order_line, product},
};

/// What an order's page says of its cycle.
#[derive(Clone, Debug)]
pub struct CycleLabel {
    /// The cycle's name.
    pub name: String,
    /// Its market.
    pub market_id: i64,
    /// The market's name.
    pub market_name: String,
    /// The market's time zone (`Europe/Paris`).
    pub timezone: String,
    /// The cycle takes orders now (baskets may be changed or cancelled).
    pub open: bool,
}

/// What the shop and the basket start from (see [`Store::current_basket`]).
#[derive(Clone, Debug)]
pub struct CurrentBasket {
    /// The draft's lines, or the current order's when there is no draft, by offer id.
    pub lines: Vec<RequestedLine>,
    /// The owner's current order in the cycle, if any: confirming changes it.
    pub order_id: Option<i64>,
}

/// A line of a draft basket the store refused, and why (nothing was saved).
#[derive(Clone, Debug)]
pub struct BasketProblem {
    /// The offer of the line.
    pub offer_id: i64,
    /// What is wrong with its quantity.
    pub error: QuantityError,
}

impl Store {
    /// A market by its slug (the address of its home page).
    pub async fn market_by_slug(&self, slug: &str) -> Result<MarketView, StoreError> {
        let m = market::Entity::find()
            .filter(market::Column::Slug.eq(slug))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("market", 0))?;
        self.market(m.id).await
    }

    /// The name, market and state of some cycles, by id (for lists of orders): two queries.
    pub async fn cycle_labels(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, CycleLabel>, StoreError> {
        let cycles = order_cycle::Entity::find()
            .filter(order_cycle::Column::Id.is_in(ids))
            .all(self.db())
            .await?;
        let markets: HashMap<i64, market::Model> = market::Entity::find()
            .filter(market::Column::Id.is_in(cycles.iter().map(|c| c.market_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let now = Utc::now();
        cycles
            .into_iter()
            .map(|c| {
                let m = markets
                    .get(&c.market_id)
                    .ok_or_else(|| corrupt("cycle's market", c.market_id))?;
                Ok((
                    c.id,
                    CycleLabel {
                        open: check_accepts_orders(&c, now).is_ok(),
                        name: c.name,
                        market_id: c.market_id,
                        market_name: m.name.clone(),
                        timezone: m.timezone.clone(),
                    },
                ))
            })
            .collect()
    }

    /// The names of a market's coordinators, by name: who runs it, for its home page.
    pub async fn market_coordinators(&self, market_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = account::Entity::find()
            .filter(account::Column::MarketId.eq(market_id))
            .filter(account::Column::Role.eq(Role::Coordinator.as_str()))
            .order_by_asc(account::Column::Name)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(|a| a.name).collect())
    }

    /// The account whose basket this is: the actor, or the member it orders for.
    async fn basket_owner(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
    ) -> Result<i64, StoreError> {
        match for_member {
            Some(id) => Ok(self.member(actor, id).await?.id),
            None => Ok(actor.account_id),
        }
    }

    /// Replaces the draft basket of (owner, cycle) with `lines` (an empty list empties it),
    /// while the cycle takes orders. Each quantity must follow its product's unit and step:
    /// the lines that do not are returned, and then nothing is saved. An offer not on sale in
    /// the cycle is `Invalid`.
    pub async fn save_draft_basket(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
        cycle_id: i64,
        lines: Vec<RequestedLine>,
    ) -> Result<Vec<BasketProblem>, StoreError> {
        let owner = self.basket_owner(actor, for_member).await?;
        let c = self.readable_cycle(Viewer::Actor(actor), cycle_id).await?;
        let now = Utc::now();
        check_accepts_orders(&c, now)?;
        if !lines.is_empty() {
            validate_requested_lines(&lines)?;
        }
        let offers: HashMap<i64, offer::Model> = offer::Entity::find()
            .filter(offer::Column::CycleId.eq(cycle_id))
            .filter(offer::Column::Id.is_in(lines.iter().map(|l| l.offer_id)))
            .filter(offer::Column::WithdrawnAt.is_null())
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let products: HashMap<i64, product::Model> = product::Entity::find()
            .filter(product::Column::Id.is_in(offers.values().map(|o| o.product_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut problems = Vec::new();
        for l in &lines {
            let o = offers.get(&l.offer_id).ok_or_else(|| {
                StoreError::invalid(
                    "unknown_offer",
                    format!("offer {} is not on sale in this cycle", l.offer_id),
                )
            })?;
            let p = products
                .get(&o.product_id)
                .ok_or_else(|| corrupt("offer's product", o.product_id))?;
            let unit: Unit = unit_of(&p.unit)?;
            if let Err(error) =
                validate_order_quantity(unit, Quantity::from_milli(p.step_milli), l.quantity)
            {
                problems.push(BasketProblem {
                    offer_id: l.offer_id,
                    error,
                });
            }
        }
        if !problems.is_empty() {
            return Ok(problems);
        }
        let tx = self.db().begin().await?;
        basket_line::Entity::delete_many()
            .filter(basket_line::Column::AccountId.eq(owner))
            .filter(basket_line::Column::CycleId.eq(cycle_id))
            .exec(&tx)
            .await?;
        if !lines.is_empty() {
            basket_line::Entity::insert_many(lines.iter().map(|l| basket_line::ActiveModel {
                account_id: Set(owner),
                cycle_id: Set(cycle_id),
                offer_id: Set(l.offer_id),
                quantity_milli: Set(l.quantity.milli()),
                updated_at: Set(now),
            }))
            .exec(&tx)
            .await?;
        }
        tx.commit().await?;
        self.shown.baskets.written(owner, cycle_id);
        Ok(problems)
    }

    /// Forgets the draft basket of (owner, cycle): once it is confirmed.
    pub async fn clear_draft_basket(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
        cycle_id: i64,
    ) -> Result<(), StoreError> {
        let owner = self.basket_owner(actor, for_member).await?;
        basket_line::Entity::delete_many()
            .filter(basket_line::Column::AccountId.eq(owner))
            .filter(basket_line::Column::CycleId.eq(cycle_id))
            .exec(self.db())
            .await?;
        self.shown.baskets.written(owner, cycle_id);
        Ok(())
    }

    /// What the shop starts from, in at most three small queries: the draft basket of (owner,
    /// cycle) if there is one, else the lines of the owner's current order in the cycle; and
    /// that order's id.
    pub async fn current_basket(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
        cycle_id: i64,
    ) -> Result<CurrentBasket, StoreError> {
        // An account's own basket, from memory when fresh (see `basket_cache`).
        if for_member.is_none() {
            let owner = actor.account_id;
            let stock = self.shown.stock_mark(cycle_id);
            if let Some(kept) = self.shown.baskets.get(owner, cycle_id, stock) {
                return Ok(kept);
            }
            let marks = (
                self.shown.baskets.mark(owner, cycle_id),
                stock,
                std::time::Instant::now(),
            );
            let basket = self.read_basket(owner, cycle_id).await?;
            self.shown.baskets.keep(owner, cycle_id, &basket, marks);
            return Ok(basket);
        }
        let owner = self.basket_owner(actor, for_member).await?;
        self.read_basket(owner, cycle_id).await
    }

    async fn read_basket(&self, owner: i64, cycle_id: i64) -> Result<CurrentBasket, StoreError> {
        let draft = basket_line::Entity::find()
            .filter(basket_line::Column::AccountId.eq(owner))
            .filter(basket_line::Column::CycleId.eq(cycle_id))
            .order_by_asc(basket_line::Column::OfferId)
            .all(self.db())
            .await?;
        let order_id: Option<i64> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::AccountId.eq(owner))
            .filter(order::Column::CycleId.eq(cycle_id))
            .filter(order::Column::Status.eq(crate::orders::PLACED))
            .order_by_desc(order::Column::Id)
            .into_tuple()
            .one(self.db())
            .await?;
        let lines = match (draft.is_empty(), order_id) {
            (true, Some(id)) => order_line::Entity::find()
                .filter(order_line::Column::OrderId.eq(id))
                .order_by_asc(order_line::Column::OfferId)
                .all(self.db())
                .await?
                .into_iter()
                .map(|l| RequestedLine {
                    offer_id: l.offer_id,
                    quantity: Quantity::from_milli(l.quantity_milli),
                })
                .collect(),
            _ => draft
                .into_iter()
                .map(|l| RequestedLine {
                    offer_id: l.offer_id,
                    quantity: Quantity::from_milli(l.quantity_milli),
                })
                .collect(),
        };
        Ok(CurrentBasket { lines, order_id })
    }

    /// The owner's current (not cancelled) order in a cycle, the latest if several.
    pub async fn order_in_cycle(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
        cycle_id: i64,
    ) -> Result<Option<OrderView>, StoreError> {
        let owner = self.basket_owner(actor, for_member).await?;
        let row = order::Entity::find()
            .filter(order::Column::AccountId.eq(owner))
            .filter(order::Column::CycleId.eq(cycle_id))
            .filter(order::Column::Status.eq(crate::orders::PLACED))
            .order_by_desc(order::Column::Id)
            .one(self.db())
            .await?;
        match row {
            Some(o) => Ok(self.order_views(vec![o]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The owner's orders, newest first (cancelled ones included): the actor's own, or those
    /// of the member a mediator orders for.
    pub async fn orders_of(
        &self,
        actor: &Actor,
        for_member: Option<i64>,
    ) -> Result<Vec<OrderView>, StoreError> {
        match for_member {
            None => self.my_orders(actor).await,
            Some(id) => {
                let owner = self.basket_owner(actor, Some(id)).await?;
                let rows = order::Entity::find()
                    .filter(order::Column::AccountId.eq(owner))
                    .order_by_desc(order::Column::CreatedAt)
                    .order_by_desc(order::Column::Id)
                    .all(self.db())
                    .await?;
                self.order_views(rows).await
            }
        }
    }
}
