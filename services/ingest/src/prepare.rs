//! Checking one resource and deriving everything the store needs from it.

use crate::IngestError;
use crate::owner::{KnownPatients, Owner, OwnerError, decide, look_up};
use crate::profiles::ProfileValidation;
use chrono_tz::Tz;
use data_services::{Catalog, ServedType};
use fhir_core::outcome::Issue;
use fhir_core::{IssueCode, OperationOutcome, Release, Severity, reference};
use identity::DeploymentSecret;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::Arc;
use store::{Provider, ResourceWrite, Store};

/// What to do with elements the FHIR model does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownElements {
    /// Keep them and warn (STU3 `acceptUnknown = both`, as the BgZ 2017 server capabilities ask).
    Warn,
    /// Refuse the resource.
    Reject,
}

/// Whether a refusal is about the FHIR rules (400) or about what this service accepts (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// Not valid FHIR: unparseable, wrong types, JSON rules (HTTP 400).
    Invalid,
    /// Valid FHIR, but not acceptable here: type not served, profile not claimed (HTTP 422).
    Unprocessable,
}

/// A refused resource (or Bundle): why, as an OperationOutcome with locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Which kind of refusal.
    pub kind: RejectionKind,
    /// The issues, with FHIRPath locations.
    pub outcome: OperationOutcome,
    /// Refused only because the Patient it names by BSN is not held (yet): a load tries it again
    /// after its other files.
    pub awaits_patient: bool,
}

impl Rejection {
    pub(crate) fn new(
        kind: RejectionKind,
        code: IssueCode,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) -> Rejection {
        Rejection {
            kind,
            outcome: OperationOutcome::default().with(Severity::Error, code, diagnostics, expression),
            awaits_patient: false,
        }
    }

    /// A one-line summary: the first issue, with its location, and how many more there are.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        if let Some(first) = self.outcome.issues.first() {
            if let Some(location) = first.expression.first() {
                let _ = write!(text, "{location}: ");
            }
            text.push_str(&first.diagnostics);
        }
        if self.outcome.issues.len() > 1 {
            let _ = write!(text, " (and {} more)", self.outcome.issues.len() - 1);
        }
        text
    }
}

impl From<fhir_core::json::JsonError> for Rejection {
    /// A body that is not FHIR JSON (syntax, a repeated name, a number out of bounds): 400, with
    /// the place as a FHIRPath expression when the resource type was read, and always in the
    /// diagnostics as JSON pointer, line and column.
    fn from(error: fhir_core::json::JsonError) -> Rejection {
        let code = match error.kind {
            fhir_core::json::JsonErrorKind::Number => IssueCode::Value,
            _ => IssueCode::Structure,
        };
        let diagnostics = format!("the body is not FHIR JSON the service accepts: {error}");
        Rejection::new(RejectionKind::Invalid, code, diagnostics, error.expression)
    }
}

/// A resource ready to store, and the warnings it earned.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The write for the store.
    pub write: ResourceWrite,
    /// Warnings (unknown elements kept, BSNs failing the 11-test).
    pub warnings: Vec<Issue>,
}

/// Checks and prepares resources for one deployment.
#[derive(Debug, Clone)]
pub struct Ingestor {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) secret: Arc<DeploymentSecret>,
    zone: Tz,
    unknown_elements: UnknownElements,
    /// The service's public URL: absolute references under it are the service's own.
    own_base: Option<String>,
    /// The profiles resources are held to, when the deployment loads packages.
    profiles: Option<Arc<ProfileValidation>>,
}

impl Ingestor {
    /// An ingestor with the service's definitions, deployment secret, zone for dates without one,
    /// and policy for unknown elements.
    pub fn new(
        catalog: Arc<Catalog>,
        secret: Arc<DeploymentSecret>,
        zone: Tz,
        unknown_elements: UnknownElements,
    ) -> Ingestor {
        Ingestor { catalog, secret, zone, unknown_elements, own_base: None, profiles: None }
    }

    /// Reads absolute references under `public_url` as references to the provider's own
    /// resources (without it, every absolute reference names another server).
    pub fn with_public_url(mut self, public_url: &str) -> Ingestor {
        self.own_base = Some(public_url.trim_end_matches('/').to_owned());
        self
    }

    /// Holds every resource to the loaded profiles it claims that a data service lists.
    pub fn with_profile_validation(mut self, profiles: Arc<ProfileValidation>) -> Ingestor {
        self.profiles = Some(profiles);
        self
    }

    /// The profile validation in use, if any.
    pub fn profile_validation(&self) -> Option<&ProfileValidation> {
        self.profiles.as_deref()
    }

    /// The definitions in use.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Checks `resource` for `provider` in `release` and prepares its write, tied to the
    /// Patient whose record it is (`owner.rs`): held by `store`, or among the `known` Patients
    /// written with it. `location` is the FHIRPath of the resource inside what was sent
    /// (`Bundle.entry[2].resource`), if any.
    pub async fn prepare(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        resource: Value,
        location: Option<&str>,
        known: &KnownPatients,
    ) -> Result<Prepared, IngestError> {
        let (mut prepared, owner) = self.check(provider, release, resource, location).map_err(IngestError::Rejected)?;
        prepared.write.index.compartment = match owner {
            Owner::Decided(ids) => ids,
            Owner::ByBsn { bsn, path, id } => {
                let at = |path: &str| locate(location, path);
                let type_name = prepared.write.resource_type.clone();
                look_up(store, &self.secret, provider, release, known, &type_name, (&bsn, &path, id), &at)
                    .await
                    .map_err(|error| match error {
                        OwnerError::Refused(rejection) => IngestError::Rejected(rejection),
                        OwnerError::Store(error) => IngestError::Store(error),
                    })?
            }
        };
        Ok(with_served(prepared))
    }

    /// `prepare` without a store, for records whose every Patient reference is by id (the
    /// demo's fixtures, generated test data): a reference by BSN is refused, since finding the
    /// Patient it names needs the store.
    pub fn prepare_by_id(
        &self,
        provider: &Provider,
        release: Release,
        resource: Value,
        location: Option<&str>,
    ) -> Result<Prepared, Rejection> {
        let (mut prepared, owner) = self.check(provider, release, resource, location)?;
        prepared.write.index.compartment = match owner {
            Owner::Decided(ids) => ids,
            Owner::ByBsn { path, .. } => {
                return Err(Rejection::new(
                    RejectionKind::Unprocessable,
                    IssueCode::NotSupported,
                    "a Patient named by BSN is found only through the ingest endpoint or the load command",
                    Some(locate(location, &path)),
                ));
            }
        };
        Ok(with_served(prepared))
    }

    /// Everything of `prepare` that needs no store: the checks, the index, and what the
    /// resource's own references decide of whose record it is.
    fn check(
        &self,
        provider: &Provider,
        release: Release,
        resource: Value,
        location: Option<&str>,
    ) -> Result<(Prepared, Owner), Rejection> {
        let at = |path: &str| locate(location, path);
        let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str).map(str::to_owned) else {
            return Err(Rejection::new(
                RejectionKind::Invalid,
                IssueCode::Structure,
                "not a FHIR resource: a JSON object with 'resourceType' is expected",
                location.map(str::to_owned),
            ));
        };
        let id = match resource.get("id") {
            Some(Value::String(id)) if reference::is_valid_id(id) => id.clone(),
            Some(_) => {
                return Err(Rejection::new(
                    RejectionKind::Invalid,
                    IssueCode::Value,
                    "the id must be 1-64 characters of A-Z, a-z, 0-9, '-' and '.'",
                    Some(at(&format!("{resource_type}.id"))),
                ));
            }
            None => {
                return Err(Rejection::new(
                    RejectionKind::Invalid,
                    IssueCode::Required,
                    "the resource has no id",
                    Some(at(&resource_type)),
                ));
            }
        };
        let served = self.served(provider, release, &resource_type);
        if served.is_empty() {
            return Err(Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::NotSupported,
                format!(
                    "{resource_type} is not served by any FHIR {release} data service that provider {} offers ({})",
                    provider.name,
                    self.offered(provider, release)
                ),
                Some(at(&resource_type)),
            ));
        }
        let outcome = self.validate(release, &resource, location)?;
        let claimed = fhir_search::index::claimed_profiles(&resource);
        if !served.iter().any(|served| served.claims_profile(claimed.iter().map(String::as_str))) {
            let mut accepted: Vec<&str> =
                served.iter().flat_map(|served| served.profiles.iter().map(String::as_str)).collect();
            accepted.sort_unstable();
            accepted.dedup();
            return Err(Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::Invalid,
                format!("meta.profile must claim one of: {}", accepted.join(", ")),
                Some(at(&format!("{resource_type}.meta.profile"))),
            ));
        }
        let mut outcome = outcome;
        if let Some(profiles) = &self.profiles {
            let listed: Vec<&str> = claimed
                .iter()
                .map(String::as_str)
                .filter(|url| served.iter().any(|served| served.profiles.iter().any(|listed| listed == url)))
                .collect();
            outcome.extend(profiles.check(release, &resource, &listed, &at)?);
        }
        let definition = self
            .catalog
            .release(release)
            .and_then(|definition| definition.type_definition(&resource_type))
            .ok_or_else(unsupported_type)?;
        let index = fhir_search::index::extract(definition, &resource, self.zone);
        let links = fhir_search::patient_links(definition, &resource, self.own_base.as_deref());
        let owner = decide(definition, &id, links, &at)?;
        let mut warnings = outcome;
        for bsn in &index.bsns {
            if !identity::is_valid_bsn(bsn) {
                // The message never repeats the number itself.
                warnings.push(Issue {
                    severity: Severity::Warning,
                    code: IssueCode::Value,
                    diagnostics: "a BSN identifier fails the 11-test; no DigiD login will ever match it".to_owned(),
                    expression: vec![at("Patient.identifier")],
                });
            }
        }
        let person_keys = index.bsns.iter().map(|bsn| self.secret.person_key(&provider.name, bsn)).collect();
        let content_hash = store::content_hash(&resource);
        let write =
            ResourceWrite { release, resource_type, id, resource, content_hash, index, person_keys, served: None };
        Ok((Prepared { write, warnings }, owner))
    }

    /// Checks `resource` against the FHIR rules of `release` alone (types, formats, JSON rules,
    /// unknown elements as configured, writable as XML), whoever would store it; returns the
    /// warnings. `prepare` adds what this service accepts (types served, profiles claimed).
    pub fn validate(
        &self,
        release: Release,
        resource: &Value,
        location: Option<&str>,
    ) -> Result<Vec<Issue>, Rejection> {
        let at = |path: &str| locate(location, path);
        let report = fhir_validate::check(validation_release(release), resource);
        let mut outcome = OperationOutcome::default();
        for finding in &report.errors {
            outcome.push(Severity::Error, IssueCode::Structure, finding.message.clone(), Some(at(&finding.path)));
        }
        let unknown_severity = match self.unknown_elements {
            UnknownElements::Warn => Severity::Warning,
            UnknownElements::Reject => Severity::Error,
        };
        for finding in &report.unknown_elements {
            outcome.push(unknown_severity, IssueCode::Structure, finding.message.clone(), Some(at(&finding.path)));
        }
        if outcome.has_errors() {
            outcome.issues.retain(|issue| issue.severity == Severity::Error);
            return Err(Rejection { kind: RejectionKind::Invalid, outcome, awaits_patient: false });
        }
        // Every stored resource must be servable as XML too; this also holds the narrative to the
        // XHTML rules (well-formed, no active content) and integers to their type's range
        // (fhir-sdk reads unsignedInt and positiveInt up to 2^32 - 1), whichever format it came in.
        if let Err(error) = fhir_xml::check_writable(release, resource) {
            return Err(Rejection::new(
                RejectionKind::Invalid,
                IssueCode::Structure,
                error.message,
                Some(at(&error.path)),
            ));
        }
        Ok(outcome.issues)
    }

    /// What the provider's data services of `release` serve of `resource_type`.
    pub(crate) fn served(&self, provider: &Provider, release: Release, resource_type: &str) -> Vec<&ServedType> {
        self.catalog
            .data_services()
            .filter(|service| service.release == release && provider.offers(&service.id))
            .filter_map(|service| service.served(resource_type))
            .collect()
    }

    fn offered(&self, provider: &Provider, release: Release) -> String {
        let offered: Vec<String> = self
            .catalog
            .data_services()
            .filter(|service| service.release == release && provider.offers(&service.id))
            .map(|service| format!("{} {}", service.id, service.name))
            .collect();
        if offered.is_empty() { "none in this release".to_owned() } else { offered.join(", ") }
    }
}

/// `prepared` with what a PGO is to receive of it (`served.rs`): its owner, when it has exactly
/// one, stands in for a conditional reference by BSN.
fn with_served(mut prepared: Prepared) -> Prepared {
    let write = &mut prepared.write;
    let owner = match write.index.compartment.as_slice() {
        [owner] if write.resource_type != "Patient" => Some(owner.as_str()),
        _ => None,
    };
    write.served = crate::served::without_bsn(&write.resource, owner);
    prepared
}

fn unsupported_type() -> Rejection {
    Rejection::new(RejectionKind::Unprocessable, IssueCode::NotSupported, "type not defined", None)
}

fn validation_release(release: Release) -> fhir_validate::Release {
    match release {
        Release::Stu3 => fhir_validate::Release::Stu3,
        Release::R4 => fhir_validate::Release::R4,
    }
}

/// A FHIRPath location inside what was sent: a validator path (`Observation.basedOn`) moved under
/// `location` (`Bundle.entry[2].resource.basedOn`) when the resource is part of something larger.
fn locate(location: Option<&str>, path: &str) -> String {
    match location {
        None => path.to_owned(),
        Some(location) => match path.split_once('.') {
            Some((_, rest)) => format!("{location}.{rest}"),
            None => location.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_move_under_the_bundle_entry() {
        assert_eq!(locate(None, "Observation.basedOn"), "Observation.basedOn");
        assert_eq!(locate(Some("Bundle.entry[2].resource"), "Observation.basedOn"), "Bundle.entry[2].resource.basedOn");
        assert_eq!(locate(Some("Bundle.entry[2].resource"), "Observation"), "Bundle.entry[2].resource");
    }
}
