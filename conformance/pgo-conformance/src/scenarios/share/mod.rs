//! Delen (sharing): a PGO `POST`s to a data service's FHIR base a Bundle for the person of its
//! access token, a token for that data service alone: home measurements (52) as a `batch`,
//! documents (51) as a `transaction` (MedMij Flow 2; FHIR STU3 §2.21.0.17). Each scenario first
//! finds that the target takes shares there: the ZAL lists the data service for the provider and
//! its CapabilityStatement offers the system interaction and `create` of what is sent; otherwise
//! the scenario is not run, as it is without the login flow (pre-issued tokens), a second test
//! person or the target's body limit where it needs them.

mod accepted;
mod bundles;
mod refused;

use crate::http::Answer;
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::retrieval::{Format, TracingIds, body_as_json};
use crate::session::{Patient, Session};
use fhir_core::Release;
use serde_json::Value;
use std::sync::Arc;

const GROUP: &str = "share";

/// Both receiving data services speak STU3.
const RELEASE: Release = Release::Stu3;

/// How a data service takes a shared Bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Each entry stored or refused on its own.
    Batch,
    /// All entries stored or none.
    Transaction,
}

impl Kind {
    /// `batch` or `transaction` (`Bundle.type`, and the CapabilityStatement's system interaction).
    pub fn code(self) -> &'static str {
        match self {
            Kind::Batch => "batch",
            Kind::Transaction => "transaction",
        }
    }

    /// The answer's `Bundle.type`.
    pub fn response(self) -> &'static str {
        match self {
            Kind::Batch => "batch-response",
            Kind::Transaction => "transaction-response",
        }
    }
}

/// A data service PGOs share with, as MedMij defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receiving {
    /// Its id.
    pub data_service: &'static str,
    /// How it takes a Bundle.
    pub kind: Kind,
    /// The resource types the suite shares with it.
    pub types: &'static [&'static str],
}

/// Meetwaarden vitale functies (52): the person's measurements, as a batch.
pub const MEASUREMENTS: Receiving = Receiving { data_service: "52", kind: Kind::Batch, types: &["Observation"] };

/// PDF/A documents (51): a DocumentManifest, DocumentReferences and their Binaries, as a
/// transaction.
pub const DOCUMENTS: Receiving = Receiving {
    data_service: "51",
    kind: Kind::Transaction,
    types: &["DocumentManifest", "DocumentReference", "Binary"],
};

type Body = fn(Arc<Session>, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;

/// The share scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let mut cases: Vec<(&str, &str, &str, Body)> = accepted::CASES.to_vec();
    cases.extend(refused::CASES);
    cases
        .into_iter()
        .map(|(id, title, rule, body)| {
            let s = session.clone();
            Scenario::new(format!("{GROUP}.{id}"), GROUP, title, rule, move |probe| body(s.clone(), probe))
        })
        .collect()
}

/// The FHIR base of `receiving` when the target takes shares there and the run may write to it
/// (see [`offered`]); else [`Stop::NotRun`] saying what is missing.
pub(super) async fn sharing_base(session: &Session, probe: &Probe, receiving: Receiving) -> Result<String, Stop> {
    let base = offered(session, probe, receiving).await?;
    writable(session)?;
    Ok(base)
}

/// A share stores the test person's data in the provider's records: only in a run allowed to.
fn writable(session: &Session) -> Result<(), Stop> {
    if session.config.allow_writes {
        Ok(())
    } else {
        Err(Stop::NotRun(
            "the target takes shares, but this run may not write to it (--allow-writes: a share stores the test \
             person's data at the provider)"
                .into(),
        ))
    }
}

/// The FHIR base of `receiving` when the target takes shares there: the ZAL lists it for the
/// provider, and its CapabilityStatement offers the system interaction and `create` of every type
/// the suite sends (recorded as a check); else [`Stop::NotRun`] saying what is missing.
async fn offered(session: &Session, probe: &Probe, receiving: Receiving) -> Result<String, Stop> {
    let id = receiving.data_service;
    let Some(service) = session.provider.service(id) else {
        return Err(Stop::NotRun(format!(
            "the ZAL lists no data service {id} for {}: nothing of this kind can be shared with it",
            session.provider.name
        )));
    };
    let base = service.base.clone();
    let request = session.api.client().get(format!("{base}/metadata")).header("Accept", "application/fhir+json");
    let answer = probe.send(request).await?;
    let statement = answer.json().filter(|_| answer.status == 200).unwrap_or_default();
    if statement["resourceType"] != "CapabilityStatement" {
        return Err(Stop::NotRun(format!(
            "{base}/metadata answered {} without a CapabilityStatement: whether {id} takes shares is not known",
            answer.status
        )));
    }
    let missing = missing_for_sharing(&statement, receiving);
    if !missing.is_empty() {
        return Err(Stop::NotRun(format!(
            "the CapabilityStatement of data service {id} does not offer {}: the target takes no shares there",
            missing.join(", ")
        )));
    }
    probe.check(
        format!(
            "the CapabilityStatement of {id} offers {} and create of {}",
            receiving.kind.code(),
            receiving.types.join(", ")
        ),
        true,
        "",
    );
    Ok(base)
}

/// What `statement` lacks for taking `receiving`'s shares: the system interaction, `create` of
/// a type.
fn missing_for_sharing(statement: &Value, receiving: Receiving) -> Vec<String> {
    let rests = statement["rest"].as_array().map(Vec::as_slice).unwrap_or_default();
    let codes = |interactions: &Value| -> Vec<String> {
        interactions
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|interaction| interaction["code"].as_str().map(str::to_owned))
            .collect()
    };
    let server = rests.iter().find(|rest| rest["mode"] == "server").or(rests.first());
    let Some(server) = server else { return vec!["a rest entry".into()] };
    let mut missing = Vec::new();
    if !codes(&server["interaction"]).iter().any(|code| code == receiving.kind.code()) {
        missing.push(format!("the system interaction {}", receiving.kind.code()));
    }
    let resources = server["resource"].as_array().map(Vec::as_slice).unwrap_or_default();
    for kind in receiving.types {
        let creates = resources
            .iter()
            .find(|resource| resource["type"] == *kind)
            .is_some_and(|resource| codes(&resource["interaction"]).iter().any(|code| code == "create"));
        if !creates {
            missing.push(format!("create of {kind}"));
        }
    }
    missing
}

/// The first of `receivings` the target takes shares at, with its base; not run (with every
/// reason) when none.
pub(super) async fn first_sharing(
    session: &Session,
    probe: &Probe,
    receivings: &[Receiving],
) -> Result<(Receiving, String), Stop> {
    let mut reasons = Vec::new();
    for receiving in receivings {
        match offered(session, probe, *receiving).await {
            Ok(base) => {
                writable(session)?;
                return Ok((*receiving, base));
            }
            Err(Stop::NotRun(why)) => reasons.push(why),
            Err(stop) => return Err(stop),
        }
    }
    Err(Stop::NotRun(format!("the target takes no shares: {}", reasons.join("; "))))
}

/// Patient A's access token for `data_service` alone (a share is authorised for one data
/// service), through a fresh flow. With `one_act`, checks that the token answer holds no refresh
/// token: a share is one act, not a lasting consent (not run when the token was given).
pub(super) async fn share_token(
    session: &Session,
    probe: &Probe,
    data_service: &str,
    one_act: bool,
) -> Result<String, Stop> {
    let (tokens, answer) = session.fresh_tokens(probe, Patient::A, &[data_service]).await?;
    if one_act {
        let expected = "the token answer for a share holds no refresh_token";
        match answer {
            Some(answer) => {
                probe.check(expected, answer.get("refresh_token").is_none(), "a refresh_token was given");
            }
            None => probe.not_run(expected, "the token was given beforehand: its answer was not seen"),
        }
    }
    Ok(tokens.access)
}

/// Patient A's access token for `receiving`'s data service and one other data service the
/// provider offers (another receiving one first, then a tested one): a collecting consent, as
/// MedMij takes a share's scope to be exactly one data service.
pub(super) async fn two_service_token(
    session: &Session,
    probe: &Probe,
    receiving: Receiving,
) -> Result<(String, String), Stop> {
    let id = receiving.data_service;
    let others = [MEASUREMENTS.data_service, DOCUMENTS.data_service]
        .into_iter()
        .chain(session.config.data_services.iter().map(String::as_str))
        .chain(session.provider.services.keys().map(String::as_str));
    let Some(other) = others.filter(|other| *other != id).find(|other| session.provider.service(other).is_some())
    else {
        return Err(Stop::NotRun(format!(
            "the provider offers no data service besides {id}: no token for two data services can be asked"
        )));
    };
    let (tokens, _) = session.fresh_tokens(probe, Patient::A, &[id, other]).await?;
    Ok((tokens.access, session.scope_of(&[id, other])))
}

/// The Bundle as sent in `format`.
pub(super) fn encoded(bundle: &Value, format: Format) -> Result<Vec<u8>, Stop> {
    match format {
        Format::Json => Ok(bundle.to_string().into_bytes()),
        Format::Xml => fhir_xml::to_xml(RELEASE, bundle, fhir_xml::UnknownMembers::Refuse)
            .map(String::into_bytes)
            .map_err(|error| Stop::Failed(format!("the suite's own Bundle cannot be written as XML: {error}"))),
    }
}

/// A PGO's share: `POST [base]` of `body` in `format`, asking for the answer in the same format,
/// with the token, the tracing ids and `prefer`.
pub(super) fn share_request(
    session: &Session,
    base: &str,
    token: &str,
    body: Vec<u8>,
    format: Format,
    prefer: Option<&str>,
) -> reqwest::RequestBuilder {
    let ids = TracingIds::new();
    let mut request = session
        .api
        .client()
        .post(base)
        .bearer_auth(token)
        .header("Content-Type", format.media_type())
        .header("Accept", format.media_type())
        .header("MedMij-Request-ID", &ids.request_id)
        .header("X-Correlation-ID", &ids.correlation_id)
        .body(body);
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    request
}

/// Checks that no BSN is in `answer`: none of the test persons' BSNs in its text, no identifier
/// of the BSN system with a value (MedMij: nothing a PGO receives carries a BSN).
pub(super) fn no_bsn(probe: &Probe, session: &Session, answer: &Answer, body: Option<&Value>) {
    let text = answer.text();
    let known = session.config.bsns().iter().any(|bsn| text.contains(bsn.as_str()));
    let identifier = body.is_some_and(crate::content::holds_bsn_value);
    probe.check(
        "no BSN in the answer",
        !known && !identifier,
        if known { "a test person's BSN" } else { "an identifier of the BSN system with a value" },
    );
}

/// Checks that `answer` is a refusal with one of `statuses` and an OperationOutcome (in JSON);
/// the outcome, if it is one.
pub(super) fn refusal(probe: &Probe, answer: &Answer, statuses: &[u16]) -> Option<Value> {
    let shown: Vec<String> = statuses.iter().map(u16::to_string).collect();
    probe.check(
        format!("the share is refused with {}", shown.join(" or ")),
        statuses.contains(&answer.status),
        answer.status.to_string(),
    );
    match body_as_json(answer, Format::Json, RELEASE) {
        Ok(outcome) => {
            let found = outcome["resourceType"] == "OperationOutcome";
            probe.check("with an OperationOutcome", found, outcome["resourceType"].to_string());
            found.then_some(outcome)
        }
        Err(why) => {
            probe.check("with an OperationOutcome", false, why);
            None
        }
    }
}

/// `Type/id` of a `response.location` (`Type/id/_history/n`, relative or absolute).
pub(super) fn type_and_id(location: &str) -> Option<String> {
    let path = location.split("/_history/").next()?.trim_end_matches('/');
    let mut parts = path.rsplit('/');
    let id = parts.next().filter(|id| !id.is_empty())?;
    let kind = parts.next().filter(|kind| kind.chars().next().is_some_and(|c| c.is_ascii_uppercase()))?;
    Some(format!("{kind}/{id}"))
}

/// At most this many pages of a collection are read looking for a refused Bundle's marker.
const MAX_PAGES: usize = 20;

/// After a refused share: a collection of the person's records (with a token for
/// `receiving`'s data service and another, as a PGO collects) finds nothing of the Bundle (no
/// resource with its `marker`), each search answering 200.
pub(super) async fn nothing_stored(
    session: &Session,
    probe: &Probe,
    receiving: Receiving,
    base: &str,
    shared: &bundles::Shared,
) -> Result<(), Stop> {
    let expected = "a collection afterwards finds nothing of the refused Bundle";
    let token = match two_service_token(session, probe, receiving).await {
        Ok((token, _)) => token,
        Err(Stop::NotRun(why)) => {
            probe.not_run(expected, why);
            return Ok(());
        }
        Err(stop) => return Err(stop),
    };
    let mut found = Vec::new();
    for search in &shared.searches {
        let mut next = Some(format!("{base}/{search}"));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let request = session
                .api
                .client()
                .get(&url)
                .bearer_auth(&token)
                .header("Accept", "application/fhir+json")
                .header("MedMij-Request-ID", uuid::Uuid::new_v4().to_string());
            let answer = probe.send(request).await?;
            if !probe.check(
                format!("the collection {search} answers 200"),
                answer.status == 200,
                answer.status.to_string(),
            ) {
                break;
            }
            if answer.text().contains(&shared.marker) {
                found.push(search.clone());
                break;
            }
            next = answer.json().and_then(|page| {
                crate::content::links(&page).into_iter().find(|(relation, _)| relation == "next").map(|(_, url)| url)
            });
            if pages >= MAX_PAGES {
                break;
            }
        }
    }
    probe.check(expected, found.is_empty(), format!("found by {}", found.join(", ")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_statement_without_the_system_interaction_or_a_create_lacks_sharing() {
        let statement = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
            "interaction": [{"code": "batch"}],
            "resource": [{"type": "Observation", "interaction": [{"code": "read"}, {"code": "create"}]}]}]});
        assert!(missing_for_sharing(&statement, MEASUREMENTS).is_empty());
        assert_eq!(
            missing_for_sharing(&statement, DOCUMENTS),
            [
                "the system interaction transaction",
                "create of DocumentManifest",
                "create of DocumentReference",
                "create of Binary"
            ]
        );
        let collecting = json!({"rest": [{"mode": "server",
            "resource": [{"type": "Observation", "interaction": [{"code": "search-type"}]}]}]});
        assert_eq!(
            missing_for_sharing(&collecting, MEASUREMENTS),
            ["the system interaction batch", "create of Observation"]
        );
    }

    #[test]
    fn a_location_gives_its_type_and_id() {
        assert_eq!(type_and_id("Observation/1a/_history/1").as_deref(), Some("Observation/1a"));
        assert_eq!(type_and_id("https://x/fhir/Patient/p-1").as_deref(), Some("Patient/p-1"));
        assert_eq!(type_and_id("Patient/"), None);
        assert_eq!(type_and_id("1a"), None);
    }
}
