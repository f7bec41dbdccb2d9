//! Headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`), with plain HTTP calls to chromedriver: open a page,
//! run a script, click, accept a confirm, take a screenshot.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::net::free_port;
use crate::tools::tool;

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; quits and stops chromedriver when dropped.
pub struct Browser {
    driver: Child,
    address: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

/// One HTTP request to chromedriver; returns the parsed JSON answer.
fn call(address: SocketAddr, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    // chromedriver may keep the connection open: read the headers, then
    // exactly Content-Length bytes.
    let mut received = Vec::new();
    let mut buffer = [0_u8; 8192];
    let header_end = loop {
        if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "chromedriver closed the connection mid-answer");
        received.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&received[..header_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    while received.len() < header_end + length {
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "chromedriver closed the connection mid-answer");
        received.extend_from_slice(&buffer[..read]);
    }
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = &received[header_end..header_end + length];
    (code, serde_json::from_slice(body).unwrap_or(Value::Null))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub fn start() -> Self {
        let port = free_port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let driver = Command::new(tool("chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tool("chromium").to_str().unwrap(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1360,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let (code, answer) = call(address, "POST", "/session", &capabilities);
        assert_eq!(code, 200, "new WebDriver session: {answer}");
        let session = answer["value"]["sessionId"].as_str().unwrap().to_owned();
        Self {
            driver,
            address,
            session,
            _profile: profile,
        }
    }

    fn command(&self, method: &str, path: &str, body: &Value) -> Value {
        let (code, answer) = call(
            self.address,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        );
        assert_eq!(code, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", &json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page; returns what it returns.
    pub fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            &json!({ "script": script, "args": [] }),
        )
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let element = self.command(
            "POST",
            "/element",
            &json!({ "using": "css selector", "value": css }),
        );
        let id = element[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {element}"))
            .to_owned();
        self.command("POST", &format!("/element/{id}/click"), &json!({}));
    }

    /// Accepts the open `confirm()` dialog.
    pub fn accept_dialog(&self) {
        self.command("POST", "/alert/accept", &json!({}));
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.command("GET", "/screenshot", &Value::Null);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }

    /// With `FLEET_DASHBOARD_SCREENSHOTS=<dir>`, writes a PNG of the window
    /// there as `name` (docs/ holds the committed ones).
    pub fn screenshot_if_asked(&self, name: &str) {
        if let Some(directory) = std::env::var_os("FLEET_DASHBOARD_SCREENSHOTS") {
            std::fs::write(
                std::path::Path::new(&directory).join(name),
                self.screenshot(),
            )
            .unwrap();
        }
    }

    /// The text of the first element matching `css` (empty when none does).
    pub fn text(&self, css: &str) -> String {
        self.script(&format!(
            "var e = document.querySelector({css:?}); return e ? e.innerText : '';"
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            call(
                self.address,
                "DELETE",
                &format!("/session/{}", self.session),
                &Value::Null,
            )
        });
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
