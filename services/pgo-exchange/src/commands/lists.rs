//! `pgo-exchange lists import|show`: the MedMij lists the service relies on (OAuth Client List,
//! data-service name list, Whitelist). An import is checked against the list's schema and refused
//! unless its Volgnummer is higher than the one held.

use clap::Subcommand;
use pgo_exchange::Context;
use settings::Overrides;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(crate) enum ListsCommand {
    /// Import list files (XML as MedMij publishes them). Each is checked on its own; the command
    /// fails if any is refused.
    Import {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show the lists held.
    Show,
}

pub(crate) async fn run(
    config: Option<&Path>,
    overrides: Overrides,
    command: ListsCommand,
) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    match command {
        ListsCommand::Import { files } => {
            let mut failed = false;
            for file in files {
                let result = match std::fs::read(&file) {
                    Ok(bytes) => authorization::import(&context.store, &bytes).await.map_err(anyhow::Error::new),
                    Err(error) => Err(anyhow::Error::new(error)),
                };
                match result {
                    Ok(imported) => {
                        println!(
                            "{}: imported {} list, Volgnummer {}",
                            file.display(),
                            imported.kind,
                            imported.volgnummer
                        )
                    }
                    Err(error) => {
                        failed = true;
                        eprintln!("{}: refused: {error:#}", file.display());
                    }
                }
            }
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        ListsCommand::Show => {
            for kind in [
                medmij_lists::ListKind::OAuthClients,
                medmij_lists::ListKind::DataServiceNames,
                medmij_lists::ListKind::Whitelist,
            ] {
                match context.store.lists().held_list(kind.as_str()).await? {
                    Some(held) => {
                        println!("{}: Volgnummer {}, Tijdstempel {}", kind.title(), held.volgnummer, held.tijdstempel)
                    }
                    None => println!("{}: none held", kind.title()),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
