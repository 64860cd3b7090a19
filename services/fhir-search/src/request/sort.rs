//! `_sort` (FHIR R4 §3.1.1.4.3, the same `-` prefix in STU3): the keys a search may be sorted by
//! are the logical id, the last update and the date parameters the data service offers for the
//! type, each ascending or (with `-`) descending. Client libraries send it (fhirpy's
//! `sort("-date")`), so an unsupported key is not silently dropped under strict handling.

use super::{SearchError, invalid};
use data_services::{ParamKind, ServedType, TypeDefinition};

/// One key of a `_sort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// What is compared.
    pub by: SortBy,
    /// Highest first (`-`).
    pub descending: bool,
}

/// What a sort key compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortBy {
    /// The logical id (`_id`).
    Id,
    /// When the resource was last stored (`_lastUpdated`).
    LastUpdated,
    /// A date parameter of the type: ascending by the earliest moment a resource's values cover,
    /// descending by the latest (resources without a value come last either way).
    Date(String),
}

/// The keys of `value` that can be sorted by, with the names of those that cannot.
pub(super) fn parse_sort(
    served: &ServedType,
    definition: &TypeDefinition,
    value: &str,
) -> Result<(Vec<SortKey>, Vec<String>), SearchError> {
    let mut keys = Vec::new();
    let mut unsupported = Vec::new();
    for item in value.split(',') {
        let (descending, name) = match item.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, item),
        };
        if name.is_empty() {
            return Err(invalid("_sort", "empty sort key"));
        }
        let by = match name {
            "_id" => Some(SortBy::Id),
            "_lastUpdated" => Some(SortBy::LastUpdated),
            _ => served
                .allows_param(name)
                .then(|| definition.param(name))
                .flatten()
                .filter(|param| param.kind == ParamKind::Date)
                .map(|_| SortBy::Date(name.to_owned())),
        };
        match by {
            Some(by) if keys.iter().any(|key: &SortKey| key.by == by) => {
                return Err(invalid("_sort", &format!("'{name}' is named twice")));
            }
            Some(by) => keys.push(SortKey { by, descending }),
            None => unsupported.push(name.to_owned()),
        }
    }
    Ok((keys, unsupported))
}

/// The keys a type can be sorted by, for messages.
pub(super) fn sortable(served: &ServedType, definition: &TypeDefinition) -> String {
    let mut names = vec!["_id".to_owned(), "_lastUpdated".to_owned()];
    names.extend(
        served
            .search_params
            .iter()
            .filter(|name| definition.param(name).is_some_and(|param| param.kind == ParamKind::Date))
            .cloned(),
    );
    names.join(", ")
}
