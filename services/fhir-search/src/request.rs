//! A PGO's search request, parsed and checked against what the data service allows
//! (FHIR R4 §3.1.1 "Search", the same rules in STU3 for the parts used here).
//!
//! Rules kept here:
//! - a parameter the data service does not offer is ignored and left out of the self link, or,
//!   under `Prefer: handling=strict`, refused (FHIR §3.1.1.2);
//! - an unsupported modifier or comparison prefix is always refused, as the specification asks;
//! - a malformed value is refused, never silently ignored;
//! - a parameter with an empty value is ignored;
//! - values of one parameter are OR-ed (commas), repeated parameters are AND-ed;
//! - how a value, its modifier and its prefix read is its kind's (`kinds/`, a module per kind);
//! - what one search may ask is bounded (`QueryLimits`): repetitions of a parameter, values of
//!   one, `_include`s and `_offset`, each refused with a message naming the limit, before any
//!   SQL is made; values holding control characters (NUL among them) are refused too.

use crate::kinds::{self, Condition, Rows, Value, split_unescaped};
use crate::query::QueryParam;
use chrono_tz::Tz;
use data_services::{Include, ParamKind, ServedType, TypeDefinition};

mod sort;
pub use sort::{SortBy, SortKey};

/// How to parse.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// `Prefer: handling=strict`: refuse parameters the data service does not offer.
    pub strict: bool,
    /// The request is `Type/$lastn`.
    pub lastn: bool,
    /// The zone in which dates without a zone are read.
    pub zone: Tz,
    /// Page size when `_count` is absent.
    pub default_count: usize,
    /// Largest page size; a larger `_count` is lowered to this.
    pub max_count: usize,
    /// Bounds on what one search may ask.
    pub limits: QueryLimits,
}

/// Bounds on what one search may ask, so that no request can make the database work without
/// limit: each is checked before any SQL is made and refused with a message naming it. Real
/// PGO queries stay far below them (the BgZ list repeats no parameter and names at most three
/// values; vital signs repeat `date` twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Occurrences of one search parameter (they are AND-ed).
    pub max_repeats: usize,
    /// Comma-separated values in one occurrence (they are OR-ed).
    pub max_values: usize,
    /// `_include` parameters.
    pub max_includes: usize,
    /// The largest `_offset`.
    pub max_offset: usize,
}

impl QueryLimits {
    /// The defaults of the service's settings.
    pub const DEFAULT: QueryLimits =
        QueryLimits { max_repeats: 10, max_values: 50, max_includes: 10, max_offset: 100_000 };
}

impl Default for QueryLimits {
    fn default() -> QueryLimits {
        QueryLimits::DEFAULT
    }
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The type searched.
    pub resource_type: String,
    /// All must match (AND); each is an OR of values.
    pub criteria: Vec<Criterion>,
    /// The `_include`s to add.
    pub includes: Vec<Include>,
    /// Page size.
    pub count: usize,
    /// Matches skipped before the page.
    pub offset: usize,
    /// For `$lastn`: how many per code.
    pub lastn: Option<LastN>,
    /// `_sort`: the order of the matches (after these keys, the order they were stored).
    pub sort: Vec<SortKey>,
    /// The parameters applied, as `name=value` text in request order, for the self link.
    pub applied: Vec<String>,
    /// Names of parameters ignored because the data service does not offer them.
    pub ignored: Vec<String>,
}

/// The `$lastn` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastN {
    /// Observations returned per code (the `max` parameter, default 1).
    pub max: usize,
}

/// One search parameter occurrence: any of its values must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// The parameter name.
    pub param: String,
    /// Its kind.
    pub kind: ParamKind,
    /// The alternatives.
    pub values: Vec<Value>,
}

impl Criterion {
    /// Where its values are compared: its kind's index table, or the resource row.
    pub fn rows(&self) -> Rows {
        kinds::rows(self.kind)
    }

    /// What a row must hold to meet this occurrence: one of its values.
    pub fn condition(&self) -> Condition {
        Condition::Any(self.values.iter().map(Value::condition).collect())
    }
}

/// Why a search request was refused; every message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// A value could not be read.
    #[error("invalid value for '{param}': {message}")]
    InvalidValue {
        /// The parameter.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// The modifier is not supported.
    #[error("the modifier ':{modifier}' is not supported on '{param}'")]
    UnsupportedModifier {
        /// The parameter.
        param: String,
        /// The modifier.
        modifier: String,
    },
    /// Strict handling: the parameter is not offered.
    #[error("the parameter '{0}' is not supported by this data service for this resource type")]
    UnknownParameter(String),
    /// Strict handling: the include is not offered.
    #[error("_include={0} is not supported by this data service")]
    UnsupportedInclude(String),
    /// Strict handling: `_sort` named a key the search cannot be sorted by.
    #[error("cannot sort by {keys}; this resource type sorts by {sortable}")]
    UnsupportedSort {
        /// The keys refused.
        keys: String,
        /// The keys offered.
        sortable: String,
    },
    /// A control parameter was given twice.
    #[error("the parameter '{0}' may be given only once")]
    Repeated(String),
    /// A bound on what one search may ask was exceeded.
    #[error("{what}: at most {limit} allowed (setting search.{setting})")]
    Limit {
        /// What was asked too much of.
        what: String,
        /// The bound.
        limit: usize,
        /// The setting that holds the bound.
        setting: &'static str,
    },
}

/// Parses the query of a search on `served` (of type `definition`) at a data service.
pub fn parse(
    served: &ServedType,
    definition: &TypeDefinition,
    params: &[QueryParam],
    options: ParseOptions,
) -> Result<SearchRequest, SearchError> {
    let mut request = SearchRequest {
        resource_type: served.resource_type.clone(),
        criteria: Vec::new(),
        includes: Vec::new(),
        count: options.default_count.min(options.max_count),
        offset: 0,
        lastn: options.lastn.then_some(LastN { max: 1 }),
        sort: Vec::new(),
        applied: Vec::new(),
        ignored: Vec::new(),
    };
    let limits = options.limits;
    let mut seen_control = Vec::new();
    let mut occurrences: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut includes = 0;
    for param in params {
        if param.value.is_empty() {
            continue;
        }
        let (name, modifier) = match param.name.split_once(':') {
            Some((name, modifier)) => (name, Some(modifier)),
            None => (param.name.as_str(), None),
        };
        let mut control = |label: &str| -> Result<(), SearchError> {
            if let Some(modifier) = modifier {
                return Err(unsupported_modifier(label, modifier));
            }
            if seen_control.contains(&label.to_owned()) {
                return Err(SearchError::Repeated(label.to_owned()));
            }
            seen_control.push(label.to_owned());
            Ok(())
        };
        match name {
            "_count" => {
                control("_count")?;
                request.count = non_negative(param, "_count")?.min(options.max_count);
                request.applied.push(format!("_count={}", request.count));
            }
            "_offset" => {
                control("_offset")?;
                request.offset = non_negative(param, "_offset")?;
                if request.offset > limits.max_offset {
                    return Err(SearchError::Limit {
                        what: "_offset".to_owned(),
                        limit: limits.max_offset,
                        setting: "max_offset",
                    });
                }
                request.applied.push(format!("_offset={}", request.offset));
            }
            "max" if options.lastn => {
                control("max")?;
                let max = non_negative(param, "max")?;
                if max == 0 {
                    return Err(invalid("max", "must be at least 1"));
                }
                request.lastn = Some(LastN { max: max.min(options.max_count) });
                request.applied.push(param.raw.clone());
            }
            // `$lastn` has its own order (the most recent per code).
            "_sort" if !options.lastn => {
                control("_sort")?;
                let (keys, unsupported) = sort::parse_sort(served, definition, &param.value)?;
                if !unsupported.is_empty() {
                    if options.strict {
                        return Err(SearchError::UnsupportedSort {
                            keys: unsupported.join(", "),
                            sortable: sort::sortable(served, definition),
                        });
                    }
                    request.ignored.extend(unsupported.iter().map(|key| format!("_sort={key}")));
                }
                if !keys.is_empty() {
                    let text: Vec<String> = keys
                        .iter()
                        .map(|key| {
                            let name = match &key.by {
                                SortBy::Id => "_id",
                                SortBy::LastUpdated => "_lastUpdated",
                                SortBy::Date(name) => name.as_str(),
                            };
                            if key.descending { format!("-{name}") } else { name.to_owned() }
                        })
                        .collect();
                    request.applied.push(format!("_sort={}", text.join(",")));
                    request.sort = keys;
                }
            }
            "_format" => {
                // Negotiated by the HTTP layer; applied, so echoed.
                control("_format")?;
                request.applied.push(param.raw.clone());
            }
            "_include" => {
                if let Some(modifier) = modifier {
                    return Err(unsupported_modifier("_include", modifier));
                }
                includes += 1;
                if includes > limits.max_includes {
                    return Err(SearchError::Limit {
                        what: "_include parameters".to_owned(),
                        limit: limits.max_includes,
                        setting: "max_includes",
                    });
                }
                let allowed = Include::parse(&param.value).filter(|include| served.includes.contains(include));
                match allowed {
                    Some(include) => {
                        if !request.includes.contains(&include) {
                            request.includes.push(include);
                        }
                        request.applied.push(param.raw.clone());
                    }
                    None if options.strict => return Err(SearchError::UnsupportedInclude(param.value.clone())),
                    None => request.ignored.push(format!("_include={}", param.value)),
                }
            }
            _ => {
                let offered = served.allows_param(name).then(|| definition.param(name)).flatten();
                let Some(search_param) = offered else {
                    if options.strict {
                        return Err(SearchError::UnknownParameter(param.name.clone()));
                    }
                    request.ignored.push(param.name.clone());
                    continue;
                };
                let parse_value = kinds::value_parser(search_param, modifier, options.zone)?;
                let seen = occurrences.entry(search_param.name.as_str()).or_insert(0);
                *seen += 1;
                if *seen > limits.max_repeats {
                    return Err(SearchError::Limit {
                        what: format!("occurrences of '{name}'"),
                        limit: limits.max_repeats,
                        setting: "max_repeats",
                    });
                }
                if param.value.chars().any(char::is_control) {
                    return Err(invalid(name, "control characters are not allowed in a value"));
                }
                let alternatives = split_unescaped(&param.value, ',');
                if alternatives.len() > limits.max_values {
                    return Err(SearchError::Limit {
                        what: format!("values of '{name}' ({} given)", alternatives.len()),
                        limit: limits.max_values,
                        setting: "max_values",
                    });
                }
                let values = alternatives
                    .iter()
                    .map(|value| {
                        if value.is_empty() {
                            return Err(invalid(name, "empty alternative in a comma-separated list"));
                        }
                        parse_value(value)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                request.criteria.push(Criterion { param: name.to_owned(), kind: search_param.kind, values });
                request.applied.push(param.raw.clone());
            }
        }
    }
    Ok(request)
}

fn non_negative(param: &QueryParam, label: &str) -> Result<usize, SearchError> {
    param.value.parse::<usize>().map_err(|_| invalid(label, "must be a whole number of 0 or more"))
}

pub(crate) fn unsupported_modifier(param: &str, modifier: &str) -> SearchError {
    SearchError::UnsupportedModifier { param: param.to_owned(), modifier: modifier.to_owned() }
}

pub(crate) fn invalid(param: &str, message: &str) -> SearchError {
    SearchError::InvalidValue { param: param.to_owned(), message: message.to_owned() }
}

#[cfg(test)]
mod tests;
