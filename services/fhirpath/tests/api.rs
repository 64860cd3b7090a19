#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The public API: boolean evaluation for asserts, the environment, errors and their offsets,
//! printing expressions back.

use fhirpath::{Environment, EvalErrorKind, Expression, Item};
use serde_json::{Value, json};

fn bundle() -> Value {
    serde_json::from_str(include_str!("fixtures/bundle.json")).unwrap()
}

fn patient() -> Value {
    serde_json::from_str(include_str!("fixtures/patient.json")).unwrap()
}

fn boolean(expression: &str, focus: &Value) -> Result<Option<bool>, fhirpath::EvalError> {
    Expression::parse(expression).unwrap().evaluate_boolean(focus, &Environment::new())
}

#[test]
fn evaluate_boolean_follows_singleton_evaluation() {
    let bundle = bundle();
    assert_eq!(boolean("Bundle.type = 'searchset'", &bundle).unwrap(), Some(true));
    assert_eq!(boolean("Bundle.type = 'batch'", &bundle).unwrap(), Some(false));
    // Empty is unknown: the caller decides.
    assert_eq!(boolean("Bundle.missing = 'x'", &bundle).unwrap(), None);
    assert_eq!(boolean("{}", &bundle).unwrap(), None);
    // A single non-Boolean item counts as true.
    assert_eq!(boolean("Bundle.id", &bundle).unwrap(), Some(true));
    // A JSON boolean is a Boolean.
    assert_eq!(boolean("active", &patient()).unwrap(), Some(true));
    let error = boolean("Bundle.entry", &bundle).unwrap_err();
    assert!(matches!(error.kind(), EvalErrorKind::NotSingleton { count: 4, .. }), "{error}");
}

#[test]
fn environment_supplies_constants_and_can_override_resource() {
    let bundle = bundle();
    let entry = &bundle["entry"][0];
    let codes = json!(["29463-7", "8302-2"]);
    let null = Value::Null;
    let env = Environment::new()
        .with_json("resource", &bundle)
        .with_string("expectedId", "obs-1")
        .with_json("codes", &codes)
        .with_json("nothing", &null)
        .with_items("three", vec![Item::Integer(3)]);
    let eval = |text: &str| -> Vec<String> {
        Expression::parse(text).unwrap().evaluate(entry, &env).unwrap().iter().map(ToString::to_string).collect()
    };
    assert_eq!(eval("resource.id = %expectedId"), ["true"]);
    assert_eq!(eval("%resource.total"), ["3"]);
    assert_eq!(eval("%context.fullUrl.endsWith(%expectedId)"), ["true"]);
    assert_eq!(eval("resource.code.coding.code in %codes"), ["true"]);
    assert_eq!(eval("%codes.count()"), ["2"]);
    assert_eq!(eval("%nothing.empty()"), ["true"]);
    assert_eq!(eval("%three = %resource.total"), ["true"]);
    assert_eq!(env.constant("expectedId"), Some(&[Item::String("obs-1".into())][..]));

    let undefined = Expression::parse("id = %notSet").unwrap().evaluate(entry, &env).unwrap_err();
    assert!(matches!(undefined.kind(), EvalErrorKind::UndefinedConstant { name } if name == "notSet"));
}

#[test]
fn parse_errors_report_character_offsets() {
    let error = Expression::parse("name.where(given = 'é' and )").unwrap_err();
    assert_eq!(error.offset, 27);
    assert!(error.to_string().contains("offset 27"), "{error}");
    assert_eq!(Expression::parse("where()").unwrap_err().offset, 0);
    assert_eq!(Expression::parse("name.substring()").unwrap_err().offset, 5);
}

#[test]
fn evaluation_errors_point_at_the_failing_sub_expression() {
    let patient = patient();
    let env = Environment::new();
    let error =
        Expression::parse("name.exists() and name.given.resolve()").unwrap().evaluate(&patient, &env).unwrap_err();
    assert!(error.is_unsupported());
    assert_eq!(error.offset(), Some(18));
    assert!(error.to_string().contains("resolve()"), "{error}");

    let error = Expression::parse("active and (birthDate < 5)").unwrap().evaluate(&patient, &env).unwrap_err();
    assert!(matches!(error.kind(), EvalErrorKind::Type { .. }), "{error}");
    assert_eq!(error.offset(), Some(12));
}

#[test]
fn unsupported_is_never_a_silent_answer() {
    let patient = patient();
    for text in [
        "name.first() is HumanName",
        "name.given.lowBoundary()",
        "name.resolve().exists()",
        "descendants().ofType(Coding)",
    ] {
        let error = Expression::parse(text).unwrap().evaluate(&patient, &Environment::new()).unwrap_err();
        assert!(error.is_unsupported(), "{text}: {error}");
    }
    // Known functions parse and evaluate; unknown ones parse but are unsupported.
    let names: Vec<&str> = fhirpath::supported_functions().collect();
    for required in [
        "where",
        "select",
        "all",
        "exists",
        "empty",
        "count",
        "first",
        "last",
        "tail",
        "skip",
        "take",
        "distinct",
        "not",
        "iif",
        "children",
        "descendants",
        "startsWith",
        "endsWith",
        "contains",
        "matches",
        "replaceMatches",
        "length",
        "substring",
        "upper",
        "lower",
        "indexOf",
        "toString",
        "toInteger",
        "hasValue",
        "allTrue",
        "anyTrue",
        "single",
        "union",
        "combine",
        "trace",
        "today",
        "now",
    ] {
        assert!(names.contains(&required), "{required} missing");
    }
}

#[test]
fn results_borrow_the_input_and_convert_to_json() {
    let patient = patient();
    let env = Environment::new();
    let result =
        Expression::parse("name.first() | 1.50 | @2020-01 | 4 'mg'").unwrap().evaluate(&patient, &env).unwrap();
    let Item::Node(node) = &result[0] else { panic!("expected a node") };
    assert!(std::ptr::eq(node.value(), &patient["name"][0]));
    let json: Vec<Value> = result.iter().map(Item::to_json).collect();
    assert_eq!(json[0]["family"], "Jansen");
    assert_eq!(json[1].to_string(), "1.50");
    assert_eq!(json[2], json!("2020-01"));
    assert_eq!(json[3]["unit"], "mg");

    let typed = Expression::parse("Observation.value").unwrap();
    let observation: Value = serde_json::from_str(include_str!("fixtures/observation.json")).unwrap();
    let value = typed.evaluate(&observation, &env).unwrap();
    assert!(matches!(&value[..], [Item::Node(node)] if node.fhir_type() == Some("Quantity")));
}

#[test]
fn expressions_are_shareable_and_print_back() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync>() {}
    assert_traits::<Expression>();

    for text in [
        "Bundle.entry.where(resource is Observation and resource.status != 'cancelled').count() > 0",
        "name.given.first() & ' ' & name.family",
        "(1 + 2) * -3 div 4 mod 5",
        "%resource.entry[0].`resource`.ofType(FHIR.Patient)",
        "iif($this.exists(), @2020-01-01T10:00:00.5+01:00, @T10:00) ~ {}",
        r"'it\'s'.replaceMatches('\\s', '_') | 4 'mg' | 2 days",
        "a implies b xor c or d and e in f contains g",
        "x as System.String is String",
    ] {
        let parsed = Expression::parse(text).unwrap();
        let printed = parsed.to_string();
        let reparsed = Expression::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(reparsed, parsed, "{text} printed as {printed}");
    }
}

#[test]
fn elements_compare_deeply_with_numbers_by_value() {
    let a = json!({"value": 1.0, "unit": "kg", "coding": [{"code": "X"}]});
    let b = json!({"unit": "kg", "value": 1.04, "coding": [{"code": "x"}]});
    let c = json!({"unit": "kg", "value": 1.00, "coding": [{"code": "X"}]});
    let env = Environment::new().with_json("a", &a).with_json("b", &b).with_json("c", &c);
    let eval = |text: &str| -> Vec<String> {
        Expression::parse(text).unwrap().evaluate(&Value::Null, &env).unwrap().iter().map(ToString::to_string).collect()
    };
    // Member order does not matter, numbers compare by value.
    assert_eq!(eval("%a = %c"), ["true"]);
    assert_eq!(eval("%a = %b"), ["false"]);
    // Equivalence rounds decimals to the least precise side and ignores case.
    assert_eq!(eval("%a ~ %b"), ["true"]);
    assert_eq!(eval("%a.union(%c).count()"), ["1"]);
}
