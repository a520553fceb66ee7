//! What the operator watches: `/readyz` (the database reachable, the schema up to date, the
//! order writer alive; `/healthz` only says the process answers), Prometheus metrics at
//! `/metrics`, and the request id every answer carries in `X-Request-Id` and every log line of
//! its request shows (the `request` span).
//!
//! Metrics go through the `metrics` facade into one process-wide Prometheus recorder
//! (metrics-exporter-prometheus, without its HTTP listener: poem serves the text), installed by
//! the first application built. Several applications in one process (the test suite) share it.
//! `/metrics` answers anyone who reaches it: keep it off the public side of the reverse proxy.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::{
    Endpoint, IntoResponse, PathPattern, Request, Response,
    http::{HeaderValue, StatusCode},
};
use store::{Store, ops as names};
use tracing::Instrument;

/// The header that carries a request's id, both ways.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// Requests by method, route template and status (histogram of seconds; its `_count` is the
/// number of requests).
const HTTP_SECONDS: &str = "halle_http_request_duration_seconds";
/// The database pool's connections, by `state` (in_use, idle, max).
const POOL: &str = "halle_db_pool_connections";
/// Baskets waiting for the order writer.
const WRITER_QUEUE: &str = "halle_order_writer_queue";

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use; `None` if another recorder was
/// installed first (then `/metrics` says so).
pub(crate) fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| match install() {
            Ok(handle) => {
                let upkeep = handle.clone();
                // Histograms gather samples until upkeep folds them into their buckets: without
                // a scraper, they would grow with every request.
                let started = std::thread::Builder::new()
                    .name("halle-metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        }
                    });
                if let Err(e) = started {
                    tracing::warn!(error = %e, "metrics upkeep thread not started");
                }
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "the Prometheus recorder could not be installed");
                None
            }
        })
        .as_ref()
}

fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    const SECONDS: &[f64] = &[
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    const SIZES: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Full(names::WRITER_BATCH_SIZE.into()), SIZES)?
        .install_recorder()?;
    metrics::describe_histogram!(
        HTTP_SECONDS,
        metrics::Unit::Seconds,
        "HTTP requests by method, route template and status, and how long they took"
    );
    metrics::describe_counter!(
        names::BASKETS_PLACED,
        "baskets placed (replayed: an idempotency key seen before)"
    );
    metrics::describe_counter!(names::BASKETS_REFUSED, "baskets refused, by reason");
    metrics::describe_histogram!(
        names::WRITER_BATCH_SIZE,
        "baskets per batch of the order writer"
    );
    metrics::describe_histogram!(
        names::WRITER_WAIT,
        metrics::Unit::Seconds,
        "how long a basket waited for its batch to begin"
    );
    metrics::describe_histogram!(
        names::WRITER_BATCH_SECONDS,
        metrics::Unit::Seconds,
        "how long a batch's transaction took"
    );
    metrics::describe_gauge!(POOL, "database pool connections: in_use, idle, max");
    metrics::describe_gauge!(WRITER_QUEUE, "baskets waiting for the order writer");
    Ok(handle)
}

/// `GET /readyz`: 200 when the node can serve, 503 otherwise, with what was checked.
pub(crate) async fn readyz(store: &Store) -> Response {
    let readiness = store.readiness().await;
    let status = if readiness.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": readiness.ready(),
        "database": readiness.database,
        "migrations": readiness.migrations,
        "order_writer": readiness.order_writer,
        "order_queue": readiness.order_queue,
    });
    Response::builder()
        .status(status)
        .header("cache-control", "no-store")
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

/// The mail outbox's waiting mails (gauge).
const MAIL_PENDING: &str = "halle_mail_outbox_pending";
/// The mail outbox's given-up mails (gauge).
const MAIL_FAILED: &str = "halle_mail_outbox_failed";
/// How long the oldest waiting mail has waited (gauge, 0 when none waits).
const MAIL_OLDEST: &str = "halle_mail_outbox_oldest_pending_seconds";
/// How long a read of the outbox's backlog is served again before the next query.
const BACKLOG_FRESH: Duration = Duration::from_secs(5);

/// The outbox's backlog as last read, per application: a scrape every second from several
/// scrapers costs one query every [`BACKLOG_FRESH`] at most, and concurrent scrapes wait for
/// the one query in flight rather than each running their own.
#[derive(Clone, Default)]
pub(crate) struct BacklogCache(Arc<tokio::sync::Mutex<Option<(Instant, store::outbox::Backlog)>>>);

impl BacklogCache {
    /// The backlog, read again when the last read is older than [`BACKLOG_FRESH`]; `None`
    /// when the database does not answer (the other metrics are still served).
    async fn get(&self, store: &Store) -> Option<store::outbox::Backlog> {
        let mut last = self.0.lock().await;
        if let Some((at, backlog)) = *last
            && at.elapsed() < BACKLOG_FRESH
        {
            return Some(backlog);
        }
        match store.outbox_backlog().await {
            Ok(backlog) => {
                *last = Some((Instant::now(), backlog));
                Some(backlog)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the mail outbox could not be read");
                None
            }
        }
    }
}

/// The backlog in Prometheus' text format. Written here rather than through the process-wide
/// recorder: several applications in one process (the test suite) each have their own outbox,
/// and a shared gauge would show whichever was read last.
fn backlog_text(backlog: &store::outbox::Backlog, now: chrono::DateTime<chrono::Utc>) -> String {
    let oldest = backlog
        .oldest_pending
        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
    format!(
        "# HELP {MAIL_PENDING} mails waiting in the outbox (due or waiting for a retry)\n\
         # TYPE {MAIL_PENDING} gauge\n{MAIL_PENDING} {}\n\
         # HELP {MAIL_FAILED} mails given up (refused for good, or too many tries)\n\
         # TYPE {MAIL_FAILED} gauge\n{MAIL_FAILED} {}\n\
         # HELP {MAIL_OLDEST} how long the oldest waiting mail has waited, in seconds\n\
         # TYPE {MAIL_OLDEST} gauge\n{MAIL_OLDEST} {oldest}\n",
        backlog.pending, backlog.failed,
    )
}

/// `GET /metrics`: Prometheus' text format, with the gauges read at scrape time.
pub(crate) async fn metrics_text(store: &Store, backlog: &BacklogCache) -> Response {
    let Some(handle) = prometheus() else {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("metrics are not recorded by this process");
    };
    let pool = store.pool_use();
    metrics::gauge!(POOL, "state" => "in_use").set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!(POOL, "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!(POOL, "state" => "max").set(f64::from(pool.max));
    let (_, queue) = store.readiness_of_writer();
    #[expect(
        clippy::cast_precision_loss,
        reason = "a queue of a few thousand at most"
    )]
    metrics::gauge!(WRITER_QUEUE).set(queue as f64);
    handle.run_upkeep();
    let mut text = handle.render();
    if let Some(b) = backlog.get(store).await {
        text.push_str(&backlog_text(&b, chrono::Utc::now()));
    }
    Response::builder()
        .header("cache-control", "no-store")
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// Where the innermost route's template is left for [`observe`] (the JSON error mapping
/// rebuilds error answers, and with them the route poem records on the answer).
#[derive(Clone, Default)]
pub(crate) struct RouteSlot(Arc<OnceLock<Arc<str>>>);

/// Put right around the route tree: notes the template of the route that answered.
pub(crate) async fn note_route<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    let slot = req.data::<RouteSlot>().cloned();
    let result = ep.call(req).await.map(IntoResponse::into_response);
    if let Some(slot) = slot {
        let pattern = match &result {
            Ok(res) => res.data::<PathPattern>(),
            Err(e) => e.data::<PathPattern>(),
        };
        if let Some(p) = pattern {
            let _ = slot.0.set(p.0.clone());
        }
    }
    result
}

/// The target of the line each answered request logs (its status, route and duration): at
/// `debug`, so off under the default `RUST_LOG` (the reverse proxy's access log has every
/// request; `RUST_LOG=info,halle::access=debug` turns the lines on), and at `warn`, shown by
/// default, for an answer of status 5xx or one that took [`SLOW`] or more.
///
/// Measured (read bench, side by side): a line per request at `info` cost 15 – 18 % of the
/// shop page's rate, span and metrics aside; see BENCHMARKS.md, issue 8, seventh session.
pub(crate) const ACCESS: &str = "halle::access";

/// An answer this slow is logged at `warn`.
const SLOW: Duration = Duration::from_secs(1);

/// The outermost layer: gives the request its id (the client's `X-Request-Id` when it is a
/// sane one, else a new random one), runs it inside a `request` span carrying that id, and
/// records its route, status and duration (the `halle_http_request_duration_seconds`
/// histogram; a log line under [`ACCESS`]).
pub(crate) async fn observe<E: Endpoint>(ep: &E, mut req: Request) -> poem::Result<Response> {
    let id = request_id(&req);
    let slot = RouteSlot::default();
    req.set_data(slot.clone());
    let method = req.method().clone();
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %method,
        path = %req.uri().path()
    );
    let started = Instant::now();
    async move {
        let mut res = match ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        crate::headers::secure(&mut res);
        let elapsed = started.elapsed();
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        let status = res.status();
        let route = slot.0.get().map_or("unmatched", |r| &**r).to_owned();
        if prometheus().is_some() {
            metrics::histogram!(
                HTTP_SECONDS,
                "method" => method.as_str().to_owned(),
                "route" => route.clone(),
                "status" => status.as_str().to_owned()
            )
            .record(elapsed.as_secs_f64());
        }
        let ms = elapsed.as_secs_f64() * 1000.0;
        if status.is_server_error() || elapsed >= SLOW {
            tracing::warn!(target: ACCESS, status = status.as_u16(), route = %route, ms, "answered");
        } else {
            tracing::debug!(target: ACCESS, status = status.as_u16(), route = %route, ms, "answered");
        }
        Ok(res)
    }
    .instrument(span)
    .await
}

/// The client's request id when it is 1 to 64 letters, digits, `-`, `_` or `.`; else a fresh
/// one (16 random bytes in hex).
fn request_id(req: &Request) -> String {
    let given = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            (1..=64).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    match given {
        Some(s) => s.to_owned(),
        None => hex::encode(rand::random::<[u8; 16]>()),
    }
}

#[cfg(test)]
mod tests {
    use super::{backlog_text, request_id};

    #[test]
    fn the_backlog_reads_as_three_gauges() {
        let now = chrono::Utc::now();
        let text = backlog_text(
            &store::outbox::Backlog {
                pending: 12,
                failed: 3,
                oldest_pending: Some(now - chrono::Duration::milliseconds(90_500)),
            },
            now,
        );
        assert!(text.contains("\nhalle_mail_outbox_pending 12\n"), "{text}");
        assert!(text.contains("\nhalle_mail_outbox_failed 3\n"), "{text}");
        assert!(
            text.contains("\nhalle_mail_outbox_oldest_pending_seconds 90.5\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE halle_mail_outbox_pending gauge\n"));
        let empty = backlog_text(&store::outbox::Backlog::default(), now);
        assert!(
            empty.contains("\nhalle_mail_outbox_oldest_pending_seconds 0\n"),
            "{empty}"
        );
    }

    #[test]
    fn a_sane_request_id_is_kept_and_any_other_replaced() {
        let with = |v: &str| {
            request_id(
                &poem::Request::builder()
                    .header(super::REQUEST_ID, v)
                    .finish(),
            )
        };
        assert_eq!(with("abc-123_X.y"), "abc-123_X.y");
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let id = with(bad);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 32);
        }
    }
}
