//! Compiling StructureDefinitions: each differential is applied, element by element id, onto the
//! compiled tree of its base profile, so that a profile's tree holds every rule its chain of
//! bases states (the snapshot, without the base definition's own rules, which `base` holds by
//! path and the engine applies everywhere). Each profile is compiled once, when loaded.

use crate::model::{Binding, Constraint, Severity, Strength};
use crate::package::LoadProblem;
use fhir_core::Release;
use fhir_xml::Structure;
use fhirpath::Expression;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The URL prefix of the base definitions.
const CORE: &str = "http://hl7.org/fhir/StructureDefinition/";

/// A compiled profile.
#[derive(Debug)]
pub(crate) struct Profile {
    /// Its canonical URL.
    pub url: String,
    /// The type it constrains (`Observation`, `Extension`, `HumanName`).
    pub type_name: String,
    /// The rules of its root element, and below it every element it constrains.
    pub root: Node,
}

/// The rules one element (or one slice of it) has in a profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// The element id, for findings (`Patient.identifier:BSN`).
    pub id: String,
    pub min: Option<u32>,
    /// `None` when unbounded (`*`) or not stated; see `max_stated`.
    pub max: Option<u32>,
    pub max_stated: bool,
    pub types: Option<Vec<TypeRule>>,
    pub fixed: Option<Value>,
    pub pattern: Option<Value>,
    pub binding: Option<Binding>,
    pub constraints: Vec<Invariant>,
    pub slicing: Option<Slicing>,
    /// Slices by name, in the order the profile defines them.
    pub slices: Vec<(String, Node)>,
    /// Child elements by name as the element id writes it (`value[x]`, `valueQuantity`).
    pub children: BTreeMap<String, Node>,
}

/// One allowed type of an element, with the profiles a value of it must conform to.
#[derive(Debug, Clone)]
pub(crate) struct TypeRule {
    pub code: String,
    pub profiles: Vec<String>,
    pub target_profiles: Vec<String>,
}

/// An invariant with its parsed expression (or why it could not be parsed).
#[derive(Debug, Clone)]
pub(crate) struct Invariant {
    pub constraint: Constraint,
    pub expression: Result<Arc<Expression>, String>,
}

impl Invariant {
    pub(crate) fn new(constraint: Constraint) -> Invariant {
        let expression = Expression::parse(&constraint.expression).map(Arc::new).map_err(|error| error.to_string());
        Invariant { constraint, expression }
    }
}

/// How an element is sliced.
#[derive(Debug, Clone)]
pub(crate) struct Slicing {
    pub discriminators: Vec<Discriminator>,
    pub rules: SlicingRules,
    pub ordered: bool,
}

/// What tells the slices apart.
#[derive(Debug, Clone)]
pub(crate) struct Discriminator {
    pub kind: DiscriminatorKind,
    /// The path, as written.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiscriminatorKind {
    Value,
    Pattern,
    Type,
    Profile,
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlicingRules {
    Open,
    Closed,
    OpenAtEnd,
}

/// The canonical URL without a `|version`.
pub(crate) fn canonical(url: &str) -> &str {
    url.split('|').next().unwrap_or(url)
}

/// The type a base definition URL names (`http://hl7.org/fhir/StructureDefinition/Patient`).
pub(crate) fn base_type(release: Release, url: &str) -> Option<&'static str> {
    let name = canonical(url).strip_prefix(CORE)?;
    if name.contains('.') {
        return None;
    }
    Structure::of(release).type_names().find(|known| *known == name)
}

/// Compiles every StructureDefinition that constrains a type; those that cannot be compiled are
/// named in `problems`.
pub(crate) fn all(
    release: Release,
    structures: &[Value],
    problems: &mut Vec<LoadProblem>,
) -> HashMap<String, Arc<Profile>> {
    let mut by_url: HashMap<&str, &Value> = HashMap::new();
    // Packages such as the core package carry the base definitions themselves; those come from
    // the release's tables (`base`), and logical models constrain no resource.
    let constraints = structures.iter().filter(|definition| {
        let text = |name: &str| definition.get(name).and_then(Value::as_str);
        text("derivation") != Some("specialization") && text("kind") != Some("logical")
    });
    for definition in constraints {
        match definition.get("url").and_then(Value::as_str) {
            Some(url) => {
                if by_url.insert(canonical(url), definition).is_some() {
                    problems
                        .push(LoadProblem::about(definition, "a second definition with this url replaced the first"));
                }
            }
            None => problems.push(LoadProblem::about(definition, "a StructureDefinition without url")),
        }
    }
    let mut compiler = Compiler { release, by_url, done: HashMap::new(), in_progress: Vec::new(), problems };
    let urls: Vec<&str> = compiler.by_url.keys().copied().collect();
    for url in urls {
        compiler.compile(url);
    }
    compiler.done.into_iter().filter_map(|(url, profile)| Some((url, profile?))).collect()
}

struct Compiler<'a, 'p> {
    release: Release,
    by_url: HashMap<&'a str, &'a Value>,
    done: HashMap<String, Option<Arc<Profile>>>,
    in_progress: Vec<String>,
    problems: &'p mut Vec<LoadProblem>,
}

impl Compiler<'_, '_> {
    fn compile(&mut self, url: &str) -> Option<Arc<Profile>> {
        if let Some(done) = self.done.get(url) {
            return done.clone();
        }
        let definition = *self.by_url.get(url)?;
        if self.in_progress.iter().any(|seen| seen == url) {
            self.problems.push(LoadProblem::about(definition, "its chain of base definitions is a cycle"));
            return None;
        }
        self.in_progress.push(url.to_owned());
        let compiled = self.compile_definition(url, definition);
        self.in_progress.pop();
        let compiled = match compiled {
            Ok(profile) => Some(Arc::new(profile)),
            Err(reason) => {
                self.problems.push(LoadProblem::about(definition, reason));
                None
            }
        };
        self.done.insert(url.to_owned(), compiled.clone());
        compiled
    }

    fn compile_definition(&mut self, url: &str, definition: &Value) -> Result<Profile, String> {
        let text = |name: &str| definition.get(name).and_then(Value::as_str);
        let type_name = text("type").or_else(|| text("constrainedType")).ok_or("it names no type")?;
        if Structure::of(self.release).type_def(type_name).is_none() {
            return Err(format!("its type {type_name} is not a type of FHIR {}", self.release.fhir_version()));
        }
        let base = text("baseDefinition").map(canonical);
        let mut root = match base {
            Some(base) if base_type(self.release, base) == Some(type_name) => {
                Node { id: type_name.to_owned(), ..Node::default() }
            }
            Some(base) => match self.compile(base) {
                Some(parent) if parent.type_name == type_name => parent.root.clone(),
                Some(parent) => {
                    return Err(format!("its base {base} constrains {}, not {type_name}", parent.type_name));
                }
                // A published package often builds on another that is not at hand (R4 nl-core
                // on zib2020): the profile's own rules are still worth checking.
                None => {
                    let reason = format!("its base {base} is not loaded: only its own rules are checked");
                    self.problems.push(LoadProblem::about(definition, reason));
                    Node { id: type_name.to_owned(), ..Node::default() }
                }
            },
            None => return Err("it names no baseDefinition".into()),
        };
        let elements = definition
            .pointer("/differential/element")
            .or_else(|| definition.pointer("/snapshot/element"))
            .and_then(Value::as_array)
            .ok_or("it has neither a differential nor a snapshot")?;
        let mut last_slice_path: Option<(String, String)> = None;
        for element in elements {
            let id = element_id(element, &mut last_slice_path)?;
            let node = node_at(&mut root, type_name, &id)?;
            apply(node, element, &id)?;
        }
        Ok(Profile { url: url.to_owned(), type_name: type_name.to_owned(), root })
    }
}

/// An element's id, or one made from its path and slice name (definitions without ids).
fn element_id(element: &Value, last_slice: &mut Option<(String, String)>) -> Result<String, String> {
    if let Some(id) = element.get("id").and_then(Value::as_str) {
        return Ok(id.to_owned());
    }
    let path = element.get("path").and_then(Value::as_str).ok_or("an element without id or path")?;
    if let Some(slice) = element.get("sliceName").and_then(Value::as_str) {
        *last_slice = Some((path.to_owned(), slice.to_owned()));
        return Ok(format!("{path}:{slice}"));
    }
    // Without ids, the children of a slice follow it: `Patient.identifier.system` after the slice
    // `Patient.identifier:BSN` is that slice's.
    if let Some((slice_path, slice)) = last_slice.as_ref()
        && let Some(rest) = path.strip_prefix(slice_path.as_str())
        && rest.starts_with('.')
    {
        return Ok(format!("{slice_path}:{slice}{rest}"));
    }
    *last_slice = None;
    Ok(path.to_owned())
}

/// Splits an element id into its segments: `Patient.identifier:BSN.system` into
/// `Patient`, `identifier:BSN`, `system`. A slice name may hold dots only where it is followed
/// by another slice or the end; ids in the wild do not rely on more.
fn segments(id: &str) -> Vec<(&str, Option<&str>)> {
    id.split('.')
        .map(|segment| match segment.split_once(':') {
            Some((name, slice)) => (name, Some(slice)),
            None => (segment, None),
        })
        .collect()
}

/// The node an element id names in `root`, made where missing.
fn node_at<'n>(root: &'n mut Node, type_name: &str, id: &str) -> Result<&'n mut Node, String> {
    let parts = segments(id);
    let Some(((first, first_slice), rest)) = parts.split_first() else {
        return Err(format!("the element id {id} is empty"));
    };
    if *first != type_name {
        return Err(format!("the element {id} is not an element of {type_name}"));
    }
    let mut node = root;
    if let Some(slice) = first_slice {
        node = slice_of(node, slice, id);
    }
    for (index, (name, slice)) in rest.iter().enumerate() {
        let child_id = parts[..index + 2].iter().map(|(n, s)| join(n, *s)).collect::<Vec<_>>().join(".");
        let own_id = match slice {
            Some(_) => child_id.rsplit_once(':').map(|(path, _)| path.to_owned()).unwrap_or(child_id.clone()),
            None => child_id.clone(),
        };
        node = node.children.entry((*name).to_owned()).or_insert_with(|| Node { id: own_id, ..Node::default() });
        if let Some(slice) = slice {
            node = slice_of(node, slice, &child_id);
        }
    }
    Ok(node)
}

fn join(name: &str, slice: Option<&str>) -> String {
    match slice {
        Some(slice) => format!("{name}:{slice}"),
        None => name.to_owned(),
    }
}

fn slice_of<'n>(node: &'n mut Node, slice: &str, id: &str) -> &'n mut Node {
    let at = match node.slices.iter().position(|(name, _)| name == slice) {
        Some(at) => at,
        None => {
            node.slices.push((slice.to_owned(), Node { id: id.to_owned(), ..Node::default() }));
            node.slices.len() - 1
        }
    };
    &mut node.slices[at].1
}

/// Applies what one differential element states onto its node.
fn apply(node: &mut Node, element: &Value, id: &str) -> Result<(), String> {
    if let Some(min) = element.get("min").and_then(Value::as_u64) {
        node.min = Some(u32::try_from(min).unwrap_or(u32::MAX));
    }
    if let Some(max) = element.get("max").and_then(Value::as_str) {
        node.max_stated = true;
        node.max = match max {
            "*" => None,
            count => Some(count.parse().map_err(|_| format!("the element {id} has max {count:?}"))?),
        };
    }
    if let Some(types) = element.get("type").and_then(Value::as_array) {
        node.types = Some(types.iter().filter_map(type_rule).collect());
    }
    if let Some(object) = element.as_object() {
        for (name, value) in object {
            if name.starts_with("fixed") {
                node.fixed = Some(value.clone());
            } else if name.starts_with("pattern") {
                node.pattern = Some(value.clone());
            }
        }
    }
    if let Some(binding) = element.get("binding").and_then(binding) {
        node.binding = Some(binding);
    }
    for constraint in element.get("constraint").and_then(Value::as_array).into_iter().flatten() {
        if let Some(constraint) = invariant(constraint) {
            node.constraints.retain(|known| known.constraint.key != constraint.constraint.key);
            node.constraints.push(constraint);
        }
    }
    if let Some(slicing) = element.get("slicing") {
        node.slicing = Some(self::slicing(slicing));
    }
    Ok(())
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![canonical(one).to_owned()],
        Some(Value::Array(many)) => {
            many.iter().filter_map(Value::as_str).map(|url| canonical(url).to_owned()).collect()
        }
        _ => Vec::new(),
    }
}

fn type_rule(value: &Value) -> Option<TypeRule> {
    let code = value.get("code").and_then(Value::as_str)?;
    Some(TypeRule {
        code: code.to_owned(),
        profiles: strings(value.get("profile")),
        target_profiles: strings(value.get("targetProfile")),
    })
}

fn binding(value: &Value) -> Option<Binding> {
    let strength = Strength::parse(value.get("strength").and_then(Value::as_str)?)?;
    let url = value
        .get("valueSet")
        .and_then(Value::as_str)
        .or_else(|| value.get("valueSetUri").and_then(Value::as_str))
        .or_else(|| value.pointer("/valueSetReference/reference").and_then(Value::as_str))?;
    Some(Binding { strength, value_set: canonical(url).to_owned() })
}

fn invariant(value: &Value) -> Option<Invariant> {
    let expression = value.get("expression").and_then(Value::as_str)?;
    let severity = match value.get("severity").and_then(Value::as_str) {
        Some("warning") => Severity::Warning,
        _ => Severity::Error,
    };
    Some(Invariant::new(Constraint {
        key: value.get("key").and_then(Value::as_str).unwrap_or("(no key)").to_owned(),
        severity,
        human: value.get("human").and_then(Value::as_str).unwrap_or_default().to_owned(),
        expression: expression.to_owned(),
    }))
}

fn slicing(value: &Value) -> Slicing {
    let discriminators = value
        .get("discriminator")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|discriminator| {
            // STU3's first drafts wrote bare paths; those were value discriminators.
            if let Some(path) = discriminator.as_str() {
                return Some(Discriminator { kind: DiscriminatorKind::Value, path: path.to_owned() });
            }
            let kind = match discriminator.get("type").and_then(Value::as_str)? {
                "value" => DiscriminatorKind::Value,
                "pattern" => DiscriminatorKind::Pattern,
                "type" => DiscriminatorKind::Type,
                "profile" => DiscriminatorKind::Profile,
                "exists" => DiscriminatorKind::Exists,
                _ => return None,
            };
            Some(Discriminator { kind, path: discriminator.get("path").and_then(Value::as_str)?.to_owned() })
        })
        .collect();
    let rules = match value.get("rules").and_then(Value::as_str) {
        Some("closed") => SlicingRules::Closed,
        Some("openAtEnd") => SlicingRules::OpenAtEnd,
        _ => SlicingRules::Open,
    };
    Slicing { discriminators, rules, ordered: value.get("ordered").and_then(Value::as_bool).unwrap_or(false) }
}
