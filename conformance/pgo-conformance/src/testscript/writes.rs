//! Writes: a fixture sent as the body of `create`, `update`/`updateCreate` or
//! `batch`/`transaction`, in the format the operation's `contentType` names (JSON, or XML written
//! from it); and the engine's `purge`. Load scripts write to set up the qualification data the
//! way the published load scripts do (`_LoadResources`); the qualification scripts for receiving
//! systems write to the target under test (their Bundles are what is tested), which is done only
//! when the run allows writes (`--allow-writes`, see `operations`).
//!
//! `purge` (`Patient/[id]/$purge` in the published scripts: empty that patient's record) has no
//! counterpart in FHIR, so it is never sent to the target under test, whatever the run allows:
//! only load scripts make it. There it deletes, newest first, every resource the load script itself
//! loads (the fixtures its `create`/`update` operations send, by type and id), once per script; a
//! resource that is not there counts as deleted. So a load script can be run again and again; what
//! the target holds besides the script's data is left alone. Its response, for the asserts after
//! it, is 204 when every delete was answered 200, 204, 404 or 410, else the first other answer.

use super::model::{Action, Operation};
use super::operations::{self, Endpoint, Made};
use super::request_url::{self, Kind};
use super::state::{Problem, Request, Response, Source, State};
use crate::http::Http;
use fhir_core::Release;

/// A write's body: its media type and bytes, from the fixture the operation names.
pub(crate) fn body(operation: &Operation, state: &State<'_>) -> Result<(String, Vec<u8>), Problem> {
    let source = operation.source_id.as_deref().ok_or_else(|| Problem::NotRun("a write needs a sourceId".into()))?;
    let resource = state.source(Some(source)).and_then(Source::body)?;
    let format = operation.content_type.as_deref().unwrap_or("json");
    if format.contains("xml") {
        let release: Release = state.script.release.release;
        let xml = fhir_xml::to_xml(release, resource, fhir_xml::UnknownMembers::Refuse)
            .map_err(|error| Problem::NotRun(format!("fixture {source} cannot be written as XML: {error}")))?;
        Ok(("application/fhir+xml".into(), xml.into_bytes()))
    } else {
        let json = serde_json::to_vec(resource).map_err(|error| Problem::NotRun(error.to_string()))?;
        Ok(("application/fhir+json".into(), json))
    }
}

/// The resources `actions` load: (type, id) of every fixture a `create` or `update` sends.
fn loaded(actions: &[Action], state: &State<'_>, into: &mut Vec<(String, String)>) {
    let operations = actions.iter().filter_map(|action| action.operation.as_ref());
    for operation in operations {
        if !matches!(request_url::kind(operation), Ok(Kind::Create | Kind::Update)) {
            continue;
        }
        let Some(Ok(resource)) = operation.source_id.as_deref().map(|id| state.source(Some(id)).and_then(Source::body))
        else {
            continue;
        };
        if let (Some(kind), Some(id)) = (resource["resourceType"].as_str(), resource["id"].as_str()) {
            let named = (kind.to_owned(), id.to_owned());
            if !into.contains(&named) {
                into.push(named);
            }
        }
    }
}

/// `purge`: deletes what the script loads, newest first, once.
pub(crate) async fn purge(operation: &Operation, state: &mut State<'_>, endpoint: Endpoint<'_>, http: &Http) -> Made {
    let Endpoint::Load { base, key } = endpoint else {
        let why = "purge has no counterpart on a FHIR server: it is made only in load scripts (--load), \
                   not against the target, even with --allow-writes";
        let problem = Problem::NotRun(why.into());
        state.record(None, Err(Problem::NotRun("the operation before it was not made".into())), None, None);
        return Made { exchanges: Vec::new(), problem: Some(problem) };
    };
    let definition = &state.script.definition;
    let mut resources = Vec::new();
    let sections = definition.setup.iter().chain(definition.teardown.iter()).map(|section| section.action.as_slice());
    for actions in sections.chain(definition.test.iter().map(|test| test.action.as_slice())) {
        loaded(actions, state, &mut resources);
    }
    let mut exchanges = Vec::new();
    let mut refused: Option<(u16, Response)> = None;
    if !state.purged {
        for (kind, id) in resources.iter().rev() {
            let url = format!("{}/{kind}/{id}", base.trim_end_matches('/'));
            let headers = vec![
                ("accept".into(), "application/fhir+json".into()),
                ("authorization".into(), format!("Bearer {key}")),
                ("medmij-request-id".into(), uuid::Uuid::new_v4().to_string()),
            ];
            let request = Request { method: "DELETE".into(), url, headers };
            let (answer, exchange) = operations::send(http, &request, None).await;
            exchanges.push(exchange);
            match answer {
                Ok(answer) if matches!(answer.status, 200 | 204 | 404 | 410) => {}
                Ok(answer) => {
                    let response = operations::response(&answer, state.script.release.release);
                    refused.get_or_insert((answer.status, response));
                }
                Err(reason) => {
                    state.record(None, Err(Problem::NotRun("the purge got no answer".into())), None, None);
                    return Made { exchanges, problem: Some(Problem::Failed(reason)) };
                }
            }
        }
        state.purged = true;
    }
    let response = refused.map(|(_, response)| response).unwrap_or(Response {
        status: 204,
        headers: Vec::new(),
        media_type: String::new(),
        body: Ok(None),
    });
    let request = Request { method: "DELETE".into(), url: format!("{base} (purge)"), headers: Vec::new() };
    state.record(Some(request), Ok(response), operation.request_id.as_deref(), operation.response_id.as_deref());
    Made { exchanges, problem: None }
}
