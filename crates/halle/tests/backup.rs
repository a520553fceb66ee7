//! `halle backup` and `halle restore` on SQLite, for real: the demo market (with a closed cycle
//! and its baskets) is backed up while its server runs, restored into a fresh file, both are
//! served, and the closed cycle's sheets and picking lists are byte-identical on both.

#![expect(clippy::unwrap_used, reason = "a test fails loudly where it breaks")]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

const HALLE: &str = env!("CARGO_BIN_EXE_halle");

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("halle_backup_{}_{name}", std::process::id()))
}

/// Starts `halle ARGS` and returns it with its standard output's lines.
fn start(args: &[&str], url: Option<&str>) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(HALLE);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn wait_for(rx: &mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = rx.recv_timeout(Duration::from_secs(120)).unwrap();
        if let Some(rest) = line.trim_start().strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(HALLE)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn documents(base: &str, cycle: &str) -> Vec<Vec<u8>> {
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "admin@halle.example.org", "password": "demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let mut out = Vec::new();
    for doc in ["sheets", "picking-lists"] {
        for format in ["csv", "html", "pdf", "json"] {
            let res = client
                .get(format!(
                    "{base}/api/v1/cycles/{cycle}/{doc}?format={format}"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{doc} {format}");
            let bytes = res.bytes().await.unwrap().to_vec();
            assert!(bytes.len() > 100, "{doc} {format}: {} bytes", bytes.len());
            out.push(bytes);
        }
    }
    out
}

#[tokio::test]
async fn a_sqlite_backup_restores_to_the_same_sheets() {
    let (original, backup, restored) = (temp("orig.db"), temp("backup.db"), temp("restored.db"));
    let (mut demo, rx) = start(
        &[
            "demo",
            "--database",
            original.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        None,
    );
    let base = wait_for(&rx, "open in a browser:")
        .trim_end_matches('/')
        .to_owned();
    let closed = wait_for(&rx, "closed cycle")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let before = documents(&base, &closed).await;

    // Online: the demo server still runs while the backup is taken.
    let orig_url = format!("sqlite://{}", original.display());
    let out = run(&[
        "backup",
        "--to",
        backup.to_str().unwrap(),
        "--database-url",
        &orig_url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Never over an existing file.
    let again = run(&[
        "backup",
        "--to",
        backup.to_str().unwrap(),
        "--database-url",
        &orig_url,
    ]);
    assert!(!again.status.success());
    let _ = demo.kill();
    let _ = demo.wait();

    let restored_url = format!("sqlite://{}", restored.display());
    let out = run(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--database-url",
        &restored_url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut server, rx) = start(&["serve", "--bind", "127.0.0.1:0"], Some(&restored_url));
    let base = wait_for(&rx, "Halle listening on");
    let after = documents(&base, &closed).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(before.len(), after.len());
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        assert!(b == a, "document {i} differs after restore");
    }
    for p in [&original, &backup, &restored] {
        for suffix in ["", "-wal", "-shm"] {
            let mut f = p.clone().into_os_string();
            f.push(suffix);
            let _ = std::fs::remove_file(f);
        }
    }
}
