//! Which FHIR release a file is written in, when a provider serves data services of several
//! (BgZ on STU3, Vaccinaties on R4): the release of the data services whose profiles the file's
//! resources claim in `meta.profile`.

use data_services::Catalog;
use fhir_core::Release;
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::BTreeSet;
use store::Provider;

/// A file as far as it is read when its release is asked: JSON is read without knowing the
/// release (and so only once), XML needs the release to be read.
pub(crate) enum Written<'a> {
    /// Parsed FHIR JSON.
    Json(&'a Value),
    /// The XML document's bytes.
    Xml(&'a [u8]),
}

/// The release of a file's resources, or why it cannot be told.
pub(crate) fn release_of(catalog: &Catalog, provider: &Provider, written: Written<'_>) -> Result<Release, String> {
    let services: Vec<&data_services::DataService> =
        provider.data_services.iter().filter_map(|id| catalog.data_service(id)).collect();
    let offered: BTreeSet<Release> = services.iter().map(|service| service.release).collect();
    if offered.len() == 1 {
        // One release offered: every file is in it (a Binary claims no profile to tell it by).
        return offered.into_iter().next().ok_or_else(String::new);
    }
    let claimed = match written {
        Written::Json(value) => json_profiles(value),
        Written::Xml(bytes) => xml_profiles(bytes),
    };
    let releases: BTreeSet<Release> = services
        .iter()
        .filter(|service| {
            service.types.iter().any(|served| served.profiles.iter().any(|profile| claimed.contains(profile)))
        })
        .map(|service| service.release)
        .collect();
    let mut releases = releases.into_iter();
    match (releases.next(), releases.next()) {
        (Some(release), None) => Ok(release),
        (None, _) => Err(format!(
            "the FHIR release cannot be told: no resource claims a profile of {}'s data services; \
             load the file with --fhir-version",
            provider.name
        )),
        (Some(first), Some(second)) => Err(format!(
            "the file claims profiles of data services in {first} and in {second}; one file holds one release"
        )),
    }
}

/// Every `meta.profile` of a JSON file, at any depth (Bundle entries, contained resources).
fn json_profiles(value: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(object) => {
                if let Some(profiles) = object.get("meta").and_then(|meta| meta.get("profile")) {
                    found
                        .extend(profiles.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned));
                }
                object.values().for_each(|value| walk(value, found));
            }
            Value::Array(items) => items.iter().for_each(|value| walk(value, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(value, &mut found);
    found
}

/// Every `<meta><profile value="..."/>` of an XML file, at any depth.
fn xml_profiles(bytes: &[u8]) -> BTreeSet<String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut found = BTreeSet::new();
    let mut in_meta = 0usize;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(element)) if element.local_name().as_ref() == "meta" => in_meta += 1,
            Ok(Event::End(element)) if element.local_name().as_ref() == "meta" => in_meta = in_meta.saturating_sub(1),
            Ok(Event::Start(element) | Event::Empty(element))
                if in_meta > 0 && element.local_name().as_ref() == "profile" =>
            {
                let value = element
                    .attributes()
                    .flatten()
                    .find(|attribute| attribute.key.local_name().as_ref() == "value")
                    .and_then(|attribute| {
                        attribute
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|value| value.into_owned())
                    });
                found.extend(value);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buffer.clear();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_found_in_json_at_any_depth() {
        let bundle = br#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient",
            "meta": {"profile": ["http://example.org/a"]}, "contained": [{"resourceType": "Organization",
            "meta": {"profile": ["http://example.org/b"]}}]}}]}"#;
        let found = json_profiles(&serde_json::from_slice(bundle).expect("JSON"));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["http://example.org/a", "http://example.org/b"]);
    }

    #[test]
    fn profiles_are_found_in_xml_meta_only() {
        let xml = br#"<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Immunization>
            <meta><profile value="http://example.org/imm"/></meta>
            <extension url="x"><valueString value="profile"/></extension></Immunization></resource></entry></Bundle>"#;
        assert_eq!(xml_profiles(xml).into_iter().collect::<Vec<_>>(), ["http://example.org/imm"]);
        assert!(xml_profiles(b"<Patient xmlns=\"http://hl7.org/fhir\"><profile value=\"x\"/></Patient>").is_empty());
    }
}
