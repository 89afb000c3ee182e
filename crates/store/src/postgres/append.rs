//! Appends on PostgreSQL, with group commit.
//!
//! A commit waits for its WAL flush, and on this kind of machine that wait,
//! not the work, bounds how many one-command transactions commit per
//! second. So appends go through a queue to a few writer tasks; each takes
//! whatever is waiting (up to [`MAX_BATCH`]) and writes it as **one
//! statement** — every event, command record and snapshot of the batch, in
//! one implicit transaction, one round trip, one flush.
//!
//! A batch is all or nothing. If it fails (a conflict on one stream, a
//! repeated command), its appends are written again one by one, so each gets
//! its own outcome and the others still land. A lone append is the same
//! statement with one append in it.
//!
//! Other processes learn of appends by `pg_notify`, sent by a separate task
//! after the commits, coalesced: a NOTIFY inside the appending transaction
//! would take PostgreSQL's cluster-wide notify lock until the commit is
//! flushed and serialise every append.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgPool;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use super::{CHANNEL, parse_transaction};
use crate::error::StoreError;
use crate::hash;
use crate::record::{CommandKey, Commit, LogCursor, NewEvent, RecordedEvent, SnapshotUpdate};
use crate::store::now_to_the_microsecond;

/// Writer tasks: each holds one connection while it writes a batch.
const WRITERS: usize = 4;
/// Appends per statement at most. A bulk writer (the seed) keeps thousands
/// waiting; 256 a statement took its CPU per command down by a tenth
/// against 64 (docs/benchmarks.md, "The seed").
const MAX_BATCH: usize = 256;
/// Appends waiting for a writer before callers wait to enqueue.
const QUEUE: usize = 1024;

/// The batch as one statement over parallel arrays: events (in order, so
/// positions follow sequences within a stream), command records joined to
/// their last event, snapshots.
const APPEND: &str = "\
WITH appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
        payload, metadata, unit_id, actor, recorded_at, command_id, hash)
    SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version,
        e.payload, e.metadata, e.unit_id, e.actor, $1, e.command_id, e.hash
    FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::jsonb[],
        $8::jsonb[], $9::text[], $10::text[], $11::text[], $12::bytea[])
        WITH ORDINALITY AS e(aggregate_type, aggregate_id, sequence, event_type, event_version,
            payload, metadata, unit_id, actor, command_id, hash, n)
    ORDER BY e.n
    RETURNING aggregate_type, aggregate_id, sequence, position, transaction_id
), recorded AS (
    INSERT INTO commands (actor, command_id, aggregate_type, aggregate_id, fingerprint,
        sequence, event_count, transaction_id, position)
    SELECT c.actor, c.command_id, c.aggregate_type, c.aggregate_id, c.fingerprint,
        c.sequence, c.event_count, a.transaction_id, a.position
    FROM UNNEST($13::text[], $14::text[], $15::text[], $16::text[], $17::bytea[], $18::int8[],
        $19::int4[])
        AS c(actor, command_id, aggregate_type, aggregate_id, fingerprint, sequence, event_count)
    JOIN appended AS a USING (aggregate_type, aggregate_id, sequence)
), snapshot AS (
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    SELECT * FROM UNNEST($20::text[], $21::text[], $22::int8[], $23::int8[], $24::jsonb[])
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET
        last_sequence = EXCLUDED.last_sequence,
        current_snapshot = EXCLUDED.current_snapshot,
        payload = EXCLUDED.payload
)
SELECT aggregate_type, aggregate_id, sequence, position,
    transaction_id::text AS transaction_text
FROM appended";

/// The queue to the writers.
#[derive(Debug, Clone)]
pub(super) struct Appender {
    queue: mpsc::Sender<Pending>,
}

/// One append waiting for a writer, with where to send its outcome.
struct Pending {
    events: Vec<NewEvent>,
    snapshot: Option<SnapshotUpdate>,
    previous_hash: [u8; 32],
    command: Option<CommandKey>,
    outcome: oneshot::Sender<Result<Vec<RecordedEvent>, StoreError>>,
}

impl Appender {
    /// Starts the writers and the announcer; they stop when the last
    /// `Appender` is dropped. `appended` wakes this process's readers.
    pub(super) fn start(pool: PgPool, appended: Arc<Notify>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        let announce = Arc::new(Notify::new());
        for _ in 0..WRITERS {
            tokio::spawn(write_batches(
                pool.clone(),
                Arc::clone(&waiting),
                Arc::clone(&appended),
                Arc::clone(&announce),
            ));
        }
        tokio::spawn(announce_appends(pool, Arc::downgrade(&waiting), announce));
        Appender { queue }
    }

    /// Appends `commit`, whose first event follows `previous_hash`.
    pub(super) async fn append(
        &self,
        commit: Commit<'_>,
        previous_hash: [u8; 32],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (outcome, receive) = oneshot::channel();
        let pending = Pending {
            events: commit.events,
            snapshot: commit.snapshot.cloned(),
            previous_hash,
            command: commit.command.cloned(),
            outcome,
        };
        self.queue
            .send(pending)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        receive.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// A writer: takes what waits, writes it, tells each caller its outcome.
async fn write_batches(
    pool: PgPool,
    waiting: Arc<Mutex<mpsc::Receiver<Pending>>>,
    appended: Arc<Notify>,
    announce: Arc<Notify>,
) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                break;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let outcomes: Vec<Result<Landed, StoreError>> = match insert(&pool, &batch).await {
            Ok(landed) => landed.into_iter().map(Ok).collect(),
            Err(error) if batch.len() == 1 => vec![Err(classify(error, &batch[0]))],
            // Something in the batch failed: give each append its own outcome.
            Err(_) => {
                let mut outcomes = Vec::with_capacity(batch.len());
                for pending in &batch {
                    let single = std::slice::from_ref(pending);
                    outcomes.push(match insert(&pool, single).await {
                        Ok(mut landed) => Ok(landed.pop().unwrap_or_default()),
                        Err(error) => Err(classify(error, pending)),
                    });
                }
                outcomes
            }
        };
        if outcomes.iter().any(Result::is_ok) {
            appended.notify_waiters();
            announce.notify_one();
        }
        for (pending, outcome) in batch.into_iter().zip(outcomes) {
            let recorded = outcome.map(|landed| landed.record(pending.events));
            // The caller may have given up waiting; the append stands.
            let _ = pending.outcome.send(recorded);
        }
    }
    // The store is gone: let the announcer see it and stop too.
    drop(waiting);
    announce.notify_one();
}

/// Tells other processes that the log grew, once per burst of appends.
async fn announce_appends(
    pool: PgPool,
    writers: std::sync::Weak<Mutex<mpsc::Receiver<Pending>>>,
    announce: Arc<Notify>,
) {
    loop {
        announce.notified().await;
        // The store is gone, or closed (writers may outlive the pool by a
        // moment): nothing is left to announce.
        if writers.strong_count() == 0 || pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&pool)
            .await
        {
            // Readers elsewhere poll: they lag, they lose nothing.
            tracing::warn!(%error, "could not announce appended events");
        }
    }
}

/// Where the events of one append landed, in their order.
#[derive(Debug, Default)]
struct Landed {
    recorded_at: DateTime<Utc>,
    cursors: Vec<LogCursor>,
    hashes: Vec<[u8; 32]>,
}

impl Landed {
    /// The append's events as recorded; moved, not copied (payloads are the
    /// bulk of an append).
    fn record(self, events: Vec<NewEvent>) -> Vec<RecordedEvent> {
        events
            .into_iter()
            .zip(self.cursors.into_iter().zip(self.hashes))
            .map(|(event, (cursor, hash))| RecordedEvent {
                event,
                cursor,
                recorded_at: self.recorded_at,
                hash,
            })
            .collect()
    }
}

/// Writes a batch in one statement; where each append's events landed.
async fn insert(pool: &PgPool, batch: &[Pending]) -> Result<Vec<Landed>, sqlx::Error> {
    let recorded_at = now_to_the_microsecond();
    let mut hashes = Vec::new();
    for pending in batch {
        let mut previous = pending.previous_hash;
        for event in &pending.events {
            previous = hash::chain(&previous, event, recorded_at);
            hashes.push(previous);
        }
    }
    let events = || batch.iter().flat_map(|pending| &pending.events);
    let text = |field: fn(&NewEvent) -> &str| events().map(field).collect::<Vec<_>>();
    let commands: Vec<(&CommandKey, &NewEvent, usize)> = batch
        .iter()
        .filter_map(|pending| {
            Some((
                pending.command.as_ref()?,
                pending.events.last()?,
                pending.events.len(),
            ))
        })
        .collect();
    let snapshots: Vec<(&SnapshotUpdate, &NewEvent)> = batch
        .iter()
        .filter_map(|pending| Some((pending.snapshot.as_ref()?, pending.events.first()?)))
        .collect();
    let rows = sqlx::query(APPEND)
        .bind(recorded_at)
        .bind(text(|event| &event.aggregate_type))
        .bind(text(|event| &event.aggregate_id))
        .bind(events().map(|event| event.sequence).collect::<Vec<_>>())
        .bind(text(|event| &event.event_type))
        .bind(text(|event| &event.event_version))
        .bind(events().map(|event| &event.payload).collect::<Vec<_>>())
        .bind(events().map(|event| &event.metadata).collect::<Vec<_>>())
        .bind(text(|event| &event.unit_id))
        .bind(text(|event| &event.actor))
        .bind(
            events()
                .map(|event| event.command_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            hashes
                .iter()
                .map(|hash| hash.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(key, ..)| key.actor.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(key, ..)| key.command_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(_, last, _)| last.aggregate_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(_, last, _)| last.aggregate_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(key, ..)| key.fingerprint.as_slice())
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(_, last, _)| last.sequence)
                .collect::<Vec<_>>(),
        )
        .bind(
            commands
                .iter()
                .map(|(.., count)| i32::try_from(*count).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(
            snapshots
                .iter()
                .map(|(_, first)| first.aggregate_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            snapshots
                .iter()
                .map(|(_, first)| first.aggregate_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            snapshots
                .iter()
                .map(|(snapshot, _)| snapshot.last_sequence)
                .collect::<Vec<_>>(),
        )
        .bind(
            snapshots
                .iter()
                .map(|(snapshot, _)| snapshot.current_snapshot)
                .collect::<Vec<_>>(),
        )
        .bind(
            snapshots
                .iter()
                .map(|(snapshot, _)| &snapshot.payload)
                .collect::<Vec<_>>(),
        )
        .fetch_all(pool)
        .await?;
    // Sorted by stream and sequence, searched by borrowed keys: no copy of
    // an id per event.
    let mut cursors = Vec::with_capacity(rows.len());
    for row in &rows {
        let key: (String, String, i64) = (
            row.try_get("aggregate_type")?,
            row.try_get("aggregate_id")?,
            row.try_get("sequence")?,
        );
        let position: i64 = row.try_get("position")?;
        let transaction = parse_transaction(row, position)
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        cursors.push((
            key,
            LogCursor {
                transaction,
                position,
            },
        ));
    }
    cursors.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    let cursor_of = |event: &NewEvent| {
        cursors
            .binary_search_by(|((aggregate_type, aggregate_id, sequence), _)| {
                (aggregate_type.as_str(), aggregate_id.as_str(), *sequence).cmp(&(
                    event.aggregate_type.as_str(),
                    event.aggregate_id.as_str(),
                    event.sequence,
                ))
            })
            .map(|found| cursors[found].1)
            .map_err(|_| {
                sqlx::Error::Protocol(format!(
                    "{}/{} event {} was not returned by its append",
                    event.aggregate_type, event.aggregate_id, event.sequence
                ))
            })
    };
    let mut hashes = hashes.into_iter();
    batch
        .iter()
        .map(|pending| {
            Ok(Landed {
                recorded_at,
                cursors: pending
                    .events
                    .iter()
                    .map(cursor_of)
                    .collect::<Result<_, _>>()?,
                hashes: hashes.by_ref().take(pending.events.len()).collect(),
            })
        })
        .collect()
}

/// A unique violation is a lost race: on the stream's next sequence
/// (another writer appended first) or on the client command (a repeat of
/// it was recorded first).
fn classify(error: sqlx::Error, pending: &Pending) -> StoreError {
    let first = &pending.events[0];
    match (&error, &pending.command) {
        (sqlx::Error::Database(db), Some(key))
            if db.is_unique_violation() && db.constraint() == Some("commands_pkey") =>
        {
            StoreError::CommandAlreadyRecorded {
                actor: key.actor.clone(),
                command_id: key.command_id.clone(),
            }
        }
        (sqlx::Error::Database(db), _) if db.is_unique_violation() => StoreError::Conflict {
            aggregate_type: first.aggregate_type.clone(),
            aggregate_id: first.aggregate_id.clone(),
            sequence: first.sequence,
        },
        _ => StoreError::Database {
            operation: "append events",
            source: error,
        },
    }
}
