//! The FHIRPath part of an assert. Without `value` (and with `eval` or no operator) the
//! expression must be true (FHIRPath singleton evaluation: empty is a failure, as qualification
//! tools treat it). With `value` its items are compared by the operator; `empty`/`notEmpty`
//! count its items. With `compareToSourceId`, the expression (or else
//! `compareToSourceExpression`) on the checked source is compared with
//! `compareToSourceExpression` on the other source: `equals` means the same items in order.

use super::asserts::{Part, substituted};
use super::expressions;
use super::model::Assert;
use super::operators::{Operator, shown};
use super::state::{Problem, Source, State};

/// The expression part of `assert`.
pub(crate) fn part(assert: &Assert, state: &State<'_>) -> Part {
    let source = state.source(assert.source_id.as_deref());
    if let Some(other) = &assert.compare_to_source_id {
        return compared_to_source(assert, other, state);
    }
    let Some(text) = assert.expression.as_deref() else {
        return Part::new("an expression", Err(Problem::NotRun("the assert has no expression".into())));
    };
    let default = if assert.value.is_some() { Operator::Equals } else { Operator::Eval };
    match (&assert.value, Operator::parse(assert.operator.as_deref(), default)) {
        (_, Err(why)) => Part::new(text, Err(Problem::NotRun(why))),
        (_, Ok(Operator::Eval)) => truth(text, source, state),
        (_, Ok(operator)) if operator.unary() => Part::compared(text, operator, values_on(text, source, state), ""),
        (Some(value), Ok(operator)) => {
            substituted(value, state, |value| Part::compared(text, operator, values_on(text, source, state), &value))
        }
        (None, Ok(operator)) => Part::new(text, Err(Problem::NotRun(format!("{} needs a value", operator.words())))),
    }
}

fn truth(text: &str, source: Result<Source<'_>, Problem>, state: &State<'_>) -> Part {
    let answer = source.and_then(Source::body).and_then(|body| expressions::truth(text, body, state));
    let result = answer.and_then(|answer| match answer {
        Some(true) => Ok(()),
        Some(false) => Err(Problem::Failed("false".into())),
        None => Err(Problem::Failed("empty (no answer)".into())),
    });
    Part::new(format!("{text} is true"), result)
}

fn compared_to_source(assert: &Assert, other: &str, state: &State<'_>) -> Part {
    let Some(other_text) = assert.compare_to_source_expression.as_deref() else {
        let why = Problem::NotRun("compareToSourceId needs compareToSourceExpression".into());
        return Part::new(format!("a comparison with {other}"), Err(why));
    };
    let text = assert.expression.as_deref().unwrap_or(other_text);
    let operator = match Operator::parse(assert.operator.as_deref(), Operator::Equals) {
        Ok(operator) => operator,
        Err(why) => return Part::new(text, Err(Problem::NotRun(why))),
    };
    let found = values_on(text, state.source(assert.source_id.as_deref()), state);
    if operator.unary() && operator != Operator::Eval {
        return Part::compared(text, operator, found, "");
    }
    let what = format!("{text} {} {other_text} on {other}", operator.words());
    let theirs = values_on(other_text, state.source(Some(other)), state);
    let result = found.and_then(|found| theirs.map(|theirs| (found, theirs))).and_then(|(found, theirs)| {
        let holds = match (operator, theirs.as_slice()) {
            (Operator::Equals, _) => found == theirs,
            (Operator::NotEquals, _) => found != theirs,
            (Operator::Eval, _) => return Err(Problem::NotRun("eval does not compare".into())),
            (operator, [single]) => operator.holds(&found, single),
            (_, _) => {
                return Err(Problem::NotRun(format!(
                    "{other_text} on {other} gives {} values, one is needed",
                    theirs.len()
                )));
            }
        };
        if holds { Ok(()) } else { Err(Problem::Failed(format!("{}; {other} has {}", shown(&found), shown(&theirs)))) }
    });
    Part::new(what, result)
}

/// The items `text` gives on the body of `source`.
fn values_on(text: &str, source: Result<Source<'_>, Problem>, state: &State<'_>) -> Result<Vec<String>, Problem> {
    let body = source.and_then(Source::body)?;
    expressions::values(text, body, state)
}
