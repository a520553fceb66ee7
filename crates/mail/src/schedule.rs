//! The periodic task that writes time-based mail: every `interval` it asks the store what is
//! due now (`Store::schedule_mail`: closing and pickup reminders, picking lists of cycles
//! closed by their clock). It only writes to the outbox; the worker sends. Any number of nodes
//! may run it at once: each row's unique key lets it in once. A tick missed (the node was down)
//! is caught up by the next one.

use std::time::Duration;

use store::Store;
use tokio::sync::watch;

/// A running scheduler.
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// Looks at the clock now, then every `interval`, until stopped.
    pub fn start(store: Store, interval: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                if *stopped.borrow() {
                    break;
                }
                match store.schedule_mail(chrono::Utc::now()).await {
                    Ok(done) if done.total() > 0 => tracing::info!(
                        closing = done.closing_reminders,
                        pickup_day = done.pickup_day_before,
                        pickup_hours = done.pickup_hours_before,
                        picking = done.picking_lists,
                        "scheduled mail written"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "mail schedule: not written this time"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => {}
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the look in hand.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}
