//! Several instances of the service on one PostgreSQL database, behind one port. The synthetic
//! BgZ patients are loaded once; `count` child processes serve that database as a deployment has
//! them: each with a data folder of its own, all with the same deployment secret (given in the
//! environment) and so the same signing keys, which live in the database sealed under it (a
//! token minted for one verifies at every other), and the same public URL: the port of a
//! round-robin TCP forwarder (`forwarder.rs`) in front of them. The baseline of the same run is
//! one of those instances alone behind the same forwarder: the rounds alternate between
//! forwarding to all instances and forwarding to the first, with the BgZ query list of the first
//! section at the same concurrency. Prints requests/s, p50/p99 and the processor time per
//! request of the service processes, of PostgreSQL and of the benchmark's own process (load
//! generator and forwarder).

use crate::driver::{
    Backend, JSON, Options, Sample, drive, free_port, load, open_on_free_port, spawn_with_env, tokens,
};
use crate::forwarder::Forwarder;
use crate::generate::Templates;
use crate::machine;
use anyhow::bail;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::sync::Arc;

/// The setting that gives the service its deployment secret.
const SECRET_SETTING: &str = "PGO_EXCHANGE__SECRETS__DEPLOYMENT_SECRET";

/// One configuration behind the forwarder, as measured over its rounds.
#[derive(Debug, Default)]
struct Configuration {
    sample: Sample,
    /// Per round: requests/s and p99 in ms.
    rounds: Vec<(f64, f64)>,
    /// Processor seconds used while measured: the service processes, PostgreSQL, the benchmark.
    cpu: (f64, f64, f64),
}

/// Measures `count` instances against one, on `backend` (its database at `database_url`, empty).
pub(crate) async fn measure(
    options: &Options,
    templates: &Templates,
    backend: Backend,
    data_dir: &Path,
    database_url: &str,
    count: usize,
) -> anyhow::Result<()> {
    if backend != Backend::Postgres || count < 2 {
        bail!("--instances measures two or more instances on PostgreSQL");
    }
    // One deployment secret for the benchmark's own context (which mints the tokens) and every
    // instance.
    let mut secret = [0_u8; 32];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| anyhow::anyhow!("no random bytes for the deployment secret"))?;
    let secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret);
    let environment = [(SECRET_SETTING, secret.as_str())];
    let owned = environment.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    let (port, address, context) = open_on_free_port(data_dir, database_url, owned).await?;
    let (resources, took) = load(&context, templates, options.patients).await?;
    println!(
        "\n[{backend:?}] loaded {resources} resources in {:.1} s ({:.0} resources/s)",
        took.as_secs_f64(),
        resources as f64 / took.as_secs_f64()
    );
    // The tokens name the forwarder's port (the public URL every instance names itself by).
    let tokens = Arc::new(tokens(&context, &address, options.patients)?);
    context.store.close().await;

    let mut children: Vec<Child> = Vec::new();
    let mut instances: Vec<SocketAddr> = Vec::new();
    for instance in 0..count {
        let instance_port = free_port()?;
        let own_folder = data_dir.join(format!("instance-{}", instance + 1));
        let (data_dir, port_text, workers) =
            (own_folder.display().to_string(), instance_port.to_string(), options.workers.to_string());
        let args = [
            "serve-app",
            "--data-dir",
            &data_dir,
            "--database-url",
            database_url,
            "--port",
            &port_text,
            "--workers",
            &workers,
            "--public-url",
            &address,
        ];
        match spawn_with_env(&args, &environment) {
            Ok(child) => {
                children.push(child);
                instances.push(SocketAddr::from(([127, 0, 0, 1], instance_port)));
            }
            Err(error) => {
                stop(&mut children);
                return Err(error);
            }
        }
    }
    let result = compare(options, port, &address, &instances, &children, tokens).await;
    let rss: Vec<Option<f64>> = children.iter().map(|child| machine::peak_rss_mib(child.id())).collect();
    stop(&mut children);
    let (one, all, ratios) = result?;
    for configuration in [&one, &all] {
        if configuration.sample.errors > 0 {
            bail!(
                "{} of {} requests failed; the numbers would mean nothing",
                configuration.sample.errors,
                configuration.sample.latencies.len()
            );
        }
    }
    report(backend, count, (&one, &all), &ratios, &rss);
    Ok(())
}

fn stop(children: &mut [Child]) {
    for child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Drives the forwarder on `port` in alternating rounds: to the first instance alone, and to all
/// of them. Returns both configurations and the per-round ratios all/one, sorted.
async fn compare(
    options: &Options,
    port: u16,
    address: &str,
    instances: &[SocketAddr],
    children: &[Child],
    tokens: Arc<Vec<String>>,
) -> anyhow::Result<(Configuration, Configuration, Vec<f64>)> {
    let forwarder = Forwarder::start(port, instances.to_vec()).await?;
    for instance in instances {
        crate::driver::wait_until_up(&format!("http://{instance}")).await?;
    }
    let alone = vec![instances[0]];
    // Warm every instance (through the forwarder, so its connections too), then the one alone.
    drive(options, address, tokens.clone(), options.warmup, JSON).await?;
    forwarder.route_to(alone.clone());
    drive(options, address, tokens.clone(), options.warmup, JSON).await?;

    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let rounds = options.rounds.max(1);
    let slice = options.duration / rounds;
    let (mut one, mut all, mut ratios) = (Configuration::default(), Configuration::default(), Vec::new());
    for round in 0..rounds {
        // The order alternates, so that neither configuration always runs second (after the
        // other's access-log writes, on a machine whose speed drifts).
        let order = if round % 2 == 0 { [false, true] } else { [true, false] };
        let mut per_second = [0.0; 2];
        for spread in order {
            forwarder.route_to(if spread { instances.to_vec() } else { alone.clone() });
            let before = cpu_now(&pids);
            let measured = drive(options, address, tokens.clone(), slice, JSON).await?;
            let after = cpu_now(&pids);
            let configuration = if spread { &mut all } else { &mut one };
            configuration.cpu.0 += after.0 - before.0;
            configuration.cpu.1 += after.1 - before.1;
            configuration.cpu.2 += after.2 - before.2;
            let (rate, p99) = (measured.per_second(), crate::driver::percentile_ms(&measured.latencies, 0.99));
            per_second[usize::from(spread)] = rate;
            configuration.rounds.push((rate, p99));
            configuration.sample.merge(measured);
        }
        ratios.push(per_second[1] / per_second[0]);
    }
    println!("[Postgres] the forwarder accepted {} connections", forwarder.accepted());
    ratios.sort_by(f64::total_cmp);
    Ok((one, all, ratios))
}

/// Processor seconds so far: of the service processes `pids`, of PostgreSQL, of this process.
fn cpu_now(pids: &[u32]) -> (f64, f64, f64) {
    (
        pids.iter().filter_map(|pid| machine::cpu_seconds(*pid)).sum(),
        machine::postgres_cpu_seconds(),
        machine::cpu_seconds(std::process::id()).unwrap_or(0.0),
    )
}

fn report(
    backend: Backend,
    count: usize,
    (one, all): (&Configuration, &Configuration),
    ratios: &[f64],
    rss: &[Option<f64>],
) {
    let per_round = |configuration: &Configuration| {
        configuration
            .rounds
            .iter()
            .map(|(rate, p99)| format!("{rate:.0} ({p99:.1} ms)"))
            .collect::<Vec<String>>()
            .join(", ")
    };
    println!(
        "[{backend:?}] | behind one port | requests/s | p50 ms | p99 ms | service µs/request | PostgreSQL µs/request | \
         load generator and forwarder µs/request | per round: requests/s (p99) |"
    );
    for (name, configuration) in [("1 instance".to_owned(), one), (format!("{count} instances"), all)] {
        let requests = configuration.sample.latencies.len().max(1) as f64;
        let micros = |seconds: f64| seconds / requests * 1e6;
        println!(
            "[{backend:?}] | {name} | {:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {} |",
            configuration.sample.per_second(),
            crate::driver::percentile_ms(&configuration.sample.latencies, 0.50),
            crate::driver::percentile_ms(&configuration.sample.latencies, 0.99),
            micros(configuration.cpu.0),
            micros(configuration.cpu.1),
            micros(configuration.cpu.2),
            per_round(configuration)
        );
    }
    let median = crate::driver::median(ratios);
    println!(
        "[{backend:?}] {count} instances / 1 instance: {:.2} over all rounds, median of the rounds {median:.2} (per round \
         {:.2} to {:.2}); peak RSS per instance: {}",
        all.sample.per_second() / one.sample.per_second().max(f64::MIN_POSITIVE),
        ratios.first().copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0),
        rss.iter()
            .map(|mib| mib.map(|mib| format!("{mib:.0} MiB")).unwrap_or_else(|| "?".into()))
            .collect::<Vec<String>>()
            .join(", ")
    );
}
