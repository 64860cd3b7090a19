//! The XML side of the dialect: a script is read into a plain element tree, fitted to the FHIR
//! structure of a release (see the parent module for what is kept, converted and dropped), and
//! written back as FHIR XML that the strict reader (`fhir-xml`) takes. The narrative's XHTML and
//! contained resources are carried over as written.

use super::{Fitting, Placement, XHTML_NAMESPACE};
use fhir_core::Release;
use fhir_xml::{Kind, Structure, XmlForm};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, XmlVersion};

const FHIR_NAMESPACE: &str = "http://hl7.org/fhir";

/// One element as read: in the FHIR namespace or not, its local name, its attributes (namespace
/// declarations left out) and its children.
#[derive(Debug, Clone)]
struct Element {
    fhir: bool,
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Element(Element),
    /// XHTML (the narrative's `div`), as written.
    Raw(String),
}

/// `bytes` fitted to `release`'s TestScript: FHIR XML, and what was read past.
pub(crate) fn fit(bytes: &[u8], release: Release) -> Result<(Vec<u8>, Vec<String>), String> {
    let mut root = parse(bytes)?;
    if !root.fhir || root.name != "TestScript" {
        return Err("the root element is not a FHIR TestScript".into());
    }
    let mut fitting = Fitting::new(release);
    fit_element(&mut root, "TestScript", "TestScript", &mut fitting);
    let mut out = String::with_capacity(bytes.len());
    write(&root, true, &mut out);
    Ok((out.into_bytes(), fitting.warnings()))
}

fn parse(bytes: &[u8]) -> Result<Element, String> {
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let (resolved, event) = reader.read_resolved_event().map_err(|error| format!("malformed XML: {error}"))?;
        let namespace = match resolved {
            ResolveResult::Bound(Namespace(namespace)) => Some(namespace.to_owned()),
            _ => None,
        };
        let xhtml = namespace.as_deref() == Some(XHTML_NAMESPACE);
        let fhir = namespace.as_deref() == Some(FHIR_NAMESPACE);
        let element = match event {
            Event::Start(start) if xhtml => {
                let end = start.to_end().into_owned();
                reader.read_to_end(end.name()).map_err(|error| format!("malformed XHTML: {error}"))?;
                Child::Raw(slice(bytes, before, reader.buffer_position()))
            }
            Event::Empty(_) if xhtml => Child::Raw(slice(bytes, before, reader.buffer_position())),
            Event::Start(start) => {
                stack.push(element(&start, fhir)?);
                continue;
            }
            Event::Empty(start) => Child::Element(element(&start, fhir)?),
            Event::End(_) => match stack.pop() {
                Some(done) => Child::Element(done),
                None => return Err("an end tag without a start".into()),
            },
            Event::DocType(_) => return Err("document type declarations are not allowed".into()),
            Event::Eof => return Err("the document ends early".into()),
            _ => continue,
        };
        match (stack.last_mut(), element) {
            (Some(parent), child) => parent.children.push(child),
            (None, Child::Element(root)) => return Ok(root),
            (None, Child::Raw(_)) => return Err("the root element is XHTML".into()),
        }
    }
}

fn slice(bytes: &[u8], from: usize, to: u64) -> String {
    let to = usize::try_from(to).unwrap_or(bytes.len()).min(bytes.len());
    String::from_utf8_lossy(&bytes[from.min(to)..to]).trim().to_owned()
}

fn element(start: &BytesStart<'_>, fhir: bool) -> Result<Element, String> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| format!("malformed attribute: {error}"))?;
        let key: &str = attribute.key.as_ref();
        // Namespace declarations and XML Schema hints carry no content.
        if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|error| format!("malformed attribute value: {error}"))?;
        attributes.push((key.to_owned(), value.into_owned()));
    }
    let local = start.local_name();
    let name: &str = local.as_ref();
    Ok(Element { fhir, name: name.to_owned(), attributes, children: Vec::new() })
}

/// Fits `element`, of FHIR type `type_name`, to the structure; false when nothing is left of it
/// (FHIR has no empty elements, so the caller leaves it out).
fn fit_element(element: &mut Element, type_name: &str, path: &str, fitting: &mut Fitting) -> bool {
    let structure: &Structure = fitting.structure;
    let Some(definition) = structure.type_def(type_name) else {
        return true;
    };
    let primitive = matches!(definition.kind, Kind::Primitive | Kind::Xhtml);
    let mut kept_attributes = Vec::new();
    for (key, value) in std::mem::take(&mut element.attributes) {
        let is_attribute = definition.element(&key).is_some_and(|(found, _)| found.xml == XmlForm::Attribute);
        if (primitive && matches!(key.as_str(), "value" | "id")) || is_attribute {
            kept_attributes.push((key, value));
        } else if key == "value" && type_name == "Reference" {
            // `<profile id=".." value=".."/>`: the value is the profile's reference.
            let has_reference =
                element.children.iter().any(|child| matches!(child, Child::Element(c) if c.name == "reference"));
            if !has_reference {
                element.children.push(Child::Element(primitive_element("reference", &value)));
            }
        } else {
            fitting.ignored(&format!("{path}@{key}"), "an attribute FHIR does not have here");
        }
    }
    element.attributes = kept_attributes;
    let mut placed: Vec<(usize, Child)> = Vec::new();
    for child in std::mem::take(&mut element.children) {
        let Child::Element(mut child) = child else {
            let position = definition.element_at("div").map_or(usize::MAX, |(position, _, _)| position);
            placed.push((position, child));
            continue;
        };
        let child_path = format!("{path}.{}", child.name);
        if !child.fhir {
            fitting.ignored(&child_path, "an element outside the FHIR namespace");
            continue;
        }
        match fitting.place(type_name, &child.name, primitive) {
            Placement::Element { position, type_name: child_type } => {
                let opaque = structure.type_def(child_type).is_some_and(|def| def.kind == Kind::Resource);
                if opaque || fit_element(&mut child, child_type, &child_path, fitting) {
                    placed.push((position, Child::Element(child)));
                } else {
                    fitting.ignored(&child_path, "nothing FHIR has is left in it");
                }
            }
            Placement::StopTestOnFail { position } => {
                let value = child.attributes.iter().find(|(key, _)| key == "value").map(|(_, value)| value.clone());
                let extension = Element {
                    fhir: true,
                    name: "extension".into(),
                    attributes: vec![("url".into(), super::STOP_TEST_ON_FAIL.into())],
                    children: vec![Child::Element(primitive_element(
                        "valueBoolean",
                        value.as_deref().unwrap_or("false"),
                    ))],
                };
                placed.push((position, Child::Element(extension)));
            }
            Placement::Ignored(why) => fitting.ignored(&child_path, why),
        }
    }
    placed.sort_by_key(|(position, _)| *position);
    element.children = placed.into_iter().map(|(_, child)| child).collect();
    !element.children.is_empty() || element.attributes.iter().any(|(key, _)| key != "id")
}

fn primitive_element(name: &str, value: &str) -> Element {
    Element {
        fhir: true,
        name: name.to_owned(),
        attributes: vec![("value".into(), value.to_owned())],
        children: Vec::new(),
    }
}

fn write(element: &Element, root: bool, out: &mut String) {
    out.push('<');
    out.push_str(&element.name);
    if root {
        out.push_str(" xmlns=\"");
        out.push_str(FHIR_NAMESPACE);
        out.push('"');
    }
    for (key, value) in &element.attributes {
        out.push_str(&format!(" {key}=\"{}\"", quick_xml::escape::escape(value.as_str())));
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &element.children {
        match child {
            Child::Element(child) => write(child, false, out),
            Child::Raw(raw) => out.push_str(raw),
        }
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}
