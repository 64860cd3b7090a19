//! `minimumId`: the response must hold at least what the fixture holds. Every element of the
//! fixture must be in the response with the same value; a repeated element's every item must
//! match some item of the response's. The fixture's `id`, `meta` and `text` are left out: a
//! server assigns those.

use serde_json::Value;

/// The fixture's elements the response lacks (FHIR-like paths with what differs); empty when
/// the response holds the fixture.
pub(crate) fn missing(fixture: &Value, response: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    let root = fixture["resourceType"].as_str().unwrap_or("resource").to_owned();
    if let Value::Object(members) = fixture {
        for (name, value) in members.iter().filter(|(name, _)| !matches!(name.as_str(), "id" | "meta" | "text")) {
            walk(value, response.get(name), &format!("{root}.{name}"), &mut missing);
        }
    }
    missing
}

fn walk(expected: &Value, found: Option<&Value>, path: &str, missing: &mut Vec<String>) {
    let Some(found) = found else {
        missing.push(format!("{path} is absent"));
        return;
    };
    match (expected, found) {
        (Value::Object(members), Value::Object(_)) => {
            for (name, value) in members {
                walk(value, found.get(name), &format!("{path}.{name}"), missing);
            }
        }
        (Value::Array(items), Value::Array(candidates)) => {
            for (index, item) in items.iter().enumerate() {
                let matched = candidates.iter().any(|candidate| {
                    let mut differences = Vec::new();
                    walk(item, Some(candidate), path, &mut differences);
                    differences.is_empty()
                });
                if !matched {
                    missing.push(format!("{path}[{index}] has no match"));
                }
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64().is_some() && a.as_f64() == b.as_f64() => {}
        (expected, found) if expected == found => {}
        (expected, found) => missing.push(format!("{path} is {found}, not {expected}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_response_with_more_than_the_fixture_holds_it() {
        let fixture = json!({"resourceType": "Patient", "id": "f", "gender": "female", "name": [{"family": "Vries"}]});
        let response = json!({"resourceType": "Patient", "id": "server", "gender": "female", "active": true,
            "name": [{"use": "usual", "family": "Jansen"}, {"family": "Vries", "given": ["Anna"]}]});
        assert_eq!(missing(&fixture, &response), Vec::<String>::new());
    }

    #[test]
    fn what_the_response_lacks_is_named() {
        let fixture = json!({"resourceType": "Patient", "gender": "female", "birthDate": "1968-05-21", "name": [{"family": "Vries"}]});
        let response = json!({"resourceType": "Patient", "gender": "male", "name": [{"family": "Jansen"}]});
        assert_eq!(
            missing(&fixture, &response),
            vec![
                "Patient.gender is \"male\", not \"female\"",
                "Patient.birthDate is absent",
                "Patient.name[0] has no match"
            ]
        );
    }
}
