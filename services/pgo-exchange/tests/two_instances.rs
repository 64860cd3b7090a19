//! Two `pgo-exchange serve` processes on one PostgreSQL database, as a load balancer has them:
//! the same deployment secret and public URL, each its own data folder (nothing shared through
//! files), its own caches and port. What the person and the PGO do at one, the other honours: a
//! code redeemed at one is refused at the other, a refresh-token family revoked at one is refused
//! at the other (and its access tokens at once, not at the next poll), a provider's write at one
//! is served by the other within the stated bound although it had the person's Patients cached,
//! a person collecting through both is metered once, each verifies the tokens the other signs,
//! and a key rotation made by a third process is followed by both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::pgo::{Browser, PGO, Person, PgoServer, VERIFIER, authorize_url_at, challenge, client_list, param, request};
use e2e::{ANNA, PROVIDER};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{Backend, TestDatabase, postgres_test};

/// The deployment secret both instances share (base64 of 32 bytes; a test value).
const SECRET: &str = "dHdvLWluc3RhbmNlcy10ZXN0LXNlY3JldC0zMi1ieXRlcyE=";

/// How soon a change at one instance must show at the other: PostgreSQL announces it on commit.
/// Well below the 30 s the Patient-id cache would otherwise keep a stale answer, and the 60 s the
/// revocation poll is set to here, so only the announcement can meet it.
const BOUND: Duration = Duration::from_secs(3);

/// A running `pgo-exchange` process, stopped when dropped.
struct Instance {
    address: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port()
}

fn command(database: &TestDatabase, data: &Path, config: &Path, secret: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgo-exchange"));
    command
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(["--database-url", &database.url])
        .env("PGO_EXCHANGE__SECRETS__DEPLOYMENT_SECRET", secret)
        .env("PGO_EXCHANGE__SERVER__WORKERS", "2")
        .env("PGO_EXCHANGE__DATABASE__MAX_CONNECTIONS", "4")
        // Only the announcement on commit can tell the other instance of a revocation in time.
        .env("PGO_EXCHANGE__TOKENS__REVOCATION_POLL_MS", "60000")
        .env("RUST_LOG", "warn,fhir_api=info,authorization=info");
    command
}

/// Starts `serve --demo` on its own port, answering as `public_url`, and waits until it is ready.
async fn start(database: &TestDatabase, name: &str, config: &Path, public_url: Option<&str>) -> Instance {
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let data = database.dir.path().join(name);
    let log = std::fs::File::create(database.dir.path().join(format!("{name}.log"))).expect("log file");
    let child = command(database, &data, config, SECRET)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", public_url.unwrap_or(&address)])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the binary starts");
    let instance = Instance { address, child };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(answer) = reqwest::get(format!("{}/health/ready", instance.address)).await
            && answer.status() == 200
        {
            return instance;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(database.dir.path().join(format!("{name}.log"))).unwrap_or_default();
    panic!("{name} did not become ready: {log}");
}

fn base(instance: &Instance, service: &str) -> String {
    format!("{}/{PROVIDER}/{service}/fhir", instance.address)
}

async fn search(instance: &Instance, query: &str, token: &str) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .get(format!("{}/{query}", base(instance, "48")))
        .bearer_auth(token)
        .header("Accept", "application/fhir+json")
        .send()
        .await
        .expect("search sent");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn patient_ids(bundle: &Value) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["resource"]["resourceType"] == "Patient")
        .filter_map(|entry| entry["resource"]["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// Waits up to [`BOUND`] for `check` to hold; how long it took.
async fn within_bound<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < BOUND, "{what}: not within {BOUND:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The person's login at `instance`, as far as the code.
async fn code_from(instance: &Instance, scope: &str) -> String {
    let browser = Browser::at(&instance.address);
    let url = authorize_url_at(&instance.address, &request(PGO, scope, "state-1", &challenge(VERIFIER)));
    let back = browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await;
    param(&back, "code").expect("a code")
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().expect("a header");
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("base64url"))
            .expect("JSON");
    header["kid"].as_str().expect("kid").to_owned()
}

fn config_file(dir: &Path) -> PathBuf {
    let list = dir.join("oauth-client-list.xml");
    std::fs::write(&list, client_list(2)).expect("list written");
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[lists]\nfiles = [{:?}]\n", list.display().to_string())).expect("config");
    config
}

postgres_test! {
    async fn two_processes_on_one_postgres_database_act_as_one_service() {
        let database = TestDatabase::create(Backend::Postgres).await;
        let config = config_file(database.dir.path());
        let a = start(&database, "a", &config, None).await;
        // One public URL (the load balancer's): the same issuer and audiences at both.
        let b = start(&database, "b", &config, Some(&a.address)).await;
        let scope = format!("{PROVIDER}~48");
        let (pgo_a, pgo_b) = (PgoServer::at(&a.address), PgoServer::at(&b.address));

        // A code minted at A is redeemed at B, and then refused at A. The replay revokes the
        // consent (RFC 6749 4.1.2): B, which issued the token, refuses it within the bound.
        let code = code_from(&a, &scope).await;
        let (status, tokens) = pgo_b.exchange(PGO, &code, Some(VERIFIER)).await;
        assert_eq!(status, 200, "{tokens}");
        let replayed = tokens["access_token"].as_str().expect("access token").to_owned();
        assert_eq!(search(&b, "Patient", &replayed).await.0, 200, "{}", logs(&database));
        let (status, refused) = pgo_a.exchange(PGO, &code, Some(VERIFIER)).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");
        let took = within_bound("B refuses the tokens of a code replayed at A", || async {
            search(&b, "Patient", &replayed).await.0 == 401
        })
        .await;
        eprintln!("a replay at A was honoured at B after {took:?}");

        // A fresh consent: A's token works at B, and B's (a refresh there) at A; both collect
        // Anna's Patients, which B now holds in its cache.
        let code = code_from(&a, &scope).await;
        let (status, tokens) = pgo_a.exchange(PGO, &code, Some(VERIFIER)).await;
        assert_eq!(status, 200, "{tokens}");
        let from_a = tokens["access_token"].as_str().expect("access token").to_owned();
        let (status, at_b) = search(&b, "Patient", &from_a).await;
        assert_eq!(status, 200, "{at_b}\n{}", logs(&database));
        assert_eq!(patient_ids(&at_b), vec!["demo-patient-anna".to_owned()]);
        let (status, renewed) = pgo_b.refresh(PGO, tokens["refresh_token"].as_str().expect("refresh token")).await;
        assert_eq!(status, 200, "{renewed}");
        let from_b = renewed["access_token"].as_str().expect("access token").to_owned();
        let refresh = renewed["refresh_token"].as_str().expect("refresh token").to_owned();
        assert_eq!(search(&a, "Patient", &from_b).await.0, 200, "{}", logs(&database));

        // The provider writes a second Patient record of Anna at A; B serves it within the bound.
        let key = identity::DeploymentSecret::from_base64(SECRET)
            .expect("secret")
            .derive(&format!("demo ingest key for {PROVIDER}"));
        let mut patient: Value = serde_json::from_str(&std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/fixtures/stu3/Patient-demo-patient-anna.json"),
        ).expect("the demo's Patient"))
        .expect("JSON");
        patient["id"] = json!("anna-second-record");
        let written = reqwest::Client::new()
            .put(format!("{}/ingest/{PROVIDER}/stu3/Patient/anna-second-record", a.address))
            .bearer_auth(&key)
            .header("Content-Type", "application/fhir+json")
            .body(patient.to_string())
            .send()
            .await
            .expect("ingest sent");
        assert_eq!(written.status(), 201, "{}", written.text().await.unwrap_or_default());
        let took = within_bound("B serves the Patient written at A", || async {
            patient_ids(&search(&b, "Patient", &from_a).await.1).len() == 2
        })
        .await;
        eprintln!("a write at A showed at B after {took:?}");

        // Anna collected through both: one first exchange, counted once.
        let mut db = PgConnection::connect(&database.url).await.expect("database");
        let (firsts,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM exchange_firsts").fetch_one(&mut db).await.expect("counted");
        assert_eq!(firsts, 1, "one person, one PGO, one year: metered once across instances");

        // A rotation by a third process: both instances sign with the new key within the bound
        // and still take the tokens the old one signed.
        let old_kid = kid_of(&from_a);
        let rotated = command(&database, &database.dir.path().join("admin"), &config, SECRET)
            .args(["keys", "rotate"])
            .output()
            .expect("keys rotate runs");
        assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
        let new_kid = String::from_utf8_lossy(&rotated.stdout).trim().to_owned();
        assert_ne!(new_kid, old_kid);
        for instance in [&a, &b] {
            within_bound("the instance publishes the new key", || async {
                let jwks: Value = reqwest::get(format!("{}/oauth/jwks", instance.address))
                    .await
                    .expect("jwks")
                    .json()
                    .await
                    .expect("JSON");
                let kids: Vec<&str> = jwks["keys"].as_array().into_iter().flatten().filter_map(|key| key["kid"].as_str()).collect();
                kids.first() == Some(&new_kid.as_str()) && kids.contains(&old_kid.as_str())
            })
            .await;
            assert_eq!(search(instance, "Patient", &from_a).await.0, 200, "a token of the retired key still verifies");
        }
        let (status, renewed) = pgo_b.refresh(PGO, &refresh).await;
        assert_eq!(status, 200, "{renewed}");
        let from_b = renewed["access_token"].as_str().expect("access token").to_owned();
        let refresh = renewed["refresh_token"].as_str().expect("refresh token").to_owned();
        assert_eq!(kid_of(&from_b), new_kid, "B signs with the rotated key");
        assert_eq!(search(&a, "Patient", &from_b).await.0, 200, "A verifies the rotated key's token");

        // The PGO revokes the refresh token at B: refused at A, and the consent's access tokens are
        // refused at A at once (the poll is a minute here).
        let (status, body) = pgo_b.revoke(PGO, &refresh, Some("refresh_token")).await;
        assert_eq!(status, 200, "{body}");
        let (status, refused) = pgo_a.refresh(PGO, &refresh).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");
        let took = within_bound("A refuses the revoked consent's access token", || async {
            search(&a, "Patient", &from_b).await.0 == 401
        })
        .await;
        eprintln!("a revocation at B was honoured at A after {took:?}");

        // A newer OAuth Client List imported by a third process: a PGO it adds may start a flow at
        // both instances within the bound (each held the lists it read before).
        let late = "late-pgo.example.nl";
        let starts = |instance: &Instance| {
            let url = authorize_url_at(&instance.address, &request(late, &scope, "s", &challenge(VERIFIER)));
            async move {
                let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
                client.get(url).send().await.expect("authorize").status().as_u16() == 303
            }
        };
        assert!(!starts(&a).await && !starts(&b).await, "not on the list yet");
        let newer = database.dir.path().join("newer-list.xml");
        std::fs::write(&newer, list_with(3, late)).expect("list written");
        let imported = command(&database, &database.dir.path().join("admin"), &config, SECRET)
            .args(["lists", "import", &newer.display().to_string()])
            .output()
            .expect("lists import runs");
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        for instance in [&a, &b] {
            within_bound("a PGO on the newer list starts a flow", || starts(instance)).await;
        }

        // An instance with another deployment secret cannot open the keys, and says why.
        let stranger = command(&database, &database.dir.path().join("stranger"), &config, "c3RyYW5nZXItc2VjcmV0LW9mLTMyLWJ5dGVzLWF0LWxlYXN0IQ==")
            .args(["keys", "list"])
            .output()
            .expect("keys list runs");
        assert!(!stranger.status.success());
        assert!(String::from_utf8_lossy(&stranger.stderr).contains("same secrets.deployment_secret"), "{}", String::from_utf8_lossy(&stranger.stderr));
        drop((a, b));
    }
}

/// What the instances logged (for a failure's message).
fn logs(database: &TestDatabase) -> String {
    ["a", "b"]
        .iter()
        .map(|name| std::fs::read_to_string(database.dir.path().join(format!("{name}.log"))).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The test OAuth Client List `volgnummer` with `extra` added.
fn list_with(volgnummer: u64, extra: &str) -> String {
    let mut list = medmij_lists::parse_list(client_list(volgnummer).as_bytes()).expect("the test list parses");
    let medmij_lists::MedMijList::OAuthClients(ref mut clients) = list else { panic!("an OAuth Client List") };
    clients.clients.push(medmij_lists::OAuthClient {
        hostname: extra.into(),
        organisation_name: "Late PGO B.V.".into(),
        data_services: Some(vec!["48".into()]),
    });
    medmij_lists::write_oauth_client_list(clients, medmij_lists::ListShape::Newer)
}
