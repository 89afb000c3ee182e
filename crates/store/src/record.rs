//! Events as the store writes and reads them.

use chrono::{DateTime, Utc};
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

/// A place in the global log. The log is ordered by (transaction, position):
/// on PostgreSQL `transaction` is the inserting transaction's id, so events
/// are read in commit order; on SQLite (one writer) it is always 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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
