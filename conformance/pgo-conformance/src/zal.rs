//! Reading a Zorgaanbiederslijst (ZAL) as a PGO does: per provider, per data service, the
//! authorization and token endpoints and the resource endpoints. Both shapes in use are read
//! (release 2, data services directly under the provider; release 3, under `Interfaceversies`),
//! by element names, whatever the namespace.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// A provider's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZalEntry {
    /// `umcx@medmij`.
    pub name: String,
    /// Per data-service id, its endpoints.
    pub data_services: BTreeMap<String, ZalEndpoints>,
}

/// The endpoints of one data service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZalEndpoints {
    /// `AuthorizationEndpointuri`.
    pub authorization: String,
    /// `TokenEndpointuri`.
    pub token: String,
    /// `ResourceEndpointuri` per system role code.
    pub resources: BTreeMap<String, String>,
}

/// A ZAL could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ZalError {
    /// Not well-formed XML.
    #[error("the ZAL is not well-formed XML: {0}")]
    Xml(String),
    /// Not a ZAL.
    #[error("the document is not a Zorgaanbiederslijst (root element {0})")]
    NotAZal(String),
}

/// The providers of a ZAL document, in document order.
pub fn read_zal(xml: &str) -> Result<Vec<ZalEntry>, ZalError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut entries: Vec<ZalEntry> = Vec::new();
    let mut service: Option<(String, ZalEndpoints)> = None;
    let mut role_code = String::new();
    let mut root: Option<String> = None;
    let mut text = String::new();
    loop {
        match reader.read_event().map_err(|error| ZalError::Xml(error.to_string()))? {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_owned();
                if path.is_empty() {
                    if name != "Zorgaanbiederslijst" {
                        return Err(ZalError::NotAZal(name));
                    }
                    root = Some(name.clone());
                }
                match name.as_str() {
                    "Zorgaanbieder" => entries.push(ZalEntry::default()),
                    "Gegevensdienst" => service = Some((String::new(), ZalEndpoints::default())),
                    "Systeemrol" => role_code.clear(),
                    _ => {}
                }
                text.clear();
                path.push(name);
            }
            Event::Text(content) => text.push_str(&content.xml10_content()),
            Event::GeneralRef(reference) => {
                let name = reference.as_ref().to_owned();
                let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                    .map(str::to_owned)
                    .or_else(|| reference.resolve_char_ref().ok().flatten().map(String::from))
                    .ok_or_else(|| ZalError::Xml(format!("unknown entity &{name};")))?;
                text.push_str(&resolved);
            }
            Event::End(_) => {
                let value = std::mem::take(&mut text).trim().to_owned();
                let element = path.pop().unwrap_or_default();
                match (element.as_str(), service.as_mut(), entries.last_mut()) {
                    ("Zorgaanbiedernaam", _, Some(entry)) => entry.name = value,
                    ("GegevensdienstId", Some((id, _)), _) => *id = value,
                    ("AuthorizationEndpointuri", Some((_, endpoints)), _) => endpoints.authorization = value,
                    ("TokenEndpointuri", Some((_, endpoints)), _) => endpoints.token = value,
                    ("Systeemrolcode", Some(_), _) => role_code = value,
                    ("ResourceEndpointuri", Some((_, endpoints)), _) => {
                        endpoints.resources.insert(role_code.clone(), value);
                    }
                    ("Gegevensdienst", _, _) => {
                        if let (Some((id, endpoints)), Some(entry)) = (service.take(), entries.last_mut()) {
                            entry.data_services.insert(id, endpoints);
                        }
                    }
                    _ => {}
                }
            }
            Event::Empty(empty) if path.is_empty() => {
                return Err(ZalError::NotAZal(empty.local_name().as_ref().to_owned()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root {
        Some(_) => Ok(entries),
        None => Err(ZalError::NotAZal("(none)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Zorgaanbiederslijst xmlns="xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release3/">
  <Tijdstempel>2026-11-01T10:00:00Z</Tijdstempel><Volgnummer>3</Volgnummer>
  <Zorgaanbieders><Zorgaanbieder><Zorgaanbiedernaam>umcx@medmij</Zorgaanbiedernaam><Aanbiedertype>ZA</Aanbiedertype>
    <Interfaceversies><Interfaceversie><InterfaceversieId>1</InterfaceversieId><Gegevensdiensten>
      <Gegevensdienst><GegevensdienstId>48</GegevensdienstId>
        <AuthorizationEndpoint><AuthorizationEndpointuri>https://x.example/oauth/authorize?a=1&amp;b=2</AuthorizationEndpointuri></AuthorizationEndpoint>
        <TokenEndpoint><TokenEndpointuri>https://x.example/oauth/token</TokenEndpointuri></TokenEndpoint>
        <Systeemrollen><Systeemrol><Systeemrolcode>MM-3.0-BZB-FHIR</Systeemrolcode>
          <ResourceEndpoint><ResourceEndpointuri>https://x.example/umcx/48/fhir</ResourceEndpointuri></ResourceEndpoint>
        </Systeemrol></Systeemrollen>
      </Gegevensdienst>
    </Gegevensdiensten></Interfaceversie></Interfaceversies>
  </Zorgaanbieder></Zorgaanbieders>
</Zorgaanbiederslijst>"#;

    const RELEASE2: &str = r#"<Zorgaanbiederslijst xmlns="xmlns://afsprakenstelsel.medmij.nl/zorgaanbiederslijst/release2/">
  <Tijdstempel>2026-11-01T10:00:00Z</Tijdstempel><Volgnummer>1</Volgnummer>
  <Zorgaanbieders><Zorgaanbieder><Zorgaanbiedernaam>huisarts@medmij</Zorgaanbiedernaam><Gegevensdiensten>
    <Gegevensdienst><GegevensdienstId>49</GegevensdienstId>
      <AuthorizationEndpoint><AuthorizationEndpointuri>https://h.example/a</AuthorizationEndpointuri></AuthorizationEndpoint>
      <TokenEndpoint><TokenEndpointuri>https://h.example/t</TokenEndpointuri></TokenEndpoint>
      <Systeemrollen><Systeemrol><Systeemrolcode>LZA</Systeemrolcode>
        <ResourceEndpoint><ResourceEndpointuri>https://h.example/fhir</ResourceEndpointuri></ResourceEndpoint>
      </Systeemrol></Systeemrollen>
    </Gegevensdienst>
  </Gegevensdiensten></Zorgaanbieder></Zorgaanbieders>
</Zorgaanbiederslijst>"#;

    #[test]
    fn release_three_is_read() {
        let entries = read_zal(RELEASE3).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "umcx@medmij");
        let service = &entries[0].data_services["48"];
        assert_eq!(service.authorization, "https://x.example/oauth/authorize?a=1&b=2");
        assert_eq!(service.token, "https://x.example/oauth/token");
        assert_eq!(service.resources["MM-3.0-BZB-FHIR"], "https://x.example/umcx/48/fhir");
    }

    #[test]
    fn release_two_is_read() {
        let entries = read_zal(RELEASE2).unwrap();
        assert_eq!(entries[0].name, "huisarts@medmij");
        assert_eq!(entries[0].data_services["49"].resources["LZA"], "https://h.example/fhir");
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(matches!(read_zal("<OAuthclientlist/>"), Err(ZalError::NotAZal(_))));
        assert!(matches!(read_zal("<Zorgaanbiederslijst><a></b></Zorgaanbiederslijst>"), Err(ZalError::Xml(_))));
    }
}
