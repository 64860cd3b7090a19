//! `rule` asserts: the rules the published qualification scripts run, implemented here by name.
//! A script declares a rule as a file of code (Groovy, in the published material) under an id, and
//! an assert runs it by that id (STU3 `assert.rule`, or the engine's extension in R4). The runner
//! runs no foreign code: it knows a rule by its file's name (else by its id), with `-` and `_`
//! alike and any case:
//!
//! - `assert_response_queryParamsInSelfLink`: every parameter of the request's query (by name and
//!   value, percent-decoded; a comma list in any order) is echoed in the self link of the Bundle
//!   answered. `_format` is left out: it names the answer's format, it is no search parameter.
//! - `assertRequestURLContains`: the request URL holds one of the values of the rule's parameters
//!   `searchparam1`, `searchparam2`, ...
//!
//! Any other rule is not run, with its name and file.

use super::asserts::Part;
use super::dialect::extensions::{self, RuleCall};
use super::state::{Problem, Source, State};
use super::variables;
use serde_json::Value;

/// The part of an assert that runs `call`; `source_id` names the response checked.
pub(crate) fn part(call: &RuleCall, source_id: Option<&str>, state: &State<'_>) -> Part {
    let declared = extensions::declared_rules(&state.script.definition).into_iter().find(|rule| rule.id == call.id);
    let file = declared.as_ref().and_then(|rule| rule.path.clone());
    let name = file
        .as_deref()
        .and_then(|path| path.rsplit(['/', '\\']).next())
        .map(|file| file.split('.').next().unwrap_or(file).to_owned())
        .unwrap_or_else(|| call.id.clone());
    let what = format!("rule {}", call.id);
    let mut params = declared.map(|rule| rule.params).unwrap_or_default();
    params.extend(call.params.iter().cloned());
    match folded(&name).as_str() {
        "assert_response_queryparamsinselflink" => Part::new(
            format!("{what}: every request parameter is echoed in the self link"),
            query_in_self_link(source_id, state),
        ),
        "assertrequesturlcontains" => request_url_contains(&what, &params, source_id, state),
        _ => {
            let file = file.map(|file| format!(" ({file})")).unwrap_or_default();
            Part::new(
                what,
                Err(Problem::NotRun(format!("the rule {}{file} is not one this runner implements", call.id))),
            )
        }
    }
}

fn folded(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn query_in_self_link(source_id: Option<&str>, state: &State<'_>) -> Result<(), Problem> {
    let request = state.request(source_id)?;
    let body = state.source(source_id).and_then(Source::body)?;
    let asked = url::Url::parse(&request.url)
        .map_err(|error| Problem::NotRun(format!("the request URL does not parse: {error}")))?;
    let self_link = self_link(body).ok_or_else(|| Problem::Failed("the answer has no self link".into()))?;
    let echoed = url::Url::parse(&self_link)
        .or_else(|_| asked.join(&self_link))
        .map_err(|_| Problem::Failed(format!("the self link {self_link:?} is not a URL")))?;
    let echoed: Vec<(String, String)> = echoed.query_pairs().map(|(n, v)| (n.into_owned(), v.into_owned())).collect();
    let missing: Vec<String> = asked
        .query_pairs()
        .filter(|(name, _)| name != "_format")
        .filter(|(name, value)| !echoed.iter().any(|(n, v)| n == name && same_values(v, value)))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Problem::Failed(format!("not in the self link {self_link}: {}", missing.join(", "))))
    }
}

/// The url of the Bundle's link with relation `self`.
fn self_link(body: &Value) -> Option<String> {
    let links = body["link"].as_array()?;
    let link = links.iter().find(|link| link["relation"] == "self")?;
    link["url"].as_str().map(str::to_owned)
}

/// Equal, or the same comma list in another order.
fn same_values(a: &str, b: &str) -> bool {
    let mut left: Vec<&str> = a.split(',').collect();
    let mut right: Vec<&str> = b.split(',').collect();
    left.sort_unstable();
    right.sort_unstable();
    a == b || left == right
}

fn request_url_contains(what: &str, params: &[(String, String)], source_id: Option<&str>, state: &State<'_>) -> Part {
    let wanted: Result<Vec<String>, Problem> = params
        .iter()
        .filter(|(name, _)| name.starts_with("searchparam"))
        .map(|(_, value)| variables::substitute(value, state))
        .collect();
    let wanted = match wanted {
        Ok(wanted) if !wanted.is_empty() => wanted,
        Ok(_) => return Part::new(what, Err(Problem::NotRun("the rule was given no searchparam parameter".into()))),
        Err(problem) => return Part::new(what, Err(problem)),
    };
    let result = state.request(source_id).and_then(|request| {
        let decoded = decoded(&request.url);
        if wanted.iter().any(|value| request.url.contains(value.as_str()) || decoded.contains(value.as_str())) {
            Ok(())
        } else {
            Err(Problem::Failed(format!("the request URL {} holds none of them", request.url)))
        }
    });
    Part::new(format!("{what}: the request URL holds one of {}", wanted.join(", ")), result)
}

/// The URL with its query percent-decoded.
fn decoded(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let query: Vec<String> = parsed.query_pairs().map(|(name, value)| format!("{name}={value}")).collect();
    format!("{}{}?{}", parsed.origin().ascii_serialization(), parsed.path(), query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testscript::load::Script;
    use crate::testscript::model::{Reference, RuleDeclaration, RuleParam, TestScript};
    use crate::testscript::release::Detected;
    use crate::testscript::state::{Request, Response};
    use serde_json::json;

    fn script(rules: Vec<RuleDeclaration>) -> Script {
        let detected = Detected { release: fhir_core::Release::Stu3, why: String::new() };
        Script::new("s", detected, TestScript { rule: rules, ..TestScript::default() })
    }

    fn declared(id: &str, file: &str, params: &[(&str, &str)]) -> RuleDeclaration {
        RuleDeclaration {
            id: Some(id.into()),
            resource: Some(Reference { id: None, reference: Some(format!("../_reference/rules/{file}")) }),
            param: params.iter().map(|(n, v)| RuleParam { name: (*n).into(), value: Some((*v).into()) }).collect(),
        }
    }

    fn answered<'s>(script: &'s Script, url: &str, self_link: Option<&str>) -> State<'s> {
        let mut state = State::new(script);
        let links: Vec<Value> = self_link.iter().map(|url| json!({"relation": "self", "url": url})).collect();
        let response = Response {
            status: 200,
            headers: Vec::new(),
            media_type: "application/fhir+json".into(),
            body: Ok(Some(json!({"resourceType": "Bundle", "type": "searchset", "link": links}))),
        };
        let request = Request { method: "GET".into(), url: url.into(), headers: Vec::new() };
        state.record(Some(request), Ok(response), None, None);
        state
    }

    fn call(id: &str) -> RuleCall {
        RuleCall { id: id.into(), params: Vec::new() }
    }

    #[test]
    fn every_request_parameter_must_be_echoed_in_the_self_link() {
        let script = script(vec![declared(
            "assert_response_queryParamsInSelfLink",
            "assert_response_queryParamsInSelfLink.groovy",
            &[],
        )]);
        let asked = "https://x/fhir/Observation?code=http%3A%2F%2Floinc.org%7C8302-2,http://loinc.org|8306-3&_include=Observation:specimen&_format=json";
        let good = "https://x/fhir/Observation?_include=Observation%3Aspecimen&code=http://loinc.org|8306-3,http://loinc.org|8302-2";
        let state = answered(&script, asked, Some(good));
        assert_eq!(part(&call("assert_response_queryParamsInSelfLink"), None, &state).result, Ok(()));
        let state = answered(&script, asked, Some("https://x/fhir/Observation?_include=Observation:specimen"));
        let missing = part(&call("assert_response_queryParamsInSelfLink"), None, &state).result;
        assert!(matches!(missing, Err(Problem::Failed(why)) if why.contains("code=http://loinc.org|8302-2")));
        let state = answered(&script, asked, None);
        assert!(matches!(
            part(&call("assert_response_queryParamsInSelfLink"), None, &state).result,
            Err(Problem::Failed(_))
        ));
    }

    #[test]
    fn rules_are_known_by_their_file_or_their_id_in_any_spelling() {
        // R4 scripts name the rule with dashes and declare the file with underscores.
        let script = script(vec![declared(
            "assert-response-queryParamsInSelfLink",
            "assert_response_queryParamsInSelfLink.groovy",
            &[],
        )]);
        let state = answered(&script, "https://x/fhir/Patient", Some("https://x/fhir/Patient"));
        assert_eq!(part(&call("assert-response-queryParamsInSelfLink"), None, &state).result, Ok(()));
        // Undeclared: the id itself.
        let bare = self::script(Vec::new());
        let state = answered(&bare, "https://x/fhir/Patient?a=1", Some("https://x/fhir/Patient?a=1"));
        assert_eq!(part(&call("ASSERT-RESPONSE-QUERYPARAMSINSELFLINK"), None, &state).result, Ok(()));
    }

    #[test]
    fn the_request_url_must_hold_one_of_the_given_parameters() {
        let rule = declared("urlContains", "assertRequestURLContains.groovy", &[("searchparam1", "period-of-use=ge")]);
        let script = script(vec![rule]);
        let state = answered(&script, "https://x/fhir/MedicationRequest?period-of-use=ge2020-01-01", None);
        let with_second =
            RuleCall { id: "urlContains".into(), params: vec![("searchparam2".into(), "nothing".into())] };
        assert_eq!(part(&with_second, None, &state).result, Ok(()));
        let state = answered(&script, "https://x/fhir/MedicationRequest?category=x", None);
        assert!(matches!(part(&with_second, None, &state).result, Err(Problem::Failed(_))));
    }

    #[test]
    fn an_unknown_rule_is_not_run_with_its_name() {
        let script = script(vec![declared("custom", "assertSomethingElse.groovy", &[])]);
        let state = answered(&script, "https://x/fhir/Patient", None);
        let result = part(&call("custom"), None, &state).result;
        assert!(
            matches!(result, Err(Problem::NotRun(why)) if why.contains("custom") && why.contains("assertSomethingElse.groovy"))
        );
    }
}
