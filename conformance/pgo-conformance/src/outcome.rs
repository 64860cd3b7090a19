//! What a run found: per scenario its verdict, the checks it made and the HTTP exchanges that
//! decided them. Every report format (console, JUnit, JSON, HTML) is written from these types.

use serde::Serialize;

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check held (and at least one was made).
    Passed,
    /// A check failed, or the target could not be asked.
    Failed(String),
    /// The scenario could not be run against this target (what it needs is missing, or a
    /// construct is not supported); never counted as passed.
    NotRun(String),
}

impl Verdict {
    /// `passed`, `failed` or `not run`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed(_) => "failed",
            Verdict::NotRun(_) => "not run",
        }
    }

    /// The reason, if the scenario did not pass.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Passed => None,
            Verdict::Failed(reason) | Verdict::NotRun(reason) => Some(reason),
        }
    }
}

/// One thing a scenario checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was expected, e.g. "the answer is 200".
    pub expected: String,
    /// Whether it held.
    pub passed: bool,
    /// It could not be made (an unsupported construct): neither passed nor failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_run: bool,
    /// A profile validation (`validateProfileId`) decided it: counted on its own in every
    /// report, and when not run (its profile not loaded) it does not decide a test's verdict.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub profile_validation: bool,
    /// What was found, when it did not hold (or when worth saying).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub found: String,
}

impl Check {
    /// A check that held or not.
    pub fn new(expected: impl Into<String>, passed: bool, found: impl Into<String>) -> Check {
        Check {
            expected: expected.into(),
            passed,
            not_run: false,
            profile_validation: false,
            found: if passed { String::new() } else { found.into() },
        }
    }

    /// A check that could not be made, and why.
    pub fn not_run(expected: impl Into<String>, why: impl Into<String>) -> Check {
        Check { expected: expected.into(), passed: false, not_run: true, profile_validation: false, found: why.into() }
    }

    /// Whether it was made and did not hold.
    pub fn failed(&self) -> bool {
        !self.passed && !self.not_run
    }
}

/// One HTTP request and its answer, as recorded (BSNs masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// `GET`, `POST`.
    pub method: String,
    /// The URL asked.
    pub url: String,
    /// The request headers worth showing (never credentials in full).
    pub request_headers: Vec<(String, String)>,
    /// The request body, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub request_body: String,
    /// The status answered; 0 when no answer came.
    pub status: u16,
    /// The answer's headers.
    pub response_headers: Vec<(String, String)>,
    /// The answer's body (cut after a limit).
    pub response_body: String,
    /// How long the answer took (ms).
    pub millis: u64,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// A stable id, e.g. `retrieval.48.q04.json`.
    pub id: String,
    /// The group, e.g. `discovery`.
    pub group: String,
    /// What it checks, in a line.
    pub title: String,
    /// The rule it checks, cited.
    pub rule: String,
    /// How it ended.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The checks made.
    pub checks: Vec<Check>,
    /// The exchanges made.
    pub exchanges: Vec<Exchange>,
    /// What was read past to run it (a TestScript's elements the runner does not use).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// How long it took (ms).
    pub millis: u64,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Scenarios run (of every verdict).
    pub scenarios: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Not run.
    pub not_run: usize,
    /// Checks made in all scenarios.
    pub checks: usize,
    /// Checks that failed.
    pub checks_failed: usize,
    /// Checks that could not be made.
    pub checks_not_run: usize,
    /// Profile validations (`validateProfileId`) among the checks, made or not.
    pub profile_validations: usize,
    /// Of those, passed.
    pub profile_validations_passed: usize,
    /// Failed (the validator found an error).
    pub profile_validations_failed: usize,
    /// Not run (the profile not loaded, no response to validate).
    pub profile_validations_not_run: usize,
}

impl Totals {
    /// Profile validations made: passed or failed.
    pub fn profile_validations_run(&self) -> usize {
        self.profile_validations_passed + self.profile_validations_failed
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `pgo-conformance` and its version.
    pub tool: String,
    /// What was run: `suite` or `testscript`.
    pub kind: String,
    /// The target, as given.
    pub target: String,
    /// When the run started (RFC 3339).
    pub started: String,
    /// How long the run took (ms).
    pub millis: u64,
    /// The counts.
    pub totals: Totals,
    /// Every scenario in the order run.
    pub scenarios: Vec<ScenarioResult>,
}

impl RunReport {
    /// A report of `scenarios`, counted.
    pub fn new(kind: &str, target: &str, started: String, millis: u64, scenarios: Vec<ScenarioResult>) -> RunReport {
        let mut totals = Totals { scenarios: scenarios.len(), ..Totals::default() };
        for scenario in &scenarios {
            match scenario.verdict {
                Verdict::Passed => totals.passed += 1,
                Verdict::Failed(_) => totals.failed += 1,
                Verdict::NotRun(_) => totals.not_run += 1,
            }
            totals.checks += scenario.checks.len();
            totals.checks_failed += scenario.checks.iter().filter(|check| check.failed()).count();
            totals.checks_not_run += scenario.checks.iter().filter(|check| check.not_run).count();
            let profiles = || scenario.checks.iter().filter(|check| check.profile_validation);
            totals.profile_validations += profiles().count();
            totals.profile_validations_passed += profiles().filter(|check| check.passed).count();
            totals.profile_validations_failed += profiles().filter(|check| check.failed()).count();
            totals.profile_validations_not_run += profiles().filter(|check| check.not_run).count();
        }
        RunReport {
            tool: format!("pgo-conformance {}", env!("CARGO_PKG_VERSION")),
            kind: kind.to_owned(),
            target: target.to_owned(),
            started,
            millis,
            totals,
            scenarios,
        }
    }

    /// Whether every scenario passed (none failed, none left unrun).
    pub fn all_passed(&self) -> bool {
        self.totals.passed == self.totals.scenarios
    }

    /// The groups in the order they first appear.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for scenario in &self.scenarios {
            if !groups.contains(&scenario.group.as_str()) {
                groups.push(&scenario.group);
            }
        }
        groups
    }
}
