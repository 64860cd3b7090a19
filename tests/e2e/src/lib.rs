//! The harness of the end-to-end tests: the real service (the same `Context` and `Application`
//! as `pgo-exchange serve`) on a free loopback port, over a fresh SQLite or PostgreSQL database,
//! with the demo provider seeded and a second provider holding the same records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod pgo;

use access_token::{Grant, TokenIssuer};
use fhir_core::Release;
use pgo_exchange::{Application, Context};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use store::{NewProvider, Write};
use test_support::TestDatabase;

/// The demo provider's name in tests.
pub const PROVIDER: &str = "demoziekenhuis";
/// A second provider with the same records, to show that nothing crosses providers.
pub const OTHER_PROVIDER: &str = "anderziekenhuis";
/// The demo patients' BSNs (see services/demo/fixtures/README.md).
pub const ANNA: &str = "999946067";
/// The second demo patient.
pub const BRAM: &str = "999946109";
/// The BSNs of every test record (the demo's, the public corpus's, the tests' own): none may
/// reach a PGO, in any answer.
pub const TEST_BSNS: [&str; 5] = [ANNA, BRAM, "999911120", "999911284", "123456782"];

/// A running service for one test.
pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    /// The opened service.
    pub context: Context,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The demo provider's ingest key.
    pub ingest_key: String,
    /// The `PGO_EXCHANGE__...` settings it runs with.
    environment: Vec<(String, String)>,
    /// Its config file, if it has one.
    config_file: Option<PathBuf>,
    /// The database it runs on (a test may make it unreachable).
    pub database: TestDatabase,
}

/// Another instance of a test's deployment (see [`TestApp::another_instance`]).
pub struct Instance {
    /// `http://127.0.0.1:{port}` of this instance.
    pub address: String,
    /// Its opened service.
    pub context: Context,
}

impl TestApp {
    /// Starts the service over `database`.
    pub async fn start(database: TestDatabase) -> TestApp {
        TestApp::start_with(database, &[]).await
    }

    /// Starts the service over `database` with extra `PGO_EXCHANGE__...` settings.
    pub async fn start_with(database: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        TestApp::start_on(listener, database, settings).await
    }

    /// Starts the service over `database` with a config file holding `config` (TOML: for the
    /// settings environment variables cannot write, such as lists) and extra settings.
    pub async fn start_with_config(database: TestDatabase, config: &str, settings: &[(&str, &str)]) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let file = database.dir.path().join("config.toml");
        std::fs::write(&file, config).expect("config file written");
        TestApp::start_configured(listener, database, Some(&file), settings).await
    }

    /// As `start_with`, on a listener bound beforehand (when something else must know the
    /// address first).
    pub async fn start_on(listener: TcpListener, database: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
        TestApp::start_configured(listener, database, None, settings).await
    }

    async fn start_configured(
        listener: TcpListener,
        database: TestDatabase,
        file: Option<&std::path::Path>,
        settings: &[(&str, &str)],
    ) -> TestApp {
        let port = listener.local_addr().expect("address").port();
        // With mutual TLS the service speaks https itself.
        let tls = settings.iter().any(|(name, value)| name.ends_with("CLIENT_AUTHENTICATION") && *value == "mtls");
        let address = format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" });
        let overrides = settings::Overrides {
            data_dir: Some(database.dir.path().join("data")),
            database_url: Some(database.url.clone()),
            listen: Some("127.0.0.1:0".into()),
            public_url: Some(address.clone()),
        };
        let mut environment = vec![
            ("PGO_EXCHANGE__SERVER__WORKERS".to_owned(), "2".to_owned()),
            ("PGO_EXCHANGE__DATABASE__MAX_CONNECTIONS".to_owned(), "4".to_owned()),
        ];
        environment.extend(settings.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let settings =
            settings::Settings::load_with_environment(file, &overrides, environment.clone()).expect("settings");
        let context = Context::open(settings).await.expect("service opens");
        let demo = demo::seed(&context.store, &context.ingestor, &context.secret, PROVIDER).await.expect("demo seeded");
        seed_other_provider(&context).await;
        let application = Application::build_with_listener(&context, listener).expect("server builds");
        tokio::spawn(application.run());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let config_file = file.map(std::path::Path::to_path_buf);
        TestApp { address, context, client, ingest_key: demo.ingest_key, environment, config_file, database }
    }

    /// Starts another instance of the same deployment, as a load balancer would have beside this
    /// one: the same database, signing key, deployment secret and public URL, its own process
    /// state (caches, revocations known) and port; with `settings` added.
    pub async fn another_instance(&self, settings: &[(&str, &str)]) -> Instance {
        self.another_instance_without(&[], settings).await
    }

    /// As `another_instance`, without the settings named `removed` (a configuration change
    /// rolled out to that instance).
    pub async fn another_instance_without(&self, removed: &[&str], settings: &[(&str, &str)]) -> Instance {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        let overrides = settings::Overrides {
            data_dir: Some(self.context.settings.data_dir.clone()),
            database_url: Some(self.context.settings.database_url()),
            listen: Some("127.0.0.1:0".into()),
            public_url: Some(self.address.clone()),
        };
        let mut environment = self.environment.clone();
        environment.retain(|(name, _)| !removed.contains(&name.as_str()));
        environment.extend(settings.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let settings = settings::Settings::load_with_environment(self.config_file.as_deref(), &overrides, environment)
            .expect("settings");
        let context = Context::open(settings).await.expect("service opens");
        let application = Application::build_with_listener(&context, listener).expect("server builds");
        tokio::spawn(application.run());
        Instance { address: format!("http://127.0.0.1:{port}"), context }
    }

    /// Starts the service in demo mode (the DigiD simulator mounted, the demo's lists) over
    /// `database`, with the test OAuth Client List imported, and `settings`.
    pub async fn start_authorization(database: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
        TestApp::start_authorization_with_config(database, "", settings).await
    }

    /// As `start_authorization`, with a config file holding `config`.
    pub async fn start_authorization_with_config(
        database: TestDatabase,
        config: &str,
        settings: &[(&str, &str)],
    ) -> TestApp {
        let mut all = vec![("PGO_EXCHANGE__DEMO__ENABLED", "true")];
        all.extend_from_slice(settings);
        let app = TestApp::start_with_config(database, config, &all).await;
        authorization::import(&app.context.store, pgo::client_list(2).as_bytes()).await.expect("test client list");
        app
    }

    /// The FHIR base of a provider's data service.
    pub fn base(&self, provider: &str, service: &str) -> String {
        format!("{}/{provider}/{service}/fhir", self.address)
    }

    /// A token for the person with `bsn` at `provider`, granting `services`.
    pub fn token(&self, provider: &str, bsn: &str, services: &[&str]) -> String {
        self.token_with(&self.context.token_issuer(), provider, bsn, services)
    }

    /// A token from a given issuer (another key, another lifetime).
    pub fn token_with(&self, issuer: &TokenIssuer, provider: &str, bsn: &str, services: &[&str]) -> String {
        let scope = services.iter().map(|service| format!("{provider}~{service}")).collect::<Vec<_>>().join(" ");
        let grant = Grant {
            person_key: self.context.secret.person_key(provider, bsn),
            pseudonym: self.context.secret.pseudonym(bsn),
            client_id: "pgo.example.nl".into(),
            provider: provider.into(),
            scope: scope.parse().expect("scope"),
            audience: services.iter().map(|service| self.base(provider, service)).collect(),
            consent: None,
        };
        issuer.issue(&grant).expect("token").token
    }

    /// `GET url` with a bearer token. An answer of a PGO-facing FHIR base is checked for BSNs
    /// on the way (see [`assert_no_bsn`]), so every test that reads as a PGO checks that too.
    pub async fn get(&self, url: &str, token: &str) -> reqwest::Response {
        let response = self.client.get(url).bearer_auth(token).send().await.expect("request");
        if !is_pgo_facing(url) {
            return response;
        }
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.expect("body");
        assert_no_bsn(url, &body);
        let mut rebuilt = http::Response::builder().status(status);
        if let Some(all) = rebuilt.headers_mut() {
            *all = headers;
        }
        reqwest::Response::from(rebuilt.body(body.to_vec()).expect("response"))
    }

    /// The access-log entries of the last hour, once at least `expected` are written (the log is
    /// written in the background).
    pub async fn access_log(&self, expected: usize) -> Vec<store::AccessEntry> {
        let now = fhir_core::date::now_millis();
        for _ in 0..100 {
            let entries =
                self.context.store.usage().access_log_between(now - 3_600_000, now + 60_000, None, 0, 1000).await;
            let entries = entries.expect("the access log reads");
            if entries.len() >= expected {
                return entries.into_iter().map(|(_, entry)| entry).collect();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the access log did not reach {expected} entries");
    }

    /// `GET url` with a bearer token, expecting a 200 JSON answer.
    pub async fn get_json(&self, url: &str, token: &str) -> Value {
        let response = self.get(url, token).await;
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "GET {url} answered {status}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

/// Whether `url` is a PGO-facing FHIR base's (`/{provider}/{service}/fhir/...`), not ingest's.
fn is_pgo_facing(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or_default();
    (path.contains("/fhir/") || path.ends_with("/fhir")) && !path.contains("/ingest/")
}

/// Panics if `body`, an answer to `url`, holds a test record's BSN anywhere, or an identifier of
/// the BSN system with a value (JSON `value`, XML `<value value=...>`): MedMij allows no BSN in
/// anything a PGO receives, the person's own Patient included.
pub fn assert_no_bsn(url: &str, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    for bsn in TEST_BSNS {
        assert!(!text.contains(bsn), "{url}: a test patient's BSN reached the PGO");
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        assert!(!pgo_conformance::content::holds_bsn_value(&json), "{url}: a BSN identifier with a value: {text}");
    }
    // In XML an identifier's value follows its system.
    for (at, _) in text.match_indices(r#"<system value="http://fhir.nl/fhir/NamingSystem/bsn"/>"#) {
        let rest = &text[at..];
        let identifier = &rest[..rest.find("</identifier>").unwrap_or(rest.len())];
        assert!(!identifier.contains("<value value="), "{url}: a BSN identifier with a value: {identifier}");
    }
}

/// The `Type/id` of every entry of a Bundle, sorted.
pub fn entry_ids(bundle: &Value) -> Vec<String> {
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            format!(
                "{}/{}",
                entry["resource"]["resourceType"].as_str().unwrap_or("?"),
                entry["resource"]["id"].as_str().unwrap_or("?")
            )
        })
        .collect();
    ids.sort();
    ids
}

/// The project's own fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../services/demo/fixtures")
}

async fn seed_other_provider(context: &Context) {
    let new = NewProvider {
        name: OTHER_PROVIDER.into(),
        display_name: "Ander Ziekenhuis".into(),
        data_services: vec!["48".into(), "63".into()],
    };
    let provider = context.store.create_provider(&new, None).await.expect("provider");
    for release in Release::ALL {
        let writes: Vec<Write> = demo::fixtures(release)
            .iter()
            .map(|(_, text)| {
                let resource: Value = serde_json::from_str(text).expect("fixture");
                Write::Put(Box::new(
                    context.ingestor.prepare_by_id(&provider, release, resource, None).expect("valid fixture").write,
                ))
            })
            .collect();
        context.store.write(provider.id, writes).await.expect("stored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "a BSN identifier with a value")]
    fn a_bsn_identifier_with_a_value_in_json_is_caught() {
        assert_no_bsn(
            "x/fhir/Patient",
            br#"{"identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "100000009"}]}"#,
        );
    }

    #[test]
    #[should_panic(expected = "a BSN identifier with a value")]
    fn a_bsn_identifier_with_a_value_in_xml_is_caught() {
        assert_no_bsn(
            "x/fhir/Patient",
            br#"<Patient><identifier><system value="http://fhir.nl/fhir/NamingSystem/bsn"/><value value="100000009"/></identifier></Patient>"#,
        );
    }

    #[test]
    #[should_panic(expected = "a test patient's BSN")]
    fn a_test_patients_bsn_anywhere_is_caught() {
        assert_no_bsn("x/fhir/Observation", format!("<div>{ANNA}</div>").as_bytes());
    }

    #[test]
    fn masked_identifiers_pass() {
        assert_no_bsn(
            "x/fhir/Patient",
            br#"<Patient><identifier><system value="http://fhir.nl/fhir/NamingSystem/bsn"/><value><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason"><valueCode value="masked"/></extension></value></identifier></Patient>"#,
        );
    }
}
