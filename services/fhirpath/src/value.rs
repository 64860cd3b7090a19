//! Items of a FHIRPath collection: FHIR JSON nodes and System values, and the conversions between them.

use std::fmt;

use serde_json::Value;

use crate::decimal::Decimal;
use crate::temporal::{Date, DateTime, Time};

/// The result of evaluating an expression: an ordered collection of items, possibly empty.
pub type Collection<'a> = Vec<Item<'a>>;

/// One item of a collection.
///
/// Items found in the input are [`Item::Node`]s that borrow the JSON they came from; items computed by
/// the expression (literals, function results) are System values.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A value from the FHIR JSON: a resource, a complex element or a primitive (string, number, boolean).
    Node(Node<'a>),
    /// `System.Boolean`
    Boolean(bool),
    /// `System.Integer`
    Integer(i64),
    /// `System.Decimal`
    Decimal(Decimal),
    /// `System.String`
    String(String),
    /// `System.Date`
    Date(Date),
    /// `System.DateTime`
    DateTime(DateTime),
    /// `System.Time`
    Time(Time),
    /// `System.Quantity`
    Quantity(Quantity),
}

/// A borrowed piece of FHIR JSON, with its FHIR type when navigation revealed it. A primitive
/// also carries its `_name` companion (its `id` and `extension`s), if it has one; a primitive
/// that has only the companion (an extension instead of a value) is a node whose value is JSON
/// `null`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    value: &'a Value,
    fhir_type: Option<&'a str>,
    companion: Option<&'a Value>,
}

/// The value of a primitive that has only extensions.
pub(crate) static NO_VALUE: Value = Value::Null;

/// A FHIRPath quantity: a decimal value and a unit (UCUM code or calendar keyword such as `days`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The amount.
    pub value: Decimal,
    /// The unit as written: a UCUM code like `mg`, or a calendar duration keyword like `year`/`days`.
    pub unit: String,
}

/// Calendar duration keywords, singular and plural, that may follow a number without quotes.
pub(crate) const CALENDAR_UNITS: [&str; 16] = [
    "year",
    "years",
    "month",
    "months",
    "week",
    "weeks",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "millisecond",
    "milliseconds",
];

impl<'a> Node<'a> {
    pub(crate) fn new(value: &'a Value) -> Self {
        Self { value, fhir_type: None, companion: None }
    }

    pub(crate) fn with(value: &'a Value, fhir_type: Option<&'a str>, companion: Option<&'a Value>) -> Self {
        Self { value, fhir_type, companion: companion.filter(|companion| companion.is_object()) }
    }

    /// The `_name` companion of a primitive (its `id` and `extension`s), if any.
    pub fn companion(&self) -> Option<&'a Value> {
        self.companion
    }

    /// The JSON this node is.
    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The FHIR type navigation found: from the caller's [`TypeModel`](crate::TypeModel) when one
    /// was given, else from a choice element's name (`valueQuantity` gives `Quantity`). `None`
    /// when neither tells, and for resources (see [`Node::type_name`]).
    pub fn fhir_type(&self) -> Option<&'a str> {
        self.fhir_type
    }

    /// The FHIR type of the node: a resource's `resourceType`, else [`Node::fhir_type`].
    pub fn type_name(&self) -> Option<&'a str> {
        self.resource_type().or(self.fhir_type)
    }

    /// The `resourceType` when this node is a resource.
    pub fn resource_type(&self) -> Option<&'a str> {
        self.value.get("resourceType").and_then(Value::as_str)
    }
}

impl<'a> Item<'a> {
    /// An item for a piece of JSON without a known FHIR type.
    pub fn node(value: &'a Value) -> Self {
        Item::Node(Node::new(value))
    }

    /// The item as owned JSON: nodes are copied, System values become JSON scalars (dates, times and
    /// decimals keep their text) and a quantity becomes `{"value": .., "unit": ..}`.
    pub fn to_json(&self) -> Value {
        match self {
            Item::Node(node) => node.value.clone(),
            Item::Boolean(b) => Value::Bool(*b),
            Item::Integer(i) => Value::from(*i),
            Item::Decimal(d) => decimal_to_json(d),
            Item::String(s) => Value::String(s.clone()),
            Item::Date(d) => Value::String(d.to_string()),
            Item::DateTime(d) => Value::String(d.to_string()),
            Item::Time(t) => Value::String(t.to_string()),
            Item::Quantity(q) => {
                let mut object = serde_json::Map::new();
                object.insert("value".into(), decimal_to_json(&q.value));
                object.insert("unit".into(), Value::String(q.unit.clone()));
                Value::Object(object)
            }
        }
    }

    /// The System value a JSON primitive stands for (string, integer, decimal, boolean), or the item
    /// itself. Objects, arrays and nulls stay nodes. Dates in JSON are strings: a node the type
    /// model says is a `date`, `dateTime`, `instant` or `time` is that temporal value (so that two
    /// dateTimes compare as points in time, zones and precision considered); an untyped string is
    /// parsed only when compared with a date (see the compare module).
    pub(crate) fn to_system(&self) -> Item<'a> {
        let Item::Node(node) = self else {
            return self.clone();
        };
        match node.value {
            Value::Bool(b) => Item::Boolean(*b),
            Value::String(s) => match node.fhir_type {
                Some("date") => Date::parse(s).map(Item::Date),
                Some("dateTime" | "instant") => DateTime::parse(s).map(Item::DateTime),
                Some("time") => Time::parse(s).map(Item::Time),
                _ => None,
            }
            .unwrap_or_else(|| Item::String(s.clone())),
            Value::Number(n) => number_item(n).unwrap_or_else(|| self.clone()),
            _ => self.clone(),
        }
    }

    /// The string value, for items that are strings (System or JSON).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Item::String(s) => Some(s),
            Item::Node(node) => node.value.as_str(),
            _ => None,
        }
    }

    /// A JSON object node (resource or complex element).
    pub(crate) fn as_object(&self) -> Option<&'a serde_json::Map<String, Value>> {
        match self {
            Item::Node(node) => node.value.as_object(),
            _ => None,
        }
    }

    /// The quantity this item is: a System quantity, or a FHIR Quantity object with a numeric `value`
    /// (its unit is the UCUM `code`, or the human `unit` when there is no code).
    pub(crate) fn as_quantity(&self) -> Option<Quantity> {
        match self {
            Item::Quantity(q) => Some(q.clone()),
            Item::Node(node) => {
                let object = node.value.as_object()?;
                let value = Decimal::parse(&object.get("value")?.as_number()?.to_string())?;
                let unit = object.get("code").or_else(|| object.get("unit")).and_then(Value::as_str).unwrap_or("1");
                Some(Quantity { value, unit: unit.to_owned() })
            }
            _ => None,
        }
    }

    /// A short description of the item's type, for error messages.
    pub(crate) fn type_description(&self) -> String {
        match self {
            Item::Node(node) => match (node.fhir_type, node.resource_type(), node.value) {
                (Some(t), _, _) => format!("FHIR.{t}"),
                (None, Some(rt), _) => format!("FHIR.{rt}"),
                (None, None, Value::Object(_)) => "FHIR element (object)".into(),
                (None, None, Value::String(_)) => "FHIR primitive (JSON string)".into(),
                (None, None, Value::Number(_)) => "FHIR primitive (JSON number)".into(),
                (None, None, Value::Bool(_)) => "FHIR boolean".into(),
                (None, None, _) => "JSON value".into(),
            },
            Item::Boolean(_) => "System.Boolean".into(),
            Item::Integer(_) => "System.Integer".into(),
            Item::Decimal(_) => "System.Decimal".into(),
            Item::String(_) => "System.String".into(),
            Item::Date(_) => "System.Date".into(),
            Item::DateTime(_) => "System.DateTime".into(),
            Item::Time(_) => "System.Time".into(),
            Item::Quantity(_) => "System.Quantity".into(),
        }
    }

    /// True for primitive values (JSON string/number/boolean or a System value), false for objects.
    pub(crate) fn is_primitive(&self) -> bool {
        match self {
            Item::Node(node) => matches!(node.value, Value::String(_) | Value::Number(_) | Value::Bool(_)),
            _ => true,
        }
    }
}

/// A JSON number as a System Integer when written without fraction or exponent and in range, else
/// as a Decimal from its exact text (the workspace enables serde_json's `arbitrary_precision`).
pub(crate) fn number_item<'a>(number: &serde_json::Number) -> Option<Item<'a>> {
    let text = number.to_string();
    if !text.contains(['.', 'e', 'E'])
        && let Some(integer) = number.as_i64()
    {
        return Some(Item::Integer(integer));
    }
    Decimal::parse(&text).map(Item::Decimal)
}

fn decimal_to_json(decimal: &Decimal) -> Value {
    serde_json::from_str(&decimal.to_string()).unwrap_or(Value::Null)
}

impl Quantity {
    /// The unit with calendar plurals made singular, so `2 days` and `2 day` compare equal.
    pub(crate) fn normalized_unit(&self) -> &str {
        match self.unit.as_str() {
            plural if CALENDAR_UNITS.contains(&plural) => plural.strip_suffix('s').unwrap_or(plural),
            other => other,
        }
    }
}

/// FHIRPath literal form: `4 'mg'`, or `2 days` for calendar durations.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if CALENDAR_UNITS.contains(&self.unit.as_str()) {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} {}", self.value, quote(&self.unit, '\''))
        }
    }
}

/// Text between `delimiter`s with FHIRPath escapes, so it lexes back to the same text.
pub(crate) fn quote(text: &str, delimiter: char) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push(delimiter);
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{000C}' => quoted.push_str("\\f"),
            c if c == delimiter => {
                quoted.push('\\');
                quoted.push(c);
            }
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push(delimiter);
    quoted
}

/// Human-readable rendering: strings quoted, dates with `@`, JSON compactly (for messages and tests).
impl fmt::Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Node(node) => match node.value {
                Value::String(s) => write!(f, "{}", quote(s, '\'')),
                other => write!(f, "{other}"),
            },
            Item::Boolean(b) => write!(f, "{b}"),
            Item::Integer(i) => write!(f, "{i}"),
            Item::Decimal(d) => write!(f, "{d}"),
            Item::String(s) => write!(f, "{}", quote(s, '\'')),
            Item::Date(d) => write!(f, "@{d}"),
            Item::DateTime(d) if d.time().is_none() => write!(f, "@{d}T"),
            Item::DateTime(d) => write!(f, "@{d}"),
            Item::Time(t) => write!(f, "@T{t}"),
            Item::Quantity(q) => write!(f, "{q}"),
        }
    }
}
