//! The queries a PGO sends per data service: the BgZ (48) query list as the rules give it, the
//! Vaccinaties (63) queries, and the searches (and the document read) the Nictiz qualification
//! of serving systems makes for vital signs (52) and PDF/A documents (51); with the FHIR release
//! each data service speaks and the rule its list comes from, in one table.

use fhir_core::Release;

/// One query of a data service's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// Its label in the list (`4`, `7b`).
    pub label: &'static str,
    /// Path and query below the FHIR base, as a PGO sends it.
    pub path: &'static str,
    /// A read the answer leads to, made after the search.
    pub follow: Option<Follow>,
}

/// A read that a search's answer leads to, as a PGO makes it next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// The Binary that the first DocumentReference found names as its document
    /// (`content[0].attachment.url`, relative to the FHIR base or absolute on it), read as FHIR:
    /// how a PGO fetches a PDF/A document.
    Document,
}

/// What a query asks of a data service, as a CapabilityStatement states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A search of the type (`search-type`).
    Search(&'static str),
    /// A read of the type (`read`).
    Read(&'static str),
    /// An operation on the type (the type, the operation's name without `$`).
    Operation(&'static str, &'static str),
}

impl Query {
    /// The resource type the query asks about: its path's first segment.
    pub fn kind(&self) -> &'static str {
        self.path.split(['?', '/']).next().unwrap_or_default()
    }

    /// Whether the query is a plain search (`Type` or `Type?...`), not an operation.
    pub fn is_search(&self) -> bool {
        !self.path.split('?').next().unwrap_or_default().contains('/')
    }

    /// What the query, and the read it leads to, need the data service to offer: a search of
    /// its type or an operation on it (`Observation/$lastn`), and for a document the read of
    /// the Binary its DocumentReference names.
    pub fn needs(&self) -> Vec<Need> {
        let target = self.path.split('?').next().unwrap_or_default();
        let mut needs = match target.split_once('/') {
            Some((kind, operation)) => vec![Need::Operation(kind, operation.trim_start_matches('$'))],
            None => vec![Need::Search(target)],
        };
        match self.follow {
            None => {}
            Some(Follow::Document) => needs.push(Need::Read("Binary")),
        }
        needs
    }
}

const fn query(label: &'static str, path: &'static str) -> Query {
    Query { label, path, follow: None }
}

const fn query_then(label: &'static str, path: &'static str, follow: Follow) -> Query {
    Query { label, path, follow: Some(follow) }
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

/// The Vital Signs 2.0 (52) searches: the Nictiz qualification of serving systems
/// (Nictiz/Nictiz-testscripts, `output/STU3/VitalSigns-2-0/MedMij/Cert/Serving-XIS`, scenarios
/// 1.1 to 1.7), in its order, none on Patient.
///
/// The qualification's periods are relative to the day it runs, with its data written relative
/// to that day (1.5: blood pressures from 100 to 50 days ago; 1.6: the six measurements of the
/// last 30 days). The suite knows no target's data and checks an answer's shape, not what it
/// holds, so its dates are fixed: the qualification's offsets from 31 March 2026, the last day
/// of the project's own vital-signs records (January to March 2026), so that a run against the
/// service finds some of them and a run is the same whenever it is made.
const VITAL_SIGNS: [Query; 7] = [
    query("1", "Observation?code=http://loinc.org|85354-9"),
    query("2", "Observation/$lastn?code=http://loinc.org|29463-7"),
    query("3", "Observation?code=http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2"),
    query("4", "Observation?code=http://loinc.org|8867-4"),
    query("5", "Observation?code=http://loinc.org|85354-9&date=ge2025-12-21&date=le2026-02-09"),
    query(
        "6",
        "Observation?code=http://loinc.org|85354-9,http://loinc.org|29463-7,http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2,http://loinc.org|8867-4&date=ge2026-03-01&date=le2026-03-31",
    ),
    query("7", "Observation?category=vital-signs"),
];

/// The PDF/A (51) searches and the document read: the Nictiz qualification of serving systems
/// (Nictiz/Nictiz-testscripts, `output/STU3/PDFA-3-0/MedMij/Cert/XIS-Server`): the current
/// DocumentReferences (scenario 2.1), those indexed in a period (1.2), the current
/// DocumentManifests (2.2), those created in a period (2.3), and the Binary the first
/// DocumentReference found names (1.4), all with search parameters the data service offers
/// (`status`, `indexed`, `created`).
///
/// The periods are the qualification's (indexed from 730 to 365 days ago, created from 365 to
/// 60 days ago) counted from a fixed day, 31 March 2026, for the reasons given at
/// [`VITAL_SIGNS`].
const DOCUMENTS: [Query; 5] = [
    query("1", "DocumentReference?status=current"),
    query("2", "DocumentReference?status=current&indexed=ge2024-03-31&indexed=le2025-03-31"),
    query("3", "DocumentManifest?status=current"),
    query("4", "DocumentManifest?status=current&created=ge2025-03-31&created=le2026-01-30"),
    query_then("5", "DocumentReference?status=current", Follow::Document),
];

/// A data service the suite knows.
struct Known {
    id: &'static str,
    release: Release,
    /// Its query list, when the suite holds one.
    queries: Option<&'static [Query]>,
    /// Where the list comes from, cited by the retrieval scenarios.
    rule: &'static str,
}

/// The data services the suite knows (domain brief, "Data services and FHIR versions").
const KNOWN: [Known; 5] = [
    Known {
        id: "48",
        release: Release::Stu3,
        queries: Some(&BGZ),
        rule: "The BgZ (48) query list: every one must work",
    },
    Known { id: "49", release: Release::Stu3, queries: None, rule: "Data services and FHIR versions" },
    Known {
        id: "51",
        release: Release::Stu3,
        queries: Some(&DOCUMENTS),
        rule: "The Nictiz qualification of PDF/A (51) serving systems: its searches and the document read",
    },
    Known {
        id: "52",
        release: Release::Stu3,
        queries: Some(&VITAL_SIGNS),
        rule: "The Nictiz qualification of Vital Signs (52) serving systems: its searches, 1.1 to 1.7",
    },
    Known {
        id: "63",
        release: Release::R4,
        queries: Some(&VACCINATIES),
        rule: "Provider-side servers must answer in JSON and XML",
    },
];

fn known(data_service: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|known| known.id == data_service)
}

/// The query list of `data_service`, if the suite knows it.
pub fn of(data_service: &str) -> Option<&'static [Query]> {
    known(data_service)?.queries
}

/// The FHIR release of `data_service` (domain brief, "Data services and FHIR versions").
pub fn release(data_service: &str) -> Option<Release> {
    known(data_service).map(|known| known.release)
}

/// The rule the query list of `data_service` comes from.
pub fn rule(data_service: &str) -> Option<&'static str> {
    known(data_service).map(|known| known.rule)
}

/// The `fhirVersion` a CapabilityStatement of `release` states (its first two parts).
pub fn version_prefix(release: Release) -> &'static str {
    match release {
        Release::Stu3 => "3.0.",
        Release::R4 => "4.0.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_has_distinct_labels_and_paths_that_make_urls() {
        for known in &KNOWN {
            let Some(list) = known.queries else { continue };
            let mut labels: Vec<&str> = list.iter().map(|query| query.label).collect();
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(labels.len(), list.len(), "labels of {}", known.id);
            for query in list {
                let url = url::Url::parse(&format!("https://dva.example/x/{}/fhir/{}", known.id, query.path));
                assert!(url.is_ok(), "{}: {}", known.id, query.path);
            }
        }
        assert_eq!(
            ["48", "51", "52", "63"].map(|id| of(id).map_or(0, <[Query]>::len)),
            [28, 5, 7, 4],
            "the lists' lengths"
        );
        // Only the document read follows its search.
        let follows: Vec<(&str, &str)> = KNOWN
            .iter()
            .flat_map(|known| known.queries.unwrap_or_default().iter().map(move |query| (known.id, query)))
            .filter(|(_, query)| query.follow.is_some())
            .map(|(id, query)| (id, query.label))
            .collect();
        assert_eq!(follows, [("51", "5")]);
    }

    #[test]
    fn a_query_needs_its_search_or_operation_and_a_document_its_binary_read() {
        let needs = |id: &str| -> Vec<Need> { of(id).unwrap_or_default().iter().flat_map(Query::needs).collect() };
        assert_eq!(
            needs("51"),
            [
                Need::Search("DocumentReference"),
                Need::Search("DocumentReference"),
                Need::Search("DocumentManifest"),
                Need::Search("DocumentManifest"),
                Need::Search("DocumentReference"),
                Need::Read("Binary"),
            ]
        );
        assert_eq!(needs("52")[..2], [Need::Search("Observation"), Need::Operation("Observation", "lastn")]);
        let first = of("48").unwrap_or_default()[0];
        assert_eq!((first.kind(), first.is_search()), ("Patient", true));
        let lastn = of("48").unwrap_or_default()[4];
        assert_eq!((lastn.kind(), lastn.is_search()), ("Observation", false));
    }

    #[test]
    fn every_known_data_service_has_a_release_and_49_has_no_list() {
        assert_eq!(
            ["48", "49", "51", "52", "63"].map(release),
            [Some(Release::Stu3), Some(Release::Stu3), Some(Release::Stu3), Some(Release::Stu3), Some(Release::R4)]
        );
        assert_eq!((of("49"), release("50"), of("50"), rule("50")), (None, None, None, None));
        assert!(rule("52").is_some_and(|rule| rule.contains("Vital Signs")));
    }
}
