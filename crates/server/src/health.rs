//! `/livez` and `/readyz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use motcua_store::EventStore;
use serde_json::{Value, json};

/// What readiness depends on besides the database.
#[derive(Debug)]
pub struct Health {
    store: EventStore,
    read_replica: Option<EventStore>,
    shutting_down: AtomicBool,
    /// Whether this process runs the projector (and is ready only while it
    /// runs), or another process does.
    projects: bool,
    projector_running: AtomicBool,
}

impl Health {
    pub fn new(store: EventStore, read_replica: Option<EventStore>, projects: bool) -> Self {
        Self {
            store,
            read_replica,
            shutting_down: AtomicBool::new(false),
            projects,
            projector_running: AtomicBool::new(false),
        }
    }

    pub fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn projector_running(&self, running: bool) {
        self.projector_running.store(running, Ordering::SeqCst);
    }

    /// Every check by name, and whether all passed.
    async fn readiness(&self) -> (bool, Value) {
        let accepting = !self.shutting_down.load(Ordering::SeqCst);
        let projector = match (self.projects, self.projector_running.load(Ordering::SeqCst)) {
            (false, _) => "another process",
            (true, true) => "running",
            (true, false) => "stopped",
        };
        let database = database_check(&self.store, "database").await;
        let read_replica = match &self.read_replica {
            Some(replica) => database_check(replica, "read replica").await,
            None => "none",
        };
        let ready = accepting
            && projector != "stopped"
            && database == "ok"
            && read_replica != "unavailable";
        let checks = json!({
            "accepting": if accepting { "ok" } else { "shutting down" },
            "database": database,
            "read_replica": read_replica,
            "projector": projector,
        });
        (ready, checks)
    }
}

/// "ok" if the database answers with this build's migrations.
async fn database_check(store: &EventStore, which: &str) -> &'static str {
    match store.check_migrations().await {
        Ok(()) => "ok",
        Err(error) => {
            // The reason goes to the log; the probe only says which check failed.
            tracing::warn!(%error, "readiness: {which} check failed");
            "unavailable"
        }
    }
}

pub fn routes(health: Arc<Health>) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .with_state(health)
}

async fn livez() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

async fn readyz(State(health): State<Arc<Health>>) -> (StatusCode, Json<Value>) {
    let (ready, checks) = health.readiness().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": checks,
    });
    (status, Json(body))
}
