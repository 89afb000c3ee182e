//! Why a command was rejected. A rejected command emits no event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::dossier::status::{DossierStatus, Step};
use crate::role::{Action, Role};
use crate::unit::UnitId;

/// Serializable so that the command path can record a rejection as a
/// command's first outcome and return it again when the command is repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "rejection", rename_all = "snake_case")]
pub enum DossierError {
    /// None of the principal's roles may take this action.
    #[error("{action} is not allowed for roles {roles:?}; allowed: {allowed:?}")]
    RoleNotAllowed {
        action: Action,
        roles: Vec<Role>,
        allowed: Vec<Role>,
    },
    /// The principal's unit does not hold the dossier.
    #[error("{action}: unit {unit} does not hold this dossier (held by {holder})")]
    NotHolder {
        action: Action,
        unit: UnitId,
        holder: UnitId,
    },
    /// Only the specialist the dossier is assigned to may do this.
    #[error("{action}: the dossier is assigned to {assignee}, not {user}")]
    NotAssignee {
        action: Action,
        assignee: String,
        user: String,
    },
    /// The lifecycle does not allow the action in the current step.
    #[error("{action} is not allowed in status {}, step {step:?}", status_name(.status))]
    InvalidStatus {
        action: Action,
        status: Option<DossierStatus>,
        step: Step,
    },
    /// A field is missing or malformed.
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    /// A rule of the domain forbids it (named in the message).
    #[error("{action}: {rule}")]
    RuleViolated { action: Action, rule: String },
    /// The dossier is soft-deleted; only restoring it is possible.
    #[error("{action}: the dossier is deleted")]
    Deleted { action: Action },
    /// The command's time is before the dossier's last event.
    #[error("at: {at} is before the dossier's last event at {last}")]
    TimeBeforeLastEvent {
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
}

impl DossierError {
    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DossierError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The class of rejection, for the API's error codes.
    pub fn kind(&self) -> RejectionKind {
        match self {
            DossierError::RoleNotAllowed { .. }
            | DossierError::NotHolder { .. }
            | DossierError::NotAssignee { .. } => RejectionKind::Forbidden,
            DossierError::InvalidStatus { .. }
            | DossierError::RuleViolated { .. }
            | DossierError::Deleted { .. } => RejectionKind::Conflict,
            DossierError::InvalidField { .. } | DossierError::TimeBeforeLastEvent { .. } => {
                RejectionKind::BadInput
            }
        }
    }
}

/// The classes of rejection the API maps to error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The principal may not do this (FORBIDDEN).
    Forbidden,
    /// The dossier's state does not allow it (CONFLICT).
    Conflict,
    /// The command's data is missing or malformed (BAD_USER_INPUT).
    BadInput,
}

fn status_name(status: &Option<DossierStatus>) -> String {
    status.map_or_else(
        || "none (not submitted)".to_owned(),
        |status| status.to_string(),
    )
}
