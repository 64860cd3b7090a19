//! FHIR JSON to FHIR XML (FHIR R4 §2.6.1, STU3 §2.4.1): elements in the order of the definitions,
//! primitives as `value` attributes with their `_name` ids and extensions, choices by their typed
//! names, contained resources wrapped in their type's element, the narrative as XHTML.

use crate::definitions::{ElementDef, JsonKind, Kind, Structure, TypeDef, XmlForm};
use crate::xhtml;
use crate::{FHIR_NAMESPACE, WriteError};
use fhir_core::Release;
use serde_json::{Map, Value};

/// What to do with a JSON member the definitions do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownMembers {
    /// Refuse the resource, naming the member.
    Refuse,
    /// Leave the member out. Used when serving stored resources that were accepted with unknown
    /// elements (kept in JSON as sent, never interpreted): XML cannot place them.
    Skip,
}

/// Writes `resource` (FHIR JSON) as a FHIR XML document's root element.
pub fn to_xml(release: Release, resource: &Value, unknown: UnknownMembers) -> Result<String, WriteError> {
    let mut out = String::with_capacity(1024);
    write_resource(release, resource, unknown, &mut out)?;
    Ok(out)
}

/// Appends `resource` as a root element (carrying the FHIR namespace) to `out`.
pub fn write_resource(
    release: Release,
    resource: &Value,
    unknown: UnknownMembers,
    out: &mut String,
) -> Result<(), WriteError> {
    let writer = Writer { structure: Structure::of(release), unknown, check_ranges: false };
    writer.resource(resource, true, &mut Path::default(), out)
}

/// Checks that `resource` can be written as FHIR XML (unknown members left out, as when it is
/// served) and that every `integer`, `unsignedInt` and `positiveInt` is an integer in its FHIR
/// range: what ingest holds a resource to, whichever format it came in. Serving does not check
/// the ranges again (a stored resource is written as it is).
pub fn check_writable(release: Release, resource: &Value) -> Result<(), WriteError> {
    let writer = Writer { structure: Structure::of(release), unknown: UnknownMembers::Skip, check_ranges: true };
    writer.resource(resource, true, &mut Path::default(), &mut String::with_capacity(1024))
}

struct Writer {
    structure: &'static Structure,
    unknown: UnknownMembers,
    /// Whether integers are held to their type's range.
    check_ranges: bool,
}

/// The range of FHIR's integer types (the data types page, R4 and STU3 alike): `integer` is 32-bit
/// signed; `unsignedInt` and `positiveInt` go up to the same 2,147,483,647, not to 2^32 - 1.
fn integer_range(type_name: &str) -> Option<(i64, i64)> {
    match type_name {
        "integer" => Some((-2_147_483_648, 2_147_483_647)),
        "unsignedInt" => Some((0, 2_147_483_647)),
        "positiveInt" => Some((1, 2_147_483_647)),
        _ => None,
    }
}

/// The FHIR path of the element being written, for error messages.
#[derive(Default)]
struct Path(Vec<String>);

impl Path {
    fn error(&self, message: impl Into<String>) -> WriteError {
        WriteError { path: self.0.join("."), message: message.into() }
    }
}

impl Writer {
    fn resource(&self, value: &Value, root: bool, path: &mut Path, out: &mut String) -> Result<(), WriteError> {
        let Value::Object(members) = value else { return Err(path.error("a resource must be a JSON object")) };
        let Some(resource_type) = members.get("resourceType").and_then(Value::as_str) else {
            return Err(path.error("the resource has no resourceType"));
        };
        let Some(def) = self.structure.resource(resource_type) else {
            return Err(path.error(format!("'{resource_type}' is not a resource type of this FHIR release")));
        };
        path.0.push(resource_type.to_owned());
        out.push('<');
        out.push_str(resource_type);
        if root {
            out.push_str(" xmlns=\"");
            out.push_str(FHIR_NAMESPACE);
            out.push('"');
        }
        out.push('>');
        self.children(def, members, path, out)?;
        out.push_str("</");
        out.push_str(resource_type);
        out.push('>');
        path.0.pop();
        Ok(())
    }

    /// Writes the child elements of an object of type `def`, in the definition's order.
    fn children(
        &self,
        def: &TypeDef,
        members: &Map<String, Value>,
        path: &mut Path,
        out: &mut String,
    ) -> Result<(), WriteError> {
        self.check_members(def, members, path)?;
        // The elements present, in the definition's order (XML's order). Found from the members
        // rather than by trying every element and type of the definition: a choice such as
        // `Extension.value[x]` has some fifty names, each a string to build and look up.
        let mut present: Vec<(usize, usize)> = members
            .keys()
            .filter_map(|key| def.element_at(key.strip_prefix('_').unwrap_or(key)))
            .filter(|(_, element, _)| element.xml == XmlForm::Element)
            .map(|(index, _, type_index)| (index, type_index))
            .collect();
        present.sort_unstable();
        present.dedup();
        // Most objects have no `_name` partners (primitive extensions or ids): then none is looked up.
        let partners = members.keys().any(|key| key.starts_with('_'));
        for (index, type_index) in present {
            let element = &def.elements[index];
            let name = element.name_with_type(type_index);
            let value = members.get(name.as_ref());
            let extra = if partners { members.get(&format!("_{name}")) } else { None };
            let type_name = &element.types[type_index];
            let Some(type_def) = self.structure.type_def(type_name) else {
                return Err(path.error(format!("{name}: the type {type_name} is not defined")));
            };
            path.0.push(name.clone().into_owned());
            let written = if element.many {
                self.repeated((&name, type_name), type_def, value, extra, path, out)
            } else {
                self.element((&name, type_name), type_def, value, extra, path, out)
            };
            path.0.pop();
            written?;
        }
        Ok(())
    }

    /// Checks that every member is an element of `def` (or its `_name` partner).
    fn check_members(&self, def: &TypeDef, members: &Map<String, Value>, path: &Path) -> Result<(), WriteError> {
        if self.unknown == UnknownMembers::Skip {
            return Ok(());
        }
        for name in members.keys() {
            if name == "resourceType" && def.kind == Kind::Resource {
                continue;
            }
            let (bare, is_extra) = match name.strip_prefix('_') {
                Some(bare) => (bare, true),
                None => (name.as_str(), false),
            };
            match def.element(bare) {
                Some((element, type_index)) if !is_extra || self.is_primitive(element, type_index) => {}
                _ => return Err(path.error(format!("'{name}' is not an element here"))),
            }
        }
        Ok(())
    }

    fn is_primitive(&self, element: &ElementDef, type_index: usize) -> bool {
        self.structure.type_def(&element.types[type_index]).is_some_and(|def| def.kind == Kind::Primitive)
    }

    fn repeated(
        &self,
        (name, type_name): (&str, &str),
        def: &TypeDef,
        values: Option<&Value>,
        extras: Option<&Value>,
        path: &mut Path,
        out: &mut String,
    ) -> Result<(), WriteError> {
        let values = match values {
            None => &[][..],
            Some(Value::Array(values)) => values.as_slice(),
            Some(_) => return Err(path.error("this element repeats; its value must be a JSON array")),
        };
        let extras = match extras {
            None => &[][..],
            Some(Value::Array(extras)) => extras.as_slice(),
            Some(_) => return Err(path.error("the ids and extensions of a repeating primitive must be a JSON array")),
        };
        if !extras.is_empty() && !values.is_empty() && extras.len() != values.len() {
            return Err(path.error("the value array and its '_' array must have the same length"));
        }
        for index in 0..values.len().max(extras.len()) {
            let value = values.get(index).filter(|value| !value.is_null());
            let extra = extras.get(index).filter(|extra| !extra.is_null());
            if value.is_none() && extra.is_none() {
                return Err(path.error(format!("item {index} has neither a value nor extensions")));
            }
            self.element((name, type_name), def, value, extra, path, out)?;
        }
        Ok(())
    }

    fn element(
        &self,
        (name, type_name): (&str, &str),
        def: &TypeDef,
        value: Option<&Value>,
        extra: Option<&Value>,
        path: &mut Path,
        out: &mut String,
    ) -> Result<(), WriteError> {
        match def.kind {
            Kind::Primitive => {
                if self.check_ranges
                    && let (Some((min, max)), Some(Value::Number(number))) = (integer_range(type_name), value)
                    && !fhir_core::json::number::is_integer_within(&number.to_string(), min, max)
                {
                    return Err(path.error(format!("{type_name} must be an integer from {min} to {max}")));
                }
                self.primitive(name, def.json, value, extra, path, out)
            }
            Kind::Xhtml => match value {
                Some(Value::String(div)) => {
                    xhtml::check(div).map(|()| out.push_str(div)).map_err(|error| path.error(error))
                }
                _ => Err(path.error("the narrative must be a string of XHTML")),
            },
            Kind::Resource => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                self.resource(value.unwrap_or(&Value::Null), false, path, out)?;
                close(name, out);
                Ok(())
            }
            Kind::Complex | Kind::Backbone => {
                let Some(Value::Object(members)) = value else {
                    return Err(path.error("this element must be a JSON object"));
                };
                out.push('<');
                out.push_str(name);
                for attribute in def.elements.iter().filter(|element| element.xml == XmlForm::Attribute) {
                    match members.get(&attribute.name) {
                        Some(Value::String(text)) => {
                            push_attribute(out, &attribute.name, text).map_err(|e| path.error(e))?
                        }
                        Some(_) => return Err(path.error(format!("'{}' must be a string", attribute.name))),
                        None => {}
                    }
                }
                out.push('>');
                let open_end = out.len();
                self.children(def, members, path, out)?;
                if out.len() == open_end {
                    out.pop();
                    out.push_str("/>");
                } else {
                    close(name, out);
                }
                Ok(())
            }
        }
    }

    fn primitive(
        &self,
        name: &str,
        kind: JsonKind,
        value: Option<&Value>,
        extra: Option<&Value>,
        path: &mut Path,
        out: &mut String,
    ) -> Result<(), WriteError> {
        out.push('<');
        out.push_str(name);
        let extra = match extra {
            None => None,
            Some(Value::Object(extra)) => Some(extra),
            Some(_) => return Err(path.error(format!("'_{name}' must be a JSON object"))),
        };
        if let Some(extra) = extra {
            if let Some(other) = extra.keys().find(|key| !matches!(key.as_str(), "id" | "extension")) {
                return Err(path.error(format!("'_{name}' may hold only id and extension, not '{other}'")));
            }
            match extra.get("id") {
                Some(Value::String(id)) => push_attribute(out, "id", id).map_err(|e| path.error(e))?,
                Some(_) => return Err(path.error("id must be a string")),
                None => {}
            }
        }
        if let Some(value) = value {
            let text = match (kind, value) {
                (JsonKind::String, Value::String(text)) => text.clone(),
                (JsonKind::Number, Value::Number(number)) => number.to_string(),
                (JsonKind::Boolean, Value::Bool(flag)) => flag.to_string(),
                (JsonKind::String, _) => return Err(path.error("the value must be a JSON string")),
                (JsonKind::Number, _) => return Err(path.error("the value must be a JSON number")),
                (JsonKind::Boolean, _) => return Err(path.error("the value must be true or false")),
            };
            push_attribute(out, "value", &text).map_err(|e| path.error(e))?;
        }
        let extensions = extra.and_then(|extra| extra.get("extension"));
        match extensions {
            None => out.push_str("/>"),
            Some(extensions) => {
                out.push('>');
                let extension_def =
                    self.structure.type_def("Extension").ok_or_else(|| path.error("Extension is not defined"))?;
                path.0.push("extension".into());
                let written =
                    self.repeated(("extension", "Extension"), extension_def, Some(extensions), None, path, out);
                path.0.pop();
                written?;
                close(name, out);
            }
        }
        Ok(())
    }
}

fn close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Appends ` name="text"`, escaped so that an XML parser gives back exactly `text` (line breaks
/// and tabs as character references, which attribute-value normalisation leaves alone).
fn push_attribute(out: &mut String, name: &str, text: &str) -> Result<(), String> {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(format!("the character U+{:04X} cannot be written in XML", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}
