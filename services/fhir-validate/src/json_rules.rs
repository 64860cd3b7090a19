//! The FHIR JSON rules that hold for every element, whatever its type: no `null` property values
//! and no empty objects, arrays or strings (FHIR R4 §2.6.2, the same in STU3).

use crate::Finding;
use serde_json::Value;

/// Findings beyond this many add nothing for the sender and only grow the response.
const MAX_FINDINGS: usize = 50;

/// Checks every element except those under `skipped` paths (unknown elements, which have no
/// known type and are kept as they are).
pub(crate) fn check(resource_type: &str, resource: &Value, skipped: &[&str]) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk(resource, resource_type, skipped, &mut findings);
    findings
}

fn walk(value: &Value, path: &str, skipped: &[&str], findings: &mut Vec<Finding>) {
    if findings.len() >= MAX_FINDINGS || skipped.contains(&path) {
        return;
    }
    match value {
        Value::Object(members) => {
            if members.is_empty() {
                findings.push(finding(path, "empty objects are not allowed"));
            }
            for (name, member) in members {
                let member_path = format!("{path}.{name}");
                if member.is_null() && !skipped.contains(&member_path.as_str()) {
                    findings.push(finding(&member_path, "null is not allowed as a property value"));
                } else {
                    walk(member, &member_path, skipped, findings);
                }
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                findings.push(finding(path, "empty arrays are not allowed"));
            }
            // `null` items are allowed: they keep a primitive array and its `_name` twin aligned.
            for (index, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{index}]"), skipped, findings);
            }
        }
        Value::String(text) if text.is_empty() => {
            findings.push(finding(path, "empty strings are not allowed"));
        }
        _ => {}
    }
}

fn finding(path: &str, message: &str) -> Finding {
    Finding { path: path.to_owned(), message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_nulls_that_align_primitive_arrays() {
        let patient = json!({"resourceType": "Patient", "name": [{"given": ["Jan", null],
            "_given": [null, {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}]}]});
        assert_eq!(check("Patient", &patient, &[]), vec![]);
    }

    #[test]
    fn names_each_empty_or_null_element_by_path() {
        let patient = json!({"resourceType": "Patient", "active": null, "name": [],
            "telecom": [{}], "gender": ""});
        let paths: Vec<String> = check("Patient", &patient, &[]).into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["Patient.active", "Patient.name", "Patient.telecom[0]", "Patient.gender"]);
    }

    #[test]
    fn leaves_skipped_subtrees_alone() {
        let patient = json!({"resourceType": "Patient", "unknownThing": "", "gender": ""});
        let paths: Vec<String> =
            check("Patient", &patient, &["Patient.unknownThing"]).into_iter().map(|f| f.path).collect();
        assert_eq!(paths, ["Patient.gender"]);
    }
}
