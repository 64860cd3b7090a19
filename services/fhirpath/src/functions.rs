//! Function invocation: the table of supported functions with their arities, and the functions on
//! collections (existence, filtering, subsetting, combining, tree navigation, utilities).
//! String, conversion and math functions live in [`crate::conversions`].

use serde_json::Value;

use crate::ast::Expr;
use crate::compare;
use crate::conversions;
use crate::error::{EvalError, EvalErrorKind};
use crate::eval::{Evaluator, Scope, children};
use crate::operators::{self, integer_singleton, singleton, to_boolean};
use crate::temporal::{Date, DateTime, Time};
use crate::value::{Collection, Item};

/// Supported functions with their minimum and maximum number of arguments. `is`, `as` and
/// `ofType` take a type and are handled by the parser and evaluator directly.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    // Existence
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("subsetOf", 1, 1),
    ("supersetOf", 1, 1),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    // Filtering and projection
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    // Subsetting
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    // Combining
    ("union", 1, 1),
    ("combine", 1, 1),
    // Conversion
    ("iif", 2, 3),
    ("toBoolean", 0, 0),
    ("convertsToBoolean", 0, 0),
    ("toInteger", 0, 0),
    ("convertsToInteger", 0, 0),
    ("toDecimal", 0, 0),
    ("convertsToDecimal", 0, 0),
    ("toString", 0, 0),
    ("convertsToString", 0, 0),
    ("toDate", 0, 0),
    ("convertsToDate", 0, 0),
    ("toDateTime", 0, 0),
    ("convertsToDateTime", 0, 0),
    ("toTime", 0, 0),
    ("convertsToTime", 0, 0),
    ("toQuantity", 0, 1),
    ("convertsToQuantity", 0, 1),
    // Strings
    ("indexOf", 1, 1),
    ("substring", 1, 2),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 1),
    ("replaceMatches", 2, 2),
    ("length", 0, 0),
    ("toChars", 0, 0),
    // Math
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("floor", 0, 0),
    ("round", 0, 1),
    ("truncate", 0, 0),
    // Tree navigation
    ("children", 0, 0),
    ("descendants", 0, 0),
    // Utility
    ("trace", 1, 2),
    ("now", 0, 0),
    ("today", 0, 0),
    ("timeOfDay", 0, 0),
    ("aggregate", 1, 2),
    // Boolean
    ("not", 0, 0),
    // FHIR additions
    ("hasValue", 0, 0),
    ("getValue", 0, 0),
    ("extension", 1, 1),
];

/// Functions that exist in FHIRPath or FHIR but need what this evaluator does not have.
const KNOWN_UNSUPPORTED: &[(&str, &str)] = &[
    ("resolve", "needs access to the referenced resources"),
    ("memberOf", "needs a terminology server"),
    ("subsumes", "needs a terminology server"),
    ("subsumedBy", "needs a terminology server"),
    ("conformsTo", "needs profiles (StructureDefinitions)"),
    ("htmlChecks", "needs an XHTML checker"),
    ("elementDefinition", "needs the FHIR model"),
    ("slice", "needs profiles (StructureDefinitions)"),
    ("checkModifiers", "needs the FHIR model"),
    ("type", "reflection needs the FHIR model"),
];

/// `(min, max)` arguments of a supported function, `None` for names this evaluator does not know.
pub(crate) fn arity(name: &str) -> Option<(usize, usize)> {
    FUNCTIONS.iter().find(|(n, _, _)| *n == name).map(|(_, min, max)| (*min, *max))
}

/// The names of all supported functions (excluding the type functions `is`, `as`, `ofType`).
pub(crate) fn supported_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|(name, _, _)| *name)
}

/// Most results hold at most one item built from an `Option`.
fn optional<'a>(item: Option<Item<'a>>) -> Collection<'a> {
    item.into_iter().collect()
}

fn boolean<'a>(value: bool) -> Collection<'a> {
    vec![Item::Boolean(value)]
}

/// Calls function `name` on `input`; arguments are evaluated against `$this` of `scope`, or per
/// item for the functions that take an expression (`where`, `select`, `all`, `exists`, `repeat`,
/// `aggregate`).
pub(crate) fn call<'a>(
    ev: &Evaluator<'_, 'a>,
    name: &str,
    input: Collection<'a>,
    args: &[Expr],
    scope: Scope<'_, 'a>,
) -> Result<Collection<'a>, EvalError> {
    let operation = format!("{name}()");
    let op = operation.as_str();
    let arg = |index: usize| -> Result<Collection<'a>, EvalError> {
        match args.get(index) {
            Some(expr) => ev.eval(expr, scope),
            None => Ok(Vec::new()),
        }
    };
    Ok(match name {
        "empty" => boolean(input.is_empty()),
        "exists" => match args.first() {
            None => boolean(!input.is_empty()),
            Some(criteria) => boolean(!filter(ev, input, criteria, op)?.is_empty()),
        },
        "all" => {
            let criteria = first_arg(args, op)?;
            let mut all = true;
            for (index, item) in input.iter().enumerate() {
                let result = ev.eval(criteria, Scope::iteration(std::slice::from_ref(item), index))?;
                if to_boolean(&result, op)? != Some(true) {
                    all = false;
                    break;
                }
            }
            boolean(all)
        }
        "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
            let mut values = Vec::with_capacity(input.len());
            for item in &input {
                match item.to_system() {
                    Item::Boolean(value) => values.push(value),
                    other => return Err(EvalError::type_error(op, format!("expected Booleans, got {other}"))),
                }
            }
            boolean(match name {
                "allTrue" => values.iter().all(|v| *v),
                "anyTrue" => values.iter().any(|v| *v),
                "allFalse" => values.iter().all(|v| !*v),
                _ => values.iter().any(|v| !*v),
            })
        }
        "subsetOf" => boolean(is_subset(&input, &arg(0)?)?),
        "supersetOf" => boolean(is_subset(&arg(0)?, &input)?),
        "count" => vec![Item::Integer(i64::try_from(input.len()).unwrap_or(i64::MAX))],
        "distinct" => operators::distinct(input)?,
        "isDistinct" => {
            let count = input.len();
            boolean(operators::distinct(input)?.len() == count)
        }
        "where" => filter(ev, input, first_arg(args, op)?, op)?,
        "select" => {
            let projection = first_arg(args, op)?;
            let mut output = Vec::new();
            for (index, item) in input.iter().enumerate() {
                output.extend(ev.eval(projection, Scope::iteration(std::slice::from_ref(item), index))?);
            }
            output
        }
        "repeat" => repeat(ev, input, first_arg(args, op)?)?,
        "single" => optional(singleton(&input, op)?.cloned()),
        "first" => optional(input.into_iter().next()),
        "last" => optional(input.into_iter().last()),
        "tail" => input.into_iter().skip(1).collect(),
        "skip" | "take" => {
            let count = integer_singleton(&arg(0)?, op)?
                .ok_or_else(|| EvalError::type_error(op, "the number of items must not be empty"))?;
            let count = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
            if name == "skip" {
                input.into_iter().skip(count).collect()
            } else {
                input.into_iter().take(count).collect()
            }
        }
        "intersect" => {
            let other = arg(0)?;
            let mut output = Vec::new();
            for item in operators::distinct(input)? {
                if compare::collection_contains(&other, &item)? {
                    output.push(item);
                }
            }
            output
        }
        "exclude" => {
            let other = arg(0)?;
            let mut output = Vec::new();
            for item in input {
                if !compare::collection_contains(&other, &item)? {
                    output.push(item);
                }
            }
            output
        }
        "union" => operators::union(input, arg(0)?)?,
        "combine" => input.into_iter().chain(arg(0)?).collect(),
        "iif" => return iif(ev, input, args, scope, op),
        "children" => {
            let mut output = Vec::new();
            for item in &input {
                children(item, ev.model(), &mut output);
            }
            output
        }
        "descendants" => descendants(&input, ev)?,
        // Tracing is a side effect for debugging; the value passes through unchanged.
        "trace" => input,
        "now" => vec![Item::DateTime(DateTime::from_local(ev.now))],
        "today" => vec![Item::Date(Date::from_naive(ev.now.date_naive()))],
        "timeOfDay" => vec![Item::Time(Time::from_naive(ev.now.time()))],
        "aggregate" => aggregate(ev, input, args, scope, op)?,
        "not" => optional(to_boolean(&input, op)?.map(|value| Item::Boolean(!value))),
        "hasValue" => boolean(matches!(input.as_slice(), [item] if item.is_primitive())),
        "getValue" => match input.as_slice() {
            [item] if item.is_primitive() => vec![item.to_system()],
            _ => Vec::new(),
        },
        "extension" => {
            let url = arg(0)?;
            let Some(url) = singleton(&url, op)?.and_then(Item::as_str).map(str::to_owned) else {
                return Err(EvalError::type_error(op, "expected the extension URL as a String"));
            };
            let mut output = Vec::new();
            for item in &input {
                let mut extensions = Vec::new();
                crate::eval::members(item, "extension", ev.model(), &mut extensions);
                output.extend(extensions.into_iter().filter(|extension| {
                    extension.as_object().and_then(|o| o.get("url")).and_then(Value::as_str) == Some(url.as_str())
                }));
            }
            output
        }
        // On several items these test nothing and answer false, as the engine the qualification
        // scripts were written for does (`descendants().where($this.is(Coding)).system
        // .startsWith(..).not()` relies on it); the specification calls that an error.
        "startsWith" | "endsWith" | "contains" | "matches" if input.len() > 1 => boolean(false),
        _ if arity(name).is_some() => return conversions::call(name, input, &arg, op),
        _ => {
            let reason = KNOWN_UNSUPPORTED
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("not implemented by this evaluator", |(_, reason)| reason);
            return Err(EvalError::unsupported(format!("function {name}(): {reason}")));
        }
    })
}

fn first_arg<'e>(args: &'e [Expr], operation: &str) -> Result<&'e Expr, EvalError> {
    args.first().ok_or_else(|| EvalError::type_error(operation, "missing argument"))
}

/// Items for which `criteria` is true, evaluated with each item as `$this`.
fn filter<'a>(
    ev: &Evaluator<'_, 'a>,
    input: Collection<'a>,
    criteria: &Expr,
    op: &str,
) -> Result<Collection<'a>, EvalError> {
    let mut output = Vec::new();
    for (index, item) in input.into_iter().enumerate() {
        let result = ev.eval(criteria, Scope::iteration(std::slice::from_ref(&item), index))?;
        if to_boolean(&result, op)? == Some(true) {
            output.push(item);
        }
    }
    Ok(output)
}

fn is_subset(subset: &[Item], superset: &[Item]) -> Result<bool, EvalError> {
    for item in subset {
        if !compare::collection_contains(superset, item)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Bound on items produced by `repeat()` and `descendants()`, against runaway expressions.
const MAX_REPEAT_ITEMS: usize = 1_000_000;

/// `repeat(projection)`: the projection applied to the input, then to its results, until nothing
/// new appears. JSON nodes count as seen by identity, System values by equality.
fn repeat<'a>(ev: &Evaluator<'_, 'a>, input: Collection<'a>, projection: &Expr) -> Result<Collection<'a>, EvalError> {
    let mut output: Collection<'a> = Vec::new();
    let mut pending = input;
    while !pending.is_empty() {
        let mut next = Vec::new();
        for (index, item) in pending.iter().enumerate() {
            for produced in ev.eval(projection, Scope::iteration(std::slice::from_ref(item), index))? {
                if !already_seen(&output, &produced)? {
                    output.push(produced.clone());
                    next.push(produced);
                }
            }
            if output.len() > MAX_REPEAT_ITEMS {
                return Err(EvalErrorKind::LimitExceeded {
                    message: format!("repeat() produced more than {MAX_REPEAT_ITEMS} items"),
                }
                .into());
            }
        }
        pending = next;
    }
    Ok(output)
}

fn already_seen(output: &[Item], candidate: &Item) -> Result<bool, EvalError> {
    match candidate {
        Item::Node(node) => {
            Ok(output.iter().any(|seen| matches!(seen, Item::Node(s) if std::ptr::eq(s.value(), node.value()))))
        }
        other => compare::collection_contains(output, other),
    }
}

/// All descendants, level by level (`repeat(children())` over a tree, which has no cycles).
fn descendants<'a>(input: &[Item<'a>], ev: &Evaluator<'_, 'a>) -> Result<Collection<'a>, EvalError> {
    let mut output = Vec::new();
    let mut level = Vec::new();
    for item in input {
        children(item, ev.model(), &mut level);
    }
    while !level.is_empty() {
        let mut next = Vec::new();
        for item in &level {
            children(item, ev.model(), &mut next);
        }
        output.append(&mut level);
        if output.len() > MAX_REPEAT_ITEMS {
            return Err(EvalErrorKind::LimitExceeded { message: "descendants() of a huge document".into() }.into());
        }
        level = next;
    }
    Ok(output)
}

/// `iif(criterion, true-result [, otherwise-result])`: only the chosen branch is evaluated. On an
/// explicit input (`x.iif(...)`) the input, which must be empty or a single item, is `$this`.
fn iif<'a>(
    ev: &Evaluator<'_, 'a>,
    input: Collection<'a>,
    args: &[Expr],
    scope: Scope<'_, 'a>,
    op: &str,
) -> Result<Collection<'a>, EvalError> {
    singleton(&input, op)?;
    let scope = Scope { this: &input, ..scope };
    let criterion = ev.eval(first_arg(args, op)?, scope)?;
    let branch = if to_boolean(&criterion, op)? == Some(true) { args.get(1) } else { args.get(2) };
    match branch {
        Some(branch) => ev.eval(branch, scope),
        None => Ok(Vec::new()),
    }
}

/// `aggregate(aggregator [, init])`: folds the input with `$total` as the running value.
fn aggregate<'a>(
    ev: &Evaluator<'_, 'a>,
    input: Collection<'a>,
    args: &[Expr],
    scope: Scope<'_, 'a>,
    op: &str,
) -> Result<Collection<'a>, EvalError> {
    let aggregator = first_arg(args, op)?;
    let mut total = match args.get(1) {
        Some(init) => ev.eval(init, scope)?,
        None => Vec::new(),
    };
    for (index, item) in input.iter().enumerate() {
        let iteration = Scope { this: std::slice::from_ref(item), index: Some(index), total: Some(&total) };
        total = ev.eval(aggregator, iteration)?;
    }
    Ok(total)
}
