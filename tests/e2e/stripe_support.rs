//! A real fake Stripe for the payment tests: PyPI's `localstripe` (installed by
//! `tests/tools/install-stripe`, which `tests/run` calls), started on a free port for one test
//! and stopped with it. It keeps PaymentIntents, captures and refunds, serves a stand-in
//! Stripe.js, and posts signed webhooks to the URLs registered with it.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;

pub const SECRET_KEY: &str = "sk_test_halle";
pub const PUBLISHABLE_KEY: &str = "pk_test_halle";
pub const WEBHOOK_SECRET: &str = "whsec_halle_test";

/// One running localstripe.
pub struct LocalStripe {
    pub url: String,
    child: Child,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl LocalStripe {
    pub async fn start() -> LocalStripe {
        let bin = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/tools/localstripe-1.15.10/bin/localstripe"
        );
        assert!(
            std::path::Path::new(bin).exists(),
            "localstripe is missing: run tests/tools/install-stripe (tests/run does)"
        );
        let port = free_port();
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--from-scratch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start localstripe");
        let stripe = LocalStripe {
            url: format!("http://127.0.0.1:{port}"),
            child,
            http: reqwest::Client::new(),
        };
        for _ in 0..200 {
            let up = stripe
                .http
                .get(format!("{}/js.stripe.com/v3/", stripe.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return stripe;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("localstripe did not start on port {port}");
    }

    /// Sends this Stripe's events for every market to `url`, signed with `WEBHOOK_SECRET`.
    pub async fn register_webhook(&self, url: &str) {
        let r = self
            .http
            .post(format!("{}/_config/webhooks/halle", self.url))
            .form(&[("url", url), ("secret", WEBHOOK_SECRET)])
            .send()
            .await
            .expect("register the webhook");
        assert!(
            r.status().is_success(),
            "webhook registration: {}",
            r.status()
        );
    }

    pub async fn api(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .request(method, format!("{}/v1{path}", self.url))
            .bearer_auth(SECRET_KEY)
            .form(form)
            .send()
            .await
            .expect("call localstripe");
        let status = r.status();
        let body: Value = r.json().await.expect("a JSON answer");
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// What the consumer's browser does with Stripe.js: a test card on the intent, confirmed.
    pub async fn pay_with_card(&self, client_secret: &str) -> String {
        let intent = client_secret
            .split("_secret_")
            .next()
            .expect("an intent id in the client secret")
            .to_owned();
        self.api(
            reqwest::Method::POST,
            &format!("/payment_intents/{intent}"),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
        let confirmed = self
            .api(
                reqwest::Method::POST,
                &format!("/payment_intents/{intent}/confirm"),
                &[],
            )
            .await;
        assert_eq!(confirmed["status"], "requires_capture", "{confirmed}");
        intent
    }

    pub async fn intent(&self, id: &str) -> Value {
        self.api(reqwest::Method::GET, &format!("/payment_intents/{id}"), &[])
            .await
    }

    pub async fn intents(&self) -> Vec<Value> {
        self.api(reqwest::Method::GET, "/payment_intents", &[])
            .await["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
