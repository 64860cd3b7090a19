//! Reference parameters (FHIR R4 §3.1.1.4.10 "reference", the same in STU3): a value is
//! `Type/id` or `id`, and the `:Type` modifier names the target's type. Indexed from a
//! Reference's literal `reference`, where its type is one of the parameter's targets. Beside
//! the parameters' values, the reference index holds every reference a resource makes (and the
//! Binary a document's attachment points to) without a parameter: what a person may read of
//! shared resources, and `_include`, follow those rows.

use super::{CellType, Condition, IndexTable, IndexValue, Kind, Rows, Scalar, Value, invalid, unescape};
use crate::request::SearchError;
use chrono_tz::Tz;
use data_services::SearchParam;
use fhir_core::reference;
use std::collections::BTreeSet;

/// The reference index: the target's type and logical id.
pub const TABLE: IndexTable = IndexTable {
    name: "search_reference",
    alias: "x",
    columns: &["target_type", "target_id"],
    cells: &[CellType::Text, CellType::Text],
};

/// A reference a resource makes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReferenceEntry {
    /// The type of the target.
    pub target_type: String,
    /// The logical id of the target.
    pub target_id: String,
}

impl ReferenceEntry {
    pub(crate) fn cells(&self) -> Vec<Scalar> {
        vec![self.target_type.clone().into(), self.target_id.clone().into()]
    }
}

/// A reference search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue {
    /// The target type, when given.
    pub target_type: Option<String>,
    /// The target's logical id.
    pub id: String,
}

impl ReferenceValue {
    /// What a reference row must hold.
    pub fn condition(&self) -> Condition {
        let mut all = vec![Condition::equals("target_id", self.id.clone())];
        if let Some(target_type) = &self.target_type {
            all.push(Condition::equals("target_type", target_type.clone()));
        }
        Condition::All(all)
    }
}

/// The reference kind.
pub(crate) struct Reference;

impl Kind for Reference {
    const ROWS: Rows = Rows::Index(&TABLE);
    /// The `:Type` modifier.
    type Modifier = Option<String>;

    fn modifier(param: &SearchParam, modifier: Option<&str>) -> Result<Option<String>, SearchError> {
        match modifier {
            None => Ok(None),
            Some(target) if reference::is_type_name(target) => {
                if !param.targets.is_empty() && !param.targets.iter().any(|allowed| allowed == target) {
                    return Err(invalid(&param.name, &format!("{target} is not a target type of this parameter")));
                }
                Ok(Some(target.to_owned()))
            }
            Some(modifier) => {
                Err(SearchError::UnsupportedModifier { param: param.name.clone(), modifier: modifier.to_owned() })
            }
        }
    }

    fn parse(name: &str, type_modifier: &Option<String>, text: &str, _: Tz) -> Result<Value, SearchError> {
        let value = unescape(text);
        if let Some((target_type, id)) = reference::parse(&value) {
            if type_modifier.as_deref().is_some_and(|modifier| modifier != target_type) {
                return Err(invalid(name, "the :Type modifier and the reference name different types"));
            }
            let target_type = Some(target_type.to_owned());
            return Ok(Value::Reference(ReferenceValue { target_type, id: id.to_owned() }));
        }
        if reference::is_valid_id(&value) {
            return Ok(Value::Reference(ReferenceValue { target_type: type_modifier.clone(), id: value }));
        }
        Err(invalid(name, "expected Type/id or id"))
    }

    fn extract(param: &SearchParam, element: &serde_json::Value, _: Tz) -> Vec<IndexValue> {
        let Some((target_type, target_id)) = reference_target(element) else { return Vec::new() };
        if !param.targets.is_empty() && !param.targets.iter().any(|target| target == target_type) {
            return Vec::new();
        }
        vec![IndexValue::Reference(ReferenceEntry {
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
        })]
    }
}

fn reference_target(value: &serde_json::Value) -> Option<(&str, &str)> {
    reference::parse(value.get("reference")?.as_str()?)
}

/// The Binary a document's Attachment points to by a relative `url` (`Binary/{id}`): a reference
/// like any other to the index, so that the one rule for what a person may read (the records
/// that are theirs point to it) covers a document's content too. Only the relative form: an
/// absolute URL may name another server's Binary that happens to share an id with one here.
fn attachment_binary(value: &serde_json::Value) -> Option<&str> {
    let id = value.get("url")?.as_str()?.strip_prefix("Binary/")?;
    reference::is_valid_id(id).then_some(id)
}

/// Every literal reference anywhere in the resource, and every Binary an Attachment points to.
pub(crate) fn every_reference(resource: &serde_json::Value) -> BTreeSet<ReferenceEntry> {
    let mut found = BTreeSet::new();
    collect_references(resource, &mut found);
    found
}

fn collect_references(value: &serde_json::Value, into: &mut BTreeSet<ReferenceEntry>) {
    use serde_json::Value as Json;
    match value {
        Json::Object(members) => {
            if let Some((target_type, target_id)) = reference_target(value) {
                into.insert(ReferenceEntry { target_type: target_type.to_owned(), target_id: target_id.to_owned() });
            }
            if let Some(binary) = attachment_binary(value) {
                into.insert(ReferenceEntry { target_type: "Binary".to_owned(), target_id: binary.to_owned() });
            }
            for member in members.values() {
                collect_references(member, into);
            }
        }
        Json::Array(items) => {
            for item in items {
                collect_references(item, into);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(targets: &[&str]) -> SearchParam {
        SearchParam {
            name: "subject".into(),
            kind: data_services::ParamKind::Reference,
            paths: vec!["subject".into()],
            targets: targets.iter().map(|target| (*target).to_owned()).collect(),
        }
    }

    #[test]
    fn the_type_modifier_must_name_a_target_and_agree_with_the_value() {
        let patients = param(&["Patient"]);
        assert_eq!(Reference::modifier(&patients, Some("Patient")), Ok(Some("Patient".to_owned())));
        assert!(matches!(Reference::modifier(&patients, Some("Group")), Err(SearchError::InvalidValue { .. })));
        assert!(matches!(
            Reference::modifier(&patients, Some("missing")),
            Err(SearchError::UnsupportedModifier { .. })
        ));
        let typed = Some("Patient".to_owned());
        assert!(Reference::parse("subject", &typed, "Group/g", chrono_tz::UTC).is_err());
        assert_eq!(
            Reference::parse("subject", &typed, "p1", chrono_tz::UTC),
            Ok(Value::Reference(ReferenceValue { target_type: typed.clone(), id: "p1".into() }))
        );
    }
}
