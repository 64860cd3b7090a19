//! The live console view: a progress bar naming the scenario running, each failure printed as it
//! happens, and a summary per group at the end.

use crate::outcome::{RunReport, ScenarioResult, Verdict};
use crate::scenario::{Progress, Scenario};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr (hidden when stderr is not a terminal).
#[derive(Debug)]
pub struct Console {
    bar: ProgressBar,
}

impl Console {
    /// A progress bar on stderr.
    pub fn stderr() -> Console {
        Console::with_target(ProgressDrawTarget::stderr())
    }

    /// A progress bar drawn to `target` (hidden in tests).
    pub fn with_target(target: ProgressDrawTarget) -> Console {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template("{bar:40.cyan/blue} {pos:>3}/{len:3} {elapsed:>4} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Console { bar }
    }

    /// Scenarios done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }
}

impl Progress for Console {
    fn start(&self, total: usize) {
        self.bar.set_length(total as u64);
    }

    fn scenario(&self, scenario: &Scenario) {
        self.bar.set_message(scenario.id.clone());
    }

    fn done(&self, result: &ScenarioResult) {
        if let Verdict::Failed(reason) = &result.verdict {
            self.bar.println(format!("FAILED  {}: {reason}", result.id));
        }
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The summary printed after a run: per group its counts, then the failures and the scenarios
/// not run with their reasons, then the totals.
pub fn summary(report: &RunReport) -> String {
    let mut text = format!("{} against {}\n\n", report.tool, report.target);
    // TestScript groups are script names, often longer than the suite's.
    let width = report.groups().iter().map(|group| group.chars().count()).max().unwrap_or(0).max(14);
    text.push_str(&format!("{:<width$} {:>6} {:>6} {:>6} {:>7}\n", "group", "run", "passed", "failed", "not run"));
    for group in report.groups() {
        let cases: Vec<&ScenarioResult> = report.scenarios.iter().filter(|scenario| scenario.group == group).collect();
        let count = |label: &str| cases.iter().filter(|case| case.verdict.label() == label).count();
        text.push_str(&format!(
            "{group:<width$} {:>6} {:>6} {:>6} {:>7}\n",
            cases.len(),
            count("passed"),
            count("failed"),
            count("not run")
        ));
    }
    for scenario in report.scenarios.iter().filter(|scenario| !scenario.warnings.is_empty()) {
        text.push_str(&format!("\nWARNINGS {}\n", scenario.group));
        for warning in &scenario.warnings {
            text.push_str(&format!("         {warning}\n"));
        }
    }
    for scenario in &report.scenarios {
        match &scenario.verdict {
            Verdict::Passed => {}
            Verdict::Failed(reason) => text.push_str(&format!(
                "\nFAILED   {}\n         {reason}\n         rule: {}\n",
                scenario.id, scenario.rule
            )),
            Verdict::NotRun(reason) => text.push_str(&format!("\nNOT RUN  {}\n         {reason}\n", scenario.id)),
        }
    }
    let totals = &report.totals;
    text.push_str(&format!(
        "\n{} scenarios: {} passed, {} failed, {} not run ({} checks: {} passed, {} failed, {} not run) in {:.1} s\n",
        totals.scenarios,
        totals.passed,
        totals.failed,
        totals.not_run,
        totals.checks,
        totals.checks.saturating_sub(totals.checks_failed + totals.checks_not_run),
        totals.checks_failed,
        totals.checks_not_run,
        report.millis as f64 / 1000.0
    ));
    if shows_profile_validations(report) {
        text.push_str(&profile_validations(
            totals.profile_validations_passed,
            totals.profile_validations_failed,
            totals.profile_validations_not_run,
        ));
    }
    text
}

/// Whether a report of this run gives the profile-validation line: a TestScript run's always (its
/// scripts may validate), the suite's only when a check was one.
pub fn shows_profile_validations(report: &RunReport) -> bool {
    report.kind == "testscript" || report.totals.profile_validations > 0
}

/// The line every report gives the profile validations (`validateProfileId`): how many were made
/// (passed and failed) and how many could not be.
pub fn profile_validations(passed: usize, failed: usize, not_run: usize) -> String {
    format!(
        "profile validations (validateProfileId): {} run ({passed} passed, {failed} failed), {not_run} not run\n",
        passed + failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn the_summary_counts_per_group_and_names_failures_with_their_rule() {
        let text = summary(&sample());
        assert!(text.contains("3 scenarios: 1 passed, 1 failed, 1 not run"), "{text}");
        assert!(text.contains("FAILED   retrieval.48.q5.json"), "{text}");
        assert!(text.contains("rule: The BgZ (48) query list"), "{text}");
        assert!(text.contains("NOT RUN  metering.exchange-reported"), "{text}");
        assert!(text.contains("discovery"), "{text}");
        assert!(
            text.contains("profile validations (validateProfileId): 2 run (1 passed, 1 failed), 1 not run\n"),
            "{text}"
        );
        assert!(text.contains("WARNINGS retrieval\n         TestScript.foo is ignored"), "{text}");
    }

    #[tokio::test]
    async fn the_progress_bar_advances_once_per_scenario() {
        let console = Console::with_target(ProgressDrawTarget::hidden());
        let report = sample();
        console.start(report.scenarios.len());
        for result in &report.scenarios {
            console.done(result);
        }
        assert_eq!(console.position(), 3);
        assert_eq!(console.bar.length(), Some(3));
    }
}
