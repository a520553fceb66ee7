//! Bulk mail: a cycle-open announcement to 10,000 members, enqueued in one transaction, then
//! sent by the mail worker to a real SMTP server on loopback (aiosmtpd, tests/tools/
//! smtp_server.py, writing every message to a folder).
//!
//! ```text
//! tests/tools/install-smtp                 # aiosmtpd in target/smtp-venv
//! cargo bench -p halle-tests --bench mail  # SQLite, then PostgreSQL
//! MAIL_DB=sqlite cargo bench -p halle-tests --bench mail
//! ```
//! Settings: `MAIL_DB` (`both`, `sqlite`, `postgres`), `MAIL_MEMBERS` (10000), `MAIL_POOL`
//! (8: SMTP connections and sends in flight), `MAIL_BATCH` (500 rows claimed at once),
//! `MAIL_SINK_WORKERS` (1: aiosmtpd processes sharing the port, `--workers` of
//! smtp_server.py; one Python process is itself the limit on a loaded machine),
//! `HALLE_TEST_PG_URL`. Prints the enqueue time (the `INSERT ... SELECT` of the announcement,
//! in its transaction, as `transition_cycle` runs it) and the send rate (first claim to the
//! last row recorded sent), with the count of messages the server wrote, the CPU time this
//! process (the worker, and the benchmark's own polling) and the sink used meanwhile, and the
//! load average: on a shared machine the rate says as much about the neighbours as about
//! Halle, the CPU time a message costs does not.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark that cannot set itself up should stop loudly"
)]

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait};
use store::{
    Store,
    entities::{account, mail_subscription},
    outbox::{NewMail, Subscription, enqueue_to_subscribers, kind},
};

const DEMO: &str = include_str!("../../fixtures/demo.json");

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// CPU time (user and system) a process has used so far, from `/proc/PID/stat`; zero where
/// there is no `/proc`.
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command (in parentheses, which may hold spaces): utime and stime
    // are the 12th and 13th of them, in clock ticks (100 a second on Linux).
    let ticks: u64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|t| t.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

async fn run(label: &str, store: Store) {
    let members: usize = setting("MAIL_MEMBERS", "10000").parse().unwrap();
    let pool: u32 = setting("MAIL_POOL", "8").parse().unwrap();
    let batch: u64 = setting("MAIL_BATCH", "500").parse().unwrap();
    let sinks: u32 = setting("MAIL_SINK_WORKERS", "1").parse().unwrap();
    store.migrate().await.unwrap();
    let demo = store::fixtures::load_demo(&store, DEMO, chrono::Utc::now())
        .await
        .unwrap();
    let market = demo.market_id;

    // The members, and their wish to hear of each opening.
    let now = chrono::Utc::now();
    let run_id = std::process::id();
    let tx = store.db().begin().await.unwrap();
    for chunk in (0..members).collect::<Vec<_>>().chunks(1000) {
        account::Entity::insert_many(chunk.iter().map(|i| account::ActiveModel {
            email: Set(format!("member{i}-{run_id}@example.org")),
            password_hash: Set("!bench".into()),
            name: Set(format!("Membre {i}")),
            role: Set("consumer".into()),
            created_at: Set(now),
            language: Set(if i % 3 == 0 { "en" } else { "fr" }.into()),
            ..Default::default()
        }))
        .exec_without_returning(&tx)
        .await
        .unwrap();
    }
    tx.execute_unprepared(&format!(
        "INSERT INTO mail_subscriptions (account_id, market_id, cycle_open, closing_reminder, token, created_at) \
         SELECT id, {market}, true, false, 'tok' || CAST(id AS TEXT), created_at FROM accounts WHERE email LIKE 'member%-{run_id}@example.org'"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let subscribed = mail_subscription::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .len();
    assert_eq!(subscribed, members);

    // Enqueue, in one transaction, as opening a cycle does.
    let mail = NewMail {
        kind: kind::CYCLE_OPEN,
        market_id: Some(market),
        unique_key: Some(format!("cycle_open:{}", demo.open_cycle_id)),
        payload: serde_json::json!({
            "cycle_id": demo.open_cycle_id,
            "cycle_name": "Semaine de test",
            "closes_at": (now + chrono::Duration::days(2)).to_rfc3339(),
        }),
    };
    let started = Instant::now();
    let tx = store.db().begin().await.unwrap();
    let written = enqueue_to_subscribers(&tx, &mail, market, Subscription::CycleOpen)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let enqueue = started.elapsed();
    assert_eq!(written as usize, members);

    // The SMTP server, and the worker.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("halle-mail-bench-{label}-{run_id}"));
    let mut smtp = Command::new(root().join("target/smtp-venv/bin/python"))
        .arg(root().join("tests/tools/smtp_server.py"))
        .arg(port.to_string())
        .arg(&dir)
        .args(["--workers", &sinks.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tests/tools/install-smtp first");
    let mut line = String::new();
    BufReader::new(smtp.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    let started = Instant::now();
    let (cpu_before, sink_before) = (cpu_time("self"), cpu_time(&smtp.id().to_string()));
    let worker = mail::MailConfig {
        smtp: mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: mail::Security::None,
            username: None,
            password: None,
            pool_size: pool,
            timeout: Duration::from_secs(10),
        },
        from: "Halle <halle@example.org>".into(),
        base_url: "http://127.0.0.1:8080".into(),
        dkim: None,
        worker: mail::WorkerOptions {
            batch,
            concurrency: pool as usize,
            poll: Duration::from_millis(20),
            ..Default::default()
        },
    }
    .start(store.clone())
    .unwrap();
    loop {
        let row = store
            .db()
            .query_one_raw(sea_orm::Statement::from_string(
                store.db().get_database_backend(),
                "SELECT COUNT(*) AS n FROM outbox WHERE state <> 'pending'",
            ))
            .await
            .unwrap()
            .unwrap();
        let done: i64 = row.try_get("", "n").unwrap();
        if done as usize >= members {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "too slow: {done} sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let send = started.elapsed();
    worker.stop().await;
    let cpu = cpu_time("self").saturating_sub(cpu_before);
    let sink_cpu = cpu_time(&smtp.id().to_string()).saturating_sub(sink_before);
    let received = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .count();
    let failed = store
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            store.db().get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox WHERE state = 'failed'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    let _ = smtp.kill();
    let _ = smtp.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{label:<9} {members} members: enqueued in {:.0} ms; sent in {:.1} s = {:.0} messages/s \
         (pool {pool}, batch {batch}, {sinks} sink process(es)); server received {received}, \
         failed {failed}; CPU while sending: this process {:.1} s ({:.0} µs a message), the \
         first sink process {:.1} s; load average {}",
        enqueue.as_secs_f64() * 1000.0,
        send.as_secs_f64(),
        members as f64 / send.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / members as f64,
        sink_cpu.as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
}

fn main() {
    let which = setting("MAIL_DB", "both");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if which == "sqlite" || which == "both" {
            let file = std::env::temp_dir().join(format!("halle-mail-{}.db", std::process::id()));
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
            let url = setting(
                "HALLE_TEST_PG_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            );
            let schema = format!("halle_mailbench_{}", std::process::id());
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
                    pg_pool: 8,
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
