//! URI parameters (FHIR R4 §3.1.1.4.11 "uri", the same in STU3): a value matches a URI equal to
//! it, letter case included; with `:below`, a URI that starts with it (`:above` is refused).
//! Indexed from uri, url and canonical elements (a string), as written.

use super::{CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, unescape};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;

/// The URI index.
pub const TABLE: IndexTable =
    IndexTable { name: "search_uri", alias: "u", columns: &["value"], cells: &[CellType::Text] };

/// A URI a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UriEntry {
    /// As written.
    pub value: String,
}

impl UriEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.value.clone().into()]
    }
}

/// A URI search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriValue {
    /// `:below`: the stored URI starts with it.
    pub below: bool,
    /// The URI.
    pub uri: String,
}

impl UriValue {
    /// What a URI row must hold.
    pub fn condition(&self) -> Condition {
        if self.below {
            Condition::StartsWith("value", self.uri.clone())
        } else {
            Condition::equals("value", self.uri.clone())
        }
    }
}

/// The URI kind.
pub(crate) struct Uri;

impl Kind for Uri {
    const ROWS: Rows = Rows::Index(&TABLE);
    /// `:below`.
    type Modifier = bool;

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<bool, SearchError> {
        match modifier {
            None => Ok(false),
            Some("below") => Ok(true),
            Some(other) => {
                Err(SearchError::UnsupportedModifier { param: param.name.clone(), modifier: other.to_owned() })
            }
        }
    }

    fn parse(_: &str, below: &bool, text: &str, _: Tz) -> Result<Value, SearchError> {
        Ok(Value::Uri(UriValue { below: *below, uri: unescape(text) }))
    }

    fn extract(_: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        element.as_str().map(|uri| IndexValue::Uri(UriEntry { value: uri.to_owned() })).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_a_prefix_and_above_is_refused() {
        let param =
            SearchParam { name: "source".into(), kind: data_services::ParamKind::Uri, paths: vec![], targets: vec![] };
        let below = Uri::modifier(&param, Some("below")).expect("supported");
        let value = Uri::parse("source", &below, "http://a.example/fhir/", chrono_tz::UTC).expect("parses");
        assert_eq!(value.condition(), Condition::StartsWith("value", "http://a.example/fhir/".into()));
        assert!(matches!(Uri::modifier(&param, Some("above")), Err(SearchError::UnsupportedModifier { .. })));
    }
}
