#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Table-driven cases grouped like the official FHIRPath test suite (tests-fhir-r4.xml), written
//! against this crate's own fixtures. Every case states the expected collection (items rendered with
//! `Item`'s `Display`: strings quoted, dates with `@`), or that the expression is invalid, fails, or
//! is unsupported.

use fhirpath::{Environment, EvalErrorKind, Expression};
use serde_json::Value;

/// Raise this only together with new cases: the table must not shrink unnoticed.
const EXPECTED_CASE_COUNT: usize = 622;

#[derive(Clone, Copy)]
enum Fixture {
    Patient,
    Observation,
    Bundle,
    Outcome,
}

enum Expect {
    Items(&'static [&'static str]),
    /// `Expression::parse` must fail.
    Invalid,
    /// Evaluation must fail with `Unsupported`.
    Unsupported,
    /// Evaluation must fail with any other error.
    Error,
}

struct Case {
    group: &'static str,
    fixture: Fixture,
    expression: &'static str,
    expect: Expect,
}

use Fixture::{Bundle as B, Observation as O, Outcome as OO, Patient as P};

const fn ok(group: &'static str, fixture: Fixture, expression: &'static str, items: &'static [&'static str]) -> Case {
    Case { group, fixture, expression, expect: Expect::Items(items) }
}

const fn invalid(group: &'static str, expression: &'static str) -> Case {
    Case { group, fixture: P, expression, expect: Expect::Invalid }
}

const fn unsupported(group: &'static str, fixture: Fixture, expression: &'static str) -> Case {
    Case { group, fixture, expression, expect: Expect::Unsupported }
}

const fn error(group: &'static str, fixture: Fixture, expression: &'static str) -> Case {
    Case { group, fixture, expression, expect: Expect::Error }
}

const T: &[&str] = &["true"];
const F: &[&str] = &["false"];
const E: &[&str] = &[];

#[path = "spec_cases/logic_and_strings.rs"]
mod logic_and_strings;
#[path = "spec_cases/paths_and_functions.rs"]
mod paths_and_functions;

/// Every case, in the order of the tables.
fn cases() -> impl Iterator<Item = &'static Case> {
    paths_and_functions::CASES.iter().chain(logic_and_strings::CASES)
}

fn load(fixture: Fixture) -> Value {
    let text = match fixture {
        Fixture::Patient => include_str!("fixtures/patient.json"),
        Fixture::Observation => include_str!("fixtures/observation.json"),
        Fixture::Bundle => include_str!("fixtures/bundle.json"),
        Fixture::Outcome => include_str!("fixtures/operation_outcome.json"),
    };
    serde_json::from_str(text).expect("fixture is valid JSON")
}

/// Runs one case; `Err` describes the mismatch.
fn run(case: &Case, focus: &Value) -> Result<(), String> {
    let env = Environment::new();
    let parsed = Expression::parse(case.expression);
    let expression = match (&case.expect, parsed) {
        (Expect::Invalid, Err(_)) => return Ok(()),
        (Expect::Invalid, Ok(e)) => return Err(format!("expected a parse error, parsed as {e}")),
        (_, Err(e)) => return Err(format!("unexpected parse error: {e}")),
        (_, Ok(expression)) => expression,
    };
    let result = expression.evaluate(focus, &env);
    match (&case.expect, result) {
        (Expect::Items(expected), Ok(items)) => {
            let actual: Vec<String> = items.iter().map(ToString::to_string).collect();
            if actual == *expected { Ok(()) } else { Err(format!("expected {expected:?}, got {actual:?}")) }
        }
        (Expect::Unsupported, Err(e)) if matches!(e.kind(), EvalErrorKind::Unsupported { .. }) => Ok(()),
        (Expect::Error, Err(e)) if !e.is_unsupported() => Ok(()),
        (_, Err(e)) => Err(format!("unexpected error: {e}")),
        (_, Ok(items)) => {
            let actual: Vec<String> = items.iter().map(ToString::to_string).collect();
            Err(format!("expected an error, got {actual:?}"))
        }
    }
}

#[test]
fn specification_cases() {
    let fixtures = [load(Fixture::Patient), load(Fixture::Observation), load(Fixture::Bundle), load(Fixture::Outcome)];
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases() {
        ran += 1;
        if let Err(message) = run(case, &fixtures[case.fixture as usize]) {
            failures.push(format!("[{}] {}: {message}", case.group, case.expression));
        }
    }
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(ran, EXPECTED_CASE_COUNT, "the case table changed size; update EXPECTED_CASE_COUNT deliberately");
}

#[test]
fn every_group_has_cases_and_no_expression_is_listed_twice() {
    let mut seen = std::collections::HashSet::new();
    for case in cases() {
        assert!(seen.insert((case.fixture as usize, case.expression)), "duplicate case: {}", case.expression);
    }
}
