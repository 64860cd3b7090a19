//! The person at the browser: opens pages, types, clicks, and waits until the click has led to
//! another page before anything is read. Every page the browser ends up on is kept (its address
//! and its HTML), so a test can check afterwards that none of them shows a BSN.

use e2e::TestApp;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use test_support::browser::{Browser, Locator};
use url::Url;

/// How long a click may take to lead to the next page. Generous: the demo PGO's result page is
/// only sent once it has run every query of the data services.
const NAVIGATION_WAIT: Duration = Duration::from_secs(90);
/// How often to look whether the page has changed.
const POLL: Duration = Duration::from_millis(100);
/// Where the DigiD simulator is mounted in demo mode: its login page is the only page of a flow
/// on which the person's BSN may appear (the person types it there).
const SIMULATOR_PATH: &str = "/digid-sim/";

/// The window widths pages are checked at: a desktop's, and a phone's (an iPhone 12 to 15).
const DESKTOP_WIDTH: u32 = 1280;
const PHONE_WIDTH: u32 = 390;

/// A page the browser showed.
struct SeenPage {
    url: String,
    html: String,
}

/// A person with a browser, using the service at `address`.
pub(crate) struct Person {
    browser: Browser,
    address: String,
    seen: Mutex<Vec<SeenPage>>,
}

impl Person {
    /// A person with a fresh browser (no cookies), or `None` when Chromium is not installed (the
    /// test is then skipped, see `test_support::browser`).
    pub(crate) async fn start(app: &TestApp) -> Option<Person> {
        let browser = Browser::start().await?;
        Some(Person { browser, address: app.address.clone(), seen: Mutex::new(Vec::new()) })
    }

    /// Opens `path` of the service; returns the address the browser shows.
    pub(crate) async fn open(&self, path: &str) -> Url {
        self.browser.goto(&format!("{}{path}", self.address)).await;
        self.arrived().await
    }

    /// Clicks the element with this `id` (a button or link that leads to another page), waits for
    /// the next page and checks that its path is `expected_path`; returns its whole address.
    pub(crate) async fn click(&self, id: &str, expected_path: &str) -> Url {
        self.click_on(Locator::Id(id), &format!("#{id}"), expected_path).await
    }

    /// Follows the link with this text, like [`Person::click`].
    pub(crate) async fn follow(&self, link_text: &str, expected_path: &str) -> Url {
        self.click_on(Locator::LinkText(link_text), &format!("the link {link_text:?}"), expected_path).await
    }

    /// Clicks the first element that matches the CSS `selector` where the click changes the page
    /// without leaving it (a `<details>` summary).
    pub(crate) async fn click_in_place(&self, selector: &str) {
        let element = self.browser.client().find(Locator::Css(selector)).await.expect("the element");
        element.click().await.expect("clicked");
    }

    /// Types `text` into the input with this `id`.
    pub(crate) async fn fill(&self, id: &str, text: &str) {
        self.browser.fill(id, text).await;
    }

    /// The visible text of the page.
    pub(crate) async fn text(&self) -> String {
        self.browser.page_text().await
    }

    /// The text of the element with this `id`.
    pub(crate) async fn text_of(&self, id: &str) -> String {
        self.browser.text_of(id).await
    }

    /// The page's heading (`main h1`) and its document title.
    pub(crate) async fn heading_and_title(&self) -> (String, String) {
        let client = self.browser.client();
        let heading = client.find(Locator::Css("main h1")).await.expect("a heading");
        let heading = heading.text().await.expect("the heading's text");
        (heading, client.title().await.expect("the document title"))
    }

    /// Whether the page has an element with this `id`.
    pub(crate) async fn has(&self, id: &str) -> bool {
        self.browser.client().find(Locator::Id(id)).await.is_ok()
    }

    /// The ids of the page's elements that match the CSS `selector`.
    pub(crate) async fn ids_of(&self, selector: &str) -> Vec<String> {
        let elements = self.browser.client().find_all(Locator::Css(selector)).await.expect("find elements");
        let mut ids = Vec::new();
        for element in elements {
            ids.push(element.attr("id").await.expect("read id").unwrap_or_default());
        }
        ids
    }

    /// The `lang` attribute of the page's `<html>` element.
    pub(crate) async fn html_lang(&self) -> Option<String> {
        let html = self.browser.client().find(Locator::Css("html")).await.expect("an html element");
        html.attr("lang").await.expect("read lang")
    }

    /// The computed value of the CSS property `property` of the element with this `id`: shows
    /// whether the stylesheet reached the page (a Content Security Policy could block it).
    pub(crate) async fn style_of(&self, id: &str, property: &str) -> String {
        let element = self.browser.client().find(Locator::Id(id)).await.expect("the element");
        element.css_value(property).await.expect("computed style")
    }

    /// The width in CSS pixels of the first element that matches the CSS `selector`, as laid out.
    pub(crate) async fn width_of(&self, selector: &str) -> f64 {
        let element = self.browser.client().find(Locator::Css(selector)).await.expect("the element");
        element.rectangle().await.expect("its rectangle").2
    }

    /// Shows the page at a desktop width (1280 px) and at a phone's (390 px): at each, nothing
    /// may stick out sideways (a table cut off, a line that does not wrap), and a screenshot is
    /// kept as `target/artifacts/<name>-desktop.png` and `<name>-phone.png`. The window is left
    /// at the desktop width.
    pub(crate) async fn check_widths(&self, name: &str) {
        for (width, label) in [(PHONE_WIDTH, "phone"), (DESKTOP_WIDTH, "desktop")] {
            self.browser.set_width(width).await;
            let (over, culprits) = self.browser.horizontal_overflow().await;
            self.screenshot(&format!("{name}-{label}")).await;
            assert!(over <= 1.0, "{name} at {width} px is {over} px too wide; sticking out: {culprits:?}");
        }
    }

    /// Keeps a screenshot as `target/artifacts/<name>.png`.
    pub(crate) async fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.browser.screenshot(name).await;
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Panics if any page the browser showed contains one of `bsns` (in its address or anywhere
    /// in its HTML, hidden fields included). Two pages are exempt: the simulator's login page,
    /// where the person types the BSN, and the demo PGO's start page, whose instructions suggest
    /// a fictional demo patient's BSN to type there (fixed text, about no one who is logged in).
    pub(crate) fn assert_no_bsn(&self, bsns: &[&str]) {
        let seen = self.seen.lock().expect("lock");
        assert!(!seen.is_empty(), "no page was seen");
        for page in seen.iter() {
            let path = Url::parse(&page.url).map(|url| url.path().to_owned()).unwrap_or_default();
            if path.starts_with(SIMULATOR_PATH) || path == demo::pgo_client::PATH {
                continue;
            }
            for bsn in bsns {
                assert!(!page.url.contains(bsn) && !page.html.contains(bsn), "a BSN on {}:\n{}", page.url, page.html);
            }
        }
    }

    /// The addresses of the pages seen so far, in order.
    pub(crate) fn trail(&self) -> Vec<String> {
        self.seen.lock().expect("lock").iter().map(|page| page.url.clone()).collect()
    }

    /// Ends the browser session.
    pub(crate) async fn close(self) {
        self.browser.close().await;
    }

    async fn click_on(&self, locator: Locator<'_>, what: &str, expected_path: &str) -> Url {
        let client = self.browser.client();
        let element = client.find(locator).await.unwrap_or_else(|error| panic!("no {what} on the page: {error}"));
        element.click().await.unwrap_or_else(|error| panic!("cannot click {what}: {error}"));
        // The clicked element belongs to the old document: once it is gone, the next page is
        // there (WebDriver waits for that page to load before it answers the next command).
        let deadline = Instant::now() + NAVIGATION_WAIT;
        while element.is_displayed().await.is_ok() {
            if Instant::now() > deadline {
                let url = self.browser.current_url().await;
                let text = self.text().await;
                panic!("clicking {what} led nowhere within {NAVIGATION_WAIT:?}; still on {url}:\n{text}");
            }
            tokio::time::sleep(POLL).await;
        }
        let url = self.arrived().await;
        if url.path() != expected_path {
            let text = self.text().await;
            panic!("clicking {what} led to {url}, expected the path {expected_path}:\n{text}");
        }
        url
    }

    /// Keeps the page the browser now shows; returns its address.
    async fn arrived(&self) -> Url {
        let url = self.browser.current_url().await;
        let html = self.browser.client().source().await.expect("page source");
        self.seen.lock().expect("lock").push(SeenPage { url: url.clone(), html });
        Url::parse(&url).expect("the browser's address is a URL")
    }
}
