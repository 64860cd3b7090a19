//! The browser harness against a small form served by actix-web on a free loopback port: type a
//! name, submit, read the answer page, keep a screenshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{HttpResponse, HttpServer, web};
use std::collections::HashMap;
use std::net::TcpListener;
use test_support::browser::Browser;

const FORM: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harness form</title></head>
<body><h1>Who are you?</h1>
<form method="post" action="/greet">
  <label for="name">Name</label> <input id="name" name="name" value="placeholder">
  <button id="submit" type="submit">Send</button>
</form></body></html>"#;

async fn form() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(FORM)
}

async fn greet(fields: web::Form<HashMap<String, String>>) -> HttpResponse {
    let name = fields.get("name").map(String::as_str).unwrap_or_default();
    let escaped = name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!("<!doctype html><html><body><p id=\"greeting\">Hello, {escaped}!</p></body></html>"))
}

/// Serves the form on `127.0.0.1:0` and returns its base URL.
fn spawn_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        actix_web::App::new().route("/", web::get().to(form)).route("/greet", web::post().to(greet))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_fills_in_the_form_and_sees_the_answer() {
    let Some(browser) = Browser::start().await else { return };
    let site = spawn_site();

    browser.goto(&format!("{site}/")).await;
    assert!(browser.page_text().await.contains("Who are you?"));
    browser.fill("name", "Ada <Lovelace>").await;
    browser.click("submit").await;
    browser.wait_for_id("greeting").await;

    assert_eq!(browser.current_url().await, format!("{site}/greet"));
    assert_eq!(browser.text_of("greeting").await, "Hello, Ada <Lovelace>!");
    let screenshot = browser.screenshot("browser-harness-greeting").await;
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", screenshot.display());
    browser.close().await;
}
