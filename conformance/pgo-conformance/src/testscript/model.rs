//! The parts of a FHIR `TestScript` (STU3 and R4) the runner reads, as serde types over the
//! resource's JSON form (XML scripts are converted to JSON first, see `dialect`). Elements it does
//! not read are ignored here; those that change what an assert means (`rule`, `path`, ...) are kept
//! so the runner can report them as not run instead of skipping them silently. The dialect's
//! additions are read too: extensions, `stopTestOnFail`, a profile given as a canonical.

use serde::Deserialize;
use serde_json::Value;

/// A `TestScript` resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestScript {
    /// The logical id.
    pub id: Option<String>,
    /// The canonical URL; the part before `/TestScript/` is the script's own FHIR base.
    pub url: Option<String>,
    /// A computer-friendly name.
    pub name: Option<String>,
    /// A human-friendly title.
    pub title: Option<String>,
    /// What the script checks.
    pub description: Option<String>,
    /// Why it exists.
    pub purpose: Option<String>,
    /// Resources `#id` fixtures may point at.
    #[serde(default)]
    pub contained: Vec<Value>,
    /// Extensions (the engine's rule declarations among them).
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// Fixtures: resources the script compares with or reads variables from.
    #[serde(default)]
    pub fixture: Vec<Fixture>,
    /// Profiles `validateProfileId` names.
    #[serde(default)]
    pub profile: Vec<Profile>,
    /// Variables, substituted as `${name}` and given to FHIRPath as `%name`.
    #[serde(default)]
    pub variable: Vec<Variable>,
    /// STU3 rule declarations: the code a rule id stands for.
    #[serde(default)]
    pub rule: Vec<RuleDeclaration>,
    /// The actions run once before the tests.
    pub setup: Option<Section>,
    /// The tests.
    #[serde(default)]
    pub test: Vec<Test>,
    /// The actions run once after the tests.
    pub teardown: Option<Section>,
}

/// A reference (`TestScript.profile`, `TestScript.fixture.resource`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reference {
    /// The element id (`validateProfileId` refers to it).
    pub id: Option<String>,
    /// A relative file path, `#contained-id` or a URL.
    pub reference: Option<String>,
}

/// `TestScript.profile`: a Reference, or (as the dialect writes it) a canonical, as a string or
/// as an object with a `value`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Profile {
    /// `"http://..."`.
    Canonical(String),
    /// `{"id": .., "reference": ..}` or `{"id": .., "value": ..}`.
    Element {
        /// The id `validateProfileId` names.
        id: Option<String>,
        /// The profile's URL.
        reference: Option<String>,
        /// The profile's URL, as the dialect writes it.
        value: Option<String>,
    },
}

impl Profile {
    /// The id and URL.
    pub fn parts(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Profile::Canonical(url) => (None, Some(url)),
            Profile::Element { id, reference, value } => (id.as_deref(), reference.as_deref().or(value.as_deref())),
        }
    }
}

/// An extension: its URL, nested extensions, and its `value[x]` if any.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Extension {
    /// What it is.
    #[serde(default)]
    pub url: String,
    /// Nested extensions.
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// `valueBoolean`, `valueString`, ... as found.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

impl Extension {
    /// The value as text (a string, number or Boolean `value[x]`).
    pub fn value_text(&self) -> Option<String> {
        self.rest.iter().find(|(name, _)| name.starts_with("value")).and_then(|(_, value)| match value {
            Value::String(text) => Some(text.clone()),
            Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
            _ => None,
        })
    }

    /// The nested extension `url`.
    pub fn nested(&self, url: &str) -> Option<&Extension> {
        self.extension.iter().find(|extension| extension.url == url)
    }
}

/// A rule's parameter (`name`, `value`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleParam {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its value (variables substituted when used).
    pub value: Option<String>,
}

/// `TestScript.rule` (STU3): an id and the code it stands for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleDeclaration {
    /// The id asserts name.
    pub id: Option<String>,
    /// The code (a Groovy file, in the published material).
    pub resource: Option<Reference>,
    /// Parameters for every use.
    #[serde(default)]
    pub param: Vec<RuleParam>,
}

/// `assert.rule` (STU3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertRule {
    /// The declared rule it runs.
    pub rule_id: Option<String>,
    /// Parameters of this use.
    #[serde(default)]
    pub param: Vec<RuleParam>,
}

/// `TestScript.fixture`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fixture {
    /// The id actions use as `sourceId`, `targetId`, `minimumId`.
    pub id: Option<String>,
    /// Whether the engine must create it on the server before the tests.
    #[serde(default)]
    pub autocreate: bool,
    /// Whether the engine must delete it from the server after the tests.
    #[serde(default)]
    pub autodelete: bool,
    /// Where the resource is.
    pub resource: Option<Reference>,
}

/// `TestScript.variable`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// The name used in `${name}` and `%name`.
    pub name: String,
    /// The value when nothing else gives one.
    pub default_value: Option<String>,
    /// FHIRPath on the source.
    pub expression: Option<String>,
    /// A header of the source response.
    pub header_field: Option<String>,
    /// XPath or JSONPath on the source: not supported.
    pub path: Option<String>,
    /// The fixture or response the value comes from (the last response when absent).
    pub source_id: Option<String>,
}

/// `TestScript.setup` or `TestScript.teardown`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Section {
    /// The actions, in order.
    #[serde(default)]
    pub action: Vec<Action>,
}

/// `TestScript.test`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Test {
    /// The element id.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// What it checks.
    pub description: Option<String>,
    /// The actions, in order.
    #[serde(default)]
    pub action: Vec<Action>,
}

/// One action: an operation or an assert.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Action {
    /// A request to send.
    pub operation: Option<Operation>,
    /// A check on what came back.
    pub assert: Option<Assert>,
}

/// A coding (`operation.type`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Coding {
    /// The code system (tells STU3 from R4).
    pub system: Option<String>,
    /// The code, e.g. `search`.
    pub code: Option<String>,
}

/// `action.operation`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `search`, `read`, ...
    #[serde(rename = "type")]
    pub kind: Option<Coding>,
    /// The resource type.
    pub resource: Option<String>,
    /// A label.
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// `xml`/`json` (STU3) or a MIME type (R4).
    pub accept: Option<String>,
    /// `xml`/`json` (STU3) or a MIME type (R4).
    pub content_type: Option<String>,
    /// Whether to percent-encode the URL (default true).
    pub encode_request_url: Option<bool>,
    /// The HTTP method (R4).
    pub method: Option<String>,
    /// Appended to `[base]/[resource]`: `?query` or `/id`.
    pub params: Option<String>,
    /// Extra request headers.
    #[serde(default)]
    pub request_header: Vec<RequestHeader>,
    /// Names the request, for `direction` request asserts (R4).
    pub request_id: Option<String>,
    /// Names the response, for later `sourceId`s.
    pub response_id: Option<String>,
    /// The request body's fixture (create, update).
    pub source_id: Option<String>,
    /// The fixture or response whose resource is read.
    pub target_id: Option<String>,
    /// A whole URL, absolute or relative to the base.
    pub url: Option<String>,
}

/// `operation.requestHeader`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestHeader {
    /// The header name.
    pub field: String,
    /// Its value (variables substituted).
    pub value: String,
}

/// `action.assert`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assert {
    /// Extensions (the engine's stop-on-failure and rule among them).
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// A label.
    pub label: Option<String>,
    /// What it checks.
    pub description: Option<String>,
    /// `request` or `response` (the default).
    pub direction: Option<String>,
    /// The other side of a comparison.
    pub compare_to_source_id: Option<String>,
    /// FHIRPath on the other side.
    pub compare_to_source_expression: Option<String>,
    /// XPath/JSONPath on the other side: not supported.
    pub compare_to_source_path: Option<String>,
    /// `xml`/`json` or a MIME type.
    pub content_type: Option<String>,
    /// FHIRPath.
    pub expression: Option<String>,
    /// A header name.
    pub header_field: Option<String>,
    /// A fixture the response must contain at least.
    pub minimum_id: Option<String>,
    /// Whether the Bundle's navigation links must be there.
    pub navigation_links: Option<bool>,
    /// `equals`, `notEquals`, ...
    pub operator: Option<String>,
    /// XPath/JSONPath: not supported.
    pub path: Option<String>,
    /// The request method.
    pub request_method: Option<String>,
    /// The request URL.
    #[serde(rename = "requestURL")]
    pub request_url: Option<String>,
    /// The response body's resource type.
    pub resource: Option<String>,
    /// `okay`, `created`, ...
    pub response: Option<String>,
    /// A status code (or a list of them, with `in`).
    pub response_code: Option<String>,
    /// STU3 rule: a declared rule to run.
    pub rule: Option<AssertRule>,
    /// STU3 ruleset: external code, never run.
    pub ruleset: Option<Value>,
    /// The fixture or response checked (the last response when absent).
    pub source_id: Option<String>,
    /// A failure stops the test (R5, and the dialect in STU3 and R4).
    pub stop_test_on_fail: Option<bool>,
    /// A profile of `TestScript.profile` to validate against.
    pub validate_profile_id: Option<String>,
    /// The value compared with.
    pub value: Option<String>,
    /// A failure is a warning only.
    #[serde(default)]
    pub warning_only: bool,
}
