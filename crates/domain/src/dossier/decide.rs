//! Deciding a command: the checks, in the order TTHC.md's rules apply them,
//! and the events an accepted command causes.
//!
//! Order of checks (the first failure is reported):
//! 1. the dossier exists (or, for a submission, does not) and is not deleted;
//! 2. the command's time is not before the dossier's last event;
//! 3. one of the principal's roles may take the action ([`Action::allowed_roles`]);
//! 4. the principal's unit holds the dossier ([`Action::holder_scope`]);
//! 5. the lifecycle allows the action in the current step ([`Step::allows`]);
//! 6. the data is present and well formed, and the domain rules hold.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;

use crate::calendar::{WorkingCalendar, WorkingMinutes, local_date};
use crate::dossier::code::DossierCode;
use crate::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, PaymentItem, ReturnMethod,
    Submission, SubmittedDocument,
};
use crate::dossier::error::DossierError;
use crate::dossier::event::{ClockAdjustment, DossierChange, DossierEvent, ProcedureTerms};
use crate::dossier::{Deadlines, Dossier, PaymentState};
use crate::procedure::{OnlineLevel, Procedure, SupplementClock};
use crate::role::{Action, HolderScope, Principal, Role};
use crate::services::DossierServices;
use crate::unit::UnitId;

/// Longest free text accepted in a reason, note or name.
const MAX_TEXT: usize = 2000;

impl Dossier {
    /// The events `command` causes, or why it is rejected. Pure: `self` is not changed.
    pub fn decide(
        &self,
        command: &DossierCommand,
        services: &DossierServices,
    ) -> Result<Vec<DossierEvent>, DossierError> {
        let action = command.body.action();
        self.check_common(command, action, services)?;
        let change = |change| DossierEvent {
            at: command.at,
            by: command.principal.clone(),
            change,
        };
        let context = Context {
            dossier: self,
            command,
            action,
            services,
        };
        Ok(context.decide()?.into_iter().map(change).collect())
    }

    fn check_common(
        &self,
        command: &DossierCommand,
        action: Action,
        services: &DossierServices,
    ) -> Result<(), DossierError> {
        if self.deleted && action != Action::RestoreDeleted {
            return Err(DossierError::Deleted { action });
        }
        if let Some(last) = self.last_event_at
            && command.at < last
        {
            return Err(DossierError::TimeBeforeLastEvent {
                at: command.at,
                last,
            });
        }
        let principal = &command.principal;
        let allowed = action.allowed_roles();
        if !principal.has_any(allowed) {
            return Err(DossierError::RoleNotAllowed {
                action,
                roles: principal.roles.clone(),
                allowed: allowed.to_vec(),
            });
        }
        // A submission has no holder yet: its unit is checked with its data.
        if let Some(holder) = &self.holder {
            self.check_unit(principal, action, holder, command.at, services)?;
        }
        if !self.step.allows(action) {
            return Err(DossierError::InvalidStatus {
                action,
                status: self.status(),
                step: self.step,
            });
        }
        Ok(())
    }

    fn check_unit(
        &self,
        principal: &Principal,
        action: Action,
        holder: &UnitId,
        at: DateTime<Utc>,
        services: &DossierServices,
    ) -> Result<(), DossierError> {
        let permitted = match action.holder_scope(principal) {
            HolderScope::Any => true,
            HolderScope::CurrentHolder => &principal.unit == holder,
            HolderScope::SubtreeOfAnyHolder => self.holders.iter().any(|held_by| {
                // After a reorganisation the unit may be gone: look at whoever stands for it now.
                let now = services.units.successor_at(held_by, at);
                &principal.unit == held_by
                    || services.units.sees(&principal.unit, held_by, at)
                    || now.is_some_and(|unit| services.units.sees(&principal.unit, &unit, at))
            }),
        };
        if permitted {
            Ok(())
        } else {
            Err(DossierError::NotHolder {
                action,
                unit: principal.unit.clone(),
                holder: holder.clone(),
            })
        }
    }
}

/// One command being decided, with what it needs at hand.
struct Context<'a> {
    dossier: &'a Dossier,
    command: &'a DossierCommand,
    action: Action,
    services: &'a DossierServices,
}

impl Context<'_> {
    fn at(&self) -> DateTime<Utc> {
        self.command.at
    }

    fn rule(&self, rule: impl Into<String>) -> DossierError {
        DossierError::RuleViolated {
            action: self.action,
            rule: rule.into(),
        }
    }

    /// The calendar of the unit holding the dossier.
    fn calendar(&self) -> &WorkingCalendar {
        match &self.dossier.holder {
            Some(unit) => self.services.calendar_for(unit),
            None => &self.services.default_calendar,
        }
    }

    fn holder(&self) -> Result<&UnitId, DossierError> {
        self.dossier
            .holder
            .as_ref()
            .ok_or_else(|| self.rule("the dossier has no holder unit"))
    }

    fn terms(&self) -> Result<&ProcedureTerms, DossierError> {
        self.dossier
            .procedure
            .as_ref()
            .ok_or_else(|| self.rule("the dossier has no procedure"))
    }

    fn deadlines(&self) -> Result<&Deadlines, DossierError> {
        self.dossier
            .deadlines
            .as_ref()
            .ok_or_else(|| self.rule("the dossier has not been accepted"))
    }

    fn decide(&self) -> Result<Vec<DossierChange>, DossierError> {
        let at = self.at();
        let change = match &self.command.body {
            CommandBody::Submit {
                submission,
                accept_with_code,
            } => return self.submit(submission, accept_with_code.as_ref()),
            CommandBody::Accept { code } => self.accept(self.dossier, code)?,
            CommandBody::RequestCompletion { missing, reason } => {
                if self.dossier.completion_requested {
                    return Err(self.rule("completion may be requested only once at reception"));
                }
                DossierChange::CompletionRequested {
                    missing: non_empty_list("missing", missing)?,
                    reason: text("reason", reason)?,
                }
            }
            CommandBody::ProvideCompletion { documents } => DossierChange::CompletionProvided {
                documents: self.documents(documents)?,
            },
            CommandBody::Refuse { reason } => DossierChange::DossierRefused {
                reason: text("reason", reason)?,
            },
            CommandBody::Forward {
                department,
                step_due_at,
                note,
            } => DossierChange::ForwardedToDepartment {
                unit: self.holder()?.clone(),
                department: text("department", department)?,
                step_due_at: future("step_due_at", *step_due_at, at)?,
                note: optional_text("note", note)?,
            },
            CommandBody::Assign {
                specialist,
                step_due_at,
                note,
            } => {
                let specialist = text("specialist", specialist)?;
                if self.dossier.assignee.as_deref() == Some(specialist.as_str()) {
                    return Err(
                        self.rule(format!("the dossier is already assigned to {specialist}"))
                    );
                }
                DossierChange::SpecialistAssigned {
                    department: self.dossier.department.clone().unwrap_or_default(),
                    specialist,
                    previous_specialist: self.dossier.assignee.clone(),
                    step_due_at: future("step_due_at", *step_due_at, at)?,
                    note: optional_text("note", note)?,
                }
            }
            CommandBody::RequestSupplement {
                reason,
                missing_items,
                applicant_deadline,
            } => {
                if *applicant_deadline <= at {
                    return Err(DossierError::field(
                        "applicant_deadline",
                        "must be after the request",
                    ));
                }
                DossierChange::SupplementRequested {
                    reason: text("reason", reason)?,
                    missing_items: non_empty_list("missing_items", missing_items)?,
                    applicant_deadline: *applicant_deadline,
                }
            }
            CommandBody::ReceiveSupplement { documents } => DossierChange::SupplementReceived {
                documents: self.documents(documents)?,
                clock: self.end_of_pause(self.terms()?.supplement_clock)?,
            },
            CommandBody::RequestPayment { items } => {
                let (items, total_vnd) = payment_items(items)?;
                DossierChange::PaymentRequested { items, total_vnd }
            }
            CommandBody::ConfirmPayment {
                amount_vnd,
                receipt_number,
                method,
            } => {
                if let PaymentState::Requested { total_vnd } = self.dossier.payment
                    && *amount_vnd != total_vnd
                {
                    return Err(DossierError::field(
                        "amount_vnd",
                        format!("{amount_vnd} VND paid but {total_vnd} VND requested"),
                    ));
                }
                DossierChange::PaymentConfirmed {
                    amount_vnd: *amount_vnd,
                    receipt_number: text("receipt_number", receipt_number)?,
                    method: *method,
                    // Time spent on financial obligations never counts against
                    // the administration: it always shifts the due date.
                    clock: self.end_of_pause(SupplementClock::Shift)?,
                }
            }
            CommandBody::ExemptPayment { reason } => DossierChange::PaymentExempted {
                reason: text("reason", reason)?,
                clock: self.end_of_pause(SupplementClock::Shift)?,
            },
            CommandBody::RefundPayment { amount_vnd, reason } => {
                let refundable = self.dossier.paid_vnd - self.dossier.refunded_vnd;
                if refundable == 0 {
                    return Err(self.rule("nothing paid remains to be refunded"));
                }
                if *amount_vnd == 0 || *amount_vnd > refundable {
                    return Err(DossierError::field(
                        "amount_vnd",
                        format!(
                            "must be between 1 and the {refundable} VND paid and not yet refunded"
                        ),
                    ));
                }
                DossierChange::PaymentRefunded {
                    amount_vnd: *amount_vnd,
                    reason: text("reason", reason)?,
                }
            }
            CommandBody::Transfer { to_unit, reason } => {
                let from_unit = self.check_receiving_unit(to_unit)?;
                DossierChange::DossierTransferred {
                    from_unit,
                    to_unit: to_unit.clone(),
                    reason: text("reason", reason)?,
                }
            }
            CommandBody::HandOver { to_unit, reason } => {
                let from_unit = self.check_receiving_unit(to_unit)?;
                DossierChange::DossierHandedOver {
                    from_unit,
                    to_unit: to_unit.clone(),
                    reason: text("reason", reason)?,
                }
            }
            CommandBody::SubmitDraft {
                summary,
                document_ref,
            } => {
                self.check_assignee()?;
                DossierChange::DraftSubmitted {
                    summary: text("summary", summary)?,
                    document_ref: optional_text("document_ref", document_ref)?,
                }
            }
            CommandBody::ApproveDraft { note } => DossierChange::DraftApproved {
                note: optional_text("note", note)?,
            },
            CommandBody::SendBackDraft { reason } => DossierChange::DraftSentBack {
                reason: text("reason", reason)?,
            },
            CommandBody::IssueResult {
                number,
                signer,
                signed_on,
                document_ref,
            } => {
                if *signed_on > local_date(at) {
                    return Err(DossierError::field("signed_on", "cannot be in the future"));
                }
                let received_on = local_date(self.deadlines()?.received_at);
                if *signed_on < received_on {
                    return Err(DossierError::field(
                        "signed_on",
                        format!("cannot be before the dossier was received on {received_on}"),
                    ));
                }
                DossierChange::ResultIssued {
                    number: text("number", number)?,
                    signer: text("signer", signer)?,
                    signed_on: *signed_on,
                    document_ref: text("document_ref", document_ref)?,
                }
            }
            CommandBody::ReturnResult { method, recipient } => {
                // The portal can only deliver online; the desk hands over at the
                // counter or sends by post.
                let principal = &self.command.principal;
                if *method != ReturnMethod::Online && !principal.has_any(&[Role::ReceptionOfficer])
                {
                    return Err(DossierError::field(
                        "method",
                        "only the one-stop desk returns a result at the counter or by post",
                    ));
                }
                DossierChange::ResultReturned {
                    method: *method,
                    recipient: text("recipient", recipient)?,
                }
            }
            CommandBody::IssueApology {
                new_appointment,
                reason,
            } => self.apology(*new_appointment, reason)?,
            CommandBody::Withdraw { reason } => DossierChange::DossierWithdrawn {
                reason: text("reason", reason)?,
            },
            CommandBody::StopProcessing { reason } => DossierChange::ProcessingStopped {
                reason: text("reason", reason)?,
            },
            CommandBody::CorrectDueDate { due_at, reason } => {
                let deadlines = self.deadlines()?;
                if *due_at <= deadlines.counting_from {
                    return Err(DossierError::field(
                        "due_at",
                        "must be after the dossier started counting",
                    ));
                }
                if *due_at == deadlines.due_at && *due_at == deadlines.appointment_at {
                    return Err(DossierError::field("due_at", "is already the due date"));
                }
                DossierChange::DueDateCorrected {
                    previous_due_at: deadlines.due_at,
                    due_at: *due_at,
                    previous_appointment_at: deadlines.appointment_at,
                    appointment_at: *due_at,
                    reason: text("reason", reason)?,
                }
            }
            CommandBody::SoftDelete { reason } => DossierChange::DossierDeleted {
                reason: text("reason", reason)?,
            },
            CommandBody::RestoreDeleted { reason } => {
                if !self.dossier.deleted {
                    return Err(self.rule("the dossier is not deleted"));
                }
                DossierChange::DossierRestored {
                    reason: text("reason", reason)?,
                }
            }
        };
        Ok(vec![change])
    }

    fn submit(
        &self,
        submission: &Submission,
        accept_with_code: Option<&DossierCode>,
    ) -> Result<Vec<DossierChange>, DossierError> {
        let at = self.at();
        let principal = &self.command.principal;
        if self.action.holder_scope(principal) == HolderScope::CurrentHolder
            && principal.unit != submission.unit
        {
            return Err(DossierError::NotHolder {
                action: self.action,
                unit: principal.unit.clone(),
                holder: submission.unit.clone(),
            });
        }
        let receiving_unit = self
            .services
            .units
            .version_at(&submission.unit, at)
            .ok_or_else(|| {
                DossierError::field(
                    "submission.unit",
                    format!("unit {} does not exist at {at}", submission.unit),
                )
            })?;
        let procedure = self
            .services
            .procedures
            .in_force(&submission.procedure, at)
            .ok_or_else(|| {
                DossierError::field(
                    "submission.procedure",
                    format!("no procedure {} is in force", submission.procedure),
                )
            })?;
        if procedure.level != receiving_unit.level {
            return Err(DossierError::field(
                "submission.procedure",
                format!(
                    "procedure {} is handled at {:?} level, unit {} is at {:?} level",
                    procedure.code, procedure.level, submission.unit, receiving_unit.level
                ),
            ));
        }
        let case = procedure.case(&submission.case_id).ok_or_else(|| {
            DossierError::field(
                "submission.case_id",
                format!(
                    "procedure {} has no case {:?}",
                    procedure.code, submission.case_id
                ),
            )
        })?;
        if submission.channel == Channel::Online
            && procedure.online_level == OnlineLevel::InformationOnly
        {
            return Err(DossierError::field(
                "submission.channel",
                format!("procedure {} is not offered online", procedure.code),
            ));
        }
        let applicant = applicant(&submission.applicant, local_date(at))?;
        let documents = documents_of(
            procedure,
            &submission.documents,
            "submission.documents",
            false,
        )?;
        let submitted = DossierChange::DossierSubmitted {
            dossier_id: submission.dossier_id.clone(),
            unit: submission.unit.clone(),
            channel: submission.channel,
            procedure: ProcedureTerms {
                code: procedure.code.clone(),
                version: procedure.version,
                field: procedure.field.clone(),
                case_id: case.id.clone(),
                processing_time: case.processing_time,
                supplement_clock: procedure.supplement_clock,
            },
            applicant,
            documents,
        };
        let Some(code) = accept_with_code else {
            return Ok(vec![submitted]);
        };
        // In-person reception: submit and accept in one step.
        if submission.channel != Channel::InPerson {
            return Err(DossierError::field(
                "accept_with_code",
                "only a dossier handed in at the counter is accepted on submission",
            ));
        }
        let accept_roles = Action::Accept.allowed_roles();
        if !principal.has_any(accept_roles) {
            return Err(DossierError::RoleNotAllowed {
                action: Action::Accept,
                roles: principal.roles.clone(),
                allowed: accept_roles.to_vec(),
            });
        }
        let mut submitted_dossier = self.dossier.clone();
        Aggregate::apply(
            &mut submitted_dossier,
            DossierEvent {
                at,
                by: principal.clone(),
                change: submitted.clone(),
            },
        );
        let accepted = self.accept(&submitted_dossier, code)?;
        Ok(vec![submitted, accepted])
    }

    /// Acceptance of `dossier` (the current one, or one just submitted at the counter).
    fn accept(&self, dossier: &Dossier, code: &DossierCode) -> Result<DossierChange, DossierError> {
        let at = self.at();
        let unit = dossier
            .holder
            .as_ref()
            .ok_or_else(|| self.rule("the dossier has no holder unit"))?;
        if code.unit() != unit {
            return Err(DossierError::field(
                "code",
                format!(
                    "the code's unit {} is not the receiving unit {unit}",
                    code.unit()
                ),
            ));
        }
        if code.date() != local_date(at) {
            return Err(DossierError::field(
                "code",
                format!(
                    "the code's date {} is not the reception date {}",
                    code.date(),
                    local_date(at)
                ),
            ));
        }
        let terms = dossier
            .procedure
            .as_ref()
            .ok_or_else(|| self.rule("the dossier has no procedure"))?;
        let procedure = self.procedure_version(terms)?;
        let missing: Vec<&str> = procedure
            .required_components()
            .filter(|component| {
                !dossier
                    .documents
                    .iter()
                    .any(|doc| doc.component == component.code)
            })
            .map(|component| component.code.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(DossierError::field(
                "documents",
                format!("required components are missing: {}", missing.join(", ")),
            ));
        }
        let calendar = self.services.calendar_for(unit);
        Ok(DossierChange::DossierAccepted {
            code: code.clone(),
            unit: unit.clone(),
            counting_from: calendar.counting_start(at),
            due_at: terms.processing_time.due_from(calendar, at),
        })
    }

    fn procedure_version(&self, terms: &ProcedureTerms) -> Result<&Procedure, DossierError> {
        self.services
            .procedures
            .version(&terms.code, terms.version)
            .map(AsRef::as_ref)
            .ok_or_else(|| {
                self.rule(format!(
                    "procedure {} version {} is missing from the catalog",
                    terms.code, terms.version
                ))
            })
    }

    /// Documents brought in later (completion, supplement): at least one.
    fn documents(
        &self,
        documents: &[SubmittedDocument],
    ) -> Result<Vec<SubmittedDocument>, DossierError> {
        let procedure = self.procedure_version(self.terms()?)?;
        documents_of(procedure, documents, "documents", true)
    }

    fn check_receiving_unit(&self, to_unit: &UnitId) -> Result<UnitId, DossierError> {
        let from_unit = self.holder()?.clone();
        if to_unit == &from_unit {
            return Err(DossierError::field(
                "to_unit",
                "is the unit already holding the dossier",
            ));
        }
        if self.services.units.version_at(to_unit, self.at()).is_none() {
            return Err(DossierError::field(
                "to_unit",
                format!("unit {to_unit} does not exist at {}", self.at()),
            ));
        }
        Ok(from_unit)
    }

    fn check_assignee(&self) -> Result<(), DossierError> {
        let user = &self.command.principal.user_id;
        match &self.dossier.assignee {
            Some(assignee) if assignee == user => Ok(()),
            assignee => Err(DossierError::NotAssignee {
                action: self.action,
                assignee: assignee.clone().unwrap_or_default(),
                user: user.clone(),
            }),
        }
    }

    /// How the deadlines move when a pause ends now.
    ///
    /// Shift: both the due date and the appointment move later by the working
    /// time spent waiting. Restart: the full processing time counts again from
    /// now, and the appointment becomes that new due date.
    fn end_of_pause(&self, policy: SupplementClock) -> Result<ClockAdjustment, DossierError> {
        let at = self.at();
        let deadlines = self.deadlines()?;
        let pause = self
            .dossier
            .pause
            .ok_or_else(|| self.rule("the dossier is not waiting"))?;
        let calendar = self.calendar();
        let waited = calendar.working_time_between(pause.since, at);
        let (due_at, appointment_at) = match policy {
            SupplementClock::Shift => (
                shift(calendar, deadlines.due_at, waited),
                shift(calendar, deadlines.appointment_at, waited),
            ),
            SupplementClock::Restart => {
                let due_at = self.terms()?.processing_time.due_from(calendar, at);
                (due_at, due_at)
            }
        };
        Ok(ClockAdjustment {
            waited,
            policy,
            previous_due_at: deadlines.due_at,
            due_at,
            previous_appointment_at: deadlines.appointment_at,
            appointment_at,
        })
    }

    /// The apology (phiếu xin lỗi) must come at least one working day before
    /// the due date (TTHC.md), and name a later appointment than the current one.
    fn apology(
        &self,
        new_appointment: DateTime<Utc>,
        reason: &str,
    ) -> Result<DossierChange, DossierError> {
        let deadlines = self.deadlines()?;
        let notice = self
            .calendar()
            .working_time_between(self.at(), deadlines.due_at);
        if notice < WorkingMinutes(WorkingMinutes::PER_DAY) {
            return Err(self.rule(format!(
                "an apology must be issued at least one working day before the due date {}",
                deadlines.due_at
            )));
        }
        if new_appointment <= deadlines.appointment_at {
            return Err(DossierError::field(
                "new_appointment",
                "must be later than the current appointment",
            ));
        }
        Ok(DossierChange::ApologyIssued {
            previous_appointment_at: deadlines.appointment_at,
            new_appointment_at: new_appointment,
            reason: text("reason", reason)?,
        })
    }
}

/// `instant` moved later by `waited` working time (unchanged when nothing was waited).
fn shift(
    calendar: &WorkingCalendar,
    instant: DateTime<Utc>,
    waited: WorkingMinutes,
) -> DateTime<Utc> {
    if waited == WorkingMinutes::ZERO {
        instant
    } else {
        calendar.add_working_time(instant, waited)
    }
}

fn text(field: &str, value: &str) -> Result<String, DossierError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DossierError::field(field, "is required"));
    }
    if trimmed.chars().count() > MAX_TEXT {
        return Err(DossierError::field(
            field,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, value: &Option<String>) -> Result<Option<String>, DossierError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value).map(Some),
    }
}

/// A list of named items: at least one, each a valid text; returned trimmed.
fn non_empty_list(field: &str, items: &[String]) -> Result<Vec<String>, DossierError> {
    if items.is_empty() {
        return Err(DossierError::field(field, "must name at least one item"));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| text(&format!("{field}[{index}]"), item))
        .collect()
}

fn future(
    field: &str,
    value: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DossierError> {
    match value {
        Some(deadline) if deadline <= at => {
            Err(DossierError::field(field, "must be in the future"))
        }
        other => Ok(other),
    }
}

/// The items of a payment request, trimmed, and their total.
fn payment_items(items: &[PaymentItem]) -> Result<(Vec<PaymentItem>, u64), DossierError> {
    if items.is_empty() {
        return Err(DossierError::field("items", "must name at least one item"));
    }
    let mut total: u64 = 0;
    let mut checked = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let name = text(&format!("items[{index}].name"), &item.name)?;
        if item.amount_vnd == 0 {
            return Err(DossierError::field(
                format!("items[{index}].amount_vnd"),
                "must be positive",
            ));
        }
        total = total
            .checked_add(item.amount_vnd)
            .ok_or_else(|| DossierError::field("items", "the total overflows"))?;
        checked.push(PaymentItem {
            name,
            amount_vnd: item.amount_vnd,
        });
    }
    Ok((checked, total))
}

/// Documents checked against the procedure's components, names trimmed.
fn documents_of(
    procedure: &Procedure,
    documents: &[SubmittedDocument],
    field: &str,
    require_some: bool,
) -> Result<Vec<SubmittedDocument>, DossierError> {
    if require_some && documents.is_empty() {
        return Err(DossierError::field(
            field,
            "must include at least one document",
        ));
    }
    documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            let field = format!("{field}[{index}]");
            let component = document.component.trim();
            if !procedure.components.iter().any(|c| c.code == component) {
                return Err(DossierError::field(
                    format!("{field}.component"),
                    format!(
                        "procedure {} has no component {component:?}",
                        procedure.code
                    ),
                ));
            }
            if document.originals == 0 && document.copies == 0 {
                return Err(DossierError::field(
                    field,
                    "needs at least one original or copy",
                ));
            }
            Ok(SubmittedDocument {
                component: component.to_owned(),
                name: text(&format!("{field}.name"), &document.name)?,
                originals: document.originals,
                copies: document.copies,
            })
        })
        .collect()
}

/// The applicant's data (personal data under Decree 13/2023), checked and
/// normalised: texts trimmed, blank optional fields recorded as absent.
fn applicant(applicant: &Applicant, today: NaiveDate) -> Result<Applicant, DossierError> {
    let name = text("applicant.name", &applicant.name)?;
    let id = applicant.identity_number.trim();
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let id_ok = match applicant.kind {
        // CCCD has 12 digits; the old CMND 9.
        ApplicantKind::Citizen => all_digits(id) && matches!(id.len(), 9 | 12),
        // Enterprise / tax code: 10 digits, or 10 digits, a dash and 3 for a branch.
        ApplicantKind::Organization => match id.split_once('-') {
            None => all_digits(id) && id.len() == 10,
            Some((main, branch)) => {
                all_digits(main) && main.len() == 10 && all_digits(branch) && branch.len() == 3
            }
        },
    };
    if !id_ok {
        let expected = match applicant.kind {
            ApplicantKind::Citizen => "12 digits (CCCD) or 9 digits (CMND)",
            ApplicantKind::Organization => "10 digits, or 10 digits '-' 3 digits",
        };
        return Err(DossierError::field(
            "applicant.identity_number",
            format!("expected {expected}"),
        ));
    }
    if applicant.birth_date.is_some_and(|born| born > today) {
        return Err(DossierError::field(
            "applicant.birth_date",
            "cannot be in the future",
        ));
    }
    let phone = optional_text("applicant.phone", &applicant.phone)?;
    if let Some(phone) = &phone {
        let digits = phone.strip_prefix("+84").unwrap_or(phone);
        if !(all_digits(digits) && (9..=11).contains(&digits.len())) {
            return Err(DossierError::field(
                "applicant.phone",
                "expected 9-11 digits, optionally after +84",
            ));
        }
    }
    let email = optional_text("applicant.email", &applicant.email)?;
    if let Some(email) = &email {
        let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
        if !well_formed {
            return Err(DossierError::field(
                "applicant.email",
                "is not an e-mail address",
            ));
        }
    }
    Ok(Applicant {
        kind: applicant.kind,
        name,
        identity_number: id.to_owned(),
        birth_date: applicant.birth_date,
        address: optional_text("applicant.address", &applicant.address)?,
        phone,
        email,
        vneid_verified: applicant.vneid_verified,
    })
}
