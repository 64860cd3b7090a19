//! Loading synthetic data through ingest, as `pgo-exchange load` does, and the access tokens of
//! the synthetic persons, as the token endpoint gives them.

use crate::driver::PROVIDER;
use crate::generate::Templates;
use access_token::Grant;
use fhir_core::Release;
use pgo_exchange::Context;
use std::time::{Duration, Instant};
use store::{NewProvider, Write};

/// `resources` of `release` prepared by ingest (validated, indexed) as writes for `provider`,
/// keeping their ids; the first refusal fails the benchmark.
pub(crate) fn prepared_writes(
    context: &Context,
    provider: &store::Provider,
    release: Release,
    resources: Vec<serde_json::Value>,
) -> anyhow::Result<Vec<Write>> {
    resources
        .into_iter()
        .map(|resource| {
            let prepared = context
                .ingestor
                .prepare_by_id(provider, release, resource, None)
                .map_err(|rejection| anyhow::anyhow!(rejection.summary()))?;
            Ok(Write::Put(Box::new(prepared.write)))
        })
        .collect()
}

/// Loads the shared resources and `patients` synthetic patients through ingest, as `load` does.
pub(crate) async fn load(
    context: &Context,
    templates: &Templates,
    patients: usize,
) -> anyhow::Result<(usize, Duration)> {
    let started = Instant::now();
    let new = NewProvider { name: PROVIDER.into(), display_name: "Benchmark".into(), data_services: vec!["48".into()] };
    let provider = context.store.upsert_provider(&new, None).await?;
    let prepare = |resources| prepared_writes(context, &provider, Release::Stu3, resources);
    let mut written = context.store.write(provider.id, prepare(templates.shared.clone())?).await?.len();
    // Validation and indexing are CPU work: spread each chunk of patients over the cores while
    // the previous chunk is written.
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let chunk = 200;
    let mut pending: Option<tokio::task::JoinHandle<Result<usize, store::StoreError>>> = None;
    for start in (0..patients).step_by(chunk) {
        let end = (start + chunk).min(patients);
        let writes: Vec<Write> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let prepare = &prepare;
                    scope.spawn(move || -> anyhow::Result<Vec<Write>> {
                        let mut writes = Vec::new();
                        for index in (start + thread..end).step_by(threads) {
                            writes.extend(prepare(templates.patient(index).1)?);
                        }
                        Ok(writes)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().map_err(|_| anyhow::anyhow!("a preparing thread panicked"))?)
                .collect::<anyhow::Result<Vec<Vec<Write>>>>()
        })?
        .into_iter()
        .flatten()
        .collect();
        if let Some(previous) = pending.take() {
            written += previous.await??;
        }
        let store = context.store.clone();
        let provider_id = provider.id;
        pending = Some(tokio::spawn(async move {
            let mut count = 0;
            let mut writes = writes;
            while !writes.is_empty() {
                let batch: Vec<Write> = writes.drain(..writes.len().min(1000)).collect();
                count += store.write(provider_id, batch).await?.len();
            }
            Ok(count)
        }));
        if end % 2000 == 0 || end == patients {
            eprint!("\r  loaded {end}/{patients} patients");
        }
    }
    if let Some(previous) = pending.take() {
        written += previous.await??;
    }
    context.store.analyze(store::Filled::Resources).await?;
    eprintln!();
    Ok((written, started.elapsed()))
}

pub(crate) fn tokens(context: &Context, address: &str, patients: usize) -> anyhow::Result<Vec<String>> {
    (0..patients).map(|index| person_token(context, address, (PROVIDER, "48"), index)).collect()
}

/// Creates (or updates) the provider `new` and stores `patients` synthetic persons for it, `per_write`
/// at a time: person `index` is a Patient `p{index}` with the BSN `generate::bsn(index)`, and the
/// resources `records(index)` gives; returns how many resources were written.
pub(crate) async fn load_persons(
    context: &Context,
    new: &NewProvider,
    (patients, per_write): (usize, usize),
    records: impl Fn(usize) -> Vec<serde_json::Value>,
) -> anyhow::Result<usize> {
    let provider = context.store.upsert_provider(new, None).await?;
    let mut written = 0;
    for start in (0..patients).step_by(per_write.max(1)) {
        let mut writes = Vec::new();
        for index in start..(start + per_write.max(1)).min(patients) {
            let patient = serde_json::json!({"resourceType": "Patient", "id": format!("p{index}"),
                "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
                "identifier": [{"system": fhir_core::BSN_SYSTEM, "value": crate::generate::bsn(index)}]});
            for resource in std::iter::once(patient).chain(records(index)) {
                let prepared = context
                    .ingestor
                    .prepare_by_id(&provider, Release::Stu3, resource, None)
                    .map_err(|rejection| anyhow::anyhow!(rejection.summary()))?;
                writes.push(Write::Put(Box::new(prepared.write)));
            }
        }
        written += context.store.write(provider.id, writes).await?.len();
    }
    context.store.analyze(store::Filled::Resources).await?;
    Ok(written)
}

/// The access token of synthetic person `index` (their BSN from `generate::bsn`) at `provider`
/// for `data_service` alone, as the token endpoint gives one: with a consent, so that every
/// request checks it against the revocations.
pub(crate) fn person_token(
    context: &Context,
    address: &str,
    (provider, data_service): (&str, &str),
    index: usize,
) -> anyhow::Result<String> {
    let bsn = crate::generate::bsn(index);
    let grant = Grant {
        person_key: context.secret.person_key(provider, &bsn),
        pseudonym: context.secret.pseudonym(&bsn),
        client_id: "bench.pgo.example".into(),
        provider: provider.into(),
        scope: format!("{provider}~{data_service}").parse()?,
        audience: vec![format!("{address}/{provider}/{data_service}/fhir")],
        consent: Some(format!("bench-{provider}-{data_service}-{index}")),
    };
    Ok(context.token_issuer().issue(&grant)?.token)
}
