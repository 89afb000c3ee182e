//! `motcua project`: runs the projections as a process of their own (the
//! server runs them in-process by default). With several such processes on
//! one database, one projects and the others wait to take over.

use std::time::Duration;

use motcua_projections::{Projector, ProjectorConfig, ReadModels};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events read from the log at a time.
    #[arg(long, default_value_t = ProjectorConfig::default().page_size)]
    page_size: u32,
    /// Most events folded in memory and written in one transaction.
    #[arg(long, default_value_t = ProjectorConfig::default().window_events)]
    window_events: u32,
    /// Most dossier fold states kept in memory between writes.
    #[arg(long, default_value_t = ProjectorConfig::default().cached_dossiers)]
    cached_dossiers: usize,
    /// Seconds the projector's lease lasts unless renewed: how soon another
    /// process takes over after this one dies.
    #[arg(long, default_value_t = ProjectorConfig::default().lease_ttl.as_secs())]
    lease_seconds: u64,
    #[command(flatten)]
    telemetry: super::telemetry::TelemetryArgs,
}

pub async fn run(args: Args, database: &super::Database) -> anyhow::Result<()> {
    let telemetry = super::telemetry::init(&args.telemetry)?;
    let projected = project(args, database).await;
    telemetry.shutdown().await;
    projected
}

async fn project(args: Args, database: &super::Database) -> anyhow::Result<()> {
    let store = super::open_confined(database).await?;
    let config = ProjectorConfig {
        page_size: args.page_size.max(1),
        window_events: args.window_events.max(1),
        cached_dossiers: args.cached_dossiers,
        lease_ttl: Duration::from_secs(args.lease_seconds.max(1)),
        ..ProjectorConfig::default()
    };
    let projector = Projector::new(store.clone(), ReadModels::new(&store), config);
    println!(
        "Projecting the log of the {} database as {} (Ctrl-C or SIGTERM stops after writing what it holds).",
        store.backend(),
        projector.owner()
    );
    projector.run(super::shutdown_signal()).await?;
    println!("Stopped.");
    Ok(())
}
