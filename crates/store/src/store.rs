//! The event store over either backend.

use chrono::{DateTime, Utc};
use futures_util::{Stream, TryStreamExt};

use crate::error::StoreError;
use crate::postgres::Postgres;
use crate::record::{
    CommandRecord, Commit, LogCursor, LogEntry, NewEvent, RecordedEvent, SnapshotUpdate,
};
use crate::sqlite::Sqlite;

/// The event log on PostgreSQL or SQLite, chosen by the database URL.
#[derive(Debug, Clone)]
pub enum EventStore {
    Postgres(Postgres),
    Sqlite(Sqlite),
}

impl EventStore {
    /// The pool behind [`EventStore::connect`], without its first probe.
    pub(crate) async fn connect_pool(url: &str, role: Option<&str>) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = crate::connect::postgres_options(url, role).map_err(|source| {
                StoreError::Connect {
                    backend: "PostgreSQL",
                    source,
                }
            })?;
            Ok(EventStore::Postgres(Postgres::connect(options).await?))
        } else if url.starts_with("sqlite:") {
            Ok(EventStore::Sqlite(Sqlite::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Closes the pool at shutdown: connections are closed as they come
    /// back, waiting at most 5 seconds for those in use (a listener holds one
    /// for good) so that closing never hangs.
    pub async fn close(&self) {
        let closing = async {
            match self {
                EventStore::Postgres(store) => store.pool().close().await,
                EventStore::Sqlite(store) => store.pool().close().await,
            }
        };
        if tokio::time::timeout(std::time::Duration::from_secs(5), closing)
            .await
            .is_err()
        {
            tracing::warn!("connections still in use after 5 s are dropped unclosed");
        }
    }

    /// Fails with [`StoreError::NotConfined`] unless the database role in
    /// use is bound by the read models' row-level security: not a
    /// superuser, not BYPASSRLS, not the tables' owner nor a member of it.
    /// SQLite has no roles (and no row-level security): always Ok.
    pub async fn check_confined(&self) -> Result<(), StoreError> {
        match self {
            EventStore::Postgres(store) => store.check_confined().await,
            EventStore::Sqlite(_) => Ok(()),
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
        self.commit(Commit {
            events: events.to_vec(),
            snapshot,
            previous_hash: None,
            command: None,
        })
        .await
    }

    /// [`append`](Self::append) for the command path: also records the
    /// client command's outcome in the same transaction, failing with
    /// [`StoreError::CommandAlreadyRecorded`] if it already has one.
    pub async fn commit(&self, commit: Commit<'_>) -> Result<Vec<RecordedEvent>, StoreError> {
        check_one_stream(&commit.events)?;
        if commit.events.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            EventStore::Postgres(store) => store.commit(commit).await,
            EventStore::Sqlite(store) => store.commit(commit, now_to_the_microsecond()).await,
        }
    }

    /// The sequence of a stream's last event; 0 for a stream not begun.
    pub async fn stream_version(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<i64, StoreError> {
        match self {
            EventStore::Postgres(store) => store.stream_version(aggregate_type, aggregate_id).await,
            EventStore::Sqlite(store) => store.stream_version(aggregate_type, aggregate_id).await,
        }
    }

    /// The recorded first outcome of a client command, if any.
    pub async fn command_record(
        &self,
        actor: &str,
        command_id: &str,
    ) -> Result<Option<CommandRecord>, StoreError> {
        match self {
            EventStore::Postgres(store) => store.command_record(actor, command_id).await,
            EventStore::Sqlite(store) => store.command_record(actor, command_id).await,
        }
    }

    /// Records an outcome that wrote no event (a rejection, or a command
    /// that emitted nothing) unless the command already has one; returns
    /// the outcome recorded first.
    pub async fn record_command(
        &self,
        record: &CommandRecord,
    ) -> Result<CommandRecord, StoreError> {
        let inserted = match self {
            EventStore::Postgres(store) => store.insert_command_record(record).await?,
            EventStore::Sqlite(store) => store.insert_command_record(record).await?,
        };
        if inserted {
            return Ok(record.clone());
        }
        let key = &record.key;
        self.command_record(&key.actor, &key.command_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                position: 0,
                reason: format!(
                    "command {:?} of {} is neither new nor recorded",
                    key.command_id, key.actor
                ),
            })
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

    /// Like [`EventStore::read_all`] (the same events, in the same order,
    /// never one left out), but each as a [`LogEntry`]: what a projection
    /// needs, with the payload left as text.
    pub async fn read_log(
        &self,
        after: LogCursor,
        limit: u32,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let mut entries = Vec::new();
        self.read_log_pages(after, limit, limit, |page| {
            entries = page;
            std::future::ready(true)
        })
        .await?;
        Ok(entries)
    }

    /// The events [`EventStore::read_log`] returns, read by one query that
    /// streams them: each page of `page_size` goes to `each_page` as soon as
    /// it has come, while the database goes on reading (a long read is not
    /// held up by round trips). Stops early when `each_page` returns false;
    /// returns how many entries were handed over.
    pub async fn read_log_pages<Handed>(
        &self,
        after: LogCursor,
        limit: u32,
        page_size: u32,
        each_page: impl FnMut(Vec<LogEntry>) -> Handed,
    ) -> Result<usize, StoreError>
    where
        Handed: Future<Output = bool>,
    {
        match self {
            EventStore::Postgres(store) => {
                store
                    .read_log_pages(after, limit, page_size, each_page)
                    .await
            }
            EventStore::Sqlite(store) => {
                store
                    .read_log_pages(after, limit, page_size, each_page)
                    .await
            }
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

/// Hands the rows of a streamed read of the log to `each_page`,
/// `page_size` entries at a time; returns how many were handed over.
pub(crate) async fn log_pages<R, Handed>(
    mut rows: impl Stream<Item = Result<R, sqlx::Error>> + Unpin,
    log_entry: fn(&R) -> Result<LogEntry, StoreError>,
    page_size: u32,
    mut each_page: impl FnMut(Vec<LogEntry>) -> Handed,
) -> Result<usize, StoreError>
where
    Handed: Future<Output = bool>,
{
    let page_size = page_size.max(1) as usize;
    let mut page = Vec::with_capacity(page_size);
    let mut handed = 0;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(StoreError::database("read the global log"))?
    {
        page.push(log_entry(&row)?);
        if page.len() == page_size {
            handed += page_size;
            let full = std::mem::replace(&mut page, Vec::with_capacity(page_size));
            if !each_page(full).await {
                return Ok(handed);
            }
        }
    }
    if !page.is_empty() {
        handed += page.len();
        each_page(page).await;
    }
    Ok(handed)
}

/// Both databases keep microseconds: hash what will be read back.
pub(crate) fn now_to_the_microsecond() -> DateTime<Utc> {
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
