//! The strict parse: serde_json reads the text, and a visitor of its own builds the `Value`,
//! refusing a repeated name or a number out of bounds where it is met. Nothing is walked twice,
//! and a document that passes is the very `Value` serde_json would have built.
//!
//! The place of a problem is gathered on the way out: each level that sees a child fail adds
//! its own step, so a document that parses costs no bookkeeping at all.

use super::{JsonError, JsonErrorKind, Step, check_number, expression, pointer};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// How serde_json (with `arbitrary_precision`) hands a number that does not fit a 64-bit
/// integer to a visitor: as a map with this one key and the number's text as its value.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses `bytes` as FHIR JSON: JSON without repeated names, with numbers within FHIR's bounds.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut state = State::default();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Node { state: &mut state, root: true }.deserialize(&mut deserializer).and_then(|value| {
        deserializer.end()?;
        Ok(value)
    });
    parsed.map_err(|error| {
        let mut problem = state.problem.take().unwrap_or_else(|| Problem {
            kind: JsonErrorKind::Syntax,
            message: error.to_string(),
            steps: Vec::new(),
        });
        problem.steps.reverse();
        if problem.kind == JsonErrorKind::Syntax {
            // serde_json's message ends with the place; the place is given apart.
            if let Some((message, _)) = problem.message.rsplit_once(" at line ") {
                problem.message = message.to_owned();
            }
        }
        JsonError {
            kind: problem.kind,
            expression: state.root_type.as_deref().map(|root| expression(root, &problem.steps)),
            pointer: pointer(&problem.steps),
            message: problem.message,
            line: error.line(),
            column: error.column(),
        }
    })
}

/// What the parse found wrong, and where (steps from the innermost out, until reversed).
struct Problem {
    kind: JsonErrorKind,
    message: String,
    steps: Vec<Step>,
}

#[derive(Default)]
struct State {
    problem: Option<Problem>,
    /// The document's `resourceType`, once read.
    root_type: Option<String>,
}

impl State {
    /// A child at `step` failed: the step is part of the place.
    fn failed_at(&mut self, step: Step, message: impl FnOnce() -> String) {
        let problem = self.problem.get_or_insert_with(|| Problem {
            kind: JsonErrorKind::Syntax,
            message: message(),
            steps: Vec::new(),
        });
        problem.steps.push(step);
    }

    fn refuse<E: de::Error>(&mut self, kind: JsonErrorKind, message: String, step: Option<Step>) -> E {
        let error = E::custom(&message);
        self.problem = Some(Problem { kind, message, steps: step.into_iter().collect() });
        error
    }
}

/// One value of the document.
struct Node<'s> {
    state: &'s mut State,
    root: bool,
}

impl Node<'_> {
    fn number<E: de::Error>(self, text: String) -> Result<Value, E> {
        if let Err(error) = check_number(&text) {
            return Err(self.state.refuse(JsonErrorKind::Number, error.to_string(), None));
        }
        text.parse::<Number>().map(Value::Number).map_err(E::custom)
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        self.number(value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        self.number(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // Not reached with `arbitrary_precision`, which hands over the text instead.
        self.number(value.to_string())
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        loop {
            let item = items.next_element_seed(Node { state: &mut *self.state, root: false });
            match item {
                Ok(Some(value)) => values.push(value),
                Ok(None) => return Ok(Value::Array(values)),
                Err(error) => {
                    self.state.failed_at(Step::Index(values.len()), || error.to_string());
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let Some(first) = entries.next_key::<String>()? else { return Ok(Value::Object(Map::new())) };
        if first == NUMBER_TOKEN {
            let text: String = entries.next_value()?;
            return self.number(text);
        }
        let mut members = Map::new();
        let mut key = first;
        loop {
            if members.contains_key(&key) {
                let message = format!("the name '{key}' appears twice in one object; FHIR JSON forbids that");
                return Err(self.state.refuse(JsonErrorKind::DuplicateKey, message, Some(Step::Key(key))));
            }
            match entries.next_value_seed(Node { state: &mut *self.state, root: false }) {
                Ok(value) => {
                    if self.root && key == "resourceType" {
                        self.state.root_type = value.as_str().map(str::to_owned);
                    }
                    members.insert(key, value);
                }
                Err(error) => {
                    self.state.failed_at(Step::Key(key), || error.to_string());
                    return Err(error);
                }
            }
            match entries.next_key::<String>()? {
                Some(next) => key = next,
                None => return Ok(Value::Object(members)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_document_is_the_value_serde_json_builds() {
        let text = r#"{"resourceType": "Observation", "valueQuantity": {"value": 72.50, "unit": "kg"},
            "component": [{"valueInteger": -3}, {"valueInteger": 123456789012345678}],
            "status": "final", "flag": true, "none": null, "empty": {}, "list": [], "zero": -0}"#;
        let strict = from_slice(text.as_bytes()).expect("valid");
        let plain: Value = serde_json::from_str(text).expect("valid");
        assert_eq!(strict, plain);
        assert_eq!(strict.to_string(), plain.to_string(), "key order and number text kept");
        assert!(strict.to_string().contains("72.50") && strict.to_string().contains("\"zero\":-0"));
    }

    #[test]
    fn a_repeated_name_is_refused_with_its_place() {
        let text = "{\"resourceType\": \"Patient\",\n \"name\": [{\"family\": \"A\",\n  \"family\": \"B\"}]}";
        let error = from_slice(text.as_bytes()).expect_err("duplicate");
        assert_eq!(error.kind, JsonErrorKind::DuplicateKey);
        assert_eq!(error.pointer, "/name/0/family");
        assert_eq!(error.expression.as_deref(), Some("Patient.name[0].family"));
        assert_eq!(error.line, 3);
        assert!(error.message.contains("'family' appears twice"), "{}", error.message);
        // At the top level too, and before the resource type is known.
        let error = from_slice(br#"{"id": "a", "id": "b", "resourceType": "Patient"}"#).expect_err("duplicate");
        assert_eq!((error.pointer.as_str(), error.expression), ("/id", None));
    }

    #[test]
    fn numbers_out_of_bounds_are_refused_with_their_place() {
        let error = from_slice(br#"{"resourceType": "Observation", "valueQuantity": {"value": 1e999999}}"#)
            .expect_err("exponent");
        assert_eq!(error.kind, JsonErrorKind::Number);
        assert_eq!(error.expression.as_deref(), Some("Observation.valueQuantity.value"));
        assert_eq!(error.pointer, "/valueQuantity/value");
        let long = format!(
            r#"{{"resourceType": "Observation", "component": [{{}}, {{"valueInteger": {}}}]}}"#,
            "1".repeat(100_000)
        );
        let error = from_slice(long.as_bytes()).expect_err("too long");
        assert_eq!(error.pointer, "/component/1/valueInteger");
        assert!(error.message.contains("100000 digits"), "{}", error.message);
        // Twenty digits that fit a u64 are still twenty digits.
        let error = from_slice(br#"{"n": 18446744073709551615}"#).expect_err("too long");
        assert_eq!((error.kind, error.pointer.as_str()), (JsonErrorKind::Number, "/n"));
    }

    #[test]
    fn syntax_errors_keep_serde_jsons_message_and_place() {
        let error = from_slice(b"{\"resourceType\": \"Patient\",\n \"active\": tru}").expect_err("syntax");
        assert_eq!(error.kind, JsonErrorKind::Syntax);
        assert_eq!((error.line, error.pointer.as_str()), (2, "/active"));
        assert!(!error.message.contains("line"), "{}", error.message);
        assert!(from_slice(b"{} trailing").is_err());
        assert!(from_slice(b"").is_err());
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(from_slice(deep.as_bytes()).expect_err("too deep").kind, JsonErrorKind::Syntax);
    }
}
