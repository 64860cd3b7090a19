//! `pgo-conformance`: the command line over the library (see `cli.rs`).

use clap::Parser;
use pgo_conformance::cli::{Cli, Command, ValidateArgs, write_reports};
use pgo_conformance::http::Http;
use pgo_conformance::mask::Masker;
use pgo_conformance::report::console::{Console, summary};
use pgo_conformance::scenario::{Progress, Quiet};
use pgo_conformance::validate;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Validate(args) = &cli.command {
        return validate(args);
    }
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("pgo-conformance: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; whether everything passed.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let (report, reports) = match cli.command {
        Command::Run(args) => {
            let progress: Box<dyn Progress> =
                if args.reports.quiet { Box::new(Quiet) } else { Box::new(Console::stderr()) };
            let report = pgo_conformance::run_suite(args.config()?, progress.as_ref()).await?;
            (report, args.reports.clone())
        }
        Command::Testscript(args) => {
            let progress: Box<dyn Progress> =
                if args.reports.quiet { Box::new(Quiet) } else { Box::new(Console::stderr()) };
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(args.timeout.max(1)))
                .build()?;
            let http = Http::new(client, Masker::default());
            let target = args.target()?;
            let load_target = args.load_target()?;
            let load = args.load.as_deref().zip(load_target.as_ref());
            let report =
                pgo_conformance::testscript::run_with_load(&args.dir, &target, load, &http, progress.as_ref()).await?;
            // What the packages gave the profile validations, and how much they left out.
            if !args.packages.is_empty() {
                for line in target.profiles.loaded() {
                    eprintln!("{line}");
                }
            }
            (report, args.reports.clone())
        }
        // Answered before `run` (its exit status has three values).
        Command::Validate(_) => anyhow::bail!("validate is not a run"),
    };
    println!("{}", summary(&report));
    write_reports(&report, &reports)?;
    Ok(report.all_passed())
}

/// `validate`: its status is the exit status (0 valid, 1 an error finding, 2 unusable input).
fn validate(args: &ValidateArgs) -> ExitCode {
    match args.request() {
        Ok(request) => {
            let status = validate::run(&request, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            ExitCode::from(status.code())
        }
        Err(error) => {
            eprintln!("pgo-conformance: {error:#}");
            ExitCode::from(2)
        }
    }
}
