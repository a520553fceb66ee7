//! Launch day: many idle keep-alive connections held on one node, and the cycle page's latency
//! while they are held.
//!
//! The server is the `halle` command itself (`halle demo`: the demo market on a fresh SQLite
//! file) in a process of its own, so that its resident memory (`VmRSS`) is the node's alone.
//! Clients come from child processes (this same benchmark, run again as a "holder"), each
//! opening its share of connections from a source address of its own (127.0.0.2, .3, ...), so
//! that neither side passes the 20,000 open files a process may have here. Every connection
//! loads the shop page once, as a phone's browser does (HTTP/1.1, gzip), then stays open and
//! idle. The server's memory is read after each step; the growth per connection gives the
//! projection to 40,000. Then, with the connections still held, a steady trickle of requests
//! (the shop page and the cycle's JSON every 50 ms each, a basket every 200 ms) gives the p50 and
//! p99 of the cycle page.
//!
//! ```text
//! cargo bench -p halle-tests --bench connections
//! CONN_COUNT=5000 CONN_TRICKLE_SECONDS=5 cargo bench -p halle-tests --bench connections
//! ```
//! Settings: `CONN_COUNT` (18,000) connections held, `CONN_STEP` (3,000) between two readings
//! of memory, `CONN_HOLDERS` (3) client processes, `CONN_TRICKLE_SECONDS` (20), `CONN_HALLE_BIN`
//! (another `halle` binary to serve). The server's environment is this process's:
//! `HALLE_PARK_IDLE=off cargo bench ...` serves with poem's own server, as before parking.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

use std::{
    io::{BufRead, BufReader, Write},
    net::{Ipv4Addr, SocketAddr},
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request on `stream`, its whole answer read (Content-Length): the connection is
/// left as a browser leaves it, open for the next request.
async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8]) -> std::io::Result<u16> {
    stream.write_all(request).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed before the answer"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..at]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (at + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed in the body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = String::from_utf8_lossy(&buf[9..12]).parse().unwrap_or(0);
    Ok(status)
}

/// A holder process: opens connections to `server` from `source` on command, each loading
/// `path` once, and keeps them open until its standard input closes.
fn holder(server: SocketAddr, source: Ipv4Addr, path: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/html\r\nAccept-Encoding: gzip\r\n\
         Accept-Language: fr\r\nUser-Agent: halle-bench\r\n\r\n"
    )
    .into_bytes();
    runtime.block_on(async move {
        let mut held = Vec::new();
        let mut failed = 0usize;
        let stdin = std::io::stdin();
        // One command a line: "open N", or end of input to let go.
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            let Some(n) = line
                .strip_prefix("open ")
                .and_then(|n| n.parse::<usize>().ok())
            else {
                break;
            };
            let request = &request;
            let opened: Vec<_> = futures_util::stream::iter(0..n)
                .map(|_| async move {
                    let socket = tokio::net::TcpSocket::new_v4()?;
                    socket.bind(SocketAddr::from((source, 0)))?;
                    let mut stream = socket.connect(server).await?;
                    let status = exchange(&mut stream, request).await?;
                    if status != 200 {
                        return Err(std::io::Error::other(format!("status {status}")));
                    }
                    Ok::<_, std::io::Error>(stream)
                })
                .buffer_unordered(64)
                .collect()
                .await;
            for o in opened {
                match o {
                    Ok(s) => held.push(s),
                    Err(e) => {
                        if failed < 3 {
                            eprintln!("holder {source}: {e}");
                        }
                        failed += 1;
                    }
                }
            }
            println!("held {} failed {failed}", held.len());
            std::io::stdout().flush().unwrap();
        }
    });
}

struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn start(server: SocketAddr, source: Ipv4Addr, path: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("CONN_HOLDER", format!("{server} {source} {path}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    fn ask(&mut self, n: usize) {
        writeln!(self.stdin, "open {n}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// (held, failed) once the last `open` is done.
    fn answer(&mut self) -> (usize, usize) {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        (words[1].parse().unwrap(), words[3].parse().unwrap())
    }
}

/// The demo server: `halle demo` on a fresh SQLite file in a process of its own.
struct Demo {
    child: Child,
    base: String,
    cycle_id: i64,
    consumer: String,
    password: String,
}

fn start_demo(dir: &std::path::Path) -> Demo {
    let port = free_port();
    let bin = std::env::var("CONN_HALLE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_halle-under-test").to_owned());
    let mut child = Command::new(bin)
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--database"])
        .arg(dir.join("demo.db"))
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut cycle_id, mut consumer, mut password) = (0, String::new(), String::new());
    let mut lines = stdout.lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("open cycle") {
            cycle_id = rest.trim().rsplit('/').next().unwrap().parse().unwrap();
        } else if let Some(rest) = t.strip_prefix("logins (password \"") {
            password = rest.split('"').next().unwrap().to_owned();
        } else if let Some(rest) = t.strip_prefix("consumer") {
            consumer = rest.trim().to_owned();
        } else if t.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert!(
        cycle_id > 0 && !consumer.is_empty(),
        "the demo did not start"
    );
    // The server logs to its standard output: keep reading it (to this one), or its writes fail.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("server: {line}");
        }
    });
    Demo {
        child,
        base: format!("http://127.0.0.1:{port}"),
        cycle_id,
        consumer,
        password,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// A steady trickle with the connections held: latencies (ms) of the shop page, the cycle's
/// JSON and baskets, and the statuses of the baskets.
async fn trickle(demo: &Demo, seconds: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<u16>) {
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/api/v1/auth/token", demo.base))
        .json(&serde_json::json!({"email": demo.consumer, "password": demo.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let cycle: serde_json::Value = http
        .get(format!("{}/api/v1/cycles/{}", demo.base, demo.cycle_id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slot = cycle["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["cancelled"] != true)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // The offers with most stock left, one unit (or one step) each.
    let lines: Vec<serde_json::Value> = cycle["offers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["unit"] == "piece" || o["unit"] == "bunch" || o["unit"] == "dozen")
        .take(3)
        .map(|o| serde_json::json!({"offer_id": o["id"], "quantity": 1}))
        .collect();
    let basket = serde_json::json!({"slot_id": slot, "lines": lines});

    let shop = format!("{}/shop/{}", demo.base, demo.cycle_id);
    let json = format!("{}/api/v1/cycles/{}", demo.base, demo.cycle_id);
    let orders = format!("{}/api/v1/cycles/{}/orders", demo.base, demo.cycle_id);
    let timed = |req: reqwest::RequestBuilder| async move {
        let started = Instant::now();
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let _ = resp.bytes().await.unwrap();
        (started.elapsed().as_secs_f64() * 1000.0, status)
    };
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let mut n = 0u64;
    while Instant::now() < until {
        tick.tick().await;
        let page = http
            .get(&shop)
            .header("accept-encoding", "gzip")
            .header("accept-language", "fr");
        tasks.push(tokio::spawn(timed(page)).map_kind(0));
        let read = http.get(&json).header("accept-encoding", "gzip");
        tasks.push(tokio::spawn(timed(read)).map_kind(1));
        if n.is_multiple_of(4) {
            let post = http.post(&orders).bearer_auth(&token).json(&basket);
            tasks.push(tokio::spawn(timed(post)).map_kind(2));
        }
        n += 1;
    }
    let (mut pages, mut reads, mut baskets, mut statuses) = (vec![], vec![], vec![], vec![]);
    for t in tasks {
        let (kind, (ms, status)) = t.await;
        match kind {
            0 => pages.push(ms),
            1 => reads.push(ms),
            _ => {
                baskets.push(ms);
                statuses.push(status);
            }
        }
    }
    for v in [&mut pages, &mut reads, &mut baskets] {
        v.sort_by(f64::total_cmp);
    }
    (pages, reads, baskets, statuses)
}

/// A spawned request with what it measures.
trait Kind {
    fn map_kind(self, kind: u8) -> impl std::future::Future<Output = (u8, (f64, u16))>;
}

impl Kind for tokio::task::JoinHandle<(f64, u16)> {
    async fn map_kind(self, kind: u8) -> (u8, (f64, u16)) {
        (kind, self.await.unwrap())
    }
}

fn main() {
    if let Ok(args) = std::env::var("CONN_HOLDER") {
        let mut words = args.splitn(3, ' ');
        let server = words.next().unwrap().parse().unwrap();
        let source = words.next().unwrap().parse().unwrap();
        holder(server, source, words.next().unwrap());
        return;
    }
    let count = setting("CONN_COUNT", 18_000);
    let step = setting("CONN_STEP", 3_000).max(1);
    let holders = setting("CONN_HOLDERS", 3).max(1);
    let trickle_seconds = setting("CONN_TRICKLE_SECONDS", 20) as u64;

    let dir = std::env::temp_dir().join(format!("halle_conn_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut demo = start_demo(&dir);
    let pid = demo.child.id();
    let server: SocketAddr = demo.base.trim_start_matches("http://").parse().unwrap();
    let path = format!("/shop/{}", demo.cycle_id);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    // Warm up: the pages rendered once, the allocator's arenas in use, as after a few visitors.
    runtime.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..50 {
            let _ = http
                .get(format!("{}{path}", demo.base))
                .send()
                .await
                .unwrap()
                .bytes()
                .await;
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let start_rss = rss_kib(pid);
    println!(
        "halle demo (SQLite), {} holders; {count} connections by {step}; RSS at rest {:.1} MiB",
        holders,
        start_rss as f64 / 1024.0
    );
    println!("| connections | RSS (MiB) | KiB per connection |");
    println!("|---|---|---|");
    println!("| 0 | {:.1} | |", start_rss as f64 / 1024.0);
    let mut hs: Vec<Holder> = (0..holders)
        .map(|i| Holder::start(server, Ipv4Addr::new(127, 0, 0, 2 + i as u8), &path))
        .collect();
    let started = Instant::now();
    let mut held = 0usize;
    let mut failed = 0usize;
    while held + failed < count {
        let this_step = step.min(count - held - failed);
        let share = this_step.div_ceil(holders);
        for h in &mut hs {
            h.ask(share);
        }
        let (mut now_held, mut now_failed) = (0, 0);
        for h in &mut hs {
            let (a, b) = h.answer();
            now_held += a;
            now_failed += b;
        }
        let progressed = now_held + now_failed > held + failed;
        (held, failed) = (now_held, now_failed);
        std::thread::sleep(Duration::from_millis(500));
        let rss = rss_kib(pid);
        println!(
            "| {held} | {:.1} | {:.1} |",
            rss as f64 / 1024.0,
            (rss.saturating_sub(start_rss)) as f64 / held.max(1) as f64
        );
        if !progressed {
            break;
        }
    }
    let opened_in = started.elapsed();
    let held_rss = rss_kib(pid);
    let per = (held_rss.saturating_sub(start_rss)) as f64 / held.max(1) as f64;
    let projected = start_rss as f64 + per * 40_000.0;
    println!(
        "held {held} ({failed} failed) in {:.1} s: {:.1} KiB per connection; 40,000 would take {:.0} MiB",
        opened_in.as_secs_f64(),
        per,
        projected / 1024.0
    );

    let (pages, reads, baskets, statuses) = runtime.block_on(trickle(&demo, trickle_seconds));
    let ok = statuses.iter().filter(|s| **s == 201).count();
    println!(
        "trickle {trickle_seconds} s with {held} held: shop page p50 {:.1} ms p99 {:.1} ms ({} requests); \
         cycle JSON p50 {:.1} ms p99 {:.1} ms; baskets p50 {:.1} ms p99 {:.1} ms ({ok} of {} answered 201)",
        percentile(&pages, 0.5),
        percentile(&pages, 0.99),
        pages.len(),
        percentile(&reads, 0.5),
        percentile(&reads, 0.99),
        percentile(&baskets, 0.5),
        percentile(&baskets, 0.99),
        statuses.len(),
    );
    println!(
        "RSS after the trickle: {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );

    for h in hs {
        drop(h.stdin);
        let mut c = h.child;
        let _ = c.wait();
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = demo.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
