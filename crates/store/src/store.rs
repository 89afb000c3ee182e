//! The event store over either backend.

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::postgres::Postgres;
use crate::record::{LogCursor, NewEvent, RecordedEvent, SnapshotUpdate};
use crate::sqlite::Sqlite;

/// The event log on PostgreSQL or SQLite, chosen by the database URL.
#[derive(Debug, Clone)]
pub enum EventStore {
    Postgres(Postgres),
    Sqlite(Sqlite),
}

impl EventStore {
    /// Connects to `postgres://…` or `sqlite:…` (the file is created if missing).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(EventStore::Postgres(Postgres::connect(url).await?))
        } else if url.starts_with("sqlite:") {
            Ok(EventStore::Sqlite(Sqlite::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Applies the migrations this build carries.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            EventStore::Postgres(store) => store.migrate().await,
            EventStore::Sqlite(store) => store.migrate().await,
        }
    }

    /// Appends the next events of one stream in one transaction, with a
    /// snapshot if given. Fails with [`StoreError::Conflict`] if another
    /// writer appended any of these sequences first; then nothing is written.
    pub async fn append(
        &self,
        events: &[NewEvent],
        snapshot: Option<&SnapshotUpdate>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        check_one_stream(events)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let recorded_at = now_to_the_microsecond();
        match self {
            EventStore::Postgres(store) => store.append(events, snapshot, recorded_at).await,
            EventStore::Sqlite(store) => store.append(events, snapshot, recorded_at).await,
        }
    }

    /// The events of one stream with a sequence above `after_sequence`, in order.
    pub async fn load_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match self {
            EventStore::Postgres(store) => {
                store
                    .load_stream(aggregate_type, aggregate_id, after_sequence)
                    .await
            }
            EventStore::Sqlite(store) => {
                store
                    .load_stream(aggregate_type, aggregate_id, after_sequence)
                    .await
            }
        }
    }

    /// Up to `limit` events of the global log after `after`, in commit order.
    ///
    /// Gap-free: an event is returned only once every transaction that could
    /// still commit an event before it has ended, so a reader that continues
    /// from the last cursor it received never misses or repeats an event.
    pub async fn read_all(
        &self,
        after: LogCursor,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match self {
            EventStore::Postgres(store) => store.read_all(after, limit).await,
            EventStore::Sqlite(store) => store.read_all(after, limit).await,
        }
    }

    /// The latest snapshot of a stream: (payload, last sequence, snapshot number).
    pub async fn snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<SnapshotUpdate>, StoreError> {
        match self {
            EventStore::Postgres(store) => store.snapshot(aggregate_type, aggregate_id).await,
            EventStore::Sqlite(store) => store.snapshot(aggregate_type, aggregate_id).await,
        }
    }
}

/// Both databases keep microseconds: hash what will be read back.
fn now_to_the_microsecond() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// An append continues one stream with consecutive sequences.
fn check_one_stream(events: &[NewEvent]) -> Result<(), StoreError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let invalid = |reason: String| StoreError::InvalidAppend {
        aggregate_type: first.aggregate_type.clone(),
        aggregate_id: first.aggregate_id.clone(),
        reason,
    };
    if first.sequence < 1 {
        return Err(invalid(format!("sequence {} is below 1", first.sequence)));
    }
    for (offset, event) in events.iter().enumerate() {
        if event.aggregate_type != first.aggregate_type || event.aggregate_id != first.aggregate_id
        {
            return Err(invalid(
                "events of several streams in one append".to_owned(),
            ));
        }
        let expected = first.sequence + offset as i64;
        if event.sequence != expected {
            return Err(invalid(format!(
                "sequence {} where {expected} was expected",
                event.sequence
            )));
        }
        if event.unit_id.is_empty() || event.actor.is_empty() {
            return Err(StoreError::MissingMetadata {
                aggregate_id: event.aggregate_id.clone(),
                event_type: event.event_type.clone(),
                field: if event.unit_id.is_empty() {
                    "unit"
                } else {
                    "actor"
                },
            });
        }
    }
    Ok(())
}
