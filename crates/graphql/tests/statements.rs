//! What one request costs the database: a page of 100 dossiers with their
//! procedure and holder unit is one SQL statement (the nested lookups come
//! from the reference data in memory: no N+1), and the schema's limits
//! refuse queries nested too deep before anything runs.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, Utc};
use motcua_domain::role::{Principal, Role};
use motcua_graphql::{ApiContext, Telemetry, Viewer};
use motcua_projections::reference::ReferenceKeeper;
use motcua_projections::{Projector, ProjectorConfig, ReadModels};
use motcua_store::EventStore;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts the statements sqlx runs (its `sqlx::query` events).
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_100_dossiers_with_procedure_and_holder_is_one_statement() {
    let statements = Arc::new(AtomicUsize::new(0));
    // Global: SQLite runs statements on its own worker threads.
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(Statements(Arc::clone(&statements)))
            .with(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sqlx::query", tracing::Level::TRACE),
            ),
    )
    .unwrap();

    let path = std::env::temp_dir().join(format!("motcua-statements-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store = EventStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED).unwrap();
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let history = motcua_seed::HistoryConfig::new(motcua_seed::DEMO_SEED, 150, from, 1);
    motcua_seed::generate(&store, &province, history, |_| {})
        .await
        .unwrap();
    let read_models = ReadModels::new(&store);
    Projector::new(
        store.clone(),
        read_models.clone(),
        ProjectorConfig::default(),
    )
    .catch_up()
    .await
    .unwrap();

    let reference = ReferenceKeeper::open(&store, Some(province.reference_import()))
        .await
        .unwrap();
    let context = ApiContext {
        read_models,
        store: store.clone(),
        reference: Arc::new(reference),
        sockets: motcua_graphql::Sockets::default(),
        telemetry: Arc::new(Telemetry::default()),
    };
    let schema = motcua_graphql::schema(context.clone());
    let supervisor = Principal {
        user_id: "supervisor".to_owned(),
        unit: "000.00.00.H56".parse().unwrap(),
        roles: vec![Role::Supervisor],
    };
    let viewer = Viewer::new(supervisor, &context, Utc::now()).unwrap();

    let page = "{ dossiers(first: 100) { edges { node { code procedure { code name } holder { id name level } } } } }";
    let before = statements.load(Ordering::SeqCst);
    let response = schema
        .execute(async_graphql_request(page, viewer.clone()))
        .await;
    let ran = statements.load(Ordering::SeqCst) - before;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let edges = data["dossiers"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 100);
    assert!(
        edges
            .iter()
            .all(|edge| edge["node"]["procedure"]["name"].is_string()
                && edge["node"]["holder"]["name"].is_string())
    );
    assert_eq!(ran, 1, "one statement for the page, none per dossier");

    // Deeper than the limit: refused before any resolver runs.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {}name{} }} }} }} }}",
        "{ ofType ".repeat(14),
        " }".repeat(14)
    );
    let before = statements.load(Ordering::SeqCst);
    let refused = schema.execute(async_graphql_request(&deep, viewer)).await;
    assert!(
        refused
            .errors
            .iter()
            .any(|error| error.message.contains("nested too deep")),
        "{:?}",
        refused.errors
    );
    assert_eq!(statements.load(Ordering::SeqCst), before);
    let _ = std::fs::remove_file(&path);
}

fn async_graphql_request(query: &str, viewer: Viewer) -> async_graphql::Request {
    async_graphql::Request::new(query).data(viewer)
}
