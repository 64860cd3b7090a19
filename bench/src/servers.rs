//! The two servers under load, each run as a child process of the benchmark: the service itself
//! (exactly as `pgo-exchange serve` builds it, or, for the metering comparison, the same service
//! built without its meter, or without its meter and access log) and the bare baseline.

use actix_web::{App, HttpResponse, HttpServer, web};
use pgo_exchange::{Application, Context, Witnessing};
use std::path::PathBuf;

/// How the service is to be served.
#[derive(Debug, Clone)]
pub(crate) struct AppServing {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: String,
    pub(crate) port: u16,
    pub(crate) workers: usize,
    /// The public URL it names itself by (the audience of its tokens); by default its own address.
    pub(crate) public_url: Option<String>,
    /// What it witnesses (anything but everything: built with `Application::build_for_benchmark`).
    pub(crate) witnessing: Witnessing,
}

/// Runs the service over a loaded database until killed.
pub(crate) fn serve_app(serving: AppServing) -> anyhow::Result<()> {
    let AppServing { data_dir, database_url, port, workers, public_url, witnessing } = serving;
    actix_web::rt::System::new().block_on(async move {
        let overrides = settings::Overrides {
            data_dir: Some(data_dir),
            database_url: Some(database_url),
            listen: Some(format!("127.0.0.1:{port}")),
            public_url: Some(public_url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"))),
        };
        // PGO_EXCHANGE__ settings of the benchmark's own environment reach the server too.
        let mut environment: Vec<(String, String)> =
            std::env::vars().filter(|(name, _)| name.starts_with("PGO_EXCHANGE__")).collect();
        environment.push(("PGO_EXCHANGE__SERVER__WORKERS".to_owned(), workers.to_string()));
        let settings = settings::Settings::load_with_environment(None, &overrides, environment)?;
        let context = Context::open(settings).await?;
        let application = if witnessing == Witnessing::Everything {
            Application::build(&context)?
        } else {
            Application::build_for_benchmark(&context, std::net::TcpListener::bind(("127.0.0.1", port))?, witnessing)?
        };
        application.run().await?;
        Ok(())
    })
}

/// Runs a handler that answers every request with `size` bytes, until killed: the most a
/// server can do on this machine, to compare with.
pub(crate) fn serve_bare(size: usize, port: u16, workers: usize) -> anyhow::Result<()> {
    let body = web::Bytes::from(vec![b'x'; size]);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let body = body.clone();
            // The request body is read (and dropped): actix-web closes a connection whose request
            // body the handler left unread, which would make every token request (a POST) of the
            // baseline open a new connection.
            App::new().default_service(web::to(move |_request_body: web::Bytes| {
                let body = body.clone();
                async move { HttpResponse::Ok().content_type("application/fhir+json; charset=utf-8").body(body) }
            }))
        })
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await?;
        Ok(())
    })
}
