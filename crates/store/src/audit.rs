//! The audit trail of staff actions: who changed an offer's price or stock, a line's weights,
//! a basket's check-out, a cycle's state, a slot (moved, cancelled, a venue closed) or the
//! staff's invitations, and when. Each use case writes its event with [`record`] in the same
//! transaction as the change, so the trail never shows a change that did not happen nor misses
//! one that did. Consumers' own basket actions are not staff actions and are not recorded here.
//!
//! The market's coordinators (and admins) read it, newest first, [`PAGE`] events a page,
//! filtered by kind and dates ([`Store::audit_trail`]).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::{Actor, Store, StoreError, entities::audit_event, rights};

/// Events a page.
pub const PAGE: u64 = 50;

/// The kinds of staff action recorded.
pub mod kind {
    /// An offer's price set or changed.
    pub const PRICE: &str = "price";
    /// An offer's stock set or changed, or the offer withdrawn.
    pub const STOCK: &str = "stock";
    /// The weights of a variable-weight line recorded.
    pub const WEIGHT: &str = "weight";
    /// A basket checked out (collected or not, a payment on the spot), or a payment voided.
    pub const CHECKOUT: &str = "checkout";
    /// A cycle opened, closed or marked distributed.
    pub const CYCLE: &str = "cycle";
    /// A slot moved or cancelled, or a venue's date flagged unavailable.
    pub const SLOT: &str = "slot";
    /// A staff invitation made or withdrawn.
    pub const INVITATION: &str = "invitation";
    /// Every kind, in the order the filter lists them.
    pub const ALL: [&str; 7] = [PRICE, STOCK, WEIGHT, CHECKOUT, CYCLE, SLOT, INVITATION];
}

/// One event of the trail, as coordinators read it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: the account; none for the system itself (`halle demo`'s loader).
    pub actor_id: Option<i64>,
    /// Who: its name at the time.
    pub actor_name: String,
    /// What kind of action (see [`kind`]).
    pub kind: String,
    /// What it was done to ("offer 12, Œufs").
    pub subject: String,
    /// What changed ("4.20 → 4.50").
    pub detail: String,
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this kind (one of [`kind::ALL`]).
    pub kind: Option<String>,
    /// From this day on (UTC), included.
    pub from: Option<NaiveDate>,
    /// Until this day (UTC), included.
    pub to: Option<NaiveDate>,
    /// The page, from 1 (0 is refused).
    pub page: u64,
}

/// One page of a market's trail.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditPage {
    /// The events, newest first.
    pub entries: Vec<AuditEntry>,
    /// This page's number, from 1.
    pub page: u64,
    /// Whether an older page follows.
    pub has_next: bool,
}

/// Records a staff action of `actor` in `market_id`, on `db` (the change's own transaction).
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    market_id: i64,
    kind: &'static str,
    subject: String,
    detail: String,
) -> Result<(), StoreError> {
    audit_event::ActiveModel {
        market_id: Set(market_id),
        at: Set(Utc::now()),
        // The command line's actors (`halle demo`, `halle report`) are no account: id 0.
        actor_id: Set((actor.account_id > 0).then_some(actor.account_id)),
        actor_name: Set(actor.name.clone()),
        kind: Set(kind.to_owned()),
        subject: Set(subject),
        detail: Set(detail),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Cents as euros, for the trail ("4.20").
pub(crate) fn euros(cents: i64) -> String {
    domain::Money::from_cents(cents).to_string()
}

/// Thousandths as a quantity, for the trail ("2.5").
pub(crate) fn quantity(milli: i64) -> String {
    domain::Quantity::from_milli(milli).to_string()
}

impl Store {
    /// A market's audit trail (its coordinators, or an admin), newest first, [`PAGE`] a page.
    pub async fn audit_trail(
        &self,
        actor: &Actor,
        market_id: i64,
        filter: &AuditFilter,
    ) -> Result<AuditPage, StoreError> {
        self.market(market_id).await?;
        if !rights::runs_market(actor, market_id) {
            return Err(StoreError::forbidden(
                "only this market's coordinators can read its audit trail",
            ));
        }
        let mut q = audit_event::Entity::find().filter(audit_event::Column::MarketId.eq(market_id));
        if let Some(k) = &filter.kind {
            if !kind::ALL.contains(&k.as_str()) {
                return Err(StoreError::invalid(
                    "invalid_kind",
                    format!("the kinds are {}", kind::ALL.join(", ")),
                ));
            }
            q = q.filter(audit_event::Column::Kind.eq(k.clone()));
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(StoreError::invalid(
                "invalid_dates",
                "the first day comes before the last",
            ));
        }
        if let Some(from) = filter.from {
            q = q.filter(
                audit_event::Column::At.gte(from.and_time(chrono::NaiveTime::MIN).and_utc()),
            );
        }
        if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
            q = q.filter(audit_event::Column::At.lt(to.and_time(chrono::NaiveTime::MIN).and_utc()));
        }
        let page = filter.page;
        if page == 0 || page > 100_000 {
            return Err(StoreError::invalid("invalid_page", "no such page"));
        }
        let mut rows = q
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .offset((page - 1) * PAGE)
            .limit(PAGE + 1)
            .all(self.db())
            .await?;
        let has_next = rows.len() as u64 > PAGE;
        rows.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
        Ok(AuditPage {
            entries: rows
                .into_iter()
                .map(|r| AuditEntry {
                    id: r.id,
                    at: r.at,
                    actor_id: r.actor_id,
                    actor_name: r.actor_name,
                    kind: r.kind,
                    subject: r.subject,
                    detail: r.detail,
                })
                .collect(),
            page,
            has_next,
        })
    }
}
