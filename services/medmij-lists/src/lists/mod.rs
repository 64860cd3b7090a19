//! The lists the service imports from MedMij beheer: the OAuth Client List (OCL), the
//! Gegevensdienstnamenlijst (GNL) and the Whitelist. Each is read strictly and checked against
//! its XML schema, written here as code because no XSD validator runs without C libraries:
//! namespace, root, element order and cardinality, no unknown elements, attributes or text, the
//! simple types, and the schemas' uniqueness constraints. Which list a document is, and which
//! shape of it, follows from its root element and namespace (and, for the Whitelist, whose two
//! shapes share a namespace, from how its first node is written).

mod error;
mod gnl;
mod header;
mod ocl;
mod reader;
mod schema;
mod types;
mod whitelist;

pub use error::ListError;
pub use gnl::{DataServiceName, DataServiceNameList, GNL_NAMESPACE_RELEASE1, write_data_service_name_list};
pub use header::{ListHeader, check_newer};
pub use ocl::{OAuthClient, OAuthClientList, OCL_NAMESPACE_RELEASE2, OCL_NAMESPACE_RELEASE3, write_oauth_client_list};
pub use whitelist::{WHITELIST_NAMESPACE_RELEASE2, Whitelist, write_whitelist};

use schema::Node;

/// One imported list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MedMijList {
    /// The OAuth Client List: the PGOs (OAuth clients) and what they may do.
    OAuthClients(OAuthClientList),
    /// The Gegevensdienstnamenlijst: the display names of the data services.
    DataServiceNames(DataServiceNameList),
    /// The Whitelist: the hosts allowed on the back channel.
    Whitelist(Whitelist),
}

impl MedMijList {
    /// Which list this is.
    pub fn kind(&self) -> ListKind {
        match self {
            MedMijList::OAuthClients(_) => ListKind::OAuthClients,
            MedMijList::DataServiceNames(_) => ListKind::DataServiceNames,
            MedMijList::Whitelist(_) => ListKind::Whitelist,
        }
    }

    /// The list's Tijdstempel and Volgnummer.
    pub fn header(&self) -> &ListHeader {
        match self {
            MedMijList::OAuthClients(list) => &list.header,
            MedMijList::DataServiceNames(list) => &list.header,
            MedMijList::Whitelist(list) => &list.header,
        }
    }
}

/// The kinds of list the service imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// The OAuth Client List.
    OAuthClients,
    /// The Gegevensdienstnamenlijst.
    DataServiceNames,
    /// The Whitelist.
    Whitelist,
}

impl ListKind {
    /// A stable identifier, for configuration, storage keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::OAuthClients => "oauth-client-list",
            ListKind::DataServiceNames => "data-service-name-list",
            ListKind::Whitelist => "whitelist",
        }
    }

    /// The list's name as MedMij writes it, for messages to people.
    pub fn title(self) -> &'static str {
        match self {
            ListKind::OAuthClients => "an OAuth Client List",
            ListKind::DataServiceNames => "a Gegevensdienstnamenlijst",
            ListKind::Whitelist => "a Whitelist",
        }
    }
}

impl std::fmt::Display for ListKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The two shapes a list has had, for writing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListShape {
    /// OCL release 2 (host name and organisation name per client); the flat Whitelist
    /// (`MedMijNode` holds the host name as text).
    Older,
    /// OCL release 3 (the data services per client as well); the nested Whitelist
    /// (`MedMijNode` holds a `Hostname` element).
    Newer,
}

/// Bounds on the documents read. The published lists are far below the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// The largest document, in bytes.
    pub max_bytes: usize,
    /// How deep elements may nest (the deepest list element is at depth 6).
    pub max_depth: usize,
    /// The most elements a document may have.
    pub max_elements: usize,
}

/// The default largest document: 16 MiB.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;
/// The default deepest nesting.
pub const DEFAULT_MAX_DEPTH: usize = 16;
/// The default largest number of elements.
pub const DEFAULT_MAX_ELEMENTS: usize = 200_000;

impl Default for ListLimits {
    fn default() -> ListLimits {
        ListLimits { max_bytes: DEFAULT_MAX_BYTES, max_depth: DEFAULT_MAX_DEPTH, max_elements: DEFAULT_MAX_ELEMENTS }
    }
}

/// Reads and validates a list of any of the three kinds, within the default limits.
pub fn parse_list(bytes: &[u8]) -> Result<MedMijList, ListError> {
    parse_list_with(bytes, &ListLimits::default())
}

/// Reads and validates a list of any of the three kinds, within `limits`.
pub fn parse_list_with(bytes: &[u8], limits: &ListLimits) -> Result<MedMijList, ListError> {
    let root = reader::read_document(bytes, limits)?;
    let node = Node::root(&root);
    match root.name.as_str() {
        ocl::ROOT => ocl::from_root(&node).map(MedMijList::OAuthClients),
        gnl::ROOT => gnl::from_root(&node).map(MedMijList::DataServiceNames),
        whitelist::ROOT => whitelist::from_root(&node).map(MedMijList::Whitelist),
        other => Err(ListError::schema(
            root.line,
            &node.path,
            format!(
                "unknown list: the root element <{other}> is none of <{}>, <{}>, <{}>",
                ocl::ROOT,
                gnl::ROOT,
                whitelist::ROOT
            ),
        )),
    }
}

/// The root's namespace must be one of `known` (namespace, shape); gives the one it is.
fn root_namespace(
    node: &Node<'_>,
    known: &[(&'static str, ListShape)],
) -> Result<(&'static str, ListShape), ListError> {
    let found = node.element.namespace.as_deref();
    known.iter().find(|(namespace, _)| Some(*namespace) == found).copied().ok_or_else(|| {
        let found = found.map_or("no namespace".to_owned(), |ns| format!("namespace '{ns}'"));
        let expected: Vec<String> = known.iter().map(|(namespace, _)| format!("'{namespace}'")).collect();
        let message =
            format!("wrong namespace: <{}> is in {found}; expected {}", node.element.name, expected.join(" or "));
        ListError::schema(node.element.line, &node.path, message)
    })
}

/// The list of `expected` kind in `bytes`, or why not.
fn parse_kind<T>(
    bytes: &[u8],
    limits: &ListLimits,
    expected: ListKind,
    pick: impl FnOnce(MedMijList) -> Option<T>,
) -> Result<T, ListError> {
    let list = parse_list_with(bytes, limits)?;
    let found = list.kind();
    pick(list).ok_or(ListError::WrongKind { expected, found })
}
