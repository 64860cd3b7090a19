//! The demo PGO: a small page of the demo that plays a PGO's part of the MedMij "Verzamelen" flow
//! against this very service, as a PGO vendor's server would: pick a provider and data services,
//! go to the authorization endpoint (with PKCE), and, back with a code, exchange it at the token
//! endpoint and run the data service's queries with the access token. It shows what came back.
//!
//! It is an ordinary OAuth client of the service (client id [`HOSTNAME`], on the demo's OAuth
//! Client List), talking to it over HTTP; it uses nothing inside the service. Like a PGO, it
//! names things as people know them: providers by their display name (the store stands in for
//! the ZAL and a PGO's own provider directory), data services by their names on the MedMij
//! data-service name list the service holds, with the number beside. The pages are in
//! `pgo_page.rs`.

use crate::pgo_page::{self, Answer, Collected, page};
use actix_web::{HttpResponse, web};
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::html;
use moka::sync::Cache;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use store::Store;

/// The demo PGO's hostname: its OAuth client id. `.localhost` names this machine (RFC 6761).
pub const HOSTNAME: &str = "demo-pgo.localhost";
/// The demo PGO's organisation name, as on the demo OAuth Client List.
pub const ORGANISATION: &str = "Demo PGO (voorbeeld-app)";
/// Where the demo PGO's page is.
pub const PATH: &str = "/demo-pgo";

/// A flow the demo PGO started and waits to see come back.
#[derive(Debug, Clone)]
struct Pending {
    verifier: String,
    provider: String,
    services: Vec<String>,
}

/// The demo PGO.
pub struct DemoPgo {
    public_url: String,
    store: Store,
    http: reqwest::Client,
    pending: Cache<String, Pending>,
}

impl std::fmt::Debug for DemoPgo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoPgo").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

impl DemoPgo {
    /// The demo PGO of the service at `public_url`.
    pub fn new(public_url: &str, store: Store) -> anyhow::Result<DemoPgo> {
        Ok(DemoPgo {
            public_url: public_url.trim_end_matches('/').to_owned(),
            store,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()?,
            pending: Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(600)).build(),
        })
    }

    fn redirect_uri(&self) -> String {
        format!("{}{PATH}/callback", self.public_url)
    }
}

/// Registers the demo PGO's pages.
pub fn configure(pgo: web::Data<DemoPgo>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(pgo.clone())
            .route(PATH, web::get().to(index))
            .route(pgo_page::STYLESHEET_PATH, web::get().to(pgo_page::stylesheet))
            .route(&format!("{PATH}/start"), web::get().to(start))
            .route(&format!("{PATH}/callback"), web::get().to(callback));
    }
}

/// The names of the data services on the MedMij data-service name list the service holds (the
/// list a PGO reads them from), by id; empty when no list is held or it cannot be read.
async fn service_names(store: &Store) -> HashMap<String, String> {
    let held = store.lists().held_list(medmij_lists::ListKind::DataServiceNames.as_str()).await;
    let Ok(Some(held)) = held else { return HashMap::new() };
    match medmij_lists::parse_list(held.content.as_bytes()) {
        Ok(medmij_lists::MedMijList::DataServiceNames(list)) => {
            list.names.into_iter().map(|name| (name.id, name.name)).collect()
        }
        _ => HashMap::new(),
    }
}

/// The name of data service `id`, or words around its number when it has none.
fn service_name(names: &HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| format!("Gegevensdienst {id}"))
}

/// `GET /demo-pgo`: pick a provider and data services.
async fn index(pgo: web::Data<DemoPgo>) -> HttpResponse {
    let providers = pgo.store.providers().await.unwrap_or_default();
    let names = service_names(&pgo.store).await;
    page(
        "Gegevens ophalen",
        html! {
            p { "Kies een zorgaanbieder en de gegevens die deze app moet ophalen. U logt daarna in bij de DigiD-simulator "
                "(gebruik een test-BSN zoals 999946067) en geeft toestemming." }
            @for provider in &providers {
                form method="get" action={ (PATH) "/start" } {
                    fieldset {
                        legend { (provider.display_name) " (" (provider.medmij_name()) ")" }
                        input type="hidden" name="provider" value=(provider.name);
                        @for service in &provider.data_services {
                            div {
                                input type="checkbox" name="service" value=(service) id={ (provider.name) "-" (service) } checked;
                                label for={ (provider.name) "-" (service) } {
                                    (service_name(&names, service)) " " span.secondary { "(" (service) ")" }
                                }
                            }
                        }
                        button.primary type="submit" id={ "start-" (provider.name) } { "Ophalen bij " (provider.display_name) }
                    }
                }
            }
        },
    )
}

/// `GET /demo-pgo/start`: off to the authorization endpoint.
async fn start(query: web::Query<Vec<(String, String)>>, pgo: web::Data<DemoPgo>) -> HttpResponse {
    let provider =
        query.iter().find(|(name, _)| name == "provider").map(|(_, value)| value.clone()).unwrap_or_default();
    let services: Vec<String> =
        query.iter().filter(|(name, _)| name == "service").map(|(_, value)| value.clone()).collect();
    let (Ok(state), Ok(verifier)) = (random(), random()) else {
        return page("Fout", html! { p { "Geen willekeurige getallen beschikbaar." } });
    };
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    let scope = services.iter().map(|id| format!("{provider}~{id}")).collect::<Vec<_>>().join(" ");
    let mut url = match url::Url::parse(&format!("{}/oauth/authorize", pgo.public_url)) {
        Ok(url) => url,
        Err(_) => return page("Fout", html! { p { "Het adres van de dienst is ongeldig." } }),
    };
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", HOSTNAME)
        .append_pair("redirect_uri", &pgo.redirect_uri())
        .append_pair("scope", &scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("MedMij-Request-ID", &uuid::Uuid::new_v4().to_string());
    pgo.pending.insert(state, Pending { verifier, provider, services });
    HttpResponse::SeeOther().insert_header(("Location", url.to_string())).finish()
}

/// `GET /demo-pgo/callback`: exchange the code, collect the data, show it.
async fn callback(query: web::Query<HashMap<String, String>>, pgo: web::Data<DemoPgo>) -> HttpResponse {
    let Some(pending) = query.get("state").and_then(|state| pgo.pending.remove(state)) else {
        return page(
            "Onbekend verzoek",
            html! { p { "Deze terugkeer hoort bij geen verzoek van deze app." } a href=(PATH) { "Opnieuw" } },
        );
    };
    if let Some(error) = query.get("error") {
        let description = query.get("error_description").cloned().unwrap_or_default();
        return page(
            "Geen toegang",
            html! { p { "De dienst gaf geen toegang: " code { (error) } " – " (description) } a href=(PATH) { "Opnieuw" } },
        );
    }
    let code = query.get("code").cloned().unwrap_or_default();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &pgo.redirect_uri()),
        ("client_id", HOSTNAME),
        ("code_verifier", pending.verifier.as_str()),
    ];
    let tokens: Value = match pgo.http.post(format!("{}/oauth/token", pgo.public_url)).form(&form).send().await {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(error) => return page("Fout", html! { p { "Het token kon niet worden opgehaald: " (error) } }),
    };
    let Some(access_token) = tokens["access_token"].as_str() else {
        return page("Fout", html! { p { "De token-endpoint weigerde: " code { (tokens) } } });
    };
    let names = service_names(&pgo.store).await;
    let mut collected = Vec::new();
    for service in &pending.services {
        let base = format!("{}/{}/{service}/fhir", pgo.public_url, pending.provider);
        let mut answers = Vec::new();
        for query in service_queries(service) {
            answers.push(fetch(&pgo.http, &base, &query, access_token).await);
        }
        collected.push(Collected { id: service.clone(), name: service_name(&names, service), answers });
    }
    let provider = match pgo.store.provider(&pending.provider).await {
        Ok(Some(provider)) => provider.display_name,
        _ => pending.provider.clone(),
    };
    page("Opgehaalde gegevens", pgo_page::results(&provider, tokens["refresh_token"].is_string(), &collected))
}

/// What the demo PGO asks of data service `id`: the queries of its qualification (the demo's
/// own list for 48 and 63; for 51 and 52 those a PGO starts with), none for one it does not know.
fn service_queries(id: &str) -> Vec<String> {
    match id {
        "48" => crate::queries(fhir_core::Release::Stu3),
        "63" => crate::queries(fhir_core::Release::R4),
        "51" => vec!["DocumentReference?status=current".to_owned(), "DocumentManifest?status=current".to_owned()],
        "52" => vec![
            "Observation?category=vital-signs".to_owned(),
            "Observation/$lastn?category=http://hl7.org/fhir/observation-category|vital-signs".to_owned(),
        ],
        _ => Vec::new(),
    }
}

async fn fetch(http: &reqwest::Client, base: &str, query: &str, token: &str) -> Answer {
    let response =
        http.get(format!("{base}/{query}")).bearer_auth(token).header("Accept", "application/fhir+json").send().await;
    let (status, bundle) = match response {
        Ok(response) => (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    };
    let entries = bundle["entry"].as_array().into_iter().flatten().map(|entry| describe(&entry["resource"])).collect();
    Answer { query: query.to_owned(), status, total: bundle["total"].as_u64(), entries }
}

/// `Type/id: what it is`, from the usual places a resource names itself.
fn describe(resource: &Value) -> String {
    let kind = resource["resourceType"].as_str().unwrap_or("?");
    let id = resource["id"].as_str().unwrap_or("?");
    let text = [
        &resource["code"]["text"],
        &resource["code"]["coding"][0]["display"],
        &resource["vaccineCode"]["coding"][0]["display"],
        &resource["medicationCodeableConcept"]["coding"][0]["display"],
        &resource["name"][0]["text"],
        &resource["name"],
        &resource["type"]["coding"][0]["display"],
    ]
    .into_iter()
    .find_map(|value| value.as_str())
    .unwrap_or("");
    if text.is_empty() { format!("{kind}/{id}") } else { format!("{kind}/{id}: {text}") }
}

fn random() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_data_service_is_asked_its_own_queries() {
        assert!(service_queries("48").iter().any(|query| query.starts_with("Patient")), "the BgZ list");
        assert!(service_queries("63").iter().any(|query| query.starts_with("Immunization")));
        assert!(service_queries("51").iter().all(|query| query.starts_with("Document")));
        assert!(service_queries("52").iter().all(|query| query.starts_with("Observation")));
        assert!(service_queries("49").is_empty(), "nothing asked of a data service it does not know");
    }
}
