//! `pgo-exchange check`: lists the stored records that belong to nobody (a patient's record
//! tied to no Patient, stored before ingest refused such records, or past ingest). The service
//! never serves them; correct them at the source and load them again, or delete them. Exits 1
//! when there are any, so that a deployment script can stop on them.

use pgo_exchange::Context;
use settings::Overrides;
use std::path::Path;
use std::process::ExitCode;

pub(crate) async fn run(config: Option<&Path>, overrides: Overrides) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    let unowned = ingest::unowned_resources(&context.store, &context.catalog).await?;
    if unowned.is_empty() {
        println!("every stored patient's record is tied to one of its provider's Patients");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} stored record(s) of a patient-compartment type are tied to no Patient and are served to nobody:",
        unowned.len()
    );
    for record in &unowned {
        println!("  {}@medmij ({}): {}/{}", record.provider, record.release, record.resource_type, record.id);
    }
    println!("correct their patient reference at the source and load them again, or delete them");
    Ok(ExitCode::from(1))
}
