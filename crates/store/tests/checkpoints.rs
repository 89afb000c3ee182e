//! Checkpoints, on both backends: a Merkle root over the stream heads as of
//! a log cursor verifies on untouched data and keeps verifying as the log
//! grows, while a payload rewritten with its chain recomputed, a deleted
//! event, or a forged event placed before the cursor — each done behind the
//! store's back, as the owner, so that `verify_all` still passes — makes the
//! exported checkpoint fail, naming the stream.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use chrono::{SecondsFormat, TimeZone, Utc};
use common::event;
use motcua_store::checkpoint::{StreamHead, leaf_hash, merkle_root};
use motcua_store::{
    Checkpoint, CheckpointVerdict, EventStore, HeadDifference, LogCursor, RecordedEvent, hash,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

on_both_backends!(
    an_empty_log_has_the_root_of_no_streams,
    a_checkpoint_verifies_on_untouched_data,
    a_consistently_rewritten_payload_fails_the_exported_checkpoint,
    deleted_events_fail_the_exported_checkpoint,
    a_forged_event_before_the_cursor_fails_the_exported_checkpoint,
    events_appended_after_the_checkpoint_do_not_break_it,
    keep_checkpointing_takes_one_each_interval_while_the_log_moves,
    keep_checkpointing_survives_failures_and_stops_on_shutdown,
);

// ---------------------------------------------------------------------------
// The root and the file, without a database.

/// The documented construction, written out again independently.
fn specified_root(heads: &[(&str, &str, i64, [u8; 32])]) -> [u8; 32] {
    let mut sorted = heads.to_vec();
    sorted.sort_by(|a, b| (a.0.as_bytes(), a.1.as_bytes()).cmp(&(b.0.as_bytes(), b.1.as_bytes())));
    let mut level: Vec<[u8; 32]> = sorted
        .iter()
        .map(|(aggregate_type, aggregate_id, sequence, hash)| {
            let mut bytes = vec![0x00];
            bytes.extend((aggregate_type.len() as u64).to_be_bytes());
            bytes.extend(aggregate_type.as_bytes());
            bytes.extend((aggregate_id.len() as u64).to_be_bytes());
            bytes.extend(aggregate_id.as_bytes());
            bytes.extend(sequence.to_be_bytes());
            bytes.extend(hash);
            Sha256::digest(&bytes).into()
        })
        .collect();
    if level.is_empty() {
        return Sha256::digest(b"").into();
    }
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            if pair.len() == 2 {
                let mut bytes = vec![0x01];
                bytes.extend(pair[0]);
                bytes.extend(pair[1]);
                next.push(Sha256::digest(&bytes).into());
            } else {
                next.push(pair[0]);
            }
        }
        level = next;
    }
    level[0]
}

/// The heads as `specified_root` takes them.
fn as_tuples(heads: &[StreamHead]) -> Vec<(&str, &str, i64, [u8; 32])> {
    heads
        .iter()
        .map(|h| {
            (
                h.aggregate_type.as_str(),
                h.aggregate_id.as_str(),
                h.sequence,
                h.hash,
            )
        })
        .collect()
}

fn head(aggregate_type: &str, aggregate_id: &str, sequence: i64, byte: u8) -> StreamHead {
    StreamHead {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        sequence,
        hash: [byte; 32],
    }
}

#[test]
fn the_merkle_root_follows_its_specification() {
    // Zero streams: SHA-256 of the empty input.
    assert_eq!(
        hex(&merkle_root(&[])),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // One stream: its leaf.
    let one = head("Dossier", "a", 3, 7);
    assert_eq!(merkle_root(std::slice::from_ref(&one)), leaf_hash(&one));
    // Leaves are ordered by (type, id) as bytes, whatever the input order;
    // with five leaves the odd ones are carried up at two levels.
    let heads = [
        head("Unit", "a", 1, 1),
        head("Dossier", "b", 2, 2),
        head("Dossier", "a", 9, 3),
        head("Dossier", "B", 1, 4),
        head("Dossier", "á", 4, 5),
    ];
    assert_eq!(merkle_root(&heads), specified_root(&as_tuples(&heads)));
    let mut reversed = heads.clone();
    reversed.reverse();
    assert_eq!(merkle_root(&reversed), merkle_root(&heads));
    // Every field counts, and the length prefixes keep ("ab","c") apart from ("a","bc").
    assert_ne!(
        merkle_root(&[head("ab", "c", 1, 0)]),
        merkle_root(&[head("a", "bc", 1, 0)])
    );
    assert_ne!(
        merkle_root(&[head("a", "b", 1, 0)]),
        merkle_root(&[head("a", "b", 2, 0)])
    );
}

/// The root is built leaf by leaf (one node per level held); every count
/// of leaves up to a few levels gives the level-by-level root.
#[test]
fn the_merkle_root_of_any_number_of_streams_follows_its_specification() {
    for count in 0..=70_u8 {
        let heads: Vec<StreamHead> = (0..count)
            .map(|n| {
                head(
                    "Dossier",
                    &format!("hs-{:03}", 97 * u32::from(n) % 101),
                    1,
                    n,
                )
            })
            .collect();
        assert_eq!(
            merkle_root(&heads),
            specified_root(&as_tuples(&heads)),
            "{count} streams"
        );
    }
}

#[test]
fn the_checkpoint_file_round_trips_in_its_documented_format() {
    let checkpoint = Checkpoint {
        cursor: LogCursor {
            transaction: 812,
            position: 42,
        },
        root: [0xab; 32],
        streams: 7,
        created_at: Utc.with_ymd_and_hms(2024, 11, 5, 1, 15, 0).unwrap()
            + chrono::Duration::microseconds(123_456),
    };
    let file = checkpoint.to_json().unwrap();
    assert!(file.ends_with('\n'));
    let value: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        value,
        json!({
            "format": "motcua checkpoint",
            "version": 1,
            "cursor": {"transaction": 812, "position": 42},
            "streams": 7,
            "root": "ab".repeat(32),
            "created_at": "2024-11-05T01:15:00.123456Z",
        })
    );
    assert_eq!(Checkpoint::from_json(&file).unwrap(), checkpoint);

    let with = |field: &str, replacement: Value| {
        let mut changed = value.clone();
        changed[field] = replacement;
        Checkpoint::from_json(&changed.to_string())
            .unwrap_err()
            .to_string()
    };
    let error = with("version", json!(2));
    assert!(error.contains("version 2 is not supported"), "{error}");
    let error = with("format", json!("something else"));
    assert!(error.contains("not a motcua checkpoint file"), "{error}");
    let error = with("root", json!("abc"));
    assert!(error.contains("not 64 hex digits"), "{error}");
    assert!(Checkpoint::from_json("not json").is_err());
}

// ---------------------------------------------------------------------------
// On both backends.

async fn an_empty_log_has_the_root_of_no_streams(store: &EventStore) {
    // Nothing to checkpoint while the log is empty.
    assert_eq!(store.create_checkpoint_if_moved().await.unwrap(), None);
    let checkpoint = store.create_checkpoint().await.unwrap();
    assert_eq!(checkpoint.cursor, LogCursor::START);
    assert_eq!(checkpoint.streams, 0);
    assert_eq!(checkpoint.root, <[u8; 32]>::from(Sha256::digest(b"")));
    assert_eq!(
        store.verify_checkpoint(&checkpoint).await.unwrap(),
        CheckpointVerdict::Holds
    );
    assert_eq!(
        store.checkpoints().await.unwrap(),
        std::slice::from_ref(&checkpoint)
    );
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint));
    assert_eq!(store.create_checkpoint_if_moved().await.unwrap(), None);
}

async fn a_checkpoint_verifies_on_untouched_data(store: &EventStore) {
    // "B" and "á" sort elsewhere in a linguistic collation than in leaf
    // (byte) order, which the database must follow whatever its own.
    let last = build(store, &[("a", 3), ("b", 1), ("c", 4), ("B", 2), ("á", 1)]).await;
    let mut unit = [event("a", 1), event("a", 2)];
    for event in &mut unit {
        event.aggregate_type = "Unit".to_owned();
    }
    let last_unit = store.append(&unit, None).await.unwrap().pop().unwrap();
    assert!(last_unit.cursor > last.cursor);
    let checkpoint = checkpoint_covering(store, 13).await;
    assert_eq!(checkpoint.cursor, last_unit.cursor);
    assert_eq!(checkpoint.streams, 6);

    // The root is the documented construction over each stream's last event.
    let mut heads = Vec::new();
    for (aggregate_type, id) in [
        ("Dossier", "a"),
        ("Dossier", "b"),
        ("Dossier", "c"),
        ("Dossier", "B"),
        ("Dossier", "á"),
        ("Unit", "a"),
    ] {
        let stream = store.load_stream(aggregate_type, id, 0).await.unwrap();
        let last = stream.last().unwrap();
        heads.push((aggregate_type, id, last.event.sequence, last.hash));
    }
    assert_eq!(checkpoint.root, specified_root(&heads));

    assert_eq!(
        store.verify_checkpoint(&checkpoint).await.unwrap(),
        CheckpointVerdict::Holds
    );
    let exported = Checkpoint::from_json(&checkpoint.to_json().unwrap()).unwrap();
    assert_eq!(
        store.verify_checkpoint(&exported).await.unwrap(),
        CheckpointVerdict::Holds
    );
    assert_eq!(store.checkpoints().await.unwrap(), [checkpoint]);
    // Nothing moved since: no new checkpoint.
    assert_eq!(store.create_checkpoint_if_moved().await.unwrap(), None);
}

async fn a_consistently_rewritten_payload_fails_the_exported_checkpoint(store: &EventStore) {
    build(store, &[("a", 4), ("b", 2)]).await;
    let exported = export(store, 6).await;
    let old_head = stored(store, "a", 4).await;

    // Event a#2 gets another payload, and every hash from it to the end of
    // the stream is recomputed: the chain is valid again.
    let a1 = stored(store, "a", 1).await;
    let mut previous = a1.hash;
    for sequence in 2..=4 {
        let row = stored(store, "a", sequence).await;
        let payload = if sequence == 2 {
            json!({"note": "a #2, as the forger would have it"})
        } else {
            row.event.payload.clone()
        };
        let forged = chained(&previous, &row, &payload);
        rewrite(store, &row, &payload, &forged).await;
        previous = forged;
    }
    let report = store.verify_all().await.unwrap();
    assert!(
        report.is_intact(),
        "the forger kept the chain valid: {report:?}"
    );

    let mismatch = differs(store, &exported).await;
    assert_eq!((mismatch.expected_streams, mismatch.found_streams), (2, 2));
    let difference = mismatch.first_difference.unwrap();
    assert_stream(&difference, "a");
    assert_eq!(difference.expected.unwrap().sequence, 4);
    assert_eq!(difference.expected.unwrap().hash, old_head.hash);
    assert_eq!(difference.found.unwrap().sequence, 4);
    assert_eq!(difference.found.unwrap().hash, previous);
    // The stored checkpoint, read back from the database, fails the same way.
    let stored_checkpoint = store.checkpoints().await.unwrap().pop().unwrap();
    assert!(
        !store
            .verify_checkpoint(&stored_checkpoint)
            .await
            .unwrap()
            .holds()
    );
}

async fn deleted_events_fail_the_exported_checkpoint(store: &EventStore) {
    build(store, &[("a", 2), ("b", 3), ("c", 1)]).await;
    let exported = export(store, 6).await;

    // b loses its last event and c its only one: both chains stay valid.
    delete(store, "b", 3).await;
    delete(store, "c", 1).await;
    let report = store.verify_all().await.unwrap();
    assert!(report.is_intact(), "{report:?}");

    let mismatch = differs(store, &exported).await;
    assert_eq!((mismatch.expected_streams, mismatch.found_streams), (3, 2));
    let difference = mismatch.first_difference.clone().unwrap();
    assert_stream(&difference, "b");
    assert_eq!(difference.expected.unwrap().sequence, 3);
    assert_eq!(difference.found.unwrap().sequence, 2);
    let text = CheckpointVerdict::Differs(Box::new(mismatch)).to_string();
    assert!(
        text.contains("over 2 streams") && text.contains("over 3 streams"),
        "{text}"
    );
    assert!(
        text.contains("Dossier/b: event 3 (hash") && text.contains("at the checkpoint, event 2"),
        "{text}"
    );

    // The owner erases the stored checkpoints too: the exported root still
    // catches the deletion, though it can no longer name the stream.
    erase_stored_checkpoints(store).await;
    let mismatch = differs(store, &exported).await;
    assert_eq!((mismatch.expected_streams, mismatch.found_streams), (3, 2));
    assert_eq!(mismatch.first_difference, None);
    assert!(
        CheckpointVerdict::Differs(Box::new(mismatch))
            .to_string()
            .contains("cannot be named")
    );
}

async fn a_forged_event_before_the_cursor_fails_the_exported_checkpoint(store: &EventStore) {
    // In the log: a1 a2 b1 b2 c1 c2 a3; the checkpoint ends at a3.
    let last = build(store, &[("a", 3), ("b", 2), ("c", 2)]).await;
    let exported = export(store, 7).await;
    assert_eq!(exported.cursor, last.cursor);

    // An event a#4, properly chained after a#3, slipped in before the cursor.
    let a3 = stored(store, "a", 3).await;
    let mut forged = a3.clone();
    forged.event.sequence = 4;
    let payload = json!({"note": "a #4, never recorded"});
    let forged_hash = chained(&a3.hash, &forged, &payload);
    insert_before(store, &forged, &payload, &forged_hash).await;
    let report = store.verify_all().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 8);

    let mismatch = differs(store, &exported).await;
    assert_eq!((mismatch.expected_streams, mismatch.found_streams), (3, 3));
    let difference = mismatch.first_difference.unwrap();
    assert_stream(&difference, "a");
    assert_eq!(difference.expected.unwrap().sequence, 3);
    assert_eq!(difference.found.unwrap().sequence, 4);
    assert_eq!(difference.found.unwrap().hash, forged_hash);
}

async fn events_appended_after_the_checkpoint_do_not_break_it(store: &EventStore) {
    build(store, &[("a", 2), ("b", 1)]).await;
    let first = export(store, 3).await;

    // Existing streams grow and new ones begin.
    store.append(&[event("a", 3)], None).await.unwrap();
    store
        .append(&[event("b", 2), event("b", 3)], None)
        .await
        .unwrap();
    store.append(&[event("new", 1)], None).await.unwrap();
    let second = checkpoint_covering(store, 7).await;
    assert!(second.cursor > first.cursor);
    assert_eq!(second.streams, 3);
    assert_ne!(second.root, first.root);

    for checkpoint in [&first, &second] {
        assert_eq!(
            store.verify_checkpoint(checkpoint).await.unwrap(),
            CheckpointVerdict::Holds,
            "{checkpoint}"
        );
    }
    // Oldest first.
    let stored = store.checkpoints().await.unwrap();
    assert_eq!(stored, [first.clone(), second.clone()]);

    // A deletion after the first checkpoint's cursor breaks only the second,
    // which names it from the heads stored since the first.
    delete(store, "new", 1).await;
    assert!(store.verify_checkpoint(&first).await.unwrap().holds());
    let mismatch = differs(store, &second).await;
    let difference = mismatch.first_difference.unwrap();
    assert_stream(&difference, "new");
    assert_eq!(difference.expected.unwrap().sequence, 1);
    assert_eq!(difference.found, None);
}

async fn keep_checkpointing_takes_one_each_interval_while_the_log_moves(store: &EventStore) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let keeper = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .keep_checkpointing(Duration::from_millis(20), async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    // An empty log is not checkpointed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(store.checkpoints().await.unwrap().is_empty());

    let a = store
        .append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    let covering_a = until_checkpoint_at(store, a[1].cursor).await;
    let b = store.append(&[event("b", 1)], None).await.unwrap();
    let covering_b = until_checkpoint_at(store, b[0].cursor).await;
    assert!(covering_b.cursor > covering_a.cursor);

    // The log stands still: no more checkpoints, however many intervals pass.
    let taken = store.checkpoints().await.unwrap().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.checkpoints().await.unwrap().len(), taken);
    for checkpoint in store.checkpoints().await.unwrap() {
        assert!(store.verify_checkpoint(&checkpoint).await.unwrap().holds());
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), keeper)
        .await
        .unwrap()
        .unwrap();
}

async fn keep_checkpointing_survives_failures_and_stops_on_shutdown(store: &EventStore) {
    store.append(&[event("a", 1)], None).await.unwrap();
    // A closed pool: every attempt fails (and is logged); the loop goes on.
    let broken = store.clone();
    match &broken {
        EventStore::Postgres(postgres) => postgres.pool().close().await,
        EventStore::Sqlite(sqlite) => sqlite.pool().close().await,
    }
    assert!(broken.create_checkpoint().await.is_err());
    let started = tokio::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(5),
        broken.keep_checkpointing(
            Duration::from_millis(10),
            tokio::time::sleep(Duration::from_millis(200)),
        ),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

// ---------------------------------------------------------------------------
// PostgreSQL: the service's role.

/// Runs as `motcua_app` (via the connection's `role` setting): the grants of
/// migration 0005 are enough to check migrations and to take and verify
/// checkpoints, and nothing lets the role change one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_service_role_takes_checkpoints_and_cannot_change_them() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let app = EventStore::connect(&format!("{}?options=-c%20role%3Dmotcua_app", db.url))
        .await
        .unwrap();
    let EventStore::Postgres(app_pg) = &app else {
        unreachable!("a PostgreSQL store")
    };
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(app_pg.pool())
        .await
        .unwrap();
    assert_eq!(role, "motcua_app");

    app.check_migrations().await.unwrap();
    app.append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    common::read_everything(&app, 2).await;
    let checkpoint = app.create_checkpoint().await.unwrap();
    assert_eq!(checkpoint.streams, 1);
    assert!(app.verify_checkpoint(&checkpoint).await.unwrap().holds());

    for (table, column) in [("checkpoints", "streams"), ("checkpoint_heads", "sequence")] {
        for statement in [
            format!("UPDATE {table} SET {column} = {column}"),
            format!("DELETE FROM {table}"),
            format!("TRUNCATE {table}"),
        ] {
            let error = sqlx::query(&statement)
                .execute(app_pg.pool())
                .await
                .unwrap_err();
            let code = error.as_database_error().and_then(|e| e.code()).unwrap();
            assert_eq!(code, "42501", "{statement}: {error}");
        }
        let owner: String =
            sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = $1")
                .bind(table)
                .fetch_one(pool(&db.store))
                .await
                .unwrap();
        assert_eq!(owner, "motcua_owner", "owner of {table}");
    }
}

// ---------------------------------------------------------------------------
// Helpers.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn pool(store: &EventStore) -> &sqlx::PgPool {
    let EventStore::Postgres(postgres) = store else {
        unreachable!("a PostgreSQL store")
    };
    postgres.pool()
}

/// Appends the streams round-robin (so they interleave in the log), one
/// event per append; returns the last event appended.
async fn build(store: &EventStore, streams: &[(&str, i64)]) -> RecordedEvent {
    let longest = streams.iter().map(|(_, length)| *length).max().unwrap_or(0);
    let mut last = None;
    for sequence in 1..=longest {
        for (id, length) in streams {
            if sequence <= *length {
                last = store
                    .append(&[event(id, sequence)], None)
                    .await
                    .unwrap()
                    .pop();
            }
        }
    }
    last.unwrap()
}

/// A checkpoint once all `expected` events are visible to the global log
/// (on PostgreSQL other tests' transactions can hold them back a while).
async fn checkpoint_covering(store: &EventStore, expected: usize) -> Checkpoint {
    let log = common::read_everything(store, expected).await;
    let checkpoint = store.create_checkpoint().await.unwrap();
    assert_eq!(checkpoint.cursor, log.last().unwrap().cursor);
    checkpoint
}

/// A checkpoint over all `expected` events, through its exported file.
async fn export(store: &EventStore, expected: usize) -> Checkpoint {
    let checkpoint = checkpoint_covering(store, expected).await;
    assert!(store.verify_checkpoint(&checkpoint).await.unwrap().holds());
    Checkpoint::from_json(&checkpoint.to_json().unwrap()).unwrap()
}

async fn until_checkpoint_at(store: &EventStore, cursor: LogCursor) -> Checkpoint {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(latest) = store.latest_checkpoint().await.unwrap()
            && latest.cursor == cursor
        {
            return latest;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint at {cursor:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn differs(store: &EventStore, checkpoint: &Checkpoint) -> motcua_store::CheckpointMismatch {
    match store.verify_checkpoint(checkpoint).await.unwrap() {
        CheckpointVerdict::Differs(mismatch) => *mismatch,
        CheckpointVerdict::Holds => panic!("{checkpoint} still holds"),
    }
}

fn assert_stream(difference: &HeadDifference, id: &str) {
    assert_eq!(
        (
            difference.aggregate_type.as_str(),
            difference.aggregate_id.as_str()
        ),
        ("Dossier", id),
        "{difference}"
    );
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

/// SQLite refuses UPDATE and DELETE on events and checkpoints with
/// triggers: a tamperer with the file drops them. (On PostgreSQL the tests
/// connect as a superuser, who may do anything.)
async fn allow_tampering(store: &EventStore) {
    if let EventStore::Sqlite(sqlite) = store {
        for trigger in [
            "events_no_update",
            "events_no_delete",
            "checkpoints_no_delete",
            "checkpoint_heads_no_delete",
        ] {
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

/// Inserts `row` with `payload` and `hash` at a place in the log before the
/// last checkpoint's cursor. PostgreSQL: dated into the log's oldest
/// transaction. SQLite (ordered by position alone): right after the first
/// event, moving every later event one position up.
async fn insert_before(store: &EventStore, row: &RecordedEvent, payload: &Value, hash: &[u8; 32]) {
    allow_tampering(store).await;
    let event = &row.event;
    match store {
        EventStore::Postgres(postgres) => {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, unit_id, actor, recorded_at, command_id, hash, \
                 transaction_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 (SELECT MIN(transaction_id) FROM events))",
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
            // Two steps, so that no intermediate position collides.
            for shift in [
                "UPDATE events SET position = -position WHERE position >= 2",
                "UPDATE events SET position = 1 - position WHERE position < 0",
            ] {
                sqlx::query(shift).execute(sqlite.pool()).await.unwrap();
            }
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, position, unit_id, actor, recorded_at, \
                 command_id, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 2, ?8, ?9, ?10, ?11, ?12)",
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

async fn erase_stored_checkpoints(store: &EventStore) {
    allow_tampering(store).await;
    for statement in ["DELETE FROM checkpoint_heads", "DELETE FROM checkpoints"] {
        match store {
            EventStore::Postgres(postgres) => {
                sqlx::query(statement)
                    .execute(postgres.pool())
                    .await
                    .unwrap();
            }
            EventStore::Sqlite(sqlite) => {
                sqlx::query(statement).execute(sqlite.pool()).await.unwrap();
            }
        }
    }
}
