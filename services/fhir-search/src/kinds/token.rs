//! Token parameters (FHIR R4 §3.1.1.4.9 "token", the same in STU3): codes, identifiers,
//! booleans. A value is `system|code`, `|code` (no system), `code` (any system) or `system|`
//! (any code of the system); no modifier is supported. Indexed from CodeableConcept (each
//! coding), Coding, Identifier and ContactPoint (system and value), code, string and boolean.

use super::{
    CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, invalid, no_modifier, split_unescaped,
};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;

/// The token index: a code with its system, if it has one.
pub const TABLE: IndexTable = IndexTable {
    name: "search_token",
    alias: "t",
    columns: &["system", "code"],
    cells: &[CellType::Text, CellType::Text],
};

/// A token a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenEntry {
    /// The code system, if the element has one.
    pub system: Option<String>,
    /// The code (or identifier value).
    pub code: String,
}

impl TokenEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.system.clone().into(), self.code.clone().into()]
    }
}

/// The system part of a token value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    /// `code`: any system.
    Any,
    /// `|code`: no system.
    Absent,
    /// `system|code`.
    Is(String),
}

/// A token search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    /// Which system the code must have.
    pub system: TokenSystem,
    /// The code, or `None` for any code of the system.
    pub code: Option<String>,
}

impl TokenValue {
    /// What a token row must hold.
    pub fn condition(&self) -> Condition {
        let mut all = Vec::new();
        if let Some(code) = &self.code {
            all.push(Condition::equals("code", code.clone()));
        }
        match &self.system {
            TokenSystem::Any => {}
            TokenSystem::Absent => all.push(Condition::IsNull("system")),
            TokenSystem::Is(system) => all.push(Condition::equals("system", system.clone())),
        }
        Condition::All(all)
    }

    /// Whether a coding (system, code) matches this value (`$lastn` groups codings by it).
    pub fn matches(&self, system: Option<&str>, code: &str) -> bool {
        let code_ok = self.code.as_deref().is_none_or(|wanted| wanted == code);
        let system_ok = match &self.system {
            TokenSystem::Any => true,
            TokenSystem::Absent => system.is_none(),
            TokenSystem::Is(wanted) => system == Some(wanted.as_str()),
        };
        code_ok && system_ok
    }
}

/// The token kind.
pub(crate) struct Token;

impl Kind for Token {
    const ROWS: Rows = Rows::Index(&TABLE);
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, _: Tz) -> Result<Value, SearchError> {
        let token = |system, code| Ok(Value::Token(TokenValue { system, code }));
        let parts = split_unescaped(text, '|');
        match parts.as_slice() {
            [code] => token(TokenSystem::Any, Some(code.clone())),
            [system, code] if system.is_empty() && code.is_empty() => Err(invalid(name, "'|' alone matches nothing")),
            [system, code] if system.is_empty() => token(TokenSystem::Absent, Some(code.clone())),
            [system, code] if code.is_empty() => token(TokenSystem::Is(system.clone()), None),
            [system, code] => token(TokenSystem::Is(system.clone()), Some(code.clone())),
            _ => Err(invalid(name, "a token has at most one unescaped '|'")),
        }
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        token_values(element).into_iter().map(|(system, code)| IndexValue::Token(TokenEntry { system, code })).collect()
    }
}

/// The (system, code) pairs in an element: CodeableConcept, Coding, Identifier or ContactPoint,
/// code, string or boolean.
fn token_values(value: &serde_json::Value) -> Vec<(Option<String>, String)> {
    use serde_json::Value as Json;
    let pair = |object: &Json, code_key: &str| -> Option<(Option<String>, String)> {
        let code = object.get(code_key)?.as_str()?;
        let system = object.get("system").and_then(Json::as_str).map(str::to_owned);
        Some((system, code.to_owned()))
    };
    match value {
        Json::String(code) => vec![(None, code.clone())],
        Json::Bool(flag) => vec![(None, flag.to_string())],
        Json::Object(members) => {
            if let Some(Json::Array(codings)) = members.get("coding") {
                codings.iter().filter_map(|coding| pair(coding, "code")).collect()
            } else if members.contains_key("code") {
                pair(value, "code").into_iter().collect()
            } else {
                pair(value, "value").into_iter().collect()
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Value, SearchError> {
        Token::parse("code", &(), text, chrono_tz::UTC)
    }

    fn value(system: TokenSystem, code: Option<&str>) -> Value {
        Value::Token(TokenValue { system, code: code.map(str::to_owned) })
    }

    #[test]
    fn the_four_forms_and_their_escapes() {
        assert_eq!(parse("x"), Ok(value(TokenSystem::Any, Some("x"))));
        assert_eq!(parse("|x"), Ok(value(TokenSystem::Absent, Some("x"))));
        assert_eq!(parse("http://s|"), Ok(value(TokenSystem::Is("http://s".into()), None)));
        assert_eq!(parse(r"s\|t|c"), Ok(value(TokenSystem::Is("s|t".into()), Some("c"))));
        assert!(parse("|").is_err());
        assert!(parse("a|b|c").is_err());
    }

    #[test]
    fn codings_identifiers_and_primitives_are_indexed() {
        let entries = |element| token_values(&element);
        assert_eq!(
            entries(
                json!({"coding": [{"system": "http://loinc.org", "code": "1"}, {"display": "no code"}], "text": "t"})
            ),
            [(Some("http://loinc.org".to_owned()), "1".to_owned())]
        );
        assert_eq!(
            entries(json!({"system": "urn:oid:1", "value": "7"})),
            [(Some("urn:oid:1".to_owned()), "7".to_owned())]
        );
        assert_eq!(entries(json!(true)), [(None, "true".to_owned())]);
        assert!(entries(json!(5)).is_empty());
    }

    #[test]
    fn lastn_matches_codings_as_the_search_does() {
        let Ok(Value::Token(loinc)) = parse("http://loinc.org|1") else { panic!("a token") };
        assert!(loinc.matches(Some("http://loinc.org"), "1"));
        assert!(!loinc.matches(None, "1"));
        let Ok(Value::Token(bare)) = parse("|1") else { panic!("a token") };
        assert!(bare.matches(None, "1") && !bare.matches(Some("s"), "1"));
    }
}
