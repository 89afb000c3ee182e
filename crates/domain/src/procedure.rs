//! Administrative procedures (thủ tục hành chính) and the catalog of their versions.
//!
//! A procedure is versioned: a dossier records the version it was received
//! under and keeps it, so a later change of processing time or fees never
//! rewrites the terms of a dossier already received.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{WorkingCalendar, WorkingMinutes};
use crate::unit::UnitLevel;

/// A procedure's national code on the National Public Service Portal, e.g. `1.002835`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = ProcedureError;
    /// National codes are digits and dots (`1.002835`); local variants may
    /// add letters, `-` and `_`. At most 32 characters.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let well_formed = !value.is_empty()
            && value.len() <= 32
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if well_formed {
            Ok(Self(value))
        } else {
            Err(ProcedureError::InvalidCode(value))
        }
    }
}

impl From<ProcedureCode> for String {
    fn from(code: ProcedureCode) -> Self {
        code.0
    }
}

impl std::str::FromStr for ProcedureCode {
    type Err = ProcedureError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

impl std::fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How far a procedure is offered online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    /// Dịch vụ công trực tuyến toàn trình (formerly level 4).
    FullProcess,
    /// Dịch vụ công trực tuyến một phần (formerly level 3).
    Partial,
    /// Information only: no online submission.
    InformationOnly,
}

/// How long the administration has to settle a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
// JSON: `{"working_minutes": 240}` or `{"calendar_days": 10}`: the unit is in the name.
#[serde(rename_all = "snake_case")]
pub enum ProcessingTime {
    /// Working time inside office sessions (1 working day = 480 minutes).
    #[serde(rename = "working_minutes")]
    WorkingTime(WorkingMinutes),
    /// Calendar days; a deadline on a day off moves to the next working day.
    CalendarDays(u32),
}

impl ProcessingTime {
    /// The due date of something received at `received_at`. Both kinds count
    /// from `counting_start`: a dossier received after closing time is
    /// received, for every deadline, at the next session.
    pub fn due_from(self, calendar: &WorkingCalendar, received_at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            ProcessingTime::WorkingTime(duration) => {
                calendar.add_working_time(received_at, duration)
            }
            ProcessingTime::CalendarDays(days) => {
                calendar.add_calendar_days(calendar.counting_start(received_at), days)
            }
        }
    }
}

/// What happens to the due date while the applicant supplements the dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementClock {
    /// The due date moves later by the working time spent waiting.
    Shift,
    /// The full processing time starts again when the supplement arrives.
    Restart,
}

/// A case (trường hợp) of a procedure, with its own processing time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureCase {
    pub id: String,
    pub name: String,
    pub processing_time: ProcessingTime,
}

/// Whether an amount is a fee (phí) or a charge (lệ phí).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    Fee,
    Charge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub kind: FeeKind,
    pub name: String,
    pub amount_vnd: u64,
}

/// A document component (thành phần hồ sơ) of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub code: String,
    pub name: String,
    pub required: bool,
    pub originals: u8,
    pub copies: u8,
}

/// One version of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    pub code: ProcedureCode,
    /// The province's local variant code, where it has one.
    pub local_code: Option<String>,
    pub version: u32,
    pub name: String,
    /// Lĩnh vực, e.g. "Hộ tịch", "Đất đai".
    pub field: String,
    pub level: UnitLevel,
    pub online_level: OnlineLevel,
    pub cases: Vec<ProcedureCase>,
    pub fees: Vec<Fee>,
    pub components: Vec<Component>,
    pub supplement_clock: SupplementClock,
    /// This version governs dossiers received from this instant on.
    pub valid_from: DateTime<Utc>,
}

impl Procedure {
    pub fn case(&self, id: &str) -> Option<&ProcedureCase> {
        self.cases.iter().find(|case| case.id == id)
    }

    pub fn required_components(&self) -> impl Iterator<Item = &Component> {
        self.components
            .iter()
            .filter(|component| component.required)
    }

    fn validate(&self) -> Result<(), ProcedureError> {
        let invalid = |reason: &str| ProcedureError::Invalid {
            code: self.code.clone(),
            version: self.version,
            reason: reason.to_owned(),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("the name is empty"));
        }
        if self.field.trim().is_empty() {
            return Err(invalid("the field is empty"));
        }
        if self.version == 0 {
            return Err(invalid("versions start at 1"));
        }
        if self.cases.is_empty() {
            return Err(invalid("a procedure needs at least one case"));
        }
        for (index, case) in self.cases.iter().enumerate() {
            if case.id.trim().is_empty() {
                return Err(invalid("a case id is empty"));
            }
            if self.cases[..index].iter().any(|other| other.id == case.id) {
                return Err(invalid(&format!("case id {} is repeated", case.id)));
            }
            let zero = match case.processing_time {
                ProcessingTime::WorkingTime(minutes) => minutes == WorkingMinutes::ZERO,
                ProcessingTime::CalendarDays(days) => days == 0,
            };
            if zero {
                return Err(invalid(&format!("case {} has no processing time", case.id)));
            }
        }
        for (index, component) in self.components.iter().enumerate() {
            if self.components[..index]
                .iter()
                .any(|other| other.code == component.code)
            {
                return Err(invalid(&format!(
                    "component {} is repeated",
                    component.code
                )));
            }
        }
        Ok(())
    }
}

/// Every version of every procedure in force in a province.
#[derive(Debug, Clone, Default)]
pub struct ProcedureCatalog {
    /// Versions of each code, sorted by version number (and so by `valid_from`).
    versions: HashMap<ProcedureCode, Vec<Arc<Procedure>>>,
}

impl ProcedureCatalog {
    pub fn new(procedures: impl IntoIterator<Item = Procedure>) -> Result<Self, ProcedureError> {
        let mut catalog = Self::default();
        for procedure in procedures {
            catalog.insert(procedure)?;
        }
        Ok(catalog)
    }

    /// Adds a version. Versions of one code must be numbered and dated in the same order.
    pub fn insert(&mut self, procedure: Procedure) -> Result<(), ProcedureError> {
        procedure.validate()?;
        let versions = self.versions.entry(procedure.code.clone()).or_default();
        let position = versions.partition_point(|v| v.version < procedure.version);
        if versions
            .get(position)
            .is_some_and(|v| v.version == procedure.version)
        {
            return Err(ProcedureError::DuplicateVersion {
                code: procedure.code,
                version: procedure.version,
            });
        }
        let dated_in_order = position
            .checked_sub(1)
            .and_then(|before| versions.get(before))
            .is_none_or(|before| before.valid_from < procedure.valid_from)
            && versions
                .get(position)
                .is_none_or(|after| procedure.valid_from < after.valid_from);
        if !dated_in_order {
            return Err(ProcedureError::Invalid {
                code: procedure.code,
                version: procedure.version,
                reason: "versions must take effect in the order of their numbers".to_owned(),
            });
        }
        versions.insert(position, Arc::new(procedure));
        Ok(())
    }

    /// The version in force at `at`.
    pub fn in_force(&self, code: &ProcedureCode, at: DateTime<Utc>) -> Option<&Arc<Procedure>> {
        self.versions
            .get(code)?
            .iter()
            .rev()
            .find(|version| version.valid_from <= at)
    }

    /// A specific version, as a dossier received under it refers to it.
    pub fn version(&self, code: &ProcedureCode, version: u32) -> Option<&Arc<Procedure>> {
        let versions = self.versions.get(code)?;
        let index = versions
            .binary_search_by_key(&version, |v| v.version)
            .ok()?;
        versions.get(index)
    }

    /// Each procedure's version in force at `at` (codes not yet in force
    /// left out), in no particular order.
    pub fn all_in_force(&self, at: DateTime<Utc>) -> impl Iterator<Item = &Arc<Procedure>> {
        self.versions.values().filter_map(move |versions| {
            versions
                .iter()
                .rev()
                .find(|version| version.valid_from <= at)
        })
    }

    /// The number of distinct procedure codes.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcedureError {
    #[error("invalid procedure code {0:?}: expected letters, digits, '.', '-' or '_', at most 32")]
    InvalidCode(String),
    #[error("procedure {code} version {version} is invalid: {reason}")]
    Invalid {
        code: ProcedureCode,
        version: u32,
        reason: String,
    },
    #[error("procedure {code} version {version} is declared twice")]
    DuplicateVersion { code: ProcedureCode, version: u32 },
}
