//! Numbers: what is read from XML is held to the bounds a number sent as JSON is held to (at most
//! 18 digits, no exponent), and a resource is writable for ingest only when its integers are in
//! their type's range, whichever format it came in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_core::Release;
use fhir_xml::{ReadLimits, UnknownMembers, check_writable, from_xml, to_xml};
use serde_json::{Value, json};

fn observation_xml(value: &str) -> String {
    format!(
        r#"<Observation xmlns="http://hl7.org/fhir"><id value="o1"/><status value="final"/>
<code><text value="weight"/></code>
<valueQuantity><value value="{value}"/></valueQuantity></Observation>"#
    )
}

#[test]
fn xml_numbers_are_held_to_the_json_bounds_with_line_and_path() {
    let read = from_xml(Release::Stu3, observation_xml("72.50").as_bytes(), ReadLimits::default()).expect("valid");
    assert_eq!(read["valueQuantity"]["value"].to_string(), "72.50");
    for (value, expected) in [("1e999999", "exponent"), ("1.5E3", "exponent"), (&"9".repeat(40), "40 digits")] {
        let error = from_xml(Release::Stu3, observation_xml(value).as_bytes(), ReadLimits::default())
            .expect_err("refused")
            .to_string();
        assert!(error.contains(expected), "{value}: {error}");
        assert!(error.contains("Observation.valueQuantity.value") && error.contains("line 3"), "{error}");
    }
}

fn with_extension(value: Value) -> Value {
    json!({"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"},
        "extension": [{"url": "http://example.org/x", "value": value}]})
}

fn with_typed_extension(name: &str, value: Value) -> Value {
    let mut resource = with_extension(Value::Null);
    let extension = resource["extension"][0].as_object_mut().unwrap();
    extension.remove("value");
    extension.insert(name.to_owned(), value);
    resource
}

#[test]
fn integers_must_be_in_their_types_range_to_be_ingested() {
    let cases = [
        ("valueInteger", json!(2_147_483_647), true),
        ("valueInteger", json!(-2_147_483_648_i64), true),
        ("valueInteger", json!(2_147_483_648_i64), false),
        ("valueUnsignedInt", json!(0), true),
        ("valueUnsignedInt", json!(-1), false),
        ("valueUnsignedInt", json!(3_000_000_000_u64), false),
        ("valuePositiveInt", json!(1), true),
        ("valuePositiveInt", json!(0), false),
        ("valuePositiveInt", json!(3_000_000_000_u64), false),
        ("valueDecimal", json!(3_000_000_000_u64), true),
    ];
    for release in [Release::Stu3, Release::R4] {
        for (name, value, fits) in &cases {
            let resource = with_typed_extension(name, value.clone());
            let checked = check_writable(release, &resource);
            assert_eq!(checked.is_ok(), *fits, "{release:?} {name} {value}: {checked:?}");
            if let Err(error) = checked {
                assert!(error.to_string().contains("Observation.extension.") && error.to_string().contains(name));
                // Serving writes what is stored without judging it again.
                assert!(to_xml(release, &resource, UnknownMembers::Skip).is_ok());
            }
        }
    }
    let decimal: Value = serde_json::from_str(
        r#"{"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"text": "x"}, "extension": [{"url": "http://example.org/x", "valueInteger": 1.5}]}"#,
    )
    .unwrap();
    assert!(check_writable(Release::Stu3, &decimal).is_err(), "an integer has no fraction");
}
