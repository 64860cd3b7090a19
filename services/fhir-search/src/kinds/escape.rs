//! The escapes of FHIR search values (`\,` `\|` `\$` `\\`): values are split on the separators
//! that are not escaped, and the escapes removed once the last split is made.

/// Splits on `separator` where it is not escaped with a backslash. Commas are split first and
/// bars second; only a split on bars removes the escapes (a comma-split part is split again).
pub(crate) fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(escaped) = chars.next() {
                current.push(escaped);
            }
        } else if c == separator {
            parts.push(unescape_if_last(std::mem::take(&mut current), separator));
        } else {
            current.push(c);
        }
    }
    parts.push(unescape_if_last(current, separator));
    parts
}

fn unescape_if_last(part: String, separator: char) -> String {
    if separator == '|' { unescape(&part) } else { part }
}

/// Removes the FHIR search escapes.
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_separators_stay_and_lose_their_escape_at_the_last_split() {
        assert_eq!(split_unescaped(r"a\,b,c", ','), [r"a\,b", "c"]);
        assert_eq!(split_unescaped(r"s\|t|c\,d", '|'), ["s|t", "c,d"]);
        assert_eq!(unescape(r"a\\b\$"), r"a\b$");
    }
}
