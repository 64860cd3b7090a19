//! Finding the browser and its driver, and running chromedriver on a free loopback port for as
//! long as a [`Browser`](super::Browser) lives.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to make a missing browser fail the test instead of skipping it (CI sets it).
pub const REQUIRE_BROWSER_ENV: &str = "PGO_EXCHANGE_REQUIRE_BROWSER";
/// Overrides the chromedriver path (default `/usr/bin/chromedriver`).
pub const CHROMEDRIVER_ENV: &str = "CHROMEDRIVER";
/// Overrides the Chromium path (default `/usr/bin/chromium`).
pub const CHROMIUM_ENV: &str = "CHROMIUM";

/// How long ending a session may take before chromedriver is killed regardless.
const QUIT_LIMIT: Duration = Duration::from_secs(10);

/// How long chromedriver may take to accept connections. Generous: a cold start on a busy
/// two-core CI machine is slow, and a hang must still end.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// The two programs a browser test needs.
pub(super) struct Installation {
    pub chromedriver: PathBuf,
    pub chromium: PathBuf,
}

impl Installation {
    /// Finds both programs, or says which is missing.
    pub fn find() -> Result<Installation, String> {
        let chromedriver = program(CHROMEDRIVER_ENV, "/usr/bin/chromedriver")?;
        let chromium = program(CHROMIUM_ENV, "/usr/bin/chromium")?;
        Ok(Installation { chromedriver, chromium })
    }
}

fn program(variable: &str, default: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} not found (set {variable}, or run .ci/install-browser)", path.display()))
    }
}

/// A running chromedriver, killed when dropped.
pub(super) struct Chromedriver {
    child: Child,
    pub port: u16,
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits (bounded) until it accepts
    /// connections.
    pub async fn start(path: &PathBuf) -> Chromedriver {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", path.display()));
        let mut driver = Chromedriver { child, port };
        driver.wait_until_listening().await;
        driver
    }

    async fn wait_until_listening(&mut self) {
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited before listening on port {}: {status}", self.port);
            }
            if started.elapsed() > STARTUP_LIMIT {
                panic!("chromedriver did not listen on port {} within {STARTUP_LIMIT:?}", self.port);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session synchronously (WebDriver "Delete Session"), which makes chromedriver quit
    /// its Chromium. Used on drop, where nothing can be awaited and the test's runtime may be
    /// gone: killing chromedriver alone leaves Chromium running as an orphan.
    pub fn end_session(&self, session_id: &str) {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else { return };
        let _ = stream.set_read_timeout(Some(QUIT_LIMIT));
        let _ = stream.set_write_timeout(Some(QUIT_LIMIT));
        let request = format!(
            "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // The answer starts once Chromium has quit; its content does not matter, and
            // chromedriver may keep the connection open, so the first bytes are enough.
            let _ = stream.read(&mut [0; 512]);
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The session (and with it Chromium) has ended by now (see `end_session`); this makes
        // sure the driver never outlives the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago. chromedriver binds it itself, so the listener is dropped
/// first; another process taking it in between is unlikely, and would show as a start failure.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("cannot find a free loopback port: {error}"))
}
