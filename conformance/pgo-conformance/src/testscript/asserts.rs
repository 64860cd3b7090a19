//! One TestScript assert becomes one [`Check`]. An assert may test several things at once
//! (`response` and `contentType`, say); each is a part, and the assert holds when every part
//! does. A part that failed fails the assert; otherwise a part that could not be made (XPath, a
//! profile the validator does not know, an unsupported FHIRPath function, no response to look at)
//! leaves it not run: never passed. A profile validation (`validateProfileId`, see
//! `validate_profile`) is marked on the check when it decided it, so reports count them apart.
//!
//! `warningOnly`: a failed warning-only assert is recorded as a check that did not fail, with
//! `expected` starting with `warning:` and `found` saying what was found, because the script
//! says its failure must not fail the test (and it is not "not run": it was checked).

use super::dialect::extensions;
use super::minimum;
use super::model::Assert;
use super::operators::{Operator, shown};
use super::rules;
use super::state::{Problem, Request, Source, State, header_values};
use super::variables;
use crate::outcome::Check;

/// One thing an assert tests, and how that went.
pub(crate) struct Part {
    pub what: String,
    pub result: Result<(), Problem>,
    /// A profile validation (`validateProfileId`), counted on its own.
    pub profile_validation: bool,
}

impl Part {
    pub(crate) fn new(what: impl Into<String>, result: Result<(), Problem>) -> Part {
        Part { what: what.into(), result, profile_validation: false }
    }

    /// A part compared with `operator`: held, or failed saying what was found.
    pub(crate) fn compared(
        subject: &str,
        operator: Operator,
        found: Result<Vec<String>, Problem>,
        expected: &str,
    ) -> Part {
        let what = if operator.unary() {
            format!("{subject} {}", operator.words())
        } else {
            format!("{subject} {} {expected:?}", operator.words())
        };
        let result =
            found.and_then(
                |found| {
                    if operator.holds(&found, expected) { Ok(()) } else { Err(Problem::Failed(shown(&found))) }
                },
            );
        Part::new(what, result)
    }
}

/// The check `assert` makes on what `state` holds.
pub(crate) fn check(assert: &Assert, state: &State<'_>) -> Check {
    let parts = parts(assert, state);
    let named = assert.label.as_deref().or(assert.description.as_deref());
    let what = parts.iter().map(|part| part.what.as_str()).collect::<Vec<_>>().join(" and ");
    let expected = match (named, what.is_empty()) {
        (Some(name), true) => name.to_owned(),
        (Some(name), false) => format!("{name}: {what}"),
        (None, _) => what,
    };
    if parts.is_empty() {
        return Check::not_run(expected, "the assert tests nothing this runner knows");
    }
    // The check is a profile validation's when one decided it: every other part held.
    let profile_validation = parts.iter().any(|part| part.profile_validation)
        && parts.iter().all(|part| part.result.is_ok() || part.profile_validation);
    let failed: Vec<&str> = parts.iter().filter_map(|part| failed(&part.result)).collect();
    let not_run: Vec<&str> = parts.iter().filter_map(|part| not_run(&part.result)).collect();
    let check = if !failed.is_empty() {
        let found = failed.join("; ");
        if assert.warning_only {
            Check { expected: format!("warning: {expected}"), found, ..Check::new("", true, "") }
        } else {
            Check::new(expected, false, found)
        }
    } else if !not_run.is_empty() {
        Check::not_run(expected, not_run.join("; "))
    } else {
        Check::new(expected, true, "")
    };
    Check { profile_validation, ..check }
}

fn failed(result: &Result<(), Problem>) -> Option<&str> {
    match result {
        Err(Problem::Failed(why)) => Some(why),
        _ => None,
    }
}

fn not_run(result: &Result<(), Problem>) -> Option<&str> {
    match result {
        Err(Problem::NotRun(why)) => Some(why),
        _ => None,
    }
}

fn parts(assert: &Assert, state: &State<'_>) -> Vec<Part> {
    let mut parts = unsupported(assert);
    if let Some(profile) = &assert.validate_profile_id {
        parts.push(super::validate_profile::part(profile, assert, state));
    }
    let request = assert.direction.as_deref() == Some("request");
    let source = || state.source(assert.source_id.as_deref());
    let last_request = || state.request(assert.source_id.as_deref());
    if let Some(code) = &assert.response {
        parts.push(response(code, assert, source().and_then(Source::response).map(|r| r.status)));
    }
    if let Some(code) = &assert.response_code {
        let status = source().and_then(Source::response).map(|response| vec![response.status.to_string()]);
        parts.push(with_operator(assert, Operator::Equals, |op| Part::compared("the status", op, status, code)));
    }
    if let Some(kind) = &assert.resource {
        let found = source()
            .and_then(Source::body)
            .map(|body| body["resourceType"].as_str().map(str::to_owned).into_iter().collect());
        parts.push(with_operator(assert, Operator::Equals, |op| Part::compared("the resource type", op, found, kind)));
    }
    if let Some(code) = &assert.content_type {
        let media = if request {
            last_request().map(|request| header_values(&request.headers, "content-type"))
        } else {
            source().and_then(Source::response).map(|response| vec![response.media_type.clone()])
        };
        parts.push(content_type(code, assert, media));
    }
    if let Some(field) = &assert.header_field {
        let values = if request {
            last_request().map(|request| header_values(&request.headers, field))
        } else {
            source().and_then(Source::response).map(|response| header_values(&response.headers, field))
        };
        parts.push(valued(&format!("header {field}"), assert, values, state));
    }
    if let Some(url) = &assert.request_url {
        let found = last_request().map(|request: &Request| vec![request.url.clone()]);
        parts.push(substituted(url, state, |url| {
            with_operator(assert, Operator::Equals, |op| Part::compared("the request URL", op, found, &url))
        }));
    }
    if let Some(method) = &assert.request_method {
        let found = last_request().map(|request| vec![request.method.to_ascii_lowercase()]);
        let method = method.to_ascii_lowercase();
        parts.push(with_operator(assert, Operator::Equals, |op| {
            Part::compared("the request method", op, found, &method)
        }));
    }
    if let Some(id) = &assert.minimum_id {
        parts.push(minimum_part(id, source().and_then(Source::body), state));
    }
    if let Some(call) = extensions::rule_call(assert) {
        parts.push(rules::part(&call, assert.source_id.as_deref(), state));
    }
    // A compareToSourcePath comparison is already reported as not run.
    if assert.expression.is_some() || (assert.compare_to_source_id.is_some() && assert.compare_to_source_path.is_none())
    {
        parts.push(if request {
            Part::new(
                "an expression on the request",
                Err(Problem::NotRun("expressions on the request are not supported".into())),
            )
        } else {
            super::expression_assert::part(assert, state)
        });
    }
    parts
}

/// Parts for constructs that are never run, each with its reason.
fn unsupported(assert: &Assert) -> Vec<Part> {
    let mut parts = Vec::new();
    let not_run = |what: String, why: &str| Part::new(what, Err(Problem::NotRun(why.to_owned())));
    if assert.ruleset.is_some() {
        parts.push(not_run("a ruleset".into(), "STU3 rulesets run external code: not supported"));
    }
    if let Some(path) = &assert.path {
        parts.push(not_run(format!("path {path:?}"), "XPath/JSONPath is not supported; only FHIRPath expressions are"));
    }
    if let Some(path) = &assert.compare_to_source_path {
        parts.push(not_run(format!("compareToSourcePath {path:?}"), "XPath/JSONPath is not supported"));
    }
    if assert.navigation_links.is_some() {
        parts.push(not_run("the Bundle's navigation links".into(), "navigationLinks is not supported"));
    }
    parts
}

/// The assert's operator (or `default`), then `part`; an unknown operator is not run.
pub(crate) fn with_operator(assert: &Assert, default: Operator, part: impl FnOnce(Operator) -> Part) -> Part {
    match Operator::parse(assert.operator.as_deref(), default) {
        Ok(Operator::Eval) => Part::new("operator eval", Err(Problem::NotRun("eval needs an expression".into()))),
        Ok(operator) => part(operator),
        Err(why) => Part::new(format!("operator {:?}", assert.operator), Err(Problem::NotRun(why))),
    }
}

/// `text` with variables substituted, then `part`.
pub(crate) fn substituted(text: &str, state: &State<'_>, part: impl FnOnce(String) -> Part) -> Part {
    match variables::substitute(text, state) {
        Ok(text) => part(text),
        Err(problem) => Part::new(format!("{text:?}"), Err(problem)),
    }
}

/// `subject` compared with the assert's `value` (`equals` by default; `notEmpty` without one).
fn valued(subject: &str, assert: &Assert, found: Result<Vec<String>, Problem>, state: &State<'_>) -> Part {
    let default = if assert.value.is_some() { Operator::Equals } else { Operator::NotEmpty };
    with_operator(assert, default, |operator| match (&assert.value, operator.unary()) {
        (_, true) => Part::compared(subject, operator, found, ""),
        (Some(value), false) => substituted(value, state, |value| Part::compared(subject, operator, found, &value)),
        (None, false) => Part::new(subject, Err(Problem::NotRun(format!("{} needs a value", operator.words())))),
    })
}

/// `response`: the status a code names.
fn response(code: &str, assert: &Assert, status: Result<u16, Problem>) -> Part {
    let Some(wanted) = status_of(code) else {
        return Part::new(
            format!("the response is {code}"),
            Err(Problem::NotRun(format!("{code:?} is not a response code"))),
        );
    };
    let what = format!("the response is {code} ({wanted})");
    let result = match Operator::parse(assert.operator.as_deref(), Operator::Equals) {
        Ok(Operator::Equals) => status.and_then(|status| held(status == wanted, status)),
        Ok(Operator::NotEquals) => {
            return Part::new(
                format!("the response is not {code} ({wanted})"),
                status.and_then(|status| held(status != wanted, status)),
            );
        }
        Ok(other) => Err(Problem::NotRun(format!("response with operator {other:?} is not supported"))),
        Err(why) => Err(Problem::NotRun(why)),
    };
    Part::new(what, result)
}

fn held(holds: bool, status: u16) -> Result<(), Problem> {
    if holds { Ok(()) } else { Err(Problem::Failed(status.to_string())) }
}

/// The status a TestScript `response` code names.
pub(crate) fn status_of(code: &str) -> Option<u16> {
    Some(match code {
        "okay" => 200,
        "created" => 201,
        "noContent" => 204,
        "notModified" => 304,
        "bad" => 400,
        "forbidden" => 403,
        "notFound" => 404,
        "methodNotAllowed" => 405,
        "conflict" => 409,
        "gone" => 410,
        "preconditionFailed" => 412,
        "unprocessable" => 422,
        _ => return None,
    })
}

/// `contentType`: `xml`/`json` (STU3) match any XML/JSON media type; a MIME type must be equal.
fn content_type(code: &str, assert: &Assert, media: Result<Vec<String>, Problem>) -> Part {
    let matches = |media: &str| match code {
        "xml" | "json" => media.contains(code),
        "ttl" => media.contains("turtle"),
        "none" => media.is_empty(),
        mime => media.eq_ignore_ascii_case(mime),
    };
    with_operator(assert, Operator::Equals, |operator| {
        let found = media.map(|media| media.into_iter().filter(|value| !value.is_empty()).collect::<Vec<_>>());
        let result = found.and_then(|found| {
            let first = found.first().map(String::as_str).unwrap_or_default();
            let holds = match operator {
                Operator::Equals => matches(first),
                Operator::NotEquals => !matches(first),
                other => other.holds(&found, code),
            };
            if holds { Ok(()) } else { Err(Problem::Failed(shown(&found))) }
        });
        Part::new(format!("the content type {} {code:?}", operator.words()), result)
    })
}

fn minimum_part(id: &str, body: Result<&serde_json::Value, Problem>, state: &State<'_>) -> Part {
    let what = format!("the response holds at least fixture {id}");
    let Some(fixture) = state.script.fixtures.get(id) else {
        return Part::new(what, Err(Problem::NotRun(format!("no fixture is named {id}"))));
    };
    let result = body.and_then(|body| {
        let missing = minimum::missing(fixture, body);
        if missing.is_empty() { Ok(()) } else { Err(Problem::Failed(missing.join("; "))) }
    });
    Part::new(what, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testscript::load::Script;
    use crate::testscript::model::TestScript;
    use crate::testscript::release::Detected;
    use crate::testscript::state::Response;
    use serde_json::json;

    fn script() -> Script {
        Script {
            fixtures: [("expected".to_owned(), json!({"resourceType": "Bundle", "type": "searchset"}))].into(),
            ..Script::new(
                "s",
                Detected { release: fhir_core::Release::Stu3, why: String::new() },
                TestScript::default(),
            )
        }
    }

    fn answered(script: &Script) -> State<'_> {
        let mut state = State::new(script);
        let response = Response {
            status: 200,
            headers: vec![("content-type".into(), "application/fhir+json;charset=utf-8".into())],
            media_type: "application/fhir+json".into(),
            body: Ok(Some(json!({"resourceType": "Bundle", "type": "searchset", "total": 2}))),
        };
        let request = Request { method: "GET".into(), url: "http://t/fhir/Patient".into(), headers: vec![] };
        state.record(Some(request), Ok(response), None, None);
        state
    }

    fn assert(value: serde_json::Value) -> Assert {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn response_status_type_and_content_type_asserts_hold_or_fail_with_what_was_found() {
        let script = script();
        let state = answered(&script);
        assert!(check(&assert(json!({"response": "okay"})), &state).passed);
        let not_found = check(&assert(json!({"response": "notFound"})), &state);
        assert!(not_found.failed());
        assert_eq!(not_found.found, "200");
        assert!(check(&assert(json!({"responseCode": "200,201", "operator": "in"})), &state).passed);
        assert!(check(&assert(json!({"resource": "Bundle", "contentType": "json"})), &state).passed);
        assert!(check(&assert(json!({"contentType": "xml"})), &state).failed());
        assert!(
            check(&assert(json!({"headerField": "Content-Type", "operator": "contains", "value": "json"})), &state)
                .passed
        );
        assert!(check(&assert(json!({"headerField": "ETag"})), &state).failed());
        assert!(check(&assert(json!({"requestURL": "/Patient", "operator": "contains"})), &state).passed);
        assert!(check(&assert(json!({"requestMethod": "get"})), &state).passed);
    }

    #[test]
    fn expressions_fixtures_and_minimum_ids_are_checked() {
        let script = script();
        let state = answered(&script);
        assert!(check(&assert(json!({"expression": "Bundle.total = 2"})), &state).passed);
        assert!(
            check(&assert(json!({"expression": "Bundle.total", "operator": "greaterThan", "value": "1"})), &state)
                .passed
        );
        assert!(check(&assert(json!({"expression": "Bundle.entry", "operator": "empty"})), &state).passed);
        let empty = check(&assert(json!({"expression": "Bundle.entry.exists()"})), &state);
        assert_eq!((empty.failed(), empty.found.as_str()), (true, "false"));
        assert!(
            check(&assert(json!({"expression": "Bundle.type = 'searchset'", "sourceId": "expected"})), &state).passed
        );
        assert!(check(&assert(json!({"minimumId": "expected"})), &state).passed);
        let compared = assert(json!({"compareToSourceId": "expected", "compareToSourceExpression": "Bundle.type"}));
        assert!(check(&compared, &state).passed);
    }

    #[test]
    fn unsupported_constructs_are_not_run_and_never_pass() {
        let script = script();
        let state = answered(&script);
        for (unsupported, reason) in [
            (json!({"validateProfileId": "p"}), "no profile is named p"),
            (json!({"path": "fhir:Bundle/fhir:total"}), "XPath"),
            (json!({"expression": "Bundle.resolve().exists()"}), "resolve"),
            (json!({"navigationLinks": true}), "navigationLinks"),
            (json!({"rule": {"ruleId": "r"}}), "not one this runner implements"),
            (json!({"ruleset": {"rulesetId": "r"}}), "rulesets"),
            (json!({"label": "nothing"}), "nothing"),
            (json!({"expression": "Bundle.total", "operator": "approximately", "value": "2"}), "operator"),
        ] {
            let check = check(&assert(unsupported), &state);
            assert!(check.not_run && !check.passed, "{check:?}");
            assert!(check.found.contains(reason), "{check:?}");
        }
        let mixed = check(&assert(json!({"response": "notFound", "validateProfileId": "p"})), &state);
        assert!(mixed.failed(), "a failed part fails the assert: {mixed:?}");
    }

    #[test]
    fn a_failed_warning_only_assert_is_a_warning_not_a_failure() {
        let script = script();
        let state = answered(&script);
        let warning = check(
            &assert(json!({"description": "big", "expression": "Bundle.total > 10", "warningOnly": true})),
            &state,
        );
        assert!(warning.passed && !warning.failed());
        assert!(warning.expected.starts_with("warning: big"), "{warning:?}");
        assert_eq!(warning.found, "false");
    }

    #[test]
    fn asserts_without_a_response_are_not_run() {
        let script = script();
        let state = State::new(&script);
        let check = check(&assert(json!({"response": "okay"})), &state);
        assert!(check.not_run, "{check:?}");
    }
}
