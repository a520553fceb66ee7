//! Order cycles, their distribution slots, and producers' offers with their stock.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{
    CycleState, CycleWindow, Money, ProductPricing, Quantity, accepts_orders, effective_state,
    offers_editable, transition,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Actor, Store, StoreError,
    audit::kind::{PRICE, STOCK},
    catalogue::{corrupt, pricing_of, producer_names, products_by_id},
    entities::{distribution_slot, offer, order_cycle, pickup_point, product},
    rights,
};

/// A cycle without its slots and offers, for lists.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleSummary {
    /// Id.
    pub id: i64,
    /// The market running it.
    pub market_id: i64,
    /// Name ("Semaine 48").
    pub name: String,
    /// When consumers can start ordering.
    pub opens_at: DateTime<Utc>,
    /// When orders freeze.
    pub closes_at: DateTime<Utc>,
    /// The state, taking the clock into account (an open cycle past its close is closed).
    pub state: CycleState,
}

/// A distribution slot: a pickup point at a date and time.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotView {
    /// Id.
    pub id: i64,
    /// The cycle it belongs to.
    pub cycle_id: i64,
    /// Where.
    pub pickup_point_id: i64,
    /// The pickup point's name.
    pub pickup_point_name: String,
    /// Its address, one line.
    pub pickup_point_address: String,
    /// Start of the distribution.
    pub starts_at: DateTime<Utc>,
    /// End of the distribution.
    pub ends_at: DateTime<Utc>,
    /// Cancelled for this cycle (no new orders on it).
    pub cancelled: bool,
    /// Why it was cancelled or moved ("Salle réquisitionnée pour les élections"), as the
    /// coordinator or the venue's host wrote it.
    pub note: Option<String>,
    /// Where it was first planned, when it was moved since (`starts_at` is the new start).
    pub moved_from: Option<DateTime<Utc>>,
}

/// A product on sale in a cycle, with its stock.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferView {
    /// Id (what order lines refer to).
    pub id: i64,
    /// The cycle.
    pub cycle_id: i64,
    /// The product.
    pub product_id: i64,
    /// The product's name.
    pub product_name: String,
    /// The product's description.
    pub description: Option<String>,
    /// Who sells it.
    pub producer_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// Unit, the price for this cycle incl. VAT, VAT rate, estimated weight.
    pub pricing: ProductPricing,
    /// Ordering step.
    pub step: Quantity,
    /// What the producer put on sale.
    pub stock_total: Quantity,
    /// What is left to order, shared by every pickup point of the cycle.
    pub stock_left: Quantity,
    /// The product's photo, if it has one.
    pub photo_url: Option<String>,
}

/// A cycle with its slots and offers.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleView {
    /// The cycle itself.
    pub cycle: CycleSummary,
    /// Its distribution slots, by start time.
    pub slots: Vec<SlotView>,
    /// Its offers, by producer then product.
    pub offers: Vec<OfferView>,
}

/// Who is reading a cycle. A token is checked only when the cycle is a draft, so that the
/// public read of a cycle (the busiest of the app) costs no look-up.
#[derive(Clone, Copy, Debug)]
pub enum Viewer<'a> {
    /// No credentials.
    Anonymous,
    /// A bearer token, not checked yet.
    Token(&'a str),
    /// An account already authenticated.
    Actor(&'a Actor),
}

impl Store {
    /// The viewer as an account, or `None` for the public; a bad token is refused (401).
    pub(crate) async fn resolve(&self, viewer: Viewer<'_>) -> Result<Option<Actor>, StoreError> {
        Ok(match viewer {
            Viewer::Anonymous => None,
            Viewer::Token(t) => Some(self.authenticate(t).await?),
            Viewer::Actor(a) => Some(a.clone()),
        })
    }

    /// The cycle row if the viewer may read it: a draft is "not found" except to the market's
    /// staff and producers (see [`rights::may_read_cycle`]).
    pub(crate) async fn readable_cycle(
        &self,
        viewer: Viewer<'_>,
        id: i64,
    ) -> Result<order_cycle::Model, StoreError> {
        let c = self.cycle_row(self.db(), id).await?;
        if c.state == CycleState::Draft.as_str() {
            let actor = self.resolve(viewer).await?;
            if !rights::may_read_cycle(self, actor.as_ref(), &c).await? {
                return Err(StoreError::not_found("cycle", id));
            }
        }
        Ok(c)
    }
}

/// A cycle to create, in the draft state.
#[derive(Clone, Debug)]
pub struct NewCycle {
    /// Name.
    pub name: String,
    /// When ordering opens.
    pub opens_at: DateTime<Utc>,
    /// When ordering closes.
    pub closes_at: DateTime<Utc>,
    /// Its distribution slots.
    pub slots: Vec<NewSlot>,
}

/// A distribution slot to add to a cycle.
#[derive(Clone, Debug)]
pub struct NewSlot {
    /// One of the market's pickup points.
    pub pickup_point_id: i64,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// One line of a producer's offer for a cycle.
#[derive(Clone, Debug)]
pub struct OfferInput {
    /// One of the producer's active products.
    pub product_id: i64,
    /// The price for this cycle; the product's current price when absent.
    pub price: Option<Money>,
    /// How much the producer can supply this cycle.
    pub stock: Quantity,
}

fn window_of(c: &order_cycle::Model) -> CycleWindow {
    CycleWindow {
        opens_at: c.opens_at,
        closes_at: c.closes_at,
    }
}

pub(crate) fn stored_state(c: &order_cycle::Model) -> Result<CycleState, StoreError> {
    c.state
        .parse::<CycleState>()
        .map_err(|_| corrupt("cycle state", &c.state))
}

pub(crate) fn summary(
    c: &order_cycle::Model,
    now: DateTime<Utc>,
) -> Result<CycleSummary, StoreError> {
    Ok(CycleSummary {
        id: c.id,
        market_id: c.market_id,
        name: c.name.clone(),
        opens_at: c.opens_at,
        closes_at: c.closes_at,
        state: effective_state(stored_state(c)?, &window_of(c), now),
    })
}

/// Whether a cycle still sells (a draft, or open until it closes): where archiving a product
/// withdraws its offers.
pub(crate) fn still_selling(
    c: &order_cycle::Model,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(matches!(
        effective_state(stored_state(c)?, &window_of(c), now),
        CycleState::Draft | CycleState::Open
    ))
}

/// Withdraws an offer from sale. One that no basket ever held is deleted; one with order lines
/// is kept for what was ordered (stock total = ordered, nothing left) and marked withdrawn, so
/// that stock a basket gives back later leaves the offer instead of coming back on sale (see
/// `orders::apply_stock_deltas_named`). Only `set_offers` puts it back on sale.
pub(crate) async fn withdraw_offer(
    db: &impl ConnectionTrait,
    offer_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let has_lines = crate::entities::order_line::Entity::find()
        .filter(crate::entities::order_line::Column::OfferId.eq(offer_id))
        .one(db)
        .await?
        .is_some();
    if has_lines {
        offer::Entity::update_many()
            .col_expr(
                offer::Column::StockTotalMilli,
                Expr::col(offer::Column::StockTotalMilli)
                    .sub(Expr::col(offer::Column::StockLeftMilli)),
            )
            .col_expr(offer::Column::StockLeftMilli, Expr::val(0i64))
            .col_expr(offer::Column::WithdrawnAt, Expr::val(now))
            .col_expr(offer::Column::UpdatedAt, Expr::val(now))
            .filter(offer::Column::Id.eq(offer_id))
            .exec(db)
            .await?;
    } else {
        offer::Entity::delete_by_id(offer_id).exec(db).await?;
    }
    Ok(())
}

/// Checks that a cycle takes orders now.
pub(crate) fn check_accepts_orders(
    c: &order_cycle::Model,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    accepts_orders(stored_state(c)?, &window_of(c), now)?;
    Ok(())
}

fn check_slot_times(slot: &NewSlot, cycle_closes_at: DateTime<Utc>) -> Result<(), StoreError> {
    if slot.ends_at <= slot.starts_at {
        return Err(StoreError::invalid(
            "invalid_slot",
            "a slot must end after it starts",
        ));
    }
    if slot.ends_at - slot.starts_at > chrono::Duration::hours(24) {
        return Err(StoreError::invalid(
            "invalid_slot",
            "a slot lasts at most 24 hours",
        ));
    }
    if slot.starts_at < cycle_closes_at {
        return Err(StoreError::invalid(
            "invalid_slot",
            "a distribution starts after ordering closes, so that producers know what to bring",
        ));
    }
    Ok(())
}

pub(crate) async fn load_slots(
    db: &impl ConnectionTrait,
    slots: Vec<distribution_slot::Model>,
) -> Result<Vec<SlotView>, StoreError> {
    let point_ids: HashSet<i64> = slots.iter().map(|s| s.pickup_point_id).collect();
    let points: HashMap<i64, pickup_point::Model> = pickup_point::Entity::find()
        .filter(pickup_point::Column::Id.is_in(point_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    slots
        .into_iter()
        .map(|s| {
            let p = points
                .get(&s.pickup_point_id)
                .ok_or_else(|| corrupt("slot's pickup point", s.pickup_point_id))?;
            Ok(slot_view(s, p))
        })
        .collect()
}

/// A slot row and its pickup point as a view.
pub(crate) fn slot_view(s: distribution_slot::Model, p: &pickup_point::Model) -> SlotView {
    SlotView {
        id: s.id,
        cycle_id: s.cycle_id,
        pickup_point_id: s.pickup_point_id,
        pickup_point_name: p.name.clone(),
        pickup_point_address: format!("{}, {} {}", p.address, p.postal_code, p.city),
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        cancelled: s.cancelled,
        note: s.note,
        moved_from: s.moved_from,
    }
}

/// Turns offer rows into views, loading their products and producers in two queries.
pub(crate) async fn load_offers(
    db: &impl ConnectionTrait,
    offers: Vec<offer::Model>,
) -> Result<Vec<OfferView>, StoreError> {
    let products = products_by_id(db, offers.iter().map(|o| o.product_id)).await?;
    let producers = producer_names(db, offers.iter().map(|o| o.producer_id)).await?;
    let mut views = offers
        .into_iter()
        .map(|o| {
            let p = products
                .get(&o.product_id)
                .ok_or_else(|| corrupt("offer's product", o.product_id))?;
            Ok(OfferView {
                id: o.id,
                cycle_id: o.cycle_id,
                product_id: o.product_id,
                product_name: p.name.clone(),
                description: p.description.clone(),
                producer_id: o.producer_id,
                producer_name: producers.get(&o.producer_id).cloned().unwrap_or_default(),
                pricing: pricing_of(p, o.price_cents)?,
                step: Quantity::from_milli(p.step_milli),
                stock_total: Quantity::from_milli(o.stock_total_milli),
                stock_left: Quantity::from_milli(o.stock_left_milli),
                photo_url: p.photo_url.clone(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    views.sort_by(|a, b| {
        (a.producer_name.as_str(), a.product_name.as_str(), a.id).cmp(&(
            b.producer_name.as_str(),
            b.product_name.as_str(),
            b.id,
        ))
    });
    Ok(views)
}

impl Store {
    pub(crate) async fn cycle_row(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<order_cycle::Model, StoreError> {
        order_cycle::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::not_found("cycle", id))
    }

    /// The cycle row, share-locked until the end of the transaction `db` on PostgreSQL (SQLite's
    /// single writer is lock enough): a write that depends on the cycle's state (modifying or
    /// cancelling a basket) then commits before a transition of the cycle, or sees it. The
    /// order writer takes the same lock.
    pub(crate) async fn cycle_row_shared(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<order_cycle::Model, StoreError> {
        order_cycle::Entity::find_by_id(id)
            .lock_shared()
            .one(db)
            .await?
            .ok_or_else(|| StoreError::not_found("cycle", id))
    }

    /// A cycle the actor runs: 404 if it may not even see it (a draft of another market), 403
    /// if it sees it but does not coordinate its market.
    pub(crate) async fn coordinated_cycle(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<order_cycle::Model, StoreError> {
        let c = self.readable_cycle(Viewer::Actor(actor), id).await?;
        if !rights::runs_market(actor, c.market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can change its cycles",
            ));
        }
        Ok(c)
    }

    /// A market's cycles, newest first; drafts only for who may read them.
    pub async fn list_cycles(
        &self,
        viewer: Viewer<'_>,
        market_id: i64,
    ) -> Result<Vec<CycleSummary>, StoreError> {
        self.market(market_id).await?;
        let now = Utc::now();
        let mut rows = order_cycle::Entity::find()
            .filter(order_cycle::Column::MarketId.eq(market_id))
            .order_by_desc(order_cycle::Column::OpensAt)
            .all(self.db())
            .await?;
        if let Some(draft) = rows.iter().find(|c| c.state == CycleState::Draft.as_str()) {
            let actor = self.resolve(viewer).await?;
            if !rights::may_read_cycle(self, actor.as_ref(), draft).await? {
                rows.retain(|c| c.state != CycleState::Draft.as_str());
            }
        }
        rows.iter().map(|c| summary(c, now)).collect()
    }

    /// A cycle with its slots and every offer and what is left of it; a draft only for who may
    /// read it. From memory when fresh (see `read_cache`): prefer [`Store::shown_cycle`], which
    /// does not copy the view.
    pub async fn cycle(&self, viewer: Viewer<'_>, id: i64) -> Result<CycleView, StoreError> {
        Ok(self.shown_cycle(viewer, id).await?.view.clone())
    }

    /// Creates a cycle in the draft state with its slots (the market's coordinators).
    pub async fn create_cycle(
        &self,
        actor: &Actor,
        market_id: i64,
        new: NewCycle,
    ) -> Result<CycleView, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can create its cycles",
            ));
        }
        crate::text::check_chars("name", &new.name)?;
        if new.name.trim().is_empty() || new.name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_field",
                "name is required and at most 200 characters long",
            ));
        }
        CycleWindow::new(new.opens_at, new.closes_at)?;
        if new.slots.len() > 200 {
            return Err(StoreError::invalid(
                "too_many_slots",
                "a cycle has at most 200 slots",
            ));
        }
        let w = self.write().await?;
        let c = order_cycle::ActiveModel {
            market_id: Set(market_id),
            name: Set(new.name.trim().to_owned()),
            opens_at: Set(new.opens_at),
            closes_at: Set(new.closes_at),
            state: Set(CycleState::Draft.as_str().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&w.tx)
        .await?;
        for slot in &new.slots {
            insert_slot(&w.tx, &c, slot).await?;
        }
        w.commit().await?;
        self.sales.changed();
        self.cycle(Viewer::Actor(actor), c.id).await
    }

    /// Adds a distribution slot to a cycle that is not closed yet.
    pub async fn add_slot(
        &self,
        actor: &Actor,
        cycle_id: i64,
        slot: NewSlot,
    ) -> Result<SlotView, StoreError> {
        let c = self.coordinated_cycle(actor, cycle_id).await?;
        offers_editable(stored_state(&c)?, &window_of(&c), Utc::now())?;
        let w = self.write().await?;
        let s = insert_slot(&w.tx, &c, &slot).await?;
        w.commit().await?;
        self.sales.changed();
        let mut views = load_slots(self.db(), vec![s]).await?;
        views.pop().ok_or_else(|| corrupt("slot", cycle_id))
    }

    /// Moves a cycle through its states: open it, close it early, mark it distributed.
    pub async fn transition_cycle(
        &self,
        actor: &Actor,
        id: i64,
        target: CycleState,
    ) -> Result<CycleSummary, StoreError> {
        let c = self.coordinated_cycle(actor, id).await?;
        let now = Utc::now();
        let new_state = transition(stored_state(&c)?, target, &window_of(&c), now)?;
        let mut m: order_cycle::ActiveModel = c.clone().into();
        m.state = Set(new_state.as_str().to_owned());
        if new_state == CycleState::Closed && c.closes_at > now {
            // Closing early: the close time becomes now, so time rules and state agree.
            m.closes_at = Set(now);
        }
        let w = self.write().await?;
        // Guard on the state read above: two coordinators clicking at once get one transition.
        let res = order_cycle::Entity::update_many()
            .set(m)
            .filter(order_cycle::Column::Id.eq(id))
            .filter(order_cycle::Column::State.eq(c.state.clone()))
            .exec(&w.tx)
            .await?;
        if res.rows_affected != 1 {
            return Err(StoreError::conflict(
                "concurrent_change",
                "the cycle changed meanwhile; reload and try again",
            ));
        }
        crate::audit::record(
            &w.tx,
            actor,
            c.market_id,
            crate::audit::kind::CYCLE,
            c.name.clone(),
            format!("{} → {}", c.state, new_state.as_str()),
        )
        .await?;
        if new_state == CycleState::Open {
            // The announcement to the members who asked for it commits with the opening; its
            // key makes a cycle announced once, should it ever open again.
            let mail = crate::outbox::NewMail {
                kind: crate::outbox::kind::CYCLE_OPEN,
                market_id: Some(c.market_id),
                unique_key: Some(format!("cycle_open:{id}")),
                payload: serde_json::json!({
                    "cycle_id": id,
                    "cycle_name": c.name,
                    "closes_at": c.closes_at.to_rfc3339(),
                }),
            };
            crate::outbox::enqueue_to_subscribers(
                &w.tx,
                &mail,
                c.market_id,
                crate::outbox::Subscription::CycleOpen,
            )
            .await?;
        }
        if new_state == CycleState::Closed {
            // Each producer's picking list commits with the close (the scheduler writes them
            // for cycles that close by their clock); keyed per cycle, producer and account.
            crate::mail::schedule::enqueue_picking_lists(&w.tx, id).await?;
        }
        w.commit().await?;
        self.sales.changed();
        summary(&self.cycle_row(self.db(), id).await?, now)
    }

    async fn check_offer_rights(
        &self,
        actor: &Actor,
        c: &order_cycle::Model,
        producer_id: i64,
    ) -> Result<(), StoreError> {
        self.producer(producer_id).await?;
        if !rights::may_set_offers(actor, producer_id, c.market_id) {
            return Err(StoreError::forbidden("you can only manage your own offers"));
        }
        if !self.producer_in_market(producer_id, c.market_id).await? {
            return Err(StoreError::invalid(
                "producer_not_in_market",
                "this producer does not sell through this cycle's market",
            ));
        }
        offers_editable(stored_state(c)?, &window_of(c), Utc::now())?;
        Ok(())
    }

    /// A producer's offers in a cycle.
    pub async fn producer_offers(
        &self,
        cycle_id: i64,
        producer_id: i64,
    ) -> Result<Vec<OfferView>, StoreError> {
        let rows = offer::Entity::find()
            .filter(offer::Column::CycleId.eq(cycle_id))
            .filter(offer::Column::ProducerId.eq(producer_id))
            .filter(offer::Column::WithdrawnAt.is_null())
            .all(self.db())
            .await?;
        load_offers(self.db(), rows).await
    }

    /// Sets all of a producer's offers for a cycle in one go: listed products are put on sale
    /// (or updated, or back on sale if they were withdrawn) with their price and stock,
    /// products left out are withdrawn ([`withdraw_offer`]). Stock already ordered stays
    /// reserved: the new stock cannot be below it, and what is left is the new stock minus what
    /// was ordered.
    pub async fn set_offers(
        &self,
        actor: &Actor,
        cycle_id: i64,
        producer_id: i64,
        inputs: Vec<OfferInput>,
    ) -> Result<Vec<OfferView>, StoreError> {
        let c = self.readable_cycle(Viewer::Actor(actor), cycle_id).await?;
        self.check_offer_rights(actor, &c, producer_id).await?;
        if inputs.len() > 500 {
            return Err(StoreError::invalid(
                "too_many_offers",
                "at most 500 offers per producer and cycle",
            ));
        }
        let mut seen = HashSet::new();
        for i in &inputs {
            if !seen.insert(i.product_id) {
                return Err(StoreError::invalid(
                    "duplicate_product",
                    format!("product {} is listed twice", i.product_id),
                ));
            }
        }
        let products = products_by_id(self.db(), seen.iter().copied()).await?;
        for i in &inputs {
            let p = products
                .get(&i.product_id)
                .filter(|p| p.producer_id == producer_id)
                .ok_or_else(|| {
                    StoreError::invalid(
                        "unknown_product",
                        format!("product {} is not one of this producer's", i.product_id),
                    )
                })?;
            if !p.active {
                return Err(StoreError::invalid(
                    "archived_product",
                    format!("{} is archived", p.name),
                ));
            }
            let unit = crate::catalogue::unit_of(&p.unit)?;
            if unit.is_countable() && i.stock.milli() % 1000 != 0 {
                return Err(StoreError::invalid(
                    "invalid_quantity",
                    format!("stock of {} must be a whole number", p.name),
                ));
            }
        }

        let now = Utc::now();
        let w = self.write().await?;
        // Every existing offer is locked here, at once and in ascending id order, as the order
        // writer locks them: the updates and withdrawals below then touch only rows already
        // held, and no interleaving with a batch can deadlock.
        let existing: HashMap<i64, offer::Model> = offer::Entity::find()
            .filter(offer::Column::CycleId.eq(cycle_id))
            .filter(offer::Column::ProducerId.eq(producer_id))
            .order_by_asc(offer::Column::Id)
            .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
            .all(&w.tx)
            .await?
            .into_iter()
            .map(|o| (o.product_id, o))
            .collect();
        let mut sorted = inputs;
        // Same lock order as orders take (by offer id, then new ones), so no deadlock.
        sorted.sort_by_key(|i| {
            (
                existing.get(&i.product_id).map_or(i64::MAX, |o| o.id),
                i.product_id,
            )
        });
        for i in &sorted {
            let p = &products[&i.product_id];
            let price = i.price.map_or(p.price_cents, |m| m.cents());
            let total = i.stock.milli();
            match existing.get(&i.product_id) {
                Some(o) => {
                    let subject = format!("{}, {}", p.name, c.name);
                    if o.price_cents != price {
                        let detail = format!(
                            "{} → {}",
                            crate::audit::euros(o.price_cents),
                            crate::audit::euros(price)
                        );
                        crate::audit::record(
                            &w.tx,
                            actor,
                            c.market_id,
                            PRICE,
                            subject.clone(),
                            detail,
                        )
                        .await?;
                    }
                    if o.stock_total_milli != total || o.withdrawn_at.is_some() {
                        let was = match o.withdrawn_at {
                            Some(_) => "—".to_owned(),
                            None => crate::audit::quantity(o.stock_total_milli),
                        };
                        let detail = format!("{was} → {}", crate::audit::quantity(total));
                        crate::audit::record(&w.tx, actor, c.market_id, STOCK, subject, detail)
                            .await?;
                    }
                    let ordered = Expr::col(offer::Column::StockTotalMilli)
                        .sub(Expr::col(offer::Column::StockLeftMilli));
                    let res = offer::Entity::update_many()
                        .col_expr(offer::Column::PriceCents, Expr::val(price))
                        .col_expr(
                            offer::Column::StockLeftMilli,
                            Expr::val(total).sub(ordered.clone()),
                        )
                        .col_expr(offer::Column::StockTotalMilli, Expr::val(total))
                        // Listed again: back on sale, if it was withdrawn.
                        .col_expr(
                            offer::Column::WithdrawnAt,
                            Expr::val(Option::<DateTime<Utc>>::None),
                        )
                        .col_expr(offer::Column::UpdatedAt, Expr::val(now))
                        .filter(offer::Column::Id.eq(o.id))
                        .filter(ordered.lte(total))
                        .exec(&w.tx)
                        .await?;
                    if res.rows_affected != 1 {
                        let fresh = offer::Entity::find_by_id(o.id)
                            .one(&w.tx)
                            .await?
                            .ok_or_else(|| corrupt("offer", o.id))?;
                        let reserved =
                            Quantity::from_milli(fresh.stock_total_milli - fresh.stock_left_milli);
                        return Err(StoreError::conflict(
                            "stock_below_ordered",
                            format!(
                                "{reserved} of {} are already ordered: the stock cannot be lower",
                                p.name
                            ),
                        ));
                    }
                }
                None => {
                    // A new offer: its price and stock are set, from nothing.
                    let subject = format!("{}, {}", p.name, c.name);
                    let detail = format!("— → {}", crate::audit::euros(price));
                    crate::audit::record(&w.tx, actor, c.market_id, PRICE, subject.clone(), detail)
                        .await?;
                    let detail = format!("— → {}", crate::audit::quantity(total));
                    crate::audit::record(&w.tx, actor, c.market_id, STOCK, subject, detail).await?;
                    offer::ActiveModel {
                        cycle_id: Set(cycle_id),
                        product_id: Set(i.product_id),
                        producer_id: Set(producer_id),
                        price_cents: Set(price),
                        stock_total_milli: Set(total),
                        stock_left_milli: Set(total),
                        updated_at: Set(now),
                        withdrawn_at: Set(None),
                        ..Default::default()
                    }
                    .insert(&w.tx)
                    .await?;
                }
            }
        }
        let mut withdrawn: Vec<&offer::Model> = existing
            .values()
            .filter(|o| !seen.contains(&o.product_id) && o.withdrawn_at.is_none())
            .collect();
        withdrawn.sort_by_key(|o| o.id);
        for o in withdrawn {
            withdraw_offer(&w.tx, o.id, now).await?;
            let name = products_by_id(&w.tx, [o.product_id])
                .await?
                .remove(&o.product_id)
                .map_or_else(|| format!("product {}", o.product_id), |p| p.name);
            let detail = format!("{} → —", crate::audit::quantity(o.stock_total_milli));
            crate::audit::record(
                &w.tx,
                actor,
                c.market_id,
                STOCK,
                format!("{name}, {}", c.name),
                detail,
            )
            .await?;
        }
        w.commit().await?;
        self.sales.changed();
        self.producer_offers(cycle_id, producer_id).await
    }

    /// Starts a producer's offer for a cycle from its offer in the market's previous cycle:
    /// each product offered then (and still active) that is not on sale yet is added with last
    /// time's price and stock. Returns the producer's offers for the cycle.
    pub async fn copy_previous_offers(
        &self,
        actor: &Actor,
        cycle_id: i64,
        producer_id: i64,
    ) -> Result<Vec<OfferView>, StoreError> {
        let c = self.readable_cycle(Viewer::Actor(actor), cycle_id).await?;
        self.check_offer_rights(actor, &c, producer_id).await?;
        let earlier = order_cycle::Entity::find()
            .filter(order_cycle::Column::MarketId.eq(c.market_id))
            .filter(order_cycle::Column::OpensAt.lt(c.opens_at))
            .order_by_desc(order_cycle::Column::OpensAt)
            .all(self.db())
            .await?;
        let mut previous = Vec::new();
        for e in earlier {
            previous = offer::Entity::find()
                .filter(offer::Column::CycleId.eq(e.id))
                .filter(offer::Column::ProducerId.eq(producer_id))
                .filter(offer::Column::WithdrawnAt.is_null())
                .all(self.db())
                .await?;
            if !previous.is_empty() {
                break;
            }
        }
        if previous.is_empty() {
            return Err(StoreError::conflict(
                "no_previous_offer",
                "this producer had no offer in an earlier cycle of this market",
            ));
        }
        let current = self.producer_offers(cycle_id, producer_id).await?;
        let mut inputs: Vec<OfferInput> = current
            .iter()
            .map(|o| OfferInput {
                product_id: o.product_id,
                price: Some(o.pricing.price),
                stock: o.stock_total,
            })
            .collect();
        let active: HashSet<i64> = product::Entity::find()
            .filter(product::Column::ProducerId.eq(producer_id))
            .filter(product::Column::Active.eq(true))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        // An offer withdrawn in this cycle stays withdrawn: copying is not listing it again.
        let withdrawn: HashSet<i64> = offer::Entity::find()
            .filter(offer::Column::CycleId.eq(cycle_id))
            .filter(offer::Column::ProducerId.eq(producer_id))
            .filter(offer::Column::WithdrawnAt.is_not_null())
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| o.product_id)
            .collect();
        for p in previous {
            if active.contains(&p.product_id)
                && !withdrawn.contains(&p.product_id)
                && !inputs.iter().any(|i| i.product_id == p.product_id)
            {
                inputs.push(OfferInput {
                    product_id: p.product_id,
                    price: Some(Money::from_cents(p.price_cents)),
                    stock: Quantity::from_milli(p.stock_total_milli),
                });
            }
        }
        self.set_offers(actor, cycle_id, producer_id, inputs).await
    }
}

/// Reads a cycle as it shows now, whoever asks: the row, its slots (by start time) and its
/// offers on sale, in six queries. Rights are the caller's.
pub(crate) async fn load_view(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(order_cycle::Model, CycleView), StoreError> {
    let c = order_cycle::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("cycle", id))?;
    let slots = distribution_slot::Entity::find()
        .filter(distribution_slot::Column::CycleId.eq(id))
        .order_by_asc(distribution_slot::Column::StartsAt)
        .order_by_asc(distribution_slot::Column::Id)
        .all(db)
        .await?;
    // Withdrawn offers are not on sale: not shown (their orders still are).
    let offers = offer::Entity::find()
        .filter(offer::Column::CycleId.eq(id))
        .filter(offer::Column::WithdrawnAt.is_null())
        .all(db)
        .await?;
    let view = CycleView {
        cycle: summary(&c, now)?,
        slots: load_slots(db, slots).await?,
        offers: load_offers(db, offers).await?,
    };
    Ok((c, view))
}

async fn insert_slot(
    db: &impl ConnectionTrait,
    c: &order_cycle::Model,
    slot: &NewSlot,
) -> Result<distribution_slot::Model, StoreError> {
    check_slot_times(slot, c.closes_at)?;
    let point = pickup_point::Entity::find_by_id(slot.pickup_point_id)
        .one(db)
        .await?
        .filter(|p| p.market_id == c.market_id)
        .ok_or_else(|| {
            StoreError::invalid(
                "unknown_pickup_point",
                format!(
                    "pickup point {} is not one of this market's",
                    slot.pickup_point_id
                ),
            )
        })?;
    Ok(distribution_slot::ActiveModel {
        cycle_id: Set(c.id),
        pickup_point_id: Set(point.id),
        starts_at: Set(slot.starts_at),
        ends_at: Set(slot.ends_at),
        cancelled: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
