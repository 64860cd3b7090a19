//! Everything the service and its commands share, opened from the settings: the definitions, the
//! store (migrated), the deployment secret, the signing key, ingest and token issuing. Providers
//! declared in the configuration are written to the store here.

use crate::signing_keys::SigningKeys;
use access_token::{SigningKey, TokenIssuer, TokenVerifier};
use anyhow::{Context as _, bail};
use data_services::Catalog;
use identity::{DeploymentSecret, PseudonymSeal};
use ingest::{Ingestor, UnknownElements};
use secrecy::ExposeSecret;
use settings::{Settings, UnknownElementsPolicy};
use std::sync::Arc;
use store::{NewProvider, Store};

/// Where the demo mounts the DigiD simulator.
pub const SIMULATOR_PATH: &str = "/digid-sim";
/// The demo auditor's client id.
pub const DEMO_AUDITOR: &str = "demo-auditor";
/// The service's client id at the demo's DigiD simulator.
pub const SIMULATOR_CLIENT_ID: &str = "pgo-exchange";

/// The opened service.
#[derive(Debug, Clone)]
pub struct Context {
    /// The settings it was opened with.
    pub settings: Settings,
    /// The store, migrated.
    pub store: Store,
    /// The definitions.
    pub catalog: Arc<Catalog>,
    /// The deployment secret.
    pub secret: Arc<DeploymentSecret>,
    /// Seals pseudonyms into access tokens (a key derived from the secret).
    pub seal: Arc<PseudonymSeal>,
    /// The deployment's signing keys (shared through the database).
    pub signing_keys: SigningKeys,
    /// Ingest.
    pub ingestor: Ingestor,
    /// The meter of successful exchanges (one per process: it remembers who is counted).
    pub meter: Arc<metering::Meter>,
    /// The consents revoked while tokens given under them may live, known to this process (one
    /// per process, shared by the authorization and resource servers).
    pub revocations: Arc<access_token::Revocations>,
    /// Where the next look for other instances' revocations starts (ms).
    pub revocations_since: i64,
}

impl Context {
    /// Opens everything `settings` names, creating the database, key and secret on first use.
    pub async fn open(settings: Settings) -> anyhow::Result<Context> {
        let catalog = match settings.definitions_dir() {
            Some(dir) => Catalog::from_dir(dir),
            None => Catalog::embedded(),
        }
        .context("loading the data-service definitions")?;
        let database_url = settings.database_url();
        if database_url.starts_with("sqlite:") {
            identity::create_private_folder(&settings.data_dir)
                .with_context(|| format!("creating the data folder {}", settings.data_dir.display()))?;
        }
        let statement_timeout = std::time::Duration::from_millis(settings.database.statement_timeout_ms);
        let store =
            Store::connect_with(&database_url, settings.database.max_connections, Some(statement_timeout)).await?;
        store.keep_collections(settings.database.collection_cache_mib.saturating_mul(1024 * 1024));
        store.migrate().await?;
        let masked = ingest::served::backfill(&store).await.context("masking the BSNs of stored resources")?;
        if masked > 0 {
            tracing::info!(masked, "stored resources holding a BSN got a served body without it");
        }
        let reindexed = store
            .reindex_if_needed(&catalog, settings.timezone())
            .await
            .context("indexing the stored resources under the search definitions")?;
        if reindexed > 0 {
            tracing::info!(reindexed, "stored resources were indexed again");
        }
        let secret = if settings.secrets.deployment_secret.expose_secret().is_empty() {
            DeploymentSecret::load_or_create(&settings.deployment_secret_path())?
        } else {
            DeploymentSecret::from_base64(settings.secrets.deployment_secret.expose_secret())?
        };
        let secret = Arc::new(secret);
        let seal = Arc::new(secret.pseudonym_seal().context("deriving the pseudonym seal")?);
        let signing_keys = SigningKeys::open(&store, &secret, &settings).await?;
        let unknown_elements = match settings.validation.unknown_elements {
            UnknownElementsPolicy::Warn => UnknownElements::Warn,
            UnknownElementsPolicy::Reject => UnknownElements::Reject,
        };
        let catalog = Arc::new(catalog);
        let profiles = Arc::new(crate::profiles::load(&settings.validation)?);
        let ingestor = Ingestor::new(catalog.clone(), secret.clone(), settings.timezone(), unknown_elements)
            .with_public_url(&settings.server.public_url)
            .with_profile_validation(profiles);
        let meter =
            Arc::new(metering::Meter::new(store.clone(), settings.timezone(), settings.metering.known_capacity));
        // Every revocation a token still alive could have been given under, before serving.
        let lifetime = std::time::Duration::from_secs(settings.tokens.lifetime_seconds);
        let revocations = Arc::new(access_token::Revocations::new(lifetime));
        let reach_back = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX).saturating_add(60_000);
        let revocations_since = authorization::revocation_watch::catch_up(
            &store,
            &revocations,
            fhir_core::date::now_millis().saturating_sub(reach_back),
        )
        .await?;
        let context = Context {
            settings,
            store,
            catalog,
            secret,
            seal,
            signing_keys,
            ingestor,
            meter,
            revocations,
            revocations_since,
        };
        context.sync_configured_providers().await?;
        context.import_configured_lists().await?;
        Ok(context)
    }

    /// Imports the list files of the configuration and, in demo mode, the demo's lists. A list not
    /// newer than the one held is skipped (start-up must not fail because a list was imported
    /// before).
    async fn import_configured_lists(&self) -> anyhow::Result<()> {
        let mut lists: Vec<(String, Vec<u8>)> = Vec::new();
        if self.settings.demo.enabled {
            lists.extend(demo::lists(&self.catalog).into_iter().map(|xml| ("demo list".to_owned(), xml.into_bytes())));
        }
        for path in &self.settings.lists.files {
            let bytes = std::fs::read(path).with_context(|| format!("reading the list {}", path.display()))?;
            lists.push((path.display().to_string(), bytes));
        }
        for (name, bytes) in lists {
            match authorization::import(&self.store, &bytes).await {
                Ok(imported) => {
                    tracing::info!(list = %name, kind = imported.kind, volgnummer = imported.volgnummer, "list imported")
                }
                Err(authorization::ImportError::NotNewer { kind, incoming, held }) => {
                    tracing::info!(list = %name, kind, incoming, held, "list not newer than the one held: skipped");
                }
                Err(error) => return Err(anyhow::Error::new(error).context(format!("importing the list {name}"))),
            }
        }
        Ok(())
    }

    /// The OpenID Provider persons log in at: the configured one, or in demo mode the DigiD
    /// simulator mounted at `/digid-sim`.
    pub fn login_config(&self) -> Option<authorization::LoginConfig> {
        let login = &self.settings.login;
        let bsn_claim =
            if login.bsn_claim == "sub" { authorization::BsnClaim::Subject } else { authorization::BsnClaim::Bsn };
        if !login.issuer.is_empty() {
            return Some(authorization::LoginConfig {
                issuer: login.issuer.clone(),
                client_id: login.client_id.clone(),
                client_secret: login.client_secret.clone(),
                bsn_claim,
            });
        }
        self.settings.demo.enabled.then(|| authorization::LoginConfig {
            issuer: self.simulator_issuer(),
            client_id: SIMULATOR_CLIENT_ID.to_owned(),
            client_secret: self.secret.derive("digid-simulator-client").into(),
            bsn_claim: authorization::BsnClaim::Bsn,
        })
    }

    /// Where the demo's DigiD simulator is mounted.
    pub fn simulator_issuer(&self) -> String {
        format!("{}{SIMULATOR_PATH}", self.settings.server.public_url)
    }

    /// Writes the providers of the configuration to the store.
    async fn sync_configured_providers(&self) -> anyhow::Result<()> {
        for provider in &self.settings.providers {
            let new = NewProvider {
                name: provider.name.clone(),
                display_name: provider.display_name.clone(),
                data_services: provider.data_services.clone(),
            };
            self.check_provider(&new)?;
            let key_hash = provider.ingest_key.as_ref().map(|key| store::ingest_key_hash(key.expose_secret()));
            self.store.upsert_provider(&new, key_hash.as_deref()).await?;
        }
        Ok(())
    }

    /// The provider called `name`, or an error saying there is none.
    pub async fn provider(&self, name: &str) -> anyhow::Result<store::Provider> {
        self.store.provider(name).await?.ok_or_else(|| anyhow::anyhow!("no provider named '{name}'"))
    }

    /// Checks a provider's name and that its data services exist.
    pub fn check_provider(&self, provider: &NewProvider) -> anyhow::Result<()> {
        store::check_name(&provider.name).map_err(anyhow::Error::msg)?;
        if provider.display_name.trim().is_empty() {
            bail!("provider '{}' needs a display name", provider.name);
        }
        if provider.data_services.is_empty() {
            bail!("provider '{}' must offer at least one data service", provider.name);
        }
        for id in &provider.data_services {
            if self.catalog.data_service(id).is_none() {
                let known: Vec<String> =
                    self.catalog.data_services().map(|service| format!("{} ({})", service.id, service.name)).collect();
                bail!(
                    "data service '{id}' of provider '{}' is not defined; known: {}",
                    provider.name,
                    known.join(", ")
                );
            }
        }
        Ok(())
    }

    /// The key that signs now (tokens, reports).
    pub fn signing_key(&self) -> anyhow::Result<SigningKey> {
        self.signing_keys.ring().keys().signing().cloned().context("no signing key")
    }

    /// Issues access tokens with the service's key.
    pub fn token_issuer(&self) -> TokenIssuer {
        TokenIssuer::new(
            self.signing_keys.ring().clone(),
            self.issuer(),
            self.settings.tokens.lifetime_seconds,
            self.seal.clone(),
        )
    }

    /// Verifies access tokens issued by this service.
    pub fn token_verifier(&self) -> TokenVerifier {
        TokenVerifier::with_ring(self.signing_keys.ring().clone(), self.issuer(), self.settings.tokens.lifetime_seconds)
    }

    /// The auditors of the settings and, in demo mode, the demo auditor (its secret derived from
    /// the deployment secret, printed in the banner).
    pub fn auditors(&self) -> metering::Auditors {
        let configured = self
            .settings
            .auditors
            .iter()
            .map(|(id, auditor)| (id.clone(), auditor.name.clone(), auditor.secret_sha256.clone()));
        let auditors = metering::Auditors::new(configured);
        if self.settings.demo.enabled {
            auditors.with_secret(DEMO_AUDITOR, "Demo auditor", &self.demo_auditor_secret())
        } else {
            auditors
        }
    }

    /// The demo auditor's secret.
    pub fn demo_auditor_secret(&self) -> String {
        self.secret.derive("demo auditor secret")
    }

    /// What usage reports are made with: the public URL, the zone and the tariffs.
    pub fn report_settings(&self) -> metering::ReportSettings {
        metering::ReportSettings {
            issuer: self.issuer(),
            zone: self.settings.timezone(),
            tariffs: metering::Tariffs::new(
                self.settings.metering.tariffs.iter().map(|tariff| (tariff.from.clone(), tariff.cents)),
            ),
        }
    }

    /// The reporting period's length.
    pub fn granularity(&self) -> metering::Granularity {
        metering::Granularity::from_name(&self.settings.metering.period).unwrap_or(metering::Granularity::Month)
    }

    /// The token issuer name: the public URL.
    pub fn issuer(&self) -> String {
        self.settings.server.public_url.clone()
    }

    /// The resource endpoint (FHIR base) of a provider's data service.
    pub fn resource_endpoint(&self, provider: &str, service: &str) -> String {
        format!("{}/{provider}/{service}/fhir", self.settings.server.public_url)
    }
}
