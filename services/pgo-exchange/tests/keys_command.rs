//! `pgo-exchange keys`, run as an operator runs it on SQLite: where the first signing key comes
//! from (a key file an earlier version left in the data folder keeps signing; the operator's
//! configured file is added and signs from then on), a rotation, and the published key set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use access_token::SigningKey;
use std::path::Path;
use std::process::{Command, Output};

fn keys(data: &Path, args: &[&str], environment: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgo-exchange"))
        .args(["--data-dir", &data.display().to_string(), "keys"])
        .args(args)
        .envs(environment.iter().copied())
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn listed(output: &Output) -> Vec<(String, bool)> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| (line.split_whitespace().next().unwrap_or_default().to_owned(), line.ends_with("signs")))
        .collect()
}

#[test]
fn a_key_left_in_the_data_folder_signs_on_and_a_rotation_retires_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let legacy = SigningKey::load_or_create(&data.join("keys/signing-key.pem")).unwrap();
    assert_eq!(listed(&keys(&data, &["list"], &[])), vec![(legacy.kid().to_owned(), true)]);

    let rotated = keys(&data, &["rotate"], &[]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let new_kid = String::from_utf8_lossy(&rotated.stdout).trim().to_owned();
    assert_eq!(listed(&keys(&data, &["list"], &[])), vec![(legacy.kid().to_owned(), false), (new_kid.clone(), true)]);

    let jwks = keys(&data, &["jwks"], &[]);
    let jwks: serde_json::Value = serde_json::from_slice(&jwks.stdout).expect("a JWK Set");
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|key| key["kid"].as_str()).collect();
    assert_eq!(kids, vec![legacy.kid(), new_kid.as_str()], "every key ever held, for old reports");
    assert!(jwks["keys"].as_array().unwrap().iter().all(|key| key.get("d").is_none()), "public halves only");
}

#[test]
fn the_operators_key_file_is_added_once_and_signs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert_eq!(listed(&keys(&data, &["list"], &[])).len(), 1, "a first key generated");
    let file = dir.path().join("operator.pem");
    let operator = SigningKey::load_or_create(&file).unwrap();
    let setting = [("PGO_EXCHANGE__TOKENS__SIGNING_KEY_FILE", file.to_str().unwrap())];
    for _ in 0..2 {
        let held = listed(&keys(&data, &["list"], &setting));
        assert_eq!(held.len(), 2);
        assert_eq!(held[1], (operator.kid().to_owned(), true), "the configured key signs; added once");
        assert!(!held[0].1, "the generated one is retired");
    }
}
