//! Reading ValueSet and CodeSystem resources (FHIR JSON, STU3 and R4) into the rules that define
//! a value set's content. A malformed one is refused with a message naming the element, so that
//! a package author can find it; elements that do not change which codes are in (display,
//! designation, version, extensions) are not read.
//!
//! Besides the STU3 and R4 shapes, two older ones are read because packages still carry them: an
//! inline `ValueSet.codeSystem` (DSTU2), which defines a code system and includes all of it, and
//! `compose.import` (DSTU2), which includes whole value sets.

use super::canonical;
use serde_json::Value;

/// A value set as read.
#[derive(Debug)]
pub(super) struct ValueSetDefinition {
    /// Its canonical URL, without a `|version`.
    pub url: String,
    /// How its content is defined.
    pub content: Definition,
    /// A code system defined inline (DSTU2 `ValueSet.codeSystem`).
    pub inline_system: Option<CodeSystemDefinition>,
}

/// How a value set's content is defined.
#[derive(Debug)]
pub(super) enum Definition {
    /// By rules: the union of `include`, less each of `exclude`.
    Compose { include: Vec<Rule>, exclude: Vec<Rule> },
    /// By a list of (system, code): an expansion, or codes given directly.
    Codes(Vec<(String, String)>),
    /// Not at all (neither compose nor expansion): nothing can be told.
    Undefined,
}

/// One `compose.include` or `compose.exclude`.
#[derive(Debug)]
pub(super) struct Rule {
    /// The code system, without a `|version`.
    pub system: Option<String>,
    /// The codes listed, if any (`None`: every code of the system).
    pub concepts: Option<Vec<String>>,
    /// The filters, described for a message (`concept descendent-of 272394005`).
    pub filters: Vec<String>,
    /// The value sets whose codes the rule selects.
    pub value_sets: Vec<String>,
}

/// A code system as read.
#[derive(Debug)]
pub(super) struct CodeSystemDefinition {
    /// Its canonical URL, without a `|version`.
    pub url: String,
    /// Its `content` (`complete`, `fragment`, `example`, `not-present`, `supplement`).
    pub content: String,
    /// Every code it defines, nested concepts included.
    pub codes: Vec<String>,
    /// The value set of all its codes (`CodeSystem.valueSet`), if it names one.
    pub value_set: Option<String>,
}

/// Reads a ValueSet.
pub(super) fn value_set(resource: &Value) -> Result<ValueSetDefinition, String> {
    let url = canonical_url(resource, "ValueSet")?;
    let at = |path: &str| format!("ValueSet {url}: {path}");
    let inline_system = match resource.get("codeSystem") {
        Some(inline) => Some(inline_code_system(inline, &at("codeSystem"))?),
        None => None,
    };
    let mut content = match (resource.get("compose"), resource.get("expansion")) {
        (Some(compose), _) => compose_definition(compose, &at("compose"))?,
        (None, Some(expansion)) => Definition::Codes(expansion_codes(expansion, &at("expansion"))?),
        (None, None) if inline_system.is_some() => Definition::Compose { include: Vec::new(), exclude: Vec::new() },
        (None, None) => Definition::Undefined,
    };
    if let (Some(inline), Definition::Compose { include, .. }) = (&inline_system, &mut content) {
        include.insert(0, Rule::whole(&inline.url));
    }
    Ok(ValueSetDefinition { url, content, inline_system })
}

/// Reads a CodeSystem.
pub(super) fn code_system(resource: &Value) -> Result<CodeSystemDefinition, String> {
    let url = canonical_url(resource, "CodeSystem")?;
    let at = format!("CodeSystem {url}");
    let content = optional_string(resource, "content", &at)?.unwrap_or("not-present").to_owned();
    let mut codes = Vec::new();
    concept_codes(resource, &at, &mut codes)?;
    let value_set = optional_string(resource, "valueSet", &at)?.map(|url| canonical(url).to_owned());
    Ok(CodeSystemDefinition { url, content, codes, value_set })
}

impl Rule {
    /// Every code of `system`.
    pub(super) fn whole(system: &str) -> Rule {
        Rule { system: Some(system.to_owned()), concepts: None, filters: Vec::new(), value_sets: Vec::new() }
    }
}

/// The resource's `url` without a `|version`; a definition without one cannot be referred to.
fn canonical_url(resource: &Value, kind: &str) -> Result<String, String> {
    match resource.get("url") {
        Some(Value::String(url)) if !url.is_empty() => Ok(canonical(url).to_owned()),
        Some(_) => Err(format!("{kind}.url is not a non-empty string")),
        None => {
            let id = resource.get("id").and_then(Value::as_str).unwrap_or("(no id)");
            Err(format!("{kind} {id} has no url, so nothing can refer to it"))
        }
    }
}

/// `compose`: its includes and excludes, and the DSTU2 imports as includes.
fn compose_definition(compose: &Value, at: &str) -> Result<Definition, String> {
    if !compose.is_object() {
        return Err(format!("{at} is not an object"));
    }
    let mut include = rules(compose, "include", at)?;
    for (index, url) in array(compose, "import", at)?.iter().enumerate() {
        let url = url.as_str().ok_or_else(|| format!("{at}.import[{index}] is not a string"))?;
        include.push(Rule {
            system: None,
            concepts: None,
            filters: Vec::new(),
            value_sets: vec![canonical(url).into()],
        });
    }
    if include.is_empty() {
        return Err(format!("{at} has no include, so the value set would be empty"));
    }
    let exclude = rules(compose, "exclude", at)?;
    Ok(Definition::Compose { include, exclude })
}

/// `compose.include` or `compose.exclude`.
fn rules(compose: &Value, key: &str, at: &str) -> Result<Vec<Rule>, String> {
    array(compose, key, at)?
        .iter()
        .enumerate()
        .map(|(index, rule)| read_rule(rule, &format!("{at}.{key}[{index}]")))
        .collect()
}

/// One include or exclude: a system (with concepts or filters) and/or value sets.
fn read_rule(rule: &Value, at: &str) -> Result<Rule, String> {
    if !rule.is_object() {
        return Err(format!("{at} is not an object"));
    }
    let system = optional_string(rule, "system", at)?.map(|system| canonical(system).to_owned());
    let concepts = match rule.get("concept") {
        Some(_) => Some(listed_codes(rule, at)?),
        None => None,
    };
    let filters = array(rule, "filter", at)?
        .iter()
        .enumerate()
        .map(|(index, filter)| describe_filter(filter, &format!("{at}.filter[{index}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let value_sets = array(rule, "valueSet", at)?
        .iter()
        .enumerate()
        .map(|(index, url)| {
            url.as_str()
                .map(|url| canonical(url).to_owned())
                .ok_or_else(|| format!("{at}.valueSet[{index}] is not a string"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if system.is_none() && value_sets.is_empty() {
        return Err(format!("{at} has neither a system nor a valueSet"));
    }
    if system.is_none() && (concepts.is_some() || !filters.is_empty()) {
        return Err(format!("{at} lists concepts or filters without a system"));
    }
    Ok(Rule { system, concepts, filters, value_sets })
}

/// The codes of `concept[]` in an include or exclude.
fn listed_codes(rule: &Value, at: &str) -> Result<Vec<String>, String> {
    array(rule, "concept", at)?
        .iter()
        .enumerate()
        .map(|(index, concept)| required_string(concept, "code", &format!("{at}.concept[{index}]")).map(str::to_owned))
        .collect()
}

/// A filter as `property op value`, after checking that it has all three.
fn describe_filter(filter: &Value, at: &str) -> Result<String, String> {
    let property = required_string(filter, "property", at)?;
    let op = required_string(filter, "op", at)?;
    let value = required_string(filter, "value", at)?;
    Ok(format!("{property} {op} {value}"))
}

/// The (system, code) pairs of `expansion.contains`, nested ones included; entries without a
/// code (abstract groupings) only contribute their children.
fn expansion_codes(expansion: &Value, at: &str) -> Result<Vec<(String, String)>, String> {
    let mut codes = Vec::new();
    contained_codes(expansion, at, &mut codes)?;
    Ok(codes)
}

fn contained_codes(parent: &Value, at: &str, codes: &mut Vec<(String, String)>) -> Result<(), String> {
    for (index, entry) in array(parent, "contains", at)?.iter().enumerate() {
        let at = format!("{at}.contains[{index}]");
        if let Some(code) = optional_string(entry, "code", &at)? {
            let system = optional_string(entry, "system", &at)?.map_or("", canonical);
            codes.push((system.to_owned(), code.to_owned()));
        }
        contained_codes(entry, &at, codes)?;
    }
    Ok(())
}

/// The DSTU2 inline code system: its `system` and (nested) concepts; complete by definition.
fn inline_code_system(inline: &Value, at: &str) -> Result<CodeSystemDefinition, String> {
    let url = canonical(required_string(inline, "system", at)?).to_owned();
    let mut codes = Vec::new();
    concept_codes(inline, at, &mut codes)?;
    Ok(CodeSystemDefinition { url, content: "complete".into(), codes, value_set: None })
}

/// The codes of `concept[]` and their nested `concept[]`, depth first.
fn concept_codes(parent: &Value, at: &str, codes: &mut Vec<String>) -> Result<(), String> {
    for (index, concept) in array(parent, "concept", at)?.iter().enumerate() {
        let at = format!("{at}.concept[{index}]");
        codes.push(required_string(concept, "code", &at)?.to_owned());
        concept_codes(concept, &at, codes)?;
    }
    Ok(())
}

/// The array under `key` (absent: empty).
fn array<'a>(parent: &'a Value, key: &str, at: &str) -> Result<&'a [Value], String> {
    match parent.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{at}.{key} is not an array")),
    }
}

/// The string under `key`, if present.
fn optional_string<'a>(parent: &'a Value, key: &str, at: &str) -> Result<Option<&'a str>, String> {
    match parent.get(key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(format!("{at}.{key} is not a string")),
    }
}

/// The string under `key`, which must be there.
fn required_string<'a>(parent: &'a Value, key: &str, at: &str) -> Result<&'a str, String> {
    optional_string(parent, key, at)?.ok_or_else(|| format!("{at} has no {key}"))
}
