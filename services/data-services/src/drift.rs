//! How a data service differs from the published server CapabilityStatement it follows: every
//! type, profile, interaction, search parameter, `_include` and operation of the statement's
//! server `rest` that the definition lacks, and every one the definition has beyond it, each
//! worded as one line. A definition lists the differences it means, with the reason
//! (`[[source.deviations]]`); `undocumented` is what is left, and what a test holds at zero.
//!
//! Reads the statement as FHIR JSON (an XML one is read through `fhir-xml` by the caller), STU3
//! and R4 alike. Profiles are R4's per-resource `supportedProfile`, STU3's per-resource
//! `profile`, and STU3's `CapabilityStatement.profile` at the root, which names the profiles of
//! the use cases without saying for which resource: the vital-signs statement lists
//! nl-core-patient and zib-BloodPressure side by side there.
//!
//! Root profiles are matched to resource types, not compared as one set for the whole data
//! service: a set would not notice a profile listed under the wrong type, nor tell which type
//! lacks one. A root profile's type is its StructureDefinition's `type`, which the caller knows
//! (`profile_types`, read from the package the statement comes with); where the caller does not
//! know it, the type the definition lists the profile under stands in (a canonical URL names one
//! StructureDefinition, so it has one type), and a profile neither knows is named as not offered.
//! A type the statement names only by root profiles, with no `rest.resource` of its own (Patient
//! and Practitioner in the vital-signs statement), is in the statement without any interaction:
//! what the definition serves of it is compared as for a resource entry that lists none.
//!
//! Operations are compared by their definition: `$lastn` is FHIR's
//! `OperationDefinition/Observation-lastn`, named at the `rest` level in STU3 and on the resource
//! in R4. System interactions (`batch`, `transaction`) are compared too; the service offers PGOs
//! none.

use crate::model::{DataService, Interaction, canonical_without_version};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The canonical URL of FHIR's `$lastn` operation (the same in STU3 and R4).
const LASTN_DEFINITION: &str = "http://hl7.org/fhir/OperationDefinition/Observation-lastn";

/// Every difference between `service` and the server CapabilityStatement `statement`, sorted.
/// `profile_types` gives the resource type of a profile listed at the statement's root (STU3),
/// from its StructureDefinition; `None` where the caller does not know it (see the module
/// documentation for what happens then).
pub fn differences(
    service: &DataService,
    statement: &Value,
    profile_types: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut found = BTreeSet::new();
    let servers: Vec<&Value> =
        statement["rest"].as_array().into_iter().flatten().filter(|rest| rest["mode"] == "server").collect();
    let resources: Vec<&Value> =
        servers.iter().flat_map(|rest| rest["resource"].as_array().into_iter().flatten()).collect();
    let mut root_profiles = root_profiles_by_type(service, statement, profile_types, &mut found);
    let mut published_types = BTreeSet::new();
    for resource in &resources {
        let Some(resource_type) = resource["type"].as_str() else { continue };
        published_types.insert(resource_type.to_owned());
        let mut profiles: BTreeSet<String> =
            strings(&resource["supportedProfile"]).iter().map(|profile| canonical(profile)).collect();
        profiles.extend(resource["profile"]["reference"].as_str().map(canonical));
        profiles.extend(root_profiles.remove(resource_type).unwrap_or_default());
        compare_resource(&mut found, service, resource_type, resource, &profiles);
    }
    // A type the statement knows only by root profiles: in the statement, with no interaction.
    for (resource_type, profiles) in root_profiles {
        compare_resource(&mut found, service, &resource_type, &Value::Null, &profiles);
        published_types.insert(resource_type);
    }
    let system_interactions: BTreeSet<String> = servers.iter().flat_map(|rest| codes(&rest["interaction"])).collect();
    let offered = service.sharing.as_ref().map(|sharing| sharing.bundle.code());
    for interaction in system_interactions.iter().filter(|interaction| Some(interaction.as_str()) != offered) {
        found.insert(format!("system interaction {interaction} not offered"));
    }
    if let Some(offered) = offered.filter(|offered| !system_interactions.contains(*offered)) {
        found.insert(format!("system interaction {offered} offered beyond the CapabilityStatement"));
    }
    compare_operations(&mut found, service, &servers, &resources);
    for served in &service.types {
        if !published_types.contains(&served.resource_type) {
            found.insert(format!("{}: served, not in the CapabilityStatement", served.resource_type));
        }
    }
    found.into_iter().collect()
}

/// Notes how what the definition serves of `resource_type` differs from the statement's
/// `resource` entry (`Null` for a type the statement names only by profiles), whose profiles are
/// `profiles`.
fn compare_resource(
    found: &mut BTreeSet<String>,
    service: &DataService,
    resource_type: &str,
    resource: &Value,
    profiles: &BTreeSet<String>,
) {
    let Some(served) = service.served(resource_type) else {
        if resource.is_null() {
            compare(found, resource_type, "profile", profiles, &BTreeSet::new());
        } else {
            found.insert(format!("{resource_type}: not served"));
        }
        return;
    };
    // A type served whatever its resources claim (`any_profile`) has every published profile.
    let ours = if served.any_profile { profiles.clone() } else { served.profiles.iter().cloned().collect() };
    compare(found, resource_type, "profile", profiles, &ours);
    let interactions = codes(&resource["interaction"]);
    let offered: BTreeSet<String> = Interaction::ALL
        .into_iter()
        .filter(|interaction| served.allows(*interaction))
        .map(|interaction| interaction.code().to_owned())
        .collect();
    compare(found, resource_type, "interaction", &interactions, &offered);
    let params: BTreeSet<String> = resource["searchParam"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|param| param["name"].as_str().map(str::to_owned))
        .collect();
    compare(found, resource_type, "search parameter", &params, &served.search_params.iter().cloned().collect());
    let includes = strings(&resource["searchInclude"]);
    let offered: BTreeSet<String> = served.includes.iter().map(ToString::to_string).collect();
    compare(found, resource_type, "_include", &includes, &offered);
}

/// The profiles listed at the statement's root (STU3), by the resource type each is for; a
/// profile of no known type is noted in `found` instead.
fn root_profiles_by_type(
    service: &DataService,
    statement: &Value,
    profile_types: &dyn Fn(&str) -> Option<String>,
    found: &mut BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_type: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let listed =
        statement["profile"].as_array().into_iter().flatten().filter_map(|profile| profile["reference"].as_str());
    for profile in listed.map(canonical) {
        let resource_type = profile_types(&profile).or_else(|| {
            service
                .types
                .iter()
                .find(|served| served.profiles.contains(&profile))
                .map(|served| served.resource_type.clone())
        });
        match resource_type {
            Some(resource_type) => {
                by_type.entry(resource_type).or_default().insert(profile);
            }
            None => {
                found.insert(format!("profile {profile} not offered (its resource type is unknown)"));
            }
        }
    }
    by_type
}

/// Notes the operations the statement names (at `rest` or on a resource) that the definition
/// lacks, and the reverse. Only `$lastn` is known by its definition; another operation is named
/// by its `name`.
fn compare_operations(found: &mut BTreeSet<String>, service: &DataService, servers: &[&Value], resources: &[&Value]) {
    let mut published = BTreeSet::new();
    let operations = servers
        .iter()
        .flat_map(|rest| rest["operation"].as_array().into_iter().flatten())
        .chain(resources.iter().flat_map(|resource| resource["operation"].as_array().into_iter().flatten()));
    for operation in operations {
        // STU3 refers to the definition (`definition.reference`), R4 names it (`definition`).
        let definition = operation["definition"]["reference"].as_str().or_else(|| operation["definition"].as_str());
        if definition.map(canonical).as_deref() == Some(LASTN_DEFINITION) {
            published.insert("Observation: operation $lastn".to_owned());
        } else {
            let name = operation["name"].as_str().unwrap_or("without a name");
            found.insert(format!("operation {name} not offered"));
        }
    }
    let offered: BTreeSet<String> = service
        .types
        .iter()
        .filter(|served| served.lastn)
        .map(|served| format!("{}: operation $lastn", served.resource_type))
        .collect();
    for missing in published.difference(&offered) {
        found.insert(format!("{missing} not offered"));
    }
    for extra in offered.difference(&published) {
        found.insert(format!("{extra} offered beyond the CapabilityStatement"));
    }
}

/// The differences the definition does not list as deviations, and the listed deviations that
/// no longer occur (a list that says more than is true is wrong too).
pub fn undocumented(service: &DataService, differences: &[String]) -> Vec<String> {
    let documented: BTreeSet<&str> = service
        .source
        .iter()
        .flat_map(|source| &source.deviations)
        .map(|deviation| deviation.difference.as_str())
        .collect();
    let occurring: BTreeSet<&str> = differences.iter().map(String::as_str).collect();
    let mut left: Vec<String> = occurring.difference(&documented).map(|difference| (*difference).to_owned()).collect();
    left.extend(documented.difference(&occurring).map(|stale| format!("listed as a deviation, but not one: {stale}")));
    left
}

/// A canonical URL as the definitions list it: without its `|version`.
fn canonical(url: &str) -> String {
    canonical_without_version(url).to_owned()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|item| item.as_str().map(str::to_owned)).collect()
}

/// The `code`s of a list of interactions.
fn codes(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|item| item["code"].as_str().map(str::to_owned)).collect()
}

/// Notes what `published` has that `ours` lacks, and the reverse, for one kind of thing.
fn compare(
    found: &mut BTreeSet<String>,
    resource_type: &str,
    kind: &str,
    published: &BTreeSet<String>,
    ours: &BTreeSet<String>,
) {
    for missing in published.difference(ours) {
        found.insert(format!("{resource_type}: {kind} {missing} not offered"));
    }
    for extra in ours.difference(published) {
        found.insert(format!("{resource_type}: {kind} {extra} offered beyond the CapabilityStatement"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;
    use serde_json::json;

    fn service(id: &str) -> DataService {
        Catalog::embedded().expect("definitions").data_service(id).expect("data service").clone()
    }

    const NICTIZ: &str = "http://nictiz.nl/fhir/StructureDefinition/";

    #[test]
    fn every_kind_of_difference_is_named_both_ways() {
        let statement = json!({"rest": [{"mode": "client", "resource": [{"type": "Basic"}]}, {"mode": "server", "resource": [
            {"type": "Immunization",
             "supportedProfile": ["http://nictiz.nl/fhir/StructureDefinition/imm-Vaccination-event", "http://example.org/other"],
             "interaction": [{"code": "search-type"}, {"code": "vread"}],
             "searchInclude": ["Immunization:patient", "Immunization:reaction"],
             "searchParam": [{"name": "patient"}, {"name": "status"}]},
            {"type": "Basic"}
        ]}]});
        let found = differences(&service("63"), &statement, &|_| None);
        for expected in [
            "Basic: not served",
            "Immunization: profile http://example.org/other not offered",
            "Immunization: profile http://nictiz.nl/fhir/StructureDefinition/nl-core-Vaccination-event offered beyond the CapabilityStatement",
            "Immunization: interaction vread not offered",
            "Immunization: interaction read offered beyond the CapabilityStatement",
            "Immunization: _include Immunization:reaction not offered",
            "Immunization: search parameter patient not offered",
            "Immunization: search parameter date offered beyond the CapabilityStatement",
            "Patient: served, not in the CapabilityStatement",
        ] {
            assert!(found.iter().any(|difference| difference == expected), "{expected} not in {found:#?}");
        }
        // The client's side says nothing about the server.
        assert!(!found.iter().any(|difference| difference.contains("Basic: served")));
    }

    /// A statement shaped like the published STU3 vital-signs one: profiles at the root, one
    /// resource, `$lastn` and the system interactions at the `rest` level.
    fn stu3_statement(root_profiles: &[&str]) -> Value {
        let profiles: Vec<Value> = root_profiles.iter().map(|profile| json!({"reference": profile})).collect();
        json!({"profile": profiles, "rest": [{"mode": "server",
            "resource": [{"type": "Observation",
                "interaction": [{"code": "search-type"}, {"code": "create"}],
                "searchParam": [{"name": "code"}, {"name": "date"}, {"name": "category"}]}],
            "interaction": [{"code": "batch"}],
            "operation": [{"name": "Last N Observations Query",
                "definition": {"reference": "http://hl7.org/fhir/OperationDefinition/Observation-lastn"}}]}]})
    }

    #[test]
    fn the_bundle_a_pgo_shares_in_is_compared_with_the_system_interactions() {
        let none = |_: &str| None;
        // 51 takes a transaction; a statement offering only batch differs both ways.
        let statement = json!({"rest": [{"mode": "server", "resource": [], "interaction": [{"code": "batch"}]}]});
        let found = differences(&service("51"), &statement, &none);
        assert!(found.contains(&"system interaction batch not offered".to_owned()), "{found:#?}");
        assert!(
            found.contains(&"system interaction transaction offered beyond the CapabilityStatement".to_owned()),
            "{found:#?}"
        );
        // 63 receives nothing: every system interaction of a statement is not offered.
        let found = differences(&service("63"), &statement, &none);
        assert!(found.contains(&"system interaction batch not offered".to_owned()), "{found:#?}");
    }

    #[test]
    fn stu3_root_profiles_are_compared_per_type_by_their_structure_definitions() {
        let statement = stu3_statement(&[
            "http://fhir.nl/fhir/StructureDefinition/nl-core-patient",
            &format!("{NICTIZ}zib-BloodPressure|3.1.0"),
            &format!("{NICTIZ}zib-Wound"),
            "http://example.org/StructureDefinition/a-device",
        ]);
        let types = |profile: &str| match profile.rsplit('/').next() {
            Some("nl-core-patient") => Some("Patient".to_owned()),
            Some("zib-BloodPressure" | "zib-Wound") => Some("Observation".to_owned()),
            Some("a-device") => Some("Device".to_owned()),
            _ => None,
        };
        let found = differences(&service("52"), &statement, &types);
        for expected in [
            // A root profile of the resource's type that the definition lacks, and the reverse.
            "Observation: profile http://nictiz.nl/fhir/StructureDefinition/zib-Wound not offered",
            "Observation: profile http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight offered beyond the CapabilityStatement",
            // A root profile of a type the statement has no resource for, and the service does
            // not serve.
            "Device: profile http://example.org/StructureDefinition/a-device not offered",
            // The rest as for R4.
            "Observation: interaction read offered beyond the CapabilityStatement",
            // Patient is in the statement by its profile alone, without interactions;
            // Practitioner is not in it at all.
            "Patient: interaction read offered beyond the CapabilityStatement",
            "Practitioner: served, not in the CapabilityStatement",
        ] {
            assert!(found.iter().any(|difference| difference == expected), "{expected} not in {found:#?}");
        }
        // Matched, with the version dropped: blood pressure; nl-core-patient is what the service
        // serves of Patient; $lastn is offered as published.
        // Receiving: create and the batch a PGO shares in are offered as published.
        for matched in ["zib-BloodPressure", "nl-core-patient", "$lastn", "create", "batch"] {
            assert!(!found.iter().any(|difference| difference.contains(matched)), "{matched} in {found:#?}");
        }
    }

    #[test]
    fn a_root_profile_of_unknown_type_takes_the_type_the_definition_gives_it() {
        let statement = stu3_statement(&[
            "http://fhir.nl/fhir/StructureDefinition/nl-core-practitioner",
            "http://example.org/StructureDefinition/nobody-knows",
        ]);
        let found = differences(&service("52"), &statement, &|_| None);
        assert!(!found.iter().any(|difference| difference.contains("nl-core-practitioner")), "{found:#?}");
        assert!(
            found.contains(
                &"profile http://example.org/StructureDefinition/nobody-knows not offered (its resource type is unknown)"
                    .to_owned()
            ),
            "{found:#?}"
        );
        // Without a type, it is not taken for one of Observation's.
        assert!(found.contains(&format!(
            "Observation: profile {NICTIZ}zib-BloodPressure offered beyond the CapabilityStatement"
        )));
    }

    #[test]
    fn operations_are_compared_by_their_definition() {
        // $lastn published at the rest level (STU3) and not offered by a service without it.
        let found = differences(&service("63"), &stu3_statement(&[]), &|_| None);
        assert!(found.contains(&"Observation: operation $lastn not offered".to_owned()), "{found:#?}");
        // Offered, but not published: on the resource (R4) another operation is named instead.
        let statement = json!({"rest": [{"mode": "server", "resource": [{"type": "Observation",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "operation": [{"name": "stats", "definition": "http://hl7.org/fhir/OperationDefinition/Observation-stats"}]}]}]});
        let found = differences(&service("52"), &statement, &|_| None);
        assert!(
            found.contains(&"Observation: operation $lastn offered beyond the CapabilityStatement".to_owned()),
            "{found:#?}"
        );
        assert!(found.contains(&"operation stats not offered".to_owned()), "{found:#?}");
        // R4's form of $lastn, with a version, is $lastn.
        let statement = json!({"rest": [{"mode": "server", "resource": [{"type": "Observation",
            "operation": [{"name": "lastn", "definition": "http://hl7.org/fhir/OperationDefinition/Observation-lastn|4.0.1"}]}]}]});
        let found = differences(&service("52"), &statement, &|_| None);
        assert!(!found.iter().any(|difference| difference.contains("operation")), "{found:#?}");
    }

    #[test]
    fn a_listed_deviation_that_no_longer_occurs_is_named_too() {
        let mut service = service("63");
        let source = service.source.get_or_insert_with(|| crate::Source {
            capability_statement: "http://example.org".into(),
            file: None,
            deviations: Vec::new(),
        });
        source.deviations = vec![crate::Deviation { difference: "Basic: not served".into(), why: "x".into() }];
        let left = undocumented(&service, &["Patient: served, not in the CapabilityStatement".to_owned()]);
        assert_eq!(
            left,
            [
                "Patient: served, not in the CapabilityStatement",
                "listed as a deviation, but not one: Basic: not served"
            ]
        );
    }
}
