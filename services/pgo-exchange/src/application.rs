//! The HTTP server: the authorization server's routes and every route of `fhir-api` (and, in demo
//! mode, the DigiD simulator and the demo PGO), behind the request-id and tracing middleware,
//! bound before it runs so that the real port is known (port 0 picks a free one; tests use that).
//! With `client_authentication = "mtls"` it speaks TLS itself and asks for client certificates.
//! Each application counts its own metrics (one registry per application, served at `/metrics`).

use crate::Context;
use crate::context::{SIMULATOR_CLIENT_ID, SIMULATOR_PATH};
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, web};
use anyhow::Context as _;
use authorization::{AuthorizationConfig, AuthorizationServer, Loa, Login};
use client_auth::{ClientAuthMode, TrustedCas, TrustedProxies};
use fhir_api::{ApiState, MedMijRootSpan, SearchLimits, ZalInfo};
use settings::{ClientAuthentication, Settings};
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;

/// What the FHIR endpoints witness. Serving always witnesses everything; the rest exists for
/// the benchmark only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Witnessing {
    /// Every request logged, every 2xx metered before it is answered.
    Everything,
    /// Every request logged, nothing metered.
    AccessLogOnly,
    /// Neither.
    Nothing,
    /// Everything, but tokens are not checked against the revoked consents (what that check
    /// costs is measured against this).
    EverythingButRevocations,
}

/// A bound, not yet running, server.
pub struct Application {
    server: Server,
    port: u16,
    store: store::Store,
    access_log: Option<metering::AccessLog>,
    retention_days: u32,
    /// Where this process learns of other instances' revocations, from when, how often.
    revocations: (Arc<access_token::Revocations>, i64, std::time::Duration),
    /// What other instances' changes make stale here (`instances.rs`).
    followers: crate::instances::Followers,
}

/// How often expired sessions and refresh tokens are removed.
const PURGE_SECONDS: u64 = 300;

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `server.listen` and builds the server for `context`.
    pub fn build(context: &Context) -> anyhow::Result<Application> {
        let listen = &context.settings.server.listen;
        let listener = TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        Application::build_with_listener(context, listener)
    }

    /// Builds the server for `context` on an already bound listener.
    pub fn build_with_listener(context: &Context, listener: TcpListener) -> anyhow::Result<Application> {
        Application::assemble(context, listener, Witnessing::Everything)
    }

    /// The service witnessing less than it must: not for serving (exchanges would go uncounted
    /// or unlogged), only for the benchmark that tells what the meter and the access log each
    /// cost.
    pub fn build_for_benchmark(
        context: &Context,
        listener: TcpListener,
        witnessing: Witnessing,
    ) -> anyhow::Result<Application> {
        Application::assemble(context, listener, witnessing)
    }

    fn assemble(context: &Context, listener: TcpListener, witnessing: Witnessing) -> anyhow::Result<Application> {
        let settings = &context.settings;
        let port = listener.local_addr()?.port();
        let throttle = throttle(settings)?;
        let metrics = service_metrics::Metrics::default();
        let state = ApiState::new(
            context.store.clone(),
            context.catalog.clone(),
            context.ingestor.clone(),
            context.token_verifier(),
            settings.server.public_url.clone(),
            SearchLimits {
                default_count: settings.search.default_count,
                max_count: settings.search.max_count,
                zone: settings.timezone(),
                query: fhir_api::QueryLimits {
                    max_repeats: settings.search.max_repeats,
                    max_values: settings.search.max_values,
                    max_includes: settings.search.max_includes,
                    max_offset: settings.search.max_offset,
                },
            },
            ZalInfo {
                aanbiedertype: settings.zal.aanbiedertype.clone(),
                interface_version: settings.zal.interface_version.clone(),
            },
            settings.server.max_body_bytes,
            settings.tokens.lifetime_seconds,
            context.revocations.clone(),
            throttle.clone(),
        );
        let public_url = settings.server.public_url.clone();
        let mutual_tls = settings.authorization.client_authentication == ClientAuthentication::Mtls;
        let smart_url = public_url.clone();
        let mut state = state.with_metrics(metrics.clone());
        state = state.with_max_shared_bytes(settings.server.max_shared_body_bytes).with_smart_configuration(
            fhir_api::SmartConfiguration(Arc::new(move |provider, service| {
                authorization::smart_configuration(&smart_url, mutual_tls, provider, service)
            })),
        );
        let access_log = (witnessing != Witnessing::Nothing)
            .then(|| metering::AccessLog::start_counted(context.store.clone(), metrics.access_log.clone()));
        if let Some(access_log) = &access_log {
            state = state.with_metering(fhir_api::Metering {
                meter: matches!(witnessing, Witnessing::Everything | Witnessing::EverythingButRevocations)
                    .then(|| context.meter.clone()),
                access_log: access_log.clone(),
                seal: context.seal.clone(),
            });
        }
        if witnessing == Witnessing::EverythingButRevocations {
            state = state.without_revocation_check();
        }
        let exposition = metrics.exposition(crate::metrics::sampled(&context.store, access_log.as_ref(), &throttle));
        let metrics_endpoint = fhir_api::MetricsEndpoint::new(exposition, &settings.metrics.allowed_addresses)?;
        let metrics_route = fhir_api::metrics_endpoint::configure(web::Data::new(metrics_endpoint));
        let api_state = web::Data::new(state);
        let routes = fhir_api::configure(api_state.clone());
        let authorization = web::Data::new(authorization_server(context, throttle.clone())?);
        let oauth = authorization::configure(authorization.clone());
        let audit = audit_api::configure(web::Data::new(audit_api::AuditApi::new(
            context.store.clone(),
            context.token_verifier(),
            context.signing_keys.ring().clone(),
            context.report_settings(),
            context.granularity(),
            &settings.server.public_url,
            context.auditors(),
            settings.authorization.session_lifetime_seconds,
            throttle,
        )));
        let demo = if settings.demo.enabled { Some(demo_routes(context)?) } else { None };
        let max_target = settings.server.max_request_target_bytes;
        let counted = metrics.http;
        let factory = move || {
            let counted = counted.clone();
            let mut app = App::new()
                .wrap(Compress::default())
                .wrap(from_fn(move |request, next| fhir_api::limits::request_target(request, next, max_target)))
                .wrap(TracingLogger::<MedMijRootSpan>::new())
                .wrap(from_fn(fhir_api::request_ids::middleware))
                // Outermost, so that what the others refuse is counted too.
                .wrap(from_fn(move |request, next| fhir_api::metrics::count_requests(request, next, counted.clone())))
                .configure(metrics_route.clone())
                .configure(oauth.clone())
                .configure(audit.clone());
            if let Some((simulator, pgo)) = &demo {
                app = app
                    .service(web::scope(SIMULATOR_PATH).configure(digid_sim::configure(simulator.clone())))
                    .configure(demo::pgo_client::configure(pgo.clone()));
            }
            app.configure(routes.clone())
        };
        let server = crate::listen::serve(factory, listener, tls_config(settings)?, settings.server.workers)?;
        Ok(Application {
            server,
            port,
            store: context.store.clone(),
            access_log,
            retention_days: settings.access_log.retention_days,
            revocations: (
                context.revocations.clone(),
                context.revocations_since,
                std::time::Duration::from_millis(settings.tokens.revocation_poll_ms),
            ),
            followers: crate::instances::Followers {
                api: api_state.into_inner(),
                authorization: authorization.into_inner(),
                keys: context.signing_keys.clone(),
            },
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is asked to stop (SIGTERM: in-flight requests finish, within
    /// actix's 30 s; SIGINT and SIGQUIT: at once), then writes the queued access-log entries.
    /// Meanwhile expired sessions, refresh tokens and access-log entries past their retention are
    /// removed every few minutes, and the revocations other instances make are read every
    /// `tokens.revocation_poll_ms`.
    pub async fn run(self) -> std::io::Result<()> {
        let (revocations, since, every) = self.revocations.clone();
        let wake = Arc::new(tokio::sync::Notify::new());
        let follower = crate::instances::Follower::start(&self.store, self.followers.clone(), wake.clone()).await;
        let watch = authorization::revocation_watch::watch(self.store.clone(), revocations, every, since, wake);
        let store = self.store.clone();
        let retention_millis = i64::from(self.retention_days) * 86_400_000;
        let purge = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(PURGE_SECONDS));
            loop {
                every.tick().await;
                let now = fhir_core::date::now_millis();
                match store.grants().purge_expired(now).await {
                    Ok(removed) => tracing::debug!(removed, "expired sessions and refresh tokens removed"),
                    Err(error) => tracing::warn!(error = %error, "expired sessions could not be removed"),
                }
                match store.usage().purge_access_log(now - retention_millis).await {
                    Ok(removed) => tracing::debug!(removed, "access-log entries past their retention removed"),
                    Err(error) => tracing::warn!(error = %error, "the access log could not be purged"),
                }
            }
        });
        let served = self.server.await;
        purge.abort();
        watch.abort();
        follower.stop();
        if let Some(access_log) = &self.access_log {
            access_log.flush().await;
        }
        served
    }
}

/// The counts of failed attempts, one for every door of the server (token endpoint, dashboard,
/// ingest). Forwarded addresses are believed from the configured proxies only.
fn throttle(settings: &Settings) -> anyhow::Result<throttle::Throttle> {
    let proxies = &settings.trusted_proxy.addresses;
    let proxies = if proxies.is_empty() { None } else { Some(TrustedProxies::parse(proxies)?) };
    let config = throttle::ThrottleConfig {
        max_failures: settings.throttling.max_failures,
        window: std::time::Duration::from_secs(settings.throttling.window_seconds),
        capacity: settings.throttling.capacity,
    };
    Ok(throttle::Throttle::new(config, proxies))
}

/// The authorization server of `context`.
fn authorization_server(context: &Context, throttle: throttle::Throttle) -> anyhow::Result<AuthorizationServer> {
    let settings = &context.settings;
    let loa = |name: &str| Loa::from_name(name).unwrap_or(Loa::Substantial);
    let config = AuthorizationConfig {
        public_url: settings.server.public_url.clone(),
        development: settings.development(),
        mutual_tls: settings.authorization.client_authentication == ClientAuthentication::Mtls,
        code_lifetime_seconds: settings.authorization.code_lifetime_seconds,
        refresh_lifetime_seconds: settings.authorization.refresh_token_lifetime_seconds,
        session_lifetime_seconds: settings.authorization.session_lifetime_seconds,
        default_loa: loa(&settings.authorization.default_loa),
        loa_per_service: settings.authorization.loa.iter().map(|(id, level)| (id.clone(), loa(level))).collect(),
        zone: settings.timezone(),
        auditors: context.auditors(),
    };
    let login = match context.login_config() {
        Some(login) => Some(Arc::new(Login::new(login).context("the login settings")?)),
        None => {
            tracing::warn!("no OpenID Provider configured (login.issuer): persons cannot log in");
            None
        }
    };
    let mode = Arc::new(client_auth_mode(settings)?);
    let authenticate: authorization::ClientAuthenticator = Arc::new(move |request, client_id| {
        client_auth::authenticate(&mode, request, client_id).map(|_| ()).map_err(|error| error.to_string())
    });
    Ok(AuthorizationServer::new(
        config,
        context.store.clone(),
        context.catalog.clone(),
        context.secret.clone(),
        context.token_issuer(),
        context.signing_keys.ring().clone(),
        login,
        authenticate,
        throttle,
    )
    .with_revocations(context.revocations.clone()))
}

/// How the token endpoint authenticates PGO servers.
fn client_auth_mode(settings: &Settings) -> anyhow::Result<ClientAuthMode> {
    Ok(match settings.authorization.client_authentication {
        ClientAuthentication::Development => ClientAuthMode::Development,
        ClientAuthentication::Mtls => {
            ClientAuthMode::MutualTls { trusted_cas: TrustedCas::from_file(&settings.tls.client_ca_file)? }
        }
        ClientAuthentication::TrustedProxy => ClientAuthMode::TrustedProxy {
            header: client_auth::parse_header_name(&settings.trusted_proxy.header)?,
            proxies: TrustedProxies::parse(&settings.trusted_proxy.addresses)?,
            trusted_cas: Some(TrustedCas::from_file(&settings.tls.client_ca_file)?),
        },
    })
}

/// The TLS configuration when the service terminates TLS itself.
fn tls_config(settings: &Settings) -> anyhow::Result<Option<rustls::ServerConfig>> {
    if settings.authorization.client_authentication != ClientAuthentication::Mtls {
        return Ok(None);
    }
    let read = |path: &std::path::Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let tls = &settings.tls;
    let config =
        client_auth::server_config(&read(&tls.certificate_file)?, &read(&tls.key_file)?, &read(&tls.client_ca_file)?)?;
    Ok(Some(config))
}

/// The demo's DigiD simulator and demo PGO.
fn demo_routes(
    context: &Context,
) -> anyhow::Result<(web::Data<digid_sim::Simulator>, web::Data<demo::pgo_client::DemoPgo>)> {
    let public_url = &context.settings.server.public_url;
    let client = digid_sim::SimClient {
        client_id: SIMULATOR_CLIENT_ID.to_owned(),
        client_secret: context.secret.derive("digid-simulator-client"),
        redirect_uris: vec![
            format!("{public_url}{}", authorization::LOGIN_CALLBACK_PATH),
            format!("{public_url}{}", authorization::MANAGE_CALLBACK_PATH),
        ],
    };
    let simulator = digid_sim::Simulator::new(digid_sim::SimulatorConfig {
        issuer: context.simulator_issuer(),
        clients: vec![client],
        bsn_in_id_token: false,
        fault: None,
    })?;
    let pgo = demo::pgo_client::DemoPgo::new(public_url, context.store.clone())?;
    Ok((web::Data::new(simulator), web::Data::new(pgo)))
}
