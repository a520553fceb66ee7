//! What the distribution crate computes from: a cycle's order lines, slots, weights and
//! check-outs, loaded with a fixed number of queries whatever the size of the cycle; and the
//! writes that happen after a cycle closes (real weights, baskets checked out at the point).

use std::collections::HashMap;

use chrono::Utc;
use distribution::{
    BasketState, Collection, CycleInfo, DistributionSheet, LineRow, Payment, PaymentMethod,
    PickingList, SlotInfo, VariableWeight,
};
use domain::{CycleState, Money, Quantity, effective_state};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr, Statement,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Actor, Role, Store, StoreError,
    catalogue::{corrupt, unit_of, vat_of},
    cycles::stored_state,
    entities::{
        distribution_slot, line_weight, market, order, order_cycle, order_line, payment,
        pickup_point,
    },
    orders::numbered,
    rights,
};

/// Everything a cycle's lists and sheets are computed from.
#[derive(Clone, Debug)]
pub struct CycleData {
    /// The cycle, with its market's name and time zone.
    pub cycle: CycleInfo,
    /// The market running it.
    pub market_id: i64,
    /// Its slots, by start time.
    pub slots: Vec<SlotInfo>,
    /// The lines of its placed orders.
    pub lines: Vec<LineRow>,
    /// What happened to each basket at the pickup point.
    pub states: Vec<BasketState>,
}

/// A payment made at the pickup point, to record once whatever the number of tries.
#[derive(Clone, Debug)]
pub struct NewPayment {
    /// How it was paid.
    pub method: PaymentMethod,
    /// How much, VAT included.
    pub amount: Money,
    /// The client's key for this payment (the `Idempotency-Key` header): a check-out sent
    /// again with the same key records nothing more. Required: [`Store::check_out`] refuses a
    /// payment without one (after checking who asks), so that no retry can pay twice.
    pub idempotency_key: Option<String>,
}

/// A recorded payment, with its correction if it was voided.
#[derive(Clone, Debug)]
pub struct PaymentView {
    /// Id.
    pub id: i64,
    /// The basket.
    pub order_id: i64,
    /// How it was paid.
    pub method: PaymentMethod,
    /// How much.
    pub amount: Money,
    /// Who recorded it.
    pub recorded_by: i64,
    /// When.
    pub recorded_at: chrono::DateTime<Utc>,
    /// When it was voided, if it was.
    pub voided_at: Option<chrono::DateTime<Utc>>,
    /// Who voided it.
    pub voided_by: Option<i64>,
    /// Why.
    pub void_reason: Option<String>,
}

fn payment_view(p: payment::Model) -> Result<PaymentView, StoreError> {
    Ok(PaymentView {
        id: p.id,
        order_id: p.order_id,
        method: p
            .method
            .parse()
            .map_err(|_| corrupt("payment method", &p.method))?,
        amount: Money::from_cents(p.amount_cents),
        recorded_by: p.recorded_by,
        recorded_at: p.recorded_at,
        voided_at: p.voided_at,
        voided_by: p.voided_by,
        void_reason: p.void_reason,
    })
}

/// Which lines to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineFilter {
    /// Only this producer's lines.
    pub producer_id: Option<i64>,
    /// Only baskets collected at this slot.
    pub slot_id: Option<i64>,
}

/// A cycle's lines as numbers only, read by column index: the names come from the product,
/// producer and account tables, loaded once each (60,000 lines name only a few thousand rows).
/// Unit, variable weight and estimated weight are the line's own (what it was sold on), never
/// the product's as it is now.
const LINES_SQL: &str = "SELECT o.id, o.account_id, o.slot_id, l.id, l.offer_id, f.product_id, f.producer_id, \
    l.quantity_milli, l.unit_price_cents, l.vat_basis_points, l.kg_price_cents, f.price_cents, \
    l.unit, l.variable_weight, l.estimated_weight_milli \
    FROM orders o \
    JOIN order_lines l ON l.order_id = o.id \
    JOIN offers f ON f.id = l.offer_id \
    WHERE o.cycle_id = ? AND o.status = 'placed'";

impl Store {
    /// Loads a cycle's data in six queries: cycle and market, slots with their points, every
    /// line with its order, consumer, offer, product and producer, the real weights, the
    /// check-outs and the payments.
    pub async fn cycle_data(
        &self,
        cycle_id: i64,
        filter: LineFilter,
    ) -> Result<CycleData, StoreError> {
        let db = self.db();
        let c = self.cycle_row(db, cycle_id).await?;
        let m = market::Entity::find_by_id(c.market_id)
            .one(db)
            .await?
            .ok_or_else(|| corrupt("cycle's market", c.market_id))?;
        let timezone = market_timezone(&m)?;
        let cycle = CycleInfo {
            id: c.id,
            name: c.name.clone(),
            market_name: m.name,
            timezone,
            opens_at: c.opens_at,
            closes_at: c.closes_at,
        };
        let slot_rows = distribution_slot::Entity::find()
            .find_also_related(pickup_point::Entity)
            .filter(distribution_slot::Column::CycleId.eq(cycle_id))
            .order_by_asc(distribution_slot::Column::StartsAt)
            .order_by_asc(distribution_slot::Column::Id)
            .all(db)
            .await?;
        let slots = slot_rows
            .into_iter()
            .map(|(s, p)| {
                let p = p.ok_or_else(|| corrupt("slot's pickup point", s.pickup_point_id))?;
                Ok(SlotInfo {
                    slot_id: s.id,
                    pickup_point_id: p.id,
                    pickup_point_name: p.name,
                    address: format!("{}, {} {}", p.address, p.postal_code, p.city),
                    starts_at: s.starts_at,
                    ends_at: s.ends_at,
                    cancelled: s.cancelled,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let backend = db.get_database_backend();
        let mut sql = LINES_SQL.to_owned();
        let mut values: Vec<sea_orm::Value> = vec![cycle_id.into()];
        if let Some(p) = filter.producer_id {
            sql.push_str(" AND f.producer_id = ?");
            values.push(p.into());
        }
        if let Some(s) = filter.slot_id {
            sql.push_str(" AND o.slot_id = ?");
            values.push(s.into());
        }
        sql.push_str(" ORDER BY l.id");
        // The names, each table read once, selected by the cycle rather than by a list of
        // thousands of ids; every query runs at once, on as many connections.
        let in_cycle = |sql: &str| {
            Statement::from_sql_and_values(backend, numbered(backend, sql), [cycle_id.into()])
        };
        let (rows, product_rows, producer_rows, account_rows, weights, orders, paid) = tokio::try_join!(
            db.query_all_raw(Statement::from_sql_and_values(backend, numbered(backend, &sql), values)),
            db.query_all_raw(in_cycle(
                "SELECT id, name FROM products \
                 WHERE id IN (SELECT product_id FROM offers WHERE cycle_id = ?)",
            )),
            db.query_all_raw(in_cycle(
                "SELECT id, name FROM producers WHERE id IN (SELECT producer_id FROM offers WHERE cycle_id = ?)",
            )),
            db.query_all_raw(in_cycle(
                "SELECT id, name, phone FROM accounts WHERE id IN (SELECT account_id FROM orders WHERE cycle_id = ?)",
            )),
            self.weights_of_cycle(cycle_id),
            db.query_all_raw(in_cycle(
                "SELECT id, collection FROM orders WHERE cycle_id = ? AND status = 'placed' ORDER BY id",
            )),
            payment::Entity::find()
                .filter(payment::Column::VoidedAt.is_null())
                .filter(
                    payment::Column::OrderId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(order::Column::Id)
                            .from(order::Entity)
                            .and_where(Expr::col(order::Column::CycleId).eq(cycle_id))
                            .to_owned(),
                    ),
                )
                .order_by_asc(payment::Column::Id)
                .all(db),
        )?;
        struct Raw {
            order_id: i64,
            account_id: i64,
            slot_id: i64,
            line_id: i64,
            offer_id: i64,
            product_id: i64,
            producer_id: i64,
            quantity_milli: i64,
            unit_price_cents: i64,
            vat_basis_points: i32,
            kg_price_cents: Option<i64>,
            offer_price_cents: i64,
            unit: String,
            variable_weight: bool,
            estimated_weight_milli: Option<i64>,
        }
        let raws = rows
            .iter()
            .map(|r| {
                Ok(Raw {
                    order_id: r.try_get_by_index(0)?,
                    account_id: r.try_get_by_index(1)?,
                    slot_id: r.try_get_by_index(2)?,
                    line_id: r.try_get_by_index(3)?,
                    offer_id: r.try_get_by_index(4)?,
                    product_id: r.try_get_by_index(5)?,
                    producer_id: r.try_get_by_index(6)?,
                    quantity_milli: r.try_get_by_index(7)?,
                    unit_price_cents: r.try_get_by_index(8)?,
                    vat_basis_points: r.try_get_by_index(9)?,
                    kg_price_cents: r.try_get_by_index(10)?,
                    offer_price_cents: r.try_get_by_index(11)?,
                    unit: r.try_get_by_index(12)?,
                    variable_weight: r.try_get_by_index(13)?,
                    estimated_weight_milli: r.try_get_by_index(14)?,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        drop(rows);
        let mut products = HashMap::new();
        for r in product_rows {
            let id: i64 = r.try_get_by_index(0)?;
            let name: String = r.try_get_by_index(1)?;
            products.insert(id, name);
        }
        let mut producers: HashMap<i64, String> = HashMap::new();
        for r in producer_rows {
            producers.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
        }
        let mut accounts: HashMap<i64, (String, Option<String>)> = HashMap::new();
        for r in account_rows {
            accounts.insert(
                r.try_get_by_index(0)?,
                (r.try_get_by_index(1)?, r.try_get_by_index(2)?),
            );
        }

        let mut lines = Vec::with_capacity(raws.len());
        for r in raws {
            let product_name = products
                .get(&r.product_id)
                .ok_or_else(|| corrupt("line's product", r.product_id))?;
            let (consumer_name, consumer_phone) = accounts
                .get(&r.account_id)
                .cloned()
                .ok_or_else(|| corrupt("order's account", r.account_id))?;
            lines.push(LineRow {
                order_id: r.order_id,
                consumer_id: r.account_id,
                consumer_name,
                consumer_phone,
                slot_id: r.slot_id,
                line_id: r.line_id,
                offer_id: r.offer_id,
                product_id: r.product_id,
                product_name: product_name.clone(),
                producer_id: r.producer_id,
                producer_name: producers.get(&r.producer_id).cloned().unwrap_or_default(),
                unit: unit_of(&r.unit)?,
                quantity: Quantity::from_milli(r.quantity_milli),
                unit_price: Money::from_cents(r.unit_price_cents),
                vat: vat_of(r.vat_basis_points)?,
                variable_weight: match (r.variable_weight, r.estimated_weight_milli) {
                    (true, Some(est)) => Some(VariableWeight {
                        estimated_kg: Quantity::from_milli(est),
                        price_per_kg: Money::from_cents(
                            r.kg_price_cents.unwrap_or(r.offer_price_cents),
                        ),
                        actual_kg: weights.get(&r.line_id).cloned().unwrap_or_default(),
                    }),
                    _ => None,
                },
            });
        }

        let mut payments: HashMap<i64, Vec<Payment>> = HashMap::new();
        for p in paid {
            let method: PaymentMethod = p
                .method
                .parse()
                .map_err(|_| corrupt("payment method", &p.method))?;
            payments.entry(p.order_id).or_default().push(Payment {
                id: p.id,
                method,
                amount: Money::from_cents(p.amount_cents),
            });
        }
        let mut states = Vec::with_capacity(orders.len());
        for o in orders {
            let id: i64 = o.try_get_by_index(0)?;
            let collection: String = o.try_get_by_index(1)?;
            let collection: Collection = collection
                .parse()
                .map_err(|_| corrupt("collection", &collection))?;
            states.push(BasketState {
                order_id: id,
                collection,
                payments: payments.remove(&id).unwrap_or_default(),
            });
        }
        states.sort_by_key(|s| s.order_id);
        Ok(CycleData {
            cycle,
            market_id: c.market_id,
            slots,
            lines,
            states,
        })
    }

    async fn weights_of_cycle(
        &self,
        cycle_id: i64,
    ) -> Result<HashMap<i64, Vec<Quantity>>, sea_orm::DbErr> {
        let backend = self.db().get_database_backend();
        let sql = numbered(
            backend,
            "SELECT w.order_line_id, w.weight_milli FROM line_weights w \
             JOIN order_lines l ON l.id = w.order_line_id JOIN orders o ON o.id = l.order_id \
             WHERE o.cycle_id = ? ORDER BY w.order_line_id, w.piece",
        );
        let rows = self
            .db()
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [cycle_id.into()],
            ))
            .await?;
        let mut weights: HashMap<i64, Vec<Quantity>> = HashMap::new();
        for r in rows {
            let line: i64 = r.try_get("", "order_line_id")?;
            let w: i64 = r.try_get("", "weight_milli")?;
            weights
                .entry(line)
                .or_default()
                .push(Quantity::from_milli(w));
        }
        Ok(weights)
    }

    /// Who may read a cycle's picking lists: a producer its own; the market's coordinators and
    /// volunteers, and admins, everyone's. Returns the producer to restrict to.
    fn picking_scope(
        actor: &Actor,
        market_id: i64,
        asked: Option<i64>,
    ) -> Result<Option<i64>, StoreError> {
        if rights::is_staff(actor, market_id) {
            return Ok(asked);
        }
        match (actor.role, actor.producer_id, asked) {
            (Role::Producer, Some(own), None) => Ok(Some(own)),
            (Role::Producer, Some(own), Some(p)) if p == own => Ok(Some(own)),
            _ => Err(StoreError::forbidden(
                "you can only see your own picking list",
            )),
        }
    }

    /// The picking lists of a cycle: every producer's for the market's staff, or one producer's.
    pub async fn picking_lists(
        &self,
        actor: &Actor,
        cycle_id: i64,
        producer_id: Option<i64>,
    ) -> Result<(CycleInfo, Vec<PickingList>), StoreError> {
        let c = self.cycle_row(self.db(), cycle_id).await?;
        let scope = Self::picking_scope(actor, c.market_id, producer_id)?;
        // A producer sees its picking list only in the markets it sells through.
        if let (Some(p), false) = (scope, rights::is_staff(actor, c.market_id))
            && !self.producer_in_market(p, c.market_id).await?
        {
            return Err(StoreError::not_found("cycle", cycle_id));
        }
        let data = self
            .cycle_data(
                cycle_id,
                LineFilter {
                    producer_id: scope,
                    slot_id: None,
                },
            )
            .await?;
        // Some 140 ms for a large cycle's lists: off the async threads, behind the CPU gate.
        self.cpu
            .run(move || {
                let lists = match scope {
                    Some(p) => distribution::picking_list(&data.cycle, &data.slots, &data.lines, p)
                        .into_iter()
                        .collect(),
                    None => distribution::picking_lists(&data.cycle, &data.slots, &data.lines),
                };
                (data.cycle, lists)
            })
            .await
    }

    /// The distribution sheets of a cycle (every slot, or one), for the market's staff.
    pub async fn distribution_sheets(
        &self,
        actor: &Actor,
        cycle_id: i64,
        slot_id: Option<i64>,
    ) -> Result<Vec<DistributionSheet>, StoreError> {
        let c = self.cycle_row(self.db(), cycle_id).await?;
        if !rights::is_staff(actor, c.market_id) {
            return Err(StoreError::forbidden(
                "distribution sheets are for the market's coordinators and volunteers",
            ));
        }
        let data = self
            .cycle_data(
                cycle_id,
                LineFilter {
                    producer_id: None,
                    slot_id,
                },
            )
            .await?;
        self.cpu
            .run(move || match slot_id {
                Some(s) => distribution::distribution_sheet(
                    &data.cycle,
                    &data.slots,
                    &data.lines,
                    &data.states,
                    s,
                )
                .into_iter()
                .collect(),
                None => distribution::distribution_sheets(
                    &data.cycle,
                    &data.slots,
                    &data.lines,
                    &data.states,
                ),
            })
            .await
    }

    /// The cycle a slot belongs to.
    pub async fn slot_cycle(&self, slot_id: i64) -> Result<i64, StoreError> {
        distribution_slot::Entity::find_by_id(slot_id)
            .one(self.db())
            .await?
            .map(|s| s.cycle_id)
            .ok_or_else(|| StoreError::not_found("slot", slot_id))
    }

    /// Records the real weight of each piece of a variable-weight line, after harvest (the
    /// line's producer, or the market's coordinators). Replaces earlier weights of the line.
    pub async fn record_weights(
        &self,
        actor: &Actor,
        line_id: i64,
        weights: Vec<Quantity>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let line = order_line::Entity::find_by_id(line_id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::not_found("order line", line_id))?;
        let o = order::Entity::find_by_id(line.order_id)
            .one(db)
            .await?
            .ok_or_else(|| corrupt("line's order", line.order_id))?;
        let offer = crate::entities::offer::Entity::find_by_id(line.offer_id)
            .find_also_related(crate::entities::product::Entity)
            .one(db)
            .await?
            .ok_or_else(|| corrupt("line's offer", line.offer_id))?;
        let (offer, product) = (
            offer.0,
            offer
                .1
                .ok_or_else(|| corrupt("offer's product", line.offer_id))?,
        );
        let c = self.cycle_row(db, o.cycle_id).await?;
        if !rights::may_record_weights(actor, offer.producer_id, c.market_id) {
            // Who sees the basket (its consumer, a volunteer) is told no; anyone else, not found.
            return Err(if rights::may_read_order(actor, &o, c.market_id) {
                StoreError::forbidden(
                    "weights are recorded by the line's producer or the market's coordinators",
                )
            } else {
                StoreError::not_found("order line", line_id)
            });
        }
        if !line.variable_weight {
            return Err(StoreError::invalid(
                "not_variable_weight",
                format!("{} is not sold at a variable weight", product.name),
            ));
        }
        if o.status != "placed" {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        ensure_closed(
            &c,
            "weights are recorded after the cycle closes, once quantities are final",
        )?;
        if crate::entities::receipt::Entity::find()
            .filter(crate::entities::receipt::Column::OrderId.eq(o.id))
            .one(db)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                "receipt_issued",
                "this basket's receipt is issued: its weights are final",
            ));
        }
        let pieces = usize::try_from(line.quantity_milli / 1000).unwrap_or(0);
        if weights.len() != pieces {
            return Err(StoreError::invalid(
                "wrong_piece_count",
                format!("this line has {pieces} pieces: give one weight for each"),
            ));
        }
        if let Some(w) = weights.iter().find(|w| w.is_zero() || w.milli() > 100_000) {
            return Err(StoreError::invalid(
                "invalid_weight",
                format!("{w} kg is not a plausible weight for one piece"),
            ));
        }
        let w = self.write().await?;
        let kg = |q: &[i64]| match q {
            [] => "—".to_owned(),
            q => q
                .iter()
                .map(|m| format!("{} kg", crate::audit::quantity(*m)))
                .collect::<Vec<_>>()
                .join(" + "),
        };
        let before: Vec<i64> = line_weight::Entity::find()
            .filter(line_weight::Column::OrderLineId.eq(line_id))
            .order_by_asc(line_weight::Column::Piece)
            .all(&w.tx)
            .await?
            .into_iter()
            .map(|l| l.weight_milli)
            .collect();
        let after: Vec<i64> = weights.iter().map(|q| q.milli()).collect();
        crate::audit::record(
            &w.tx,
            actor,
            c.market_id,
            crate::audit::kind::WEIGHT,
            format!("{}, basket {}", product.name, o.id),
            format!("{} → {}", kg(&before), kg(&after)),
        )
        .await?;
        line_weight::Entity::delete_many()
            .filter(line_weight::Column::OrderLineId.eq(line_id))
            .exec(&w.tx)
            .await?;
        let now = Utc::now();
        let rows = weights
            .iter()
            .enumerate()
            .map(|(i, q)| line_weight::ActiveModel {
                order_line_id: Set(line_id),
                piece: Set(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                weight_milli: Set(q.milli()),
                recorded_at: Set(now),
            });
        line_weight::Entity::insert_many(rows)
            .exec_without_returning(&w.tx)
            .await?;
        // The last piece of the basket weighed: its consumer learns the final amount.
        crate::mail::notices::enqueue_final_amount(&w.tx, c.market_id, &o).await?;
        w.commit().await?;
        Ok(())
    }

    /// Checks a basket out at the pickup point (the market's coordinators and volunteers):
    /// collected or not, and a payment on the spot if one was made. Idempotent: the collection
    /// state is set, not toggled, and a payment whose key was already recorded for this basket
    /// is not recorded again (the same key with another payment is refused).
    pub async fn check_out(
        &self,
        actor: &Actor,
        order_id: i64,
        collection: Collection,
        paid: Option<NewPayment>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let (o, market_id) = self.visible_order(db, actor, order_id).await?;
        if !rights::may_check_out(actor, market_id) {
            return Err(StoreError::forbidden(
                "baskets are checked out by the market's coordinators and volunteers",
            ));
        }
        let c = self.cycle_row(db, o.cycle_id).await?;
        if o.status != "placed" {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        ensure_closed(&c, "baskets are checked out once the cycle has closed")?;
        if let Some(p) = &paid
            && (p.amount.cents() <= 0 || p.amount.cents() > 1_000_000)
        {
            return Err(StoreError::invalid(
                "invalid_amount",
                "a payment is between 0.01 and 10000.00 €",
            ));
        }
        if paid.as_ref().is_some_and(|p| p.idempotency_key.is_none()) {
            return Err(StoreError::invalid(
                "idempotency_key_required",
                "a check-out with a payment needs an Idempotency-Key header, so that a retry records it once",
            ));
        }
        if let Some(p) = &paid
            && self.payment_recorded(self.db(), order_id, p).await?
        {
            return Ok(());
        }
        // Collected: the basket's receipt is issued in this transaction (its total read now).
        let receipt_total = match collection {
            Collection::Collected => self.receipt_total_for_checkout(&o).await?,
            _ => None,
        };
        let now = Utc::now();
        let w = self.write().await?;
        if let Some(p) = &paid
            && self.payment_recorded(&w.tx, order_id, p).await?
        {
            return Ok(());
        }
        let mut detail = format!("{} → {}", o.collection, collection.as_str());
        if let Some(p) = &paid {
            detail.push_str(&format!(
                ", {} {} €",
                p.method.as_str(),
                crate::audit::euros(p.amount.cents())
            ));
        }
        crate::audit::record(
            &w.tx,
            actor,
            market_id,
            crate::audit::kind::CHECKOUT,
            format!("basket {order_id}"),
            detail,
        )
        .await?;
        let basket = o.clone();
        let mut m: order::ActiveModel = o.into();
        m.collection = Set(collection.as_str().to_owned());
        m.checked_at = Set(Some(now));
        m.checked_by = Set(Some(actor.account_id));
        m.update(&w.tx).await?;
        if let Some(p) = &paid {
            let inserted = payment::ActiveModel {
                order_id: Set(order_id),
                method: Set(p.method.as_str().to_owned()),
                amount_cents: Set(p.amount.cents()),
                recorded_by: Set(actor.account_id),
                recorded_at: Set(now),
                idempotency_key: Set(p.idempotency_key.clone()),
                ..Default::default()
            }
            .insert(&w.tx)
            .await;
            match inserted {
                Ok(_) => {}
                // The same retry, committed by another request (or node) meanwhile.
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    drop(w);
                    return match self.payment_recorded(self.db(), order_id, p).await? {
                        true => Ok(()),
                        false => Err(StoreError::Db(e)),
                    };
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(total) = receipt_total {
            self.issue_receipt_in(&w.tx, &basket, market_id, actor.account_id, total)
                .await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Whether this payment's key is already recorded for the basket (a retry); the same key
    /// with another method or amount is refused.
    async fn payment_recorded(
        &self,
        db: &impl ConnectionTrait,
        order_id: i64,
        p: &NewPayment,
    ) -> Result<bool, StoreError> {
        let Some(saved) = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(order_id))
            .filter(payment::Column::IdempotencyKey.eq(p.idempotency_key.as_deref()))
            .one(db)
            .await?
        else {
            return Ok(false);
        };
        if saved.method != p.method.as_str() || saved.amount_cents != p.amount.cents() {
            return Err(StoreError::invalid(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different payment",
            ));
        }
        Ok(true)
    }

    /// Voids a payment recorded by mistake (the market's coordinators and volunteers). The
    /// payment is kept, with who voided it, when and why; the lists no longer count it.
    pub async fn void_payment(
        &self,
        actor: &Actor,
        payment_id: i64,
        reason: &str,
    ) -> Result<PaymentView, StoreError> {
        let db = self.db();
        let not_found = || StoreError::not_found("payment", payment_id);
        let p = payment::Entity::find_by_id(payment_id)
            .one(db)
            .await?
            .ok_or_else(not_found)?;
        let o = order::Entity::find_by_id(p.order_id)
            .one(db)
            .await?
            .ok_or_else(|| corrupt("payment's order", p.order_id))?;
        let c = self.cycle_row(db, o.cycle_id).await?;
        if !crate::rights::may_check_out(actor, c.market_id) {
            return Err(not_found());
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(StoreError::invalid(
                "invalid_field",
                "reason is required and at most 500 characters long",
            ));
        }
        let now = Utc::now();
        let w = self.write().await?;
        let voided = payment::Entity::update_many()
            .col_expr(payment::Column::VoidedAt, Expr::val(now))
            .col_expr(payment::Column::VoidedBy, Expr::val(actor.account_id))
            .col_expr(payment::Column::VoidReason, Expr::val(reason))
            .filter(payment::Column::Id.eq(payment_id))
            .filter(payment::Column::VoidedAt.is_null())
            .exec(&w.tx)
            .await?;
        if voided.rows_affected != 1 {
            return Err(StoreError::conflict(
                "payment_voided",
                "this payment was already voided",
            ));
        }
        let p = payment::Entity::find_by_id(payment_id)
            .one(&w.tx)
            .await?
            .ok_or_else(not_found)?;
        crate::audit::record(
            &w.tx,
            actor,
            c.market_id,
            crate::audit::kind::CHECKOUT,
            format!("basket {}, payment {payment_id}", o.id),
            format!(
                "{} {} € voided: {reason}",
                p.method,
                crate::audit::euros(p.amount_cents)
            ),
        )
        .await?;
        w.commit().await?;
        payment_view(p)
    }
}

/// A market's time zone, as stored.
pub(crate) fn market_timezone(m: &market::Model) -> Result<chrono_tz::Tz, StoreError> {
    m.timezone
        .parse()
        .map_err(|_| corrupt("time zone", &m.timezone))
}

/// What happens after ordering (weighing, checking out) waits for the cycle to close.
pub(crate) fn ensure_closed(c: &order_cycle::Model, why: &str) -> Result<(), StoreError> {
    let window = domain::CycleWindow {
        opens_at: c.opens_at,
        closes_at: c.closes_at,
    };
    if effective_state(stored_state(c)?, &window, Utc::now()) == CycleState::Open {
        return Err(StoreError::conflict("cycle_open", why));
    }
    Ok(())
}
