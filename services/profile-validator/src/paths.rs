//! Per type and element, what the walk would otherwise format for every value it meets: the
//! element's path in the base definitions (`Observation.value[x]`), the key profile nodes use for
//! it (`value[x]`) and its base rules. Made once per release.

use crate::base::{BaseElement, BaseRules};
use fhir_core::Release;
use fhir_xml::Structure;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One element of a type, ready for the walk.
#[derive(Debug)]
pub(crate) struct ElementPath {
    /// Its path in the base definitions.
    pub base_path: String,
    /// Its name as profile element ids write it.
    pub key: String,
    /// Its base rules, if it has any.
    pub base: Option<&'static BaseElement>,
}

/// Every type's elements, in the order of the structure tables.
pub(crate) fn of(release: Release) -> &'static HashMap<String, Vec<ElementPath>> {
    static STU3: OnceLock<HashMap<String, Vec<ElementPath>>> = OnceLock::new();
    static R4: OnceLock<HashMap<String, Vec<ElementPath>>> = OnceLock::new();
    let cell = match release {
        Release::Stu3 => &STU3,
        Release::R4 => &R4,
    };
    cell.get_or_init(|| {
        let structure = Structure::of(release);
        let base = BaseRules::of(release);
        structure
            .type_names()
            .filter_map(|name| {
                let definition = structure.type_def(name)?;
                let elements = definition
                    .elements
                    .iter()
                    .map(|element| {
                        let key = if element.choice { format!("{}[x]", element.name) } else { element.name.clone() };
                        let base_path = format!("{name}.{key}");
                        let base = base.element(&base_path);
                        ElementPath { base_path, key, base }
                    })
                    .collect();
                Some((name.to_owned(), elements))
            })
            .collect()
    })
}
