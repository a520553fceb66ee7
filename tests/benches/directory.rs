//! The directory at ten times the Nouvelle-Aquitaine one, on PostgreSQL: 20,000 published
//! producers, 5,000 pickup points of 100 markets (half with a slot in the next days), 100,000
//! confirmed alert subscriptions, all spread over the region (43°–47° N, 1.8° W–2.5° E),
//! generated set-wise in SQL through the real schema (seconds, bounded: the run stops if it
//! takes more than two minutes).
//!
//! Then, in one run:
//! 1. the directory loaded into memory (the first search after the data is written: the time
//!    to read it and build its R-trees);
//! 2. a real Halle server (in this process) loaded by `wrk` (`-t2`, `DIR_CLIENTS` (200)
//!    connections, `DIR_SECONDS` (10), closed loop: each connection sends its next query when
//!    the last is answered) with a Lua script cycling through 2,000 searches of
//!    `/api/v1/directory/search` (by postcode when the places dataset is installed, else by
//!    coordinates; radius 5–100 km; categories, label, "collect near here"): p50, p99, req/s.
//!    wrk is C and light: the client side no longer eats the server's CPU as 200 in-process
//!    Rust clients did (tests/tools/install-bench-tools installs it);
//! 3. the same queries answered in-process, side by side at the same concurrency for
//!    `DIR_SCAN_QUERIES` (600) queries each: from memory (`Store::search_directory`), by the SQL
//!    bounding box (`Store::search_directory_sql`) and by the brute-force scan of every
//!    producer and point (`Store::search_directory_scan`);
//! 4. on a sample of `DIR_CHECK` (100) queries, the three answers compared whole (ids, names,
//!    distances, next slots, totals, next page);
//! 5. `DIR_PUBLISH` (30) new producers published one after the other: the time to save the
//!    entry and record (and queue the mail of) every matching subscriber, against a count of
//!    the matches computed here over all 100,000 subscriptions.
//!
//! ```text
//! cargo bench -p halle-tests --bench directory
//! ```
//! `HALLE_TEST_PG_URL` (postgres://postgres@127.0.0.1:5432/test) selects the server; the run
//! uses a schema of its own, dropped at the end.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

/// The server's allocator, as `halle` has it (crates/halle/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use distribution::directory::{Label, Point, distance_km};
use domain::Category;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use store::{DirectorySearch, EntryInput, Role, Store};
use web::Application;

#[path = "../support/wrk_time.rs"]
mod wrk_time;
#[path = "../support/xorshift.rs"]
mod xorshift;

use wrk_time::millis;
use xorshift::Rng;

const PRODUCERS: i64 = 20_000;
const MARKETS: i64 = 100;
const POINTS: i64 = 5_000;
const SUBSCRIPTIONS: i64 = 100_000;

/// The region, as a box: Nouvelle-Aquitaine's extent, roughly.
const LAT: (f64, f64) = (43.0, 47.0);
const LON: (f64, f64) = (-1.8, 2.5);

/// Postcodes of the region's towns, searched by when the places dataset is there.
const POSTCODES: [&str; 12] = [
    "79200", "79000", "86000", "33000", "87000", "64000", "17000", "16000", "24000", "19000",
    "23000", "40000",
];

const GENERATE: &str = r#"
SELECT setseed(0.42);
INSERT INTO markets (id, name, slug, timezone, description, city, latitude, longitude, created_at)
SELECT g, 'Marché ' || g, 'marche-' || g, 'Europe/Paris', '', 'Ville ' || g,
       {lat0} + random() * {dlat}, {lon0} + random() * {dlon}, now()
FROM generate_series(1, {markets}) g;
INSERT INTO pickup_points (id, market_id, name, address, postal_code, city, latitude, longitude, host_kind, host_name, access_notes, created_at)
SELECT g, (g - 1) % {markets} + 1, 'Point ' || g, g || ' place de la Mairie', '79200', 'Bourg ' || g,
       {lat0} + random() * {dlat}, {lon0} + random() * {dlon}, 'town_hall', 'Mairie', '', now()
FROM generate_series(1, {points}) g;
INSERT INTO order_cycles (id, market_id, name, opens_at, closes_at, state, created_at)
SELECT g, g, 'Semaine', now() - interval '1 day', now() + interval '2 days', 'open', now()
FROM generate_series(1, {markets}) g;
-- Half the points have a slot in three days ("collect near here"), the others in three weeks.
INSERT INTO distribution_slots (id, cycle_id, pickup_point_id, starts_at, ends_at, cancelled)
SELECT g, (g - 1) % {markets} + 1, g,
       now() + CASE WHEN g % 2 = 0 THEN interval '3 days' ELSE interval '21 days' END,
       now() + CASE WHEN g % 2 = 0 THEN interval '3 days 2 hours' ELSE interval '21 days 2 hours' END,
       false
FROM generate_series(1, {points}) g;
INSERT INTO producers (id, name, farmer_name, description, address, postal_code, city, latitude, longitude, created_at)
SELECT g, 'Ferme ' || g, 'Paysan ' || g, '', 'Lieu-dit ' || g, '79000', 'Village ' || g,
       {lat0} + random() * {dlat}, {lon0} + random() * {dlon}, now()
FROM generate_series(1, {producers}) g;
INSERT INTO market_producers (market_id, producer_id)
SELECT (g - 1) % {markets} + 1, g FROM generate_series(1, {producers}) g;
INSERT INTO directory_entries (producer_id, summary, categories, labels, contact_note, farm_gate, opening_hours, published, first_published_at, hidden, updated_at, updated_by)
SELECT g, 'Une ferme', ',' || (ARRAY[{categories}])[1 + g % 14] || ','
       || CASE WHEN g % 3 = 0 THEN (ARRAY[{categories}])[1 + (g / 14) % 14] || ',' ELSE '' END,
       CASE WHEN g % 4 = 0 THEN ',organic,' WHEN g % 7 = 0 THEN ',hve,' ELSE '' END,
       '', g % 5 = 0, '', true, now(), false, now(), NULL
FROM generate_series(1, {producers}) g;
INSERT INTO alert_subscriptions (id, email, postcode, latitude, longitude, radius_km, categories, weekly_digest, language, confirm_hash, unsubscribe_token, created_at, confirmed_at, unsubscribed_at)
SELECT g, 'abonne' || g || '@example.org', '79000',
       {lat0} + random() * {dlat}, {lon0} + random() * {dlon},
       (ARRAY[5, 10, 20, 30, 50, 100])[1 + g % 6],
       CASE WHEN g % 3 = 0 THEN '' ELSE ',' || (ARRAY[{categories}])[1 + g % 14] || ',' END,
       g % 5 = 0, 'fr', md5('c' || g) || md5('d' || g), md5('u' || g) || md5('v' || g),
       now(), now(), NULL
FROM generate_series(1, {subscriptions}) g;
SELECT setval(pg_get_serial_sequence('markets', 'id'), {markets});
SELECT setval(pg_get_serial_sequence('pickup_points', 'id'), {points});
SELECT setval(pg_get_serial_sequence('order_cycles', 'id'), {markets});
SELECT setval(pg_get_serial_sequence('distribution_slots', 'id'), {points});
SELECT setval(pg_get_serial_sequence('producers', 'id'), {producers});
SELECT setval(pg_get_serial_sequence('alert_subscriptions', 'id'), {subscriptions});
ANALYZE;
"#;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One query: where (a postcode or coordinates), and the search.
#[derive(Clone)]
struct Query {
    q: String,
    search: DirectorySearch,
}

impl Query {
    fn path(&self) -> String {
        let mut p = format!(
            "/api/v1/directory/search?q={}&radius_km={}",
            self.q, self.search.radius_km
        );
        let join = |slugs: Vec<&str>| slugs.join(",");
        if !self.search.categories.is_empty() {
            p += &format!(
                "&categories={}",
                join(self.search.categories.iter().map(|c| c.slug()).collect())
            );
        }
        if !self.search.labels.is_empty() {
            p += &format!(
                "&labels={}",
                join(self.search.labels.iter().map(|l| l.slug()).collect())
            );
        }
        if self.search.collect_near {
            p += "&collect=true";
        }
        p
    }
}

async fn queries(store: &Store, n: usize, with_places: bool) -> Vec<Query> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut postcodes = Vec::new();
    if with_places {
        for code in POSTCODES {
            if let Ok(place) = store.locate(code).await {
                postcodes.push((code.to_owned(), place.point));
            }
        }
    }
    (0..n)
        .map(|_| {
            let (q, center) = if !postcodes.is_empty() && rng.below(2) == 0 {
                postcodes[rng.below(postcodes.len())].clone()
            } else {
                let lat = LAT.0 + rng.unit() * (LAT.1 - LAT.0);
                let lon = LON.0 + rng.unit() * (LON.1 - LON.0);
                (format!("{lat:.4},{lon:.4}"), Point { lat, lon })
            };
            let radius_km = [5, 10, 20, 30, 50, 100][rng.below(6)];
            let categories = if rng.below(2) == 0 {
                vec![Category::ALL[rng.below(Category::ALL.len())]]
            } else {
                Vec::new()
            };
            let labels = if rng.below(4) == 0 {
                vec![Label::Organic]
            } else {
                Vec::new()
            };
            Query {
                q,
                search: DirectorySearch {
                    center,
                    radius_km,
                    categories,
                    labels,
                    collect_near: rng.below(4) == 0,
                    page: 0,
                },
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>, wall: Duration, errors: usize) {
    times.sort_unstable();
    println!(
        "{label:<44} {:>6} queries  {:>8.0} q/s  p50 {:>8.1} ms  p99 {:>8.1} ms  errors {errors}",
        times.len(),
        times.len() as f64 / wall.as_secs_f64(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
    );
}

/// wrk with `connections` connections for `seconds`, cycling through the queries (a Lua
/// script: each of its two threads walks the list from its own starting point).
fn over_http(base: &str, qs: &[Query], connections: usize, seconds: u64, label: &str) {
    let script = std::env::temp_dir().join(format!("halle-directory-{}.lua", std::process::id()));
    let mut lua = String::from("paths = {\n");
    for q in qs {
        lua += &format!("  \"{}\",\n", q.path());
    }
    lua += "}\ni = 0\nsetup = function(thread) thread:set(\"i\", math.random(#paths)) end\n\
            request = function()\n  i = (i % #paths) + 1\n  return wrk.format(\"GET\", paths[i])\nend\n";
    std::fs::write(&script, lua).unwrap();
    let out = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .output()
        .expect("wrk runs (tests/tools/install-bench-tools)");
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    let requests: f64 = field("Requests/sec:").parse().unwrap_or(f64::NAN);
    let errors = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Non-2xx or 3xx responses:"))
        .map_or("0".to_owned(), |v| v.trim().to_owned());
    let socket = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Socket errors:"))
        .map_or("none".to_owned(), |v| v.trim().to_owned());
    println!(
        "{label:<44} {requests:>8.0} req/s  p50 {:>8.1} ms  p99 {:>8.1} ms  non-2xx {errors}  socket errors {socket}",
        millis(&field("50%")),
        millis(&field("99%")),
    );
}

/// How a search is answered, in process.
#[derive(Clone, Copy)]
enum Way {
    Memory,
    Sql,
    Scan,
}

/// `total` queries through the store, `clients` at a time, one way.
async fn in_store(store: &Store, qs: Arc<Vec<Query>>, clients: usize, total: usize, way: Way) {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runs = (0..clients).map(|_| {
        let (store, qs, next) = (store.clone(), qs.clone(), next.clone());
        tokio::spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let s = &qs[i % qs.len()].search;
                let t = Instant::now();
                let r = match way {
                    Way::Memory => store.search_directory(s).await,
                    Way::Sql => store.search_directory_sql(s).await,
                    Way::Scan => store.search_directory_scan(s).await,
                };
                times.push(t.elapsed());
                errors += usize::from(r.is_err());
            }
            (times, errors)
        })
    });
    let mut all = Vec::new();
    let mut errors = 0;
    for r in futures_util::future::join_all(runs).await {
        let (t, e) = r.unwrap();
        all.extend(t);
        errors += e;
    }
    let label = match way {
        Way::Memory => "store, in memory (R-tree)",
        Way::Sql => "store, SQL bounding box",
        Way::Scan => "store, SQL brute-force scan",
    };
    report(
        &format!("{label}, {clients} at a time"),
        all,
        started.elapsed(),
        errors,
    );
}

/// The three ways' answers to the same queries, compared whole.
async fn compare(store: &Store, qs: &[Query]) {
    let mut found = 0;
    for q in qs {
        let a = store.search_directory(&q.search).await.unwrap();
        let b = store.search_directory_sql(&q.search).await.unwrap();
        let c = store.search_directory_scan(&q.search).await.unwrap();
        let (a, b, c) = (format!("{a:?}"), format!("{b:?}"), format!("{c:?}"));
        assert!(a == b, "memory and SQL differ for {}", q.path());
        assert!(a == c, "memory and the scan differ for {}", q.path());
        found += store
            .search_directory(&q.search)
            .await
            .unwrap()
            .producers_total;
    }
    println!(
        "memory == SQL bounding box == brute force on {} queries ({found} producers found in all)",
        qs.len()
    );
}

#[derive(FromQueryResult)]
struct Sub {
    latitude: f64,
    longitude: f64,
    radius_km: i32,
    categories: String,
}

/// New producers published one after the other; each one's matching time and matches.
async fn publish(store: &Store, n: usize) {
    let hash = store::hash_password("directory-bench".into())
        .await
        .unwrap();
    let admin = store
        .insert_account_with_hash(
            "admin@dir-bench.example.org",
            hash,
            "Admin".into(),
            None,
            Role::Admin,
            None,
            None,
        )
        .await
        .unwrap();
    let subs = Sub::find_by_statement(Statement::from_string(
        store.db().get_database_backend(),
        "SELECT latitude, longitude, radius_km, categories FROM alert_subscriptions \
         WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL",
    ))
    .all(store.db())
    .await
    .unwrap();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut times = Vec::new();
    let mut matched_all = 0;
    for i in 0..n {
        let at = Point {
            lat: LAT.0 + 0.5 + rng.unit() * (LAT.1 - LAT.0 - 1.0),
            lon: LON.0 + 0.5 + rng.unit() * (LON.1 - LON.0 - 1.0),
        };
        let category = Category::ALL[rng.below(Category::ALL.len())];
        let id = insert_producer(store, i, at).await;
        let t = Instant::now();
        let (_, matched) = store
            .save_directory_entry(
                &admin,
                id,
                EntryInput {
                    summary: "Nouvelle ferme".into(),
                    categories: vec![category],
                    published: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        times.push(t.elapsed());
        let wanted = format!(",{},", category.slug());
        let expected = subs
            .iter()
            .filter(|s| s.categories.is_empty() || s.categories.contains(&wanted))
            .filter(|s| {
                distance_km(
                    Point {
                        lat: s.latitude,
                        lon: s.longitude,
                    },
                    at,
                ) <= f64::from(s.radius_km)
            })
            .count() as u64;
        assert_eq!(matched, expected, "producer {id}: matches");
        matched_all += matched;
    }
    times.sort_unstable();
    println!(
        "publish a producer, match its subscribers    {n} producers  {:.0} matches each  p50 {:.1} ms  max {:.1} ms (target < 100 ms)",
        matched_all as f64 / n as f64,
        percentile(&times, 0.5),
        percentile(&times, 1.0),
    );
}

async fn insert_producer(store: &Store, i: usize, at: Point) -> i64 {
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    Id::find_by_statement(Statement::from_string(
        store.db().get_database_backend(),
        format!(
            "INSERT INTO producers (name, farmer_name, description, address, postal_code, city, \
             latitude, longitude, created_at) VALUES ('Nouvelle ferme {i}', 'Paysanne', '', \
             'Le bourg', '79000', 'Village', {}, {}, now()) RETURNING id",
            at.lat, at.lon
        ),
    ))
    .one(store.db())
    .await
    .unwrap()
    .unwrap()
    .id
}

async fn generate(store: &Store) {
    let categories = Category::ALL
        .iter()
        .map(|c| format!("'{}'", c.slug()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = GENERATE
        .replace("{lat0}", &LAT.0.to_string())
        .replace("{dlat}", &(LAT.1 - LAT.0).to_string())
        .replace("{lon0}", &LON.0.to_string())
        .replace("{dlon}", &(LON.1 - LON.0).to_string())
        .replace("{markets}", &MARKETS.to_string())
        .replace("{points}", &POINTS.to_string())
        .replace("{producers}", &PRODUCERS.to_string())
        .replace("{subscriptions}", &SUBSCRIPTIONS.to_string())
        .replace("{categories}", &categories);
    let started = Instant::now();
    tokio::time::timeout(
        Duration::from_secs(120),
        store.db().execute_unprepared(&sql),
    )
    .await
    .expect("the generator takes less than two minutes")
    .unwrap();
    println!(
        "generated {PRODUCERS} producers, {POINTS} pickup points of {MARKETS} markets, {SUBSCRIPTIONS} alert subscriptions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    // The runtime `halle serve` runs on.
    let rt = web::server_runtime().unwrap();
    rt.block_on(async {
        let url = std::env::var("HALLE_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("halle_directory_{}", std::process::id());
        let admin = Store::connect(&url)
            .await
            .expect("PostgreSQL is needed for this benchmark");
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
        store.migrate().await.unwrap();
        generate(&store).await;
        let places = Path::new(env!("CARGO_MANIFEST_DIR")).join("places");
        let with_places = store::PlacesDataset::present(&places);
        if with_places {
            let t = Instant::now();
            let done = store
                .import_places(store::PlacesDataset::read(&places).unwrap())
                .await
                .unwrap();
            println!(
                "places: {} postcodes imported in {:.1} s",
                done.postcodes,
                t.elapsed().as_secs_f64()
            );
        } else {
            println!("places: none (tests/tools/install-places): coordinates only");
        }
        // The first search loads the directory into memory (before the queries are made:
        // finding their postcodes needs the directory's version, which loads it too).
        let t = Instant::now();
        store
            .search_directory(&DirectorySearch {
                center: Point {
                    lat: (LAT.0 + LAT.1) / 2.0,
                    lon: (LON.0 + LON.1) / 2.0,
                },
                radius_km: 30,
                categories: Vec::new(),
                labels: Vec::new(),
                collect_near: false,
                page: 0,
            })
            .await
            .unwrap();
        println!(
            "directory loaded into memory (first search)  {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let qs = Arc::new(queries(&store, 2_000, with_places).await);

        let app = Application::bind("127.0.0.1:0", store.clone())
            .await
            .unwrap();
        let base = format!("http://{}", app.addr());
        tokio::spawn(app.run());
        let clients = setting("DIR_CLIENTS", 200);
        let seconds = setting("DIR_SECONDS", 10) as u64;
        // wrk blocks: on a thread of its own, the server keeps the runtime's.
        let (b, q) = (base.clone(), qs.clone());
        tokio::task::spawn_blocking(move || {
            // Warm the caches (PostgreSQL's, the connections') without recording.
            over_http(&b, &q, 20, 2, "HTTP warm-up, 20 connections (not a figure)");
            over_http(
                &b,
                &q,
                clients,
                seconds,
                &format!("HTTP (wrk), memory, {clients} connections"),
            );
        })
        .await
        .unwrap();
        let total = setting("DIR_SCAN_QUERIES", 600);
        for way in [Way::Memory, Way::Sql, Way::Scan] {
            in_store(&store, qs.clone(), clients, total, way).await;
        }
        compare(&store, &qs[..setting("DIR_CHECK", 100).min(qs.len())]).await;
        publish(&store, setting("DIR_PUBLISH", 30)).await;

        admin
            .db()
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .unwrap();
    });
}
