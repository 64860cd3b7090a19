//! What every handler shares: the store, the definitions, ingest, token verification, settings,
//! and small caches in front of the store for the lookups PGO requests make (provider, token, and
//! for shares the person's Patient ids).

use crate::expiring::Expiring;
use access_token::{AccessClaims, TokenVerifier};
use chrono_tz::Tz;
use data_services::Catalog;
use ingest::Ingestor;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use store::{Provider, Store};

/// Search page sizes and the zone for dates without one.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Page size without `_count`.
    pub default_count: usize,
    /// Largest page size.
    pub max_count: usize,
    /// Zone for dates without one.
    pub zone: Tz,
    /// Bounds on what one search may ask.
    pub query: fhir_search::QueryLimits,
}

/// What the ZAL publishes beyond the providers.
#[derive(Debug, Clone)]
pub struct ZalInfo {
    /// `Aanbiedertype`.
    pub aanbiedertype: String,
    /// `InterfaceversieId`.
    pub interface_version: String,
}

/// Shared by every handler.
#[derive(Debug)]
pub struct ApiState {
    pub(crate) store: Store,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) ingestor: Ingestor,
    pub(crate) verifier: TokenVerifier,
    pub(crate) public_url: String,
    pub(crate) limits: SearchLimits,
    pub(crate) zal: ZalInfo,
    pub(crate) max_body_bytes: usize,
    /// The largest Bundle a PGO may share.
    pub(crate) max_shared_bytes: usize,
    pub(crate) started_millis: i64,
    /// Failed ingest keys, counted with the other doors of the service.
    pub(crate) throttle: throttle::Throttle,
    /// Builds the SMART configuration of a FHIR base (provider, data service), from the
    /// authorization server's settings.
    pub(crate) smart_configuration: Option<SmartConfiguration>,
    /// The meter and the access log (absent only in the benchmark's baseline).
    pub(crate) metering: Option<crate::witness::Metering>,
    /// The consents revoked while their tokens may live: such a token is refused at once
    /// (`None` only in the benchmark that measures what the check costs).
    pub(crate) revocations: Option<Arc<access_token::Revocations>>,
    /// Per data service, what its queries let a PGO see (made once, not per request).
    visibility: std::collections::HashMap<String, store::Visibility>,
    no_visibility: store::Visibility,
    /// Provider by name (or its absence), for a few seconds: every PGO request names one.
    providers: Expiring<String, Option<Arc<Provider>>>,
    /// Verified tokens: an ES256 verification costs far more than the rest of a small search,
    /// and a PGO sends many requests with one token. Expiry is still checked on every use.
    tokens: Expiring<String, Arc<AccessClaims>>,
    /// The Patient ids of a person (provider, release, person key), for a short while, for
    /// shares (which add records to the person's first Patient); searches and reads find the
    /// person's Patients by key in their own statements. Every write of a Patient, at any
    /// instance on PostgreSQL, clears its provider's entries (`forget_changed`); on SQLite, a
    /// load by another process shows within `PATIENT_CACHE_SECONDS`.
    patients: Expiring<(i64, fhir_core::Release, String), Arc<Vec<String>>>,
    /// Counts the times Patient ids were forgotten: a lookup that raced a forgetting (read before
    /// the write committed, finished after it was forgotten) does not keep what it read.
    patients_forgotten: std::sync::atomic::AtomicU64,
    /// What the application counts (see `metrics.rs`): here, the caches' hits and misses.
    pub(crate) metrics: service_metrics::Metrics,
}

/// Builds `/.well-known/smart-configuration` for a provider's data service (its name, the data
/// service's id).
#[derive(Clone)]
pub struct SmartConfiguration(pub Arc<SmartConfigurationFn>);

/// The function behind [`SmartConfiguration`].
pub type SmartConfigurationFn = dyn Fn(&str, &str) -> serde_json::Value + Send + Sync;

impl std::fmt::Debug for SmartConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmartConfiguration")
    }
}

/// How long a person's Patient ids are reused (see `ApiState::patients`).
const PATIENT_CACHE_SECONDS: u64 = 30;

/// How long a provider lookup is reused. Providers change rarely (configuration, `providers
/// add`); a new provider is served within this time without a restart.
const PROVIDER_CACHE_SECONDS: u64 = 5;

impl ApiState {
    /// The state for one service instance.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        catalog: Arc<Catalog>,
        ingestor: Ingestor,
        verifier: TokenVerifier,
        public_url: String,
        limits: SearchLimits,
        zal: ZalInfo,
        max_body_bytes: usize,
        token_lifetime_seconds: u64,
        revocations: Arc<access_token::Revocations>,
        throttle: throttle::Throttle,
    ) -> ApiState {
        let visibility = catalog
            .data_services()
            .filter_map(|service| {
                let release = catalog.release(service.release)?;
                Some((service.id.clone(), store::Visibility::of(service, release)))
            })
            .collect();
        ApiState {
            visibility,
            no_visibility: store::Visibility::default(),
            store,
            catalog,
            ingestor,
            verifier,
            public_url: public_url.trim_end_matches('/').to_owned(),
            limits,
            zal,
            max_body_bytes,
            max_shared_bytes: max_body_bytes,
            started_millis: fhir_core::date::now_millis(),
            throttle,
            smart_configuration: None,
            metering: None,
            revocations: Some(revocations),
            providers: Expiring::new(10_000, Duration::from_secs(PROVIDER_CACHE_SECONDS)),
            tokens: Expiring::new(100_000, Duration::from_secs(token_lifetime_seconds.max(1))),
            patients: Expiring::new(100_000, Duration::from_secs(PATIENT_CACHE_SECONDS)),
            patients_forgotten: std::sync::atomic::AtomicU64::new(0),
            metrics: service_metrics::Metrics::default(),
        }
    }

    /// Serves `/.well-known/smart-configuration` on every FHIR base, built by `build`.
    pub fn with_smart_configuration(mut self, build: SmartConfiguration) -> ApiState {
        self.smart_configuration = Some(build);
        self
    }

    /// Tokens are no longer checked against the revoked consents: for the benchmark of what
    /// that check costs, never for serving.
    pub fn without_revocation_check(mut self) -> ApiState {
        self.revocations = None;
        self
    }

    /// Takes shared Bundles (Delen) of at most `limit` bytes (else the ingest limit).
    pub fn with_max_shared_bytes(mut self, limit: usize) -> ApiState {
        self.max_shared_bytes = limit;
        self
    }

    /// Meters successful exchanges and logs every PGO request with `metering`.
    pub fn with_metering(mut self, metering: crate::witness::Metering) -> ApiState {
        self.metering = Some(metering);
        self
    }

    /// What data service `id` lets a PGO see (an unknown one: nothing).
    pub(crate) fn visibility(&self, id: &str) -> &store::Visibility {
        self.visibility.get(id).unwrap_or(&self.no_visibility)
    }

    /// The provider called `name`, if it exists.
    pub(crate) async fn provider(&self, name: &str) -> Result<Option<Arc<Provider>>, store::StoreError> {
        if let Some(known) = self.metrics.caches.providers.counted(self.providers.get(name)) {
            return Ok(known);
        }
        let found = self.store.provider(name).await?.map(Arc::new);
        self.providers.insert(name.to_owned(), found.clone());
        Ok(found)
    }

    /// The logical ids of the person's Patients at a provider, in a release. An empty answer is
    /// not kept, so that a person whose records arrive later is found at once.
    pub(crate) async fn patients(
        &self,
        provider: store::ProviderId,
        release: fhir_core::Release,
        person_key: &str,
    ) -> Result<Arc<Vec<String>>, store::StoreError> {
        let key = (provider.get(), release, person_key.to_owned());
        if let Some(known) = self.metrics.caches.patients.counted(self.patients.get(&key)) {
            return Ok(known);
        }
        let forgotten = self.patients_forgotten.load(Ordering::Acquire);
        let found = Arc::new(self.store.patients_for_person(provider, release, person_key).await?);
        if !found.is_empty() && self.patients_forgotten.load(Ordering::Acquire) == forgotten {
            self.patients.insert(key, found.clone());
        }
        Ok(found)
    }

    /// Forgets every person's Patient ids (after a write that may have changed them).
    pub(crate) fn forget_patients(&self) {
        self.patients_forgotten.fetch_add(1, Ordering::AcqRel);
        self.patients.clear();
    }

    /// Forgets what a change made here or at another instance makes stale (`store::Change`):
    /// the Patient ids of a provider's persons, providers, or everything when changes may have
    /// been missed. Other changes concern what this state does not keep.
    pub fn forget_changed(&self, change: store::Change) {
        match change {
            store::Change::Patients(provider) => {
                self.patients_forgotten.fetch_add(1, Ordering::AcqRel);
                let provider = provider.get();
                // Only that provider's entries.
                self.patients.forget_if(|key| key.0 == provider);
            }
            store::Change::Providers => self.providers.clear(),
            store::Change::Unknown => {
                self.forget_patients();
                self.providers.clear();
            }
            store::Change::Records(_)
            | store::Change::Lists
            | store::Change::SigningKeys
            | store::Change::Revocations => {}
        }
    }

    /// The claims of `token` if it verifies, has not expired, and its consent is not revoked.
    pub(crate) fn verified_claims(&self, token: &str) -> Result<Arc<AccessClaims>, access_token::TokenError> {
        let claims = self.signed_claims(token)?;
        let revoked = |consent: &str| self.revocations.as_ref().is_some_and(|list| list.is_revoked(consent));
        if claims.sid.as_deref().is_some_and(revoked) {
            return Err(access_token::TokenError::Revoked);
        }
        Ok(claims)
    }

    /// The claims of `token` if it verifies and has not expired.
    fn signed_claims(&self, token: &str) -> Result<Arc<AccessClaims>, access_token::TokenError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        if let Some(claims) = self.metrics.caches.tokens.counted(self.tokens.get(token)) {
            return if claims.exp > now { Ok(claims) } else { Err(access_token::TokenError::Expired) };
        }
        let claims = Arc::new(self.verifier.verify(token)?);
        self.tokens.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }
}
