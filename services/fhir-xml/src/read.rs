//! FHIR XML to FHIR JSON. Refuses, with the line and the FHIR path: malformed XML, elements
//! outside the FHIR namespace, unknown or misplaced elements and attributes, text where FHIR has
//! none, any document type declaration (so no entity is ever defined, expanded or fetched),
//! input larger or deeper than the limits, and values that cannot be the JSON their type asks
//! for. Comments and processing instructions are ignored.

use crate::definitions::{JsonKind, Kind, Structure, TypeDef, XmlForm};
use crate::{FHIR_NAMESPACE, ReadError, XHTML_NAMESPACE, xhtml};
use fhir_core::Release;
use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use serde_json::{Map, Value};

/// Bounds on what the reader takes.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// The largest document, in bytes.
    pub max_bytes: usize,
    /// How deep elements may nest (the narrative's XHTML has its own bound).
    pub max_depth: usize,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits { max_bytes: 16 * 1024 * 1024, max_depth: 64 }
    }
}

/// Reads one FHIR resource (a Bundle is a resource too) from XML, holding it to every rule of
/// FHIR XML.
pub fn from_xml(release: Release, input: &[u8], limits: ReadLimits) -> Result<Value, ReadError> {
    read(release, input, limits, false).map(|(value, _)| value)
}

/// As [`from_xml`], but an element written before one it should follow is read all the same,
/// with a note saying where: what providers export (the published Nictiz examples among it)
/// breaks FHIR XML's order in places where the meaning is not in doubt. An element whose
/// occurrences are split by others is still refused.
pub fn from_xml_noting_order(
    release: Release,
    input: &[u8],
    limits: ReadLimits,
) -> Result<(Value, Vec<String>), ReadError> {
    read(release, input, limits, true)
}

fn read(
    release: Release,
    input: &[u8],
    limits: ReadLimits,
    lenient_order: bool,
) -> Result<(Value, Vec<String>), ReadError> {
    if input.len() > limits.max_bytes {
        return Err(ReadError {
            line: 0,
            path: String::new(),
            message: format!("the document is larger than {} bytes", limits.max_bytes),
        });
    }
    let mut xml = NsReader::from_reader(input);
    let config = xml.config_mut();
    config.trim_text(true);
    config.check_end_names = true;
    config.check_comments = true;
    let mut reader = Reader {
        xml,
        input,
        structure: Structure::of(release),
        limits,
        path: Vec::new(),
        depth: 0,
        event_start: 0,
        lenient_order,
        notes: Vec::new(),
    };
    let value = reader.document()?;
    Ok((value, reader.notes))
}

/// Where an element's name is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Fhir,
    Xhtml,
    Other,
}

/// The events the reader acts on, with the element's namespace resolved.
enum Step<'i> {
    Open(BytesStart<'i>, Ns, bool),
    Close,
    Skip,
    Text,
    End,
}

/// The occurrences of one element: (element index, JSON name, values, ids and extensions).
type Slot = (usize, String, Vec<Option<Value>>, Vec<Option<Value>>);

struct Reader<'i> {
    xml: NsReader<&'i [u8]>,
    input: &'i [u8],
    structure: &'static Structure,
    limits: ReadLimits,
    path: Vec<String>,
    depth: usize,
    /// Where the last event began (the narrative is taken from the input as written).
    event_start: usize,
    /// Read elements out of order (noting each) instead of refusing them.
    lenient_order: bool,
    /// What was read although FHIR XML does not allow it.
    notes: Vec<String>,
}

impl<'i> Reader<'i> {
    fn error(&self, message: impl Into<String>) -> ReadError {
        let offset = usize::try_from(self.xml.buffer_position()).unwrap_or(usize::MAX).min(self.input.len());
        let line = self.input[..offset].iter().filter(|&&byte| byte == b'\n').count() + 1;
        ReadError { line, path: self.path.join("."), message: message.into() }
    }

    fn step(&mut self) -> Result<Step<'i>, ReadError> {
        self.event_start = usize::try_from(self.xml.buffer_position()).unwrap_or(usize::MAX);
        let (resolved, event) = match self.xml.read_resolved_event() {
            Ok((resolved, event)) => (namespace(&resolved), event),
            Err(error) => return Err(self.error(format!("malformed XML: {error}"))),
        };
        let resolved = resolved.map_err(|message| self.error(message));
        Ok(match event {
            Event::Start(start) => Step::Open(start, resolved?, false),
            Event::Empty(start) => Step::Open(start, resolved?, true),
            Event::End(_) => Step::Close,
            Event::Comment(_) | Event::PI(_) => Step::Skip,
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && !encoding.eq_ignore_ascii_case("utf-8")
                {
                    return Err(self.error("only UTF-8 documents are accepted"));
                }
                Step::Skip
            }
            Event::DocType(_) => return Err(self.error("document type declarations (DTDs, entities) are not allowed")),
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => Step::Text,
            Event::Eof => Step::End,
        })
    }

    fn document(&mut self) -> Result<Value, ReadError> {
        let resource = loop {
            match self.step()? {
                Step::Skip => {}
                Step::Open(start, ns, empty) => break self.resource(&start, ns, empty)?,
                Step::End => return Err(self.error("the document has no root element")),
                Step::Close | Step::Text => return Err(self.error("text before the root element")),
            }
        };
        loop {
            match self.step()? {
                Step::Skip => {}
                Step::End => return Ok(resource),
                _ => return Err(self.error("content after the root element")),
            }
        }
    }

    fn enter(&mut self, name: &str) -> Result<(), ReadError> {
        self.path.push(name.to_owned());
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.error(format!("elements nest deeper than {}", self.limits.max_depth)));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.path.pop();
        self.depth -= 1;
    }

    /// A resource element (the root, or inside `contained`, `resource`, ...).
    fn resource(&mut self, start: &BytesStart<'i>, ns: Ns, empty: bool) -> Result<Value, ReadError> {
        let name = local_name(start);
        if ns != Ns::Fhir {
            return Err(self.error(format!("<{name}> is not in the FHIR namespace ({FHIR_NAMESPACE})")));
        }
        let Some(def) = self.structure.resource(&name) else {
            return Err(self.error(format!("'{name}' is not a resource type of this FHIR release")));
        };
        self.enter(&name)?;
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| self.error(format!("malformed attribute: {error}")))?;
            if !is_namespace_declaration(&attribute) {
                return Err(self.error(format!("a resource element has no attributes ('{}')", key(&attribute))));
            }
        }
        let mut members = Map::new();
        members.insert("resourceType".into(), Value::String(name));
        if !empty {
            self.children(def, &mut members)?;
        }
        self.leave();
        Ok(Value::Object(members))
    }

    /// Reads the child elements of an element of type `def` up to its end tag into `members`.
    fn children(&mut self, def: &'static TypeDef, members: &mut Map<String, Value>) -> Result<(), ReadError> {
        let mut slots: Vec<Slot> = Vec::new();
        // The element read last, so that a misplaced element's own repetitions join it.
        let mut previous: Option<usize> = None;
        loop {
            let (start, ns, empty) = match self.step()? {
                Step::Open(start, ns, empty) => (start, ns, empty),
                Step::Close => break,
                Step::Skip => continue,
                Step::Text => {
                    return Err(self.error("text is not allowed here; FHIR XML carries values in value attributes"));
                }
                Step::End => return Err(self.error("the document ends inside an element")),
            };
            let name = local_name(&start);
            let Some((index, element, type_index)) = def.element_at(&name).filter(|_| ns != Ns::Other) else {
                return Err(self.error(format!("'{name}' is not an element here")));
            };
            let expected = if self.is_xhtml(&element.types[type_index]) { Ns::Xhtml } else { Ns::Fhir };
            if ns != expected {
                let namespace = if expected == Ns::Fhir { FHIR_NAMESPACE } else { XHTML_NAMESPACE };
                return Err(self.error(format!("<{name}> must be in the namespace {namespace}")));
            }
            if element.xml == XmlForm::Attribute {
                return Err(self.error(format!("'{name}' is written as an attribute, not an element")));
            }
            match slots.last_mut() {
                Some((last, last_name, values, extras)) if *last == index => {
                    if *last_name != name {
                        return Err(self
                            .error(format!("'{name}' and '{last_name}' are the same choice; only one may be given")));
                    }
                    if !element.many {
                        return Err(self.error(format!("'{name}' may appear only once")));
                    }
                    let (value, extra) = self.element(&name, &element.types[type_index], &start, empty)?;
                    values.push(value);
                    extras.push(extra);
                }
                Some((last, _, _, _)) if *last > index && self.lenient_order && previous == Some(index) => {
                    if !element.many {
                        return Err(self.error(format!("'{name}' may appear only once")));
                    }
                    let (value, extra) = self.element(&name, &element.types[type_index], &start, empty)?;
                    if let Some((_, _, values, extras)) = slots.iter_mut().find(|(seen, ..)| *seen == index) {
                        values.push(value);
                        extras.push(extra);
                    }
                }
                Some((last, last_name, _, _)) if *last > index => {
                    let before = format!("'{name}' must come before '{last_name}'");
                    if !self.lenient_order || slots.iter().any(|(seen, ..)| *seen == index) {
                        return Err(self.error(before));
                    }
                    let at = self.error(before);
                    self.notes.push(format!("line {}, {}: {} (read in its place)", at.line, at.path, at.message));
                    let (value, extra) = self.element(&name, &element.types[type_index], &start, empty)?;
                    let position = slots.iter().position(|(seen, ..)| *seen > index).unwrap_or(slots.len());
                    slots.insert(position, (index, name, vec![value], vec![extra]));
                }
                _ => {
                    let (value, extra) = self.element(&name, &element.types[type_index], &start, empty)?;
                    slots.push((index, name, vec![value], vec![extra]));
                }
            }
            previous = Some(index);
        }
        for (index, name, values, extras) in slots {
            let many = def.elements[index].many;
            if values.iter().any(Option::is_some) {
                let value = if many {
                    Value::Array(values.iter().map(|v| v.clone().unwrap_or(Value::Null)).collect())
                } else {
                    values.into_iter().flatten().next().unwrap_or(Value::Null)
                };
                members.insert(name.clone(), value);
            }
            if extras.iter().any(Option::is_some) {
                let extra = if many {
                    Value::Array(extras.into_iter().map(|e| e.unwrap_or(Value::Null)).collect())
                } else {
                    extras.into_iter().flatten().next().unwrap_or(Value::Null)
                };
                members.insert(format!("_{name}"), extra);
            }
        }
        Ok(())
    }

    fn is_xhtml(&self, type_name: &str) -> bool {
        self.structure.type_def(type_name).is_some_and(|def| def.kind == Kind::Xhtml)
    }

    /// One element of type `type_name`: its JSON value and, for a primitive, its `_name` partner.
    fn element(
        &mut self,
        name: &str,
        type_name: &str,
        start: &BytesStart<'i>,
        empty: bool,
    ) -> Result<(Option<Value>, Option<Value>), ReadError> {
        let Some(def) = self.structure.type_def(type_name) else {
            return Err(self.error(format!("the type {type_name} is not defined")));
        };
        self.enter(name)?;
        let read = match def.kind {
            Kind::Primitive => self.primitive(def.json, start, empty),
            Kind::Xhtml => self.narrative(start, empty).map(|div| (Some(Value::String(div)), None)),
            Kind::Resource => self.wrapped_resource(start, empty).map(|resource| (Some(resource), None)),
            Kind::Complex | Kind::Backbone => self.complex(def, start, empty).map(|value| (Some(value), None)),
        }?;
        self.leave();
        Ok(read)
    }

    fn primitive(
        &mut self,
        json: JsonKind,
        start: &BytesStart<'i>,
        empty: bool,
    ) -> Result<(Option<Value>, Option<Value>), ReadError> {
        let mut value = None;
        let mut extra = Map::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| self.error(format!("malformed attribute: {error}")))?;
            match attribute.key.as_ref() {
                "value" => value = Some(self.json_value(json, &self.attribute_text(&attribute)?)?),
                "id" => {
                    extra.insert("id".into(), Value::String(self.attribute_text(&attribute)?));
                }
                _ if is_namespace_declaration(&attribute) => {}
                _ => return Err(self.error(format!("unknown attribute '{}'", key(&attribute)))),
            }
        }
        if !empty {
            let extensions = self.extensions_only()?;
            if !extensions.is_empty() {
                extra.insert("extension".into(), Value::Array(extensions));
            }
        }
        if value.is_none() && extra.is_empty() {
            return Err(self.error("the element has neither a value nor extensions"));
        }
        Ok((value, (!extra.is_empty()).then_some(Value::Object(extra))))
    }

    /// The children of a primitive: `extension` elements only.
    fn extensions_only(&mut self) -> Result<Vec<Value>, ReadError> {
        let mut extensions = Vec::new();
        loop {
            match self.step()? {
                Step::Open(start, Ns::Fhir, empty) if start.local_name().as_ref() == "extension" => {
                    if let (Some(extension), _) = self.element("extension", "Extension", &start, empty)? {
                        extensions.push(extension);
                    }
                }
                Step::Open(start, _, _) => {
                    return Err(
                        self.error(format!("a primitive element holds only extensions, not <{}>", local_name(&start)))
                    );
                }
                Step::Close => return Ok(extensions),
                Step::Skip => {}
                Step::Text => {
                    return Err(self.error("text is not allowed here; FHIR XML carries values in value attributes"));
                }
                Step::End => return Err(self.error("the document ends inside an element")),
            }
        }
    }

    fn json_value(&self, json: JsonKind, text: &str) -> Result<Value, ReadError> {
        match json {
            JsonKind::String if text.is_empty() => Err(self.error("a value must not be empty")),
            JsonKind::String => Ok(Value::String(text.to_owned())),
            JsonKind::Boolean => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(self.error(format!("'{text}' is not a boolean (true or false)"))),
            },
            JsonKind::Number => {
                if !is_fhir_number(text) {
                    return Err(self.error(format!("'{text}' is not a FHIR number")));
                }
                // The bounds a number sent as JSON is held to (the same JSON is stored).
                fhir_core::json::check_number(text).map_err(|error| self.error(error.to_string()))?;
                text.parse::<serde_json::Number>()
                    .map(Value::Number)
                    .map_err(|_| self.error(format!("'{text}' is not a FHIR number")))
            }
        }
    }

    fn attribute_text(&self, attribute: &Attribute<'_>) -> Result<String, ReadError> {
        attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|text| text.into_owned())
            .map_err(|error| self.error(format!("bad attribute value: {error}")))
    }

    /// `Narrative.div`, kept as written (it is a string of XHTML in JSON).
    fn narrative(&mut self, start: &BytesStart<'i>, empty: bool) -> Result<String, ReadError> {
        let begin = self.event_start;
        if !empty {
            self.xml
                .read_to_end(start.name())
                .map_err(|error| self.error(format!("malformed XML in the narrative: {error}")))?;
        }
        let end = usize::try_from(self.xml.buffer_position()).unwrap_or(usize::MAX).min(self.input.len());
        let raw = self.input.get(begin..end).unwrap_or_default();
        let raw = raw.trim_ascii_start();
        let text = std::str::from_utf8(raw).map_err(|_| self.error("the narrative is not UTF-8"))?;
        xhtml::check(text).map_err(|message| self.error(message))?;
        Ok(text.to_owned())
    }

    /// An element that holds one resource (`contained`, `Bundle.entry.resource`, ...).
    fn wrapped_resource(&mut self, start: &BytesStart<'i>, empty: bool) -> Result<Value, ReadError> {
        if empty || start.attributes().any(|attribute| attribute.map_or(true, |a| !is_namespace_declaration(&a))) {
            return Err(self.error("this element must hold exactly one resource and nothing else"));
        }
        let mut resource = None;
        loop {
            match self.step()? {
                Step::Open(start, ns, empty) if resource.is_none() => {
                    resource = Some(self.resource(&start, ns, empty)?)
                }
                Step::Close => break,
                Step::Skip => {}
                _ => return Err(self.error("this element must hold exactly one resource and nothing else")),
            }
        }
        resource.ok_or_else(|| self.error("this element must hold exactly one resource"))
    }

    fn complex(&mut self, def: &'static TypeDef, start: &BytesStart<'i>, empty: bool) -> Result<Value, ReadError> {
        let mut members = Map::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| self.error(format!("malformed attribute: {error}")))?;
            if is_namespace_declaration(&attribute) {
                continue;
            }
            let name = key(&attribute);
            match def.element(&name) {
                Some((element, _)) if element.xml == XmlForm::Attribute => {
                    members.insert(name, Value::String(self.attribute_text(&attribute)?));
                }
                _ => return Err(self.error(format!("unknown attribute '{name}'"))),
            }
        }
        if !empty {
            self.children(def, &mut members)?;
        }
        if members.is_empty() {
            return Err(self.error("the element is empty; FHIR elements must have a value or children"));
        }
        Ok(Value::Object(members))
    }
}

fn namespace(resolved: &ResolveResult<'_>) -> Result<Ns, String> {
    Ok(match resolved {
        ResolveResult::Bound(Namespace(ns)) if *ns == FHIR_NAMESPACE => Ns::Fhir,
        ResolveResult::Bound(Namespace(ns)) if *ns == XHTML_NAMESPACE => Ns::Xhtml,
        ResolveResult::Unknown(prefix) => return Err(format!("the namespace prefix '{prefix}' is not declared")),
        _ => Ns::Other,
    })
}

fn local_name(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_owned()
}

fn key(attribute: &Attribute<'_>) -> String {
    attribute.key.as_ref().to_owned()
}

/// `xmlns` and `xmlns:*` declarations, and `xsi:schemaLocation`-style hints, carry no content.
fn is_namespace_declaration(attribute: &Attribute<'_>) -> bool {
    let key = attribute.key.as_ref();
    key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:")
}

/// FHIR's decimal grammar (which also covers integers): `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_fhir_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let whole = digits(at);
    if whole == 0 || (whole > 1 && bytes[at] == b'0') {
        return false;
    }
    at += whole;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::is_fhir_number;

    #[test]
    fn numbers_follow_the_fhir_grammar() {
        for good in ["0", "-1", "72.50", "1.0e2", "3E-5", "10"] {
            assert!(is_fhir_number(good), "{good}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "NaN", "1 ", "0x10"] {
            assert!(!is_fhir_number(bad), "{bad}");
        }
    }
}
