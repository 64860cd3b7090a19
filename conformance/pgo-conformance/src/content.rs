//! The checks the qualification makes on every search answer: a `searchset` Bundle, a right
//! `Bundle.total`, a self link that echoes the handled parameters and holds no patient parameter,
//! absolute `fullUrl`s ending in the resource's id, `meta.profile` on every resource, Codings with
//! system and code, References with a display, and no BSN anywhere (a BSN identifier only with its
//! value masked). And the checks on a document a PGO reads through a DocumentReference: a Binary,
//! the one named, holding a PDF.
//!
//! Codings and References are found by type, walking each resource with the FHIR structure of
//! its release (`fhir-xml`'s tables), not by guessing from member names.

use crate::outcome::Check;
use base64::Engine;
use fhir_core::Release;
use fhir_xml::{Kind, Structure};
use serde_json::Value;

/// The BSN identifier system.
pub const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";

/// Query parameters that say whose data to return: a PGO never sends them, and a self link must
/// never hold them.
const PATIENT_PARAMETERS: [&str; 4] = ["patient", "subject", "patient.identifier", "subject.identifier"];

fn check(expected: impl Into<String>, passed: bool, found: impl Into<String>) -> Check {
    Check::new(expected, passed, found)
}

/// The content checks of a search answer `bundle` to `request` (the URL asked; parameters the
/// self link must echo are all of its query but `_format`), for a server of `release`; `bsns`
/// are the test patients' BSNs.
pub fn searchset_checks(bundle: &Value, request: &url::Url, release: Release, bsns: &[String]) -> Vec<Check> {
    let mut checks = Vec::new();
    let is_searchset = bundle["resourceType"] == "Bundle" && bundle["type"] == "searchset";
    checks.push(check(
        "a searchset Bundle",
        is_searchset,
        format!("resourceType {} type {}", bundle["resourceType"], bundle["type"]),
    ));
    if !is_searchset {
        return checks;
    }
    let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    checks.push(total_check(bundle, entries));
    checks.extend(self_link_checks(bundle, request, bsns));
    checks.push(full_url_check(entries));
    let resources: Vec<&Value> = entries.iter().map(|entry| &entry["resource"]).collect();
    checks.push(profile_check(&resources));
    let mut found = Found::default();
    for resource in &resources {
        walk_resource(Structure::of(release), resource, &mut found);
    }
    checks.push(check(
        "every Coding has a system and a code",
        found.bad_codings.is_empty(),
        first_few(&found.bad_codings),
    ));
    checks.push(check(
        "every Reference has a display (or a data-absent-reason or nullFlavor extension)",
        found.bad_references.is_empty(),
        first_few(&found.bad_references),
    ));
    // The searchset checks the MedMij qualification scripts share (Nictiz's XIS-Server
    // TestScripts), beside those above.
    checks.push(check(
        "no Coding has the OID of a zib value set as its system",
        found.zib_value_set_systems.is_empty(),
        first_few(&found.zib_value_set_systems),
    ));
    checks.push(check(
        "every CodeableConcept has a coding.display, a text or an extension",
        found.bad_concepts.is_empty(),
        first_few(&found.bad_concepts),
    ));
    checks.push(check(
        "every Identifier has a system (or type) and a value (or its value's extension)",
        found.bad_identifiers.is_empty(),
        first_few(&found.bad_identifiers),
    ));
    let without_id: Vec<String> = entries
        .iter()
        .filter(|entry| entry["resource"]["id"].as_str().is_none_or(str::is_empty))
        .filter_map(|entry| entry["fullUrl"].as_str().map(str::to_owned))
        .filter(|full_url| !full_url.starts_with("urn:"))
        .collect();
    checks.push(check("every resource has an id", without_id.is_empty(), first_few(&without_id)));
    checks.push(no_bsn_check(bundle, &resources, bsns));
    checks
}

fn first_few(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    let more = if items.len() > 5 { format!(" and {} more", items.len() - 5) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

fn total_check(bundle: &Value, entries: &[Value]) -> Check {
    let matches =
        entries.iter().filter(|entry| entry["search"]["mode"].as_str().is_none_or(|mode| mode == "match")).count()
            as u64;
    let paged = links(bundle).iter().any(|(relation, _)| relation == "next");
    match bundle["total"].as_u64() {
        None => check("Bundle.total is present", false, "no total"),
        Some(total) if paged => check(
            "Bundle.total counts at least the matches of this page",
            total >= matches,
            format!("total {total}, {matches} matches on this page"),
        ),
        Some(total) => check(
            "Bundle.total equals the number of matches",
            total == matches,
            format!("total {total}, {matches} match entries"),
        ),
    }
}

/// The Bundle's links as (relation, url).
pub fn links(bundle: &Value) -> Vec<(String, String)> {
    bundle["link"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|link| Some((link["relation"].as_str()?.to_owned(), link["url"].as_str()?.to_owned())))
        .collect()
}

fn self_link_checks(bundle: &Value, request: &url::Url, bsns: &[String]) -> Vec<Check> {
    let Some(self_link) = links(bundle).into_iter().find(|(relation, _)| relation == "self").map(|(_, url)| url) else {
        return vec![check("a self link", false, "no link with relation self")];
    };
    let Ok(link) = url::Url::parse(&self_link) else {
        return vec![check("the self link is an absolute URL", false, self_link)];
    };
    let echoed: Vec<(String, String)> =
        link.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect();
    let missing: Vec<String> = request
        .query_pairs()
        .filter(|(name, _)| name != "_format")
        .filter(|(name, value)| {
            !echoed.iter().any(|(echoed_name, echoed_value)| echoed_name == name && echoed_value == value)
        })
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let patient: Vec<String> = echoed
        .iter()
        .filter(|(name, _)| PATIENT_PARAMETERS.contains(&name.split(':').next().unwrap_or_default()))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    vec![
        check(
            "the self link echoes every handled parameter",
            missing.is_empty(),
            format!("missing {}", missing.join(", ")),
        ),
        check("the self link has no patient parameter", patient.is_empty(), patient.join(", ")),
        check(
            "the self link holds no BSN",
            !bsns.iter().any(|bsn| self_link.contains(bsn.as_str())) && !self_link.contains(BSN_SYSTEM),
            "a test patient's BSN, or the BSN system, is in the self link",
        ),
    ]
}

fn full_url_check(entries: &[Value]) -> Check {
    let bad: Vec<String> = entries
        .iter()
        .filter_map(|entry| {
            let full_url = entry["fullUrl"].as_str().unwrap_or_default();
            let kind = entry["resource"]["resourceType"].as_str().unwrap_or_default();
            let id = entry["resource"]["id"].as_str().unwrap_or_default();
            let absolute = url::Url::parse(full_url).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
            let ends = !id.is_empty() && full_url.ends_with(&format!("/{kind}/{id}"));
            (!(absolute && ends)).then(|| format!("{kind}/{id}: {full_url:?}"))
        })
        .collect();
    check("every entry has an absolute fullUrl ending in Type/id", bad.is_empty(), first_few(&bad))
}

fn profile_check(resources: &[&Value]) -> Check {
    let bad: Vec<String> = resources
        .iter()
        .filter(|resource| resource["meta"]["profile"].as_array().is_none_or(Vec::is_empty))
        .map(|resource| {
            format!("{}/{}", resource["resourceType"].as_str().unwrap_or("?"), resource["id"].as_str().unwrap_or("?"))
        })
        .collect();
    check("every resource has meta.profile", bad.is_empty(), first_few(&bad))
}

fn no_bsn_check(bundle: &Value, resources: &[&Value], bsns: &[String]) -> Check {
    // MedMij allows no BSN in anything a PGO receives, the person's own Patient included: an
    // identifier of the BSN system may be there only with its value withheld.
    let text = bundle.to_string();
    let known = bsns.iter().any(|bsn| text.contains(bsn.as_str()));
    let with_value: Vec<String> = resources
        .iter()
        .filter(|resource| holds_bsn_value(resource))
        .map(|resource| {
            format!("{}/{}", resource["resourceType"].as_str().unwrap_or("?"), resource["id"].as_str().unwrap_or("?"))
        })
        .collect();
    check(
        "no BSN anywhere (a BSN identifier only with its value masked)",
        !known && with_value.is_empty(),
        if known {
            "a test patient's BSN appears".to_owned()
        } else {
            format!("a BSN identifier with a value in {}", first_few(&with_value))
        },
    )
}

/// The checks of a Binary read as FHIR, the document with id `id` that a DocumentReference named
/// (the PDF/A qualification's scenario 1.4 asks for a Binary; a PDF/A document is a PDF): the
/// Binary asked for, `application/pdf` as its contentType, base64 content that is a PDF, and no
/// BSN of `bsns`.
pub fn document_checks(binary: &Value, id: &str, bsns: &[String]) -> Vec<Check> {
    let kind = binary["resourceType"].as_str().unwrap_or_default();
    let found_id = binary["id"].as_str().unwrap_or_default();
    let content_type = binary["contentType"].as_str().unwrap_or_default();
    // XML writers may wrap base64 over lines.
    let content: String =
        binary["content"].as_str().unwrap_or_default().chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let decoded = base64::engine::general_purpose::STANDARD.decode(&content);
    let text = binary.to_string();
    vec![
        check("a Binary", kind == "Binary", kind),
        check(format!("the Binary named ({id})"), found_id == id, found_id),
        check(
            "its contentType is application/pdf",
            content_type.split(';').next().unwrap_or_default().trim() == "application/pdf",
            content_type,
        ),
        match decoded {
            Ok(bytes) => check(
                "its content is a PDF (base64 of bytes starting %PDF-)",
                bytes.starts_with(b"%PDF-"),
                format!("{} bytes", bytes.len()),
            ),
            Err(error) => check("its content is a PDF (base64 of bytes starting %PDF-)", false, error.to_string()),
        },
        check(
            "no BSN anywhere",
            !bsns.iter().any(|bsn| text.contains(bsn.as_str())) && !holds_bsn_value(binary),
            "a BSN in the Binary",
        ),
    ]
}

/// Whether `value` holds an identifier of the BSN system with a value, anywhere.
pub fn holds_bsn_value(value: &Value) -> bool {
    match value {
        Value::Object(members) => {
            (members.get("system").and_then(Value::as_str) == Some(BSN_SYSTEM) && members.contains_key("value"))
                || members.values().any(holds_bsn_value)
        }
        Value::Array(items) => items.iter().any(holds_bsn_value),
        _ => false,
    }
}

/// What the typed walk found wrong.
#[derive(Debug, Default)]
struct Found {
    bad_codings: Vec<String>,
    bad_references: Vec<String>,
    zib_value_set_systems: Vec<String>,
    bad_concepts: Vec<String>,
    bad_identifiers: Vec<String>,
}

/// The OID prefix of the zib value sets, which a Coding must not use as its code system.
const ZIB_VALUE_SET_OID: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.2";
/// The extensions that stand in for a missing value.
const ABSENT: [&str; 2] = [
    "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
    "http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor",
];

fn walk_resource(structure: &Structure, resource: &Value, found: &mut Found) {
    let Some(kind) = resource["resourceType"].as_str() else { return };
    let path = format!("{kind}/{}", resource["id"].as_str().unwrap_or("?"));
    walk(structure, kind, resource, &path, found);
}

/// Walks `value` of type `type_name`, noting Codings without system or code and References
/// without a display.
fn walk(structure: &Structure, type_name: &str, value: &Value, path: &str, found: &mut Found) {
    let blank = |name: &str| value[name].as_str().is_none_or(str::is_empty);
    // A reference to a contained resource (`#id`) is inside the resource itself.
    let contained = value["reference"].as_str().is_some_and(|reference| reference.starts_with('#'));
    let has = |name: &str| value.get(name).is_some_and(|member| !member.is_null());
    let absent = value["extension"]
        .as_array()
        .is_some_and(|extensions| extensions.iter().any(|extension| ABSENT.iter().any(|url| extension["url"] == *url)));
    match type_name {
        "Coding" => {
            if blank("system") || blank("code") {
                found.bad_codings.push(path.to_owned());
            }
            if value["system"].as_str().is_some_and(|system| system.starts_with(ZIB_VALUE_SET_OID)) {
                found.zib_value_set_systems.push(path.to_owned());
            }
        }
        "Reference" if !contained && blank("display") && !absent => found.bad_references.push(path.to_owned()),
        "CodeableConcept" => {
            let displayed = value["coding"]
                .as_array()
                .is_some_and(|codings| codings.iter().any(|coding| coding["display"].as_str().is_some()));
            if !(displayed || has("text") || has("extension")) {
                found.bad_concepts.push(path.to_owned());
            }
        }
        // A value withheld (a masked BSN) is there as `_value`, with its extension.
        "Identifier" if !((has("system") || has("type")) && (has("value") || has("_value"))) => {
            found.bad_identifiers.push(path.to_owned());
        }
        _ => {}
    }
    let Some(object) = value.as_object() else { return };
    let Some(def) = structure.type_def(type_name) else { return };
    for (name, child) in object {
        if name == "resourceType" || name.starts_with('_') {
            continue;
        }
        let Some((element, type_index)) = def.element(name) else { continue };
        let Some(child_type) = element.types.get(type_index) else { continue };
        let items: Vec<&Value> = match child {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        for item in items {
            let child_path = format!("{path}.{name}");
            let is_resource = structure.type_def(child_type).is_some_and(|child_def| child_def.kind == Kind::Resource);
            if is_resource {
                walk_resource(structure, item, found);
            } else {
                walk(structure, child_type, item, &child_path, found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "resourceType": "Bundle", "type": "searchset", "total": 1,
            "link": [{"relation": "self", "url": "https://x.example/umcx/48/fhir/Observation?code=http%3A%2F%2Floinc.org%7C8302-2"}],
            "entry": [{
                "fullUrl": "https://x.example/umcx/48/fhir/Observation/o1",
                "resource": {
                    "resourceType": "Observation", "id": "o1",
                    "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyHeight"]},
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2", "display": "Lengte"}]},
                    "subject": {"reference": "Patient/p1", "display": "A. Jansen"},
                    "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "x"}], "text": "x"}}]
                },
                "search": {"mode": "match"}
            }]
        })
    }

    fn request() -> url::Url {
        url::Url::parse("https://x.example/umcx/48/fhir/Observation?code=http://loinc.org|8302-2&_format=json").unwrap()
    }

    fn failed(bundle: &Value) -> Vec<String> {
        searchset_checks(bundle, &request(), Release::Stu3, &["999911120".into()])
            .into_iter()
            .filter(|check| !check.passed)
            .map(|check| check.expected)
            .collect()
    }

    #[test]
    fn a_good_bundle_passes_every_check() {
        let checks = searchset_checks(&good(), &request(), Release::Stu3, &[]);
        assert_eq!(checks.len(), 14);
        assert!(checks.iter().all(|check| check.passed), "{checks:?}");
    }

    #[test]
    fn each_fault_fails_its_own_check() {
        let mut bundle = good();
        bundle.as_object_mut().unwrap().remove("total");
        assert_eq!(failed(&bundle), ["Bundle.total is present"]);

        let mut bundle = good();
        bundle["total"] = json!(2);
        assert_eq!(failed(&bundle), ["Bundle.total equals the number of matches"]);

        let mut bundle = good();
        bundle["link"][0]["url"] = json!("https://x.example/umcx/48/fhir/Observation?code=x&patient=Patient/p1");
        assert_eq!(
            failed(&bundle),
            ["the self link echoes every handled parameter", "the self link has no patient parameter"]
        );

        let mut bundle = good();
        bundle["entry"][0]["fullUrl"] = json!("Observation/o1");
        assert_eq!(failed(&bundle), ["every entry has an absolute fullUrl ending in Type/id"]);

        let mut bundle = good();
        bundle["entry"][0]["resource"]["meta"] = json!({});
        assert_eq!(failed(&bundle), ["every resource has meta.profile"]);

        let mut bundle = good();
        bundle["entry"][0]["resource"]["component"][0]["code"]["coding"][0] = json!({"code": "x"});
        assert_eq!(failed(&bundle), ["every Coding has a system and a code"]);

        let mut bundle = good();
        bundle["entry"][0]["resource"]["subject"] = json!({"reference": "Patient/p1"});
        assert_eq!(
            failed(&bundle),
            ["every Reference has a display (or a data-absent-reason or nullFlavor extension)"]
        );
        bundle["entry"][0]["resource"]["subject"]["extension"] =
            json!([{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]);
        assert!(failed(&bundle).is_empty());

        let mut bundle = good();
        bundle["entry"][0]["resource"]["code"]["coding"][0]["system"] =
            json!("urn:oid:2.16.840.1.113883.2.4.3.11.60.40.2.1.2");
        assert_eq!(failed(&bundle), ["no Coding has the OID of a zib value set as its system"]);

        let mut bundle = good();
        bundle["entry"][0]["resource"]["component"][0]["code"] =
            json!({"coding": [{"system": "http://loinc.org", "code": "x"}]});
        assert_eq!(failed(&bundle), ["every CodeableConcept has a coding.display, a text or an extension"]);

        let mut bundle = good();
        bundle["entry"][0]["resource"]["identifier"] = json!([{"system": "urn:oid:1.2.3"}]);
        assert_eq!(failed(&bundle), ["every Identifier has a system (or type) and a value (or its value's extension)"]);
        bundle["entry"][0]["resource"]["identifier"][0]["_value"] = json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}]});
        assert!(failed(&bundle).is_empty());

        let mut bundle = good();
        bundle["link"][0]["url"] = json!(
            "https://x.example/umcx/48/fhir/Observation?code=http%3A%2F%2Floinc.org%7C8302-2&x=http://fhir.nl/fhir/NamingSystem/bsn"
        );
        assert!(failed(&bundle).contains(&"the self link holds no BSN".to_owned()));

        let mut bundle = good();
        bundle["entry"][0]["resource"]["subject"]["display"] = json!("BSN 999911120");
        assert_eq!(failed(&bundle), ["no BSN anywhere (a BSN identifier only with its value masked)"]);
    }

    #[test]
    fn a_document_is_the_binary_named_holding_a_pdf() {
        let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n%%EOF\n");
        let good = json!({"resourceType": "Binary", "id": "letter", "contentType": "application/pdf", "content": pdf});
        let failed = |binary: &Value| -> Vec<String> {
            document_checks(binary, "letter", &["999911120".into()])
                .into_iter()
                .filter(|check| !check.passed)
                .map(|check| check.expected)
                .collect()
        };
        assert_eq!(document_checks(&good, "letter", &[]).len(), 5);
        assert!(failed(&good).is_empty(), "{:?}", failed(&good));
        // Base64 wrapped over lines, as XML writers may, is still the PDF.
        let mut wrapped = good.clone();
        wrapped["content"] = json!(format!("{}\n{}", &pdf[..8], &pdf[8..]));
        assert!(failed(&wrapped).is_empty());

        let mut other = good.clone();
        other["id"] = json!("summary");
        assert_eq!(failed(&other), ["the Binary named (letter)"]);
        let mut image = good.clone();
        image["contentType"] = json!("image/png");
        assert_eq!(failed(&image), ["its contentType is application/pdf"]);
        let mut text = good.clone();
        text["content"] = json!(base64::engine::general_purpose::STANDARD.encode(b"hello"));
        assert_eq!(failed(&text), ["its content is a PDF (base64 of bytes starting %PDF-)"]);
        let mut garbage = good.clone();
        garbage["content"] = json!("%%% not base64");
        assert_eq!(failed(&garbage), ["its content is a PDF (base64 of bytes starting %PDF-)"]);
        let outcome = json!({"resourceType": "OperationOutcome", "issue": [{"diagnostics": "BSN 999911120"}]});
        assert_eq!(
            failed(&outcome),
            [
                "a Binary",
                "the Binary named (letter)",
                "its contentType is application/pdf",
                "its content is a PDF (base64 of bytes starting %PDF-)",
                "no BSN anywhere"
            ]
        );
    }

    #[test]
    fn not_even_the_persons_own_patient_carries_the_bsn_only_its_masked_identifier() {
        let patient = |identifier: Value| {
            let mut bundle = good();
            bundle["entry"] = json!([{
                "fullUrl": "https://x.example/umcx/48/fhir/Patient/p1",
                "resource": {"resourceType": "Patient", "id": "p1", "meta": {"profile": ["x"]}, "identifier": [identifier]},
                "search": {"mode": "match"}
            }]);
            bundle
        };
        let bsn = patient(json!({"system": BSN_SYSTEM, "value": "999911120"}));
        assert_eq!(failed(&bsn), ["no BSN anywhere (a BSN identifier only with its value masked)"]);
        // Another BSN than the test patients': found by the identifier's system.
        let other = patient(json!({"system": BSN_SYSTEM, "value": "123456782"}));
        assert_eq!(failed(&other), ["no BSN anywhere (a BSN identifier only with its value masked)"]);
        let masked = patient(json!({"system": BSN_SYSTEM, "_value": {"extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}]}}));
        assert!(failed(&masked).is_empty(), "{:?}", failed(&masked));
    }
}
