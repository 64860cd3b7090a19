//! What the token workload needs in the store before the service starts: the benchmark's PGO on
//! an imported OAuth Client List, and consents with fresh authorization codes, stored exactly as
//! the consent page stores them (`Store::grant_consent`), for the synthetic patients.

use crate::driver::PROVIDER;
use anyhow::Context as _;
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::{StreamExt, TryStreamExt};
use pgo_exchange::Context;
use store::{NewCode, NewConsent};

/// The benchmark's PGO (its hostname is its `client_id`).
pub(crate) const CLIENT_ID: &str = "bench.pgo.example";
/// The redirect URI of its authorization requests; the token request repeats it.
pub(crate) const REDIRECT_URI: &str = "https://bench.pgo.example/callback";
/// Consents stored at once while preparing (the store's pool has 16 connections).
const PREPARING_AT_ONCE: usize = 16;

/// An authorization code as the PGO holds it, with its PKCE verifier.
#[derive(Debug, Clone)]
pub(crate) struct PreparedCode {
    pub(crate) code: String,
    pub(crate) verifier: String,
}

/// Imports an OAuth Client List naming the benchmark's PGO, as `pgo-exchange lists import` does:
/// the token endpoint refuses clients that are not on the list.
pub(crate) async fn import_client_list(context: &Context) -> anyhow::Result<()> {
    use medmij_lists::{ListHeader, ListShape, OAuthClient, OAuthClientList, write_oauth_client_list};
    let list = OAuthClientList {
        header: ListHeader { tijdstempel: "2026-11-01T00:00:00Z".into(), volgnummer: 1 },
        clients: vec![OAuthClient {
            hostname: CLIENT_ID.into(),
            organisation_name: "Benchmark PGO".into(),
            data_services: Some(vec!["48".into()]),
        }],
    };
    let xml = write_oauth_client_list(&list, ListShape::Newer);
    authorization::import(&context.store, xml.as_bytes()).await.context("importing the benchmark's client list")?;
    Ok(())
}

/// Stores `count` consents to data service 48 of the benchmark provider, each with a new code
/// (with a PKCE challenge) valid for the configured code lifetime, for the synthetic patients in
/// turn.
pub(crate) async fn prepare_codes(
    context: &Context,
    count: usize,
    patients: usize,
) -> anyhow::Result<Vec<PreparedCode>> {
    let provider_id = context.provider(PROVIDER).await?.id;
    let settings = &context.settings.authorization;
    let code_lifetime = millis(settings.code_lifetime_seconds);
    let consent_lifetime = millis(settings.refresh_token_lifetime_seconds);
    futures::stream::iter(0..count)
        .map(|index| async move {
            let bsn = crate::generate::bsn(index % patients.max(1));
            let prepared = PreparedCode { code: secret()?, verifier: secret()? };
            let now = now_millis();
            let consent = NewConsent {
                provider: provider_id,
                client_id: CLIENT_ID.into(),
                person_key: context.secret.person_key(PROVIDER, &bsn),
                pseudonym: context.secret.pseudonym(&bsn),
                scope: format!("{PROVIDER}~48"),
                expires_at: now + consent_lifetime,
                sharing: false,
            };
            let code = NewCode {
                code_hash: stored_hash(&prepared.code),
                redirect_uri: REDIRECT_URI.into(),
                code_challenge: Some(stored_hash(&prepared.verifier)),
                expires_at: now + code_lifetime,
            };
            context.store.grants().grant_consent(&consent, &code, now).await?;
            if (index + 1) % 10_000 == 0 {
                eprint!("\r  prepared {}/{count} codes", index + 1);
            }
            anyhow::Ok(prepared)
        })
        .buffered(PREPARING_AT_ONCE)
        .try_collect::<Vec<_>>()
        .await
        .inspect(|_| eprintln!())
}

/// 32 random bytes, base64url: the shape of the service's codes, and a valid PKCE verifier.
fn secret() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store holds in place of a secret (and the PKCE S256 challenge of a verifier):
/// base64url of its SHA-256.
fn stored_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

fn millis(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636 Appendix B.
        assert_eq!(
            stored_hash("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_are_fresh_verifiers() {
        let (a, b) = (secret().unwrap(), secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "RFC 7636 asks 43 to 128 characters of a verifier");
    }
}
