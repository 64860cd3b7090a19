//! Derives `profiles/fhir/base/{stu3,r4}.json` from the official FHIR definitions of a release
//! (`profiles-types.json`, `profiles-resources.json` and `valuesets.json`), keeping the rules of
//! the base definitions that the structure tables (`profiles/fhir/structure/`) do not carry.
//!
//! ```text
//! cargo run -p profile-validator --example derive_base -- FHIR_VERSION TYPES.json RESOURCES.json VALUESETS.json OUT.json
//! ```
//!
//! Read: the snapshot of every StructureDefinition of kind `primitive-type`, `complex-type` or
//! `resource` that specialises its base (or, as `Element` and `Resource`, has none); constraint
//! profiles (`SimpleQuantity`, `MoneyQuantity`) and logical models are not base types.
//!
//! Kept, by element path as the snapshot writes it (`Observation.value[x]`, a type's root
//! `Quantity`), only where there is one: `min` above 0, a *required* binding, constraints with a
//! FHIRPath expression, and the target profiles of a `Reference`. Left out of the constraints:
//!
//! - `ele-1`, which every element has;
//! - a constraint that the root of the element's type (any of them, for a choice) also has under
//!   the same key (`ext-1` on `Observation.extension` and on `Extension`): it is kept on the type
//!   root only, so that it is evaluated once, where the value is of that type. A resource's root
//!   has no type and keeps its own constraints and the `dom-*` it inherits;
//! - an expression the `fhirpath` crate cannot parse, printed when deriving (with 3.0.1 and
//!   4.0.1 it parses them all).
//!
//! The abstract roots `Element`, `BackboneElement`, `Resource` and `DomainResource` are never the
//! type of a value: a value has a concrete type, whose snapshot repeats the abstract root's
//! elements with their rules (`Observation` carries `dom-2`, `Observation.meta` what `Resource.meta`
//! says). A rule of an abstract root is left out where every concrete type derived from it has it
//! at the same place: kept, it would be evaluated a second time by a validator that also looked
//! the base types up, and never otherwise. What is not repeated so is kept, and printed. With
//! 3.0.1 and 4.0.1 nothing is: the abstract roots had `ele-1`, `ext-1` on their `extension`
//! (which `Extension` keeps) and the `dom-*` of `DomainResource` (which every resource root
//! keeps), so the tables have no entry under them.
//!
//! `valueSets` holds, for every value set a kept binding names, its codes as `[system, code]`,
//! taken from `valuesets.json`: the explicit concepts of `compose.include`, or the whole of a code
//! system (nested concepts too, abstract ones not) that `valuesets.json` holds as a complete
//! `CodeSystem` (in 3.0.1 as in 4.0.1 the code systems are resources of their own there), with
//! `include.valueSet` imports resolved and explicit `compose.exclude` concepts taken out. A value
//! set that cannot be enumerated so (a filter, a system defined elsewhere such as SNOMED CT, UCUM,
//! BCP 47 or the mime types, a value set not in the file) is left out entirely, so that it is
//! unknown rather than partly wrong; the derivation prints the list.
//!
//! profiles/README.md says where the official definitions of each release come from.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::error::Error;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [version, types, resources, value_sets, out] = args.as_slice() else {
        return Err("usage: derive_base FHIR_VERSION TYPES.json RESOURCES.json VALUESETS.json OUT.json".into());
    };
    let bundles = [read(types)?, read(resources)?];
    let mut structures = Vec::new();
    for bundle in &bundles {
        structures.extend(entries(bundle)?.into_iter().filter(|r| r["resourceType"] == "StructureDefinition"));
    }
    let definitions: Vec<Definition> =
        structures.iter().filter_map(|sd| Definition::of(sd).transpose()).collect::<Result<_>>()?;
    let root_keys: HashMap<&str, HashSet<&str>> =
        definitions.iter().map(|definition| (definition.name, constraint_keys(&definition.elements[0]))).collect();

    let mut elements: BTreeMap<String, Rules> = BTreeMap::new();
    let mut unparsed = Vec::new();
    for definition in &definitions {
        for (index, element) in definition.elements.iter().enumerate() {
            if element.get("sliceName").is_some() {
                continue;
            }
            let path = element["path"].as_str().ok_or("element without path")?;
            let type_roots: Vec<&HashSet<&str>> = if index == 0 {
                Vec::new()
            } else {
                type_codes(element).filter_map(|code| root_keys.get(code)).collect()
            };
            let rules = Rules::of(element, &type_roots, &mut unparsed)?;
            if !rules.is_empty() && elements.insert(path.to_owned(), rules).is_some() {
                return Err(format!("{path} is defined twice").into());
            }
        }
    }
    let kept_abstract = drop_abstract_repeats(&definitions, &mut elements);

    let value_sets = read(value_sets)?;
    let terminology = Terminology::read(&value_sets)?;
    let bound: BTreeSet<&str> = elements.values().filter_map(|rules| rules.binding.as_deref()).collect();
    let mut codes = BTreeMap::new();
    let mut left_out = Vec::new();
    for url in bound {
        match terminology.expand(url, &mut Vec::new()) {
            Ok(expanded) => {
                codes.insert(url, expanded);
            }
            Err(reason) => left_out.push(format!("{url}: {reason}")),
        }
    }

    let text = render(version, &elements, &codes);
    std::fs::write(out, &text)?;
    let constraints: usize = elements.values().map(|rules| rules.constraints.len()).sum();
    eprintln!(
        "{out}: {} bytes; {} elements, {constraints} constraints, {} value sets ({} left out)",
        text.len(),
        elements.len(),
        codes.len(),
        left_out.len()
    );
    for path in kept_abstract {
        eprintln!("  kept for an abstract root: {path}");
    }
    for line in &unparsed {
        eprintln!("  expression left out: {line}");
    }
    for line in &left_out {
        eprintln!("  value set left out: {line}");
    }
    Ok(())
}

fn read(file: &str) -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?)?)
}

/// The resources of a Bundle.
fn entries(bundle: &Value) -> Result<Vec<&Value>> {
    Ok(bundle["entry"].as_array().ok_or("not a Bundle")?.iter().map(|entry| &entry["resource"]).collect())
}

/// A base type's StructureDefinition, as far as the derivation needs it.
struct Definition<'a> {
    /// The type's name: the path of its root element.
    name: &'a str,
    /// The name of the type it specialises, if any.
    base: Option<&'a str>,
    is_abstract: bool,
    elements: &'a [Value],
}

impl<'a> Definition<'a> {
    /// The definition, if `sd` defines a base type.
    fn of(sd: &'a Value) -> Result<Option<Definition<'a>>> {
        let kind = sd["kind"].as_str().unwrap_or_default();
        let derivation = sd["derivation"].as_str().unwrap_or("specialization");
        if !matches!(kind, "primitive-type" | "complex-type" | "resource") || derivation != "specialization" {
            return Ok(None);
        }
        let elements = sd["snapshot"]["element"].as_array().filter(|e| !e.is_empty()).ok_or("no snapshot")?;
        let name = elements[0]["path"].as_str().ok_or("root without path")?;
        let base = sd["baseDefinition"].as_str().and_then(|url| url.rsplit('/').next());
        Ok(Some(Definition { name, base, is_abstract: sd["abstract"] == true, elements }))
    }

    /// Whether `ancestor` is this type's base, or its base's, and so on.
    fn derives_from(&self, ancestor: &str, all: &[Definition]) -> bool {
        let mut base = self.base;
        while let Some(name) = base {
            if name == ancestor {
                return true;
            }
            base = all.iter().find(|d| d.name == name).and_then(|d| d.base);
        }
        false
    }
}

/// The keys of an element's constraints.
fn constraint_keys(element: &Value) -> HashSet<&str> {
    element["constraint"].as_array().into_iter().flatten().filter_map(|c| c["key"].as_str()).collect()
}

/// The codes of an element's types.
fn type_codes(element: &Value) -> impl Iterator<Item = &str> {
    element["type"].as_array().into_iter().flatten().filter_map(|t| t["code"].as_str())
}

/// The rules kept of one element.
#[derive(Default)]
struct Rules {
    min: u64,
    /// The value set of a required binding, without `|version`.
    binding: Option<String>,
    /// Key and the constraint as the table writes it.
    constraints: Vec<(String, Value)>,
    target_profiles: Vec<String>,
}

impl Rules {
    fn of(element: &Value, type_roots: &[&HashSet<&str>], unparsed: &mut Vec<String>) -> Result<Rules> {
        let path = element["path"].as_str().unwrap_or_default();
        let mut rules = Rules { min: element["min"].as_u64().unwrap_or(0), ..Rules::default() };
        let binding = &element["binding"];
        if binding["strength"] == "required" {
            // R4 names the value set in `valueSet`; STU3 in `valueSetReference` or `valueSetUri`.
            let url = binding["valueSet"]
                .as_str()
                .or(binding["valueSetReference"]["reference"].as_str())
                .or(binding["valueSetUri"].as_str())
                .ok_or_else(|| format!("{path}: a required binding without a value set"))?;
            rules.binding = Some(url.split('|').next().unwrap_or(url).to_owned());
        }
        for constraint in element["constraint"].as_array().into_iter().flatten() {
            let key = constraint["key"].as_str().ok_or_else(|| format!("{path}: a constraint without key"))?;
            let Some(expression) = constraint["expression"].as_str().filter(|e| !e.trim().is_empty()) else { continue };
            if key == "ele-1" || type_roots.iter().any(|keys| keys.contains(key)) {
                continue;
            }
            if let Err(error) = fhirpath::Expression::parse(expression) {
                unparsed.push(format!("{path} {key}: {expression} ({error})"));
                continue;
            }
            let severity = constraint["severity"].as_str().ok_or_else(|| format!("{path} {key}: no severity"))?;
            let human = constraint["human"].as_str().unwrap_or_default();
            rules.constraints.push((
                key.to_owned(),
                json!({ "key": key, "severity": severity, "human": human, "expression": expression }),
            ));
        }
        for entry in element["type"].as_array().into_iter().flatten().filter(|t| t["code"] == "Reference") {
            // STU3 gives one type entry per target, R4 one entry with a list.
            let targets: Vec<&Value> = match &entry["targetProfile"] {
                Value::Array(list) => list.iter().collect(),
                single => vec![single],
            };
            for target in targets.into_iter().filter_map(Value::as_str) {
                if !rules.target_profiles.iter().any(|known| known == target) {
                    rules.target_profiles.push(target.to_owned());
                }
            }
        }
        Ok(rules)
    }

    fn is_empty(&self) -> bool {
        self.min == 0 && self.binding.is_none() && self.constraints.is_empty() && self.target_profiles.is_empty()
    }

    fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        if self.min > 0 {
            out.insert("min".into(), self.min.into());
        }
        if let Some(url) = &self.binding {
            out.insert("binding".into(), json!({ "strength": "required", "valueSet": url }));
        }
        if !self.constraints.is_empty() {
            out.insert("constraints".into(), self.constraints.iter().map(|(_, c)| c.clone()).collect());
        }
        if !self.target_profiles.is_empty() {
            out.insert("targetProfiles".into(), self.target_profiles.clone().into());
        }
        Value::Object(out)
    }
}

/// Takes out of the abstract roots' elements what every concrete type derived from them repeats
/// at the same place; answers the paths of abstract roots that keep something.
fn drop_abstract_repeats(definitions: &[Definition], elements: &mut BTreeMap<String, Rules>) -> Vec<String> {
    let mut kept = Vec::new();
    for root in definitions.iter().filter(|d| d.is_abstract) {
        let concrete: Vec<&str> = definitions
            .iter()
            .filter(|d| !d.is_abstract && d.derives_from(root.name, definitions))
            .map(|d| d.name)
            .collect();
        let paths: Vec<String> = elements
            .keys()
            .filter(|path| path.strip_prefix(root.name).is_some_and(|rest| rest.is_empty() || rest.starts_with('.')))
            .cloned()
            .collect();
        for path in paths {
            let rest = &path[root.name.len()..];
            let repeats: Vec<Option<&Rules>> =
                concrete.iter().map(|name| elements.get(&format!("{name}{rest}"))).collect();
            let everywhere = |test: &dyn Fn(&Rules) -> bool| {
                !repeats.is_empty() && repeats.iter().all(|rules| rules.is_some_and(test))
            };
            let Some(rules) = elements.get(&path) else { continue };
            let min_repeated = everywhere(&|other| other.min >= rules.min);
            let binding_repeated = everywhere(&|other| other.binding == rules.binding);
            let targets_repeated = everywhere(&|other| other.target_profiles == rules.target_profiles);
            let keys_repeated: Vec<String> = rules
                .constraints
                .iter()
                .map(|(key, _)| key.clone())
                .filter(|key| everywhere(&|other| other.constraints.iter().any(|(k, _)| k == key)))
                .collect();
            let Some(rules) = elements.get_mut(&path) else { continue };
            if min_repeated {
                rules.min = 0;
            }
            if binding_repeated {
                rules.binding = None;
            }
            if targets_repeated {
                rules.target_profiles.clear();
            }
            rules.constraints.retain(|(key, _)| !keys_repeated.contains(key));
            if rules.is_empty() {
                elements.remove(&path);
            } else {
                kept.push(path);
            }
        }
    }
    kept
}

/// The value sets and code systems of `valuesets.json`.
struct Terminology<'a> {
    value_sets: HashMap<&'a str, &'a Value>,
    code_systems: HashMap<&'a str, &'a Value>,
}

/// Codes in definition order, without repeats.
type Codes = Vec<(String, String)>;

impl<'a> Terminology<'a> {
    fn read(bundle: &'a Value) -> Result<Terminology<'a>> {
        let mut terminology = Terminology { value_sets: HashMap::new(), code_systems: HashMap::new() };
        for resource in entries(bundle)? {
            let Some(url) = resource["url"].as_str() else { continue };
            match resource["resourceType"].as_str() {
                Some("ValueSet") => {
                    terminology.value_sets.insert(url, resource);
                }
                Some("CodeSystem") => {
                    terminology.code_systems.insert(url, resource);
                }
                _ => {}
            }
        }
        Ok(terminology)
    }

    /// Every code of the value set `url`, or why they cannot all be named.
    fn expand(&self, url: &str, seen: &mut Vec<String>) -> std::result::Result<Codes, String> {
        if seen.iter().any(|s| s == url) {
            return Err(format!("imports itself through {}", seen.join(", ")));
        }
        let value_set = self.value_sets.get(url).ok_or_else(|| match seen.last() {
            Some(importer) => format!("{importer} imports {url}, which is not in valuesets.json"),
            None => "not in valuesets.json".to_owned(),
        })?;
        seen.push(url.to_owned());
        let compose = &value_set["compose"];
        let mut codes = Codes::new();
        for include in compose["include"].as_array().into_iter().flatten() {
            for code in self.part(include, seen)? {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        for exclude in compose["exclude"].as_array().into_iter().flatten() {
            let excluded = self.part(exclude, seen)?;
            codes.retain(|code| !excluded.contains(code));
        }
        seen.pop();
        if codes.is_empty() {
            return Err(format!("{url} names no codes"));
        }
        Ok(codes)
    }

    /// The codes of one `include` or `exclude`: of its system (its concepts, or all), within
    /// every value set it names.
    fn part(&self, part: &Value, seen: &mut Vec<String>) -> std::result::Result<Codes, String> {
        if part.get("filter").is_some() {
            return Err("a filter".to_owned());
        }
        let mut codes: Option<Codes> = None;
        if let Some(system) = part["system"].as_str() {
            codes = Some(match part["concept"].as_array() {
                Some(concepts) => concepts
                    .iter()
                    .filter_map(|c| c["code"].as_str())
                    .map(|code| (system.to_owned(), code.to_owned()))
                    .collect(),
                None => self.whole_system(system)?,
            });
        }
        let imports: Vec<&Value> = match &part["valueSet"] {
            Value::Array(list) => list.iter().collect(),
            Value::Null => Vec::new(),
            single => vec![single],
        };
        for imported in imports {
            let url = imported.as_str().ok_or("a value set import that is not a URL")?;
            let imported = self.expand(url.split('|').next().unwrap_or(url), seen)?;
            codes = Some(match codes {
                Some(mut within) => {
                    within.retain(|code| imported.contains(code));
                    within
                }
                None => imported,
            });
        }
        codes.ok_or_else(|| "an include with neither system nor value set".to_owned())
    }

    /// Every code of a complete code system in the file, nested ones too.
    fn whole_system(&self, system: &str) -> std::result::Result<Codes, String> {
        let code_system =
            self.code_systems.get(system).ok_or_else(|| format!("all of {system}, which is not in the file"))?;
        if code_system["content"] != "complete" {
            return Err(format!("all of {system}, whose content is {}", code_system["content"]));
        }
        fn collect(concepts: &Value, system: &str, codes: &mut Codes) {
            for concept in concepts.as_array().into_iter().flatten() {
                // An abstract concept (`notSelectable`) groups others and is no code of its own.
                let abstract_concept = concept["property"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["code"] == "notSelectable" && p["valueBoolean"] == true);
                if let Some(code) = concept["code"].as_str().filter(|_| !abstract_concept) {
                    codes.push((system.to_owned(), code.to_owned()));
                }
                collect(&concept["concept"], system, codes);
            }
        }
        let mut codes = Codes::new();
        collect(&code_system["concept"], system, &mut codes);
        Ok(codes)
    }
}

/// The table, one element or value set a line so that diffs between derivations stay readable.
fn render(version: &str, elements: &BTreeMap<String, Rules>, codes: &BTreeMap<&str, Codes>) -> String {
    let element_lines: Vec<String> =
        elements.iter().map(|(path, rules)| format!("{}:{}", Value::from(path.as_str()), rules.to_json())).collect();
    let value_set_lines: Vec<String> = codes
        .iter()
        .map(|(url, codes)| {
            let pairs: Vec<Value> = codes.iter().map(|(system, code)| json!([system, code])).collect();
            format!("{}:{}", Value::from(*url), Value::from(pairs))
        })
        .collect();
    format!(
        "{{\"fhirVersion\":{},\n\"elements\":{{\n{}\n}},\n\"valueSets\":{{\n{}\n}}}}\n",
        Value::from(version),
        element_lines.join(",\n"),
        value_set_lines.join(",\n")
    )
}
