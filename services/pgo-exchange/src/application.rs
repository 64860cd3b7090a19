//! The HTTP server: every route of `fhir-api`, behind the request-id and tracing middleware,
//! bound before it runs so that the real port is known (port 0 picks a free one; tests use that).

use crate::Context;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use fhir_api::{ApiState, MedMijRootSpan, SearchLimits, ZalInfo};
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

/// A bound, not yet running, server.
pub struct Application {
    server: Server,
    port: u16,
}

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
        let settings = &context.settings;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(ApiState::new(
            context.store.clone(),
            context.catalog.clone(),
            context.ingestor.clone(),
            context.token_verifier(),
            settings.server.public_url.clone(),
            SearchLimits {
                default_count: settings.search.default_count,
                max_count: settings.search.max_count,
                zone: settings.timezone(),
            },
            ZalInfo {
                aanbiedertype: settings.zal.aanbiedertype.clone(),
                interface_version: settings.zal.interface_version.clone(),
            },
            settings.server.max_body_bytes,
            settings.tokens.lifetime_seconds,
        ));
        let routes = fhir_api::configure(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Compress::default())
                .wrap(TracingLogger::<MedMijRootSpan>::new())
                .wrap(from_fn(fhir_api::request_ids::middleware))
                .configure(routes.clone())
        });
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Application { server, port })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is asked to stop (SIGINT or SIGTERM: in-flight requests finish).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
