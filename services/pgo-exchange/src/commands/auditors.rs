//! `pgo-exchange auditors new ID`: a fresh secret for an auditor and the settings lines that
//! register it (only the secret's SHA-256 goes into the configuration).

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditorsCommand {
    /// Make a secret for auditor ID and print the settings that register it.
    New {
        /// The auditor's client id (lower-case letters, digits, hyphens).
        id: String,
    },
}

pub(crate) fn run(command: AuditorsCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditorsCommand::New { id } => {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                anyhow::bail!("an auditor id is lower-case letters, digits and hyphens");
            }
            let mut bytes = [0_u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness available"))?;
            use base64::Engine;
            let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            println!("# Give the auditor client id '{id}' and this secret (shown once):\n#   {secret}");
            println!("[auditors.{id}]\nname = \"{id}\"\nsecret_sha256 = \"{}\"", metering::secret_hash(&secret));
            Ok(ExitCode::SUCCESS)
        }
    }
}
