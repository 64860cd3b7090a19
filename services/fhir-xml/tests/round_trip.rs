//! Round trips: JSON -> XML -> JSON gives the same JSON, XML -> JSON -> XML the same XML (as
//! XML: attribute order, white space between elements and comments aside). Over the project's
//! own fixtures everywhere, and over the public corpus where it is present
//! (`../shared/corpus`; `PGO_EXCHANGE_REQUIRE_CORPUS` makes its absence a failure).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod xml_tree;

use fhir_core::Release;
use fhir_xml::{ReadLimits, UnknownMembers, from_xml, to_xml};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use test_support::corpus;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).expect("fixture")
}

/// JSON -> XML -> JSON; returns the XML.
fn json_round_trip(release: Release, json: &Value) -> Result<String, String> {
    let xml = to_xml(release, json, UnknownMembers::Refuse).map_err(|error| error.to_string())?;
    let back = from_xml(release, xml.as_bytes(), ReadLimits::default()).map_err(|error| format!("{error}\n{xml}"))?;
    if &back != json {
        return Err(format!("JSON changed:\n{json}\n{back}"));
    }
    Ok(xml)
}

/// XML -> JSON -> XML.
fn xml_round_trip(release: Release, xml: &[u8]) -> Result<Value, String> {
    let json = from_xml(release, xml, ReadLimits::default()).map_err(|error| error.to_string())?;
    let again = to_xml(release, &json, UnknownMembers::Refuse).map_err(|error| error.to_string())?;
    xml_tree::assert_same(xml, again.as_bytes())?;
    json_round_trip(release, &json)?;
    Ok(json)
}

#[test]
fn own_stu3_fixtures_survive_json_to_xml_and_back() {
    for name in ["stu3-observation.json", "stu3-patient.json"] {
        let json: Value = serde_json::from_slice(&fixture(name)).expect("JSON");
        let xml = json_round_trip(Release::Stu3, &json).unwrap_or_else(|error| panic!("{name}: {error}"));
        xml_tree::assert_same(xml.as_bytes(), xml.as_bytes()).expect("self");
    }
}

#[test]
fn decimals_keep_their_text_and_primitive_extensions_their_place() {
    let json: Value = serde_json::from_slice(&fixture("stu3-observation.json")).expect("JSON");
    let xml = to_xml(Release::Stu3, &json, UnknownMembers::Refuse).expect("XML");
    assert!(xml.contains(r#"<value value="120.50"/>"#), "{xml}");
    assert!(xml.contains(r#"<value value="80.0"/>"#), "{xml}");
    assert!(xml.contains(r#"<status id="s1" value="final"><extension url="http://example.org/why">"#), "{xml}");
    assert!(xml.contains("line one&#10;line two&#9;tabbed &quot;quoted&quot; &lt;b&gt;&amp;"), "{xml}");
    assert!(xml.contains(r#"<contained><Practitioner><id value="p1"/>"#), "{xml}");
    assert!(xml.contains(r#"<component id="c1"><code>"#), "{xml}");
    // Element order is the definition's, whatever the JSON's member order.
    let text = xml.find("<text>").expect("text");
    let contained = xml.find("<contained>").expect("contained");
    let status = xml.find("<status id").expect("status");
    assert!(text < contained && contained < status);
}

#[test]
fn own_r4_fixture_survives_xml_to_json_and_back() {
    let json = xml_round_trip(Release::R4, &fixture("r4-immunization.xml")).expect("round trip");
    assert_eq!(json["doseQuantity"]["value"].to_string(), "0.10");
    assert_eq!(json["protocolApplied"][0]["doseNumberPositiveInt"], 1);
    assert_eq!(json["extension"][0]["valueString"], "left & right arm\nsecond line");
    assert_eq!(json["_occurrenceDateTime"]["extension"][0]["valueCode"], "day");
    assert!(json["text"]["div"].as_str().expect("div").contains("<!-- narrative comments stay as written -->"));
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|entry| entry.into_path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

#[test]
fn stu3_corpus_round_trips_except_its_three_known_faults_which_are_named() {
    let Some(dir) = corpus("stu3-zib2017") else { return };
    let mut failures = BTreeMap::new();
    let all = files(&dir, "json");
    for path in &all {
        let json: Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
        if let Err(error) = json_round_trip(Release::Stu3, &json) {
            failures.insert(path.file_name().expect("name").to_string_lossy().into_owned(), error);
        }
    }
    assert_eq!(all.len(), 54);
    // Each is a real fault of the file (see ../shared/findings.md), refused with its path.
    let expected = BTreeMap::from([
        (
            "zib-laboratorytestresult-observation-02.json".to_owned(),
            "Observation.basedOn: this element repeats; its value must be a JSON array".to_owned(),
        ),
        (
            "zib-medicationagreement-02.json".to_owned(),
            "MedicationRequest.extension: 'valueCodableConcept' is not an element here".to_owned(),
        ),
        (
            "zib-vaccinationrecommendation-02.json".to_owned(),
            "ImmunizationRecommendation.recommendation.protocol.doseSequence: the value must be a JSON number"
                .to_owned(),
        ),
    ]);
    assert_eq!(failures, expected);
}

#[test]
fn r4_corpus_round_trips_both_ways() {
    let Some(dir) = corpus("r4-zib2020/examples") else { return };
    let all = files(&dir, "xml");
    let mut failures = BTreeMap::new();
    for path in &all {
        if let Err(error) = xml_round_trip(Release::R4, &std::fs::read(path).expect("read")) {
            failures.insert(path.file_name().expect("name").to_string_lossy().into_owned(), error);
        }
    }
    assert_eq!(all.len(), 271);
    assert!(failures.is_empty(), "{} of {} failed: {failures:#?}", failures.len(), all.len());
}
