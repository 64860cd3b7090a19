//! The processes a benchmark starts and waits for: the service's context on a free port, the
//! service and the bare server as children of this program, and waiting until one answers.

use crate::driver::Options;
use anyhow::bail;
use pgo_exchange::Context;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Opens the service's context over `database_url` for a server on a free loopback port (with
/// extra `PGO_EXCHANGE__...` settings); returns the port, the address and the context.
pub(crate) async fn open_on_free_port(
    data_dir: &std::path::Path,
    database_url: &str,
    environment: Vec<(String, String)>,
) -> anyhow::Result<(u16, String, Context)> {
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let overrides = settings::Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(database_url.to_owned()),
        listen: Some(format!("127.0.0.1:{port}")),
        public_url: Some(address.clone()),
    };
    let settings = settings::Settings::load_with_environment(None, &overrides, environment)?;
    Ok((port, address, Context::open(settings).await?))
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts the service (`serve-app`) over `database_url` on `port`, with the environment `env`.
pub(crate) fn spawn_app(
    options: &Options,
    data_dir: &std::path::Path,
    database_url: &str,
    port: u16,
    env: &[(&str, &str)],
) -> anyhow::Result<Child> {
    spawn_app_witnessing(options, data_dir, database_url, port, "everything", env)
}

/// As [`spawn_app`], the FHIR endpoints witnessing `witness` (a `serve-app --witness` value).
pub(crate) fn spawn_app_witnessing(
    options: &Options,
    data_dir: &std::path::Path,
    database_url: &str,
    port: u16,
    witness: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<Child> {
    spawn_with_env(
        &[
            "serve-app",
            "--data-dir",
            &data_dir.display().to_string(),
            "--database-url",
            database_url,
            "--port",
            &port.to_string(),
            "--workers",
            &options.workers.to_string(),
            "--witness",
            witness,
        ],
        env,
    )
}

/// Starts the bare handler answering `size` bytes on a free port; returns it and its address.
pub(crate) fn spawn_bare(options: &Options, size: usize) -> anyhow::Result<(Child, String)> {
    let port = free_port()?;
    let child = spawn(&[
        "serve-bare",
        "--size",
        &size.to_string(),
        "--port",
        &port.to_string(),
        "--workers",
        &options.workers.to_string(),
    ])?;
    Ok((child, format!("http://127.0.0.1:{port}")))
}

pub(crate) fn spawn(args: &[&str]) -> anyhow::Result<Child> {
    spawn_with_env(args, &[])
}

/// Starts this program with `args` and the environment variables `env` added to its own.
pub(crate) fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?)
}

pub(crate) async fn wait_until_up(address: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{address}/health")).send().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server at {address} did not come up within 30 s")
}
