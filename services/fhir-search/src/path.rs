//! Evaluates the simple element paths of the definitions (`related.target`, `effective[x]`) on
//! a resource's JSON: each step selects a member (all choices of a `[x]` element) and flattens
//! arrays.

use serde_json::Value;

/// Every value `path` selects in `resource`.
pub(crate) fn select<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![resource];
    for step in path.split('.') {
        let mut next = Vec::new();
        for value in current {
            let Value::Object(members) = value else { continue };
            match step.strip_suffix("[x]") {
                Some(prefix) => {
                    for (name, member) in members {
                        let is_choice = name
                            .strip_prefix(prefix)
                            .is_some_and(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
                        if is_choice {
                            push_flat(member, &mut next);
                        }
                    }
                }
                None => {
                    if let Some(member) = members.get(step) {
                        push_flat(member, &mut next);
                    }
                }
            }
        }
        current = next;
    }
    current
}

fn push_flat<'a>(value: &'a Value, into: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => into.extend(items.iter().filter(|item| !item.is_null())),
        Value::Null => {}
        other => into.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_nested_members_across_arrays() {
        let observation = json!({"related": [{"target": {"reference": "Observation/a"}}, {"target": {"reference": "Observation/b"}}]});
        let found: Vec<&Value> = select(&observation, "related.target.reference");
        assert_eq!(found, [&json!("Observation/a"), &json!("Observation/b")]);
    }

    #[test]
    fn choice_steps_match_every_typed_variant_only() {
        let observation = json!({"effectiveDateTime": "2013", "effectivePeriod": {"start": "2014"}, "effectively": 1});
        assert_eq!(select(&observation, "effective[x]").len(), 2);
    }
}
