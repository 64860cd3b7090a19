//! The parsing of whole search requests: parameters, limits, control parameters, and the
//! kinds' values as criteria.

use super::*;
use crate::kinds::date::{DatePrefix, DateValue};
use crate::kinds::token::{TokenSystem, TokenValue};
use crate::query::parse_query;
use data_services::Catalog;
use fhir_core::Release;

const OPTIONS: ParseOptions = ParseOptions {
    strict: false,
    lastn: false,
    zone: chrono_tz::Europe::Amsterdam,
    default_count: 50,
    max_count: 200,
    limits: QueryLimits::DEFAULT,
};

fn search(resource_type: &str, query: &str, options: ParseOptions) -> Result<SearchRequest, SearchError> {
    let catalog = Catalog::embedded().expect("definitions");
    let bgz = catalog.data_service("48").expect("48");
    let served = bgz.served(resource_type).expect("served");
    let definition =
        catalog.release(Release::Stu3).and_then(|release| release.type_definition(resource_type)).expect("type");
    parse(served, definition, &parse_query(query), options)
}

#[test]
fn token_lists_are_alternatives_of_one_criterion() {
    let request =
        search("Observation", "category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006", OPTIONS)
            .expect("parses");
    assert_eq!(request.criteria.len(), 1);
    assert_eq!(
        request.criteria[0].values,
        vec![
            Value::Token(TokenValue {
                system: TokenSystem::Is("http://snomed.info/sct".into()),
                code: Some("118228005".into())
            }),
            Value::Token(TokenValue {
                system: TokenSystem::Is("http://snomed.info/sct".into()),
                code: Some("384821006".into())
            }),
        ]
    );
}

#[test]
fn token_forms_without_system_or_code() {
    let request = search("Immunization", "status=completed", OPTIONS).expect("parses");
    assert_eq!(
        request.criteria[0].values,
        vec![Value::Token(TokenValue { system: TokenSystem::Any, code: Some("completed".into()) })]
    );
    let request = search("Consent", "category=|x,http://s|", OPTIONS).expect("parses");
    assert_eq!(
        request.criteria[0].values,
        vec![
            Value::Token(TokenValue { system: TokenSystem::Absent, code: Some("x".into()) }),
            Value::Token(TokenValue { system: TokenSystem::Is("http://s".into()), code: None }),
        ]
    );
}

#[test]
fn escaped_separators_stay_in_the_value() {
    let request = search("Immunization", r"status=a\,b", OPTIONS).expect("parses");
    assert_eq!(
        request.criteria[0].values,
        vec![Value::Token(TokenValue { system: TokenSystem::Any, code: Some("a,b".into()) })]
    );
}

#[test]
fn repeated_parameters_are_separate_criteria() {
    let request = search("Observation", "date=ge2013-01-01&date=le2013-12-31", OPTIONS).expect("parses");
    assert_eq!(request.criteria.len(), 2);
    assert!(matches!(request.criteria[0].values[0], Value::Date(DateValue { prefix: DatePrefix::Ge, .. })));
    assert!(matches!(request.criteria[1].values[0], Value::Date(DateValue { prefix: DatePrefix::Le, .. })));
}

#[test]
fn unoffered_parameters_are_ignored_and_not_echoed() {
    let request = search("Observation", "patient=Patient/other&code=85354-9&_sort=code", OPTIONS).expect("parses");
    assert_eq!(request.applied, vec!["code=85354-9".to_owned()]);
    assert_eq!(request.ignored, vec!["patient".to_owned(), "_sort=code".to_owned()]);
}

#[test]
fn strict_handling_refuses_unoffered_parameters() {
    let strict = ParseOptions { strict: true, ..OPTIONS };
    assert_eq!(search("Observation", "patient=x", strict), Err(SearchError::UnknownParameter("patient".into())));
    assert_eq!(
        search("Observation", "_include=Observation:subject", strict),
        Err(SearchError::UnsupportedInclude("Observation:subject".into()))
    );
}

#[test]
fn includes_must_be_offered_typed_or_not() {
    let request = search("Coverage", "_include=Coverage:payor:Patient&_include=Coverage:payor:Organization", OPTIONS)
        .expect("parses");
    assert_eq!(request.includes.len(), 2);
    assert_eq!(request.includes[0].target_type.as_deref(), Some("Patient"));
    let ignored = search("Coverage", "_include=Patient:general-practitioner", OPTIONS).expect("parses");
    assert!(ignored.includes.is_empty());
}

#[test]
fn unsupported_modifiers_and_prefixes_are_refused_even_when_lenient() {
    assert!(matches!(search("Observation", "code:text=blood", OPTIONS), Err(SearchError::UnsupportedModifier { .. })));
    assert!(matches!(search("Observation", "date=ne2013", OPTIONS), Err(SearchError::InvalidValue { .. })));
    assert!(matches!(search("Observation", "date=2013-13", OPTIONS), Err(SearchError::InvalidValue { .. })));
}

#[test]
fn count_is_capped_and_offset_read() {
    let request = search("Condition", "_count=5000&_offset=10", OPTIONS).expect("parses");
    assert_eq!((request.count, request.offset), (200, 10));
    assert_eq!(request.applied, vec!["_count=200".to_owned(), "_offset=10".to_owned()]);
    assert!(matches!(search("Condition", "_count=-1", OPTIONS), Err(SearchError::InvalidValue { .. })));
    assert_eq!(search("Condition", "_count=1&_count=2", OPTIONS), Err(SearchError::Repeated("_count".into())));
}

#[test]
fn lastn_takes_max() {
    let lastn = ParseOptions { lastn: true, ..OPTIONS };
    let request = search("Observation", "code=http://loinc.org|85354-9&max=3", lastn).expect("parses");
    assert_eq!(request.lastn, Some(LastN { max: 3 }));
    assert_eq!(search("Observation", "code=x", lastn).map(|request| request.lastn), Ok(Some(LastN { max: 1 })));
    // Outside $lastn, `max` is just an unknown parameter.
    assert_eq!(search("Observation", "max=3", OPTIONS).map(|request| request.ignored), Ok(vec!["max".to_owned()]));
}

#[test]
fn empty_values_are_ignored() {
    let request = search("Observation", "code=&category=x", OPTIONS).expect("parses");
    assert_eq!(request.applied, vec!["category=x".to_owned()]);
}

#[test]
fn ids_must_be_valid() {
    assert!(search("Condition", "_id=a,b", OPTIONS).is_ok());
    assert!(search("Condition", "_id=a%20b", OPTIONS).is_err());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn on_any_query(query in "[a-z_:=&|,%0-9A-Z\\\\.-]{0,60}") {
            let _ = search("Observation", &query, ParseOptions { lastn: true, ..OPTIONS });
        }
    }
}

#[test]
fn each_limit_is_checked_and_named() {
    let limits = QueryLimits { max_repeats: 2, max_values: 3, max_includes: 1, max_offset: 10 };
    let options = ParseOptions { limits, ..OPTIONS };
    assert!(search("Observation", "code=a&code=b", options).is_ok());
    let repeated = search("Observation", "code=a&code=b&code=c", options).expect_err("refused");
    assert_eq!(repeated.to_string(), "occurrences of 'code': at most 2 allowed (setting search.max_repeats)");
    assert!(search("Observation", "code=a,b,c", options).is_ok());
    let values = search("Observation", "code=a,b,c,d", options).expect_err("refused");
    assert!(matches!(values, SearchError::Limit { setting: "max_values", limit: 3, .. }), "{values}");
    let includes = search(
        "MedicationStatement",
        "_include=MedicationStatement:medication&_include=MedicationStatement:medication",
        options,
    )
    .expect_err("refused");
    assert!(matches!(includes, SearchError::Limit { setting: "max_includes", .. }), "{includes}");
    assert_eq!(search("Observation", "_offset=10", options).map(|request| request.offset), Ok(10));
    assert!(matches!(
        search("Observation", "_offset=11", options),
        Err(SearchError::Limit { setting: "max_offset", .. })
    ));
    // Parameters the data service does not offer cost nothing and count toward nothing.
    assert!(search("Observation", "patient=a&patient=b&patient=c", options).is_ok());
}

#[test]
fn control_characters_in_values_are_refused() {
    for query in ["code=%00", "code=http://loinc.org|a%00", "date=2020%0A", "category=%7F"] {
        assert!(
            matches!(search("Observation", query, OPTIONS), Err(SearchError::InvalidValue { .. })),
            "{query} was accepted"
        );
    }
}

#[test]
fn sort_keys_are_the_id_the_last_update_and_the_offered_dates() {
    let request = search("Observation", "_sort=-date,_id", OPTIONS).expect("parses");
    assert_eq!(
        request.sort,
        vec![
            SortKey { by: SortBy::Date("date".into()), descending: true },
            SortKey { by: SortBy::Id, descending: false },
        ]
    );
    assert_eq!(request.applied, vec!["_sort=-date,_id".to_owned()]);
    let updated = search("Condition", "_sort=-_lastUpdated", OPTIONS).expect("parses");
    assert_eq!(updated.sort, vec![SortKey { by: SortBy::LastUpdated, descending: true }]);
}

#[test]
fn unsortable_keys_are_ignored_or_refused_under_strict_handling() {
    let lenient = search("Observation", "_sort=code,-date", OPTIONS).expect("parses");
    assert_eq!(lenient.sort, vec![SortKey { by: SortBy::Date("date".into()), descending: true }]);
    assert_eq!(lenient.applied, vec!["_sort=-date".to_owned()]);
    assert_eq!(lenient.ignored, vec!["_sort=code".to_owned()]);
    let strict = ParseOptions { strict: true, ..OPTIONS };
    let refused = search("Observation", "_sort=code", strict).expect_err("code is a token");
    assert_eq!(refused.to_string(), "cannot sort by code; this resource type sorts by _id, _lastUpdated, date");
    assert!(matches!(search("Observation", "_sort=date,-date", OPTIONS), Err(SearchError::InvalidValue { .. })));
    assert!(matches!(search("Observation", "_sort=date&_sort=_id", OPTIONS), Err(SearchError::Repeated(_))));
    assert!(matches!(search("Observation", "_sort:desc=date", OPTIONS), Err(SearchError::UnsupportedModifier { .. })));
}
