//! Bounded blocking work: CPU- or memory-heavy jobs (password hashing, route planning,
//! document rendering) run on tokio's blocking threads, at most a few at once, so that they
//! never take the async workers that answer baskets. A job waits a bounded time for its turn;
//! past that, or when too many already wait, it is refused with [`StoreError::Busy`] (a 503 with
//! `Retry-After`) instead of piling up.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::StoreError;

/// The number of cores this process may use (1 when it cannot tell).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// At most `permits` jobs at once, at most `max_waiting` waiting, each waiting at most `wait`.
pub(crate) struct Gate {
    what: &'static str,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
    retry_after_secs: u64,
}

/// Decrements the count of waiting jobs however the wait ends (permit, timeout, cancel).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    pub(crate) fn new(
        what: &'static str,
        permits: usize,
        max_waiting: usize,
        wait: Duration,
        retry_after_secs: u64,
    ) -> Self {
        Self {
            what,
            permits: Arc::new(Semaphore::new(permits.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            wait,
            retry_after_secs,
        }
    }

    fn busy(&self) -> StoreError {
        StoreError::Busy {
            what: self.what,
            retry_after_secs: self.retry_after_secs,
        }
    }

    /// Runs `job` on a blocking thread once a permit is free; `Busy` when none comes in time.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(self.busy());
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(self.busy()),
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Custom(format!(
                "{} task failed: {e}",
                self.what
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Gate;
    use crate::StoreError;

    #[tokio::test]
    async fn a_full_gate_refuses_instead_of_queueing_without_end() {
        let gate = std::sync::Arc::new(Gate::new("test", 1, 1, Duration::from_millis(50), 3));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    let _ = hold.recv_timeout(Duration::from_secs(5));
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // One permit taken, one may wait 50 ms and gives up; a third is refused at once.
        let (waited, refused) = tokio::join!(gate.run(|| 1), async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            gate.run(|| 2).await
        });
        assert!(matches!(
            waited,
            Err(StoreError::Busy {
                retry_after_secs: 3,
                ..
            })
        ));
        assert!(matches!(refused, Err(StoreError::Busy { .. })));
        let _ = release.send(());
        assert!(busy.await.is_ok_and(|r| r.is_ok()));
        assert_eq!(gate.run(|| 7).await.ok(), Some(7));
    }
}
