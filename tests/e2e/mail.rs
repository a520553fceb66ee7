//! Mail through a real SMTP server: aiosmtpd on a loopback port (tests/tools/smtp_server.py,
//! installed by tests/tools/install-smtp), writing each message it accepts to a folder. The
//! messages are parsed (`mailparse`) and checked: headers, both parts, links against the
//! running server; the server stopped mid-way, a 4xx, a 5xx.

use std::{
    collections::HashSet,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use mailparse::MailHeaderMap;
use serde_json::{Value, json};
use store::Role;

use crate::{
    both,
    helpers::{Db, PASSWORD, TestApp, User, World, iso, unique_name},
};

/// The aiosmtpd server of one test.
pub struct Smtp {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Smtp {
    /// Starts a server on a free port, with a fresh folder.
    pub fn start() -> Smtp {
        let dir = std::env::temp_dir().join(unique_name("halle_mail"));
        let mut s = Smtp {
            child: None,
            port: free_port(),
            dir,
        };
        s.resume();
        s
    }

    /// (Re)starts the server on its port and folder.
    pub fn resume(&mut self) {
        let python = root().join("target/smtp-venv/bin/python");
        assert!(
            python.exists(),
            "run tests/tools/install-smtp first (aiosmtpd in target/smtp-venv)"
        );
        let mut child = Command::new(python)
            .arg(root().join("tests/tools/smtp_server.py"))
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("aiosmtpd says it is ready");
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        self.child = Some(child);
    }

    /// Stops the server (its port then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }

    /// Waits until `n` messages arrived (at most `within`), and returns them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Vec<u8>> {
        let until = Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > until {
                assert!(
                    got.len() >= n,
                    "{} message(s) received, {n} expected",
                    got.len()
                );
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A worker on `app`'s store sending to `port`, quick to retry.
pub fn worker(app: &TestApp, port: u16, max_attempts: i32) -> mail::Worker {
    mail::MailConfig {
        smtp: mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: mail::Security::None,
            username: None,
            password: None,
            pool_size: 4,
            timeout: Duration::from_secs(5),
        },
        from: "Halle <halle@example.org>".into(),
        base_url: app.base.clone(),
        dkim: None,
        worker: mail::WorkerOptions {
            batch: 50,
            concurrency: 4,
            poll: Duration::from_millis(100),
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_millis(500),
            max_attempts,
            lease: Duration::from_secs(60),
        },
    }
    .start(app.store.clone())
    .expect("start the mail worker")
}

/// A consumer with this address.
async fn consumer(app: &TestApp, email: &str, name: &str) -> User {
    let hash = store::hash_password(PASSWORD.to_owned())
        .await
        .expect("hash");
    let actor = app
        .store
        .insert_account_with_hash(email, hash, name.into(), None, Role::Consumer, None, None)
        .await
        .expect("an account");
    User {
        id: actor.account_id,
        token: app.login(email, PASSWORD).await,
    }
}

async fn place(app: &TestApp, w: &World, who: &User) -> i64 {
    app.post(
        &format!("/api/v1/cycles/{}/orders", w.cycle_id),
        who.t(),
        json!({"slot_id": w.slots[0], "lines": [
            {"offer_id": w.offers[0], "quantity": "1.5"},
            {"offer_id": w.offers[1], "quantity": 2}
        ]}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .expect("an order id")
}

/// The coordinator's view of the market's mail.
async fn desk_mail(app: &TestApp, w: &World) -> Vec<Value> {
    app.get(
        &format!("/api/v1/markets/{}/mail", w.market_id),
        w.coordinator.t(),
    )
    .await
    .expect(200)
    .as_array()
    .cloned()
    .expect("a list")
}

pub fn header(m: &mailparse::ParsedMail<'_>, name: &str) -> String {
    m.headers.get_first_value(name).unwrap_or_default()
}

/// The text and HTML parts of a `multipart/alternative` message.
pub fn parts(m: &mailparse::ParsedMail<'_>) -> (String, String) {
    assert_eq!(m.ctype.mimetype, "multipart/alternative");
    assert_eq!(m.subparts.len(), 2, "text then HTML");
    assert_eq!(m.subparts[0].ctype.mimetype, "text/plain");
    assert_eq!(m.subparts[1].ctype.mimetype, "text/html");
    (
        m.subparts[0].get_body().expect("the text part"),
        m.subparts[1].get_body().expect("the HTML part"),
    )
}

/// The order confirmation: headers, both parts with the basket, total, VAT and slot, a link
/// that works; the coordinators see it sent; a transactional mail has no List-Unsubscribe.
async fn order_confirmation_arrives_whole(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let email = format!("{}@example.org", unique_name("alice"));
    let alice = consumer(&app, &email, "Alice Martin").await;
    let order = place(&app, &w, &alice).await;

    let raw = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(raw.len(), 1);
    let m = mailparse::parse_mail(&raw[0]).expect("a message");
    assert!(header(&m, "From").contains("halle@example.org"));
    assert!(header(&m, "To").contains(&email));
    let coordinator_email = app.get("/api/v1/me", w.coordinator.t()).await.expect(200)["email"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default();
    let reply_to = header(&m, "Reply-To");
    assert!(
        !coordinator_email.is_empty() && reply_to.contains(&coordinator_email),
        "Reply-To {reply_to:?} is the market's contact {coordinator_email:?}"
    );
    let id = header(&m, "Message-ID");
    assert!(
        id.starts_with("<halle.") && id.ends_with("@example.org>"),
        "{id}"
    );
    assert!(mailparse::dateparse(&header(&m, "Date")).is_ok());
    assert!(header(&m, "Subject").contains(&order.to_string()));
    assert!(m.headers.get_first_value("List-Unsubscribe").is_none());
    let (text, html) = parts(&m);
    for body in [&text, &html] {
        assert!(body.contains("Carottes") && body.contains("Œufs"), "{body}");
        // 1.5 kg × 2.80 + 2 × 4.20 = 12.60, VAT 5.5 % included.
        assert!(body.contains("12,60"), "{body}");
        assert!(body.contains("5.5 %"), "{body}");
        assert!(body.contains("Salle des fêtes"), "{body}");
    }
    let link = format!("{}/orders/{order}", app.base);
    assert!(text.contains(&link) && html.contains(&link));
    let opened = app
        .client
        .get(&link)
        .send()
        .await
        .expect("the link answers");
    assert_eq!(
        opened.status().as_u16(),
        200,
        "the order link leads somewhere"
    );

    let listed = desk_mail(&app, &w).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "sent");
    assert_eq!(listed[0]["kind"], "order_placed");
    assert_eq!(listed[0]["recipient"], email.as_str());
    // The coordinators' page says the same.
    let mut desk = app.visit("fr-FR");
    desk.log_in(&coordinator_email, PASSWORD).await;
    desk.get("/desk/mail")
        .await
        .expect(200)
        .contains(&email)
        .contains("Envoyé")
        .contains("Confirmation de commande");
    // Nobody else sees a market's mail.
    app.get(&format!("/api/v1/markets/{}/mail", w.market_id), alice.t())
        .await
        .expect_error(403, "forbidden");
    mailer.stop().await;
    app.cleanup().await;
}

/// A cycle opening goes to the members who asked for it, with List-Unsubscribe (one-click):
/// the one-click POST works, and the next opening skips who unsubscribed.
async fn cycle_open_announcement_unsubscribes_in_one_click(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 10);
    let bob = format!("{}@example.org", unique_name("bob"));
    let wants = consumer(&app, &bob, "Bob").await;
    // Eve never asked: she gets nothing.
    consumer(&app, &format!("{}@example.org", unique_name("eve")), "Eve").await;
    app.put(
        &format!("/api/v1/markets/{}/mail-wishes", w.market_id),
        wants.t(),
        json!({"cycle_open": true, "closing_reminder": false}),
    )
    .await
    .expect(200);
    let now = chrono::Utc::now();
    let open_cycle = |name: &'static str| {
        let app = &app;
        let w = &w;
        async move {
            let c = app
                .post(
                    &format!("/api/v1/markets/{}/cycles", w.market_id),
                    w.coordinator.t(),
                    json!({"name": name, "opens_at": iso(now - chrono::Duration::hours(1)),
                           "closes_at": iso(now + chrono::Duration::days(2)),
                           "slots": [{"pickup_point_id": w.points[0], "starts_at": iso(now + chrono::Duration::days(3)),
                                      "ends_at": iso(now + chrono::Duration::days(3) + chrono::Duration::hours(2))}]}),
                )
                .await
                .expect(201)["id"]
                .as_i64()
                .expect("cycle id");
            app.post(
                &format!("/api/v1/cycles/{c}/open"),
                w.coordinator.t(),
                json!({}),
            )
            .await
            .expect(200);
            c
        }
    };
    let cycle = open_cycle("Semaine 2").await;
    let raw = smtp.wait_for(1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "Bob only");
    let m = mailparse::parse_mail(&raw[0]).expect("a message");
    assert!(header(&m, "To").contains(&bob));
    let unsubscribe = header(&m, "List-Unsubscribe");
    let url = unsubscribe
        .trim()
        .strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .expect("List-Unsubscribe is <URL>")
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/unsubscribe/", app.base)),
        "{url}"
    );
    assert_eq!(
        header(&m, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let (text, html) = parts(&m);
    let shop = format!("{}/shop/{cycle}", app.base);
    assert!(text.contains(&shop) && html.contains(&shop));
    assert!(text.contains("Semaine 2"));
    assert_eq!(
        app.client
            .get(&shop)
            .send()
            .await
            .expect("the shop")
            .status()
            .as_u16(),
        200
    );
    // The GET only shows a button; the one-click POST (no cookie, no form token) unsubscribes.
    let page = app.client.get(&url).send().await.expect("the page");
    assert_eq!(page.status().as_u16(), 200);
    let wishes = format!("/api/v1/markets/{}/mail-wishes", w.market_id);
    assert_eq!(
        app.get(&wishes, wants.t()).await.expect(200)["cycle_open"],
        true
    );
    let one_click = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("the one-click POST");
    assert_eq!(one_click.status().as_u16(), 200);
    assert_eq!(
        app.get(&wishes, wants.t()).await.expect(200)["cycle_open"],
        false
    );

    open_cycle("Semaine 3").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "nobody asked for the third cycle's announcement"
    );
    mailer.stop().await;
    app.cleanup().await;
}

/// The SMTP server stops half-way: the mail written meanwhile waits, then goes once it is
/// back, nothing lost, nothing twice.
async fn smtp_down_midway_loses_and_doubles_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let mut smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 100);
    let mut expected = HashSet::new();
    for i in 0..3 {
        let email = format!("{}@example.org", unique_name(&format!("first{i}")));
        let u = consumer(&app, &email, "Client").await;
        place(&app, &w, &u).await;
        expected.insert(email);
    }
    smtp.wait_for(3, Duration::from_secs(20)).await;
    smtp.stop();
    for i in 0..3 {
        let email = format!("{}@example.org", unique_name(&format!("second{i}")));
        let u = consumer(&app, &email, "Client").await;
        place(&app, &w, &u).await;
        expected.insert(email);
    }
    // The worker tries, fails, and records why; the mail waits.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = desk_mail(&app, &w).await;
        let waiting: Vec<&Value> = listed.iter().filter(|m| m["state"] == "pending").collect();
        if waiting.len() == 3 && waiting.iter().all(|m| m["last_error"].is_string()) {
            break;
        }
        assert!(Instant::now() < until, "the mail did not wait: {listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(smtp.messages().len(), 3);
    smtp.resume();
    let raw = smtp.wait_for(6, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let raw = if smtp.messages().len() > raw.len() {
        smtp.messages()
    } else {
        raw
    };
    assert_eq!(raw.len(), 6, "each mail once");
    let to: HashSet<String> = raw
        .iter()
        .map(|r| {
            let m = mailparse::parse_mail(r).expect("a message");
            let to = header(&m, "To");
            expected
                .iter()
                .find(|e| to.contains(e.as_str()))
                .cloned()
                .unwrap_or(to)
        })
        .collect();
    assert_eq!(to, expected);
    let listed = desk_mail(&app, &w).await;
    assert!(listed.iter().all(|m| m["state"] == "sent"), "{listed:?}");
    assert!(
        listed
            .iter()
            .filter(|m| m["attempts"].as_i64() > Some(1))
            .count()
            >= 3
    );
    mailer.stop().await;
    app.cleanup().await;
}

/// A 5xx is recorded and never tried again; a 4xx is tried again, and given up after the
/// configured number of tries.
async fn refusals_are_recorded(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let smtp = Smtp::start();
    let mailer = worker(&app, smtp.port, 3);
    let refused = consumer(
        &app,
        &format!("{}@example.org", unique_name("reject5")),
        "R",
    )
    .await;
    let deferred = consumer(&app, &format!("{}@example.org", unique_name("defer4")), "D").await;
    place(&app, &w, &refused).await;
    place(&app, &w, &deferred).await;
    let until = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let listed = desk_mail(&app, &w).await;
        if listed.len() == 2 && listed.iter().all(|m| m["state"] == "failed") {
            break listed;
        }
        assert!(Instant::now() < until, "not given up: {listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let of = |who: &str| {
        listed
            .iter()
            .find(|m| m["recipient"].as_str().is_some_and(|r| r.starts_with(who)))
            .cloned()
            .expect("its mail")
    };
    let r = of("reject5");
    assert_eq!(r["attempts"], 1, "a 5xx is not tried again");
    assert!(
        r["last_error"].as_str().is_some_and(|e| e.contains("550")),
        "{r}"
    );
    let d = of("defer4");
    assert_eq!(d["attempts"], 3, "a 4xx is tried again, up to the limit");
    assert!(
        d["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("gave up") && e.contains("451")),
        "{d}"
    );
    // Failed mail is listed as such, and stays failed.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let failed = app
        .get(
            &format!("/api/v1/markets/{}/mail?state=failed", w.market_id),
            w.coordinator.t(),
        )
        .await
        .expect(200);
    assert_eq!(failed.as_array().map(Vec::len), Some(2));
    assert_eq!(smtp.messages().len(), 0);
    mailer.stop().await;
    app.cleanup().await;
}

both!(
    order_confirmation_arrives_whole,
    cycle_open_announcement_unsubscribes_in_one_click,
    smtp_down_midway_loses_and_doubles_nothing,
    refusals_are_recorded,
);
