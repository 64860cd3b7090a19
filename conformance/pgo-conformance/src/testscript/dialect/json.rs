//! The JSON side of the dialect: a script in JSON is read by serde, which passes over members it
//! does not know; this walk names them, so they are warnings on the script like in XML. The
//! dialect's own members (`stopTestOnFail` on an assert, `value` on a profile) are read by the
//! model and not warned about.

use super::{Fitting, Placement};
use fhir_core::Release;
use fhir_xml::Kind;
use serde_json::Value;

/// What in the JSON script `script` the release does not have.
pub(crate) fn warnings(script: &Value, release: Release) -> Vec<String> {
    let mut fitting = Fitting::new(release);
    walk(script, "TestScript", "TestScript", &mut fitting);
    fitting.warnings()
}

fn walk(value: &Value, type_name: &str, path: &str, fitting: &mut Fitting) {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for item in items {
        let Value::Object(members) = item else {
            continue;
        };
        let kind = fitting.structure.type_def(type_name).map(|definition| definition.kind);
        if matches!(kind, None | Some(Kind::Resource)) && path != "TestScript" {
            continue;
        }
        for (name, member) in members {
            if name == "resourceType" || name == "fhir_comments" {
                continue;
            }
            // `_name`: the id and extensions of primitive `name`.
            let (name, primitive_part) = match name.strip_prefix('_') {
                Some(base) => (base, true),
                None => (name.as_str(), false),
            };
            let child_path = format!("{path}.{name}");
            match fitting.place(type_name, name, false) {
                Placement::Element { .. } if primitive_part => walk(member, "Element", &child_path, fitting),
                Placement::Element { type_name: child, .. } => walk(member, child, &child_path, fitting),
                Placement::StopTestOnFail { .. } => {}
                Placement::Ignored(_) if name == "value" && type_name == "Reference" => {}
                Placement::Ignored(why) => fitting.ignored(&child_path, why),
            }
        }
    }
}
