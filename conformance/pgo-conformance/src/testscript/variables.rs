//! TestScript variables: `${name}` substitution in parameters, URLs, headers, values and
//! expressions, and their values for FHIRPath's `%name`. A variable's value is worked out when it
//! is used (its source may be a response that only arrives during the run): from a response
//! header (`headerField`), from FHIRPath on a fixture or response (`expression`), else its
//! `defaultValue`, which also stands in when the source gives no value. `path` (XPath/JSONPath)
//! is not supported and says so.
//!
//! A `defaultValue` may itself hold `${...}`: other variables and built-ins (`builtins`), e.g.
//! `T` = `${CURRENTDATE}` and `${DATE, T, D, -30}`. A variable with nothing but a `defaultValue`
//! is worked out once per run, so `${T}` and a `${UUID}` default keep one value throughout. A
//! name that is no declared variable is read as a built-in.

use super::builtins::Builtin;
use super::expressions;
use super::state::{Problem, Source, State};

/// How deep variables may refer to variables (a loop stops here).
const MAX_DEPTH: usize = 8;

/// `text` with every `${name}` replaced by the variable's value.
pub(crate) fn substitute(text: &str, state: &State<'_>) -> Result<String, Problem> {
    substitute_at(text, state, 0)
}

pub(crate) fn substitute_at(text: &str, state: &State<'_>, depth: usize) -> Result<String, Problem> {
    substitute_escaped(text, state, depth, &|value| value.to_owned())
}

/// `text` with every `${name}` replaced by `escape` of the variable's value (a fixture's XML or
/// JSON text takes the value escaped as its format asks).
pub(crate) fn substitute_escaped(
    text: &str,
    state: &State<'_>,
    depth: usize,
    escape: &dyn Fn(&str) -> String,
) -> Result<String, Problem> {
    let mut substituted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| Problem::NotRun(format!("an unclosed ${{ in {text:?}")))?;
        substituted.push_str(&escape(&value_at(&after[..end], state, depth)?));
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
    let declared = state.script.definition.variable.iter().find(|variable| variable.name == name);
    let Some(variable) = declared else {
        return match Builtin::parse(name) {
            Some(Ok(builtin)) => {
                builtin
                    .value(&state.script.clock, &|variable| value_at(variable, state, depth + 1), &|| state.script.uuid)
            }
            Some(Err(problem)) => Err(problem),
            None => Err(Problem::NotRun(format!("no variable is named {name}"))),
        };
    };
    let only_default = variable.path.is_none() && variable.header_field.is_none() && variable.expression.is_none();
    if let Some(value) = only_default.then(|| state.static_value(name)).flatten() {
        return Ok(value);
    }
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
    let value = match (found, &variable.default_value) {
        (Some(found), _) => found,
        (None, Some(default)) => substitute_at(default, state, depth + 1).map_err(within)?,
        (None, None) => {
            return Err(Problem::Failed(format!("variable {name}: its source gives no value and it has no default")));
        }
    };
    if only_default {
        state.keep_static(name, &value);
    }
    Ok(value)
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
            fixtures: [("patient".to_owned(), json!({"resourceType": "Patient", "id": "p1"}))].into(),
            ..Script::new(
                "s",
                Detected { release: fhir_core::Release::Stu3, why: String::new() },
                TestScript { variable: variables, ..TestScript::default() },
            )
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
    fn defaults_hold_built_ins_and_variables_and_are_worked_out_once() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-31T10:15:30+02:00").unwrap();
        let script = Script {
            clock: crate::testscript::Clock::fixed(now),
            ..script(vec![
                Variable { default_value: Some("${CURRENTDATE}".into()), ..variable("T") },
                Variable { default_value: Some("ge${DATE, T, D, -30}".into()), ..variable("since") },
                Variable { default_value: Some("${UUID}".into()), ..variable("correlation") },
            ])
        };
        let state = State::new(&script);
        assert_eq!(
            substitute("${T}|${since}|${DATE, T, Y, -17}|${CURRENTDATETIME}", &state),
            Ok("2026-03-31|ge2026-03-01|2009-03-31|2026-03-31T10:15:30+02:00".to_owned())
        );
        let correlation = substitute("${correlation}", &state).unwrap();
        assert_eq!(substitute("${correlation}", &state), Ok(correlation.clone()), "one value per run");
        assert_ne!(substitute("${UUID}", &state), substitute("${UUID}", &state), "a fresh one at every use");
        assert!(matches!(substitute("${DATE, T, Q, 1}", &state), Err(Problem::NotRun(why)) if why.contains("unit")));
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
