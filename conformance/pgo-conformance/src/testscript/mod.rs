//! Running published FHIR `TestScript`s (STU3 and R4, XML or JSON) against a FHIR base.
//!
//! The MedMij qualification material comes as TestScripts with fixtures. This module loads every
//! script under a folder ([`load_dir`]), runs each against the target ([`run_scripts`]) and reports
//! one result per test, with every assert as a check and every request as an exchange.
//!
//! Supported: `search`, `read`, `vread`, `history` and `capabilities` operations (GET), variables
//! (`defaultValue`, `expression`, `headerField`) with the built-ins (`${UUID}`, `${CURRENTDATE}`,
//! `${DATE, T, D, -30}`, ..., also inside `defaultValue`s and fixtures), `${name}` substitution,
//! and the asserts `response`, `responseCode`, `resource`, `contentType`, `headerField`,
//! `requestURL`, `requestMethod`, `minimumId`, `expression` with every operator (type tests
//! decided from the FHIR structure of the script's release), `compareToSourceId` with
//! `compareToSourceExpression`, `validateProfileId` (the response validated against the base
//! definitions of the script's release and the profiles of the packages the run was given,
//! [`TestScriptTarget::profiles`]; counted on its own), and the rules the published material runs
//! (by name). The
//! dialect the published scripts are written in is read (`stopTestOnFail`, a profile's `value`,
//! the engine's extensions); what the runner cannot use is a warning on the script. Load scripts
//! ([`LoadTarget`]) write their fixtures (`create`, `update`, `batch`/`transaction`, `delete`;
//! `purge` as deletes). Other scripts write to the target (`create`, `update`,
//! `batch`/`transaction`, `delete`, never `purge`) only when the run allows it
//! ([`TestScriptTarget::allow_writes`], `--allow-writes`): the qualification scripts for receiving
//! systems send their Bundles to the target. Not run, with the reason: XPath/JSONPath (`path`,
//! `compareToSourcePath`), `validateProfileId` against a profile not loaded, `navigationLinks`, STU3
//! `ruleset`, rules this runner does not know, FHIRPath the evaluator does not support, fixtures'
//! `autocreate`/`autodelete`, writes to the target without `--allow-writes`, and `purge` outside
//! load scripts. Nothing unsupported is ever counted as passed.
//!
//! Code map: `load` (files, fixtures) with `release` (which FHIR release a script is) and
//! `dialect` (what the published scripts write beyond their release), `model` (the TestScript
//! elements read), `run` (setup, tests, teardown into results), `operations`, `request_url` and
//! `writes` (requests; a load script's writes), `asserts`, `expression_assert`, `rules`,
//! `validate_profile`, `operators` and `minimum` (checks), `variables`, `builtins` and
//! `expressions` (values and FHIRPath) with `profile_validator::StructureModel` (the FHIR
//! structure as FHIRPath's type model), `state` (what a running script knows); `published` holds
//! the published forms' tests.

mod asserts;
mod builtins;
mod dialect;
mod expression_assert;
mod expressions;
mod load;
mod minimum;
pub mod model;
mod operations;
mod operators;
mod published;
pub mod release;
mod request_url;
mod rules;
mod run;
mod state;
mod validate_profile;
mod variables;
mod writes;

pub use builtins::Clock;
pub use load::{LoadedScript, Script, load_dir, load_dir_at, load_file, load_file_at};
pub use release::Detected;
pub use run::{run_scripts, run_scripts_after_load};

use crate::http::Http;
use crate::outcome::RunReport;
use crate::profiles::Profiles;
use crate::scenario::Progress;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// The server the scripts run against: it replaces whatever server the scripts were written for.
#[derive(Clone, Default)]
pub struct TestScriptTarget {
    /// The FHIR base; operations' `params` and relative `url`s are below it.
    pub base: String,
    /// A bearer token sent with every request.
    pub token: Option<String>,
    /// Extra headers sent with every request (a script's `requestHeader` wins).
    pub headers: Vec<(String, String)>,
    /// Tokens the scripts name (without `Bearer `) and the target's tokens to send instead.
    pub token_map: Vec<(String, String)>,
    /// Whether the scripts' writes (`create`, `update`, `batch`/`transaction`, `delete`) are made
    /// against the target, with its credential; without it they are not run. `purge` never is.
    pub allow_writes: bool,
    /// The validators `validateProfileId` uses: the base definitions of each release, and the
    /// profiles of the packages given (`--package`); loaded once per run and release.
    pub profiles: Arc<Profiles>,
}

// Written out so the token never reaches a log.
impl std::fmt::Debug for TestScriptTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestScriptTarget")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("headers", &self.headers)
            .field("token_map", &self.token_map.iter().map(|_| "(set)").collect::<Vec<_>>())
            .field("allow_writes", &self.allow_writes)
            .field("packages", &self.profiles.packages())
            .finish()
    }
}

impl TestScriptTarget {
    /// A target at `base` (a trailing `/` is dropped), checked to be an http(s) URL; writes are
    /// not allowed until [`TestScriptTarget::allow_writes`] is set.
    pub fn new(base: &str, token: Option<&str>, headers: &[(String, String)]) -> anyhow::Result<TestScriptTarget> {
        let parsed = url::Url::parse(base).with_context(|| format!("the FHIR base {base:?} is not a URL"))?;
        anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "the FHIR base {base:?} is not an http(s) URL");
        Ok(TestScriptTarget {
            base: base.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            headers: headers.to_vec(),
            token_map: Vec::new(),
            allow_writes: false,
            profiles: Arc::default(),
        })
    }
}

/// Where load scripts write: a FHIR base that takes `PUT`, `POST` and `DELETE` (for
/// pgo-exchange, a provider's ingest endpoint `/ingest/{provider}/{release}`), with `{release}`
/// replaced by `stu3` or `r4` for each script, and the key sent as its bearer token.
#[derive(Clone)]
pub struct LoadTarget {
    /// The base, possibly with `{release}`.
    pub ingest: String,
    /// The key (an ingest key).
    pub key: String,
}

impl std::fmt::Debug for LoadTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LoadTarget").field("ingest", &self.ingest).field("key", &"(set)").finish()
    }
}

impl LoadTarget {
    /// A load target at `ingest`, checked to be an http(s) URL.
    pub fn new(ingest: &str, key: &str) -> anyhow::Result<LoadTarget> {
        let example = ingest.replace("{release}", "stu3");
        let parsed = url::Url::parse(&example).with_context(|| format!("the ingest base {ingest:?} is not a URL"))?;
        anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "the ingest base {ingest:?} is not http(s)");
        Ok(LoadTarget { ingest: ingest.trim_end_matches('/').to_owned(), key: key.to_owned() })
    }

    /// The base for scripts of `release`.
    pub(crate) fn base(&self, release: fhir_core::Release) -> String {
        self.ingest.replace("{release}", release.as_str())
    }
}

/// `pgo-conformance testscript DIR`: loads every TestScript under `dir` and runs them against the
/// FHIR base `base`. An error only when `base` is not a URL, `dir` cannot be read or holds no
/// TestScript (a run of nothing must not pass); scripts that cannot be read are reported as not run.
pub async fn run_dir(
    dir: &Path,
    base: &str,
    token: Option<&str>,
    headers: &[(String, String)],
    http: &Http,
    progress: &dyn Progress,
) -> anyhow::Result<RunReport> {
    let target = TestScriptTarget::new(base, token, headers)?;
    run_with_load(dir, &target, None, http, progress).await
}

/// As [`run_dir`] against `target`, after the load scripts under `load`'s folder are run through
/// its [`LoadTarget`] (when given; a folder without TestScripts is an error there too).
pub async fn run_with_load(
    dir: &Path,
    target: &TestScriptTarget,
    load: Option<(&Path, &LoadTarget)>,
    http: &Http,
    progress: &dyn Progress,
) -> anyhow::Result<RunReport> {
    let clock = Clock::system();
    let read = |dir: &Path| -> anyhow::Result<Vec<LoadedScript>> {
        let scripts = load::load_dir_at(dir, &clock)?;
        anyhow::ensure!(!scripts.is_empty(), "no TestScript (.xml or .json) found under {}", dir.display());
        Ok(scripts)
    };
    let loads = load.map(|(dir, load_target)| read(dir).map(|scripts| (scripts, load_target))).transpose()?;
    let scripts = read(dir)?;
    let loads = loads.as_ref().map(|(scripts, load_target)| (scripts.as_slice(), *load_target));
    Ok(run_scripts_after_load(loads, &scripts, target, http, progress).await)
}
