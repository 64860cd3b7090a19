//! Isolation: patient A's token never reaches patient B's data, nor another provider's.
//!
//! B's records are found with B's own token, the way the data service allows
//! ([`offer::record_searches`]): B's Patient where Patient is searched (48, 51, 63), and the
//! records of the data service's own search (52's Observations, 51's DocumentReferences with the
//! Binaries they name, 63's Immunizations), with the Patients those refer to as subject or
//! patient. A's token is then sent with B's ids as parameters, and reads each of B's records the
//! data service offers to read.

use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::offer::{self, Offer, Search};
use crate::scenarios::resource_server::{operation_outcome, release, url};
use crate::scenarios::retrieval::{Format, document_url, pgo_request};
use crate::session::{Patient, Session};
use serde_json::Value;
use std::sync::Arc;

type Body = fn(Arc<Session>, String, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;

/// The isolation scenarios, per tested data service.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let cases: [(&str, &str, &str, Body); 4] = [
        (
            "patient-parameter-ignored",
            "patient A's token with patient B's ids as patient or _id parameter returns none of B's data",
            "Flow 1 step 6: requests carry no patient parameter; the patient comes from the token",
            |s, d, p| Box::pin(patient_parameter(s, d, p)),
        ),
        (
            "read-other-patient",
            "patient A's token cannot read patient B's Patient or records",
            "The patient comes from the token",
            |s, d, p| Box::pin(read_other(s, d, p)),
        ),
        (
            "token-of-other-patient-differs",
            "patient B's token returns B's own records, not A's",
            "The patient comes from the token",
            |s, d, p| Box::pin(tokens_differ(s, d, p)),
        ),
        (
            "other-provider",
            "a token for this provider is refused at another provider's FHIR base",
            "A token binds the PGO to one person at one provider",
            |s, d, p| Box::pin(other_provider(s, d, p)),
        ),
    ];
    let mut list = Vec::new();
    for (id, title, rule, body) in cases {
        for data_service in &session.config.data_services {
            let (s, d) = (session.clone(), data_service.clone());
            list.push(Scenario::new(
                format!("isolation.{data_service}.{id}"),
                "isolation",
                format!("{data_service}: {title}"),
                rule,
                move |probe| body(s.clone(), d.clone(), probe),
            ));
        }
    }
    list
}

/// A person's records as their own token finds them at a data service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Records {
    /// Type and id of each record found, and of each Binary a DocumentReference names.
    pub found: Vec<(String, String)>,
    /// The ids of their Patients: found, or referred to as a record's subject or patient.
    pub patients: Vec<String>,
}

impl Records {
    /// The ids of the records of `kind`.
    pub fn of(&self, kind: &str) -> Vec<&str> {
        self.found.iter().filter(|(found, _)| found == kind).map(|(_, id)| id.as_str()).collect()
    }

    fn add(&mut self, kind: &str, id: &str) {
        if !self.found.iter().any(|(known, known_id)| known == kind && known_id == id) {
            self.found.push((kind.to_owned(), id.to_owned()));
        }
    }

    /// Adds what `bundle`, the answer to a search of `kind` at `base`, holds of the person.
    pub fn add_bundle(&mut self, bundle: &Value, kind: &str, base: &str) {
        for resource in resources(bundle, kind) {
            let Some(id) = resource["id"].as_str() else { continue };
            self.add(kind, id);
            let patient = if kind == "Patient" { Some(id.to_owned()) } else { patient_of(resource) };
            if let Some(patient) = patient.filter(|patient| !self.patients.contains(patient)) {
                self.patients.push(patient);
            }
            if kind == "DocumentReference" {
                for content in resource["content"].as_array().into_iter().flatten() {
                    let named = content["attachment"]["url"].as_str().unwrap_or_default();
                    // A document elsewhere than the base is not the data service's to serve.
                    if let Ok((_, binary)) = document_url(base, named) {
                        self.add("Binary", &binary);
                    }
                }
            }
        }
    }

    /// What both `self` and `other` hold: records, then Patients.
    fn shared_with(&self, other: &Records) -> Vec<String> {
        let records =
            self.found.iter().filter(|record| other.found.contains(record)).map(|(k, id)| format!("{k}/{id}"));
        let patients = self.patients.iter().filter(|id| other.patients.contains(id)).map(|id| format!("Patient/{id}"));
        records.chain(patients).collect()
    }
}

/// The resources of `kind` among `bundle`'s entries.
fn resources<'a>(bundle: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| &entry["resource"])
        .filter(move |resource| resource["resourceType"] == kind)
}

fn ids(bundle: &Value, kind: &str) -> Vec<String> {
    resources(bundle, kind).filter_map(|resource| resource["id"].as_str().map(str::to_owned)).collect()
}

/// The id of the Patient `resource` is of: its `subject` or `patient` reference
/// (`Patient/{id}`, relative or absolute, a version left out).
pub fn patient_of(resource: &Value) -> Option<String> {
    ["subject", "patient"].into_iter().find_map(|field| {
        let reference = resource[field]["reference"].as_str()?;
        let reference = reference.split("/_history/").next().unwrap_or(reference);
        let (kind, id) = reference.rsplit_once('/')?;
        (kind == "Patient" || kind.ends_with("/Patient")).then(|| id.to_owned()).filter(|id| !id.is_empty())
    })
}

/// What the offer of `data_service` gives the isolation scenarios: its searches for a person's
/// record and the statement (None when unreadable); not run when it offers no search.
async fn record_searches(
    session: &Session,
    probe: &Probe,
    data_service: &str,
) -> Result<(Vec<Search>, Option<Offer>), Stop> {
    let offered = offer::fetch(session, probe, data_service).await?;
    let searches = offer::record_searches(data_service, offered.as_ref());
    if searches.is_empty() {
        return Err(offer::no_search(data_service));
    }
    Ok((searches, offered))
}

/// The records `token`'s person has at `data_service`, by `searches`.
async fn records(
    session: &Session,
    probe: &Probe,
    data_service: &str,
    token: &str,
    searches: &[Search],
) -> Result<Records, Stop> {
    let base = session.base(data_service)?;
    let mut records = Records::default();
    for search in searches {
        let answer =
            probe.send(pgo_request(session, url(session, data_service, &search.path)?, token, Format::Json)).await?;
        if answer.status != 200 {
            return Err(Stop::Failed(format!("the search {} answered {}", search.path, answer.status)));
        }
        records.add_bundle(&answer.json().unwrap_or_default(), &search.kind, base);
    }
    Ok(records)
}

fn shown(searches: &[Search]) -> String {
    searches.iter().map(|search| search.path.as_str()).collect::<Vec<_>>().join(", ")
}

/// Patient A's tokens and patient B's records (found with B's token).
async fn a_token_and_b_records(
    session: &Session,
    probe: &Probe,
    data_service: &str,
    searches: &[Search],
) -> Result<(crate::pgo::Tokens, Records), Stop> {
    let a = session.tokens(probe, Patient::A, data_service).await?;
    let b = session.tokens(probe, Patient::B, data_service).await?;
    let b_records = records(session, probe, data_service, &b.access, searches).await?;
    if b_records.found.is_empty() {
        return Err(Stop::Failed(format!("patient B's token found no record ({})", shown(searches))));
    }
    Ok((a, b_records))
}

async fn patient_parameter(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (searches, _) = record_searches(&session, &probe, &data_service).await?;
    let (a, b_records) = a_token_and_b_records(&session, &probe, &data_service, &searches).await?;
    for search in &searches {
        let theirs = b_records.of(&search.kind);
        if theirs.is_empty() {
            continue;
        }
        let by_id = theirs.iter().map(|id| format!("{}?_id={id}", search.kind));
        let by_patient = b_records.patients.iter().map(|id| format!("{}?patient={id}", search.kind));
        for path in by_id.chain(by_patient) {
            let answer = probe
                .send(pgo_request(&session, url(&session, &data_service, &path)?, &a.access, Format::Json))
                .await?;
            let returned = ids(&answer.json().unwrap_or_default(), &search.kind);
            probe.check(
                format!("{path} with A's token returns none of B's {}s", search.kind),
                !returned.iter().any(|id| theirs.contains(&id.as_str())),
                returned.join(", "),
            );
        }
    }
    Ok(())
}

/// B's records that `offered` lets a PGO read (every one found when the statement is unknown),
/// and B's Patients where Patient is read.
fn readable(b_records: &Records, offered: Option<&Offer>) -> Vec<(String, String)> {
    let reads = |kind: &str| offered.is_none_or(|offer| offer.reads(kind));
    let mut targets: Vec<(String, String)> = b_records.found.iter().filter(|(kind, _)| reads(kind)).cloned().collect();
    if offered.is_some_and(|offer| offer.reads("Patient")) {
        for id in &b_records.patients {
            let patient = ("Patient".to_owned(), id.clone());
            if !targets.contains(&patient) {
                targets.push(patient);
            }
        }
    }
    targets
}

async fn read_other(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (searches, offered) = record_searches(&session, &probe, &data_service).await?;
    let (a, b_records) = a_token_and_b_records(&session, &probe, &data_service, &searches).await?;
    let targets = readable(&b_records, offered.as_ref());
    if targets.is_empty() {
        return Err(Stop::NotRun(format!(
            "data service {data_service} offers no read of B's records or Patient (its CapabilityStatement)"
        )));
    }
    for (kind, id) in targets {
        let path = format!("{kind}/{id}");
        let answer =
            probe.send(pgo_request(&session, url(&session, &data_service, &path)?, &a.access, Format::Json)).await?;
        probe.check(
            format!("reading {path} with A's token is refused (403 or 404)"),
            matches!(answer.status, 403 | 404),
            answer.status.to_string(),
        );
        probe.check(
            "and shows none of it",
            !answer.text().contains(&format!("\"id\":\"{id}\"")),
            format!("B's {kind} in the answer"),
        );
    }
    Ok(())
}

async fn tokens_differ(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (searches, _) = record_searches(&session, &probe, &data_service).await?;
    let a = session.tokens(&probe, Patient::A, &data_service).await?;
    let b = session.tokens(&probe, Patient::B, &data_service).await?;
    let a_records = records(&session, &probe, &data_service, &a.access, &searches).await?;
    let b_records = records(&session, &probe, &data_service, &b.access, &searches).await?;
    let searched = shown(&searches);
    probe.check(format!("A's token finds a record ({searched})"), !a_records.found.is_empty(), "none");
    probe.check(format!("B's token finds a record ({searched})"), !b_records.found.is_empty(), "none");
    let both = a_records.shared_with(&b_records);
    probe.check("no record and no Patient is in both answers", both.is_empty(), both.join(", "));
    Ok(())
}

async fn other_provider(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let Some(other) = &session.other_provider else {
        return Err(Stop::NotRun("needs a second provider of the target (--other-provider)".into()));
    };
    let Some(base) = other.service(&data_service).map(|service| service.base.clone()) else {
        return Err(Stop::NotRun(format!("the other provider does not offer {data_service}")));
    };
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let url = url::Url::parse(&format!("{base}/{}", search.path)).map_err(|error| Stop::Failed(error.to_string()))?;
    let answer = probe.send(pgo_request(&session, url, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[401, 403], None, Format::Json, release(&data_service));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = "https://dva.example/vitaal/51/fhir";

    fn bundle(resources: Vec<Value>) -> Value {
        json!({"resourceType": "Bundle", "type": "searchset",
            "entry": resources.into_iter().map(|resource| json!({"resource": resource})).collect::<Vec<_>>()})
    }

    fn pair(kind: &str, id: &str) -> (String, String) {
        (kind.to_owned(), id.to_owned())
    }

    #[test]
    fn a_records_patient_is_its_subject_or_patient_reference() {
        let of = |resource: Value| patient_of(&resource);
        assert_eq!(of(json!({"subject": {"reference": "Patient/kees"}})).as_deref(), Some("kees"));
        assert_eq!(
            of(json!({"patient": {"reference": format!("{BASE}/Patient/kees/_history/2")}})).as_deref(),
            Some("kees")
        );
        assert_eq!(of(json!({"subject": {"reference": "Group/kees"}})), None);
        assert_eq!(of(json!({"subject": {"display": "Kees"}})), None);
    }

    #[test]
    fn a_search_answer_gives_the_records_their_patients_and_the_documents_named() {
        let mut records = Records::default();
        records.add_bundle(
            &bundle(vec![
                json!({"resourceType": "DocumentReference", "id": "letter-ref", "subject": {"reference": "Patient/kees"},
                    "content": [{"attachment": {"url": "Binary/letter"}}, {"attachment": {"url": "https://elsewhere.example/Binary/x"}}]}),
                json!({"resourceType": "Practitioner", "id": "smit"}),
            ]),
            "DocumentReference",
            BASE,
        );
        records.add_bundle(&bundle(vec![json!({"resourceType": "Patient", "id": "kees"})]), "Patient", BASE);
        assert_eq!(
            records.found,
            [pair("DocumentReference", "letter-ref"), pair("Binary", "letter"), pair("Patient", "kees")]
        );
        assert_eq!(records.patients, ["kees"]);
        assert_eq!(records.of("Binary"), ["letter"]);
    }

    #[test]
    fn what_is_read_is_what_the_statement_offers_to_read() {
        // 52: B's Observation, and B's Patient by read (offered, though not searched).
        let records = Records { found: vec![pair("Observation", "kees-bp")], patients: vec!["kees".into()] };
        let vital_signs = Offer::from_statement(&json!({"resourceType": "CapabilityStatement", "rest": [{"resource": [
            {"type": "Observation", "interaction": [{"code": "read"}, {"code": "search-type"}]},
            {"type": "Patient", "interaction": [{"code": "read"}]}]}]}))
        .unwrap();
        assert_eq!(readable(&records, Some(&vital_signs)), [pair("Observation", "kees-bp"), pair("Patient", "kees")]);
        // Nothing read: nothing to try. Unknown: what was found.
        let searched_only =
            Offer::from_statement(&json!({"resourceType": "CapabilityStatement", "rest": [{"resource": [
            {"type": "Observation", "interaction": [{"code": "search-type"}]}]}]}))
            .unwrap();
        assert_eq!(readable(&records, Some(&searched_only)), []);
        assert_eq!(readable(&records, None), [pair("Observation", "kees-bp")]);
    }

    #[test]
    fn records_shared_by_two_people_are_named() {
        let a = Records { found: vec![pair("Observation", "x"), pair("Observation", "a")], patients: vec!["p".into()] };
        let b = Records { found: vec![pair("Observation", "x")], patients: vec!["p".into(), "q".into()] };
        assert_eq!(a.shared_with(&b), ["Observation/x", "Patient/p"]);
        assert_eq!(a.shared_with(&Records::default()), Vec::<String>::new());
    }
}
