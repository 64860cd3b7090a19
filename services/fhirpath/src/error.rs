//! Error types: syntax errors found while parsing and failures found while evaluating.

use thiserror::Error;

/// An expression that is not valid FHIRPath, with the character offset where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid FHIRPath at offset {offset}: {message}")]
pub struct ParseError {
    /// Offset in characters (not bytes) from the start of the expression text.
    pub offset: usize,
    /// What was wrong, e.g. "expected ')'".
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self { offset, message: message.into() }
    }
}

/// What went wrong while evaluating an expression.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// The expression uses something this evaluator does not implement, or a type test that cannot
    /// be decided on JSON without a FHIR model. The answer is unknown, not false.
    #[error("unsupported: {construct}")]
    Unsupported {
        /// The function, operator or type test that is not supported, and why.
        construct: String,
    },
    /// An operand or argument has a type the operation is not defined for.
    #[error("type error in {operation}: {message}")]
    Type {
        /// The operator or function, e.g. "<" or "substring()".
        operation: String,
        /// What was wrong with the operand.
        message: String,
    },
    /// A collection with more than one item where the specification requires at most one.
    #[error("{operation} expects at most one item, got {count}")]
    NotSingleton {
        /// The operator or function that required a singleton.
        operation: String,
        /// How many items it got.
        count: usize,
    },
    /// `%name` refers to a constant the environment does not define.
    #[error("undefined external constant %{name}")]
    UndefinedConstant {
        /// The name after `%`.
        name: String,
    },
    /// A regular expression argument that does not compile.
    #[error("invalid regular expression {pattern:?}: {message}")]
    InvalidRegex {
        /// The pattern as given.
        pattern: String,
        /// The regex engine's complaint.
        message: String,
    },
    /// An integer or decimal result that does not fit the representation.
    #[error("arithmetic overflow in {operation}")]
    Overflow {
        /// The operator or function that overflowed.
        operation: String,
    },
    /// An evaluation that would not terminate in reasonable bounds (e.g. a runaway `repeat()`).
    #[error("evaluation limit exceeded: {message}")]
    LimitExceeded {
        /// Which limit was hit.
        message: String,
    },
}

/// An evaluation failure, with the character offset of the innermost sub-expression that failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}{}", .offset.map(|o| format!(" (at offset {o})")).unwrap_or_default())]
pub struct EvalError {
    kind: EvalErrorKind,
    offset: Option<usize>,
}

impl EvalError {
    /// What went wrong.
    pub fn kind(&self) -> &EvalErrorKind {
        &self.kind
    }

    /// Character offset in the expression text of the sub-expression that failed, when known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// True when the failure means "not implemented / undecidable here" rather than a wrong expression.
    pub fn is_unsupported(&self) -> bool {
        matches!(self.kind, EvalErrorKind::Unsupported { .. })
    }

    /// Records where the failure happened, unless an inner sub-expression already did.
    pub(crate) fn at(mut self, offset: usize) -> Self {
        self.offset.get_or_insert(offset);
        self
    }

    pub(crate) fn unsupported(construct: impl Into<String>) -> Self {
        EvalErrorKind::Unsupported { construct: construct.into() }.into()
    }

    pub(crate) fn type_error(operation: impl Into<String>, message: impl Into<String>) -> Self {
        EvalErrorKind::Type { operation: operation.into(), message: message.into() }.into()
    }

    pub(crate) fn not_singleton(operation: impl Into<String>, count: usize) -> Self {
        EvalErrorKind::NotSingleton { operation: operation.into(), count }.into()
    }

    pub(crate) fn overflow(operation: impl Into<String>) -> Self {
        EvalErrorKind::Overflow { operation: operation.into() }.into()
    }
}

impl From<EvalErrorKind> for EvalError {
    fn from(kind: EvalErrorKind) -> Self {
        Self { kind, offset: None }
    }
}
