//! The JSON report: the [`RunReport`] as it is, for tools.

use crate::outcome::RunReport;

/// The report as pretty-printed JSON.
pub fn to_json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn the_json_report_has_totals_verdicts_reasons_and_exchanges() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&sample())).unwrap();
        assert_eq!(json["totals"]["scenarios"], 3);
        assert_eq!(json["totals"]["passed"], 1);
        assert_eq!(json["totals"]["failed"], 1);
        assert_eq!(json["totals"]["not_run"], 1);
        assert_eq!(json["totals"]["profile_validations"], 3);
        assert_eq!(json["totals"]["profile_validations_passed"], 1);
        assert_eq!(json["totals"]["profile_validations_failed"], 1);
        assert_eq!(json["totals"]["profile_validations_not_run"], 1);
        assert_eq!(json["scenarios"][1]["checks"][1]["profile_validation"], true);
        assert_eq!(json["scenarios"][1]["warnings"][0], "TestScript.foo is ignored: not an element");
        assert_eq!(json["scenarios"][0]["verdict"], "passed");
        assert_eq!(json["scenarios"][1]["verdict"], "failed");
        assert_eq!(json["scenarios"][1]["reason"], "the answer is 200 (found: 500)");
        assert_eq!(json["scenarios"][2]["verdict"], "not-run");
        assert_eq!(json["scenarios"][1]["exchanges"][0]["status"], 500);
    }
}
