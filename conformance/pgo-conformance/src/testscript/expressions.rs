//! FHIRPath as TestScripts use it: `${name}` substituted first, then evaluated with the script's
//! variables as `%name` (and `%resource` the focus), over the FHIR structure of the script's
//! release (`type_model`), so type tests are decided. What the evaluator cannot do (an unsupported
//! function, an undefined constant) is not run; what the data makes fail (a type error, more
//! than one item where one is needed) is failed. An expression that does not parse here is not
//! run: the script may be right and this evaluator incomplete.

use super::state::{Problem, State};
use super::variables;
use fhirpath::{EvalError, EvalErrorKind, Expression, Item};
use profile_validator::StructureModel;
use serde_json::Value;

/// The items `text` gives on `focus`, each as text.
pub(crate) fn values(text: &str, focus: &Value, state: &State<'_>) -> Result<Vec<String>, Problem> {
    values_at(text, focus, state, 0)
}

pub(crate) fn values_at(text: &str, focus: &Value, state: &State<'_>, depth: usize) -> Result<Vec<String>, Problem> {
    let (expression, environment) = prepare(text, state, depth)?;
    let model = StructureModel::of(state.script.release.release);
    let environment = constants(&environment).with_model(&model);
    let items = expression.evaluate(focus, &environment).map_err(|error| problem(text, &error))?;
    Ok(items.iter().map(item_text).collect())
}

/// `text` on `focus` as a Boolean (FHIRPath singleton evaluation; empty is `None`).
pub(crate) fn truth(text: &str, focus: &Value, state: &State<'_>) -> Result<Option<bool>, Problem> {
    let (expression, environment) = prepare(text, state, 0)?;
    let model = StructureModel::of(state.script.release.release);
    let environment = constants(&environment).with_model(&model);
    expression.evaluate_boolean(focus, &environment).map_err(|error| problem(text, &error))
}

/// The parsed expression and the variables it names, with their values.
fn prepare(text: &str, state: &State<'_>, depth: usize) -> Result<(Expression, Vec<(String, String)>), Problem> {
    let substituted = variables::substitute_at(text, state, depth)?;
    let expression = Expression::parse(&substituted)
        .map_err(|error| Problem::NotRun(format!("FHIRPath {substituted:?} does not parse here: {error}")))?;
    let mut named = Vec::new();
    for name in constant_names(&substituted) {
        if variables::declared(&name, state) && !named.iter().any(|(known, _)| *known == name) {
            let value = variables::value_at(&name, state, depth + 1)?;
            named.push((name, value));
        }
    }
    Ok((expression, named))
}

fn constants<'a>(named: &[(String, String)]) -> fhirpath::Environment<'a> {
    named.iter().fold(fhirpath::Environment::new(), |environment, (name, value)| environment.with_string(name, value))
}

/// The names after `%` in `text` (plain or in backticks). Names inside string literals are found
/// too; only declared variables are looked up, so that is harmless.
fn constant_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        rest = &rest[at + 1..];
        let name: String = if let Some(quoted) = rest.strip_prefix('`') {
            quoted.split('`').next().unwrap_or_default().to_owned()
        } else {
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
        };
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

fn problem(text: &str, error: &EvalError) -> Problem {
    let why = format!("FHIRPath {text:?}: {error}");
    match error.kind() {
        EvalErrorKind::Unsupported { .. }
        | EvalErrorKind::UndefinedConstant { .. }
        | EvalErrorKind::LimitExceeded { .. } => Problem::NotRun(why),
        _ => Problem::Failed(why),
    }
}

/// An item as the text asserts compare: strings bare, numbers and Booleans as written, elements
/// as compact JSON.
pub(crate) fn item_text(item: &Item<'_>) -> String {
    match item.to_json() {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testscript::load::Script;
    use crate::testscript::model::{TestScript, Variable};
    use crate::testscript::release::Detected;
    use serde_json::json;

    fn script() -> Script {
        let variable = Variable { name: "wanted".into(), default_value: Some("p1".into()), ..Variable::default() };
        Script {
            fixtures: Default::default(),
            ..Script::new(
                "s",
                Detected { release: fhir_core::Release::R4, why: String::new() },
                TestScript { variable: vec![variable], ..TestScript::default() },
            )
        }
    }

    #[test]
    fn variables_are_constants_and_substitutions() {
        let script = script();
        let state = State::new(&script);
        let patient = json!({"resourceType": "Patient", "id": "p1"});
        assert_eq!(truth("Patient.id = %wanted", &patient, &state), Ok(Some(true)));
        assert_eq!(truth("Patient.id = '${wanted}'", &patient, &state), Ok(Some(true)));
        assert_eq!(truth("%resource.id = %`wanted`", &patient, &state), Ok(Some(true)));
        assert_eq!(values("Patient.id | 'x' | 3", &patient, &state), Ok(vec!["p1".into(), "x".into(), "3".into()]));
    }

    #[test]
    fn what_the_evaluator_cannot_do_is_not_run_and_what_the_data_breaks_fails() {
        let script = script();
        let state = State::new(&script);
        let bundle = json!({"resourceType": "Bundle", "entry": [{"fullUrl": "a"}, {"fullUrl": "b"}]});
        assert!(
            matches!(truth("Bundle.entry.resolve().exists()", &bundle, &state), Err(Problem::NotRun(why)) if why.contains("resolve"))
        );
        assert!(matches!(truth("%undeclared = 1", &bundle, &state), Err(Problem::NotRun(_))));
        assert!(matches!(truth("Bundle.entry.fullUrl", &bundle, &state), Err(Problem::Failed(_))));
        assert!(matches!(truth("Bundle.(", &bundle, &state), Err(Problem::NotRun(why)) if why.contains("parse")));
    }

    #[test]
    fn constant_names_are_found_plain_and_quoted() {
        assert_eq!(constant_names("%a = %`b-c` and %resource.x"), vec!["a", "b-c", "resource"]);
    }
}
