//! The worker that drains the outbox: claims due rows (a batch at a time, with a lease), loads
//! what they say, renders and sends them several at once over the pooled transport, and
//! records every outcome of the batch in one transaction.
//!
//! A send refused for good (5xx), or a row that cannot be rendered or addressed, is `failed`
//! with the reason; anything else (server down, 4xx, timeout) is tried again after a back-off
//! that doubles from [`WorkerOptions::retry_base`] up to [`WorkerOptions::retry_max`], and
//! given up after [`WorkerOptions::max_attempts`] tries. Several workers (on several nodes)
//! never take the same row: see `store::outbox`.

use std::{sync::Arc, time::Duration};

use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use store::{
    Store,
    outbox::{Outcome, PENDING},
};
use tokio::{sync::watch, task::JoinSet};

use crate::{
    Composer,
    smtp::{Failure, classify},
};

/// How the worker paces itself.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Rows claimed at once.
    pub batch: u64,
    /// Sends in flight at once (at most the transport's pool size is useful).
    pub concurrency: usize,
    /// The wait between two looks at an empty outbox.
    pub poll: Duration,
    /// The first back-off after a transient failure; it doubles at each try.
    pub retry_base: Duration,
    /// The longest back-off.
    pub retry_max: Duration,
    /// Tries before giving up on a row that keeps failing transiently.
    pub max_attempts: i32,
    /// How long a claim holds its rows: longer than a batch takes to send.
    pub lease: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch: 200,
            concurrency: 8,
            poll: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 12,
            lease: Duration::from_secs(600),
        }
    }
}

/// A running worker.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts draining the outbox of `store` through `transport`.
    pub fn start(
        store: Store,
        composer: Arc<Composer>,
        transport: AsyncSmtpTransport<Tokio1Executor>,
        options: WorkerOptions,
    ) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                if *stopped.borrow() {
                    break;
                }
                let sent = match drain_once(&store, &composer, &transport, &options).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "mail worker: the outbox could not be read");
                        0
                    }
                };
                if sent == 0 {
                    tokio::select! {
                        _ = tokio::time::sleep(options.poll) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
        });
        Self { stop, task }
    }

    /// Stops after the batch in hand (its outcomes recorded).
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

/// The back-off before try number `attempts + 1`.
pub fn backoff(options: &WorkerOptions, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    options
        .retry_base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(options.retry_max)
}

/// Claims one batch, sends it, records how it went; returns how many rows it handled.
pub async fn drain_once(
    store: &Store,
    composer: &Arc<Composer>,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    options: &WorkerOptions,
) -> Result<usize, store::StoreError> {
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::minutes(10));
    let (claim, rows) = store.claim_mail(options.batch, lease).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len();
    let contexts = store.mail_contexts(rows).await?;
    let limit = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut sends = JoinSet::new();
    for ctx in contexts {
        let composer = composer.clone();
        let transport = transport.clone();
        let limit = limit.clone();
        let options = options.clone();
        sends.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let id = ctx.mail.id;
            let attempts = ctx.mail.attempts;
            debug_assert_eq!(ctx.mail.state, PENDING);
            let composed = match composer.compose(&ctx) {
                Ok(c) => c,
                Err(e) => {
                    return (
                        id,
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                    );
                }
            };
            match transport.send(composed.message).await {
                Ok(_) => (
                    id,
                    Outcome::Sent {
                        message_id: composed.message_id,
                        subject: composed.subject,
                    },
                ),
                Err(e) => {
                    let error = e.to_string();
                    match classify(&e) {
                        Failure::Permanent => (id, Outcome::Failed { error }),
                        Failure::Transient if attempts >= options.max_attempts => (
                            id,
                            Outcome::Failed {
                                error: format!("gave up after {attempts} tries: {error}"),
                            },
                        ),
                        Failure::Transient => {
                            let wait = chrono::Duration::from_std(backoff(&options, attempts))
                                .unwrap_or(chrono::Duration::hours(1));
                            (
                                id,
                                Outcome::Retry {
                                    at: chrono::Utc::now() + wait,
                                    error,
                                },
                            )
                        }
                    }
                }
            }
        });
    }
    let mut outcomes = Vec::with_capacity(n);
    while let Some(done) = sends.join_next().await {
        match done {
            Ok(outcome) => outcomes.push(outcome),
            // A send that panicked: its row stays claimed until the lease ends, then goes again.
            Err(e) => tracing::error!(error = %e, "mail worker: a send did not finish"),
        }
    }
    for (id, o) in &outcomes {
        match o {
            Outcome::Sent { .. } => {}
            Outcome::Retry { error, at } => {
                tracing::info!(mail = id, %error, retry_at = %at, "mail not sent, will retry");
            }
            Outcome::Failed { error } => tracing::warn!(mail = id, %error, "mail given up"),
        }
    }
    store.record_mail(&claim, outcomes).await?;
    Ok(n)
}
