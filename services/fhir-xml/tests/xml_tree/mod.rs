//! XML compared as XML: elements by namespace and name, attributes as a set (namespace
//! declarations aside), text trimmed, white space between elements and comments ignored.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use std::collections::BTreeMap;

#[derive(Debug, PartialEq, Eq, Default)]
pub struct Element {
    pub name: (String, String),
    pub attributes: BTreeMap<String, String>,
    pub children: Vec<Node>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

fn element(namespace: String, start: &BytesStart<'_>) -> Result<Element, String> {
    let mut element = Element { name: (namespace, start.local_name().as_ref().to_owned()), ..Element::default() };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let key = attribute.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(|error| error.to_string())?;
        element.attributes.insert(key, value.into_owned());
    }
    Ok(element)
}

/// The document's root element as a tree.
pub fn parse(xml: &[u8]) -> Result<Element, String> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|error| error.to_string())?;
        let namespace = match resolved {
            ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
            _ => String::new(),
        };
        let parent = stack.len() - 1;
        match event {
            Event::Start(start) => stack.push(element(namespace, &start)?),
            Event::Empty(start) => stack[parent].children.push(Node::Element(element(namespace, &start)?)),
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced")?;
                stack.last_mut().ok_or("unbalanced")?.children.push(Node::Element(done));
            }
            Event::Text(text) => push_text(&mut stack[parent], text.as_ref()),
            Event::GeneralRef(reference) => push_text(&mut stack[parent], &format!("&{};", reference.as_ref())),
            Event::CData(data) => push_text(&mut stack[parent], data.as_ref()),
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().ok_or("unbalanced")?;
    match document.children.pop() {
        Some(Node::Element(root)) if stack.is_empty() => Ok(root),
        _ => Err("no single root element".into()),
    }
}

fn push_text(element: &mut Element, text: &str) {
    if let Some(Node::Text(last)) = element.children.last_mut() {
        last.push_str(text);
    } else if !text.trim().is_empty() {
        element.children.push(Node::Text(text.to_owned()));
    }
}

/// Ok when `left` and `right` are the same XML.
pub fn assert_same(left: &[u8], right: &[u8]) -> Result<(), String> {
    let (left_tree, right_tree) = (parse(left)?, parse(right)?);
    if left_tree == right_tree {
        Ok(())
    } else {
        Err(format!("the XML differs:\n{}\n---\n{}", String::from_utf8_lossy(left), String::from_utf8_lossy(right)))
    }
}
