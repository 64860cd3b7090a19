//! Derives `profiles/fhir/structure/{stu3,r4}.json` from the official FHIR definitions
//! (`profiles-types.json` and `profiles-resources.json` of a release), keeping only what the XML
//! conversion needs: per type its elements in order, their types, whether they repeat, and whether
//! XML writes them as attributes or XHTML.
//!
//! ```text
//! cargo run -p fhir-xml --example derive_structures -- FHIR_VERSION TYPES.json RESOURCES.json OUT.json
//! ```
//!
//! profiles/README.md says where the official definitions of each release come from.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [version, types, resources, out] = args.as_slice() else {
        return Err("usage: derive_structures FHIR_VERSION TYPES.json RESOURCES.json OUT.json".into());
    };
    let mut derived = BTreeMap::new();
    for file in [types, resources] {
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
        for entry in bundle["entry"].as_array().ok_or("not a Bundle")? {
            let definition = &entry["resource"];
            if definition["resourceType"] == "StructureDefinition" {
                derive_type(definition, &mut derived)?;
            }
        }
    }
    let table = json!({ "fhirVersion": version, "types": derived });
    let mut text = String::from("{\n");
    text.push_str(&format!("  \"fhirVersion\": {},\n  \"types\": {{\n", table["fhirVersion"]));
    // One type per line keeps diffs between derivations readable.
    let lines: Vec<String> =
        derived.iter().map(|(name, def)| format!("    {}: {}", Value::from(name.clone()), def)).collect();
    text.push_str(&lines.join(",\n"));
    text.push_str("\n  }\n}\n");
    std::fs::write(out, text)?;
    eprintln!("{} types written to {out}", derived.len());
    Ok(())
}

/// Adds the type a StructureDefinition defines, and its backbone elements as types of their own
/// (named by path, e.g. `Observation.component`).
fn derive_type(definition: &Value, derived: &mut BTreeMap<String, Value>) -> Result<(), Box<dyn std::error::Error>> {
    let kind = definition["kind"].as_str().unwrap_or_default();
    let name = definition["id"].as_str().ok_or("StructureDefinition without id")?;
    let elements = definition["snapshot"]["element"].as_array().ok_or("no snapshot")?;
    match kind {
        "primitive-type" => {
            let value = elements.iter().find(|element| element["path"].as_str().is_some_and(|p| p.ends_with(".value")));
            let xhtml = value.is_some_and(|element| {
                element["representation"].as_array().is_some_and(|r| r.iter().any(|r| r == "xhtml"))
            });
            let kind = if xhtml { "xhtml" } else { "primitive" };
            // R4 gives positiveInt's and unsignedInt's value a string type, yet FHIR JSON writes
            // every specialisation of integer as a number (R4 §2.6.2): follow the base type.
            let base = definition["baseDefinition"].as_str().unwrap_or_default();
            let json =
                if base.ends_with("/integer") || base.ends_with("/decimal") { "number" } else { json_kind(value) };
            derived.insert(name.to_owned(), json!({ "kind": kind, "json": json }));
            return Ok(());
        }
        "complex-type" | "resource" => {}
        _ => return Ok(()),
    }
    let root = definition["type"].as_str().ok_or("no type")?;
    let type_kind = if kind == "resource" { "resource" } else { "complex" };
    let mut types: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    types.insert(name.to_owned(), (type_kind.to_owned(), Vec::new()));
    for element in elements.iter().skip(1) {
        let path = element["path"].as_str().ok_or("element without path")?;
        if element["max"] == "0" || element.get("sliceName").is_some() {
            continue;
        }
        let renamed = format!("{name}{}", &path[root.len()..]);
        let (parent, last) = renamed.rsplit_once('.').ok_or("path without parent")?;
        let (element_name, choice) = match last.strip_suffix("[x]") {
            Some(stem) => (stem, true),
            None => (last, false),
        };
        let mut out = Map::new();
        out.insert("name".into(), element_name.into());
        let has_children = elements.iter().any(|other| {
            other["path"]
                .as_str()
                .is_some_and(|p| p.len() > path.len() && p.starts_with(path) && p.as_bytes()[path.len()] == b'.')
        });
        let element_types: Vec<Value> = if let Some(reference) = element["contentReference"].as_str() {
            vec![format!("{name}{}", &reference.trim_start_matches('#')[root.len()..]).into()]
        } else if has_children {
            types.entry(renamed.clone()).or_insert_with(|| ("backbone".to_owned(), Vec::new()));
            vec![renamed.clone().into()]
        } else {
            // STU3 lists a type once per target profile (Reference(A), Reference(B)): once is enough.
            let mut codes: Vec<Value> = Vec::new();
            for code in element["type"].as_array().ok_or_else(|| format!("{path} has no type"))?.iter().map(type_code) {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
            codes
        };
        if choice {
            out.insert("choice".into(), true.into());
        }
        out.insert("types".into(), element_types.into());
        if element["max"] != "1" {
            out.insert("many".into(), true.into());
        }
        let representation = element["representation"].as_array().cloned().unwrap_or_default();
        if representation.iter().any(|r| r == "xmlAttr") {
            out.insert("xml".into(), "attribute".into());
        }
        types.get_mut(parent).ok_or_else(|| format!("{path}: parent {parent} not seen"))?.1.push(Value::Object(out));
    }
    for (type_name, (kind, elements)) in types {
        derived.insert(type_name, json!({ "kind": kind, "elements": elements }));
    }
    Ok(())
}

/// The FHIR type of an element's type entry. R4 gives some elements (ids, `Extension.url`) a
/// FHIRPath system type and names the FHIR type in an extension.
fn type_code(entry: &Value) -> Value {
    let code = entry["code"].as_str().unwrap_or_default();
    if let Some(system) = code.strip_prefix("http://hl7.org/fhirpath/System.") {
        let named = entry["extension"].as_array().and_then(|extensions| {
            extensions.iter().find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("structuredefinition-fhir-type")))
        });
        return match named.and_then(|e| e["valueUrl"].as_str().or(e["valueUri"].as_str())) {
            Some(fhir_type) => fhir_type.into(),
            None => system.to_ascii_lowercase().into(),
        };
    }
    code.into()
}

/// How a primitive's value is written in JSON: `boolean`, `number` or `string`.
fn json_kind(value_element: Option<&Value>) -> &'static str {
    let Some(entry) = value_element.and_then(|element| element["type"].get(0)) else { return "string" };
    let stu3 = entry["_code"]["extension"].as_array().and_then(|extensions| {
        extensions.iter().find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("structuredefinition-json-type")))
    });
    let named =
        stu3.and_then(|e| e["valueString"].as_str()).unwrap_or_else(|| entry["code"].as_str().unwrap_or_default());
    match named {
        "boolean" | "http://hl7.org/fhirpath/System.Boolean" => "boolean",
        "number" | "http://hl7.org/fhirpath/System.Integer" | "http://hl7.org/fhirpath/System.Decimal" => "number",
        _ => "string",
    }
}
