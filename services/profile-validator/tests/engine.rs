//! The engine's walk on its own (no package): two members of one choice, base definitions of
//! another type, primitives' JSON kinds, `%rootResource` in a Bundle, dates in invariants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod choices_and_kinds {
    use fhir_core::Release;
    use profile_validator::{Rule, Validator};
    use serde_json::json;

    #[test]
    fn two_members_of_one_choice_are_one_too_many() {
        for release in Release::ALL {
            let validator = Validator::base(release);
            let observation = json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                "valueQuantity": {"value": 1, "unit": "kg"}, "valueString": "two values"});
            let report = validator.validate(&observation, &[]);
            let finding = report.errors().find(|finding| finding.rule == Rule::Cardinality).unwrap();
            assert_eq!(finding.path, "Observation.value");
            assert_eq!(finding.source, "base#Observation.value[x]");
            let one =
                json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "valueString": "one"});
            assert!(validator.validate(&one, &[]).is_valid());
        }
    }

    #[test]
    fn a_base_definition_of_another_type_says_so() {
        let validator = Validator::base(Release::R4);
        let outcome = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid"}]});
        let report = validator.validate(&outcome, &["http://hl7.org/fhir/StructureDefinition/Bundle"]);
        let finding = report.errors().next().unwrap();
        assert_eq!(finding.rule, Rule::Profile);
        assert_eq!(finding.message, "the base definition of Bundle does not fit a OperationOutcome");
    }

    #[test]
    fn a_primitive_of_the_wrong_json_kind_is_named_with_its_article() {
        let validator = Validator::base(Release::Stu3);
        let recommendation = json!({"resourceType": "ImmunizationRecommendation", "patient": {"reference": "Patient/p"},
            "recommendation": [{"date": "2020-01-01", "vaccineCode": {"text": "x"}, "doseNumber": "2",
                "forecastStatus": {"text": "due"}}]});
        let report = validator.validate(&recommendation, &[]);
        let finding = report.errors().find(|finding| finding.rule == Rule::Structure).unwrap();
        assert_eq!(finding.message, "a positiveInt is written as a JSON number, not \"2\"");
    }
}

mod root_resource {
    use fhir_core::Release;
    use profile_validator::Validator;
    use serde_json::json;

    #[test]
    fn a_reference_to_a_contained_resource_is_found_in_the_entry_not_in_the_bundle() {
        // R4's ref-1 looks in `%rootResource.contained`: the entry's resource, not the Bundle.
        let immunization = json!({"resourceType": "Immunization", "id": "i1", "status": "completed",
            "contained": [{"resourceType": "Location", "id": "loc", "name": "Sporthal"}],
            "vaccineCode": {"text": "x"}, "patient": {"reference": "Patient/p"},
            "occurrenceDateTime": "2020-01-01", "location": {"reference": "#loc"}});
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": "https://example.org/fhir/Immunization/i1", "resource": immunization,
             "search": {"mode": "match"}}]});
        let report = Validator::base(Release::R4).validate(&bundle, &[]);
        assert!(report.is_valid(), "{:?}", report.findings);
        let mut broken = bundle.clone();
        broken["entry"][0]["resource"]["location"]["reference"] = json!("#elsewhere");
        let report = Validator::base(Release::R4).validate(&broken, &[]);
        let finding = report.errors().find(|finding| finding.rule.to_string().contains("ref-1")).unwrap();
        assert_eq!(finding.path, "Bundle.entry[0].resource.location");
    }
}

mod temporal {
    use fhir_core::Release;
    use profile_validator::Validator;
    use serde_json::json;

    fn encounter(start: &str, end: &str) -> serde_json::Value {
        json!({"resourceType": "Encounter", "status": "finished", "period": {"start": start, "end": end}})
    }

    #[test]
    fn dates_in_invariants_compare_as_points_in_time_not_as_text() {
        let validator = Validator::base(Release::Stu3);
        // 14:00 at +02:00 is 12:00Z, before 13:00Z, though the text sorts after it.
        assert!(validator.validate(&encounter("2022-10-15T14:00:00+02:00", "2022-10-15T13:00:00Z"), &[]).is_valid());
        // Different precisions cannot be ordered: per-1 does not fail on them.
        assert!(validator.validate(&encounter("2015-01", "2015"), &[]).is_valid());
        let report = validator.validate(&encounter("2022-10-15T14:00:00Z", "2022-10-15T13:00:00Z"), &[]);
        let finding = report.errors().next().unwrap();
        assert_eq!((finding.path.as_str(), finding.rule.to_string().as_str()), ("Encounter.period", "invariant per-1"));
    }
}

mod references {
    use fhir_core::Release;
    use profile_validator::{Rule, Validator};
    use serde_json::json;

    #[test]
    fn a_versioned_reference_is_typed_by_its_resource_type() {
        let validator = Validator::base(Release::R4);
        let observation = |subject: &str| {
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                "subject": {"reference": subject}})
        };
        assert!(validator.validate(&observation("Patient/p1/_history/2"), &[]).is_valid());
        let report = validator.validate(&observation("https://x/fhir/Organization/o1/_history/2"), &[]);
        let finding = report.errors().find(|finding| finding.rule == Rule::Type).unwrap();
        assert_eq!(finding.path, "Observation.subject.reference");
        assert!(finding.message.contains("Organization"), "{finding}");
    }
}
