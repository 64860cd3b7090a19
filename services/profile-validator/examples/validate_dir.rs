//! Validates every FHIR XML or JSON file of a folder against the profiles it claims, with the
//! packages given, and prints each finding: `cargo run -p profile-validator --example
//! validate_dir -- stu3 EXAMPLES PACKAGE...`.

use fhir_core::Release;
use profile_validator::Validator;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let release: Release = args.next().ok_or("release")?.parse().map_err(|_| "release")?;
    let examples = args.next().ok_or("examples folder")?;
    let packages: Vec<String> = args.collect();
    let started = Instant::now();
    let validator = Validator::load(release, &packages)?;
    println!("loaded {} profiles in {:?}", validator.profile_count(), started.elapsed());
    for problem in validator.problems() {
        println!("problem: {problem}");
    }
    let mut files: Vec<_> = std::fs::read_dir(&examples)?.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut not_checked = std::collections::BTreeSet::new();
    let started = Instant::now();
    let mut count = 0;
    for file in files {
        let bytes = std::fs::read(&file)?;
        let resource = if file.extension().is_some_and(|e| e == "xml") {
            match fhir_xml::from_xml(release, &bytes, fhir_xml::ReadLimits::default()) {
                Ok(resource) => resource,
                Err(error) => {
                    println!("{}: unreadable: {error}", file.display());
                    continue;
                }
            }
        } else {
            serde_json::from_slice(&bytes)?
        };
        count += 1;
        let report = validator.validate_claimed(&resource);
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        for finding in &report.findings {
            println!("{name}: {finding}");
        }
        for unknown in &report.unknown_profiles {
            println!("{name}: unknown profile {unknown}");
        }
        not_checked.extend(report.not_checked);
    }
    println!("validated {count} in {:?}", started.elapsed());
    for line in not_checked {
        println!("not checked: {line}");
    }
    Ok(())
}
