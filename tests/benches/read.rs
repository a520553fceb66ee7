//! The read every visitor makes, beside nginx serving the same bytes from a file, in one run.
//!
//! The demo market (as `halle demo` builds it) on SQLite and on PostgreSQL, a Halle server in
//! this process, and nginx (Debian's `nginx-light`, own configuration and pid file, on a
//! loopback port) serving the bytes Halle answered, saved to a file. wrk (`-t2 -c100 -d10s
//! --latency`) loads one then the other, alternating, plain and with `Accept-Encoding: gzip`
//! (nginx then sends Halle's gzip body through `gzip_static`). Prints requests per second, p99,
//! the bytes of each answer and Halle's share of nginx's requests per second.
//!
//! ```text
//! tests/tools/install-bench-tools          # wrk and nginx-light (apt); the bench runs it too
//! cargo bench -p halle-tests --bench read  # both databases
//! READ_DB=sqlite cargo bench -p halle-tests --bench read
//! ```
//! Settings: `READ_DB` (`both`, `sqlite`, `postgres`), `READ_TARGETS` (the targets whose label
//! starts with one of these, comma-separated: `shop` for the shop page's two), `READ_ROUNDS` (2) alternations per
//! target, `READ_SECONDS` (10) per wrk run, `READ_WARMUP` (2) seconds of unrecorded load on
//! each server first, `HALLE_TEST_PG_URL` for PostgreSQL. The server logs
//! as `halle serve` does by default (`RUST_LOG` as for `halle serve`: no line per answered
//! request unless `RUST_LOG=info,halle::access=debug`), to a file; nginx writes its access log.
//! Both share the machine's cores with wrk.
//!
//! The shop page of the same cycle, for a logged-in consumer with five lines in the basket, is measured the same way; another
//! read is one more [`Target`] (a path and the headers to send), see `targets`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

/// The server's allocator, as `halle` has it (crates/halle/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    fs,
    io::Write,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::ConnectionTrait;
use store::Store;
use web::Application;

#[path = "../support/wrk_time.rs"]
mod wrk_time;

use wrk_time::millis;

const DEMO: &str = include_str!("../../fixtures/demo.json");

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One read to measure: a path on Halle and the request headers to send with it.
struct Target {
    label: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Target {
    fn new(label: &str, path: String, headers: &[(&str, &str)]) -> Self {
        Self {
            label: label.to_owned(),
            path,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// What is measured: the open cycle's JSON and its shop page (`GET /shop/{cycle_id}` for a
/// logged-in consumer: `cookie` is its session's), plain and gzipped. A target Halle does not
/// answer 200 is skipped. `READ_TARGETS=floor` measures `/healthz` alone (two bytes through
/// every layer of the server: what any answer costs before its own work), and the shop page
/// gzipped for a visitor not logged in (no session, no basket).
fn targets(cycle: i64, cookie: &str) -> Vec<Target> {
    let path = format!("/api/v1/cycles/{cycle}");
    let shop = format!("/shop/{cycle}");
    let gzip = ("Accept-Encoding", "gzip");
    let only = setting("READ_TARGETS", "");
    if only == "floor" {
        return vec![
            Target::new("floor (/healthz)", "/healthz".into(), &[]),
            // A visitor's browser keeps its CSRF cookie (without it every page is a first visit).
            Target::new(
                "shop page, visitor, gzip",
                shop,
                &[("Cookie", &format!("halle_csrf={}", "c5".repeat(24))), gzip],
            ),
        ];
    }
    vec![
        Target::new("cycle JSON", path.clone(), &[]),
        Target::new("cycle JSON, gzip", path, &[gzip]),
        Target::new("shop page", shop.clone(), &[("Cookie", cookie)]),
        Target::new("shop page, gzip", shop, &[("Cookie", cookie), gzip]),
    ]
    .into_iter()
    .filter(|t| {
        only.is_empty()
            || only
                .split(',')
                .any(|w| !w.trim().is_empty() && t.label.starts_with(w.trim()))
    })
    .collect()
}

/// What one wrk run measured.
struct Run {
    rps: f64,
    p99_ms: f64,
    errors: u64,
}

fn wrk(url: &str, headers: &[(String, String)], seconds: u64) -> Run {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c100", &format!("-d{seconds}s"), "--latency"]);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    let out = cmd.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in {text}"));
    let p99 = field("99%").unwrap_or_else(|| panic!("no p99 in {text}"));
    let errors = field("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        + field("Socket errors:").map_or(0, |v| {
            // "connect 0, read 0, write 0, timeout 12"
            v.split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        });
    Run {
        rps,
        p99_ms: millis(&p99),
        errors,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Installs wrk and nginx-light when missing (tests/tools/install-bench-tools).
fn ensure_tools() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/install-bench-tools");
    let ok = Command::new(&script)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(ok.success(), "{} failed", script.display());
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// nginx serving `dir/www`, with its own configuration, logs and pid file under `dir`.
struct Nginx {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        for sub in ["www", "tmp"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let d = dir.display();
        // As Debian's default site: sendfile, an access log; gzip_static sends file.gz as is
        // to the clients that accept gzip (the bytes Halle sends them).
        let conf = format!(
            r#"
worker_processes auto;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ application/json json; text/html html; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        gzip_static on;
        gzip_vary on;
    }}
}}
"#
        );
        fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not listen; see {d}/error.log"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `-s stop` (SIGTERM to the master through its pid file) stops the workers too; a
        // killed master would leave them running.
        let stopped = Command::new(nginx_binary())
            .arg("-p")
            .arg(&self.dir)
            .arg("-e")
            .arg(self.dir.join("error.log"))
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .args(["-s", "stop"])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// GETs `url` with `headers`: status, body bytes, `Content-Encoding`.
async fn fetch(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
) -> (u16, Vec<u8>, String) {
    let mut req = http.get(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let encoding = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    (status, resp.bytes().await.unwrap().to_vec(), encoding)
}

/// One database's Halle and its nginx, ready to be measured.
struct Served {
    label: String,
    store: Store,
    halle: String,
    nginx: Nginx,
    dir: std::path::PathBuf,
    targets: Vec<Target>,
}

async fn prepare(label: &str, store: Store, work: &Path) -> Served {
    store.migrate().await.unwrap();
    let demo = store::fixtures::load_demo(&store, DEMO, chrono::Utc::now())
        .await
        .unwrap();
    let app = Application::bind("127.0.0.1:0", store.clone())
        .await
        .unwrap();
    let halle = format!("http://{}", app.addr());
    tokio::spawn(app.run());
    // A consumer logged in, for the shop page.
    let consumer = store
        .insert_account_with_hash(
            &format!("bench-reader-{label}@example.org"),
            store::hash_password("read-bench".into()).await.unwrap(),
            "Lecteur".into(),
            None,
            store::Role::Consumer,
            None,
            None,
        )
        .await
        .unwrap();
    // With a basket in the open cycle: five lines, as a consumer half way through the page.
    let actor = store.actor(consumer.account_id).await.unwrap();
    let week = store
        .cycle(store::Viewer::Anonymous, demo.open_cycle_id)
        .await
        .unwrap();
    let lines: Vec<domain::RequestedLine> = week
        .offers
        .iter()
        .filter(|o| !o.stock_left.is_zero())
        .step_by(40)
        .take(5)
        .map(|o| domain::RequestedLine {
            offer_id: o.id,
            quantity: o.step,
        })
        .collect();
    let refused = store
        .save_draft_basket(&actor, None, demo.open_cycle_id, lines)
        .await
        .unwrap();
    assert!(refused.is_empty(), "the bench's basket");
    let session = store.open_session(consumer.account_id).await.unwrap();
    let cookie = format!("halle_session={}", session.secret);
    let dir = work.join(label);
    let nginx = Nginx::start(&dir);
    Served {
        label: label.to_owned(),
        store,
        halle,
        nginx,
        dir,
        targets: targets(demo.open_cycle_id, &cookie),
    }
}

/// Measures target `n` of `s`: Halle and nginx alternately.
async fn measure(s: &Served, n: usize) {
    let (halle, target, dir) = (&s.halle, &s.targets[n], &s.dir);
    let http = reqwest::Client::new();
    let rounds: usize = setting("READ_ROUNDS", "2").parse().unwrap_or(2);
    let seconds: u64 = setting("READ_SECONDS", "10").parse().unwrap_or(10);
    let warmup: u64 = setting("READ_WARMUP", "2").parse().unwrap_or(2);
    let label = format!("{}, {}", s.label, target.label);
    // nginx serves the bytes Halle answered: the plain body as a file, and for gzip the very
    // gzip body as its file.gz.
    let plain_headers: Vec<(String, String)> = target
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("accept-encoding"))
        .cloned()
        .collect();
    let (status, plain, _) = fetch(&http, &format!("{halle}{}", target.path), &plain_headers).await;
    if status != 200 {
        println!("{label:<30} skipped: Halle answered {status}");
        return;
    }
    let (status, answered, encoding) =
        fetch(&http, &format!("{halle}{}", target.path), &target.headers).await;
    assert_eq!(status, 200);
    let file = format!("t{n}.json");
    fs::write(dir.join("www").join(&file), &plain).unwrap();
    if encoding == "gzip" {
        fs::write(dir.join("www").join(format!("{file}.gz")), &answered).unwrap();
    }
    let nginx_url = format!("http://127.0.0.1:{}/{file}", s.nginx.port);
    let (status, served, _) = fetch(&http, &nginx_url, &target.headers).await;
    assert_eq!(status, 200);
    assert_eq!(served, answered, "nginx serves the same bytes as Halle");

    // Warm both up (first connections, allocator, the cycle's first load), unrecorded.
    if warmup > 0 {
        wrk(&format!("{halle}{}", target.path), &target.headers, warmup);
        wrk(&nginx_url, &target.headers, warmup);
    }
    let (mut halle_rps, mut nginx_rps) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (server, url, sums) in [
            ("halle", format!("{halle}{}", target.path), &mut halle_rps),
            ("nginx", nginx_url.clone(), &mut nginx_rps),
        ] {
            let r = wrk(&url, &target.headers, seconds);
            println!(
                "{label:<30} {server:<6} {:>7} {:>10.0} {:>9.2} {:>7}",
                answered.len(),
                r.rps,
                r.p99_ms,
                r.errors
            );
            sums.push(r.rps);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "{label:<30} Halle {:.0} req/s = {:.0} % of nginx's {:.0} (goal: 50 %)",
        mean(&halle_rps),
        100.0 * mean(&halle_rps) / mean(&nginx_rps),
        mean(&nginx_rps)
    );
}

/// Every target on every database, target by target (the cycle's JSON on both before the
/// heavier pages), then a pause: work a slow target leaves behind must not weigh on the next.
async fn run(served: &[Served]) {
    // Other work on the machine shows in every figure: say how much there was.
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for s in served {
        println!(
            "{}: Halle {}, nginx http://127.0.0.1:{}",
            s.label, s.halle, s.nginx.port
        );
    }
    println!(
        "{:<30} {:<6} {:>7} {:>10} {:>9} {:>7}",
        "target", "server", "bytes", "req/s", "p99 ms", "errors"
    );
    let count = served.first().map_or(0, |s| s.targets.len());
    for n in 0..count {
        for s in served {
            measure(s, n).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
}

fn main() {
    ensure_tools();
    let which = setting("READ_DB", "both");
    let work = std::env::temp_dir().join(format!("halle-read-{}", std::process::id()));
    fs::create_dir_all(&work).unwrap();
    // The server logs as `halle serve` does by default (in batches, by a thread of its own:
    // `web::LogBuffer`), to a file.
    let log = fs::File::create(work.join("halle.log")).unwrap();
    let (log, _log_guard) = web::LogBuffer::new(log).unwrap();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_ansi(false)
        .with_writer(move || log.clone())
        .init();
    // The runtime `halle serve` runs on.
    let rt = web::server_runtime().unwrap();
    rt.block_on(async {
        let mut served = Vec::new();
        let mut drop_schema = None;
        if which == "sqlite" || which == "both" {
            let file = work.join("read.db");
            let store = Store::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            served.push(prepare("sqlite", store, &work).await);
        }
        if which == "postgres" || which == "both" {
            let url = std::env::var("HALLE_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let schema = format!("halle_read_{}", std::process::id());
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
            served.push(prepare("postgres", store, &work).await);
            drop_schema = Some((admin, schema));
        }
        run(&served).await;
        for s in served {
            drop(s.nginx);
            s.store.shutdown().await;
        }
        if let Some((admin, schema)) = drop_schema {
            admin
                .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await
                .unwrap();
        }
    });
    let _ = std::io::stdout().flush();
    let _ = fs::remove_dir_all(&work);
}
