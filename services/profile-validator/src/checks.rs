//! The checks at one element: cardinality, types, fixed and pattern values, required bindings,
//! invariants and references, for a profile node and for the base rules of a path.

use crate::compile::{Invariant, Node, base_type};
use crate::model::{Binding, Rule, Severity, Strength};
use crate::terminology::Membership;
use crate::validate::{Applied, Item, Walk};
use fhirpath::Environment;
use serde_json::Value;

/// `min` and `max` of a profile node against the number of occurrences.
pub(crate) fn cardinality(walk: &mut Walk<'_, '_>, count: usize, rule: &Applied<'_>, loc: &str) {
    let node = rule.node;
    if let Some(min) = node.min
        && count < min as usize
    {
        let message = format!("{count} present where at least {min} {} required", if min == 1 { "is" } else { "are" });
        walk.finding(Severity::Error, loc, Rule::Cardinality, &rule.source(), &message);
    }
    if let Some(max) = node.max
        && count > max as usize
    {
        let message = if max == 0 {
            format!("{count} present where none is allowed")
        } else {
            format!("{count} present where at most {max} allowed")
        };
        walk.finding(Severity::Error, loc, Rule::Cardinality, &rule.source(), &message);
    }
}

/// The base minimum of an element path.
pub(crate) fn cardinality_of_base(walk: &mut Walk<'_, '_>, count: usize, base_path: &str, loc: &str) {
    let Some(rules) = walk.base.element(base_path) else { return };
    if count < rules.min as usize {
        let message = format!("{count} present where at least {} required", rules.min);
        walk.finding(Severity::Error, loc, Rule::Cardinality, &format!("base#{base_path}"), &message);
    }
}

/// The base invariants of a type's root (`Quantity`, `Observation`), with the value as focus.
pub(crate) fn base_root_rules<'r>(walk: &mut Walk<'_, 'r>, value: &'r Value, type_name: &'r str, loc: &str) {
    let Some(rules) = walk.base.element(type_name) else { return };
    for constraint in &rules.constraints {
        let invariant = walk.validator.base_invariant(constraint);
        evaluate(walk, (value, type_name), &invariant, loc, &format!("base#{type_name}"));
    }
}

/// The base rules of an element path at one occurrence: required binding, invariants,
/// reference target types.
pub(crate) fn base_item_rules<'r>(walk: &mut Walk<'_, 'r>, item: Item<'r>, base_path: &str, loc: &str) {
    let Some(rules) = walk.base.element(base_path) else { return };
    let source = format!("base#{base_path}");
    if let Some(binding) = &rules.binding {
        check_binding(walk, item, binding, loc, &source);
    }
    if let Some(value) = item.value {
        for constraint in &rules.constraints {
            let invariant = walk.validator.base_invariant(constraint);
            evaluate(walk, (value, item.type_name), &invariant, loc, &source);
        }
    }
    if item.type_name == "Reference" && !rules.target_profiles.is_empty() {
        check_target_types(walk, item, &rules.target_profiles, loc, &source);
    }
}

/// A profile node's own rules at one occurrence (not its children's).
pub(crate) fn own_rules<'v, 'r>(walk: &mut Walk<'v, 'r>, item: Item<'r>, loc: &str, rule: Applied<'v>) {
    let node = rule.node;
    if let Some(types) = &node.types
        && !types.is_empty()
        && !types.iter().any(|allowed| type_matches(&allowed.code, item.type_name))
    {
        let allowed: Vec<&str> = types.iter().map(|allowed| allowed.code.as_str()).collect();
        let message = format!("a {} where the profile allows {}", item.type_name, allowed.join(", "));
        walk.finding(Severity::Error, loc, Rule::Type, &rule.source(), &message);
    }
    if let (Some(fixed), Some(value)) = (&node.fixed, item.value)
        && !same(fixed, value)
    {
        let message = format!("{} where the profile fixes {}", brief(value), brief(fixed));
        walk.finding(Severity::Error, loc, Rule::Fixed, &rule.source(), &message);
    }
    if let (Some(pattern), Some(value)) = (&node.pattern, item.value)
        && !contains(value, pattern)
    {
        let message = format!("{} does not match the pattern {}", brief(value), brief(pattern));
        walk.finding(Severity::Error, loc, Rule::Pattern, &rule.source(), &message);
    }
    if let Some(binding) = &node.binding {
        check_binding(walk, item, binding, loc, &rule.source());
    }
    if let Some(value) = item.value {
        for invariant in &node.constraints {
            evaluate(walk, (value, item.type_name), invariant, loc, &rule.source());
        }
    }
    if item.type_name == "Reference"
        && let Some(types) = &node.types
    {
        let targets: Vec<String> = types
            .iter()
            .filter(|allowed| allowed.code == "Reference")
            .flat_map(|allowed| allowed.target_profiles.iter().cloned())
            .collect();
        if !targets.is_empty() {
            check_target_types(walk, item, &targets, loc, &rule.source());
            check_target_profiles(walk, item, &targets, loc, &rule.source());
        }
    }
}

/// The profiles a node requires of a value of `type_name`.
pub(crate) fn type_profiles<'n>(node: &'n Node, type_name: &str) -> impl Iterator<Item = &'n str> {
    node.types
        .iter()
        .flatten()
        .filter(move |allowed| type_matches(&allowed.code, type_name))
        .flat_map(|allowed| allowed.profiles.iter().map(String::as_str))
}

/// Whether a value of `actual` type is of the `allowed` type code.
pub(crate) fn type_matches(allowed: &str, actual: &str) -> bool {
    allowed == actual
        || (actual.contains('.') && matches!(allowed, "BackboneElement" | "Element"))
        || (allowed == "Resource" || allowed == "DomainResource") && !actual.contains('.')
        || allowed
            .strip_prefix("http://hl7.org/fhirpath/System.")
            .is_some_and(|system| system.eq_ignore_ascii_case(actual))
}

/// Fixed values: the same JSON (numbers as written).
fn same(fixed: &Value, value: &Value) -> bool {
    fixed == value
}

/// Whether `value` holds everything `pattern` states: objects member by member, arrays each
/// pattern item matched by some value item, primitives equal.
pub(crate) fn contains(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(value), Value::Object(pattern)) => {
            pattern.iter().all(|(name, wanted)| value.get(name).is_some_and(|found| contains(found, wanted)))
        }
        (Value::Array(values), Value::Array(patterns)) => {
            patterns.iter().all(|wanted| values.iter().any(|found| contains(found, wanted)))
        }
        (Value::Array(values), wanted) => values.iter().any(|found| contains(found, wanted)),
        (found, wanted) => found == wanted,
    }
}

/// A value shortened for a message.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 120 { text } else { format!("{}…", text.chars().take(120).collect::<String>()) }
}

/// A required binding: the code (or one of the codings) must be in the value set. Other
/// strengths allow any code.
pub(crate) fn check_binding(walk: &mut Walk<'_, '_>, item: Item<'_>, binding: &Binding, loc: &str, source: &str) {
    if binding.strength != Strength::Required {
        return;
    }
    let Some(value) = item.value else { return };
    let codings: Vec<(Option<&str>, &str)> = match item.type_name {
        "code" | "string" | "uri" => value.as_str().map(|code| vec![(None, code)]).unwrap_or_default(),
        "Coding" => coding(value).into_iter().collect(),
        "Quantity" | "Age" | "Duration" | "Count" | "Distance" | "Money" => {
            // A quantity's unit code is bound only when it has one.
            coding(value).into_iter().collect()
        }
        "CodeableConcept" => {
            value.get("coding").and_then(Value::as_array).into_iter().flatten().filter_map(coding).collect()
        }
        _ => return,
    };
    if codings.is_empty() {
        if item.type_name == "CodeableConcept" {
            let message = format!("no coding, where a code from {} is required", binding.value_set);
            walk.finding(Severity::Error, loc, Rule::Binding, source, &message);
        }
        return;
    }
    if !walk.validator.terminology().knows(&binding.value_set) {
        walk.not_checked(format!("{source}: the value set {} is not loaded", binding.value_set));
        return;
    }
    let mut unknown = None;
    for (system, code) in &codings {
        match walk.validator.terminology().check(&binding.value_set, *system, code) {
            Membership::In => return,
            Membership::NotIn => {}
            Membership::Unknown(why) => unknown = Some(why),
        }
    }
    if let Some(why) = unknown {
        walk.not_checked(format!("{source}: {why}"));
        return;
    }
    let shown: Vec<String> = codings
        .iter()
        .map(|(system, code)| match system {
            Some(system) => format!("{system}|{code}"),
            None => (*code).to_owned(),
        })
        .collect();
    let message = format!("{} is not in the required value set {}", shown.join(", "), binding.value_set);
    walk.finding(Severity::Error, loc, Rule::Binding, source, &message);
}

fn coding(value: &Value) -> Option<(Option<&str>, &str)> {
    let code = value.get("code").and_then(Value::as_str)?;
    Some((value.get("system").and_then(Value::as_str), code))
}

/// Evaluates an invariant with `focus`; a false answer is a finding of the invariant's
/// severity, one that cannot be evaluated is noted as not checked.
fn evaluate<'r>(
    walk: &mut Walk<'_, 'r>,
    (focus, focus_type): (&'r Value, &'r str),
    invariant: &Invariant,
    loc: &str,
    source: &str,
) {
    let key = &invariant.constraint.key;
    let expression = match &invariant.expression {
        Ok(expression) => expression.clone(),
        Err(error) => {
            walk.not_checked(format!("{source}: invariant {key} does not parse: {error}"));
            return;
        }
    };
    // `%ucum`, `%sct` and `%loinc` are the evaluator's own.
    let environment = Environment::new()
        .with_model(&walk.model)
        .with_focus_type(focus_type)
        .with_json("resource", walk.resource)
        .with_json("rootResource", walk.root_resource);
    match expression.evaluate_boolean(focus, &environment) {
        Ok(Some(false)) => {
            let message = if invariant.constraint.human.is_empty() {
                invariant.constraint.expression.clone()
            } else {
                invariant.constraint.human.clone()
            };
            let rule = Rule::Invariant(key.clone());
            walk.finding(invariant.constraint.severity, loc, rule, source, &message);
        }
        Ok(_) => {}
        Err(error) => walk.not_checked(format!("{source}: invariant {key} cannot be evaluated: {error}")),
    }
}

/// The type a reference names (`Patient/1`, `https://x/fhir/Patient/1`, a Bundle entry's or a
/// contained resource's `resourceType`); `None` when it cannot be told.
fn target_type<'r>(walk: &mut Walk<'_, 'r>, reference: &str) -> Option<String> {
    if let Some(target) = walk.resolve(reference) {
        return target.get("resourceType").and_then(Value::as_str).map(str::to_owned);
    }
    let (kind, _) = fhir_core::reference::parse(reference)?;
    walk.structure.resource(kind).map(|_| kind.to_owned())
}

/// The referenced type must be one a target profile names.
fn check_target_types(walk: &mut Walk<'_, '_>, item: Item<'_>, targets: &[String], loc: &str, source: &str) {
    let Some(reference) = item.value.and_then(|value| value.get("reference")).and_then(Value::as_str) else {
        return;
    };
    let Some(actual) = target_type(walk, reference) else { return };
    let release = walk.validator.release();
    let mut allowed = Vec::new();
    for target in targets {
        let kind = base_type(release, target)
            .map(str::to_owned)
            .or_else(|| walk.validator.profile(target).map(|profile| profile.type_name.clone()));
        match kind {
            Some(kind) if kind == actual || kind == "Resource" => return,
            Some(kind) => allowed.push(kind),
            // A target profile that is not loaded cannot say its type.
            None => return,
        }
    }
    let message = format!("a reference to a {actual} where {} is allowed", allowed.join(" or "));
    walk.finding(Severity::Error, &format!("{loc}.reference"), Rule::Type, source, &message);
}

/// A target in the same Bundle (or contained) must conform to one of the loaded target profiles
/// of its type.
fn check_target_profiles<'v, 'r>(walk: &mut Walk<'v, 'r>, item: Item<'r>, targets: &[String], loc: &str, source: &str) {
    let Some(reference) = item.value.and_then(|value| value.get("reference")).and_then(Value::as_str) else {
        return;
    };
    let Some(target) = walk.resolve(reference) else { return };
    let Some(kind) = target.get("resourceType").and_then(Value::as_str) else { return };
    let validator = walk.validator;
    let mut loaded = Vec::new();
    for url in targets {
        if base_type(validator.release(), url) == Some(kind) {
            return;
        }
        if let Some(profile) = validator.profile(url).filter(|profile| profile.type_name == kind) {
            loaded.push(profile);
        }
    }
    if loaded.is_empty() {
        return;
    }
    let target_item = Item { value: Some(target), extra: None, type_name: kind, member: kind };
    if loaded.iter().any(|profile| walk.conforms(target_item, profile, reference)) {
        return;
    }
    let names: Vec<&str> = loaded.iter().map(|profile| profile.url.as_str()).collect();
    let message = format!("the {kind} {reference} does not conform to {}", names.join(" or "));
    walk.finding(Severity::Error, &format!("{loc}.reference"), Rule::Reference, source, &message);
}
