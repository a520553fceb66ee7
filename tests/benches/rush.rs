//! The Monday-evening rush: a real Halle server, 200 concurrent clients each placing baskets of
//! 5 lines over 20 hot offers until every offer is sold out, on SQLite and on PostgreSQL.
//!
//! Prints orders per second, p50/p99 latency of accepted orders, and units oversold (must be 0).
//! Before the rush each client opens the week's offers and its own orders (not timed), as a
//! consumer does before ordering; that also opens its connection.
//!
//! ```text
//! cargo bench -p halle-tests --bench rush                    # both databases
//! RUSH_DB=postgres RUSH_STOCK=5000 cargo bench -p halle-tests --bench rush
//! ```
//! With `RUSH_RATE=N`, the clients together send N orders a second at a steady pace (an
//! open-loop load, like real consumers who do not all click at the same instant) instead of
//! each sending its next order as soon as the last is answered: with 200 clients in a closed
//! loop, the mean latency is 200 / throughput by Little's law, whatever the server does.
//!
//! Settings (environment): `RUSH_DB` = sqlite | postgres | both, `RUSH_CLIENTS` (200),
//! `RUSH_OFFERS` (20), `RUSH_LINES` (5), `RUSH_STOCK` per offer (2500), `RUSH_RATE` (0: closed
//! loop), `RUSH_KEYS` (1: every order carries an `Idempotency-Key`, 0 by default),
//! `RUSH_WARMUP` (0: no browsing first, every client connects with its first order),
//! `HALLE_TEST_PG_URL` (postgres://postgres@127.0.0.1:5432/test).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

/// The server's allocator, as `halle` has it (crates/halle/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use domain::{Money, ProductPricing, Quantity, Unit, VatRate};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use store::{
    Actor, NewCycle, NewMarket, NewPickupPoint, NewProducer, NewProduct, NewSlot, OfferInput, Role,
    Store,
};
use web::Application;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Setup {
    base: String,
    cycle_id: i64,
    slot_id: i64,
    offers: Vec<i64>,
    tokens: Vec<String>,
}

async fn setup(store: &Store, clients: usize, n_offers: usize, stock: usize) -> Setup {
    let root = Actor {
        account_id: 0,
        name: "bench".into(),
        email: String::new(),
        role: Role::Admin,
        producer_id: None,
        market_id: None,
        unconfirmed_token: None,
    };
    let market = store
        .create_market(
            &root,
            NewMarket {
                name: "Rush".into(),
                slug: "rush".into(),
                timezone: "Europe/Paris".into(),
                description: String::new(),
                city: "Parthenay".into(),
                latitude: 46.65,
                longitude: -0.25,
            },
        )
        .await
        .unwrap();
    let point = store
        .create_pickup_point(
            &root,
            market.id,
            NewPickupPoint {
                name: "Salle des fêtes".into(),
                address: "Place du Drapeau".into(),
                postal_code: "79200".into(),
                city: "Parthenay".into(),
                latitude: 46.65,
                longitude: -0.25,
                host_kind: "town_hall".into(),
                host_name: "Ville".into(),
                access_notes: String::new(),
            },
        )
        .await
        .unwrap();
    let producer = store
        .create_producer(
            &root,
            market.id,
            NewProducer {
                name: "Ferme".into(),
                farmer_name: "Camille".into(),
                description: String::new(),
                address: "La Touche".into(),
                postal_code: "79200".into(),
                city: "Le Tallud".into(),
                latitude: 46.61,
                longitude: -0.31,
                phone: None,
                email: None,
                website: None,
                social: None,
            },
        )
        .await
        .unwrap();
    let mut inputs = Vec::new();
    for i in 0..n_offers {
        let p = store
            .create_product(
                &root,
                producer.id,
                NewProduct {
                    name: format!("Cagette {i}"),
                    description: None,
                    pricing: ProductPricing {
                        unit: Unit::Piece,
                        price: Money::from_cents(350 + i as i64 * 10),
                        vat: VatRate::REDUCED_5_5,
                        variable_weight: None,
                    },
                    step: None,
                    category: domain::Category::Vegetables,
                    reference: None,
                },
            )
            .await
            .unwrap();
        inputs.push(OfferInput {
            product_id: p.id,
            price: None,
            stock: Quantity::from_milli(stock as i64 * 1000),
        });
    }
    let now = Utc::now();
    let cycle = store
        .create_cycle(
            &root,
            market.id,
            NewCycle {
                name: "Semaine du rush".into(),
                opens_at: now - chrono::Duration::hours(1),
                closes_at: now + chrono::Duration::days(2),
                slots: vec![NewSlot {
                    pickup_point_id: point.id,
                    starts_at: now + chrono::Duration::days(3),
                    ends_at: now + chrono::Duration::days(3) + chrono::Duration::hours(2),
                }],
            },
        )
        .await
        .unwrap();
    store
        .transition_cycle(&root, cycle.cycle.id, domain::CycleState::Open)
        .await
        .unwrap();
    let offers = store
        .set_offers(&root, cycle.cycle.id, producer.id, inputs)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    let hash = store::hash_password("rush".into()).await.unwrap();
    let mut tokens = Vec::new();
    for i in 0..clients {
        let email = format!("client{i}@rush.example.org");
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
        tokens.push(store.issue_token(&email, "rush").await.unwrap().token);
    }
    let app = Application::bind("127.0.0.1:0", store.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run());
    Setup {
        base,
        cycle_id: cycle.cycle.id,
        slot_id: cycle.slots[0].id,
        offers,
        tokens,
    }
}

/// A tiny deterministic generator per client, so that runs are comparable.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

struct ClientResult {
    latencies: Vec<Duration>,
    /// The client's first request, whatever its answer.
    first: Option<Duration>,
    placed: usize,
    refused: usize,
    errors: usize,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one client's whole configuration"
)]
async fn client(
    http: reqwest::Client,
    url: String,
    token: String,
    slot_id: i64,
    offers: Arc<Vec<i64>>,
    lines: usize,
    seed: u64,
    pace: Option<Duration>,
    keys: bool,
) -> ClientResult {
    let mut sent = 0u64;
    let mut dice = Dice(seed | 1);
    let mut ticker = pace.map(|p| {
        // Spread the clients' first orders over one period.
        let offset = p.mul_f64((seed % 1000) as f64 / 1000.0);
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let mut sold_out: HashSet<i64> = HashSet::new();
    let mut r = ClientResult {
        latencies: Vec::new(),
        first: None,
        placed: 0,
        refused: 0,
        errors: 0,
    };
    loop {
        let left: Vec<i64> = offers
            .iter()
            .copied()
            .filter(|o| !sold_out.contains(o))
            .collect();
        if left.is_empty() {
            return r;
        }
        let mut picked = Vec::new();
        while picked.len() < lines.min(left.len()) {
            let o = left[dice.below(left.len())];
            if !picked.contains(&o) {
                picked.push(o);
            }
        }
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let body = json!({
            "slot_id": slot_id,
            "lines": picked.iter().map(|o| json!({"offer_id": o, "quantity": 1})).collect::<Vec<_>>()
        });
        let started = Instant::now();
        let mut request = http.post(&url).bearer_auth(&token).json(&body);
        if keys {
            // As a careful client does, so that a retry never places a second basket.
            request = request.header("Idempotency-Key", format!("{seed:x}-{sent}"));
        }
        sent += 1;
        let resp = request.send().await;
        r.first.get_or_insert_with(|| started.elapsed());
        match resp {
            Ok(resp) if resp.status().as_u16() == 201 => {
                let _ = resp.bytes().await;
                r.latencies.push(started.elapsed());
                r.placed += 1;
            }
            Ok(resp) if resp.status().as_u16() == 409 => {
                let v: serde_json::Value = resp.json().await.unwrap_or_default();
                r.refused += 1;
                if v["code"] == "insufficient_stock" {
                    if let Some(id) = v["offer_id"].as_i64() {
                        sold_out.insert(id);
                    }
                } else {
                    r.errors += 1;
                }
            }
            Ok(resp) => {
                r.errors += 1;
                eprintln!(
                    "unexpected {}: {}",
                    resp.status(),
                    resp.text().await.unwrap_or_default()
                );
                if r.errors > 20 {
                    return r;
                }
            }
            Err(e) => {
                r.errors += 1;
                eprintln!("request failed: {e}");
                if r.errors > 20 {
                    return r;
                }
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run(label: &str, store: Store) {
    let clients = setting("RUSH_CLIENTS", 200);
    let n_offers = setting("RUSH_OFFERS", 20);
    let lines = setting("RUSH_LINES", 5);
    let stock = setting("RUSH_STOCK", 2500);
    let rate = setting("RUSH_RATE", 0);
    let keys = setting("RUSH_KEYS", 0) == 1;
    let pace = (rate > 0).then(|| Duration::from_secs_f64(clients as f64 / rate as f64));
    store.migrate().await.unwrap();
    let s = setup(&store, clients, n_offers, stock).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let url = format!("{}/api/v1/cycles/{}/orders", s.base, s.cycle_id);
    let offers = Arc::new(s.offers.clone());
    // Before the rush, each consumer does what one does before ordering: opens the week's
    // offers and their own orders (logged in). This opens the clients' connections, as a
    // browser's would be, so that the figures are those of the rush, not of 200 TCP handshakes
    // and token look-ups arriving in the same millisecond. Not timed.
    let warm_up: Vec<_> = s
        .tokens
        .iter()
        .filter(|_| setting("RUSH_WARMUP", 1) == 1)
        .map(|token| {
            let http = http.clone();
            let cycle = format!("{}/api/v1/cycles/{}", s.base, s.cycle_id);
            let mine = format!("{}/api/v1/me/orders", s.base);
            let token = token.clone();
            tokio::spawn(async move {
                for url in [cycle, mine] {
                    let resp = http.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert!(resp.status().is_success(), "{url}: {}", resp.status());
                    let _ = resp.bytes().await;
                }
            })
        })
        .collect();
    for w in warm_up {
        w.await.unwrap();
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, token) in s.tokens.into_iter().enumerate() {
        tasks.push(tokio::spawn(client(
            http.clone(),
            url.clone(),
            token,
            s.slot_id,
            offers.clone(),
            lines,
            0x9E37_79B9 ^ (i as u64 * 7919),
            pace,
            keys,
        )));
    }
    let mut latencies = Vec::new();
    let mut firsts = Vec::new();
    let (mut placed, mut refused, mut errors) = (0, 0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        latencies.extend(r.latencies);
        firsts.extend(r.first);
        placed += r.placed;
        refused += r.refused;
        errors += r.errors;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    firsts.sort_unstable();

    // What the database says was sold, against what was on sale.
    let backend = store.db().get_database_backend();
    let rows = store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT o.id, o.stock_total_milli, o.stock_left_milli, CAST(COALESCE(SUM(l.quantity_milli), 0) AS BIGINT) AS sold
                 FROM offers o
                 LEFT JOIN order_lines l ON l.offer_id = o.id
                 LEFT JOIN orders r ON r.id = l.order_id AND r.status = 'placed'
                 WHERE o.cycle_id = {} GROUP BY o.id, o.stock_total_milli, o.stock_left_milli",
                s.cycle_id
            ),
        ))
        .await
        .unwrap();
    let (mut oversold, mut sold_units, mut negative) = (0i64, 0i64, 0);
    for row in rows {
        let total: i64 = row.try_get("", "stock_total_milli").unwrap();
        let left: i64 = row.try_get("", "stock_left_milli").unwrap();
        let sold: i64 = row.try_get("", "sold").unwrap();
        oversold += (sold - total).max(0) / 1000;
        sold_units += sold / 1000;
        if left < 0 {
            negative += 1;
        }
        assert_eq!(
            left,
            total - sold,
            "stock left must equal stock minus what was sold"
        );
    }
    let orders_per_s = placed as f64 / elapsed.as_secs_f64();
    println!(
        "rush {label:<8} clients={clients} offers={n_offers} lines={lines} stock/offer={stock} keys={keys} warm-up={} rate={}: \
         {placed} orders in {:.2} s = {orders_per_s:.0} orders/s; p50 {:.1} ms, p99 {:.1} ms; \
         {refused} refused (sold out), {errors} errors; units sold {sold_units} of {}; oversold {oversold}; negative stock rows {negative}",
        setting("RUSH_WARMUP", 1) == 1,
        if rate > 0 {
            format!("{rate}/s")
        } else {
            "closed-loop".into()
        },
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        n_offers * stock,
    );
    println!(
        "rush {label:<8} each client's first order: p50 {:.1} ms, slowest {:.1} ms",
        percentile(&firsts, 0.50).as_secs_f64() * 1000.0,
        firsts.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    assert_eq!(oversold, 0, "units oversold");
    assert_eq!(errors, 0, "unexpected errors");
}

fn main() {
    let which = std::env::var("RUSH_DB").unwrap_or_else(|_| "both".into());
    // The runtime `halle serve` runs on.
    let rt = web::server_runtime().unwrap();
    rt.block_on(async {
        if which == "sqlite" || which == "both" {
            let dir = std::env::temp_dir().join(format!("halle-rush-{}.db", std::process::id()));
            let store = Store::connect(&format!("sqlite://{}", dir.display()))
                .await
                .unwrap();
            run("sqlite", store).await;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = dir.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        if which == "postgres" || which == "both" {
            let url = std::env::var("HALLE_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let schema = format!("halle_rush_{}", std::process::id());
            let admin = Store::connect(&url)
                .await
                .expect("PostgreSQL is needed for the rush benchmark");
            admin
                .db()
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
                .db()
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        }
    });
}
