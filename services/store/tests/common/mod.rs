//! What the store's test files share: a migrated store over a test database, and a provider.

#![allow(dead_code, clippy::expect_used)]

use data_services::Catalog;
use fhir_core::Release;
use fhir_search::query::parse_query;
use fhir_search::{ParseOptions, SearchRequest};
use serde_json::Value;
use store::{NewProvider, Provider, ResourceWrite, Store, Visibility, Write};
use test_support::TestDatabase;

/// The zone dates without one are read in.
pub const ZONE: chrono_tz::Tz = chrono_tz::Europe::Amsterdam;

/// The store over `database`, migrated.
pub async fn open(database: &TestDatabase) -> Store {
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    store
}

/// A new provider `name` offering `data_services`.
pub async fn provider_of(store: &Store, name: &str, data_services: &[&str]) -> Provider {
    let new = NewProvider {
        name: name.into(),
        display_name: name.to_uppercase(),
        data_services: data_services.iter().map(|id| (*id).to_owned()).collect(),
    };
    store.create_provider(&new, None).await.expect("provider")
}

/// A write of `resource` (STU3) with its index as ingest makes it, tied to the Patient it names
/// by id, and with the person keys given.
pub fn put_with_keys(resource: Value, person_keys: Vec<String>) -> Write {
    let catalog = Catalog::embedded().expect("definitions");
    let resource_type = resource["resourceType"].as_str().expect("type").to_owned();
    let definition = catalog.release(Release::Stu3).and_then(|r| r.type_definition(&resource_type)).expect("defined");
    let mut index = fhir_search::index::extract(definition, &resource, ZONE);
    // As ingest ties a record to the Patient it names by id.
    if resource_type != "Patient" {
        index.compartment = fhir_search::patient_links(definition, &resource, None)
            .links
            .into_iter()
            .filter_map(|link| match link.target {
                fhir_search::PatientTarget::Id(id) => Some(id),
                fhir_search::PatientTarget::Bsn(_) => None,
            })
            .collect();
    }
    Write::Put(Box::new(ResourceWrite {
        release: Release::Stu3,
        id: resource["id"].as_str().expect("id").to_owned(),
        resource_type,
        content_hash: resource.to_string(),
        index,
        person_keys,
        served: None,
        resource,
    }))
}

/// A write of `resource` (STU3) as ingest makes it.
pub fn put(resource: Value) -> Write {
    put_with_keys(resource, Vec::new())
}

/// A search of BgZ (48) on `resource_type` as a PGO sends it, with `extra` parameters offered
/// beside the data service's own, from the definitions in `catalog`.
pub fn bgz_request(catalog: &Catalog, resource_type: &str, extra: &[&str], query: &str, lastn: bool) -> SearchRequest {
    let mut served = catalog.data_service("48").and_then(|bgz| bgz.served(resource_type)).cloned().expect("served");
    served.search_params.extend(extra.iter().map(|name| (*name).to_owned()));
    let definition = catalog.release(Release::Stu3).and_then(|r| r.type_definition(resource_type)).expect("type");
    let options = ParseOptions {
        strict: true,
        lastn,
        zone: ZONE,
        default_count: 50,
        max_count: 100,
        limits: fhir_search::QueryLimits::DEFAULT,
    };
    fhir_search::request::parse(&served, definition, &parse_query(query), options).expect("valid request")
}

/// What BgZ (48) lets a PGO see.
pub fn bgz_visibility() -> Visibility {
    let catalog = Catalog::embedded().expect("definitions");
    Visibility::of(catalog.data_service("48").expect("48"), catalog.release(Release::Stu3).expect("STU3"))
}
