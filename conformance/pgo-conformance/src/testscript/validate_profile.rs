//! `validateProfileId`: the subject (the assert's `sourceId`, else the last response, as for the
//! other response asserts) validated against the `TestScript.profile` the assert names, with the
//! run's validator of the script's release (`crate::profiles`). The part holds when the validator
//! finds no error; a warning or a rule it could not check does not fail it. A profile the script
//! does not declare, or one the validator does not know (its package was not given), leaves the
//! part not run, never passed.

use super::asserts::Part;
use super::model::Assert;
use super::state::{Problem, Source, State};
use profile_validator::Report;

/// How many error findings a failure names; the rest are counted.
const SHOWN: usize = 3;

/// The part `validateProfileId` = `id` makes on what `state` holds.
pub(crate) fn part(id: &str, assert: &Assert, state: &State<'_>) -> Part {
    let what = format!("valid against profile {id}");
    let result = url(id, state).and_then(|url| {
        let validator = state
            .profiles
            .validator(state.script.release.release)
            .map_err(|why| Problem::NotRun(format!("no profile validator: {why}")))?;
        if !validator.knows(url) {
            return Err(Problem::NotRun(format!("profile {url} is not loaded; give its package with --package")));
        }
        let body = state.source(assert.source_id.as_deref()).and_then(Source::body)?;
        let report = validator.validate(body, &[url]);
        if report.is_valid() { Ok(()) } else { Err(Problem::Failed(errors(&report))) }
    });
    Part { profile_validation: true, ..Part::new(what, result) }
}

/// The URL of the profile the script declares as `id`.
fn url<'s>(id: &str, state: &State<'s>) -> Result<&'s str, Problem> {
    let declared = state.script.definition.profile.iter().map(|profile| profile.parts());
    match declared.into_iter().find(|(declared, _)| *declared == Some(id)) {
        Some((_, Some(url))) => Ok(url),
        Some((_, None)) => Err(Problem::NotRun(format!("the profile {id} has no URL"))),
        None => Err(Problem::NotRun(format!("no profile is named {id}"))),
    }
}

/// The first error findings, with where, which rule and what, and how many there are.
fn errors(report: &Report) -> String {
    let errors: Vec<String> =
        report.errors().map(|finding| format!("{} ({}): {}", finding.path, finding.rule, finding.message)).collect();
    let shown = errors.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    let noun = if errors.len() == 1 { "error" } else { "errors" };
    match errors.len().saturating_sub(SHOWN) {
        0 => format!("{} {noun}: {shown}", errors.len()),
        more => format!("{} {noun}: {shown}; and {more} more", errors.len()),
    }
}

#[cfg(test)]
mod tests {
    use crate::outcome::Check;
    use crate::testscript::asserts::check;
    use crate::testscript::load::Script;
    use crate::testscript::model::{Assert, TestScript};
    use crate::testscript::release::Detected;
    use crate::testscript::state::{Response, State};
    use serde_json::{Value, json};

    /// A script declaring the base Bundle (as the published scripts do) and a profile no package
    /// gave, with a fixture Bundle that has no `type`.
    fn script() -> Script {
        let definition: TestScript = serde_json::from_value(json!({"profile": [
            {"id": "Bundle-profile", "value": "http://hl7.org/fhir/StructureDefinition/Bundle"},
            {"id": "nl-core-patient", "reference": "http://fhir.nl/fhir/StructureDefinition/nl-core-patient"},
        ]}))
        .unwrap();
        let untyped = json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]});
        Script {
            fixtures: [("untyped".to_owned(), untyped)].into(),
            ..Script::new("s", Detected { release: fhir_core::Release::Stu3, why: String::new() }, definition)
        }
    }

    /// The state after a response with `body`.
    fn answered(script: &Script, body: Value) -> State<'_> {
        let mut state = State::new(script);
        let response =
            Response { status: 200, headers: vec![], media_type: "application/fhir+json".into(), body: Ok(Some(body)) };
        state.record(None, Ok(response), None, None);
        state
    }

    fn validated(assert: Value, state: &State<'_>) -> Check {
        let assert: Assert = serde_json::from_value(assert).unwrap();
        check(&assert, state)
    }

    #[test]
    fn a_response_valid_against_the_base_bundle_passes() {
        let script = script();
        let searchset = json!({"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [
            {"fullUrl": "http://x/fhir/Patient/1", "resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match"}}
        ]});
        let state = answered(&script, searchset);
        let check = validated(json!({"validateProfileId": "Bundle-profile"}), &state);
        assert!(check.passed && check.profile_validation, "{check:?}");
        assert_eq!(check.expected, "valid against profile Bundle-profile");
    }

    #[test]
    fn a_response_breaking_a_base_rule_fails_with_the_finding() {
        let script = script();
        let state = answered(&script, json!({"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:x"}]}));
        let check = validated(json!({"validateProfileId": "Bundle-profile"}), &state);
        assert!(check.failed() && check.profile_validation, "{check:?}");
        assert!(check.found.contains("Bundle") && check.found.contains("cardinality"), "{}", check.found);
        assert!(check.found.starts_with(|c: char| c.is_ascii_digit()), "the count first: {}", check.found);

        // The assert's sourceId names what is validated (a fixture here), not the last response.
        let valid = answered(&script, json!({"resourceType": "Bundle", "type": "batch-response"}));
        assert!(validated(json!({"validateProfileId": "Bundle-profile"}), &valid).passed);
        let fixture = validated(json!({"validateProfileId": "Bundle-profile", "sourceId": "untyped"}), &valid);
        assert!(fixture.failed(), "{fixture:?}");
    }

    #[test]
    fn a_profile_that_is_not_loaded_or_not_declared_is_not_run() {
        let script = script();
        let state = answered(&script, json!({"resourceType": "Patient"}));
        let unknown = validated(json!({"validateProfileId": "nl-core-patient"}), &state);
        assert!(unknown.not_run && unknown.profile_validation, "{unknown:?}");
        assert_eq!(
            unknown.found,
            "profile http://fhir.nl/fhir/StructureDefinition/nl-core-patient is not loaded; give its package with --package"
        );
        let undeclared = validated(json!({"validateProfileId": "nowhere"}), &state);
        assert!(undeclared.not_run && undeclared.found.contains("no profile is named nowhere"), "{undeclared:?}");
    }

    #[test]
    fn a_check_is_a_profile_validation_only_when_the_validation_decided_it() {
        let script = script();
        let state = answered(&script, json!({"resourceType": "Bundle", "type": "searchset"}));
        let other_failed = validated(json!({"response": "notFound", "validateProfileId": "Bundle-profile"}), &state);
        assert!(other_failed.failed() && !other_failed.profile_validation, "{other_failed:?}");
        let both_held = validated(json!({"response": "okay", "validateProfileId": "Bundle-profile"}), &state);
        assert!(both_held.passed && both_held.profile_validation, "{both_held:?}");
    }
}
