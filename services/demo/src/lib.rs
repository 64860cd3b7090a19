//! The demo: a provider with the project's own, fictional records (BgZ in STU3, vaccinations in
//! R4) for two patients, seeded through the same checks as any provider's data, and a banner that
//! tells a newcomer how to try it. Also the fixtures of the project's tests.

use access_token::{Grant, TokenIssuer};
use anyhow::{Context as _, bail};
use fhir_core::{BSN_SYSTEM, Release};
use identity::DeploymentSecret;
use ingest::Ingestor;
use serde_json::Value;
use std::fmt::Write as _;
use store::{NewProvider, Provider, Store, Write};

pub mod pgo_client;
mod pgo_page;

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

/// What each demo query returns per patient (`fixtures/expected.json`): the BgZ query list for
/// STU3 and the Vaccinaties queries for R4.
const EXPECTED: &str = include_str!("../fixtures/expected.json");

/// The queries of the data service of `release`, as in `fixtures/expected.json`, in its order.
pub fn queries(release: Release) -> Vec<String> {
    let expected: Value = serde_json::from_str(EXPECTED).unwrap_or(Value::Null);
    let key = match release {
        Release::Stu3 => "stu3",
        Release::R4 => "r4",
    };
    expected[key].as_object().map(|queries| queries.keys().cloned().collect()).unwrap_or_default()
}

/// The demo's MedMij lists (XML): an OAuth Client List with the demo PGO, allowed every data
/// service of `catalog`, and the data-service name list of `catalog`. Volgnummer 1, so that any
/// real list imported later replaces them.
pub fn lists(catalog: &data_services::Catalog) -> Vec<String> {
    use medmij_lists::{
        DataServiceName, DataServiceNameList, ListHeader, ListShape, OAuthClient, OAuthClientList,
        write_data_service_name_list, write_oauth_client_list,
    };
    let header = ListHeader { tijdstempel: "2026-01-01T00:00:00Z".to_owned(), volgnummer: 1 };
    let ids: Vec<String> = catalog.data_services().map(|service| service.id.clone()).collect();
    let clients = OAuthClientList {
        header: header.clone(),
        clients: vec![OAuthClient {
            hostname: pgo_client::HOSTNAME.to_owned(),
            organisation_name: pgo_client::ORGANISATION.to_owned(),
            data_services: Some(ids),
        }],
    };
    let names = DataServiceNameList {
        header,
        names: catalog
            .data_services()
            .map(|service| DataServiceName { id: service.id.clone(), name: service.name.clone() })
            .collect(),
    };
    vec![write_oauth_client_list(&clients, ListShape::Newer), write_data_service_name_list(&names)]
}

/// The demo's display name.
pub const DISPLAY_NAME: &str = "Demo Ziekenhuis";

/// The demo resources of `release`: (file name, JSON text).
pub fn fixtures(release: Release) -> &'static [(&'static str, &'static str)] {
    match release {
        Release::Stu3 => STU3,
        Release::R4 => R4,
    }
}

/// A demo patient: who, and under which BSN the demo knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPatient {
    /// The name, as in the Patient resource.
    pub name: String,
    /// The BSN (fictional, passing the 11-test).
    pub bsn: String,
}

/// The patients of the STU3 demo records.
pub fn patients() -> Vec<DemoPatient> {
    fixtures(Release::Stu3)
        .iter()
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .filter(|resource| resource["resourceType"] == "Patient")
        .filter_map(|patient| {
            let bsn = patient["identifier"]
                .as_array()?
                .iter()
                .find(|identifier| identifier["system"] == BSN_SYSTEM)?["value"]
                .as_str()?
                .to_owned();
            let name = &patient["name"][0];
            let given: Vec<&str> = name["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let family = name["family"].as_str().unwrap_or_default();
            Some(DemoPatient { name: format!("{} {family}", given.join(" ")).trim().to_owned(), bsn })
        })
        .collect()
}

/// The seeded demo.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The provider.
    pub provider: Provider,
    /// Its ingest key (derived from the deployment secret, so the same on every start).
    pub ingest_key: String,
    /// Resources written or found unchanged.
    pub resources: usize,
    /// The demo patients with their person keys at the demo provider.
    pub patients: Vec<(DemoPatient, String)>,
    /// The demo patients' pseudonyms, in the same order.
    pub pseudonyms: Vec<String>,
}

/// Creates (or updates) the demo provider `name` and loads the demo records for it.
pub async fn seed(store: &Store, ingestor: &Ingestor, secret: &DeploymentSecret, name: &str) -> anyhow::Result<Demo> {
    let ingest_key = secret.derive(&format!("demo ingest key for {name}"));
    let new = NewProvider {
        name: name.to_owned(),
        display_name: DISPLAY_NAME.to_owned(),
        data_services: vec!["48".into(), "63".into()],
    };
    store::check_name(name).map_err(anyhow::Error::msg)?;
    let provider = store.upsert_provider(&new, Some(&store::ingest_key_hash(&ingest_key))).await?;
    let mut resources = 0;
    for release in Release::ALL {
        let mut writes = Vec::new();
        for (file, text) in fixtures(release) {
            let resource: Value = serde_json::from_str(text).with_context(|| format!("demo fixture {file}"))?;
            match ingestor.prepare_by_id(&provider, release, resource, None) {
                Ok(prepared) => writes.push(Write::Put(Box::new(prepared.write))),
                Err(rejection) => bail!("demo fixture {file} is refused: {}", rejection.summary()),
            }
        }
        resources += store.write(provider.id, writes).await?.len();
    }
    store.analyze(store::Filled::Resources).await?;
    let pseudonyms = patients().iter().map(|patient| secret.pseudonym(&patient.bsn)).collect();
    let patients = patients().into_iter().map(|patient| {
        let key = secret.person_key(&provider.name, &patient.bsn);
        (patient, key)
    });
    Ok(Demo { patients: patients.collect(), pseudonyms, provider, ingest_key, resources })
}

/// What to print after seeding: the endpoints, a token for the first demo patient, and how to
/// get more.
pub fn banner(demo: &Demo, base: &str, issuer: &TokenIssuer) -> anyhow::Result<String> {
    let name = &demo.provider.name;
    let mut text = String::new();
    writeln!(
        text,
        "\nDemo provider {} ({}) is ready with {} resources.",
        demo.provider.medmij_name(),
        DISPLAY_NAME,
        demo.resources
    )?;
    writeln!(text, "  BgZ (48, FHIR STU3):         {base}/{name}/48/fhir")?;
    writeln!(text, "  Vaccinaties (63, FHIR R4):   {base}/{name}/63/fhir")?;
    writeln!(text, "  Provider list (ZAL):         {base}/medmij/zal.xml")?;
    writeln!(text, "\nThe whole MedMij flow in a browser (demo PGO, DigiD simulator, consent):")?;
    writeln!(
        text,
        "  {base}{}   (log in with BSN {})",
        pgo_client::PATH,
        patients().first().map(|p| p.bsn.as_str()).unwrap_or("")
    )?;
    writeln!(text, "  Your consents:               {base}/oauth/consents")?;
    if let Some((patient, person_key)) = demo.patients.first() {
        let scope = format!("{name}~48 {name}~63");
        let grant = Grant {
            person_key: person_key.clone(),
            pseudonym: demo.pseudonyms.first().cloned().unwrap_or_default(),
            client_id: "demo-pgo.localhost".into(),
            provider: name.clone(),
            scope: scope.parse()?,
            audience: vec![format!("{base}/{name}/48/fhir"), format!("{base}/{name}/63/fhir")],
            consent: None,
        };
        let token = issuer.issue(&grant)?;
        writeln!(
            text,
            "\nAn access token for {} (BSN {}), valid {} minutes:",
            patient.name,
            patient.bsn,
            token.expires_in / 60
        )?;
        writeln!(text, "  export TOKEN={}", token.token)?;
        writeln!(text, "Try:")?;
        writeln!(
            text,
            "  curl -H \"Authorization: Bearer $TOKEN\" '{base}/{name}/48/fhir/Patient?_include=Patient:general-practitioner'"
        )?;
        writeln!(
            text,
            "  curl -H \"Authorization: Bearer $TOKEN\" '{base}/{name}/48/fhir/Observation/$lastn?code=http://loinc.org|85354-9'"
        )?;
        writeln!(
            text,
            "  curl -H \"Authorization: Bearer $TOKEN\" '{base}/{name}/63/fhir/Immunization?status=completed'"
        )?;
        writeln!(text, "A fresh token later:")?;
        writeln!(
            text,
            "  cargo run -- token --provider {name} --client demo-pgo.localhost --scope \"{scope}\" --bsn {}",
            patient.bsn
        )?;
    }
    for (patient, _) in demo.patients.iter().skip(1) {
        writeln!(text, "Another demo patient: {} (BSN {}).", patient.name, patient.bsn)?;
    }
    writeln!(text, "\nThe demo provider's ingest key: {}", demo.ingest_key)?;
    writeln!(text, "  (PUT/POST FHIR JSON to {base}/ingest/{name}/stu3/... with 'Authorization: Bearer <key>')")?;
    Ok(text)
}
