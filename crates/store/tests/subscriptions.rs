//! Tailing readers on both backends: woken promptly by appends, and still
//! served by polling when a notification is lost.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::event;
use motcua_store::{EventStore, LogCursor};

on_both_backends!(
    an_append_wakes_a_waiting_reader_long_before_its_poll,
    a_lost_notification_only_delays_the_reader_until_its_poll,
    a_tail_delivers_every_event_once_in_log_order,
);

async fn an_append_wakes_a_waiting_reader_long_before_its_poll(store: &EventStore) {
    // A poll interval far longer than the test: only a wake-up can serve it.
    let mut tail = store.tail(LogCursor::START, 100, Duration::from_secs(600));
    let reader = tokio::spawn(async move {
        let events = tail.next().await.unwrap();
        (events, Instant::now())
    });
    // Let the reader (and on PostgreSQL its listener) settle before writing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let appended_at = Instant::now();
    store.append(&[event("a", 1)], None).await.unwrap();
    let (events, woken_at) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events.len(), 1);
    let latency = woken_at.duration_since(appended_at);
    assert!(latency < Duration::from_secs(5), "woken after {latency:?}");
}

async fn a_lost_notification_only_delays_the_reader_until_its_poll(store: &EventStore) {
    let mut tail = store.tail(LogCursor::START, 100, Duration::from_millis(200));
    let reader = tokio::spawn(async move { tail.next().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Written behind the store's back: nobody is notified.
    insert_silently(store).await;
    let events = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].aggregate_id, "silent");
}

async fn a_tail_delivers_every_event_once_in_log_order(store: &EventStore) {
    let mut tail = store.tail(LogCursor::START, 7, Duration::from_secs(1));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for sequence in 1..=20 {
                    store
                        .append(&[event(&format!("w{writer}"), sequence)], None)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut received = Vec::new();
    while received.len() < 160 {
        let page = tokio::time::timeout(Duration::from_secs(30), tail.next())
            .await
            .unwrap()
            .unwrap();
        received.extend(page);
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(received.len(), 160);
    assert!(
        received
            .windows(2)
            .all(|pair| pair[0].cursor < pair[1].cursor),
        "in log order, no repeats"
    );
    assert_eq!(tail.cursor(), received[159].cursor);
}

async fn insert_silently(store: &EventStore) {
    match store {
        EventStore::Postgres(postgres) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, unit_id, actor, recorded_at, hash) \
                 VALUES ('Dossier', 'silent', 1, 'Noted', '1.0', '{}', '{}', 'u', 'a', now(), $1)",
            )
            .bind(vec![0u8; 32])
            .execute(postgres.pool())
            .await
            .unwrap();
        }
        EventStore::Sqlite(sqlite) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, position, unit_id, actor, recorded_at, hash) \
                 VALUES ('Dossier', 'silent', 1, 'Noted', '1.0', '{}', '{}', 1, 'u', 'a', '2024-11-05T01:00:00.000000Z', ?1)",
            )
            .bind(vec![0u8; 32])
            .execute(sqlite.pool())
            .await
            .unwrap();
        }
    }
}

/// PostgreSQL: a reader in another process (another store on the same
/// database) hears of an append through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_is_woken_by_an_append() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let elsewhere = EventStore::connect(&db.url).await.unwrap();
    let mut tail = elsewhere.tail(LogCursor::START, 100, Duration::from_secs(600));
    let reader = tokio::spawn(async move {
        let events = tail.next().await.unwrap();
        (events, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let appended_at = Instant::now();
    db.store.append(&[event("a", 1)], None).await.unwrap();
    let (events, woken_at) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events.len(), 1);
    let latency = woken_at.duration_since(appended_at);
    assert!(latency < Duration::from_secs(5), "woken after {latency:?}");
}
