//! `motcua serve`: the server — migrates the database, seeds demonstration
//! data if asked (and the log is empty), runs the projector and the
//! periodic checkpoints in-process, and answers HTTP until Ctrl-C or
//! SIGTERM, then shuts down in order. `motcua` without a command is
//! `motcua serve --demo-data`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use motcua_graphql::Authenticator;
use motcua_projections::ProjectorConfig;
use motcua_server::{ApiSetup, JwksSettings, JwksTokens, ServerConfig};
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
    /// A read replica of the database (a PostgreSQL hot standby, same
    /// form as --database-url): queries and subscriptions read the read
    /// models there, acting as --database-role; the event log, mutations
    /// and the projector stay on --database-url. A client reading its own
    /// write passes the mutation's position as `minPosition`, which waits
    /// for the replica to replay it.
    #[arg(
        long,
        env = "MOTCUA_READ_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    read_database_url: Option<String>,
    /// Do not run the projector in this process (where `motcua project`
    /// runs it); the read models then move only while that process runs.
    #[arg(long, env = "MOTCUA_NO_PROJECTOR")]
    no_projector: bool,
    /// Seconds between Merkle checkpoints of the log (taken only if it moved).
    #[arg(long, env = "MOTCUA_CHECKPOINT_SECONDS", default_value_t = 3600)]
    checkpoint_seconds: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "MOTCUA_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    request_timeout_seconds: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MOTCUA_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    body_limit_bytes: usize,
    /// An origin allowed to call the API from a browser (CORS), e.g.
    /// https://motcua.example.gov.vn; repeat, or separate with commas.
    #[arg(
        long = "cors-origin",
        env = "MOTCUA_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// On an empty event log, first write the demonstration province's
    /// history: 3,000 dossiers over the two months before this one, through
    /// the command path, in every state.
    #[arg(long, env = "MOTCUA_DEMO_DATA")]
    demo_data: bool,
    /// Production: the identity provider's key set (JWKS) that signs the
    /// tokens (RS256 or ES256); without it, development tokens are accepted.
    #[arg(long, env = "MOTCUA_JWKS_URL", requires_all = ["jwt_issuer", "jwt_audience"])]
    jwks_url: Option<String>,
    /// The issuer (`iss`) production tokens must name.
    #[arg(long, env = "MOTCUA_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The audience (`aud`) production tokens must name: this API.
    #[arg(long, env = "MOTCUA_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    #[command(flatten)]
    development: super::token::DevelopmentKey,
    #[command(flatten)]
    telemetry: super::telemetry::TelemetryArgs,
}

/// `serve`'s arguments alone, so that `motcua` without a command reads the
/// same flags' environment variables.
#[derive(Debug, clap::Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: Args,
}

impl Args {
    /// What `motcua` without a command runs: `serve --demo-data`, with the
    /// configuration file's and the environment's settings.
    pub fn demo() -> anyhow::Result<Args> {
        use clap::{CommandFactory, FromArgMatches};
        let args: Vec<String> = std::env::args().collect();
        // The file's `[serve]` settings, applied to `serve` alone.
        let serve = super::config::apply(super::Cli::command(), &args)?
            .find_subcommand("serve")
            .cloned()
            .unwrap_or_else(ServeOnly::command);
        let matches = serve.try_get_matches_from(["motcua", "--demo-data"])?;
        Ok(ServeOnly::from_arg_matches(&matches)?.args)
    }
}

pub async fn run(args: Args, database: &super::Database) -> anyhow::Result<()> {
    let telemetry = super::telemetry::init(&args.telemetry)?;
    let served = serve(args, database).await;
    telemetry.shutdown().await;
    served
}

async fn serve(args: Args, database: &super::Database) -> anyhow::Result<()> {
    let location = database_location(&database.url);
    let config = ServerConfig {
        migrate: !args.no_migrate,
        projector: (!args.no_projector).then(ProjectorConfig::default),
        checkpoint_every: Duration::from_secs(args.checkpoint_seconds.max(1)),
        request_timeout: Duration::from_secs(args.request_timeout_seconds.max(1)),
        body_limit: args.body_limit_bytes,
        cors_origins: args.cors_origins.clone(),
        ..ServerConfig::default()
    };
    // Migrations run as the URL's user (the owner); everything else as the
    // confined role.
    let owner = super::open(&database.url).await?;
    motcua_server::prepare(&owner, &config)
        .await
        .with_context(|| format!("preparing the {} database at {location}", owner.backend()))?;
    owner.close().await;
    let store = super::open_confined(database).await?;
    let read_replica = match &args.read_database_url {
        Some(url) => {
            let replica = super::Database {
                url: url.clone(),
                role: database.role.clone(),
            };
            let opened = super::open_confined(&replica).await.with_context(|| {
                format!("opening the read replica at {}", database_location(url))
            })?;
            Some(opened)
        }
        None => None,
    };
    // The seed's demonstration province (236 units, 1,977 procedures, the
    // national calendar): the reference data imported on a first start.
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED)
        .context("building the seed province")?;
    if args.demo_data {
        seed_demo_data(&store, &province).await?;
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = motcua_server::local_address(&listener)?;
    // Installed before the banner: a signal sent once it is read counts.
    let shutdown = super::shutdown_signal();
    let (authenticator, development, how_to_get_a_token): (Arc<dyn Authenticator>, bool, String) =
        match (&args.jwks_url, &args.jwt_issuer, &args.jwt_audience) {
            (Some(jwks_url), Some(issuer), Some(audience)) => (
                Arc::new(JwksTokens::new(JwksSettings {
                    jwks_url: jwks_url.clone(),
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                })),
                false,
                format!("Tokens come from {issuer} (keys at {jwks_url}), for audience {audience}."),
            ),
            _ => (
                Arc::new(args.development.tokens()?),
                true,
                format!(
                    "Get a development token with: motcua token --unit 000.00.00.H56 --role supervisor{}",
                    args.development.flag_if_not_default()
                ),
            ),
        };
    let queries_from = match &args.read_database_url {
        Some(url) => format!(
            " (queries from the read replica at {})",
            database_location(url)
        ),
        None => String::new(),
    };
    let api = ApiSetup {
        import: Some(province.reference_import()),
        authenticator,
        development,
        read_replica,
    };
    println!(
        "motcua is listening on http://{address} (GraphQL API http://{address}/graphql, \
         GraphiQL http://{address}/graphiql, liveness /livez, readiness /readyz, metrics /metrics), \
         on the {} database at {location}{queries_from}. {how_to_get_a_token}",
        store.backend(),
    );
    motcua_server::serve(store, listener, config, api, shutdown).await?;
    println!("Stopped.");
    Ok(())
}

/// Writes the demonstration history if the log is empty.
async fn seed_demo_data(
    store: &motcua_store::EventStore,
    province: &motcua_seed::Province,
) -> anyhow::Result<()> {
    if store.head().await? != motcua_store::LogCursor::START {
        return Ok(());
    }
    let config = super::seed::demo_history(chrono::Utc::now().date_naive())?;
    println!(
        "Seeding demonstration data: {} dossiers from {} to {} over the {} units of {}…",
        config.dossiers,
        config.from,
        config.until()?,
        province.units().len(),
        motcua_seed::PROVINCE_NAME
    );
    let summary = super::seed::write_history(store, province, config, |_| {}).await?;
    print!("{}", super::seed::describe(&summary));
    Ok(())
}
