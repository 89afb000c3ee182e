//! The motcua server: one process that migrates its database, runs the
//! projector and the periodic checkpoints beside the HTTP endpoints, and
//! shuts down in order — stop taking requests, say "not ready", finish the
//! projector's batch, close the pool.
//!
//! Endpoints: `/graphql` (the API, `motcua-graphql`), `/livez` (the
//! process answers) and `/readyz` (it can serve: not shutting down,
//! database reachable with this build's migrations, projector running).

mod auth;
mod health;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use motcua_domain::DossierServices;
use motcua_graphql::ApiContext;
use motcua_projections::{ProjectionError, Projector, ProjectorConfig, ReadModels};
use motcua_store::{CommandPath, CommandPathConfig, EventStore, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use auth::{DevelopmentTokens, TokenError};
pub use health::Health;

/// What the API serves from besides the database.
#[derive(Debug, Clone)]
pub struct ApiSetup {
    /// The reference data: the unit hierarchy with its history (tenant
    /// scopes, reports), the procedure catalog, the calendars.
    pub services: DossierServices,
    /// Accepts development tokens (`motcua token`).
    pub tokens: DevelopmentTokens,
    /// Development mode: schema introspection for everyone.
    pub development: bool,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Apply pending migrations at start (the default). Off where a
    /// deployment job migrates with the owner role: the server then only
    /// checks that the database has exactly this build's migrations.
    pub migrate: bool,
    /// How often a Merkle checkpoint of the log is taken, if it moved.
    pub checkpoint_every: Duration,
    pub projector: ProjectorConfig,
    /// How long the projector waits before retrying after an error it may
    /// recover from (the database went away).
    pub projector_retry: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            migrate: true,
            checkpoint_every: Duration::from_secs(3600),
            projector: ProjectorConfig::default(),
            projector_retry: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    ReadModels(#[from] ProjectionError),
    #[error("cannot serve HTTP: {0}")]
    Http(#[source] std::io::Error),
}

/// Prepares the database: applies pending migrations, or, with
/// `migrate: false`, checks that there are none.
pub async fn prepare(store: &EventStore, config: &ServerConfig) -> Result<(), ServerError> {
    if config.migrate {
        store.migrate().await?;
    }
    store.check_migrations().await?;
    Ok(())
}

/// Serves on `listener` until `shutdown` completes, then shuts down in
/// order. The database must be [`prepare`]d.
pub async fn serve(
    store: EventStore,
    listener: TcpListener,
    config: ServerConfig,
    api: ApiSetup,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let health = Arc::new(Health::new(store.clone()));
    let read_models = ReadModels::new(&store);
    read_models.store_units(&api.services.units).await?;
    let context = ApiContext {
        read_models,
        store: store.clone(),
        commands: Arc::new(CommandPath::new(
            store.clone(),
            api.services.clone(),
            Vec::new(),
            CommandPathConfig::default(),
        )),
        services: api.services,
    };
    let (stopping, stop) = watch::channel(false);
    // A future per background task, completing when shutdown begins.
    let stopped = || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        }
    };

    let projector = tokio::spawn(run_projector(
        store.clone(),
        config.clone(),
        Arc::clone(&health),
        stopped(),
    ));
    let checkpoints = {
        let store = store.clone();
        let every = config.checkpoint_every;
        let stopped = stopped();
        tokio::spawn(async move { store.keep_checkpointing(every, stopped).await })
    };

    let app = health::routes(Arc::clone(&health)).merge(motcua_graphql::routes(
        motcua_graphql::schema(context.clone()),
        context,
        Arc::new(api.tokens),
        api.development,
    ));
    let draining = {
        let health = Arc::clone(&health);
        async move {
            shutdown.await;
            tracing::info!("shutting down: draining requests");
            health.shutting_down();
            let _ = stopping.send(true);
        }
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(draining)
        .await
        .map_err(ServerError::Http);

    // Requests are drained; the projector finishes its batch.
    let _ = projector.await;
    let _ = checkpoints.await;
    store.close().await;
    tracing::info!("stopped");
    served
}

/// Runs the projector until `stopped`, restarting it after errors it may
/// recover from; an event it cannot apply stops it for good (readiness
/// says so, and `motcua projections status` says where).
async fn run_projector(
    store: EventStore,
    config: ServerConfig,
    health: Arc<Health>,
    stopped: impl Future<Output = ()>,
) {
    tokio::pin!(stopped);
    let projector = Projector::new(store.clone(), ReadModels::new(&store), config.projector);
    loop {
        health.projector_running(true);
        let outcome = projector.run(&mut stopped).await;
        health.projector_running(false);
        match outcome {
            Ok(()) => return,
            Err(error @ ProjectionError::Failed { .. }) => {
                tracing::error!(%error, "the projector stopped on an event; fix it, then restart");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?config.projector_retry, "the projector failed; retrying");
                tokio::select! {
                    () = &mut stopped => return,
                    () = tokio::time::sleep(config.projector_retry) => {}
                }
            }
        }
    }
}

/// The address a listener is bound to, for the URLs printed at start.
pub fn local_address(listener: &TcpListener) -> Result<SocketAddr, ServerError> {
    listener.local_addr().map_err(ServerError::Http)
}
