//! The published value sets (`../shared/corpus/`: the Nictiz STU3 zib2017 package's
//! `profiles/Valuesets`, the R4 nl-core (zib2020) folder and the R4 Vaccination-Immunization
//! package; present in CI and required there through `PGO_EXCHANGE_REQUIRE_CORPUS`), read from
//! FHIR XML and added to a `Terminology`: every one must be accepted, and a few codes taken from
//! the files must check as they are listed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_core::Release;
use profile_validator::{Membership, Terminology};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use test_support::corpus;

/// The XML files under `dir` (subfolders included) whose root element is a ValueSet or a
/// CodeSystem, in a stable order.
fn terminology_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
        .filter(|path| matches!(root_element(path).as_deref(), Some("ValueSet" | "CodeSystem")))
        .collect();
    files.sort();
    files
}

/// The name of the root element of an XML file (after the declaration and comments).
fn root_element(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut rest = text.as_str();
    loop {
        rest = &rest[rest.find('<')?..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[1..];
            continue;
        }
        return rest[1..].split([' ', '>', '\n', '\r', '\t', '/']).next().map(str::to_owned);
    }
}

/// What was read from one release's folders.
struct Loaded {
    terminology: Terminology,
    value_sets: usize,
    code_systems: usize,
    refused: Vec<String>,
}

/// Reads and adds every ValueSet and CodeSystem of `dirs`, then expands them all, timing the
/// adding and expanding apart from reading the XML.
fn load(release: Release, dirs: &[PathBuf]) -> Loaded {
    let mut loaded =
        Loaded { terminology: Terminology::default(), value_sets: 0, code_systems: 0, refused: Vec::new() };
    let (mut reading, mut adding) = (Duration::ZERO, Duration::ZERO);
    for file in dirs.iter().flat_map(|dir| terminology_files(dir)) {
        let started = Instant::now();
        let read = fhir_xml::from_xml(release, &std::fs::read(&file).unwrap(), fhir_xml::ReadLimits::default());
        reading += started.elapsed();
        let resource = match read {
            Ok(resource) => resource,
            Err(error) => {
                loaded.refused.push(format!("{}: not readable: {error}", file.display()));
                continue;
            }
        };
        match resource["resourceType"].as_str() {
            Some("ValueSet") => loaded.value_sets += 1,
            Some("CodeSystem") => loaded.code_systems += 1,
            _ => {}
        }
        let started = Instant::now();
        if let Err(reason) = loaded.terminology.add(&resource) {
            loaded.refused.push(format!("{}: {reason}", file.display()));
        }
        adding += started.elapsed();
    }
    let started = Instant::now();
    loaded.terminology.expand_all();
    let expanding = started.elapsed();
    eprintln!(
        "{release}: {} value sets and {} code systems read ({} distinct URLs, {} refused); XML read in {reading:?}, \
         added in {adding:?}, all expanded in {expanding:?} (adding + expanding {:?})",
        loaded.value_sets,
        loaded.code_systems,
        loaded.terminology.value_set_count() + loaded.terminology.code_system_count(),
        loaded.refused.len(),
        adding + expanding
    );
    loaded
}

#[test]
fn published_value_sets_are_accepted_and_their_codes_check() {
    let Some(stu3) = corpus("stu3-zib2017-package/profiles/Valuesets") else { return };
    let Some(nl_core) = corpus("r4-zib2020/nl-core") else { return };
    let Some(immunization) = corpus("r4-immunization-package/package") else { return };

    let stu3 = load(Release::Stu3, &[stu3]);
    let r4 = load(Release::R4, &[nl_core, immunization]);

    assert_eq!(stu3.refused, Vec::<String>::new(), "STU3 value sets refused");
    assert_eq!(r4.refused, Vec::<String>::new(), "R4 value sets refused");
    assert!(stu3.value_sets >= 250, "only {} STU3 value sets read", stu3.value_sets);
    assert!(r4.value_sets >= 9, "only {} R4 value sets read", r4.value_sets);
    check_stu3_codes(&stu3.terminology);
    check_r4_codes(&r4.terminology);
}

const SNOMED: &str = "http://snomed.info/sct";
const NULL_FLAVOR_STU3: &str = "http://hl7.org/fhir/v3/NullFlavor";

/// Codes listed in the zib2017 value sets, and codes they do not list.
fn check_stu3_codes(terminology: &Terminology) {
    // ActiviteitCodelijst (zib FLACC pain scale): Act0..Act2 of its own code system.
    let activiteit = "http://decor.nictiz.nl/fhir/ValueSet/2.16.840.1.113883.2.4.3.11.60.40.2.12.13.3--20171231000000";
    let flacc = "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.21.3";
    assert_eq!(terminology.check(activiteit, Some(flacc), "Act0"), Membership::In);
    assert_eq!(terminology.check(activiteit, Some(flacc), "Act2"), Membership::In);
    assert_eq!(terminology.check(activiteit, None, "Act1"), Membership::In);
    assert_eq!(terminology.check(activiteit, Some(flacc), "Act9"), Membership::NotIn);
    assert_eq!(terminology.check(activiteit, Some(SNOMED), "Act0"), Membership::NotIn);
    assert_eq!(check_named(terminology, "AlcoholGebruikStatusCodelijst", Some(SNOMED), "228274009"), Membership::In);
    assert_eq!(
        check_named(terminology, "AlcoholGebruikStatusCodelijst", Some(NULL_FLAVOR_STU3), "OTH"),
        Membership::In
    );
}

/// Codes listed in the nl-core and immunization value sets, a SNOMED CT filter, and a value set
/// that imports zib2020 value sets the corpus does not hold.
fn check_r4_codes(terminology: &Terminology) {
    let reason = "http://decor.nictiz.nl/fhir/ValueSet/2.16.840.1.113883.2.4.3.11.60.131.11.2--20220301153357";
    assert_eq!(terminology.check(reason, Some(SNOMED), "33879002"), Membership::In);
    assert_eq!(terminology.check(reason, Some(SNOMED), "159741000146107"), Membership::In);
    assert_eq!(terminology.check(reason, Some(SNOMED), "22298006"), Membership::NotIn);
    let container = "http://decor.nictiz.nl/fhir/ValueSet/2.16.840.1.113883.2.4.3.11.60.40.2.13.1.9--20220610000000";
    assert!(terminology.knows(&format!("{container}|2022")));
    let filtered = terminology.check(container, Some(SNOMED), "706053007");
    assert!(
        matches!(&filtered, Membership::Unknown(why) if why.contains("by a filter (concept descendent-of 434711009)")),
        "{filtered:?}"
    );
    assert_eq!(terminology.check(container, Some("http://loinc.org"), "1-8"), Membership::NotIn);
    let vaccine = "http://decor.nictiz.nl/fhir/ValueSet/2.16.840.1.113883.2.4.3.11.60.131.11.7--20240507084413";
    let imported = terminology.check(vaccine, Some("urn:oid:2.16.840.1.113883.2.4.4.10"), "12345");
    assert!(
        matches!(&imported, Membership::Unknown(why) if why.contains("2.16.840.1.113883.2.4.3.11.60.40.2.9.7.1--20200901000000, which is not known")),
        "{imported:?}"
    );
}

/// Checks a code against the value set of this `name` (the one STU3 value set that has it).
fn check_named(terminology: &Terminology, name: &str, system: Option<&str>, code: &str) -> Membership {
    let dir = corpus("stu3-zib2017-package/profiles/Valuesets").unwrap();
    let file = terminology_files(&dir)
        .into_iter()
        .find(|file| file.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}-")))
        .unwrap();
    let id = file.file_stem().unwrap().to_string_lossy().trim_start_matches(&format!("{name}-")).to_owned();
    terminology.check(&format!("http://decor.nictiz.nl/fhir/ValueSet/{id}"), system, code)
}
