//! The lifecycle: DVCQG status codes, the finer steps inside them, and which
//! action each step allows. This file is the one place the lifecycle table
//! of TTHC.md lives.

use serde::{Deserialize, Serialize};

use crate::role::Action;

/// A dossier's status as the National Public Service Portal (Cổng DVCQG)
/// numbers it. Integrations depend on these numbers: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    /// 1 — Mới đăng ký: submitted online or by post, not yet accepted.
    Submitted,
    /// 2 — Được tiếp nhận: accepted at the one-stop desk, receipt issued.
    Accepted,
    /// 3 — Không được tiếp nhận: refused at reception.
    Refused,
    /// 4 — Đang xử lý.
    Processing,
    /// 5 — Yêu cầu bổ sung: waiting for the applicant's supplement.
    AwaitingSupplement,
    /// 6 — Yêu cầu nghĩa vụ tài chính: waiting for fees or taxes.
    AwaitingPayment,
    /// 7 — Rút hồ sơ.
    Withdrawn,
    /// 8 — Dừng xử lý.
    Stopped,
    /// 9 — Đã xử lý xong: the finish time for every timeliness figure.
    ResultIssued,
    /// 10 — Đã trả kết quả.
    ResultReturned,
}

impl DossierStatus {
    pub const ALL: [DossierStatus; 10] = [
        DossierStatus::Submitted,
        DossierStatus::Accepted,
        DossierStatus::Refused,
        DossierStatus::Processing,
        DossierStatus::AwaitingSupplement,
        DossierStatus::AwaitingPayment,
        DossierStatus::Withdrawn,
        DossierStatus::Stopped,
        DossierStatus::ResultIssued,
        DossierStatus::ResultReturned,
    ];

    /// The DVCQG status code, 1–10.
    pub fn code(self) -> u8 {
        match self {
            DossierStatus::Submitted => 1,
            DossierStatus::Accepted => 2,
            DossierStatus::Refused => 3,
            DossierStatus::Processing => 4,
            DossierStatus::AwaitingSupplement => 5,
            DossierStatus::AwaitingPayment => 6,
            DossierStatus::Withdrawn => 7,
            DossierStatus::Stopped => 8,
            DossierStatus::ResultIssued => 9,
            DossierStatus::ResultReturned => 10,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }

    /// The label officials read.
    pub fn label_vi(self) -> &'static str {
        match self {
            DossierStatus::Submitted => "Mới đăng ký",
            DossierStatus::Accepted => "Được tiếp nhận",
            DossierStatus::Refused => "Không được tiếp nhận",
            DossierStatus::Processing => "Đang xử lý",
            DossierStatus::AwaitingSupplement => "Yêu cầu bổ sung",
            DossierStatus::AwaitingPayment => "Yêu cầu nghĩa vụ tài chính",
            DossierStatus::Withdrawn => "Rút hồ sơ",
            DossierStatus::Stopped => "Dừng xử lý",
            DossierStatus::ResultIssued => "Đã xử lý xong",
            DossierStatus::ResultReturned => "Đã trả kết quả",
        }
    }

    /// May a dossier in status `self` move to `next` by one command?
    /// Staying in the same status is always allowed. This is the edge list
    /// the step machine below must respect (checked by property tests).
    pub fn may_become(self, next: DossierStatus) -> bool {
        use DossierStatus::*;
        self == next
            || matches!(
                (self, next),
                (Submitted, Accepted | Refused | Withdrawn)
                    | (Accepted, Processing | AwaitingPayment | Withdrawn | Stopped)
                    | (
                        Processing,
                        AwaitingSupplement | AwaitingPayment | Withdrawn | Stopped | ResultIssued
                    )
                    | (AwaitingSupplement, Processing | Withdrawn | Stopped)
                    | (AwaitingPayment, Accepted | Processing | Withdrawn | Stopped)
                    | (ResultIssued, ResultReturned)
            )
    }
}

impl std::fmt::Display for DossierStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.label_vi())
    }
}

/// Where exactly a dossier stands: finer than the DVCQG status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// No event yet.
    #[default]
    NotSubmitted,
    /// Submitted, waiting for the one-stop desk to check it.
    Submitted,
    /// The desk asked the applicant to complete the file (once).
    AwaitingCompletion,
    Refused,
    /// Accepted at the desk of the receiving unit, not yet forwarded.
    Accepted,
    /// Arrived from another unit (liên thông), at this unit's desk.
    TransferredIn,
    /// At the processing department, waiting to be assigned.
    AtDepartment,
    WithSpecialist,
    /// A draft result waits for the unit leader.
    AwaitingApproval,
    /// The leader approved and signed; the result is to be issued.
    Approved,
    AwaitingSupplement,
    AwaitingPayment,
    Withdrawn,
    Stopped,
    ResultIssued,
    ResultReturned,
}

impl Step {
    /// The DVCQG status this step reports as; `None` before submission.
    pub fn status(self) -> Option<DossierStatus> {
        use DossierStatus as S;
        Some(match self {
            Step::NotSubmitted => return None,
            Step::Submitted | Step::AwaitingCompletion => S::Submitted,
            Step::Refused => S::Refused,
            Step::Accepted => S::Accepted,
            Step::TransferredIn
            | Step::AtDepartment
            | Step::WithSpecialist
            | Step::AwaitingApproval
            | Step::Approved => S::Processing,
            Step::AwaitingSupplement => S::AwaitingSupplement,
            Step::AwaitingPayment => S::AwaitingPayment,
            Step::Withdrawn => S::Withdrawn,
            Step::Stopped => S::Stopped,
            Step::ResultIssued => S::ResultIssued,
            Step::ResultReturned => S::ResultReturned,
        })
    }

    /// Accepted and neither finished nor closed: the dossier is "in progress".
    pub fn is_open_after_acceptance(self) -> bool {
        matches!(
            self,
            Step::Accepted
                | Step::TransferredIn
                | Step::AtDepartment
                | Step::WithSpecialist
                | Step::AwaitingApproval
                | Step::Approved
                | Step::AwaitingSupplement
                | Step::AwaitingPayment
        )
    }

    /// The steps in which a dossier is actively worked on (not paused).
    fn is_active_processing(self) -> bool {
        matches!(
            self,
            Step::Accepted
                | Step::TransferredIn
                | Step::AtDepartment
                | Step::WithSpecialist
                | Step::AwaitingApproval
                | Step::Approved
        )
    }

    /// The lifecycle table: may `action` be taken in this step?
    pub fn allows(self, action: Action) -> bool {
        use Step::*;
        match action {
            Action::SubmitInPerson | Action::SubmitOnline | Action::SubmitByPost => {
                self == NotSubmitted
            }
            Action::Accept | Action::RequestCompletion => self == Submitted,
            Action::ProvideCompletion => self == AwaitingCompletion,
            Action::Refuse => matches!(self, Submitted | AwaitingCompletion),
            Action::Forward => matches!(self, Accepted | TransferredIn),
            Action::Assign => matches!(self, AtDepartment | WithSpecialist),
            Action::RequestSupplement => {
                matches!(self, AtDepartment | WithSpecialist | AwaitingApproval)
            }
            Action::ReceiveSupplement => self == AwaitingSupplement,
            Action::RequestPayment => self.is_active_processing(),
            Action::ConfirmPayment | Action::ExemptPayment => self == AwaitingPayment,
            // Whether there is anything to refund is the payment state's business.
            Action::RefundPayment => self != NotSubmitted,
            Action::Transfer => {
                matches!(
                    self,
                    Accepted | TransferredIn | AtDepartment | WithSpecialist | Approved
                )
            }
            Action::SubmitDraft => self == WithSpecialist,
            Action::ApproveDraft | Action::SendBackDraft => self == AwaitingApproval,
            Action::IssueResult => self == Approved,
            Action::ReturnResult => self == ResultIssued,
            Action::HandOver => {
                self.is_open_after_acceptance() || matches!(self, Submitted | AwaitingCompletion)
            }
            Action::IssueApology | Action::StopProcessing | Action::CorrectDueDate => {
                self.is_open_after_acceptance()
            }
            Action::Withdraw => {
                self.is_open_after_acceptance() || matches!(self, Submitted | AwaitingCompletion)
            }
            // Deletion is orthogonal to the lifecycle (a flag, checked by the aggregate).
            Action::SoftDelete | Action::RestoreDeleted => self != NotSubmitted,
        }
    }
}
