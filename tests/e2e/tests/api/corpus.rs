//! The public STU3 corpus (`../shared/corpus/stu3-zib2017`, present in CI; tests that need it
//! skip without it unless `PGO_EXCHANGE_REQUIRE_CORPUS` is set): it loads with exactly the two
//! faults it is known to have, and every BgZ query returns exactly patient nl-core-patient-01's
//! resources for a token of BSN 999911120, and none of them for another patient.
//!
//! The expected results were worked out by hand from the corpus files, not by the service.

use e2e::TestApp;
use fhir_core::Release;
use ingest::LoadOptions;
use std::collections::BTreeSet;
use store::NewProvider;
use test_support::corpus;
use test_support::on_both_backends;

const PATIENT_01_BSN: &str = "999911120";
const PATIENT_02_BSN: &str = "999911284";

/// Every query of the BgZ list, with what it returns for nl-core-patient-01.
///
/// Notes on the corpus: MedicationRequest zib-medicationagreement-01.json and -02.json share an
/// id, so the later file (patient-02's) is the current version and patient-01 has none; the
/// Medication resources the medication records point at are not in the corpus; the second lab
/// observation and vaccination recommendation are refused at load (see below).
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "Patient?_include=Patient:general-practitioner",
        &["Organization/nl-core-organization-01", "Patient/nl-core-patient-01"],
    ),
    (
        "Coverage?_include=Coverage:payor:Patient&_include=Coverage:payor:Organization",
        &[
            "Coverage/zib-payer-01",
            "Coverage/zib-payer-02",
            "Organization/nl-core-organization-04",
            "Patient/nl-core-patient-01",
        ],
    ),
    (
        "Consent?category=http://snomed.info/sct|11291000146105",
        &["Consent/zib-treatmentdirective-01", "Consent/zib-treatmentdirective-02"],
    ),
    (
        "Consent?category=http://snomed.info/sct|11341000146107",
        &["Consent/zib-advancedirective-01", "Consent/zib-advancedirective-02"],
    ),
    ("Observation/$lastn?category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006", &[]),
    (
        "Condition",
        &[
            "Condition/zib-problem-01",
            "Condition/zib-problem-02",
            "Condition/zib-problem-03",
            "Condition/zib-problem-04",
            "Condition/zib-problem-05",
            "Condition/zib-problem-06",
            "Condition/zib-problem-08",
            "Condition/zib-problem-09",
        ],
    ),
    ("Observation/$lastn?code=http://snomed.info/sct|365508006", &["Observation/zib-livingsituation-01"]),
    ("Observation?code=http://snomed.info/sct|228366006", &["Observation/zib-druguse-01"]),
    ("Observation?code=http://snomed.info/sct|228273003", &["Observation/zib-alcoholuse-01"]),
    ("Observation?code=http://snomed.info/sct|365980008", &["Observation/zib-tobaccouse-01"]),
    ("NutritionOrder", &["NutritionOrder/zib-nutritionadvice-01"]),
    ("Flag", &["Flag/zib-alert-01"]),
    ("AllergyIntolerance", &["AllergyIntolerance/zib-allergyintolerance-01"]),
    (
        "MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&_include=MedicationStatement:medication",
        &["MedicationStatement/zib-medicationuse-01"],
    ),
    ("MedicationRequest?category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication", &[]),
    (
        "MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication",
        &["MedicationDispense/zib-administrationagreement-01"],
    ),
    (
        "DeviceUseStatement?_include=DeviceUseStatement:device",
        &["Device/zib-MedicalDeviceProduct-03", "DeviceUseStatement/zib-medicaldevice-01"],
    ),
    ("Immunization?status=completed", &["Immunization/zib-vaccination-01", "Immunization/zib-vaccination-02"]),
    ("Observation/$lastn?code=http://loinc.org|85354-9", &["Observation/zib-bloodpressure-01"]),
    ("Observation/$lastn?code=http://loinc.org|29463-7", &["Observation/zib-bodyweight-01"]),
    (
        "Observation/$lastn?code=http://loinc.org|8302-2,http://loinc.org|8306-3,http://loinc.org|8308-9",
        &["Observation/zib-bodyheight-01"],
    ),
    (
        "Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen",
        &["Observation/zib-laboratorytestresult-observation-01", "Specimen/zib-laboratorytestresult-specimen-01"],
    ),
    ("Procedure?category=http://snomed.info/sct|387713003", &[]),
    (
        "Encounter?class=http://hl7.org/fhir/v3/ActCode|IMP,http://hl7.org/fhir/v3/ActCode|ACUTE,http://hl7.org/fhir/v3/ActCode|NONAC",
        &[],
    ),
    ("ProcedureRequest?status=active", &[]),
    ("ImmunizationRecommendation", &["ImmunizationRecommendation/zib-vaccinationrecommendation-01"]),
    ("Appointment?status=booked,pending,proposed", &[]),
    ("DeviceRequest?status=active&_include=DeviceRequest:device", &[]),
];

on_both_backends!(the_corpus_loads_and_answers_every_bgz_query_for_its_patient, |database| {
    let Some(dir) = corpus("stu3-zib2017") else { return };
    let app = TestApp::start(database).await;
    let new = NewProvider { name: "corpus".into(), display_name: "Corpus".into(), data_services: vec!["48".into()] };
    let provider = app.context.store.create_provider(&new, None).await.expect("provider");
    let files = ingest::collect_files(&[dir]).expect("files");
    let summary = app
        .context
        .ingestor
        .load(
            &app.context.store,
            &provider,
            &files,
            LoadOptions { release: Some(Release::Stu3), batch_size: 20 },
            |_| {},
        )
        .await
        .expect("loads");
    // 54 resources: 2 refused with the faults they are known to have, 1 id given twice.
    assert_eq!(
        (summary.files, summary.created, summary.updated, summary.rejected.len()),
        (54, 51, 1, 2),
        "{summary:#?}"
    );
    let rejected: Vec<(&str, &str)> =
        summary.rejected.iter().map(|r| (r.resource.as_str(), r.reasons[0].as_str())).collect();
    assert_eq!(rejected[0].0, "ImmunizationRecommendation/zib-vaccinationrecommendation-02");
    assert!(
        rejected[0].1.starts_with(
            "ImmunizationRecommendation.recommendation[0].protocol.doseSequence: invalid type: string \"1432\""
        ),
        "{}",
        rejected[0].1
    );
    assert_eq!(rejected[1].0, "Observation/zib-laboratorytestresult-observation-02");
    assert!(
        rejected[1].1.starts_with("Observation.basedOn: invalid type: map, expected a sequence"),
        "{}",
        rejected[1].1
    );
    assert!(
        summary.warnings.iter().any(|w| w.contains("MedicationRequest/zib-medicationagreement-01 was also in")),
        "{:?}",
        summary.warnings
    );
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("MedicationRequest.extension[3].valueCodableConcept: unknown element")),
        "{:?}",
        summary.warnings
    );

    let base = app.base("corpus", "48");
    let patient_01 = app.token("corpus", PATIENT_01_BSN, &["48"]);
    let patient_02 = app.token("corpus", PATIENT_02_BSN, &["48"]);
    let mut everything_of_01 = BTreeSet::new();
    for (query, expected) in EXPECTED {
        let bundle = app.get_json(&format!("{base}/{query}"), &patient_01).await;
        let found = e2e::entry_ids(&bundle);
        let mut expected: Vec<String> = expected.iter().map(|id| (*id).to_owned()).collect();
        expected.sort();
        assert_eq!(found, expected, "patient-01: {query}");
        everything_of_01.extend(found);
    }
    assert_eq!(EXPECTED.len(), 28, "every query of the BgZ list");
    for (query, _) in EXPECTED {
        let bundle = app.get_json(&format!("{base}/{query}"), &patient_02).await;
        let overlap: Vec<String> =
            e2e::entry_ids(&bundle).into_iter().filter(|id| everything_of_01.contains(id)).collect();
        assert!(overlap.is_empty(), "patient-02 received patient-01's {overlap:?} from {query}");
    }
    // Patient-02 does see their own records, so the check above is not vacuous.
    let bp = app.get_json(&format!("{base}/Observation/$lastn?code=http://loinc.org|85354-9"), &patient_02).await;
    assert_eq!(e2e::entry_ids(&bp), ["Observation/zib-bloodpressure-02"]);
});
