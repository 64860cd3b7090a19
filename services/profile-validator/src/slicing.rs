//! Slicing: which slice each occurrence of a sliced element falls in, told by the slicing's
//! discriminators (value and pattern by the slice's fixed or pattern value at the path, or its
//! required binding; type; profile; exists), then each slice's cardinality and, for closed
//! slicing, occurrences that fall in none.

use crate::checks::{contains, type_matches};
use crate::compile::{Discriminator, DiscriminatorKind, Node, SlicingRules};
use crate::model::{Rule, Severity, Strength};
use crate::terminology::Membership;
use crate::validate::{Applied, Item, Walk};
use fhir_xml::Structure;
use serde_json::Value;

/// Whether an occurrence is in a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    No,
    /// The discriminator cannot be told for this slice (no value to compare with).
    Unknown,
}

/// Assigns each occurrence to the first slice it fits; checks the slices' cardinality and the
/// slicing's rules. Returns, per occurrence, the slice nodes that apply to it.
pub(crate) fn assign<'v, 'r>(
    walk: &mut Walk<'v, 'r>,
    items: &[Item<'r>],
    rule: Applied<'v>,
    siblings: &[Applied<'v>],
    loc: &str,
    item_locs: &[String],
) -> Vec<Vec<Applied<'v>>> {
    let mut per_item = vec![Vec::new(); items.len()];
    let Some(slicing) = &rule.node.slicing else { return per_item };
    let mut counts = vec![0usize; rule.node.slices.len()];
    let mut last_matched = None;
    let mut slice_of_item = vec![None; items.len()];
    let mut any_undecided = false;
    for (index, item) in items.iter().enumerate() {
        let mut undecided = false;
        let mut found = None;
        for (slice_index, (name, slice)) in rule.node.slices.iter().enumerate() {
            let mut fit = fits_all(walk, *item, &slicing.discriminators, slice);
            // A profile may slice an inline extension without restating the URLs its definition
            // fixes: the slice of the same name in another node of the element (the extension's
            // definition) tells.
            if fit == Fit::Unknown {
                for other in siblings {
                    if let Some((_, twin)) = other.node.slices.iter().find(|(other_name, _)| other_name == name) {
                        fit = fits_all(walk, *item, &slicing.discriminators, twin);
                        if fit != Fit::Unknown {
                            break;
                        }
                    }
                }
            }
            match fit {
                Fit::Yes => {
                    found = Some(slice_index);
                    break;
                }
                Fit::Unknown => undecided = true,
                Fit::No => {}
            }
        }
        let item_loc = &item_locs[index];
        match found {
            Some(slice_index) => {
                counts[slice_index] += 1;
                last_matched = Some(index);
                slice_of_item[index] = Some(slice_index);
                let (_, slice) = &rule.node.slices[slice_index];
                per_item[index].push(Applied { profile: rule.profile, node: slice });
            }
            None if undecided => {
                any_undecided = true;
                let message = format!(
                    "{}: an occurrence could not be told apart by the discriminators (a slice states no value for them, or a reference they follow is not in the Bundle)",
                    rule.source()
                );
                walk.not_checked(message);
            }
            None if slicing.rules == SlicingRules::Closed => {
                let names: Vec<&str> = rule.node.slices.iter().map(|(name, _)| name.as_str()).collect();
                let message = format!("fits none of the slices ({}) of closed slicing", names.join(", "));
                walk.finding(Severity::Error, item_loc, Rule::Slicing, &rule.source(), &message);
            }
            None if slicing.rules == SlicingRules::OpenAtEnd && last_matched.is_some() => {
                // Checked below, once the last matched occurrence is known.
            }
            None => {}
        }
    }
    if slicing.ordered {
        check_order(walk, &slice_of_item, rule, item_locs);
    }
    if slicing.rules == SlicingRules::OpenAtEnd
        && let Some(last) = last_matched
    {
        for (index, slices) in per_item.iter().enumerate().take(last) {
            if slices.is_empty() {
                let message = "an occurrence in no slice comes before a sliced one, where slicing is open at the end";
                walk.finding(Severity::Error, &item_locs[index], Rule::Slicing, &rule.source(), message);
            }
        }
    }
    for ((_, slice), count) in rule.node.slices.iter().zip(counts) {
        let slice = Applied { profile: rule.profile, node: slice };
        // An occurrence that could not be told apart may be the one a slice requires.
        if any_undecided && count < slice.node.min.unwrap_or(0) as usize {
            let message = format!("{}: the slice's minimum, as occurrences could not be told apart", slice.source());
            walk.not_checked(message);
            continue;
        }
        super::checks::cardinality(walk, count, &slice, loc);
    }
    per_item
}

/// Ordered slicing: occurrences come in the order of their slices.
fn check_order(walk: &mut Walk<'_, '_>, slice_of_item: &[Option<usize>], rule: Applied<'_>, item_locs: &[String]) {
    let mut highest = 0;
    for (index, slice) in slice_of_item.iter().enumerate() {
        let Some(slice) = *slice else { continue };
        if slice < highest {
            let message =
                format!("the slice {} comes after a later slice, where slicing is ordered", rule.node.slices[slice].0);
            walk.finding(Severity::Error, &item_locs[index], Rule::Slicing, &rule.source(), &message);
        }
        highest = highest.max(slice);
    }
}

/// Whether `item` fits `slice` by every discriminator.
fn fits_all<'v, 'r>(walk: &mut Walk<'v, 'r>, item: Item<'r>, discriminators: &[Discriminator], slice: &'v Node) -> Fit {
    for discriminator in discriminators {
        match fits(walk, item, discriminator, slice) {
            Fit::Yes => {}
            other => return other,
        }
    }
    Fit::Yes
}

/// Whether `item` fits `slice` by one discriminator.
fn fits<'v, 'r>(walk: &mut Walk<'v, 'r>, item: Item<'r>, discriminator: &Discriminator, slice: &'v Node) -> Fit {
    let path = discriminator.path.as_str();
    // A primitive given only by its extensions (`_occurrenceDateTime`) has a type but no value.
    let value = item.value.unwrap_or(&Value::Null);
    match discriminator.kind {
        DiscriminatorKind::Value | DiscriminatorKind::Pattern => {
            let found = values_at(walk, value, path);
            if let Some(url) = extension_url(slice, path) {
                return fit(found.iter().any(|value| value.as_str() == Some(url)));
            }
            let Some(target) = node_at(walk, slice, path) else { return Fit::Unknown };
            if let Some(expected) = target.fixed.as_ref().or(target.pattern.as_ref()) {
                return fit(found.iter().any(|value| contains(value, expected)));
            }
            if let Some(binding) = target.binding.as_ref().filter(|binding| binding.strength == Strength::Required) {
                let terminology = walk.validator.terminology();
                return fit(found.iter().any(|value| {
                    codes(value)
                        .into_iter()
                        .any(|(system, code)| terminology.check(&binding.value_set, system, code) == Membership::In)
                }));
            }
            Fit::Unknown
        }
        DiscriminatorKind::Type => {
            let Some(target) = node_at(walk, slice, path) else { return Fit::Unknown };
            let Some(types) = &target.types else { return Fit::Unknown };
            let actual =
                if path == "$this" { Some(item.type_name.to_owned()) } else { type_at(walk.structure, value, path) };
            match actual {
                Some(actual) => fit(types.iter().any(|allowed| type_matches(&allowed.code, &actual))),
                None => Fit::No,
            }
        }
        DiscriminatorKind::Profile => {
            let Some(target) = node_at(walk, slice, path) else { return Fit::Unknown };
            // Through `resolve()` the profiles a target must have are the Reference's target profiles.
            let resolved = path.contains("resolve()");
            let profiles: Vec<String> = target
                .types
                .iter()
                .flatten()
                .flat_map(|allowed| if resolved { &allowed.target_profiles } else { &allowed.profiles }.iter().cloned())
                .collect();
            if profiles.is_empty() {
                return Fit::Unknown;
            }
            let subjects: Vec<Item<'r>> = if path == "$this" {
                vec![item]
            } else {
                values_at(walk, value, path)
                    .into_iter()
                    .filter_map(|found| {
                        let kind = found.get("resourceType").and_then(Value::as_str)?;
                        Some(Item { value: Some(found), extra: None, type_name: kind, member: kind })
                    })
                    .collect()
            };
            if subjects.is_empty() {
                return if resolved { Fit::Unknown } else { Fit::No };
            }
            let validator = walk.validator;
            for subject in subjects {
                for url in &profiles {
                    let Some(profile) = validator.profile(url) else { continue };
                    if walk.conforms(subject, profile, "(slice)") {
                        return Fit::Yes;
                    }
                }
            }
            Fit::No
        }
        DiscriminatorKind::Exists => {
            let Some(target) = node_at(walk, slice, path) else { return Fit::Unknown };
            let present = !values_at(walk, value, path).is_empty();
            if target.max_stated && target.max == Some(0) {
                fit(!present)
            } else if target.min.is_some_and(|min| min > 0) {
                fit(present)
            } else {
                Fit::Unknown
            }
        }
    }
}

fn fit(yes: bool) -> Fit {
    if yes { Fit::Yes } else { Fit::No }
}

/// The values a discriminator path reaches in an occurrence: `$this`, dotted element names
/// (choices by their name without type), `extension('url')`, `ofType(T)`, `resolve()` within
/// the Bundle.
fn values_at<'r>(walk: &mut Walk<'_, 'r>, value: &'r Value, path: &str) -> Vec<&'r Value> {
    let mut current = vec![value];
    for step in steps(path) {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::This | Step::OfType => next.push(value),
                Step::Resolve => {
                    let reference = value.get("reference").and_then(Value::as_str).unwrap_or_default();
                    next.extend(walk.resolve(reference));
                }
                Step::Extension(url) => {
                    for extension in value.get("extension").and_then(Value::as_array).into_iter().flatten() {
                        if extension.get("url").and_then(Value::as_str) == Some(url) {
                            next.push(extension);
                        }
                    }
                }
                Step::Name(name) => {
                    let Some(object) = value.as_object() else { continue };
                    let found = object
                        .get(name)
                        .or_else(|| object.iter().find(|(key, _)| choice_member(key, name)).map(|(_, found)| found));
                    match found {
                        Some(Value::Array(values)) => next.extend(values.iter()),
                        Some(found) => next.push(found),
                        None => {}
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// Whether `key` is choice element `name` with a type (`valueQuantity` for `value`).
fn choice_member(key: &str, name: &str) -> bool {
    let name = name.trim_end_matches("[x]");
    key.strip_prefix(name).is_some_and(|rest| rest.chars().next().is_some_and(char::is_uppercase))
}

/// The type of the choice element a path ends in (`value[x]` present as `valueQuantity`).
fn type_at(structure: &Structure, value: &Value, path: &str) -> Option<String> {
    let mut current = value;
    let parts: Vec<&str> = path.split('.').filter(|part| *part != "$this").collect();
    let (last, before) = parts.split_last()?;
    for part in before {
        current = current.get(*part)?;
        if let Some(first) = current.as_array().and_then(|values| values.first()) {
            current = first;
        }
    }
    let object = current.as_object()?;
    let name = last.trim_end_matches("[x]");
    let key = object.keys().find(|key| choice_member(key, name))?;
    // The suffix names the type: complex types as written (`Quantity`), primitives with their
    // first letter lower-cased (`DateTime` for `dateTime`).
    let suffix = &key[name.len()..];
    if structure.type_def(suffix).is_some() {
        return Some(suffix.to_owned());
    }
    let mut chars = suffix.chars();
    let first = chars.next()?;
    Some(first.to_lowercase().collect::<String>() + chars.as_str())
}

/// The node a discriminator path names within a slice, following type profiles (an extension
/// slice's definition) where the slice itself says nothing about the path.
fn node_at<'v>(walk: &Walk<'v, '_>, slice: &'v Node, path: &str) -> Option<&'v Node> {
    let mut node = slice;
    for step in steps(path) {
        node = match step {
            Step::This | Step::OfType | Step::Resolve => node,
            Step::Extension(url) => {
                let extensions = child(walk, node, "extension")?;
                extensions.slices.iter().map(|(_, slice)| slice).find(|slice| {
                    slice.types.iter().flatten().any(|allowed| allowed.profiles.iter().any(|p| p == url))
                })?
            }
            Step::Name(name) => child(walk, node, name)?,
        };
    }
    Some(node)
}

/// A child node of `node`, or of the root of the profile `node`'s type names.
fn child<'v>(walk: &Walk<'v, '_>, node: &'v Node, name: &str) -> Option<&'v Node> {
    if let Some(found) = node.children.get(name).or_else(|| node.children.get(&format!("{name}[x]"))) {
        return Some(found);
    }
    let profile = node.types.iter().flatten().flat_map(|allowed| allowed.profiles.iter()).next()?;
    let root = &walk.validator.profile(profile)?.root;
    root.children.get(name).or_else(|| root.children.get(&format!("{name}[x]")))
}

/// For an extension slice told apart by `url`: the URL of the extension's definition (its type
/// profile), or the URL the slice fixes.
fn extension_url<'v>(slice: &'v Node, path: &str) -> Option<&'v str> {
    if path != "url" {
        return None;
    }
    let by_profile = slice
        .types
        .iter()
        .flatten()
        .filter(|allowed| allowed.code == "Extension")
        .flat_map(|allowed| allowed.profiles.first())
        .next();
    by_profile.map(String::as_str).or_else(|| slice.children.get("url")?.fixed.as_ref()?.as_str())
}

/// The (system, code) pairs of a code, Coding or CodeableConcept.
fn codes(value: &Value) -> Vec<(Option<&str>, &str)> {
    if let Some(code) = value.as_str() {
        return vec![(None, code)];
    }
    match value.get("coding").and_then(Value::as_array) {
        Some(codings) => codings.iter().filter_map(system_and_code).collect(),
        None => system_and_code(value).into_iter().collect(),
    }
}

fn system_and_code(coding: &Value) -> Option<(Option<&str>, &str)> {
    let code = coding.get("code").and_then(Value::as_str)?;
    Some((coding.get("system").and_then(Value::as_str), code))
}

/// One step of a discriminator path.
#[derive(Debug, Clone, Copy)]
enum Step<'p> {
    This,
    Name(&'p str),
    Extension(&'p str),
    OfType,
    Resolve,
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let (step, after) = match rest.find(['.', '(']) {
            Some(at) if rest.as_bytes()[at] == b'(' => {
                let close = rest[at..].find(')').map_or(rest.len(), |close| at + close + 1);
                (&rest[..close], rest[close..].trim_start_matches('.'))
            }
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        steps.push(match step {
            "$this" => Step::This,
            "resolve()" => Step::Resolve,
            _ if step.starts_with("extension(") => Step::Extension(argument(step)),
            _ if step.starts_with("ofType(") => Step::OfType,
            name => Step::Name(name),
        });
        rest = after;
    }
    steps
}

fn argument(call: &str) -> &str {
    let inner = call.split_once('(').map_or("", |(_, inner)| inner).trim_end_matches(')');
    inner.trim_matches(|c| c == '\'' || c == '"')
}
