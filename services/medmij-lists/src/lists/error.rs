//! Why an imported list was refused. Every error about the document names the line it was found
//! on and, once inside the root element, the element path (`/Whitelist/MedMijNodes/MedMijNode[3]`).

use super::ListKind;

/// A list that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// The document is larger than the limit.
    #[error("the document is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The size of the document.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The document is not UTF-8 (the lists are published in UTF-8 only).
    #[error("line {line}: the document is not UTF-8: {detail}")]
    NotUtf8 {
        /// The line of the first offending byte or declaration.
        line: usize,
        /// What was found.
        detail: String,
    },
    /// A document type declaration: refused, so no entity is ever defined, expanded or fetched.
    #[error("line {line}: a document type declaration (DTD) is not allowed")]
    Dtd {
        /// The line of the `<!DOCTYPE`.
        line: usize,
    },
    /// The document is not well-formed XML (this includes a truncated document).
    #[error("line {line}: malformed XML: {message}")]
    Malformed {
        /// Where the problem was found.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// More elements, or elements nested deeper, than the limits allow.
    #[error("line {line}, {path}: {message}")]
    TooBig {
        /// Where the limit was reached.
        line: usize,
        /// The element path there.
        path: String,
        /// Which limit.
        message: String,
    },
    /// Well-formed XML that does not follow the list's schema.
    #[error("line {line}, {path}: {message}")]
    Schema {
        /// The line of the offending element (or of its parent's end tag when it is missing).
        line: usize,
        /// The element path, e.g. `/OAuthclientlist/OAuthclients/OAuthclient[2]/Hostname`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The document is a valid list of another kind than the one asked for.
    #[error("expected {}, found {}", expected.title(), found.title())]
    WrongKind {
        /// The kind asked for.
        expected: ListKind,
        /// The kind found.
        found: ListKind,
    },
    /// The list's Volgnummer is not greater than that of the list already held.
    #[error(
        "Volgnummer {incoming} is not newer than Volgnummer {held}, the one already held: \
         a list is only replaced by a later publication"
    )]
    NotNewer {
        /// The Volgnummer of the list held.
        held: u64,
        /// The Volgnummer of the list offered.
        incoming: u64,
    },
}

impl ListError {
    /// A schema violation at `path`, found on `line`.
    pub(crate) fn schema(line: usize, path: impl Into<String>, message: impl Into<String>) -> ListError {
        ListError::Schema { line, path: path.into(), message: message.into() }
    }
}
