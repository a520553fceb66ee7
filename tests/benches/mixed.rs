//! Baskets while the heavy work runs: the demo market on a real server, consumers placing
//! baskets in the open cycle, first alone, then while coordinators keep asking for co-delivery
//! round plans (40 farms, every pickup point) and PDF sheets and picking lists of the closed
//! cycle. Prints the baskets' p50/p99 in both phases and what the heavy requests got.
//!
//! Route planning and rendering run on blocking threads behind a bounded gate (`store::gate`):
//! on the async workers, two of them at once stopped order taking on 2 cores. What is measured
//! here is that the baskets' latency stays of the same order while they run; a heavy request
//! past the gate's queue is answered 503 with Retry-After, never left to pile up.
//!
//! ```text
//! cargo bench -p halle-tests --bench mixed                # SQLite
//! MIXED_DB=postgres cargo bench -p halle-tests --bench mixed
//! ```
//! Settings: `MIXED_CLIENTS` (20) consumers, each placing `MIXED_BASKETS` (15) baskets a phase
//! one after the other; `MIXED_HEAVY` (4) coordinators asking for plans and PDFs in a loop.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

/// The server's allocator, as `halle` has it (crates/halle/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use store::{Role, Store};
use web::Application;

const DEMO: &str = include_str!("../../fixtures/demo.json");

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one heavy request got.
#[derive(Default)]
struct Heavy {
    done: AtomicUsize,
    busy: AtomicUsize,
    failed: AtomicUsize,
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// Baskets of one line each, one after the other, from every client at once; their latencies.
async fn baskets(
    http: &reqwest::Client,
    base: &str,
    cycle: i64,
    slot: i64,
    offers: &[(i64, String)],
    tokens: &[String],
    per_client: usize,
) -> (Vec<Duration>, usize) {
    let runs = tokens.iter().enumerate().map(|(c, token)| async move {
        let mut times = Vec::with_capacity(per_client);
        let mut errors = 0;
        for n in 0..per_client {
            let (offer, step) = &offers[(c * 7 + n) % offers.len()];
            let started = Instant::now();
            let resp = http
                .post(format!("{base}/api/v1/cycles/{cycle}/orders"))
                .bearer_auth(token)
                .json(&json!({"slot_id": slot, "lines": [{"offer_id": offer, "quantity": step}]}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let _ = resp.bytes().await;
            times.push(started.elapsed());
            // 409: sold out, a fast and proper answer; anything else is an error.
            if !matches!(status, 201 | 409) {
                errors += 1;
            }
        }
        (times, errors)
    });
    let mut all = Vec::new();
    let mut errors = 0;
    for (t, e) in futures_util::future::join_all(runs).await {
        all.extend(t);
        errors += e;
    }
    all.sort();
    (all, errors)
}

async fn run(label: &str, store: Store) {
    store.migrate().await.unwrap();
    let demo = store::fixtures::load_demo(&store, DEMO, chrono::Utc::now())
        .await
        .unwrap();
    let app = Application::bind("127.0.0.1:0", store.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();

    let clients = setting("MIXED_CLIENTS", 20);
    let per_client = setting("MIXED_BASKETS", 15);
    let heavy_workers = setting("MIXED_HEAVY", 4);
    let hash = store::hash_password("mixed".into()).await.unwrap();
    let mut tokens = Vec::new();
    for i in 0..clients {
        let email = format!("client{i}@mixed.example.org");
        store
            .insert_account_with_hash(
                &email,
                hash.clone(),
                format!("Client {i}"),
                None,
                Role::Consumer,
                None,
                None,
            )
            .await
            .unwrap();
        tokens.push(store.issue_token(&email, "mixed").await.unwrap().token);
    }
    let coordinator = demo
        .logins
        .iter()
        .find(|(role, _)| role == "coordinator")
        .map(|(_, email)| email.clone())
        .unwrap();
    let coordinator = store
        .issue_token(&coordinator, store::fixtures::DEMO_PASSWORD)
        .await
        .unwrap()
        .token;

    // The open cycle's slot and offers (one step of each), the closed cycle's slots, the farms.
    let open = json_of(
        http.get(format!("{base}/api/v1/cycles/{}", demo.open_cycle_id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let slot = open["slots"][0]["id"].as_i64().unwrap();
    let offers: Vec<(i64, String)> = open["offers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["stock_left"] != "0")
        .map(|o| {
            (
                o["id"].as_i64().unwrap(),
                o["step"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let closed = json_of(
        http.get(format!("{base}/api/v1/cycles/{}", demo.closed_cycle_id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let slots: Vec<i64> = closed["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let first_slot: chrono::DateTime<chrono::Utc> = closed["slots"][0]["starts_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let producers: Vec<i64> = json_of(
        http.get(format!(
            "{base}/api/v1/markets/{}/producers",
            demo.market_id
        ))
        .send()
        .await
        .unwrap(),
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|p| p["id"].as_i64().unwrap())
    .collect();
    let round = json!({
        "name": "Tournée du jeudi",
        "start": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "end": {"name": "Dépôt", "latitude": 46.65, "longitude": -0.25},
        "departure": (first_slot - chrono::Duration::hours(10)).to_rfc3339(),
        "capacity_crates": 400,
        "producer_ids": producers,
        "slot_ids": slots,
    });

    // Warm up: connections, caches, one plan and one PDF (not timed).
    let _ = baskets(&http, &base, demo.open_cycle_id, slot, &offers, &tokens, 1).await;
    let started = Instant::now();
    let one_plan = http
        .post(format!(
            "{base}/api/v1/cycles/{}/rounds",
            demo.closed_cycle_id
        ))
        .bearer_auth(&coordinator)
        .json(&round)
        .send()
        .await
        .unwrap();
    assert_eq!(one_plan.status().as_u16(), 201, "a round plan");
    let plan_time = started.elapsed();

    let (idle, idle_errors) = baskets(
        &http,
        &base,
        demo.open_cycle_id,
        slot,
        &offers,
        &tokens,
        per_client,
    )
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let plans = Arc::new(Heavy::default());
    let pdfs = Arc::new(Heavy::default());
    let workers: Vec<_> = (0..heavy_workers)
        .map(|w| {
            let (http, base, coordinator, round) = (
                http.clone(),
                base.clone(),
                coordinator.clone(),
                round.clone(),
            );
            let (stop, plans, pdfs) = (stop.clone(), plans.clone(), pdfs.clone());
            let cycle = demo.closed_cycle_id;
            tokio::spawn(async move {
                let mut n = w;
                while !stop.load(Ordering::Relaxed) {
                    let (req, tally) = match n % 3 {
                        0 => (
                            http.post(format!("{base}/api/v1/cycles/{cycle}/rounds"))
                                .json(&round),
                            &plans,
                        ),
                        1 => (
                            http.get(format!("{base}/api/v1/cycles/{cycle}/sheets?format=pdf")),
                            &pdfs,
                        ),
                        _ => (
                            http.get(format!(
                                "{base}/api/v1/cycles/{cycle}/picking-lists?format=pdf"
                            )),
                            &pdfs,
                        ),
                    };
                    let resp = req.bearer_auth(&coordinator).send().await.unwrap();
                    let status = resp.status().as_u16();
                    let _ = resp.bytes().await;
                    match status {
                        200 | 201 => tally.done.fetch_add(1, Ordering::Relaxed),
                        503 => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            tally.busy.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => tally.failed.fetch_add(1, Ordering::Relaxed),
                    };
                    n += 1;
                }
            })
        })
        .collect();
    // Let the heavy work get going before the baskets come.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (busy, busy_errors) = baskets(
        &http,
        &base,
        demo.open_cycle_id,
        slot,
        &offers,
        &tokens,
        per_client,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    println!(
        "mixed {label:<8} one round plan ({} farms, {} slots) alone: {:.0} ms",
        producers.len(),
        slots.len(),
        ms(plan_time)
    );
    println!(
        "mixed {label:<8} {} baskets alone:            p50 {:.1} ms, p99 {:.1} ms, slowest {:.1} ms; errors {idle_errors}",
        idle.len(),
        ms(percentile(&idle, 0.5)),
        ms(percentile(&idle, 0.99)),
        ms(idle.last().copied().unwrap_or_default()),
    );
    println!(
        "mixed {label:<8} {} baskets among heavy work: p50 {:.1} ms, p99 {:.1} ms, slowest {:.1} ms; errors {busy_errors}",
        busy.len(),
        ms(percentile(&busy, 0.5)),
        ms(percentile(&busy, 0.99)),
        ms(busy.last().copied().unwrap_or_default()),
    );
    for (what, t) in [("round plans", &plans), ("PDFs", &pdfs)] {
        println!(
            "mixed {label:<8} meanwhile {what}: {} done, {} answered 503 (busy), {} failed",
            t.done.load(Ordering::Relaxed),
            t.busy.load(Ordering::Relaxed),
            t.failed.load(Ordering::Relaxed),
        );
    }
    assert_eq!(idle_errors + busy_errors, 0, "baskets failed");
    assert_eq!(
        plans.failed.load(Ordering::Relaxed) + pdfs.failed.load(Ordering::Relaxed),
        0,
        "heavy requests failed"
    );
}

fn main() {
    let which = std::env::var("MIXED_DB").unwrap_or_else(|_| "sqlite".into());
    // The runtime `halle serve` runs on.
    let rt = web::server_runtime().unwrap();
    rt.block_on(async {
        if which == "sqlite" || which == "both" {
            let file = std::env::temp_dir().join(format!("halle-mixed-{}.db", std::process::id()));
            let store = Store::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            run("sqlite", store).await;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = file.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        if which == "postgres" || which == "both" {
            let url = std::env::var("HALLE_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let schema = format!("halle_mixed_{}", std::process::id());
            let admin = sea_orm::Database::connect(url.as_str())
                .await
                .expect("PostgreSQL is needed for this benchmark");
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .unwrap();
            let store = Store::connect_with(
                &url,
                &store::StoreOptions {
                    pg_schema: Some(schema.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            run("postgres", store).await;
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        }
    });
}
