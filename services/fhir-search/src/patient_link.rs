//! Whose record a resource says it is: the references of its compartment parameters (`subject`,
//! `patient`, `beneficiary`, ...), read as links to the provider's Patients, by logical id or by
//! BSN, and every form of reference that cannot say which of them is meant, with the reason.
//!
//! Deciding the owner needs the store (a BSN names a Patient only through the Patients held);
//! that happens at ingest. This module only reads the resource.

use crate::path::select;
use data_services::TypeDefinition;
use fhir_core::{BSN_SYSTEM, reference};
use serde_json::Value;

/// A Patient a resource refers to through a compartment parameter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PatientTarget {
    /// By logical id: `Patient/{id}`, or an absolute reference on the service's own base.
    Id(String),
    /// By the person's BSN: an identifier reference of the BSN system, or the conditional
    /// reference `Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn|{BSN}`.
    Bsn(String),
}

/// One link, with where it was found (`Observation.subject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientLink {
    /// The FHIRPath of the element.
    pub path: String,
    /// The Patient it names.
    pub target: PatientTarget,
}

/// A compartment reference that cannot be tied to one of the provider's Patients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlinkable {
    /// The FHIRPath of the element.
    pub path: String,
    /// Why, safe to show to the sender (it never repeats a BSN).
    pub reason: String,
}

/// What a resource's compartment parameters say about whose record it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientLinks {
    /// The Patients named.
    pub links: Vec<PatientLink>,
    /// References that name a Patient in a way this service cannot resolve, or name something
    /// else where only a Patient may be.
    pub unlinkable: Vec<Unlinkable>,
    /// References of a compartment element that name no Patient in any way this service can
    /// tell (an unresolved `urn:`, an identifier of another system): they tie the resource to
    /// nobody, and explain a refusal when nothing else does.
    pub ignored: Vec<Unlinkable>,
    /// Whether any compartment element is present at all.
    pub named: bool,
    /// The FHIRPaths of the compartment elements, for messages.
    pub paths: Vec<String>,
}

/// What one reference of a compartment element says.
enum Reading {
    Link(PatientTarget),
    /// A resource of this other type.
    OtherType(String),
    Unlinkable(String),
    Ignored(String),
    Nothing,
}

/// Reads the compartment references of `resource`. `own_base` is the service's public URL: an
/// absolute reference under it is read like a relative one; any other absolute reference points
/// at another server, whose Patient ids say nothing about this provider's.
///
/// An element such as `Appointment.participant.actor` holds the patient beside practitioners
/// and locations: a reference to another type counts only where the parameter allows that
/// type (`targets`); elsewhere (`Observation.subject`) only a Patient may own the record.
pub fn patient_links(definition: &TypeDefinition, resource: &Value, own_base: Option<&str>) -> PatientLinks {
    let mut found = PatientLinks::default();
    for name in &definition.compartment {
        let Some(param) = definition.param(name) else { continue };
        let allows = |resource_type: &str| param.targets.is_empty() || param.targets.iter().any(|t| t == resource_type);
        for element in &param.paths {
            let path = format!("{}.{}", definition.name, element.replace("[x]", ""));
            found.paths.push(path.clone());
            for value in select(resource, element) {
                found.named = true;
                let at = path.clone();
                match read_link(value, resource, own_base) {
                    Reading::Link(target) => found.links.push(PatientLink { path: at, target }),
                    Reading::OtherType(other) if allows(&other) => found
                        .unlinkable
                        .push(Unlinkable { path: at, reason: format!("must refer to a Patient, not to a {other}") }),
                    Reading::OtherType(_) => {}
                    Reading::Unlinkable(reason) => found.unlinkable.push(Unlinkable { path: at, reason }),
                    Reading::Ignored(reason) => found.ignored.push(Unlinkable { path: at, reason }),
                    Reading::Nothing => {}
                }
            }
        }
    }
    found
}

fn not_a_patient(resource_type: &str) -> Reading {
    Reading::OtherType(resource_type.to_owned())
}

/// What one Reference names.
fn read_link(value: &Value, resource: &Value, own_base: Option<&str>) -> Reading {
    let Value::Object(members) = value else { return Reading::Unlinkable("is not a Reference".to_owned()) };
    // R4's Reference.type says what the reference is to, whatever its form.
    if let Some(resource_type) = members.get("type").and_then(Value::as_str)
        && resource_type != "Patient"
        && !resource_type.ends_with("/Patient")
    {
        return not_a_patient(resource_type.rsplit('/').next().unwrap_or(resource_type));
    }
    if let Some(text) = members.get("reference") {
        let Some(text) = text.as_str() else { return Reading::Unlinkable("reference must be a string".to_owned()) };
        return read_reference(text, resource, own_base);
    }
    match members.get("identifier") {
        Some(identifier) => read_identifier(identifier),
        None => Reading::Nothing,
    }
}

fn read_reference(text: &str, resource: &Value, own_base: Option<&str>) -> Reading {
    if let Some(local) = text.strip_prefix('#') {
        return match contained_type(resource, local) {
            Some("Patient") => Reading::Unlinkable(
                "a contained Patient cannot say whose record this is; refer to the Patient by Patient/<id> or by \
                 an identifier with the BSN system"
                    .to_owned(),
            ),
            Some(other) => not_a_patient(other),
            None => Reading::Unlinkable(format!("'#{}' names no contained resource", shorten(local))),
        };
    }
    if text.starts_with("urn:") {
        return Reading::Ignored(format!(
            "'{}' names no stored resource (such a reference is resolved only in a transaction Bundle holding the \
             entry with that fullUrl)",
            shorten(text)
        ));
    }
    if let Some((resource_type, query)) = text.split_once('?') {
        return match resource_type {
            "Patient" => read_conditional(query),
            other if reference::is_type_name(other) => not_a_patient(other),
            _ => Reading::Unlinkable(format!("'{}' is not a reference this service can resolve", shorten(text))),
        };
    }
    let (relative, foreign) = if text.contains("://") {
        let own = own_base
            .map(|base| base.trim_end_matches('/'))
            .and_then(|base| text.strip_prefix(base))
            .and_then(|rest| rest.strip_prefix('/'));
        match own {
            Some(relative) => (relative, false),
            None => (text, true),
        }
    } else {
        (text, false)
    };
    match reference::parse(relative) {
        Some(("Patient", _)) if foreign => Reading::Unlinkable(
            "an absolute reference to another server cannot say which of this provider's Patients is meant".to_owned(),
        ),
        Some(("Patient", id)) => Reading::Link(PatientTarget::Id(id.to_owned())),
        Some((other, _)) => not_a_patient(other),
        None => Reading::Unlinkable(format!("'{}' is not a reference this service can resolve", shorten(text))),
    }
}

/// The type of the contained resource with `id`.
fn contained_type<'a>(resource: &'a Value, id: &str) -> Option<&'a str> {
    resource
        .get("contained")?
        .as_array()?
        .iter()
        .find(|contained| contained.get("id").and_then(Value::as_str) == Some(id))?
        .get("resourceType")?
        .as_str()
}

/// `Patient?identifier=<BSN system>|<value>`, the one conditional form that names a person.
fn read_conditional(query: &str) -> Reading {
    let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=').map_or((decode(pair), String::new()), |(name, value)| (decode(name), decode(value)))
        })
        .collect();
    if let [(name, value)] = params.as_slice()
        && name == "identifier"
        && let Some((system, bsn)) = value.split_once('|')
        && system == BSN_SYSTEM
        && !bsn.trim().is_empty()
    {
        return Reading::Link(PatientTarget::Bsn(bsn.trim().to_owned()));
    }
    Reading::Unlinkable(format!(
        "a conditional reference is resolved only in the form Patient?identifier={BSN_SYSTEM}|<BSN>, naming one person"
    ))
}

fn read_identifier(identifier: &Value) -> Reading {
    let system = identifier.get("system").and_then(Value::as_str);
    let value = identifier.get("value").and_then(Value::as_str).map(str::trim).filter(|value| !value.is_empty());
    match (system, value) {
        (Some(BSN_SYSTEM), Some(bsn)) => Reading::Link(PatientTarget::Bsn(bsn.to_owned())),
        (Some(BSN_SYSTEM), None) => Reading::Unlinkable("the BSN identifier has no value".to_owned()),
        _ => Reading::Ignored(format!("a reference by identifier is resolved only by BSN (system {BSN_SYSTEM})")),
    }
}

/// A reference as quoted in a message: never more than 80 characters of it.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_services::Catalog;
    use fhir_core::Release;
    use serde_json::json;

    fn observation_with(subject: Value) -> PatientLinks {
        let catalog = Catalog::embedded().expect("definitions");
        let definition =
            catalog.release(Release::Stu3).and_then(|release| release.type_definition("Observation")).expect("type");
        let resource = json!({"resourceType": "Observation", "status": "final", "subject": subject});
        patient_links(definition, &resource, Some("https://dva.example/"))
    }

    fn target(subject: Value) -> Result<PatientTarget, String> {
        let links = observation_with(subject);
        match (links.links.as_slice(), links.unlinkable.as_slice(), links.ignored.as_slice()) {
            ([link], [], []) => Ok(link.target.clone()),
            ([], [problem], []) => Err(problem.reason.clone()),
            ([], [], [ignored]) => Err(format!("ignored: {}", ignored.reason)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn literal_references_on_our_own_base_name_a_patient_by_id() {
        assert_eq!(target(json!({"reference": "Patient/p1"})), Ok(PatientTarget::Id("p1".into())));
        assert_eq!(target(json!({"reference": "Patient/p1/_history/2"})), Ok(PatientTarget::Id("p1".into())));
        assert_eq!(
            target(json!({"reference": "https://dva.example/umcx/48/fhir/Patient/p1"})),
            Ok(PatientTarget::Id("p1".into()))
        );
    }

    #[test]
    fn identifiers_and_conditional_references_name_a_patient_by_bsn() {
        assert_eq!(
            target(json!({"identifier": {"system": BSN_SYSTEM, "value": " 999911120 "}, "display": "J. Jansen"})),
            Ok(PatientTarget::Bsn("999911120".into()))
        );
        assert_eq!(
            target(json!({"reference": "Patient?identifier=http://fhir.nl/fhir/NamingSystem/bsn%7C999911120"})),
            Ok(PatientTarget::Bsn("999911120".into()))
        );
    }

    #[test]
    fn every_form_that_names_no_one_of_ours_is_unlinkable_with_a_reason() {
        for (subject, words) in [
            (json!({"reference": "#missing"}), "no contained resource"),
            (json!({"reference": "Patient?name=Jansen"}), "conditional"),
            (json!({"reference": "Patient?identifier=urn:oid:1.2.3|7"}), "conditional"),
            (json!({"reference": "Group/g1"}), "not to a Group"),
            (json!({"reference": "Device?identifier=x"}), "not to a Device"),
            (json!({"reference": "https://elsewhere.example/fhir/Patient/p1"}), "another server"),
            (json!({"identifier": {"system": BSN_SYSTEM}}), "no value"),
            (json!("Patient/p1"), "not a Reference"),
            // Forms that name nothing this service can find tie the resource to nobody.
            (json!({"reference": "urn:uuid:0b6f1a3e-1c6d-4b7e-9d6c-5f3a2e1b0c9d"}), "ignored: 'urn:uuid"),
            (json!({"identifier": {"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "x"}}), "ignored:"),
        ] {
            let reason = target(subject.clone()).expect_err("unlinkable");
            assert!(reason.contains(words), "{subject}: {reason}");
            assert!(!reason.contains("999911120"));
        }
    }

    #[test]
    fn contained_resources_are_read_by_their_type() {
        let catalog = Catalog::embedded().expect("definitions");
        let definition =
            catalog.release(Release::Stu3).and_then(|release| release.type_definition("Observation")).expect("type");
        let with = |contained: Value| {
            let resource =
                json!({"resourceType": "Observation", "contained": [contained], "subject": {"reference": "#x"}});
            patient_links(definition, &resource, None)
                .unlinkable
                .into_iter()
                .map(|problem| problem.reason)
                .collect::<Vec<_>>()
        };
        let patient = with(json!({"resourceType": "Patient", "id": "x"}));
        assert!(patient[0].contains("contained Patient"), "{patient:?}");
        let device = with(json!({"resourceType": "Device", "id": "x"}));
        assert!(device[0].contains("not to a Device"), "{device:?}");
    }

    #[test]
    fn where_other_actors_stand_beside_the_patient_only_the_patient_counts() {
        let catalog = Catalog::embedded().expect("definitions");
        let definition =
            catalog.release(Release::Stu3).and_then(|release| release.type_definition("Appointment")).expect("type");
        let appointment = json!({"resourceType": "Appointment", "contained": [{"resourceType": "Location", "id": "room"}],
            "participant": [{"actor": {"reference": "Practitioner/dr"}}, {"actor": {"reference": "#room"}},
                {"actor": {"identifier": {"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "1"}}},
                {"actor": {"reference": "Patient/p1"}}]});
        let links = patient_links(definition, &appointment, None);
        assert!(links.unlinkable.is_empty(), "{links:?}");
        assert_eq!(
            links.links.iter().map(|link| link.target.clone()).collect::<Vec<_>>(),
            [PatientTarget::Id("p1".into())]
        );
    }

    #[test]
    fn a_display_alone_names_nobody_and_an_absent_subject_is_not_named() {
        let display_only = observation_with(json!({"display": "J. Jansen"}));
        assert!(display_only.links.is_empty() && display_only.unlinkable.is_empty() && display_only.named);
        let catalog = Catalog::embedded().expect("definitions");
        let definition =
            catalog.release(Release::Stu3).and_then(|release| release.type_definition("Observation")).expect("type");
        let absent = patient_links(definition, &json!({"resourceType": "Observation"}), None);
        assert!(!absent.named);
        assert_eq!(absent.paths, ["Observation.subject"]);
    }
}
