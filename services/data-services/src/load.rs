//! Reads the definition files and cross-checks them, so that a definition that names an unknown
//! type, parameter or include stops the service at start-up with a message saying where.

use crate::model::{
    Catalog, DataService, Deviation, Include, Interaction, ParamKind, ReleaseDefinition, SearchParam, ServedType,
    SharedBundle, Sharing, Source, TypeDefinition,
};
use fhir_core::Release;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A definition file is unreadable or inconsistent.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct DefinitionError {
    /// The file, relative to the profiles folder.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl DefinitionError {
    fn new(file: &str, message: impl Into<String>) -> Self {
        DefinitionError { file: file.to_owned(), message: message.into() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    release: Release,
    fhir_version: String,
    types: BTreeMap<String, RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    #[serde(default)]
    compartment: Vec<String>,
    #[serde(default)]
    compartment_optional: bool,
    #[serde(default)]
    search: BTreeMap<String, RawParam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    #[serde(rename = "type")]
    kind: String,
    path: OneOrMany,
    #[serde(default)]
    targets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataService {
    id: String,
    name: String,
    release: Release,
    system_role: String,
    #[serde(default)]
    sharing: Option<RawSharing>,
    #[serde(default)]
    source: Option<RawSource>,
    resources: Vec<RawServed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSharing {
    system_role: String,
    bundle: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    capability_statement: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    deviations: Vec<Deviation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServed {
    #[serde(rename = "type")]
    resource_type: String,
    interactions: Vec<String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    any_profile: bool,
    #[serde(default)]
    search: Vec<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    operations: Vec<String>,
}

impl Catalog {
    /// The definitions embedded in the binary at build time.
    pub fn embedded() -> Result<Catalog, DefinitionError> {
        Catalog::from_files(crate::EMBEDDED.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())))
    }

    /// The definitions in a folder laid out like `profiles/` (`fhir/*.toml`, `data-services/*.toml`).
    pub fn from_dir(dir: &Path) -> Result<Catalog, DefinitionError> {
        let mut files = Vec::new();
        for sub in ["fhir", "data-services"] {
            let entries = std::fs::read_dir(dir.join(sub))
                .map_err(|error| DefinitionError::new(&format!("{}/{sub}", dir.display()), error.to_string()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|extension| extension == "toml") {
                    let name = format!("{sub}/{}", entry.file_name().to_string_lossy());
                    let text = std::fs::read_to_string(&path)
                        .map_err(|error| DefinitionError::new(&name, error.to_string()))?;
                    files.push((name, text));
                }
            }
        }
        files.sort();
        Catalog::from_files(files.into_iter())
    }

    /// Builds the catalog from (relative path, contents) pairs.
    pub fn from_files(files: impl Iterator<Item = (String, String)>) -> Result<Catalog, DefinitionError> {
        let mut releases = Vec::new();
        let mut raw_services = Vec::new();
        for (name, text) in files {
            if name.starts_with("fhir/") {
                let raw: RawRelease =
                    toml::from_str(&text).map_err(|error| DefinitionError::new(&name, error.to_string()))?;
                releases.push(build_release(&name, raw)?);
            } else if name.starts_with("data-services/") {
                let raw: RawDataService =
                    toml::from_str(&text).map_err(|error| DefinitionError::new(&name, error.to_string()))?;
                raw_services.push((name, raw));
            }
        }
        let mut data_services = BTreeMap::new();
        for (name, raw) in raw_services {
            let release = releases.iter().find(|definition| definition.release == raw.release).ok_or_else(|| {
                DefinitionError::new(&name, format!("no fhir/{}.toml defines its release", raw.release))
            })?;
            let service = build_data_service(&name, raw, release)?;
            let Ok(number) = service.id.parse::<u32>() else {
                return Err(DefinitionError::new(&name, format!("id '{}' is not a number", service.id)));
            };
            if data_services.insert(number, service).is_some() {
                return Err(DefinitionError::new(&name, format!("data service {number} is defined twice")));
            }
        }
        Ok(Catalog { releases, data_services })
    }
}

fn build_release(file: &str, raw: RawRelease) -> Result<ReleaseDefinition, DefinitionError> {
    if raw.fhir_version != raw.release.fhir_version() {
        return Err(DefinitionError::new(
            file,
            format!("fhir_version {} does not match release {}", raw.fhir_version, raw.release),
        ));
    }
    let mut types = BTreeMap::new();
    for (name, raw_type) in raw.types {
        let mut params = BTreeMap::new();
        for builtin in [("_id", ParamKind::Id), ("_lastUpdated", ParamKind::LastUpdated)] {
            params.insert(
                builtin.0.to_owned(),
                SearchParam { name: builtin.0.to_owned(), kind: builtin.1, paths: Vec::new(), targets: Vec::new() },
            );
        }
        for (param_name, raw_param) in raw_type.search {
            let kind = ParamKind::from_code(&raw_param.kind).ok_or_else(|| {
                DefinitionError::new(file, format!("{name}.{param_name}: unknown parameter type '{}'", raw_param.kind))
            })?;
            let paths = match raw_param.path {
                OneOrMany::One(path) => vec![path],
                OneOrMany::Many(paths) => paths,
            };
            if paths.is_empty() || paths.iter().any(String::is_empty) {
                return Err(DefinitionError::new(file, format!("{name}.{param_name}: a path is required")));
            }
            if kind != ParamKind::Reference && !raw_param.targets.is_empty() {
                return Err(DefinitionError::new(file, format!("{name}.{param_name}: only references have targets")));
            }
            params
                .insert(param_name.clone(), SearchParam { name: param_name, kind, paths, targets: raw_param.targets });
        }
        for compartment_param in &raw_type.compartment {
            let is_reference = params.get(compartment_param).is_some_and(|param| param.kind == ParamKind::Reference);
            if !is_reference {
                return Err(DefinitionError::new(
                    file,
                    format!(
                        "{name}: compartment parameter '{compartment_param}' is not a reference parameter of {name}"
                    ),
                ));
            }
        }
        if raw_type.compartment_optional && raw_type.compartment.is_empty() {
            return Err(DefinitionError::new(
                file,
                format!("{name}: compartment_optional needs compartment parameters"),
            ));
        }
        types.insert(
            name.clone(),
            TypeDefinition {
                name,
                compartment: raw_type.compartment,
                compartment_optional: raw_type.compartment_optional,
                params,
            },
        );
    }
    if !types.contains_key("Patient") {
        return Err(DefinitionError::new(file, "the Patient type must be defined: it owns the compartments"));
    }
    Ok(ReleaseDefinition { release: raw.release, types })
}

fn build_data_service(
    file: &str,
    raw: RawDataService,
    release: &ReleaseDefinition,
) -> Result<DataService, DefinitionError> {
    let mut types: Vec<ServedType> = Vec::new();
    for served in raw.resources {
        let name = served.resource_type;
        let error = |message: String| DefinitionError::new(file, format!("{name}: {message}"));
        let definition = release
            .type_definition(&name)
            .ok_or_else(|| error(format!("not defined in fhir/{}.toml", release.release)))?;
        if types.iter().any(|existing| existing.resource_type == name) {
            return Err(error("listed twice".to_owned()));
        }
        let interactions = served
            .interactions
            .iter()
            .map(|code| match code.as_str() {
                "read" => Ok(Interaction::Read),
                "search-type" => Ok(Interaction::SearchType),
                "create" => Ok(Interaction::Create),
                other => Err(error(format!("unknown interaction '{other}'"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        match (served.profiles.is_empty(), served.any_profile) {
            (true, false) => return Err(error("at least one profile is required (or any_profile = true)".to_owned())),
            (false, true) => return Err(error("any_profile = true takes no profiles".to_owned())),
            _ => {}
        }
        for param in &served.search {
            if definition.param(param).is_none() {
                return Err(error(format!("search parameter '{param}' is not defined for {name}")));
            }
        }
        let mut includes = Vec::new();
        for text in &served.include {
            let include =
                Include::parse(text).ok_or_else(|| error(format!("include '{text}' is not Type:param[:Target]")))?;
            if include.source_type != name {
                return Err(error(format!("include '{text}' must start with {name}:")));
            }
            let param = definition
                .param(&include.param)
                .filter(|param| param.kind == ParamKind::Reference)
                .ok_or_else(|| error(format!("include '{text}': '{}' is not a reference parameter", include.param)))?;
            if let Some(target) = &include.target_type
                && !param.targets.is_empty()
                && !param.targets.contains(target)
            {
                return Err(error(format!("include '{text}': {target} is not a target of {}", include.param)));
            }
            includes.push(include);
        }
        let mut lastn = false;
        for operation in &served.operations {
            match operation.as_str() {
                "lastn" if name == "Observation" => lastn = true,
                other => return Err(error(format!("operation '{other}' is not supported on {name}"))),
            }
        }
        if (!served.search.is_empty() || !includes.is_empty() || lastn)
            && !interactions.contains(&Interaction::SearchType)
        {
            return Err(error(
                "search parameters, includes and operations need the search-type interaction".to_owned(),
            ));
        }
        types.push(ServedType {
            resource_type: name.clone(),
            interactions,
            profiles: served.profiles,
            any_profile: served.any_profile,
            search_params: served.search,
            includes,
            lastn,
        });
    }
    let sharing = raw
        .sharing
        .map(|sharing| {
            let bundle = match sharing.bundle.as_str() {
                "batch" => SharedBundle::Batch,
                "transaction" => SharedBundle::Transaction,
                other => {
                    return Err(DefinitionError::new(
                        file,
                        format!("sharing.bundle must be batch or transaction, not '{other}'"),
                    ));
                }
            };
            Ok(Sharing { system_role: sharing.system_role, bundle })
        })
        .transpose()?;
    let receiving = types.iter().any(|served| served.allows(Interaction::Create));
    match (&sharing, receiving) {
        (Some(_), false) => {
            return Err(DefinitionError::new(file, "[sharing] needs at least one type with the create interaction"));
        }
        (None, true) => {
            return Err(DefinitionError::new(
                file,
                "the create interaction needs a [sharing] table (system role, bundle)",
            ));
        }
        _ => {}
    }
    Ok(DataService {
        id: raw.id,
        name: raw.name,
        release: release.release,
        system_role: raw.system_role,
        receives: sharing.is_some(),
        sharing,
        types,
        source: raw.source.map(|source| Source {
            capability_statement: source.capability_statement,
            file: source.file,
            deviations: source.deviations,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog_with(service: &str) -> Result<Catalog, DefinitionError> {
        let release = "release = \"stu3\"\nfhir_version = \"3.0.2\"\n[types.Patient]\n[types.Observation]\n\
            compartment = [\"subject\"]\nsearch.subject = { type = \"reference\", path = \"subject\" }\n\
            search.code = { type = \"token\", path = \"code\" }\n";
        Catalog::from_files(
            [
                ("fhir/stu3.toml".to_owned(), release.to_owned()),
                ("data-services/1.toml".to_owned(), service.to_owned()),
            ]
            .into_iter(),
        )
    }

    const HEAD: &str = "id = \"1\"\nname = \"Test\"\nrelease = \"stu3\"\nsystem_role = \"X\"\n";

    #[test]
    fn receiving_needs_both_a_sharing_table_and_a_type_that_allows_create() {
        let observation = "[[resources]]\ntype = \"Observation\"\nprofiles = [\"p\"]\n";
        let create_alone = format!("{HEAD}{observation}interactions = [\"create\"]\n");
        let error = catalog_with(&create_alone).expect_err("create without [sharing]");
        assert!(error.to_string().contains("[sharing]"), "{error}");
        let sharing = "[sharing]\nsystem_role = \"R\"\nbundle = \"batch\"\n";
        let sharing_alone = format!("{HEAD}{sharing}{observation}interactions = [\"read\"]\n");
        let error = catalog_with(&sharing_alone).expect_err("[sharing] without create");
        assert!(error.to_string().contains("create"), "{error}");
        let unknown = format!(
            "{HEAD}[sharing]\nsystem_role = \"R\"\nbundle = \"message\"\n{observation}interactions = [\"create\"]\n"
        );
        assert!(catalog_with(&unknown).is_err());
        let both = format!("{HEAD}{sharing}{observation}interactions = [\"read\", \"create\"]\n");
        let catalog = catalog_with(&both).expect("a receiving data service");
        let service = catalog.data_service("1").expect("defined");
        assert!(service.receives);
        assert_eq!(service.sharing.as_ref().map(|sharing| sharing.bundle), Some(SharedBundle::Batch));
    }

    #[test]
    fn the_embedded_definitions_load() {
        let catalog = Catalog::embedded().expect("embedded definitions");
        let bgz = catalog.data_service("48").expect("48");
        assert_eq!(bgz.release, Release::Stu3);
        assert!(bgz.served("Observation").is_some_and(|observation| observation.lastn));
        assert_eq!(catalog.data_service("63").map(|service| service.release), Some(Release::R4));
    }

    #[test]
    fn every_kind_is_named_by_its_fhir_code_and_unknown_codes_are_refused() {
        for code in ["token", "date", "reference", "string", "quantity", "number", "uri"] {
            assert_eq!(ParamKind::from_code(code).map(ParamKind::code), Some(code));
        }
        assert_eq!(ParamKind::from_code("composite"), None);
        let release = "release = \"stu3\"\nfhir_version = \"3.0.2\"\n[types.Patient]\n\
            search.name = { type = \"text\", path = \"name\" }\n";
        let error = Catalog::from_files([("fhir/stu3.toml".to_owned(), release.to_owned())].into_iter())
            .expect_err("no kind 'text'");
        assert_eq!(error.to_string(), "fhir/stu3.toml: Patient.name: unknown parameter type 'text'");
    }

    #[test]
    fn the_index_definitions_change_with_a_parameter_and_nothing_else() {
        let catalog = |extra: &str| {
            let release = format!(
                "release = \"stu3\"\nfhir_version = \"3.0.2\"\n[types.Patient]\n\
                 search.family = {{ type = \"string\", path = \"name.family\" }}\n{extra}"
            );
            let service =
                format!("{HEAD}[[resources]]\ntype = \"Patient\"\nprofiles = [\"p\"]\ninteractions = [\"read\"]\n");
            Catalog::from_files(
                [("fhir/stu3.toml".to_owned(), release), ("data-services/1.toml".to_owned(), service)].into_iter(),
            )
            .expect("loads")
        };
        let plain = catalog("").index_definitions();
        assert!(plain.contains("stu3 Patient family string name.family"), "{plain}");
        assert_eq!(catalog("").index_definitions(), plain);
        let more = catalog("search.given = { type = \"string\", path = \"name.given\" }\n").index_definitions();
        assert_ne!(more, plain);
    }

    #[test]
    fn an_unknown_search_parameter_is_named() {
        let service = format!(
            "{HEAD}[[resources]]\ntype = \"Observation\"\ninteractions = [\"search-type\"]\nprofiles = [\"p\"]\nsearch = [\"nope\"]\n"
        );
        let error = catalog_with(&service).expect_err("must fail");
        assert_eq!(
            error.to_string(),
            "data-services/1.toml: Observation: search parameter 'nope' is not defined for Observation"
        );
    }

    #[test]
    fn includes_must_follow_reference_parameters() {
        let service = format!(
            "{HEAD}[[resources]]\ntype = \"Observation\"\ninteractions = [\"search-type\"]\nprofiles = [\"p\"]\ninclude = [\"Observation:code\"]\n"
        );
        assert!(catalog_with(&service).is_err());
    }

    #[test]
    fn unknown_types_are_refused() {
        let service = format!("{HEAD}[[resources]]\ntype = \"Basic\"\ninteractions = [\"read\"]\nprofiles = [\"p\"]\n");
        assert!(catalog_with(&service).is_err());
    }
}
