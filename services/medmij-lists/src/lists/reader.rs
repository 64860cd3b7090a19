//! A small strict reader shared by the three lists: turns a document into a tree of elements
//! (local name, resolved namespace, text, line) that the list modules then check against their
//! schema. It refuses what no MedMij list contains: non-UTF-8 input, a document type
//! declaration (so no entity is ever defined, expanded or fetched), references to undefined
//! entities, attributes other than namespace declarations and `xsi:schemaLocation` on the root,
//! documents larger, deeper or with more elements than the limits, and anything that is not
//! well-formed (a truncated document among them). Comments and processing instructions are
//! ignored, as an XML Schema validator ignores them.

use super::{ListError, ListLimits};
use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

/// The namespace of `xsi:schemaLocation`, which real lists carry on their root.
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One element of the document.
#[derive(Debug)]
pub(crate) struct Element {
    /// The local name.
    pub(crate) name: String,
    /// The namespace the name is bound to (`None`: no namespace).
    pub(crate) namespace: Option<String>,
    /// The line of the start tag.
    pub(crate) line: usize,
    /// The line of the end tag (the start tag's for an empty element).
    pub(crate) end_line: usize,
    /// The child elements, in document order.
    pub(crate) children: Vec<Element>,
    /// All character data directly inside, references resolved, whitespace kept.
    pub(crate) text: String,
    /// The line of the first character data that is not whitespace, if there is any.
    pub(crate) text_line: Option<usize>,
}

/// Reads `bytes` into a tree, within `limits`.
pub(crate) fn read_document(bytes: &[u8], limits: &ListLimits) -> Result<Element, ListError> {
    if bytes.len() > limits.max_bytes {
        return Err(ListError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    let text = utf8(bytes)?;
    let mut xml = NsReader::from_str(text);
    let config = xml.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    Reader { xml, text, lines: Lines::default(), limits, stack: Vec::new(), elements: 0 }.document()
}

/// The input as text: UTF-8, with or without a byte order mark.
fn utf8(bytes: &[u8]) -> Result<&str, ListError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\xFF\xFE") {
        return Err(ListError::NotUtf8 { line: 1, detail: "it starts with a UTF-16 byte order mark".into() });
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        let line = bytes[..offset].iter().filter(|&&byte| byte == b'\n').count() + 1;
        ListError::NotUtf8 { line, detail: format!("invalid byte sequence at byte {offset}") }
    })
}

/// Line numbers for byte offsets that only move forward, counted incrementally so that a large
/// document is not scanned again for every element.
#[derive(Default)]
struct Lines {
    offset: usize,
    line: usize,
}

impl Lines {
    fn at(&mut self, text: &str, offset: usize) -> usize {
        let offset = offset.min(text.len());
        if offset < self.offset {
            return text.as_bytes()[..offset].iter().filter(|&&byte| byte == b'\n').count() + 1;
        }
        self.line += text.as_bytes()[self.offset..offset].iter().filter(|&&byte| byte == b'\n').count();
        self.offset = offset;
        self.line + 1
    }
}

struct Reader<'i, 'l> {
    xml: NsReader<&'i [u8]>,
    text: &'i str,
    lines: Lines,
    limits: &'l ListLimits,
    /// The open elements, the root first.
    stack: Vec<Element>,
    elements: usize,
}

impl Reader<'_, '_> {
    fn line_at(&mut self, offset: u64) -> usize {
        self.lines.at(self.text, usize::try_from(offset).unwrap_or(usize::MAX))
    }

    fn path(&self) -> String {
        self.stack.iter().map(|element| format!("/{}", element.name)).collect()
    }

    fn document(mut self) -> Result<Element, ListError> {
        loop {
            let start = self.xml.buffer_position();
            let line = self.line_at(start);
            let (resolved, event) = match self.xml.read_resolved_event() {
                Ok((resolved, event)) => (namespace(&resolved), event),
                Err(error) => {
                    let line = self.line_at(self.xml.error_position());
                    return Err(malformed(line, error.to_string()));
                }
            };
            match event {
                Event::Decl(decl) => {
                    if start != 0 {
                        return Err(malformed(line, "the XML declaration must come first"));
                    }
                    if decl.version().is_ok_and(|version| version != "1.0") {
                        return Err(malformed(line, "only XML 1.0 is accepted"));
                    }
                    if let Some(encoding) = decl.encoding() {
                        let encoding = encoding.map_err(|error| malformed(line, error.to_string()))?;
                        if !encoding.eq_ignore_ascii_case("utf-8") {
                            return Err(ListError::NotUtf8 {
                                line,
                                detail: format!("it declares the encoding '{encoding}'"),
                            });
                        }
                    }
                }
                Event::DocType(_) => return Err(ListError::Dtd { line }),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Start(start) => {
                    let element = self.open(&start, resolved, line)?;
                    self.stack.push(element);
                }
                Event::Empty(start) => {
                    let element = self.open(&start, resolved, line)?;
                    if let Some(root) = self.close(element) {
                        return self.rest(root);
                    }
                }
                Event::End(_) => {
                    let Some(mut element) = self.stack.pop() else {
                        return Err(malformed(line, "an end tag without a start tag"));
                    };
                    element.end_line = line;
                    if let Some(root) = self.close(element) {
                        return self.rest(root);
                    }
                }
                Event::Text(text) => self.text(&text.xml10_content(), line)?,
                Event::CData(data) => self.text(&data.xml10_content(), line)?,
                Event::GeneralRef(reference) => {
                    let resolved = resolve_reference(&reference).map_err(|message| malformed(line, message))?;
                    self.text(&resolved, line)?;
                }
                Event::Eof => {
                    let message = match self.stack.last() {
                        Some(open) => format!("the document ends inside <{}>: it is truncated", open.name),
                        None => "the document has no root element".to_owned(),
                    };
                    return Err(malformed(line, message));
                }
            }
        }
    }

    /// After the root element: only whitespace, comments and processing instructions.
    fn rest(mut self, root: Element) -> Result<Element, ListError> {
        loop {
            let start = self.xml.buffer_position();
            let line = self.line_at(start);
            match self.xml.read_event() {
                Ok(Event::Eof) => return Ok(root),
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Text(text)) if text.trim_ascii().is_empty() => {}
                Ok(Event::DocType(_)) => return Err(ListError::Dtd { line }),
                Ok(_) => return Err(malformed(line, "content after the root element")),
                Err(error) => {
                    let line = self.line_at(self.xml.error_position());
                    return Err(malformed(line, error.to_string()));
                }
            }
        }
    }

    /// A new element, its namespace and attributes checked and the limits applied.
    fn open(
        &mut self,
        start: &BytesStart<'_>,
        resolved: Result<Option<String>, String>,
        line: usize,
    ) -> Result<Element, ListError> {
        let name = start.local_name().as_ref().to_owned();
        let path = format!("{}/{name}", self.path());
        let namespace = resolved.map_err(|message| ListError::schema(line, &path, message))?;
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            let message = format!("the document has more than {} elements", self.limits.max_elements);
            return Err(ListError::TooBig { line, path, message });
        }
        if self.stack.len() >= self.limits.max_depth {
            let message = format!("elements nest deeper than {}", self.limits.max_depth);
            return Err(ListError::TooBig { line, path, message });
        }
        self.attributes(start, &path, line)?;
        Ok(Element {
            name,
            namespace,
            line,
            end_line: line,
            children: Vec::new(),
            text: String::new(),
            text_line: None,
        })
    }

    /// The XSDs of the lists declare no attributes. Namespace declarations are allowed anywhere,
    /// and `xsi:schemaLocation` (a hint real lists carry) on the root only.
    fn attributes(&mut self, start: &BytesStart<'_>, path: &str, line: usize) -> Result<(), ListError> {
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| malformed(line, error.to_string()))?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| malformed(line, error.to_string()))?;
            if let Some((_, character)) = illegal_character(&value) {
                return Err(malformed(line, illegal_message(character)));
            }
            let key = attribute.key.as_ref();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let (resolved, local) = self.xml.resolver().resolve_attribute(attribute.key);
            let is_schema_location = matches!(resolved, ResolveResult::Bound(Namespace(ns)) if ns == XSI_NAMESPACE)
                && local.as_ref() == "schemaLocation";
            if !(is_schema_location && self.stack.is_empty()) {
                return Err(ListError::schema(line, path, format!("the attribute '{key}' is not allowed")));
            }
        }
        Ok(())
    }

    /// Hangs a finished element on its parent; gives it back when it is the root.
    fn close(&mut self, element: Element) -> Option<Element> {
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children.push(element);
                None
            }
            None => Some(element),
        }
    }

    fn text(&mut self, text: &str, line: usize) -> Result<(), ListError> {
        if let Some((line_feeds, character)) = illegal_character(text) {
            return Err(malformed(line + line_feeds, illegal_message(character)));
        }
        let blank = text.chars().all(|character| matches!(character, ' ' | '\t' | '\r' | '\n'));
        match self.stack.last_mut() {
            Some(element) => {
                if !blank && element.text_line.is_none() {
                    // The text may start with line breaks: its line is that of its first non-blank character.
                    let leading = text.chars().take_while(|character| character.is_whitespace()).filter(|&c| c == '\n');
                    element.text_line = Some(line + leading.count());
                }
                element.text.push_str(text);
                Ok(())
            }
            None if blank => Ok(()),
            None => Err(malformed(line, "text outside the root element")),
        }
    }
}

fn malformed(line: usize, message: impl Into<String>) -> ListError {
    ListError::Malformed { line, message: message.into() }
}

/// The text a character or entity reference stands for: without a DTD only the five entities
/// XML defines exist.
fn resolve_reference(reference: &BytesRef<'_>) -> Result<String, String> {
    if reference.is_char_ref() {
        match reference.resolve_char_ref() {
            Ok(Some(character)) => Ok(character.to_string()),
            _ => Err(format!("bad character reference '&{};'", &**reference)),
        }
    } else {
        predefined(reference)
            .map(str::to_owned)
            .ok_or_else(|| format!("the entity '&{};' is not defined (XML defines only five)", &**reference))
    }
}

/// The namespace an element name resolved to.
fn namespace(resolved: &ResolveResult<'_>) -> Result<Option<String>, String> {
    match resolved {
        ResolveResult::Bound(Namespace(ns)) => Ok(Some((*ns).to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(format!("the namespace prefix '{prefix}' is not declared")),
    }
}

/// XML 1.0 allows tab, line feed, carriage return and the characters from U+0020 on, except
/// the surrogates (which Rust strings cannot hold) and U+FFFE and U+FFFF. quick-xml leaves
/// this check, for text and for character references, to its user. Gives the first character
/// that is not allowed, with the number of line feeds before it.
fn illegal_character(text: &str) -> Option<(usize, char)> {
    let legal = |character: char| {
        matches!(character, '\t' | '\n' | '\r') || (character >= ' ' && !matches!(character, '\u{FFFE}' | '\u{FFFF}'))
    };
    let (at, character) = text.char_indices().find(|&(_, character)| !legal(character))?;
    Some((text[..at].matches('\n').count(), character))
}

fn illegal_message(character: char) -> String {
    format!("the character U+{:04X} is not allowed in XML 1.0", u32::from(character))
}

/// The five entities XML itself defines.
fn predefined(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<Element, ListError> {
        read_document(xml.as_bytes(), &ListLimits::default())
    }

    #[test]
    fn builds_the_tree_with_namespaces_lines_and_resolved_text() {
        let root = read("<?xml version=\"1.0\"?>\n<a:R xmlns:a=\"urn:x\">\n  <a:C>x &amp; &#65;<![CDATA[<y>]]></a:C>\n  <D/>\n</a:R>\n")
            .unwrap();
        assert_eq!(
            (root.name.as_str(), root.namespace.as_deref(), root.line, root.end_line),
            ("R", Some("urn:x"), 2, 5)
        );
        assert_eq!(root.children[0].text, "x & A<y>");
        assert_eq!(root.children[0].line, 3);
        assert_eq!((root.children[1].name.as_str(), root.children[1].namespace.as_deref()), ("D", None));
        assert_eq!(root.text_line, None, "whitespace between elements is not text");
    }

    #[test]
    fn refuses_a_dtd_and_undefined_entities() {
        let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE R [<!ENTITY e \"boom\">]>\n<R>&e;</R>";
        assert_eq!(read(dtd).unwrap_err(), ListError::Dtd { line: 2 });
        let entity = read("<R>\n&e;</R>").unwrap_err();
        assert_eq!(
            entity.to_string(),
            "line 2: malformed XML: the entity '&e;' is not defined (XML defines only five)"
        );
    }

    #[test]
    fn refuses_characters_xml_does_not_allow() {
        let raw = read("<R>\n\u{1}</R>").unwrap_err();
        assert_eq!(raw.to_string(), "line 2: malformed XML: the character U+0001 is not allowed in XML 1.0");
        assert!(matches!(read("<R>&#1;</R>").unwrap_err(), ListError::Malformed { .. }), "nor as a reference");
        assert_eq!(read("<R>a&#13;b&#x9;</R>").unwrap().text, "a\rb\t");
    }

    #[test]
    fn refuses_other_encodings() {
        let declared = read("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><R/>").unwrap_err();
        assert_eq!(declared.to_string(), "line 1: the document is not UTF-8: it declares the encoding 'ISO-8859-1'");
        let latin1 = read_document(b"<R>\n\xe9</R>", &ListLimits::default()).unwrap_err();
        assert_eq!(latin1.to_string(), "line 2: the document is not UTF-8: invalid byte sequence at byte 4");
        let utf16 = read_document(b"\xFF\xFE<\0R\0/\0>\0", &ListLimits::default()).unwrap_err();
        assert!(matches!(utf16, ListError::NotUtf8 { line: 1, .. }));
        assert!(read_document(b"\xEF\xBB\xBF<R/>", &ListLimits::default()).is_ok(), "a UTF-8 byte order mark is fine");
    }

    #[test]
    fn refuses_truncated_and_malformed_documents() {
        assert_eq!(
            read("<R>\n<C>").unwrap_err().to_string(),
            "line 2: malformed XML: the document ends inside <C>: it is truncated"
        );
        assert!(matches!(read("<R><C></R>").unwrap_err(), ListError::Malformed { .. }));
        assert!(matches!(read("").unwrap_err(), ListError::Malformed { .. }));
        assert!(matches!(read("<R/><S/>").unwrap_err(), ListError::Malformed { .. }));
        assert!(matches!(read("<R/>text").unwrap_err(), ListError::Malformed { .. }));
        assert!(matches!(read("<p:R/>").unwrap_err(), ListError::Schema { .. }), "undeclared prefix");
    }

    #[test]
    fn allows_only_namespace_declarations_and_a_schema_location_on_the_root() {
        let xsi = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";
        assert!(read(&format!("<R xmlns=\"urn:x\" {xsi} xsi:schemaLocation=\"urn:x R.xsd\"/>")).is_ok());
        let inner = read(&format!("<R {xsi}>\n<C xsi:schemaLocation=\"urn:x R.xsd\"/></R>")).unwrap_err();
        assert_eq!(inner.to_string(), "line 2, /R/C: the attribute 'xsi:schemaLocation' is not allowed");
        let other = read("<R id=\"1\"/>").unwrap_err();
        assert_eq!(other.to_string(), "line 1, /R: the attribute 'id' is not allowed");
    }

    #[test]
    fn applies_the_limits() {
        let limits = ListLimits { max_bytes: 100, max_depth: 2, max_elements: 3 };
        let large = read_document(&[b' '; 101], &limits).unwrap_err();
        assert_eq!(large, ListError::TooLarge { size: 101, limit: 100 });
        let deep = read_document(b"<R><A><B/></A></R>", &limits).unwrap_err();
        assert_eq!(deep.to_string(), "line 1, /R/A/B: elements nest deeper than 2");
        let many = read_document(b"<R><A/><A/><A/></R>", &limits).unwrap_err();
        assert_eq!(many.to_string(), "line 1, /R/A: the document has more than 3 elements");
    }
}
