//! The engine: walks a resource's JSON along the release's structure tables and, at each
//! element, applies the base rules of its path and the rules of every profile node that reaches
//! it (the profile's own element, a matched slice, a type profile, an extension's definition).
//!
//! Checked: cardinality (base and profile, slices too), unknown members, the types an element
//! allows, fixed and pattern values, required bindings (where the value set can be told),
//! invariants, type profiles (data types, extensions by URL, contained and entry resources with
//! the profiles they claim), reference target types, and target profiles for targets in the same
//! Bundle, primitives' formats (`primitives`). Not checked: extensible bindings (a code outside
//! them is allowed by definition), and
//! invariants the FHIRPath evaluator cannot run, which `Report::not_checked` names.

use crate::base::BaseRules;
use crate::compile::{Node, Profile, base_type, canonical};
use crate::model::{Finding, Rule, Severity};
use crate::paths::ElementPath;
use crate::type_model::StructureModel;
use crate::{Validator, checks, slicing};
use fhir_xml::{ElementDef, JsonKind, Kind, Structure, TypeDef};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// A primitive's `_name` member when it has none.
static EMPTY_ELEMENT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(Map::new()));

/// How deep type profiles and nested resources may nest before the walk stops (a guard against
/// definitions that refer to themselves).
const MAX_DEPTH: usize = 48;

/// The outcome of validating one resource.
#[derive(Debug, Default)]
pub struct Report {
    /// Every finding, in the order the resource was walked.
    pub findings: Vec<Finding>,
    /// Profiles the resource claims that are not loaded (`Validator::validate_claimed`).
    pub unknown_profiles: Vec<String>,
    /// Rules that could not be checked, once each, with the reason (an invariant the evaluator
    /// cannot run, a value set that is not loaded, a slice without a discriminating value).
    pub not_checked: BTreeSet<String>,
}

impl Report {
    /// Whether no finding is an error.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The error findings.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|finding| finding.severity == Severity::Error)
    }
}

/// A profile node that applies to a value, with the profile it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied<'v> {
    pub profile: &'v Profile,
    pub node: &'v Node,
}

impl Applied<'_> {
    /// The name findings give the rule's source.
    pub(crate) fn source(&self) -> String {
        format!("{}#{}", self.profile.url, self.node.id)
    }
}

/// One occurrence of an element: its JSON value and, for a primitive, its `_name` sibling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item<'r> {
    pub value: Option<&'r Value>,
    pub extra: Option<&'r Value>,
    /// Its FHIR type (a resource's own type for `Resource` elements).
    pub type_name: &'r str,
    /// The JSON member it was found under (`valueQuantity`).
    pub member: &'r str,
}

/// The state of one validation.
pub(crate) struct Walk<'v, 'r> {
    pub validator: &'v Validator,
    pub structure: &'static Structure,
    pub base: &'static BaseRules,
    pub model: StructureModel,
    /// The resource `%resource` names in invariants (the innermost one).
    pub resource: &'r Value,
    /// The outermost resource (a Bundle's entries are found through it).
    pub root: &'r Value,
    /// The resource `%rootResource` names: the one a contained resource is in, else the
    /// innermost resource.
    pub root_resource: &'r Value,
    pub report: Report,
    paths: &'static HashMap<String, Vec<ElementPath>>,
    depth: usize,
    bundle_index: Option<HashMap<String, &'r Value>>,
}

/// Whether JSON member `key` is choice element `name` (`valueQuantity`, `_valueDate` for `value`).
fn choice_of(key: &str, name: &str) -> bool {
    let key = key.strip_prefix('_').unwrap_or(key);
    key.strip_prefix(name).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// `Validator::validate`.
pub(crate) fn run(validator: &Validator, resource: &Value, profiles: &[&str]) -> Report {
    let mut walk = Walk::new(validator, resource);
    let Some(type_name) = resource.get("resourceType").and_then(Value::as_str) else {
        walk.finding(Severity::Error, "(root)", Rule::Structure, "base", "not a FHIR resource: no resourceType");
        return walk.report;
    };
    let mut applied = Vec::new();
    for url in profiles {
        match validator.profile(url) {
            Some(profile) if profile.type_name == type_name => {
                applied.push(Applied { profile, node: &profile.root });
            }
            Some(profile) => walk.finding(
                Severity::Error,
                type_name,
                Rule::Profile,
                &profile.url,
                &format!("the profile constrains {}, not {type_name}", profile.type_name),
            ),
            None => match base_type(validator.release(), url) {
                Some(base) if base == type_name => {}
                Some(base) => {
                    let message = format!("the base definition of {base} does not fit a {type_name}");
                    walk.finding(Severity::Error, type_name, Rule::Profile, canonical(url), &message);
                }
                None => walk.finding(
                    Severity::Error,
                    type_name,
                    Rule::Profile,
                    canonical(url),
                    "this profile is not loaded",
                ),
            },
        }
    }
    walk.resource(resource, type_name, type_name, applied, false);
    walk.report
}

/// The profiles a resource claims in `meta.profile`.
pub(crate) fn claimed_profiles(resource: &Value) -> Vec<&str> {
    resource
        .pointer("/meta/profile")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

impl<'v, 'r> Walk<'v, 'r> {
    fn new(validator: &'v Validator, root: &'r Value) -> Self {
        let release = validator.release();
        Walk {
            validator,
            structure: Structure::of(release),
            base: BaseRules::of(release),
            model: StructureModel::of(release),
            resource: root,
            root,
            root_resource: root,
            report: Report::default(),
            paths: crate::paths::of(release),
            depth: 0,
            bundle_index: None,
        }
    }

    pub(crate) fn finding(&mut self, severity: Severity, path: &str, rule: Rule, source: &str, message: &str) {
        // A profile often restates a base rule (the same binding): one finding says it.
        let repeated = self.report.findings.iter().any(|known| {
            known.severity == severity && known.path == path && known.rule == rule && known.message == message
        });
        if repeated {
            return;
        }
        self.report.findings.push(Finding {
            severity,
            path: path.to_owned(),
            rule,
            source: source.to_owned(),
            message: message.to_owned(),
        });
    }

    pub(crate) fn not_checked(&mut self, what: String) {
        self.report.not_checked.insert(what);
    }

    /// A resource (the root, a contained resource, a Bundle entry) with the profile nodes that
    /// apply to it.
    fn resource(
        &mut self,
        value: &'r Value,
        type_name: &'r str,
        loc: &str,
        applied: Vec<Applied<'v>>,
        contained: bool,
    ) {
        if self.structure.resource(type_name).is_none() {
            let message =
                format!("{type_name} is not a resource type of FHIR {}", self.validator.release().fhir_version());
            self.finding(Severity::Error, loc, Rule::Structure, "base", &message);
            return;
        }
        let outer = std::mem::replace(&mut self.resource, value);
        // `%rootResource` is the resource a contained one is in, else the resource itself.
        let outer_root = self.root_resource;
        if !contained {
            self.root_resource = value;
        }
        let item = Item { value: Some(value), extra: None, type_name, member: type_name };
        for rule in &applied {
            checks::own_rules(self, item, loc, *rule);
        }
        self.complex(value, type_name, loc, &applied);
        self.resource = outer;
        self.root_resource = outer_root;
    }

    /// A complex value: its type's own base rules, then each element of the type.
    fn complex(&mut self, value: &'r Value, type_name: &'r str, loc: &str, applied: &[Applied<'v>]) {
        if self.depth > MAX_DEPTH {
            self.not_checked(format!("{loc}: nested more than {MAX_DEPTH} deep, not walked further"));
            return;
        }
        let Some(object) = value.as_object() else {
            let message = format!("a {type_name} must be a JSON object");
            self.finding(Severity::Error, loc, Rule::Structure, "base", &message);
            return;
        };
        let Some(definition) = self.structure.type_def(type_name) else {
            return;
        };
        self.depth += 1;
        checks::base_root_rules(self, value, type_name, loc);
        self.unknown_members(object, type_name, definition, loc);
        let plans = self.paths.get(type_name).map(Vec::as_slice).unwrap_or_default();
        for (element, plan) in definition.elements.iter().zip(plans) {
            self.element(object, definition, element, plan, loc, applied);
        }
        self.depth -= 1;
    }

    fn unknown_members(&mut self, object: &Map<String, Value>, type_name: &str, definition: &TypeDef, loc: &str) {
        for name in object.keys() {
            let plain = name.strip_prefix('_').unwrap_or(name);
            let known = definition.element(plain).is_some()
                || (name == "resourceType" && definition.kind == Kind::Resource)
                || name == "fhir_comments";
            if !known {
                let message = format!("{type_name} has no element {name}");
                self.finding(Severity::Error, &format!("{loc}.{name}"), Rule::Structure, "base", &message);
            }
        }
    }

    /// One element of a complex value: its occurrences, their number, their slices, and each.
    fn element(
        &mut self,
        object: &'r Map<String, Value>,
        definition: &'static TypeDef,
        element: &'static ElementDef,
        plan: &'static ElementPath,
        loc: &str,
        applied: &[Applied<'v>],
    ) {
        // The nodes for the element as a whole (all its occurrences).
        let nodes: Vec<Applied<'v>> = applied
            .iter()
            .filter_map(|rule| rule.node.children.get(&plan.key).map(|node| Applied { profile: rule.profile, node }))
            .collect();
        let written = |name: &str| object.contains_key(name) || object.contains_key(&format!("_{name}"));
        let present = if element.choice {
            object.keys().any(|key| choice_of(key, &element.name))
        } else {
            written(&element.name)
        };
        if !present && nodes.is_empty() && plan.base.is_none_or(|rules| rules.min == 0) {
            return;
        }
        let base_path = plan.base_path.as_str();
        let items = occurrences(object, definition, element);
        self.json_shape(object, element, &items, loc);
        let element_loc = format!("{loc}.{}", element.name);
        checks::cardinality_of_base(self, items.len(), base_path, &element_loc);
        if !element.many && items.len() > 1 {
            // Two members of one choice (`valueQuantity` and `valueString`).
            let members: Vec<&str> = items.iter().map(|item| item.member).collect();
            let message = format!("{} present where at most 1 is allowed: {}", items.len(), members.join(", "));
            self.finding(Severity::Error, &element_loc, Rule::Cardinality, &format!("base#{base_path}"), &message);
        }
        for rule in &nodes {
            checks::cardinality(self, items.len(), rule, &element_loc);
        }
        // Per occurrence: the element's nodes, nodes for its concrete type (`valueQuantity`), and
        // the slices it falls in.
        let mut per_item: Vec<Vec<Applied<'v>>> = vec![nodes.clone(); items.len()];
        if element.choice {
            for (index, item) in items.iter().enumerate() {
                for rule in applied {
                    if let Some(node) = rule.node.children.get(item.member) {
                        per_item[index].push(Applied { profile: rule.profile, node });
                    }
                }
                // `value[x]:valueQuantity` without slicing stated: the slice of the type.
                for rule in nodes.iter().filter(|rule| rule.node.slicing.is_none()) {
                    if let Some((_, node)) = rule.node.slices.iter().find(|(name, _)| name == item.member) {
                        per_item[index].push(Applied { profile: rule.profile, node });
                    }
                }
            }
        }
        let item_locs: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                if element.many { format!("{loc}.{}[{index}]", item.member) } else { format!("{loc}.{}", item.member) }
            })
            .collect();
        for rule in &nodes {
            if rule.node.slicing.is_some() {
                let matched = slicing::assign(self, &items, *rule, &nodes, &element_loc, &item_locs);
                for (index, slices) in matched.into_iter().enumerate() {
                    per_item[index].extend(slices);
                }
            }
        }
        for (index, item) in items.iter().enumerate() {
            self.item(*item, base_path, &item_locs[index], &per_item[index]);
        }
    }

    /// FHIR JSON's own rules: a repeating element is an array and only it is, a primitive's
    /// value has the JSON kind of its type.
    fn json_shape(&mut self, object: &Map<String, Value>, element: &ElementDef, items: &[Item<'r>], loc: &str) {
        if let Some(first) = items.first() {
            let written = object.get(first.member);
            let is_array = written.is_some_and(Value::is_array);
            if written.is_some() && is_array != element.many {
                let message = if element.many {
                    format!("{} repeats, so JSON writes it as an array", first.member)
                } else {
                    format!("{} does not repeat, so JSON must not write it as an array", first.member)
                };
                self.finding(Severity::Error, &format!("{loc}.{}", first.member), Rule::Structure, "base", &message);
            }
        }
        for item in items {
            let Some(value) = item.value else { continue };
            let Some(definition) = self.structure.type_def(item.type_name) else { continue };
            if definition.kind != Kind::Primitive {
                continue;
            }
            let fits = match definition.json {
                JsonKind::String => value.is_string(),
                JsonKind::Number => value.is_number(),
                JsonKind::Boolean => value.is_boolean(),
            };
            let fault = if fits {
                crate::primitives::fault(item.type_name, value)
            } else {
                let wanted = match definition.json {
                    JsonKind::String => "a JSON string",
                    JsonKind::Number => "a JSON number",
                    JsonKind::Boolean => "true or false",
                };
                let article = if item.type_name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                Some(format!("{article} {} is written as {wanted}, not {value}", item.type_name))
            };
            if let Some(message) = fault {
                self.finding(Severity::Error, &format!("{loc}.{}", item.member), Rule::Structure, "base", &message);
            }
        }
    }

    /// One occurrence with the nodes that apply to it.
    pub(crate) fn item(&mut self, item: Item<'r>, base_path: &str, loc: &str, nodes: &[Applied<'v>]) {
        checks::base_item_rules(self, item, base_path, loc);
        let mut applied: Vec<Applied<'v>> = Vec::with_capacity(nodes.len());
        for rule in nodes {
            checks::own_rules(self, item, loc, *rule);
            applied.push(*rule);
        }
        // Type profiles: a data type's or extension's definition, whose root rules apply here
        // and whose children apply below.
        let mut profile_roots = Vec::new();
        for rule in nodes {
            for profile in checks::type_profiles(rule.node, item.type_name) {
                match self.validator.profile(profile) {
                    Some(profile) => profile_roots.push(Applied { profile, node: &profile.root }),
                    None if base_type(self.validator.release(), profile).is_some() => {}
                    None => self.not_checked(format!("{}: the profile {profile} is not loaded", rule.source())),
                }
            }
        }
        for root in &profile_roots {
            checks::own_rules(self, item, loc, *root);
        }
        applied.extend(profile_roots);
        self.descend(item, loc, applied);
    }

    /// Below an occurrence: its elements, a primitive's extensions, a nested resource.
    fn descend(&mut self, item: Item<'r>, loc: &str, mut applied: Vec<Applied<'v>>) {
        let kind = self.structure.type_def(item.type_name).map(|definition| definition.kind);
        match (kind, item.value) {
            (Some(Kind::Resource), Some(value)) => {
                for url in claimed_profiles(value) {
                    if let Some(profile) = self.validator.profile(url) {
                        applied.push(Applied { profile, node: &profile.root });
                    }
                }
                applied.retain(|rule| rule.profile.type_name == item.type_name);
                let roots: Vec<Applied<'v>> =
                    applied.into_iter().filter(|rule| std::ptr::eq(rule.node, &rule.profile.root)).collect();
                self.depth += 1;
                if self.depth <= MAX_DEPTH {
                    self.resource(value, item.type_name, loc, roots, item.member == "contained");
                }
                self.depth -= 1;
            }
            (Some(Kind::Complex | Kind::Backbone), Some(value)) => self.complex(value, item.type_name, loc, &applied),
            (Some(Kind::Primitive | Kind::Xhtml), _) => {
                // A profile may require a primitive's extensions: without `_name` there are none.
                let constrained = applied.iter().any(|rule| !rule.node.children.is_empty());
                match item.extra {
                    Some(extra) => self.complex(extra, "Element", loc, &applied),
                    None if constrained => self.complex(&EMPTY_ELEMENT, "Element", loc, &applied),
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// The resource a reference in the resource being validated points to, when it is in the
    /// same Bundle (by `fullUrl`, or by `Type/id`) or contained.
    pub(crate) fn resolve(&mut self, reference: &str) -> Option<&'r Value> {
        if let Some(id) = reference.strip_prefix('#') {
            return self
                .resource
                .get("contained")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|contained| contained.get("id").and_then(Value::as_str) == Some(id));
        }
        let root = self.root;
        let index = self.bundle_index.get_or_insert_with(|| bundle_index(root));
        index.get(reference).copied().or_else(|| {
            // `https://x/fhir/Patient/1`, `Patient/1/_history/2` and `Patient/1` name one entry.
            let (kind, id) = fhir_core::reference::parse(reference)?;
            index.get(&format!("{kind}/{id}")).copied()
        })
    }

    /// Whether `item` conforms to `profile` (for profile discriminators and target profiles):
    /// validated on the side, its findings kept out of the report.
    pub(crate) fn conforms(&mut self, item: Item<'r>, profile: &'v Profile, loc: &str) -> bool {
        // A profile of another type (an Organization profile for a PractitionerRole) fits nothing.
        let same_type = profile.type_name == item.type_name
            || (item.type_name.contains('.') && matches!(profile.type_name.as_str(), "BackboneElement" | "Element"));
        if !same_type {
            return false;
        }
        let outer = std::mem::take(&mut self.report.findings);
        let root = Applied { profile, node: &profile.root };
        if self.structure.type_def(item.type_name).map(|d| d.kind) == Some(Kind::Resource) {
            if let Some(value) = item.value {
                self.depth += 1;
                if self.depth <= MAX_DEPTH {
                    self.resource(value, item.type_name, loc, vec![root], false);
                }
                self.depth -= 1;
            }
        } else {
            self.item(item, "", loc, &[root]);
        }
        let inner = std::mem::replace(&mut self.report.findings, outer);
        !inner.iter().any(|finding| finding.severity == Severity::Error)
    }
}

/// Every Bundle entry's resource by `fullUrl` and by `Type/id`.
fn bundle_index(root: &Value) -> HashMap<String, &Value> {
    let mut index = HashMap::new();
    for entry in root.get("entry").and_then(Value::as_array).into_iter().flatten() {
        let Some(resource) = entry.get("resource") else { continue };
        if let Some(full_url) = entry.get("fullUrl").and_then(Value::as_str) {
            index.insert(full_url.to_owned(), resource);
        }
        if let (Some(kind), Some(id)) =
            (resource.get("resourceType").and_then(Value::as_str), resource.get("id").and_then(Value::as_str))
        {
            index.insert(format!("{kind}/{id}"), resource);
        }
    }
    index
}

/// The occurrences of `element` (of `definition`) in `object`: every value of a repeating
/// element (paired with its `_name` sibling by position), the one value of a single one, the
/// member of a choice.
fn occurrences<'r>(
    object: &'r Map<String, Value>,
    definition: &'static TypeDef,
    element: &'static ElementDef,
) -> Vec<Item<'r>> {
    let mut members: Vec<(&'r str, &'r str)> = Vec::new();
    if element.choice {
        for key in object.keys() {
            let plain = key.strip_prefix('_').unwrap_or(key);
            if let Some((found, type_index)) = definition.element(plain)
                && std::ptr::eq(found, element)
                && !members.iter().any(|(member, _)| *member == plain)
            {
                members.push((plain, element.types[type_index].as_str()));
            }
        }
    } else {
        members.push((element.name.as_str(), element.types.first().map(String::as_str).unwrap_or("Element")));
    }
    let mut items = Vec::new();
    for (member, type_name) in members {
        let value = object.get(member);
        let extra = object.get(&format!("_{member}"));
        match (value, extra) {
            (None, None) => {}
            (Some(Value::Array(values)), extras) => {
                let extras = extras.and_then(Value::as_array);
                let count = values.len().max(extras.map_or(0, Vec::len));
                for index in 0..count {
                    let value = values.get(index).filter(|value| !value.is_null());
                    let extra = extras.and_then(|extras| extras.get(index)).filter(|extra| !extra.is_null());
                    items.push(resource_typed(Item { value, extra, type_name, member }));
                }
            }
            (None, Some(Value::Array(extras))) => {
                for extra in extras.iter().filter(|extra| !extra.is_null()) {
                    items.push(Item { value: None, extra: Some(extra), type_name, member });
                }
            }
            (value, extra) => items.push(resource_typed(Item { value, extra, type_name, member })),
        }
    }
    items
}

/// A `Resource` element's occurrence typed by its own `resourceType`.
fn resource_typed(item: Item<'_>) -> Item<'_> {
    if item.type_name != "Resource" {
        return item;
    }
    match item.value.and_then(|value| value.get("resourceType")).and_then(Value::as_str) {
        Some(own) => Item { type_name: own, ..item },
        None => item,
    }
}
