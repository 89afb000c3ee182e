//! Mutation inputs. Each is also the request a `clientMutationId`
//! fingerprints: a repeat with other data is refused.

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, PaymentItem, PaymentMethod, ReturnMethod, Submission,
    SubmittedDocument,
};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::scalars::unit_id;

/// What every input of a command on an existing dossier carries besides its data.
pub trait CommandInput: Serialize {
    /// The dossier's id.
    fn id(&self) -> &str;
    fn client_mutation_id(&self) -> Option<&str>;
}

macro_rules! command_inputs {
    ($($input:ident),* $(,)?) => {
        $(impl CommandInput for $input {
            fn id(&self) -> &str {
                &self.id
            }
            fn client_mutation_id(&self) -> Option<&str> {
                self.client_mutation_id.as_deref()
            }
        })*
    };
}

command_inputs!(
    DossierInput,
    ReasonInput,
    NoteInput,
    ForwardInput,
    AssignInput,
    RequestSupplementInput,
    DocumentsInput,
    SubmitDraftInput,
    IssueResultInput,
    ReturnResultInput,
    RequestCompletionInput,
    RequestPaymentInput,
    ConfirmPaymentInput,
    RefundPaymentInput,
    ToUnitInput,
    IssueApologyInput,
    CorrectDueDateInput,
);

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SubmissionChannel {
    InPerson,
    Online,
    Post,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApplicantType {
    Citizen,
    Organization,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultDelivery {
    Counter,
    Post,
    Online,
}

impl ResultDelivery {
    pub fn to_domain(self) -> ReturnMethod {
        match self {
            ResultDelivery::Counter => ReturnMethod::Counter,
            ResultDelivery::Post => ReturnMethod::Post,
            ResultDelivery::Online => ReturnMethod::Online,
        }
    }
}

/// The applicant (personal data: shown only to roles that handle dossiers).
#[derive(InputObject, Clone, Serialize)]
pub struct ApplicantInput {
    pub kind: ApplicantType,
    pub name: String,
    /// CCCD (12 digits) or CMND (9 digits); an organisation's tax code.
    pub identity_number: String,
    pub birth_date: Option<NaiveDate>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[graphql(default)]
    pub vneid_verified: bool,
}

/// A document handed in for one of the procedure's components.
#[derive(InputObject, Clone, Serialize)]
pub struct DocumentInput {
    /// The procedure's component code.
    pub component: String,
    pub name: String,
    #[graphql(default = 1)]
    pub originals: u8,
    #[graphql(default)]
    pub copies: u8,
}

impl DocumentInput {
    pub fn to_domain(&self) -> SubmittedDocument {
        SubmittedDocument {
            component: self.component.clone(),
            name: self.name.clone(),
            originals: self.originals,
            copies: self.copies,
        }
    }
}

#[derive(InputObject, Clone, Serialize)]
pub struct SubmitDossierInput {
    pub client_mutation_id: Option<String>,
    /// The dossier's id, if the client chooses it (1–64 letters, digits,
    /// `.`, `-`, `_`); one is made otherwise.
    pub id: Option<String>,
    /// The unit the dossier is addressed to (its e-ID).
    pub unit: String,
    pub channel: SubmissionChannel,
    pub procedure_code: String,
    /// The procedure's case (trường hợp), as its catalog names it.
    pub case_id: String,
    pub applicant: ApplicantInput,
    #[graphql(default)]
    pub documents: Vec<DocumentInput>,
    /// At the counter: accept it in the same step (it gets its code).
    #[graphql(default)]
    pub accept_now: bool,
}

impl SubmitDossierInput {
    pub fn to_domain(&self, id: &str) -> ApiResult<Submission> {
        Ok(Submission {
            dossier_id: id.parse().map_err(
                |error: motcua_domain::dossier::command::InvalidDossierId| {
                    ApiError::bad_input("id", error.to_string())
                },
            )?,
            unit: unit_id("unit", &self.unit)?,
            channel: match self.channel {
                SubmissionChannel::InPerson => Channel::InPerson,
                SubmissionChannel::Online => Channel::Online,
                SubmissionChannel::Post => Channel::Post,
            },
            procedure: self.procedure_code.parse().map_err(|_| {
                ApiError::bad_input(
                    "procedureCode",
                    format!("{:?} is not a procedure code", self.procedure_code),
                )
            })?,
            case_id: self.case_id.clone(),
            applicant: Applicant {
                kind: match self.applicant.kind {
                    ApplicantType::Citizen => ApplicantKind::Citizen,
                    ApplicantType::Organization => ApplicantKind::Organization,
                },
                name: self.applicant.name.clone(),
                identity_number: self.applicant.identity_number.clone(),
                birth_date: self.applicant.birth_date,
                address: self.applicant.address.clone(),
                phone: self.applicant.phone.clone(),
                email: self.applicant.email.clone(),
                vneid_verified: self.applicant.vneid_verified,
            },
            documents: self
                .documents
                .iter()
                .map(DocumentInput::to_domain)
                .collect(),
        })
    }
}

/// A command on a dossier with nothing more to say.
#[derive(InputObject, Clone, Serialize)]
pub struct DossierInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ReasonInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub reason: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct NoteInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub note: Option<String>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ForwardInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub department: String,
    pub step_due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct AssignInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    /// The specialist's user id.
    pub specialist: String,
    pub step_due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct RequestSupplementInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub reason: String,
    pub missing_items: Vec<String>,
    /// By when the applicant must bring it.
    pub applicant_deadline: DateTime<Utc>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct DocumentsInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub documents: Vec<DocumentInput>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct SubmitDraftInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub summary: String,
    pub document_ref: Option<String>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct IssueResultInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    /// The result document's number.
    pub number: String,
    pub signer: String,
    pub signed_on: NaiveDate,
    pub document_ref: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ReturnResultInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub method: ResultDelivery,
    pub recipient: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct RequestCompletionInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    /// What the file lacks.
    pub missing: Vec<String>,
    pub reason: String,
}

/// A fee or charge to pay.
#[derive(InputObject, Clone, Serialize)]
pub struct PaymentItemInput {
    pub name: String,
    pub amount_vnd: u64,
}

#[derive(InputObject, Clone, Serialize)]
pub struct RequestPaymentInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub items: Vec<PaymentItemInput>,
}

impl RequestPaymentInput {
    pub fn items(&self) -> Vec<PaymentItem> {
        self.items
            .iter()
            .map(|item| PaymentItem {
                name: item.name.clone(),
                amount_vnd: item.amount_vnd,
            })
            .collect()
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PaymentMeans {
    Cash,
    BankTransfer,
    /// The national online payment platform.
    NationalPaymentPlatform,
}

impl PaymentMeans {
    pub fn to_domain(self) -> PaymentMethod {
        match self {
            PaymentMeans::Cash => PaymentMethod::Cash,
            PaymentMeans::BankTransfer => PaymentMethod::BankTransfer,
            PaymentMeans::NationalPaymentPlatform => PaymentMethod::NationalPaymentPlatform,
        }
    }
}

#[derive(InputObject, Clone, Serialize)]
pub struct ConfirmPaymentInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub amount_vnd: u64,
    pub receipt_number: String,
    pub method: PaymentMeans,
}

#[derive(InputObject, Clone, Serialize)]
pub struct RefundPaymentInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub amount_vnd: u64,
    pub reason: String,
}

/// A dossier going to another unit (its e-ID).
#[derive(InputObject, Clone, Serialize)]
pub struct ToUnitInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub to_unit: String,
    pub reason: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct IssueApologyInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    /// The new appointment for the result.
    pub new_appointment: DateTime<Utc>,
    pub reason: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct CorrectDueDateInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub due_at: DateTime<Utc>,
    pub reason: String,
}
