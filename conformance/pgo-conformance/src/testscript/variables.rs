//! TestScript variables: `${name}` substitution in parameters, URLs, headers, values and
//! expressions, and their values for FHIRPath's `%name`. A variable's value is worked out when it
//! is used (its source may be a response that only arrives during the run): from a response
//! header (`headerField`), from FHIRPath on a fixture or response (`expression`), else its
//! `defaultValue`, which also stands in when the source gives no value. `path` (XPath/JSONPath)
//! is not supported and says so.

use super::expressions;
use super::state::{Problem, Source, State};

/// How deep variables may refer to variables (a loop stops here).
const MAX_DEPTH: usize = 8;

/// `text` with every `${name}` replaced by the variable's value.
pub(crate) fn substitute(text: &str, state: &State<'_>) -> Result<String, Problem> {
    substitute_at(text, state, 0)
}

pub(crate) fn substitute_at(text: &str, state: &State<'_>, depth: usize) -> Result<String, Problem> {
    let mut substituted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| Problem::NotRun(format!("an unclosed ${{ in {text:?}")))?;
        substituted.push_str(&value_at(&after[..end], state, depth)?);
        rest = &after[end + 1..];
    }
    substituted.push_str(rest);
    Ok(substituted)
}

/// Whether the script declares a variable `name`.
pub(crate) fn declared(name: &str, state: &State<'_>) -> bool {
    state.script.definition.variable.iter().any(|variable| variable.name == name)
}

/// The value of variable `name`.
pub(crate) fn value_at(name: &str, state: &State<'_>, depth: usize) -> Result<String, Problem> {
    if depth > MAX_DEPTH {
        return Err(Problem::NotRun(format!("variable {name}: variables refer to each other too deeply (a loop?)")));
    }
    let variable = state
        .script
        .definition
        .variable
        .iter()
        .find(|variable| variable.name == name)
        .ok_or_else(|| Problem::NotRun(format!("no variable is named {name}")))?;
    let within = |problem: Problem| match problem {
        Problem::NotRun(why) => Problem::NotRun(format!("variable {name}: {why}")),
        Problem::Failed(why) => Problem::Failed(format!("variable {name}: {why}")),
    };
    let found = if let Some(path) = &variable.path {
        return Err(Problem::NotRun(format!(
            "variable {name}: path {path:?} (XPath/JSONPath) is not supported; only FHIRPath expressions are"
        )));
    } else if let Some(field) = &variable.header_field {
        let response = state.source(variable.source_id.as_deref()).and_then(Source::response).map_err(within)?;
        super::state::header_values(&response.headers, field).into_iter().next()
    } else if let Some(expression) = &variable.expression {
        let body = state.source(variable.source_id.as_deref()).and_then(Source::body).map_err(within)?;
        let values = expressions::values_at(expression, body, state, depth + 1).map_err(within)?;
        if values.len() > 1 {
            return Err(Problem::Failed(format!(
                "variable {name}: {expression} gives {} values where one is needed",
                values.len()
            )));
        }
        values.into_iter().next()
    } else {
        None
    };
    found
        .or_else(|| variable.default_value.clone())
        .ok_or_else(|| Problem::Failed(format!("variable {name}: its source gives no value and it has no default")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testscript::load::Script;
    use crate::testscript::model::{TestScript, Variable};
    use crate::testscript::release::Detected;
    use crate::testscript::state::Response;
    use serde_json::json;

    fn script(variables: Vec<Variable>) -> Script {
        Script {
            id: "s".into(),
            release: Detected { release: fhir_core::Release::Stu3, why: String::new() },
            definition: TestScript { variable: variables, ..TestScript::default() },
            fixtures: [("patient".to_owned(), json!({"resourceType": "Patient", "id": "p1"}))].into(),
        }
    }

    fn variable(name: &str) -> Variable {
        Variable { name: name.into(), ..Variable::default() }
    }

    #[test]
    fn values_come_from_fixtures_responses_headers_and_defaults() {
        let script = script(vec![
            Variable {
                expression: Some("Patient.id".into()),
                source_id: Some("patient".into()),
                ..variable("fromFixture")
            },
            Variable { expression: Some("Bundle.total".into()), ..variable("fromLast") },
            Variable { header_field: Some("ETag".into()), ..variable("etag") },
            Variable {
                default_value: Some("fallback".into()),
                expression: Some("Bundle.id".into()),
                ..variable("absent")
            },
            Variable { default_value: Some("plain".into()), ..variable("plain") },
        ]);
        let mut state = State::new(&script);
        let response = Response {
            status: 200,
            headers: vec![("etag".into(), "W/\"3\"".into())],
            media_type: "application/fhir+json".into(),
            body: Ok(Some(json!({"resourceType": "Bundle", "total": 2}))),
        };
        state.record(None, Ok(response), None, None);
        let text = "${fromFixture}/${fromLast}/${etag}/${absent}/${plain}";
        assert_eq!(substitute(text, &state), Ok("p1/2/W/\"3\"/fallback/plain".to_owned()));
    }

    #[test]
    fn unsupported_and_unknown_variables_are_not_run_and_empty_ones_fail() {
        let script = script(vec![
            Variable { path: Some("fhir:Patient/fhir:id/@value".into()), ..variable("xpath") },
            Variable {
                expression: Some("Patient.name".into()),
                source_id: Some("patient".into()),
                ..variable("empty")
            },
        ]);
        let state = State::new(&script);
        assert!(matches!(substitute("${xpath}", &state), Err(Problem::NotRun(why)) if why.contains("XPath")));
        assert!(matches!(substitute("${nobody}", &state), Err(Problem::NotRun(_))));
        assert!(matches!(substitute("${empty}", &state), Err(Problem::Failed(_))));
        assert!(matches!(substitute("${open", &state), Err(Problem::NotRun(_))));
        assert_eq!(substitute("no variables", &state), Ok("no variables".to_owned()));
    }

    #[test]
    fn a_loop_of_variables_stops() {
        let script = script(vec![Variable {
            expression: Some("Patient.id + %again".into()),
            source_id: Some("patient".into()),
            ..variable("again")
        }]);
        let state = State::new(&script);
        assert!(matches!(substitute("${again}", &state), Err(Problem::NotRun(why)) if why.contains("deeply")));
    }
}
