//! Backups for real: a database with orders backed up with `halle backup` (SQLite's online
//! `VACUUM INTO`; PostgreSQL's `pg_dump`, of the test's schema), restored with `halle restore`
//! into a fresh database (a new file; a new PostgreSQL database, with `pg_restore`), served by
//! `halle serve`, and its distribution sheets byte-identical to the original's.

use std::{path::Path, process::Command, time::Duration};

use sea_orm::ConnectionTrait;
use serde_json::json;
use store::{Role, Store, StoreOptions};

use crate::{
    both,
    faults::{halle_bin, serve, wait_exit},
    helpers::{Db, TestApp, pg_url, unique_name},
};

both!(a_backup_restored_into_a_fresh_database_serves_the_same_sheets);

/// Runs `halle ARGS` to its end; panics, with what it said, unless it succeeds.
async fn halle(args: Vec<String>) -> String {
    let bin = halle_bin().await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run halle")
    })
    .await
    .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "halle failed: {said}");
    said
}

/// One statement on the test PostgreSQL server, outside any test schema.
async fn pg_admin(sql: &str) {
    let admin = Store::connect_with(
        &pg_url(),
        &StoreOptions {
            pg_pool: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    admin.db().execute_unprepared(sql).await.unwrap();
}

/// A cycle's sheets, as CSV and as HTML, from the server at `base`.
async fn sheets(base: &str, token: &str, cycle_id: i64) -> Vec<Vec<u8>> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    for format in ["csv", "html"] {
        let resp = http
            .get(format!(
                "{base}/api/v1/cycles/{cycle_id}/sheets?format={format}&lang=fr"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{format}");
        all.push(resp.bytes().await.unwrap().to_vec());
    }
    all
}

async fn a_backup_restored_into_a_fresh_database_serves_the_same_sheets(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let orders = format!("/api/v1/cycles/{}/orders", w.cycle_id);
    for (i, slot) in [w.slots[0], w.slots[1], w.slots[0]].into_iter().enumerate() {
        let consumer = app.user(Role::Consumer, None, None).await;
        app.post(
            &orders,
            consumer.t(),
            json!({"slot_id": slot, "lines": [
                {"offer_id": w.offers[0], "quantity": format!("{}.5", i + 1)},
                {"offer_id": w.offers[1], "quantity": i + 1}
            ]}),
        )
        .await
        .expect(201);
    }
    let before = sheets(&app.base, &w.coordinator.token, w.cycle_id).await;
    assert!(
        String::from_utf8_lossy(&before[0]).lines().count() > 3,
        "the sheets list the baskets"
    );

    let dir = std::env::temp_dir().join(unique_name("halle_backup"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("halle.backup");
    let said = halle(vec![
        "backup".into(),
        "--to".into(),
        file.display().to_string(),
        "--database-url".into(),
        app.database_url(),
    ])
    .await;
    // The restored database, and the URL to serve it.
    let (restore_url, serve_url, fresh) = match db {
        Db::Sqlite => {
            let url = format!("sqlite://{}", dir.join("restored.db").display());
            (url.clone(), url, None)
        }
        Db::Postgres => {
            assert!(said.contains("pg_dump"), "{said}");
            let schema = app
                .database_url()
                .rsplit("search_path%3D")
                .next()
                .unwrap()
                .to_owned();
            assert!(said.contains(&format!("--schema={schema}")), "{said}");
            let name = unique_name("halle_restored");
            pg_admin(&format!("CREATE DATABASE \"{name}\"")).await;
            let base = pg_url();
            let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
            let serve = format!("{url}?options=-c%20search_path%3D{schema}");
            (url, serve, Some(name))
        }
    };
    halle(vec![
        "restore".into(),
        "--from".into(),
        file.display().to_string(),
        "--database-url".into(),
        restore_url,
    ])
    .await;

    let (mut node, base) = serve(&serve_url).await;
    let after = sheets(&base, &w.coordinator.token, w.cycle_id).await;
    assert!(before[0] == after[0], "the CSV sheets differ");
    assert!(before[1] == after[1], "the HTML sheets differ");
    let _ = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status();
    wait_exit(&mut node, Duration::from_secs(15)).await;
    drop(node);
    if let Some(name) = fresh {
        pg_admin(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
    }
    remove(&dir);
    app.cleanup().await;
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
