use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const ISSUER: &str = "https://pgo-exchange.example";

fn seal() -> std::sync::Arc<identity::PseudonymSeal> {
    let secret = identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([5_u8; 32]))
        .expect("secret");
    std::sync::Arc::new(secret.pseudonym_seal().expect("seal"))
}

fn grant() -> Grant {
    Grant {
        person_key: "opaque-person-key".into(),
        pseudonym: "the-pseudonym".into(),
        client_id: "pgo.example.nl".into(),
        provider: "umcx".into(),
        scope: "umcx~48 umcx~63".parse().expect("scope"),
        audience: vec![
            "https://pgo-exchange.example/umcx/48/fhir".into(),
            "https://pgo-exchange.example/umcx/63/fhir".into(),
        ],
        consent: Some("consent-handle".into()),
    }
}

#[test]
fn issued_tokens_verify_and_carry_the_grant() {
    let key = SigningKey::generate().expect("key");
    let issued =
        TokenIssuer::new(key.clone(), ISSUER, DEFAULT_LIFETIME_SECONDS, seal()).issue(&grant()).expect("issued");
    assert_eq!(issued.expires_in, 900);
    let claims = TokenVerifier::new(&[key], ISSUER, 900).verify(&issued.token).expect("verifies");
    assert_eq!(claims.scope, "umcx~48 umcx~63");
    assert!(!claims.psn.contains("the-pseudonym"), "the pseudonym travels sealed");
    assert_eq!(seal().open(&claims.psn).expect("opens"), "the-pseudonym");
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(claims.is_for("https://pgo-exchange.example/umcx/48/fhir"));
    assert!(!claims.is_for("https://pgo-exchange.example/umcy/48/fhir"));
    let header = jsonwebtoken::decode_header(&issued.token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
}

#[test]
fn another_key_or_issuer_is_refused() {
    let key = SigningKey::generate().expect("key");
    let forger = SigningKey::generate().expect("key");
    let forged = TokenIssuer::new(forger, ISSUER, 900, seal()).issue(&grant()).expect("issued");
    assert_eq!(
        TokenVerifier::new(std::slice::from_ref(&key), ISSUER, 900).verify(&forged.token),
        Err(TokenError::UnknownKey)
    );
    let elsewhere = TokenIssuer::new(key.clone(), "https://evil.example", 900, seal()).issue(&grant()).expect("issued");
    assert_eq!(TokenVerifier::new(&[key], ISSUER, 900).verify(&elsewhere.token), Err(TokenError::WrongIssuer));
}

#[test]
fn a_forged_kid_with_a_foreign_signature_fails_the_signature() {
    let key = SigningKey::generate().expect("key");
    let forger = SigningKey::generate().expect("key");
    let real = TokenIssuer::new(key.clone(), ISSUER, 900, seal()).issue(&grant()).expect("issued");
    let forged = TokenIssuer::new(forger, ISSUER, 900, seal()).issue(&grant()).expect("issued");
    // The real header and claims with the forger's signature.
    let mut parts: Vec<&str> = real.token.split('.').collect();
    let forged_signature = forged.token.rsplit('.').next().unwrap_or_default();
    parts[2] = forged_signature;
    assert_eq!(TokenVerifier::new(&[key], ISSUER, 900).verify(&parts.join(".")), Err(TokenError::BadSignature));
}

#[test]
fn tampered_claims_fail() {
    let key = SigningKey::generate().expect("key");
    let issued = TokenIssuer::new(key.clone(), ISSUER, 900, seal()).issue(&grant()).expect("issued");
    let parts: Vec<&str> = issued.token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    claims["sub"] = serde_json::json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_eq!(TokenVerifier::new(&[key], ISSUER, 900).verify(&tampered), Err(TokenError::BadSignature));
}

#[test]
fn expired_tokens_fail() {
    let key = SigningKey::generate().expect("key");
    let issuer = TokenIssuer::new(key.clone(), ISSUER, 0, seal());
    let issued = issuer.issue(&grant()).expect("issued");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(TokenVerifier::new(&[key], ISSUER, 900).verify(&issued.token), Err(TokenError::Expired));
}

#[test]
fn unsigned_and_garbage_tokens_fail() {
    let key = SigningKey::generate().expect("key");
    let verifier = TokenVerifier::new(&[key], ISSUER, 900);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#);
    assert!(verifier.verify(&format!("{none_header}.{claims}.")).is_err());
    assert!(verifier.verify("not-a-token").is_err());
    assert!(verifier.verify("").is_err());
}

#[test]
fn keys_survive_a_round_trip_through_pem_and_disk() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("keys/signing-key.pem");
    let created = SigningKey::load_or_create(&path).expect("created");
    let loaded = SigningKey::load_or_create(&path).expect("loaded");
    assert_eq!(created.kid(), loaded.kid());
    assert_eq!(created.public_jwk(), loaded.public_jwk());
    assert_eq!(created.kid().len(), 43);
    std::fs::write(dir.path().join("bad.pem"), "nonsense").expect("write");
    assert!(SigningKey::load_or_create(&dir.path().join("bad.pem")).is_err());
}

#[test]
fn scopes_follow_the_medmij_syntax() {
    let scope: Scope = "umcx~48 umcx~63 umcx~48".parse().expect("scope");
    assert_eq!(scope.data_services, ["48", "63"]);
    assert_eq!(scope.to_string(), "umcx~48 umcx~63");
    assert!(matches!("umcx~48 umcy~49".parse::<Scope>(), Err(ScopeError::SeveralProviders(..))));
    for bad in ["", "umcx", "umcx~", "~48", "UMCX~48", "umcx~4a", "umcx@medmij~48"] {
        assert!(bad.parse::<Scope>().is_err(), "{bad}");
    }
}

#[test]
fn auditor_tokens_open_only_the_audit_api_and_pgo_tokens_are_not_auditor_tokens() {
    let key = SigningKey::generate().expect("key");
    let issuer = TokenIssuer::new(key.clone(), ISSUER, 900, seal());
    let verifier = TokenVerifier::new(std::slice::from_ref(&key), ISSUER, 900);
    let audit = "https://pgo-exchange.example/audit";
    let (token, claims) = issuer.issue_auditor("auditor.example", audit).expect("issued");
    assert_eq!(claims.role, AUDITOR_ROLE);
    assert_eq!(verifier.verify_auditor(&token, audit).expect("verifies").sub, "auditor.example");
    assert!(verifier.verify_auditor(&token, "https://pgo-exchange.example/elsewhere").is_err());
    assert!(verifier.verify(&token).is_err(), "an auditor's token is no PGO token");
    let pgo = issuer.issue(&grant()).expect("issued");
    assert!(verifier.verify_auditor(&pgo.token, audit).is_err(), "a PGO's token is no auditor token");
    let forged = TokenIssuer::new(SigningKey::generate().expect("key"), ISSUER, 900, seal())
        .issue_auditor("auditor.example", audit)
        .expect("issued");
    assert_eq!(verifier.verify_auditor(&forged.0, audit), Err(TokenError::UnknownKey));
}

/// `token` with its claims changed by `change` and signed again with `key`: what someone holding
/// the service's key could make.
fn re_signed(key: &SigningKey, token: &str, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    change(&mut claims);
    let header = jsonwebtoken::decode_header(token).expect("header");
    jsonwebtoken::encode(&header, &claims, key.encoding_key()).expect("signed")
}

#[test]
fn time_claims_in_the_future_or_lifetimes_longer_than_issued_are_refused() {
    let key = SigningKey::generate().expect("key");
    let issuer = TokenIssuer::new(key.clone(), ISSUER, 900, seal());
    let verifier = TokenVerifier::new(std::slice::from_ref(&key), ISSUER, 900);
    let token = issuer.issue(&grant()).expect("issued").token;
    let now = unix_now();
    let hour = 3600;
    type Change<'a> = Box<dyn FnOnce(&mut serde_json::Value) + 'a>;
    let cases: [(&str, Change<'_>, TokenError); 5] = [
        ("nbf an hour ahead", Box::new(|claims| claims["nbf"] = (now + hour).into()), TokenError::NotYetValid),
        (
            "iat an hour ahead",
            Box::new(|claims| {
                claims["iat"] = (now + hour).into();
                claims["exp"] = (now + hour + 900).into();
            }),
            TokenError::NotYetValid,
        ),
        (
            "exp a year away",
            Box::new(|claims| claims["exp"] = (now + 365 * 86_400).into()),
            TokenError::LifetimeTooLong,
        ),
        (
            "one second longer than issued",
            Box::new(|claims| claims["exp"] = (now + 901).into()),
            TokenError::LifetimeTooLong,
        ),
        (
            "exp before iat",
            Box::new(|claims| {
                claims["iat"] = (now + 30).into();
                claims["exp"] = (now + 10).into();
            }),
            TokenError::LifetimeTooLong,
        ),
    ];
    for (case, change, refusal) in cases {
        assert_eq!(verifier.verify(&re_signed(&key, &token, change)), Err(refusal), "{case}");
    }
    // Within the skew, and with an nbf now: accepted.
    let skewed = re_signed(&key, &token, |claims| {
        claims["iat"] = (now + CLOCK_SKEW_SECONDS - 5).into();
        claims["nbf"] = now.into();
        claims["exp"] = (now + CLOCK_SKEW_SECONDS - 5 + 900).into();
    });
    assert!(verifier.verify(&skewed).is_ok());
    // A verifier of a shorter configured lifetime refuses the 900-second token.
    let strict = TokenVerifier::new(std::slice::from_ref(&key), ISSUER, 300);
    assert_eq!(strict.verify(&token), Err(TokenError::LifetimeTooLong));
}

#[test]
fn auditor_tokens_are_held_to_the_same_time_claims() {
    let key = SigningKey::generate().expect("key");
    let issuer = TokenIssuer::new(key.clone(), ISSUER, 900, seal());
    let verifier = TokenVerifier::new(std::slice::from_ref(&key), ISSUER, 900);
    let audit = "https://pgo-exchange.example/audit";
    let (token, _) = issuer.issue_auditor("auditor.example", audit).expect("issued");
    let now = unix_now();
    let future = re_signed(&key, &token, |claims| claims["nbf"] = (now + 3600).into());
    assert_eq!(verifier.verify_auditor(&future, audit), Err(TokenError::NotYetValid));
    let long = re_signed(&key, &token, |claims| claims["exp"] = (now + 365 * 86_400).into());
    assert_eq!(verifier.verify_auditor(&long, audit), Err(TokenError::LifetimeTooLong));
    assert!(verifier.verify_auditor(&token, audit).is_ok());
}
