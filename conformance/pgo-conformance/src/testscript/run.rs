//! Running loaded scripts: per script its setup once, its tests in order, its teardown once,
//! sharing one state (responses named in the setup are seen by the tests). Results:
//!
//! - `{script}.setup` and `{script}.teardown`, when there are such actions;
//! - `{script}.{test name, or its number from 1}` per test;
//! - `{file stem}.load` for a script that could not be read (not run, with why).
//!
//! Every assert is one check. An operation adds a check only when it was not made (not run:
//! unsupported; failed: e.g. a variable without value) or got no answer (failed); the asserts
//! after it are then not run, so one problem is counted once. When the setup failed the tests
//! are not run and each of their asserts is a not-run check. A test or setup whose actions were
//! all made and whose asserts all held passes, even without asserts (a setup often has none).

use super::dialect::extensions;
use super::load::{LoadedScript, Script};
use super::model::{Action, Assert, Test};
use super::operations::Endpoint;
use super::state::{Problem, State};
use super::{LoadTarget, TestScriptTarget, asserts, operations};
use crate::http::Http;
use crate::outcome::{Check, Exchange, RunReport, ScenarioResult, Verdict};
use crate::profiles::Profiles;
use crate::scenario::{Progress, Scenario};
use std::time::Instant;

/// Runs `scripts` against `target`, telling `progress`; one report of them all.
pub async fn run_scripts(
    scripts: &[LoadedScript],
    target: &TestScriptTarget,
    http: &Http,
    progress: &dyn Progress,
) -> RunReport {
    run_scripts_after_load(None, scripts, target, http, progress).await
}

/// Runs the load scripts `load` through their target first (when given), then `scripts`
/// against `target`; one report of them all, the loads' results first.
pub async fn run_scripts_after_load(
    load: Option<(&[LoadedScript], &LoadTarget)>,
    scripts: &[LoadedScript],
    target: &TestScriptTarget,
    http: &Http,
    progress: &dyn Progress,
) -> RunReport {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let started = Instant::now();
    let loads = load.map(|(loads, _)| loads).unwrap_or_default();
    progress.start(loads.iter().chain(scripts).map(planned).sum());
    let mut results = Vec::new();
    if let Some((loads, load_target)) = load {
        for loaded in loads {
            let Ok(script) = &loaded.script else {
                push_unreadable(loaded, progress, &mut results);
                continue;
            };
            let base = load_target.base(script.release.release);
            let endpoint = Endpoint::Load { base: &base, key: &load_target.key };
            let profiles = &target.profiles;
            Runner { script, endpoint, profiles, http, progress, results: &mut results, warned: false }.run().await;
        }
    }
    for loaded in scripts {
        match &loaded.script {
            Ok(script) => {
                let endpoint = Endpoint::Target(target);
                let profiles = &target.profiles;
                Runner { script, endpoint, profiles, http, progress, results: &mut results, warned: false }.run().await
            }
            Err(_) => push_unreadable(loaded, progress, &mut results),
        }
    }
    progress.finish();
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    RunReport::new("testscript", &target.base, started_at, millis, results)
}

fn push_unreadable(loaded: &LoadedScript, progress: &dyn Progress, results: &mut Vec<ScenarioResult>) {
    let why = loaded.script.as_ref().err().map(String::as_str).unwrap_or_default();
    let result = unreadable(loaded, why);
    progress.done(&result);
    results.push(result);
}

/// How many results `loaded` gives.
fn planned(loaded: &LoadedScript) -> usize {
    let Ok(script) = &loaded.script else { return 1 };
    usize::from(has_setup(script)) + script.definition.test.len().max(1) + usize::from(has_teardown(script))
}

fn has_setup(script: &Script) -> bool {
    let definition = &script.definition;
    definition.setup.as_ref().is_some_and(|setup| !setup.action.is_empty())
        || definition.fixture.iter().any(|fixture| fixture.autocreate)
}

fn has_teardown(script: &Script) -> bool {
    let definition = &script.definition;
    definition.teardown.as_ref().is_some_and(|teardown| !teardown.action.is_empty())
        || definition.fixture.iter().any(|fixture| fixture.autodelete)
}

fn unreadable(loaded: &LoadedScript, why: &str) -> ScenarioResult {
    let id = loaded.id();
    ScenarioResult {
        id: format!("{id}.load"),
        group: id,
        title: format!("read {}", loaded.path.display()),
        rule: "a TestScript must be readable to be run".into(),
        verdict: Verdict::NotRun(format!("the TestScript could not be read: {why}")),
        checks: vec![Check::not_run("the TestScript is read", why)],
        exchanges: Vec::new(),
        warnings: Vec::new(),
        millis: 0,
    }
}

/// The checks and exchanges of one result so far.
#[derive(Debug, Default)]
struct Collected {
    checks: Vec<Check>,
    exchanges: Vec<Exchange>,
}

struct Runner<'r> {
    script: &'r Script,
    endpoint: Endpoint<'r>,
    /// The run's profile validators (`validateProfileId`).
    profiles: &'r Profiles,
    http: &'r Http,
    progress: &'r dyn Progress,
    results: &'r mut Vec<ScenarioResult>,
    /// Whether the script's warnings were put on a result yet (the first carries them).
    warned: bool,
}

impl Runner<'_> {
    async fn run(mut self) {
        let script = self.script;
        let mut state = State::with_profiles(script, self.profiles);
        let mut setup_failed = None;
        if has_setup(script) {
            let id = format!("{}.setup", script.id);
            let started = self.announce(&id, "setup");
            let mut collected = Collected::default();
            for fixture in script.definition.fixture.iter().filter(|fixture| fixture.autocreate) {
                let what = format!("fixture {} is created on the target", fixture.id.as_deref().unwrap_or("?"));
                collected.checks.push(Check::not_run(
                    what,
                    "autocreate is not supported (a create operation in the setup is, with --allow-writes)",
                ));
            }
            let actions = script.definition.setup.as_ref().map(|setup| setup.action.as_slice()).unwrap_or_default();
            self.actions(actions, &mut state, &mut collected).await;
            let result = self.result(id.clone(), "setup".into(), collected, None, started);
            if matches!(result.verdict, Verdict::Failed(_)) {
                setup_failed = Some(id);
            }
            self.push(result);
        }
        if script.definition.test.is_empty() {
            let id = format!("{}.tests", script.id);
            let started = self.announce(&id, "tests");
            let verdict = Some(Verdict::NotRun("the script has no tests".into()));
            let result = self.result(id, "tests".into(), Collected::default(), verdict, started);
            self.push(result);
        }
        for (index, test) in script.definition.test.iter().enumerate() {
            let (id, title) = names(&script.id, test, index);
            let started = self.announce(&id, &title);
            let mut collected = Collected::default();
            let verdict = match &setup_failed {
                Some(setup) => {
                    let why = format!("the setup ({setup}) failed");
                    collected.checks = skipped(&test.action, &why);
                    Some(Verdict::NotRun(why))
                }
                None if test.action.is_empty() => Some(Verdict::NotRun("the test has no actions".into())),
                None => {
                    self.actions(&test.action, &mut state, &mut collected).await;
                    None
                }
            };
            let result = self.result(id, title, collected, verdict, started);
            self.push(result);
        }
        if has_teardown(script) {
            let id = format!("{}.teardown", script.id);
            let started = self.announce(&id, "teardown");
            let mut collected = Collected::default();
            for fixture in script.definition.fixture.iter().filter(|fixture| fixture.autodelete) {
                let what = format!("fixture {} is deleted from the target", fixture.id.as_deref().unwrap_or("?"));
                collected.checks.push(Check::not_run(
                    what,
                    "autodelete is not supported (a delete operation in the teardown is, with --allow-writes)",
                ));
            }
            let actions =
                script.definition.teardown.as_ref().map(|teardown| teardown.action.as_slice()).unwrap_or_default();
            self.actions(actions, &mut state, &mut collected).await;
            let result = self.result(id, "teardown".into(), collected, None, started);
            self.push(result);
        }
    }

    /// Makes `actions` in order, collecting their checks and exchanges. After an assert that
    /// stops the test on failure (`stopTestOnFail`) failed, the rest is not made, and each assert
    /// after it is a check not run.
    async fn actions(&self, actions: &[Action], state: &mut State<'_>, collected: &mut Collected) {
        let mut stopped: Option<String> = None;
        for (index, action) in actions.iter().enumerate() {
            if let Some(why) = &stopped {
                if let Some(assert) = &action.assert {
                    collected.checks.push(Check::not_run(assert_name(assert, index), why.clone()));
                }
                continue;
            }
            if let Some(operation) = &action.operation {
                let made = operations::make(operation, state, self.endpoint, self.http).await;
                collected.exchanges.extend(made.exchanges);
                match made.problem {
                    Some(Problem::NotRun(why)) => {
                        collected.checks.push(Check::not_run(operations::name(operation), why))
                    }
                    Some(Problem::Failed(why)) => {
                        collected.checks.push(Check::new(operations::name(operation), false, why))
                    }
                    None => {}
                }
            }
            if let Some(assert) = &action.assert {
                let check = asserts::check(assert, state);
                if check.failed() && extensions::stops_test(assert) {
                    let name = assert_name(assert, index);
                    stopped = Some(format!("the test stopped: {name} failed, and its failure stops the test"));
                }
                collected.checks.push(check);
            }
        }
    }

    /// Tells `progress` that `id` starts (its bar shows the id).
    fn announce(&self, id: &str, title: &str) -> Instant {
        // The bar takes a Scenario; this one is never run, it only carries the id shown.
        let shown = Scenario::new(id, "testscript", title, "", |_| async { Ok(()) });
        self.progress.scenario(&shown);
        Instant::now()
    }

    fn push(&mut self, mut result: ScenarioResult) {
        if !self.warned {
            result.warnings = self.script.warnings.clone();
            self.warned = true;
        }
        self.progress.done(&result);
        self.results.push(result);
    }

    fn result(
        &self,
        id: String,
        title: String,
        collected: Collected,
        verdict: Option<Verdict>,
        started: Instant,
    ) -> ScenarioResult {
        let masker = self.http.masker();
        let checks: Vec<Check> = collected
            .checks
            .into_iter()
            .map(|check| Check { expected: masker.mask(&check.expected), found: masker.mask(&check.found), ..check })
            .collect();
        let definition = &self.script.definition;
        let group =
            definition.name.clone().or_else(|| definition.title.clone()).unwrap_or_else(|| self.script.id.clone());
        let cited =
            definition.description.clone().or_else(|| definition.purpose.clone()).or_else(|| definition.url.clone());
        let release = &self.script.release;
        let rule = format!(
            "{}[TestScript {}, FHIR {}: {}]",
            cited.map(|cited| format!("{cited} ")).unwrap_or_default(),
            self.script.id,
            release.release.as_str().to_uppercase(),
            release.why
        );
        ScenarioResult {
            id,
            group,
            title,
            rule,
            verdict: verdict.unwrap_or_else(|| verdict_of(&checks)),
            checks,
            exchanges: collected.exchanges,
            warnings: Vec::new(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A test's id and title.
fn names(script: &str, test: &Test, index: usize) -> (String, String) {
    let name = test.name.clone().or_else(|| test.id.clone());
    let id = format!("{script}.{}", name.clone().unwrap_or_else(|| (index + 1).to_string()));
    let title = test.description.clone().or(name).unwrap_or_else(|| format!("test {}", index + 1));
    (id, title)
}

/// The asserts of `actions`, each not run for `why`.
fn skipped(actions: &[Action], why: &str) -> Vec<Check> {
    let asserts = actions.iter().filter_map(|action| action.assert.as_ref());
    asserts.enumerate().map(|(index, assert)| Check::not_run(assert_name(assert, index), why)).collect()
}

fn assert_name(assert: &Assert, index: usize) -> String {
    assert.label.clone().or_else(|| assert.description.clone()).unwrap_or_else(|| format!("assert {}", index + 1))
}

/// Failed when a check failed, else not run when one was not made, else passed. A profile
/// validation that could not be made (its profile not loaded) does not decide a verdict when
/// other checks held (it is counted on its own, and a run without the package would otherwise
/// leave every published test not run); a test of nothing else is not run.
fn verdict_of(checks: &[Check]) -> Verdict {
    let failed: Vec<String> = checks
        .iter()
        .filter(|check| check.failed())
        .map(|check| {
            if check.found.is_empty() {
                check.expected.clone()
            } else {
                format!("{} (found: {})", check.expected, check.found)
            }
        })
        .collect();
    if !failed.is_empty() {
        return Verdict::Failed(failed.join("; "));
    }
    let others_held = checks.iter().any(|check| check.passed && !check.profile_validation);
    let not_run: Vec<String> = checks
        .iter()
        .filter(|check| check.not_run && !(check.profile_validation && others_held))
        .map(|check| format!("{}: {}", check.expected, check.found))
        .collect();
    if !not_run.is_empty() {
        return Verdict::NotRun(not_run.join("; "));
    }
    Verdict::Passed
}
