//! A FHIRPath (N1, <http://hl7.org/fhirpath/N1/>) evaluator over FHIR resources in JSON form, for
//! the conformance runner's TestScript asserts.
//!
//! ```
//! use fhirpath::{Environment, Expression};
//! use serde_json::json;
//!
//! let bundle = json!({"resourceType": "Bundle", "total": 1, "entry": [{"resource": {"resourceType": "Patient"}}]});
//! let assert = Expression::parse("Bundle.total = Bundle.entry.count()")?;
//! assert_eq!(assert.evaluate_boolean(&bundle, &Environment::new())?, Some(true));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate holds no FHIR model: paths are followed through the JSON, and choice elements are
//! found by name (`Observation.value` finds `valueQuantity`). A caller that has the FHIR structure
//! definitions passes them as a [`TypeModel`] ([`Environment::with_model`]); then every node reached
//! from a resource carries its FHIR type and type tests (`is(Coding)`, `ofType(Reference)`) are
//! decided. Without one, type tests that JSON alone cannot decide (is this object a
//! `HumanName`?) fail with [`EvalErrorKind::Unsupported`] instead of guessing, and so do
//! functions that are not implemented, such as `resolve()` and `memberOf()`. A primitive's
//! extensions and id (`_birthDate` in JSON) are reached through the primitive, as in the FHIR
//! model (`birthDate.extension`); a primitive given only by extensions exists without a value.
//!
//! Numbers: integers are `i64` (FHIRPath's are 32-bit, so this only accepts more); decimals are
//! exact (see [`Decimal`]); division keeps 8 fractional digits. Quantities compare and add only when
//! their units are equal: unit conversion (UCUM) is unsupported.
//!
//! Dates: FHIR JSON has no date type, so a JSON string is parsed as a date, dateTime or time only when
//! compared with (or added to) one, e.g. `birthDate < @2000-01-01` or `birthDate + 18 years`. Two JSON
//! strings compare as strings, even when both hold dates, unless a [`TypeModel`] types them as
//! `date`, `dateTime`, `instant` or `time` (`Period.start <= Period.end` with the model compares
//! two points in time; a focus that is an element is typed with [`Environment::with_focus_type`]). When only one side of a dateTime comparison
//! has a timezone, the other is read in the machine's local timezone.
//!
//! Type tests without a model: see the `types` module notes on [`EvalErrorKind::Unsupported`]; in
//! short, resources are known by `resourceType`, choice elements by their name (`valueQuantity`),
//! System types of JSON primitives by their JSON kind, and a plain JSON object's FHIR type is unknown.
//!
//! Two readings follow the engine the MedMij qualification scripts were written for rather than
//! the letter of the specification, which calls both an error: the `as()` function on several
//! items keeps those of the type (as `ofType()`; the `as` operator keeps the singleton rule), and
//! `startsWith()`, `endsWith()`, `contains()` and `matches()` on several items answer `false`.

mod ast;
mod compare;
mod conversions;
mod decimal;
mod error;
mod eval;
mod functions;
mod lexer;
mod model;
mod operators;
mod parser;
mod temporal;
mod types;
mod value;

use std::fmt;

use serde_json::Value;

pub use decimal::Decimal;
pub use error::{EvalError, EvalErrorKind, ParseError};
pub use eval::Environment;
pub use model::{TypeKind, TypeModel};
pub use temporal::{Date, DateTime, Time};
pub use value::{Collection, Item, Node, Quantity};

/// A parsed FHIRPath expression: parse once, evaluate many times.
///
/// `Display` prints it back as FHIRPath, with parentheses around every operator sub-expression,
/// which parses to the same expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: ast::Expr,
}

impl Expression {
    /// Parses FHIRPath text. Function names are not checked here (an unknown function is reported as
    /// unsupported when evaluated), but a known function with the wrong number of arguments is an
    /// error.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parser::parse(text).map(|root| Self { root })
    }

    /// Evaluates the expression with `focus` as `$this` (and, unless `env` says otherwise, as
    /// `%resource` and `%context`). Returned nodes borrow from `focus` or from JSON in `env`.
    pub fn evaluate<'a>(&self, focus: &'a Value, env: &Environment<'a>) -> Result<Collection<'a>, EvalError> {
        eval::Evaluator::new(focus, env).evaluate(&self.root)
    }

    /// Evaluates the expression and converts the result as FHIRPath does where a Boolean is expected
    /// (singleton evaluation):
    ///
    /// - an empty collection gives `Ok(None)`: the answer is unknown, and the caller decides whether
    ///   an assert with an unknown answer fails (TestScript runners usually treat it as failed);
    /// - a single Boolean gives `Ok(Some(value))`;
    /// - a single item of any other type gives `Ok(Some(true))`, as the specification says;
    /// - more than one item is an [`EvalErrorKind::NotSingleton`] error.
    pub fn evaluate_boolean(&self, focus: &Value, env: &Environment<'_>) -> Result<Option<bool>, EvalError> {
        let result = self.evaluate(focus, env)?;
        operators::to_boolean(&result, "the expression result")
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.root)
    }
}

/// Names of the functions this evaluator implements, besides the type functions `is()`, `as()` and
/// `ofType()`. Any other function name evaluates to [`EvalErrorKind::Unsupported`].
pub fn supported_functions() -> impl Iterator<Item = &'static str> {
    functions::supported_names()
}
