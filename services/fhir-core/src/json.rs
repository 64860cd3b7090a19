//! FHIR JSON's rules beyond JSON's (the specification's JSON page, R4 and STU3), checked while
//! the text is parsed, so that what is accepted can be stored exactly as it was sent:
//!
//! - **No name twice in an object.** JSON parsers keep the last of duplicates (or the first, or
//!   fail); FHIR JSON forbids them, and a resource whose meaning depends on the parser is not
//!   stored.
//! - **Numbers FHIR can hold, written plainly** (see [`number`]): at most 18 digits and no
//!   exponent.
//!
//! [`from_slice`] parses with both checks in one pass (a `serde` visitor building the
//! `serde_json::Value` directly, no second walk). Errors name the place as a JSON pointer, a
//! FHIRPath-style expression when the resource type is known, and the line and column. FHIR XML
//! is held to the same number rules as it is read (`fhir-xml` calls [`check_number`]).

pub mod number;
mod strict;

pub use number::{MAX_DIGITS, NumberError, check_number};
pub use strict::from_slice;

use std::fmt;

/// What is wrong with a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Not JSON at all (syntax, nesting deeper than 128 levels).
    Syntax,
    /// A name appears twice in one object.
    DuplicateKey,
    /// A number outside FHIR's bounds.
    Number,
}

/// A JSON document refused, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What kind of problem.
    pub kind: JsonErrorKind,
    /// What is wrong, without the place.
    pub message: String,
    /// Where, as a JSON pointer (RFC 6901; empty for the whole document).
    pub pointer: String,
    /// Where, as a FHIRPath-style expression (`Observation.valueQuantity.value`), when the
    /// resource type of the document was read before the problem.
    pub expression: Option<String>,
    /// The line (from 1; 0 when unknown).
    pub line: usize,
    /// The column (from 1).
    pub column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let pointer = if self.pointer.is_empty() { "the document" } else { self.pointer.as_str() };
        if self.line > 0 {
            write!(f, " (at {pointer}, line {}, column {})", self.line, self.column)
        } else {
            write!(f, " (at {pointer})")
        }
    }
}

impl std::error::Error for JsonError {}

/// One step into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// An object member.
    Key(String),
    /// An array item.
    Index(usize),
}

/// The JSON pointer of `steps` (from the root).
pub(crate) fn pointer(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        out.push('/');
        match step {
            Step::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Step::Index(index) => out.push_str(&index.to_string()),
        }
    }
    out
}

/// The FHIRPath-style expression of `steps` under a resource of `root_type`.
pub(crate) fn expression(root_type: &str, steps: &[Step]) -> String {
    let mut out = root_type.to_owned();
    for step in steps {
        match step {
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_expressions_index() {
        let steps = [Step::Key("a/b~c".into()), Step::Index(2), Step::Key("x".into())];
        assert_eq!(pointer(&steps), "/a~1b~0c/2/x");
        assert_eq!(expression("Bundle", &steps), "Bundle.a/b~c[2].x");
    }
}
