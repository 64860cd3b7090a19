//! The queries a PGO sends per data service: the BgZ (48) query list as the rules give it, and
//! the Vaccinaties (63) queries; with the FHIR release each data service speaks.

use fhir_core::Release;

/// One query of a data service's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// Its label in the list (`4`, `7b`).
    pub label: &'static str,
    /// Path and query below the FHIR base, as a PGO sends it.
    pub path: &'static str,
}

const fn query(label: &'static str, path: &'static str) -> Query {
    Query { label, path }
}

/// The BgZ query list (domain brief, "The BgZ (48) query list: every one must work").
const BGZ: [Query; 28] = [
    query("1", "Patient?_include=Patient:general-practitioner"),
    query("2", "Coverage?_include=Coverage:payor:Patient&_include=Coverage:payor:Organization"),
    query("3a", "Consent?category=http://snomed.info/sct|11291000146105"),
    query("3b", "Consent?category=http://snomed.info/sct|11341000146107"),
    query("4", "Observation/$lastn?category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006"),
    query("5", "Condition"),
    query("6", "Observation/$lastn?code=http://snomed.info/sct|365508006"),
    query("7a", "Observation?code=http://snomed.info/sct|228366006"),
    query("7b", "Observation?code=http://snomed.info/sct|228273003"),
    query("7c", "Observation?code=http://snomed.info/sct|365980008"),
    query("8a", "NutritionOrder"),
    query("8b", "Flag"),
    query("8c", "AllergyIntolerance"),
    query(
        "9",
        "MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&_include=MedicationStatement:medication",
    ),
    query("10", "MedicationRequest?category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication"),
    query("11", "MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication"),
    query("12", "DeviceUseStatement?_include=DeviceUseStatement:device"),
    query("13", "Immunization?status=completed"),
    query("14a", "Observation/$lastn?code=http://loinc.org|85354-9"),
    query("14b", "Observation/$lastn?code=http://loinc.org|29463-7"),
    query("14c", "Observation/$lastn?code=http://loinc.org|8302-2,http://loinc.org|8306-3,http://loinc.org|8308-9"),
    query(
        "15",
        "Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen",
    ),
    query("16", "Procedure?category=http://snomed.info/sct|387713003"),
    query(
        "17",
        "Encounter?class=http://hl7.org/fhir/v3/ActCode|IMP,http://hl7.org/fhir/v3/ActCode|ACUTE,http://hl7.org/fhir/v3/ActCode|NONAC",
    ),
    query("18a", "ProcedureRequest?status=active"),
    query("18b", "ImmunizationRecommendation"),
    query("18c", "Appointment?status=booked,pending,proposed"),
    query("18d", "DeviceRequest?status=active&_include=DeviceRequest:device"),
];

/// The Vaccinaties (63) queries.
const VACCINATIES: [Query; 4] = [
    query("1", "Immunization"),
    query("2", "Immunization?status=completed&_include=Immunization:performer"),
    query("3", "ImmunizationRecommendation"),
    query("4", "Patient?_include=Patient:general-practitioner"),
];

/// The query list of `data_service`, if the suite knows it.
pub fn of(data_service: &str) -> Option<&'static [Query]> {
    match data_service {
        "48" => Some(&BGZ),
        "63" => Some(&VACCINATIES),
        _ => None,
    }
}

/// The FHIR release of `data_service` (domain brief, "Data services and FHIR versions").
pub fn release(data_service: &str) -> Option<Release> {
    match data_service {
        "48" | "49" | "51" | "52" => Some(Release::Stu3),
        "63" => Some(Release::R4),
        _ => None,
    }
}

/// The `fhirVersion` a CapabilityStatement of `release` states (its first two parts).
pub fn version_prefix(release: Release) -> &'static str {
    match release {
        Release::Stu3 => "3.0.",
        Release::R4 => "4.0.",
    }
}
