//! The comparison prefixes of ordered values (FHIR R4 §3.1.1.4 "Prefixes", the same in STU3):
//! two lowercase letters before a date, number or quantity. Which of them a kind supports is the
//! kind's to say.

use std::fmt;

/// A comparison prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Equal (the default): within the range the value stands for.
    Eq,
    /// Not equal: outside that range.
    Ne,
    /// Greater than.
    Gt,
    /// Less than.
    Lt,
    /// Greater than or equal.
    Ge,
    /// Less than or equal.
    Le,
    /// Starts after: wholly above the range.
    Sa,
    /// Ends before: wholly below the range.
    Eb,
    /// Approximately.
    Ap,
}

impl Prefix {
    const ALL: [Prefix; 9] =
        [Prefix::Eq, Prefix::Ne, Prefix::Gt, Prefix::Lt, Prefix::Ge, Prefix::Le, Prefix::Sa, Prefix::Eb, Prefix::Ap];

    /// How it is written.
    pub fn code(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The prefix of `text` (`Eq` when it starts otherwise than with two lowercase letters) and the
/// rest; two lowercase letters that are no prefix are refused with a message.
pub(crate) fn split(text: &str) -> Result<(Prefix, &str), String> {
    let head = text.get(..2).filter(|head| head.bytes().all(|b| b.is_ascii_lowercase()));
    let Some(head) = head else { return Ok((Prefix::Eq, text)) };
    match Prefix::ALL.into_iter().find(|prefix| prefix.code() == head) {
        Some(prefix) => Ok((prefix, &text[2..])),
        None => Err(format!("unknown prefix '{head}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lowercase_letters_are_a_prefix_or_refused() {
        assert_eq!(split("ge2013"), Ok((Prefix::Ge, "2013")));
        assert_eq!(split("ap5.4"), Ok((Prefix::Ap, "5.4")));
        assert_eq!(split("5.4"), Ok((Prefix::Eq, "5.4")));
        assert_eq!(split("-5"), Ok((Prefix::Eq, "-5")));
        assert_eq!(split("abc"), Err("unknown prefix 'ab'".to_owned()));
        // Not letters only: left to the value's own reading.
        assert_eq!(split("e5"), Ok((Prefix::Eq, "e5")));
    }
}
