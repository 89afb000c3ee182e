use cqrs_es::persist::PersistenceError;

/// What went wrong in the store, said so that an operator can act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the stream first (optimistic concurrency).
    #[error(
        "conflict: stream {aggregate_type}/{aggregate_id} already has an event with sequence {sequence}"
    )]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
    },
    /// The client command was already recorded (a repeat that lost the
    /// race to its first run); nothing was written.
    #[error("command {command_id:?} of {actor} was already recorded")]
    CommandAlreadyRecorded { actor: String, command_id: String },
    /// The store's append writers stopped before answering (the store is
    /// shutting down): whether the append landed is unknown. A client
    /// command id makes retrying it safe.
    #[error(
        "the event store stopped before confirming the append; it may or may not have been written"
    )]
    WriterStopped,
    /// A client command id that cannot be used.
    #[error("invalid client command id {command_id:?}: {reason}")]
    InvalidCommandId { command_id: String, reason: String },
    /// The append does not continue its stream (a gap, or events of several streams).
    #[error("invalid append to {aggregate_type}/{aggregate_id}: {reason}")]
    InvalidAppend {
        aggregate_type: String,
        aggregate_id: String,
        reason: String,
    },
    /// An event lacks what every stored event must say (unit, actor).
    #[error("event {event_type} of {aggregate_id} has no {field} in its metadata")]
    MissingMetadata {
        aggregate_id: String,
        event_type: String,
        field: &'static str,
    },
    /// The server's database role would pass row-level security.
    #[error(
        "the database role {role} {reason}, so row-level security would not confine it; \
         the server must act as a role that is none of these (motcua_app: see --database-role)"
    )]
    NotConfined { role: String, reason: &'static str },
    #[error("unsupported database URL {0:?}: expected postgres://… or sqlite:…")]
    UnsupportedUrl(String),
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        source: sqlx::Error,
    },
    #[error("migrating the {backend} database failed: {source}")]
    Migrate {
        backend: &'static str,
        source: sqlx::migrate::MigrateError,
    },
    #[error("{operation} failed: {source}")]
    Database {
        operation: &'static str,
        source: sqlx::Error,
    },
    /// No dossier code can be issued for this unit and day: the date cannot
    /// be written as yyMMdd, or the day's counter is exhausted.
    #[error("cannot issue a dossier code for unit {unit} on {date}: {reason}")]
    DossierCode {
        unit: String,
        date: chrono::NaiveDate,
        reason: String,
    },
    /// A stored row cannot be read back as an event.
    #[error("corrupt event at position {position}: {reason}")]
    Corrupt { position: i64, reason: String },
    /// The database cannot be reached or refuses the connection (down, wrong
    /// address or file, bad credentials). `location` never holds a password.
    #[error("cannot connect to the {backend} database at {location}: {source}")]
    Unreachable {
        backend: &'static str,
        location: String,
        source: sqlx::Error,
    },
    /// The database did not answer in time (a host that drops packets, a
    /// server too busy to accept).
    #[error("cannot connect to the {backend} database at {location}: no answer within {timeout:?}")]
    ConnectTimeout {
        backend: &'static str,
        location: String,
        timeout: std::time::Duration,
    },
    /// Migrations this build carries have not been applied.
    #[error(
        "the {backend} database is not migrated: migration{} {} of this build {} not applied; run `motcua migrate`",
        plural(pending.len()),
        versions(pending),
        if pending.len() == 1 { "is" } else { "are" }
    )]
    NotMigrated {
        backend: &'static str,
        pending: Vec<i64>,
    },
    /// The database has a migration this build does not know: a newer build
    /// migrated it.
    #[error(
        "the {backend} database was migrated by a newer build of motcua: it has migration {version} ({description}), which this build does not know; run a build that knows it"
    )]
    UnknownMigration {
        backend: &'static str,
        version: i64,
        description: String,
    },
    /// A migration was started and did not finish.
    #[error(
        "migration {version} ({description}) of the {backend} database did not complete; repair the database before running motcua"
    )]
    FailedMigration {
        backend: &'static str,
        version: i64,
        description: String,
    },
    /// An applied migration is not the one this build carries under its version.
    #[error(
        "migration {version} ({description}) applied to the {backend} database differs from this build's migration {version}"
    )]
    ModifiedMigration {
        backend: &'static str,
        version: i64,
        description: String,
    },
    /// A stored checkpoint cannot be read back.
    #[error("corrupt checkpoint {id}: {reason}")]
    CorruptCheckpoint { id: i64, reason: String },
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn versions(versions: &[i64]) -> String {
    versions
        .iter()
        .map(|version| format!("{version:04}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl StoreError {
    pub(crate) fn database(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| StoreError::Database { operation, source }
    }
}

impl From<StoreError> for PersistenceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { .. } => PersistenceError::OptimisticLockError,
            StoreError::Connect { .. }
            | StoreError::Unreachable { .. }
            | StoreError::ConnectTimeout { .. } => {
                PersistenceError::ConnectionError(Box::new(error))
            }
            StoreError::Corrupt { .. } => PersistenceError::DeserializationError(Box::new(error)),
            other => PersistenceError::UnknownError(Box::new(other)),
        }
    }
}
