//! The engine's extensions, read off the model: whether an assert stops its test when it fails,
//! which rule an assert runs (STU3's `assert.rule`, or the `testscript-assert-rule` extension R4
//! scripts use), and the rules a script declares (STU3's `rule`, or a `testscript-rule` /
//! `Interoplab-CL-ext-rule` extension with `ruleId` and `path`). Extensions are known by the last
//! segment of their URL. Any other extension is named in a warning.

use crate::testscript::model::{Assert, Extension, RuleParam, TestScript};
use serde_json::Value;

const STOP_TEST_ON_FAIL: &str = "testscript-assert-stopTestOnFail";
const ASSERT_RULE: &str = "testscript-assert-rule";
const SCRIPT_RULES: [&str; 2] = ["testscript-rule", "Interoplab-CL-ext-rule"];

fn named(extension: &Extension, name: &str) -> bool {
    extension.url.rsplit('/').next() == Some(name)
}

/// A rule an assert runs, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleCall {
    /// The id of the declared rule.
    pub id: String,
    /// Parameters (name, value), variables not yet substituted.
    pub params: Vec<(String, String)>,
}

/// A rule a script declares: its id, the file of its code, its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredRule {
    pub id: String,
    pub path: Option<String>,
    pub params: Vec<(String, String)>,
}

/// Whether a failure of `assert` stops its test: its `stopTestOnFail`, else the extension.
pub(crate) fn stops_test(assert: &Assert) -> bool {
    assert.stop_test_on_fail.unwrap_or_else(|| {
        let flag = assert.extension.iter().find(|extension| named(extension, STOP_TEST_ON_FAIL));
        flag.and_then(Extension::value_text).is_some_and(|value| value == "true")
    })
}

/// The rule `assert` runs, if any.
pub(crate) fn rule_call(assert: &Assert) -> Option<RuleCall> {
    if let Some(rule) = &assert.rule {
        let id = rule.rule_id.clone().unwrap_or_default();
        return Some(RuleCall { id, params: params(&rule.param) });
    }
    let extension = assert.extension.iter().find(|extension| named(extension, ASSERT_RULE))?;
    let id = extension.nested("ruleId").and_then(Extension::value_text).unwrap_or_default();
    Some(RuleCall { id, params: extension_params(extension, &["ruleId"]) })
}

/// The rules `script` declares.
pub(crate) fn declared_rules(script: &TestScript) -> Vec<DeclaredRule> {
    let stu3 = script.rule.iter().map(|rule| DeclaredRule {
        id: rule.id.clone().unwrap_or_default(),
        path: rule.resource.as_ref().and_then(|resource| resource.reference.clone()),
        params: params(&rule.param),
    });
    let extensions = script.extension.iter().filter(|extension| SCRIPT_RULES.iter().any(|name| named(extension, name)));
    let dialect = extensions.map(|extension| DeclaredRule {
        id: extension.nested("ruleId").and_then(Extension::value_text).unwrap_or_default(),
        path: extension.nested("path").and_then(Extension::value_text),
        params: extension_params(extension, &["ruleId", "path"]),
    });
    stu3.chain(dialect).collect()
}

fn params(params: &[RuleParam]) -> Vec<(String, String)> {
    params.iter().map(|param| (param.name.clone(), param.value.clone().unwrap_or_default())).collect()
}

/// Parameters of a rule extension: `param` extensions with `name` and `value`, or any other nested
/// extension as a parameter of its URL's name.
fn extension_params(extension: &Extension, reserved: &[&str]) -> Vec<(String, String)> {
    let nested = extension.extension.iter().filter(|nested| !reserved.contains(&nested.url.as_str()));
    nested
        .map(|nested| {
            if nested.url == "param" {
                let part = |name: &str| nested.nested(name).and_then(Extension::value_text).unwrap_or_default();
                (part("name"), part("value"))
            } else {
                (nested.url.clone(), nested.value_text().unwrap_or_default())
            }
        })
        .collect()
}

/// Warnings for every extension of the script (outside contained resources) this runner does not
/// read, by path.
pub(crate) fn unknown(script: &Value) -> Vec<String> {
    let mut found = std::collections::BTreeMap::<String, usize>::new();
    walk(script, "TestScript", &mut found);
    found
        .into_iter()
        .map(|(what, count)| {
            let times = if count > 1 { format!(" ({count} times)") } else { String::new() };
            format!("{what} is ignored: an extension this runner does not read{times}")
        })
        .collect()
}

fn walk(value: &Value, path: &str, found: &mut std::collections::BTreeMap<String, usize>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| walk(item, path, found)),
        Value::Object(members) => {
            for (name, member) in members.iter().filter(|(name, _)| name.as_str() != "contained") {
                let child = format!("{path}.{name}");
                if matches!(name.as_str(), "extension" | "modifierExtension") {
                    for extension in member.as_array().into_iter().flatten() {
                        let url = extension["url"].as_str().unwrap_or("(no url)");
                        let last = url.rsplit('/').next().unwrap_or_default();
                        let known = last == STOP_TEST_ON_FAIL || last == ASSERT_RULE || SCRIPT_RULES.contains(&last);
                        if !known {
                            *found.entry(format!("{child} {url}")).or_default() += 1;
                        }
                    }
                } else {
                    walk(member, &child, found);
                }
            }
        }
        _ => {}
    }
}
