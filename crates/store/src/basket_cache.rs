//! The shop's basket of each (account, cycle), kept in this process's memory for a second: a
//! shop page costs no basket query when its visitor reloads it or moves between pages.
//!
//! - *This process's basket writes show at once.* A draft saved or cleared through this
//!   process bumps its (account, cycle)'s mark; an order placed, changed or cancelled through
//!   it bumps the cycle's stock mark ([`super::read_cache::ReadCache::stock_moved`]), which
//!   drops every basket kept for the cycle. Marks are read *before* loading, so a write
//!   committed during a load makes the basket loaded stale at once.
//! - *Other processes' writes show within [`BASKET_RECHECK`]*: a basket older than that is
//!   read again.
//! - Only an account's own basket is kept (a mediator's basket for a member is read each time:
//!   it goes through the member's rights).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::shop::CurrentBasket;

/// How long a basket is served before it is read again.
pub const BASKET_RECHECK: Duration = Duration::from_secs(1);

/// The most baskets kept; past it the cache starts again empty.
const MAX_BASKETS: usize = 100_000;

struct Kept {
    basket: CurrentBasket,
    mark: u64,
    stock: u64,
    read_at: Instant,
}

#[derive(Default)]
struct Inner {
    kept: HashMap<(i64, i64), Kept>,
    /// Per (account, cycle), bumped by each draft write of this process.
    marks: HashMap<(i64, i64), u64>,
}

/// Baskets by (account, cycle).
#[derive(Default)]
pub(crate) struct BasketCache {
    inner: Mutex<Inner>,
}

impl BasketCache {
    /// The mark of (account, cycle), to read before loading its basket.
    pub(crate) fn mark(&self, account: i64, cycle: i64) -> u64 {
        self.inner
            .lock()
            .ok()
            .and_then(|i| i.marks.get(&(account, cycle)).copied())
            .unwrap_or_default()
    }

    /// The basket kept, if still good under the cycle's stock mark `stock`.
    pub(crate) fn get(&self, account: i64, cycle: i64, stock: u64) -> Option<CurrentBasket> {
        let inner = self.inner.lock().ok()?;
        let mark = inner
            .marks
            .get(&(account, cycle))
            .copied()
            .unwrap_or_default();
        inner
            .kept
            .get(&(account, cycle))
            .filter(|k| k.mark == mark && k.stock == stock && k.read_at.elapsed() < BASKET_RECHECK)
            .map(|k| k.basket.clone())
    }

    /// Keeps a basket read from `read_at` on, under the marks read before reading it.
    pub(crate) fn keep(
        &self,
        account: i64,
        cycle: i64,
        basket: &CurrentBasket,
        (mark, stock, read_at): (u64, u64, Instant),
    ) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.kept.len() >= MAX_BASKETS {
                inner.kept.clear();
            }
            inner.kept.insert(
                (account, cycle),
                Kept {
                    basket: basket.clone(),
                    mark,
                    stock,
                    read_at,
                },
            );
        }
    }

    /// (account, cycle)'s draft was written by this process: its basket is read again.
    pub(crate) fn written(&self, account: i64, cycle: i64) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.kept.remove(&(account, cycle));
            if inner.marks.len() >= MAX_BASKETS {
                // Starting marks again from zero could match an old basket's: forget those too.
                inner.marks.clear();
                inner.kept.clear();
            }
            *inner.marks.entry((account, cycle)).or_default() += 1;
        }
    }
}
