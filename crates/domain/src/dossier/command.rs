//! Commands: what officers, leaders, administrators and the portal ask of a
//! dossier. Every command carries the acting principal and the instant it
//! was issued (stamped by the command path: the domain reads no clock).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::dossier::code::DossierCode;
use crate::procedure::ProcedureCode;
use crate::role::{Action, Principal};
use crate::unit::UnitId;

/// The aggregate id of a dossier, assigned at submission (before it has a
/// dossier code, which only acceptance gives it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DossierId(String);

impl DossierId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DossierId {
    type Error = InvalidDossierId;
    /// 1–64 characters of letters, digits, `.`, `-` and `_`.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let well_formed = (1..=64).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if well_formed {
            Ok(Self(value))
        } else {
            Err(InvalidDossierId(value))
        }
    }
}

impl std::str::FromStr for DossierId {
    type Err = InvalidDossierId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

impl From<DossierId> for String {
    fn from(id: DossierId) -> Self {
        id.0
    }
}

impl std::fmt::Display for DossierId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid dossier id {0:?}: expected 1-64 letters, digits, '.', '-' or '_'")]
pub struct InvalidDossierId(pub String);

/// How the dossier reached the administration (DVCQG channel numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 1 — at the one-stop desk.
    InPerson,
    /// 2 — online, through the public-service portal.
    Online,
    /// 3 — by post (dịch vụ bưu chính công ích).
    Post,
}

impl Channel {
    pub fn code(self) -> u8 {
        match self {
            Channel::InPerson => 1,
            Channel::Online => 2,
            Channel::Post => 3,
        }
    }

    pub fn submit_action(self) -> Action {
        match self {
            Channel::InPerson => Action::SubmitInPerson,
            Channel::Online => Action::SubmitOnline,
            Channel::Post => Action::SubmitByPost,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Citizen,
    Organization,
}

/// The applicant (người nộp hồ sơ). Personal data under Decree 13/2023.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub kind: ApplicantKind,
    pub name: String,
    /// CCCD (12 digits) or old CMND (9 digits) for a citizen; the enterprise
    /// or tax code (10 digits, or 10 digits `-` 3 digits) for an organisation.
    pub identity_number: String,
    pub birth_date: Option<NaiveDate>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Authenticated through VNeID / the national population database (Đề án 06).
    pub vneid_verified: bool,
}

/// A document component handed in, with how many originals and copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedDocument {
    /// The procedure's component code this document satisfies.
    pub component: String,
    pub name: String,
    pub originals: u8,
    pub copies: u8,
}

/// One line of a payment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentItem {
    pub name: String,
    pub amount_vnd: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    BankTransfer,
    /// The national payment platform (nền tảng thanh toán trực tuyến).
    NationalPaymentPlatform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnMethod {
    Counter,
    Post,
    Online,
}

/// The facts of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub dossier_id: DossierId,
    /// The unit the dossier is addressed to (the receiving unit).
    pub unit: UnitId,
    pub channel: Channel,
    pub procedure: ProcedureCode,
    pub case_id: String,
    pub applicant: Applicant,
    pub documents: Vec<SubmittedDocument>,
}

/// A command to the Dossier aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierCommand {
    pub principal: Principal,
    /// When the action was taken (stamped by the command path).
    pub at: DateTime<Utc>,
    pub body: CommandBody,
}

/// What is asked, with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandBody {
    /// Submit a dossier. At the counter (in person) the officer may accept it
    /// in the same step by giving the dossier code.
    Submit {
        // Boxed: a submission is far larger than any other command body.
        submission: Box<Submission>,
        accept_with_code: Option<DossierCode>,
    },
    /// Accept at reception: the code comes from the unit's daily counter.
    Accept {
        code: DossierCode,
    },
    /// The file is incomplete at reception: ask the applicant to complete it (once).
    RequestCompletion {
        missing: Vec<String>,
        reason: String,
    },
    ProvideCompletion {
        documents: Vec<SubmittedDocument>,
    },
    Refuse {
        reason: String,
    },
    Forward {
        department: String,
        step_due_at: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    Assign {
        specialist: String,
        step_due_at: Option<DateTime<Utc>>,
        note: Option<String>,
    },
    RequestSupplement {
        reason: String,
        missing_items: Vec<String>,
        applicant_deadline: DateTime<Utc>,
    },
    ReceiveSupplement {
        documents: Vec<SubmittedDocument>,
    },
    RequestPayment {
        items: Vec<PaymentItem>,
    },
    ConfirmPayment {
        amount_vnd: u64,
        receipt_number: String,
        method: PaymentMethod,
    },
    ExemptPayment {
        reason: String,
    },
    RefundPayment {
        amount_vnd: u64,
        reason: String,
    },
    /// Liên thông: hand the dossier to another unit.
    Transfer {
        to_unit: UnitId,
        reason: String,
    },
    /// Reorganisation: an open dossier of a dissolved or merged unit goes to
    /// the unit that took over its work.
    HandOver {
        to_unit: UnitId,
        reason: String,
    },
    SubmitDraft {
        summary: String,
        document_ref: Option<String>,
    },
    ApproveDraft {
        note: Option<String>,
    },
    SendBackDraft {
        reason: String,
    },
    IssueResult {
        number: String,
        signer: String,
        signed_on: NaiveDate,
        document_ref: String,
    },
    ReturnResult {
        method: ReturnMethod,
        recipient: String,
    },
    /// Phiếu xin lỗi và hẹn lại ngày trả kết quả.
    IssueApology {
        new_appointment: DateTime<Utc>,
        reason: String,
    },
    Withdraw {
        reason: String,
    },
    StopProcessing {
        reason: String,
    },
    /// Administrative correction: set the due date (and the appointment) right.
    CorrectDueDate {
        due_at: DateTime<Utc>,
        reason: String,
    },
    SoftDelete {
        reason: String,
    },
    RestoreDeleted {
        reason: String,
    },
}

impl CommandBody {
    /// The permission-table entry of this command. A submission accepted on
    /// the spot is also checked against [`Action::Accept`] by the aggregate.
    pub fn action(&self) -> Action {
        match self {
            CommandBody::Submit { submission, .. } => submission.channel.submit_action(),
            CommandBody::Accept { .. } => Action::Accept,
            CommandBody::RequestCompletion { .. } => Action::RequestCompletion,
            CommandBody::ProvideCompletion { .. } => Action::ProvideCompletion,
            CommandBody::Refuse { .. } => Action::Refuse,
            CommandBody::Forward { .. } => Action::Forward,
            CommandBody::Assign { .. } => Action::Assign,
            CommandBody::RequestSupplement { .. } => Action::RequestSupplement,
            CommandBody::ReceiveSupplement { .. } => Action::ReceiveSupplement,
            CommandBody::RequestPayment { .. } => Action::RequestPayment,
            CommandBody::ConfirmPayment { .. } => Action::ConfirmPayment,
            CommandBody::ExemptPayment { .. } => Action::ExemptPayment,
            CommandBody::RefundPayment { .. } => Action::RefundPayment,
            CommandBody::Transfer { .. } => Action::Transfer,
            CommandBody::HandOver { .. } => Action::HandOver,
            CommandBody::SubmitDraft { .. } => Action::SubmitDraft,
            CommandBody::ApproveDraft { .. } => Action::ApproveDraft,
            CommandBody::SendBackDraft { .. } => Action::SendBackDraft,
            CommandBody::IssueResult { .. } => Action::IssueResult,
            CommandBody::ReturnResult { .. } => Action::ReturnResult,
            CommandBody::IssueApology { .. } => Action::IssueApology,
            CommandBody::Withdraw { .. } => Action::Withdraw,
            CommandBody::StopProcessing { .. } => Action::StopProcessing,
            CommandBody::CorrectDueDate { .. } => Action::CorrectDueDate,
            CommandBody::SoftDelete { .. } => Action::SoftDelete,
            CommandBody::RestoreDeleted { .. } => Action::RestoreDeleted,
        }
    }
}
