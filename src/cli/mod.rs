//! The command-line interface: the arguments, and one module per command
//! with its `run` function (the mini-redis layout). `main` only parses and
//! dispatches.

mod audit;
mod config;
mod migrate;
mod project;
mod projections;
mod sdl;
mod seed;
mod serve;
mod telemetry;
mod token;

use anyhow::Context;
use clap::{Parser, Subcommand};
use motcua_store::{EventStore, database_location};

/// motcua: an event-sourced, multi-tenant backend for Vietnamese
/// administrative-procedure dossiers (một cửa).
#[derive(Debug, Parser)]
#[command(name = "motcua", version)]
pub struct Cli {
    /// The database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, or
    /// sqlite:FILE (created if missing).
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite:motcua.db",
        value_name = "URL"
    )]
    pub database_url: String,

    /// On PostgreSQL, the database role that `serve`, `project`,
    /// `projections` and `seed` act as (set at connection start, like SET ROLE; the
    /// URL's user must be a member of it): one that row-level security
    /// binds — not a superuser, not BYPASSRLS, not the tables' owner — or
    /// they refuse to start. The migrations create motcua_app for this and
    /// run as the URL's user. Empty: act as the URL's user.
    #[arg(
        long,
        global = true,
        env = "MOTCUA_DATABASE_ROLE",
        default_value = "motcua_app",
        value_name = "ROLE"
    )]
    pub database_role: String,

    /// A TOML file of settings (long flag names as keys; `[serve]` for the
    /// server's), beneath the environment and the command line.
    #[arg(long, global = true, env = "MOTCUA_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// What to do; without one, motcua serves on 127.0.0.1:8080 with
    /// demonstration data (`motcua serve --demo-data`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands of motcua.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Applies the database migrations this build carries.
    Migrate,
    /// Checks that the event log was not tampered with, and keeps checkpoints of it.
    #[command(subcommand)]
    Audit(audit::Audit),
    /// Runs the server: HTTP endpoints, the projector and checkpoints.
    Serve(serve::Args),
    /// Runs the projections (the read models) as a process of their own.
    Project(project::Args),
    /// Shows or rebuilds the projections.
    #[command(subcommand)]
    Projections(projections::Projections),
    /// Signs a development token for a unit and roles (the server accepts it).
    Token(token::Args),
    /// Prints the GraphQL schema (SDL) the server serves.
    Sdl,
    /// Writes a reproducible history of the seed's province through the
    /// command path (a few thousand dossiers, or the whole province).
    Seed(seed::Args),
}

impl Cli {
    /// The command line, over the configuration file's settings.
    pub fn parse_with_config() -> anyhow::Result<Cli> {
        use clap::{CommandFactory, FromArgMatches};
        let args: Vec<String> = std::env::args().collect();
        let command = config::apply(Cli::command(), &args)?;
        let matches = command
            .try_get_matches_from(&args)
            .unwrap_or_else(|error| error.exit());
        Ok(Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit()))
    }
}

impl Command {
    /// What `motcua` without a command does.
    pub fn default_serve() -> anyhow::Result<Command> {
        Ok(Command::Serve(serve::Args::demo()?))
    }

    pub async fn run(self, database: &Database) -> anyhow::Result<()> {
        let database_url = database.url.as_str();
        match self {
            Command::Migrate => migrate::run(database_url).await,
            Command::Audit(audit) => audit.run(database_url).await,
            Command::Serve(args) => serve::run(args, database).await,
            Command::Project(args) => project::run(args, database).await,
            Command::Projections(projections) => projections.run(database).await,
            Command::Token(args) => token::run(args),
            Command::Seed(args) => seed::run(args, database).await,
            Command::Sdl => {
                sdl::run();
                Ok(())
            }
        }
    }
}

/// The database, and the role the long-running commands act as there.
#[derive(Debug, Clone)]
pub struct Database {
    pub url: String,
    /// Empty: the URL's user.
    pub role: String,
}

/// Opens the database; the error says which and where (never the password).
async fn open(database_url: &str) -> anyhow::Result<EventStore> {
    Ok(EventStore::connect(database_url).await?)
}

/// Opens an up-to-date database as the confined role, and makes sure
/// row-level security binds it.
async fn open_confined(database: &Database) -> anyhow::Result<EventStore> {
    let store = if database.role.is_empty() {
        open(&database.url).await?
    } else {
        EventStore::connect_as(&database.url, &database.role).await?
    };
    // First the role: a refused one may not even read the migrations.
    store.check_confined().await?;
    check_migrations(&store, &database.url).await?;
    Ok(store)
}

/// Opens a database that has exactly this build's migrations.
async fn open_migrated(database_url: &str) -> anyhow::Result<EventStore> {
    let store = open(database_url).await?;
    check_migrations(&store, database_url).await?;
    Ok(store)
}

/// Refuses a database without exactly this build's migrations.
async fn check_migrations(store: &EventStore, database_url: &str) -> anyhow::Result<()> {
    store.check_migrations().await.with_context(|| {
        format!(
            "checking the database at {}",
            database_location(database_url)
        )
    })
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends to stop a pod).
/// The SIGTERM handler is installed when this is called, so a signal sent
/// right after the server says it listens still stops it in order.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let interrupted = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminated = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            () = interrupted => {}
            () = terminated => {}
        }
    }
}

/// An error and its causes on one line, each said once: store errors
/// already quote their source in their own message.
pub fn report(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if message.contains(&cause) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&cause);
    }
    message
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_line_is_well_formed() {
        // clap checks a subcommand's arguments only when it is parsed:
        // check them all here (flattened groups must not clash).
        super::Cli::command().debug_assert();
    }
}
