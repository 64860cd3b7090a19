//! A property of the store's visibility rule (`src/visibility.rs`), tried on generated worlds:
//! what `read_for_patient`, `search`, its `_include`s and `$lastn` give a person is exactly what
//! the rule allows, as a plain oracle works it out from the data service's definition. A world
//! has persons with Patients (and a Patient of no one), records tied to one of them, to a Patient
//! never stored or to nobody, claiming served, versioned, foreign or no profiles, and shared
//! resources (a Device too, with or without a patient) that some records refer to; some of it
//! deleted. The cases come from proptest's deterministic runner, so a failure names a case that
//! repeats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ZONE, open, provider_of, put_with_keys};
use data_services::{Catalog, DataService, Include, Ownership, ReleaseDefinition, TypeDefinition};
use fhir_core::Release;
use fhir_search::query::parse_query;
use fhir_search::{ParseOptions, QueryLimits};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use store::{PatientScope, ProviderId, Store, StoredResource, Visibility, Write};
use test_support::on_both_backends;

/// Cases per backend: each stores up to 23 resources and makes some 200 requests.
const CASES: usize = 24;
/// The data service whose rule is tried: BgZ, which serves shared types and Device.
const SERVICE: &str = "48";
/// A profile no data service serves.
const UNSERVED: &str = "http://example.org/fhir/StructureDefinition/served-by-no-one";
/// A Patient id no stored Patient has.
const ABSENT: &str = "pat-absent";
/// The Observation codes, so that `$lastn` has more than one group.
const CODES: [&str; 2] = ["85354-9", "29463-7"];
/// The types of generated shared resources (a Device is shared only when it names no patient).
const SHARED_TYPES: [&str; 4] = ["Organization", "Practitioner", "Medication", "Device"];
/// The types of generated records (Observation and DeviceUseStatement twice as often);
/// DiagnosticReport is defined for STU3 but not served by BgZ.
#[rustfmt::skip]
const RECORD_TYPES: [&str; 8] = ["Observation", "Observation", "Condition", "AllergyIntolerance",
    "MedicationStatement", "DeviceUseStatement", "DeviceUseStatement", "DiagnosticReport"];

/// Whose a generated resource is.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// The case's Patient with this number (modulo their count); for a Patient, the person with
    /// this number, whose key it carries (none when there is no such person).
    Of(usize),
    /// A Patient id no stored Patient has.
    Absent,
    /// It names no patient.
    Nobody,
}

/// What a generated resource claims in `meta.profile`; `usize` picks one of its type's served
/// profiles (modulo their count).
#[derive(Debug, Clone, Copy)]
enum Claim {
    Served(usize),
    /// A served profile with a version, `|1.0.0`.
    Versioned(usize),
    /// An unserved profile, then a served one.
    AmongOthers(usize),
    /// A served profile with a suffix: another URL.
    Extended(usize),
    /// A profile the data service serves for another type.
    OtherType(usize),
    Unserved,
    Nothing,
}

/// One generated resource.
#[derive(Debug, Clone)]
struct Spec {
    resource_type: &'static str,
    /// Ignored for the shared types.
    owner: Owner,
    claim: Claim,
    /// Picks what it refers to, among the resources of the type its reference allows: a
    /// Patient's general practitioner, an Observation's related Observation, a
    /// MedicationStatement's Medication, a DeviceUseStatement's Device.
    link: Option<usize>,
    /// An Observation's code.
    code: usize,
    deleted: bool,
}

#[derive(Debug, Clone)]
struct World {
    persons: usize,
    patients: Vec<Spec>,
    /// The shared resources, then the records.
    others: Vec<Spec>,
}

fn owner() -> impl Strategy<Value = Owner> {
    prop_oneof![4 => (0..8_usize).prop_map(Owner::Of), 1 => Just(Owner::Absent), 1 => Just(Owner::Nobody)]
}

fn claim() -> impl Strategy<Value = Claim> {
    prop_oneof![
        5 => (0..4_usize).prop_map(Claim::Served),
        1 => (0..4_usize).prop_map(Claim::Versioned),
        1 => (0..4_usize).prop_map(Claim::AmongOthers),
        1 => (0..4_usize).prop_map(Claim::Extended),
        1 => (0..64_usize).prop_map(Claim::OtherType),
        1 => Just(Claim::Unserved),
        1 => Just(Claim::Nothing),
    ]
}

fn specs(types: &'static [&'static str], count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Spec>> {
    let link = prop::option::weighted(0.8, 0..16_usize);
    let fields = (0..types.len(), owner(), claim(), link, 0..CODES.len(), prop::bool::weighted(0.12));
    let spec = fields.prop_map(move |(kind, owner, claim, link, code, deleted)| Spec {
        resource_type: types[kind],
        owner,
        claim,
        link,
        code,
        deleted,
    });
    prop::collection::vec(spec, count)
}

fn world() -> impl Strategy<Value = World> {
    let patients = specs(&["Patient"], 3..7);
    (2..4_usize, patients, specs(&SHARED_TYPES, 1..6), specs(&RECORD_TYPES, 3..13)).prop_map(
        |(persons, mut patients, shared, records)| {
            // The first Patients belong to the persons in turn, so that each person has one.
            for (person, patient) in patients.iter_mut().take(persons).enumerate() {
                patient.owner = Owner::Of(person);
            }
            World { persons, patients, others: shared.into_iter().chain(records).collect() }
        },
    )
}

/// A generated resource as written, with what the rule needs to know of it.
#[derive(Debug)]
struct Stored {
    resource_type: &'static str,
    id: String,
    body: Value,
    person_key: Option<String>,
    claims: Vec<String>,
    /// The Patient it names (a Patient: itself).
    compartment: Option<String>,
    /// Its references: (search parameter, target type, target id).
    refs: Vec<(String, &'static str, String)>,
    /// An Observation's code and the day of the month it was effective.
    observed: Option<(&'static str, usize)>,
    deleted: bool,
}

/// Patient ids, or `Type/id` keys.
type Ids = BTreeSet<String>;

fn person_key(person: usize) -> String {
    format!("person-{person}")
}

fn key(resource_type: &str, id: &str) -> String {
    format!("{resource_type}/{id}")
}

/// The profiles `claim` names for a resource of `resource_type`.
fn claims(claim: Claim, resource_type: &str, service: &DataService) -> Vec<String> {
    let own = service.served(resource_type).map(|served| served.profiles.clone()).unwrap_or_default();
    let pick = |n: usize| own.get(n % own.len().max(1)).cloned().unwrap_or_else(|| UNSERVED.to_owned());
    let others: Vec<&String> = service
        .types
        .iter()
        .filter(|served| served.resource_type != resource_type)
        .flat_map(|served| &served.profiles)
        .collect();
    match claim {
        Claim::Served(n) => vec![pick(n)],
        Claim::Versioned(n) => vec![format!("{}|1.0.0", pick(n))],
        Claim::AmongOthers(n) => vec![UNSERVED.to_owned(), pick(n)],
        Claim::Extended(n) => vec![format!("{}-extended", pick(n))],
        Claim::OtherType(n) => vec![others[n % others.len()].clone()],
        Claim::Unserved => vec![UNSERVED.to_owned()],
        Claim::Nothing => Vec::new(),
    }
}

/// The reference a resource of `resource_type` may carry: (element, search parameter, target
/// types).
fn reference_of(resource_type: &str) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    match resource_type {
        "Patient" => Some(("generalPractitioner", "general-practitioner", &["Organization", "Practitioner"])),
        "Observation" => Some(("related", "related-target", &["Observation"])),
        "MedicationStatement" => Some(("medicationReference", "medication", &["Medication"])),
        "DeviceUseStatement" => Some(("device", "device", &["Device"])),
        _ => None,
    }
}

/// The resources of `world`, Patients first.
fn build(world: &World, service: &DataService, release: &ReleaseDefinition) -> Vec<Stored> {
    let specs: Vec<&Spec> = world.patients.iter().chain(&world.others).collect();
    let mut stored: Vec<Stored> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let prefix = if spec.resource_type == "Patient" { "pat" } else { "res" };
            let id = format!("{prefix}{index}");
            Stored {
                resource_type: spec.resource_type,
                body: json!({"resourceType": spec.resource_type, "id": id}),
                id,
                person_key: None,
                claims: claims(spec.claim, spec.resource_type, service),
                compartment: None,
                refs: Vec::new(),
                observed: None,
                deleted: spec.deleted,
            }
        })
        .collect();
    let targets: Vec<(&'static str, String)> = stored.iter().map(|it| (it.resource_type, it.id.clone())).collect();
    // The `n`-th resource of one of `types` other than `not` (modulo their count).
    let pick = |types: &[&str], n: usize, not: &str| {
        let candidates: Vec<_> = targets.iter().filter(|(target, id)| types.contains(target) && id != not).collect();
        (!candidates.is_empty()).then(|| candidates[n % candidates.len()].clone())
    };
    for (index, (resource, spec)) in stored.iter_mut().zip(specs).enumerate() {
        let definition = release.type_definition(resource.resource_type).expect("defined");
        // The element through which the type names its patient, as its definition says.
        let element = definition.compartment.first().map(|name| {
            let param = definition.param(name).expect("a compartment parameter");
            (name.clone(), param.paths[0].clone())
        });
        if resource.resource_type == "Patient" {
            resource.compartment = Some(resource.id.clone());
            resource.person_key = match spec.owner {
                Owner::Of(person) if person < world.persons => Some(person_key(person)),
                _ => None,
            };
        } else if let Some((param, element)) = element {
            resource.compartment = match spec.owner {
                Owner::Of(n) => Some(format!("pat{}", n % world.patients.len())),
                Owner::Absent => Some(ABSENT.to_owned()),
                Owner::Nobody => None,
            };
            if let Some(patient) = resource.compartment.clone() {
                resource.body[element.as_str()] = json!({"reference": key("Patient", &patient)});
                resource.refs.push((param, "Patient", patient));
            }
        }
        if resource.resource_type == "Observation" {
            let code = CODES[spec.code];
            resource.body["status"] = json!("final");
            resource.body["code"] = json!({"coding": [{"system": "http://loinc.org", "code": code}]});
            resource.body["effectiveDateTime"] = json!(format!("2020-01-{:02}T09:00:00+01:00", index + 1));
            resource.observed = Some((code, index + 1));
        }
        if let Some((element, param, types)) = reference_of(resource.resource_type)
            && let Some((target, id)) = spec.link.and_then(|n| pick(types, n, &resource.id))
        {
            let reference = json!({"reference": key(target, &id)});
            resource.body[element] = match element {
                "generalPractitioner" => json!([reference]),
                "related" => json!([{"type": "has-member", "target": reference}]),
                _ => reference,
            };
            resource.refs.push((param.to_owned(), target, id));
        }
        if !resource.claims.is_empty() {
            resource.body["meta"] = json!({"profile": resource.claims});
        }
    }
    stored
}

/// The rule of `visibility.rs`, in plain Rust over the generated resources.
struct Oracle<'a> {
    stored: &'a [Stored],
    service: &'a DataService,
    release: &'a ReleaseDefinition,
}

impl Oracle<'_> {
    /// The person's Patients: those (not deleted) carrying the key.
    fn patients_of(&self, person_key: &str) -> Ids {
        self.stored
            .iter()
            .filter(|resource| !resource.deleted && resource.person_key.as_deref() == Some(person_key))
            .map(|resource| resource.id.clone())
            .collect()
    }

    fn find(&self, resource_type: &str, id: &str) -> Option<&Stored> {
        self.stored.iter().find(|resource| resource.resource_type == resource_type && resource.id == id)
    }

    /// It claims a profile (version aside) the data service serves for its type.
    fn claims_served_profile(&self, resource: &Stored) -> bool {
        self.service.served(resource.resource_type).is_some_and(|served| {
            served.any_profile
                || resource.claims.iter().any(|claim| {
                    let canonical = claim.split('|').next().unwrap_or(claim);
                    served.profiles.iter().any(|profile| profile == canonical)
                })
        })
    }

    fn in_compartment(resource: &Stored, patients: &Ids) -> bool {
        !resource.deleted && resource.compartment.as_ref().is_some_and(|patient| patients.contains(patient))
    }

    /// Its type is in no one's compartment, or it is a Device that names no patient.
    fn shared(&self, resource: &Stored) -> bool {
        match self.release.type_definition(resource.resource_type).map(TypeDefinition::ownership) {
            Some(Ownership::Shared) => true,
            Some(Ownership::CompartmentWhenNamed) => resource.compartment.is_none(),
            _ => false,
        }
    }

    fn visible(&self, resource: &Stored, patients: &Ids) -> bool {
        if resource.deleted || !self.claims_served_profile(resource) {
            return false;
        }
        let referred = || {
            self.stored.iter().any(|record| {
                Self::in_compartment(record, patients)
                    && record.refs.iter().any(|(_, target, id)| *target == resource.resource_type && *id == resource.id)
            })
        };
        Self::in_compartment(resource, patients) || (self.shared(resource) && referred())
    }

    /// What a search of `resource_type` without criteria matches.
    fn matches(&self, resource_type: &str, patients: &Ids) -> Vec<&Stored> {
        self.stored
            .iter()
            .filter(|resource| resource.resource_type == resource_type)
            .filter(|resource| self.claims_served_profile(resource) && Self::in_compartment(resource, patients))
            .collect()
    }

    /// `$lastn` with `max=1`: per code, the most recent of the matching Observations.
    fn lastn(&self, patients: &Ids) -> Vec<&Stored> {
        let mut latest: BTreeMap<&str, &Stored> = BTreeMap::new();
        for observation in self.matches("Observation", patients) {
            let Some((code, day)) = observation.observed else { continue };
            if latest.get(code).is_none_or(|seen| seen.observed.is_some_and(|(_, seen)| seen < day)) {
                latest.insert(code, observation);
            }
        }
        latest.into_values().collect()
    }

    /// What `matches` bring in through `includes`: the visible resources they refer to, less
    /// the matches themselves; and how many they refer to that claim a served profile but are
    /// held back, as not the person's.
    fn included(&self, matches: &[&Stored], includes: &[Include], patients: &Ids) -> (Ids, usize) {
        let matched = keys_of(matches);
        let follows = |source: &str, param: &str, target: &str| {
            includes.iter().any(|include| {
                include.source_type == source
                    && include.param == param
                    && include.target_type.as_deref().is_none_or(|only| only == target)
            })
        };
        let referred = matches.iter().flat_map(|record| {
            record
                .refs
                .iter()
                .filter(|(param, target, _)| follows(record.resource_type, param, target))
                .filter_map(|(_, target, id)| self.find(target, id))
        });
        let (mut included, mut held_back) = (BTreeSet::new(), 0);
        for resource in referred.filter(|resource| !matched.contains(&key(resource.resource_type, &resource.id))) {
            if self.visible(resource, patients) {
                included.insert(key(resource.resource_type, &resource.id));
            } else if !resource.deleted && self.claims_served_profile(resource) {
                held_back += 1;
            }
        }
        (included, held_back)
    }
}

fn keys_of(resources: &[&Stored]) -> Ids {
    resources.iter().map(|resource| key(resource.resource_type, &resource.id)).collect()
}

fn keys_returned(resources: &[StoredResource]) -> Ids {
    resources.iter().map(|resource| key(&resource.resource_type, &resource.id)).collect()
}

/// How many of the outcomes that matter the cases reached, so that a generator gone narrow
/// fails instead of passing on nothing.
#[derive(Debug, Default)]
struct Reached {
    /// Reads answered with the person's own resource; with a shared one their records refer to.
    own: usize,
    shared: usize,
    /// Reads of the person's own resources, refused for the profile they claim.
    refused_for_profile: usize,
    /// Reads of resources claiming a served profile, refused as another's or no one's.
    refused_as_foreign: usize,
    matches: usize,
    included: usize,
    /// Referred to by a match, claiming a served profile, and not included.
    held_back: usize,
    lastn: usize,
}

/// One person (in one scope) of one case, and what the store gives them.
struct Probe<'a> {
    store: &'a Store,
    provider: ProviderId,
    scope: PatientScope,
    visibility: &'a Visibility,
    oracle: &'a Oracle<'a>,
    patients: Ids,
    /// Names the case, person and scope in failures.
    label: String,
}

impl Probe<'_> {
    /// Runs a search and checks its matches and total against `expected`, and its included
    /// resources against what `expected` bring in through the request's `_include`s.
    async fn check_search(
        &self,
        resource_type: &str,
        query: &str,
        lastn: bool,
        expected: &[&Stored],
        reached: &mut Reached,
    ) {
        let Probe { store, provider, scope, visibility, oracle, patients, label } = self;
        let options = ParseOptions {
            strict: true,
            lastn,
            zone: ZONE,
            default_count: 100,
            max_count: 100,
            limits: QueryLimits::DEFAULT,
        };
        let served = oracle.service.served(resource_type).expect("served");
        let definition = oracle.release.type_definition(resource_type).expect("defined");
        let request =
            fhir_search::request::parse(served, definition, &parse_query(query), options).expect("valid request");
        let page = store.search(*provider, Release::Stu3, scope, visibility, &request).await.expect("search");
        self.assert_only_own_or_shared(&page.matches, query);
        self.assert_only_own_or_shared(&page.included, query);
        let what = format!("{label}: {resource_type}{}?{query}", if lastn { "/$lastn" } else { "" });
        assert_eq!(keys_returned(&page.matches), keys_of(expected), "matches of {what}");
        assert_eq!(page.total, expected.len(), "total of {what}");
        let (included, held_back) = oracle.included(expected, &request.includes, patients);
        assert_eq!(keys_returned(&page.included), included, "included by {what}");
        reached.included += included.len();
        reached.held_back += held_back;
    }

    /// Nothing returned is another person's record, or a record of no one.
    fn assert_only_own_or_shared(&self, returned: &[StoredResource], what: &str) {
        for resource in returned {
            let found = self.oracle.find(&resource.resource_type, &resource.id).expect("a generated resource");
            let allowed = match &found.compartment {
                Some(patient) => self.patients.contains(patient),
                None => self.oracle.shared(found),
            };
            let label = &self.label;
            assert!(allowed, "{label}: {what} returned {}/{}, not theirs", resource.resource_type, resource.id);
        }
    }

    async fn check_reads(&self, reached: &mut Reached) {
        let Probe { store, provider, scope, visibility, oracle, patients, label } = self;
        for resource in oracle.stored {
            let (resource_type, id) = (resource.resource_type, &resource.id);
            let read = store.read_for_patient(*provider, Release::Stu3, scope, visibility, resource_type, id).await;
            let read = read.expect("read");
            self.assert_only_own_or_shared(read.as_slice(), "read");
            let expected = oracle.visible(resource, patients);
            let wanted = key(resource.resource_type, &resource.id);
            let returned = read.map(|found| key(&found.resource_type, &found.id));
            assert_eq!(returned, expected.then(|| wanted.clone()), "{label}: read {wanted} ({resource:?})");
            match (expected, Oracle::in_compartment(resource, patients), oracle.claims_served_profile(resource)) {
                (true, true, _) => reached.own += 1,
                (true, false, _) => reached.shared += 1,
                (false, true, _) => reached.refused_for_profile += 1,
                (false, false, true) if !resource.deleted => reached.refused_as_foreign += 1,
                (false, false, _) => {}
            }
        }
    }

    /// Every served type searched without criteria, then with its `_include`s; and `$lastn`.
    async fn check_searches(&self, reached: &mut Reached) {
        let Probe { oracle, patients, .. } = self;
        let types: BTreeSet<&str> = oracle
            .stored
            .iter()
            .map(|resource| resource.resource_type)
            .filter(|resource_type| oracle.service.served(resource_type).is_some())
            .collect();
        let with_includes = |includes: &[Include], rest: &str| -> String {
            includes.iter().map(|include| format!("_include={include}&")).chain([rest.to_owned()]).collect()
        };
        for resource_type in types {
            let expected = oracle.matches(resource_type, patients);
            reached.matches += expected.len();
            self.check_search(resource_type, "_count=100", false, &expected, reached).await;
            let includes = &oracle.service.served(resource_type).expect("served").includes;
            if !includes.is_empty() {
                let query = with_includes(includes, "_count=100");
                self.check_search(resource_type, &query, false, &expected, reached).await;
            }
        }
        if let Some(served) = oracle.service.served("Observation").filter(|served| served.lastn) {
            let expected = oracle.lastn(patients);
            reached.lastn += expected.len();
            let query = with_includes(&served.includes, "max=1&_count=100");
            self.check_search("Observation", &query, true, &expected, reached).await;
        }
    }
}

/// A provider name per case (letters only): its number's digits as letters.
fn provider_name(case: usize) -> String {
    format!("case{case}").chars().map(|c| c.to_digit(10).map_or(c, |digit| char::from(b'a' + digit as u8))).collect()
}

on_both_backends!(a_person_sees_exactly_what_the_visibility_rule_allows, |database| {
    let store = open(&database).await;
    // The same database through a store that answers a person's queries from their kept
    // collection (`store/src/collection/`): it must see exactly the same.
    let kept = open(&database).await;
    kept.keep_collections(16 << 20);
    let catalog = Catalog::embedded().expect("definitions");
    let service = catalog.data_service(SERVICE).expect("data service");
    assert_eq!(service.release, Release::Stu3, "the writes of `common` are STU3");
    let release = catalog.release(Release::Stu3).expect("STU3");
    let visibility = Visibility::of(service, release);
    let mut runner = TestRunner::deterministic();
    let strategy = world();
    let mut reached = Reached::default();
    let mut probes = 0;
    for case in 0..CASES {
        let world = strategy.new_tree(&mut runner).expect("a case").current();
        let provider = provider_of(&store, &provider_name(case), &[SERVICE]).await;
        let stored = build(&world, service, release);
        let puts = stored
            .iter()
            .map(|resource| put_with_keys(resource.body.clone(), resource.person_key.iter().cloned().collect()))
            .collect();
        store.write(provider.id, puts).await.expect("write");
        let deletes: Vec<Write> = stored
            .iter()
            .filter(|resource| resource.deleted)
            .map(|resource| Write::Delete {
                release: Release::Stu3,
                resource_type: resource.resource_type.to_owned(),
                id: resource.id.clone(),
            })
            .collect();
        store.write(provider.id, deletes).await.expect("delete");
        let oracle = Oracle { stored: &stored, service, release };
        for person in 0..world.persons {
            let patients = oracle.patients_of(&person_key(person));
            let scopes = [
                ("person key", PatientScope::Person(person_key(person)), &store),
                ("patient ids", PatientScope::Patients(patients.iter().cloned().collect()), &store),
                ("person key, collection kept", PatientScope::Person(person_key(person)), &kept),
                ("patient ids, collection kept", PatientScope::Patients(patients.iter().cloned().collect()), &kept),
            ];
            for (scope_name, scope, store) in scopes {
                let label = format!("case {case}, person {person} by {scope_name} (world {world:?})");
                let probe = Probe {
                    store,
                    provider: provider.id,
                    scope,
                    visibility: &visibility,
                    oracle: &oracle,
                    patients: patients.clone(),
                    label,
                };
                probe.check_reads(&mut reached).await;
                probe.check_searches(&mut reached).await;
                probes += 1;
            }
        }
    }
    assert!(probes >= CASES * 4, "every case probed each person in both scopes, {probes} probes");
    let Reached { own, shared, refused_for_profile, refused_as_foreign, matches, included, held_back, lastn } =
        &reached;
    let counts = [own, shared, refused_for_profile, refused_as_foreign, matches, included, held_back, lastn];
    assert!(counts.iter().all(|count| **count > 0), "the cases reach every outcome: {reached:?}");
    let kept = kept.collection_counts();
    assert!(kept.hits > kept.misses && kept.misses > 0, "kept collections answered: {kept:?}");
});
