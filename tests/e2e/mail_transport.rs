//! How mail leaves, checked for real: DKIM signatures verified by a real verifier (dkimpy,
//! tests/tools/dkim_verify.py, with the test's public key in place of DNS), a tampered body or
//! header failing it; STARTTLS and implicit TLS to aiosmtpd with a certificate made for the
//! test (openssl), trusted through `SmtpSettings::transport_trusting`, the server saying the
//! session was encrypted; a server without STARTTLS, or with a certificate nobody trusts,
//! making the mail wait with the reason recorded; and the outbox's backlog on `/metrics`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    both,
    helpers::{Db, TestApp, World, unique_name},
    mail::{Smtp, config, consumer, desk_mail, header, place},
};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A folder of the test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(unique_name("halle_mail_keys"));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs openssl with `args`, which must succeed.
fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (tests/tools/install-smtp installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh RSA key pair: the private key in PKCS#1 PEM (what DKIM signing reads), the public
/// one in SubjectPublicKeyInfo PEM (what a DKIM DNS record publishes).
fn rsa_pair(dir: &Scratch) -> (PathBuf, PathBuf) {
    let (key, public) = (dir.path("dkim.key"), dir.path("dkim.pub"));
    let (k, p) = (key.to_string_lossy(), public.to_string_lossy());
    openssl(&["genrsa", "-traditional", "-out", &k, "2048"]);
    openssl(&["rsa", "-in", &k, "-pubout", "-out", &p]);
    (key, public)
}

/// A self-signed certificate for 127.0.0.1 (an end entity, not a CA), and its key.
fn certificate(dir: &Scratch) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.path("smtp.crt"), dir.path("smtp.key"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-keyout",
        &key.to_string_lossy(),
        "-out",
        &cert.to_string_lossy(),
    ]);
    (cert, key)
}

/// What dkimpy says of `message` with `public_key` published at the name it asks for:
/// (verified, the name it asked for).
fn dkim_verify(message: &[u8], public_key: &Path, dir: &Scratch) -> (bool, String) {
    let file = dir.path(&unique_name("message"));
    std::fs::write(&file, message).expect("write the message");
    let out = Command::new(root().join("target/smtp-venv/bin/python"))
        .arg(root().join("tests/tools/dkim_verify.py"))
        .arg(&file)
        .arg(public_key)
        .output()
        .expect("run tests/tools/install-smtp first (dkimpy in target/smtp-venv)");
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (verdict, name) = said.split_once(' ').unwrap_or((said.as_str(), ""));
    if verdict != "pass" {
        eprintln!(
            "dkim_verify.py {}: {said}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        matches!(verdict, "pass" | "fail"),
        "dkim_verify.py: {said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.success(), verdict == "pass");
    (verdict == "pass", name.to_owned())
}

/// A consumer places an order: one confirmation goes to the outbox.
async fn one_order(app: &TestApp, w: &World, who: &str) -> String {
    let email = format!("{}@example.org", unique_name(who));
    let u = consumer(app, &email, "Camille Test").await;
    place(app, w, &u).await;
    email
}

/// The market's mail once `done` holds for it (20 s at most).
async fn mail_when(app: &TestApp, w: &World, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = desk_mail(app, w).await;
        if done(&listed) {
            return listed;
        }
        assert!(Instant::now() < until, "not as expected: {listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A signed message passes dkimpy with the key published where the signature says (the
/// selector and the sender's domain); the same message with a word of its body changed, or
/// its subject changed, fails.
async fn dkim_signature_verifies_and_tampering_breaks_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let keys = Scratch::new();
    let (private, public) = rsa_pair(&keys);
    let smtp = Smtp::start();
    let mut settings = config(&app, smtp.port, mail::Security::None);
    settings.dkim = Some(mail::DkimSettings {
        selector: "halle2026".into(),
        domain: "example.org".into(),
        private_key: std::fs::read_to_string(&private).expect("the key"),
    });
    let mailer = settings.start(app.store.clone()).expect("a worker");
    one_order(&app, &w, "signed").await;
    let raw = smtp.wait_for(1, Duration::from_secs(20)).await;
    let m = mailparse::parse_mail(&raw[0]).expect("a message");
    let signature = header(&m, "DKIM-Signature");
    assert!(
        signature.contains("d=example.org") && signature.contains("s=halle2026"),
        "{signature}"
    );
    let (ok, asked) = dkim_verify(&raw[0], &public, &keys);
    assert!(ok, "the signature does not verify");
    assert_eq!(asked, "halle2026._domainkey.example.org.");

    // One letter of the text part's content, as sent (whatever its transfer encoding),
    // changed: the body hash no longer matches.
    let text = String::from_utf8_lossy(&raw[0]).into_owned();
    let body = text.find("\r\n\r\n").expect("headers, then a body") + 4;
    let content = text[body..].find("\r\n\r\n").expect("the text part") + body + 4;
    let letter = text[content..]
        .find(|c: char| c.is_ascii_alphabetic())
        .expect("a letter")
        + content;
    let mut tampered = raw[0].clone();
    tampered[letter] ^= 0x20;
    assert!(!dkim_verify(&tampered, &public, &keys).0);
    // A signed header changed.
    let retitled = text.replacen("\r\nSubject: ", "\r\nSubject: Re: ", 1);
    assert_ne!(retitled, text);
    assert!(!dkim_verify(retitled.as_bytes(), &public, &keys).0);
    // Another key at the same name: fails too.
    let other = Scratch::new();
    let (_, wrong) = rsa_pair(&other);
    assert!(!dkim_verify(&raw[0], &wrong, &keys).0);
    mailer.stop().await;
    app.cleanup().await;
}

/// STARTTLS, then implicit TLS, to a server whose certificate Halle was told to trust: the
/// mail arrives and the server saw an encrypted session.
async fn mail_goes_out_over_starttls_and_tls(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let keys = Scratch::new();
    let (cert, key) = certificate(&keys);
    let pem = std::fs::read(&cert).expect("the certificate");
    for (mode, security) in [
        ("--starttls", mail::Security::StartTls),
        ("--implicit-tls", mail::Security::Tls),
    ] {
        let smtp = Smtp::start_with(&[
            "--cert".into(),
            cert.to_string_lossy().into_owned(),
            "--key".into(),
            key.to_string_lossy().into_owned(),
            mode.into(),
        ]);
        let settings = config(&app, smtp.port, security);
        let transport = settings
            .smtp
            .transport_trusting(Some(&pem))
            .expect("a transport");
        let mailer = settings
            .start_with(app.store.clone(), transport)
            .expect("a worker");
        let email = one_order(&app, &w, "tls").await;
        let raw = smtp.wait_for(1, Duration::from_secs(20)).await;
        let m = mailparse::parse_mail(&raw[0]).expect("a message");
        assert!(header(&m, "To").contains(&email), "{mode}");
        assert_eq!(header(&m, "DKIM-Signature"), "", "no key, no signature");
        let session: Value = std::fs::read_dir(&smtp.dir)
            .expect("the server's folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".session.json"))
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .expect("the server recorded the session");
        assert_eq!(session["tls"], true, "{mode}: {session}");
        assert!(
            session["tls_version"]
                .as_str()
                .is_some_and(|v| v.starts_with("TLSv1.")),
            "{session}"
        );
        assert_eq!(session["rcpt_tos"][0], email.as_str());
        mailer.stop().await;
    }
    app.cleanup().await;
}

/// STARTTLS required, and a server that does not offer it: nothing goes in clear, the mail
/// waits and says why. A server offering it with a certificate nobody vouches for: the same.
/// Once the server is one Halle trusts, the mail goes.
async fn without_trusted_tls_the_mail_waits_and_says_why(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let plain = Smtp::start();
    let mailer = config(&app, plain.port, mail::Security::StartTls)
        .start(app.store.clone())
        .expect("a worker");
    one_order(&app, &w, "clear").await;
    let listed = mail_when(&app, &w, |l| {
        l.len() == 1 && l[0]["state"] == "pending" && l[0]["last_error"].is_string()
    })
    .await;
    let error = listed[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("STARTTLS"), "{error}");
    mailer.stop().await;
    assert!(plain.messages().is_empty(), "nothing went in clear");

    let keys = Scratch::new();
    let (cert, key) = certificate(&keys);
    let tls = Smtp::start_with(&[
        "--cert".into(),
        cert.to_string_lossy().into_owned(),
        "--key".into(),
        key.to_string_lossy().into_owned(),
        "--starttls".into(),
    ]);
    let settings = config(&app, tls.port, mail::Security::StartTls);
    let untrusting = settings.start(app.store.clone()).expect("a worker");
    mail_when(&app, &w, |l| {
        l[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("certificate"))
    })
    .await;
    untrusting.stop().await;
    assert!(
        tls.messages().is_empty(),
        "nothing sent to an unknown server"
    );
    assert_eq!(desk_mail(&app, &w).await[0]["state"], "pending");

    let pem = std::fs::read(&cert).expect("the certificate");
    let trusting = settings
        .start_with(
            app.store.clone(),
            settings
                .smtp
                .transport_trusting(Some(&pem))
                .expect("a transport"),
        )
        .expect("a worker");
    tls.wait_for(1, Duration::from_secs(20)).await;
    mail_when(&app, &w, |l| l[0]["state"] == "sent").await;
    trusting.stop().await;
    app.cleanup().await;
}

/// The value of `name` in a Prometheus text.
fn gauge(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

async fn metrics(app: &TestApp) -> String {
    let (status, _, body) = app.bytes("/metrics", None).await;
    assert_eq!(status, 200);
    String::from_utf8(body).expect("text")
}

/// `/metrics` once its gauge `name` reads `value`, or as it is after 15 s.
async fn metrics_when(app: &TestApp, name: &str, value: f64) -> String {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let text = metrics(app).await;
        if gauge(&text, name) == value || Instant::now() > until {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `/metrics` shows the outbox's backlog: what waits and for how long, what was given up.
async fn metrics_show_the_mail_backlog(db: Db) {
    let app = TestApp::spawn(db).await;
    let w = app.world().await;
    let text = metrics(&app).await;
    assert!(
        text.contains("# TYPE halle_mail_outbox_pending gauge"),
        "{text}"
    );
    assert_eq!(gauge(&text, "halle_mail_outbox_pending"), 0.0);
    assert_eq!(gauge(&text, "halle_mail_outbox_failed"), 0.0);
    assert_eq!(
        gauge(&text, "halle_mail_outbox_oldest_pending_seconds"),
        0.0
    );
    // No worker yet: two confirmations wait.
    one_order(&app, &w, "waits").await;
    one_order(&app, &w, "reject5").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Read again at most every 5 s: the first scrape's zeros may still be served.
    let text = metrics_when(&app, "halle_mail_outbox_pending", 2.0).await;
    assert_eq!(gauge(&text, "halle_mail_outbox_pending"), 2.0, "{text}");
    assert_eq!(gauge(&text, "halle_mail_outbox_failed"), 0.0);
    let waited = gauge(&text, "halle_mail_outbox_oldest_pending_seconds");
    assert!((1.0..60.0).contains(&waited), "{waited}");
    // A worker sends one; the other is refused for good.
    let smtp = Smtp::start();
    let mailer = config(&app, smtp.port, mail::Security::None)
        .start(app.store.clone())
        .expect("a worker");
    mail_when(&app, &w, |l| l.iter().all(|m| m["state"] != "pending")).await;
    let text = metrics_when(&app, "halle_mail_outbox_failed", 1.0).await;
    assert_eq!(gauge(&text, "halle_mail_outbox_failed"), 1.0, "{text}");
    assert_eq!(gauge(&text, "halle_mail_outbox_pending"), 0.0);
    assert_eq!(
        gauge(&text, "halle_mail_outbox_oldest_pending_seconds"),
        0.0
    );
    mailer.stop().await;
    app.cleanup().await;
}

both!(
    dkim_signature_verifies_and_tampering_breaks_it,
    mail_goes_out_over_starttls_and_tls,
    without_trusted_tls_the_mail_waits_and_says_why,
    metrics_show_the_mail_backlog,
);
