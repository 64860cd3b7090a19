//! The XML Schema rules the lists use, written as code: an `xs:sequence` of child elements in
//! one namespace, each required, optional or repeated, nothing else allowed; and elements of a
//! simple type, which hold text and no elements. Errors name the line and the element path.

use super::ListError;
use super::reader::Element;

/// An element together with its path in the document, e.g. `/Whitelist/MedMijNodes/MedMijNode[2]`.
pub(crate) struct Node<'a> {
    pub(crate) element: &'a Element,
    pub(crate) path: String,
}

impl<'a> Node<'a> {
    /// The root element, at `/Name`.
    pub(crate) fn root(element: &'a Element) -> Node<'a> {
        Node { element, path: format!("/{}", element.name) }
    }
}

/// The children of a complex element, consumed in the order of its `xs:sequence`.
pub(crate) struct Sequence<'a> {
    parent: &'a Element,
    path: String,
    /// The element names of the sequence, in order.
    order: &'static [&'static str],
    /// The index of the next child to consume.
    next: usize,
}

impl<'a> Sequence<'a> {
    /// Starts on the children of `node`, which has the element-only content `order`, every
    /// element in `namespace`. Text other than whitespace, and children in another namespace,
    /// are refused here.
    pub(crate) fn new(
        node: &Node<'a>,
        namespace: &str,
        order: &'static [&'static str],
    ) -> Result<Sequence<'a>, ListError> {
        let parent = node.element;
        if let Some(line) = parent.text_line {
            return Err(ListError::schema(line, &node.path, "text is not allowed here, only elements"));
        }
        for child in &parent.children {
            if child.namespace.as_deref() != Some(namespace) {
                let found =
                    child.namespace.as_deref().map_or("no namespace".to_owned(), |ns| format!("namespace '{ns}'"));
                let message =
                    format!("<{}> is in {found}; the list's elements are in namespace '{namespace}'", child.name);
                return Err(ListError::schema(child.line, format!("{}/{}", node.path, child.name), message));
            }
        }
        Ok(Sequence { parent, path: node.path.clone(), order, next: 0 })
    }

    /// The required element `name`, next in the sequence.
    pub(crate) fn one(&mut self, name: &'static str) -> Result<Node<'a>, ListError> {
        match self.parent.children.get(self.next) {
            Some(child) if child.name == name => {
                self.next += 1;
                Ok(Node { element: child, path: format!("{}/{name}", self.path) })
            }
            found => Err(self.misplaced(name, found)),
        }
    }

    /// The element `name`, repeated at least `min` times, next in the sequence. Each gets the
    /// path `…/name[i]` (counting from 1).
    pub(crate) fn many(&mut self, name: &'static str, min: usize) -> Result<Vec<Node<'a>>, ListError> {
        let start = self.next;
        let count = self.parent.children[start..].iter().take_while(|child| child.name == name).count();
        if count < min {
            return Err(self.misplaced(name, self.parent.children.get(start)));
        }
        self.next += count;
        Ok(self.parent.children[start..start + count]
            .iter()
            .enumerate()
            .map(|(index, element)| Node { element, path: format!("{}/{name}[{}]", self.path, index + 1) })
            .collect())
    }

    /// Every child has been consumed; anything left is unknown, out of order or repeated.
    pub(crate) fn end(self) -> Result<(), ListError> {
        match self.parent.children.get(self.next) {
            None => Ok(()),
            Some(child) => {
                let path = format!("{}/{}", self.path, child.name);
                let message = if self.order.contains(&child.name.as_str()) {
                    format!("<{}> is not allowed here: it is out of order or repeated", child.name)
                } else {
                    format!("unknown element <{}>", child.name)
                };
                Err(ListError::schema(child.line, path, message))
            }
        }
    }

    /// The error for a required element `name` that is not the next child (`found`).
    fn misplaced(&self, name: &str, found: Option<&Element>) -> ListError {
        let path = format!("{}/{name}", self.path);
        let Some(found) = found else {
            return ListError::schema(self.parent.end_line, path, "missing");
        };
        let found_path = format!("{}/{}", self.path, found.name);
        let position = |wanted: &str| self.order.iter().position(|candidate| *candidate == wanted);
        match (position(&found.name), position(name)) {
            (None, _) => ListError::schema(
                found.line,
                found_path,
                format!("unknown element <{}>; expected <{name}>", found.name),
            ),
            (Some(found_at), Some(wanted_at)) if found_at > wanted_at => {
                let later = self.parent.children[self.next..].iter().any(|child| child.name == name);
                if later {
                    ListError::schema(found.line, found_path, format!("out of order: <{name}> must come before it"))
                } else {
                    ListError::schema(found.line, path, "missing")
                }
            }
            _ => ListError::schema(
                found.line,
                found_path,
                format!("<{}> is not allowed here: it is out of order or repeated", found.name),
            ),
        }
    }
}

/// The text of an element of a simple type; it may hold no elements.
pub(crate) fn text<'a>(node: &Node<'a>) -> Result<&'a str, ListError> {
    match node.element.children.first() {
        None => Ok(&node.element.text),
        Some(child) => Err(ListError::schema(
            child.line,
            format!("{}/{}", node.path, child.name),
            format!("unknown element <{}>: <{}> holds only text", child.name, node.element.name),
        )),
    }
}

/// The text of `node`, checked with `check`; a failed check becomes an error at the node.
pub(crate) fn typed<'a, T>(node: &Node<'a>, check: impl FnOnce(&'a str) -> Result<T, String>) -> Result<T, ListError> {
    let value = text(node)?;
    check(value).map_err(|message| ListError::schema(node.element.line, &node.path, message))
}
