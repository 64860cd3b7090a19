//! The CapabilityStatement of one data service at one provider, generated from its definition
//! (FHIR R4 §2.40 and STU3 §2.36; the two differ in where profiles and operations go).

use crate::model::{DataService, Interaction, ReleaseDefinition};
use fhir_core::{Format, Release};
use serde_json::{Map, Value, json};

/// The OAuth endpoints a PGO uses to get a token for this resource server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEndpoints {
    /// The authorization endpoint.
    pub authorize: String,
    /// The token endpoint.
    pub token: String,
}

/// Builds the CapabilityStatement served at `{base_url}/metadata`.
///
/// `date` is when the statement was published (the service's start), `formats` the wire formats
/// the endpoint produces, `implementation` a short description naming provider and service.
pub fn capability_statement(
    service: &DataService,
    release_definition: &ReleaseDefinition,
    base_url: &str,
    implementation: &str,
    date: &str,
    formats: &[Format],
    security: &SecurityEndpoints,
) -> Value {
    let release = service.release;
    let mut statement = Map::new();
    statement.insert("resourceType".into(), json!("CapabilityStatement"));
    statement.insert("status".into(), json!("active"));
    statement.insert("date".into(), json!(date));
    statement.insert("publisher".into(), json!("pgo-exchange"));
    statement.insert(
        "description".into(),
        json!(format!(
            "MedMij data service {} ({}): the interactions a PGO may use with an access token.",
            service.id, service.name
        )),
    );
    statement.insert("kind".into(), json!("instance"));
    statement.insert("software".into(), json!({"name": "pgo-exchange", "version": env!("CARGO_PKG_VERSION")}));
    statement.insert("implementation".into(), json!({"description": implementation, "url": base_url}));
    statement.insert("fhirVersion".into(), json!(release.fhir_version()));
    if release == Release::Stu3 {
        // Unknown elements in stored resources are kept and served as they came.
        statement.insert("acceptUnknown".into(), json!("both"));
    }
    let format_codes: Vec<&str> = formats
        .iter()
        .map(|format| match format {
            Format::Json => "json",
            Format::Xml => "xml",
        })
        .collect();
    statement.insert("format".into(), json!(format_codes));
    if release == Release::Stu3 {
        let profiles: Vec<Value> = service
            .types
            .iter()
            .flat_map(|served| served.profiles.iter())
            .map(|profile| json!({"reference": profile}))
            .collect();
        statement.insert("profile".into(), Value::Array(profiles));
    }
    let resources: Vec<Value> =
        service.types.iter().map(|served| resource_entry(served, release_definition, release)).collect();
    let mut rest = Map::new();
    rest.insert("mode".into(), json!("server"));
    rest.insert(
        "documentation".into(),
        json!(
            "Every request is answered for the person bound to the access token; requests carry no patient parameter."
        ),
    );
    rest.insert("security".into(), security_entry(security));
    rest.insert("resource".into(), Value::Array(resources));
    if let Some(sharing) = &service.sharing {
        rest.insert(
            "interaction".into(),
            json!([{
                "code": sharing.bundle.code(),
                "documentation": "MedMij Delen: the person's PGO shares with the provider; the Bundle's Patient is the token's person."
            }]),
        );
    }
    if release == Release::Stu3 && service.types.iter().any(|served| served.lastn) {
        rest.insert("operation".into(), json!([lastn_operation(release)]));
    }
    statement.insert("rest".into(), json!([Value::Object(rest)]));
    Value::Object(statement)
}

fn resource_entry(
    served: &crate::model::ServedType,
    release_definition: &ReleaseDefinition,
    release: Release,
) -> Value {
    let mut entry = Map::new();
    entry.insert("type".into(), json!(served.resource_type));
    match release {
        Release::Stu3 => {
            if let Some(first) = served.profiles.first() {
                entry.insert("profile".into(), json!({"reference": first}));
            }
        }
        Release::R4 => {
            entry.insert("supportedProfile".into(), json!(served.profiles));
        }
    }
    let interactions: Vec<Value> = Interaction::ALL
        .into_iter()
        .filter(|interaction| served.allows(*interaction))
        .map(|interaction| json!({"code": interaction.code()}))
        .collect();
    entry.insert("interaction".into(), Value::Array(interactions));
    if served.allows(Interaction::Read) {
        entry.insert("readHistory".into(), json!(false));
    }
    if !served.includes.is_empty() {
        let includes: Vec<String> = served.includes.iter().map(ToString::to_string).collect();
        entry.insert("searchInclude".into(), json!(includes));
    }
    let type_definition = release_definition.type_definition(&served.resource_type);
    let params: Vec<Value> = served
        .search_params
        .iter()
        .filter_map(|name| type_definition.and_then(|definition| definition.param(name)))
        .map(|param| {
            let mut documentation = match param.paths.as_slice() {
                [] => "built in".to_owned(),
                paths => format!("{}.{}", served.resource_type, paths.join(" | ")),
            };
            if !param.targets.is_empty() {
                documentation.push_str(&format!(" (targets: {})", param.targets.join(", ")));
            }
            json!({"name": param.name, "type": param.kind.code(), "documentation": documentation})
        })
        .collect();
    if !params.is_empty() {
        entry.insert("searchParam".into(), Value::Array(params));
    }
    if release == Release::R4 && served.lastn {
        entry.insert("operation".into(), json!([lastn_operation(release)]));
    }
    Value::Object(entry)
}

fn lastn_operation(release: Release) -> Value {
    let definition = "http://hl7.org/fhir/OperationDefinition/Observation-lastn";
    match release {
        Release::Stu3 => json!({"name": "lastn", "definition": {"reference": definition}}),
        Release::R4 => json!({"name": "lastn", "definition": definition}),
    }
}

fn security_entry(security: &SecurityEndpoints) -> Value {
    json!({
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [
                {"url": "authorize", "valueUri": security.authorize},
                {"url": "token", "valueUri": security.token}
            ]
        }],
        "service": [{"coding": [{
            "system": "http://hl7.org/fhir/restful-security-service",
            "code": "OAuth",
            "display": "OAuth"
        }]}],
        "description": "MedMij OAuth 2.0: an access token from the authorization server of this provider, sent as a Bearer token."
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    fn statement(id: &str) -> Value {
        let catalog = Catalog::embedded().expect("definitions");
        let service = catalog.data_service(id).expect("service");
        let release = catalog.release(service.release).expect("release");
        let security = SecurityEndpoints { authorize: "https://x/authorize".into(), token: "https://x/token".into() };
        capability_statement(
            service,
            release,
            "https://x/umcx/48/fhir",
            "UMC X",
            "2026-11-23",
            &[Format::Json],
            &security,
        )
    }

    #[test]
    fn stu3_statement_lists_profiles_includes_and_lastn() {
        let bgz = statement("48");
        assert_eq!(bgz["fhirVersion"], "3.0.2");
        assert_eq!(bgz["acceptUnknown"], "both");
        let observation = bgz["rest"][0]["resource"]
            .as_array()
            .and_then(|resources| resources.iter().find(|resource| resource["type"] == "Observation"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(observation["searchInclude"], json!(["Observation:related-target", "Observation:specimen"]));
        assert_eq!(bgz["rest"][0]["operation"][0]["name"], "lastn");
    }

    #[test]
    fn r4_statement_uses_supported_profile() {
        let vaccinations = statement("63");
        assert_eq!(vaccinations["fhirVersion"], "4.0.1");
        assert!(vaccinations.get("acceptUnknown").is_none());
        let immunization = &vaccinations["rest"][0]["resource"][0];
        assert_eq!(immunization["type"], "Immunization");
        assert_eq!(
            immunization["supportedProfile"][0],
            "http://nictiz.nl/fhir/StructureDefinition/imm-Vaccination-event"
        );
        assert_eq!(
            immunization["supportedProfile"][2],
            "http://nictiz.nl/fhir/StructureDefinition/nl-core-Vaccination-event"
        );
    }
}
