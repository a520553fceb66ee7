//! A request's deadline, as the web layer sets it, and what the order path tells it back.
//!
//! The web layer runs each request inside [`Deadline::scope`] and, once the deadline has
//! passed, drops it and answers 503. Dropping a request is safe anywhere but in one place: a
//! basket handed to the order writer may be in a batch that is committing. So the writer's
//! handle ([`crate::order_batch`]) takes the basket's own deadline from the request's (the
//! writer turns it away, unwritten, once that has passed and its batch has not begun) and, while
//! the basket is in the writer's hands or once it is written, marks the request [shielded]: the
//! web layer then waits for the request's own answer (201 for a written basket, 503 "nothing
//! was ordered" for one turned away) instead of cutting it. An acknowledged basket is written;
//! a basket answered 503 is not. Every other write is shielded the same way while its COMMIT
//! is in flight and once it took effect ([`committing`]): a request cut before its COMMIT is
//! rolled back, one whose COMMIT was sent is answered for what it did.
//!
//! [shielded]: Deadline::shielded

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

tokio::task_local! {
    static CURRENT: Arc<Deadline>;
}

/// When a request must be answered by, and whether it may still be cut then.
#[derive(Debug)]
pub struct Deadline {
    at: Instant,
    shielded: AtomicBool,
}

impl Deadline {
    /// A deadline at `at`, not shielded.
    pub fn new(at: Instant) -> Arc<Self> {
        Arc::new(Self {
            at,
            shielded: AtomicBool::new(false),
        })
    }

    /// When the request must be answered by.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// True while the request has a basket in the order writer's hands, or once that basket
    /// was written: cutting the request then could answer 503 for a basket that is placed.
    pub fn shielded(&self) -> bool {
        self.shielded.load(Ordering::Acquire)
    }

    /// Runs `f` with this deadline as the current one (for the store calls it makes).
    pub async fn scope<F: Future>(self: Arc<Self>, f: F) -> F::Output {
        CURRENT.scope(self, f).await
    }

    pub(crate) fn shield(&self, on: bool) {
        self.shielded.store(on, Ordering::Release);
    }
}

/// The deadline of the request being served, if the caller set one.
pub(crate) fn current() -> Option<Arc<Deadline>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Runs a COMMIT shielded from the request's deadline; the request stays shielded if it took
/// effect (its answer must say so), and is as before if it failed (nothing was written).
pub(crate) async fn committing<T, E>(commit: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    let Some(d) = current() else {
        return commit.await;
    };
    let before = d.shielded();
    d.shield(true);
    let out = commit.await;
    if out.is_err() {
        d.shield(before);
    }
    out
}
