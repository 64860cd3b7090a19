//! Value sets and code systems of the loaded packages (and the base value sets), and whether a
//! code is in a value set.
//!
//! Loading only reads and stores definitions (`definition`); a value set is expanded the first
//! time it is checked, into a three-valued set (`content`), and kept: after that a check is two
//! hash lookups. Expanding lazily lets definitions arrive in any order (a value set before the
//! code system or the value set it includes) and spares the many value sets no profile binds.
//!
//! What cannot be told here is said so, as [`Membership::Unknown`] with the reason: codes of a
//! system we do not have (SNOMED CT, LOINC, a CodeSystem whose content is not complete), codes
//! selected by a filter, codes of an imported value set we do not know. A code of a system the
//! value set cannot contain is still [`Membership::NotIn`].
//!
//! Semantics (STU3 and R4 alike): the content is the union of the includes less each exclude;
//! within one include, the system's selection (listed concepts, every code, or filters) is
//! intersected with its value sets, and several value sets are united (the STU3 and R4 wording).

mod content;
mod definition;

use content::{Content, Expansion};
use definition::{CodeSystemDefinition, Definition, Rule};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a code is in a value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// It is.
    In,
    /// It is not.
    NotIn,
    /// It cannot be told, and why (an external code system, a filter, an unknown value set).
    Unknown(String),
}

/// The value sets and code systems known to a validator.
#[derive(Default)]
pub struct Terminology {
    value_sets: HashMap<String, ValueSet>,
    code_systems: HashMap<String, CodeSystem>,
    /// Whether some expansion is cached, so that adding a definition must drop them (it may
    /// change what they include); an atomic, because expanding happens behind `&self`.
    expanded: AtomicBool,
}

/// A stored value set and, once checked, its expansion.
#[derive(Debug)]
struct ValueSet {
    definition: Definition,
    /// Made up from `CodeSystem.valueSet` rather than read: a real definition replaces it.
    implied: bool,
    expansion: OnceLock<Expansion>,
}

/// A stored code system.
#[derive(Debug)]
struct CodeSystem {
    content: String,
    codes: HashSet<String>,
}

impl Terminology {
    /// Adds a ValueSet or CodeSystem resource (FHIR JSON). Other resources are ignored. A broken
    /// one is refused with a message saying what is wrong.
    pub fn add(&mut self, resource: &Value) -> Result<(), String> {
        match resource.get("resourceType").and_then(Value::as_str) {
            Some("ValueSet") => {
                let read = definition::value_set(resource)?;
                if let Some(inline) = read.inline_system {
                    self.add_code_system(inline);
                }
                self.add_value_set(read.url, read.content, false);
            }
            Some("CodeSystem") => self.add_code_system(definition::code_system(resource)?),
            _ => {}
        }
        Ok(())
    }

    /// Adds a value set given by its codes, as (system, code).
    pub fn add_codes(&mut self, url: &str, codes: &[(String, String)]) {
        let codes = codes.iter().map(|(system, code)| (canonical(system).to_owned(), code.clone())).collect();
        self.add_value_set(canonical(url).to_owned(), Definition::Codes(codes), false);
    }

    /// Whether a value set of this URL (without `|version`) is known.
    pub fn knows(&self, value_set: &str) -> bool {
        self.value_sets.contains_key(canonical(value_set))
    }

    /// Whether `code` (of `system`, when given) is in the value set.
    pub fn check(&self, value_set: &str, system: Option<&str>, code: &str) -> Membership {
        match self.expansion(canonical(value_set)) {
            Some(expansion) => expansion.get(system.map(canonical), code).clone(),
            None => Membership::Unknown(format!("value set {value_set} is not known")),
        }
    }

    /// How many value sets are known.
    pub fn value_set_count(&self) -> usize {
        self.value_sets.len()
    }

    /// How many code systems are known.
    pub fn code_system_count(&self) -> usize {
        self.code_systems.len()
    }

    /// Expands every value set now rather than at its first check: for a server that would rather
    /// pay at start-up than on a request.
    pub fn expand_all(&self) {
        for url in self.value_sets.keys() {
            self.expansion(url);
        }
    }

    fn add_value_set(&mut self, url: String, definition: Definition, implied: bool) {
        if implied && self.value_sets.get(&url).is_some_and(|known| !known.implied) {
            return;
        }
        self.forget_expansions();
        self.value_sets.insert(url, ValueSet { definition, implied, expansion: OnceLock::new() });
    }

    fn add_code_system(&mut self, read: CodeSystemDefinition) {
        self.forget_expansions();
        if let Some(all_codes) = &read.value_set {
            self.add_value_set(all_codes.clone(), whole_system(&read.url), true);
        }
        let codes = read.codes.into_iter().collect();
        self.code_systems.insert(read.url, CodeSystem { content: read.content, codes });
    }

    /// Drops the cached expansions: a new definition may change any of them.
    fn forget_expansions(&mut self) {
        if std::mem::take(self.expanded.get_mut()) {
            for value_set in self.value_sets.values_mut() {
                value_set.expansion.take();
            }
        }
    }

    /// The expansion of the value set `url` (canonical), expanded now if it was not.
    fn expansion(&self, url: &str) -> Option<&Expansion> {
        let value_set = self.value_sets.get(url)?;
        Some(value_set.expansion.get_or_init(|| {
            self.expanded.store(true, Ordering::Relaxed);
            Expansion::new(self.content(url, &value_set.definition, &mut Vec::new()))
        }))
    }

    /// The content of a value set. `importing` holds the value sets being expanded, outermost
    /// first, to stop at an import cycle.
    fn content(&self, url: &str, definition: &Definition, importing: &mut Vec<String>) -> Content {
        match definition {
            Definition::Codes(codes) => listed(codes),
            Definition::Undefined => Content::everything(Membership::Unknown(format!(
                "value set {url} defines no content (it has neither compose nor expansion)"
            ))),
            Definition::Compose { include, exclude } => {
                importing.push(url.to_owned());
                let included = include.iter().fold(Content::empty(), |content, rule| {
                    content.union(&self.rule(rule, Purpose::Include, importing))
                });
                let content = exclude
                    .iter()
                    .fold(included, |content, rule| content.minus(&self.rule(rule, Purpose::Exclude, importing)));
                importing.pop();
                content
            }
        }
    }

    /// The codes one include or exclude selects.
    fn rule(&self, rule: &Rule, purpose: Purpose, importing: &mut Vec<String>) -> Content {
        let imported =
            rule.value_sets.iter().map(|url| self.imported(url, importing)).reduce(|all, content| all.union(&content));
        match (&rule.system, imported) {
            (Some(system), None) => self.selection(system, rule, purpose),
            (Some(system), Some(imported)) => self.selection(system, rule, purpose).intersect(&imported),
            (None, Some(imported)) => imported,
            (None, None) => Content::empty(),
        }
    }

    /// The codes of `system` a rule selects: those listed, or all, narrowed by its filters.
    fn selection(&self, system: &str, rule: &Rule, purpose: Purpose) -> Content {
        let selected = match (&rule.concepts, rule.filters.is_empty(), purpose) {
            (Some(codes), _, _) => Content::codes(system, codes),
            (None, true, Purpose::Include) => self.whole_system(system),
            // Excluding a whole system needs no codes: none of them is in. Filters narrow every
            // code of the system, whether or not we have them.
            (None, _, _) => self.complete_system(system).unwrap_or_else(|| Content::system(system, Membership::In)),
        };
        rule.filters.iter().fold(selected, |selected, filter| {
            let why = match purpose {
                Purpose::Include => {
                    format!("the value set selects {system} codes by a filter ({filter}), which is not evaluated here")
                }
                Purpose::Exclude => {
                    format!("the value set excludes {system} codes by a filter ({filter}), which is not evaluated here")
                }
            };
            selected.intersect(&Content::system(system, Membership::Unknown(why)))
        })
    }

    /// Every code of `system` included: known when a complete CodeSystem was added.
    fn whole_system(&self, system: &str) -> Content {
        if let Some(codes) = self.complete_system(system) {
            return codes;
        }
        let why = match self.code_systems.get(system) {
            Some(known) => {
                format!("codes of {system} are not available here (its CodeSystem has content {})", known.content)
            }
            None => format!("codes of {system} are not available here"),
        };
        Content::system(system, Membership::Unknown(why))
    }

    /// Every code of `system`, if a complete CodeSystem of it was added.
    fn complete_system(&self, system: &str) -> Option<Content> {
        let known = self.code_systems.get(system).filter(|known| known.content == "complete")?;
        Some(Content::codes(system, &known.codes))
    }

    /// The content of an imported value set. Its own cached expansion is used when there is one,
    /// but never initialised from here: two threads expanding two value sets that import each
    /// other would otherwise wait on each other's `OnceLock`.
    fn imported(&self, url: &str, importing: &mut Vec<String>) -> Content {
        if let Some(at) = importing.iter().position(|seen| seen == url) {
            let cycle = importing[at..].join(" → ");
            return Content::everything(Membership::Unknown(format!(
                "value set {url} includes itself ({cycle} → {url})"
            )));
        }
        let Some(value_set) = self.value_sets.get(url) else {
            return Content::everything(Membership::Unknown(format!(
                "the value set includes value set {url}, which is not known here"
            )));
        };
        match value_set.expansion.get() {
            Some(expansion) => expansion.content().clone(),
            None => self.content(url, &value_set.definition, importing),
        }
    }
}

/// Whether a rule includes or excludes: an unavailable system or a filter means something else
/// for each.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    Include,
    Exclude,
}

/// Codes listed as (system, code).
fn listed(codes: &[(String, String)]) -> Content {
    let mut by_system: HashMap<&str, Vec<&String>> = HashMap::new();
    for (system, code) in codes {
        by_system.entry(system).or_default().push(code);
    }
    by_system
        .into_iter()
        .fold(Content::empty(), |content, (system, codes)| content.union(&Content::codes(system, codes)))
}

/// The definition of a value set of every code of `system`.
fn whole_system(system: &str) -> Definition {
    Definition::Compose { include: vec![Rule::whole(system)], exclude: Vec::new() }
}

/// A canonical URL without its `|version`: value sets are stored and looked up by URL alone.
fn canonical(url: &str) -> &str {
    url.split_once('|').map_or(url, |(url, _)| url)
}

impl fmt::Debug for Terminology {
    /// Counts only: the value sets of a package run to thousands of codes.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Terminology")
            .field("value_sets", &self.value_sets.len())
            .field("code_systems", &self.code_systems.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
