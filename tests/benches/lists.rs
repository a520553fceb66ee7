//! Picking lists and distribution sheets of a big week, loaded from PostgreSQL.
//!
//! Generates (in SQL, through the real schema) a closed cycle of 10,000 orders of 6 lines from
//! 200 producers over 20 pickup points, then times, five times each: loading the cycle's data
//! from the database; computing every picking list and every distribution sheet; and rendering
//! one producer's picking list to PDF. Prints the median and worst run.
//!
//! ```text
//! cargo bench -p halle-tests --bench lists
//! ```
//! `HALLE_TEST_PG_URL` (postgres://postgres@127.0.0.1:5432/test) selects the server.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use store::{LineFilter, Store};

const ORDERS: i64 = 10_000;
const LINES_PER_ORDER: i64 = 6;
const PRODUCERS: i64 = 200;
const PRODUCTS_PER_PRODUCER: i64 = 10;
const POINTS: i64 = 20;

/// The whole week, generated set-wise so that setting up takes seconds, not minutes.
const GENERATE: &str = r#"
INSERT INTO markets (id, name, slug, timezone, description, city, latitude, longitude, created_at)
VALUES (1, 'Grand marché', 'grand', 'Europe/Paris', '', 'Parthenay', 46.65, -0.25, now());
INSERT INTO pickup_points (id, market_id, name, address, postal_code, city, latitude, longitude, host_kind, host_name, access_notes, created_at)
SELECT g, 1, 'Point ' || g, g || ' place de la Mairie', '79200', 'Parthenay', 46.6, -0.2, 'town_hall', 'Ville', '', now()
FROM generate_series(1, {points}) g;
INSERT INTO producers (id, name, farmer_name, description, address, postal_code, city, latitude, longitude, created_at)
SELECT g, 'Ferme ' || g, 'Paysan ' || g, '', 'Lieu-dit ' || g, '79000', 'Village', 46.5, -0.3, now()
FROM generate_series(1, {producers}) g;
INSERT INTO market_producers (market_id, producer_id) SELECT 1, g FROM generate_series(1, {producers}) g;
INSERT INTO products (id, producer_id, name, description, unit, price_cents, vat_basis_points, step_milli, variable_weight, estimated_weight_milli, active, created_at, updated_at)
SELECT g, (g - 1) / {per_producer} + 1, 'Produit ' || g, NULL,
       CASE WHEN g % 3 = 0 THEN 'kg' ELSE 'piece' END, 150 + g % 900, 550,
       CASE WHEN g % 3 = 0 THEN 500 ELSE 1000 END,
       g % 10 = 7, CASE WHEN g % 10 = 7 THEN 1800 END, true, now(), now()
FROM generate_series(1, {products}) g;
INSERT INTO order_cycles (id, market_id, name, opens_at, closes_at, state, created_at)
VALUES (1, 1, 'Semaine 48', now() - interval '7 days', now() - interval '1 hour', 'closed', now());
INSERT INTO distribution_slots (id, cycle_id, pickup_point_id, starts_at, ends_at, cancelled)
SELECT g, 1, g, now() + interval '1 day', now() + interval '1 day 2 hours', false FROM generate_series(1, {points}) g;
INSERT INTO offers (id, cycle_id, product_id, producer_id, price_cents, stock_total_milli, stock_left_milli, updated_at)
SELECT p.id, 1, p.id, p.producer_id, p.price_cents, 1000000000, 1000000000, now() FROM products p;
INSERT INTO accounts (id, email, password_hash, name, phone, role, created_at)
SELECT g, 'client' || g || '@example.org', 'x', 'Client ' || lpad(g::text, 5, '0'), NULL, 'consumer', now()
FROM generate_series(1, {orders}) g;
INSERT INTO orders (id, cycle_id, account_id, slot_id, placed_by, status, created_at, updated_at, collection)
SELECT g, 1, g, (g - 1) % {points} + 1, g, 'placed', now(), now(), 'pending' FROM generate_series(1, {orders}) g;
INSERT INTO order_lines (order_id, offer_id, quantity_milli, unit_price_cents, vat_basis_points, kg_price_cents)
SELECT o, f, CASE WHEN p.unit = 'kg' THEN 1500 ELSE 2000 END,
       CASE WHEN p.variable_weight THEN (p.price_cents * 18) / 10 ELSE p.price_cents END, 550,
       CASE WHEN p.variable_weight THEN p.price_cents END
FROM generate_series(1, {orders}) o
CROSS JOIN generate_series(0, {lines} - 1) k
CROSS JOIN LATERAL (SELECT ((o * 7 + k * 331) % {products}) + 1 AS f) pick
JOIN products p ON p.id = pick.f;
"#;

fn timed<T>(runs: &mut Vec<Duration>, started: Instant, value: T) -> T {
    runs.push(started.elapsed());
    value
}

fn summary(label: &str, runs: &mut [Duration]) {
    runs.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<46} median {:>8.1} ms   worst {:>8.1} ms   ({} runs)",
        ms(runs[runs.len() / 2]),
        ms(runs[runs.len() - 1]),
        runs.len()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = std::env::var("HALLE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("halle_lists_{}", std::process::id());
        let admin = Store::connect(&url).await.expect("PostgreSQL is needed for this benchmark");
        admin.db().execute_unprepared(&format!("CREATE SCHEMA \"{schema}\"")).await.unwrap();
        let store = Store::connect_with(
            &url,
            &store::StoreOptions {
                pg_schema: Some(schema.clone()),
                ..Default::default()
            },
        ).await.unwrap();
        store.migrate().await.unwrap();
        let started = Instant::now();
        let sql = GENERATE
            .replace("{points}", &POINTS.to_string())
            .replace("{producers}", &PRODUCERS.to_string())
            .replace("{per_producer}", &PRODUCTS_PER_PRODUCER.to_string())
            .replace("{products}", &(PRODUCERS * PRODUCTS_PER_PRODUCER).to_string())
            .replace("{orders}", &ORDERS.to_string())
            .replace("{lines}", &LINES_PER_ORDER.to_string());
        store.db().execute_unprepared(&sql).await.unwrap();
        store.db().execute_unprepared("ANALYZE").await.unwrap();
        println!(
            "generated {ORDERS} orders x {LINES_PER_ORDER} lines, {PRODUCERS} producers, {POINTS} pickup points in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let (mut load, mut compute, mut total, mut pdf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut counts = (0, 0, 0);
        for _ in 0..5 {
            let t0 = Instant::now();
            let data = timed(&mut load, t0, store.cycle_data(1, LineFilter::default()).await.unwrap());
            let t1 = Instant::now();
            let lists = distribution::picking_lists(&data.cycle, &data.slots, &data.lines);
            let sheets = distribution::distribution_sheets(&data.cycle, &data.slots, &data.lines, &data.states);
            timed(&mut compute, t1, ());
            timed(&mut total, t0, ());
            counts = (data.lines.len(), lists.len(), sheets.len());
        }
        let (_, lists) = {
            let data = store.cycle_data(1, LineFilter::default()).await.unwrap();
            (data.lines.len(), distribution::picking_lists(&data.cycle, &data.slots, &data.lines))
        };
        let one = &lists[0];
        for _ in 0..20 {
            let t = Instant::now();
            let doc = print::picking_lists(std::slice::from_ref(one), print::Format::Pdf, print::Lang::Fr).unwrap();
            timed(&mut pdf, t, doc);
        }
        println!("{} lines -> {} picking lists, {} distribution sheets", counts.0, counts.1, counts.2);
        summary("load the cycle from PostgreSQL", &mut load);
        summary("compute all picking lists and sheets", &mut compute);
        summary("load + compute (target < 500 ms)", &mut total);
        summary("one producer's picking list as PDF (< 50 ms)", &mut pdf);
        admin
            .db()
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .unwrap();
    });
}
