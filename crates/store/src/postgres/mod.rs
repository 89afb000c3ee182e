//! The event log on PostgreSQL.
//!
//! Ordering: each row records its inserting transaction (`xid8`). Readers of
//! the global log order by (transaction_id, position) and see only rows of
//! transactions older than the oldest one still running
//! (`pg_snapshot_xmin(pg_current_snapshot())`). A transaction that commits
//! later therefore always sorts after everything already read: nothing is
//! skipped, whatever order positions were handed out in. The price: a
//! long-running transaction holds readers back (lag, never loss).

mod append;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgRow};
use tokio::sync::Notify;

use self::append::Appender;
use crate::error::StoreError;
use crate::hash;
use crate::record::{
    CommandKey, CommandOutcome, CommandRecord, Commit, LogCursor, LogEntry, NewEvent,
    RecordedEvent, SnapshotUpdate,
};

const BACKEND: &str = "PostgreSQL";

/// The channel every append is announced on, to every listening process.
const CHANNEL: &str = "motcua_events";

const COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
     payload, metadata, position, transaction_id::text AS transaction_text, unit_id, actor, \
     recorded_at, command_id, hash";

#[derive(Debug, Clone)]
pub struct Postgres {
    pool: PgPool,
    /// Woken on each append: by this process's writers at once, and by the
    /// listener on each notification from any process.
    appended: Arc<Notify>,
    listening: Arc<OnceLock<()>>,
    appender: Appender,
}

impl Postgres {
    pub(crate) async fn connect(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = crate::connect::pool_options(16)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect {
                backend: BACKEND,
                source,
            })?;
        let appended = Arc::new(Notify::new());
        Ok(Self {
            appender: Appender::start(pool.clone(), Arc::clone(&appended)),
            pool,
            appended,
            listening: Arc::new(OnceLock::new()),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn check_confined(&self) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT current_user::text, rolsuper, rolbypassrls, \
             pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'events'::regclass), 'MEMBER') \
             FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|source| StoreError::Database {
            operation: "reading the database role",
            source,
        })?;
        let read = |row: &PgRow| -> Result<(String, bool, bool, bool), sqlx::Error> {
            Ok((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            ))
        };
        let (role, superuser, bypasses, owns) =
            read(&row).map_err(|source| StoreError::Database {
                operation: "reading the database role",
                source,
            })?;
        let reason = if superuser {
            "is a superuser"
        } else if bypasses {
            "has BYPASSRLS"
        } else if owns {
            "owns the tables (or is a member of their owner)"
        } else {
            return Ok(());
        };
        Err(StoreError::NotConfined { role, reason })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrations::POSTGRES
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: BACKEND,
                source,
            })
    }

    /// Appends through the group-commit writers (see [`append`]).
    pub(crate) async fn commit(
        &self,
        commit: Commit<'_>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let previous_hash = match commit.previous_hash {
            Some(hash) => hash,
            None => previous_hash(&self.pool, &commit.events[0]).await?,
        };
        self.appender.append(commit, previous_hash).await
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
            "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload::text AS payload, position, transaction_id::text AS transaction_text \
             FROM events \
             WHERE (transaction_id, position) > ($1::text::xid8, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY transaction_id, position LIMIT $3",
        )
        .bind(after.transaction.to_string())
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
             WHERE aggregate_type = $1 AND aggregate_id = $2",
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
             event_count, transaction_id::text AS transaction_text, position, rejection \
             FROM commands WHERE actor = $1 AND command_id = $2",
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
        let inserted = sqlx::query(
            "INSERT INTO commands (actor, command_id, aggregate_type, aggregate_id, fingerprint, \
             sequence, event_count, rejection) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (actor, command_id) DO NOTHING",
        )
        .bind(&record.key.actor)
        .bind(&record.key.command_id)
        .bind(&record.aggregate_type)
        .bind(&record.aggregate_id)
        .bind(record.key.fingerprint.as_slice())
        .bind(sequence)
        .bind(i32::try_from(event_count).unwrap_or(i32::MAX))
        .bind(rejection)
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

/// The hash of the event before `first` in its stream. Read outside the
/// append: a stored event never changes, and if the stream moved on
/// meanwhile the append conflicts anyway.
async fn previous_hash(pool: &PgPool, first: &NewEvent) -> Result<[u8; 32], StoreError> {
    if first.sequence == 1 {
        return Ok(hash::GENESIS);
    }
    let row = sqlx::query("SELECT hash, position FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3")
        .bind(&first.aggregate_type)
        .bind(&first.aggregate_id)
        .bind(first.sequence - 1)
        .fetch_optional(pool)
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

fn parse_transaction(row: &PgRow, position: i64) -> Result<u64, StoreError> {
    let text: String = row
        .try_get("transaction_text")
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

fn log_entry(row: &PgRow) -> Result<LogEntry, StoreError> {
    let position: i64 = row
        .try_get("position")
        .map_err(StoreError::database("read an event"))?;
    let corrupt = |source: sqlx::Error| StoreError::Corrupt {
        position,
        reason: source.to_string(),
    };
    Ok(LogEntry {
        cursor: LogCursor {
            transaction: parse_transaction(row, position)?,
            position,
        },
        aggregate_type: row.try_get("aggregate_type").map_err(corrupt)?,
        aggregate_id: row.try_get("aggregate_id").map_err(corrupt)?,
        sequence: row.try_get("sequence").map_err(corrupt)?,
        event_type: row.try_get("event_type").map_err(corrupt)?,
        event_version: row.try_get("event_version").map_err(corrupt)?,
        payload: row.try_get("payload").map_err(corrupt)?,
    })
}

fn command_record(row: &PgRow) -> Result<CommandRecord, StoreError> {
    let corrupt = |source: sqlx::Error| StoreError::Corrupt {
        position: 0,
        reason: format!("command record: {source}"),
    };
    let fingerprint: Vec<u8> = row.try_get("fingerprint").map_err(corrupt)?;
    let sequence: i64 = row.try_get("sequence").map_err(corrupt)?;
    let rejection: Option<Value> = row.try_get("rejection").map_err(corrupt)?;
    let position: Option<i64> = row.try_get("position").map_err(corrupt)?;
    let transaction: Option<String> = row.try_get("transaction_text").map_err(corrupt)?;
    let event_count: i32 = row.try_get("event_count").map_err(corrupt)?;
    let outcome = match rejection {
        Some(rejection) => CommandOutcome::Rejected {
            sequence,
            rejection,
        },
        None => CommandOutcome::Committed {
            sequence,
            event_count: u32::try_from(event_count).unwrap_or_default(),
            position: match (transaction, position) {
                (Some(transaction), Some(position)) => Some(LogCursor {
                    transaction: transaction.parse().map_err(|_| StoreError::Corrupt {
                        position,
                        reason: format!("command record: transaction id {transaction:?}"),
                    })?,
                    position,
                }),
                _ => None,
            },
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
