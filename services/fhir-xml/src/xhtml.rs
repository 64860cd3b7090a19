//! The narrative (`Narrative.div`): XHTML in its own namespace, carried in JSON as a string. Both
//! directions check it the same way, so what is accepted in one format can be written in the
//! other: well-formed, a `div` declaring the XHTML namespace itself, only XHTML elements, only
//! the predefined entities, and nothing active (FHIR's txt-1: no scripts, forms, embedded
//! objects or event-handler attributes).

use crate::XHTML_NAMESPACE;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

/// How deep the narrative's elements may nest.
const MAX_DEPTH: usize = 128;

/// Elements a narrative must not hold (txt-1).
const ACTIVE_ELEMENTS: &[&str] = &[
    "script", "object", "applet", "embed", "iframe", "frame", "frameset", "form", "input", "button", "select",
    "textarea", "style", "base", "link", "meta",
];

/// Checks that `div` is a narrative FHIR accepts; the error says what is wrong.
pub(crate) fn check(div: &str) -> Result<(), String> {
    let mut reader = NsReader::from_str(div);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    loop {
        let (resolved, event) =
            reader.read_resolved_event().map_err(|error| format!("the narrative is not well-formed XML: {error}"))?;
        let in_xhtml = matches!(resolved, ResolveResult::Bound(Namespace(ns)) if ns == XHTML_NAMESPACE);
        let (start, empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return finish(&mut reader);
                }
                continue;
            }
            Event::GeneralRef(reference) => {
                if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(|error| format!("the narrative has a bad character reference: {error}"))?;
                } else if !matches!(reference.as_ref(), "lt" | "gt" | "amp" | "quot" | "apos") {
                    return Err(format!(
                        "the narrative uses the entity '&{};', which XML does not define",
                        &*reference
                    ));
                }
                continue;
            }
            Event::Text(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_) if depth > 0 => continue,
            Event::Text(text) if text.trim_ascii().is_empty() => continue,
            Event::DocType(_) => return Err("a document type declaration is not allowed in the narrative".into()),
            Event::Eof => return Err("the narrative ends before its <div> is closed".into()),
            _ => return Err("the narrative must be a single <div> element".into()),
        };
        if depth == 0 && (start.local_name().as_ref() != "div" || !in_xhtml || !declares_xhtml(&start)) {
            return Err(format!("the narrative must be a <div> declaring xmlns=\"{XHTML_NAMESPACE}\""));
        }
        if !in_xhtml {
            return Err("the narrative may contain only XHTML elements".into());
        }
        check_element(&start)?;
        if empty {
            if depth == 0 {
                return finish(&mut reader);
            }
        } else {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(format!("the narrative nests deeper than {MAX_DEPTH} elements"));
            }
        }
    }
}

/// Nothing but white space may follow the closing `</div>`.
fn finish(reader: &mut NsReader<&[u8]>) -> Result<(), String> {
    loop {
        match reader.read_event().map_err(|error| format!("the narrative is not well-formed XML: {error}"))? {
            Event::Eof => return Ok(()),
            Event::Text(text) if text.trim_ascii().is_empty() => {}
            _ => return Err("the narrative must be a single <div> element".into()),
        }
    }
}

fn declares_xhtml(start: &BytesStart<'_>) -> bool {
    start.attributes().flatten().any(|attribute| {
        let key = attribute.key.as_ref();
        (key == "xmlns" || key.starts_with("xmlns:")) && attribute.value.as_ref() == XHTML_NAMESPACE
    })
}

fn check_element(start: &BytesStart<'_>) -> Result<(), String> {
    let name = start.local_name().as_ref().to_ascii_lowercase();
    if ACTIVE_ELEMENTS.contains(&name.as_str()) {
        return Err(format!("the narrative must not contain <{name}> (FHIR txt-1)"));
    }
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| format!("the narrative has a malformed attribute: {error}"))?;
        let key = attribute.key.local_name().as_ref().to_ascii_lowercase();
        if key.starts_with("on") {
            return Err(format!("the narrative must not contain event handlers such as '{key}' (FHIR txt-1)"));
        }
        let value = attribute.value.to_ascii_lowercase();
        if (key == "href" || key == "src") && value.trim_start().starts_with("javascript:") {
            return Err("the narrative must not contain javascript: links (FHIR txt-1)".into());
        }
    }
    Ok(())
}
