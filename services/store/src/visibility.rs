//! What a PGO may see, as SQL: the one rule every PGO read, search, `_include` and `$lastn`
//! runs under.
//!
//! A resource is visible to a person when it claims a profile the data service serves for its
//! type, and:
//! - it is in one of the person's Patients' compartments (the Patient itself, or a record tied
//!   to it at ingest); or
//! - its type is shared (organisations, practitioners, medications: in no one's compartment),
//!   or it is a Device that names no patient, and the person's records refer to it (reads and
//!   `_include`s only).
//!
//! A resource of a patient-compartment type that is in no compartment is visible to nobody:
//! ingest refuses such resources, and this rule keeps any stored before that (or by any other
//! path) from being served as if shared. `pgo-exchange check` lists them.

use crate::ProviderId;
use crate::sql::Sql;
use data_services::{DataService, Ownership, ReleaseDefinition};
use fhir_core::Release;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Whose data a request may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientScope {
    /// The Patients carrying this person key (how PGO requests are scoped: the key comes from
    /// the access token, and the queries look the Patients up themselves, saving a round trip).
    Person(String),
    /// These Patients, by logical id.
    Patients(Vec<String>),
}

/// What a data service lets a PGO see, per resource type: the profiles a resource must claim
/// and whose record a resource of the type is, with the SQL that checks both, written once when
/// the data service's rule is made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visibility {
    by_type: BTreeMap<String, TypeRule>,
    /// `r` is of a type that may be served without being in the person's compartment.
    shared_condition: String,
    /// Tells rules apart (the collection cache keeps a person's records per rule).
    fingerprint: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TypeRule {
    profile_condition: String,
    ownership: Ownership,
}

impl Visibility {
    /// The rule of data service `service`, whose types `release` defines. A type `release`
    /// does not define is treated as a patient's record (never shared).
    pub fn of(service: &DataService, release: &ReleaseDefinition) -> Visibility {
        let by_type: BTreeMap<String, TypeRule> = service
            .types
            .iter()
            .map(|served| {
                let ownership = release
                    .type_definition(&served.resource_type)
                    .map_or(Ownership::Compartment, |definition| definition.ownership());
                let profile_condition = if served.any_profile {
                    format!("(r.resource_type = {})", literal(&served.resource_type))
                } else {
                    profile_condition(&served.resource_type, &served.profiles)
                };
                let rule = TypeRule { profile_condition, ownership };
                (served.resource_type.clone(), rule)
            })
            .collect();
        let of_kind = |kind: Ownership| -> Vec<&str> {
            by_type.iter().filter(|(_, rule)| rule.ownership == kind).map(|(name, _)| name.as_str()).collect()
        };
        let shared = of_kind(Ownership::Shared);
        let when_named = of_kind(Ownership::CompartmentWhenNamed);
        let mut shared_condition = String::from("(");
        if shared.is_empty() {
            shared_condition.push_str("1 = 0");
        } else {
            shared_condition.push_str(&format!("r.resource_type IN ({})", literals(&shared)));
        }
        if !when_named.is_empty() {
            shared_condition.push_str(&format!(
                " OR (r.resource_type IN ({}) AND NOT EXISTS (SELECT 1 FROM compartment c2 WHERE c2.rid = r.rid))",
                literals(&when_named)
            ));
        }
        shared_condition.push(')');
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (resource_type, rule) in &by_type {
            (resource_type, &rule.profile_condition).hash(&mut hasher);
        }
        shared_condition.hash(&mut hasher);
        Visibility { by_type, shared_condition, fingerprint: hasher.finish() }
    }

    /// A number that differs between rules that differ (within one process).
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whose record a resource of `resource_type` is, if the data service serves the type.
    pub(crate) fn ownership(&self, resource_type: &str) -> Option<Ownership> {
        self.by_type.get(resource_type).map(|rule| rule.ownership)
    }

    /// Whether a resource of `resource_type` may be served outside a compartment (shared, or
    /// shared when naming no one; [`push_shared`] decides for the resource): a cheap first cut
    /// of the targets the person's records refer to.
    pub(crate) fn may_be_shared(&self, resource_type: &str) -> bool {
        matches!(self.ownership(resource_type), Some(Ownership::Shared | Ownership::CompartmentWhenNamed))
    }
}

/// SQL string literals, comma-separated (the values come from the definitions, not a request).
fn literals(values: &[&str]) -> String {
    values.iter().map(|value| literal(value)).collect::<Vec<_>>().join(", ")
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `(r.resource_type = 'T' AND (<one of the profiles is in r.profiles>))`, with the values as SQL
/// literals: written once, they make the statement text the same for every request (so it is
/// prepared once). `instr` finds a delimited profile in the `|a|b|` list: SQLite's built-in, and
/// on PostgreSQL a function of that name (migration 0010). It replaced `replace(...) <> ...`,
/// which made a new string per row and profile: a third of the time SQLite took to read a
/// person's records for the collection cache.
fn profile_condition(resource_type: &str, profiles: &[String]) -> String {
    let mut condition = format!("(r.resource_type = {} AND (", literal(resource_type));
    for (position, profile) in profiles.iter().enumerate() {
        if position > 0 {
            condition.push_str(" OR ");
        }
        condition.push_str(&format!("instr(r.profiles, {}) > 0", literal(&format!("|{profile}|"))));
    }
    if profiles.is_empty() {
        condition.push_str("1 = 0");
    }
    condition.push_str("))");
    condition
}

/// Appends the set of the scope's Patient ids, for `patient_id IN ...`.
pub(crate) fn push_patients(sql: &mut Sql, provider: ProviderId, release: Release, scope: &PatientScope) {
    match scope {
        PatientScope::Person(key) => {
            sql.push("(SELECT k.patient_id FROM patient_keys k WHERE k.provider_id = ")
                .bind(provider.0)
                .push(" AND k.release = ")
                .bind(release.as_str().to_owned())
                .push(" AND k.person_key = ")
                .bind(key.clone())
                .push(")");
        }
        PatientScope::Patients(ids) => {
            sql.bind_list(ids.iter().cloned());
        }
    }
}

/// `r` is in the patient's compartment.
pub(crate) fn push_in_compartment(sql: &mut Sql, provider: ProviderId, release: Release, scope: &PatientScope) {
    // The full compartment key (with the type) lets the check seek to the row.
    sql.push("EXISTS (SELECT 1 FROM compartment c WHERE c.rid = r.rid AND c.resource_type = r.resource_type AND c.provider_id = ")
        .bind(provider.0)
        .push(" AND c.release = ")
        .bind(release.as_str().to_owned())
        .push(" AND c.patient_id IN ");
    push_patients(sql, provider, release, scope);
    sql.push(")");
}

/// `r` is of a type that may be served without being in a compartment (see the module).
pub(crate) fn push_shared(sql: &mut Sql, visibility: &Visibility) {
    sql.push(&visibility.shared_condition);
}

/// `(in the patient's compartment OR shared)` for `r`.
pub(crate) fn push_compartment_or_shared(
    sql: &mut Sql,
    provider: ProviderId,
    release: Release,
    scope: &PatientScope,
    visibility: &Visibility,
) {
    sql.push("(");
    push_in_compartment(sql, provider, release, scope);
    sql.push(" OR ");
    push_shared(sql, visibility);
    sql.push(")");
}

/// `r` claims a profile the data service serves for its type (only `only_type` if given).
pub(crate) fn push_profile_filter(sql: &mut Sql, visibility: &Visibility, only_type: Option<&str>) {
    sql.push("(");
    let mut first = true;
    for (resource_type, rule) in &visibility.by_type {
        if only_type.is_some_and(|only| only != resource_type) {
            continue;
        }
        if !first {
            sql.push(" OR ");
        }
        first = false;
        sql.push(&rule.profile_condition);
    }
    if first {
        sql.push("1 = 0");
    }
    sql.push(")");
}
