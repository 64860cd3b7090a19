//! The dialect read from small scripts of this project's own, written the way the published
//! qualification scripts are: each construct is read, what the runner cannot use is a warning.

use super::extensions::{self, DeclaredRule, RuleCall};
use crate::testscript::load::{Script, load_file};
use crate::testscript::model::Assert;
use fhir_core::Release;

fn load(name: &str, text: &str) -> Script {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    load_file(&path).expect("a TestScript").script.unwrap_or_else(|why| panic!("not read: {why}"))
}

fn asserts(script: &Script) -> Vec<&Assert> {
    script.definition.test.iter().flat_map(|test| &test.action).filter_map(|action| action.assert.as_ref()).collect()
}

const OPERATION_STU3: &str = r#"<action><operation><type><system value="http://hl7.org/fhir/testscript-operation-codes"/><code value="search"/></type><resource value="Patient"/><accept value="json"/><destination value="1"/><origin value="1"/><params value="?_include=Patient:general-practitioner"/></operation></action>"#;

/// An STU3 script in the published form: the build tool's namespace declared and one of its
/// elements left in, a rule declared with its Groovy file, `stopTestOnFail` both as an element and
/// as the extension, a profile with a `value`, a schema hint, an element out of order and one
/// STU3 does not have.
fn stu3_script() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<TestScript xmlns="http://hl7.org/fhir" xmlns:nts="http://nictiz.nl/xsl/testscript" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir testscript.xsd">
  <id value="dialect-stu3"/>
  <meta><profile value="http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript"/></meta>
  <url value="http://example.org/fhir/TestScript/dialect-stu3"/>
  <status value="active"/>
  <name value="dialect-stu3"/>
  <origin><index value="1"/><profile><system value="http://hl7.org/fhir/testscript-profile-origin-types"/><code value="FHIR-Client"/></profile></origin>
  <profile id="Bundle-profile" value="http://hl7.org/fhir/StructureDefinition/Bundle"/>
  <variable><name value="T"/><defaultValue value="${{CURRENTDATE}}"/></variable>
  <rule id="assert_response_queryParamsInSelfLink"><resource><reference value="../_reference/rules/assert_response_queryParamsInSelfLink.groovy"/></resource></rule>
  <test id="t1">
    <name value="t1"/>
    <nts:include value="assert.birthdate"/>
    {OPERATION_STU3}
    <action><assert><description value="ok"/><operator value="in"/><responseCode value="200,201"/><stopTestOnFail value="true"/></assert></action>
    <action><assert><extension url="http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-stopTestOnFail"><valueBoolean value="false"/></extension><description value="self link"/><rule><ruleId value="assert_response_queryParamsInSelfLink"/><param><name value="extra"/><value value="x"/></param></rule><warningOnly value="true"/></assert></action>
    <action><assert><description value="validated"/><validateProfileId value="Bundle-profile"/><ruleset value="nothing"/></assert></action>
  </test>
</TestScript>"#
    )
}

#[test]
fn an_stu3_script_in_the_dialect_is_read_with_warnings_for_what_is_left_out() {
    let script = load("dialect-stu3.xml", &stu3_script());
    assert_eq!(script.release.release, Release::Stu3, "{}", script.release.why);
    let warnings = script.warnings.join("\n");
    assert!(
        warnings.contains("TestScript.test.include is ignored: an element outside the FHIR namespace"),
        "{warnings}"
    );
    assert!(warnings.contains("TestScript.test.action.assert.ruleset@value is ignored"), "{warnings}");
    assert!(warnings.contains("TestScript.test.action.assert.ruleset is ignored: nothing FHIR has"), "{warnings}");
    assert!(
        !warnings.contains("stopTestOnFail") && !warnings.contains("profile"),
        "read, not warned about: {warnings}"
    );
    assert_eq!(
        script.definition.profile[0].parts(),
        (Some("Bundle-profile"), Some("http://hl7.org/fhir/StructureDefinition/Bundle"))
    );
    let asserts = asserts(&script);
    assert!(extensions::stops_test(asserts[0]), "the element");
    assert!(!extensions::stops_test(asserts[1]), "the extension saying false");
    let call = extensions::rule_call(asserts[1]);
    assert_eq!(
        call,
        Some(RuleCall {
            id: "assert_response_queryParamsInSelfLink".into(),
            params: vec![("extra".into(), "x".into())]
        })
    );
    assert_eq!(
        extensions::declared_rules(&script.definition),
        [DeclaredRule {
            id: "assert_response_queryParamsInSelfLink".into(),
            path: Some("../_reference/rules/assert_response_queryParamsInSelfLink.groovy".into()),
            params: Vec::new(),
        }]
    );
}

/// An R4 script in the published form: the rule declared and called through the engine's
/// extensions, `stopTestOnFail` as an element (R4 does not have it), an extension the runner does
/// not know.
const R4_SCRIPT: &str = r#"<TestScript xmlns="http://hl7.org/fhir">
  <id value="dialect-r4"/>
  <extension url="http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-rule">
    <extension url="ruleId"><valueId value="assert-response-queryParamsInSelfLink"/></extension>
    <extension url="path"><valueString value="../_reference/rules/assert_response_queryParamsInSelfLink.groovy"/></extension>
  </extension>
  <extension url="http://example.org/unknown"><valueString value="x"/></extension>
  <url value="http://example.org/fhir/TestScript/dialect-r4"/>
  <name value="dialect-r4"/>
  <status value="active"/>
  <test>
    <name value="t"/>
    <action><operation><type><system value="http://terminology.hl7.org/CodeSystem/testscript-operation-codes"/><code value="search"/></type><resource value="Immunization"/><accept value="json"/><encodeRequestUrl value="true"/><params value="?_include=Immunization:patient"/></operation></action>
    <action><assert><description value="ok"/><operator value="in"/><responseCode value="200,201"/><stopTestOnFail value="true"/><warningOnly value="false"/></assert></action>
    <action><assert>
      <extension url="http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-stopTestOnFail"><valueBoolean value="false"/></extension>
      <extension url="http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-rule">
        <extension url="ruleId"><valueId value="assert-response-queryParamsInSelfLink"/></extension>
        <extension url="param"><extension url="name"><valueString value="p"/></extension><extension url="value"><valueString value="v"/></extension></extension>
      </extension>
      <warningOnly value="true"/>
    </assert></action>
  </test>
</TestScript>"#;

#[test]
fn an_r4_script_in_the_dialect_reads_its_rule_extensions_and_stop_element() {
    let script = load("dialect-r4.xml", R4_SCRIPT);
    assert_eq!(script.release.release, Release::R4, "{}", script.release.why);
    let warnings = script.warnings.join("\n");
    assert!(warnings.contains("TestScript.extension http://example.org/unknown is ignored"), "{warnings}");
    assert_eq!(script.warnings.len(), 1, "{warnings}");
    let asserts = asserts(&script);
    assert!(extensions::stops_test(asserts[0]));
    assert_eq!(
        extensions::rule_call(asserts[1]),
        Some(RuleCall { id: "assert-response-queryParamsInSelfLink".into(), params: vec![("p".into(), "v".into())] })
    );
    let declared = extensions::declared_rules(&script.definition);
    assert_eq!(declared[0].id, "assert-response-queryParamsInSelfLink");
    assert!(declared[0].path.as_deref().is_some_and(|path| path.ends_with("queryParamsInSelfLink.groovy")));
}

#[test]
fn a_json_script_in_the_dialect_is_read_with_warnings_for_unknown_members() {
    let json = serde_json::json!({
        "resourceType": "TestScript", "id": "dialect-json", "url": "http://example.org/fhir/TestScript/dialect-json",
        "name": "dialect-json", "status": "active",
        "profile": [{"id": "Bundle-profile", "value": "http://hl7.org/fhir/StructureDefinition/Bundle"}],
        "test": [{"name": "t", "action": [
            {"operation": {"type": {"system": "http://hl7.org/fhir/testscript-operation-codes", "code": "search"},
                "resource": "Patient", "accept": "json", "madeUp": true}},
            {"assert": {"responseCode": "200", "stopTestOnFail": true, "_responseCode": {"extension": []}}}
        ]}]
    });
    let script = load("dialect.json", &json.to_string());
    assert_eq!(script.release.release, Release::Stu3);
    assert_eq!(
        script.warnings,
        ["TestScript.test.action.operation.madeUp is ignored: not an element of this FHIR release (FHIR STU3)"]
    );
    assert!(extensions::stops_test(asserts(&script)[0]));
    assert_eq!(script.definition.profile[0].parts().1, Some("http://hl7.org/fhir/StructureDefinition/Bundle"));
}

#[test]
fn elements_out_of_order_are_put_in_order_and_the_narrative_is_kept() {
    let text = r#"<TestScript xmlns="http://hl7.org/fhir"><name value="o"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>A <b>narrative</b></p></div></text><id value="order"/><status value="active"/><url value="http://example.org/fhir/TestScript/order"/><test><description value="d"><extension url="http://example.org/note"><valueString value="n"/></extension><foo value="x"/></description><action><operation><type><system value="http://hl7.org/fhir/testscript-operation-codes"/><code value="read"/></type><resource value="Patient"/><params value="/1"/></operation></action></test></TestScript>"#;
    let script = load("order.xml", text);
    assert_eq!(script.id, "order");
    // The primitive's extension is kept (and, being unknown, named); what a primitive cannot hold is left out.
    assert_eq!(
        script.warnings,
        [
            "TestScript.test.description.foo is ignored: a primitive value holds only extensions (FHIR STU3)",
            "TestScript.test._description.extension http://example.org/note is ignored: an extension this runner does not read",
        ]
    );
}

#[test]
fn a_rule_declared_with_the_other_engines_extension_is_read() {
    let text = R4_SCRIPT.replace(
        "http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-rule",
        "http://fhir.interoplab.eu/fhir/StructureDefinition/Interoplab-CL-ext-rule",
    );
    let script = load("interoplab.xml", &text);
    let declared = extensions::declared_rules(&script.definition);
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0].id, "assert-response-queryParamsInSelfLink");
}
