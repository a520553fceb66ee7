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

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

use crate::helpers::TestApp;

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
#[derive(Clone, Copy, PartialEq, Eq)]
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            screen: Screen::Phone,
            javascript: true,
        }
    }
}

/// chromedriver, its Chromium and the profile they use; all gone on drop.
struct Driver {
    child: Child,
    dir: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads a process group of its own, which its Chromium processes join:
        // killing the group leaves nothing behind, even when a test panicked mid-session.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
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

/// axe-core's script, read once.
fn axe_source() -> &'static str {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = workspace().join("tests/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core is missing ({}: {e}): {INSTALL}", path.display()))
    })
}

/// An XPath string literal for any text, quotes included.
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    if !text.contains('"') {
        return format!("\"{text}\"");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

impl Browser {
    /// What a flow is walked with: a 360 px phone, without JavaScript.
    pub async fn phone(app: &TestApp) -> Browser {
        Self::start_with(
            app,
            Options {
                screen: Screen::Phone,
                javascript: false,
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
        let prefs = json!({ "intl.accept_languages": "fr-FR,fr" });
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

    /// The form field whose label reads `label` (its whole text, or the text before a marker
    /// such as "(obligatoire)", or else its beginning; spaces trimmed), or else whose `name`
    /// is `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.field_in("", label).await
    }

    /// [`Browser::field`] within the part of the page `scope` selects (an XPath; empty: all).
    async fn field_in(&self, scope: &str, label: &str) -> Element {
        let lit = xpath_literal(label);
        // The label's whole text, else its text before a marker, else its beginning
        // ("Carottes, Quantité" for "Carottes, Quantité (kg)").
        for test in [
            format!("normalize-space() = {lit} or normalize-space(text()[1]) = {lit}"),
            format!("starts-with(normalize-space(), {lit})"),
        ] {
            let labels = format!("{scope}//label[{test}]");
            let by_label = format!(
                "//*[@id = {labels}/@for] | {labels}//*[self::input or self::select or self::textarea]"
            );
            if let Ok(found) = self.client.find(Locator::XPath(&by_label)).await {
                return found;
            }
        }
        let by_name = format!(
            "{scope}//*[(self::input or self::select or self::textarea) and @name = {lit}]"
        );
        match self.client.find(Locator::XPath(&by_name)).await {
            Ok(found) => found,
            Err(_) => panic!(
                "no field labelled or named {label:?}{} {}",
                in_scope(scope),
                self.context().await
            ),
        }
    }

    /// The part of the page about `name`: the fieldset of that legend, or the section, list
    /// item, article or form headed by it (h2 or h3). For the rows of a page that repeat the
    /// same labels ("Prix", "Stock" for each product).
    pub fn group<'a>(&'a self, name: &str) -> Group<'a> {
        let lit = xpath_literal(name);
        Group {
            browser: self,
            scope: format!(
                "(//fieldset[legend[normalize-space() = {lit}]] | //*[self::section or self::li or self::article or self::form][*[self::h2 or self::h3][normalize-space() = {lit}]])[1]"
            ),
        }
    }

    /// What the field labelled (or named) `label` holds.
    pub async fn value(&self, label: &str) -> String {
        value_of(&self.field(label).await).await
    }

    /// Types `value` into the field labelled (or named) `label`, replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        self.fill_field(&self.field(label).await, value).await;
    }

    async fn fill_field(&self, field: &Element, value: &str) {
        let kind = field.attr("type").await.ok().flatten().unwrap_or_default();
        if matches!(
            kind.as_str(),
            "date" | "time" | "month" | "week" | "datetime-local"
        ) {
            // A date picker is typed in the order of the browser's locale: the value is set
            // as the picker would set it (ISO), whatever the locale.
            let element = serde_json::to_value(field).expect("an element reference");
            self.client
                .execute(
                    "arguments[0].value = arguments[1];
                     arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                    vec![element, json!(value)],
                )
                .await
                .expect("set a date");
            return;
        }
        field.clear().await.expect("clear a field");
        field.send_keys(value).await.expect("type into a field");
    }

    /// Chooses the option whose text is `option` in the list labelled (or named) `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let field = self.field(label).await;
        if field.select_by_label(option).await.is_err() {
            panic!(
                "the list {label:?} has no option {option:?} {}",
                self.context().await
            );
        }
    }

    /// Ticks or unticks the checkbox (or picks the radio button) labelled (or named) `label`.
    pub async fn check(&self, label: &str, on: bool) {
        self.set_checked(&self.field(label).await, label, on).await;
    }

    /// Picks the radio button (or ticks the checkbox) whose label holds `text` anywhere (a
    /// pickup slot: "Salle des fêtes, mardi 8 décembre...").
    pub async fn choose(&self, text: &str) {
        self.choose_in("", text).await;
    }

    async fn choose_in(&self, scope: &str, text: &str) {
        let lit = xpath_literal(text);
        let labels = format!("{scope}//label[contains(normalize-space(), {lit})]");
        let xpath = format!(
            "//input[@id = {labels}/@for] | {labels}//input[@type = 'radio' or @type = 'checkbox']"
        );
        let Ok(field) = self.client.find(Locator::XPath(&xpath)).await else {
            panic!(
                "no choice labelled with {text:?}{} {}",
                in_scope(scope),
                self.context().await
            );
        };
        self.set_checked(&field, text, true).await;
    }

    async fn set_checked(&self, field: &Element, label: &str, on: bool) {
        let checked = field.prop("checked").await.expect("read a checkbox");
        if (checked.as_deref() == Some("true")) != on {
            if self.options.javascript {
                field.click().await.expect("click a checkbox");
            } else {
                self.click_without_scripts(field, label, false).await;
            }
        }
    }

    /// Clicks the button (or submit input) whose text is `text`, or else the link, and waits
    /// for the page it loads (it fails if none comes). What is in the page's `main` comes first
    /// (the header's "Se connecter" link is not the login form's button).
    pub async fn click(&self, text: &str) {
        self.click_in("", text, true).await;
    }

    /// Like [`Browser::click`], for a button that loads no page (a script's).
    pub async fn press(&self, text: &str) {
        self.click_in("", text, false).await;
    }

    async fn click_in(&self, scope: &str, text: &str, then_page: bool) {
        let lit = xpath_literal(text);
        let buttons = |within: &str| {
            format!(
                "{within}//button[normalize-space() = {lit}] | {within}//input[(@type = 'submit' or @type = 'button') and @value = {lit}]"
            )
        };
        let link = |within: &str| format!("{within}//a[normalize-space() = {lit}]");
        let candidates = if scope.is_empty() {
            vec![buttons("//main"), buttons(""), link("//main"), link("")]
        } else {
            vec![buttons(scope), link(scope)]
        };
        for xpath in candidates {
            if let Ok(target) = self.client.find(Locator::XPath(&xpath)).await {
                if !self.options.javascript {
                    self.click_without_scripts(&target, text, then_page).await;
                    return;
                }
                self.mark_page().await;
                target
                    .click()
                    .await
                    .unwrap_or_else(|e| panic!("cannot click {text:?}: {e}"));
                if then_page {
                    self.next_page(text).await;
                }
                return;
            }
        }
        panic!(
            "no button or link {text:?}{} {}",
            in_scope(scope),
            self.context().await
        );
    }

    /// A click as a person makes it, through DevTools' mouse events, then (`then_page`) a
    /// wait for the page it loads. chromedriver's own click waits on a page timer after
    /// clicking, and timers never fire in a page without scripts: it would hang there.
    async fn click_without_scripts(&self, target: &Element, text: &str, then_page: bool) {
        let element = serde_json::to_value(target).expect("an element reference");
        self.mark_page().await;
        let center = self
            .client
            .execute(
                "const e = arguments[0]; e.scrollIntoView({ block: 'center' });
                 const r = e.getBoundingClientRect();
                 return [r.left + r.width / 2, r.top + r.height / 2];",
                vec![element],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot reach {text:?}: {e}"));
        let (x, y) = (center[0].as_f64(), center[1].as_f64());
        for kind in ["mousePressed", "mouseReleased"] {
            self.cdp(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await;
        }
        if then_page {
            self.next_page(text).await;
        }
    }

    /// Marks the page shown, so that [`Browser::next_page`] knows when it is gone.
    async fn mark_page(&self) {
        self.client
            .execute("window.__halleOldPage = true", vec![])
            .await
            .expect("mark the page");
    }

    /// Waits until the marked page is replaced by one fully loaded.
    async fn next_page(&self, text: &str) {
        for _ in 0..600 {
            let loaded = self
                .client
                .execute(
                    "return window.__halleOldPage !== true && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "clicking {text:?} loaded no page in 30 s {}",
            self.context().await
        );
    }

    /// Runs a script in the page and returns its value. (chromedriver runs it through DevTools:
    /// this works in a browser without JavaScript too, whose pages run no script of theirs.)
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs axe-core on the page (WCAG 2.0/2.1 A and AA, and best practices) and fails listing
    /// every serious or critical violation. `page` names the page in the failure.
    pub async fn axe(&self, page: &str) {
        let serious = self.axe_violations(page).await;
        assert!(
            serious.is_empty(),
            "axe-core: {} serious or critical violation(s) on {page} ({}, {} px):\n{}",
            serious.len(),
            self.path().await,
            self.width(),
            serious.join("\n")
        );
    }

    /// The serious and critical violations axe-core finds on the page, one description each.
    pub async fn axe_violations(&self, page: &str) -> Vec<String> {
        // axe-core needs scripts (its checks run on timers): in a browser without JavaScript,
        // they are let run for the check alone. The page's own scripts ran (or not) at load.
        if !self.options.javascript {
            self.scripts(true).await;
        }
        let violations = self.run_axe(page).await;
        if !self.options.javascript {
            self.scripts(false).await;
        }
        violations
    }

    async fn run_axe(&self, page: &str) -> Vec<String> {
        self.js(axe_source()).await;
        let run = r"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })
               .then(r => done({ ok: r.violations }), e => done({ error: String(e) }));
        ";
        let result = self
            .client
            .execute_async(run, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe-core did not run on {page}: {e}"));
        let Some(Value::Array(violations)) = result.get("ok") else {
            panic!("axe-core failed on {page}: {result}");
        };
        violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(describe_violation)
            .collect()
    }

    /// Saves the whole page (up to 6000 px high) as `target/screenshots/{name}-{width}.png`.
    pub async fn screenshot(&self, name: &str) {
        let width = self.width();
        // A WebDriver screenshot holds the viewport only; Chromium's DevTools take the page.
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(800.0)
            .clamp(1.0, 6000.0);
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            )
            .await;
        let png = shot["data"]
            .as_str()
            .and_then(|data| {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).ok()
            })
            .unwrap_or_else(|| panic!("no screenshot in {shot}"));
        let dir = workspace().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}-{width}.png"));
        // Both databases' runs of a test write the same names at once: each file is whole.
        static SHOTS: AtomicU64 = AtomicU64::new(0);
        let partial = dir.join(format!(
            ".{name}-{width}-{}.png",
            SHOTS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&partial, png)
            .and_then(|()| std::fs::rename(&partial, &path))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
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

    /// Asserts the page fits its screen: nothing wider than the window
    /// (`document.documentElement.scrollWidth <= window.innerWidth`), and on a phone a window
    /// 360 px wide (a page without `<meta name="viewport">` is laid out 980 px wide there).
    pub async fn no_horizontal_scroll(&self) {
        if let Some(fault) = self.horizontal_overflow().await {
            panic!("{fault}");
        }
    }

    /// What [`Browser::no_horizontal_scroll`] would fail with, if anything.
    pub async fn horizontal_overflow(&self) -> Option<String> {
        let (scroll, inner) = self.widths().await;
        let screen = u64::from(self.width());
        let path = self.path().await;
        // A phone widens its layout viewport to fit a page too wide (as it does without a
        // viewport meta): then the window is no longer the screen's width.
        let fault = if inner != screen {
            format!(
                "{path} is laid out {inner} px wide on a {screen} px screen (too wide, or no viewport meta)"
            )
        } else if scroll > inner {
            format!("{path} scrolls sideways at {inner} px: the page is {scroll} px wide")
        } else {
            return None;
        };
        Some(format!(
            "{fault}; too wide: {}",
            self.too_wide(screen).await
        ))
    }

    /// The innermost elements reaching past `width` px, for a person to find the culprit.
    async fn too_wide(&self, width: u64) -> String {
        let found = self
            .client
            .execute(
                "const w = arguments[0];
                 const wide = [...document.body.querySelectorAll('*')]
                   .filter(e => e.getBoundingClientRect().right > w + 1)
                   .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > w + 1));
                 return wide.slice(0, 5).map(e => e.tagName.toLowerCase()
                   + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                   + ' (' + Math.round(e.getBoundingClientRect().right) + ' px: '
                   + (e.textContent || '').trim().slice(0, 40) + ')').join(', ');",
                vec![json!(width)],
            )
            .await;
        match found {
            Ok(Value::String(list)) if !list.is_empty() => list,
            _ => "nothing found".to_owned(),
        }
    }

    /// The page's width (`document.documentElement.scrollWidth`) and the window's
    /// (`window.innerWidth`).
    pub async fn widths(&self) -> (u64, u64) {
        let sizes = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        match (sizes[0].as_u64(), sizes[1].as_u64()) {
            (Some(scroll), Some(inner)) => (scroll, inner),
            _ => panic!("no widths in {sizes}"),
        }
    }

    /// The checks every page gets: axe, no sideways scrolling, and a screenshot named `name`.
    pub async fn look(&self, name: &str) {
        self.axe(name).await;
        self.no_horizontal_scroll().await;
        self.screenshot(name).await;
    }
}

fn describe_violation(v: &Value) -> String {
    let nodes: Vec<String> = v["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    format!(
                        "    at {}: {}",
                        n["target"],
                        n["failureSummary"]
                            .as_str()
                            .unwrap_or("")
                            .replace('\n', " ")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "  [{}] {}: {} ({})\n{}",
        v["impact"].as_str().unwrap_or("?"),
        v["id"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["helpUrl"].as_str().unwrap_or(""),
        nodes.join("\n")
    )
}

/// Starts chromedriver in a directory of its own (everything the browser writes goes there,
/// removed on drop: its profile, and what chromedriver and Chromium put in the temporary
/// directory), and reads the port it chose (`--port=0`) from the line it prints once it
/// listens. Its output is read to the end on a thread of its own: a closed pipe would kill it.
fn spawn_driver() -> Result<(Driver, u16), String> {
    static BROWSERS: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "halle-chromium-{}-{}",
        std::process::id(),
        BROWSERS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(dir.join("tmp")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let errors = dir.join("chromedriver.stderr");
    let stderr =
        std::fs::File::create(&errors).map_err(|e| format!("{}: {e}", errors.display()))?;
    let mut command = Command::new(CHROMEDRIVER);
    // HALLE_BROWSER_LOG=DIR keeps chromedriver's verbose log of each browser there.
    if let Some(logs) = std::env::var_os("HALLE_BROWSER_LOG") {
        let log = Path::new(&logs).join(format!(
            "chromedriver-{}.log",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ));
        command
            .arg("--verbose")
            .arg(format!("--log-path={}", log.display()));
    }
    command
        .arg("--port=0")
        .env("TMPDIR", dir.join("tmp"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let stdout = child.stdout.take().ok_or("no output")?;
    let driver = Driver { child, dir };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line
                .strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok())
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(port);
            }
        }
    });
    match rx.recv() {
        Ok(port) => Ok((driver, port)),
        Err(_) => Err(format!(
            "it exited without listening: {}",
            std::fs::read_to_string(&errors).unwrap_or_default().trim()
        )),
    }
}

/// chromedriver's own command that passes a DevTools command through.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

/// A part of a page ([`Browser::group`]): the same helpers, looking only there.
pub struct Group<'a> {
    browser: &'a Browser,
    scope: String,
}

impl Group<'_> {
    /// Types into the field labelled (or named) `label` in this group.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.browser.field_in(&self.scope, label).await;
        self.browser.fill_field(&field, value).await;
    }

    /// What the field labelled (or named) `label` in this group holds.
    pub async fn value(&self, label: &str) -> String {
        value_of(&self.browser.field_in(&self.scope, label).await).await
    }

    /// Ticks or unticks the checkbox labelled (or named) `label` in this group.
    pub async fn check(&self, label: &str, on: bool) {
        let field = self.browser.field_in(&self.scope, label).await;
        self.browser.set_checked(&field, label, on).await;
    }

    /// Picks the radio button whose label holds `text` in this group.
    pub async fn choose(&self, text: &str) {
        self.browser.choose_in(&self.scope, text).await;
    }

    /// Clicks the button (or else the link) `text` of this group, and waits for the page.
    pub async fn click(&self, text: &str) {
        self.browser.click_in(&self.scope, text, true).await;
    }
}

async fn value_of(field: &Element) -> String {
    field
        .prop("value")
        .await
        .expect("a field's value")
        .unwrap_or_default()
}

fn in_scope(scope: &str) -> String {
    if scope.is_empty() {
        String::new()
    } else {
        format!(" in {scope}")
    }
}
