//! The OAuth Client List (OCL): per PGO its host name (the OAuth `client_id`), the organisation
//! name the consent page shows and, from release 3 on, the data services it may use.
//!
//! Release 2 (`MedMij_OAuthclientlist.xsd`): `OAuthclientlist` = `Tijdstempel`, `Volgnummer`,
//! `OAuthclients` = `OAuthclient`* = `Hostname`, `OAuthclientOrganisatienaam` (3 to 50
//! characters); host names unique. Release 3 adds, per client, `Gegevensdiensten` =
//! `Gegevensdienst`* = `GegevensdienstId` (1 to 30 characters), unique per client: the
//! afsprakenstelsel has the authorization server check every requested data service against the
//! client's entry in the OCL. No published release-3 schema could be consulted, so this shape
//! (and its namespace) is derived from the way the ZAL and the GNL list data services, and
//! should be checked against the official XSD before production use.

use super::header::{read_header, write_header};
use super::schema::{Node, Sequence, typed};
use super::types::{check_data_service_id, check_hostname, check_length};
use super::{ListError, ListHeader, ListKind, ListLimits, ListShape, MedMijList, parse_kind, root_namespace};
use crate::xml_out::XmlOut;
use std::collections::HashMap;

/// The namespace of the release-2 OCL.
pub const OCL_NAMESPACE_RELEASE2: &str = "xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release2/";
/// The namespace of the release-3 OCL, the one that lists data services per client.
pub const OCL_NAMESPACE_RELEASE3: &str = "xmlns://afsprakenstelsel.medmij.nl/oauthclientlist/release3/";

/// The root element.
pub(crate) const ROOT: &str = "OAuthclientlist";

const LIST: &[&str] = &["Tijdstempel", "Volgnummer", "OAuthclients"];
const CLIENTS: &[&str] = &["OAuthclient"];
const CLIENT_RELEASE2: &[&str] = &["Hostname", "OAuthclientOrganisatienaam"];
const CLIENT_RELEASE3: &[&str] = &["Hostname", "OAuthclientOrganisatienaam", "Gegevensdiensten"];
const SERVICES: &[&str] = &["Gegevensdienst"];
const SERVICE: &[&str] = &["GegevensdienstId"];

/// An OAuth Client List.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientList {
    /// Tijdstempel and Volgnummer.
    pub header: ListHeader,
    /// The clients, in list order; host names are unique.
    pub clients: Vec<OAuthClient>,
}

/// One PGO server, an OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The host name, which is the client's `client_id` (lower case).
    pub hostname: String,
    /// `OAuthclientOrganisatienaam`: the name the consent page shows.
    pub organisation_name: String,
    /// The data-service ids the client may use; `None` for a release-2 list, which lists none
    /// and so sets no limit.
    pub data_services: Option<Vec<String>>,
}

impl OAuthClientList {
    /// Reads and validates an OCL of either release, within the default limits.
    pub fn parse(bytes: &[u8]) -> Result<OAuthClientList, ListError> {
        OAuthClientList::parse_with(bytes, &ListLimits::default())
    }

    /// Reads and validates an OCL of either release, within `limits`.
    pub fn parse_with(bytes: &[u8], limits: &ListLimits) -> Result<OAuthClientList, ListError> {
        parse_kind(bytes, limits, ListKind::OAuthClients, |list| match list {
            MedMijList::OAuthClients(list) => Some(list),
            _ => None,
        })
    }

    /// The client with this host name (`client_id`), compared without regard to ASCII case.
    pub fn client(&self, hostname: &str) -> Option<&OAuthClient> {
        self.clients.iter().find(|client| client.hostname.eq_ignore_ascii_case(hostname))
    }
}

impl OAuthClient {
    /// Whether the list lets this client use the data service `id` (a release-2 list sets no limit).
    pub fn allows(&self, data_service_id: &str) -> bool {
        self.data_services.as_ref().is_none_or(|ids| ids.iter().any(|id| id == data_service_id))
    }
}

/// Validates an OCL from its root element.
pub(crate) fn from_root(root: &Node<'_>) -> Result<OAuthClientList, ListError> {
    let (namespace, shape) = root_namespace(
        root,
        &[(OCL_NAMESPACE_RELEASE2, ListShape::Older), (OCL_NAMESPACE_RELEASE3, ListShape::Newer)],
    )?;
    let mut list = Sequence::new(root, namespace, LIST)?;
    let header = read_header(&mut list)?;
    let clients_node = list.one("OAuthclients")?;
    list.end()?;
    let mut clients = Sequence::new(&clients_node, namespace, CLIENTS)?;
    let client_nodes = clients.many("OAuthclient", 0)?;
    clients.end()?;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut parsed = Vec::with_capacity(client_nodes.len());
    for node in &client_nodes {
        let (client, hostname_node) = read_client(node, namespace, shape)?;
        if let Some(first) = seen.insert(client.hostname.clone(), node.path.clone()) {
            let message = format!("the host name '{}' is listed twice (first at {first})", client.hostname);
            return Err(ListError::schema(hostname_node.0, hostname_node.1, message));
        }
        parsed.push(client);
    }
    Ok(OAuthClientList { header, clients: parsed })
}

/// One client, with the line and path of its host name (for the duplicate check).
fn read_client(
    node: &Node<'_>,
    namespace: &str,
    shape: ListShape,
) -> Result<(OAuthClient, (usize, String)), ListError> {
    let order = match shape {
        ListShape::Older => CLIENT_RELEASE2,
        ListShape::Newer => CLIENT_RELEASE3,
    };
    let mut client = Sequence::new(node, namespace, order)?;
    let hostname_node = client.one("Hostname")?;
    let hostname = typed(&hostname_node, |text| check_hostname(text).map(|()| text.to_owned()))?;
    let organisation_name =
        typed(&client.one("OAuthclientOrganisatienaam")?, |text| check_length(text, 3, 50).map(|()| text.to_owned()))?;
    let data_services = match shape {
        ListShape::Older => None,
        ListShape::Newer => Some(read_services(&client.one("Gegevensdiensten")?, namespace)?),
    };
    client.end()?;
    let client = OAuthClient { hostname, organisation_name, data_services };
    Ok((client, (hostname_node.element.line, hostname_node.path)))
}

/// The data-service ids of one client, each listed once.
fn read_services(node: &Node<'_>, namespace: &str) -> Result<Vec<String>, ListError> {
    let mut services = Sequence::new(node, namespace, SERVICES)?;
    let service_nodes = services.many("Gegevensdienst", 0)?;
    services.end()?;
    let mut ids: Vec<String> = Vec::with_capacity(service_nodes.len());
    for service_node in &service_nodes {
        let mut service = Sequence::new(service_node, namespace, SERVICE)?;
        let id_node = service.one("GegevensdienstId")?;
        service.end()?;
        let id = typed(&id_node, |text| check_data_service_id(text).map(|()| text.to_owned()))?;
        if ids.contains(&id) {
            let message = format!("the data service '{id}' is listed twice for this client");
            return Err(ListError::schema(id_node.element.line, &id_node.path, message));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The list as an OCL document of the given shape: `Older` writes release 2 (the data services
/// are left out: release 2 cannot express them); `Newer` writes release 3, a client without a
/// list of data services (`None`) with an empty one, which allows it none: the safe reading.
/// Values are written as they are: a model that breaks the schema gives a list that breaks it.
pub fn write_oauth_client_list(list: &OAuthClientList, shape: ListShape) -> String {
    let namespace = match shape {
        ListShape::Older => OCL_NAMESPACE_RELEASE2,
        ListShape::Newer => OCL_NAMESPACE_RELEASE3,
    };
    let mut xml = XmlOut::with_root(ROOT, namespace);
    write_header(&mut xml, &list.header);
    xml.open("OAuthclients");
    for client in &list.clients {
        xml.open("OAuthclient");
        xml.text_element("Hostname", &client.hostname);
        xml.text_element("OAuthclientOrganisatienaam", &client.organisation_name);
        if shape == ListShape::Newer {
            xml.open("Gegevensdiensten");
            for id in client.data_services.iter().flatten() {
                xml.open("Gegevensdienst");
                xml.text_element("GegevensdienstId", id);
                xml.close("Gegevensdienst");
            }
            xml.close("Gegevensdiensten");
        }
        xml.close("OAuthclient");
    }
    xml.close("OAuthclients");
    xml.finish(ROOT)
}
