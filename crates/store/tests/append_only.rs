//! PostgreSQL only: the event log is append-only for the service's role
//! (migration 0003). `motcua_app` may SELECT and INSERT events and nothing
//! else; `motcua_owner` owns the tables and could still rewrite them, which
//! is what the hash chain is there to show.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use common::{TestStore, event};
use motcua_domain::unit::UnitId;
use motcua_store::{EventStore, LogCursor, SnapshotUpdate, hash};
use serde_json::json;
use sqlx::{Acquire, PgPool, Postgres, Row, Transaction};

/// SQLSTATE `insufficient_privilege`.
const PERMISSION_DENIED: &str = "42501";

fn pool(db: &TestStore) -> &PgPool {
    let EventStore::Postgres(postgres) = &db.store else {
        unreachable!("a PostgreSQL store")
    };
    postgres.pool()
}

/// A transaction acting as `role` (`SET LOCAL ROLE`: the role ends with it).
async fn as_role(pool: &PgPool, role: &str) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

/// The SQLSTATE with which `sql` fails inside `tx`. Run in a savepoint, so
/// `tx` stays usable after the failure.
async fn refused(tx: &mut Transaction<'static, Postgres>, sql: &str) -> String {
    let mut savepoint = tx.begin().await.unwrap();
    let result = sqlx::query(sql).execute(&mut *savepoint).await;
    savepoint.rollback().await.unwrap();
    let error = match result {
        Ok(done) => panic!("{sql:?} succeeded ({} rows)", done.rows_affected()),
        Err(error) => error,
    };
    error
        .as_database_error()
        .and_then(|error| error.code())
        .unwrap_or_else(|| panic!("{sql:?}: not a database error: {error}"))
        .into_owned()
}

/// Every stored event, in position order: (aggregate id, sequence, actor, hash).
async fn all_events(executor: impl sqlx::PgExecutor<'_>) -> Vec<(String, i64, String, Vec<u8>)> {
    sqlx::query("SELECT aggregate_id, sequence, actor, hash FROM events ORDER BY position")
        .fetch_all(executor)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.get("aggregate_id"),
                row.get("sequence"),
                row.get("actor"),
                row.get("hash"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_application_role_may_read_and_append_events_and_nothing_else() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let pool = pool(&db);
    let appended = db
        .store
        .append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    let before = all_events(pool).await;
    assert_eq!(before.len(), 2);

    let mut tx = as_role(pool, "motcua_app").await;
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(user, "motcua_app");

    // SELECT works.
    assert_eq!(all_events(&mut *tx).await, before);

    // INSERT of the next event of the stream works, correctly chained, with
    // no grant on the identity sequence behind `position`.
    let next = event("a", 3);
    let recorded_at = DateTime::<Utc>::from_timestamp_micros(1_767_225_600_000_000).unwrap();
    let next_hash = hash::chain(&appended[1].hash, &next, recorded_at);
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata, unit_id, actor, recorded_at, command_id, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING position",
    )
    .bind(&next.aggregate_type)
    .bind(&next.aggregate_id)
    .bind(next.sequence)
    .bind(&next.event_type)
    .bind(&next.event_version)
    .bind(&next.payload)
    .bind(&next.metadata)
    .bind(&next.unit_id)
    .bind(&next.actor)
    .bind(recorded_at)
    .bind(&next.command_id)
    .bind(next_hash.as_slice())
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(position > appended[1].cursor.position);

    // UPDATE, DELETE and TRUNCATE are refused, whatever they touch.
    for sql in [
        "UPDATE events SET actor = 'mallory' WHERE aggregate_id = 'a' AND sequence = 1",
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events WHERE aggregate_id = 'a' AND sequence = 2",
        "DELETE FROM events",
        "TRUNCATE events",
        // Nor can the role reach around the grants.
        "SELECT setval(pg_get_serial_sequence('events', 'position'), 1)",
        "ALTER TABLE events DISABLE TRIGGER ALL",
    ] {
        let code = refused(&mut tx, sql).await;
        // ALTER TABLE by a non-owner is 42501 as well ("must be owner").
        assert_eq!(code, PERMISSION_DENIED, "{sql}");
    }
    tx.commit().await.unwrap();

    // The two events are untouched and the third reads back through the store,
    // its hash chaining to the second.
    let after = all_events(pool).await;
    assert_eq!(after[..2], before[..]);
    let stream = db.store.load_stream("Dossier", "a", 0).await.unwrap();
    assert_eq!(stream.len(), 3);
    assert_eq!(stream[..2], appended[..]);
    assert_eq!(stream[2].event, next);
    assert_eq!(stream[2].recorded_at, recorded_at);
    assert_eq!(stream[2].hash, next_hash);
    assert_eq!(stream[2].cursor.position, position);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owner_can_still_rewrite_an_event() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let pool = pool(&db);
    db.store
        .append(&[event("a", 1), event("a", 2)], None)
        .await
        .unwrap();
    let before = all_events(pool).await;

    // Owning the table is enough to tamper with it: this is what the hash
    // chain (and the audit that verifies it) is for. Rolled back.
    let mut tx = as_role(pool, "motcua_owner").await;
    let updated = sqlx::query(
        "UPDATE events SET actor = 'mallory' WHERE aggregate_id = 'a' AND sequence = 1",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    tx.rollback().await.unwrap();

    assert_eq!(all_events(pool).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_roles_are_what_the_migration_promises() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let pool = pool(&db);

    for role in ["motcua_app", "motcua_owner"] {
        let row = sqlx::query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(!row.get::<bool, _>("rolsuper"), "{role} is a superuser");
        assert!(!row.get::<bool, _>("rolbypassrls"), "{role} bypasses RLS");
    }

    for table in ["events", "snapshots", "dossier_code_counters"] {
        let owner: String =
            sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = $1")
                .bind(table)
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(owner, "motcua_owner", "owner of {table}");
    }

    // Exactly these privileges, counting what PUBLIC has.
    for (table, allowed) in [
        ("events", &["SELECT", "INSERT"][..]),
        ("snapshots", &["SELECT", "INSERT", "UPDATE"][..]),
        ("dossier_code_counters", &["SELECT", "INSERT", "UPDATE"][..]),
    ] {
        for privilege in [
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
        ] {
            let held: bool = sqlx::query_scalar("SELECT has_table_privilege('motcua_app', $1, $2)")
                .bind(table)
                .bind(privilege)
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(
                held,
                allowed.contains(&privilege),
                "motcua_app {privilege} on {table}"
            );
        }
    }
    let sequence_privilege: bool = sqlx::query_scalar(
        "SELECT has_sequence_privilege('motcua_app', \
         pg_get_serial_sequence('events', 'position'), 'USAGE, SELECT, UPDATE')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        !sequence_privilege,
        "motcua_app needs nothing on the identity sequence"
    );
}

/// The whole store (appends with snapshots, stream loads, the global log,
/// dossier codes) runs on a connection that is `motcua_app` and nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_runs_as_the_application_role() {
    let Some(db) = common::postgres().await else {
        return;
    };
    // `role` as a startup option: every pooled connection is motcua_app.
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options%5Brole%5D=motcua_app", db.url);
    let store = EventStore::connect(&url).await.unwrap();
    let EventStore::Postgres(postgres) = &store else {
        unreachable!("a PostgreSQL store")
    };
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(postgres.pool())
        .await
        .unwrap();
    assert_eq!(user, "motcua_app");

    let first = SnapshotUpdate {
        payload: json!({"state": 2}),
        last_sequence: 2,
        current_snapshot: 1,
    };
    let mut appended = store
        .append(&[event("a", 1), event("a", 2)], Some(&first))
        .await
        .unwrap();
    // The second snapshot is an upsert: INSERT … ON CONFLICT DO UPDATE.
    let second = SnapshotUpdate {
        payload: json!({"state": 3}),
        last_sequence: 3,
        current_snapshot: 2,
    };
    appended.extend(store.append(&[event("a", 3)], Some(&second)).await.unwrap());
    assert_eq!(store.snapshot("Dossier", "a").await.unwrap(), Some(second));
    assert_eq!(
        store.load_stream("Dossier", "a", 0).await.unwrap(),
        appended
    );
    // The global log shows an event once every older transaction in the
    // cluster has ended: other tests' transactions may hold it back a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = store.read_all(LogCursor::START, 10).await.unwrap();
        if log.len() == appended.len() {
            assert_eq!(log, appended);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the global log shows {} of {} events",
            log.len(),
            appended.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let unit: UnitId = "000.01.20.H56".parse().unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let first_code = store.next_dossier_code(&unit, day).await.unwrap();
    let second_code = store.next_dossier_code(&unit, day).await.unwrap();
    assert_ne!(first_code, second_code);
    postgres.pool().close().await;
}
