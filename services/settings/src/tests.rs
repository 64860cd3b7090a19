//! The settings' sources in their order, the examples shipped, and the checks at start-up.

use super::*;
use secrecy::ExposeSecret;

fn load(file: Option<&str>, environment: &[(&str, &str)], overrides: Overrides) -> Result<Settings, SettingsError> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).expect("write");
    }
    let environment = environment.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    Settings::load_with_environment(file.map(|_| path.as_path()), &overrides, environment)
}

#[test]
fn the_defaults_give_sqlite_in_the_data_folder() {
    let settings = load(None, &[], Overrides::default()).expect("defaults load");
    assert_eq!(settings.database_url(), "sqlite://data/pgo-exchange.db?mode=rwc");
    assert_eq!(settings.signing_key_path(), PathBuf::from("data/keys/signing-key.pem"));
    assert_eq!(settings.tokens.lifetime_seconds, 900);
    assert!(settings.providers.is_empty());
}

#[test]
fn file_then_environment_then_overrides() {
    let file = "[server]\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://file.example/\"\n\
                [[providers]]\nname = \"umcx\"\ndisplay_name = \"UMC X\"\ndata_services = [\"48\"]\ningest_key = \"k\"\n";
    let environment =
        [("PGO_EXCHANGE__SERVER__PUBLIC_URL", "https://env.example"), ("PGO_EXCHANGE__DATABASE__MAX_CONNECTIONS", "3")];
    let settings = load(Some(file), &environment, Overrides::default()).expect("loads");
    assert_eq!(settings.server.listen, "0.0.0.0:9000");
    assert_eq!(settings.server.public_url, "https://env.example");
    assert_eq!(settings.database.max_connections, 3);
    assert_eq!(
        settings.providers[0].ingest_key.as_ref().map(|key| key.expose_secret().to_owned()),
        Some("k".to_owned())
    );
    let overrides = Overrides {
        public_url: Some("https://cli.example".into()),
        database_url: Some("postgres://db/x".into()),
        ..Overrides::default()
    };
    let settings = load(Some(file), &environment, overrides).expect("loads");
    assert_eq!(settings.server.public_url, "https://cli.example");
    assert_eq!(settings.database_url(), "postgres://db/x");
}

#[test]
fn the_production_example_loads() {
    let example = include_str!("../../../infra/config/example.toml");
    let settings = load(Some(example), &[], Overrides::default()).expect("the example is valid");
    assert_eq!(settings.authorization.client_authentication, ClientAuthentication::TrustedProxy);
    assert!(!settings.development());
    assert_eq!(settings.lists.files.len(), 3);
}

#[test]
fn mutual_tls_needs_its_files_and_https() {
    let error = load(Some("[authorization]\nclient_authentication = \"mtls\"\n"), &[], Overrides::default())
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("tls.certificate_file") && error.contains("https"), "{error}");
    let error = load(Some("[authorization]\ndefault_loa = \"medium\"\n"), &[], Overrides::default());
    assert!(error.is_err());
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    assert!(matches!(
        load(Some("[server]\nlisen = \"x\"\n"), &[], Overrides::default()),
        Err(SettingsError::Config(_))
    ));
    assert!(matches!(
        load(None, &[("PGO_EXCHANGE__SEARCH__TIMEZONE", "Mars/Olympus")], Overrides::default()),
        Err(SettingsError::Invalid(_))
    ));
    let error = load(None, &[], Overrides { listen: Some("nonsense".into()), ..Overrides::default() })
        .err()
        .map(|e| e.to_string());
    assert!(error.is_some_and(|message| message.contains("server.listen")));
    assert!(load(Some("[validation]\nunknown_elements = \"ignore\"\n"), &[], Overrides::default()).is_err());
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let settings =
        load(None, &[("PGO_EXCHANGE__SECRETS__DEPLOYMENT_SECRET", "c2VjcmV0")], Overrides::default()).expect("loads");
    assert!(!format!("{settings:?}").contains("c2VjcmV0"));
}

#[test]
fn listening_elsewhere_moves_the_default_public_url_along() {
    let listen = |listen: &str| Overrides { listen: Some(listen.into()), ..Overrides::default() };
    let moved = load(None, &[], listen("127.0.0.1:9090")).expect("loads");
    assert_eq!(moved.server.public_url, "http://127.0.0.1:9090");
    let everywhere = load(None, &[], listen("0.0.0.0:9090")).expect("loads");
    assert_eq!(everywhere.server.public_url, "http://127.0.0.1:9090");
    // A free port is known only once bound; a public URL set anywhere stays as set.
    assert_eq!(load(None, &[], listen("127.0.0.1:0")).expect("loads").server.public_url, DEFAULT_PUBLIC_URL);
    let set = load(None, &[("PGO_EXCHANGE__SERVER__PUBLIC_URL", "https://dva.example")], listen("0.0.0.0:9090"));
    assert_eq!(set.expect("loads").server.public_url, "https://dva.example");
    let defaults = load(None, &[], Overrides::default()).expect("defaults load");
    assert_eq!(defaults.server.public_url, DEFAULT_PUBLIC_URL, "the constant follows defaults.toml");
}

#[test]
fn profile_packages_come_from_a_list_or_a_comma_separated_variable() {
    let settings = load(Some("[validation.packages]\nstu3 = [\"a\", \"b\"]\n"), &[], Overrides::default()).unwrap();
    assert_eq!(settings.validation.packages.stu3, [PathBuf::from("a"), PathBuf::from("b")]);
    assert_eq!(settings.validation.profiles, ProfilePolicy::Reject, "rejecting is the default");
    let settings = load(None, &[("PGO_EXCHANGE__VALIDATION__PACKAGES__R4", "x, y")], Overrides::default()).unwrap();
    assert_eq!(settings.validation.packages.r4, [PathBuf::from("x"), PathBuf::from("y")]);
    assert!(settings.validation.packages.stu3.is_empty());
    assert!(load(Some("[validation]\nprofiles = \"ignore\"\n"), &[], Overrides::default()).is_err());
}

#[test]
fn list_files_come_from_a_list_or_a_comma_separated_variable() {
    let settings = load(Some("[lists]\nfiles = [\"ocl.xml\"]\n"), &[], Overrides::default()).unwrap();
    assert_eq!(settings.lists.files, [PathBuf::from("ocl.xml")]);
    let variable = [("PGO_EXCHANGE__LISTS__FILES", "/lists/ocl.xml,/lists/names.xml")];
    let settings = load(None, &variable, Overrides::default()).unwrap();
    assert_eq!(settings.lists.files, [PathBuf::from("/lists/ocl.xml"), PathBuf::from("/lists/names.xml")]);
    assert!(load(None, &[], Overrides::default()).unwrap().lists.files.is_empty());
}
