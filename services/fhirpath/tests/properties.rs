#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: the parser never panics, printed expressions parse back to the same expression,
//! and evaluation of whatever parses never panics.

use fhirpath::{Environment, Expression};
use proptest::prelude::*;
use serde_json::Value;

/// Well-formed expressions built from the grammar, so the round trip covers every construct.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("name".to_owned()),
        Just("Patient".to_owned()),
        Just("`given name`".to_owned()),
        Just("$this".to_owned()),
        Just("$index".to_owned()),
        Just("%resource".to_owned()),
        Just("{}".to_owned()),
        Just("true".to_owned()),
        Just("@2020-01-01".to_owned()),
        Just("@2020-01-01T10:00:00Z".to_owned()),
        Just("@T10:30".to_owned()),
        Just("4 'mg'".to_owned()),
        Just("3 days".to_owned()),
        (0u32..1000).prop_map(|n| n.to_string()),
        (0u32..1000, 0u32..100).prop_map(|(a, b)| format!("{a}.{b:02}")),
        "[a-z '\\\\]{0,6}".prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        let operators = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("div"),
            Just("mod"),
            Just("&"),
            Just("|"),
            Just("<"),
            Just(">="),
            Just("="),
            Just("!="),
            Just("~"),
            Just("!~"),
            Just("in"),
            Just("contains"),
            Just("and"),
            Just("or"),
            Just("xor"),
            Just("implies"),
        ];
        prop_oneof![
            (inner.clone(), operators, inner.clone()).prop_map(|(l, op, r)| format!("{l} {op} {r}")),
            inner.clone().prop_map(|e| format!("({e})")),
            inner.clone().prop_map(|e| format!("-{e}")),
            inner.clone().prop_map(|e| format!("({e}).given")),
            (inner.clone(), inner.clone()).prop_map(|(e, i)| format!("({e})[{i}]")),
            inner.clone().prop_map(|e| format!("({e}).where({e})")),
            inner.clone().prop_map(|e| format!("({e}).exists()")),
            (inner.clone(), inner.clone()).prop_map(|(c, t)| format!("iif({c}, {t}, {{}})")),
            inner.clone().prop_map(|e| format!("({e}) is FHIR.Patient")),
            inner.clone().prop_map(|e| format!("({e}).ofType(String)")),
            inner.prop_map(|e| format!("({e}).undefinedFunction({e})")),
        ]
    })
}

fn patient() -> Value {
    serde_json::from_str(include_str!("fixtures/patient.json")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,80}") {
        let _ = Expression::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_token_soup(
        tokens in proptest::collection::vec(
            prop_oneof![
                Just("."), Just("("), Just(")"), Just("["), Just("]"), Just("{"), Just("}"), Just(","),
                Just("'a"), Just("'b'"), Just("`x`"), Just("@2020"), Just("@T"), Just("@2020-01-01T10:00+"),
                Just("1"), Just("1."), Just("2.5"), Just("-"), Just("+"), Just("is"), Just("as"), Just("and"),
                Just("$this"), Just("$"), Just("%"), Just("%x"), Just("name"), Just("where"), Just("//"), Just("/*"),
                Just("!"), Just("!="), Just("<="), Just("\\u12"), Just("'\\u0041'"), Just("days"),
            ],
            0..24,
        )
    ) {
        let _ = Expression::parse(&tokens.join(" "));
        let _ = Expression::parse(&tokens.concat());
    }

    #[test]
    fn printed_expressions_parse_back_to_the_same_tree(text in expression()) {
        let parsed = Expression::parse(&text).unwrap_or_else(|e| panic!("generated {text:?} does not parse: {e}"));
        let printed = parsed.to_string();
        let reparsed = Expression::parse(&printed).unwrap_or_else(|e| panic!("printed {printed:?} does not parse: {e}"));
        prop_assert_eq!(&reparsed, &parsed);
        prop_assert_eq!(reparsed.to_string(), printed);
    }

    #[test]
    fn evaluation_never_panics(text in expression()) {
        let focus = patient();
        let env = Environment::new();
        let expression = Expression::parse(&text).unwrap();
        let _ = expression.evaluate(&focus, &env);
        let _ = expression.evaluate_boolean(&focus, &env);
    }
}
