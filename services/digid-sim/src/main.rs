//! `digid-sim`: the DigiD simulator as its own process, for a relying party under development.

use actix_web::{App, HttpServer, web};
use anyhow::Context;
use clap::Parser;
use digid_sim::{Fault, SimClient, Simulator, SimulatorConfig};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

/// A DigiD stand-in: an OpenID Provider with a test login page. Not for production.
#[derive(Debug, Parser)]
#[command(name = "digid-sim", version, about)]
struct Cli {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// The public URL of the simulator, without trailing slash (default: http://<listen address>).
    #[arg(long)]
    issuer: Option<String>,
    /// A relying party as ID:SECRET:REDIRECT_URI (the secret cannot contain a colon); repeatable.
    #[arg(long = "client", value_name = "ID:SECRET:REDIRECT_URI", value_parser = parse_client)]
    clients: Vec<SimClient>,
    /// Put the BSN in the ID token too (it is always in the userinfo answer).
    #[arg(long)]
    bsn_in_id_token: bool,
    /// Break every ID token on purpose: bad-signature, wrong-audience, wrong-nonce, wrong-issuer or expired.
    #[arg(long)]
    fault: Option<Fault>,
    /// A PKCS#8 PEM P-256 signing key (default: a new key at every start).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

fn parse_client(text: &str) -> Result<SimClient, String> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(client_id), Some(client_secret), Some(redirect_uri)) => Ok(SimClient {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uris: vec![redirect_uri.to_owned()],
        }),
        _ => Err("expected ID:SECRET:REDIRECT_URI".to_owned()),
    }
}

/// Several `--client` flags with the same id add redirect URIs to one client.
fn merge_clients(clients: Vec<SimClient>) -> Vec<SimClient> {
    let mut merged: Vec<SimClient> = Vec::new();
    for client in clients {
        match merged.iter_mut().find(|known| known.client_id == client.client_id) {
            Some(known) if known.client_secret == client.client_secret => {
                known.redirect_uris.extend(client.redirect_uris)
            }
            _ => merged.push(client),
        }
    }
    merged
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Logs go to stderr, so that stdout carries only the start-up line.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let listener = TcpListener::bind(cli.listen).with_context(|| format!("cannot listen on {}", cli.listen))?;
    let address = listener.local_addr().context("no local address")?;
    let config = SimulatorConfig {
        issuer: cli.issuer.unwrap_or_else(|| format!("http://{address}")),
        clients: merge_clients(cli.clients),
        bsn_in_id_token: cli.bsn_in_id_token,
        fault: cli.fault,
    };
    let simulator = match &cli.key {
        Some(path) => {
            let pem = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Simulator::with_key_pem(config, &pem)
        }
        None => Simulator::new(config),
    }
    .context("invalid simulator configuration")?;
    let issuer = simulator.issuer().to_owned();
    if let Some(fault) = simulator.config().fault {
        println!("digid-sim: every ID token is broken on purpose ({})", fault.name());
    }
    let data = web::Data::new(simulator);
    // The icon at the root, where browsers look for it: the simulator is the whole origin here.
    let server = HttpServer::new(move || {
        App::new()
            .configure(digid_sim::configure(data.clone()))
            .route("/favicon.ico", web::get().to(digid_sim::favicon))
    })
    .workers(2)
    .listen(listener)
    .context("cannot start the server")?
    .run();
    println!("digid-sim listening on http://{address}, issuer {issuer}");
    server.await.context("server failed")
}
