//! What a person would check by eye: axe-core, the width of a phone, a screenshot.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::{Browser, INSTALL, Screen, workspace};

/// axe-core's script, read once.
fn axe_source() -> &'static str {
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = workspace().join("tests/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("axe-core is missing ({}: {e}): {INSTALL}", path.display()))
    })
}

impl Browser {
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
        let (width, screen_height) = self.options.screen.size();
        let phone = self.options.screen == Screen::Phone;
        // A WebDriver screenshot holds the viewport only. The window is made as high as the
        // page for the shot (so that a bar sticky at the bottom is at the page's bottom, not
        // across its middle), and put back after.
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(f64::from(screen_height))
            .clamp(f64::from(screen_height), 6000.0);
        let window = |height: f64| json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone });
        self.cdp("Emulation.setDeviceMetricsOverride", window(height))
            .await;
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
        if phone {
            // The phone's screen is itself an override (mobile emulation): set it back.
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                window(f64::from(screen_height)),
            )
            .await;
        } else {
            self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
                .await;
        }
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
