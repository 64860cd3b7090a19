//! The parts of a FHIR `TestScript` (STU3 and R4) the runner reads, as serde types over the
//! resource's JSON form (XML scripts are converted to JSON first). Elements it does not read are
//! ignored here; those that change what an assert means (`rule`, `path`, ...) are kept so the
//! runner can report them as not run instead of skipping them silently.

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
    /// Fixtures: resources the script compares with or reads variables from.
    #[serde(default)]
    pub fixture: Vec<Fixture>,
    /// Profiles `validateProfileId` names.
    #[serde(default)]
    pub profile: Vec<Reference>,
    /// Variables, substituted as `${name}` and given to FHIRPath as `%name`.
    #[serde(default)]
    pub variable: Vec<Variable>,
    /// STU3 rules (external code): never run.
    #[serde(default)]
    pub rule: Vec<Value>,
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
    /// STU3 rule: external code, never run.
    pub rule: Option<Value>,
    /// STU3 ruleset: external code, never run.
    pub ruleset: Option<Value>,
    /// The fixture or response checked (the last response when absent).
    pub source_id: Option<String>,
    /// A profile of `TestScript.profile` to validate against.
    pub validate_profile_id: Option<String>,
    /// The value compared with.
    pub value: Option<String>,
    /// A failure is a warning only.
    #[serde(default)]
    pub warning_only: bool,
}
