//! What can go wrong while building the province or writing its history.

use motcua_domain::calendar::CalendarError;
use motcua_domain::procedure::ProcedureError;
use motcua_domain::unit::{HierarchyError, UnitIdError};
use motcua_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the generated unit e-ID {text:?} is invalid: {source}")]
    UnitId { text: String, source: UnitIdError },
    #[error("the province's unit hierarchy is invalid: {0}")]
    Hierarchy(#[from] HierarchyError),
    #[error("the province's procedure catalog is invalid: {0}")]
    Catalog(#[from] ProcedureError),
    #[error("the holiday calendar shipped with motcua is invalid: {0}")]
    Calendar(String),
    #[error("invalid history configuration: {0}")]
    Config(String),
    #[error(
        "the store already holds dossier {0}, the history's first: seed an empty store (or use another seed)"
    )]
    AlreadySeeded(String),
    /// A value the generator built was refused by the domain's constructors
    /// (a dossier id or code): a bug in the generator.
    #[error("the generator built an invalid {what}: {reason}")]
    Generated { what: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The command path failed on a dossier for a reason other than the
    /// domain refusing the command (rejections are counted, not raised).
    #[error("dossier {dossier}: {reason}")]
    Command { dossier: String, reason: String },
    #[error("a history task failed: {0}")]
    Task(String),
}

impl From<CalendarError> for SeedError {
    fn from(error: CalendarError) -> Self {
        SeedError::Calendar(error.to_string())
    }
}
