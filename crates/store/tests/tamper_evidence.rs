//! Tamper evidence, on both backends: events are rewritten, deleted and
//! forged behind the store's back with raw SQL, and chain verification names
//! the first broken link of each stream, with the same answer from
//! `verify_all` (the global log) and `verify_stream` (one stream).
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use chrono::SecondsFormat;
use common::event;
use motcua_store::{BreakKind, Broken, ChainReport, EventStore, RecordedEvent, hash};
use serde_json::{Value, json};

on_both_backends!(
    a_clean_log_is_intact,
    an_altered_payload_is_a_hash_mismatch_at_its_sequence,
    an_altered_hash_is_a_hash_mismatch_at_its_sequence,
    a_deleted_event_is_a_missing_sequence,
    a_carefully_replaced_event_breaks_the_next_link,
    an_event_chained_from_a_wrong_predecessor_is_a_chain_mismatch,
    verify_stream_names_the_same_first_broken_link_as_verify_all,
);

async fn a_clean_log_is_intact(store: &EventStore) {
    build(store, &[("a", 3), ("b", 1), ("c", 4)]).await;
    // Same id, another aggregate type: another stream.
    let mut other = [event("a", 1), event("a", 2)];
    for event in &mut other {
        event.aggregate_type = "Unit".to_owned();
    }
    store.append(&other, None).await.unwrap();

    // The payloads hold nested objects whose keys jsonb reorders on
    // PostgreSQL: hashes are over canonical JSON, so the log verifies.
    let report = verified(store, 10).await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 10);
    assert_eq!(report.streams_checked, 4);

    let a = store.verify_stream("Dossier", "a").await.unwrap();
    assert!(a.is_intact(), "{a:?}");
    assert_eq!((a.events_checked, a.streams_checked), (3, 1));
    let unit = store.verify_stream("Unit", "a").await.unwrap();
    assert!(unit.is_intact(), "{unit:?}");
    assert_eq!((unit.events_checked, unit.streams_checked), (2, 1));
    assert_eq!(
        store.verify_stream("Dossier", "unknown").await.unwrap(),
        ChainReport::default()
    );
}

async fn an_altered_payload_is_a_hash_mismatch_at_its_sequence(store: &EventStore) {
    build(store, &[("a", 5), ("b", 3)]).await;
    let a3 = stored(store, "a", 3).await;
    rewrite(store, &a3, &json!({"note": "a #3, corrected"}), &a3.hash).await;
    // The last event of a stream has no successor to vouch for its hash:
    // still a mismatch.
    let b3 = stored(store, "b", 3).await;
    rewrite(store, &b3, &json!({"note": "b #3, corrected"}), &b3.hash).await;

    let report = verified(store, 8).await;
    assert_eq!(
        report.broken,
        [
            at(&a3, BreakKind::HashMismatch),
            at(&b3, BreakKind::HashMismatch)
        ]
        .into_iter()
        .sorted_by_position(),
    );
    assert_eq!((report.events_checked, report.streams_checked), (8, 2));
}

async fn an_altered_hash_is_a_hash_mismatch_at_its_sequence(store: &EventStore) {
    build(store, &[("a", 5)]).await;
    let a2 = stored(store, "a", 2).await;
    rewrite(store, &a2, &a2.event.payload, &[7; 32]).await;

    let report = verified(store, 5).await;
    assert_eq!(report.broken, [at(&a2, BreakKind::HashMismatch)]);
}

async fn a_deleted_event_is_a_missing_sequence(store: &EventStore) {
    build(store, &[("a", 5), ("b", 3), ("c", 2)]).await;
    let a4 = stored(store, "a", 4).await;
    let b2 = stored(store, "b", 2).await;
    delete(store, "a", 3).await;
    delete(store, "b", 1).await;
    // A deleted stream end leaves a valid, shorter chain: only checkpoints
    // over stream heads can show it.
    delete(store, "c", 2).await;

    let report = verified(store, 7).await;
    assert_eq!(
        report.broken,
        [
            at(&a4, BreakKind::MissingSequence { expected: 3 }),
            at(&b2, BreakKind::MissingSequence { expected: 1 }),
        ]
        .into_iter()
        .sorted_by_position(),
    );
    assert_eq!((report.events_checked, report.streams_checked), (7, 3));
    assert!(
        store
            .verify_stream("Dossier", "c")
            .await
            .unwrap()
            .is_intact()
    );
}

/// A careful forger replaces event 3 and recomputes its hash from event 2:
/// event 3 chains, event 4 no longer does. That is exactly what an edit of
/// event 4's content looks like, so both are reported alike, at sequence 4.
async fn a_carefully_replaced_event_breaks_the_next_link(store: &EventStore) {
    build(store, &[("a", 5), ("b", 5)]).await;
    let a2 = stored(store, "a", 2).await;
    let a3 = stored(store, "a", 3).await;
    let a4 = stored(store, "a", 4).await;
    let forged = json!({"note": "a #3, as it should have been"});
    rewrite(store, &a3, &forged, &chained(&a2.hash, &a3, &forged)).await;
    let b4 = stored(store, "b", 4).await;
    rewrite(store, &b4, &json!({"note": "b #4, edited"}), &b4.hash).await;

    let report = verified(store, 10).await;
    assert_eq!(
        report.broken,
        [
            at(&a4, BreakKind::HashMismatch),
            at(&b4, BreakKind::HashMismatch)
        ]
        .into_iter()
        .sorted_by_position(),
    );
}

/// A forged event whose hash is valid for its content, but computed from
/// another hash than its predecessor's: it breaks its own link, and its
/// successor does not follow it either.
async fn an_event_chained_from_a_wrong_predecessor_is_a_chain_mismatch(store: &EventStore) {
    build(store, &[("a", 5), ("b", 5)]).await;
    // Replaced in place, chained as if it began the stream.
    let a3 = stored(store, "a", 3).await;
    let forged = json!({"note": "a #3, forged"});
    rewrite(store, &a3, &forged, &chained(&hash::GENESIS, &a3, &forged)).await;
    // Deleted and inserted again at the end of the log, chained from event 1.
    let b1 = stored(store, "b", 1).await;
    let b3 = stored(store, "b", 3).await;
    delete(store, "b", 3).await;
    let forged = json!({"note": "b #3, forged"});
    insert(store, &b3, &forged, &chained(&b1.hash, &b3, &forged)).await;
    let b3 = stored(store, "b", 3).await;

    let report = verified(store, 10).await;
    assert_eq!(
        report.broken,
        [
            at(&a3, BreakKind::ChainMismatch),
            at(&b3, BreakKind::ChainMismatch)
        ]
        .into_iter()
        .sorted_by_position(),
    );
}

async fn verify_stream_names_the_same_first_broken_link_as_verify_all(store: &EventStore) {
    let streams = ["a", "b", "c", "d", "e", "f"];
    build(store, &streams.map(|id| (id, 5))).await;
    // a: a payload edited.
    let a2 = stored(store, "a", 2).await;
    rewrite(store, &a2, &json!({"note": "edited"}), &a2.hash).await;
    // b: an event deleted.
    delete(store, "b", 3).await;
    // c: an event carefully replaced.
    let (c1, c2) = (stored(store, "c", 1).await, stored(store, "c", 2).await);
    let forged = json!({"note": "careful"});
    rewrite(store, &c2, &forged, &chained(&c1.hash, &c2, &forged)).await;
    // d: an event chained from a wrong predecessor.
    let d4 = stored(store, "d", 4).await;
    let forged = json!({"note": "wrong predecessor"});
    rewrite(store, &d4, &forged, &chained(&hash::GENESIS, &d4, &forged)).await;
    // e: an event deleted, then carefully forged at the end of the log, so
    // that the global log holds e's events out of sequence order.
    let (e1, e2) = (stored(store, "e", 1).await, stored(store, "e", 2).await);
    delete(store, "e", 2).await;
    let forged = json!({"note": "careful, late"});
    insert(store, &e2, &forged, &chained(&e1.hash, &e2, &forged)).await;
    // f: untouched.

    let report = verified(store, 29).await;
    assert_eq!(report.streams_checked, 6);
    // In position order: the order of the broken events in the log.
    assert!(
        report
            .broken
            .windows(2)
            .all(|pair| pair[0].position < pair[1].position)
    );
    let mut named: Vec<_> = report
        .broken
        .iter()
        .map(|broken| (broken.aggregate_id.as_str(), broken.sequence, broken.kind))
        .collect();
    named.sort_by_key(|(id, ..)| *id);
    assert_eq!(
        named,
        [
            ("a", 2, BreakKind::HashMismatch),
            ("b", 4, BreakKind::MissingSequence { expected: 3 }),
            ("c", 3, BreakKind::HashMismatch),
            ("d", 4, BreakKind::ChainMismatch),
            ("e", 3, BreakKind::HashMismatch),
        ]
    );
    for id in streams {
        let one = store.verify_stream("Dossier", id).await.unwrap();
        let expected: Vec<_> = report
            .broken
            .iter()
            .filter(|broken| broken.aggregate_id == id)
            .cloned()
            .collect();
        assert_eq!(one.broken, expected, "stream {id}");
        let length = store.load_stream("Dossier", id, 0).await.unwrap().len();
        assert_eq!(one.events_checked, length as u64);
        assert_eq!(one.streams_checked, 1);
    }
}

/// Appends the streams round-robin (so they interleave in the log), the
/// first two events of each in one append.
async fn build(store: &EventStore, streams: &[(&str, i64)]) {
    let longest = streams.iter().map(|(_, length)| *length).max().unwrap_or(0);
    for sequence in 1..=longest {
        for (id, length) in streams {
            match sequence {
                1 if *length >= 2 => {
                    store
                        .append(&[event(id, 1), event(id, 2)], None)
                        .await
                        .unwrap();
                }
                2 => {}
                sequence if sequence <= *length => {
                    store.append(&[event(id, sequence)], None).await.unwrap();
                }
                _ => {}
            }
        }
    }
}

/// `verify_all` once all `expected` events are visible to it. On PostgreSQL
/// the global log shows an event only once every older transaction of the
/// cluster has ended (other tests' included): wait for that, bounded.
async fn verified(store: &EventStore, expected: u64) -> ChainReport {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = store.verify_all().await.unwrap();
        assert!(
            report.events_checked <= expected,
            "{} events checked where {expected} are stored",
            report.events_checked
        );
        if report.events_checked == expected {
            return report;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} events became visible",
            report.events_checked
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn stored(store: &EventStore, id: &str, sequence: i64) -> RecordedEvent {
    store
        .load_stream("Dossier", id, sequence - 1)
        .await
        .unwrap()
        .into_iter()
        .next()
        .filter(|row| row.event.sequence == sequence)
        .unwrap()
}

/// The hash `row` would have with `payload`, after `previous`.
fn chained(previous: &[u8; 32], row: &RecordedEvent, payload: &Value) -> [u8; 32] {
    let mut forged = row.event.clone();
    forged.payload = payload.clone();
    hash::chain(previous, &forged, row.recorded_at)
}

/// The first broken link, at `row` as stored.
fn at(row: &RecordedEvent, kind: BreakKind) -> Broken {
    Broken {
        aggregate_type: row.event.aggregate_type.clone(),
        aggregate_id: row.event.aggregate_id.clone(),
        sequence: row.event.sequence,
        position: row.cursor.position,
        kind,
    }
}

trait SortedByPosition {
    fn sorted_by_position(self) -> Vec<Broken>;
}

impl<I: Iterator<Item = Broken>> SortedByPosition for I {
    fn sorted_by_position(self) -> Vec<Broken> {
        let mut broken: Vec<_> = self.collect();
        broken.sort_by_key(|broken| broken.position);
        broken
    }
}

/// SQLite refuses UPDATE and DELETE on events with triggers: a tamperer
/// with the file drops them. (On PostgreSQL the tests connect as a
/// superuser, who may do anything.)
async fn allow_tampering(store: &EventStore) {
    if let EventStore::Sqlite(sqlite) = store {
        for trigger in ["events_no_update", "events_no_delete"] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                .execute(sqlite.pool())
                .await
                .unwrap();
        }
    }
}

/// Sets the payload and hash of the stored `row`, in place.
async fn rewrite(store: &EventStore, row: &RecordedEvent, payload: &Value, hash: &[u8; 32]) {
    allow_tampering(store).await;
    let (id, sequence) = (&row.event.aggregate_id, row.event.sequence);
    let updated = match store {
        EventStore::Postgres(postgres) => sqlx::query(
            "UPDATE events SET payload = $1, hash = $2 \
             WHERE aggregate_type = 'Dossier' AND aggregate_id = $3 AND sequence = $4",
        )
        .bind(payload)
        .bind(hash.as_slice())
        .bind(id)
        .bind(sequence)
        .execute(postgres.pool())
        .await
        .unwrap()
        .rows_affected(),
        EventStore::Sqlite(sqlite) => sqlx::query(
            "UPDATE events SET payload = ?1, hash = ?2 \
             WHERE aggregate_type = 'Dossier' AND aggregate_id = ?3 AND sequence = ?4",
        )
        .bind(payload.to_string())
        .bind(hash.as_slice())
        .bind(id)
        .bind(sequence)
        .execute(sqlite.pool())
        .await
        .unwrap()
        .rows_affected(),
    };
    assert_eq!(updated, 1);
}

async fn delete(store: &EventStore, id: &str, sequence: i64) {
    allow_tampering(store).await;
    let deleted = match store {
        EventStore::Postgres(postgres) => sqlx::query(
            "DELETE FROM events WHERE aggregate_type = 'Dossier' AND aggregate_id = $1 AND sequence = $2",
        )
        .bind(id)
        .bind(sequence)
        .execute(postgres.pool())
        .await
        .unwrap()
        .rows_affected(),
        EventStore::Sqlite(sqlite) => sqlx::query(
            "DELETE FROM events WHERE aggregate_type = 'Dossier' AND aggregate_id = ?1 AND sequence = ?2",
        )
        .bind(id)
        .bind(sequence)
        .execute(sqlite.pool())
        .await
        .unwrap()
        .rows_affected(),
    };
    assert_eq!(deleted, 1);
}

/// Inserts a copy of `row` with `payload` and `hash` at the end of the log
/// (a new position; on PostgreSQL also a new transaction).
async fn insert(store: &EventStore, row: &RecordedEvent, payload: &Value, hash: &[u8; 32]) {
    let event = &row.event;
    match store {
        EventStore::Postgres(postgres) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, unit_id, actor, recorded_at, command_id, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(payload)
            .bind(&event.metadata)
            .bind(&event.unit_id)
            .bind(&event.actor)
            .bind(row.recorded_at)
            .bind(&event.command_id)
            .bind(hash.as_slice())
            .execute(postgres.pool())
            .await
            .unwrap();
        }
        EventStore::Sqlite(sqlite) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, position, unit_id, actor, recorded_at, \
                 command_id, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT MAX(position) + 1 FROM events), \
                 ?8, ?9, ?10, ?11, ?12)",
            )
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(payload.to_string())
            .bind(event.metadata.to_string())
            .bind(&event.unit_id)
            .bind(&event.actor)
            .bind(row.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true))
            .bind(&event.command_id)
            .bind(hash.as_slice())
            .execute(sqlite.pool())
            .await
            .unwrap();
        }
    }
}
