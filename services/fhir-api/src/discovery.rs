//! Discovery and housekeeping: the ZAL entries of the hosted providers (release 3 shape), the
//! health check, and the answers for paths and methods that do not exist.

use crate::error::ApiError;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use fhir_core::Format;
use fhir_core::date::format_instant;
use medmij_lists::{Zal, ZalDataService, ZalProvider, ZalSystemRole};

/// `GET /medmij/zal.xml`: every hosted provider with the endpoints of its data services. The
/// authorization and token endpoints are the service's OAuth endpoints; the resource endpoint is
/// the FHIR base of the provider and data service. `Volgnummer` rises whenever the published
/// content can have changed: a provider changed, or the service restarted (its settings, such as
/// the public URL, may differ).
pub(crate) async fn zal(state: web::Data<ApiState>) -> HttpResponse {
    let providers = match state.store.providers().await {
        Ok(providers) => providers,
        Err(error) => return ApiError::from(error).response(Format::Json),
    };
    let changed = providers
        .iter()
        .map(|provider| provider.updated_at)
        .chain([state.started_millis])
        .max()
        .unwrap_or(state.started_millis);
    let zal = Zal {
        tijdstempel: format_instant(changed),
        volgnummer: u64::try_from(changed / 1000).unwrap_or(0),
        providers: providers
            .iter()
            .map(|provider| ZalProvider {
                name: provider.medmij_name(),
                aanbiedertype: state.zal.aanbiedertype.clone(),
                interface_version: state.zal.interface_version.clone(),
                data_services: provider
                    .data_services
                    .iter()
                    .filter_map(|id| state.catalog.data_service(id))
                    .map(|service| {
                        // Collecting and sharing (when offered) at the same FHIR base.
                        let base = format!("{}/{}/{}/fhir", state.public_url, provider.name, service.id);
                        let roles = std::iter::once(&service.system_role)
                            .chain(service.sharing.as_ref().map(|sharing| &sharing.system_role));
                        ZalDataService {
                            id: service.id.clone(),
                            authorization_endpoint: format!("{}/oauth/authorize", state.public_url),
                            token_endpoint: format!("{}/oauth/token", state.public_url),
                            system_roles: roles
                                .map(|code| ZalSystemRole { code: code.clone(), resource_endpoint: base.clone() })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "application/xml; charset=utf-8")).body(zal.to_xml())
}

/// The service's icon (a white cross on the pages' blue), so that no page a browser shows logs a
/// failed request for it.
const FAVICON: &[u8] = include_bytes!("favicon.png");

/// `GET /favicon.ico`: the icon, as PNG (which every browser takes at this address).
pub(crate) async fn favicon() -> HttpResponse {
    HttpResponse::Ok().content_type("image/png").insert_header(("Cache-Control", "public, max-age=86400")).body(FAVICON)
}

/// `GET /health`: 200 when the database answers, 503 otherwise.
pub(crate) async fn health(state: web::Data<ApiState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(error) => {
            tracing::error!(error = %error, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

/// `GET /health/live`: the process answers (a liveness probe restarts it when it does not).
pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// How long a readiness check may take: a probe needs an answer, not a pool's wait.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// What the readiness check says of a held OAuth Client List.
const LIST_HELD: &str = "OAuth Client List held";

/// `GET /health/ready`: 200 when this instance can serve: the database answers within two
/// seconds, every migration of this version is applied and an OAuth Client List is held (without
/// one no PGO can be authorized: the afsprakenstelsel admits only the clients it lists); else 503
/// naming what is not. Lists are shared through the database, so one import (`lists import`, or
/// `lists.files` read by `migrate`) readies every instance. No error text reaches the caller.
pub(crate) async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    let checks = async {
        let database = match state.store.ping().await {
            Ok(()) => "ok".to_owned(),
            Err(error) => {
                tracing::warn!(error = %error, "readiness: the database does not answer");
                return (false, "unreachable".to_owned(), "unknown".to_owned(), "unknown".to_owned());
            }
        };
        let migrations = match state.store.pending_migrations().await {
            Ok(pending) if pending.is_empty() => "ok".to_owned(),
            Ok(pending) => format!("{} not applied", pending.len()),
            Err(error) => {
                tracing::warn!(error = %error, "readiness: the migrations cannot be read");
                "unknown".to_owned()
            }
        };
        let lists = match state.store.lists().held_list(medmij_lists::ListKind::OAuthClients.as_str()).await {
            Ok(Some(_)) => LIST_HELD.to_owned(),
            Ok(None) => "no OAuth Client List held".to_owned(),
            Err(_) => "unknown".to_owned(),
        };
        let ready = migrations == "ok" && lists == LIST_HELD;
        (ready, database, migrations, lists)
    };
    let (ready, database, migrations, lists) = actix_web::rt::time::timeout(READY_WITHIN, checks)
        .await
        .unwrap_or_else(|_| (false, "no answer within 2 s".to_owned(), "unknown".to_owned(), "unknown".to_owned()));
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": {"database": database, "migrations": migrations, "lists": lists},
    });
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// `GET /{provider}/{service}/fhir/.well-known/smart-configuration`: where to get a token for
/// this FHIR base (SMART App Launch 2.0 §2.1, shaped by the MedMij scope). 404 for a base that
/// does not exist.
pub(crate) async fn smart_configuration(
    request: &HttpRequest,
    provider: &str,
    service: &str,
    state: &ApiState,
) -> HttpResponse {
    let endpoint = match crate::endpoint::resolve(state, provider, service).await {
        Ok(endpoint) => endpoint,
        Err(_) => return not_found(request),
    };
    match &state.smart_configuration {
        Some(build) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "public, max-age=300"))
            .json((build.0)(&endpoint.provider.name, &endpoint.service.id)),
        None => not_found(request),
    }
}

/// Any path the service does not have.
pub(crate) fn not_found(request: &HttpRequest) -> HttpResponse {
    ApiError::NotFound(request.path().to_owned()).response(Format::Json)
}

/// A method the path does not take; `allow` lists those it does.
pub(crate) fn method_not_allowed(request: &HttpRequest, allow: &'static str) -> HttpResponse {
    ApiError::MethodNotAllowed { method: request.method().to_string(), allow }.response(Format::Json)
}
