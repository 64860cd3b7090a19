//! The `pgo-exchange` binary's commands, run as a user runs them, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use test_support::{TestDatabase, on_both_backends};

fn run(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgo-exchange"))
        .args(["--data-dir", &database.dir.path().join("data").display().to_string(), "--database-url", &database.url])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/fixtures/stu3")
}

on_both_backends!(providers_are_added_listed_and_checked, |database| {
    let added = run(&database, &["providers", "add", "umcx", "--display-name", "UMC X", "--data-services", "48,63"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let key = text(&added.stdout).trim().to_owned();
    assert_eq!(key.len(), 43, "a printed ingest key");
    let listed = run(&database, &["providers", "list"]);
    let listing = text(&listed.stdout);
    assert!(
        listing.contains("umcx@medmij\tUMC X\t48 (Basisgegevens zorg (BgZ) 3.0), 63 (Vaccinaties 1.0)\tingest key set"),
        "{listing}"
    );
    for (args, message) in [
        (vec!["providers", "add", "UMC", "--display-name", "x", "--data-services", "48"], "lower-case letters"),
        (vec!["providers", "add", "umcy", "--display-name", "x", "--data-services", "47"], "data service '47'"),
        (vec!["providers", "add", "umcx", "--display-name", "x", "--data-services", "48"], "exists already"),
        (vec!["providers", "add", "medmij", "--display-name", "x", "--data-services", "48"], "reserved"),
    ] {
        let refused = run(&database, &args);
        assert!(!refused.status.success());
        assert!(text(&refused.stderr).contains(message), "{}", text(&refused.stderr));
    }
});

on_both_backends!(load_reports_what_it_did_and_token_finds_the_person, |database| {
    assert!(run(&database, &["migrate"]).status.success());
    assert!(
        run(&database, &["providers", "add", "umcx", "--display-name", "UMC X", "--data-services", "48"])
            .status
            .success()
    );
    let loaded = run(&database, &["load", "--provider", "umcx", &fixtures().display().to_string()]);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    let summary = text(&loaded.stdout);
    assert!(summary.starts_with("umcx@medmij (stu3): 60 files read, 60 resources loaded (60 new, 0 updated, 0 unchanged), 0 deleted, 0 rejected"), "{summary}");

    let bad = database.dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"resourceType": "Flag", "id": "f", "status": 1}"#).expect("write");
    // A refusal shows in the exit status by default, so that a loading script notices it.
    let strict = run(&database, &["load", "--provider", "umcx", &bad.display().to_string()]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        text(&strict.stdout).contains("Flag/f (") && text(&strict.stdout).contains("Flag.status"),
        "{}",
        text(&strict.stdout)
    );
    let accepting = run(&database, &["load", "--provider", "umcx", "--accept-refusals", &bad.display().to_string()]);
    assert_eq!(accepting.status.code(), Some(0));
    assert!(text(&accepting.stdout).contains("1 rejected"), "{}", text(&accepting.stdout));

    let minted = run(
        &database,
        &["token", "--provider", "umcx", "--client", "pgo.example.nl", "--scope", "umcx~48", "--bsn", "999946067"],
    );
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let token = text(&minted.stdout).trim().to_owned();
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).expect("b64"))
            .expect("json");
    assert_eq!((claims["client_id"].as_str(), claims["scope"].as_str()), (Some("pgo.example.nl"), Some("umcx~48")));
    assert_eq!(claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0), 900);
    assert!(!token.contains("999946067") && !claims.to_string().contains("999946067"), "no BSN in a token");

    for (args, message) in [(vec!["--bsn", "999946068"], "11-test"), (vec!["--bsn", "999911120"], "holds no patient")] {
        let mut all = vec!["token", "--provider", "umcx", "--client", "pgo.example.nl", "--scope", "umcx~48"];
        all.extend(args);
        let refused = run(&database, &all);
        assert!(!refused.status.success());
        assert!(text(&refused.stderr).contains(message), "{}", text(&refused.stderr));
        assert!(!text(&refused.stderr).contains("999911120"), "the BSN is not repeated");
    }
    let other_scope = run(
        &database,
        &["token", "--provider", "umcx", "--client", "pgo.example.nl", "--scope", "umcx~63", "--bsn", "999946067"],
    );
    assert!(text(&other_scope.stderr).contains("does not offer data service 63"));
});

on_both_backends!(serve_with_the_demo_answers_with_the_printed_token, |database| {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("address").port();
    let address = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgo-exchange"))
        .args(["--data-dir", &database.dir.path().join("data").display().to_string(), "--database-url", &database.url])
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &address])
        .env("PGO_EXCHANGE__SERVER__WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    // The banner comes before the server starts serving; read it as it is printed.
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut banner = String::new();
    let token = loop {
        let line = receiver.recv_timeout(std::time::Duration::from_secs(30)).expect("the demo banner within 30 s");
        banner.push_str(&line);
        banner.push('\n');
        if let Some(token) = line.trim().strip_prefix("export TOKEN=") {
            break token.to_owned();
        }
    };
    assert!(banner.contains(&format!("{address}/demoziekenhuis/48/fhir")), "{banner}");
    let client = reqwest::Client::new();
    let url = format!("{address}/demoziekenhuis/48/fhir/Patient?_include=Patient:general-practitioner");
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(response) = client.get(&url).bearer_auth(&token).send().await {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let response = answer.expect("the service answers within 10 s");
    assert_eq!(response.status(), 200);
    let bundle: serde_json::Value = response.json().await.expect("json");
    assert_eq!(bundle["total"], 1);
    assert_eq!(bundle["entry"][0]["resource"]["id"], "demo-patient-anna");
});

on_both_backends!(lists_are_imported_only_when_valid_and_newer, |database| {
    use medmij_lists::{ListHeader, ListShape, OAuthClient, OAuthClientList, write_oauth_client_list};
    let list = |volgnummer: u64| OAuthClientList {
        header: ListHeader { tijdstempel: "2026-11-01T10:00:00Z".into(), volgnummer },
        clients: vec![OAuthClient {
            hostname: "pgo.example.nl".into(),
            organisation_name: "Voorbeeld PGO".into(),
            data_services: Some(vec!["48".into()]),
        }],
    };
    let dir = database.dir.path();
    let (newer, older, broken) = (dir.join("ocl-3.xml"), dir.join("ocl-2.xml"), dir.join("broken.xml"));
    std::fs::write(&newer, write_oauth_client_list(&list(3), ListShape::Newer)).unwrap();
    std::fs::write(&older, write_oauth_client_list(&list(2), ListShape::Older)).unwrap();
    std::fs::write(&broken, "<OAuthclientlist xmlns=\"urn:wrong\"/>").unwrap();
    let path = |file: &Path| file.display().to_string();

    let imported = run(&database, &["lists", "import", &path(&newer)]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(text(&imported.stdout).contains("Volgnummer 3"), "{}", text(&imported.stdout));
    for file in [&newer, &older] {
        let refused = run(&database, &["lists", "import", &path(file)]);
        assert!(!refused.status.success(), "a Volgnummer not above 3 is refused");
        assert!(text(&refused.stderr).contains("not newer"), "{}", text(&refused.stderr));
    }
    let refused = run(&database, &["lists", "import", &path(&broken)]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("refused"), "{}", text(&refused.stderr));
    let shown = text(&run(&database, &["lists", "show"]).stdout);
    assert!(shown.contains("Volgnummer 3"), "{shown}");
    assert!(shown.contains("none held"), "no Whitelist yet: {shown}");
});

on_both_backends!(a_report_is_made_signed_and_verified_offline, |database| {
    let data = database.dir.path().join("data");
    let store = store::Store::connect(&database.url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let march =
        metering::Period::containing(metering::Granularity::Month, 1_773_000_000_000, chrono_tz::Europe::Amsterdam);
    let (start, _) = march.bounds(chrono_tz::Europe::Amsterdam);
    let first = store::FirstExchange {
        client_id: "pgo.example.nl".into(),
        year: i64::from(march.year),
        pseudonym: "a-pseudonym".into(),
        first_at: start + 1000,
        request_id: "req-1".into(),
        provider: "umcx".into(),
        data_service: "48".into(),
        kind: "collect".into(),
    };
    store.usage().record_first_exchanges(&[first]).await.unwrap();
    store.close().await;
    let file = data.join("report.jws.json");
    let period = march.to_string();
    let made =
        run(&database, &["report", "--period", &period, "--format", "csv", "--output", &file.display().to_string()]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(text(&made.stderr).contains("1 new unique users, EUR 7.50 due"), "{}", text(&made.stderr));
    let verified = run(&database, &["report", "verify", &file.display().to_string()]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).contains("user,pgo.example.nl,,,a-pseudonym,"), "{}", text(&verified.stdout));
    // With a saved key set (as the deployment publishes it to auditors) instead, too.
    let published = run(&database, &["keys", "jwks"]);
    assert!(published.status.success(), "{}", text(&published.stderr));
    let jwks = data.join("jwks.json");
    std::fs::write(&jwks, &published.stdout).unwrap();
    let with_jwks = run(
        &database,
        &["report", "verify", "--quiet", "--jwks", &jwks.display().to_string(), &file.display().to_string()],
    );
    assert!(with_jwks.status.success(), "{}", text(&with_jwks.stderr));
    // One changed character fails.
    let tampered =
        std::fs::read_to_string(&file).unwrap().replace("client,pgo.example.nl,1,750", "client,pgo.example.nl,2,750");
    std::fs::write(&file, tampered).unwrap();
    let refused = run(&database, &["report", "verify", &file.display().to_string()]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("NOT VALID"), "{}", text(&refused.stderr));
});

#[test]
fn auditors_get_a_secret_and_its_hash() {
    let output = Command::new(env!("CARGO_BIN_EXE_pgo-exchange")).args(["auditors", "new", "nza"]).output().unwrap();
    assert!(output.status.success());
    let printed = text(&output.stdout);
    let secret = printed.lines().nth(1).unwrap().trim_start_matches('#').trim();
    assert!(printed.contains(&format!("secret_sha256 = \"{}\"", metering::secret_hash(secret))), "{printed}");
    let refused = Command::new(env!("CARGO_BIN_EXE_pgo-exchange")).args(["auditors", "new", "NZA"]).output().unwrap();
    assert!(!refused.status.success());
}

/// A blood pressure of the person with `bsn`, named by identifier, as real exports write it.
fn observation_named_by_bsn(id: &str, bsn: &str) -> String {
    serde_json::json!({"resourceType": "Observation", "id": id,
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]}, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"identifier": {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": bsn}}})
    .to_string()
}

on_both_backends!(load_waits_for_the_patient_a_record_names_by_bsn_and_check_finds_records_of_nobody, |database| {
    assert!(
        run(&database, &["providers", "add", "umcx", "--display-name", "UMC X", "--data-services", "48"])
            .status
            .success()
    );
    // Files load in name order: the records come before the Patient they name.
    let folder = database.dir.path().join("export");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("A-observation.json"), observation_named_by_bsn("bp-1", "999911120")).unwrap();
    std::fs::write(folder.join("B-observation.json"), observation_named_by_bsn("bp-2", "999911284")).unwrap();
    let patient = std::fs::read_to_string(fixtures().join("Patient-demo-patient-anna.json")).unwrap();
    let patient: serde_json::Value = serde_json::from_str(&patient).unwrap();
    let mut patient = patient;
    patient["identifier"] =
        serde_json::json!([{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"}]);
    std::fs::write(folder.join("Z-patient.json"), patient.to_string()).unwrap();
    let loaded = run(&database, &["load", "--provider", "umcx", &folder.display().to_string()]);
    let summary = text(&loaded.stdout);
    assert!(summary.starts_with("umcx@medmij (stu3): 3 files read, 2 resources loaded"), "{summary}");
    // The one whose person the provider does not know is named, without the BSN.
    assert!(summary.contains("Observation/bp-2") && summary.contains("no Patient of provider umcx"), "{summary}");
    assert!(!summary.contains("999911284"), "{summary}");
    let checked = run(&database, &["check"]);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stdout));
    // A record whose tie to its Patient is lost (as records stored before the rule have none).
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut connection = sqlx::AnyConnection::connect(&database.url).await.unwrap();
        sqlx::query("DELETE FROM compartment WHERE rid IN (SELECT rid FROM resources WHERE id = 'bp-1')")
            .execute(&mut connection)
            .await
            .unwrap();
    }
    let checked = run(&database, &["check"]);
    assert_eq!(checked.status.code(), Some(1));
    assert!(text(&checked.stdout).contains("umcx@medmij (stu3): Observation/bp-1"), "{}", text(&checked.stdout));
});

on_both_backends!(a_provider_of_stu3_and_r4_data_services_loads_both_without_naming_a_release, |database| {
    assert!(
        run(&database, &["providers", "add", "umcx", "--display-name", "UMC X", "--data-services", "48,63"])
            .status
            .success()
    );
    let r4 = fixtures().join("../r4");
    let loaded =
        run(&database, &["load", "--provider", "umcx", &fixtures().display().to_string(), &r4.display().to_string()]);
    let summary = text(&loaded.stdout);
    assert!(loaded.status.success(), "{summary}{}", text(&loaded.stderr));
    assert!(summary.contains("70 files read, 70 resources loaded"), "{summary}");

    // A file that claims no profile of the provider's data services cannot say its release.
    let unclaimed = database.dir.path().join("unclaimed.xml");
    std::fs::write(&unclaimed, r#"<Patient xmlns="http://hl7.org/fhir"><id value="p"/></Patient>"#).expect("write");
    let refused = run(&database, &["load", "--provider", "umcx", &unclaimed.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stdout).contains("--fhir-version"), "{}", text(&refused.stdout));
    let named =
        run(&database, &["load", "--provider", "umcx", "--fhir-version", "r4", &unclaimed.display().to_string()]);
    assert!(
        text(&named.stdout).contains("meta.profile") || text(&named.stdout).contains("profile"),
        "{}",
        text(&named.stdout)
    );
});

/// The embedded defaults put health data, the signing key and the deployment secret in the data
/// folder: the folder and every file the service makes in it are its user's alone.
#[cfg(unix)]
#[test]
fn the_data_folder_and_everything_in_it_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pgo-exchange"))
            .args(["--data-dir", &data.display().to_string()])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("PGO_EXCHANGE__DATABASE__URL")
            .output()
            .expect("the binary runs")
    };
    let added = run(&["providers", "add", "umcx", "--display-name", "UMC X", "--data-services", "48"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(run(&["load", "--provider", "umcx", &fixtures().display().to_string()]).status.success());
    let mode = |path: &Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    let mut folders = vec![data.clone()];
    let mut files = Vec::new();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("listed") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                folders.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|file| file.extension().is_some_and(|extension| extension == "db")), "{files:?}");
    assert!(files.len() >= 2, "database and secret (the signing keys are in the database): {files:?}");
}
