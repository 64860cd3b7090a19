//! What a data service offers the scenarios that are not about its query list (headers, errors,
//! limits, isolation): read from the target's CapabilityStatement and ordered by the suite's
//! query list, so that each data service is asked only what it serves. Data services differ:
//! 52 (vital signs) has no Patient search, 51 (PDF/A documents) no Observation.
//!
//! The choices are pure ([`search`], [`record_searches`], [`parameter`], [`unserved`]); without a
//! readable CapabilityStatement the suite's own list is taken as what is offered, and what only
//! the statement can tell (a parameter's type) is not known.

use crate::queries::{self, Need};
use crate::scenario::{Probe, Stop};
use crate::session::Session;
use serde_json::Value;

/// What a CapabilityStatement says one resource type offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offered {
    /// The resource type.
    pub kind: String,
    /// Its interaction codes (`read`, `search-type`).
    pub interactions: Vec<String>,
    /// Its search parameters: name and FHIR type (`token`, `date`).
    pub params: Vec<(String, String)>,
    /// The names of the operations stated on it (R4 states `$lastn` there).
    pub operations: Vec<String>,
}

impl Offered {
    fn allows(&self, interaction: &str) -> bool {
        self.interactions.iter().any(|code| code == interaction)
    }
}

/// What a data service's CapabilityStatement offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offer {
    /// The types of `rest[0].resource`, in its order.
    pub types: Vec<Offered>,
    /// The operations stated for the whole server (STU3 states `$lastn` there).
    pub operations: Vec<String>,
}

impl Offer {
    /// The offer `statement` states, if it is a CapabilityStatement.
    pub fn from_statement(statement: &Value) -> Option<Offer> {
        if statement["resourceType"] != "CapabilityStatement" {
            return None;
        }
        let rest = &statement["rest"][0];
        let strings = |list: &Value, field: &str| -> Vec<String> {
            list.as_array().into_iter().flatten().filter_map(|item| item[field].as_str().map(str::to_owned)).collect()
        };
        let types = rest["resource"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|resource| {
                let kind = resource["type"].as_str()?.to_owned();
                let params = resource["searchParam"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|param| Some((param["name"].as_str()?.to_owned(), param["type"].as_str()?.to_owned())))
                    .collect();
                Some(Offered {
                    kind,
                    interactions: strings(&resource["interaction"], "code"),
                    params,
                    operations: strings(&resource["operation"], "name"),
                })
            })
            .collect();
        Some(Offer { types, operations: strings(&rest["operation"], "name") })
    }

    fn of(&self, kind: &str) -> Option<&Offered> {
        self.types.iter().find(|offered| offered.kind == kind)
    }

    /// Whether `kind` is searched (`search-type`).
    pub fn searches(&self, kind: &str) -> bool {
        self.of(kind).is_some_and(|offered| offered.allows("search-type"))
    }

    /// Whether `kind` is read (`read`).
    pub fn reads(&self, kind: &str) -> bool {
        self.of(kind).is_some_and(|offered| offered.allows("read"))
    }

    /// Whether `need` is offered. An operation counts when its type is offered and the
    /// operation is stated on the type or on the server.
    pub fn offers(&self, need: Need) -> bool {
        match need {
            Need::Search(kind) => self.searches(kind),
            Need::Read(kind) => self.reads(kind),
            Need::Operation(kind, name) => self.of(kind).is_some_and(|offered| {
                offered.operations.iter().chain(&self.operations).any(|operation| operation == name)
            }),
        }
    }
}

/// How a need reads in a check's finding (`Binary read`).
pub fn shown(need: Need) -> String {
    match need {
        Need::Search(kind) => format!("{kind} search-type"),
        Need::Read(kind) => format!("{kind} read"),
        Need::Operation(kind, name) => format!("{kind} ${name}"),
    }
}

/// A search the scenarios send: its type and its path below the FHIR base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The type searched.
    pub kind: String,
    /// Path and query, as a PGO sends it.
    pub path: String,
}

impl Search {
    fn bare(kind: &str) -> Search {
        Search { kind: kind.to_owned(), path: kind.to_owned() }
    }
}

/// The types `data_service` is searched on, in order: those of its query list's searches (in
/// the list's order), then Patient, then the statement's others. Without a statement, the list's.
fn searched_types(data_service: &str, offer: Option<&Offer>) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    let mut add = |kind: &str| {
        if !kinds.iter().any(|known| known == kind) && offer.is_none_or(|offer| offer.searches(kind)) {
            kinds.push(kind.to_owned());
        }
    };
    for query in queries::of(data_service).unwrap_or_default().iter().filter(|query| query.is_search()) {
        add(query.kind());
    }
    if let Some(offer) = offer {
        add("Patient");
        for offered in &offer.types {
            add(&offered.kind);
        }
    }
    kinds
}

/// A search `data_service` answers with the person's records: the first search of the suite's
/// list whose type the statement offers for search, as the list writes it (`Observation?code=..`
/// for 52, `DocumentReference?status=current` for 51); else a search of the first type the
/// statement offers `search-type` on (Patient first). None when it offers no search.
pub fn search(data_service: &str, offer: Option<&Offer>) -> Option<Search> {
    let kinds = searched_types(data_service, offer);
    let listed = queries::of(data_service)
        .unwrap_or_default()
        .iter()
        .find(|query| query.is_search() && kinds.iter().any(|kind| kind == query.kind()));
    match listed {
        Some(query) => Some(Search { kind: query.kind().to_owned(), path: query.path.to_owned() }),
        None => kinds.first().map(|kind| Search::bare(kind)),
    }
}

/// The searches that find a person's own record at `data_service`: their Patient when it is
/// searched (`Patient`), and the data service's [`search`] when that is of another type. Without
/// a statement, Patient only when the list searches it.
pub fn record_searches(data_service: &str, offer: Option<&Offer>) -> Vec<Search> {
    let mut searches = Vec::new();
    if searched_types(data_service, offer).iter().any(|kind| kind == "Patient") {
        searches.push(Search::bare("Patient"));
    }
    if let Some(search) = search(data_service, offer).filter(|search| search.kind != "Patient") {
        searches.push(search);
    }
    searches
}

/// A search parameter of FHIR type `param_type` (`date`, `token`) that `data_service` offers:
/// the first on its searched types, in their order ([`search`]'s), leaving out the built-in ones
/// (`_id`). The type and the parameter's name.
pub fn parameter(data_service: &str, offer: &Offer, param_type: &str) -> Option<(String, String)> {
    searched_types(data_service, Some(offer)).into_iter().find_map(|kind| {
        let offered = offer.of(&kind)?;
        let (name, _) =
            offered.params.iter().find(|(name, kind)| kind == param_type && !name.starts_with('_'))?.clone();
        Some((kind, name))
    })
}

/// A resource type the data service does not serve (for the unknown-type error): `Basic`, unless
/// the statement offers it.
pub fn unserved(offer: Option<&Offer>) -> &'static str {
    ["Basic", "Linkage", "TestReport", "ImplementationGuide"]
        .into_iter()
        .find(|kind| offer.is_none_or(|offer| offer.of(kind).is_none()))
        .unwrap_or("Basic")
}

/// The offer of `data_service` at the target: its CapabilityStatement (`[base]/metadata`, the
/// exchange recorded), or None when the target answers none.
pub async fn fetch(session: &Session, probe: &Probe, data_service: &str) -> Result<Option<Offer>, Stop> {
    let base = session.base(data_service)?;
    let request = session.api.client().get(format!("{base}/metadata")).header("Accept", "application/fhir+json");
    let answer = probe.send(request).await?;
    if answer.status != 200 {
        return Ok(None);
    }
    Ok(answer.json().and_then(|statement| Offer::from_statement(&statement)))
}

/// The search of `data_service` ([`search`]), from its statement at the target; not run when it
/// offers none.
pub async fn search_at(session: &Session, probe: &Probe, data_service: &str) -> Result<Search, Stop> {
    let offer = fetch(session, probe, data_service).await?;
    search(data_service, offer.as_ref()).ok_or_else(|| no_search(data_service))
}

/// A search parameter of FHIR type `param_type` of `data_service` ([`parameter`]), from its
/// statement at the target; not run when the statement cannot be read or states none.
pub async fn parameter_at(
    session: &Session,
    probe: &Probe,
    data_service: &str,
    param_type: &str,
) -> Result<(String, String), Stop> {
    let Some(offer) = fetch(session, probe, data_service).await? else {
        return Err(Stop::NotRun(format!(
            "the CapabilityStatement of {data_service} could not be read: which search parameter is of type \
             {param_type} is not known"
        )));
    };
    parameter(data_service, &offer, param_type).ok_or_else(|| {
        Stop::NotRun(format!(
            "data service {data_service} offers no search parameter of type {param_type} (its CapabilityStatement)"
        ))
    })
}

/// Why a scenario that needs a search is not run at `data_service`.
pub fn no_search(data_service: &str) -> Stop {
    Stop::NotRun(format!(
        "data service {data_service} offers no search: its CapabilityStatement names no type with search-type \
         (and the suite knows no query list for it)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A statement in the form the service writes: `_id` first, parameters typed.
    fn statement(resources: Value) -> Offer {
        let statement = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
            "resource": resources, "operation": [{"name": "lastn"}]}]});
        Offer::from_statement(&statement).unwrap()
    }

    fn resource(kind: &str, interactions: &[&str], params: &[(&str, &str)]) -> Value {
        json!({"type": kind,
            "interaction": interactions.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
            "searchParam": params.iter().map(|(name, kind)| json!({"name": name, "type": kind})).collect::<Vec<_>>()})
    }

    /// 52 as the service states it: Observation searched, Patient read only.
    fn vital_signs() -> Offer {
        statement(json!([
            resource(
                "Observation",
                &["read", "search-type", "create"],
                &[("code", "token"), ("date", "date"), ("category", "token")]
            ),
            resource("Patient", &["read"], &[]),
            resource("Practitioner", &["read"], &[]),
        ]))
    }

    /// 51 as the service states it: documents searched, Binary read, Patient searched by `_id`.
    fn documents() -> Offer {
        statement(json!([
            resource(
                "DocumentManifest",
                &["read", "search-type"],
                &[("_id", "token"), ("status", "token"), ("created", "date")]
            ),
            resource(
                "DocumentReference",
                &["read", "search-type"],
                &[("_id", "token"), ("status", "token"), ("indexed", "date")]
            ),
            resource("Binary", &["read", "create"], &[]),
            resource("Patient", &["read", "search-type"], &[("_id", "token")]),
        ]))
    }

    fn search_of(kind: &str, path: &str) -> Search {
        Search { kind: kind.into(), path: path.into() }
    }

    #[test]
    fn a_statement_gives_each_types_interactions_parameters_and_operations() {
        let offer = vital_signs();
        assert!(offer.searches("Observation") && offer.reads("Patient"));
        assert!(!offer.searches("Patient") && !offer.reads("Binary"));
        assert!(offer.offers(Need::Operation("Observation", "lastn")));
        assert!(!offer.offers(Need::Operation("Patient", "everything")));
        assert!(documents().offers(Need::Read("Binary")));
        assert_eq!(Offer::from_statement(&json!({"resourceType": "OperationOutcome"})), None);
    }

    #[test]
    fn the_search_is_the_first_of_the_list_the_data_service_offers() {
        assert_eq!(
            search("52", Some(&vital_signs())),
            Some(search_of("Observation", "Observation?code=http://loinc.org|85354-9"))
        );
        assert_eq!(
            search("51", Some(&documents())),
            Some(search_of("DocumentReference", "DocumentReference?status=current"))
        );
        // Without a statement, the list's first search; 48's and 63's as before.
        assert_eq!(search("48", None), Some(search_of("Patient", "Patient?_include=Patient:general-practitioner")));
        assert_eq!(search("63", None), Some(search_of("Immunization", "Immunization")));
        // A data service without a list: Patient when offered, else the statement's first search.
        assert_eq!(search("49", Some(&documents())), Some(search_of("Patient", "Patient")));
        let no_patient = statement(json!([resource("Flag", &["read", "search-type"], &[])]));
        assert_eq!(search("49", Some(&no_patient)), Some(search_of("Flag", "Flag")));
        // Nothing searched, or nothing known: no search.
        let reads_only = statement(json!([resource("Patient", &["read"], &[])]));
        assert_eq!((search("52", Some(&reads_only)), search("49", None)), (None, None));
    }

    #[test]
    fn a_persons_record_is_their_patient_when_searched_and_the_data_services_search() {
        assert_eq!(
            record_searches("52", Some(&vital_signs())),
            [search_of("Observation", "Observation?code=http://loinc.org|85354-9")]
        );
        assert_eq!(
            record_searches("51", Some(&documents())),
            [search_of("Patient", "Patient"), search_of("DocumentReference", "DocumentReference?status=current")]
        );
        // 48 searches Patient first: once.
        assert_eq!(record_searches("48", None), [search_of("Patient", "Patient")]);
        assert_eq!(
            record_searches("63", None),
            [search_of("Patient", "Patient"), search_of("Immunization", "Immunization")]
        );
    }

    #[test]
    fn a_parameter_of_a_type_is_the_first_on_the_searched_types_built_ins_left_out() {
        let found = |data_service: &str, offer: &Offer, kind: &str| {
            parameter(data_service, offer, kind).map(|(kind, name)| format!("{kind}?{name}"))
        };
        assert_eq!(found("52", &vital_signs(), "date").as_deref(), Some("Observation?date"));
        assert_eq!(found("52", &vital_signs(), "token").as_deref(), Some("Observation?code"));
        // 51's list searches DocumentReference before DocumentManifest; Patient has only `_id`.
        assert_eq!(found("51", &documents(), "date").as_deref(), Some("DocumentReference?indexed"));
        assert_eq!(found("51", &documents(), "token").as_deref(), Some("DocumentReference?status"));
        assert_eq!(found("51", &documents(), "quantity"), None);
    }

    #[test]
    fn the_unserved_type_is_one_the_statement_does_not_name() {
        assert_eq!(unserved(None), "Basic");
        assert_eq!(unserved(Some(&vital_signs())), "Basic");
        let with_basic = statement(json!([resource("Basic", &["read"], &[])]));
        assert_eq!(unserved(Some(&with_basic)), "Linkage");
    }
}
