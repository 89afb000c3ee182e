//! Opening a store so that a failure says what an operator needs: which
//! backend, where (host and port, or file), and why — and says it quickly.
//!
//! sqlx's pool retries a refused connection until its acquire timeout (30 s)
//! and then reports only that it timed out. [`EventStore::connect`] first makes
//! one direct connection, bounded in time, whose error names the cause
//! (refused, unknown host, bad password, no such file), then opens the pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Database};

use crate::error::StoreError;
use crate::store::EventStore;

/// How long [`EventStore::connect`] waits for a database to answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled connection idle for longer than this is pinged before it is
/// handed out. sqlx's default pings on every acquire, a round trip before
/// every statement (it pings again on release, which cannot be turned off);
/// the pings took a quarter of the seed's CPU. A connection busy a moment
/// ago is alive; one that broke since fails its statement, and sqlx closes it.
const PING_AFTER_IDLE: Duration = Duration::from_secs(30);

const POSTGRES: &str = "PostgreSQL";
const SQLITE: &str = "SQLite";

impl EventStore {
    /// Connects to `postgres://…` or `sqlite:…` (the file is created if
    /// missing), failing within [`CONNECT_TIMEOUT`] with an error that names
    /// the backend and where the database is, never the password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_within(url, CONNECT_TIMEOUT).await
    }

    /// [`EventStore::connect`], acting on PostgreSQL as database role `role`
    /// (the `role` setting at connection start, as `SET ROLE` would: the
    /// URL's user must be a member of it). The server's role, which
    /// row-level security binds; see [`EventStore::check_confined`]. SQLite
    /// has no roles and ignores it.
    pub async fn connect_as(url: &str, role: &str) -> Result<Self, StoreError> {
        Self::open(url, Some(role), CONNECT_TIMEOUT).await
    }

    /// [`EventStore::connect`] with another deadline, for each of its two steps
    /// (a direct connection, then the pool).
    pub async fn connect_within(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        Self::open(url, None, timeout).await
    }

    async fn open(url: &str, role: Option<&str>, timeout: Duration) -> Result<Self, StoreError> {
        let (backend, location) = if is_postgres(url) {
            (POSTGRES, database_location(url))
        } else if url.starts_with("sqlite:") {
            (SQLITE, database_location(url))
        } else {
            // The URL itself may hold a password: show its scheme only.
            let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
            return Err(StoreError::UnsupportedUrl(format!("{scheme}:…")));
        };
        let unreachable = |source| StoreError::Unreachable {
            backend,
            location: location.clone(),
            source,
        };
        let timed_out = || StoreError::ConnectTimeout {
            backend,
            location: location.clone(),
            timeout,
        };
        let probe = async {
            if backend == POSTGRES {
                let options = postgres_options(url, role)?;
                PgConnection::connect_with(&options).await?.close().await
            } else {
                let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                SqliteConnection::connect_with(&options)
                    .await?
                    .close()
                    .await
            }
        };
        tokio::time::timeout(timeout, probe)
            .await
            .map_err(|_| timed_out())?
            .map_err(unreachable)?;
        match tokio::time::timeout(timeout, EventStore::connect_pool(url, role)).await {
            Ok(Ok(store)) => Ok(store),
            Ok(Err(StoreError::Connect { source, .. })) => Err(unreachable(source)),
            Ok(Err(other)) => Err(other),
            Err(_) => Err(timed_out()),
        }
    }

    /// "PostgreSQL" or "SQLite".
    pub fn backend(&self) -> &'static str {
        match self {
            EventStore::Postgres(_) => POSTGRES,
            EventStore::Sqlite(_) => SQLITE,
        }
    }
}

/// The pool settings of both backends: at most `max_connections`, a call
/// that waits longer than [`CONNECT_TIMEOUT`] for one fails (a database that
/// stops answering fails a call, not hangs it), and only connections idle
/// for a while are pinged first.
pub(crate) fn pool_options<DB: Database>(max_connections: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection: &mut DB::Connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for > PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// The connection options of a `postgres://` URL, acting as `role` if given.
pub(crate) fn postgres_options(
    url: &str,
    role: Option<&str>,
) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    Ok(match role {
        Some(role) => options.options([("role", role)]),
        None => options,
    })
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Where a database URL points, fit to print: `host:port/database as user`
/// for PostgreSQL, the file for SQLite. Never the password (in the URL or its
/// query); a URL that cannot be parsed, or of another scheme, is described
/// without its content.
pub fn database_location(url: &str) -> String {
    if is_postgres(url) {
        match PgConnectOptions::from_str(url) {
            Ok(options) => {
                let place = match options.get_socket() {
                    Some(socket) => socket.display().to_string(),
                    None => format!("{}:{}", options.get_host(), options.get_port()),
                };
                let database = options.get_database().unwrap_or(options.get_username());
                format!("{place}/{database} as {}", options.get_username())
            }
            Err(_) => "an unparsable postgres:// URL".to_owned(),
        }
    } else if url.starts_with("sqlite:") {
        match SqliteConnectOptions::from_str(url) {
            Ok(options) => options.get_filename().display().to_string(),
            Err(_) => "an unparsable sqlite: URL".to_owned(),
        }
    } else {
        "a URL that is neither postgres:// nor sqlite:".to_owned()
    }
}
