//! What the store's test files share: a migrated store over a test database, and a provider.

#![allow(dead_code, clippy::expect_used)]

use data_services::Catalog;
use fhir_core::Release;
use serde_json::Value;
use store::{NewProvider, Provider, ResourceWrite, Store, Write};
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
