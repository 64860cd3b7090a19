//! What a running script knows: the requests sent and responses received so far (the last one,
//! and those named by `requestId`/`responseId`), next to its fixtures. Asserts and variables read
//! their sources from here.

use super::load::Script;
use crate::profiles::Profiles;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Why something could not be done: not run (an unsupported construct, a script problem) or
/// failed (the target did not give what was needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// It could not be made; never counted as passed or failed.
    NotRun(String),
    /// It was made and did not hold.
    Failed(String),
}

/// A request as sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// `GET`.
    pub method: String,
    /// The URL.
    pub url: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
}

/// A response as asserts see it.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The status.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The media type, without parameters.
    pub media_type: String,
    /// The body as FHIR JSON: `None` when empty, an error when not FHIR.
    pub body: Result<Option<Value>, String>,
}

/// Something actions read: a response, or a fixture (a body only).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'s> {
    /// A response.
    Response(&'s Response),
    /// A fixture.
    Fixture(&'s Value),
}

impl<'s> Source<'s> {
    /// The body, as FHIR JSON.
    pub fn body(self) -> Result<&'s Value, Problem> {
        match self {
            Source::Fixture(value) => Ok(value),
            Source::Response(response) => match &response.body {
                Ok(Some(body)) => Ok(body),
                // A write answered with `Prefer: return=minimal` (201, no body), for one.
                Ok(None) => Err(Problem::Failed(format!("the response ({}) has no body", response.status))),
                Err(why) => Err(Problem::Failed(format!("the response body is {why}"))),
            },
        }
    }

    /// The response, when this is one.
    pub fn response(self) -> Result<&'s Response, Problem> {
        match self {
            Source::Response(response) => Ok(response),
            Source::Fixture(_) => Err(Problem::NotRun("a fixture has no status or headers".into())),
        }
    }
}

/// The validators `validateProfileId` uses when a run gives none: the base definitions only.
static BASE_ONLY: Profiles = Profiles::base_only();

/// The state of one script's run.
#[derive(Debug)]
pub(crate) struct State<'s> {
    /// The script.
    pub script: &'s Script,
    /// The run's profile validators (`validateProfileId`).
    pub profiles: &'s Profiles,
    /// The last request sent, if the last operation sent one.
    pub last_request: Option<Request>,
    /// The last response, or why there is none.
    pub last_response: Result<Response, Problem>,
    /// Responses by `responseId`, or why there is none.
    pub responses: HashMap<String, Result<Response, Problem>>,
    /// Requests by `requestId`.
    pub requests: HashMap<String, Request>,
    /// Values of variables that only have a `defaultValue`, worked out once per run.
    statics: Mutex<HashMap<String, String>>,
    /// Whether a load script's purge was made (it is made once).
    pub purged: bool,
}

impl<'s> State<'s> {
    /// The state before the first action, validating profiles with the base definitions only.
    pub fn new(script: &'s Script) -> State<'s> {
        State::with_profiles(script, &BASE_ONLY)
    }

    /// The state before the first action, validating profiles with `profiles`.
    pub fn with_profiles(script: &'s Script, profiles: &'s Profiles) -> State<'s> {
        State {
            script,
            profiles,
            last_request: None,
            last_response: Err(Problem::NotRun("no operation came before it".into())),
            responses: HashMap::new(),
            requests: HashMap::new(),
            statics: Mutex::new(script.statics.clone().into_iter().collect()),
            purged: false,
        }
    }

    /// The value worked out for the static variable `name`, if it was.
    pub fn static_value(&self, name: &str) -> Option<String> {
        self.statics.lock().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    /// Keeps the value of the static variable `name` for the rest of the run.
    pub fn keep_static(&self, name: &str, value: &str) {
        self.statics.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), value.to_owned());
    }

    /// The static variables' values worked out so far.
    pub fn statics(&self) -> std::collections::BTreeMap<String, String> {
        self.statics.lock().unwrap_or_else(PoisonError::into_inner).clone().into_iter().collect()
    }

    /// The source `id` names (a response, then a fixture), or the last response.
    pub fn source(&self, id: Option<&str>) -> Result<Source<'_>, Problem> {
        let Some(id) = id else {
            return self.last_response.as_ref().map(Source::Response).map_err(Clone::clone);
        };
        if let Some(response) = self.responses.get(id) {
            return response.as_ref().map(Source::Response).map_err(Clone::clone);
        }
        match self.script.fixtures.get(id) {
            Some(fixture) => Ok(Source::Fixture(fixture)),
            None => Err(Problem::NotRun(format!("no fixture or response is named {id}"))),
        }
    }

    /// The request `id` names when it is a `requestId`, else the last one (an assert's `sourceId`
    /// usually names a response, and the request of the last response is the last request).
    pub fn request(&self, id: Option<&str>) -> Result<&Request, Problem> {
        let named = id.and_then(|id| self.requests.get(id));
        named.or(self.last_request.as_ref()).ok_or_else(|| Problem::NotRun("no request was sent before it".into()))
    }

    /// Records what an operation left: its request (if sent) and response (or why none).
    pub fn record(
        &mut self,
        request: Option<Request>,
        response: Result<Response, Problem>,
        request_id: Option<&str>,
        response_id: Option<&str>,
    ) {
        if let (Some(id), Some(request)) = (request_id, &request) {
            self.requests.insert(id.to_owned(), request.clone());
        }
        if let Some(id) = response_id {
            self.responses.insert(id.to_owned(), response.clone());
        }
        self.last_request = request;
        self.last_response = response;
    }
}

/// The values of header `name` (any case) in `headers`.
pub(crate) fn header_values(headers: &[(String, String)], name: &str) -> Vec<String> {
    headers.iter().filter(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.clone()).collect()
}
