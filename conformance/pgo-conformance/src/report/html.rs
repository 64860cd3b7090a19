//! The HTML report: one self-contained page (its style inline, no scripts, nothing fetched) with
//! the totals, and per scenario its verdict, the rule it cites, its checks and the requests and
//! responses that decided it (BSNs already masked). Failures are opened, passes folded.

use crate::outcome::{Exchange, RunReport, ScenarioResult, Verdict};
use maud::{DOCTYPE, Markup, PreEscaped, html};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}\
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}\
.passed{color:#176b2c}.failed{color:#b00020}.not-run{color:#8a6d00}\
details{margin:.3rem 0;border-left:4px solid #ccc;padding-left:.6rem}\
details.failed{border-color:#b00020}details.passed{border-color:#176b2c}details.not-run{border-color:#8a6d00}\
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;max-height:24rem}\
summary{cursor:pointer}.rule{color:#555;font-style:italic}";

/// The report as an HTML page.
pub fn to_html(report: &RunReport) -> String {
    let totals = &report.totals;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "pgo-conformance: " (report.target) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "pgo-conformance report" }
                p { "Target: " strong { (report.target) } " · started " (report.started) " · " (format!("{:.1}", report.millis as f64 / 1000.0)) " s · " (report.tool) }
                p id="totals" {
                    (totals.scenarios) " scenarios: "
                    span.passed { (totals.passed) " passed" } ", "
                    span.failed { (totals.failed) " failed" } ", "
                    span."not-run" { (totals.not_run) " not run" }
                    " (" (totals.checks) " checks, " (totals.checks_failed) " failed)"
                }
                @if crate::report::console::shows_profile_validations(report) {
                    p id="profile-validations" {
                        (crate::report::console::profile_validations(
                            totals.profile_validations_passed,
                            totals.profile_validations_failed,
                            totals.profile_validations_not_run,
                        ).trim_end())
                    }
                }
                table {
                    tr { th { "group" } th { "run" } th { "passed" } th { "failed" } th { "not run" } }
                    @for group in report.groups() {
                        @let cases: Vec<&ScenarioResult> = report.scenarios.iter().filter(|scenario| scenario.group == group).collect();
                        tr {
                            td { (group) }
                            td { (cases.len()) }
                            td.passed { (cases.iter().filter(|case| case.verdict == Verdict::Passed).count()) }
                            td.failed { (cases.iter().filter(|case| matches!(case.verdict, Verdict::Failed(_))).count()) }
                            td."not-run" { (cases.iter().filter(|case| matches!(case.verdict, Verdict::NotRun(_))).count()) }
                        }
                    }
                }
                @for group in report.groups() {
                    h2 { (group) }
                    @for scenario in report.scenarios.iter().filter(|scenario| scenario.group == group) {
                        (scenario_section(scenario))
                    }
                }
            }
        }
    };
    page.into_string()
}

fn class(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Failed(_) => "failed",
        Verdict::NotRun(_) => "not-run",
    }
}

fn scenario_section(scenario: &ScenarioResult) -> Markup {
    let failed = matches!(scenario.verdict, Verdict::Failed(_));
    html! {
        details class=(class(&scenario.verdict)) id=(scenario.id) open[failed] {
            summary {
                span class=(class(&scenario.verdict)) { (scenario.verdict.label().to_uppercase()) } " "
                code { (scenario.id) } " " (scenario.title)
            }
            p.rule { "Rule: " (scenario.rule) }
            @if let Some(reason) = scenario.verdict.reason() {
                p { strong { "Why: " } (reason) }
            }
            @if !scenario.warnings.is_empty() {
                p { strong { "Read past in this script:" } }
                ul.warnings {
                    @for warning in &scenario.warnings {
                        li { (warning) }
                    }
                }
            }
            @if !scenario.checks.is_empty() {
                ul {
                    @for check in &scenario.checks {
                        li class=(if check.passed { "passed" } else if check.not_run { "not-run" } else { "failed" }) {
                            (if check.passed { "✓ " } else if check.not_run { "– " } else { "✗ " }) (check.expected)
                            @if check.profile_validation { " (profile validation)" }
                            @if !check.found.is_empty() { " (found: " (check.found) ")" }
                        }
                    }
                }
            }
            @for exchange in &scenario.exchanges {
                (exchange_section(exchange))
            }
        }
    }
}

fn exchange_section(exchange: &Exchange) -> Markup {
    let request_headers: String =
        exchange.request_headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect();
    let response_headers: String =
        exchange.response_headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect();
    html! {
        details.exchange {
            summary { code { (exchange.method) " " (exchange.url) } " → " (exchange.status) " (" (exchange.millis) " ms)" }
            pre { (exchange.method) " " (exchange.url) "\n" (request_headers) @if !exchange.request_body.is_empty() { "\n" (exchange.request_body) } }
            pre { (exchange.status) "\n" (response_headers) "\n" (exchange.response_body) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn the_page_is_self_contained_with_every_scenario_its_verdict_and_the_deciding_exchange_escaped() {
        let page = to_html(&sample());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(!page.contains("<script"), "no scripts");
        assert!(!page.contains("src=") && !page.contains("href="), "nothing fetched");
        assert!(page.contains(r#"id="discovery.zal""#));
        assert!(page.contains(r#"<details class="failed" id="retrieval.48.q5.json" open>"#), "{page}");
        assert!(page.contains(r#"<details class="not-run" id="metering.exchange-reported">"#));
        assert!(page.contains("3 scenarios"));
        assert!(page.contains("GET https://x.example/fhir/Patient"));
        // The response body is shown as text, never as markup.
        assert!(page.contains("&lt;b&gt;*********&lt;/b&gt;"), "{page}");
        assert!(page.contains("Why: </strong>needs an auditor"));
        assert!(
            page.contains("profile validations (validateProfileId): 2 run (1 passed, 1 failed), 1 not run"),
            "{page}"
        );
        assert!(page.contains("TestScript.foo is ignored"), "{page}");
    }
}
