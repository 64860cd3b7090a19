//! `pgo-exchange validate`: check FHIR files against the profiles they claim (or those given),
//! with the packages the settings name (and any given), without loading them anywhere.

use clap::Args;
use fhir_core::Release;
use profile_validator::{Severity, Validators};
use settings::Overrides;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The FHIR release of the files (stu3 or r4); default: the release whose loaded profiles a
    /// file claims, else STU3.
    #[arg(long, value_name = "RELEASE")]
    fhir_version: Option<Release>,
    /// A package folder to validate against, besides those of the settings (repeatable; it is
    /// used for the release given, or for both).
    #[arg(long = "package", value_name = "DIR")]
    packages: Vec<PathBuf>,
    /// Validate against this profile instead of those each file claims (repeatable).
    #[arg(long = "profile", value_name = "URL")]
    profiles: Vec<String>,
    /// Also list the rules that could not be checked, and why.
    #[arg(long)]
    verbose: bool,
    /// Files and folders (folders are walked; .json and .xml files are read).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Exit status 0 when every file conforms, 1 when any breaks a rule, 2 when any cannot be read.
pub(crate) fn run(config: Option<&Path>, overrides: Overrides, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let packages = &settings.validation.packages;
    let extra = |release: Release| {
        if args.fhir_version.is_none_or(|given| given == release) { args.packages.clone() } else { Vec::new() }
    };
    let stu3: Vec<PathBuf> = packages.stu3.iter().cloned().chain(extra(Release::Stu3)).collect();
    let r4: Vec<PathBuf> = packages.r4.iter().cloned().chain(extra(Release::R4)).collect();
    let validators = Validators::load(&stu3, &r4)?;
    for release in Release::ALL {
        let validator = validators.of(release);
        eprintln!(
            "{release}: {} profiles loaded, {} definitions not used{}",
            validator.profile_count(),
            validator.problems().len(),
            if args.verbose || validator.problems().is_empty() { "" } else { " (--verbose lists them)" }
        );
        if args.verbose {
            for problem in validator.problems() {
                eprintln!("  {problem}");
            }
        }
    }
    let files = ingest::collect_files(&args.paths)?;
    let files: Vec<PathBuf> =
        files.into_iter().filter(|file| file.extension().is_some_and(|ext| ext == "json" || ext == "xml")).collect();
    let (mut invalid, mut unreadable) = (0, 0);
    for file in &files {
        let outcome = validators.validate_file(file, args.fhir_version, &args.profiles);
        let name = file.display();
        for note in &outcome.notes {
            println!("{name}: warning: an XML element out of order, read all the same: {note}");
        }
        match outcome.outcome {
            Err(reason) => {
                unreadable += 1;
                println!("{name}: {reason}");
            }
            Ok((release, report)) => {
                for finding in &report.findings {
                    println!("{name}: {finding}");
                }
                for profile in &report.unknown_profiles {
                    println!("{name}: claims {profile}, which is not loaded");
                }
                if args.verbose {
                    for line in &report.not_checked {
                        println!("{name}: not checked: {line}");
                    }
                }
                let errors = report.errors().count();
                let warnings = report.findings.iter().filter(|f| f.severity == Severity::Warning).count();
                if errors > 0 {
                    invalid += 1;
                }
                let verdict = if errors == 0 { "valid" } else { "INVALID" };
                println!("{name}: {verdict} ({release}; {errors} errors, {warnings} warnings)");
            }
        }
    }
    println!(
        "{} files: {} valid, {invalid} invalid, {unreadable} unreadable",
        files.len(),
        files.len() - invalid - unreadable
    );
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
