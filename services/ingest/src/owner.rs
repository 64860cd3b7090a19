//! Whose record an incoming resource is. A resource of a type in the patient compartment must
//! lead, through its compartment references, to exactly one person among the provider's
//! Patients; otherwise it is refused, naming the element. The store serves a resource of such a
//! type to that person only, so a resource tied to nobody would reach nobody, and one tied to
//! the wrong Patient would reach the wrong person: neither may be stored.
//!
//! - `Patient/{id}` (or an absolute reference on the service's own base) names the Patient by
//!   id, whether or not it has arrived yet: the tie is to that id, which only that Patient's
//!   person can reach.
//! - An identifier reference by BSN, or `Patient?identifier=<BSN system>|<BSN>`, names the
//!   Patients carrying that BSN: those held, or written in the same transaction or load. None
//!   found is a refusal (a load retries it after its other files).
//! - A contained Patient, a `urn:` reference left unresolved, another conditional form, another
//!   server's URL, a reference to a non-Patient, a display alone: refused.

use crate::prepare::{Rejection, RejectionKind};
use data_services::{Ownership, TypeDefinition};
use fhir_core::IssueCode;
use fhir_search::{PatientLinks, PatientTarget};
use identity::DeploymentSecret;
use std::collections::{BTreeSet, HashMap};
use store::{Provider, ResourceWrite, Store};

/// Patients written together with the resources being prepared (in one transaction, or one
/// batch of a load), which the store does not hold yet: by person key, their ids.
#[derive(Debug, Clone, Default)]
pub struct KnownPatients {
    by_key: HashMap<String, BTreeSet<String>>,
}

impl KnownPatients {
    /// Notes a Patient about to be written.
    pub fn add(&mut self, write: &ResourceWrite) {
        for key in &write.person_keys {
            self.by_key.entry(key.clone()).or_default().insert(write.id.clone());
        }
    }

    /// Forgets them all (once written, the store knows them).
    pub fn clear(&mut self) {
        self.by_key.clear();
    }

    fn ids(&self, key: &str) -> impl Iterator<Item = &String> {
        self.by_key.get(key).into_iter().flatten()
    }
}

/// Why a resource could not be tied to its owner.
#[derive(Debug)]
pub(crate) enum OwnerError {
    /// Refused, with the reason.
    Refused(Rejection),
    /// The store failed while looking the person up.
    Store(store::StoreError),
}

/// What the resource alone says of its owner.
#[derive(Debug)]
pub(crate) enum Owner {
    /// The ids of the Patients whose compartment it is in (empty: a shared resource).
    Decided(Vec<String>),
    /// A person named by BSN, to be looked up among the provider's Patients; with the Patient
    /// id it also names, if any.
    ByBsn {
        /// The BSN.
        bsn: String,
        /// Where it was named.
        path: String,
        /// The id named beside it.
        id: Option<String>,
    },
}

/// Decides what the resource's own references decide of its owner.
pub(crate) fn decide(
    definition: &TypeDefinition,
    id: &str,
    links: PatientLinks,
    at: &dyn Fn(&str) -> String,
) -> Result<Owner, Rejection> {
    let refuse = |message: String, path: &str| {
        Rejection::new(RejectionKind::Unprocessable, IssueCode::Invalid, message, Some(at(path)))
    };
    match definition.ownership() {
        Ownership::Patient => return Ok(Owner::Decided(vec![id.to_owned()])),
        Ownership::Shared => return Ok(Owner::Decided(Vec::new())),
        Ownership::CompartmentWhenNamed if !links.named => return Ok(Owner::Decided(Vec::new())),
        Ownership::Compartment | Ownership::CompartmentWhenNamed => {}
    }
    let type_name = &definition.name;
    if !links.unlinkable.is_empty() {
        let mut outcome = fhir_core::OperationOutcome::default();
        for problem in &links.unlinkable {
            outcome.push(
                fhir_core::Severity::Error,
                IssueCode::Invalid,
                format!("{type_name} is a patient's record, and this reference cannot say whose: {}", problem.reason),
                Some(at(&problem.path)),
            );
        }
        return Err(Rejection { kind: RejectionKind::Unprocessable, outcome, awaits_patient: false });
    }
    let paths = links.paths.join(" or ");
    let links_ignored = links.ignored;
    let first_path = links.links.first().map_or(paths.clone(), |link| link.path.clone());
    let mut ids = BTreeSet::new();
    let mut bsns = BTreeSet::new();
    let mut bsn_path = None;
    for link in links.links {
        match link.target {
            PatientTarget::Id(id) => {
                ids.insert(id);
            }
            PatientTarget::Bsn(bsn) => {
                bsns.insert(bsn);
                bsn_path.get_or_insert(link.path);
            }
        }
    }
    if ids.len() > 1 || bsns.len() > 1 {
        return Err(refuse(
            format!("{type_name} refers to more than one Patient; a record has one owner"),
            &first_path,
        ));
    }
    let id = ids.into_iter().next();
    match (bsns.into_iter().next(), id) {
        (Some(bsn), id) => Ok(Owner::ByBsn { bsn, path: bsn_path.unwrap_or(first_path), id }),
        (None, Some(id)) => Ok(Owner::Decided(vec![id])),
        (None, None) => {
            let mut message = format!(
                "{type_name} is a patient's record: {paths} must refer to one of the provider's Patients \
                 (Patient/<id>, or an identifier with the BSN system)"
            );
            for ignored in &links_ignored {
                message.push_str(&format!("; {}: {}", ignored.path, ignored.reason));
            }
            Err(refuse(message, &first_path))
        }
    }
}

/// Looks the person named by BSN up among the provider's Patients: those held by `store` and
/// the `known` ones written together with the resource.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn look_up(
    store: &Store,
    secret: &DeploymentSecret,
    provider: &Provider,
    release: fhir_core::Release,
    known: &KnownPatients,
    type_name: &str,
    (bsn, path, id): (&str, &str, Option<String>),
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<String>, OwnerError> {
    let key = secret.person_key(&provider.name, bsn);
    let mut found: BTreeSet<String> = known.ids(&key).cloned().collect();
    found.extend(store.patients_for_person(provider.id, release, &key).await.map_err(OwnerError::Store)?);
    match id {
        // The same person named twice, by id and by BSN: the id decides, and a BSN that names
        // other Patients contradicts it.
        Some(id) if found.is_empty() || found.contains(&id) => Ok(vec![id]),
        Some(_) => Err(OwnerError::Refused(Rejection::new(
            RejectionKind::Unprocessable,
            IssueCode::Invalid,
            format!("{type_name} names one Patient by id and another by BSN; a record has one owner"),
            Some(at(path)),
        ))),
        // Several Patients with one BSN are one person's records: the resource is in each.
        None if !found.is_empty() => Ok(found.into_iter().collect()),
        None => Err(OwnerError::Refused(Rejection {
            awaits_patient: true,
            ..Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::NotFound,
                format!(
                    "no Patient of provider {} carries the BSN this reference names; load the Patient first",
                    provider.name
                ),
                Some(at(path)),
            )
        })),
    }
}
