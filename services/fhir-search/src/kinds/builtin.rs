//! The built-in parameters every type has, which read columns of the resource row instead of an
//! index table: `_id` (the logical id, a token) and `_lastUpdated` (when the stored version was
//! written, a date with the date kind's prefixes).

use super::date::{DateValue, date_value};
use super::{Condition, IndexValue, Kind, Rows, Value, invalid, no_modifier, unescape};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;
use fhir_core::reference;

/// `_id`.
pub(crate) struct Id;

impl Kind for Id {
    const ROWS: Rows = Rows::Resource;
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, _: Tz) -> Result<Value, SearchError> {
        let id = unescape(text);
        if reference::is_valid_id(&id) { Ok(Value::Id(id)) } else { Err(invalid(name, "not a valid FHIR id")) }
    }

    fn extract(_: &SearchParam, _: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        Vec::new()
    }
}

/// The resource row whose logical id is `id`.
pub(crate) fn id_condition(id: &str) -> Condition {
    Condition::equals("id", id.to_owned())
}

/// `_lastUpdated`.
pub(crate) struct LastUpdated;

impl Kind for LastUpdated {
    const ROWS: Rows = Rows::Resource;
    type Modifier = ();

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<(), SearchError> {
        no_modifier(param, modifier)
    }

    fn parse(name: &str, _: &(), text: &str, zone: Tz) -> Result<Value, SearchError> {
        date_value(name, text, zone).map(Value::LastUpdated)
    }

    fn extract(_: &SearchParam, _: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        Vec::new()
    }
}

/// The resource row last written within what `value` asks (a moment is its own range).
pub(crate) fn last_updated_condition(value: &DateValue) -> Condition {
    value.condition_on("last_updated", "last_updated")
}
