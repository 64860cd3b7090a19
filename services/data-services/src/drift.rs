//! How a data service differs from the published server CapabilityStatement it follows: every
//! type, profile, interaction, search parameter and `_include` of the statement's server `rest`
//! that the definition lacks, and every one the definition has beyond it, each worded as one
//! line. A definition lists the differences it means, with the reason (`[[source.deviations]]`);
//! `undocumented` is what is left, and what a test holds at zero.
//!
//! Reads the statement as FHIR JSON (an XML one is read through `fhir-xml` by the caller), STU3
//! and R4 alike: profiles are R4's `supportedProfile`, or STU3's per-resource `profile` and, for
//! a statement that lists its profiles at the top (BgZ 2017), those whose type is the resource's.

use crate::model::{DataService, Interaction};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every difference between `service` and the server CapabilityStatement `statement`, sorted.
/// `profile_types` gives the resource type of a top-level STU3 profile, when the statement lists
/// its profiles there (the caller knows the profiles' base types; unknown ones are skipped).
pub fn differences(
    service: &DataService,
    statement: &Value,
    profile_types: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut found = BTreeSet::new();
    let resources: Vec<&Value> = statement["rest"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rest| rest["mode"] == "server")
        .flat_map(|rest| rest["resource"].as_array().into_iter().flatten())
        .collect();
    let top_profiles: Vec<&str> = statement["profile"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|profile| profile["reference"].as_str())
        .collect();
    let mut published_types = BTreeSet::new();
    for resource in &resources {
        let Some(resource_type) = resource["type"].as_str() else { continue };
        published_types.insert(resource_type.to_owned());
        let Some(served) = service.served(resource_type) else {
            found.insert(format!("{resource_type}: not served"));
            continue;
        };
        let mut profiles: BTreeSet<String> = strings(&resource["supportedProfile"]);
        profiles.extend(resource["profile"]["reference"].as_str().map(str::to_owned));
        profiles.extend(
            top_profiles
                .iter()
                .filter(|profile| profile_types(profile).as_deref() == Some(resource_type))
                .map(|profile| (*profile).to_owned()),
        );
        compare(&mut found, resource_type, "profile", &profiles, &served.profiles.iter().cloned().collect());
        let interactions: BTreeSet<String> = resource["interaction"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["code"].as_str().map(str::to_owned))
            .collect();
        let offered: BTreeSet<String> = [Interaction::Read, Interaction::SearchType]
            .into_iter()
            .filter(|interaction| served.allows(*interaction))
            .map(|interaction| interaction.code().to_owned())
            .collect();
        compare(&mut found, resource_type, "interaction", &interactions, &offered);
        let params: BTreeSet<String> = resource["searchParam"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|param| param["name"].as_str().map(str::to_owned))
            .collect();
        compare(
            &mut found,
            resource_type,
            "search parameter",
            &params,
            &served.search_params.iter().cloned().collect(),
        );
        let includes = strings(&resource["searchInclude"]);
        let offered: BTreeSet<String> = served.includes.iter().map(ToString::to_string).collect();
        compare(&mut found, resource_type, "_include", &includes, &offered);
    }
    for served in &service.types {
        if !published_types.contains(&served.resource_type) {
            found.insert(format!("{}: served, not in the CapabilityStatement", served.resource_type));
        }
    }
    found.into_iter().collect()
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

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|item| item.as_str().map(str::to_owned)).collect()
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

    fn vaccinaties() -> DataService {
        Catalog::embedded().expect("definitions").data_service("63").expect("63").clone()
    }

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
        let found = differences(&vaccinaties(), &statement, &|_| None);
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

    #[test]
    fn stu3_statements_list_profiles_at_the_top() {
        let statement = json!({"profile": [{"reference": "http://nictiz.nl/fhir/StructureDefinition/zib-Vaccination"},
            {"reference": "http://nictiz.nl/fhir/StructureDefinition/zib-Alert"}],
            "rest": [{"mode": "server", "resource": [{"type": "Immunization"}]}]});
        let bgz = Catalog::embedded().expect("definitions").data_service("48").expect("48").clone();
        let types = |profile: &str| profile.ends_with("zib-Vaccination").then(|| "Immunization".to_owned());
        let found = differences(&bgz, &statement, &types);
        assert!(!found.iter().any(|difference| {
            difference.contains("profile http://nictiz.nl/fhir/StructureDefinition/zib-Vaccination")
        }));
        assert!(!found.iter().any(|difference| difference.contains("zib-Alert")));
    }

    #[test]
    fn a_listed_deviation_that_no_longer_occurs_is_named_too() {
        let mut service = vaccinaties();
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
