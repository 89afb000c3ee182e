//! The event log on SQLite, the embedded default.
//!
//! SQLite has a single writer; appends also take an in-process lock so that
//! concurrent commands queue instead of failing with SQLITE_BUSY. Positions
//! are handed out inside the write transaction, so position order is commit
//! order and the global log needs no transaction ids (always 0).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite as Lite, Transaction};
use tokio::sync::{Mutex, Notify};

use crate::error::StoreError;
use crate::hash;
use crate::postgres::to_hash;
use crate::record::{
    CommandKey, CommandOutcome, CommandRecord, Commit, LogCursor, LogEntry, NewEvent,
    RecordedEvent, SnapshotUpdate,
};

const BACKEND: &str = "SQLite";

const COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
     payload, metadata, position, unit_id, actor, recorded_at, command_id, hash";

#[derive(Debug, Clone)]
pub struct Sqlite {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
    /// Wakes tailing readers after each append (one process owns the file).
    appended: Arc<Notify>,
}

impl Sqlite {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let connect = |source| StoreError::Connect {
            backend: BACKEND,
            source,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = crate::connect::pool_options(8)
            .connect_with(options)
            .await
            .map_err(connect)?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(())),
            appended: Arc::new(Notify::new()),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrations::SQLITE
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: BACKEND,
                source,
            })
    }

    pub(crate) async fn commit(
        &self,
        commit: Commit<'_>,
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::database("begin an append"))?;
        match write(&mut tx, commit, recorded_at).await {
            Ok(recorded) => {
                tx.commit()
                    .await
                    .map_err(StoreError::database("commit an append"))?;
                self.appended.notify_waiters();
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

    pub(crate) fn appended(&self) -> Arc<Notify> {
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
             WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence > ?3 ORDER BY sequence"
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
            "SELECT {COLUMNS} FROM events WHERE position > ?1 ORDER BY position LIMIT ?2"
        ))
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::database("read the global log"))?;
        rows.iter().map(recorded_event).collect()
    }

    pub(crate) async fn read_log_pages<Handed>(
        &self,
        after: LogCursor,
        limit: u32,
        page_size: u32,
        each_page: impl FnMut(Vec<LogEntry>) -> Handed,
    ) -> Result<usize, StoreError>
    where
        Handed: Future<Output = bool>,
    {
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
             position FROM events WHERE position > ?1 ORDER BY position LIMIT ?2",
        )
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch(&self.pool);
        crate::store::log_pages(rows, log_entry, page_size, each_page).await
    }

    pub(crate) async fn stream_version(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "SELECT COALESCE(MAX(sequence), 0) FROM events \
             WHERE aggregate_type = ?1 AND aggregate_id = ?2",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::database("read a stream's version"))
    }

    pub(crate) async fn command_record(
        &self,
        actor: &str,
        command_id: &str,
    ) -> Result<Option<CommandRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT actor, command_id, aggregate_type, aggregate_id, fingerprint, sequence, \
             event_count, position, rejection FROM commands WHERE actor = ?1 AND command_id = ?2",
        )
        .bind(actor)
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::database("read a command's outcome"))?;
        row.map(|row| command_record(&row)).transpose()
    }

    /// Inserts the record unless the command already has one; true if it did.
    pub(crate) async fn insert_command_record(
        &self,
        record: &CommandRecord,
    ) -> Result<bool, StoreError> {
        let (sequence, event_count, rejection) = record.outcome.columns();
        let _writer = self.writer.lock().await;
        let inserted = sqlx::query(
            "INSERT INTO commands (actor, command_id, aggregate_type, aggregate_id, fingerprint, \
             sequence, event_count, rejection) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (actor, command_id) DO NOTHING",
        )
        .bind(&record.key.actor)
        .bind(&record.key.command_id)
        .bind(&record.aggregate_type)
        .bind(&record.aggregate_id)
        .bind(record.key.fingerprint.as_slice())
        .bind(sequence)
        .bind(i64::from(event_count))
        .bind(rejection.map(Value::to_string))
        .execute(&self.pool)
        .await
        .map_err(StoreError::database("record a command's outcome"))?;
        Ok(inserted.rows_affected() == 1)
    }

    pub(crate) async fn snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<SnapshotUpdate>, StoreError> {
        let row = sqlx::query(
            "SELECT payload, last_sequence, current_snapshot FROM snapshots \
             WHERE aggregate_type = ?1 AND aggregate_id = ?2",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::database("load a snapshot"))?;
        row.map(|row| {
            let read = |column| {
                row.try_get::<i64, _>(column)
                    .map_err(StoreError::database("read a snapshot"))
            };
            let payload: String = row
                .try_get("payload")
                .map_err(StoreError::database("read a snapshot"))?;
            Ok(SnapshotUpdate {
                payload: serde_json::from_str(&payload).map_err(|error| StoreError::Corrupt {
                    position: 0,
                    reason: format!("snapshot of {aggregate_type}/{aggregate_id}: {error}"),
                })?,
                last_sequence: read("last_sequence")?,
                current_snapshot: read("current_snapshot")?,
            })
        })
        .transpose()
    }
}

/// The inserts of one append (and its snapshot), inside `tx`.
async fn write(
    tx: &mut Transaction<'_, Lite>,
    commit: Commit<'_>,
    recorded_at: DateTime<Utc>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let events = commit.events;
    let mut previous = match commit.previous_hash {
        Some(hash) => hash,
        None => previous_hash(tx, &events[0]).await?,
    };
    let last_position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::database("read the last position"))?;
    let event_count = events.len();
    let mut recorded: Vec<RecordedEvent> = Vec::with_capacity(event_count);
    for (position, event) in (last_position + 1..).zip(events) {
        let hash = hash::chain(&previous, &event, recorded_at);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, position, unit_id, actor, recorded_at, command_id, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(event.payload.to_string())
        .bind(event.metadata.to_string())
        .bind(position)
        .bind(&event.unit_id)
        .bind(&event.actor)
        .bind(format_time(recorded_at))
        .bind(&event.command_id)
        .bind(hash.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: event.sequence,
            },
            _ => StoreError::Database {
                operation: "insert an event",
                source: error,
            },
        })?;
        recorded.push(RecordedEvent {
            event,
            cursor: LogCursor {
                transaction: 0,
                position,
            },
            recorded_at,
            hash,
        });
        previous = hash;
    }
    if let (Some(key), Some(last)) = (commit.command, recorded.last()) {
        record_committed(tx, key, last, event_count).await?;
    }
    if let (Some(snapshot), Some(first)) = (commit.snapshot, recorded.first()) {
        let first = &first.event;
        sqlx::query(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET \
             last_sequence = excluded.last_sequence, current_snapshot = excluded.current_snapshot, \
             payload = excluded.payload",
        )
        .bind(&first.aggregate_type)
        .bind(&first.aggregate_id)
        .bind(snapshot.last_sequence)
        .bind(snapshot.current_snapshot)
        .bind(snapshot.payload.to_string())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::database("write a snapshot"))?;
    }
    Ok(recorded)
}

/// Records a committed command beside its events (see the PostgreSQL twin).
async fn record_committed(
    tx: &mut Transaction<'_, Lite>,
    key: &CommandKey,
    last: &RecordedEvent,
    event_count: usize,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO commands (actor, command_id, aggregate_type, aggregate_id, fingerprint, \
         sequence, event_count, transaction_id, position) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
    )
    .bind(&key.actor)
    .bind(&key.command_id)
    .bind(&last.event.aggregate_type)
    .bind(&last.event.aggregate_id)
    .bind(key.fingerprint.as_slice())
    .bind(last.event.sequence)
    .bind(i64::try_from(event_count).unwrap_or(i64::MAX))
    .bind(last.cursor.position)
    .execute(&mut **tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::CommandAlreadyRecorded {
                actor: key.actor.clone(),
                command_id: key.command_id.clone(),
            }
        }
        _ => StoreError::Database {
            operation: "record a command",
            source: error,
        },
    })?;
    Ok(())
}

async fn previous_hash(
    tx: &mut Transaction<'_, Lite>,
    first: &NewEvent,
) -> Result<[u8; 32], StoreError> {
    if first.sequence == 1 {
        return Ok(hash::GENESIS);
    }
    let row = sqlx::query("SELECT hash, position FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence = ?3")
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

/// RFC 3339 in UTC with microseconds: sorts as text, reads back exactly.
fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn log_entry(row: &SqliteRow) -> Result<LogEntry, StoreError> {
    let position: i64 = row
        .try_get("position")
        .map_err(StoreError::database("read an event"))?;
    let text = |column: &str| -> Result<String, StoreError> {
        row.try_get(column)
            .map_err(|error: sqlx::Error| StoreError::Corrupt {
                position,
                reason: format!("{column}: {error}"),
            })
    };
    Ok(LogEntry {
        cursor: LogCursor {
            transaction: 0,
            position,
        },
        aggregate_type: text("aggregate_type")?,
        aggregate_id: text("aggregate_id")?,
        sequence: row
            .try_get("sequence")
            .map_err(StoreError::database("read an event"))?,
        event_type: text("event_type")?,
        event_version: text("event_version")?,
        payload: text("payload")?,
    })
}

fn recorded_event(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row
        .try_get("position")
        .map_err(StoreError::database("read an event"))?;
    let corrupt = |reason: String| StoreError::Corrupt { position, reason };
    let text = |column: &str| -> Result<String, StoreError> {
        row.try_get(column)
            .map_err(|error: sqlx::Error| corrupt(format!("{column}: {error}")))
    };
    let json = |column: &str| -> Result<Value, StoreError> {
        serde_json::from_str(&text(column)?).map_err(|error| corrupt(format!("{column}: {error}")))
    };
    let recorded_at = DateTime::parse_from_rfc3339(&text("recorded_at")?)
        .map_err(|error| corrupt(format!("recorded_at: {error}")))?
        .with_timezone(&Utc);
    Ok(RecordedEvent {
        event: NewEvent {
            aggregate_type: text("aggregate_type")?,
            aggregate_id: text("aggregate_id")?,
            sequence: row
                .try_get("sequence")
                .map_err(|error| corrupt(format!("sequence: {error}")))?,
            event_type: text("event_type")?,
            event_version: text("event_version")?,
            payload: json("payload")?,
            metadata: json("metadata")?,
            unit_id: text("unit_id")?,
            actor: text("actor")?,
            command_id: row
                .try_get("command_id")
                .map_err(|error| corrupt(format!("command_id: {error}")))?,
        },
        cursor: LogCursor {
            transaction: 0,
            position,
        },
        recorded_at,
        hash: to_hash(
            row.try_get("hash")
                .map_err(|error| corrupt(format!("hash: {error}")))?,
            position,
        )?,
    })
}

fn command_record(row: &SqliteRow) -> Result<CommandRecord, StoreError> {
    let corrupt = |source: sqlx::Error| StoreError::Corrupt {
        position: 0,
        reason: format!("command record: {source}"),
    };
    let fingerprint: Vec<u8> = row.try_get("fingerprint").map_err(corrupt)?;
    let sequence: i64 = row.try_get("sequence").map_err(corrupt)?;
    let rejection: Option<String> = row.try_get("rejection").map_err(corrupt)?;
    let position: Option<i64> = row.try_get("position").map_err(corrupt)?;
    let event_count: i64 = row.try_get("event_count").map_err(corrupt)?;
    let outcome = match rejection {
        Some(rejection) => CommandOutcome::Rejected {
            sequence,
            rejection: serde_json::from_str(&rejection).map_err(|error| StoreError::Corrupt {
                position: 0,
                reason: format!("command record: rejection: {error}"),
            })?,
        },
        None => CommandOutcome::Committed {
            sequence,
            event_count: u32::try_from(event_count).unwrap_or_default(),
            position: position.map(|position| LogCursor {
                transaction: 0,
                position,
            }),
        },
    };
    Ok(CommandRecord {
        key: CommandKey {
            actor: row.try_get("actor").map_err(corrupt)?,
            command_id: row.try_get("command_id").map_err(corrupt)?,
            fingerprint: to_hash(fingerprint, position.unwrap_or_default())?,
        },
        aggregate_type: row.try_get("aggregate_type").map_err(corrupt)?,
        aggregate_id: row.try_get("aggregate_id").map_err(corrupt)?,
        outcome,
    })
}
