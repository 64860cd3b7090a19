//! The Bundles the share scenarios send, written here (nothing copied from published material):
//! the person's Patient as a PGO sends it (a local fullUrl, its own identifier, a BSN only when
//! asked), home measurements (52) and one document (51) with a tiny PDF of the suite's own. Every
//! resource but the Binary carries an identifier holding the Bundle's marker, so that a collection
//! afterwards can tell whether anything of it was stored.

use base64::Engine;
use serde_json::{Value, json};

/// The system of the identifiers that carry a Bundle's marker.
pub const MARKER_SYSTEM: &str = "https://pgo-conformance.example/shared";

/// The profile of a Patient a PGO shares (nl-core).
const PATIENT_PROFILE: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";

/// A Bundle to share and what tells its resources apart.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The Bundle.
    pub bundle: Value,
    /// Found in an identifier of every resource but a Binary.
    pub marker: String,
    /// Searches (below the FHIR base) that would find what the Bundle stores.
    pub searches: Vec<String>,
}

impl Shared {
    /// The Bundle's entries.
    pub fn entries(&self) -> &[Value] {
        self.bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default()
    }

    /// The resource type of entry `index`.
    pub fn entry_type(&self, index: usize) -> &str {
        self.entries().get(index).and_then(|entry| entry["resource"]["resourceType"].as_str()).unwrap_or_default()
    }

    /// The JSON, grown past `size` bytes by the narrative of the resource after the Patient (a
    /// text the target must refuse unread).
    pub fn padded_past(&self, size: usize) -> Vec<u8> {
        let mut bundle = self.bundle.clone();
        let base = bundle.to_string().len();
        let filler = "x".repeat(size.saturating_sub(base) + 1024);
        if let Some(entry) = bundle["entry"].as_array_mut().and_then(|entries| entries.get_mut(1)) {
            entry["resource"]["text"] = json!({
                "status": "generated",
                "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{filler}</p></div>"),
            });
        }
        bundle.to_string().into_bytes()
    }
}

/// How the Bundle names the person's Patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientUrl {
    /// `urn:uuid:...`.
    Uuid,
    /// `urn:oid:2.25....` (an OID made of a UUID, ITU-T X.667).
    Oid,
}

impl PatientUrl {
    fn fresh(self) -> String {
        let uuid = uuid::Uuid::new_v4();
        match self {
            PatientUrl::Uuid => format!("urn:uuid:{uuid}"),
            PatientUrl::Oid => format!("urn:oid:2.25.{}", uuid.as_u128()),
        }
    }
}

/// The person's Patient entry: a local id and identifier, and the BSN `bsn` when given.
fn patient_entry(full_url: &str, marker: &str, bsn: Option<&str>) -> Value {
    let mut identifiers = vec![json!({"system": MARKER_SYSTEM, "value": format!("{marker}.patient")})];
    if let Some(bsn) = bsn {
        identifiers.push(json!({"system": crate::content::BSN_SYSTEM, "value": bsn}));
    }
    json!({
        "fullUrl": full_url,
        "resource": {
            "resourceType": "Patient",
            "id": "pgo-self",
            "meta": {"profile": [PATIENT_PROFILE]},
            "identifier": identifiers,
        },
        "request": {"method": "POST", "url": "Patient"},
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A measurement of the person, by the person.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// The zib profile's name (`zib-BodyWeight`).
    pub profile: &'static str,
    /// LOINC code and display.
    pub code: (&'static str, &'static str),
    /// The value and its UCUM unit.
    pub value: (f64, &'static str),
}

/// Body weight, 72.5 kg.
pub const WEIGHT: Measurement =
    Measurement { profile: "zib-BodyWeight", code: ("29463-7", "Body weight"), value: (72.5, "kg") };
/// Heart rate, 61 a minute.
pub const HEART_RATE: Measurement =
    Measurement { profile: "zib-HeartRate", code: ("8867-4", "Heart rate"), value: (61.0, "/min") };
/// Body temperature, 36.8 °C.
pub const TEMPERATURE: Measurement =
    Measurement { profile: "zib-BodyTemperature", code: ("8310-5", "Body temperature"), value: (36.8, "Cel") };

fn measurement_entry(measurement: Measurement, patient: &str, marker: &str, index: usize) -> Value {
    let (code, display) = measurement.code;
    let (value, unit) = measurement.value;
    json!({
        "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "resource": {
            "resourceType": "Observation",
            "meta": {"profile": [format!("http://nictiz.nl/fhir/StructureDefinition/{}", measurement.profile)]},
            "identifier": [{"system": MARKER_SYSTEM, "value": format!("{marker}.{index}")}],
            "status": "final",
            "category": [{"coding": [{
                "system": "http://hl7.org/fhir/observation-category",
                "code": "vital-signs",
                "display": "Vital Signs",
            }]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": patient},
            "effectiveDateTime": now(),
            "performer": [{"reference": patient}],
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        },
        "request": {"method": "POST", "url": "Observation"},
    })
}

/// A batch of the person's `measurements` (52), after the Patient entry named by `url`.
pub fn measurements(url: PatientUrl, bsn: Option<&str>, list: &[Measurement]) -> Shared {
    let marker = uuid::Uuid::new_v4().to_string();
    let patient = url.fresh();
    let mut entries = vec![patient_entry(&patient, &marker, bsn)];
    entries.extend(list.iter().enumerate().map(|(index, m)| measurement_entry(*m, &patient, &marker, index + 1)));
    let mut searches: Vec<String> =
        list.iter().map(|m| format!("Observation?code=http://loinc.org|{}", m.code.0)).collect();
    searches.dedup();
    Shared { bundle: json!({"resourceType": "Bundle", "type": "batch", "entry": entries}), marker, searches }
}

/// The suite's own PDF: one empty page, a few hundred bytes.
pub fn tiny_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ];
    let mut pdf = String::from("%PDF-1.4\n% pgo-conformance\n");
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.push_str(&format!("{} 0 obj\n{object}\nendobj\n", index + 1));
    }
    let xref = pdf.len();
    pdf.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for offset in offsets {
        pdf.push_str(&format!("{offset:010} 00000 n \n"));
    }
    pdf.push_str(&format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
    pdf.into_bytes()
}

/// The profile of a shared DocumentReference (IHE MHD, minimal).
pub const DOCUMENT_REFERENCE_PROFILE: &str =
    "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference";

/// A transaction of one document (51): the Patient, a DocumentManifest listing a DocumentReference
/// whose attachment is a Binary holding [`tiny_pdf`].
pub fn documents(url: PatientUrl, bsn: Option<&str>) -> Shared {
    let marker = uuid::Uuid::new_v4().to_string();
    let patient = url.fresh();
    let urn = || format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let (manifest, reference, binary) = (urn(), urn(), urn());
    let master = || json!({"system": "urn:ietf:rfc:3986", "value": urn()});
    let document_type =
        json!({"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]});
    let entries = vec![
        patient_entry(&patient, &marker, bsn),
        json!({
            "fullUrl": manifest,
            "resource": {
                "resourceType": "DocumentManifest",
                "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.DocumentManifest"]},
                "masterIdentifier": master(),
                "identifier": [{"system": MARKER_SYSTEM, "value": format!("{marker}.manifest")}],
                "status": "current",
                "type": document_type,
                "subject": {"reference": patient},
                "created": now(),
                "description": "Shared by pgo-conformance",
                "content": [{"pReference": {"reference": reference}}],
            },
            "request": {"method": "POST", "url": "DocumentManifest"},
        }),
        json!({
            "fullUrl": reference,
            "resource": {
                "resourceType": "DocumentReference",
                "meta": {"profile": [DOCUMENT_REFERENCE_PROFILE]},
                "masterIdentifier": master(),
                "identifier": [{"system": MARKER_SYSTEM, "value": format!("{marker}.reference")}],
                "status": "current",
                "type": document_type,
                "subject": {"reference": patient},
                "indexed": now(),
                "description": "Shared by pgo-conformance",
                "content": [{"attachment": {"contentType": "application/pdf", "url": binary, "title": "pgo-conformance.pdf"}}],
            },
            "request": {"method": "POST", "url": "DocumentReference"},
        }),
        json!({
            "fullUrl": binary,
            "resource": {
                "resourceType": "Binary",
                "contentType": "application/pdf",
                "content": base64::engine::general_purpose::STANDARD.encode(tiny_pdf()),
            },
            "request": {"method": "POST", "url": "Binary"},
        }),
    ];
    Shared {
        bundle: json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
        marker,
        searches: vec!["DocumentReference".into(), "DocumentManifest".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pdf_is_a_pdf_with_a_cross_reference_table_that_points_at_its_objects() {
        let pdf = String::from_utf8(tiny_pdf()).unwrap();
        assert!(pdf.starts_with("%PDF-1.4\n") && pdf.ends_with("%%EOF\n"));
        let xref: usize = pdf.split("startxref\n").nth(1).unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[xref..].starts_with("xref\n"));
        let offsets: Vec<usize> = pdf[xref..].lines().skip(3).take(3).map(|line| line[..10].parse().unwrap()).collect();
        for (index, offset) in offsets.into_iter().enumerate() {
            assert!(pdf[offset..].starts_with(&format!("{} 0 obj", index + 1)));
        }
    }

    #[test]
    fn every_measurement_refers_to_the_patient_entry_and_carries_the_marker() {
        let shared = measurements(PatientUrl::Oid, Some("999911120"), &[WEIGHT, HEART_RATE]);
        let patient = shared.entries()[0]["fullUrl"].as_str().unwrap();
        assert!(patient.starts_with("urn:oid:2.25."));
        assert_eq!(shared.entries().len(), 3);
        for entry in &shared.entries()[1..] {
            assert_eq!(entry["resource"]["subject"]["reference"], patient);
            assert!(entry["resource"]["identifier"][0]["value"].as_str().unwrap().starts_with(&shared.marker));
        }
        assert!(shared.bundle.to_string().contains("999911120"), "the BSN asked for");
        assert!(!measurements(PatientUrl::Uuid, None, &[WEIGHT]).bundle.to_string().contains("NamingSystem/bsn"));
    }

    #[test]
    fn documents_link_manifest_reference_and_binary_by_their_full_urls() {
        let shared = documents(PatientUrl::Uuid, None);
        let entries = shared.entries();
        let types: Vec<&str> = (0..entries.len()).map(|index| shared.entry_type(index)).collect();
        assert_eq!(types, ["Patient", "DocumentManifest", "DocumentReference", "Binary"]);
        assert_eq!(entries[1]["resource"]["content"][0]["pReference"]["reference"], entries[2]["fullUrl"]);
        assert_eq!(entries[2]["resource"]["content"][0]["attachment"]["url"], entries[3]["fullUrl"]);
    }

    #[test]
    fn a_padded_bundle_is_just_over_the_size_and_still_json() {
        let shared = measurements(PatientUrl::Uuid, None, &[WEIGHT]);
        let body = shared.padded_past(100_000);
        assert!(body.len() > 100_000 && body.len() < 110_000, "{}", body.len());
        assert!(serde_json::from_slice::<Value>(&body).is_ok());
    }

    #[test]
    fn the_bundles_can_be_written_as_fhir_xml() {
        for shared in [measurements(PatientUrl::Oid, None, &[WEIGHT, TEMPERATURE]), documents(PatientUrl::Oid, None)] {
            let xml = fhir_xml::to_xml(fhir_core::Release::Stu3, &shared.bundle, fhir_xml::UnknownMembers::Refuse);
            assert!(xml.is_ok(), "{xml:?}");
        }
    }
}
