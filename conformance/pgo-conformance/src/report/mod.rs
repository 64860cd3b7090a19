//! The run's reports: a live console view with a progress bar and a summary, JUnit XML for CI
//! servers, JSON for tools, and a self-contained HTML page for people. All are written from a
//! [`RunReport`](crate::outcome::RunReport), whose exchanges are already masked.

pub mod console;
pub mod html;
pub mod json;
pub mod junit;

#[cfg(test)]
pub(crate) mod tests {
    use crate::outcome::{Check, Exchange, RunReport, ScenarioResult, Verdict};

    fn scenario(
        id: &str,
        group: &str,
        verdict: Verdict,
        checks: Vec<Check>,
        exchanges: Vec<Exchange>,
    ) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            group: group.into(),
            title: format!("title of {id}"),
            rule: "The BgZ (48) query list: every one must work".into(),
            verdict,
            checks,
            exchanges,
            warnings: Vec::new(),
            millis: 12,
        }
    }

    /// A run of three scenarios: passed, failed (with the exchange that decided it), not run; three
    /// profile validations: passed, not run, failed.
    pub(crate) fn sample() -> RunReport {
        let exchange = Exchange {
            method: "GET".into(),
            url: "https://x.example/fhir/Patient".into(),
            request_headers: vec![("accept".into(), "application/fhir+json".into())],
            request_body: String::new(),
            status: 500,
            response_headers: vec![("content-type".into(), "application/fhir+json".into())],
            response_body: r#"{"resourceType":"OperationOutcome","note":"<b>*********</b>"}"#.into(),
            millis: 3,
        };
        let passed = Check::new("a ZAL", true, "");
        let failed = Check::new("the answer is 200", false, "500");
        let profile = |check: Check| Check { profile_validation: true, ..check };
        let valid = profile(Check::new("valid against profile Bundle-profile", true, ""));
        let unknown = profile(Check::not_run("valid against profile p", "profile p is not loaded"));
        let invalid = profile(Check::new("valid against profile Bundle-profile", false, "1 error: Bundle.type"));
        RunReport::new(
            "suite",
            "umcx in https://x.example/zal.xml",
            "2026-11-24T10:00:00Z".into(),
            1234,
            vec![
                scenario("discovery.zal", "discovery", Verdict::Passed, vec![passed, valid], Vec::new()),
                ScenarioResult {
                    warnings: vec!["TestScript.foo is ignored: not an element".into()],
                    ..scenario(
                        "retrieval.48.q5.json",
                        "retrieval",
                        Verdict::Failed("the answer is 200 (found: 500)".into()),
                        vec![failed, unknown, invalid],
                        vec![exchange],
                    )
                },
                scenario(
                    "metering.exchange-reported",
                    "metering",
                    Verdict::NotRun("needs an auditor".into()),
                    Vec::new(),
                    Vec::new(),
                ),
            ],
        )
    }
}
