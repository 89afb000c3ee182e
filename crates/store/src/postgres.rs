//! The event log on PostgreSQL.
//!
//! Ordering: each row records its inserting transaction (`xid8`). Readers of
//! the global log order by (transaction_id, position) and see only rows of
//! transactions older than the oldest one still running
//! (`pg_snapshot_xmin(pg_current_snapshot())`). A transaction that commits
//! later therefore always sorts after everything already read: nothing is
//! skipped, whatever order positions were handed out in. The price: a
//! long-running transaction holds readers back (lag, never loss).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres as Pg, Row, Transaction};
use tokio::sync::Notify;

use crate::error::StoreError;
use crate::hash;
use crate::record::{LogCursor, NewEvent, RecordedEvent, SnapshotUpdate};

const BACKEND: &str = "PostgreSQL";

/// The channel every append notifies on commit.
const CHANNEL: &str = "motcua_events";

const COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
     payload, metadata, position, transaction_id::text AS transaction_id, unit_id, actor, \
     recorded_at, command_id, hash";

#[derive(Debug, Clone)]
pub struct Postgres {
    pool: PgPool,
    /// Woken by the listener on each notification from any process.
    appended: Arc<Notify>,
    listening: Arc<OnceLock<()>>,
}

impl Postgres {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                backend: BACKEND,
                source,
            })?;
        Ok(Self {
            pool,
            appended: Arc::new(Notify::new()),
            listening: Arc::new(OnceLock::new()),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: BACKEND,
                source,
            })
    }

    pub(crate) async fn append(
        &self,
        events: &[NewEvent],
        snapshot: Option<&SnapshotUpdate>,
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::database("begin an append"))?;
        match write(&mut tx, events, snapshot, recorded_at).await {
            Ok(recorded) => {
                tx.commit()
                    .await
                    .map_err(|error| conflict_or(error, &events[0], "commit an append"))?;
                Ok(recorded)
            }
            Err(error) => {
                // Roll back now, not when the pool next uses the connection:
                // the transaction holds locks the next writer waits for.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    /// The signal tailing readers wait on; the first call starts listening.
    ///
    /// The listener reconnects by itself after a lost connection;
    /// notifications sent meanwhile are lost, which readers survive by
    /// polling as well.
    pub(crate) fn appended(&self) -> Arc<Notify> {
        self.listening.get_or_init(|| {
            let (pool, appended) = (self.pool.clone(), Arc::clone(&self.appended));
            tokio::spawn(listen(pool, appended));
        });
        Arc::clone(&self.appended)
    }

    pub(crate) async fn load_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::database("load a stream"))?;
        rows.iter().map(recorded_event).collect()
    }

    pub(crate) async fn read_all(
        &self,
        after: LogCursor,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events \
             WHERE (transaction_id, position) > ($1::text::xid8, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY transaction_id, position LIMIT $3"
        ))
        .bind(after.transaction.to_string())
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::database("read the global log"))?;
        rows.iter().map(recorded_event).collect()
    }

    pub(crate) async fn snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<SnapshotUpdate>, StoreError> {
        let row = sqlx::query(
            "SELECT payload, last_sequence, current_snapshot FROM snapshots \
             WHERE aggregate_type = $1 AND aggregate_id = $2",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::database("load a snapshot"))?;
        row.map(|row| {
            Ok(SnapshotUpdate {
                payload: row
                    .try_get("payload")
                    .map_err(StoreError::database("read a snapshot"))?,
                last_sequence: row
                    .try_get("last_sequence")
                    .map_err(StoreError::database("read a snapshot"))?,
                current_snapshot: row
                    .try_get("current_snapshot")
                    .map_err(StoreError::database("read a snapshot"))?,
            })
        })
        .transpose()
    }
}

/// The inserts of one append (and its snapshot), inside `tx`.
async fn write(
    tx: &mut Transaction<'_, Pg>,
    events: &[NewEvent],
    snapshot: Option<&SnapshotUpdate>,
    recorded_at: DateTime<Utc>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut previous = previous_hash(tx, &events[0]).await?;
    let mut recorded = Vec::with_capacity(events.len());
    for event in events {
        let hash = hash::chain(&previous, event, recorded_at);
        let row = sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, unit_id, actor, recorded_at, command_id, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             RETURNING position, transaction_id::text AS transaction_id",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(&event.payload)
        .bind(&event.metadata)
        .bind(&event.unit_id)
        .bind(&event.actor)
        .bind(recorded_at)
        .bind(&event.command_id)
        .bind(hash.as_slice())
        .fetch_one(&mut **tx)
        .await
        .map_err(|error| conflict_or(error, event, "insert an event"))?;
        let position: i64 = row
            .try_get("position")
            .map_err(StoreError::database("read a position"))?;
        let transaction = parse_transaction(&row, position)?;
        recorded.push(RecordedEvent {
            event: event.clone(),
            cursor: LogCursor {
                transaction,
                position,
            },
            recorded_at,
            hash,
        });
        previous = hash;
    }
    // Delivered on commit only, to every listening process.
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::database("notify readers"))?;
    if let Some(snapshot) = snapshot {
        let first = &events[0];
        sqlx::query(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET \
             last_sequence = EXCLUDED.last_sequence, current_snapshot = EXCLUDED.current_snapshot, \
             payload = EXCLUDED.payload",
        )
        .bind(&first.aggregate_type)
        .bind(&first.aggregate_id)
        .bind(snapshot.last_sequence)
        .bind(snapshot.current_snapshot)
        .bind(&snapshot.payload)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::database("write a snapshot"))?;
    }
    Ok(recorded)
}

async fn listen(pool: PgPool, appended: Arc<Notify>) {
    loop {
        let error = relay_notifications(&pool, &appended).await;
        if pool.is_closed() {
            return;
        }
        tracing::warn!(%error, "event notifications interrupted; readers poll until the listener reconnects");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Wakes readers on each notification until the connection fails.
async fn relay_notifications(pool: &PgPool, appended: &Notify) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(CHANNEL).await {
        return error;
    }
    loop {
        if let Err(error) = listener.recv().await {
            return error;
        }
        appended.notify_waiters();
    }
}

/// The hash of the event before `first` in its stream.
async fn previous_hash(
    tx: &mut Transaction<'_, Pg>,
    first: &NewEvent,
) -> Result<[u8; 32], StoreError> {
    if first.sequence == 1 {
        return Ok(hash::GENESIS);
    }
    let row = sqlx::query("SELECT hash, position FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3")
        .bind(&first.aggregate_type)
        .bind(&first.aggregate_id)
        .bind(first.sequence - 1)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::database("read the previous hash"))?;
    let Some(row) = row else {
        return Err(StoreError::InvalidAppend {
            aggregate_type: first.aggregate_type.clone(),
            aggregate_id: first.aggregate_id.clone(),
            reason: format!("sequence {} does not exist yet", first.sequence - 1),
        });
    };
    let position: i64 = row
        .try_get("position")
        .map_err(StoreError::database("read a position"))?;
    let bytes: Vec<u8> = row
        .try_get("hash")
        .map_err(StoreError::database("read a hash"))?;
    to_hash(bytes, position)
}

fn conflict_or(error: sqlx::Error, event: &NewEvent, operation: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
        },
        _ => StoreError::Database {
            operation,
            source: error,
        },
    }
}

fn parse_transaction(row: &PgRow, position: i64) -> Result<u64, StoreError> {
    let text: String = row
        .try_get("transaction_id")
        .map_err(StoreError::database("read a transaction id"))?;
    text.parse().map_err(|_| StoreError::Corrupt {
        position,
        reason: format!("transaction id {text:?} is not a number"),
    })
}

pub(crate) fn to_hash(bytes: Vec<u8>, position: i64) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| StoreError::Corrupt {
            position,
            reason: format!("hash has {} bytes, not 32", bytes.len()),
        })
}

fn recorded_event(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let read = StoreError::database("read an event");
    let position: i64 = row.try_get("position").map_err(read)?;
    let corrupt = |source: sqlx::Error| StoreError::Corrupt {
        position,
        reason: source.to_string(),
    };
    let payload: Value = row.try_get("payload").map_err(corrupt)?;
    Ok(RecordedEvent {
        event: NewEvent {
            aggregate_type: row.try_get("aggregate_type").map_err(corrupt)?,
            aggregate_id: row.try_get("aggregate_id").map_err(corrupt)?,
            sequence: row.try_get("sequence").map_err(corrupt)?,
            event_type: row.try_get("event_type").map_err(corrupt)?,
            event_version: row.try_get("event_version").map_err(corrupt)?,
            payload,
            metadata: row.try_get("metadata").map_err(corrupt)?,
            unit_id: row.try_get("unit_id").map_err(corrupt)?,
            actor: row.try_get("actor").map_err(corrupt)?,
            command_id: row.try_get("command_id").map_err(corrupt)?,
        },
        cursor: LogCursor {
            transaction: parse_transaction(row, position)?,
            position,
        },
        recorded_at: row.try_get("recorded_at").map_err(corrupt)?,
        hash: to_hash(row.try_get("hash").map_err(corrupt)?, position)?,
    })
}
