//! The Gegevensdienstnamenlijst (GNL): per data service its id and the display name PGOs and the
//! consent page show.
//!
//! Release 1 (`MedMij_Gegevensdienstnamenlijst.xsd`): `Gegevensdienstnamenlijst` =
//! `Tijdstempel`, `Volgnummer`, `Gegevensdiensten` = `Gegevensdienst`* = `GegevensdienstId`
//! (1 to 30 characters), `Weergavenaam` (3 to 50 characters); ids unique. It is the only
//! release of this list that was found.

use super::header::{read_header, write_header};
use super::schema::{Node, Sequence, typed};
use super::types::{check_data_service_id, check_length};
use super::{ListError, ListHeader, ListKind, ListLimits, ListShape, MedMijList, parse_kind, root_namespace};
use crate::xml_out::XmlOut;
use std::collections::HashMap;

/// The namespace of the release-1 GNL.
pub const GNL_NAMESPACE_RELEASE1: &str = "xmlns://afsprakenstelsel.medmij.nl/gegevensdienstnamenlijst/release1/";

/// The root element.
pub(crate) const ROOT: &str = "Gegevensdienstnamenlijst";

const LIST: &[&str] = &["Tijdstempel", "Volgnummer", "Gegevensdiensten"];
const SERVICES: &[&str] = &["Gegevensdienst"];
const SERVICE: &[&str] = &["GegevensdienstId", "Weergavenaam"];

/// A Gegevensdienstnamenlijst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataServiceNameList {
    /// Tijdstempel and Volgnummer.
    pub header: ListHeader,
    /// The data services, in list order; ids are unique.
    pub names: Vec<DataServiceName>,
}

/// The display name of one data service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataServiceName {
    /// `GegevensdienstId`, e.g. `48`.
    pub id: String,
    /// `Weergavenaam`, e.g. `Basisgegevens zorg`.
    pub name: String,
}

impl DataServiceNameList {
    /// Reads and validates a GNL, within the default limits.
    pub fn parse(bytes: &[u8]) -> Result<DataServiceNameList, ListError> {
        DataServiceNameList::parse_with(bytes, &ListLimits::default())
    }

    /// Reads and validates a GNL, within `limits`.
    pub fn parse_with(bytes: &[u8], limits: &ListLimits) -> Result<DataServiceNameList, ListError> {
        parse_kind(bytes, limits, ListKind::DataServiceNames, |list| match list {
            MedMijList::DataServiceNames(list) => Some(list),
            _ => None,
        })
    }

    /// The display name of the data service `id`.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.names.iter().find(|entry| entry.id == id).map(|entry| entry.name.as_str())
    }
}

/// Validates a GNL from its root element.
pub(crate) fn from_root(root: &Node<'_>) -> Result<DataServiceNameList, ListError> {
    let (namespace, _) = root_namespace(root, &[(GNL_NAMESPACE_RELEASE1, ListShape::Older)])?;
    let mut list = Sequence::new(root, namespace, LIST)?;
    let header = read_header(&mut list)?;
    let services_node = list.one("Gegevensdiensten")?;
    list.end()?;
    let mut services = Sequence::new(&services_node, namespace, SERVICES)?;
    let service_nodes = services.many("Gegevensdienst", 0)?;
    services.end()?;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut names = Vec::with_capacity(service_nodes.len());
    for node in &service_nodes {
        let mut service = Sequence::new(node, namespace, SERVICE)?;
        let id_node = service.one("GegevensdienstId")?;
        let id = typed(&id_node, |text| check_data_service_id(text).map(|()| text.to_owned()))?;
        let name = typed(&service.one("Weergavenaam")?, |text| check_length(text, 3, 50).map(|()| text.to_owned()))?;
        service.end()?;
        if let Some(first) = seen.insert(id.clone(), node.path.clone()) {
            let message = format!("the data service '{id}' is listed twice (first at {first})");
            return Err(ListError::schema(id_node.element.line, &id_node.path, message));
        }
        names.push(DataServiceName { id, name });
    }
    Ok(DataServiceNameList { header, names })
}

/// The list as a release-1 GNL document (the only release known). Values are written as they
/// are: a model that breaks the schema gives a list that breaks it.
pub fn write_data_service_name_list(list: &DataServiceNameList) -> String {
    let mut xml = XmlOut::with_root(ROOT, GNL_NAMESPACE_RELEASE1);
    write_header(&mut xml, &list.header);
    xml.open("Gegevensdiensten");
    for entry in &list.names {
        xml.open("Gegevensdienst");
        xml.text_element("GegevensdienstId", &entry.id);
        xml.text_element("Weergavenaam", &entry.name);
        xml.close("Gegevensdienst");
    }
    xml.close("Gegevensdiensten");
    xml.finish(ROOT)
}
