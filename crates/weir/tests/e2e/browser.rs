//! A real browser for the dashboard's tests: Debian's headless Chromium, driven through its
//! chromedriver, speaking WebDriver (JSON over HTTP on loopback) with the few commands the tests
//! need. A WebDriver crate (fantoccini) was tried first: it turns on hyper's client, which changes
//! the features of the whole dependency graph under test and rebuilt all of it (DataFusion
//! included) a second time; a dozen commands over loopback do not need it.
//!
//! [`Browser::start`] starts `chromedriver` on a free port in a process group of its own, with a
//! watchdog in that group that kills the whole group (chromedriver, Chromium and Chromium's
//! helpers) as soon as the test process is gone: dropping the [`Browser`] kills the group at
//! once (a panicking test unwinds through the drop), and a test process that is killed outright
//! (a test runner's timeout) closes the watchdog's pipe, which ends the group as well.
//!
//! The helpers are synchronous, as the other e2e tests are. A helper that cannot do what it is asked
//! panics with what it awaited, what it found, the page it was on and a screenshot of it.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{free_port, manifest_dir};

/// How long a wait gives the page by default: generous for a loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(15);

/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);

/// The window size pages are read at, as the design requires them to be readable at.
pub const DESKTOP: (u32, u32) = (1280, 800);

/// A phone's viewport (an iPhone 12 to 15).
pub const PHONE: (u32, u32) = (390, 844);

/// A headless Chromium with one WebDriver session.
pub struct Browser {
    /// The WebDriver session's id.
    session: String,
    /// The server the relative paths of [`Browser::goto`] are on (set by [`Browser::sign_in`]).
    base_url: String,
    driver: Driver,
    /// Chromium's profile (`--user-data-dir`), removed once the processes are gone.
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at [`DESKTOP`] size. None (with a note on
    /// stderr) when they are not installed, so that a developer without Chromium can run the
    /// rest of a test suite; under CI (`CI` set) a missing browser fails the test instead.
    pub fn start() -> Option<Browser> {
        let (driver_bin, chromium_bin) = match (on_path("chromedriver"), chromium_binary()) {
            (Some(driver), Some(chromium)) => (driver, chromium),
            (driver, _) => {
                let missing = if driver.is_none() {
                    "chromedriver"
                } else {
                    "chromium"
                };
                let note = format!(
                    "{missing} is not on PATH: the dashboard's browser tests need Debian's \
                     packages `chromium chromium-driver` (`apt-get install chromium \
                     chromium-driver`; scripts/test.sh installs them)"
                );
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                    panic!("{note}");
                }
                eprintln!("note: skipping a browser test: {note}");
                return None;
            }
        };
        let profile = tempfile::Builder::new()
            .prefix("weir-chromium-")
            .tempdir()
            .expect("a temporary directory for Chromium's profile");
        let driver = Driver::start(&driver_bin, profile.path());
        let capabilities = capabilities(&chromium_bin, &profile.path().join("profile"));
        let body = json!({ "capabilities": { "alwaysMatch": capabilities } }).to_string();
        // Chromium's first start on a cold, loaded machine can take seconds.
        let answer = driver_request(
            &driver.url,
            "POST",
            "/session",
            Some(&body),
            Duration::from_secs(60),
        );
        let session = match answer {
            Some((200, ref body)) => serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|a| a["value"]["sessionId"].as_str().map(str::to_string)),
            _ => None,
        };
        let Some(session) = session else {
            panic!(
                "chromedriver could not start Chromium ({answer:?});\nchromedriver's log:\n{}",
                driver.log_text()
            );
        };
        let browser = Browser {
            session,
            base_url: String::new(),
            driver,
            profile,
        };
        browser.set_window_size(DESKTOP);
        Some(browser)
    }

    /// One WebDriver command of this session: the answer's `value`, or WebDriver's error.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let body = body.map(|b| b.to_string());
        let (status, text) =
            driver_request(&self.driver.url, method, &path, body.as_deref(), WAIT * 2)
                .ok_or_else(|| format!("chromedriver did not answer {method} {path}"))?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| format!("chromedriver's answer is not JSON ({e}): {text}"))?;
        if status != 200 {
            return Err(format!(
                "{} ({status}): {}",
                answer["value"]["error"].as_str().unwrap_or("error"),
                answer["value"]["message"].as_str().unwrap_or(&text)
            ));
        }
        Ok(answer["value"].clone())
    }

    /// The WebDriver id of the first element matching `css`.
    fn element(&self, css: &str) -> Result<String, String> {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("no element id in {found}"))
    }

    fn current_url(&self) -> Result<String, String> {
        self.command("GET", "/url", None)
            .map(|url| url.as_str().unwrap_or_default().to_string())
    }

    fn screenshot_png(&self) -> Result<Vec<u8>, String> {
        let encoded = self.command("GET", "/screenshot", None)?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|e| format!("the screenshot is not base64: {e}"))
    }

    /// Signs in to the server at `base_url` with `token` the way a person's link does
    /// (`/login?token=…&next=/`), and waits for the page it leads to. Relative paths given to
    /// [`Browser::goto`] are on this server from then on.
    pub fn sign_in(&mut self, base_url: &str, token: &str) {
        self.base_url = base_url.trim_end_matches('/').to_string();
        self.goto(&format!("/login?token={}&next=/", percent_encode(token)));
        let path = self.path();
        if path.starts_with("/login") {
            self.fail(&format!(
                "signing in with the token led to the sign-in page again ({path})"
            ));
        }
    }

    /// Opens `path` on the server signed in to (or a whole URL), waiting for the page to load.
    pub fn goto(&mut self, path: &str) {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            if self.base_url.is_empty()
                && let Some((scheme, rest)) = path.split_once("://")
            {
                let host = rest.split('/').next().unwrap_or(rest);
                self.base_url = format!("{scheme}://{host}");
            }
            path.to_string()
        } else {
            assert!(
                !self.base_url.is_empty(),
                "goto({path}): no server yet; sign in or goto a whole URL first"
            );
            format!("{}{path}", self.base_url)
        };
        let loaded = self.command("POST", "/url", Some(json!({ "url": url })));
        if let Err(e) = loaded {
            self.fail(&format!("could not open {url}: {e}"));
        }
    }

    /// The current page's path and query (`/login?next=%2F`).
    pub fn path(&self) -> String {
        match self.current_url() {
            // `scheme://host[:port]/path?query#fragment` → `/path?query`
            Ok(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                let path = rest.find('/').map_or("/", |at| &rest[at..]);
                path.split('#').next().unwrap_or(path).to_string()
            }
            Err(e) => panic!("the browser's current URL: {e}"),
        }
    }

    /// Waits until the browser is on `path` (the URL's path, without its query; at most
    /// `within`), as after a form's submission or a redirect; returns the path and query.
    pub fn wait_for_path(&self, path: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let current = self.path();
            if current.split('?').next() == Some(path) {
                return current;
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "waited {within:?} to be on {path}; still on {current}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.command("GET", "/title", None)
            .map(|title| title.as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|e| panic!("the page's title: {e}"))
    }

    /// Waits until an element matches `css` (at most `within`).
    pub fn wait_for(&self, css: &str, within: Duration) {
        self.wait_until(
            within,
            &format!("an element matching `{css}`"),
            css,
            |texts| !texts.is_empty(),
        );
    }

    /// Waits until an element matching `css` shows `text` (in its rendered text, at most
    /// `within`); returns that element's whole text.
    pub fn wait_for_text(&self, css: &str, text: &str, within: Duration) -> String {
        let texts = self.wait_until(
            within,
            &format!("an element matching `{css}` with the text {text:?}"),
            css,
            |texts| texts.iter().any(|t| t.contains(text)),
        );
        texts
            .into_iter()
            .find(|t| t.contains(text))
            .unwrap_or_default()
    }

    /// Waits until no element matches `css` (at most `within`).
    pub fn wait_for_none(&self, css: &str, within: Duration) {
        self.wait_until(within, &format!("no element matching `{css}`"), css, |t| {
            t.is_empty()
        });
    }

    /// Polls the rendered texts of the elements matching `css` until `done` holds of them;
    /// fails with `awaited` and what the page showed last.
    fn wait_until(
        &self,
        within: Duration,
        awaited: &str,
        css: &str,
        done: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.texts(css);
            if let Ok(texts) = &found
                && done(texts)
            {
                return texts.clone();
            }
            if Instant::now() >= deadline {
                let found = match found {
                    Ok(texts) if texts.is_empty() => "no element matches".to_string(),
                    Ok(texts) => format!("{} matching: {}", texts.len(), quoted(&texts)),
                    Err(e) => format!("an error: {e}"),
                };
                self.fail(&format!("waited {within:?} for {awaited}; found {found}"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// The rendered texts (`innerText`) of the elements matching `css`, in document order, read
    /// in one step (no element can go stale between finding and reading it).
    fn texts(&self, css: &str) -> Result<Vec<String>, String> {
        let script = "return Array.from(document.querySelectorAll(arguments[0]), \
                      e => e.innerText === undefined ? e.textContent : e.innerText);";
        let value = self.execute(script, vec![json!(css)])?;
        serde_json::from_value(value).map_err(|e| format!("not a list of texts ({e})"))
    }

    /// The rendered text of the first element matching `css` (waiting for one, at most
    /// [`WAIT`]).
    pub fn text(&self, css: &str) -> String {
        self.wait_for(css, WAIT);
        self.texts(css)
            .ok()
            .and_then(|texts| texts.into_iter().next())
            .unwrap_or_else(|| self.fail(&format!("the element matching `{css}` went away")))
    }

    /// How many elements match `css` now (no waiting).
    pub fn count(&self, css: &str) -> usize {
        self.texts(css)
            .unwrap_or_else(|e| self.fail(&format!("counting `{css}`: {e}")))
            .len()
    }

    /// Clicks the first element matching `css` (waiting for one, at most [`WAIT`]).
    pub fn click(&self, css: &str) {
        self.wait_for(css, WAIT);
        let clicked = self.element(css).and_then(|element| {
            self.command(
                "POST",
                &format!("/element/{element}/click"),
                Some(json!({})),
            )
        });
        if let Err(e) = clicked {
            self.fail(&format!("could not click `{css}`: {e}"));
        }
    }

    /// Replaces the value of the field matching `css` with `text`, typed as keys (waiting for
    /// the field, at most [`WAIT`]).
    pub fn fill(&self, css: &str, text: &str) {
        self.wait_for(css, WAIT);
        let filled = self.element(css).and_then(|element| {
            self.command(
                "POST",
                &format!("/element/{element}/clear"),
                Some(json!({})),
            )?;
            self.command(
                "POST",
                &format!("/element/{element}/value"),
                Some(json!({ "text": text })),
            )
        });
        if let Err(e) = filled {
            self.fail(&format!("could not fill `{css}`: {e}"));
        }
    }

    /// Runs `script` in the page (`arguments[i]` are `args`) and returns what it returns.
    pub fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.execute(script, args)
            .unwrap_or_else(|e| self.fail(&format!("script failed ({e}): {script}")))
    }

    fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Makes the page's viewport `width`×`height` CSS pixels ([`PHONE`] or [`DESKTOP`]): the
    /// window is that much larger than the viewport as headless Chromium draws its frame.
    pub fn set_window_size(&self, (width, height): (u32, u32)) {
        let mut outer = (width, height);
        for _ in 0..3 {
            let rect = json!({ "width": outer.0, "height": outer.1 });
            if let Err(e) = self.command("POST", "/window/rect", Some(rect)) {
                self.fail(&format!(
                    "could not resize the window to {}×{}: {e}",
                    outer.0, outer.1
                ));
            }
            let inner = self.eval("return [window.innerWidth, window.innerHeight];", vec![]);
            let inner = (
                inner[0].as_u64().unwrap_or(0) as u32,
                inner[1].as_u64().unwrap_or(0) as u32,
            );
            if inner == (width, height) {
                return;
            }
            outer = (
                (outer.0 + width).saturating_sub(inner.0),
                (outer.1 + height).saturating_sub(inner.1),
            );
        }
        self.fail(&format!("could not make the viewport {width}×{height}"));
    }

    /// Saves a PNG of the viewport as `name` (`.png` added when missing) in
    /// [`screenshot_dir`]; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .screenshot_png()
            .unwrap_or_else(|e| panic!("a screenshot for {name}: {e}"));
        let path = screenshot_dir().join(if name.ends_with(".png") {
            name.to_string()
        } else {
            format!("{name}.png")
        });
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// The messages the page logged at the console's error level (uncaught exceptions, failed
    /// requests, `console.error`) since the last call, but for the browser's own request for
    /// `/favicon.ico`, which no page asks for.
    pub fn console_errors(&self) -> Vec<String> {
        // Chromium's log is one of chromedriver's own commands (the Selenium one).
        let log = self
            .command("POST", "/se/log", Some(json!({ "type": "browser" })))
            .unwrap_or_else(|e| panic!("chromedriver's browser log: {e}"));
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter(|entry| {
                let source = entry["source"].as_str().unwrap_or_default();
                let message = entry["message"].as_str().unwrap_or_default();
                !(source == "network" && message.contains("/favicon.ico "))
            })
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Fails the test with `what`, the page it happened on and a screenshot of it.
    fn fail(&self, what: &str) -> ! {
        let url = self
            .current_url()
            .unwrap_or_else(|e| format!("(unknown: {e})"));
        let text = self
            .texts("body")
            .ok()
            .and_then(|t| t.into_iter().next())
            .unwrap_or_default();
        let text: String = text.chars().take(2_000).collect();
        let test = std::thread::current()
            .name()
            .unwrap_or("a-browser-test")
            .replace("::", "-");
        let screenshot = self
            .screenshot_png()
            .ok()
            .and_then(|png| {
                let path = screenshot_dir().join(format!("failed-{test}.png"));
                std::fs::create_dir_all(path.parent()?).ok()?;
                std::fs::write(&path, png).ok()?;
                Some(path.display().to_string())
            })
            .unwrap_or_else(|| "none".into());
        panic!("{what}\n  page: {url}\n  screenshot: {screenshot}\n  page text:\n{text}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // No goodbye to the session: killing the group ends chromedriver and Chromium at once,
        // and the profile is thrown away with them.
        self.driver.kill();
    }
}

/// chromedriver, its Chromium, and a watchdog, all in one process group.
struct Driver {
    url: String,
    /// `sh`, the group's leader: starts chromedriver, then waits for its standard input to
    /// close and kills its group.
    watchdog: Child,
    /// The write end of the watchdog's standard input: closed when this process ends, however
    /// it ends.
    lifeline: Option<ChildStdin>,
    log: PathBuf,
    killed: bool,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers `/status` as ready. A port
    /// found free may be taken before chromedriver binds it: then another one.
    fn start(chromedriver: &Path, dir: &Path) -> Driver {
        let log = dir.join("chromedriver.log");
        for _ in 0..5 {
            let port = free_port();
            let mut driver = Driver::spawn(chromedriver, port, &log);
            match driver.wait_ready(Duration::from_secs(30)) {
                Ok(()) => return driver,
                Err(again) if again.contains("port not available") => driver.kill(),
                Err(problem) => {
                    driver.kill();
                    panic!("chromedriver did not start: {problem}");
                }
            }
        }
        panic!(
            "chromedriver found no free port:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn spawn(chromedriver: &Path, port: u16, log: &Path) -> Driver {
        let output = std::fs::File::create(log).expect("chromedriver's log file");
        // `kill -KILL 0` signals the shell's own process group, which chromedriver and the
        // Chromium it starts belong to (chromedriver runs in the background, so its standard
        // input is /dev/null and only the shell waits on the pipe).
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" & cat >/dev/null; kill -KILL 0"#)
            .arg("weir-browser-watchdog")
            .arg(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::piped())
            .stdout(output.try_clone().expect("chromedriver's log file"))
            .stderr(output)
            .process_group(0)
            .spawn()
            .expect("start chromedriver through sh");
        let lifeline = watchdog.stdin.take();
        Driver {
            url: format!("http://127.0.0.1:{port}"),
            watchdog,
            lifeline,
            log: log.to_path_buf(),
            killed: false,
        }
    }

    /// Ok once chromedriver says it is ready; its log when it exited or did not answer in time.
    fn wait_ready(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some((200, body)) =
                driver_request(&self.url, "GET", "/status", None, Duration::from_secs(10))
                && serde_json::from_str::<Value>(&body)
                    .is_ok_and(|status| status["value"]["ready"] == true)
            {
                return Ok(());
            }
            let log = self.log_text();
            if log.contains("port not available") || log.contains("Exiting") {
                return Err(log);
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                return Err(format!("its shell exited ({status}):\n{log}"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no answer on {} within {within:?}:\n{log}",
                    self.url
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the whole group and reaps the watchdog; once (the group's id is free for reuse
    /// after that).
    fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        let group = self.watchdog.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group `group`, which is the
        // watchdog's own (process_group(0) made it the leader), and nothing else.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        self.lifeline = None;
        let _ = self.watchdog.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The capabilities of a fresh headless Chromium: no sandbox (tests run as root in CI), no GPU,
/// `/tmp` instead of a small `/dev/shm`, a new profile, and the console's log kept for
/// [`Browser::console_errors`].
fn capabilities(chromium: &Path, profile: &Path) -> Value {
    let (width, height) = DESKTOP;
    let options = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--password-store=basic",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
        "timeouts": { "pageLoad": 30_000, "script": 15_000, "implicit": 0 },
    });
    options
}

/// One request to chromedriver, which keeps connections open whatever the client asks (so the
/// body is read by its length, not to the end of the stream); status and body.
fn driver_request(
    driver_url: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    within: Duration,
) -> Option<(u16, String)> {
    let host = driver_url.strip_prefix("http://")?;
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(within)).ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut answer = vec![0; length];
    reader.read_exact(&mut answer).ok()?;
    Some((status, String::from_utf8_lossy(&answer).into_owned()))
}

/// Where screenshots go: `$WEIR_SCREENSHOTS`, else `$CARGO_TARGET_DIR/screenshots`, else the
/// workspace's `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEIR_SCREENSHOTS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(target).join("screenshots");
    }
    manifest_dir().join("../../target/screenshots")
}

/// Chromium's launcher: Debian's `chromium` (or another distribution's name for it).
fn chromium_binary() -> Option<PathBuf> {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(on_path)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A query value with everything but unreserved characters percent-encoded.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn quoted(texts: &[String]) -> String {
    texts
        .iter()
        .take(10)
        .map(|t| format!("{:?}", t.chars().take(200).collect::<String>()))
        .collect::<Vec<_>>()
        .join(", ")
}
