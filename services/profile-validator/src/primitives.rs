//! The lexical rules of FHIR's primitive types (the regular expressions of the specification,
//! the same in STU3 and R4, and the integer ranges): a `dateTime` that is not one, an `id` with a
//! space, a `positiveInt` of 0. Ingest checks these with the typed models as well; the validator
//! checks them for whatever it is given (a server's answer, a file).

use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::LazyLock;

const YEAR: &str = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
const MONTH: &str = "(0[1-9]|1[0-2])";
const DAY: &str = "(0[1-9]|[1-2][0-9]|3[0-1])";
const CLOCK: &str = "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?";
const ZONE: &str = "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";

/// The pattern each string-valued primitive must match, whole.
static PATTERNS: LazyLock<HashMap<&'static str, Regex>> = LazyLock::new(|| {
    let date = format!("{YEAR}(-{MONTH}(-{DAY})?)?");
    let date_time = format!("{YEAR}(-{MONTH}(-{DAY}(T{CLOCK}{ZONE})?)?)?");
    let instant = format!("{YEAR}-{MONTH}-{DAY}T{CLOCK}{ZONE}");
    let patterns = [
        ("date", date),
        ("dateTime", date_time),
        ("instant", instant),
        ("time", CLOCK.to_owned()),
        ("id", "[A-Za-z0-9\\-\\.]{1,64}".to_owned()),
        ("oid", "urn:oid:[0-2](\\.(0|[1-9][0-9]*))+".to_owned()),
        ("uuid", "urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".to_owned()),
        ("code", "[^\\s]+( [^\\s]+)*".to_owned()),
        ("uri", "\\S*".to_owned()),
        ("url", "\\S*".to_owned()),
        ("canonical", "\\S*".to_owned()),
        ("base64Binary", "(\\s*([0-9a-zA-Z+/=]){4}\\s*)+".to_owned()),
    ];
    patterns
        .into_iter()
        .filter_map(|(name, pattern)| Some((name, Regex::new(&format!("^(?:{pattern})$")).ok()?)))
        .collect()
});

/// What is wrong with `value` as a `type_name`, if anything (its JSON kind is checked elsewhere).
pub(crate) fn fault(type_name: &str, value: &Value) -> Option<String> {
    match (type_name, value) {
        (_, Value::String(text)) if text.is_empty() => Some(format!("an empty {type_name}: FHIR has no empty strings")),
        (_, Value::String(text)) => {
            let pattern = PATTERNS.get(type_name)?;
            (!pattern.is_match(text)).then(|| format!("{text:?} is not a valid {type_name}"))
        }
        ("integer" | "positiveInt" | "unsignedInt", Value::Number(number)) => {
            let least = match type_name {
                "positiveInt" => 1,
                "unsignedInt" => 0,
                _ => i64::from(i32::MIN),
            };
            let fits = number.as_i64().is_some_and(|n| n >= least && n <= i64::from(i32::MAX));
            (!fits).then(|| format!("{number} is not a valid {type_name}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::fault;
    use serde_json::json;

    #[test]
    fn each_type_holds_its_values_to_its_pattern() {
        let good = [
            ("date", json!("2015")),
            ("date", json!("2015-02-07")),
            ("dateTime", json!("2015-02")),
            ("dateTime", json!("2015-02-07T13:28:17.239+02:00")),
            ("instant", json!("2015-02-07T13:28:17Z")),
            ("time", json!("23:59:60")),
            ("id", json!("a-B.9")),
            ("oid", json!("urn:oid:2.16.840.1.113883")),
            ("code", json!("in progress")),
            ("uri", json!("http://fhir.nl/fhir/NamingSystem/bsn")),
            ("positiveInt", json!(1)),
            ("unsignedInt", json!(0)),
            ("string", json!("anything")),
        ];
        for (type_name, value) in good {
            assert_eq!(fault(type_name, &value), None, "{type_name} {value}");
        }
        let bad = [
            ("date", json!("2015-2-7")),
            ("dateTime", json!("${DATE, T, D, -10}")),
            ("dateTime", json!("2015-02-07T13:28")),
            ("dateTime", json!("2015-02-07T13:28:17")),
            ("instant", json!("2015-02-07")),
            ("time", json!("24:00:00")),
            ("id", json!("has space")),
            ("oid", json!("2.16.840.1.113883")),
            ("code", json!(" leading")),
            ("uri", json!("has space")),
            ("positiveInt", json!(0)),
            ("unsignedInt", json!(-1)),
            ("integer", json!(2_147_483_648_i64)),
            ("string", json!("")),
        ];
        for (type_name, value) in bad {
            assert!(fault(type_name, &value).is_some(), "{type_name} {value}");
        }
    }
}
