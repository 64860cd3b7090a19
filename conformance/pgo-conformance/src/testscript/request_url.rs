//! The URL an operation asks, as qualification tools build it against the server under test:
//! `url` when given (relative to the target base; absolute ones only when they start with the
//! target base or with the script's own base, the part of `TestScript.url` before
//! `/TestScript/`, which is replaced by the target base); else from `targetId` (read, vread,
//! history of that resource); else `[base]/[resource][params]`. Other absolute URLs are not asked:
//! the bearer token would go to another server. Writes (load scripts', and the target's when the
//! run allows them; see `writes`) are built the same way: `create` at `[base]/[resource]`,
//! `update` at `[base]/[resource]/[id]` (from `params`, else the id of the fixture sent; the
//! resource, when the operation names none, is the fixture's type), `delete` from `targetId` or
//! `params`, `batch`/`transaction` at the base itself.

use super::model::Operation;
use super::state::{Problem, Source, State};
use super::variables;

/// The operations this runner makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Vread,
    Search,
    History,
    Capabilities,
    /// No type: a GET of `url` or `params` (R4 allows that).
    Get,
    /// `create`: POST a fixture.
    Create,
    /// `update`, `updateCreate`: PUT a fixture.
    Update,
    /// `delete`.
    Delete,
    /// `batch`, `transaction`: POST a Bundle fixture to the base.
    Bundle,
    /// The engine's `purge` (`[type]/[id]/$purge`): remove what the script loads.
    Purge,
}

impl Kind {
    /// Whether it changes data on the target.
    pub(crate) fn writes(self) -> bool {
        matches!(self, Kind::Create | Kind::Update | Kind::Delete | Kind::Bundle | Kind::Purge)
    }

    /// The HTTP method.
    pub(crate) fn method(self) -> &'static str {
        match self {
            Kind::Create | Kind::Bundle => "POST",
            Kind::Update => "PUT",
            Kind::Delete | Kind::Purge => "DELETE",
            _ => "GET",
        }
    }
}

/// The kind of `operation`, or why it is not made.
pub(crate) fn kind(operation: &Operation) -> Result<Kind, Problem> {
    let code = operation.kind.as_ref().and_then(|coding| coding.code.as_deref());
    let purge = operation.params.as_deref().is_some_and(|params| params.trim_end_matches('/').ends_with("$purge"));
    let method = operation.method.as_deref().map(str::to_ascii_lowercase);
    Ok(match (code, method.as_deref()) {
        (Some("purge"), _) => Kind::Purge,
        _ if purge => Kind::Purge,
        (Some("read"), _) => Kind::Read,
        (Some("vread"), _) => Kind::Vread,
        (Some("search"), _) => Kind::Search,
        (Some("history"), _) => Kind::History,
        (Some("capabilities"), _) => Kind::Capabilities,
        (Some("create"), _) | (None, Some("post")) => Kind::Create,
        (Some("update" | "updateCreate"), _) | (None, Some("put")) => Kind::Update,
        (Some("delete"), _) | (None, Some("delete")) => Kind::Delete,
        (Some("batch" | "transaction"), _) => Kind::Bundle,
        (None, None | Some("get")) => Kind::Get,
        (None, Some(method)) => return Err(Problem::NotRun(format!("the {method} method is not supported"))),
        (Some(code), _) => return Err(Problem::NotRun(format!("the {code} operation is not supported"))),
    })
}

/// The URL `operation` asks at `base`, variables substituted, before encoding.
pub(crate) fn url(operation: &Operation, kind: Kind, state: &State<'_>, base: &str) -> Result<String, Problem> {
    let base = base.trim_end_matches('/');
    if let Some(url) = &operation.url {
        let url = variables::substitute(url, state)?;
        return rebased(&url, base, own_base(state).as_deref());
    }
    if let (Some(target), Kind::Read | Kind::Vread | Kind::History | Kind::Delete) = (&operation.target_id, kind) {
        return target_url(target, kind, state, base);
    }
    if kind == Kind::Capabilities {
        return Ok(format!("{base}/metadata"));
    }
    if kind == Kind::Bundle {
        return Ok(base.to_owned());
    }
    let params = operation.params.as_deref().map(|params| variables::substitute(params, state)).transpose()?;
    if let (Kind::Update, None, Some(source)) = (kind, &params, &operation.source_id) {
        return target_url(source, Kind::Read, state, base);
    }
    if matches!(kind, Kind::Update | Kind::Delete) && params.is_none() {
        return Err(Problem::NotRun(format!("a {} needs params, a targetId or a sourceId with an id", kind.method())));
    }
    if matches!(kind, Kind::Read | Kind::Vread) && params.is_none() {
        let name = if kind == Kind::Read { "read" } else { "vread" };
        return Err(Problem::NotRun(format!("a {name} needs params or a targetId")));
    }
    let mut url = base.to_owned();
    if let Some(resource) = resource(operation, kind, state) {
        url.push('/');
        url.push_str(&resource);
    }
    if let Some(params) = params.filter(|params| !params.is_empty()) {
        if !params.starts_with(['/', '?']) {
            url.push('/');
        }
        url.push_str(&params);
    }
    Ok(url)
}

/// The operation's `resource`; for a `create` or `update` without one, the type of the fixture
/// it sends.
fn resource(operation: &Operation, kind: Kind, state: &State<'_>) -> Option<String> {
    if let Some(resource) = &operation.resource {
        return Some(resource.clone());
    }
    if !matches!(kind, Kind::Create | Kind::Update) {
        return None;
    }
    let fixture = state.source(Some(operation.source_id.as_deref()?)).and_then(Source::body).ok()?;
    fixture["resourceType"].as_str().map(str::to_owned)
}

/// `[base]/[type]/[id]` (with `/_history[/vid]`) of the resource `target` names.
fn target_url(target: &str, kind: Kind, state: &State<'_>, base: &str) -> Result<String, Problem> {
    let resource = state.source(Some(target)).and_then(Source::body)?;
    let text = |name: &str| resource[name].as_str().map(str::to_owned);
    let (Some(kind_name), Some(id)) = (text("resourceType"), text("id")) else {
        return Err(Problem::Failed(format!("the target {target} has no resourceType and id")));
    };
    Ok(match kind {
        Kind::Vread => match resource["meta"]["versionId"].as_str() {
            Some(version) => format!("{base}/{kind_name}/{id}/_history/{version}"),
            None => return Err(Problem::Failed(format!("the target {target} has no meta.versionId to vread"))),
        },
        Kind::History => format!("{base}/{kind_name}/{id}/_history"),
        _ => format!("{base}/{kind_name}/{id}"),
    })
}

/// The script's own FHIR base: its canonical URL up to `/TestScript/`.
fn own_base(state: &State<'_>) -> Option<String> {
    let url = state.script.definition.url.as_deref()?;
    url.find("/TestScript/").map(|at| url[..at].to_owned())
}

fn rebased(url: &str, base: &str, own: Option<&str>) -> Result<String, Problem> {
    if !url.contains("://") {
        return Ok(format!("{base}/{}", url.trim_start_matches('/')));
    }
    if under(url, base) {
        return Ok(url.to_owned());
    }
    if let Some(own) = own.filter(|own| under(url, own)) {
        return Ok(format!("{base}{}", &url[own.len()..]));
    }
    Err(Problem::NotRun(format!("{url} is not under the target base: not asked, the token would go to another server")))
}

/// Whether `url` is `base` or below it.
fn under(url: &str, base: &str) -> bool {
    url.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
}

/// `url` percent-encoded where a server would misread it: everything but unreserved characters,
/// delimiters and existing `%XX` escapes. `+` (a space in a query) and `#` are encoded, so
/// `date=ge2020-01-01T00:00:00+01:00` arrives as written.
pub(crate) fn encoded(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    for (index, &byte) in bytes.iter().enumerate() {
        let escape = byte == b'%'
            && bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit);
        if byte.is_ascii_alphanumeric() || b"-._~:/?&=,|$@!'()*;[]".contains(&byte) || escape {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testscript::load::Script;
    use crate::testscript::model::{Coding, TestScript};
    use crate::testscript::release::Detected;
    use serde_json::json;

    fn script() -> Script {
        Script {
            fixtures: [("p".to_owned(), json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "4"}}))]
                .into(),
            ..Script::new(
                "s",
                Detected { release: fhir_core::Release::Stu3, why: String::new() },
                TestScript { url: Some("http://qual.example/fhir/TestScript/s".into()), ..TestScript::default() },
            )
        }
    }

    fn operation(code: &str) -> Operation {
        Operation { kind: Some(Coding { system: None, code: Some(code.into()) }), ..Operation::default() }
    }

    const BASE: &str = "http://t.example/a/48/fhir";

    #[test]
    fn searches_and_reads_are_built_from_resource_params_and_target() {
        let script = script();
        let state = State::new(&script);
        let search =
            Operation { resource: Some("Patient".into()), params: Some("?_id=1".into()), ..operation("search") };
        assert_eq!(url(&search, Kind::Search, &state, BASE), Ok(format!("{BASE}/Patient?_id=1")));
        let read = Operation { resource: Some("Patient".into()), params: Some("p1".into()), ..operation("read") };
        assert_eq!(url(&read, Kind::Read, &state, BASE), Ok(format!("{BASE}/Patient/p1")));
        let target = Operation { target_id: Some("p".into()), ..operation("vread") };
        assert_eq!(url(&target, Kind::Vread, &state, BASE), Ok(format!("{BASE}/Patient/p1/_history/4")));
        assert_eq!(
            url(&operation("capabilities"), Kind::Capabilities, &state, &format!("{BASE}/")),
            Ok(format!("{BASE}/metadata"))
        );
        assert!(url(&operation("read"), Kind::Read, &state, BASE).is_err());
    }

    #[test]
    fn absolute_urls_are_rebased_from_the_scripts_own_base_and_others_are_not_asked() {
        let script = script();
        let state = State::new(&script);
        let own = Operation { url: Some("http://qual.example/fhir/Condition?x=1".into()), ..Operation::default() };
        assert_eq!(url(&own, Kind::Get, &state, BASE), Ok(format!("{BASE}/Condition?x=1")));
        let relative = Operation { url: Some("/Condition".into()), ..Operation::default() };
        assert_eq!(url(&relative, Kind::Get, &state, BASE), Ok(format!("{BASE}/Condition")));
        let foreign = Operation { url: Some("https://evil.example/fhir/Patient".into()), ..Operation::default() };
        assert!(matches!(url(&foreign, Kind::Get, &state, BASE), Err(Problem::NotRun(_))));
        let lookalike = Operation { url: Some("http://qual.example/fhirx/Patient".into()), ..Operation::default() };
        assert!(url(&lookalike, Kind::Get, &state, BASE).is_err());
    }

    #[test]
    fn writes_are_known_by_code_method_or_purge_and_others_are_not_made() {
        assert_eq!(kind(&operation("delete")), Ok(Kind::Delete));
        assert_eq!(kind(&operation("updateCreate")), Ok(Kind::Update));
        assert_eq!(kind(&operation("transaction")), Ok(Kind::Bundle));
        assert_eq!(kind(&operation("purge")), Ok(Kind::Purge));
        let purge = Operation { params: Some("p1/$purge".into()), ..operation("delete") };
        assert_eq!(kind(&purge), Ok(Kind::Purge));
        assert_eq!(kind(&Operation { method: Some("put".into()), ..Operation::default() }), Ok(Kind::Update));
        assert!(kind(&operation("update")).is_ok_and(Kind::writes));
        assert!(matches!(kind(&operation("$everything")), Err(Problem::NotRun(_))));
        assert!(matches!(kind(&operation("patch")), Err(Problem::NotRun(_))));
        assert_eq!(kind(&Operation::default()), Ok(Kind::Get));
    }

    #[test]
    fn writes_go_to_the_resource_or_the_fixtures_id() {
        let script = script();
        let state = State::new(&script);
        let update =
            Operation { resource: Some("Patient".into()), source_id: Some("p".into()), ..operation("updateCreate") };
        assert_eq!(url(&update, Kind::Update, &state, BASE), Ok(format!("{BASE}/Patient/p1")));
        let with_params = Operation { params: Some("/other".into()), ..update };
        assert_eq!(url(&with_params, Kind::Update, &state, BASE), Ok(format!("{BASE}/Patient/other")));
        let create = Operation { resource: Some("Patient".into()), ..operation("create") };
        assert_eq!(url(&create, Kind::Create, &state, BASE), Ok(format!("{BASE}/Patient")));
        let untyped = Operation { source_id: Some("p".into()), ..operation("create") };
        assert_eq!(url(&untyped, Kind::Create, &state, BASE), Ok(format!("{BASE}/Patient")), "the fixture's type");
        let untyped = Operation { params: Some("/p2".into()), ..untyped };
        assert_eq!(url(&untyped, Kind::Update, &state, BASE), Ok(format!("{BASE}/Patient/p2")));
        let delete = Operation { target_id: Some("p".into()), ..operation("delete") };
        assert_eq!(url(&delete, Kind::Delete, &state, BASE), Ok(format!("{BASE}/Patient/p1")));
        assert_eq!(url(&operation("transaction"), Kind::Bundle, &state, BASE), Ok(BASE.to_owned()));
        let batch = Operation { resource: Some("Bundle".into()), source_id: Some("p".into()), ..operation("batch") };
        assert_eq!(url(&batch, Kind::Bundle, &state, &format!("{BASE}/")), Ok(BASE.to_owned()), "the base itself");
    }

    #[test]
    fn encoding_keeps_delimiters_and_escapes_and_encodes_plus_and_spaces() {
        assert_eq!(
            encoded("http://h/fhir/Observation?date=ge2020-01-01T00:00:00+01:00&code=a|b c&x=%20"),
            "http://h/fhir/Observation?date=ge2020-01-01T00:00:00%2B01:00&code=a|b%20c&x=%20"
        );
        assert_eq!(encoded("http://h/é"), "http://h/%C3%A9");
    }
}
