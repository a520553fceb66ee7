//! The browser harness: Debian's headless Chromium, driven through its chromedriver (WebDriver)
//! by fantoccini, against a test's real server. One chromedriver per [`Browser`], on the port it
//! picks, with a directory of its own; dropping the browser kills chromedriver and Chromium and
//! removes the directory (`HALLE_BROWSER_LOG=DIR` keeps chromedriver's logs in DIR).
//! `tests/tools/install-browser` installs Chromium, chromedriver and axe-core; a test that finds
//! one missing fails and says so (it never skips).
//!
//! What a person would check by eye, the helpers check for every page a test visits:
//! [`Browser::axe`] (WCAG 2.1 A/AA and best practices: no serious or critical violation),
//! [`Browser::no_horizontal_scroll`] (nothing wider than a 360 px phone) and
//! [`Browser::screenshot`] (`target/screenshots/{name}-{width}.png`, for a person to look at).
//! A browser started with `javascript: false` proves a page works without scripts: DevTools'
//! `Emulation.setScriptExecutionDisabled` keeps every page's scripts off, and clicks go through
//! DevTools' mouse events (chromedriver's own click waits on a page timer, which never fires
//! there). axe-core needs scripts: they are turned on for its run alone, once the page is
//! loaded, so the page's own scripts still never ran. One browser thus walks a flow without
//! JavaScript and checks each page with axe-core.

mod checks;
mod driver;
mod forms;

use std::path::Path;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use driver::{Cdp, Driver, spawn_driver};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL: &str =
    "run tests/tools/install-browser (it installs chromium, chromium-driver and axe-core)";

/// The two screens every page is looked at on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// 360 × 800: the narrowest phone a page must fit without scrolling sideways.
    Phone,
    /// 1280 × 900.
    Desktop,
}

impl Screen {
    pub fn size(self) -> (u32, u32) {
        match self {
            Screen::Phone => (360, 800),
            Screen::Desktop => (1280, 900),
        }
    }
}

/// The language a flow is walked in: `t(fr, en)` picks the words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn t<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        self.t("fr", "en")
    }
}

/// How a browser is started.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub screen: Screen,
    /// `false`: the pages' scripts never run (the pages must work without); axe-core still
    /// runs on them (see the module's documentation).
    pub javascript: bool,
    /// The languages the browser asks for (its `Accept-Language`): French unless said.
    pub language: Lang,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            screen: Screen::Phone,
            javascript: true,
            language: Lang::Fr,
        }
    }
}

/// A headless Chromium on a test's server.
pub struct Browser {
    client: Client,
    base: String,
    options: Options,
    // Dropped after the client: the session's connection goes first, then the processes.
    _driver: Driver,
}

/// The workspace's root (tests/ is one level down).
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

impl Browser {
    /// What a flow is walked with: a 360 px phone, without JavaScript.
    pub async fn phone(app: &TestApp) -> Browser {
        Self::start_with(
            app,
            Options {
                screen: Screen::Phone,
                javascript: false,
                language: Lang::Fr,
            },
        )
        .await
    }

    /// What the main pages are looked at again with: a 1280 px screen, with JavaScript.
    pub async fn desktop(app: &TestApp) -> Browser {
        Self::start_with(
            app,
            Options {
                screen: Screen::Desktop,
                javascript: true,
                language: Lang::Fr,
            },
        )
        .await
    }

    /// A browser as `options` say.
    pub async fn start_with(app: &TestApp, options: Options) -> Browser {
        Self::launch(&app.base, options).await
    }

    /// A browser whose relative paths go to `base` (empty: [`Browser::goto_url`] only).
    pub async fn launch(base: &str, options: Options) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: the browser tests need it; {INSTALL}"
            );
        }
        // chromedriver rarely exits at start on a busy machine: one more try, then the reason.
        let mut failures = Vec::new();
        let (driver, port) = loop {
            match tokio::task::block_in_place(spawn_driver) {
                Ok(started) => break started,
                Err(why) if failures.len() < 2 => failures.push(why),
                Err(why) => {
                    failures.push(why);
                    panic!(
                        "{CHROMEDRIVER} did not start ({}); {INSTALL}",
                        failures.join("; ")
                    );
                }
            }
        };
        let url = format!("http://127.0.0.1:{port}");

        let (width, height) = options.screen.size();
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--no-first-run".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", driver.dir.join("profile").display()),
        ];
        let accept = options.language.t("fr-FR,fr", "en-GB,en");
        let prefs = json!({ "intl.accept_languages": accept });
        let mut chrome = json!({ "binary": CHROMIUM, "args": args, "prefs": prefs });
        if options.screen == Screen::Phone {
            // Headless Chromium's windows are 500 px wide at least: a phone's width is emulated
            // (which also makes the page's viewport meta count, as on a phone).
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "mobile": true, "touch": true }
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), chrome);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
        let browser = Browser {
            client,
            base: base.to_owned(),
            options,
            _driver: driver,
        };
        if !options.javascript {
            browser.scripts(false).await;
        }
        browser
    }

    /// Lets the pages run their scripts, or not. Without, pages load and forms submit as in a
    /// browser with JavaScript off; the setting holds across pages until changed.
    async fn scripts(&self, on: bool) {
        self.cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": !on }),
        )
        .await;
    }

    /// Ends the session: Chromium quits and removes its own files. (Dropping the browser
    /// without closing kills it instead.)
    pub async fn close(self) {
        let Browser {
            client, _driver, ..
        } = self;
        let _ = client.close().await;
    }

    /// The width of the window: 360 or 1280.
    pub fn width(&self) -> u32 {
        self.options.screen.size().0
    }

    /// Opens a path of the server (`/`, `/fr/shop`...).
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        self.loaded().await;
    }

    /// Waits until the page shown has loaded (chromedriver's own wait can answer while the
    /// first page of a browser without scripts is still being replaced).
    async fn loaded(&self) {
        for _ in 0..600 {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            if matches!(&state, Ok(Value::String(s)) if s == "complete") {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the page did not load in 30 s");
    }

    /// Opens an absolute URL (`data:text/html,...` for a page made on the spot).
    pub async fn goto_url(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Whether the page shows `needle` (as [`Browser::assert_shows`] compares).
    pub async fn shows(&self, needle: &str) -> bool {
        let plain = |s: &str| s.replace(['\u{a0}', '\u{202f}'], " ");
        plain(&self.text().await).contains(&plain(needle))
    }

    /// The page's visible text (its source, if it has no body).
    pub async fn text(&self) -> String {
        // A page still being replaced can drop its body under the read: read it again.
        for _ in 0..20 {
            match self.client.find(Locator::Css("body")).await {
                Ok(body) => {
                    if let Ok(text) = body.text().await {
                        return text;
                    }
                }
                Err(_) => {
                    if let Ok(source) = self.client.source().await {
                        return source;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the page's text cannot be read");
    }

    /// Asserts the browser shows the page at `path` (and query).
    #[track_caller]
    pub fn assert_path<'a>(&'a self, path: &'a str) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let at = self.path().await;
            assert!(
                at == path,
                "{caller}: the browser is on {at}, not {path}; it shows:\n{}",
                self.text().await
            );
        }
    }

    /// Asserts the page shows `needle` somewhere in its visible text (no-break spaces taken
    /// as spaces).
    #[track_caller]
    pub fn assert_shows<'a>(
        &'a self,
        needle: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let text = self.text().await;
            // Money and units are written with no-break spaces: compare them as spaces.
            let plain = |s: &str| s.replace(['\u{a0}', '\u{202f}'], " ");
            assert!(
                plain(&text).contains(&plain(needle)),
                "{caller}: the page {} does not show {needle:?}; it shows:\n{text}",
                self.path().await
            );
        }
    }

    /// What a failed look-up reports: where the browser is and what it shows.
    async fn context(&self) -> String {
        let path = self.path().await;
        let text = self.text().await;
        format!("on {path}, which shows:\n{text}")
    }

    /// Runs a script in the page and returns its value. (chromedriver runs it through DevTools:
    /// this works in a browser without JavaScript too, whose pages run no script of theirs.)
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Sends a command to Chromium's DevTools (through chromedriver) and returns its result.
    pub async fn cdp(&self, command: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp {
                cmd: command.to_owned(),
                params,
            })
            .await
            .unwrap_or_else(|e| panic!("DevTools command {command} failed: {e}"))
    }
}
