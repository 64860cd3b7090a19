//! Discovery: the ZAL names the provider's endpoints for every tested data service; the
//! authorization server's metadata (RFC 8414) and each FHIR base's SMART configuration and
//! CapabilityStatement agree with the ZAL.

use crate::queries::{self, Query};
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::offer;
use crate::session::Session;
use serde_json::Value;
use std::sync::Arc;

const GROUP: &str = "discovery";

/// The discovery scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let mut list = Vec::new();
    let s = session.clone();
    list.push(Scenario::new(
        "discovery.zal",
        GROUP,
        "the ZAL lists the provider with authorization, token and resource endpoints for every tested data service",
        "Flow 1 step 1; The lists: ZAL (AuthorizationEndpointuri, TokenEndpointuri, ResourceEndpointuri)",
        move |probe| zal(s.clone(), probe),
    ));
    let s = session.clone();
    list.push(Scenario::new(
        "discovery.authorization-server-metadata",
        GROUP,
        "RFC 8414 metadata names the ZAL's endpoints, response type code and PKCE S256 (not plain)",
        "Flow 1 steps 2 and 5; PKCE S256 supported, plain refused (we decide)",
        move |probe| authorization_server(s.clone(), probe),
    ));
    for data_service in &session.config.data_services {
        let (s, id) = (session.clone(), data_service.clone());
        list.push(Scenario::new(
            format!("discovery.{data_service}.smart-configuration"),
            GROUP,
            format!("the FHIR base of {data_service} publishes a SMART configuration with the ZAL's endpoints"),
            "Flow 1 step 1: the PGO finds the provider's endpoints",
            move |probe| smart_configuration(s.clone(), id.clone(), probe),
        ));
        let (s, id) = (session.clone(), data_service.clone());
        list.push(Scenario::new(
            format!("discovery.{data_service}.capability-statement"),
            GROUP,
            format!("the CapabilityStatement of {data_service} has the data service's FHIR version, the searches, operations and reads of its query list and the ZAL's OAuth endpoints"),
            "Data services and FHIR versions; the BgZ query list: every one must work",
            move |probe| capability_statement(s.clone(), id.clone(), probe),
        ));
    }
    list
}

async fn zal(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let provider = &session.provider;
    probe.check(
        "the provider is listed",
        !provider.services.is_empty(),
        format!("{} has no data services", provider.name),
    );
    for data_service in &session.config.data_services {
        let service = provider.service(data_service);
        let endpoints = service.map(|service| [&service.authorization, &service.token, &service.base]);
        let absolute = endpoints.is_some_and(|urls| {
            urls.iter().all(|url| url::Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "https" | "http")))
        });
        probe.check(
            format!("data service {data_service} has absolute authorization, token and resource endpoints"),
            absolute,
            format!("{:?}", endpoints),
        );
    }
    Ok(())
}

async fn get_json(session: &Session, probe: &Probe, url: &str) -> Result<Option<Value>, Stop> {
    let answer = probe.send(session.api.client().get(url).header("Accept", "application/json")).await?;
    if answer.status == 404 {
        return Ok(None);
    }
    probe.status(&answer, 200);
    Ok(answer.json())
}

async fn authorization_server(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let token = session.token_endpoint()?.to_owned();
    let origin = url::Url::parse(&token).map_err(|error| Stop::Failed(format!("token endpoint: {error}")))?;
    let url = format!("{}/.well-known/oauth-authorization-server", origin.origin().ascii_serialization());
    let Some(metadata) = get_json(&session, &probe, &url).await? else {
        return Err(Stop::NotRun("the target publishes no RFC 8414 metadata at its token endpoint's origin".into()));
    };
    let authorize = session.authorization_endpoint()?;
    probe.check(
        "authorization_endpoint is the ZAL's",
        metadata["authorization_endpoint"] == authorize,
        metadata["authorization_endpoint"].to_string(),
    );
    probe.check(
        "token_endpoint is the ZAL's",
        metadata["token_endpoint"] == token.as_str(),
        metadata["token_endpoint"].to_string(),
    );
    probe.check(
        "response_types_supported has code",
        contains(&metadata["response_types_supported"], "code"),
        metadata["response_types_supported"].to_string(),
    );
    let methods = &metadata["code_challenge_methods_supported"];
    probe.check("code_challenge_methods_supported has S256", contains(methods, "S256"), methods.to_string());
    probe.check("code_challenge_methods_supported has no plain", !contains(methods, "plain"), methods.to_string());
    let grants = &metadata["grant_types_supported"];
    probe.check(
        "grant_types_supported has authorization_code and refresh_token",
        contains(grants, "authorization_code") && contains(grants, "refresh_token"),
        grants.to_string(),
    );
    Ok(())
}

fn contains(list: &Value, item: &str) -> bool {
    list.as_array().is_some_and(|items| items.iter().any(|value| value == item))
}

async fn smart_configuration(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let base = session.base(&data_service)?;
    let Some(config) = get_json(&session, &probe, &format!("{base}/.well-known/smart-configuration")).await? else {
        return Err(Stop::NotRun(format!("no SMART configuration at {base}")));
    };
    probe.check(
        "authorization_endpoint is the ZAL's",
        config["authorization_endpoint"] == session.authorization_endpoint()?,
        config["authorization_endpoint"].to_string(),
    );
    probe.check(
        "token_endpoint is the ZAL's",
        config["token_endpoint"] == session.token_endpoint()?,
        config["token_endpoint"].to_string(),
    );
    let methods = &config["code_challenge_methods_supported"];
    probe.check(
        "code_challenge_methods_supported has S256 and no plain",
        contains(methods, "S256") && !contains(methods, "plain"),
        methods.to_string(),
    );
    Ok(())
}

async fn capability_statement(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let base = session.base(&data_service)?;
    let answer = probe
        .send(session.api.client().get(format!("{base}/metadata")).header("Accept", "application/fhir+json"))
        .await?;
    probe.status(&answer, 200);
    let statement = answer.json().unwrap_or_default();
    probe.check(
        "a CapabilityStatement",
        statement["resourceType"] == "CapabilityStatement",
        statement["resourceType"].to_string(),
    );
    if let Some(release) = queries::release(&data_service) {
        let version = statement["fhirVersion"].as_str().unwrap_or_default();
        probe.check(
            format!("fhirVersion is {}x", queries::version_prefix(release)),
            version.starts_with(queries::version_prefix(release)),
            version,
        );
    }
    let rest = &statement["rest"][0];
    probe.check("rest mode is server", rest["mode"] == "server", rest["mode"].to_string());
    if let (Some(list), Some(offered)) = (queries::of(&data_service), offer::Offer::from_statement(&statement)) {
        let mut missing: Vec<String> = Vec::new();
        for need in list.iter().flat_map(Query::needs).filter(|need| !offered.offers(*need)) {
            let need = offer::shown(need);
            if !missing.contains(&need) {
                missing.push(need);
            }
        }
        probe.check(
            "every search, operation and read of the query list is offered (search-type, the operation, read)",
            missing.is_empty(),
            missing.join(", "),
        );
    }
    let oauth = rest["security"]["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|extension| extension["url"].as_str().is_some_and(|url| url.ends_with("oauth-uris")));
    match oauth {
        Some(extension) => {
            let uri = |name: &str| {
                extension["extension"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|item| item["url"] == name)
                    .and_then(|item| item["valueUri"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            probe.check(
                "the oauth-uris authorize is the ZAL's",
                uri("authorize") == session.authorization_endpoint()?,
                uri("authorize"),
            );
            probe.check("the oauth-uris token is the ZAL's", uri("token") == session.token_endpoint()?, uri("token"));
        }
        None => {
            probe.check("rest.security names the OAuth endpoints (oauth-uris)", false, "no oauth-uris extension");
        }
    }
    Ok(())
}
