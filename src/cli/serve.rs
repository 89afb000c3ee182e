//! `motcua serve`: the server — migrates the database, runs the projector
//! and the periodic checkpoints in-process, and answers HTTP until Ctrl-C
//! or SIGTERM, then shuts down in order.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use motcua_server::{ApiSetup, ServerConfig};
use motcua_store::database_location;
use tokio::net::TcpListener;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, env = "MOTCUA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Do not apply pending migrations at start (where a deployment job
    /// migrates as the owner role); the database must then be up to date.
    #[arg(long, env = "MOTCUA_NO_MIGRATE")]
    no_migrate: bool,
    /// Seconds between Merkle checkpoints of the log (taken only if it moved).
    #[arg(long, env = "MOTCUA_CHECKPOINT_SECONDS", default_value_t = 3600)]
    checkpoint_seconds: u64,
    #[command(flatten)]
    development: super::token::DevelopmentKey,
}

pub async fn run(args: Args, database_url: &str) -> anyhow::Result<()> {
    super::init_logs();
    let store = super::open(database_url).await?;
    let location = database_location(database_url);
    let config = ServerConfig {
        migrate: !args.no_migrate,
        checkpoint_every: Duration::from_secs(args.checkpoint_seconds.max(1)),
        ..ServerConfig::default()
    };
    motcua_server::prepare(&store, &config)
        .await
        .with_context(|| format!("preparing the {} database at {location}", store.backend()))?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = motcua_server::local_address(&listener)?;
    let api = ApiSetup {
        units: super::reference_units()?,
        tokens: args.development.tokens()?,
        development: true,
    };
    println!(
        "motcua is listening on http://{address} (GraphQL API http://{address}/graphql, \
         liveness /livez, readiness /readyz), on the {} database at {location}. \
         Get a development token with: motcua token --unit 000.00.00.H56 --role supervisor{}",
        store.backend(),
        args.development.flag_if_not_default()
    );
    motcua_server::serve(store, listener, config, api, super::shutdown_signal()).await?;
    println!("Stopped.");
    Ok(())
}
