//! The definitions as the rest of the service sees them, already cross-checked.

use fhir_core::Release;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// What kind of values a search parameter compares (FHIR's `SearchParamType`). How each kind
/// is parsed, indexed and matched is `fhir-search`'s (`kinds/`); here it is only a name in the
/// definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Codes: `system|code`, `code`, `|code`, `system|`.
    Token,
    /// Dates and periods, with comparison prefixes.
    Date,
    /// References to other resources: `Type/id` or `id`.
    Reference,
    /// Text (names, addresses): case- and accent-insensitive, from the start, or `:exact`,
    /// `:contains`.
    String,
    /// Quantities: `[prefix]number[|system|code]`.
    Quantity,
    /// Plain numbers: `[prefix]number`.
    Number,
    /// URIs, matched whole (or `:below`).
    Uri,
    /// The built-in `_id`: the logical id.
    Id,
    /// The built-in `_lastUpdated`: when the stored version was written.
    LastUpdated,
}

impl ParamKind {
    /// The kinds a definition may name, by their code.
    const DEFINABLE: [ParamKind; 7] = [
        ParamKind::Token,
        ParamKind::Date,
        ParamKind::Reference,
        ParamKind::String,
        ParamKind::Quantity,
        ParamKind::Number,
        ParamKind::Uri,
    ];

    /// The FHIR `SearchParamType` code.
    pub fn code(self) -> &'static str {
        match self {
            ParamKind::Token | ParamKind::Id => "token",
            ParamKind::Date | ParamKind::LastUpdated => "date",
            ParamKind::Reference => "reference",
            ParamKind::String => "string",
            ParamKind::Quantity => "quantity",
            ParamKind::Number => "number",
            ParamKind::Uri => "uri",
        }
    }

    /// The kind a definition names by `code` (the built-ins are not named there).
    pub fn from_code(code: &str) -> Option<ParamKind> {
        ParamKind::DEFINABLE.into_iter().find(|kind| kind.code() == code)
    }
}

/// A search parameter of one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParam {
    /// Its name, e.g. `code`.
    pub name: String,
    /// What it compares.
    pub kind: ParamKind,
    /// The element paths it reads (empty for the built-ins, which read stored columns).
    pub paths: Vec<String>,
    /// For references: the target types it allows (empty: any).
    pub targets: Vec<String>,
}

/// How the service indexes one resource type of one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDefinition {
    /// The resource type.
    pub name: String,
    /// The reference parameters that put a resource in a patient's compartment.
    pub compartment: Vec<String>,
    /// Whether a resource of the type that names no patient at all is shared rather than
    /// refused (see [`Ownership::CompartmentWhenNamed`]).
    pub compartment_optional: bool,
    /// Every search parameter of the type, built-ins included, by name.
    pub params: BTreeMap<String, SearchParam>,
}

/// Whose record a resource of a type is, which decides who may ever receive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The Patient: its own compartment.
    Patient,
    /// Always one person's record: its compartment references must lead to exactly one of the
    /// provider's Patients, or it is refused; it is served to that person only.
    Compartment,
    /// One person's record when it names a patient (who must then be exactly one of the
    /// provider's Patients); shared when it names none. A Device that names no patient is a
    /// product, not anyone's record.
    CompartmentWhenNamed,
    /// In no patient's compartment (organisations, practitioners, medications): served to a
    /// person whose records refer to it.
    Shared,
}

impl TypeDefinition {
    /// Whose record a resource of this type is.
    pub fn ownership(&self) -> Ownership {
        if self.name == "Patient" {
            Ownership::Patient
        } else if self.compartment.is_empty() {
            Ownership::Shared
        } else if self.compartment_optional {
            Ownership::CompartmentWhenNamed
        } else {
            Ownership::Compartment
        }
    }

    /// The parameter called `name`, if the type has it.
    pub fn param(&self, name: &str) -> Option<&SearchParam> {
        self.params.get(name)
    }
}

/// The resource types of one FHIR release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseDefinition {
    /// The release.
    pub release: Release,
    /// The types the service may hold, by name.
    pub types: BTreeMap<String, TypeDefinition>,
}

impl ReleaseDefinition {
    /// The definition of `resource_type`, if the service may hold it.
    pub fn type_definition(&self, resource_type: &str) -> Option<&TypeDefinition> {
        self.types.get(resource_type)
    }
}

/// An allowed `_include` value: `Source:param` or `Source:param:Target`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Include {
    /// The type whose reference is followed.
    pub source_type: String,
    /// The reference search parameter followed.
    pub param: String,
    /// Only references to this type, if given.
    pub target_type: Option<String>,
}

impl Include {
    /// Parses `Source:param[:Target]`.
    pub fn parse(text: &str) -> Option<Include> {
        let mut parts = text.split(':');
        let source_type = parts.next().filter(|part| !part.is_empty())?;
        let param = parts.next().filter(|part| !part.is_empty())?;
        let target_type = parts.next().map(str::to_owned);
        if parts.next().is_some() || target_type.as_deref() == Some("") {
            return None;
        }
        Some(Include { source_type: source_type.to_owned(), param: param.to_owned(), target_type })
    }
}

impl fmt::Display for Include {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source_type, self.param)?;
        if let Some(target) = &self.target_type {
            write!(f, ":{target}")?;
        }
        Ok(())
    }
}

/// A RESTful interaction a data service allows on a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// `GET [base]/Type/id`.
    Read,
    /// `GET [base]/Type?...`.
    SearchType,
    /// Received from a PGO (Delen), as an entry of the Bundle it shares.
    Create,
}

impl Interaction {
    /// Every interaction, in the order a CapabilityStatement lists them.
    pub const ALL: [Interaction; 3] = [Interaction::Read, Interaction::SearchType, Interaction::Create];

    /// The FHIR `TypeRestfulInteraction` code.
    pub fn code(self) -> &'static str {
        match self {
            Interaction::Read => "read",
            Interaction::SearchType => "search-type",
            Interaction::Create => "create",
        }
    }
}

/// How a PGO shares with a data service (MedMij Delen): `POST [base]` with a Bundle of this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedBundle {
    /// Each entry stored or refused on its own (vital signs).
    Batch,
    /// All entries stored, or none (documents: manifest, references and their Binaries).
    Transaction,
}

impl SharedBundle {
    /// The `Bundle.type` code, which is also the system interaction's code.
    pub fn code(self) -> &'static str {
        match self {
            SharedBundle::Batch => "batch",
            SharedBundle::Transaction => "transaction",
        }
    }

    /// The `Bundle.type` of the answer.
    pub fn response_code(self) -> &'static str {
        match self {
            SharedBundle::Batch => "batch-response",
            SharedBundle::Transaction => "transaction-response",
        }
    }
}

/// What a data service receives when PGOs share with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharing {
    /// The MedMij system role of receiving (ZAL `Systeemrolcode`).
    pub system_role: String,
    /// The Bundle a PGO sends.
    pub bundle: SharedBundle,
}

/// What a data service offers for one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedType {
    /// The resource type.
    pub resource_type: String,
    /// The interactions allowed.
    pub interactions: Vec<Interaction>,
    /// The profiles (canonical URLs without version) a resource must claim to belong here.
    pub profiles: Vec<String>,
    /// Whether a resource of the type belongs here whatever it claims: for types the published
    /// material gives no profile (a document's Binary), which a PGO reaches only through the
    /// records that point to them.
    pub any_profile: bool,
    /// The search parameters a PGO may use.
    pub search_params: Vec<String>,
    /// The `_include` values a PGO may use.
    pub includes: Vec<Include>,
    /// Whether `$lastn` is offered (Observation only).
    pub lastn: bool,
}

impl ServedType {
    /// Whether `interaction` is allowed.
    pub fn allows(&self, interaction: Interaction) -> bool {
        self.interactions.contains(&interaction)
    }

    /// Whether a resource claiming `claimed` profiles belongs to this data service.
    pub fn claims_profile<'a>(&self, mut claimed: impl Iterator<Item = &'a str>) -> bool {
        self.any_profile
            || claimed.any(|profile| self.profiles.iter().any(|allowed| allowed == canonical_without_version(profile)))
    }

    /// Whether PGOs may search with `name`.
    pub fn allows_param(&self, name: &str) -> bool {
        self.search_params.iter().any(|allowed| allowed == name)
    }
}

/// A canonical URL without its `|version` suffix.
pub fn canonical_without_version(canonical: &str) -> &str {
    canonical.split('|').next().unwrap_or(canonical)
}

/// One MedMij data service (gegevensdienst).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataService {
    /// Its id in the MedMij lists, e.g. `48`.
    pub id: String,
    /// Its name, e.g. `Basisgegevens zorg (BgZ) 3.0`.
    pub name: String,
    /// The FHIR release it speaks.
    pub release: Release,
    /// The MedMij system role it is offered under (ZAL `Systeemrolcode`).
    pub system_role: String,
    /// Whether PGOs send data to it (Delen, sharing): an authorization for it alone is a share,
    /// which the person confirms instead of consenting to collection. Same as `sharing.is_some()`.
    pub receives: bool,
    /// How PGOs share with it; the types it receives are those allowing `create`.
    pub sharing: Option<Sharing>,
    /// The resource types it serves, in the order of the definition.
    pub types: Vec<ServedType>,
    /// The published CapabilityStatement it follows, and where it knowingly does not (every
    /// definition under `profiles/` names one).
    pub source: Option<Source>,
}

/// The published server CapabilityStatement a data service follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its canonical URL (and version, `|1.0.0`).
    pub capability_statement: String,
    /// Where a copy of it is, relative to the public corpus (`../shared/corpus/`), if one is.
    pub file: Option<String>,
    /// Every difference from it, with the reason (`drift.rs` names the differences).
    pub deviations: Vec<Deviation>,
}

/// A known difference between a data service and its CapabilityStatement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The difference, as `drift.rs` words it.
    pub difference: String,
    /// Why the service differs.
    pub why: String,
}

impl DataService {
    /// What the data service offers for `resource_type`, if it serves it.
    pub fn served(&self, resource_type: &str) -> Option<&ServedType> {
        self.types.iter().find(|served| served.resource_type == resource_type)
    }
}

/// All definitions: the resource types per release and the data services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub(crate) releases: Vec<ReleaseDefinition>,
    pub(crate) data_services: BTreeMap<u32, DataService>,
}

impl Catalog {
    /// The resource types of `release`.
    pub fn release(&self, release: Release) -> Option<&ReleaseDefinition> {
        self.releases.iter().find(|definition| definition.release == release)
    }

    /// The data service with MedMij id `id`.
    pub fn data_service(&self, id: &str) -> Option<&DataService> {
        self.data_services.get(&id.parse::<u32>().ok()?)
    }

    /// Every data service, in order of id.
    pub fn data_services(&self) -> impl Iterator<Item = &DataService> {
        self.data_services.values()
    }

    /// What the search index of a resource is made from, as text: every search parameter of
    /// every type of every release, with its kind, paths and targets, a line each, sorted. Two
    /// catalogs with the same text index every resource alike (the store indexes stored
    /// resources again when it changes).
    pub fn index_definitions(&self) -> String {
        let mut lines: Vec<String> = self
            .releases
            .iter()
            .flat_map(|release| {
                release.types.values().flat_map(move |definition| {
                    definition.params.values().map(move |param| {
                        format!(
                            "{} {} {} {} {} {}",
                            release.release,
                            definition.name,
                            param.name,
                            param.kind.code(),
                            param.paths.join(","),
                            param.targets.join(",")
                        )
                    })
                })
            })
            .collect();
        lines.sort();
        lines.join("\n")
    }
}
