//! The `digid-sim` binary starts, says where it listens, and serves discovery there, and an icon
//! where browsers look for one.

use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_serves_discovery_where_it_says_it_listens() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_digid-sim"))
        .args(["--listen", "127.0.0.1:0", "--client", "pgo.example:secret:https://pgo.example/callback"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the binary starts")
        .unwrap()
        .expect("a line");
    let issuer = line.split("issuer ").nth(1).expect("the issuer is printed").to_owned();
    assert!(line.starts_with(&format!("digid-sim listening on {issuer}")), "{line}");

    let document: serde_json::Value =
        reqwest::get(format!("{issuer}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(document["issuer"], issuer);
    assert_eq!(document["authorization_endpoint"], format!("{issuer}/authorize"));

    // Every browser asks the origin for /favicon.ico: no page visit may log a 404 for it.
    let icon = reqwest::get(format!("{issuer}/favicon.ico")).await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/vnd.microsoft.icon");
    let bytes = icon.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_binary_refuses_a_malformed_client() {
    let output = Command::new(env!("CARGO_BIN_EXE_digid-sim"))
        .args(["--listen", "127.0.0.1:0", "--client", "no-secret-or-uri"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ID:SECRET:REDIRECT_URI"));
}
