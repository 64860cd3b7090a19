//! `pgo-exchange check`: the stored records that ingest's rule on whose record a resource is
//! (`owner.rs`) would refuse: records of a patient-compartment type tied to no Patient, stored
//! before the rule or past it. The service never serves them (the store's visibility rule);
//! this finds them so that they can be corrected and loaded again, or deleted.

use data_services::{Catalog, Ownership};
use fhir_core::Release;
use serde_json::Value;
use store::{Store, StoreError};

/// A stored record that belongs to nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unowned {
    /// The provider's name.
    pub provider: String,
    /// The release.
    pub release: Release,
    /// Type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
}

/// Every stored record of a patient-compartment type that is in no compartment, by provider,
/// release, type and id. A record of a type that is shared when it names no patient (a
/// Device) is listed only when it does name one.
pub async fn unowned_resources(store: &Store, catalog: &Catalog) -> Result<Vec<Unowned>, StoreError> {
    let mut found = Vec::new();
    for release in Release::ALL {
        let Some(definitions) = catalog.release(release) else { continue };
        let types: Vec<String> = definitions
            .types
            .values()
            .filter(|definition| {
                matches!(definition.ownership(), Ownership::Compartment | Ownership::CompartmentWhenNamed)
            })
            .map(|definition| definition.name.clone())
            .collect();
        for row in store.uncompartmented(release, &types).await? {
            let Some(definition) = definitions.type_definition(&row.resource_type) else { continue };
            if definition.ownership() == Ownership::CompartmentWhenNamed {
                let body: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
                if !fhir_search::patient_links(definition, &body, None).named {
                    continue;
                }
            }
            found.push(Unowned { provider: row.provider, release, resource_type: row.resource_type, id: row.id });
        }
    }
    Ok(found)
}
