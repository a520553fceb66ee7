//! Who may read and who may write what: one function per right, read and write apart, so that a
//! use case names the rule it applies and a write never borrows a read check.
//!
//! The roles, as they stand:
//! - a market's *staff* are its coordinators and volunteers (and admins, everywhere): they read
//!   everything of the market (orders, sheets, rounds, drafts);
//! - volunteers write nothing but check-outs (collected or not, paid on the spot);
//! - coordinators run their market: cycles, slots, pickup points, producers, rounds, and they
//!   may change or cancel a basket (mediation) and order on a member's behalf;
//! - a producer manages its own catalogue and its own offers, records its own weights, and sees
//!   the draft cycles of the markets it sells through (it prepares its offers on them);
//! - a consumer reads and changes its own baskets (also those a coordinator placed for it);
//! - a host reads its own venue's slots and flags the dates it is unavailable.
//!
//! Refusals: what the actor may not even read answers 404 (as if it did not exist); what it
//! may read but not change answers 403.

use domain::CycleState;

use crate::{
    Actor, Role, Store, StoreError,
    entities::{order, order_cycle},
};

/// A coordinator or volunteer of `market_id`, or an admin: reads everything of the market.
pub(crate) fn is_staff(actor: &Actor, market_id: i64) -> bool {
    actor.role == Role::Admin
        || (matches!(actor.role, Role::Coordinator | Role::Volunteer)
            && actor.market_id == Some(market_id))
}

/// A coordinator of `market_id`, or an admin: runs the market.
pub(crate) fn runs_market(actor: &Actor, market_id: i64) -> bool {
    actor.coordinates(market_id)
}

/// Only admins create markets.
pub(crate) fn may_create_market(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

/// Read: a basket is seen by its consumer, whoever placed it, and the market's staff.
pub(crate) fn may_read_order(actor: &Actor, o: &order::Model, market_id: i64) -> bool {
    o.account_id == actor.account_id
        || o.placed_by == actor.account_id
        || is_staff(actor, market_id)
}

/// Write: a basket is changed or cancelled by its consumer (also one a coordinator placed for
/// it), a coordinator of the market (mediation), or an admin. Not by volunteers, and not by a
/// mediator who no longer coordinates the market.
pub(crate) fn may_change_order(actor: &Actor, o: &order::Model, market_id: i64) -> bool {
    o.account_id == actor.account_id || runs_market(actor, market_id)
}

/// Write: a basket is checked out (collection, payment on the spot) by the market's staff,
/// volunteers included.
pub(crate) fn may_check_out(actor: &Actor, market_id: i64) -> bool {
    is_staff(actor, market_id)
}

/// Read: a venue (a pickup point's slots, baskets expected, dates flagged unavailable) is seen
/// by its host (`hosts`: the actor is the host account naming the point) and the market's
/// staff.
pub(crate) fn may_read_venue(actor: &Actor, hosts: bool, market_id: i64) -> bool {
    hosts || is_staff(actor, market_id)
}

/// Write: a date a venue is unavailable is flagged by its host, a coordinator of the market,
/// or an admin (volunteers see the flags, they do not set them).
pub(crate) fn may_flag_venue(actor: &Actor, hosts: bool, market_id: i64) -> bool {
    hosts || runs_market(actor, market_id)
}

/// Write: a producer's catalogue is managed by that producer's account, or an admin.
pub(crate) fn may_manage_catalogue(actor: &Actor, producer_id: i64) -> bool {
    actor.is_producer(producer_id)
}

/// Write: a producer's offers in a cycle are set by the producer, or by a coordinator of the
/// cycle's market (who may enter them for a producer), or an admin.
pub(crate) fn may_set_offers(actor: &Actor, producer_id: i64, market_id: i64) -> bool {
    actor.is_producer(producer_id) || runs_market(actor, market_id)
}

/// Write: the real weights of a line are recorded by the line's producer, a coordinator of the
/// market, or an admin.
pub(crate) fn may_record_weights(actor: &Actor, producer_id: i64, market_id: i64) -> bool {
    actor.is_producer(producer_id) || runs_market(actor, market_id)
}

/// Read: a draft cycle (and its slots and offers) is seen by the market's staff and by the
/// producers selling through the market; any other cycle by everyone. Only a producer looking at
/// a draft costs a query: the public path of a cycle costs nothing.
pub(crate) async fn may_read_cycle(
    store: &Store,
    actor: Option<&Actor>,
    c: &order_cycle::Model,
) -> Result<bool, StoreError> {
    if c.state != CycleState::Draft.as_str() {
        return Ok(true);
    }
    let Some(actor) = actor else {
        return Ok(false);
    };
    if is_staff(actor, c.market_id) {
        return Ok(true);
    }
    match (actor.role, actor.producer_id) {
        (Role::Producer, Some(p)) => store.producer_in_market(p, c.market_id).await,
        _ => Ok(false),
    }
}

/// The account an order is placed for, when a coordinator orders on someone's behalf: only a
/// member of the market. Today a member is a consumer account (not staff, not a producer's)
/// that belongs to no other market: consumers carry no market, so any consumer qualifies;
/// should consumers get a market, those of another market are refused. Anyone else answers 404,
/// so that a coordinator cannot learn the names of staff or of other markets' people.
pub(crate) fn is_member(account: &crate::entities::account::Model, market_id: i64) -> bool {
    account.role == Role::Consumer.as_str() && account.market_id.is_none_or(|m| m == market_id)
}

/// Digital mediation: finding, creating and ordering for a market's members is for the
/// market's coordinators (their own market) and admins.
pub(crate) fn may_mediate(actor: &Actor) -> bool {
    actor.role == Role::Admin || (actor.role == Role::Coordinator && actor.market_id.is_some())
}

/// Read: a cycle's settlement statements (what the market owes each producer) are seen by
/// the market's coordinators and admins, every producer's; a producer sees only its own (the
/// caller checks that it sells through the market). Not by volunteers.
pub(crate) fn settlement_scope(
    actor: &Actor,
    market_id: i64,
    asked: Option<i64>,
) -> Result<Option<i64>, StoreError> {
    if runs_market(actor, market_id) {
        return Ok(asked);
    }
    match (actor.role, actor.producer_id, asked) {
        (Role::Producer, Some(own), None) => Ok(Some(own)),
        (Role::Producer, Some(own), Some(p)) if p == own => Ok(Some(own)),
        _ => Err(StoreError::forbidden(
            "a settlement is seen by the market's coordinators and by its own producer",
        )),
    }
}
