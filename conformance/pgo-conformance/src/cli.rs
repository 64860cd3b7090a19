//! The command line: `pgo-conformance run` (the suite against a target) and `pgo-conformance
//! testscript DIR` (published TestScripts against a FHIR base), both writing the same reports,
//! and `pgo-conformance validate FILE...` (FHIR resources in files against profiles).

use crate::config::{Auditor, Config, ForbiddenScope, LoginForm, Persons, PgoClient, TargetSpec};
use crate::outcome::RunReport;
use clap::{Args, Parser, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Checks a MedMij-style provider-side exchange service (a DVA) against the rules, as a PGO meets it.
#[derive(Debug, Parser)]
#[command(name = "pgo-conformance", version)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the conformance suite against a target.
    Run(Box<RunArgs>),
    /// Runs the FHIR TestScripts (STU3 or R4, XML or JSON) found in DIR against a FHIR base.
    Testscript(Box<TestscriptArgs>),
    /// Validates FHIR resources in files (JSON or XML) against the base definitions and profiles;
    /// exits 0 when every file is valid, 1 when one has an error, 2 when one cannot be read.
    Validate(Box<ValidateArgs>),
}

/// Where the reports go.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// No progress bar (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The ZAL: an http(s) URL or a file.
    #[arg(long, conflicts_with_all = ["authorize", "token"])]
    pub zal: Option<String>,
    /// The provider to test (its ZAL name, with or without @medmij).
    #[arg(long)]
    pub provider: String,
    /// Without a ZAL: the authorization endpoint.
    #[arg(long, requires = "token")]
    pub authorize: Option<String>,
    /// Without a ZAL: the token endpoint.
    #[arg(long, requires = "authorize")]
    pub token: Option<String>,
    /// Without a ZAL: a data service's FHIR base, as ID=URL (repeatable).
    #[arg(long = "base", value_parser = pair)]
    pub bases: Vec<(String, String)>,
    /// The data services to test (repeatable).
    #[arg(long = "data-service", required = true)]
    pub data_services: Vec<String>,
    /// A second provider of the same target, for cross-provider isolation.
    #[arg(long)]
    pub other_provider: Option<String>,
    /// The PGO the suite acts as (on the target's OAuth Client List).
    #[arg(long)]
    pub client_id: String,
    /// Its redirect URI.
    #[arg(long)]
    pub redirect_uri: String,
    /// A second PGO on the list (for a code presented by another client).
    #[arg(long)]
    pub other_client_id: Option<String>,
    /// A client on the list that may not use --forbidden-data-service (for the scope check).
    #[arg(long, requires = "forbidden_data_service")]
    pub forbidden_client: Option<String>,
    /// That client's redirect URI (default: --redirect-uri).
    #[arg(long)]
    pub forbidden_client_redirect_uri: Option<String>,
    /// A data service of the provider that --forbidden-client may not use.
    #[arg(long, requires = "forbidden_client")]
    pub forbidden_data_service: Option<String>,
    /// PEM with the client certificate and key (mutual TLS at the token endpoint).
    #[arg(long)]
    pub client_cert: Option<PathBuf>,
    /// PEM with the second client's certificate and key.
    #[arg(long)]
    pub other_client_cert: Option<PathBuf>,
    /// PEM with CA certificates to trust for the target.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Patient A's BSN: the suite logs in itself through the login pages.
    #[arg(long, requires = "patient_b", conflicts_with_all = ["token_a", "token_b"])]
    pub patient_a: Option<String>,
    /// Patient B's BSN (another patient at the provider).
    #[arg(long, requires = "patient_a")]
    pub patient_b: Option<String>,
    /// A login-page answer NAME=VALUE ({bsn} and {loa} are filled in); replaces the DigiD
    /// simulator's defaults when given (repeatable).
    #[arg(long = "login-field", value_parser = pair)]
    pub login_fields: Vec<(String, String)>,
    /// Pre-issued token of patient A for a data service, as ID=TOKEN (repeatable).
    #[arg(long = "token-a", value_parser = pair)]
    pub token_a: Vec<(String, String)>,
    /// Pre-issued token of patient B, as ID=TOKEN (repeatable).
    #[arg(long = "token-b", value_parser = pair)]
    pub token_b: Vec<(String, String)>,
    /// An auditor's client id (for the metering scenario).
    #[arg(long, requires_all = ["auditor_secret", "usage_url"])]
    pub auditor_id: Option<String>,
    /// The auditor's secret.
    #[arg(long, env = "PGO_CONFORMANCE_AUDITOR_SECRET", hide_env_values = true)]
    pub auditor_secret: Option<String>,
    /// The usage-report endpoint.
    #[arg(long)]
    pub usage_url: Option<String>,
    /// The access-log endpoint.
    #[arg(long)]
    pub access_log_url: Option<String>,
    /// Let the share scenarios (Delen) POST Bundles to the target: they store the test person's
    /// measurements and a document in the provider's records. Without it they are not run.
    #[arg(long)]
    pub allow_writes: bool,
    /// The largest Bundle (bytes) the target takes from a PGO sharing data; the oversized-share
    /// scenario sends just over it (not run without it).
    #[arg(long)]
    pub share_body_limit: Option<u64>,
    /// How long the target's authorization codes live (s).
    #[arg(long, default_value_t = 60)]
    pub code_lifetime: u64,
    /// Time allowed for one answer (s).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Only scenarios whose id starts with PREFIX (repeatable), e.g. `token.` or `retrieval.48.q4`.
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// Reports.
    #[command(flatten)]
    pub reports: ReportArgs,
}

/// `testscript`.
#[derive(Debug, Args)]
pub struct TestscriptArgs {
    /// The folder of TestScripts (searched recursively) and their fixtures.
    pub dir: PathBuf,
    /// The FHIR base to run them against.
    #[arg(long)]
    pub base: String,
    /// A bearer token to send; it also replaces the tokens scripts name (see --token-map).
    #[arg(long, env = "PGO_CONFORMANCE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// An extra request header NAME=VALUE (repeatable).
    #[arg(long = "header", value_parser = pair)]
    pub headers: Vec<(String, String)>,
    /// A token a script sends (its Authorization without `Bearer `) and the token to send
    /// instead, as SCRIPT=TARGET (repeatable); a script's other tokens are replaced by --token.
    #[arg(long = "token-map", value_parser = pair)]
    pub token_map: Vec<(String, String)>,
    /// Let the TestScripts of DIR write to --base: their create, update/updateCreate,
    /// batch/transaction and delete operations are sent to the target with its token (as reads
    /// are), as the qualification scripts for receiving systems need. Without it those
    /// operations are reported not run. It changes data on the target. A purge is never sent to
    /// the target (only load scripts make it).
    #[arg(long)]
    pub allow_writes: bool,
    /// A folder of load scripts (TestScripts that write the test data, with their fixtures), run
    /// through --ingest before the TestScripts of DIR.
    #[arg(long, requires_all = ["ingest", "ingest_key"])]
    pub load: Option<PathBuf>,
    /// Where load scripts write: a FHIR base taking PUT, POST and DELETE, `{release}` standing for
    /// stu3 or r4 (pgo-exchange: https://dva.example/ingest/PROVIDER/{release}).
    #[arg(long, requires = "load")]
    pub ingest: Option<String>,
    /// The key load scripts write with (sent as a bearer token).
    #[arg(long, env = "PGO_CONFORMANCE_INGEST_KEY", hide_env_values = true)]
    pub ingest_key: Option<String>,
    /// A folder (or file) of profiles, value sets and code systems (FHIR XML or JSON, an npm
    /// package's folder too) that validateProfileId may validate against, besides the base
    /// definitions of the script's release (repeatable).
    #[arg(long = "package")]
    pub packages: Vec<PathBuf>,
    /// Time allowed for one answer (s).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Reports.
    #[command(flatten)]
    pub reports: ReportArgs,
}

impl TestscriptArgs {
    /// The target the TestScripts run against, with the profile packages given (each must exist:
    /// a mistyped folder would leave every profile validation not run).
    pub fn target(&self) -> anyhow::Result<crate::testscript::TestScriptTarget> {
        let mut target = crate::testscript::TestScriptTarget::new(&self.base, self.token.as_deref(), &self.headers)?;
        target.token_map = self.token_map.clone();
        target.allow_writes = self.allow_writes;
        existing(&self.packages)?;
        target.profiles = std::sync::Arc::new(crate::profiles::Profiles::with_packages(self.packages.clone()));
        Ok(target)
    }

    /// Where load scripts write, when --load is given.
    pub fn load_target(&self) -> anyhow::Result<Option<crate::testscript::LoadTarget>> {
        match (&self.load, &self.ingest, &self.ingest_key) {
            (Some(_), Some(ingest), Some(key)) => Ok(Some(crate::testscript::LoadTarget::new(ingest, key)?)),
            (Some(_), _, _) => anyhow::bail!("--load needs --ingest and --ingest-key"),
            _ => Ok(None),
        }
    }
}

/// `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The files, each one FHIR resource (a Bundle counts as one) in JSON or XML.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Their FHIR release: stu3 or r4 (default: told from each file, else stu3).
    #[arg(long, value_parser = release)]
    pub release: Option<fhir_core::Release>,
    /// A folder (or file) of profiles, value sets and code systems (repeatable).
    #[arg(long = "package")]
    pub packages: Vec<PathBuf>,
    /// A profile (canonical URL) to validate against (repeatable); without it, each resource is
    /// validated against the loaded profiles it claims in meta.profile.
    #[arg(long = "profile")]
    pub profiles: Vec<String>,
    /// Also print the rules that could not be checked, and each problem loading the packages.
    #[arg(long)]
    pub verbose: bool,
}

impl ValidateArgs {
    /// What to validate, with what (each package must exist).
    pub fn request(&self) -> anyhow::Result<crate::validate::Request> {
        existing(&self.packages)?;
        Ok(crate::validate::Request {
            files: self.files.clone(),
            release: self.release,
            packages: self.packages.clone(),
            profiles: self.profiles.clone(),
            verbose: self.verbose,
        })
    }
}

/// An error naming the first of `paths` that does not exist.
fn existing(paths: &[PathBuf]) -> anyhow::Result<()> {
    match paths.iter().find(|path| !path.exists()) {
        Some(missing) => anyhow::bail!("the package {} does not exist", missing.display()),
        None => Ok(()),
    }
}

/// `stu3` or `r4`.
fn release(text: &str) -> Result<fhir_core::Release, String> {
    text.parse().map_err(|error: fhir_core::release::UnknownRelease| error.to_string())
}

/// `NAME=VALUE`.
fn pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {text}"))
}

impl RunArgs {
    /// The run's configuration.
    pub fn config(&self) -> anyhow::Result<Config> {
        let target = match (&self.zal, &self.authorize, &self.token) {
            (Some(zal), _, _) => TargetSpec::Zal { source: zal.clone(), provider: self.provider.clone() },
            (None, Some(authorization), Some(token)) => {
                anyhow::ensure!(
                    !self.bases.is_empty(),
                    "without --zal, give each data service's FHIR base with --base ID=URL"
                );
                TargetSpec::Explicit {
                    provider: self.provider.clone(),
                    authorization: authorization.clone(),
                    token: token.clone(),
                    bases: self.bases.iter().cloned().collect(),
                }
            }
            _ => anyhow::bail!("give --zal, or --authorize, --token and --base"),
        };
        let persons = match (&self.patient_a, &self.patient_b) {
            (Some(a), Some(b)) => {
                let mut form = LoginForm::default();
                if !self.login_fields.is_empty() {
                    form.answers = self.login_fields.clone();
                }
                Persons::Login { form, patient_a: a.clone(), patient_b: b.clone() }
            }
            _ => {
                anyhow::ensure!(
                    !self.token_a.is_empty(),
                    "give --patient-a and --patient-b, or pre-issued tokens with --token-a"
                );
                Persons::Tokens {
                    patient_a: self.token_a.iter().cloned().collect::<BTreeMap<_, _>>(),
                    patient_b: self.token_b.iter().cloned().collect::<BTreeMap<_, _>>(),
                }
            }
        };
        let auditor = match (&self.auditor_id, &self.auditor_secret, &self.usage_url) {
            (Some(id), Some(secret), Some(usage_url)) => Some(Auditor {
                id: id.clone(),
                secret: secret.clone(),
                usage_url: usage_url.clone(),
                access_log_url: self.access_log_url.clone(),
            }),
            _ => None,
        };
        Ok(Config {
            target,
            other_provider: self.other_provider.clone(),
            pgo: PgoClient {
                client_id: self.client_id.clone(),
                redirect_uri: self.redirect_uri.clone(),
                other_client_id: self.other_client_id.clone(),
                forbidden: match (&self.forbidden_client, &self.forbidden_data_service) {
                    (Some(client_id), Some(data_service)) => Some(ForbiddenScope {
                        client_id: client_id.clone(),
                        redirect_uri: self
                            .forbidden_client_redirect_uri
                            .clone()
                            .unwrap_or_else(|| self.redirect_uri.clone()),
                        data_service: data_service.clone(),
                    }),
                    _ => None,
                },
                identity: self.client_cert.clone(),
                other_identity: self.other_client_cert.clone(),
                ca: self.ca.clone(),
            },
            persons,
            data_services: self.data_services.clone(),
            auditor,
            allow_writes: self.allow_writes,
            share_body_limit: self.share_body_limit,
            code_lifetime_seconds: self.code_lifetime,
            timeout_seconds: self.timeout,
            only: self.only.clone(),
        })
    }
}

/// Writes the reports `args` asks for.
pub fn write_reports(report: &RunReport, args: &ReportArgs) -> anyhow::Result<()> {
    type Writer = fn(&RunReport) -> String;
    let outputs: [(&Option<PathBuf>, Writer); 3] = [
        (&args.junit, crate::report::junit::to_junit),
        (&args.json, crate::report::json::to_json),
        (&args.html, crate::report::html::to_html),
    ];
    for (path, write) in outputs {
        if let Some(path) = path {
            // `--html target/conformance/report.html` works in a fresh checkout too.
            if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
                std::fs::create_dir_all(folder).map_err(|error| anyhow::anyhow!("{}: {error}", folder.display()))?;
            }
            std::fs::write(path, write(report)).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_go_into_folders_that_do_not_exist_yet() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let html = dir.path().join("target/conformance/report.html");
        let args = ReportArgs { html: Some(html.clone()), ..ReportArgs::default() };
        write_reports(&crate::report::tests::sample(), &args).expect("written");
        assert!(std::fs::read_to_string(html).expect("the report").contains("<html"));
    }

    #[test]
    fn a_zal_run_with_logins_parses_into_a_config() {
        let cli = Cli::try_parse_from([
            "pgo-conformance",
            "run",
            "--zal",
            "https://x.example/zal.xml",
            "--provider",
            "umcx@medmij",
            "--data-service",
            "48",
            "--data-service",
            "63",
            "--client-id",
            "pgo.example.nl",
            "--redirect-uri",
            "https://pgo.example.nl/cb",
            "--patient-a",
            "999911120",
            "--patient-b",
            "999946067",
            "--junit",
            "out.xml",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else { panic!("run") };
        let config = args.config().unwrap();
        assert!(matches!(config.target, TargetSpec::Zal { ref provider, .. } if provider == "umcx@medmij"));
        assert_eq!(config.data_services, ["48", "63"]);
        assert!(matches!(config.persons, Persons::Login { .. }));
        assert_eq!(config.bsns(), ["999911120", "999946067"]);
        assert_eq!(args.reports.junit.as_deref(), Some(std::path::Path::new("out.xml")));
    }

    #[test]
    fn a_testscript_run_with_a_load_and_token_map_parses() {
        let cli = Cli::try_parse_from([
            "pgo-conformance",
            "testscript",
            "scripts",
            "--base",
            "https://x/umcx/48/fhir",
            "--token",
            "t",
            "--token-map",
            "93cde269=real",
            "--load",
            "load",
            "--ingest",
            "https://x/ingest/umcx/{release}",
            "--ingest-key",
            "k",
        ])
        .unwrap();
        let Command::Testscript(args) = cli.command else { panic!("testscript") };
        assert_eq!(args.target().unwrap().token_map, [("93cde269".to_owned(), "real".to_owned())]);
        assert!(!args.target().unwrap().allow_writes, "writes to the target are opted into");
        let load = args.load_target().unwrap().unwrap();
        assert_eq!(load.ingest, "https://x/ingest/umcx/{release}");
        assert!(
            Cli::try_parse_from(["pgo-conformance", "testscript", "d", "--base", "https://x", "--load", "l"]).is_err()
        );
    }

    #[test]
    fn allow_writes_lets_the_testscripts_write_to_the_target() {
        let args = ["pgo-conformance", "testscript", "receiving", "--base", "https://x/fhir", "--allow-writes"];
        let Command::Testscript(args) = Cli::try_parse_from(args).unwrap().command else { panic!("testscript") };
        assert!(args.target().unwrap().allow_writes);
    }

    #[test]
    fn packages_for_profile_validation_parse_and_a_missing_one_is_refused() {
        let here = env!("CARGO_MANIFEST_DIR");
        let args = ["pgo-conformance", "testscript", "d", "--base", "https://x/fhir", "--package", here];
        let Command::Testscript(args) = Cli::try_parse_from(args).unwrap().command else { panic!("testscript") };
        assert_eq!(args.target().unwrap().profiles.packages(), [PathBuf::from(here)]);
        let missing = ["pgo-conformance", "testscript", "d", "--base", "https://x/fhir", "--package", "/no/such/pkg"];
        let Command::Testscript(args) = Cli::try_parse_from(missing).unwrap().command else { panic!("testscript") };
        let error = args.target().expect_err("no such package").to_string();
        assert!(error.contains("/no/such/pkg does not exist"), "{error}");
    }

    #[test]
    fn validate_takes_files_a_release_packages_and_profiles() {
        let cli = Cli::try_parse_from([
            "pgo-conformance",
            "validate",
            "a.json",
            "b.xml",
            "--release",
            "R4",
            "--profile",
            "http://example.org/p",
            "--verbose",
        ])
        .unwrap();
        let Command::Validate(args) = cli.command else { panic!("validate") };
        let request = args.request().unwrap();
        assert_eq!(request.files, [PathBuf::from("a.json"), PathBuf::from("b.xml")]);
        assert_eq!((request.release, request.verbose), (Some(fhir_core::Release::R4), true));
        assert_eq!(request.profiles, ["http://example.org/p"]);
        assert!(Cli::try_parse_from(["pgo-conformance", "validate"]).is_err(), "a file is needed");
        assert!(Cli::try_parse_from(["pgo-conformance", "validate", "a.json", "--release", "r5"]).is_err());
    }

    #[test]
    fn explicit_endpoints_with_tokens_parse_and_incomplete_ones_are_refused() {
        let cli = Cli::try_parse_from([
            "pgo-conformance",
            "run",
            "--provider",
            "umcx",
            "--authorize",
            "https://x/a",
            "--token",
            "https://x/t",
            "--base",
            "48=https://x/48/fhir",
            "--data-service",
            "48",
            "--client-id",
            "p",
            "--redirect-uri",
            "https://p/cb",
            "--token-a",
            "48=abc",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else { panic!("run") };
        let config = args.config().unwrap();
        assert!(matches!(config.persons, Persons::Tokens { ref patient_a, .. } if patient_a["48"] == "abc"));
        assert!(config.bsns().is_empty());
        assert!(
            Cli::try_parse_from(["pgo-conformance", "run", "--provider", "x", "--authorize", "https://x/a"]).is_err()
        );
    }
}
