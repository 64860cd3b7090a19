//! Data service 52, Meetwaarden vitale functies 2.0 (vital signs, FHIR STU3), collected by a PGO:
//! every search of the Nictiz qualification for serving systems (Vital Signs 2.0, scenarios 1.1
//! to 1.7, with dates of our own) answers exactly the person's own measurements, and passes the
//! qualification's checks on a searchset; another person's token sees none of them; an
//! Observation that claims no vital-sign profile (a laboratory glucose of the BgZ) is not served
//! under 52, though the provider serves it under 48.
//!
//! The records are the tests' own (`tests/e2e/fixtures/vitalsigns/`): Lotte van Meeteren
//! (two blood pressures, two weights, a heart rate, a self-measured glucose and a laboratory
//! glucose), Kees Polsbeek (one blood pressure), a practitioner. The published examples of the
//! zib2017 package (`../shared/corpus/stu3-zib2017-package/examples`, skipped without the corpus
//! unless `PGO_EXCHANGE_REQUIRE_CORPUS` is set) load for a provider offering 52 alone and are
//! found by their queries. Expected results were worked out by hand from the files.

use crate::queries::assert_qualifies;
use e2e::{TestApp, entry_ids};
use fhir_core::Release;
use ingest::LoadOptions;
use std::path::PathBuf;
use store::NewProvider;
use test_support::on_both_backends;

const PROVIDER: &str = "vitaal";
const LOTTE_BSN: &str = "999955019";
const KEES_BSN: &str = "999955032";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vitalsigns")
}

/// A provider offering `services`, holding the files under `dir` (every one accepted).
async fn provider_with(app: &TestApp, name: &str, services: &[&str], files: Vec<PathBuf>) {
    let new = NewProvider {
        name: name.into(),
        display_name: "Vitaal".into(),
        data_services: services.iter().map(|service| (*service).to_owned()).collect(),
    };
    let provider = app.context.store.create_provider(&new, None).await.expect("provider");
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 50 };
    let summary =
        app.context.ingestor.load(&app.context.store, &provider, &files, options, |_| {}).await.expect("loads");
    assert_eq!((summary.created, summary.rejected.len()), (files.len(), 0), "{summary:#?}");
}

async fn with_fixtures(app: &TestApp) {
    let files = ingest::collect_files(&[fixtures()]).expect("fixtures");
    assert_eq!(files.len(), 11, "the vital-signs fixtures");
    provider_with(app, PROVIDER, &["48", "52"], files).await;
}

/// The searches of the qualification (Serving-XIS 1.1 to 1.7) and `$lastn` over a category,
/// with what each returns for Lotte and for Kees.
const QUERIES: &[(&str, &[&str], &[&str])] = &[
    (
        "Observation?code=http://loinc.org|85354-9",
        &["Observation/vs-lotte-bp-2026-01", "Observation/vs-lotte-bp-2026-03"],
        &["Observation/vs-kees-bp-2026-02"],
    ),
    ("Observation/$lastn?code=http://loinc.org|29463-7", &["Observation/vs-lotte-weight-2026-03"], &[]),
    (
        "Observation?code=http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2",
        &["Observation/vs-lotte-glucose-2026-03"],
        &[],
    ),
    ("Observation?code=http://loinc.org|8867-4", &["Observation/vs-lotte-heartrate-2026-03"], &[]),
    (
        "Observation?code=http://loinc.org|85354-9&date=ge2026-01-01&date=le2026-01-31",
        &["Observation/vs-lotte-bp-2026-01"],
        &[],
    ),
    (
        "Observation?code=http://loinc.org|85354-9,http://loinc.org|29463-7,http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2,http://loinc.org|8867-4&date=ge2026-03-01&date=le2026-03-31",
        &[
            "Observation/vs-lotte-bp-2026-03",
            "Observation/vs-lotte-glucose-2026-03",
            "Observation/vs-lotte-heartrate-2026-03",
            "Observation/vs-lotte-weight-2026-03",
        ],
        &[],
    ),
    (
        // The glucose is a laboratory test finding by its profile, not in this category.
        "Observation?category=vital-signs",
        &[
            "Observation/vs-lotte-bp-2026-01",
            "Observation/vs-lotte-bp-2026-03",
            "Observation/vs-lotte-heartrate-2026-03",
            "Observation/vs-lotte-weight-2026-02",
            "Observation/vs-lotte-weight-2026-03",
        ],
        &["Observation/vs-kees-bp-2026-02"],
    ),
    (
        "Observation/$lastn?category=http://hl7.org/fhir/observation-category|vital-signs",
        &[
            "Observation/vs-lotte-bp-2026-03",
            "Observation/vs-lotte-heartrate-2026-03",
            "Observation/vs-lotte-weight-2026-03",
        ],
        &["Observation/vs-kees-bp-2026-02"],
    ),
];

on_both_backends!(every_vital_signs_query_answers_the_persons_own_measurements, |database| {
    let app = TestApp::start(database).await;
    with_fixtures(&app).await;
    let base = app.base(PROVIDER, "52");
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["52"]);
    let kees = app.token(PROVIDER, KEES_BSN, &["52"]);
    let mut lottes = Vec::new();
    for (query, for_lotte, _) in QUERIES {
        let bundle = app.get_json(&format!("{base}/{query}"), &lotte).await;
        assert_eq!(entry_ids(&bundle), *for_lotte, "Lotte: {query}");
        assert_qualifies(&bundle, &base, query);
        let text = bundle.to_string();
        assert!(!text.contains(LOTTE_BSN) && !text.contains(KEES_BSN), "a BSN in the answer to {query}");
        lottes.extend(for_lotte.iter().copied());
    }
    for (query, _, for_kees) in QUERIES {
        let bundle = app.get_json(&format!("{base}/{query}"), &kees).await;
        let found = entry_ids(&bundle);
        assert_eq!(found, *for_kees, "Kees: {query}");
        assert!(!found.iter().any(|id| lottes.contains(&id.as_str())), "Kees received Lotte's {found:?} from {query}");
        assert_qualifies(&bundle, &base, query);
    }
    assert_eq!(QUERIES.len(), 8, "the seven searches of the qualification and $lastn by category");
});

on_both_backends!(the_zal_and_metadata_present_52, |database| {
    let app = TestApp::start(database).await;
    with_fixtures(&app).await;
    let zal = app.client.get(format!("{}/medmij/zal.xml", app.address)).send().await.expect("sent");
    let zal = zal.text().await.expect("text");
    let entry = &zal[zal.find(&format!("<Zorgaanbiedernaam>{PROVIDER}@medmij</Zorgaanbiedernaam>")).expect("listed")..];
    let entry = &entry[..entry.find("</Zorgaanbieder>").unwrap_or(entry.len())];
    assert!(entry.contains("<GegevensdienstId>52</GegevensdienstId>"), "{entry}");
    assert!(entry.contains("<Systeemrolcode>MM-2.0-MVB-FHIR</Systeemrolcode>"), "{entry}");
    // Sharing is offered at the same endpoint, under its own system role.
    assert!(entry.contains("<Systeemrolcode>MM-2.0-MVO-FHIR</Systeemrolcode>"), "{entry}");
    assert_eq!(
        entry.matches(&format!("<ResourceEndpointuri>{}</ResourceEndpointuri>", app.base(PROVIDER, "52"))).count(),
        2
    );
    assert!(entry.contains(&format!("<ResourceEndpointuri>{}</ResourceEndpointuri>", app.base(PROVIDER, "52"))));
    let metadata = app.client.get(format!("{}/metadata", app.base(PROVIDER, "52"))).send().await.expect("sent");
    assert_eq!(metadata.status(), 200, "metadata needs no token");
    let statement: serde_json::Value = metadata.json().await.expect("json");
    assert_eq!(statement["fhirVersion"], "3.0.2");
    let types: Vec<&str> = statement["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|resource| resource["type"].as_str())
        .collect();
    assert_eq!(types, ["Observation", "Patient", "Practitioner"]);
    assert_eq!(statement["rest"][0]["operation"][0]["name"], "lastn");
    // Received: Observations by create, in a batch at the base.
    let observation = &statement["rest"][0]["resource"][0];
    let interactions: Vec<&str> =
        observation["interaction"].as_array().unwrap().iter().filter_map(|i| i["code"].as_str()).collect();
    assert_eq!(interactions, ["read", "search-type", "create"]);
    assert_eq!(statement["rest"][0]["interaction"][0]["code"], "batch");
    let xml = app.client.get(format!("{}/metadata?_format=xml", app.base(PROVIDER, "52"))).send().await.expect("sent");
    assert_eq!(xml.status(), 200);
    let xml = xml.text().await.expect("text");
    assert!(xml.contains("<interaction><code value=\"batch\"/>"), "{xml}");
    assert_eq!(
        statement["profile"].as_array().map(Vec::len),
        Some(11),
        "nine vital-sign profiles, patient, practitioner"
    );
});

on_both_backends!(what_is_not_a_vital_sign_is_not_served_under_52, |database| {
    let app = TestApp::start(database).await;
    with_fixtures(&app).await;
    let vital_signs = app.base(PROVIDER, "52");
    let bgz = app.base(PROVIDER, "48");
    let lotte = app.token(PROVIDER, LOTTE_BSN, &["48", "52"]);
    let lab = "Observation/vs-lotte-lab-glucose-2026-03";
    // The same code, the same person: under 52 only the self-measured glucose, under 48 only the
    // laboratory's.
    let query = "Observation?code=http://loinc.org|14743-9";
    let bundle = app.get_json(&format!("{vital_signs}/{query}"), &lotte).await;
    assert_eq!(entry_ids(&bundle), ["Observation/vs-lotte-glucose-2026-03"]);
    let bundle = app.get_json(&format!("{bgz}/{query}"), &lotte).await;
    assert_eq!(entry_ids(&bundle), [lab]);
    assert_eq!(app.get(&format!("{vital_signs}/{lab}"), &lotte).await.status(), 404);
    assert_eq!(app.get(&format!("{bgz}/{lab}"), &lotte).await.status(), 200);
    let everything = app.get_json(&format!("{vital_signs}/Observation"), &lotte).await;
    assert_eq!(everything["total"], 6, "every vital sign of Lotte's, not the laboratory glucose");
    assert!(!entry_ids(&everything).contains(&lab.to_owned()));
    // What the measurements refer to can be read: the person's own Patient and the practitioner
    // who measured; another person's Patient cannot, and Patients are not searched under 52.
    assert_eq!(app.get(&format!("{vital_signs}/Patient/vs-lotte"), &lotte).await.status(), 200);
    assert_eq!(app.get(&format!("{vital_signs}/Practitioner/vs-practitioner-smit"), &lotte).await.status(), 200);
    assert_eq!(app.get(&format!("{vital_signs}/Patient/vs-kees"), &lotte).await.status(), 404);
    assert_eq!(app.get(&format!("{vital_signs}/Patient"), &lotte).await.status(), 400);
});

fn published_examples() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/stu3-zib2017-package/examples");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("PGO_EXCHANGE_REQUIRE_CORPUS").is_some() {
        panic!("PGO_EXCHANGE_REQUIRE_CORPUS is set but {} does not exist", dir.display());
    }
    eprintln!("skipped: the published examples are not at {}", dir.display());
    None
}

on_both_backends!(published_vital_sign_examples_load_for_52_and_are_found, |database| {
    let Some(dir) = published_examples() else { return };
    let app = TestApp::start(database).await;
    let files = [
        "nl-core-patient-01.xml",
        "nl-core-patient-03.xml",
        "zib-BloodPressure-01.xml",
        "zib-BodyWeight-01.xml",
        "vitalsigns-bloodglucose-01.xml",
    ]
    .map(|file| dir.join(file));
    provider_with(&app, "gepubliceerd", &["52"], files.to_vec()).await;
    let base = app.base("gepubliceerd", "52");
    // nl-core-patient-01 (Johan XXX_Helleman) and nl-core-patient-03 (I. Jongeneel-de Haas).
    let johan = app.token("gepubliceerd", "999911120", &["52"]);
    let ingrid = app.token("gepubliceerd", "123456782", &["52"]);
    let glucose = "Observation?code=http://loinc.org|14760-3,http://loinc.org|14743-9,http://loinc.org|14770-2";
    let cases: [(&String, &str, &[&str]); 6] = [
        (&johan, "Observation?code=http://loinc.org|85354-9", &["Observation/zib-bloodpressure-01"]),
        (&johan, "Observation/$lastn?code=http://loinc.org|29463-7", &["Observation/zib-bodyweight-01"]),
        (&johan, glucose, &[]),
        (&ingrid, glucose, &["Observation/vitalsigns-bloodglucose-01"]),
        (&ingrid, "Observation?code=http://loinc.org|85354-9", &[]),
        (&ingrid, "Observation/$lastn?code=http://loinc.org|29463-7", &[]),
    ];
    for (token, query, expected) in cases {
        let bundle = app.get_json(&format!("{base}/{query}"), token).await;
        assert_eq!(entry_ids(&bundle), expected, "{query}");
    }
});
