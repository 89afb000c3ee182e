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
            StoreError::Connect { .. } => PersistenceError::ConnectionError(Box::new(error)),
            StoreError::Corrupt { .. } => PersistenceError::DeserializationError(Box::new(error)),
            other => PersistenceError::UnknownError(Box::new(other)),
        }
    }
}
