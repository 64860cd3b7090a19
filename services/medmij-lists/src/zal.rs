//! The Zorgaanbiederslijst (ZAL), release 3: per provider its MedMij name, provider type and, per
//! interface version and data service, the authorization and token endpoints and, per system
//! role, the resource endpoint.

use crate::xml_out::XmlOut;

/// The XML namespace of the release-3 ZAL.
pub const ZAL_NAMESPACE: &str = "xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release3/";

/// A ZAL document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zal {
    /// When the list was made (an XML dateTime).
    pub tijdstempel: String,
    /// Increases with every change of the published content.
    pub volgnummer: u64,
    /// The providers.
    pub providers: Vec<ZalProvider>,
}

/// One provider of the ZAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZalProvider {
    /// `umcx@medmij`.
    pub name: String,
    /// `ZA` (zorgaanbieder) or another provider type.
    pub aanbiedertype: String,
    /// The interface version the data services are offered under.
    pub interface_version: String,
    /// The data services.
    pub data_services: Vec<ZalDataService>,
}

/// One data service of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZalDataService {
    /// The data-service id, e.g. `48`.
    pub id: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The system roles and their resource endpoints.
    pub system_roles: Vec<ZalSystemRole>,
}

/// A system role with its resource endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZalSystemRole {
    /// The system role code, e.g. `MM-3.0-BZB-FHIR`.
    pub code: String,
    /// The resource endpoint (FHIR base URL).
    pub resource_endpoint: String,
}

impl Zal {
    /// The list as an XML document.
    pub fn to_xml(&self) -> String {
        let mut xml = XmlOut::with_root("Zorgaanbiederslijst", ZAL_NAMESPACE);
        xml.text_element("Tijdstempel", &self.tijdstempel);
        xml.text_element("Volgnummer", &self.volgnummer.to_string());
        xml.open("Zorgaanbieders");
        for provider in &self.providers {
            xml.open("Zorgaanbieder");
            xml.text_element("Zorgaanbiedernaam", &provider.name);
            xml.text_element("Aanbiedertype", &provider.aanbiedertype);
            xml.open("Interfaceversies");
            xml.open("Interfaceversie");
            xml.text_element("InterfaceversieId", &provider.interface_version);
            xml.open("Gegevensdiensten");
            for service in &provider.data_services {
                xml.open("Gegevensdienst");
                xml.text_element("GegevensdienstId", &service.id);
                xml.open("AuthorizationEndpoint");
                xml.text_element("AuthorizationEndpointuri", &service.authorization_endpoint);
                xml.close("AuthorizationEndpoint");
                xml.open("TokenEndpoint");
                xml.text_element("TokenEndpointuri", &service.token_endpoint);
                xml.close("TokenEndpoint");
                xml.open("Systeemrollen");
                for role in &service.system_roles {
                    xml.open("Systeemrol");
                    xml.text_element("Systeemrolcode", &role.code);
                    xml.open("ResourceEndpoint");
                    xml.text_element("ResourceEndpointuri", &role.resource_endpoint);
                    xml.close("ResourceEndpoint");
                    xml.close("Systeemrol");
                }
                xml.close("Systeemrollen");
                xml.close("Gegevensdienst");
            }
            xml.close("Gegevensdiensten");
            xml.close("Interfaceversie");
            xml.close("Interfaceversies");
            xml.close("Zorgaanbieder");
        }
        xml.close("Zorgaanbieders");
        xml.finish("Zorgaanbiederslijst")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    fn sample() -> Zal {
        Zal {
            tijdstempel: "2026-11-23T10:00:00Z".into(),
            volgnummer: 7,
            providers: vec![ZalProvider {
                name: "umcx@medmij".into(),
                aanbiedertype: "ZA".into(),
                interface_version: "1.4.0".into(),
                data_services: vec![ZalDataService {
                    id: "48".into(),
                    authorization_endpoint: "https://x.example/oauth/authorize?a=1&b=2".into(),
                    token_endpoint: "https://x.example/oauth/token".into(),
                    system_roles: vec![ZalSystemRole {
                        code: "MM-3.0-BZB-FHIR".into(),
                        resource_endpoint: "https://x.example/umcx/48/fhir".into(),
                    }],
                }],
            }],
        }
    }

    /// The element paths with their text (entity references resolved), in document order.
    fn texts(xml: &str) -> Vec<(String, String)> {
        let mut reader = Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut found = Vec::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(start)) => {
                    path.push(start.name().as_ref().to_owned());
                    text.clear();
                }
                Ok(Event::Text(content)) => text.push_str(&content.xml10_content()),
                Ok(Event::GeneralRef(entity)) => {
                    let name = entity.as_ref().to_owned();
                    text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or("?"));
                }
                Ok(Event::End(_)) => {
                    if !text.trim().is_empty() {
                        found.push((path.join("/"), std::mem::take(&mut text)));
                    }
                    text.clear();
                    path.pop();
                }
                Ok(Event::Eof) => break,
                Err(error) => panic!("invalid XML: {error}"),
                _ => {}
            }
        }
        found
    }

    #[test]
    fn has_the_release_3_structure() {
        let xml = sample().to_xml();
        assert!(xml.contains(
            r#"<Zorgaanbiederslijst xmlns="xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release3/">"#
        ));
        let found = texts(&xml);
        let service = "Zorgaanbiederslijst/Zorgaanbieders/Zorgaanbieder/Interfaceversies/Interfaceversie/Gegevensdiensten/Gegevensdienst";
        assert!(found.contains(&("Zorgaanbiederslijst/Volgnummer".into(), "7".into())));
        assert!(
            found.contains(&("Zorgaanbiederslijst/Zorgaanbieders/Zorgaanbieder/Aanbiedertype".into(), "ZA".into()))
        );
        assert!(found.contains(&(format!("{service}/GegevensdienstId"), "48".into())));
        assert!(found.contains(&(
            format!("{service}/AuthorizationEndpoint/AuthorizationEndpointuri"),
            "https://x.example/oauth/authorize?a=1&b=2".into()
        )));
        assert!(found.contains(&(
            format!("{service}/Systeemrollen/Systeemrol/ResourceEndpoint/ResourceEndpointuri"),
            "https://x.example/umcx/48/fhir".into()
        )));
        assert!(xml.contains("a=1&amp;b=2"), "ampersands are escaped");
    }
}
