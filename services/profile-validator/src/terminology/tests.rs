//! One test per rule of `terminology`, each with the smallest value sets that show it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::{Membership, Terminology};
use serde_json::{Value, json};

const SNOMED: &str = "http://snomed.info/sct";
const LOCAL: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.21.3";
const OTHER: &str = "http://example.org/other";

/// A terminology with `resources` added, each accepted.
fn terminology(resources: &[Value]) -> Terminology {
    let mut terminology = Terminology::default();
    for resource in resources {
        terminology.add(resource).unwrap();
    }
    terminology
}

/// A value set with this compose.
fn value_set(url: &str, compose: Value) -> Value {
    json!({"resourceType": "ValueSet", "url": url, "status": "active", "compose": compose})
}

/// An include of these codes of `system`.
fn concepts(system: &str, codes: &[&str]) -> Value {
    let concept: Vec<Value> = codes.iter().map(|code| json!({"code": code})).collect();
    json!({"system": system, "concept": concept})
}

/// A complete code system with a nested concept.
fn code_system(url: &str, content: &str) -> Value {
    json!({
        "resourceType": "CodeSystem", "url": url, "status": "active", "content": content,
        "concept": [{"code": "parent", "concept": [{"code": "child"}]}, {"code": "single"}]
    })
}

fn unknown_because(membership: Membership, words: &str) {
    match membership {
        Membership::Unknown(reason) => assert!(reason.contains(words), "{reason:?} does not say {words:?}"),
        other => panic!("{other:?}, expected Unknown saying {words:?}"),
    }
}

#[test]
fn a_version_suffix_is_ignored_on_storage_and_on_lookup() {
    let vs = terminology(&[value_set("http://x/vs|1.0", json!({"include": [concepts(LOCAL, &["a"])]}))]);

    assert!(vs.knows("http://x/vs"));
    assert!(vs.knows("http://x/vs|2.0"));
    assert_eq!(vs.check("http://x/vs|2.0", Some(LOCAL), "a"), Membership::In);
}

#[test]
fn an_unknown_value_set_is_unknown() {
    let vs = Terminology::default();

    assert!(!vs.knows("http://x/nothing"));
    unknown_because(vs.check("http://x/nothing", Some(LOCAL), "a"), "value set http://x/nothing is not known");
}

#[test]
fn listed_concepts_are_in_and_other_codes_are_not() {
    let vs = terminology(&[value_set("http://x/vs", json!({"include": [concepts(LOCAL, &["a", "b"])]}))]);

    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "b"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "c"), Membership::NotIn);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "a"), Membership::NotIn);
}

#[test]
fn codes_given_directly_are_in() {
    let mut vs = Terminology::default();
    vs.add_codes("http://x/vs|4.0.1", &[(LOCAL.into(), "a".into()), (OTHER.into(), "b".into())]);

    assert_eq!(vs.check("http://x/vs", Some(OTHER), "b"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "b"), Membership::NotIn);
}

#[test]
fn a_whole_complete_code_system_includes_all_its_codes_nested_ones_too() {
    // The value set comes before its code system: expansion waits for the first check.
    let vs = terminology(&[
        value_set("http://x/vs", json!({"include": [{"system": "http://x/cs"}]})),
        code_system("http://x/cs", "complete"),
    ]);

    assert_eq!(vs.check("http://x/vs", Some("http://x/cs"), "child"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some("http://x/cs"), "single"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some("http://x/cs"), "absent"), Membership::NotIn);
}

#[test]
fn a_whole_unavailable_system_is_unknown_for_its_codes_and_not_in_for_other_systems() {
    let vs =
        terminology(&[value_set("http://x/vs", json!({"include": [{"system": SNOMED}, concepts(LOCAL, &["a"])]}))]);

    unknown_because(
        vs.check("http://x/vs", Some(SNOMED), "22298006"),
        "codes of http://snomed.info/sct are not available here",
    );
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "b"), Membership::NotIn);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "a"), Membership::NotIn);
}

#[test]
fn a_code_system_whose_content_is_not_complete_is_unavailable() {
    let vs = terminology(&[
        code_system("http://x/cs", "fragment"),
        value_set("http://x/vs", json!({"include": [{"system": "http://x/cs"}]})),
    ]);

    unknown_because(vs.check("http://x/vs", Some("http://x/cs"), "other"), "content fragment");
    unknown_because(vs.check("http://x/vs", Some("http://x/cs"), "single"), "not available here");
}

#[test]
fn a_filter_makes_codes_of_its_system_unknown() {
    let filter = json!({"property": "concept", "op": "descendent-of", "value": "272394005"});
    let vs = terminology(&[value_set("http://x/vs", json!({"include": [{"system": SNOMED, "filter": [filter]}]}))]);

    unknown_because(
        vs.check("http://x/vs", Some(SNOMED), "1"),
        "the value set selects http://snomed.info/sct codes by a filter (concept descendent-of 272394005)",
    );
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "1"), Membership::NotIn);
}

#[test]
fn a_filter_on_a_complete_code_system_leaves_its_other_codes_out() {
    let filter = json!({"property": "concept", "op": "is-a", "value": "parent"});
    let vs = terminology(&[
        code_system("http://x/cs", "complete"),
        value_set("http://x/vs", json!({"include": [{"system": "http://x/cs", "filter": [filter]}]})),
    ]);

    unknown_because(vs.check("http://x/vs", Some("http://x/cs"), "child"), "by a filter");
    assert_eq!(vs.check("http://x/vs", Some("http://x/cs"), "absent"), Membership::NotIn);
}

#[test]
fn imported_value_sets_are_united() {
    let vs = terminology(&[
        value_set("http://x/a", json!({"include": [concepts(LOCAL, &["a"])]})),
        value_set("http://x/b", json!({"include": [concepts(OTHER, &["b"])]})),
        value_set("http://x/vs", json!({"include": [{"valueSet": ["http://x/a|1", "http://x/b"]}]})),
    ]);

    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "b"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "a"), Membership::NotIn);
}

#[test]
fn a_system_with_a_value_set_in_one_include_is_their_intersection() {
    let include = json!({"system": LOCAL, "concept": [{"code": "a"}, {"code": "b"}], "valueSet": ["http://x/a"]});
    let vs = terminology(&[
        value_set("http://x/a", json!({"include": [concepts(LOCAL, &["b", "c"])]})),
        value_set("http://x/vs", json!({"include": [include]})),
    ]);

    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "b"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::NotIn);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "c"), Membership::NotIn);
}

#[test]
fn an_unknown_imported_value_set_makes_every_code_not_otherwise_in_unknown() {
    let vs = terminology(&[value_set(
        "http://x/vs",
        json!({"include": [concepts(LOCAL, &["a"]), {"valueSet": ["http://x/missing"]}]}),
    )]);

    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
    unknown_because(vs.check("http://x/vs", Some(OTHER), "z"), "http://x/missing, which is not known here");
    unknown_because(vs.check("http://x/vs", None, "z"), "http://x/missing");
}

#[test]
fn excluded_concepts_are_not_in_even_in_an_unavailable_system() {
    let vs = terminology(&[value_set(
        "http://x/vs",
        json!({"include": [{"system": SNOMED}, concepts(LOCAL, &["a", "b"])],
               "exclude": [concepts(SNOMED, &["123"]), concepts(LOCAL, &["b"])]}),
    )]);

    assert_eq!(vs.check("http://x/vs", Some(SNOMED), "123"), Membership::NotIn);
    unknown_because(vs.check("http://x/vs", Some(SNOMED), "456"), "not available here");
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "b"), Membership::NotIn);
}

#[test]
fn excluding_a_whole_system_leaves_none_of_its_codes_in() {
    let vs = terminology(&[value_set(
        "http://x/vs",
        json!({"include": [{"system": SNOMED}, concepts(LOCAL, &["a"])], "exclude": [{"system": SNOMED}]}),
    )]);

    assert_eq!(vs.check("http://x/vs", Some(SNOMED), "123"), Membership::NotIn);
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
}

#[test]
fn excluding_by_a_filter_makes_members_of_that_system_unknown() {
    let filter = json!({"property": "concept", "op": "is-a", "value": "a"});
    let vs = terminology(&[value_set(
        "http://x/vs",
        json!({"include": [concepts(LOCAL, &["a", "b"]), concepts(OTHER, &["a"])],
               "exclude": [{"system": LOCAL, "filter": [filter]}]}),
    )]);

    unknown_because(vs.check("http://x/vs", Some(LOCAL), "b"), "the value set excludes");
    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "c"), Membership::NotIn);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "a"), Membership::In);
}

#[test]
fn an_import_cycle_ends_in_unknown_instead_of_a_hang() {
    let vs = terminology(&[
        value_set("http://x/a", json!({"include": [concepts(LOCAL, &["a"]), {"valueSet": ["http://x/b"]}]})),
        value_set("http://x/b", json!({"include": [concepts(LOCAL, &["b"]), {"valueSet": ["http://x/a"]}]})),
    ]);

    assert_eq!(vs.check("http://x/a", Some(LOCAL), "a"), Membership::In);
    assert_eq!(vs.check("http://x/a", Some(LOCAL), "b"), Membership::In);
    unknown_because(vs.check("http://x/a", Some(LOCAL), "c"), "includes itself");
    assert_eq!(vs.check("http://x/b", Some(LOCAL), "a"), Membership::In);
    unknown_because(vs.check("http://x/b", Some(LOCAL), "c"), "includes itself");
}

#[test]
fn the_expansion_is_used_when_there_is_no_compose() {
    let expansion = json!({"contains": [
        {"system": LOCAL, "code": "a"},
        {"abstract": true, "display": "group", "contains": [{"system": OTHER, "code": "b"}]}
    ]});
    let vs = terminology(&[json!({"resourceType": "ValueSet", "url": "http://x/vs", "expansion": expansion})]);

    assert_eq!(vs.check("http://x/vs", Some(LOCAL), "a"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "b"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some(OTHER), "a"), Membership::NotIn);
}

#[test]
fn a_value_set_with_neither_compose_nor_expansion_is_unknown() {
    let vs = terminology(&[json!({"resourceType": "ValueSet", "url": "http://x/vs"})]);

    assert!(vs.knows("http://x/vs"));
    unknown_because(vs.check("http://x/vs", Some(LOCAL), "a"), "defines no content");
}

#[test]
fn a_code_without_a_system_is_in_when_any_system_has_it() {
    let vs = terminology(&[
        value_set(
            "http://x/listed",
            json!({"include": [concepts(LOCAL, &["a"]), concepts(OTHER, &["b"])],
                                            "exclude": [concepts(OTHER, &["a"])]}),
        ),
        value_set("http://x/open", json!({"include": [concepts(LOCAL, &["a"]), {"system": SNOMED}]})),
    ]);

    assert_eq!(vs.check("http://x/listed", None, "a"), Membership::In);
    assert_eq!(vs.check("http://x/listed", None, "b"), Membership::In);
    assert_eq!(vs.check("http://x/listed", None, "c"), Membership::NotIn);
    assert_eq!(vs.check("http://x/open", None, "a"), Membership::In);
    unknown_because(vs.check("http://x/open", None, "c"), "codes of http://snomed.info/sct");
}

#[test]
fn an_inline_code_system_defines_the_value_set() {
    let vs = terminology(&[json!({
        "resourceType": "ValueSet", "url": "http://x/vs",
        "codeSystem": {"system": "http://x/inline", "concept": [{"code": "a", "concept": [{"code": "a1"}]}]}
    })]);

    assert_eq!(vs.check("http://x/vs", Some("http://x/inline"), "a1"), Membership::In);
    assert_eq!(vs.check("http://x/vs", Some("http://x/inline"), "b"), Membership::NotIn);
    assert_eq!(vs.code_system_count(), 1);
}

#[test]
fn a_code_system_implies_its_all_codes_value_set_unless_one_is_defined() {
    let mut system = code_system("http://x/cs", "complete");
    system["valueSet"] = json!("http://x/all|1");
    let mut vs = terminology(&[system.clone()]);

    assert_eq!(vs.check("http://x/all", Some("http://x/cs"), "single"), Membership::In);

    vs.add(&value_set("http://x/all", json!({"include": [concepts("http://x/cs", &["parent"])]}))).unwrap();
    vs.add(&system).unwrap();
    assert_eq!(vs.check("http://x/all", Some("http://x/cs"), "single"), Membership::NotIn);
}

#[test]
fn adding_after_a_check_replaces_the_stale_expansion() {
    let mut vs = terminology(&[value_set("http://x/vs", json!({"include": [{"system": "http://x/cs"}]}))]);
    unknown_because(vs.check("http://x/vs", Some("http://x/cs"), "single"), "not available here");

    vs.add(&code_system("http://x/cs", "complete")).unwrap();

    assert_eq!(vs.check("http://x/vs", Some("http://x/cs"), "single"), Membership::In);
}

#[test]
fn checks_from_many_threads_share_one_expansion() {
    let vs = std::sync::Arc::new(terminology(&[
        value_set("http://x/a", json!({"include": [concepts(LOCAL, &["a"]), {"valueSet": ["http://x/b"]}]})),
        value_set("http://x/b", json!({"include": [concepts(LOCAL, &["b"]), {"valueSet": ["http://x/a"]}]})),
    ]));
    let threads: Vec<_> = (0..8)
        .map(|index| {
            let vs = vs.clone();
            let url = if index % 2 == 0 { "http://x/a" } else { "http://x/b" };
            std::thread::spawn(move || vs.check(url, Some(LOCAL), "a"))
        })
        .collect();

    for thread in threads {
        assert_eq!(thread.join().unwrap(), Membership::In);
    }
}

#[test]
fn a_value_set_without_url_is_refused() {
    let error = Terminology::default().add(&json!({"resourceType": "ValueSet", "id": "x", "compose": {}})).unwrap_err();

    assert_eq!(error, "ValueSet x has no url, so nothing can refer to it");
}

#[test]
fn a_malformed_compose_is_refused_naming_the_element() {
    let refused = |compose: Value| Terminology::default().add(&value_set("http://x/vs", compose)).unwrap_err();

    assert_eq!(refused(json!({"include": {"system": LOCAL}})), "ValueSet http://x/vs: compose.include is not an array");
    assert_eq!(
        refused(json!({"include": [{"system": LOCAL, "concept": [{"display": "A"}]}]})),
        "ValueSet http://x/vs: compose.include[0].concept[0] has no code"
    );
    assert_eq!(
        refused(json!({"include": [concepts(LOCAL, &["a"])], "exclude": [{"concept": [{"code": "a"}]}]})),
        "ValueSet http://x/vs: compose.exclude[0] has neither a system nor a valueSet"
    );
    assert_eq!(
        refused(json!({"include": [{"system": SNOMED, "filter": [{"property": "concept", "op": "is-a"}]}]})),
        "ValueSet http://x/vs: compose.include[0].filter[0] has no value"
    );
    assert_eq!(refused(json!({})), "ValueSet http://x/vs: compose has no include, so the value set would be empty");
}

#[test]
fn other_resources_are_ignored() {
    let mut vs = Terminology::default();

    assert_eq!(vs.add(&json!({"resourceType": "StructureDefinition", "url": "http://x/sd"})), Ok(()));
    assert_eq!(vs.value_set_count() + vs.code_system_count(), 0);
}

#[test]
fn a_terminology_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Default + std::fmt::Debug>() {}
    shareable::<Terminology>();
}
