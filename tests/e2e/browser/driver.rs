//! chromedriver as a process of the test: started on the port it picks, killed with its
//! Chromium on drop; and its command that passes DevTools commands through.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
};

use serde_json::{Value, json};

use super::CHROMEDRIVER;

/// chromedriver, its Chromium and the profile they use; all gone on drop.
pub(super) struct Driver {
    child: Child,
    pub(super) dir: PathBuf,
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

/// Starts chromedriver in a directory of its own (everything the browser writes goes there,
/// removed on drop: its profile, and what chromedriver and Chromium put in the temporary
/// directory), and reads the port it chose (`--port=0`) from the line it prints once it
/// listens. Its output is read to the end on a thread of its own: a closed pipe would kill it.
pub(super) fn spawn_driver() -> Result<(Driver, u16), String> {
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
pub(super) struct Cdp {
    pub(super) cmd: String,
    pub(super) params: Value,
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
