//! The JUnit XML report (the shape CI servers read): one `testsuite` per group, one `testcase`
//! per scenario, `failure` for a failed one and `skipped` for one not run.

use crate::outcome::{RunReport, ScenarioResult, Verdict};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The report as JUnit XML.
pub fn to_junit(report: &RunReport) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail; the results are ignored for that reason.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "pgo-conformance"));
    root.push_attribute(("tests", report.totals.scenarios.to_string().as_str()));
    root.push_attribute(("failures", report.totals.failed.to_string().as_str()));
    root.push_attribute(("skipped", report.totals.not_run.to_string().as_str()));
    root.push_attribute(("time", seconds(report.millis).as_str()));
    let _ = writer.write_event(Event::Start(root));
    for group in report.groups() {
        let cases: Vec<&ScenarioResult> = report.scenarios.iter().filter(|scenario| scenario.group == group).collect();
        let count =
            |wanted: fn(&Verdict) -> bool| cases.iter().filter(|case| wanted(&case.verdict)).count().to_string();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", group));
        suite.push_attribute(("tests", cases.len().to_string().as_str()));
        suite.push_attribute(("failures", count(|verdict| matches!(verdict, Verdict::Failed(_))).as_str()));
        suite.push_attribute(("skipped", count(|verdict| matches!(verdict, Verdict::NotRun(_))).as_str()));
        suite.push_attribute(("time", seconds(cases.iter().map(|case| case.millis).sum()).as_str()));
        let _ = writer.write_event(Event::Start(suite));
        // The profile validations, counted on their own (properties of the suite).
        let profiles = cases.iter().fold([0; 3], |sum, case| {
            let [passed, failed, not_run] = profile_counts(case);
            [sum[0] + passed, sum[1] + failed, sum[2] + not_run]
        });
        let _ = writer.write_event(Event::Start(BytesStart::new("properties")));
        for (name, count) in ["passed", "failed", "not-run"].into_iter().zip(profiles) {
            let mut property = BytesStart::new("property");
            property.push_attribute(("name", format!("profile-validations-{name}").as_str()));
            property.push_attribute(("value", count.to_string().as_str()));
            let _ = writer.write_event(Event::Empty(property));
        }
        let _ = writer.write_event(Event::End(BytesEnd::new("properties")));
        for case in cases {
            write_case(&mut writer, case);
        }
        let _ = writer.write_event(Event::End(BytesEnd::new("testsuite")));
    }
    let _ = writer.write_event(Event::End(BytesEnd::new("testsuites")));
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write_case(writer: &mut Writer<Vec<u8>>, case: &ScenarioResult) {
    let mut element = BytesStart::new("testcase");
    element.push_attribute(("classname", format!("pgo-conformance.{}", case.group).as_str()));
    element.push_attribute(("name", case.id.as_str()));
    element.push_attribute(("time", seconds(case.millis).as_str()));
    let _ = writer.write_event(Event::Start(element));
    match &case.verdict {
        Verdict::Passed => {}
        Verdict::Failed(reason) => {
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", reason.as_str()));
            let _ = writer.write_event(Event::Start(failure));
            let _ = writer.write_event(Event::Text(BytesText::new(&details(case))));
            let _ = writer.write_event(Event::End(BytesEnd::new("failure")));
        }
        Verdict::NotRun(reason) => {
            let mut skipped = BytesStart::new("skipped");
            skipped.push_attribute(("message", reason.as_str()));
            let _ = writer.write_event(Event::Empty(skipped));
        }
    }
    let _ = writer.write_event(Event::Start(BytesStart::new("system-out")));
    let mut out = format!("{}\nrule: {}", case.title, case.rule);
    let [passed, failed, not_run] = profile_counts(case);
    if passed + failed + not_run > 0 {
        let line = crate::report::console::profile_validations(passed, failed, not_run);
        out.push_str(&format!("\n{}", line.trim_end()));
    }
    for warning in &case.warnings {
        out.push_str(&format!("\nwarning: {warning}"));
    }
    let _ = writer.write_event(Event::Text(BytesText::new(&out)));
    let _ = writer.write_event(Event::End(BytesEnd::new("system-out")));
    let _ = writer.write_event(Event::End(BytesEnd::new("testcase")));
}

/// The profile validations of `case`: passed, failed, not run.
fn profile_counts(case: &ScenarioResult) -> [usize; 3] {
    let profiles = || case.checks.iter().filter(|check| check.profile_validation);
    [
        profiles().filter(|check| check.passed).count(),
        profiles().filter(|check| check.failed()).count(),
        profiles().filter(|check| check.not_run).count(),
    ]
}

/// The failed checks and the exchanges' request lines and statuses.
fn details(case: &ScenarioResult) -> String {
    let mut text = String::new();
    for check in case.checks.iter().filter(|check| !check.passed) {
        text.push_str(&format!("expected: {}\nfound: {}\n", check.expected, check.found));
    }
    for exchange in &case.exchanges {
        text.push_str(&format!("{} {} -> {}\n", exchange.method, exchange.url, exchange.status));
    }
    text
}

fn seconds(millis: u64) -> String {
    format!("{:.3}", millis as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;
    use quick_xml::Reader;

    #[test]
    fn the_junit_report_is_well_formed_with_counts_failures_and_skips() {
        let xml = to_junit(&sample());
        let mut reader = Reader::from_str(&xml);
        let mut names = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(element) | Event::Empty(element) => names.push(element.name().as_ref().to_owned()),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(names.iter().filter(|name| *name == "testcase").count(), 3);
        assert_eq!(names.iter().filter(|name| *name == "failure").count(), 1);
        assert_eq!(names.iter().filter(|name| *name == "skipped").count(), 1);
        assert!(xml.contains(r#"<testsuites name="pgo-conformance" tests="3" failures="1" skipped="1""#), "{xml}");
        assert!(xml.contains(r#"<property name="profile-validations-passed" value="1"/>"#), "{xml}");
        assert!(xml.contains(r#"<property name="profile-validations-failed" value="1"/>"#), "{xml}");
        assert!(xml.contains(r#"<property name="profile-validations-not-run" value="1"/>"#), "{xml}");
        assert!(
            xml.contains("profile validations (validateProfileId): 1 run (0 passed, 1 failed), 1 not run"),
            "{xml}"
        );
        assert!(xml.contains("warning: TestScript.foo is ignored"), "{xml}");
        assert!(
            xml.contains("GET https://x.example/fhir/Patient -&gt; 500")
                || xml.contains("GET https://x.example/fhir/Patient -> 500"),
            "{xml}"
        );
    }
}
