//! Events: the immutable facts of a dossier's life.
//!
//! Every event says who acted (user, unit, roles held), when, and the values
//! that changed, so an auditor can read it without the code. The JSON form
//! is a public contract (stored forever, read by other tools): a change is a
//! new `event_version` with an upcaster, never an edit. Snapshot tests in
//! `tests/event_json.rs` pin it.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingMinutes;
use crate::dossier::code::DossierCode;
use crate::dossier::command::{
    Applicant, Channel, DossierId, PaymentItem, PaymentMethod, ReturnMethod, SubmittedDocument,
};
use crate::procedure::{ProcedureCode, ProcessingTime, SupplementClock};
use crate::role::Principal;
use crate::unit::UnitId;

/// The current version of every event type's JSON shape.
pub const EVENT_VERSION: &str = "1.0";

/// One fact: who, when, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierEvent {
    pub at: DateTime<Utc>,
    pub by: Principal,
    pub change: DossierChange,
}

/// The procedure terms a dossier was received under, copied into the
/// submission so that later catalog changes never alter them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureTerms {
    pub code: ProcedureCode,
    pub version: u32,
    pub field: String,
    pub case_id: String,
    pub processing_time: ProcessingTime,
    pub supplement_clock: SupplementClock,
}

/// How a pause (supplement, payment) moved the deadlines when it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockAdjustment {
    /// Working time spent waiting.
    #[serde(rename = "waited_minutes")]
    pub waited: WorkingMinutes,
    pub policy: SupplementClock,
    pub previous_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub previous_appointment_at: DateTime<Utc>,
    pub appointment_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DossierChange {
    DossierSubmitted {
        dossier_id: DossierId,
        unit: UnitId,
        channel: Channel,
        procedure: ProcedureTerms,
        applicant: Applicant,
        documents: Vec<SubmittedDocument>,
    },
    /// Accepted at the desk: the receipt (giấy tiếp nhận và hẹn trả kết quả).
    DossierAccepted {
        code: DossierCode,
        unit: UnitId,
        counting_from: DateTime<Utc>,
        due_at: DateTime<Utc>,
    },
    CompletionRequested {
        missing: Vec<String>,
        reason: String,
    },
    CompletionProvided {
        documents: Vec<SubmittedDocument>,
    },
    DossierRefused {
        reason: String,
    },
    ForwardedToDepartment {
        unit: UnitId,
        department: String,
        step_due_at: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    SpecialistAssigned {
        department: String,
        specialist: String,
        previous_specialist: Option<String>,
        step_due_at: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    SupplementRequested {
        reason: String,
        missing_items: Vec<String>,
        applicant_deadline: DateTime<Utc>,
    },
    SupplementReceived {
        documents: Vec<SubmittedDocument>,
        clock: ClockAdjustment,
    },
    PaymentRequested {
        items: Vec<PaymentItem>,
        total_vnd: u64,
    },
    PaymentConfirmed {
        amount_vnd: u64,
        receipt_number: String,
        method: PaymentMethod,
        clock: ClockAdjustment,
    },
    PaymentExempted {
        reason: String,
        clock: ClockAdjustment,
    },
    PaymentRefunded {
        amount_vnd: u64,
        reason: String,
    },
    /// Liên thông: the dossier now lies with `to_unit`.
    DossierTransferred {
        from_unit: UnitId,
        to_unit: UnitId,
        reason: String,
    },
    /// Reorganisation: the dossier now lies with the unit that took over.
    DossierHandedOver {
        from_unit: UnitId,
        to_unit: UnitId,
        reason: String,
    },
    DraftSubmitted {
        summary: String,
        document_ref: Option<String>,
    },
    DraftApproved {
        note: Option<String>,
    },
    DraftSentBack {
        reason: String,
    },
    /// Status 9: this event's time is the finish time for timeliness.
    ResultIssued {
        number: String,
        signer: String,
        signed_on: NaiveDate,
        document_ref: String,
    },
    ResultReturned {
        method: ReturnMethod,
        recipient: String,
    },
    /// A new appointment; the due date for timeliness is unchanged.
    ApologyIssued {
        previous_appointment_at: DateTime<Utc>,
        new_appointment_at: DateTime<Utc>,
        reason: String,
    },
    DossierWithdrawn {
        reason: String,
    },
    ProcessingStopped {
        reason: String,
    },
    DueDateCorrected {
        previous_due_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        previous_appointment_at: DateTime<Utc>,
        appointment_at: DateTime<Utc>,
        reason: String,
    },
    DossierDeleted {
        reason: String,
    },
    DossierRestored {
        reason: String,
    },
}

impl DossierChange {
    /// The stable event type name (the serde tag).
    pub fn event_type(&self) -> &'static str {
        match self {
            DossierChange::DossierSubmitted { .. } => "DossierSubmitted",
            DossierChange::DossierAccepted { .. } => "DossierAccepted",
            DossierChange::CompletionRequested { .. } => "CompletionRequested",
            DossierChange::CompletionProvided { .. } => "CompletionProvided",
            DossierChange::DossierRefused { .. } => "DossierRefused",
            DossierChange::ForwardedToDepartment { .. } => "ForwardedToDepartment",
            DossierChange::SpecialistAssigned { .. } => "SpecialistAssigned",
            DossierChange::SupplementRequested { .. } => "SupplementRequested",
            DossierChange::SupplementReceived { .. } => "SupplementReceived",
            DossierChange::PaymentRequested { .. } => "PaymentRequested",
            DossierChange::PaymentConfirmed { .. } => "PaymentConfirmed",
            DossierChange::PaymentExempted { .. } => "PaymentExempted",
            DossierChange::PaymentRefunded { .. } => "PaymentRefunded",
            DossierChange::DossierTransferred { .. } => "DossierTransferred",
            DossierChange::DossierHandedOver { .. } => "DossierHandedOver",
            DossierChange::DraftSubmitted { .. } => "DraftSubmitted",
            DossierChange::DraftApproved { .. } => "DraftApproved",
            DossierChange::DraftSentBack { .. } => "DraftSentBack",
            DossierChange::ResultIssued { .. } => "ResultIssued",
            DossierChange::ResultReturned { .. } => "ResultReturned",
            DossierChange::ApologyIssued { .. } => "ApologyIssued",
            DossierChange::DossierWithdrawn { .. } => "DossierWithdrawn",
            DossierChange::ProcessingStopped { .. } => "ProcessingStopped",
            DossierChange::DueDateCorrected { .. } => "DueDateCorrected",
            DossierChange::DossierDeleted { .. } => "DossierDeleted",
            DossierChange::DossierRestored { .. } => "DossierRestored",
        }
    }
}

impl DomainEvent for DossierEvent {
    fn event_type(&self) -> String {
        self.change.event_type().to_owned()
    }

    fn event_version(&self) -> String {
        EVENT_VERSION.to_owned()
    }
}
