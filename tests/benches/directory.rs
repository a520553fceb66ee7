//! The directory at ten times the Nouvelle-Aquitaine one, on PostgreSQL: 20,000 published
//! producers, 5,000 pickup points of 100 markets (half with a slot in the next days), 100,000
//! confirmed alert subscriptions, all spread over the region (43°–47° N, 1.8° W–2.5° E),
//! generated set-wise in SQL through the real schema (seconds, bounded: the run stops if it
//! takes more than two minutes).
//!
//! Then, in one run:
//! 1. a real Halle server (in this process) and `DIR_CLIENTS` (200) concurrent HTTP clients
//!    searching `/api/v1/directory/search` by distance with filters (by postcode when the places
//!    dataset is installed, else by coordinates; radius 5–100 km; categories, label, "collect
//!    near here"), each one query after the other for `DIR_SECONDS` (10): p50, p99, req/s
//!    (closed loop: the mean latency is clients / throughput, by Little's law); with
//!    `DIR_RATE=N`, then the same clients sending N queries a second together, at a steady
//!    pace (open loop: the latency at that load);
//! 2. the same queries answered in-process by the indexed search (`Store::search_directory`)
//!    and by the brute-force scan of every producer and point (`Store::search_directory_scan`),
//!    side by side at the same concurrency for `DIR_SCAN_QUERIES` (600) queries each;
//! 3. on a sample of `DIR_CHECK` (100) queries, both answers compared (ids, order, totals);
//! 4. `DIR_PUBLISH` (30) new producers published one after the other: the time to save the
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

/// A tiny deterministic generator (xorshift): the same queries on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
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

/// `clients` HTTP clients, each sending queries one after the other until `seconds` passed;
/// with `rate` (queries a second, all clients together), each at a steady pace instead.
async fn over_http(base: &str, qs: Arc<Vec<Query>>, clients: usize, seconds: u64, rate: usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let runs = (0..clients).map(|c| {
        let http = http.clone();
        let qs = qs.clone();
        let base = base.to_owned();
        tokio::spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0);
            let mut i = c * 7;
            let mut ticker = (rate > 0).then(|| {
                let p = Duration::from_secs_f64(clients as f64 / rate as f64);
                // Spread the clients' first queries over one period.
                let start = tokio::time::Instant::now() + p.mul_f64(c as f64 / clients as f64);
                let mut t = tokio::time::interval_at(start, p);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            while Instant::now() < until {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let url = format!("{base}{}", qs[i % qs.len()].path());
                i += 1;
                let t = Instant::now();
                match http.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => errors += 1,
                }
                times.push(t.elapsed());
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
    let pace = if rate > 0 {
        format!(", {rate}/s")
    } else {
        String::new()
    };
    report(
        &format!("HTTP, indexed, {clients} clients{pace}"),
        all,
        started.elapsed(),
        errors,
    );
}

/// `total` queries through the store, `clients` at a time, by the index or by the scan.
async fn in_store(store: &Store, qs: Arc<Vec<Query>>, clients: usize, total: usize, scan: bool) {
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
                let r = if scan {
                    store.search_directory_scan(s).await
                } else {
                    store.search_directory(s).await
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
    let label = if scan {
        "store, brute-force scan"
    } else {
        "store, indexed (bounding box)"
    };
    report(
        &format!("{label}, {clients} at a time"),
        all,
        started.elapsed(),
        errors,
    );
}

/// Both methods' answers to the same queries, compared.
async fn compare(store: &Store, qs: &[Query]) {
    let mut equal = 0;
    let mut found = 0;
    for q in qs {
        let a = store.search_directory(&q.search).await.unwrap();
        let b = store.search_directory_scan(&q.search).await.unwrap();
        let ids = |r: &store::SearchResults| {
            (
                r.producers.iter().map(|p| p.id).collect::<Vec<_>>(),
                r.points.iter().map(|p| p.id).collect::<Vec<_>>(),
                r.producers_total,
                r.points_total,
            )
        };
        assert!(
            ids(&a) == ids(&b),
            "indexed and brute force differ for {}",
            q.path()
        );
        equal += 1;
        found += a.producers_total;
    }
    println!(
        "indexed == brute force on {equal} of {} queries ({found} producers found in all)",
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
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
        let qs = Arc::new(queries(&store, 2_000, with_places).await);

        let app = Application::bind("127.0.0.1:0", store.clone())
            .await
            .unwrap();
        let base = format!("http://{}", app.addr());
        tokio::spawn(app.run());
        let clients = setting("DIR_CLIENTS", 200);
        // Warm the caches (PostgreSQL's and the connections') without recording.
        let seconds = setting("DIR_SECONDS", 10) as u64;
        over_http(&base, qs.clone(), clients.min(20), 2, 0).await;
        over_http(&base, qs.clone(), clients, seconds, 0).await;
        let rate = setting("DIR_RATE", 0);
        if rate > 0 {
            over_http(&base, qs.clone(), clients, seconds, rate).await;
        }
        let total = setting("DIR_SCAN_QUERIES", 600);
        in_store(&store, qs.clone(), clients, total, false).await;
        in_store(&store, qs.clone(), clients, total, true).await;
        compare(&store, &qs[..setting("DIR_CHECK", 100).min(qs.len())]).await;
        publish(&store, setting("DIR_PUBLISH", 30)).await;

        admin
            .db()
            .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .await
            .unwrap();
    });
}
