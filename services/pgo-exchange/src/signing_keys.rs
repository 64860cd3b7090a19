//! The deployment's signing keys, kept in the database so that every instance signs with the same
//! key and verifies what any other signed: sealed under the deployment secret (an instance with
//! another secret cannot open them and refuses to start), the newest key not retired signs, and a
//! retired key verifies until the tokens it signed have expired. A rotation adds a key and
//! retires the others; every instance hears of it (`store::Change::SigningKeys`) and reloads.
//!
//! Where the first key comes from: the operator's key file (`tokens.signing_key_file`), which is
//! added and signs from then on; else a key file an earlier version left in the data folder; else
//! a new random key.

use access_token::{KeyRing, SigningKey};
use anyhow::{Context as _, bail};
use identity::{DeploymentSecret, Seal};
use settings::Settings;
use std::time::Duration;
use store::{Store, StoredKey};

/// How long after its retirement a key still verifies, beyond the token lifetime: room for an
/// instance that signed with it before it heard of the rotation, and for clocks that differ.
const RETIRED_MARGIN: Duration = Duration::from_secs(120);

/// The deployment's keys as this instance opens them.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    store: Store,
    seal: std::sync::Arc<Seal>,
    token_lifetime: Duration,
    ring: KeyRing,
}

impl SigningKeys {
    /// Opens the keys of the deployment, adding the first one if there is none (or the operator's
    /// key file, if configured and not held yet).
    pub async fn open(store: &Store, secret: &DeploymentSecret, settings: &Settings) -> anyhow::Result<SigningKeys> {
        let seal = std::sync::Arc::new(secret.signing_key_seal().context("deriving the signing-key seal")?);
        let token_lifetime = Duration::from_secs(settings.tokens.lifetime_seconds);
        let operator_file = !settings.tokens.signing_key_file.as_os_str().is_empty();
        if operator_file {
            let path = settings.signing_key_path();
            let key = SigningKey::load_or_create(&path)?;
            if add(store, &seal, &key, true).await? {
                tracing::info!(kid = key.kid(), file = %path.display(), "signing key from the configured file added; it signs from now on");
            }
        } else if store.signing_keys().await?.is_empty() {
            // A key an earlier version kept in the data folder goes on signing, so that tokens it
            // issued stay valid across the upgrade.
            let legacy = settings.signing_key_path();
            let (key, origin) = if legacy.exists() {
                (SigningKey::load_or_create(&legacy)?, "the data folder")
            } else {
                (SigningKey::generate()?, "generated")
            };
            if add(store, &seal, &key, false).await? {
                tracing::info!(kid = key.kid(), origin, "first signing key of the deployment added");
            }
        }
        let (signing, verifying) = current(store, &seal, token_lifetime).await?;
        let ring = KeyRing::new(signing, &verifying);
        Ok(SigningKeys { store: store.clone(), seal, token_lifetime, ring })
    }

    /// The ring the issuer, verifiers and JWKS share.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Reads the keys again (after a change, or to let a retired key go).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let (signing, verifying) = current(&self.store, &self.seal, self.token_lifetime).await?;
        self.ring.replace(signing, &verifying);
        Ok(())
    }

    /// Adds a new random key that signs from now on and retires the others; gives its id.
    pub async fn rotate(&self) -> anyhow::Result<String> {
        let key = SigningKey::generate()?;
        add(&self.store, &self.seal, &key, true).await?;
        self.reload().await?;
        Ok(key.kid().to_owned())
    }

    /// Every key the deployment ever signed with, as a JWK Set (to verify old signed reports).
    pub async fn every_public_key(&self) -> anyhow::Result<serde_json::Value> {
        let keys: Vec<serde_json::Value> = self
            .store
            .signing_keys()
            .await?
            .iter()
            .map(|stored| open(&self.seal, stored).map(|key| key.public_jwk()))
            .collect::<anyhow::Result<_>>()?;
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// The keys held, oldest first: id, when added, when retired.
    pub async fn list(&self) -> anyhow::Result<Vec<StoredKey>> {
        Ok(self.store.signing_keys().await?)
    }
}

/// Stores `key` sealed; with `retire_others` it signs from now on. Whether it was new.
async fn add(store: &Store, seal: &Seal, key: &SigningKey, retire_others: bool) -> anyhow::Result<bool> {
    let sealed_key = seal.seal_bytes(key.pkcs8_der()).context("sealing the signing key")?;
    let stored = StoredKey {
        kid: key.kid().to_owned(),
        sealed_key,
        created_at: fhir_core::date::now_millis(),
        retired_at: None,
    };
    Ok(store.add_signing_key(&stored, retire_others).await?)
}

/// The key that signs (the newest not retired) and those that verify (besides it, the ones retired
/// less than a token lifetime and a margin ago).
async fn current(
    store: &Store,
    seal: &Seal,
    token_lifetime: Duration,
) -> anyhow::Result<(SigningKey, Vec<SigningKey>)> {
    let stored = store.signing_keys().await?;
    let now = fhir_core::date::now_millis();
    let reach = i64::try_from((token_lifetime + RETIRED_MARGIN).as_millis()).unwrap_or(i64::MAX);
    let signing = stored.iter().rev().find(|key| key.retired_at.is_none());
    let Some(signing) = signing else { bail!("the database holds no signing key that may sign") };
    let verifying = stored
        .iter()
        .filter(|key| key.retired_at.is_some_and(|retired| retired.saturating_add(reach) > now))
        .map(|key| open(seal, key))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((open(seal, signing)?, verifying))
}

fn open(seal: &Seal, stored: &StoredKey) -> anyhow::Result<SigningKey> {
    let der = seal.open_bytes(&stored.sealed_key).map_err(|_| {
        anyhow::anyhow!(
            "signing key {} does not open with this deployment secret: every instance of a deployment needs the \
             same secrets.deployment_secret",
            stored.kid
        )
    })?;
    SigningKey::from_pkcs8_der(&der).with_context(|| format!("signing key {} is not an ES256 key", stored.kid))
}
