//! Tests of the configuration checks and the simulator's own values.

use super::*;

fn config() -> SimulatorConfig {
    SimulatorConfig {
        issuer: "http://127.0.0.1:8080/digid-sim".to_owned(),
        clients: vec![SimClient {
            client_id: "pgo.example".to_owned(),
            client_secret: "secret".to_owned(),
            redirect_uris: vec!["http://127.0.0.1:8080/callback".to_owned()],
        }],
        bsn_in_id_token: false,
        fault: None,
    }
}

#[test]
fn a_sound_configuration_is_accepted() {
    let sim = Simulator::new(config()).unwrap();
    assert_eq!(sim.issuer(), "http://127.0.0.1:8080/digid-sim");
    assert_eq!(sim.jwks()["keys"][0]["kid"], sim.kid());
}

#[test]
fn issuers_with_a_trailing_slash_query_or_other_scheme_are_refused() {
    for issuer in ["http://127.0.0.1:8080/digid-sim/", "http://h/x?a=b", "http://h/x#f", "ftp://h/x", "not a url"] {
        let result = Simulator::new(SimulatorConfig { issuer: issuer.to_owned(), ..config() });
        assert!(matches!(result, Err(SimulatorError::InvalidIssuer(_))), "{issuer}");
    }
}

#[test]
fn unusable_clients_are_refused() {
    let mut twice = config();
    twice.clients.push(twice.clients[0].clone());
    assert!(matches!(Simulator::new(twice), Err(SimulatorError::DuplicateClient(_))));

    let mut fragment = config();
    fragment.clients[0].redirect_uris = vec!["https://pgo.example/cb#x".to_owned()];
    assert!(matches!(Simulator::new(fragment), Err(SimulatorError::InvalidClient { .. })));

    let mut no_secret = config();
    no_secret.clients[0].client_secret.clear();
    assert!(matches!(Simulator::new(no_secret), Err(SimulatorError::InvalidClient { .. })));
}

#[test]
fn the_subject_is_stable_and_does_not_show_the_bsn() {
    let sim = Simulator::new(config()).unwrap();
    let sub = sim.subject("999911120");
    assert_eq!(sub, sim.subject("999911120"));
    assert_ne!(sub, sim.subject("999911284"));
    assert!(!sub.contains("999911120"));
    assert_ne!(sub, Simulator::new(config()).unwrap().subject("999911120"), "a new key gives new subjects");
}

#[test]
fn a_pem_key_keeps_kid_and_subjects() {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use base64::engine::general_purpose::STANDARD;
    let der =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &aws_lc_rs::rand::SystemRandom::new()).unwrap();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(der.as_ref()));
    let pem = pem.as_str();
    let first = Simulator::with_key_pem(config(), pem).unwrap();
    let again = Simulator::with_key_pem(config(), pem).unwrap();
    assert_eq!(first.kid(), again.kid());
    assert_eq!(first.subject("999911120"), again.subject("999911120"));
    assert!(matches!(Simulator::with_key_pem(config(), "junk"), Err(SimulatorError::Key(_))));
}

#[test]
fn faults_parse_from_their_names() {
    for fault in Fault::ALL {
        assert_eq!(fault.name().parse::<Fault>().unwrap(), fault);
    }
    assert!("bad_signature".parse::<Fault>().is_err());
}

#[test]
fn the_configuration_reads_from_json() {
    let config: SimulatorConfig = serde_json::from_value(serde_json::json!({
        "issuer": "https://example.org/digid-sim",
        "clients": [{"client_id": "a", "client_secret": "b", "redirect_uris": ["https://a/cb"]}],
        "fault": "wrong-nonce"
    }))
    .unwrap();
    assert_eq!(config.fault, Some(Fault::WrongNonce));
    assert!(!config.bsn_in_id_token);
    assert!(!format!("{config:?}").contains("\"b\""), "the secret stays out of Debug output");
}
