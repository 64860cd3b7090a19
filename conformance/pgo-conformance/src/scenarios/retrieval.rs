//! Resource retrieval: every query of each tested data service's list, in JSON and in XML, with
//! patient A's token, answered 200 with a searchset Bundle that passes the content checks; where
//! the list says so, then the read the answer leads to (a DocumentReference's document).

use crate::content;
use crate::http::Answer;
use crate::queries::{self, Follow, Query};
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
        let rule = queries::rule(data_service).unwrap_or("Data services and FHIR versions");
        for query in query_list {
            let then = match query.follow {
                None => "",
                Some(Follow::Document) => ", then the document of the first DocumentReference,",
            };
            for format in Format::BOTH {
                let (s, id, query) = (session.clone(), data_service.clone(), *query);
                list.push(Scenario::new(
                    format!("retrieval.{data_service}.q{}.{}", query.label, format.name()),
                    GROUP,
                    format!(
                        "{data_service} query {}: {}{then} in {}",
                        query.label,
                        query.path,
                        format.name().to_uppercase()
                    ),
                    format!("{rule}; what the qualification scripts check on every answer"),
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
    let bundle = match body_as_json(&answer, format, release) {
        Ok(bundle) => bundle,
        Err(why) => {
            probe.check("a FHIR body", false, why);
            return Ok(());
        }
    };
    probe.checks(content::searchset_checks(&bundle, &url, release, &session.config.bsns()));
    match query.follow {
        None => Ok(()),
        Some(Follow::Document) => read_document(&session, &data_service, &bundle, &token.access, format, &probe).await,
    }
}

/// Reads the document that the first DocumentReference of `bundle` names, as a PGO does next
/// (the PDF/A qualification's scenario 1.4), with the same token.
async fn read_document(
    session: &Session,
    data_service: &str,
    bundle: &Value,
    token: &str,
    format: Format,
    probe: &Probe,
) -> Result<(), Stop> {
    let named = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| &entry["resource"])
        .find(|resource| resource["resourceType"] == "DocumentReference")
        .and_then(|reference| reference["content"][0]["attachment"]["url"].as_str());
    let Some(named) = named else {
        return Err(Stop::NotRun(
            "patient A has no current DocumentReference naming its document (content.attachment.url)".into(),
        ));
    };
    let (url, id) = document_url(session.base(data_service)?, named)?;
    let answer = probe.send(pgo_request(session, url, token, format)).await?;
    probe.status(&answer, 200);
    let media = answer.media_type();
    probe.check(format!("answered as {}", format.media_type()), media == format.media_type(), media);
    match body_as_json(&answer, format, queries::release(data_service).unwrap_or(Release::Stu3)) {
        Ok(binary) => probe.checks(content::document_checks(&binary, &id, &session.config.bsns())),
        Err(why) => {
            probe.check("a FHIR body", false, why);
        }
    }
    Ok(())
}

/// The URL of the Binary a DocumentReference names as its document (`named`, relative to the
/// FHIR `base` or absolute on it), and the Binary's id. A document elsewhere is not read: a PGO
/// sends its token to the data service's base and nowhere else.
pub fn document_url(base: &str, named: &str) -> Result<(url::Url, String), Stop> {
    let base = base.trim_end_matches('/');
    let relative = if let Some(rest) = named.strip_prefix(base).and_then(|rest| rest.strip_prefix('/')) {
        rest
    } else if url::Url::parse(named).is_ok() {
        return Err(Stop::Failed(format!("the document {named} is not on the data service's base {base}")));
    } else {
        named
    };
    match relative.split('/').collect::<Vec<_>>()[..] {
        ["Binary", id] if !id.is_empty() && !id.contains(['?', '#']) => {
            let url = url::Url::parse(&format!("{base}/Binary/{id}"))
                .map_err(|error| Stop::Failed(format!("{named}: {error}")))?;
            Ok((url, id.to_owned()))
        }
        _ => Err(Stop::NotRun(format!("the document {named} is not a Binary of the FHIR base (`Binary/id`)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://dva.example/vitaal/51/fhir";

    #[test]
    fn a_document_is_read_from_the_data_services_own_base_only() {
        let (url, id) = document_url(BASE, "Binary/letter").unwrap();
        assert_eq!((url.as_str(), id.as_str()), ("https://dva.example/vitaal/51/fhir/Binary/letter", "letter"));
        let (url, _) = document_url(BASE, &format!("{BASE}/Binary/letter")).unwrap();
        assert_eq!(url.as_str(), "https://dva.example/vitaal/51/fhir/Binary/letter");
        // Elsewhere, the token is not sent.
        assert!(matches!(document_url(BASE, "https://elsewhere.example/Binary/letter"), Err(Stop::Failed(_))));
        assert!(matches!(
            document_url(BASE, "https://dva.example/vitaal/51/fhirx/Binary/letter"),
            Err(Stop::Failed(_))
        ));
        // Not a Binary (a document served over plain HTTP): not run, with the reason.
        assert!(matches!(document_url(BASE, "letter.pdf"), Err(Stop::NotRun(_))));
        assert!(matches!(document_url(BASE, "Binary/letter/_history/1"), Err(Stop::NotRun(_))));
    }
}
