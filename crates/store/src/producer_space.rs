//! A producer's own space, as its pages read it: the cycles of the markets it sells through,
//! its week's offer on one screen (pre-filled from its last cycle, checked row by row before
//! [`Store::set_offers`] saves it), and after close its variable-weight lines to weigh and its
//! sales summary.
//!
//! Rights: only the producer's account (or an admin) reads these; anyone else, and any cycle of
//! a market the producer does not sell through, is "not found". A producer sees how much of
//! each offer was ordered, never who ordered it, until the cycle closes (then its labels and
//! weights name the baskets, as the picking lists do).

use std::collections::HashMap;

use chrono::Utc;
use distribution::basket_amounts;
use domain::{CycleState, Money, Quantity, Unit};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    Actor, CycleSummary, LineFilter, OfferInput, ProductView, Store, StoreError, Viewer,
    catalogue::{corrupt, product_view},
    cycles::{still_selling, summary},
    entities::{market, market_producer, offer, order_cycle, product},
    rights,
};

/// One cycle of a market the producer sells through.
#[derive(Clone, Debug)]
pub struct ProducerCycle {
    /// The cycle.
    pub cycle: CycleSummary,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone (IANA).
    pub timezone: String,
    /// How many of the producer's products are on sale in it.
    pub on_sale: usize,
    /// Whether the producer may still change its offer (draft, or open before close).
    pub editable: bool,
}

/// One row of the week's offer: a product, and what the producer sells of it this cycle.
#[derive(Clone, Debug)]
pub struct WeekRow {
    /// The product (active, or archived but still carrying orders in this cycle).
    pub product: ProductView,
    /// On sale this cycle (or, pre-filled, last cycle).
    pub on_sale: bool,
    /// The price this cycle (or last cycle's, or the product's own).
    pub price: Money,
    /// The stock this cycle (or last cycle's); `None` when never offered.
    pub stock: Option<Quantity>,
    /// How much was ordered so far this cycle, all consumers together.
    pub ordered: Quantity,
}

/// The week's offer of a producer in a cycle, ready to show as one form.
#[derive(Clone, Debug)]
pub struct WeekOffer {
    /// The cycle.
    pub cycle: CycleSummary,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone (IANA).
    pub timezone: String,
    /// Whether the offer may still change.
    pub editable: bool,
    /// When the rows come from an earlier cycle (nothing offered in this one yet): its name.
    pub prefilled_from: Option<String>,
    /// One row per product, by name.
    pub rows: Vec<WeekRow>,
}

/// A variable-weight line of a closed cycle, to weigh piece by piece.
#[derive(Clone, Debug)]
pub struct WeighLine {
    /// The order line.
    pub line_id: i64,
    /// The basket's number.
    pub order_id: i64,
    /// Whose basket (as on its label).
    pub consumer_name: String,
    /// The product.
    pub product_name: String,
    /// How many pieces.
    pub pieces: usize,
    /// Estimated weight of one piece.
    pub estimated_kg: Quantity,
    /// Real weights recorded so far, one per piece (empty until weighed).
    pub actual_kg: Vec<Quantity>,
}

/// One product's sales in a cycle.
#[derive(Clone, Debug)]
pub struct SaleRow {
    /// The product's name.
    pub product_name: String,
    /// Its unit.
    pub unit: Unit,
    /// Quantity sold, all baskets together.
    pub quantity: Quantity,
    /// Amount incl. VAT (weighed lines at their real weight).
    pub amount: Money,
    /// The VAT in it.
    pub vat: Money,
    /// Some variable-weight lines are not weighed yet: the amount is partly estimated.
    pub estimated: bool,
}

/// A producer's cycle after close: what to weigh and what it sold.
#[derive(Clone, Debug)]
pub struct ProducerReport {
    /// The cycle.
    pub cycle: CycleSummary,
    /// Its market's name.
    pub market_name: String,
    /// Its market's time zone (IANA).
    pub timezone: String,
    /// Variable-weight lines, by product then basket.
    pub weigh: Vec<WeighLine>,
    /// Sales per product, by name.
    pub sales: Vec<SaleRow>,
    /// Total incl. VAT.
    pub total: Money,
    /// Total VAT.
    pub total_vat: Money,
}

/// A row of the week's offer refused before saving, with why.
#[derive(Debug)]
pub struct RowError {
    /// The product of the row.
    pub product_id: i64,
    /// `stock` or `sale` (the field the message belongs next to).
    pub field: &'static str,
    /// Why.
    pub error: StoreError,
}

impl Store {
    /// The producer's account (or an admin) or "not found".
    fn own_space(actor: &Actor, producer_id: i64) -> Result<(), StoreError> {
        if rights::may_manage_catalogue(actor, producer_id) {
            Ok(())
        } else {
            Err(StoreError::not_found("producer", producer_id))
        }
    }

    /// A cycle of a market the producer sells through, with its market; "not found" otherwise.
    async fn producer_cycle_row(
        &self,
        actor: &Actor,
        producer_id: i64,
        cycle_id: i64,
    ) -> Result<(order_cycle::Model, market::Model), StoreError> {
        Self::own_space(actor, producer_id)?;
        let c = self.readable_cycle(Viewer::Actor(actor), cycle_id).await?;
        if !self.producer_in_market(producer_id, c.market_id).await? {
            return Err(StoreError::not_found("cycle", cycle_id));
        }
        let m = market::Entity::find_by_id(c.market_id)
            .one(self.db())
            .await?
            .ok_or_else(|| corrupt("cycle's market", c.market_id))?;
        Ok((c, m))
    }

    /// The cycles of every market the producer sells through, newest first: drafts and open
    /// ones (to publish its offer), then the last `closed` closed or distributed ones.
    pub async fn producer_cycles(
        &self,
        actor: &Actor,
        producer_id: i64,
        closed: usize,
    ) -> Result<Vec<ProducerCycle>, StoreError> {
        Self::own_space(actor, producer_id)?;
        let markets: HashMap<i64, market::Model> = {
            let ids: Vec<i64> = market_producer::Entity::find()
                .filter(market_producer::Column::ProducerId.eq(producer_id))
                .all(self.db())
                .await?
                .into_iter()
                .map(|m| m.market_id)
                .collect();
            market::Entity::find()
                .filter(market::Column::Id.is_in(ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect()
        };
        let cycles = order_cycle::Entity::find()
            .filter(order_cycle::Column::MarketId.is_in(markets.keys().copied()))
            .order_by_desc(order_cycle::Column::OpensAt)
            .order_by_desc(order_cycle::Column::Id)
            .all(self.db())
            .await?;
        let mut on_sale: HashMap<i64, usize> = HashMap::new();
        for o in offer::Entity::find()
            .filter(offer::Column::ProducerId.eq(producer_id))
            .filter(offer::Column::CycleId.is_in(cycles.iter().map(|c| c.id)))
            .filter(offer::Column::WithdrawnAt.is_null())
            .all(self.db())
            .await?
        {
            *on_sale.entry(o.cycle_id).or_default() += 1;
        }
        let now = Utc::now();
        let mut out = Vec::new();
        let mut past = 0;
        for c in &cycles {
            let editable = still_selling(c, now)?;
            if !editable {
                past += 1;
                if past > closed {
                    continue;
                }
            }
            let m = markets
                .get(&c.market_id)
                .ok_or_else(|| corrupt("cycle's market", c.market_id))?;
            out.push(ProducerCycle {
                cycle: summary(c, now)?,
                market_name: m.name.clone(),
                timezone: m.timezone.clone(),
                on_sale: on_sale.get(&c.id).copied().unwrap_or(0),
                editable,
            });
        }
        // Those to act on first.
        out.sort_by_key(|p| !p.editable);
        Ok(out)
    }

    /// The producer's week's offer in a cycle: every active product as a row, from this cycle's
    /// offers when it has any, else from its offer in the market's latest earlier cycle where it
    /// had one (nothing is written: saving is [`Store::set_offers`]).
    pub async fn week_offer(
        &self,
        actor: &Actor,
        producer_id: i64,
        cycle_id: i64,
    ) -> Result<WeekOffer, StoreError> {
        let (c, m) = self
            .producer_cycle_row(actor, producer_id, cycle_id)
            .await?;
        let products = product::Entity::find()
            .filter(product::Column::ProducerId.eq(producer_id))
            .order_by_asc(product::Column::Name)
            .order_by_asc(product::Column::Id)
            .all(self.db())
            .await?;
        let current: HashMap<i64, offer::Model> = offer::Entity::find()
            .filter(offer::Column::CycleId.eq(cycle_id))
            .filter(offer::Column::ProducerId.eq(producer_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| (o.product_id, o))
            .collect();
        let mut prefilled_from = None;
        let mut previous: HashMap<i64, offer::Model> = HashMap::new();
        if current.is_empty() {
            let earlier = order_cycle::Entity::find()
                .filter(order_cycle::Column::MarketId.eq(c.market_id))
                .filter(order_cycle::Column::OpensAt.lt(c.opens_at))
                .order_by_desc(order_cycle::Column::OpensAt)
                .all(self.db())
                .await?;
            // The offers of every earlier cycle in one query; the latest cycle with some wins.
            let mut by_cycle: HashMap<i64, Vec<offer::Model>> = HashMap::new();
            for o in offer::Entity::find()
                .filter(offer::Column::ProducerId.eq(producer_id))
                .filter(offer::Column::CycleId.is_in(earlier.iter().map(|e| e.id)))
                .filter(offer::Column::WithdrawnAt.is_null())
                .all(self.db())
                .await?
            {
                by_cycle.entry(o.cycle_id).or_default().push(o);
            }
            if let Some(e) = earlier.iter().find(|e| by_cycle.contains_key(&e.id)) {
                prefilled_from = Some(e.name.clone());
                previous = by_cycle
                    .remove(&e.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|o| (o.product_id, o))
                    .collect();
            }
        }
        let mut rows = Vec::new();
        for p in products {
            let here = current.get(&p.id);
            // An archived product shows only while this cycle still carries its orders.
            if !p.active && here.is_none_or(|o| o.stock_total_milli == o.stock_left_milli) {
                continue;
            }
            let row = match (here, previous.get(&p.id)) {
                (Some(o), _) => WeekRow {
                    on_sale: o.withdrawn_at.is_none(),
                    price: Money::from_cents(o.price_cents),
                    stock: Some(Quantity::from_milli(o.stock_total_milli)),
                    ordered: Quantity::from_milli(o.stock_total_milli - o.stock_left_milli),
                    product: product_view(p)?,
                },
                (None, Some(o)) => WeekRow {
                    on_sale: p.active,
                    price: Money::from_cents(o.price_cents),
                    stock: Some(Quantity::from_milli(o.stock_total_milli)),
                    ordered: Quantity::ZERO,
                    product: product_view(p)?,
                },
                (None, None) => WeekRow {
                    on_sale: false,
                    price: Money::from_cents(p.price_cents),
                    stock: None,
                    ordered: Quantity::ZERO,
                    product: product_view(p)?,
                },
            };
            rows.push(row);
        }
        Ok(WeekOffer {
            editable: still_selling(&c, Utc::now())?,
            cycle: summary(&c, Utc::now())?,
            market_name: m.name,
            timezone: m.timezone,
            prefilled_from,
            rows,
        })
    }

    /// Checks a week's offer row by row before it is saved, so that every refused row is told
    /// at once, next to its field: an archived or unknown product, a stock below what was
    /// already ordered, a fractional stock of a product sold by the piece. Reads only;
    /// [`Store::set_offers`] checks everything again when saving.
    pub async fn check_week(
        &self,
        actor: &Actor,
        producer_id: i64,
        cycle_id: i64,
        inputs: &[OfferInput],
    ) -> Result<Vec<RowError>, StoreError> {
        let week = self.week_offer(actor, producer_id, cycle_id).await?;
        let rows: HashMap<i64, &WeekRow> = week.rows.iter().map(|r| (r.product.id, r)).collect();
        let here: HashMap<i64, Quantity> = if week.prefilled_from.is_none() {
            rows.iter().map(|(id, r)| (*id, r.ordered)).collect()
        } else {
            HashMap::new()
        };
        let mut errors = Vec::new();
        for i in inputs {
            let Some(row) = rows.get(&i.product_id) else {
                errors.push(RowError {
                    product_id: i.product_id,
                    field: "sale",
                    error: StoreError::not_found("product", i.product_id),
                });
                continue;
            };
            if !row.product.active {
                errors.push(RowError {
                    product_id: i.product_id,
                    field: "sale",
                    error: StoreError::invalid(
                        "archived_product",
                        format!("{} is archived", row.product.name),
                    ),
                });
            } else if row.product.pricing.unit.is_countable() && i.stock.milli() % 1000 != 0 {
                errors.push(RowError {
                    product_id: i.product_id,
                    field: "stock",
                    error: StoreError::invalid(
                        "stock_not_whole",
                        format!("stock of {} must be a whole number", row.product.name),
                    ),
                });
            } else if let Some(ordered) = here.get(&i.product_id).filter(|o| i.stock < **o) {
                errors.push(RowError {
                    product_id: i.product_id,
                    field: "stock",
                    error: StoreError::conflict(
                        "stock_below_ordered",
                        format!(
                            "{ordered} of {} are already ordered: the stock cannot be lower",
                            row.product.name
                        ),
                    ),
                });
            }
        }
        Ok(errors)
    }

    /// A producer's cycle as its after-close page shows it: the variable-weight lines to weigh
    /// and the sales per product (weighed lines at their real weight, through
    /// `distribution::basket_amounts`).
    pub async fn producer_report(
        &self,
        actor: &Actor,
        producer_id: i64,
        cycle_id: i64,
    ) -> Result<ProducerReport, StoreError> {
        let (c, m) = self
            .producer_cycle_row(actor, producer_id, cycle_id)
            .await?;
        let data = self
            .cycle_data(
                cycle_id,
                LineFilter {
                    producer_id: Some(producer_id),
                    slot_id: None,
                },
            )
            .await?;
        let (weigh, sales, total, total_vat) = self
            .run_cpu(move || {
                let mut lines: Vec<&distribution::LineRow> = data.lines.iter().collect();
                lines.sort_by(|a, b| {
                    (&a.product_name, a.product_id, &a.consumer_name, a.line_id).cmp(&(
                        &b.product_name,
                        b.product_id,
                        &b.consumer_name,
                        b.line_id,
                    ))
                });
                let weigh: Vec<WeighLine> = lines
                    .iter()
                    .filter_map(|l| {
                        let vw = l.variable_weight.as_ref()?;
                        Some(WeighLine {
                            line_id: l.line_id,
                            order_id: l.order_id,
                            consumer_name: l.consumer_name.clone(),
                            product_name: l.product_name.clone(),
                            pieces: usize::try_from(l.quantity.milli() / 1000).unwrap_or(0),
                            estimated_kg: vw.estimated_kg,
                            actual_kg: vw.actual_kg.clone(),
                        })
                    })
                    .collect();
                let mut sales = Vec::new();
                let mut start = 0;
                while start < lines.len() {
                    let product = lines[start].product_id;
                    let end = lines[start..]
                        .iter()
                        .position(|l| l.product_id != product)
                        .map_or(lines.len(), |n| start + n);
                    let group = &lines[start..end];
                    let amounts = basket_amounts(group);
                    let milli: i64 = group.iter().map(|l| l.quantity.milli()).sum();
                    sales.push(SaleRow {
                        product_name: group[0].product_name.clone(),
                        unit: group[0].unit,
                        quantity: Quantity::from_milli(milli),
                        amount: amounts.effective.total,
                        vat: amounts.effective.vat.iter().map(|v| v.vat).sum(),
                        estimated: !amounts.fully_weighed,
                    });
                    start = end;
                }
                let all = basket_amounts(&lines);
                let total_vat = all.effective.vat.iter().map(|v| v.vat).sum();
                (weigh, sales, all.effective.total, total_vat)
            })
            .await?;
        Ok(ProducerReport {
            cycle: summary(&c, Utc::now())?,
            market_name: m.name,
            timezone: m.timezone,
            weigh,
            sales,
            total,
            total_vat,
        })
    }
}

/// Whether a cycle is over for ordering (closed or distributed).
#[must_use]
pub fn is_closed(c: &CycleSummary) -> bool {
    matches!(c.state, CycleState::Closed | CycleState::Distributed)
}
