//! The structure of every FHIR type of a release, as derived from the official definitions into
//! `profiles/fhir/structure/` (see `examples/derive_structures.rs`): elements in order, their
//! types, whether they repeat, and how XML writes them. Parsed once per process.

use fhir_core::Release;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The structure table of one release.
#[derive(Debug)]
pub struct Structure {
    types: HashMap<String, TypeDef>,
}

/// What kind of type a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A primitive: a value attribute in XML, a JSON string, number or boolean.
    Primitive,
    /// XHTML (`Narrative.div`): an element in the XHTML namespace, a string in JSON.
    Xhtml,
    /// A complex data type.
    Complex,
    /// A backbone element of a resource, named by its path.
    Backbone,
    /// A resource; `Resource` itself stands for "any resource" (contained, Bundle entries).
    Resource,
}

/// How a primitive's value is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum JsonKind {
    /// A JSON string.
    #[default]
    String,
    /// A JSON number (kept exactly as written).
    Number,
    /// `true` or `false`.
    Boolean,
}

/// One type: its kind and, unless primitive, its elements in order.
#[derive(Debug, Deserialize)]
pub struct TypeDef {
    /// What kind of type this is.
    pub kind: Kind,
    /// For primitives, how JSON writes the value.
    #[serde(default)]
    pub json: JsonKind,
    /// The elements in the order XML writes them.
    #[serde(default)]
    pub elements: Vec<ElementDef>,
    /// Element names (with the type suffix for choices) to (element index, type index).
    #[serde(skip)]
    names: HashMap<String, (usize, usize)>,
}

/// How XML writes an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum XmlForm {
    /// A child element.
    #[default]
    Element,
    /// An attribute of the parent (`id` of data types, `Extension.url`).
    Attribute,
}

/// One element of a type.
#[derive(Debug, Deserialize)]
pub struct ElementDef {
    /// The element's name; for a choice, without `[x]`.
    pub name: String,
    /// Whether this is a choice (`value[x]`): the name carries the type, e.g. `valueQuantity`.
    #[serde(default)]
    pub choice: bool,
    /// The types the element may have.
    pub types: Vec<String>,
    /// Whether the element repeats (a JSON array).
    #[serde(default)]
    pub many: bool,
    /// Attribute or element.
    #[serde(default)]
    pub xml: XmlForm,
}

impl ElementDef {
    /// The name the element has with the `index`th of its types.
    pub fn name_with_type(&self, index: usize) -> Cow<'_, str> {
        if !self.choice {
            return Cow::Borrowed(&self.name);
        }
        let type_name = self.types.get(index).map(String::as_str).unwrap_or_default();
        let mut name = self.name.clone();
        let mut chars = type_name.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
        Cow::Owned(name)
    }
}

impl TypeDef {
    /// The element called `name` (a choice with its type suffix) and the index of its type.
    pub fn element(&self, name: &str) -> Option<(&ElementDef, usize)> {
        self.element_at(name).map(|(_, element, type_index)| (element, type_index))
    }

    /// Like `element`, with the element's position among the type's elements.
    pub fn element_at(&self, name: &str) -> Option<(usize, &ElementDef, usize)> {
        let (index, type_index) = self.names.get(name)?;
        Some((*index, &self.elements[*index], *type_index))
    }
}

#[derive(Deserialize)]
struct Table {
    types: HashMap<String, TypeDef>,
}

impl Structure {
    /// The structure of `release`.
    pub fn of(release: Release) -> &'static Structure {
        static STU3: OnceLock<Structure> = OnceLock::new();
        static R4: OnceLock<Structure> = OnceLock::new();
        match release {
            Release::Stu3 => {
                STU3.get_or_init(|| Structure::parse(include_str!("../../../profiles/fhir/structure/stu3.json")))
            }
            Release::R4 => {
                R4.get_or_init(|| Structure::parse(include_str!("../../../profiles/fhir/structure/r4.json")))
            }
        }
    }

    fn parse(text: &str) -> Structure {
        // The tables are part of the build and checked by this crate's tests; an unreadable one
        // leaves an empty structure, which refuses every resource with a clear message.
        let mut table: Table = serde_json::from_str(text).unwrap_or(Table { types: HashMap::new() });
        for def in table.types.values_mut() {
            let mut names = HashMap::new();
            for (index, element) in def.elements.iter().enumerate() {
                for type_index in 0..if element.choice { element.types.len() } else { 1 } {
                    names.insert(element.name_with_type(type_index).into_owned(), (index, type_index));
                }
            }
            def.names = names;
        }
        Structure { types: table.types }
    }

    /// The type called `name` (a data type, a resource, or a backbone path).
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// The resource type called `name`; abstract and non-resource types are not resources here.
    pub fn resource(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name).filter(|def| def.kind == Kind::Resource && !matches!(name, "Resource" | "DomainResource"))
    }

    /// The names of every type the table holds (data types, resources, backbone paths), in no
    /// particular order.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    /// How many types the table holds.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether the table is empty (only if it could not be read).
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_load_with_every_referenced_type_defined() {
        for release in [Release::Stu3, Release::R4] {
            let structure = Structure::of(release);
            assert!(structure.len() > 400, "{release:?}: {}", structure.len());
            for (name, def) in &structure.types {
                for element in &def.elements {
                    for type_name in &element.types {
                        assert!(
                            structure.type_def(type_name).is_some(),
                            "{release:?} {name}.{}: {type_name}",
                            element.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn integers_of_every_kind_are_json_numbers() {
        for release in [Release::Stu3, Release::R4] {
            for name in ["integer", "positiveInt", "unsignedInt", "decimal"] {
                let def = Structure::of(release).type_def(name).expect("defined");
                assert_eq!((def.kind, def.json), (Kind::Primitive, JsonKind::Number), "{release:?} {name}");
            }
        }
    }

    #[test]
    fn elements_keep_the_order_of_the_definitions() {
        let observation = Structure::of(Release::Stu3).resource("Observation").expect("Observation");
        let names: Vec<&str> = observation.elements.iter().map(|e| e.name.as_str()).take(10).collect();
        assert_eq!(
            names,
            [
                "id",
                "meta",
                "implicitRules",
                "language",
                "text",
                "contained",
                "extension",
                "modifierExtension",
                "identifier",
                "basedOn"
            ]
        );
        let (value, type_index) = observation.element("valueQuantity").expect("choice");
        assert_eq!((value.name.as_str(), value.types[type_index].as_str()), ("value", "Quantity"));
        assert!(observation.element("value").is_none());
    }
}
