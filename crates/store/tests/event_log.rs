//! One suite, run against both backends: appends, optimistic concurrency,
//! the hash chain, snapshots and the gap-free global log.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::{Xorshift, event};
use motcua_store::{EventStore, LogCursor, SnapshotUpdate, StoreError, hash};
use serde_json::json;

on_both_backends!(
    appended_events_read_back_exactly,
    each_hash_chains_to_the_previous_event_of_its_stream,
    a_stale_sequence_is_a_conflict_and_writes_nothing,
    concurrent_appends_at_one_sequence_let_exactly_one_win,
    a_losing_append_does_not_sink_the_appends_committed_with_it,
    an_append_must_continue_its_stream,
    a_snapshot_is_written_with_its_events,
    the_global_log_pages_in_order_without_repeats,
    a_tailing_reader_sees_every_event_of_concurrent_writers_once,
);

async fn appended_events_read_back_exactly(store: &EventStore) {
    let events = [event("a", 1), event("a", 2), event("a", 3)];
    let appended = store.append(&events, None).await.unwrap();
    assert_eq!(appended.len(), 3);
    let loaded = store.load_stream("Dossier", "a", 0).await.unwrap();
    assert_eq!(loaded, appended, "what was read is what was written");
    assert_eq!(
        loaded.iter().map(|e| &e.event).cloned().collect::<Vec<_>>(),
        events
    );
    let tail = store.load_stream("Dossier", "a", 2).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].event.sequence, 3);
    assert!(
        store
            .load_stream("Dossier", "unknown", 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.load_stream("Other", "a", 0).await.unwrap().is_empty());
}

async fn each_hash_chains_to_the_previous_event_of_its_stream(store: &EventStore) {
    store
        .append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    store.append(&[event("b", 1)], None).await.unwrap();
    store.append(&[event("a", 3)], None).await.unwrap();
    for stream in ["a", "b"] {
        let mut previous = hash::GENESIS;
        for recorded in store.load_stream("Dossier", stream, 0).await.unwrap() {
            // Recomputed from what the database gives back (jsonb reorders keys).
            assert_eq!(
                recorded.hash,
                hash::chain(&previous, &recorded.event, recorded.recorded_at)
            );
            previous = recorded.hash;
        }
    }
    let a = store.load_stream("Dossier", "a", 0).await.unwrap();
    assert_ne!(a[0].hash, a[1].hash);
}

async fn a_stale_sequence_is_a_conflict_and_writes_nothing(store: &EventStore) {
    store
        .append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    let mut stale = event("a", 2);
    stale.payload = json!({"note": "written by a writer who did not see #2"});
    let error = store
        .append(&[stale, event("a", 3)], None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { aggregate_id, sequence: 2, .. } if aggregate_id == "a"),
        "{error:?}"
    );
    let loaded = store.load_stream("Dossier", "a", 0).await.unwrap();
    assert_eq!(loaded.len(), 2, "the whole append was rolled back");
    assert_eq!(loaded[1].event, event("a", 2));
}

async fn concurrent_appends_at_one_sequence_let_exactly_one_win(store: &EventStore) {
    store.append(&[event("a", 1)], None).await.unwrap();
    let store = Arc::new(store.clone());
    let writers: Vec<_> = (0..16)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut next = event("a", 2);
                next.actor = format!("writer-{writer}");
                store.append(&[next], None).await
            })
        })
        .collect();
    let mut won = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict { sequence: 2, .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.load_stream("Dossier", "a", 0).await.unwrap().len(), 2);
}

/// On PostgreSQL concurrent appends are written together (group commit); a
/// conflict among them must fail only the loser.
async fn a_losing_append_does_not_sink_the_appends_committed_with_it(store: &EventStore) {
    let store = Arc::new(store.clone());
    let writers: Vec<_> = (0..48)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                // Every fourth writer races for the same first event.
                let stream = if writer % 4 == 0 {
                    "contested".to_owned()
                } else {
                    format!("s{writer}")
                };
                let mut first = event(&stream, 1);
                first.actor = format!("writer-{writer}");
                (stream, store.append(&[first], None).await)
            })
        })
        .collect();
    let (mut landed, mut lost) = (0, 0);
    for writer in writers {
        let (stream, outcome) = writer.await.unwrap();
        match outcome {
            Ok(recorded) => {
                landed += 1;
                assert_eq!(recorded[0].event.aggregate_id, stream);
            }
            Err(StoreError::Conflict { aggregate_id, .. }) if aggregate_id == "contested" => {
                lost += 1
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!((landed, lost), (36 + 1, 11));
    let log = common::read_everything(&store, 37).await;
    assert_eq!(log.len(), 37);
    assert!(store.verify_all().await.unwrap().is_intact());
}

async fn an_append_must_continue_its_stream(store: &EventStore) {
    let gap = store.append(&[event("a", 2)], None).await.unwrap_err();
    assert!(matches!(gap, StoreError::InvalidAppend { .. }), "{gap:?}");
    let skipped = store
        .append(&[event("a", 1), event("a", 3)], None)
        .await
        .unwrap_err();
    assert!(
        matches!(skipped, StoreError::InvalidAppend { .. }),
        "{skipped:?}"
    );
    let mixed = store
        .append(&[event("a", 1), event("b", 2)], None)
        .await
        .unwrap_err();
    assert!(
        matches!(mixed, StoreError::InvalidAppend { .. }),
        "{mixed:?}"
    );
    let mut anonymous = event("a", 1);
    anonymous.actor.clear();
    let missing = store.append(&[anonymous], None).await.unwrap_err();
    assert!(
        matches!(missing, StoreError::MissingMetadata { field: "actor", .. }),
        "{missing:?}"
    );
    assert!(
        store
            .read_all(LogCursor::START, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was written"
    );
}

async fn a_snapshot_is_written_with_its_events(store: &EventStore) {
    assert_eq!(store.snapshot("Dossier", "a").await.unwrap(), None);
    let first = SnapshotUpdate {
        payload: json!({"state": 2}),
        last_sequence: 2,
        current_snapshot: 1,
    };
    store
        .append(&[event("a", 1), event("a", 2)], Some(&first))
        .await
        .unwrap();
    assert_eq!(store.snapshot("Dossier", "a").await.unwrap(), Some(first));
    let second = SnapshotUpdate {
        payload: json!({"state": 3}),
        last_sequence: 3,
        current_snapshot: 2,
    };
    store.append(&[event("a", 3)], Some(&second)).await.unwrap();
    assert_eq!(
        store.snapshot("Dossier", "a").await.unwrap(),
        Some(second.clone())
    );
    // A conflicting append leaves the snapshot as it was.
    let stale = SnapshotUpdate {
        payload: json!({"state": "stale"}),
        last_sequence: 3,
        current_snapshot: 3,
    };
    store
        .append(&[event("a", 3)], Some(&stale))
        .await
        .unwrap_err();
    assert_eq!(store.snapshot("Dossier", "a").await.unwrap(), Some(second));
}

async fn the_global_log_pages_in_order_without_repeats(store: &EventStore) {
    for round in 1..=5 {
        for stream in ["a", "b", "c"] {
            store.append(&[event(stream, round)], None).await.unwrap();
        }
    }
    let everything = common::read_everything(store, 15).await;
    assert!(
        everything
            .windows(2)
            .all(|pair| pair[0].cursor < pair[1].cursor)
    );
    let mut paged = Vec::new();
    let mut after = LogCursor::START;
    loop {
        let page = store.read_all(after, 4).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.cursor;
        paged.extend(page);
    }
    assert_eq!(paged, everything);
    assert!(store.read_all(after, 4).await.unwrap().is_empty());

    // `read_log` pages the same events, each as its light entry.
    let mut entries = Vec::new();
    let mut after = LogCursor::START;
    loop {
        let page = store.read_log(after, 4).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.cursor;
        entries.extend(page);
    }
    assert_eq!(entries.len(), everything.len());
    for (entry, recorded) in entries.iter().zip(&everything) {
        assert_eq!(entry.cursor, recorded.cursor);
        assert_eq!(entry.aggregate_type, recorded.event.aggregate_type);
        assert_eq!(entry.aggregate_id, recorded.event.aggregate_id);
        assert_eq!(entry.sequence, recorded.event.sequence);
        assert_eq!(entry.event_type, recorded.event.event_type);
        assert_eq!(entry.event_version, recorded.event.event_version);
        let payload: serde_json::Value = serde_json::from_str(&entry.payload).unwrap();
        assert_eq!(payload, recorded.event.payload);
    }

    // One streamed read hands the same entries over in pages of the size
    // asked, the last one short, up to its limit.
    let mut pages = Vec::new();
    let handed = store
        .read_log_pages(LogCursor::START, 100, 4, |page| {
            pages.push(page);
            std::future::ready(true)
        })
        .await
        .unwrap();
    assert_eq!(handed, 15);
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 4, 4, 3]);
    assert_eq!(pages.concat(), entries);
    let mut pages = Vec::new();
    let handed = store
        .read_log_pages(entries[2].cursor, 9, 4, |page| {
            pages.push(page);
            std::future::ready(true)
        })
        .await
        .unwrap();
    assert_eq!(handed, 9, "the limit bounds the read");
    assert_eq!(pages.concat(), entries[3..12]);
    // A page refused stops the read there.
    let mut refused = 0;
    let handed = store
        .read_log_pages(LogCursor::START, 100, 4, |_| {
            refused += 1;
            std::future::ready(false)
        })
        .await
        .unwrap();
    assert_eq!((handed, refused), (4, 1));
}

/// 16 writers append while a reader tails the log from its last cursor: the
/// reader receives every committed event exactly once, in the log's order.
async fn a_tailing_reader_sees_every_event_of_concurrent_writers_once(store: &EventStore) {
    const WRITERS: u64 = 16;
    const APPENDS: i64 = 25;
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut random = Xorshift(0x9E37_79B9_7F4A_7C15 ^ (writer + 1));
                for sequence in 1..=APPENDS {
                    store
                        .append(&[event(&format!("w{writer}"), sequence)], None)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_micros(random.below(2_000))).await;
                }
            })
        })
        .collect();
    let expected = (WRITERS as i64 * APPENDS) as usize;
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { tail_until(&store, expected).await })
    };
    // A failing writer is reported as such, not as a reader waiting in vain.
    for writer in writers {
        writer.await.unwrap();
    }
    let received = reader.await.unwrap();
    assert_tail_is_the_log(store, &received, expected).await;
}

/// Reads the log from the start until `expected` events came, within a minute.
pub async fn tail_until(store: &EventStore, expected: usize) -> Vec<motcua_store::RecordedEvent> {
    let mut received = Vec::new();
    let mut after = LogCursor::START;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while received.len() < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} events arrived",
            received.len()
        );
        let page = store.read_all(after, 50).await.unwrap();
        match page.last() {
            Some(last) => after = last.cursor,
            None => tokio::time::sleep(Duration::from_millis(2)).await,
        }
        received.extend(page);
    }
    received
}

/// The tail holds each event once, and in the same order as a full read afterwards.
pub async fn assert_tail_is_the_log(
    store: &EventStore,
    received: &[motcua_store::RecordedEvent],
    expected: usize,
) {
    let positions: HashSet<i64> = received.iter().map(|event| event.cursor.position).collect();
    assert_eq!(
        positions.len(),
        received.len(),
        "an event was received twice"
    );
    assert_eq!(received.len(), expected);
    let log = common::read_everything(store, expected).await;
    let order: Vec<_> = log.iter().map(|event| event.cursor).collect();
    let tailed: Vec<_> = received.iter().map(|event| event.cursor).collect();
    assert_eq!(tailed, order, "the reader saw another order than the log's");
    let streams: BTreeSet<_> = received
        .iter()
        .map(|event| event.event.aggregate_id.clone())
        .collect();
    for stream in streams {
        let sequences: Vec<_> = received
            .iter()
            .filter(|event| event.event.aggregate_id == stream)
            .map(|event| event.event.sequence)
            .collect();
        assert!(
            sequences.windows(2).all(|pair| pair[0] + 1 == pair[1]),
            "stream {stream} out of order"
        );
    }
}
