//! Biểu 06 (Circular 01/2020/TT-VPCP): "Tình hình, kết quả giải quyết TTHC".
//!
//! What is counted, and where:
//! - A dossier counts at the unit that **accepted** it (the receiving unit of
//!   its receipt), once, whoever holds it later; transfers and hand-overs do
//!   not move it between rows, so roll-ups never count it twice.
//! - Received: accepted on a day of the period (online = channel 2; in
//!   person and by post together). Carried over: accepted before the period
//!   and not resolved, withdrawn or stopped before it. Dossiers refused at
//!   reception or never accepted are not received; refusals are counted
//!   apart by the day of refusal.
//! - Resolved: result issued (status 9) on a day of the period, early, on
//!   time or late by the [`TimelinessPolicy`] against the legal due date then.
//!   Withdrawn (7) and stopped (8) are counted apart, so that either reading
//!   of the law can be made; they leave the dossier count like a resolution.
//! - In progress: accepted by the period's end and not out by then; overdue
//!   or within time as at the end of the period's last day, waiting for the
//!   applicant (supplement, payment) counting as within time. The waiting
//!   ones are also shown apart.
//! - Soft-deleted dossiers count nowhere, for any period, until restored.
//! - Days are calendar days in Vietnam (Asia/Ho_Chi_Minh).
//!
//! Rows balance: `carried_over + received = resolved + withdrawn + stopped +
//! in_progress`.

mod query;

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::procedure::ProcedureCode;
use motcua_domain::unit::UnitId;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use motcua_domain::dossier::timeliness::TimelinessPolicy;

/// One Biểu 06 row: counts of dossiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bieu06 {
    /// Received in the period online (channel 2).
    pub received_online: i64,
    /// Received in the period in person or by post (channels 1 and 3).
    pub received_offline: i64,
    /// Received before the period, still open at its start (từ kỳ trước).
    pub carried_over: i64,
    pub resolved_early: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    /// Open at the period's end, within time (waiting ones included).
    pub in_progress_within_time: i64,
    /// Open at the period's end, past the due date.
    pub in_progress_overdue: i64,
    /// Withdrawn in the period (status 7).
    pub withdrawn: i64,
    /// Processing stopped in the period (status 8).
    pub stopped: i64,
    /// Refused at reception in the period (status 3): not received.
    pub refused: i64,
    /// Of those in progress: waiting for a supplement at the period's end.
    pub awaiting_supplement: i64,
    /// Of those in progress: waiting for a payment at the period's end.
    pub awaiting_payment: i64,
}

impl Bieu06 {
    /// Received in the period.
    pub fn received_in_period(&self) -> i64 {
        self.received_online + self.received_offline
    }

    /// Everything to be resolved: received in the period plus carried over.
    pub fn received_total(&self) -> i64 {
        self.received_in_period() + self.carried_over
    }

    pub fn resolved_total(&self) -> i64 {
        self.resolved_early + self.resolved_on_time + self.resolved_late
    }

    pub fn in_progress_total(&self) -> i64 {
        self.in_progress_within_time + self.in_progress_overdue
    }

    /// Does the row balance: everything received was resolved, withdrawn,
    /// stopped or is still in progress?
    pub fn balances(&self) -> bool {
        self.received_total()
            == self.resolved_total() + self.withdrawn + self.stopped + self.in_progress_total()
    }
}

impl std::ops::AddAssign for Bieu06 {
    fn add_assign(&mut self, other: Bieu06) {
        self.received_online += other.received_online;
        self.received_offline += other.received_offline;
        self.carried_over += other.carried_over;
        self.resolved_early += other.resolved_early;
        self.resolved_on_time += other.resolved_on_time;
        self.resolved_late += other.resolved_late;
        self.in_progress_within_time += other.in_progress_within_time;
        self.in_progress_overdue += other.in_progress_overdue;
        self.withdrawn += other.withdrawn;
        self.stopped += other.stopped;
        self.refused += other.refused;
        self.awaiting_supplement += other.awaiting_supplement;
        self.awaiting_payment += other.awaiting_payment;
    }
}

/// How report rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GroupBy {
    /// One row per child unit of the requested unit, each rolled up over the
    /// child's subtree. The unit's own dossiers are in [`Report::unit_alone`].
    ChildUnit,
    /// One row per field (lĩnh vực) over the subtree.
    Field,
    /// One row per procedure over the subtree.
    Procedure,
    /// One row per calendar month overlapping the period, each for the part
    /// of the period inside that month, over the subtree.
    Month,
}

/// Which unit tree a report is rolled up by, when units were reorganised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HierarchyView {
    /// The tree in force at the end of the period; a unit that had ended by
    /// then sits where its last version sat.
    Recorded,
    /// Today's tree: every unit replaced by its successor today (a unit
    /// with none by its last parent's successor).
    Current,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub unit: UnitId,
    /// First day of the period (inclusive).
    pub from: NaiveDate,
    /// Last day of the period (inclusive).
    pub to: NaiveDate,
    pub group_by: GroupBy,
    pub view: HierarchyView,
    /// "Today" for [`HierarchyView::Current`].
    pub today: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GroupKey {
    Unit(UnitId),
    Field(String),
    Procedure(ProcedureCode),
    /// A calendar month; its row covers the part of the period inside it.
    Month {
        year: i32,
        month: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub key: GroupKey,
    pub counts: Bieu06,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The requested unit (its successor today, in the current view).
    pub unit: UnitId,
    /// Dossiers accepted by the unit itself.
    pub unit_alone: Bieu06,
    /// The unit and everything under it.
    pub subtree: Bieu06,
    /// Ordered by key; rows with nothing to count are left out.
    pub rows: Vec<ReportRow>,
}
