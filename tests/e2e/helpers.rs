//! The test harness: a real server on a random port, over a real database (a fresh SQLite file,
//! or a fresh schema in the PostgreSQL at `HALLE_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`), migrated by the same migrator as production.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use store::{Role, Store};
use web::Application;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per database: `both!(name)` defines `sqlite::name` and
/// `postgres::name`, each calling `name(Db::...)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Postgres).await
                }
            )+
        }
    };
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The PostgreSQL connections each test's server keeps: the suite runs two tests at a time
/// (some with a second node or a `halle` process of their own) on a server that allows 100.
const TEST_PG_POOL: u32 = 8;

/// Runs one statement on the test PostgreSQL (creating or dropping a test's schema) on a
/// connection of its own, closed at once: a whole `Store` would keep a pool open for nothing.
async fn pg_admin(sql: &str) -> Result<(), sea_orm::DbErr> {
    let mut options = sea_orm::ConnectOptions::new(pg_url());
    options
        .max_connections(1)
        .min_connections(0)
        .sqlx_logging(false);
    let db = sea_orm::Database::connect(options).await?;
    db.execute_unprepared(sql).await?;
    db.close().await
}

pub fn pg_url() -> String {
    std::env::var("HALLE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The URL of the test PostgreSQL with `schema` as its search path.
pub fn schema_url(schema: &str) -> String {
    let base = pg_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// A unique name for a test database or schema.
pub fn unique_name(prefix: &str) -> String {
    unique(prefix)
}

/// A running Halle and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema(String),
    /// Another node's: the first node removes the database.
    Nothing,
}

/// An HTTP answer: status, headers and JSON body (`Value::Null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts an error status and code, and that the message is there for people.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "unexpected error code in {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message in {body}"
        );
        body
    }
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        Self::spawn_with(db, web::WebOptions::default()).await
    }

    /// Like [`TestApp::spawn`], with the server's options.
    pub async fn spawn_with(db: Db, options: web::WebOptions) -> TestApp {
        let (store, cleanup) = match db {
            Db::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("halle_test")));
                let store = Store::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open a SQLite test database");
                (store, Cleanup::File(path))
            }
            Db::Postgres => {
                let schema = unique("halle_t");
                pg_admin(&format!("CREATE SCHEMA \"{schema}\""))
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL at {} is required for the tests and could not be reached: {e}",
                            pg_url()
                        )
                    });
                let store = Store::connect_with(
                    &pg_url(),
                    &store::StoreOptions {
                        pg_schema: Some(schema.clone()),
                        pg_pool: TEST_PG_POOL,
                        ..Default::default()
                    },
                )
                .await
                .expect("connect to the test schema");
                (store, Cleanup::Schema(schema))
            }
        };
        store.migrate().await.expect("migrate the test database");
        let app = Application::bind_with("127.0.0.1:0", store.clone(), options)
            .await
            .expect("bind a port");
        let base = format!("http://{}", app.addr());
        tokio::spawn(app.run());
        TestApp {
            base,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("an HTTP client"),
            store,
            cleanup,
        }
    }

    /// The URL of this test's database, for another process (`halle serve`, `halle report`).
    pub fn database_url(&self) -> String {
        match &self.cleanup {
            Cleanup::File(path) => format!("sqlite://{}", path.display()),
            Cleanup::Schema(schema) => schema_url(schema),
            Cleanup::Nothing => panic!("ask the first node for the database"),
        }
    }

    /// A second Halle node on the same database (its own store, caches and port), as a
    /// deployment with several nodes has. Cleaning up the first node removes the database.
    pub async fn other_node(&self) -> TestApp {
        self.other_node_with(web::WebOptions::default()).await
    }

    /// Like [`TestApp::other_node`], with the server's options.
    pub async fn other_node_with(&self, options: web::WebOptions) -> TestApp {
        let (store, cleanup) = match &self.cleanup {
            Cleanup::File(path) => (
                Store::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .expect("open the SQLite test database again"),
                Cleanup::Nothing,
            ),
            Cleanup::Schema(schema) => (
                Store::connect_with(
                    &pg_url(),
                    // A small pool: the shared test PostgreSQL has connections to spare for
                    // one full node per test, not two.
                    &store::StoreOptions {
                        pg_schema: Some(schema.clone()),
                        pg_pool: 2,
                        ..Default::default()
                    },
                )
                .await
                .expect("connect to the test schema again"),
                Cleanup::Nothing,
            ),
            Cleanup::Nothing => panic!("ask the first node for another node"),
        };
        let app = Application::bind_with("127.0.0.1:0", store.clone(), options)
            .await
            .expect("bind a port");
        let base = format!("http://{}", app.addr());
        tokio::spawn(app.run());
        TestApp {
            base,
            client: reqwest::Client::new(),
            store,
            cleanup,
        }
    }

    /// Removes the test database (best effort; a failed test leaves it for inspection).
    pub async fn cleanup(self) {
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Schema(schema) => {
                let _ = pg_admin(&format!("DROP SCHEMA \"{schema}\" CASCADE")).await;
            }
            Cleanup::Nothing => {}
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_keyed(method, path, token, body, None).await
    }

    /// Like [`TestApp::call`], with an `Idempotency-Key` header when `key` is given.
    pub async fn call_keyed(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the server answers");
        answer(resp).await
    }

    /// GETs raw bytes and the content type.
    pub async fn bytes(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, ct, resp.bytes().await.expect("a body").to_vec())
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Sends raw bytes as a JSON body.
    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: &str) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.expect("the server answers")).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .post(
                "/api/v1/auth/token",
                None,
                json!({"email": email, "password": password}),
            )
            .await
            .expect(200);
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates an account directly in the store and logs it in through the API.
    pub async fn user(&self, role: Role, producer_id: Option<i64>, market_id: Option<i64>) -> User {
        self.named_user(
            &format!("Test {}", role.as_str()),
            role,
            producer_id,
            market_id,
        )
        .await
    }

    /// Like [`TestApp::user`], with a display name.
    pub async fn named_user(
        &self,
        name: &str,
        role: Role,
        producer_id: Option<i64>,
        market_id: Option<i64>,
    ) -> User {
        let email = format!("{}@example.org", unique(role.as_str()));
        let hash = password_hash().await;
        let actor = self
            .store
            .insert_account_with_hash(
                &email,
                hash,
                name.to_owned(),
                None,
                role,
                producer_id,
                market_id,
            )
            .await
            .expect("create an account");
        let token = self.login(&email, PASSWORD).await;
        User {
            id: actor.account_id,
            token,
        }
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub const PASSWORD: &str = "s3cret-test";

/// One argon2 hash of [`PASSWORD`], shared by every test account.
async fn password_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        store::hash_password(PASSWORD.to_owned())
            .await
            .expect("hash")
    })
    .await
    .clone()
}

/// An account and its bearer token.
pub struct User {
    pub id: i64,
    pub token: String,
}

impl User {
    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// A market ready to trade: a coordinator, two pickup points, a producer with an account and
/// three products (carrots by kg, eggs by the dozen, a whole chicken at variable weight), and
/// an open cycle with those products on offer.
pub struct World {
    pub market_id: i64,
    pub coordinator: User,
    pub producer: User,
    pub producer_id: i64,
    pub points: Vec<i64>,
    pub cycle_id: i64,
    pub slots: Vec<i64>,
    /// carrots (kg, 2.80 €, 5.5 %), eggs (dozen, 4.20 €), chicken (piece ~1.8 kg at 12.50 €/kg)
    pub products: Vec<i64>,
    /// The offers of those products in the cycle, same order.
    pub offers: Vec<i64>,
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

impl TestApp {
    pub async fn world(&self) -> World {
        let admin = self.user(Role::Admin, None, None).await;
        let market = self
            .post(
                "/api/v1/markets",
                admin.t(),
                json!({"name": "Marché test", "slug": unique("m"), "city": "Parthenay", "latitude": 46.65, "longitude": -0.25}),
            )
            .await
            .expect(201);
        let market_id = market["id"].as_i64().expect("market id");
        let coordinator = self.user(Role::Coordinator, None, Some(market_id)).await;
        let mut points = Vec::new();
        for (name, kind) in [("Salle des fêtes", "town_hall"), ("Ferme du Bourg", "farm")] {
            let p = self
                .post(
                    &format!("/api/v1/markets/{market_id}/pickup-points"),
                    coordinator.t(),
                    json!({"name": name, "address": "1 place de la Mairie", "postal_code": "79200", "city": "Parthenay",
                           "latitude": 46.64, "longitude": -0.24, "host_kind": kind, "host_name": "Ville"}),
                )
                .await
                .expect(201);
            points.push(p["id"].as_i64().expect("point id"));
        }
        let producer = self
            .post(
                &format!("/api/v1/markets/{market_id}/producers"),
                coordinator.t(),
                json!({"name": "Les Jardins du Thouet", "farmer_name": "Camille", "address": "La Touche", "postal_code": "79200",
                       "city": "Le Tallud", "latitude": 46.61, "longitude": -0.31, "email": "camille@example.fr"}),
            )
            .await
            .expect(201);
        let producer_id = producer["id"].as_i64().expect("producer id");
        let producer_user = self.user(Role::Producer, Some(producer_id), None).await;
        let mut products = Vec::new();
        for body in [
            json!({"name": "Carottes", "unit": "kg", "price": "2.80", "vat_rate": "5.5", "step": "0.5"}),
            json!({"name": "Œufs", "unit": "dozen", "price": "4.20", "vat_rate": "5.5"}),
            json!({"name": "Poulet fermier", "unit": "piece", "price": "12.50", "vat_rate": "5.5", "variable_weight": true, "estimated_weight_kg": "1.8"}),
        ] {
            let p = self
                .post(
                    &format!("/api/v1/producers/{producer_id}/products"),
                    producer_user.t(),
                    body,
                )
                .await
                .expect(201);
            products.push(p["id"].as_i64().expect("product id"));
        }
        let now = Utc::now();
        let cycle = self
            .post(
                &format!("/api/v1/markets/{market_id}/cycles"),
                coordinator.t(),
                json!({"name": "Semaine test", "opens_at": iso(now - Duration::hours(1)), "closes_at": iso(now + Duration::days(3)),
                       "slots": [
                           {"pickup_point_id": points[0], "starts_at": iso(now + Duration::days(4)), "ends_at": iso(now + Duration::days(4) + Duration::hours(2))},
                           {"pickup_point_id": points[1], "starts_at": iso(now + Duration::days(5)), "ends_at": iso(now + Duration::days(5) + Duration::hours(2))}
                       ]}),
            )
            .await
            .expect(201);
        let cycle_id = cycle["id"].as_i64().expect("cycle id");
        let slots = cycle["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|s| s["id"].as_i64().expect("slot id"))
            .collect();
        self.post(
            &format!("/api/v1/cycles/{cycle_id}/open"),
            coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
        let offers = self
            .put(
                &format!("/api/v1/cycles/{cycle_id}/producers/{producer_id}/offers"),
                producer_user.t(),
                json!({"offers": [
                    {"product_id": products[0], "stock": "50"},
                    {"product_id": products[1], "stock": "20"},
                    {"product_id": products[2], "stock": "6"}
                ]}),
            )
            .await
            .expect(200);
        let offer_of = |product: i64| {
            offers
                .as_array()
                .expect("offers")
                .iter()
                .find(|o| o["product_id"] == product)
                .and_then(|o| o["id"].as_i64())
                .expect("an offer per product")
        };
        let offers = products.iter().map(|p| offer_of(*p)).collect();
        World {
            market_id,
            coordinator,
            producer: producer_user,
            producer_id,
            points,
            cycle_id,
            slots,
            products,
            offers,
        }
    }

    /// The world's coordinator closes its cycle.
    pub async fn close_cycle(&self, w: &World) {
        self.post(
            &format!("/api/v1/cycles/{}/close", w.cycle_id),
            w.coordinator.t(),
            json!({}),
        )
        .await
        .expect(200);
    }

    /// The world's producer weighs the chicken of the first basket of the first slot's sheet
    /// (one piece), once the cycle is closed.
    pub async fn weigh_chicken(&self, w: &World, kg: &str) {
        let sheet = &self
            .get(
                &format!("/api/v1/slots/{}/sheet", w.slots[0]),
                w.coordinator.t(),
            )
            .await
            .expect(200)[0];
        let chicken = sheet["baskets"][0]["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .find(|l| l["product_name"] == "Poulet fermier")
            .expect("a chicken in the first basket")
            .clone();
        self.put(
            &format!("/api/v1/order-lines/{}/weights", chicken["line_id"]),
            w.producer.t(),
            json!({"weights_kg": [kg]}),
        )
        .await
        .expect(204);
    }

    /// What is left of an offer, as the API says.
    pub async fn stock_left(&self, cycle_id: i64, offer_id: i64) -> String {
        let c = self
            .get(&format!("/api/v1/cycles/{cycle_id}"), None)
            .await
            .expect(200);
        c["offers"]
            .as_array()
            .expect("offers")
            .iter()
            .find(|o| o["id"] == offer_id)
            .map(|o| o["stock_left"].as_str().expect("stock_left").to_owned())
            .expect("the offer")
    }
}
