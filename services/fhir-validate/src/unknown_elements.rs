//! Finds elements the typed model does not know. fhir-sdk ignores unknown fields while parsing,
//! so the input is compared with what the model serialises again: whatever the model dropped
//! was not understood. Values are not compared (decimals and instants are re-formatted), only
//! which members exist.

use crate::Finding;
use serde_json::Value;

pub(crate) fn find(resource_type: &str, input: &Value, understood: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    walk(input, understood, resource_type, &mut findings);
    findings
}

fn walk(input: &Value, understood: &Value, path: &str, findings: &mut Vec<Finding>) {
    match (input, understood) {
        (Value::Object(given), Value::Object(kept)) => {
            for (name, member) in given {
                let member_path = format!("{path}.{name}");
                match kept.get(name) {
                    Some(kept_member) => walk(member, kept_member, &member_path, findings),
                    None => findings.push(Finding { path: member_path, message: format!("unknown element '{name}'") }),
                }
            }
        }
        (Value::Array(given), Value::Array(kept)) => {
            for (index, (item, kept_item)) in given.iter().zip(kept).enumerate() {
                walk(item, kept_item, &format!("{path}[{index}]"), findings);
            }
        }
        _ => {}
    }
}
