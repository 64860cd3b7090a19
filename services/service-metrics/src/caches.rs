//! Hits and misses of the FHIR API's caches in front of the store (providers, verified tokens,
//! a person's Patient ids): a miss is a database query or an ES256 verification.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

/// The counts of one cache, taken out of the family once so that counting is one atomic add.
#[derive(Debug, Clone)]
pub struct Lookups {
    hits: Counter,
    misses: Counter,
}

impl Lookups {
    fn of(family: &Family<CacheLabels, Counter>, cache: &'static str) -> Lookups {
        let counter = |result| family.get_or_create(&CacheLabels { cache, result }).clone();
        Lookups { hits: counter("hit"), misses: counter("miss") }
    }

    /// Counts a lookup that found `found` (a hit when it is something), and hands it back.
    pub fn counted<T>(&self, found: Option<T>) -> Option<T> {
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.inc();
        found
    }
}

/// The caches' lookups.
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    family: Family<CacheLabels, Counter>,
    /// Providers by name.
    pub providers: Lookups,
    /// Verified access tokens.
    pub tokens: Lookups,
    /// A person's Patient ids at a provider.
    pub patients: Lookups,
}

impl Default for CacheMetrics {
    fn default() -> CacheMetrics {
        let family = Family::default();
        CacheMetrics {
            providers: Lookups::of(&family, "providers"),
            tokens: Lookups::of(&family, "tokens"),
            patients: Lookups::of(&family, "patients"),
            family,
        }
    }
}

impl CacheMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "cache_lookups",
            "Lookups in the FHIR API's caches, by cache and result",
            self.family.clone(),
        );
    }
}
