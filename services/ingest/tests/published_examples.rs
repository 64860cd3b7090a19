//! The published examples (`../shared/corpus/`: the Nictiz STU3 zib2017 package's examples and
//! the R4 Vaccination-Immunization package's; present in CI and required there through
//! `PGO_EXCHANGE_REQUIRE_CORPUS`), loaded as `pgo-exchange load` loads them for a provider that
//! offers data services 48 and 63: a refused example is one no served data service covers (its
//! type or its profile), named with that reason, or one whose XML breaks the FHIR rules and whose
//! type no data service serves either. Anything else refused is a fault of the service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use data_services::Catalog;
use fhir_core::Release;
use ingest::{Ingestor, LoadOptions, UnknownElements};
use std::path::PathBuf;
use std::sync::Arc;
use store::{NewProvider, Store};
use test_support::corpus;
use test_support::on_both_backends;

/// Whether `reason` says that no served data service covers the resource.
fn not_covered(reason: &str) -> bool {
    reason.contains("is not served by any FHIR") || reason.contains("meta.profile must claim one of")
}

/// The type of the resource an XML file holds (its root element), for a file that did not read.
fn root_type(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let start = text.find('<').map(|at| &text[at..])?;
    let root = start.split("?>").last()?.trim_start().strip_prefix('<')?;
    Some(root.split([' ', '>', '\n']).next()?.to_owned())
}

on_both_backends!(published_examples_are_refused_only_where_no_served_data_service_covers_them, |database| {
    let Some(stu3) = corpus("stu3-zib2017-package/examples") else { return };
    let Some(r4) = corpus("r4-immunization-package/package/examples") else { return };
    let store = Store::connect(&database.url, 4).await.expect("connects");
    store.migrate().await.expect("migrates");
    let new = NewProvider {
        name: "published".into(),
        display_name: "P".into(),
        data_services: vec!["48".into(), "63".into()],
    };
    let provider = store.create_provider(&new, None).await.expect("provider");
    let secret = identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([3_u8; 32]))
        .expect("secret");
    let catalog = Arc::new(Catalog::embedded().expect("definitions"));
    let ingestor =
        Ingestor::new(catalog.clone(), Arc::new(secret), chrono_tz::Europe::Amsterdam, UnknownElements::Warn);
    let served_types: Vec<String> = catalog
        .data_services()
        .flat_map(|service| service.types.iter().map(|served| served.resource_type.clone()))
        .collect();
    for (release, dir) in [(Release::Stu3, stu3), (Release::R4, r4)] {
        let files = ingest::collect_files(&[dir]).expect("files");
        let options = LoadOptions { release: Some(release), batch_size: 100 };
        let summary = ingestor.load(&store, &provider, &files, options, |_| {}).await.expect("loads");
        eprintln!(
            "{release}: {} files, {} loaded, {} refused",
            summary.files,
            summary.loaded(),
            summary.rejected.len()
        );
        assert!(summary.loaded() > 0, "{release}: nothing loaded");
        for rejected in &summary.rejected {
            let unreadable_of_an_unserved_type = rejected.resource == "(file)"
                && root_type(&rejected.file).is_some_and(|kind| !served_types.contains(&kind));
            assert!(
                unreadable_of_an_unserved_type || rejected.reasons.iter().all(|reason| not_covered(reason)),
                "{release}: {} ({}) refused for another reason: {:?}",
                rejected.resource,
                rejected.file,
                rejected.reasons
            );
        }
    }
});

on_both_backends!(
    the_published_documents_load_and_their_binaries_open_only_through_the_persons_references,
    |database| {
        let Some(examples) = corpus("stu3-zib2017-package/examples") else { return };
        let store = Store::connect(&database.url, 4).await.expect("connects");
        store.migrate().await.expect("migrates");
        let new = NewProvider { name: "documents".into(), display_name: "D".into(), data_services: vec!["51".into()] };
        let provider = store.create_provider(&new, None).await.expect("provider");
        let secret =
            identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([5_u8; 32]))
                .expect("secret");
        let catalog = Arc::new(Catalog::embedded().expect("definitions"));
        let ingestor =
            Ingestor::new(catalog.clone(), Arc::new(secret), chrono_tz::Europe::Amsterdam, UnknownElements::Warn);
        let names = [
            "nl-core-patient-02.xml",
            "pdfa-Binary-01.xml",
            "pdfa-Binary-02.xml",
            "pdfa-DocumentReference-01.xml",
            "pdfa-DocumentReference-02.xml",
            "pdfa-DocumentManifest-01.xml",
        ];
        let files: Vec<PathBuf> = names.iter().map(|name| examples.join(name)).collect();
        let options = LoadOptions { release: None, batch_size: 10 };
        let summary = ingestor.load(&store, &provider, &files, options, |_| {}).await.expect("loads");
        assert!(summary.rejected.is_empty(), "{:#?}", summary.rejected);
        assert_eq!(summary.loaded(), names.len());
        // The published DocumentReference and DocumentManifest write `masterIdentifier` after
        // `identifier`: read all the same, and said.
        assert!(
            summary.warnings.iter().any(|warning| warning.contains("'masterIdentifier' must come before")),
            "{:?}",
            summary.warnings
        );

        let service = catalog.data_service("51").expect("51");
        let release = catalog.release(Release::Stu3).expect("stu3");
        let visibility = store::Visibility::of(service, release);
        let read = |patients: Vec<String>, resource_type: &'static str, id: &'static str| {
            let (store, visibility, provider) = (&store, &visibility, provider.id);
            async move {
                let scope = store::PatientScope::Patients(patients);
                store
                    .read_for_patient(provider, Release::Stu3, &scope, visibility, resource_type, id)
                    .await
                    .expect("read")
            }
        };
        let owner = vec!["nl-core-patient-02".to_owned()];
        let binary = read(owner.clone(), "Binary", "pdfa-binary-01").await.expect("the person's document");
        assert!(binary.body.contains("application/pdf"));
        assert!(read(owner, "DocumentReference", "pdfa-documentreference-02").await.is_some());
        assert!(read(vec!["someone-else".to_owned()], "Binary", "pdfa-binary-01").await.is_none());
    }
);
