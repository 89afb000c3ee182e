//! Timeliness (tính đúng hạn) of finished and open dossiers.
//!
//! The due date compared against is the legal due date: the one computed at
//! acceptance, moved only by supplement and payment pauses and by
//! administrative correction — never by an apology's new appointment.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::local_date;

/// How finish and due instants are compared. Systems differ; the province chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelinessPolicy {
    /// Compare local (Vietnam) calendar dates: finished on the due day is on time.
    #[default]
    ByDate,
    /// Compare instants: late only if finished after the due instant. A finish
    /// on an earlier day than the due day is still early; otherwise on time.
    ByTimestamp,
}

/// Timeliness of a finished dossier (status 9 or 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finished {
    /// Trước hạn.
    Early,
    /// Đúng hạn.
    OnTime,
    /// Quá hạn.
    Late,
}

/// Timeliness of a dossier still in progress at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InProgress {
    /// Trong hạn.
    WithinTime,
    /// Quá hạn.
    Overdue,
}

/// A dossier's timeliness at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    Finished(Finished),
    InProgress(InProgress),
}

impl TimelinessPolicy {
    pub fn finished(self, finished_at: DateTime<Utc>, due_at: DateTime<Utc>) -> Finished {
        let (finished_day, due_day) = (local_date(finished_at), local_date(due_at));
        if finished_day < due_day {
            return Finished::Early;
        }
        let late = match self {
            TimelinessPolicy::ByDate => finished_day > due_day,
            TimelinessPolicy::ByTimestamp => finished_at > due_at,
        };
        if late {
            Finished::Late
        } else {
            Finished::OnTime
        }
    }

    /// An open dossier at `at`. Dossiers waiting for the applicant (supplement,
    /// payment) count as within time, as Biểu 06 requires.
    pub fn in_progress(
        self,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        waiting_for_applicant: bool,
    ) -> InProgress {
        let overdue = !waiting_for_applicant
            && match self {
                TimelinessPolicy::ByDate => local_date(at) > local_date(due_at),
                TimelinessPolicy::ByTimestamp => at > due_at,
            };
        if overdue {
            InProgress::Overdue
        } else {
            InProgress::WithinTime
        }
    }
}
