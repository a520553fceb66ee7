//! Orders (baskets): place, modify and cancel, each one transaction together with the stock it
//! reserves or releases.
//!
//! Stock is decremented with a guarded `UPDATE ... SET stock_left = stock_left - q WHERE id = ?
//! AND stock_left >= q`, never with a read-then-write: the check and the write are one atomic
//! step, so two consumers racing for the last crate get one success and one "only N left".
//! Offers are always touched in ascending id order, so concurrent baskets cannot deadlock.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{
    BasketTotals, Money, PricedLine, ProductPricing, Quantity, RequestedLine, VatRate,
    basket_totals, modified_line_terms, validate_order_quantity, validate_requested_lines,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryFilter, QueryOrder, SqlErr, Statement,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Actor, SlotView, Store, StoreError,
    catalogue::{corrupt, pricing_of, producer_names, products_by_id, unit_of, vat_of},
    cycles::{check_accepts_orders, load_slots, slot_view},
    entities::{
        account, distribution_slot, idempotency_key, offer, order, order_cycle, order_line,
        pickup_point, product,
    },
    order_batch::Written,
    rights,
    sale_cache::CycleSale,
};

pub(crate) const PLACED: &str = "placed";
const CANCELLED: &str = "cancelled";

/// What a consumer asks for: a slot and exact quantities of offers.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    /// The distribution slot to collect the basket at.
    pub slot_id: i64,
    /// Offers and quantities (each offer once).
    pub lines: Vec<RequestedLine>,
}

/// A client-chosen key (the `Idempotency-Key` header) that makes a retried order creation
/// return the first answer instead of placing a second order.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub(crate) key: String,
    pub(crate) request_hash: String,
}

impl IdempotencyKey {
    /// Binds `key` to this request: the same key sent with another request is refused.
    pub fn new(
        key: String,
        cycle_id: i64,
        on_behalf_of: Option<i64>,
        request: &OrderRequest,
    ) -> Self {
        use sha2::{Digest, Sha256};
        let mut lines: Vec<(i64, i64)> = request
            .lines
            .iter()
            .map(|l| (l.offer_id, l.quantity.milli()))
            .collect();
        lines.sort_unstable();
        let canonical = format!("{cycle_id}|{on_behalf_of:?}|{}|{lines:?}", request.slot_id);
        Self {
            key,
            request_hash: hex::encode(Sha256::digest(canonical.as_bytes())),
        }
    }
}

/// The outcome of placing an order.
#[derive(Clone, Debug)]
pub enum Placed {
    /// A new order.
    Created(OrderView),
    /// The order an earlier request with the same idempotency key created.
    Replayed(OrderView),
}

/// One line of a basket.
#[derive(Clone, Debug)]
pub struct OrderLineView {
    /// The offer ordered.
    pub offer_id: i64,
    /// Its product.
    pub product_id: i64,
    /// The product's name.
    pub product_name: String,
    /// Who sells it.
    pub producer_id: i64,
    /// The producer's name.
    pub producer_name: String,
    /// The product's pricing (unit; estimated weight for variable-weight pieces).
    pub pricing: ProductPricing,
    /// Quantity ordered, in the product's unit.
    pub quantity: Quantity,
    /// Price of one unit incl. VAT when the line was added (estimated for variable weight).
    pub unit_price: Money,
    /// VAT rate.
    pub vat: VatRate,
    /// The line's total, from [`domain::basket_totals`].
    pub total: Money,
}

/// A basket with its lines and totals.
#[derive(Clone, Debug)]
pub struct OrderView {
    /// Id.
    pub id: i64,
    /// The cycle.
    pub cycle_id: i64,
    /// The consumer whose basket it is.
    pub account_id: i64,
    /// The consumer's name.
    pub consumer_name: String,
    /// Who placed it (the consumer, or a mediator on their behalf).
    pub placed_by: i64,
    /// Who last changed or cancelled it (the consumer, a coordinator, an admin); `None` while
    /// it is as placed.
    pub updated_by: Option<i64>,
    /// Where and when to collect it.
    pub slot: SlotView,
    /// `placed` or `cancelled`.
    pub status: String,
    /// Its lines, by producer then product.
    pub lines: Vec<OrderLineView>,
    /// Total and VAT breakdown.
    pub totals: BasketTotals,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An offer row with its product, as the order use cases need them.
#[derive(Clone)]
pub(crate) struct OfferInfo {
    offer: offer::Model,
    product: product::Model,
    pricing: ProductPricing,
    producer_name: String,
}

/// `alias.col AS alias_col, ...` for every column of an entity, to read it back with
/// `Model::from_query_result(row, "alias_")` from a hand-written join.
pub(crate) fn columns<E: EntityTrait>(alias: &str) -> String {
    E::Column::iter()
        .map(|c| format!("{alias}.{0} AS {alias}_{0}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns `?` placeholders into PostgreSQL's `$1, $2, ...` (SQLite takes `?` as it is).
pub(crate) fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// An order checked and priced, ready to write, with what its view needs.
pub(crate) struct Prepared {
    pub(crate) now: DateTime<Utc>,
    pub(crate) cycle_id: i64,
    pub(crate) consumer_id: i64,
    consumer_name: String,
    pub(crate) placed_by: i64,
    /// The bearer token of whoever places it, when not yet checked against the database
    /// ([`Actor::unconfirmed_token`]): the writer checks it in the batch's transaction.
    pub(crate) token: Option<String>,
    pub(crate) slot: SlotView,
    /// By ascending offer id: the order stock is locked in.
    pub(crate) lines: Vec<NewLine>,
}

pub(crate) struct NewLine {
    pub(crate) offer_id: i64,
    pub(crate) quantity_milli: i64,
    pub(crate) unit_price_cents: i64,
    pub(crate) vat_basis_points: i32,
    /// The price per kg, for a variable-weight line (repriced on the real weight).
    pub(crate) kg_price_cents: Option<i64>,
    /// What the line was priced and checked on, which the writer checks again.
    pub(crate) basis: OfferBasis,
    pub(crate) product_name: String,
    product_id: i64,
    producer_id: i64,
    producer_name: String,
    pricing: ProductPricing,
}

/// Everything about an offer that a basket's price or validity depends on. The order writer
/// reads it again under its lock and sends back any basket prepared on another one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OfferBasis {
    pub(crate) cycle_id: i64,
    pub(crate) price_cents: i64,
    pub(crate) unit: String,
    pub(crate) vat_basis_points: i32,
    pub(crate) step_milli: i64,
    pub(crate) variable_weight: bool,
    pub(crate) estimated_weight_milli: Option<i64>,
}

impl OfferBasis {
    fn of(o: &offer::Model, p: &product::Model) -> Self {
        Self {
            cycle_id: o.cycle_id,
            price_cents: o.price_cents,
            unit: p.unit.clone(),
            vat_basis_points: p.vat_basis_points,
            step_milli: p.step_milli,
            variable_weight: p.variable_weight,
            estimated_weight_milli: p.estimated_weight_milli,
        }
    }
}

impl Prepared {
    /// The view of the order just written, from what was read to write it: no second trip.
    fn view(self, order_id: i64) -> Result<OrderView, StoreError> {
        let mut lines = self
            .lines
            .into_iter()
            .map(|l| {
                Ok(OrderLineView {
                    offer_id: l.offer_id,
                    product_id: l.product_id,
                    product_name: l.product_name,
                    producer_id: l.producer_id,
                    producer_name: l.producer_name,
                    pricing: l.pricing,
                    quantity: Quantity::from_milli(l.quantity_milli),
                    unit_price: Money::from_cents(l.unit_price_cents),
                    vat: vat_of(l.vat_basis_points)?,
                    total: Money::ZERO,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let totals = price_lines(&mut lines);
        Ok(OrderView {
            id: order_id,
            cycle_id: self.cycle_id,
            account_id: self.consumer_id,
            consumer_name: self.consumer_name,
            placed_by: self.placed_by,
            updated_by: None,
            slot: self.slot,
            status: PLACED.to_owned(),
            lines,
            totals,
            created_at: self.now,
            updated_at: self.now,
        })
    }
}

/// What an order line is sold on: its price, VAT and price per kg, and the product's unit and
/// estimated weight as they were. Kept on the line, so that editing the product later does not
/// rewrite orders already placed.
#[derive(Clone, Debug)]
struct LineTerms {
    unit_price_cents: i64,
    vat_basis_points: i32,
    kg_price_cents: Option<i64>,
    unit: String,
    variable_weight: bool,
    estimated_weight_milli: Option<i64>,
}

impl LineTerms {
    fn of_line(l: &order_line::Model) -> Self {
        Self {
            unit_price_cents: l.unit_price_cents,
            vat_basis_points: l.vat_basis_points,
            kg_price_cents: l.kg_price_cents,
            unit: l.unit.clone(),
            variable_weight: l.variable_weight,
            estimated_weight_milli: l.estimated_weight_milli,
        }
    }

    /// The offer's terms now.
    fn current(info: &OfferInfo) -> Self {
        Self {
            unit_price_cents: info.pricing.unit_price().cents(),
            vat_basis_points: info.product.vat_basis_points,
            kg_price_cents: info
                .pricing
                .variable_weight
                .map(|_| info.pricing.price.cents()),
            unit: info.product.unit.clone(),
            variable_weight: info.product.variable_weight,
            estimated_weight_milli: info.product.estimated_weight_milli,
        }
    }
}

/// The pricing a line was sold on, from the line alone (not from the product as it is now):
/// the price is per kg for a variable-weight line, per unit otherwise.
pub(crate) fn line_pricing(l: &order_line::Model) -> Result<ProductPricing, StoreError> {
    let variable_weight = l
        .estimated_weight_milli
        .filter(|_| l.variable_weight)
        .map(Quantity::from_milli);
    let price = match (variable_weight, l.kg_price_cents) {
        (Some(_), Some(kg)) => kg,
        _ => l.unit_price_cents,
    };
    Ok(ProductPricing {
        unit: unit_of(&l.unit)?,
        price: Money::from_cents(price),
        vat: vat_of(l.vat_basis_points)?,
        variable_weight,
    })
}

/// Sorts a basket's lines for display and fills in their totals, through the one totals
/// function of the domain.
fn price_lines(lines: &mut [OrderLineView]) -> BasketTotals {
    lines.sort_by(|a, b| {
        (&a.producer_name, &a.product_name, a.offer_id).cmp(&(
            &b.producer_name,
            &b.product_name,
            b.offer_id,
        ))
    });
    let priced: Vec<PricedLine> = lines
        .iter()
        .map(|v| PricedLine {
            offer_id: v.offer_id,
            quantity: v.quantity,
            unit_price: v.unit_price,
            vat: v.vat,
        })
        .collect();
    let totals = basket_totals(&priced);
    for (v, t) in lines.iter_mut().zip(&totals.lines) {
        v.total = *t;
    }
    totals
}

fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A cycle's offers (all of them, or those of `ids`) with their products and producers' names,
/// in one query.
pub(crate) async fn offer_infos(
    db: &impl ConnectionTrait,
    cycle_id: i64,
    ids: Option<&[i64]>,
) -> Result<HashMap<i64, OfferInfo>, StoreError> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = vec![cycle_id.into()];
    let only = match ids {
        Some(ids) => {
            values.extend(ids.iter().map(|&id| sea_orm::Value::from(id)));
            format!(" AND o.id IN ({})", vec!["?"; ids.len()].join(", "))
        }
        None => String::new(),
    };
    let sql = numbered(
        backend,
        &format!(
            "SELECT {}, {}, pr.name AS producer_name FROM offers o \
             JOIN products p ON p.id = o.product_id JOIN producers pr ON pr.id = o.producer_id \
             WHERE o.cycle_id = ?{only}",
            columns::<offer::Entity>("o"),
            columns::<product::Entity>("p"),
        ),
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut infos = HashMap::with_capacity(rows.len());
    for row in rows {
        let o = offer::Model::from_query_result(&row, "o_")?;
        let p = product::Model::from_query_result(&row, "p_")?;
        let producer_name: String = row.try_get("", "producer_name")?;
        let pricing = pricing_of(&p, o.price_cents)?;
        infos.insert(
            o.id,
            OfferInfo {
                offer: o,
                product: p,
                pricing,
                producer_name,
            },
        );
    }
    Ok(infos)
}

/// Each line's offer is among `infos`, and its quantity fits the product's unit and step. An
/// offer withdrawn (by its producer, or with its product archived) sells nothing more: a
/// modified basket may keep or reduce what it already holds of it (`kept`: offer id to the
/// quantity in the basket, in thousandths), nothing else.
fn check_lines(
    infos: &HashMap<i64, OfferInfo>,
    lines: &[RequestedLine],
    kept: &HashMap<i64, i64>,
) -> Result<(), StoreError> {
    for l in lines {
        let info = infos.get(&l.offer_id).ok_or_else(|| {
            StoreError::invalid(
                "unknown_offer",
                format!("offer {} is not on sale in this cycle", l.offer_id),
            )
        })?;
        if (info.offer.withdrawn_at.is_some() || !info.product.active)
            && l.quantity.milli() > kept.get(&l.offer_id).copied().unwrap_or(0)
        {
            return Err(StoreError::invalid(
                "offer_withdrawn",
                format!("{} is no longer on sale in this cycle", info.product.name),
            ));
        }
        validate_order_quantity(
            info.pricing.unit,
            Quantity::from_milli(info.product.step_milli),
            l.quantity,
        )
        .map_err(|e| {
            StoreError::invalid("invalid_quantity", format!("{}: {e}", info.product.name))
        })?;
    }
    Ok(())
}

/// What a basket is checked against and priced from: its cycle, its slot, its offers.
struct Sale {
    market_id: i64,
    slot: SlotView,
    offers: HashMap<i64, OfferInfo>,
}

impl Sale {
    /// From the cache, when it can say yes; `None` sends the basket to the database.
    fn from_cache(sale: &CycleSale, request: &OrderRequest, now: DateTime<Utc>) -> Option<Self> {
        check_accepts_orders(&sale.cycle, now).ok()?;
        let slot = sale
            .slots
            .get(&request.slot_id)
            .filter(|s| !s.cancelled)?
            .clone();
        let mut offers = HashMap::with_capacity(request.lines.len());
        for l in &request.lines {
            offers.insert(l.offer_id, sale.offers.get(&l.offer_id)?.clone());
        }
        check_lines(&offers, &request.lines, &HashMap::new()).ok()?;
        Some(Self {
            market_id: sale.cycle.market_id,
            slot,
            offers,
        })
    }
}

impl Store {
    /// Loads and validates the offers a basket asks for, with their products and producers'
    /// names, in one query: they must belong to the cycle and be on sale (see [`check_lines`]
    /// for `kept`), and each quantity must fit its product's unit and step.
    async fn offers_for(
        &self,
        db: &impl ConnectionTrait,
        cycle_id: i64,
        lines: &[RequestedLine],
        kept: &HashMap<i64, i64>,
    ) -> Result<HashMap<i64, OfferInfo>, StoreError> {
        let ids: Vec<i64> = lines.iter().map(|l| l.offer_id).collect();
        let infos = offer_infos(db, cycle_id, Some(&ids)).await?;
        check_lines(&infos, lines, kept)?;
        Ok(infos)
    }

    /// The cycle takes orders now; a draft is not there at all for whoever may not see
    /// drafts (not even "not open yet", which would tell that it exists).
    async fn takes_orders(
        &self,
        actor: &Actor,
        c: &order_cycle::Model,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !crate::rights::may_read_cycle(self, Some(actor), c).await? {
            return Err(StoreError::not_found("cycle", c.id));
        }
        check_accepts_orders(c, now)
    }

    /// The cycle, and the slot if it is one of the cycle's distributions still taking baskets,
    /// with its pickup point, in one query. A closed cycle is said before an unknown slot
    /// (422 `unknown_slot`); a cancelled slot is a conflict (409 `slot_cancelled`).
    async fn cycle_and_slot(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        cycle_id: i64,
        slot_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(order_cycle::Model, SlotView), StoreError> {
        let backend = db.get_database_backend();
        let sql = numbered(
            backend,
            &format!(
                "SELECT {}, {}, {} FROM distribution_slots s \
                 JOIN order_cycles c ON c.id = s.cycle_id JOIN pickup_points p ON p.id = s.pickup_point_id \
                 WHERE s.id = ? AND s.cycle_id = ?",
                columns::<distribution_slot::Entity>("s"),
                columns::<order_cycle::Entity>("c"),
                columns::<pickup_point::Entity>("p"),
            ),
        );
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [slot_id.into(), cycle_id.into()],
            ))
            .await?;
        let unknown = || {
            StoreError::invalid(
                "unknown_slot",
                format!("slot {slot_id} is not a distribution of this cycle"),
            )
        };
        let Some(row) = row else {
            let c = self.cycle_row(db, cycle_id).await?;
            self.takes_orders(actor, &c, now).await?;
            return Err(unknown());
        };
        let s = distribution_slot::Model::from_query_result(&row, "s_")?;
        let c = order_cycle::Model::from_query_result(&row, "c_")?;
        let p = pickup_point::Model::from_query_result(&row, "p_")?;
        self.takes_orders(actor, &c, now).await?;
        if s.cancelled {
            // Said apart from an unknown slot: the consumer saw it, and must choose another.
            return Err(StoreError::conflict(
                "slot_cancelled",
                format!("the distribution of slot {slot_id} is cancelled: choose another slot"),
            ));
        }
        Ok((c, slot_view(s, &p)))
    }

    /// Reads and checks everything an order needs before anything is written: the cycle takes
    /// orders, the consumer (a mediator may order for someone), the slot, the offers and their
    /// quantities. From the sale cache when it can say yes (no query at all); otherwise, or when
    /// `fresh`, from the database in two queries, which also says what is wrong.
    async fn prepare_order(
        &self,
        actor: &Actor,
        cycle_id: i64,
        on_behalf_of: Option<i64>,
        request: &OrderRequest,
        fresh: bool,
    ) -> Result<Prepared, StoreError> {
        let now = Utc::now();
        let db = self.db();
        let cached = match fresh {
            true => None,
            false => self.sales.get(db, cycle_id).await,
        };
        let sale = match cached.and_then(|s| Sale::from_cache(&s, request, now)) {
            Some(sale) => sale,
            None => {
                let (c, slot) = self
                    .cycle_and_slot(db, actor, cycle_id, request.slot_id, now)
                    .await?;
                let offers = self
                    .offers_for(db, cycle_id, &request.lines, &HashMap::new())
                    .await?;
                Sale {
                    market_id: c.market_id,
                    slot,
                    offers,
                }
            }
        };
        let (consumer_id, consumer_name) = match on_behalf_of {
            Some(id) if id != actor.account_id => {
                if !rights::runs_market(actor, sale.market_id) {
                    return Err(StoreError::forbidden(
                        "only this market's coordinators can order for someone else",
                    ));
                }
                // Only a member of the market; anyone else is "not found", name and all.
                let a = account::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .filter(|a| rights::is_member(a, sale.market_id))
                    .ok_or_else(|| StoreError::not_found("account", id))?;
                (a.id, a.name)
            }
            _ => (actor.account_id, actor.name.clone()),
        };
        let mut infos = sale.offers;
        let mut lines = Vec::with_capacity(request.lines.len());
        for l in &request.lines {
            let info = infos
                .remove(&l.offer_id)
                .ok_or_else(|| corrupt("offer", l.offer_id))?;
            lines.push(NewLine {
                offer_id: l.offer_id,
                quantity_milli: l.quantity.milli(),
                unit_price_cents: info.pricing.unit_price().cents(),
                vat_basis_points: info.product.vat_basis_points,
                kg_price_cents: info
                    .pricing
                    .variable_weight
                    .map(|_| info.pricing.price.cents()),
                basis: OfferBasis::of(&info.offer, &info.product),
                product_id: info.product.id,
                producer_id: info.offer.producer_id,
                producer_name: info.producer_name,
                product_name: info.product.name,
                pricing: info.pricing,
            });
        }
        lines.sort_by_key(|l| l.offer_id);
        Ok(Prepared {
            now,
            cycle_id,
            consumer_id,
            consumer_name,
            placed_by: actor.account_id,
            token: actor.unconfirmed_token.clone(),
            slot: sale.slot,
            lines,
        })
    }

    /// Places an order for the actor, or for `on_behalf_of` when the actor coordinates the
    /// market (a mediator ordering for someone not at ease with computers).
    pub async fn place_order(
        &self,
        actor: &Actor,
        cycle_id: i64,
        on_behalf_of: Option<i64>,
        request: OrderRequest,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Placed, StoreError> {
        crate::ops::count_basket(
            self.place_order_uncounted(actor, cycle_id, on_behalf_of, request, idempotency)
                .await,
        )
    }

    /// [`Store::place_order`] before its outcome is counted (see `ops`).
    async fn place_order_uncounted(
        &self,
        actor: &Actor,
        cycle_id: i64,
        on_behalf_of: Option<i64>,
        request: OrderRequest,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Placed, StoreError> {
        validate_requested_lines(&request.lines)?;
        // A retried request (same Idempotency-Key) is recognised by the writer, in the batch's
        // transaction, and answered below with the first order; not looked up here, which would
        // cost every keyed basket a query. Only a basket that cannot be prepared any more (its
        // cycle closed since the first try, say) looks for its first answer before failing.
        let mut attempt = 0;
        let (prepared, written) = loop {
            let prepared = match self
                .prepare_order(actor, cycle_id, on_behalf_of, &request, attempt > 0)
                .await
            {
                Ok(prepared) => prepared,
                Err(e) => {
                    if let Some(idem) = &idempotency {
                        // Answered without the writer: check the token here.
                        self.confirm_actor(actor).await?;
                        if let Some(replay) = self.replay(actor, idem).await? {
                            return Ok(replay);
                        }
                    }
                    return Err(e);
                }
            };
            match self.writer.write(prepared, idempotency.clone()).await {
                // Prepared on something that changed meanwhile (a price, the cycle's state):
                // forget the cache and prepare it again from the database.
                Ok((_, Written::Stale)) if attempt < 2 => {
                    self.sales.changed();
                    attempt += 1;
                }
                Ok((_, Written::Stale)) => {
                    return Err(StoreError::conflict(
                        "sale_changed",
                        "this cycle's offers changed while the basket was being placed: please try again",
                    ));
                }
                // The writer told the cycle's readers of the stock it took (`read_cache`).
                Ok((prepared, written)) => break (Some(prepared), written),
                // Another node placed the same key between our look-up and our commit.
                Err(StoreError::Db(e)) if idempotency.is_some() && is_unique_violation(&e) => {
                    break (None, Written::DuplicateKey);
                }
                Err(e @ StoreError::Unauthenticated(_)) => {
                    // Logged out or revoked, maybe on another node: forget it here too.
                    if let Some(hash) = &actor.unconfirmed_token {
                        self.forget_token(hash);
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        };
        let order_id = match (prepared.as_ref(), written) {
            (Some(_), Written::Placed(id)) => id,
            _ => {
                // The same request was placed concurrently and won: answer with its order.
                let idem = idempotency
                    .as_ref()
                    .ok_or_else(|| corrupt("idempotency key", cycle_id))?;
                return self.replay(actor, idem).await?.ok_or_else(|| {
                    StoreError::conflict(
                        "idempotency_conflict",
                        "a request with this key is in progress",
                    )
                });
            }
        };
        let prepared = prepared.ok_or_else(|| corrupt("prepared order", order_id))?;
        Ok(Placed::Created(prepared.view(order_id)?))
    }

    async fn replay(
        &self,
        actor: &Actor,
        idem: &IdempotencyKey,
    ) -> Result<Option<Placed>, StoreError> {
        let Some(saved) = idempotency_key::Entity::find_by_id((actor.account_id, idem.key.clone()))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        if saved.request_hash != idem.request_hash {
            return Err(StoreError::invalid(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request",
            ));
        }
        let o = order::Entity::find_by_id(saved.order_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("idempotent order", saved.order_id))?;
        let view = self
            .order_views(vec![o])
            .await?
            .pop()
            .ok_or_else(|| corrupt("order", saved.order_id))?;
        Ok(Some(Placed::Replayed(view)))
    }

    /// The order row and its market, if the actor may see it (see [`rights::may_read_order`]).
    /// Anyone else gets 404, as if it did not exist.
    pub(crate) async fn visible_order(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        id: i64,
    ) -> Result<(order::Model, i64), StoreError> {
        let o = order::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::not_found("order", id))?;
        let market_id = self.cycle_row(db, o.cycle_id).await?.market_id;
        if rights::may_read_order(actor, &o, market_id) {
            Ok((o, market_id))
        } else {
            Err(StoreError::not_found("order", id))
        }
    }

    /// The order row, if the actor may change or cancel it (see [`rights::may_change_order`]):
    /// 404 for who may not see it, 403 for who may see it but not change it (volunteers).
    async fn changeable_order(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        id: i64,
    ) -> Result<order::Model, StoreError> {
        let (o, market_id) = self.visible_order(db, actor, id).await?;
        if !rights::may_change_order(actor, &o, market_id) {
            return Err(StoreError::forbidden(
                "only the consumer, or a coordinator of the market, can change this basket",
            ));
        }
        Ok(o)
    }

    /// One order, for someone allowed to see it.
    pub async fn order(&self, actor: &Actor, id: i64) -> Result<OrderView, StoreError> {
        let (o, _) = self.visible_order(self.db(), actor, id).await?;
        self.order_views(vec![o])
            .await?
            .pop()
            .ok_or_else(|| corrupt("order", id))
    }

    /// The actor's own orders, newest first (cancelled ones included).
    pub async fn my_orders(&self, actor: &Actor) -> Result<Vec<OrderView>, StoreError> {
        let rows = order::Entity::find()
            .filter(order::Column::AccountId.eq(actor.account_id))
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .all(self.db())
            .await?;
        self.order_views(rows).await
    }

    /// Replaces an order's lines and slot while its cycle is open. A line kept at the same
    /// quantity keeps everything it was sold on; a new line, or one whose quantity changes,
    /// takes the current price and product (`domain::modified_line_terms`). Stock moves by the
    /// difference.
    pub async fn modify_order(
        &self,
        actor: &Actor,
        id: i64,
        request: OrderRequest,
    ) -> Result<OrderView, StoreError> {
        validate_requested_lines(&request.lines)?;
        let w = self.write().await?;
        let now = Utc::now();
        let o = self.changeable_order(&w.tx, actor, id).await?;
        // Held until commit: a close of the cycle waits for this change, or this sees it below.
        self.cycle_row_shared(&w.tx, o.cycle_id).await?;
        let (_, slot) = self
            .cycle_and_slot(&w.tx, actor, o.cycle_id, request.slot_id, now)
            .await?;
        // Touch the order first: this takes its row lock, so two edits of one basket queue up.
        let touched = order::Entity::update_many()
            .col_expr(order::Column::UpdatedAt, Expr::val(now))
            .col_expr(order::Column::SlotId, Expr::val(slot.id))
            .col_expr(order::Column::UpdatedBy, Expr::val(actor.account_id))
            .filter(order::Column::Id.eq(id))
            .filter(order::Column::Status.eq(PLACED))
            .exec(&w.tx)
            .await?;
        if touched.rows_affected != 1 {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was cancelled",
            ));
        }
        let old: Vec<order_line::Model> = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(id))
            .all(&w.tx)
            .await?;
        let in_basket: HashMap<i64, i64> =
            old.iter().map(|l| (l.offer_id, l.quantity_milli)).collect();
        let infos = self
            .offers_for(&w.tx, o.cycle_id, &request.lines, &in_basket)
            .await?;
        let mut deltas: BTreeMap<i64, i64> = BTreeMap::new();
        for l in &old {
            *deltas.entry(l.offer_id).or_default() -= l.quantity_milli;
        }
        for l in &request.lines {
            *deltas.entry(l.offer_id).or_default() += l.quantity.milli();
        }
        deltas.retain(|_, d| *d != 0);
        // Stock before lines, as in place_order.
        let mut names: HashMap<i64, String> = infos
            .iter()
            .map(|(id, i)| (*id, i.product.name.clone()))
            .collect();
        for l in &old {
            names.entry(l.offer_id).or_default();
        }
        apply_stock_deltas_named(&w.tx, &deltas, &names).await?;
        let kept: HashMap<i64, &order_line::Model> = old.iter().map(|l| (l.offer_id, l)).collect();
        order_line::Entity::delete_many()
            .filter(order_line::Column::OrderId.eq(id))
            .exec(&w.tx)
            .await?;
        let rows: Vec<order_line::ActiveModel> = request
            .lines
            .iter()
            .map(|l| {
                let info = &infos[&l.offer_id];
                let terms = modified_line_terms(
                    kept.get(&l.offer_id).map(|k| {
                        (
                            Quantity::from_milli(k.quantity_milli),
                            LineTerms::of_line(k),
                        )
                    }),
                    l.quantity,
                    LineTerms::current(info),
                );
                order_line::ActiveModel {
                    order_id: Set(id),
                    offer_id: Set(l.offer_id),
                    quantity_milli: Set(l.quantity.milli()),
                    unit_price_cents: Set(terms.unit_price_cents),
                    vat_basis_points: Set(terms.vat_basis_points),
                    kg_price_cents: Set(terms.kg_price_cents),
                    unit: Set(terms.unit),
                    variable_weight: Set(terms.variable_weight),
                    estimated_weight_milli: Set(terms.estimated_weight_milli),
                    ..Default::default()
                }
            })
            .collect();
        order_line::Entity::insert_many(rows).exec(&w.tx).await?;
        crate::outbox::enqueue_for_orders(&w.tx, crate::outbox::kind::ORDER_CHANGED, &[id]).await?;
        w.commit().await?;
        self.shown.stock_moved(o.cycle_id);
        // A card hold follows the basket (see payments::intents).
        self.payments_after_change(id).await;
        self.order(actor, id).await
    }

    /// Cancels an order while its cycle is open and gives its stock back.
    pub async fn cancel_order(&self, actor: &Actor, id: i64) -> Result<(), StoreError> {
        let w = self.write().await?;
        let now = Utc::now();
        let o = self.changeable_order(&w.tx, actor, id).await?;
        // Held until commit: a close of the cycle waits for this cancel, or this cancel sees it.
        let c = self.cycle_row_shared(&w.tx, o.cycle_id).await?;
        check_accepts_orders(&c, now)?;
        let touched = order::Entity::update_many()
            .col_expr(order::Column::UpdatedAt, Expr::val(now))
            .col_expr(order::Column::Status, Expr::val(CANCELLED))
            .col_expr(order::Column::UpdatedBy, Expr::val(actor.account_id))
            .filter(order::Column::Id.eq(id))
            .filter(order::Column::Status.eq(PLACED))
            .exec(&w.tx)
            .await?;
        if touched.rows_affected != 1 {
            return Err(StoreError::conflict(
                "order_cancelled",
                "this order was already cancelled",
            ));
        }
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(id))
            .all(&w.tx)
            .await?;
        let deltas: BTreeMap<i64, i64> = lines
            .iter()
            .map(|l| (l.offer_id, -l.quantity_milli))
            .collect();
        apply_stock_deltas_named(&w.tx, &deltas, &HashMap::new()).await?;
        crate::outbox::enqueue_for_orders(&w.tx, crate::outbox::kind::ORDER_CANCELLED, &[id])
            .await?;
        w.commit().await?;
        self.shown.stock_moved(o.cycle_id);
        // A card hold is released (or a capture refunded) with the basket.
        self.payments_after_change(id).await;
        Ok(())
    }

    /// Builds full views of orders with a fixed number of queries, however many orders.
    pub(crate) async fn order_views(
        &self,
        orders: Vec<order::Model>,
    ) -> Result<Vec<OrderView>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db();
        let order_ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.is_in(order_ids))
            .order_by_asc(order_line::Column::Id)
            .all(db)
            .await?;
        let offer_ids: HashSet<i64> = lines.iter().map(|l| l.offer_id).collect();
        let offers: HashMap<i64, offer::Model> = offer::Entity::find()
            .filter(offer::Column::Id.is_in(offer_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        let products = products_by_id(db, offers.values().map(|o| o.product_id)).await?;
        let producers = producer_names(db, offers.values().map(|o| o.producer_id)).await?;
        let account_ids: HashSet<i64> = orders.iter().map(|o| o.account_id).collect();
        let consumers: HashMap<i64, String> = account::Entity::find()
            .filter(account::Column::Id.is_in(account_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let slot_ids: HashSet<i64> = orders.iter().map(|o| o.slot_id).collect();
        let slot_rows = distribution_slot::Entity::find()
            .filter(distribution_slot::Column::Id.is_in(slot_ids))
            .all(db)
            .await?;
        let slots: HashMap<i64, SlotView> = load_slots(db, slot_rows)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();

        let mut lines_by_order: HashMap<i64, Vec<order_line::Model>> = HashMap::new();
        for l in lines {
            lines_by_order.entry(l.order_id).or_default().push(l);
        }
        orders
            .into_iter()
            .map(|o| {
                let mut views = Vec::new();
                for l in lines_by_order.remove(&o.id).unwrap_or_default() {
                    let of = offers
                        .get(&l.offer_id)
                        .ok_or_else(|| corrupt("line's offer", l.offer_id))?;
                    let p = products
                        .get(&of.product_id)
                        .ok_or_else(|| corrupt("offer's product", of.product_id))?;
                    views.push(OrderLineView {
                        offer_id: l.offer_id,
                        product_id: p.id,
                        product_name: p.name.clone(),
                        producer_id: of.producer_id,
                        producer_name: producers.get(&of.producer_id).cloned().unwrap_or_default(),
                        pricing: line_pricing(&l)?,
                        quantity: Quantity::from_milli(l.quantity_milli),
                        unit_price: Money::from_cents(l.unit_price_cents),
                        vat: vat_of(l.vat_basis_points)?,
                        total: Money::ZERO,
                    });
                }
                let totals = price_lines(&mut views);
                Ok(OrderView {
                    id: o.id,
                    cycle_id: o.cycle_id,
                    account_id: o.account_id,
                    consumer_name: consumers.get(&o.account_id).cloned().unwrap_or_default(),
                    placed_by: o.placed_by,
                    updated_by: o.updated_by,
                    slot: slots
                        .get(&o.slot_id)
                        .cloned()
                        .ok_or_else(|| corrupt("order's slot", o.slot_id))?,
                    status: o.status,
                    lines: views,
                    totals,
                    created_at: o.created_at,
                    updated_at: o.updated_at,
                })
            })
            .collect()
    }
}

/// Moves stock by `delta` (thousandths; positive reserves, negative releases) for each offer,
/// in ascending offer id order. A reservation that does not fit fails the whole transaction.
async fn apply_stock_deltas_named(
    tx: &DatabaseTransaction,
    deltas: &BTreeMap<i64, i64>,
    names: &HashMap<i64, String>,
) -> Result<(), StoreError> {
    for (&offer_id, &delta) in deltas {
        if delta > 0 {
            let res = offer::Entity::update_many()
                .col_expr(
                    offer::Column::StockLeftMilli,
                    Expr::col(offer::Column::StockLeftMilli).sub(delta),
                )
                .filter(offer::Column::Id.eq(offer_id))
                .filter(offer::Column::StockLeftMilli.gte(delta))
                .exec(tx)
                .await?;
            if res.rows_affected != 1 {
                let left = offer::Entity::find_by_id(offer_id)
                    .one(tx)
                    .await?
                    .map_or(0, |o| o.stock_left_milli);
                return Err(StoreError::InsufficientStock {
                    offer_id,
                    product: names.get(&offer_id).cloned().unwrap_or_default(),
                    requested: Quantity::from_milli(delta),
                    available: Quantity::from_milli(left),
                });
            }
        } else if delta < 0 {
            // One statement either way. A withdrawn offer stays withdrawn: what a basket gives
            // back leaves its stock (ordered = total - left stays true), nothing comes back on
            // sale. Otherwise it goes back on sale, never above what was put on sale.
            let withdrawn = || Expr::col(offer::Column::WithdrawnAt).is_not_null();
            offer::Entity::update_many()
                .col_expr(
                    offer::Column::StockTotalMilli,
                    Expr::case(
                        withdrawn(),
                        Expr::col(offer::Column::StockTotalMilli).add(delta),
                    )
                    .finally(Expr::col(offer::Column::StockTotalMilli))
                    .into(),
                )
                .col_expr(
                    offer::Column::StockLeftMilli,
                    Expr::case(withdrawn(), Expr::col(offer::Column::StockLeftMilli))
                        .case(
                            Expr::col(offer::Column::StockLeftMilli)
                                .add(-delta)
                                .gt(Expr::col(offer::Column::StockTotalMilli)),
                            Expr::col(offer::Column::StockTotalMilli),
                        )
                        .finally(Expr::col(offer::Column::StockLeftMilli).add(-delta))
                        .into(),
                )
                .filter(offer::Column::Id.eq(offer_id))
                .exec(tx)
                .await?;
        }
    }
    Ok(())
}
