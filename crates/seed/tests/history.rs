//! Histories on SQLite: every command accepted, every kind of transition
//! taken, the same events for the same seed.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDate;
use motcua_domain::role::Action;
use motcua_seed::{HistoryConfig, Mix, Province, SeedError, generate};
use motcua_store::{EventStore, LogCursor};
use serde_json::Value;

/// A migrated SQLite store in a file of its own, removed on drop.
struct TestStore {
    store: EventStore,
    path: PathBuf,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

async fn sqlite() -> TestStore {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "motcua_seed_{}_{}.db",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let store = EventStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    TestStore { store, path }
}

fn config(seed: u64, dossiers: usize, mix: Mix) -> HistoryConfig {
    HistoryConfig {
        concurrency: 4,
        mix,
        ..HistoryConfig::new(
            seed,
            dossiers,
            NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            2,
        )
    }
}

/// Every event as (stream, sequence, type, payload, metadata), by stream.
async fn events(store: &EventStore) -> Vec<(String, i64, String, Value, Value)> {
    let mut events = Vec::new();
    let mut cursor = LogCursor::START;
    loop {
        let page = store.read_all(cursor, 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        events.extend(page.into_iter().map(|recorded| {
            let event = recorded.event;
            (
                event.aggregate_id,
                event.sequence,
                event.event_type,
                event.payload,
                event.metadata,
            )
        }));
    }
    events.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_history_is_accepted_command_by_command() {
    let db = sqlite().await;
    let province = Province::generate(1).unwrap();
    let progress = std::sync::Mutex::new(Vec::new());
    let summary = generate(
        &db.store,
        &province,
        config(1, 400, Mix::default()),
        |report| {
            progress.lock().unwrap().push(report);
        },
    )
    .await
    .unwrap();

    assert_eq!(summary.rejections, 0, "{:#?}", summary.rejection_samples);
    assert_eq!(summary.dossiers, 400);
    assert!(summary.commands >= 400 * 5, "{summary:#?}");
    assert!(
        summary.events > summary.commands,
        "submissions at the counter are accepted at once"
    );
    let stored = events(&db.store).await;
    assert_eq!(stored.len() as u64, summary.events);
    let streams: BTreeSet<&str> = stored.iter().map(|event| event.0.as_str()).collect();
    assert_eq!(streams.len(), 400);

    // Where dossiers ended: mostly returned, a few still open.
    let returned = summary.final_statuses.get(&10).copied().unwrap_or(0);
    assert!(returned > 300, "{summary:#?}");
    assert!(summary.finished_early + summary.finished_on_time > 10 * summary.finished_late);
    assert!(
        summary.open_at_end > 0 && summary.open_at_end < 40,
        "{summary:#?}"
    );

    // Progress was reported, and the last report is the whole history.
    let reports = progress.into_inner().unwrap();
    let last = reports.last().unwrap();
    assert_eq!(last.dossiers_done, 400);
    assert_eq!(last.commands, summary.commands);
    assert_eq!(last.events, summary.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventful_history_takes_every_kind_of_transition() {
    let db = sqlite().await;
    let province = Province::generate(2).unwrap();
    let summary = generate(
        &db.store,
        &province,
        config(2, 300, Mix::eventful()),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.rejections, 0, "{:#?}", summary.rejection_samples);

    // Every action but the hand-over, which only a reorganisation causes.
    let expected: BTreeSet<&str> = Action::ALL
        .iter()
        .filter(|action| **action != Action::HandOver)
        .map(|action| action.as_str())
        .collect();
    let taken: BTreeSet<&str> = summary.actions.keys().copied().collect();
    assert_eq!(
        expected.difference(&taken).collect::<Vec<_>>(),
        Vec::<&&str>::new(),
        "{:#?}",
        summary.actions
    );
    let event_types: BTreeSet<String> = events(&db.store)
        .await
        .into_iter()
        .map(|event| event.2)
        .collect();
    assert_eq!(
        event_types.len(),
        25,
        "every event type but DossierHandedOver: {event_types:?}"
    );
    // Every DVCQG status at the end of the period.
    for status in 1..=10u8 {
        assert!(
            summary.final_statuses.contains_key(&status),
            "no dossier ends in status {status}: {:?}",
            summary.final_statuses
        );
    }
    assert!(summary.finished_late > 0 && summary.deleted > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_writes_the_same_events() {
    let province = Province::generate(3).unwrap();
    let (first, second) = (sqlite().await, sqlite().await);
    for db in [&first, &second] {
        let summary = generate(
            &db.store,
            &province,
            config(3, 250, Mix::eventful()),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(summary.rejections, 0, "{:#?}", summary.rejection_samples);
    }
    let (left, right) = (events(&first.store).await, events(&second.store).await);
    assert!(!left.is_empty());
    assert_eq!(left.len(), right.len());
    for (a, b) in left.iter().zip(&right) {
        assert_eq!(a, b);
    }

    // Another seed, another history.
    let third = sqlite().await;
    generate(
        &third.store,
        &province,
        config(4, 250, Mix::eventful()),
        |_| {},
    )
    .await
    .unwrap();
    assert_ne!(events(&third.store).await, left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_is_seeded_once() {
    let db = sqlite().await;
    let province = Province::generate(5).unwrap();
    generate(&db.store, &province, config(5, 20, Mix::default()), |_| {})
        .await
        .unwrap();
    let again = generate(&db.store, &province, config(5, 20, Mix::default()), |_| {}).await;
    assert!(
        matches!(again, Err(SeedError::AlreadySeeded(_))),
        "{again:?}"
    );
}

#[test]
fn configurations_are_checked() {
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let (start, end) = HistoryConfig::new(1, 10, from, 6).period().unwrap();
    assert_eq!((end - start).num_days(), 31 + 28 + 31 + 30 + 31 + 30);
    assert_eq!(
        HistoryConfig::new(1, 10, from, 6).until().unwrap(),
        NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
    );
}
