//! The Whitelist: the hosts (MedMij nodes) allowed to talk on the back channel.
//!
//! Both known shapes are release 2 and share its namespace (`MedMij_Whitelist.xsd`):
//! `Whitelist` = `Tijdstempel`, `Volgnummer`, `MedMijNodes`, then
//! - flat (the older schema file): `MedMijNodes` = `MedMijNode`+, each a host name as text;
//! - nested (the newer schema file): `MedMijNodes` = `MedMijNode`*, each = `Hostname`.
//!
//! Host names are unique in both. As the namespace does not tell them apart, the first
//! `MedMijNode` does: text means flat, an element nested (and no node at all can only be nested).

use super::header::{read_header, write_header};
use super::reader::Element;
use super::schema::{Node, Sequence, typed};
use super::types::check_hostname;
use super::{ListError, ListHeader, ListKind, ListLimits, ListShape, MedMijList, parse_kind, root_namespace};
use crate::xml_out::XmlOut;
use std::collections::HashMap;

/// The namespace of the release-2 Whitelist, flat and nested alike.
pub const WHITELIST_NAMESPACE_RELEASE2: &str = "xmlns://afsprakenstelsel.medmij.nl/whitelist/release2/";

/// The root element.
pub(crate) const ROOT: &str = "Whitelist";

const LIST: &[&str] = &["Tijdstempel", "Volgnummer", "MedMijNodes"];
const NODES: &[&str] = &["MedMijNode"];
const NODE: &[&str] = &["Hostname"];

/// A Whitelist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whitelist {
    /// Tijdstempel and Volgnummer.
    pub header: ListHeader,
    /// The host names, in list order; each is listed once.
    pub hosts: Vec<String>,
}

impl Whitelist {
    /// Reads and validates a Whitelist of either shape, within the default limits.
    pub fn parse(bytes: &[u8]) -> Result<Whitelist, ListError> {
        Whitelist::parse_with(bytes, &ListLimits::default())
    }

    /// Reads and validates a Whitelist of either shape, within `limits`.
    pub fn parse_with(bytes: &[u8], limits: &ListLimits) -> Result<Whitelist, ListError> {
        parse_kind(bytes, limits, ListKind::Whitelist, |list| match list {
            MedMijList::Whitelist(list) => Some(list),
            _ => None,
        })
    }

    /// Whether `host` is on the list, compared without regard to ASCII case (host names in
    /// certificates and headers may be written in capitals).
    pub fn contains(&self, host: &str) -> bool {
        self.hosts.iter().any(|listed| listed.eq_ignore_ascii_case(host))
    }
}

/// Validates a Whitelist from its root element.
pub(crate) fn from_root(root: &Node<'_>) -> Result<Whitelist, ListError> {
    let (namespace, _) = root_namespace(root, &[(WHITELIST_NAMESPACE_RELEASE2, ListShape::Older)])?;
    let mut list = Sequence::new(root, namespace, LIST)?;
    let header = read_header(&mut list)?;
    let nodes_node = list.one("MedMijNodes")?;
    list.end()?;
    let shape = shape_of(nodes_node.element);
    let mut nodes = Sequence::new(&nodes_node, namespace, NODES)?;
    let minimum = if shape == ListShape::Older { 1 } else { 0 };
    let host_nodes = nodes.many("MedMijNode", minimum)?;
    nodes.end()?;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut hosts = Vec::with_capacity(host_nodes.len());
    for node in &host_nodes {
        let hostname_node = match shape {
            ListShape::Older => None,
            ListShape::Newer => {
                let mut host = Sequence::new(node, namespace, NODE)?;
                let hostname = host.one("Hostname")?;
                host.end()?;
                Some(hostname)
            }
        };
        let at = hostname_node.as_ref().unwrap_or(node);
        let host = typed(at, |text| check_hostname(text).map(|()| text.to_owned()))?;
        if let Some(first) = seen.insert(host.clone(), node.path.clone()) {
            let message = format!("the host name '{host}' is listed twice (first at {first})");
            return Err(ListError::schema(at.element.line, &at.path, message));
        }
        hosts.push(host);
    }
    Ok(Whitelist { header, hosts })
}

/// Flat (`Older`) when the first `MedMijNode` holds no element, nested (`Newer`) otherwise.
fn shape_of(nodes: &Element) -> ListShape {
    match nodes.children.iter().find(|child| child.name == "MedMijNode") {
        Some(first) if first.children.is_empty() => ListShape::Older,
        _ => ListShape::Newer,
    }
}

/// The list as a Whitelist document: `Older` writes the flat shape, `Newer` the nested one. The
/// flat schema requires at least one node, so an empty list is always written nested. Values
/// are written as they are: a model that breaks the schema gives a list that breaks it.
pub fn write_whitelist(list: &Whitelist, shape: ListShape) -> String {
    let flat = shape == ListShape::Older && !list.hosts.is_empty();
    let mut xml = XmlOut::with_root(ROOT, WHITELIST_NAMESPACE_RELEASE2);
    write_header(&mut xml, &list.header);
    xml.open("MedMijNodes");
    for host in &list.hosts {
        if flat {
            xml.text_element("MedMijNode", host);
        } else {
            xml.open("MedMijNode");
            xml.text_element("Hostname", host);
            xml.close("MedMijNode");
        }
    }
    xml.close("MedMijNodes");
    xml.finish(ROOT)
}
