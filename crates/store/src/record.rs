//! Events as the store writes and reads them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event to append. `unit_id` and `actor` say for which unit and by whom
/// (tenant and accountability); `command_id` the client command, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub unit_id: String,
    pub actor: String,
    pub command_id: Option<String>,
}

/// An event as stored: what was appended plus where and when it landed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event: NewEvent,
    pub cursor: LogCursor,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

/// An event as projections read the whole log: its place, its stream and
/// its payload as the stored JSON text, for the reader to decode straight
/// into its own type. No metadata, hash or intermediate JSON tree: the
/// cheap way through millions of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub cursor: LogCursor,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
}

/// A place in the global log. The log is ordered by (transaction, position):
/// on PostgreSQL `transaction` is the inserting transaction's id, so events
/// are read in commit order; on SQLite (one writer) it is always 0.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct LogCursor {
    pub transaction: u64,
    pub position: i64,
}

impl LogCursor {
    /// Before the first event.
    pub const START: LogCursor = LogCursor {
        transaction: 0,
        position: 0,
    };
}

/// A snapshot written in the same transaction as the events it follows.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotUpdate {
    pub payload: Value,
    pub last_sequence: i64,
    pub current_snapshot: i64,
}

/// One transaction of the command path: a command's events, the snapshot
/// that may follow them, and the client command they answer.
#[derive(Debug, Clone)]
pub struct Commit<'a> {
    /// Owned: they travel to the writer and come back as recorded, uncopied.
    pub events: Vec<NewEvent>,
    pub snapshot: Option<&'a SnapshotUpdate>,
    /// The hash of the event before the first one, when the caller holds
    /// it (a cached aggregate): saves reading it. A stale hint can never be
    /// committed: it belongs to an older head, so the append conflicts.
    pub previous_hash: Option<[u8; 32]>,
    /// Recorded as the command's first outcome in the same transaction.
    pub command: Option<&'a CommandKey>,
}

/// A client command: who sent it, the id they gave it, and what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandKey {
    pub actor: String,
    pub command_id: String,
    /// SHA-256 of the request: the same id with another request is refused.
    pub fingerprint: [u8; 32],
}

/// The first outcome of a client command, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    pub key: CommandKey,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub outcome: CommandOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandOutcome {
    /// The command was accepted: the stream stood at `sequence` after its
    /// `event_count` events, the last of them at `position` (none if it
    /// emitted nothing).
    Committed {
        sequence: i64,
        event_count: u32,
        position: Option<LogCursor>,
    },
    /// The command was rejected, for the reason given (the aggregate's error).
    Rejected { sequence: i64, rejection: Value },
}

impl CommandOutcome {
    /// (sequence, event count, rejection) as the `commands` table keeps them.
    pub(crate) fn columns(&self) -> (i64, u32, Option<&Value>) {
        match self {
            CommandOutcome::Committed {
                sequence,
                event_count,
                ..
            } => (*sequence, *event_count, None),
            CommandOutcome::Rejected {
                sequence,
                rejection,
            } => (*sequence, 0, Some(rejection)),
        }
    }
}
