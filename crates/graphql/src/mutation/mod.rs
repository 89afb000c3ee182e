//! The mutation root: one mutation per lifecycle command (here), and the
//! administrators' changes of the reference data (`reference.rs`). Each runs the
//! command through the store's command path as the request's principal
//! (the aggregate checks role, unit and status), is idempotent under its
//! `clientMutationId`, and returns the dossier's new state with the log
//! position its events reached (pass it as `minPosition` to read your own
//! write).

mod inputs;
mod reference;

use async_graphql::{Context, MergedObject, Object, ResultExt, SimpleObject};
use chrono::Utc;
use motcua_domain::calendar::local_date;
use motcua_domain::dossier::command::{CommandBody, DossierCommand, DossierId};
use motcua_domain::dossier::error::DossierError;
use motcua_domain::dossier::error::RejectionKind;
use motcua_store::{CommandContext, CommandError, Idempotency, StoreError};
use serde::Serialize;

use crate::context::{api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::scalars::log_position;
use crate::types::Dossier;

pub use inputs::*;

#[derive(MergedObject, Default)]
pub struct Mutation(DossierMutation, reference::ReferenceMutation);

#[derive(Default)]
pub struct DossierMutation;

/// What every mutation returns.
#[derive(SimpleObject)]
pub struct DossierPayload {
    pub client_mutation_id: Option<String>,
    /// The dossier's state after the command.
    pub dossier: Dossier,
    /// Where the command's last event landed in the log (opaque; none if
    /// it changed nothing): queries given it as `minPosition` see the change.
    pub position: Option<String>,
    /// True when this is the recorded outcome of an earlier send of the
    /// same `clientMutationId`.
    pub repeated: bool,
}

#[Object]
impl DossierMutation {
    /// Submit a dossier: online (portal account), in person or by post (a
    /// reception officer, who may accept it at once with `acceptNow`).
    async fn submit_dossier(
        &self,
        context: &Context<'_>,
        input: SubmitDossierInput,
    ) -> async_graphql::Result<DossierPayload> {
        submit(context, input).await.extend()
    }

    /// Accept a submitted dossier at reception: it gets its code.
    async fn accept_dossier(
        &self,
        context: &Context<'_>,
        input: DossierInput,
    ) -> async_graphql::Result<DossierPayload> {
        accept(context, input).await.extend()
    }

    /// Refuse a dossier at reception (status 3).
    async fn refuse_dossier(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::Refuse {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Send an accepted dossier to the department that processes it.
    async fn forward_dossier(
        &self,
        context: &Context<'_>,
        input: ForwardInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::Forward {
                department: input.department.clone(),
                step_due_at: input.step_due_at,
                note: input.note.clone(),
            })
        })
        .await
    }

    /// Assign the dossier to a specialist of the department.
    async fn assign_dossier(
        &self,
        context: &Context<'_>,
        input: AssignInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::Assign {
                specialist: input.specialist.clone(),
                step_due_at: input.step_due_at,
                note: input.note.clone(),
            })
        })
        .await
    }

    /// Ask the applicant for a supplement: the clock stops until it comes.
    async fn request_supplement(
        &self,
        context: &Context<'_>,
        input: RequestSupplementInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::RequestSupplement {
                reason: input.reason.clone(),
                missing_items: input.missing_items.clone(),
                applicant_deadline: input.applicant_deadline,
            })
        })
        .await
    }

    /// Record the supplement the applicant brought in.
    async fn receive_supplement(
        &self,
        context: &Context<'_>,
        input: DocumentsInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ReceiveSupplement {
                documents: input
                    .documents
                    .iter()
                    .map(DocumentInput::to_domain)
                    .collect(),
            })
        })
        .await
    }

    /// The specialist submits the draft result for approval.
    async fn submit_draft(
        &self,
        context: &Context<'_>,
        input: SubmitDraftInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::SubmitDraft {
                summary: input.summary.clone(),
                document_ref: input.document_ref.clone(),
            })
        })
        .await
    }

    /// The unit leader approves the draft.
    async fn approve_draft(
        &self,
        context: &Context<'_>,
        input: NoteInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ApproveDraft {
                note: input.note.clone(),
            })
        })
        .await
    }

    /// The unit leader sends the draft back to the specialist.
    async fn send_back_draft(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::SendBackDraft {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Record the signed result.
    async fn issue_result(
        &self,
        context: &Context<'_>,
        input: IssueResultInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::IssueResult {
                number: input.number.clone(),
                signer: input.signer.clone(),
                signed_on: input.signed_on,
                document_ref: input.document_ref.clone(),
            })
        })
        .await
    }

    /// Hand the result to the applicant: the dossier is done.
    async fn return_result(
        &self,
        context: &Context<'_>,
        input: ReturnResultInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ReturnResult {
                method: input.method.to_domain(),
                recipient: input.recipient.clone(),
            })
        })
        .await
    }

    /// At reception: the file is incomplete; the applicant is asked (once)
    /// to complete it.
    async fn request_completion(
        &self,
        context: &Context<'_>,
        input: RequestCompletionInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::RequestCompletion {
                missing: input.missing.clone(),
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// The applicant completes the file asked for at reception.
    async fn provide_completion(
        &self,
        context: &Context<'_>,
        input: DocumentsInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ProvideCompletion {
                documents: input
                    .documents
                    .iter()
                    .map(DocumentInput::to_domain)
                    .collect(),
            })
        })
        .await
    }

    /// Ask for the procedure's fees and charges.
    async fn request_payment(
        &self,
        context: &Context<'_>,
        input: RequestPaymentInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::RequestPayment {
                items: input.items(),
            })
        })
        .await
    }

    /// Record a payment received.
    async fn confirm_payment(
        &self,
        context: &Context<'_>,
        input: ConfirmPaymentInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ConfirmPayment {
                amount_vnd: input.amount_vnd,
                receipt_number: input.receipt_number.clone(),
                method: input.method.to_domain(),
            })
        })
        .await
    }

    /// Exempt the applicant from the fees.
    async fn exempt_payment(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::ExemptPayment {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Pay back (part of) what was paid.
    async fn refund_payment(
        &self,
        context: &Context<'_>,
        input: RefundPaymentInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::RefundPayment {
                amount_vnd: input.amount_vnd,
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Liên thông: hand the dossier to another unit to process.
    async fn transfer_dossier(
        &self,
        context: &Context<'_>,
        input: ToUnitInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::Transfer {
                to_unit: crate::scalars::unit_id("toUnit", &input.to_unit)?,
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// After a reorganisation: an open dossier of a dissolved or merged
    /// unit goes to the unit that took over its work (administrators).
    async fn hand_over_dossier(
        &self,
        context: &Context<'_>,
        input: ToUnitInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::HandOver {
                to_unit: crate::scalars::unit_id("toUnit", &input.to_unit)?,
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Apologise for a late result and set a new appointment.
    async fn issue_apology(
        &self,
        context: &Context<'_>,
        input: IssueApologyInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::IssueApology {
                new_appointment: input.new_appointment,
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Stop processing the dossier (status 8).
    async fn stop_processing(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::StopProcessing {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Administrative correction of the due date (and the appointment).
    async fn correct_due_date(
        &self,
        context: &Context<'_>,
        input: CorrectDueDateInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::CorrectDueDate {
                due_at: input.due_at,
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Administrative: hide a dossier entered by mistake (it counts in no report).
    async fn soft_delete_dossier(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::SoftDelete {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// Administrative: undo a soft delete.
    async fn restore_dossier(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::RestoreDeleted {
                reason: input.reason.clone(),
            })
        })
        .await
    }

    /// The applicant withdraws the dossier (status 7).
    async fn withdraw_dossier(
        &self,
        context: &Context<'_>,
        input: ReasonInput,
    ) -> async_graphql::Result<DossierPayload> {
        command(context, &input, |input| {
            Ok(CommandBody::Withdraw {
                reason: input.reason.clone(),
            })
        })
        .await
    }
}

/// Runs the command that `body` makes of `input` on the dossier it names.
async fn command<I: CommandInput>(
    context: &Context<'_>,
    input: &I,
    body: impl FnOnce(&I) -> ApiResult<CommandBody>,
) -> async_graphql::Result<DossierPayload> {
    let body = body(input).extend()?;
    execute(
        context,
        input.id(),
        input.client_mutation_id().map(str::to_owned),
        input,
        body,
    )
    .await
    .extend()
}

async fn submit(context: &Context<'_>, input: SubmitDossierInput) -> ApiResult<DossierPayload> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let id = match (&input.id, &input.client_mutation_id) {
        (Some(id), _) => id.clone(),
        // A repeat must reach the same dossier to find its first outcome.
        (None, Some(client_mutation_id)) => {
            derived_dossier_id(&viewer.principal.user_id, client_mutation_id)
        }
        (None, None) => {
            let id = new_dossier_id()?;
            // 96 random bits name no stream yet: no need to read it.
            api.commands().expect_new(&id);
            id
        }
    };
    let submission = input.to_domain(&id)?;
    let accept_with_code = if input.accept_now {
        let today = local_date(Utc::now());
        Some(
            api.store
                .next_dossier_code(&submission.unit, today)
                .await
                .map_err(|error| ApiError::Internal(Box::new(error)))?,
        )
    } else {
        None
    };
    let body = CommandBody::Submit {
        submission: Box::new(submission),
        accept_with_code,
    };
    execute(context, &id, input.client_mutation_id.clone(), &input, body)
        .await
        .map(|mut payload| {
            payload.client_mutation_id = input.client_mutation_id;
            payload
        })
        .inspect(|_| tracing::debug!(dossier = %id, by = %viewer.principal.user_id, "submitted"))
}

async fn accept(context: &Context<'_>, input: DossierInput) -> ApiResult<DossierPayload> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    // The code is the accepting unit's next of the day; a refused
    // acceptance leaves its number unused (codes are never reused).
    let code = api
        .store
        .next_dossier_code(&viewer.principal.unit, local_date(Utc::now()))
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    let body = CommandBody::Accept { code };
    execute(
        context,
        &input.id,
        input.client_mutation_id.clone(),
        &input,
        body,
    )
    .await
}

/// Runs `body` on dossier `id` as the request's principal.
async fn execute(
    context: &Context<'_>,
    id: &str,
    client_mutation_id: Option<String>,
    request: &impl Serialize,
    body: CommandBody,
) -> ApiResult<DossierPayload> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let dossier_id: DossierId =
        id.parse()
            .map_err(|error: motcua_domain::dossier::command::InvalidDossierId| {
                ApiError::bad_input("id", error.to_string())
            })?;
    let submitting = matches!(body, CommandBody::Submit { .. });
    let command_context = command_context(viewer, client_mutation_id.as_deref(), request)?;
    let command = DossierCommand {
        principal: viewer.principal.clone(),
        at: Utc::now(),
        body,
    };
    let action = command.body.action().as_str();
    let outcome = run(
        api,
        viewer,
        &dossier_id,
        command,
        &command_context,
        submitting,
        client_mutation_id,
    )
    .await;
    api.telemetry.command(
        action,
        match &outcome {
            Ok(_) => "ok",
            Err(error) => error.code().as_str(),
        },
    );
    outcome
}

async fn run(
    api: &crate::ApiContext,
    viewer: &crate::Viewer,
    dossier_id: &DossierId,
    command: DossierCommand,
    command_context: &CommandContext,
    submitting: bool,
    client_mutation_id: Option<String>,
) -> ApiResult<DossierPayload> {
    match api
        .commands()
        .execute(dossier_id.as_str(), command, command_context)
        .await
    {
        Ok(committed) => Ok(DossierPayload {
            client_mutation_id,
            position: committed.position.map(log_position),
            repeated: committed.repeated,
            dossier: Dossier::of_aggregate(
                dossier_id.as_str(),
                &committed.aggregate,
                committed.position.map_or(0, |cursor| cursor.position),
                viewer,
            ),
        }),
        Err(CommandError::Rejected { rejection, .. }) => Err(rejected(rejection, submitting)),
        Err(CommandError::Conflict { .. }) => Err(ApiError::Conflict(
            "the dossier kept changing under the command; read it again and retry".to_owned(),
        )),
        Err(CommandError::CommandIdReused { command_id }) => Err(ApiError::Conflict(format!(
            "clientMutationId {command_id:?} was already used for a different request"
        ))),
        Err(CommandError::Store(error)) => Err(ApiError::Internal(Box::new(error))),
    }
}

/// Who sends a mutation, with its `clientMutationId` (if any) and a
/// fingerprint of `request`, for idempotency.
pub(crate) fn command_context(
    viewer: &crate::Viewer,
    client_mutation_id: Option<&str>,
    request: &impl Serialize,
) -> ApiResult<CommandContext> {
    let idempotency = client_mutation_id
        .map(|command_id| {
            Idempotency::new(command_id, request).map_err(|error| match error {
                StoreError::InvalidCommandId { reason, .. } => {
                    ApiError::bad_input("clientMutationId", reason)
                }
                other => ApiError::Internal(Box::new(other)),
            })
        })
        .transpose()?;
    Ok(CommandContext {
        unit: viewer.principal.unit.to_string(),
        actor: viewer.principal.user_id.clone(),
        idempotency,
    })
}

/// A refusal of the domain, as the client's error. A command on a dossier
/// that was never submitted is NOT_FOUND.
fn rejected(rejection: DossierError, submitting: bool) -> ApiError {
    if !submitting && matches!(&rejection, DossierError::InvalidStatus { status: None, .. }) {
        return ApiError::NotFound("no such dossier".to_owned());
    }
    match rejection.kind() {
        RejectionKind::Forbidden => ApiError::Forbidden(rejection.to_string()),
        RejectionKind::Conflict => ApiError::Conflict(rejection.to_string()),
        RejectionKind::BadInput => match &rejection {
            DossierError::InvalidField { field, reason } => ApiError::BadUserInput {
                field: field_name(field).into(),
                message: reason.clone(),
            },
            other => ApiError::bad_input("input", other.to_string()),
        },
    }
}

/// The input field a domain field name stands for: `applicant.identity_number`
/// is `applicant.identityNumber` in the schema.
fn field_name(field: &str) -> String {
    let mut name = String::with_capacity(field.len());
    let mut upper = false;
    for character in field.chars() {
        match character {
            '_' => upper = true,
            _ if upper => {
                name.extend(character.to_uppercase());
                upper = false;
            }
            _ => name.push(character),
        }
    }
    name
}

/// The dossier id of a submission with a client mutation id and no id:
/// `hs-` and 24 hexadecimal digits of a hash of who sent it and the id.
fn derived_dossier_id(actor: &str, client_mutation_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(actor.as_bytes())
        .chain_update([0])
        .chain_update(client_mutation_id.as_bytes())
        .finalize();
    format!(
        "hs-{}",
        digest
            .iter()
            .take(12)
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    )
}

/// A fresh dossier id: `hs-` and 24 random hexadecimal digits.
fn new_dossier_id() -> ApiResult<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|error| ApiError::Internal(error.to_string().into()))?;
    Ok(format!(
        "hs-{}",
        bytes
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_field_names_become_the_schemas() {
        assert_eq!(
            field_name("applicant.identity_number"),
            "applicant.identityNumber"
        );
        assert_eq!(field_name("case_id"), "caseId");
        assert_eq!(field_name("documents"), "documents");
    }

    #[test]
    fn a_derived_dossier_id_depends_on_who_and_which_mutation() {
        let id = derived_dossier_id("desk-1", "m-1");
        assert_eq!(id, derived_dossier_id("desk-1", "m-1"));
        assert_ne!(id, derived_dossier_id("desk-2", "m-1"));
        assert_ne!(id, derived_dossier_id("desk-1", "m-2"));
        assert!(id.parse::<DossierId>().is_ok(), "{id}");
    }
}
