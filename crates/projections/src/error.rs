use motcua_store::StoreError;

/// What went wrong in the projections or a read-model query.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{operation} failed: {source}")]
    Database {
        operation: &'static str,
        source: sqlx::Error,
    },
    /// An event the projection cannot apply: it stops there, and says so
    /// in its status, rather than skip it.
    #[error("projection {projection} stopped at event {position}: {reason}")]
    Failed {
        projection: &'static str,
        position: i64,
        reason: String,
    },
    /// Another projector moved the checkpoint since this one read it: this
    /// batch was not written, and this projector is no longer the active one.
    #[error("projection {projection}: another projector moved its checkpoint")]
    CheckpointMoved { projection: &'static str },
    /// A write was cut short (its task panicked, or the runtime stopped).
    #[error("a projection write did not finish: {0}")]
    WriteInterrupted(String),
    /// Decoding a page of the log was cut short (its task panicked, or the
    /// runtime stopped).
    #[error("a page of the log was not decoded: {0}")]
    ReadInterrupted(String),
    /// The projection has no live generation (a database not migrated to it).
    #[error("projection {projection} has no live generation")]
    NoLiveGeneration { projection: String },
    /// A generation being built was dropped or promoted by someone else.
    #[error("generation {generation} of projection {projection} is no longer being built")]
    GenerationGone { projection: String, generation: i32 },
    /// A stored read-model row that cannot be read back.
    #[error("corrupt read-model row {row}: {reason}")]
    Corrupt { row: String, reason: String },
    /// A query that cannot be answered as asked.
    /// The reference data cannot be loaded or built.
    #[error("reference data: {0}")]
    Reference(String),
    #[error("invalid {field}: {reason}")]
    InvalidQuery { field: &'static str, reason: String },
    #[error("waited {waited:?} for the read models to reach position {position}")]
    WaitTimedOut {
        position: i64,
        waited: std::time::Duration,
    },
}

impl ProjectionError {
    pub(crate) fn database(operation: &'static str) -> impl Fn(sqlx::Error) -> Self + Copy {
        move |source| ProjectionError::Database { operation, source }
    }

    /// PostgreSQL gave up waiting for a lock (`lock_timeout`).
    pub(crate) fn is_lock_timeout(&self) -> bool {
        matches!(
            self,
            ProjectionError::Database { source: sqlx::Error::Database(error), .. }
                if error.code().as_deref() == Some("55P03")
        )
    }
}
