//! The directory alerts' weekly digest, on a timer: every hour, `halle serve` asks the store to
//! mail the subscribers who chose it ([`store::Store::send_alert_digests`]); the store sends
//! each one at most once a week, so every node may run it, and a node that was down catches up
//! at its next start. Self-contained on purpose: a small tokio interval beside the mail worker.

use std::time::Duration;

use tokio::task::JoinHandle;

/// How often the digest is looked for.
const EVERY: Duration = Duration::from_secs(3600);

/// Starts the hourly task (its first run is at once); abort the handle to stop it.
pub fn start(store: store::Store) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            match store.send_alert_digests(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(mails = n, "directory alerts: weekly digests queued"),
                Err(e) => tracing::warn!(error = %e, "directory alerts: weekly digest failed"),
            }
        }
    })
}
