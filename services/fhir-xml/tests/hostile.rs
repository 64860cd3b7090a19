//! Hostile and broken XML is refused with a message that says what is wrong, and never panics
//! or resolves an entity (property tests feed the reader random and mutated documents).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_core::Release;
use fhir_xml::{ReadLimits, from_xml};
use proptest::prelude::*;

const VALID: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Jan</p></div></text>
  <identifier><system value="http://fhir.nl/fhir/NamingSystem/bsn"/><value value="999999990"/></identifier>
  <active value="true"/>
  <name><family value="Fictief"/><given value="Jan"/></name>
  <birthDate value="1970-01-01"/>
</Patient>"#;

fn refused(xml: &str) -> String {
    match from_xml(Release::R4, xml.as_bytes(), ReadLimits::default()) {
        Ok(value) => panic!("accepted: {value}"),
        Err(error) => error.to_string(),
    }
}

fn assert_refused(xml: &str, expected: &str) {
    let message = refused(xml);
    assert!(message.contains(expected), "expected '{expected}' in: {message}");
}

#[test]
fn the_valid_document_is_read() {
    let patient = from_xml(Release::R4, VALID.as_bytes(), ReadLimits::default()).expect("valid");
    assert_eq!(patient["active"], true);
    assert_eq!(patient["name"][0]["given"][0], "Jan");
}

#[test]
fn malformed_xml_is_refused() {
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"></Patient>"#, "malformed XML");
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1/></Patient>"#, "malformed XML");
    assert_refused("", "no root element");
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>"#, "after the root");
}

#[test]
fn the_wrong_namespace_is_refused() {
    assert_refused(r#"<Patient><id value="p1"/></Patient>"#, "not in the FHIR namespace");
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir/"><id value="p1"/></Patient>"#, "not in the FHIR namespace");
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div><p>x</p></div></text></Patient>"#,
        "must be in the namespace http://www.w3.org/1999/xhtml",
    );
    assert_refused(r#"<f:Patient xmlns="http://hl7.org/fhir"/>"#, "prefix 'f' is not declared");
}

#[test]
fn unknown_misplaced_and_repeated_elements_are_refused_by_name() {
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><nickname value="J"/></Patient>"#,
        "'nickname' is not an element here",
    );
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/><id value="p1"/></Patient>"#,
        "'id' must come before 'active'",
    );
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/><active value="false"/></Patient>"#,
        "may appear only once",
    );
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><active value="true" colour="red"/></Patient>"#,
        "unknown attribute 'colour'",
    );
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><active>true</active></Patient>"#, "text is not allowed");
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>"#, "not a boolean");
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><multipleBirthInteger value="1,5"/></Patient>"#,
        "not a FHIR number",
    );
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><name/></Patient>"#, "the element is empty");
    assert_refused(r#"<Nonsense xmlns="http://hl7.org/fhir"/>"#, "'Nonsense' is not a resource type");
}

#[test]
fn document_type_declarations_and_entities_are_never_expanded() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE Patient [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>"#;
    assert_refused(laughs, "document type declarations");
    let external = r#"<?xml version="1.0"?>
<!DOCTYPE Patient [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&secret;"/></Patient>"#;
    assert_refused(external, "document type declarations");
    // Without a DTD an entity is simply undefined.
    assert_refused(r#"<Patient xmlns="http://hl7.org/fhir"><id value="&secret;"/></Patient>"#, "bad attribute value");
    assert_refused(
        r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div></text></Patient>"#,
        "which XML does not define",
    );
}

#[test]
fn unsafe_narratives_are_refused() {
    let with = |div: &str| {
        format!(r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>{div}</text></Patient>"#)
    };
    assert_refused(&with(r#"<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>"#), "<script>");
    assert_refused(
        &with(r#"<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">a</p></div>"#),
        "event handlers",
    );
    assert_refused(
        &with(r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:x()">a</a></div>"#),
        "javascript:",
    );
    assert_refused(
        &with(r#"<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>a</h:p><p xmlns="urn:other">b</p></h:div>"#),
        "only XHTML elements",
    );
}

#[test]
fn oversized_and_overdeep_input_is_refused() {
    let limits = ReadLimits { max_bytes: 64, max_depth: 64 };
    let message = from_xml(Release::R4, VALID.as_bytes(), limits).expect_err("too large").to_string();
    assert!(message.contains("larger than 64 bytes"), "{message}");
    let depth = 200;
    let mut deep = String::from(r#"<Patient xmlns="http://hl7.org/fhir">"#);
    for _ in 0..depth {
        deep.push_str(r#"<extension url="http://example.org/x">"#);
    }
    deep.push_str(r#"<valueString value="x"/>"#);
    for _ in 0..depth {
        deep.push_str("</extension>");
    }
    deep.push_str("</Patient>");
    assert_refused(&deep, "nest deeper than 64");
}

#[test]
fn other_encodings_are_refused() {
    assert_refused(
        r#"<?xml version="1.0" encoding="ISO-8859-1"?><Patient xmlns="http://hl7.org/fhir"/>"#,
        "only UTF-8",
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = from_xml(Release::Stu3, &bytes, ReadLimits::default());
    }

    #[test]
    fn mutated_documents_never_panic(cut in 0usize..VALID.len(), insert in "[<>/&;\"= a-z!?\\[\\]-]{0,12}", drop in 0usize..16) {
        let mut text = VALID.as_bytes().to_vec();
        let end = (cut + drop).min(text.len());
        text.splice(cut..end, insert.bytes());
        let _ = from_xml(Release::R4, &text, ReadLimits::default());
    }

    #[test]
    fn read_values_write_back_the_same(given in "[^\u{0}-\u{1f}\u{fffe}\u{ffff}]{1,40}", number in "-?(0|[1-9][0-9]{0,8})(\\.[0-9]{1,6})?") {
        let json = serde_json::json!({
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": given},
            "valueQuantity": {"value": serde_json::from_str::<serde_json::Value>(&number).expect("number")},
        });
        let xml = fhir_xml::to_xml(Release::R4, &json, fhir_xml::UnknownMembers::Refuse).expect("writes");
        let back = from_xml(Release::R4, xml.as_bytes(), ReadLimits::default()).expect("reads");
        prop_assert_eq!(back, json);
    }
}

#[test]
fn a_misplaced_element_is_read_with_a_note_only_when_asked() {
    use fhir_xml::from_xml_noting_order;
    let misplaced = r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/><id value="p1"/><identifier><value value="a"/></identifier><identifier><value value="b"/></identifier><gender value="male"/></Patient>"#;
    let (patient, notes) =
        from_xml_noting_order(Release::Stu3, misplaced.as_bytes(), ReadLimits::default()).expect("read all the same");
    assert_eq!(patient["id"], "p1");
    assert_eq!(patient["identifier"][1]["value"], "b");
    // `id` and `identifier` both belong before `active`: each is noted once, the second
    // `identifier` joining the first.
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("'id' must come before 'active'"), "{notes:?}");
    assert!(notes[1].contains("'identifier' must come before 'active'"), "{notes:?}");
    assert!(from_xml(Release::Stu3, misplaced.as_bytes(), ReadLimits::default()).is_err(), "strict by default");
    // Still refused: the same element in two places, and anything else FHIR XML forbids.
    let split = r#"<Patient xmlns="http://hl7.org/fhir"><identifier><value value="a"/></identifier><active value="true"/><identifier><value value="b"/></identifier></Patient>"#;
    assert!(from_xml_noting_order(Release::Stu3, split.as_bytes(), ReadLimits::default()).is_err());
    let unknown = r#"<Patient xmlns="http://hl7.org/fhir"><nickname value="J"/></Patient>"#;
    assert!(from_xml_noting_order(Release::Stu3, unknown.as_bytes(), ReadLimits::default()).is_err());
}
