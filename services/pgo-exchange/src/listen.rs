//! The listener the HTTP server runs on: HTTP/1.1 over plaintext TCP or TLS (rustls, with
//! client certificates for mutual TLS), each connection's plaintext behind a `HeadGuard`, so that
//! even the refusals actix-http makes before the service sees a request carry a body.
//!
//! `actix_web::HttpServer` builds the same chain without a place for the guard; this is that
//! chain with the guard in it, and the same settings: keep-alive and the request timeout as
//! actix-http's defaults, a second for a client to go after its answer, HTTP/1.1 only (ALPN
//! `http/1.1`), the TLS session's client certificate handed to `client_auth`.

use crate::head_guard::HeadGuard;
use actix_http::{HttpService, Protocol, Request};
use actix_server::Server;
use actix_service::{IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_tls::accept::TlsError;
use actix_tls::accept::rustls_0_23::{Acceptor, TlsStream};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response};
use std::any::Any;
use std::net::TcpListener;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long a client may take to go after its answer has been written.
const CLIENT_DISCONNECT: Duration = Duration::from_secs(1);

/// Serves the applications `factory` makes (one per worker) on `listener`, over TLS when `tls` is
/// given; `workers` threads (0: one per core).
pub(crate) fn serve<F, I, S, B>(
    factory: F,
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    workers: usize,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let mut builder = Server::build();
    if workers > 0 {
        builder = builder.workers(workers);
    }
    let name = "pgo-exchange";
    let builder = match tls {
        None => builder.listen(name, listener, move || {
            // The service reads no connection info from the app's configuration (its public
            // URL is configured), so actix-web's default one serves.
            let app = map_config(factory().into_factory().map_err(|error| error.into().error_response()), |_| {
                AppConfig::default()
            });
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok::<_, actix_http::error::DispatchError>((HeadGuard::new(io), Protocol::Http1, peer))
            })
            .and_then(
                HttpService::build()
                    .client_disconnect_timeout(CLIENT_DISCONNECT)
                    .on_connect_ext(|io: &HeadGuard<TcpStream>, extensions| {
                        client_auth::on_connect(io.get_ref() as &dyn Any, extensions)
                    })
                    .finish(app),
            )
        })?,
        Some(mut config) => {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            builder.listen(name, listener, move || {
                let app = map_config(factory().into_factory().map_err(|error| error.into().error_response()), |_| {
                    AppConfig::default()
                });
                Acceptor::new(config.clone())
                    .map_err(TlsError::into_service_error)
                    .and_then(|io: TlsStream<TcpStream>| async move {
                        let peer = io.get_ref().0.peer_addr().ok();
                        Ok((HeadGuard::new(io), Protocol::Http1, peer))
                    })
                    .and_then(
                        HttpService::build()
                            .client_disconnect_timeout(CLIENT_DISCONNECT)
                            .on_connect_ext(|io: &HeadGuard<TlsStream<TcpStream>>, extensions| {
                                client_auth::on_connect(io.get_ref() as &dyn Any, extensions)
                            })
                            .finish(app)
                            .map_err(TlsError::Service),
                    )
            })?
        }
    };
    Ok(builder.run())
}
