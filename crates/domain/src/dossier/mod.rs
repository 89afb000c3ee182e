//! The Dossier aggregate (hồ sơ thủ tục hành chính).
//!
//! `decide` (in [`decide`]) checks a command against the state and returns
//! the events it causes, or a typed rejection; `apply` (here) folds an event
//! into the state and never fails. The cqrs-es `handle` is the two glued
//! together: decide everything first, then write, so a rejected command
//! emits nothing and leaves the aggregate untouched.

pub mod code;
pub mod command;
pub mod decide;
pub mod error;
pub mod event;
pub mod status;
pub mod timeliness;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingMinutes;
use crate::services::DossierServices;
use crate::unit::UnitId;

use self::code::DossierCode;
use self::command::{Applicant, Channel, DossierCommand, DossierId, SubmittedDocument};
use self::error::DossierError;
use self::event::{ClockAdjustment, DossierChange, DossierEvent, ProcedureTerms};
use self::status::{DossierStatus, Step};
use self::timeliness::{Timeliness, TimelinessPolicy};

/// The deadlines of an accepted dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Accepted at the desk (thời điểm tiếp nhận).
    pub received_at: DateTime<Utc>,
    /// When processing time started counting (the next session if after hours).
    pub counting_from: DateTime<Utc>,
    /// The due date computed at acceptance. Never changes.
    pub original_due_at: DateTime<Utc>,
    /// The legal due date: moved only by pauses and administrative correction.
    pub due_at: DateTime<Utc>,
    /// What the applicant was told: the due date, or an apology's new date.
    pub appointment_at: DateTime<Utc>,
}

/// Fees and charges: the state of the latest request. Totals paid and
/// refunded over the dossier's life are kept beside it on [`Dossier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PaymentState {
    #[default]
    NotRequested,
    Requested {
        total_vnd: u64,
    },
    Paid {
        amount_vnd: u64,
    },
    Exempted,
    /// Refunded, in part or in full: the total refunded so far.
    Refunded {
        amount_vnd: u64,
    },
}

/// A pause waiting for the applicant, and where processing resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub since: DateTime<Utc>,
    pub resume_step: Step,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    id: Option<DossierId>,
    code: Option<DossierCode>,
    channel: Option<Channel>,
    procedure: Option<ProcedureTerms>,
    applicant: Option<Applicant>,
    documents: Vec<SubmittedDocument>,
    receiving_unit: Option<UnitId>,
    holder: Option<UnitId>,
    /// Every unit that ever held the dossier, in order of first holding.
    holders: Vec<UnitId>,
    step: Step,
    pause: Option<Pause>,
    department: Option<String>,
    assignee: Option<String>,
    step_due_at: Option<DateTime<Utc>>,
    submitted_at: Option<DateTime<Utc>>,
    deadlines: Option<Deadlines>,
    /// Working time spent waiting for the applicant (supplements, payments).
    paused: WorkingMinutes,
    completion_requested: bool,
    payment: PaymentState,
    paid_vnd: u64,
    refunded_vnd: u64,
    /// Status 9: the finish time for timeliness.
    finished_at: Option<DateTime<Utc>>,
    /// Status 10, or the time of refusal, withdrawal or stop.
    closed_at: Option<DateTime<Utc>>,
    deleted: bool,
    last_event_at: Option<DateTime<Utc>>,
}

impl Dossier {
    pub fn id(&self) -> Option<&DossierId> {
        self.id.as_ref()
    }
    pub fn code(&self) -> Option<&DossierCode> {
        self.code.as_ref()
    }
    /// The DVCQG status (1–10); `None` before submission.
    pub fn status(&self) -> Option<DossierStatus> {
        self.step.status()
    }
    pub fn step(&self) -> Step {
        self.step
    }
    pub fn channel(&self) -> Option<Channel> {
        self.channel
    }
    pub fn procedure(&self) -> Option<&ProcedureTerms> {
        self.procedure.as_ref()
    }
    pub fn applicant(&self) -> Option<&Applicant> {
        self.applicant.as_ref()
    }
    pub fn documents(&self) -> &[SubmittedDocument] {
        &self.documents
    }
    /// The unit the dossier was addressed to, then the unit that accepted it.
    pub fn receiving_unit(&self) -> Option<&UnitId> {
        self.receiving_unit.as_ref()
    }
    /// The unit that holds the dossier now.
    pub fn holder(&self) -> Option<&UnitId> {
        self.holder.as_ref()
    }
    /// Every unit that ever held it (each sees it), in order of first holding.
    pub fn holders(&self) -> &[UnitId] {
        &self.holders
    }
    pub fn department(&self) -> Option<&str> {
        self.department.as_deref()
    }
    pub fn assignee(&self) -> Option<&str> {
        self.assignee.as_deref()
    }
    pub fn step_due_at(&self) -> Option<DateTime<Utc>> {
        self.step_due_at
    }
    pub fn pause(&self) -> Option<Pause> {
        self.pause
    }
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at
    }
    pub fn deadlines(&self) -> Option<&Deadlines> {
        self.deadlines.as_ref()
    }
    pub fn paused(&self) -> WorkingMinutes {
        self.paused
    }
    pub fn payment(&self) -> PaymentState {
        self.payment
    }
    /// Everything paid over the dossier's life.
    pub fn paid_vnd(&self) -> u64 {
        self.paid_vnd
    }
    /// Everything refunded over the dossier's life.
    pub fn refunded_vnd(&self) -> u64 {
        self.refunded_vnd
    }
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at
    }
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.closed_at
    }
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
    pub fn last_event_at(&self) -> Option<DateTime<Utc>> {
        self.last_event_at
    }

    /// Timeliness at `at`: of the finish for a finished dossier, of the
    /// deadline for one in progress; `None` when not accepted or closed
    /// otherwise (refused, withdrawn, stopped — reports count those apart) or
    /// soft-deleted.
    pub fn timeliness(&self, policy: TimelinessPolicy, at: DateTime<Utc>) -> Option<Timeliness> {
        if self.deleted {
            return None;
        }
        let deadlines = self.deadlines.as_ref()?;
        if let Some(finished_at) = self.finished_at {
            return Some(Timeliness::Finished(
                policy.finished(finished_at, deadlines.due_at),
            ));
        }
        self.step.is_open_after_acceptance().then(|| {
            let waiting = matches!(self.step, Step::AwaitingSupplement | Step::AwaitingPayment);
            Timeliness::InProgress(policy.in_progress(at, deadlines.due_at, waiting))
        })
    }

    fn hold(&mut self, unit: UnitId) {
        if !self.holders.contains(&unit) {
            self.holders.push(unit.clone());
        }
        self.holder = Some(unit);
    }

    fn end_pause(&mut self, clock: &ClockAdjustment) {
        if let Some(pause) = self.pause.take() {
            self.step = pause.resume_step;
        }
        self.paused = self.paused.saturating_add(clock.waited);
        if let Some(deadlines) = self.deadlines.as_mut() {
            deadlines.due_at = clock.due_at;
            deadlines.appointment_at = clock.appointment_at;
        }
    }

    fn start_pause(&mut self, at: DateTime<Utc>, waiting_step: Step) {
        self.pause = Some(Pause {
            since: at,
            resume_step: self.step,
        });
        self.step = waiting_step;
    }

    fn apply_change(&mut self, at: DateTime<Utc>, change: DossierChange) {
        match change {
            DossierChange::DossierSubmitted {
                dossier_id,
                unit,
                channel,
                procedure,
                applicant,
                documents,
            } => {
                self.id = Some(dossier_id);
                self.channel = Some(channel);
                self.procedure = Some(procedure);
                self.applicant = Some(applicant);
                self.documents = documents;
                self.receiving_unit = Some(unit.clone());
                self.hold(unit);
                self.submitted_at = Some(at);
                self.step = Step::Submitted;
            }
            DossierChange::DossierAccepted {
                code,
                unit,
                counting_from,
                due_at,
            } => {
                // The accepting unit is the receiving unit, even if the
                // dossier was handed over before acceptance.
                self.receiving_unit = Some(unit);
                self.code = Some(code);
                self.deadlines = Some(Deadlines {
                    received_at: at,
                    counting_from,
                    original_due_at: due_at,
                    due_at,
                    appointment_at: due_at,
                });
                self.step = Step::Accepted;
            }
            DossierChange::CompletionRequested { .. } => {
                self.completion_requested = true;
                self.step = Step::AwaitingCompletion;
            }
            DossierChange::CompletionProvided { documents } => {
                self.documents.extend(documents);
                self.step = Step::Submitted;
            }
            DossierChange::DossierRefused { .. } => {
                self.step = Step::Refused;
                self.closed_at = Some(at);
            }
            DossierChange::ForwardedToDepartment {
                department,
                step_due_at,
                ..
            } => {
                self.department = Some(department);
                self.assignee = None;
                self.step_due_at = step_due_at;
                self.step = Step::AtDepartment;
            }
            DossierChange::SpecialistAssigned {
                specialist,
                step_due_at,
                ..
            } => {
                self.assignee = Some(specialist);
                self.step_due_at = step_due_at;
                self.step = Step::WithSpecialist;
            }
            DossierChange::SupplementRequested { .. } => {
                self.start_pause(at, Step::AwaitingSupplement);
            }
            DossierChange::SupplementReceived { documents, clock } => {
                self.documents.extend(documents);
                self.end_pause(&clock);
            }
            DossierChange::PaymentRequested { total_vnd, .. } => {
                self.payment = PaymentState::Requested { total_vnd };
                self.start_pause(at, Step::AwaitingPayment);
            }
            DossierChange::PaymentConfirmed {
                amount_vnd, clock, ..
            } => {
                self.payment = PaymentState::Paid { amount_vnd };
                self.paid_vnd = self.paid_vnd.saturating_add(amount_vnd);
                self.end_pause(&clock);
            }
            DossierChange::PaymentExempted { clock, .. } => {
                self.payment = PaymentState::Exempted;
                self.end_pause(&clock);
            }
            DossierChange::PaymentRefunded { amount_vnd, .. } => {
                self.refunded_vnd = self.refunded_vnd.saturating_add(amount_vnd);
                // A request still awaited stays the current fact: its amount
                // is what the next confirmation is checked against.
                if !matches!(self.payment, PaymentState::Requested { .. }) {
                    self.payment = PaymentState::Refunded {
                        amount_vnd: self.refunded_vnd,
                    };
                }
            }
            DossierChange::DossierTransferred { to_unit, .. } => {
                self.hold(to_unit);
                self.department = None;
                self.assignee = None;
                self.step_due_at = None;
                self.step = Step::TransferredIn;
            }
            DossierChange::DossierHandedOver { to_unit, .. } => {
                // The work goes on where it stood, now under the successor unit.
                self.hold(to_unit);
            }
            DossierChange::DraftSubmitted { .. } => self.step = Step::AwaitingApproval,
            DossierChange::DraftApproved { .. } => self.step = Step::Approved,
            DossierChange::DraftSentBack { .. } => self.step = Step::WithSpecialist,
            DossierChange::ResultIssued { .. } => {
                self.finished_at = Some(at);
                self.step = Step::ResultIssued;
            }
            DossierChange::ResultReturned { .. } => {
                self.closed_at = Some(at);
                self.step = Step::ResultReturned;
            }
            DossierChange::ApologyIssued {
                new_appointment_at, ..
            } => {
                if let Some(deadlines) = self.deadlines.as_mut() {
                    deadlines.appointment_at = new_appointment_at;
                }
            }
            DossierChange::DossierWithdrawn { .. } => {
                self.pause = None;
                self.closed_at = Some(at);
                self.step = Step::Withdrawn;
            }
            DossierChange::ProcessingStopped { .. } => {
                self.pause = None;
                self.closed_at = Some(at);
                self.step = Step::Stopped;
            }
            DossierChange::DueDateCorrected {
                due_at,
                appointment_at,
                ..
            } => {
                if let Some(deadlines) = self.deadlines.as_mut() {
                    deadlines.due_at = due_at;
                    deadlines.appointment_at = appointment_at;
                }
            }
            DossierChange::DossierDeleted { .. } => self.deleted = true,
            DossierChange::DossierRestored { .. } => self.deleted = false,
        }
    }
}

impl Aggregate for Dossier {
    const TYPE: &'static str = "Dossier";
    type Command = DossierCommand;
    type Event = DossierEvent;
    type Error = DossierError;
    type Services = DossierServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        // Decide everything before writing anything: a rejection leaves no trace.
        for event in self.decide(&command, services)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.last_event_at = Some(event.at);
        self.apply_change(event.at, event.change);
    }
}
