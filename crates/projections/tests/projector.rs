//! The projection engine on both backends: rows equal the aggregates' own
//! state, crashes mid-batch change nothing, a bad event stops the
//! projection where it is, and readers can wait for their own writes.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use common::TestStore;
use common::history::{self, HistoryConfig};
use common::rng::Rng;
use motcua_domain::dossier::Dossier;
use motcua_projections::report::{GroupBy, HierarchyView, ReportQuery};
use motcua_projections::{
    DOSSIERS, GenerationState, ProjectionError, Projector, ProjectorConfig, ReadModels,
};
use motcua_store::{EventStore, LogCursor, NewEvent, Replayer};
use serde_json::json;
use sqlx::Row;

on_both_backends!(
    rows_hold_what_the_aggregates_hold,
    a_projector_killed_mid_batch_resumes_to_what_a_rebuild_gives,
    a_bad_event_stops_the_projection_at_its_position,
    readers_wait_for_their_own_writes_and_see_the_lag,
    a_rebuild_serves_reads_throughout_and_swaps_in_whole,
    one_projector_runs_at_a_time_and_another_takes_over_when_it_dies,
);

async fn generate(db: &TestStore, dossiers: usize) -> history::History {
    let history = history::generate(
        &db.store,
        HistoryConfig {
            seed: 7,
            dossiers,
            concurrency: 8,
        },
    )
    .await;
    assert!(history.rejections.is_empty(), "{:?}", history.rejections);
    history
}

/// A projector reading `page_size` events at a time, writing every three
/// pages, and caching few dossiers, so that the tests go through many
/// windows and read evicted states back.
fn projector(db: &TestStore, page_size: u32) -> Projector {
    Projector::new(
        db.store.clone(),
        ReadModels::new(&db.store),
        ProjectorConfig {
            page_size,
            window_events: page_size * 3,
            cached_dossiers: 40,
            ..ProjectorConfig::default()
        },
    )
}

async fn rows_hold_what_the_aggregates_hold(db: &TestStore) {
    let history = generate(db, 200).await;
    let head = projector(db, 97).catch_up().await.unwrap();
    assert_eq!(head, db.store.head().await.unwrap());

    let replayer = Replayer::<Dossier>::new(db.store.clone(), vec![]);
    let rows = dossier_rows(&db.store).await;
    assert_eq!(rows.len(), history.dossiers);
    for (id, state, status, holder, code) in rows {
        let loaded = replayer.load(&id).await.unwrap().aggregate;
        let state: motcua_projections::fold::DossierState = serde_json::from_str(&state).unwrap();
        assert_eq!(&state.lifecycle, loaded.lifecycle(), "dossier {id}");
        assert_eq!(
            status,
            loaded.status().map(|status| i64::from(status.code()))
        );
        assert_eq!(holder, loaded.holder().map(ToString::to_string));
        assert_eq!(code, loaded.code().map(ToString::to_string));
    }
    let statuses = ReadModels::new(&db.store).statuses().await.unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].name, DOSSIERS);
    assert_eq!(statuses[0].state, GenerationState::Live);
    assert_eq!(statuses[0].cursor, head);
    assert_eq!(statuses[0].events_applied, history.events as i64);
    assert_eq!(statuses[0].failure, None);
}

async fn a_projector_killed_mid_batch_resumes_to_what_a_rebuild_gives(db: &TestStore) {
    generate(db, 150).await;
    let mut rng = Rng::new(11);
    // Kill the projector at random moments, over and over, until it is done.
    let mut kills = 0;
    loop {
        let projector = projector(db, rng.between(1, 60) as u32);
        let task = tokio::spawn(async move { projector.catch_up().await });
        tokio::time::sleep(Duration::from_micros(rng.between(0, 20_000))).await;
        if task.is_finished() {
            task.await.unwrap().unwrap();
            break;
        }
        task.abort();
        let _ = task.await;
        kills += 1;
    }
    assert!(kills > 0, "the projector was never interrupted");
    let resumed = read_model_tables(&db.store).await;
    assert!(
        resumed.iter().all(|rows| !rows.is_empty()),
        "every read model has rows to compare"
    );

    // In small windows: open dossiers are held back across many of them,
    // closed ones leave the cache and are read back if touched again.
    let rebuilt = projector(db, 13).rebuild().await.unwrap();
    assert_eq!(rebuilt.generation, 2);
    let statuses = ReadModels::new(&db.store).statuses().await.unwrap();
    assert_eq!(
        statuses.len(),
        1,
        "the old generation is dropped: {statuses:?}"
    );
    if let EventStore::Postgres(store) = &db.store {
        generation_two_alone_and_indexed(store.pool()).await;
    }
    let rebuilt = read_model_tables(&db.store).await;
    assert_eq!(resumed.len(), rebuilt.len());
    for (resumed, rebuilt) in resumed.iter().zip(&rebuilt) {
        assert_eq!(resumed, rebuilt, "after {kills} kills");
    }
}

async fn a_bad_event_stops_the_projection_at_its_position(db: &TestStore) {
    generate(db, 20).await;
    let good_head = projector(db, 1000).catch_up().await.unwrap();
    let unreadable = NewEvent {
        aggregate_type: "Dossier".to_owned(),
        aggregate_id: "broken".to_owned(),
        sequence: 1,
        event_type: "DossierSubmitted".to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({ "not": "a dossier event" }),
        metadata: json!({ "unit": "000.01.20.H56", "actor": "someone" }),
        unit_id: "000.01.20.H56".to_owned(),
        actor: "someone".to_owned(),
        command_id: None,
    };
    let appended = db.store.append(&[unreadable], None).await.unwrap();
    let position = appended[0].cursor.position;
    readable(db, appended[0].cursor).await;

    let failed = projector(db, 1000).catch_up().await.unwrap_err();
    match &failed {
        ProjectionError::Failed {
            projection,
            position: at,
            reason,
        } => {
            assert_eq!(*projection, DOSSIERS);
            assert_eq!(*at, position);
            assert!(reason.contains("broken"), "{reason}");
        }
        other => panic!("expected a stop at the event, got {other}"),
    }
    let status = &ReadModels::new(&db.store).statuses().await.unwrap()[0];
    assert_eq!(
        status.cursor, good_head,
        "nothing after the bad event counts"
    );
    let (at, reason) = status.failure.clone().expect("the status says why");
    assert_eq!(at, position);
    assert!(reason.contains("cannot be read"), "{reason}");
    // It stays stopped: a second run stops at the same place.
    assert!(matches!(
        projector(db, 1000).catch_up().await,
        Err(ProjectionError::Failed { position: at, .. }) if at == position
    ));
}

async fn readers_wait_for_their_own_writes_and_see_the_lag(db: &TestStore) {
    generate(db, 10).await;
    let head = db.store.head().await.unwrap();
    let read_models = ReadModels::new(&db.store);
    let projector = projector(db, 1000);
    projector.catch_up().await.unwrap();
    let lag = projector.lag().await.unwrap();
    assert!(lag[0].caught_up() && lag[0].behind() == 0, "{lag:?}");

    // More events, not yet projected: a reader of them waits in vain…
    let newer = generate_more(db).await;
    assert!(newer > head);
    let lag = projector.lag().await.unwrap();
    assert!(!lag[0].caught_up() && lag[0].behind() > 0, "{lag:?}");
    let waited = read_models
        .wait_for(DOSSIERS, newer, Duration::from_millis(50))
        .await;
    assert!(matches!(waited, Err(ProjectionError::WaitTimedOut { .. })));
    // …until a running projector gets there.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        projector
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    read_models
        .wait_for(DOSSIERS, newer, Duration::from_secs(10))
        .await
        .unwrap();
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    assert!(
        read_models
            .wait_for(DOSSIERS, LogCursor::START, Duration::ZERO)
            .await
            .is_ok()
    );
}

async fn a_rebuild_serves_reads_throughout_and_swaps_in_whole(db: &TestStore) {
    let history = generate(db, 150).await;
    projector(db, 500).catch_up().await.unwrap();
    let read_models = ReadModels::new(&db.store);
    let province = history
        .hierarchy
        .versions()
        .iter()
        .find(|version| version.parent.is_none())
        .unwrap()
        .id
        .clone();
    let query = ReportQuery {
        unit: province,
        from: history::first_day(),
        to: history::last_day(),
        group_by: GroupBy::ChildUnit,
        view: HierarchyView::Recorded,
        today: history::horizon(),
    };
    let before = read_models
        .report(&history.hierarchy, &query)
        .await
        .unwrap();
    assert!(before.subtree.received_total() > 0);

    // Small batches, so the rebuild takes a while and readers meet it halfway.
    let rebuilding = {
        let projector = projector(db, 7);
        tokio::spawn(async move { projector.rebuild().await })
    };
    let mut reads = 0;
    while !rebuilding.is_finished() {
        let generations_before = read_models.statuses().await.unwrap();
        let during = read_models
            .report(&history.hierarchy, &query)
            .await
            .unwrap();
        if during != before {
            // Seen once in CI and never reproduced: say which generations
            // the read fell between, and whether the figures stay wrong.
            let generations_after = read_models.statuses().await.unwrap();
            let rebuilt = rebuilding.await.unwrap();
            let again = read_models.report(&history.hierarchy, &query).await;
            panic!(
                "a reader saw a half-built generation: {during:?}\n\
                 instead of {before:?}\n\
                 generations before the read {generations_before:?}\n\
                 after it {generations_after:?}\n\
                 the rebuild gave {rebuilt:?}, then the report reads {again:?}"
            );
        }
        reads += 1;
    }
    let rebuilt = rebuilding.await.unwrap().unwrap();
    assert!(reads > 1, "the reads did not overlap the rebuild");
    assert_eq!(rebuilt.generation, 2);
    assert_eq!(rebuilt.events, history.events as i64);
    assert_eq!(read_models.live(DOSSIERS).await.unwrap().generation, 2);
    assert_eq!(
        read_models
            .report(&history.hierarchy, &query)
            .await
            .unwrap(),
        before
    );
}

async fn one_projector_runs_at_a_time_and_another_takes_over_when_it_dies(db: &TestStore) {
    generate(db, 30).await;
    let read_models = ReadModels::new(&db.store);
    let quick = |db: &TestStore| {
        Projector::new(
            db.store.clone(),
            ReadModels::new(&db.store),
            ProjectorConfig {
                lease_ttl: Duration::from_millis(400),
                poll_interval: Duration::from_millis(50),
                ..ProjectorConfig::default()
            },
        )
    };
    let (first, second) = (quick(db), quick(db));
    let (first_owner, second_owner) = (first.owner().to_owned(), second.owner().to_owned());
    assert_ne!(first_owner, second_owner);
    let first = tokio::spawn(async move { first.run(std::future::pending()).await });
    let head = db.store.head().await.unwrap();
    read_models
        .wait_for(DOSSIERS, head, Duration::from_secs(10))
        .await
        .unwrap();
    let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(async move {
        second
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // The second waits while the first holds the lease.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let live = read_models.live(DOSSIERS).await.unwrap();
    assert_eq!(live.lease_owner.as_deref(), Some(first_owner.as_str()));

    // The first dies without a word; the second takes over and projects.
    first.abort();
    let _ = first.await;
    let newer = generate_more(db).await;
    read_models
        .wait_for(DOSSIERS, newer, Duration::from_secs(10))
        .await
        .unwrap();
    let live = read_models.live(DOSSIERS).await.unwrap();
    assert_eq!(live.lease_owner.as_deref(), Some(second_owner.as_str()));
    // On shutdown it gives the lease up.
    let _ = stop_second.send(());
    second.await.unwrap().unwrap();
    assert_eq!(read_models.live(DOSSIERS).await.unwrap().lease_owner, None);
}

/// An event of another aggregate (projected past, but past all the same),
/// once readers of the log can see it: its cursor.
async fn generate_more(db: &TestStore) -> LogCursor {
    let probe = NewEvent {
        aggregate_type: "Probe".to_owned(),
        aggregate_id: "probe".to_owned(),
        sequence: 1,
        event_type: "Probed".to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({}),
        metadata: json!({ "unit": "000.01.20.H56", "actor": "someone" }),
        unit_id: "000.01.20.H56".to_owned(),
        actor: "someone".to_owned(),
        command_id: None,
    };
    let cursor = db.store.append(&[probe], None).await.unwrap()[0].cursor;
    readable(db, cursor).await;
    cursor
}

/// Waits until readers of the log see `cursor`: on PostgreSQL, once every
/// older transaction in the cluster has ended (other tests' included).
async fn readable(db: &TestStore, cursor: LogCursor) {
    for _ in 0..3000 {
        if db.store.head().await.unwrap() >= cursor {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the log's head never reached {cursor:?}");
}

async fn dossier_rows(
    store: &EventStore,
) -> Vec<(String, String, Option<i64>, Option<String>, Option<String>)> {
    let sql = |state: &str| {
        format!(
            "SELECT aggregate_id, {state} AS state, CAST(status AS BIGINT) AS status, \
             holder_unit, code FROM dossiers ORDER BY aggregate_id"
        )
    };
    match store {
        EventStore::Postgres(store) => {
            let mut tx = seeing_everything(store.pool()).await;
            sqlx::query(&sql(POSTGRES_STATE))
                .fetch_all(&mut *tx)
                .await
                .unwrap()
                .iter()
                .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
                .collect()
        }
        EventStore::Sqlite(store) => sqlx::query(&sql("state"))
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
            .collect(),
    }
}

/// The fold state's JSON on PostgreSQL, where it is kept as bytes.
const POSTGRES_STATE: &str = "convert_from(state, 'UTF8')";

/// A transaction of the confined role that row-level security lets see
/// every unit's rows.
async fn seeing_everything(pool: &sqlx::PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('motcua.visible_units', '*', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

const TABLES: [&str; 4] = [
    "dossiers",
    "dossier_holders",
    "bieu06_unit_day",
    "bieu06_procedure_day",
];

/// Every read-model row, as text, table by table, in key order; counter
/// rows that hold only zeros are left out (a rebuild never writes them).
/// On PostgreSQL each generation has partitions of its own (migration
/// 0010, indexes 0011): after a rebuild into generation 2, the first one's are dropped
/// and the new dossiers partition has the indexes its readers need, built
/// at the promotion.
async fn generation_two_alone_and_indexed(pool: &sqlx::PgPool) {
    let partitions: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relispartition AND relkind = 'r' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut expected: Vec<String> = TABLES.iter().map(|table| format!("{table}_g2")).collect();
    expected.push("bieu06_procedure_month_g2".to_owned());
    expected.push("bieu06_unit_month_g2".to_owned());
    expected.sort();
    assert_eq!(partitions, expected);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'dossiers_g2' ORDER BY indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(indexes.len(), 7, "{indexes:?}");
    for columns in [
        "(code)",
        "(identity_number)",
        "(receiving_unit, received_at)",
        "(holder_unit, status, due_at) WHERE (NOT deleted)",
        "(holder_unit, due_at, aggregate_id) WHERE ((NOT deleted) AND (received_at IS NOT NULL)",
        "(due_at, aggregate_id) WHERE ((NOT deleted) AND (received_at IS NOT NULL)",
        "(generation, aggregate_id)",
    ] {
        assert!(
            indexes.iter().any(|index| index.contains(columns)),
            "no index on {columns}: {indexes:?}"
        );
    }
}

async fn read_model_tables(store: &EventStore) -> Vec<Vec<String>> {
    let mut tables = Vec::new();
    for table in TABLES {
        let sql = match table {
            "dossiers" => "SELECT aggregate_id || ' ' || CAST(state AS TEXT) || ' ' || \
                 CAST(last_position AS TEXT) FROM dossiers ORDER BY aggregate_id"
                .to_owned(),
            "dossier_holders" => "SELECT unit_id || ' ' || aggregate_id FROM dossier_holders \
                 ORDER BY unit_id, aggregate_id"
                .to_owned(),
            counters => {
                let keys = if counters == "bieu06_unit_day" {
                    "unit_id, day"
                } else {
                    "unit_id, procedure_code, field, day"
                };
                let columns = "received_online, received_offline, resolved_early, resolved_on_time, \
                     resolved_late, withdrawn, stopped, refused, overdue_delta, \
                     awaiting_supplement_delta, awaiting_payment_delta";
                let nonzero = columns.replace(", ", " <> 0 OR ") + " <> 0";
                format!(
                    "SELECT CAST(day AS TEXT) || ' ' || {concat} FROM {counters} WHERE {nonzero} ORDER BY {keys}",
                    concat = format!("{keys}, {columns}")
                        .split(", ")
                        .map(|column| format!("CAST({column} AS TEXT)"))
                        .collect::<Vec<_>>()
                        .join(" || ' ' || "),
                )
            }
        };
        let rows: Vec<String> = match store {
            EventStore::Postgres(store) => {
                let mut tx = seeing_everything(store.pool()).await;
                sqlx::query_scalar(&sql).fetch_all(&mut *tx).await.unwrap()
            }
            EventStore::Sqlite(store) => sqlx::query_scalar(&sql)
                .fetch_all(store.pool())
                .await
                .unwrap(),
        };
        tables.push(rows);
    }
    tables
}
