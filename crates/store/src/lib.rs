//! The event log of motcua, on PostgreSQL (production) and SQLite (the
//! embedded default), and the cqrs-es repository over it.
//!
//! This crate is the only writer of the event log, and with the other store
//! code the only place that writes SQL. Events are appended, never updated
//! or deleted:
//! - appends are optimistic: a stale sequence fails with [`StoreError::Conflict`];
//! - every event carries a hash chaining it to the previous event of its
//!   stream ([`hash`]), so rewriting history is evident;
//! - the global log is read in commit order with no gaps ([`EventStore::read_all`]).

pub mod checkpoint;
mod command;
mod connect;
mod counter;
mod dossier;
mod error;
pub mod hash;
mod migrations;
mod postgres;
mod record;
mod replay;
mod repository;
mod sqlite;
mod store;
mod tail;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointMismatch, CheckpointVerdict, HeadDifference};
pub use command::{
    CommandContext, CommandError, CommandPath, CommandPathConfig, Committed, Idempotency,
    MAX_COMMAND_ID_CHARS,
};
pub use connect::{CONNECT_TIMEOUT, database_location};
pub use error::StoreError;
pub use migrations::{MigrationInfo, MigrationStatus};
pub use record::{
    CommandKey, CommandOutcome, CommandRecord, Commit, LogCursor, LogEntry, NewEvent,
    RecordedEvent, SnapshotUpdate,
};
pub use replay::{AsOf, Loaded, Replayer};
pub use store::EventStore;
pub use tail::Tail;
pub use verify::{BreakKind, Broken, ChainReport};
