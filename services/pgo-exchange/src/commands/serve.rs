//! `pgo-exchange serve`: run the service (and, with `--demo`, seed the demo provider first).

use clap::Args;
use pgo_exchange::{Application, Context};
use settings::Overrides;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (host:port; port 0 picks a free port).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// The public base URL, used in links, token audiences and the ZAL.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seed a demo provider with the project's demo records and print how to try it.
    #[arg(long)]
    demo: bool,
}

pub(crate) async fn run(config: Option<&Path>, mut overrides: Overrides, args: ServeArgs) -> anyhow::Result<ExitCode> {
    overrides.listen = args.listen;
    overrides.public_url = args.public_url;
    let (mut settings, _guard) = super::settings_and_logging(config, &overrides, true)?;
    settings.demo.enabled |= args.demo;
    let context = Context::open(settings).await?;
    let application = Application::build(&context)?;
    if context.settings.demo.enabled {
        let demo =
            demo::seed(&context.store, &context.ingestor, &context.secret, &context.settings.demo.provider).await?;
        let issuer = context.token_issuer();
        let base = context.settings.server.public_url.clone();
        println!("{}", demo::banner(&demo, &base, &issuer)?);
        println!(
            "Auditors' dashboard: {base}/audit/dashboard  (client id {}, secret {})\n",
            pgo_exchange::DEMO_AUDITOR,
            context.demo_auditor_secret()
        );
    }
    tracing::info!(
        port = application.port(),
        public_url = %context.settings.server.public_url,
        database = %store::redact(&context.settings.database_url()),
        "pgo-exchange is serving"
    );
    application.run().await?;
    context.store.close().await;
    Ok(ExitCode::SUCCESS)
}
