//! A headless Chromium for tests that use the service as a person would: fill in a form, click,
//! read the page, keep a screenshot. Driven over WebDriver (fantoccini) through chromedriver on
//! loopback, in plain HTTP, so no TLS library is involved.
//!
//! When Chromium or chromedriver is missing, [`Browser::start`] prints `skipped: ...` and returns
//! `None`, so the test passes without running; with `PGO_EXCHANGE_REQUIRE_BROWSER=1` (CI) it
//! panics instead, so CI never skips. `.ci/install-browser` installs both.

mod chromedriver;

pub use chromedriver::{CHROMEDRIVER_ENV, CHROMIUM_ENV, REQUIRE_BROWSER_ENV};
/// How to find elements beyond an id, for tests that use [`Browser::client`].
pub use fantoccini::Locator;

use chromedriver::{Chromedriver, Installation};
use fantoccini::{Client, ClientBuilder};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long [`Browser::wait_for_id`] waits for an element to appear.
const ELEMENT_WAIT: Duration = Duration::from_secs(10);

/// A headless Chromium session, and the chromedriver behind it. Dropping it ends the session
/// (Chromium quits) and kills chromedriver, also when a test panics.
pub struct Browser {
    client: Client,
    /// The session still to end on drop (`None` once [`Browser::close`] ended it).
    session_id: Option<String>,
    driver: Chromedriver,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Browser")
            .field("chromedriver_port", &self.driver.port)
            .field("session_id", &self.session_id)
            .finish()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session_id) = self.session_id.take() {
            self.driver.end_session(&session_id);
        }
    }
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium session, or returns `None` after
    /// printing why when the browser is not installed (see the module documentation).
    pub async fn start() -> Option<Browser> {
        let installation = match Installation::find() {
            Ok(installation) => installation,
            Err(missing) if std::env::var(REQUIRE_BROWSER_ENV).as_deref() == Ok("1") => {
                panic!("{REQUIRE_BROWSER_ENV}=1 but the browser is missing: {missing}")
            }
            Err(missing) => {
                eprintln!("skipped: {missing}; set {REQUIRE_BROWSER_ENV}=1 to fail instead");
                return None;
            }
        };
        let driver = Chromedriver::start(&installation.chromedriver).await;
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(&installation.chromium))
            .connect(&driver.url())
            .await
            .unwrap_or_else(|error| panic!("cannot open a Chromium session through chromedriver: {error}"));
        let session_id =
            client.session_id().await.unwrap_or_else(|error| panic!("cannot read the WebDriver session id: {error}"));
        Some(Browser { client, session_id, driver })
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// Replaces the text of the input with this `id`.
    pub async fn fill(&self, id: &str, text: &str) {
        let input = self.element(id).await;
        input.clear().await.unwrap_or_else(|error| panic!("cannot clear #{id}: {error}"));
        input.send_keys(text).await.unwrap_or_else(|error| panic!("cannot type into #{id}: {error}"));
    }

    /// Clicks the element with this `id` (a submit button waits for the next page to load).
    pub async fn click(&self, id: &str) {
        self.element(id).await.click().await.unwrap_or_else(|error| panic!("cannot click #{id}: {error}"));
    }

    /// Waits (bounded) until an element with this `id` is on the page, e.g. after a script
    /// changed it.
    pub async fn wait_for_id(&self, id: &str) {
        self.client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Id(id))
            .await
            .unwrap_or_else(|error| panic!("#{id} did not appear within {ELEMENT_WAIT:?}: {error}"));
    }

    /// The address of the page shown.
    pub async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap_or_else(|error| panic!("cannot read the URL: {error}")).to_string()
    }

    /// The page's visible text (the body's `innerText`).
    pub async fn page_text(&self) -> String {
        let body = self.client.find(Locator::Css("body")).await.unwrap_or_else(|error| panic!("no body: {error}"));
        body.text().await.unwrap_or_else(|error| panic!("cannot read the page text: {error}"))
    }

    /// The text of the element with this `id`.
    pub async fn text_of(&self, id: &str) -> String {
        self.element(id).await.text().await.unwrap_or_else(|error| panic!("cannot read #{id}: {error}"))
    }

    /// Saves a PNG of the viewport as `<target>/artifacts/<name>.png` and returns its path, so a
    /// person (or CI's artifact upload) can look at what the test saw.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|error| panic!("cannot take a screenshot: {error}"));
        let folder = artifacts_dir();
        std::fs::create_dir_all(&folder).unwrap_or_else(|error| panic!("cannot create {}: {error}", folder.display()));
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        path
    }

    /// Lays the page out `width` CSS pixels wide (the window's height stays 900).
    pub async fn set_width(&self, width: u32) {
        self.client
            .set_window_size(width, 900)
            .await
            .unwrap_or_else(|error| panic!("cannot set the window to {width} px: {error}"));
    }

    /// How many CSS pixels the page is wider than the window (0 when nothing overflows
    /// sideways), and the first elements that stick out beyond its right edge, for messages.
    pub async fn horizontal_overflow(&self) -> (f64, Vec<String>) {
        let script = "const width = document.documentElement.clientWidth; \
            const over = Math.max(0, document.documentElement.scrollWidth - width); \
            const culprits = Array.from(document.querySelectorAll('body *')) \
              .filter(e => e.getBoundingClientRect().right > width + 1) \
              .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')); \
            return [over, culprits];";
        let answer = self
            .client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("cannot measure the page: {error}"));
        let over = answer[0].as_f64().unwrap_or(0.0);
        let culprits = answer[1]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|culprit| culprit.as_str().map(str::to_owned))
            .collect();
        (over, culprits)
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session (Chromium quits) and stops chromedriver, without blocking the runtime as
    /// dropping does.
    pub async fn close(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.session_id = None;
        }
    }

    async fn element(&self, id: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Id(id)).await.unwrap_or_else(|error| panic!("no element #{id}: {error}"))
    }
}

fn capabilities(chromium: &Path) -> fantoccini::wd::Capabilities {
    let options = serde_json::json!({
        "binary": chromium.to_string_lossy(),
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"],
    });
    let mut capabilities = fantoccini::wd::Capabilities::new();
    capabilities.insert("browserName".to_owned(), serde_json::json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    capabilities
}

/// `<target>/artifacts`: the target folder is `CARGO_TARGET_DIR` when set (relative to the
/// workspace root when relative), else the workspace's `target/`.
pub fn artifacts_dir() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    target.join("artifacts")
}

/// The nearest folder at or above the test's package whose `Cargo.toml` declares `[workspace]`.
fn workspace_root() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    package
        .ancestors()
        .find(|folder| {
            std::fs::read_to_string(folder.join("Cargo.toml")).is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .unwrap_or(&package)
        .to_path_buf()
}
