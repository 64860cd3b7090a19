//! String parameters (FHIR R4 §3.1.1.4.7 "string", the same in STU3). By default a value matches
//! a text that starts with it, ignoring case and accents ("mul" finds "Müller"); `:exact` matches
//! the whole text as written, case and accents included; `:contains` matches anywhere in the
//! text, ignoring case and accents. Indexed from string and markdown elements, and from the
//! parts of HumanName (family, given, prefix, suffix, text) and Address (line, city, district,
//! state, postalCode, country, text), each part a value of its own.
//!
//! Each value is stored as written and normalised ([`normalize`]: lowercase, then without
//! diacritics), both by this code, at index time and at query time, so that the two backends
//! compare the same text with a plain `=` or `LIKE` (with `%`, `_` and `\` escaped).

use super::{CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, unescape};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The string index: a text as written, and normalised.
pub const TABLE: IndexTable = IndexTable {
    name: "search_string",
    alias: "s",
    columns: &["value", "normalized"],
    cells: &[CellType::Text, CellType::Text],
};

/// The members of complex types whose text a string parameter searches: HumanName's and
/// Address's parts.
const TEXT_PARTS: [&str; 11] =
    ["family", "given", "prefix", "suffix", "text", "line", "city", "district", "state", "postalCode", "country"];

/// A text a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StringEntry {
    /// As written.
    pub value: String,
    /// Normalised ([`normalize`]).
    pub normalized: String,
}

impl StringEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.value.clone().into(), self.normalized.clone().into()]
    }
}

/// How a string value matches (its modifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatch {
    /// The text starts with the value, ignoring case and accents (no modifier).
    StartsWith,
    /// The whole text, as written (`:exact`).
    Exact,
    /// Anywhere in the text, ignoring case and accents (`:contains`).
    Contains,
}

/// A string search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringValue {
    /// How it matches.
    pub matching: StringMatch,
    /// The text: as given for `Exact`, normalised otherwise.
    pub text: String,
}

impl StringValue {
    /// What a string row must hold.
    pub fn condition(&self) -> Condition {
        match self.matching {
            StringMatch::StartsWith => Condition::Like("normalized", format!("{}%", like_escaped(&self.text))),
            StringMatch::Contains => Condition::Like("normalized", format!("%{}%", like_escaped(&self.text))),
            StringMatch::Exact => Condition::equals("value", self.text.clone()),
        }
    }
}

/// Text as the string index compares it: lowercase, decomposed, and without combining marks
/// (diacritics), so that "Müller", "MULLER" and "müller" are one.
pub fn normalize(text: &str) -> String {
    text.to_lowercase().nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// `text` with LIKE's wildcards and its escape character escaped by `\`.
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The string kind.
pub(crate) struct Text;

impl Kind for Text {
    const ROWS: Rows = Rows::Index(&TABLE);
    type Modifier = StringMatch;

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<StringMatch, SearchError> {
        match modifier {
            None => Ok(StringMatch::StartsWith),
            Some("exact") => Ok(StringMatch::Exact),
            Some("contains") => Ok(StringMatch::Contains),
            Some(other) => {
                Err(SearchError::UnsupportedModifier { param: param.name.clone(), modifier: other.to_owned() })
            }
        }
    }

    fn parse(_: &str, matching: &StringMatch, text: &str, _: Tz) -> Result<Value, SearchError> {
        let text = unescape(text);
        let text = if *matching == StringMatch::Exact { text } else { normalize(&text) };
        Ok(Value::String(StringValue { matching: *matching, text }))
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        let mut texts = Vec::new();
        match element {
            serde_json::Value::Object(members) => {
                for part in TEXT_PARTS {
                    push_texts(members.get(part), &mut texts);
                }
            }
            other => push_texts(Some(other), &mut texts),
        }
        texts
            .into_iter()
            .map(|value| IndexValue::String(StringEntry { normalized: normalize(value), value: value.to_owned() }))
            .collect()
    }
}

fn push_texts<'a>(value: Option<&'a serde_json::Value>, into: &mut Vec<&'a str>) {
    match value {
        Some(serde_json::Value::String(text)) if !text.trim().is_empty() => into.push(text),
        Some(serde_json::Value::Array(items)) => {
            for item in items {
                if let serde_json::Value::String(text) = item
                    && !text.trim().is_empty()
                {
                    into.push(text);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param() -> SearchParam {
        SearchParam {
            name: "name".into(),
            kind: data_services::ParamKind::String,
            paths: vec!["name".into()],
            targets: vec![],
        }
    }

    fn parse(modifier: Option<&str>, text: &str) -> Result<Value, SearchError> {
        let matching = Text::modifier(&param(), modifier)?;
        Text::parse("name", &matching, text, chrono_tz::UTC)
    }

    fn texts(element: serde_json::Value) -> Vec<(String, String)> {
        Text::extract(&param(), &element, chrono_tz::UTC)
            .into_iter()
            .filter_map(|entry| match entry {
                IndexValue::String(entry) => Some((entry.value, entry.normalized)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn normalising_drops_case_and_accents_only() {
        assert_eq!(normalize("Müller"), "muller");
        assert_eq!(normalize("ÉÈÊË çà ñ"), "eeee ca n");
        assert_eq!(normalize("Ørsted-Straße 5"), "ørsted-straße 5");
        // Decomposed input reads the same as composed.
        assert_eq!(normalize("Mu\u{308}ller"), normalize("M\u{fc}ller"));
    }

    #[test]
    fn modifiers_choose_the_match_and_others_are_refused() {
        assert_eq!(
            parse(None, "MÜL"),
            Ok(Value::String(StringValue { matching: StringMatch::StartsWith, text: "mul".into() }))
        );
        assert_eq!(
            parse(Some("exact"), "Müller"),
            Ok(Value::String(StringValue { matching: StringMatch::Exact, text: "Müller".into() }))
        );
        assert_eq!(
            parse(Some("contains"), r"Ü\,l"),
            Ok(Value::String(StringValue { matching: StringMatch::Contains, text: "u,l".into() }))
        );
        let refused = parse(Some("text"), "x").expect_err("no :text on strings");
        assert_eq!(refused.to_string(), "the modifier ':text' is not supported on 'name'");
    }

    #[test]
    fn wildcards_in_a_value_are_matched_as_themselves() {
        // `\\` is FHIR's escape of a backslash.
        let Ok(value) = parse(None, r"50%_a\\b") else { panic!("parses") };
        assert_eq!(value.condition(), Condition::Like("normalized", r"50\%\_a\\b%".into()));
        let Ok(value) = parse(Some("contains"), "x") else { panic!("parses") };
        assert_eq!(value.condition(), Condition::Like("normalized", "%x%".into()));
        let Ok(value) = parse(Some("exact"), "X") else { panic!("parses") };
        assert_eq!(value.condition(), Condition::equals("value", "X".to_owned()));
    }

    #[test]
    fn names_and_addresses_are_indexed_by_their_parts() {
        let name = json!({"use": "official", "family": "Müller", "given": ["Anna", "Maria"], "prefix": ["Dr."], "text": "Dr. Anna Maria Müller",
            "_family": {"extension": []}, "period": {"start": "2000"}});
        let found: Vec<String> = texts(name).into_iter().map(|(value, _)| value).collect();
        assert_eq!(found, ["Müller", "Anna", "Maria", "Dr.", "Dr. Anna Maria Müller"]);
        let address =
            json!({"line": ["Straße 1"], "city": "Den Haag", "postalCode": "2500 AA", "country": "NL", "type": "both"});
        assert_eq!(
            texts(address),
            [
                ("Straße 1".to_owned(), "straße 1".to_owned()),
                ("Den Haag".to_owned(), "den haag".to_owned()),
                ("2500 AA".to_owned(), "2500 aa".to_owned()),
                ("NL".to_owned(), "nl".to_owned())
            ]
        );
        assert_eq!(texts(json!("Den Haag")), [("Den Haag".to_owned(), "den haag".to_owned())]);
        assert!(texts(json!(" ")).is_empty() && texts(json!(5)).is_empty());
    }
}
