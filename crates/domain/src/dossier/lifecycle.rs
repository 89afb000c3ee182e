//! The lifecycle of a dossier: where it stands (step, pause, holder,
//! deadlines, payment, times) without the applicant's data and documents.
//!
//! `Dossier` is this plus those; read models fold events with a
//! `Lifecycle` alone, so the rules of how each event moves a dossier live
//! here and nowhere else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingMinutes;
use crate::dossier::code::DossierCode;
use crate::dossier::command::Channel;
use crate::dossier::event::{ClockAdjustment, DossierChange, DossierEvent, ProcedureTerms};
use crate::dossier::status::{DossierStatus, Step};
use crate::dossier::timeliness::{Timeliness, TimelinessPolicy};
use crate::dossier::{Deadlines, Pause, PaymentState};
use crate::unit::UnitId;

/// Everything about a dossier that events move, except the applicant and
/// the documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub(super) code: Option<DossierCode>,
    pub(super) channel: Option<Channel>,
    pub(super) procedure: Option<ProcedureTerms>,
    pub(super) receiving_unit: Option<UnitId>,
    pub(super) holder: Option<UnitId>,
    /// Every unit that ever held the dossier, in order of first holding.
    pub(super) holders: Vec<UnitId>,
    pub(super) step: Step,
    pub(super) pause: Option<Pause>,
    pub(super) department: Option<String>,
    pub(super) assignee: Option<String>,
    pub(super) step_due_at: Option<DateTime<Utc>>,
    pub(super) submitted_at: Option<DateTime<Utc>>,
    pub(super) deadlines: Option<Deadlines>,
    /// Working time spent waiting for the applicant (supplements, payments).
    pub(super) paused: WorkingMinutes,
    pub(super) completion_requested: bool,
    pub(super) payment: PaymentState,
    pub(super) paid_vnd: u64,
    pub(super) refunded_vnd: u64,
    /// Status 9: the finish time for timeliness.
    pub(super) finished_at: Option<DateTime<Utc>>,
    /// Status 10, or the time of refusal, withdrawal or stop.
    pub(super) closed_at: Option<DateTime<Utc>>,
    pub(super) deleted: bool,
    pub(super) last_event_at: Option<DateTime<Utc>>,
}

impl Lifecycle {
    /// Folds one event in. Never fails: events are facts.
    pub fn apply(&mut self, event: &DossierEvent) {
        self.last_event_at = Some(event.at);
        self.apply_change(event.at, &event.change);
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
    /// Did the desk ask for the file to be completed (it may, once)?
    pub fn completion_requested(&self) -> bool {
        self.completion_requested
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

    fn apply_change(&mut self, at: DateTime<Utc>, change: &DossierChange) {
        match change {
            DossierChange::DossierSubmitted {
                unit,
                channel,
                procedure,
                ..
            } => {
                self.channel = Some(*channel);
                self.procedure = Some(procedure.clone());
                self.receiving_unit = Some(unit.clone());
                self.hold(unit.clone());
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
                self.receiving_unit = Some(unit.clone());
                self.code = Some(code.clone());
                self.deadlines = Some(Deadlines {
                    received_at: at,
                    counting_from: *counting_from,
                    original_due_at: *due_at,
                    due_at: *due_at,
                    appointment_at: *due_at,
                });
                self.step = Step::Accepted;
            }
            DossierChange::CompletionRequested { .. } => {
                self.completion_requested = true;
                self.step = Step::AwaitingCompletion;
            }
            DossierChange::CompletionProvided { .. } => self.step = Step::Submitted,
            DossierChange::DossierRefused { .. } => {
                self.step = Step::Refused;
                self.closed_at = Some(at);
            }
            DossierChange::ForwardedToDepartment {
                department,
                step_due_at,
                ..
            } => {
                self.department = Some(department.clone());
                self.assignee = None;
                self.step_due_at = *step_due_at;
                self.step = Step::AtDepartment;
            }
            DossierChange::SpecialistAssigned {
                specialist,
                step_due_at,
                ..
            } => {
                self.assignee = Some(specialist.clone());
                self.step_due_at = *step_due_at;
                self.step = Step::WithSpecialist;
            }
            DossierChange::SupplementRequested { .. } => {
                self.start_pause(at, Step::AwaitingSupplement);
            }
            DossierChange::SupplementReceived { clock, .. } => self.end_pause(clock),
            DossierChange::PaymentRequested { total_vnd, .. } => {
                self.payment = PaymentState::Requested {
                    total_vnd: *total_vnd,
                };
                self.start_pause(at, Step::AwaitingPayment);
            }
            DossierChange::PaymentConfirmed {
                amount_vnd, clock, ..
            } => {
                self.payment = PaymentState::Paid {
                    amount_vnd: *amount_vnd,
                };
                self.paid_vnd = self.paid_vnd.saturating_add(*amount_vnd);
                self.end_pause(clock);
            }
            DossierChange::PaymentExempted { clock, .. } => {
                self.payment = PaymentState::Exempted;
                self.end_pause(clock);
            }
            DossierChange::PaymentRefunded { amount_vnd, .. } => {
                self.refunded_vnd = self.refunded_vnd.saturating_add(*amount_vnd);
                // A request still awaited stays the current fact: its amount
                // is what the next confirmation is checked against.
                if !matches!(self.payment, PaymentState::Requested { .. }) {
                    self.payment = PaymentState::Refunded {
                        amount_vnd: self.refunded_vnd,
                    };
                }
            }
            DossierChange::DossierTransferred { to_unit, .. } => {
                self.hold(to_unit.clone());
                self.department = None;
                self.assignee = None;
                self.step_due_at = None;
                self.step = Step::TransferredIn;
            }
            DossierChange::DossierHandedOver { to_unit, .. } => {
                // The work goes on where it stood, now under the successor unit.
                self.hold(to_unit.clone());
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
                    deadlines.appointment_at = *new_appointment_at;
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
                    deadlines.due_at = *due_at;
                    deadlines.appointment_at = *appointment_at;
                }
            }
            DossierChange::DossierDeleted { .. } => self.deleted = true,
            DossierChange::DossierRestored { .. } => self.deleted = false,
        }
    }
}
