//! The operator's first start, for real: `halle serve` on a fresh database says how to create
//! an administrator, `halle admin create` makes one from a password on standard input, and
//! `halle admin reset-password` / `disable` / `enable` take effect on the running server at
//! once. On a fresh SQLite file and on a fresh schema of the test PostgreSQL
//! (`HALLE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where it breaks"
)]

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

use sea_orm::ConnectionTrait;

const HALLE: &str = env!("CARGO_BIN_EXE_halle");

fn pg_url() -> String {
    std::env::var("HALLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

async fn pg_admin(sql: &str) {
    let mut options = sea_orm::ConnectOptions::new(pg_url());
    options
        .max_connections(1)
        .min_connections(0)
        .sqlx_logging(false);
    let db = sea_orm::Database::connect(options)
        .await
        .expect("the test PostgreSQL runs");
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

/// A fresh database: a SQLite file or a PostgreSQL schema, dropped at the end.
enum Fresh {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Fresh {
    async fn new(postgres: bool) -> Self {
        if postgres {
            let schema = unique("halle_admin");
            pg_admin(&format!("CREATE SCHEMA \"{schema}\"")).await;
            Self::Postgres(schema)
        } else {
            Self::Sqlite(std::env::temp_dir().join(format!("{}.db", unique("halle_admin"))))
        }
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(schema) => {
                let base = pg_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}options=-c%20search_path%3D{schema}")
            }
        }
    }

    async fn drop_it(self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Self::Postgres(schema) => pg_admin(&format!("DROP SCHEMA \"{schema}\" CASCADE")).await,
        }
    }
}

/// Runs `halle ARGS` on `url` with `stdin` as its standard input (not a terminal).
async fn halle(url: &str, args: &[&str], stdin: &str) -> Output {
    let url = url.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(HALLE)
            .args(&args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// `halle serve` on port 0: the process, its base URL, and what it said on standard error
/// in its first moments.
async fn serve(url: &str) -> (Child, String, String) {
    let mut child = Command::new(HALLE)
        .args(["serve", "--bind", "127.0.0.1:0", "--db-pool", "2"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let base = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            for line in BufReader::new(stdout).lines() {
                if let Some(base) = line.unwrap().strip_prefix("Halle listening on ") {
                    return base.to_owned();
                }
            }
            panic!("halle serve ended without listening");
        }),
    )
    .await
    .expect("halle serve listens within a minute")
    .unwrap();
    // The advice comes right after the listening line; read until it, or for 5 s at most.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut said = String::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        said.push_str(&line);
        said.push('\n');
        if line.contains("halle admin create") {
            break;
        }
    }
    (child, base, said)
}

async fn token(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Option<String> {
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    if !res.status().is_success() {
        assert_eq!(res.status(), 401, "a refused login is a 401");
        return None;
    }
    let body: serde_json::Value = res.json().await.unwrap();
    Some(body["token"].as_str().unwrap().to_owned())
}

async fn me(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn first_start(postgres: bool) {
    let db = Fresh::new(postgres).await;
    let url = db.url();
    let (mut server, base, said) = serve(&url).await;
    assert!(
        said.contains("no administrator") && said.contains("halle admin create --email"),
        "serve on a fresh database says how to create an administrator, said: {said}"
    );
    let client = reqwest::Client::new();
    let email = "Root@Example.org";
    let first = "sel de Guérande 2026";

    // Never from argv: there is no such flag.
    let out = halle(
        &url,
        &["admin", "create", "--email", email, "--password", first],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // The password rules apply.
    let out = halle(&url, &["admin", "create", "--email", email], "short\n").await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("weak_password"),
        "{}",
        text(&out.stderr)
    );
    let out = halle(
        &url,
        &["admin", "create", "--email", email],
        "Password123\n",
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("common_password"),
        "{}",
        text(&out.stderr)
    );
    let out = halle(&url, &["admin", "create", "--email", email], "").await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no password"),
        "{}",
        text(&out.stderr)
    );

    let out = halle(
        &url,
        &["admin", "create", "--email", email],
        &format!("{first}\n"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("administrator root@example.org created"));
    let out = halle(
        &url,
        &["admin", "create", "--email", email],
        &format!("{first}\n"),
    )
    .await;
    assert!(
        text(&out.stderr).contains("email_taken"),
        "{}",
        text(&out.stderr)
    );

    let t1 = token(&client, &base, email, first)
        .await
        .expect("the new admin logs in");
    let body: serde_json::Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["role"], "admin", "{body}");

    // A reset ends the running server's tokens at once; only the new password works.
    let second = "beurre demi-sel 2027";
    let out = halle(
        &url,
        &["admin", "reset-password", "--email", "root@example.org"],
        &format!("{second}\r\n"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(me(&client, &base, &t1).await, 401);
    assert!(token(&client, &base, email, first).await.is_none());
    let t2 = token(&client, &base, email, second)
        .await
        .expect("the new password works");
    assert_eq!(me(&client, &base, &t2).await, 200);

    // Disabled: its token stops, it cannot log in.
    let out = halle(&url, &["admin", "disable", "--email", email], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(me(&client, &base, &t2).await, 401);
    assert!(token(&client, &base, email, second).await.is_none());
    let out = halle(
        &url,
        &["admin", "disable", "--email", "nobody@example.org"],
        "",
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown_account"),
        "{}",
        text(&out.stderr)
    );

    // Enabled again: the same password works.
    let out = halle(&url, &["admin", "enable", "--email", email], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(token(&client, &base, email, second).await.is_some());

    let _ = server.kill();
    let _ = server.wait();
    // With an administrator, serve says nothing of creating one.
    let (mut server, _, said) = serve(&url).await;
    let _ = server.kill();
    let _ = server.wait();
    assert!(!said.contains("halle admin create"), "{said}");
    db.drop_it().await;
}

#[tokio::test]
async fn first_start_on_sqlite() {
    first_start(false).await;
}

#[tokio::test]
async fn first_start_on_postgres() {
    first_start(true).await;
}

/// `--log-format json`: one JSON object a line, and the lines of a request carry its id (the
/// line of each answered request is at debug, under its own target: turned on here).
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let db = Fresh::new(false).await;
    let mut child = Command::new(HALLE)
        .args(["--log-format", "json", "serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "info,halle::access=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        if let Some(base) = line.strip_prefix("Halle listening on ") {
            break base.to_owned();
        }
    };
    let res = reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .header("x-request-id", "log-probe-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "log-probe-42");
    let mut seen = Vec::new();
    let answered = loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) else {
            panic!("no log line of the request; saw:\n{}", seen.join("\n"));
        };
        seen.push(line.clone());
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["span"]["id"] == "log-probe-42" && entry["fields"]["message"] == "answered" {
            break entry;
        }
    };
    assert_eq!(answered["fields"]["status"], 200, "{answered}");
    assert_eq!(answered["fields"]["route"], "/readyz", "{answered}");
    assert_eq!(answered["level"], "DEBUG", "{answered}");
    assert_eq!(answered["target"], "halle::access", "{answered}");
    let _ = child.kill();
    let _ = child.wait();
    db.drop_it().await;
}
