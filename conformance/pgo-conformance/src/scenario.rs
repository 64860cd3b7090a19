//! A scenario: one rule checked against the target, with the rule it cites. Its body gets a
//! [`Probe`] that sends requests (recorded) and records checks; the verdict follows from those:
//! passed when checks were made and all held, failed when one did not (or the target could not
//! be asked), not run when the body says the target lacks what it needs.

use crate::http::{Answer, Http};
use crate::outcome::{Check, Exchange, ScenarioResult, Verdict};
use futures::future::BoxFuture;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Why a scenario's body stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The scenario cannot be run against this target (say why).
    NotRun(String),
    /// It cannot go on: the target did something that makes the rest meaningless.
    Failed(String),
}

type Body = Arc<dyn Fn(Probe) -> BoxFuture<'static, Result<(), Stop>> + Send + Sync>;

/// One scenario.
#[derive(Clone)]
pub struct Scenario {
    /// A stable id (`group.name`).
    pub id: String,
    /// The group.
    pub group: &'static str,
    /// What it checks.
    pub title: String,
    /// The rule it checks, cited.
    pub rule: String,
    body: Body,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Scenario").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Scenario {
    /// A scenario whose body is `body`.
    pub fn new<F, Fut>(
        id: impl Into<String>,
        group: &'static str,
        title: impl Into<String>,
        rule: impl Into<String>,
        body: F,
    ) -> Scenario
    where
        F: Fn(Probe) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Stop>> + Send + 'static,
    {
        Scenario {
            id: id.into(),
            group,
            title: title.into(),
            rule: rule.into(),
            body: Arc::new(move |probe| Box::pin(body(probe))),
        }
    }

    /// Runs the scenario with a fresh probe over `http`.
    pub async fn run(&self, http: Http) -> ScenarioResult {
        let probe = Probe { http, record: Arc::new(Mutex::new(Record::default())) };
        let started = Instant::now();
        let stopped = (self.body)(probe.clone()).await;
        let record = std::mem::take(&mut *probe.record.lock().unwrap_or_else(PoisonError::into_inner));
        let failed: Vec<&Check> = record.checks.iter().filter(|check| check.failed()).collect();
        let not_run: Vec<&Check> = record.checks.iter().filter(|check| check.not_run).collect();
        let verdict = match stopped {
            Err(Stop::NotRun(why)) => Verdict::NotRun(why),
            Err(Stop::Failed(why)) => Verdict::Failed(why),
            Ok(()) if !failed.is_empty() => Verdict::Failed(
                failed
                    .iter()
                    .map(|check| {
                        if check.found.is_empty() {
                            check.expected.clone()
                        } else {
                            format!("{} (found: {})", check.expected, check.found)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Ok(()) if !not_run.is_empty() => Verdict::NotRun(
                not_run
                    .iter()
                    .map(|check| format!("{}: {}", check.expected, check.found))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Ok(()) if record.checks.is_empty() => Verdict::Failed("the scenario checked nothing".into()),
            Ok(()) => Verdict::Passed,
        };
        ScenarioResult {
            id: self.id.clone(),
            group: self.group.to_owned(),
            title: self.title.clone(),
            rule: self.rule.clone(),
            verdict,
            checks: record.checks,
            exchanges: record.exchanges,
            warnings: Vec::new(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}

#[derive(Debug, Default)]
struct Record {
    checks: Vec<Check>,
    exchanges: Vec<Exchange>,
}

/// What a scenario's body works with: recorded HTTP and checks.
#[derive(Debug, Clone)]
pub struct Probe {
    http: Http,
    record: Arc<Mutex<Record>>,
}

impl Probe {
    /// A probe outside any scenario (for preparations whose exchanges a scenario reports later).
    pub(crate) fn detached(http: Http) -> Probe {
        Probe { http, record: Arc::new(Mutex::new(Record::default())) }
    }

    /// The exchanges recorded so far, taken out.
    pub(crate) fn take_exchanges(&self) -> Vec<Exchange> {
        std::mem::take(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner).exchanges)
    }

    /// The recording client (for requests the body builds itself).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Sends `request` with `client` (another client than the probe's: a browser, a client with
    /// another certificate) and records the exchange; no answer is a [`Stop::Failed`].
    pub async fn send_with(&self, http: &Http, request: reqwest::RequestBuilder) -> Result<Answer, Stop> {
        let (answer, exchange) = http.send(request).await;
        self.record(exchange);
        answer.map_err(Stop::Failed)
    }

    /// Sends `request` (built on [`Probe::http`]'s client) and records it.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, Stop> {
        let http = self.http.clone();
        self.send_with(&http, request).await
    }

    /// Records an exchange made elsewhere (a login walk).
    pub fn record(&self, exchange: Exchange) {
        self.record.lock().unwrap_or_else(PoisonError::into_inner).exchanges.push(exchange);
    }

    /// Records exchanges made elsewhere.
    pub fn record_all(&self, exchanges: Vec<Exchange>) {
        self.record.lock().unwrap_or_else(PoisonError::into_inner).exchanges.extend(exchanges);
    }

    /// Records a check: `expected` held or not; `found` says what was seen (masked).
    pub fn check(&self, expected: impl Into<String>, passed: bool, found: impl Into<String>) -> bool {
        let check = Check::new(expected, passed, self.http.masker().mask(&found.into()));
        self.record.lock().unwrap_or_else(PoisonError::into_inner).checks.push(check);
        passed
    }

    /// Records the checks `checks` made elsewhere (the content checks).
    pub fn checks(&self, checks: Vec<Check>) {
        let masker = self.http.masker().clone();
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        record.checks.extend(checks.into_iter().map(|check| Check { found: masker.mask(&check.found), ..check }));
    }

    /// Checks that `answer` has status `status`.
    pub fn status(&self, answer: &Answer, status: u16) -> bool {
        self.check(format!("the answer is {status}"), answer.status == status, format!("{}", answer.status))
    }

    /// Records a check that could not be made, and why.
    pub fn not_run(&self, expected: impl Into<String>, why: impl Into<String>) {
        let check = Check::not_run(expected, self.http.masker().mask(&why.into()));
        self.record.lock().unwrap_or_else(PoisonError::into_inner).checks.push(check);
    }
}

/// Tells how a run goes, as it goes.
pub trait Progress {
    /// The run of `total` scenarios starts.
    fn start(&self, total: usize);
    /// `scenario` starts.
    fn scenario(&self, scenario: &Scenario);
    /// A scenario ended.
    fn done(&self, result: &ScenarioResult);
    /// The run ended.
    fn finish(&self);
}

/// No progress shown.
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: usize) {}
    fn scenario(&self, _: &Scenario) {}
    fn done(&self, _: &ScenarioResult) {}
    fn finish(&self) {}
}

/// Runs `scenarios` one after another (some depend on time passing: their order is part of the
/// suite), telling `progress`.
pub async fn run_all(scenarios: &[Scenario], http: &Http, progress: &dyn Progress) -> Vec<ScenarioResult> {
    progress.start(scenarios.len());
    let mut results = Vec::with_capacity(scenarios.len());
    for scenario in scenarios {
        progress.scenario(scenario);
        let result = scenario.run(http.clone()).await;
        progress.done(&result);
        results.push(result);
    }
    progress.finish();
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Masker;

    fn http() -> Http {
        Http::new(reqwest::Client::new(), Masker::new(["999911120".to_owned()]))
    }

    async fn verdict_of(scenario: Scenario) -> ScenarioResult {
        scenario.run(http()).await
    }

    #[tokio::test]
    async fn verdicts_follow_from_the_checks() {
        let passed = verdict_of(Scenario::new("a", "g", "t", "r", |probe: Probe| async move {
            probe.check("one", true, "");
            Ok(())
        }))
        .await;
        assert_eq!(passed.verdict, Verdict::Passed);

        let failed = verdict_of(Scenario::new("b", "g", "t", "r", |probe: Probe| async move {
            probe.check("one", true, "");
            probe.check("two", false, "BSN 999911120 seen");
            Ok(())
        }))
        .await;
        assert_eq!(failed.verdict, Verdict::Failed("two (found: BSN ********* seen)".into()));

        let nothing = verdict_of(Scenario::new("c", "g", "t", "r", |_probe: Probe| async move { Ok(()) })).await;
        assert_eq!(nothing.verdict, Verdict::Failed("the scenario checked nothing".into()));

        let not_run = verdict_of(Scenario::new("d", "g", "t", "r", |_probe: Probe| async move {
            Err(Stop::NotRun("needs an auditor".into()))
        }))
        .await;
        assert_eq!(not_run.verdict, Verdict::NotRun("needs an auditor".into()));

        let partly = verdict_of(Scenario::new("e", "g", "t", "r", |probe: Probe| async move {
            probe.check("one", true, "");
            probe.not_run("profile valid", "no validator");
            Ok(())
        }))
        .await;
        assert_eq!(partly.verdict, Verdict::NotRun("profile valid: no validator".into()));
    }

    #[tokio::test]
    async fn a_failed_check_outweighs_a_check_not_run_and_a_stop_keeps_its_checks() {
        let result = verdict_of(Scenario::new("f", "g", "t", "r", |probe: Probe| async move {
            probe.not_run("profile valid", "no validator");
            probe.check("status 200", false, "500");
            Err(Stop::Failed("the rest is meaningless".into()))
        }))
        .await;
        assert_eq!(result.verdict, Verdict::Failed("the rest is meaningless".into()));
        assert_eq!(result.checks.len(), 2);
    }
}
