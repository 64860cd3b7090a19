//! A thin layer over quick-xml's writer for the lists this crate writes: an indented UTF-8
//! document built from open, close and text elements.

use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::io::Cursor;

/// An XML document being written to memory.
pub(crate) struct XmlOut {
    writer: Writer<Cursor<Vec<u8>>>,
}

impl XmlOut {
    /// A document with the XML declaration written and the root element, in `namespace` as the
    /// default namespace, opened.
    pub(crate) fn with_root(root: &str, namespace: &str) -> XmlOut {
        let mut out = XmlOut { writer: Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2) };
        out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let mut start = BytesStart::new(root);
        start.push_attribute(("xmlns", namespace));
        out.event(Event::Start(start));
        out
    }

    /// Writing to an in-memory buffer cannot fail, so the write results are dropped here, once.
    fn event(&mut self, event: Event<'_>) {
        let _ = self.writer.write_event(event);
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.event(Event::Start(BytesStart::new(name)));
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    /// `<name>text</name>`, the text escaped so that a reader gets back exactly `text`: a
    /// carriage return is written as a reference, as a raw one would be read as a line feed.
    pub(crate) fn text_element(&mut self, name: &str, text: &str) {
        self.open(name);
        let escaped = escape(text).replace('\r', "&#13;");
        self.event(Event::Text(BytesText::from_escaped(escaped)));
        self.close(name);
    }

    /// Closes the root element and gives the document.
    pub(crate) fn finish(mut self, root: &str) -> String {
        self.close(root);
        String::from_utf8_lossy(&self.writer.into_inner().into_inner()).into_owned()
    }
}
