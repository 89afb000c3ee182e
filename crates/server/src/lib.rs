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
mod jwks;
mod metrics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use motcua_domain::reference::ReferenceChange;
use motcua_graphql::{ApiContext, Sockets};
use motcua_projections::reference::ReferenceKeeper;
use motcua_projections::{ProjectionError, Projector, ProjectorConfig, ReadModels, Visibility};
use motcua_store::{EventStore, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use auth::{DevelopmentTokens, TokenError};
pub use health::Health;
pub use jwks::{JwksSettings, JwksTokens};

/// What the API serves from besides the database.
#[derive(Clone)]
pub struct ApiSetup {
    /// The reference data (units, procedures, calendar) imported into an
    /// empty reference stream on a first start; afterwards the stream is
    /// the source, changed by administrators.
    pub import: Option<ReferenceChange>,
    /// Who accepts bearer tokens: [`JwksTokens`] in production,
    /// [`DevelopmentTokens`] on a developer's machine.
    pub authenticator: Arc<dyn motcua_graphql::Authenticator>,
    /// Development mode: schema introspection for everyone.
    pub development: bool,
    /// A read replica of the database: the read models that queries and
    /// subscriptions read come from it (waiting for it where a client asks
    /// for its own writes with `minPosition`); the event log, mutations
    /// and the projector stay on the primary. `None`: all on the primary.
    pub read_replica: Option<EventStore>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Apply pending migrations at start (the default). Off where a
    /// deployment job migrates with the owner role: the server then only
    /// checks that the database has exactly this build's migrations.
    pub migrate: bool,
    /// How often a Merkle checkpoint of the log is taken, if it moved.
    pub checkpoint_every: Duration,
    /// The in-process projector's settings; `None` where another process
    /// (`motcua project`) runs the projections.
    pub projector: Option<ProjectorConfig>,
    /// How long the projector waits before retrying after an error it may
    /// recover from (the database went away).
    pub projector_retry: Duration,
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// Origins allowed to call the API from a browser (CORS); none: only
    /// the server's own pages.
    pub cors_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            migrate: true,
            checkpoint_every: Duration::from_secs(3600),
            projector: Some(ProjectorConfig::default()),
            projector_retry: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            cors_origins: Vec::new(),
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
    #[error("invalid CORS origin {0:?}")]
    CorsOrigin(String),
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

/// How long shutdown waits for subscription sockets to close.
const SOCKETS_CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// Serves on `listener` until `shutdown` completes, then shuts down in
/// order. The database must be [`prepare`]d.
pub async fn serve(
    store: EventStore,
    listener: TcpListener,
    config: ServerConfig,
    api: ApiSetup,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let health = Arc::new(Health::new(
        store.clone(),
        api.read_replica.clone(),
        config.projector.is_some(),
    ));
    let read_models = ReadModels::new(&store);
    let queried = api
        .read_replica
        .as_ref()
        .map_or_else(|| read_models.clone(), ReadModels::new);
    let reference = Arc::new(ReferenceKeeper::open(&store, api.import).await?);
    let context = ApiContext {
        // Requests read through their viewers' handles; this one sees nothing.
        read_models: queried.visible_to(&Visibility::Units(Vec::new())),
        store: store.clone(),
        reference: Arc::clone(&reference),
        sockets: Sockets::default(),
        telemetry: Arc::default(),
    };
    let sockets = context.sockets.clone();
    let (stopping, stop) = watch::channel(false);
    // A future per background task, completing when shutdown begins.
    let stopped = || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        }
    };

    let projector = config.projector.map(|projector| {
        tokio::spawn(run_projector(
            store.clone(),
            projector,
            config.projector_retry,
            Arc::clone(&health),
            stopped(),
        ))
    });
    // Another process's change of the reference data reaches this one.
    let following = {
        let stopped = stopped();
        tokio::spawn(async move { reference.follow(stopped).await })
    };
    let checkpoints = {
        let store = store.clone();
        let every = config.checkpoint_every;
        let stopped = stopped();
        tokio::spawn(async move { store.keep_checkpointing(every, stopped).await })
    };

    let metrics = Arc::new(metrics::Metrics::new(
        store.clone(),
        read_models,
        Arc::clone(&context.telemetry),
    ));
    let routes = health::routes(Arc::clone(&health))
        .merge(metrics::routes(Arc::clone(&metrics)))
        .merge(motcua_graphql::routes(
            motcua_graphql::schema(context.clone()),
            context,
            api.authenticator,
            api.development,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ));
    let app = with_http_layers(routes, &config)?;
    let draining = {
        let health = Arc::clone(&health);
        async move {
            shutdown.await;
            tracing::info!("shutting down: draining requests and subscriptions");
            health.shutting_down();
            let _ = stopping.send(true);
        }
    };
    // Subscriptions are told to go when shutdown begins, and waited for.
    let closing_sockets = {
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
            sockets.close_all(SOCKETS_CLOSE_WITHIN).await
        })
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(draining)
        .await
        .map_err(ServerError::Http);

    // Requests are drained; the projector finishes its batch.
    if let Ok(left) = closing_sockets.await
        && left > 0
    {
        tracing::warn!(left, "subscription sockets still open are dropped");
    }
    if let Some(projector) = projector {
        let _ = projector.await;
    }
    let _ = checkpoints.await;
    let _ = following.await;
    store.close().await;
    if let Some(replica) = api.read_replica {
        replica.close().await;
    }
    tracing::info!("stopped");
    served
}

/// The middleware around every route, outermost first: a request id (kept
/// from the client or made), a span per request carrying it, the id echoed
/// in the response, compression, the body limit, CORS and the timeout.
fn with_http_layers(
    router: axum::Router,
    config: &ServerConfig,
) -> Result<axum::Router, ServerError> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::trace::TraceLayer;

    let request_id = HeaderName::from_static("x-request-id");
    let origins = config
        .cors_origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| ServerError::CorsOrigin(origin.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("tracestate"),
        ]);
    let trace = TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
        let id = request
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = request.uri().path(),
            request_id = id,
            otel.name = %format_args!("{} {}", request.method(), request.uri().path()),
            otel.kind = "server",
        );
        // Joins the caller's trace (W3C `traceparent`) when traces are
        // exported; without an exporter there is nothing to join.
        let caller = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
        });
        let _ = tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(&span, caller);
        span
    });
    Ok(router.layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(tower_http::compression::CompressionLayer::new())
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                config.body_limit,
            ))
            // Inside the body limit: CORS and the timeout answer with
            // bodies of their own, of the router's body type.
            .layer(cors)
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                config.request_timeout,
            )),
    ))
}

/// Runs the projector until `stopped`, restarting it after errors it may
/// recover from; an event it cannot apply stops it for good (readiness
/// says so, and `motcua projections status` says where).
async fn run_projector(
    store: EventStore,
    config: ProjectorConfig,
    retry: Duration,
    health: Arc<Health>,
    stopped: impl Future<Output = ()>,
) {
    tokio::pin!(stopped);
    let projector = Projector::new(store.clone(), ReadModels::new(&store), config);
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
                tracing::warn!(%error, retry_in = ?retry, "the projector failed; retrying");
                tokio::select! {
                    () = &mut stopped => return,
                    () = tokio::time::sleep(retry) => {}
                }
            }
        }
    }
}

/// The address a listener is bound to, for the URLs printed at start.
pub fn local_address(listener: &TcpListener) -> Result<SocketAddr, ServerError> {
    listener.local_addr().map_err(ServerError::Http)
}
