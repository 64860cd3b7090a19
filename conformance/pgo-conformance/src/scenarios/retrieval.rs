//! Resource retrieval: every query of each tested data service's list, in JSON and in XML, with
//! patient A's token, answered 200 with a searchset Bundle that passes the content checks.

use crate::content;
use crate::http::Answer;
use crate::queries::{self, Query};
use crate::scenario::{Probe, Scenario, Stop};
use crate::session::{Patient, Session};
use fhir_core::Release;
use serde_json::Value;
use std::sync::Arc;

const GROUP: &str = "retrieval";

/// JSON or XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/fhir+json`.
    Json,
    /// `application/fhir+xml`.
    Xml,
}

impl Format {
    /// Both, JSON first.
    pub const BOTH: [Format; 2] = [Format::Json, Format::Xml];

    /// `json` or `xml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// The media type asked for.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json",
            Format::Xml => "application/fhir+xml",
        }
    }
}

/// The retrieval scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let mut list = Vec::new();
    for data_service in &session.config.data_services {
        let Some(query_list) = queries::of(data_service) else {
            let id = data_service.clone();
            list.push(Scenario::new(
                format!("retrieval.{data_service}"),
                GROUP,
                format!("the query list of data service {data_service}"),
                "Data services and FHIR versions",
                move |_probe| {
                    let id = id.clone();
                    async move { Err(Stop::NotRun(format!("the suite knows no query list for data service {id}"))) }
                },
            ));
            continue;
        };
        for query in query_list {
            for format in Format::BOTH {
                let (s, id, query) = (session.clone(), data_service.clone(), *query);
                list.push(Scenario::new(
                    format!("retrieval.{data_service}.q{}.{}", query.label, format.name()),
                    GROUP,
                    format!("{data_service} query {}: {} in {}", query.label, query.path, format.name().to_uppercase()),
                    if data_service == "48" {
                        "The BgZ (48) query list: every one must work; what the qualification scripts check on every answer"
                    } else {
                        "Provider-side servers must answer in JSON and XML; what the qualification scripts check on every answer"
                    },
                    move |probe| retrieve(s.clone(), id.clone(), query, format, probe),
                ));
            }
        }
    }
    list
}

/// The URL of `query` at `base`.
pub fn query_url(base: &str, query: &Query) -> Result<url::Url, Stop> {
    url::Url::parse(&format!("{base}/{}", query.path)).map_err(|error| Stop::Failed(format!("{}: {error}", query.path)))
}

/// A PGO's request: the token and fresh tracing ids as headers.
pub fn pgo_request(session: &Session, url: url::Url, token: &str, format: Format) -> reqwest::RequestBuilder {
    let ids = TracingIds::new();
    pgo_request_with(session, url, token, format, &ids)
}

/// The MedMij tracing ids of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracingIds {
    /// `MedMij-Request-ID`.
    pub request_id: String,
    /// `X-Correlation-ID`.
    pub correlation_id: String,
}

impl TracingIds {
    /// Fresh ones.
    pub fn new() -> TracingIds {
        TracingIds { request_id: uuid::Uuid::new_v4().to_string(), correlation_id: uuid::Uuid::new_v4().to_string() }
    }
}

impl Default for TracingIds {
    fn default() -> TracingIds {
        TracingIds::new()
    }
}

/// A PGO's request with the tracing ids `ids` (each header sent once).
pub fn pgo_request_with(
    session: &Session,
    url: url::Url,
    token: &str,
    format: Format,
    ids: &TracingIds,
) -> reqwest::RequestBuilder {
    session
        .api
        .client()
        .get(url)
        .bearer_auth(token)
        .header("Accept", format.media_type())
        .header("MedMij-Request-ID", &ids.request_id)
        .header("X-Correlation-ID", &ids.correlation_id)
}

/// The answer's body as FHIR JSON, whatever `format` it came in.
pub fn body_as_json(answer: &Answer, format: Format, release: Release) -> Result<Value, String> {
    match format {
        Format::Json => serde_json::from_slice(&answer.body).map_err(|error| format!("not JSON: {error}")),
        Format::Xml => fhir_xml::from_xml(release, &answer.body, fhir_xml::ReadLimits::default())
            .map_err(|error| format!("not FHIR XML: {error}")),
    }
}

async fn retrieve(
    session: Arc<Session>,
    data_service: String,
    query: Query,
    format: Format,
    probe: Probe,
) -> Result<(), Stop> {
    let release = queries::release(&data_service).unwrap_or(Release::Stu3);
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let url = query_url(session.base(&data_service)?, &query)?;
    let answer = probe.send(pgo_request(&session, url.clone(), &token.access, format)).await?;
    probe.status(&answer, 200);
    let media = answer.media_type();
    probe.check(format!("answered as {}", format.media_type()), media == format.media_type(), media);
    match body_as_json(&answer, format, release) {
        Ok(bundle) => probe.checks(content::searchset_checks(&bundle, &url, release, &session.config.bsns())),
        Err(why) => {
            probe.check("a FHIR body", false, why);
        }
    }
    Ok(())
}
