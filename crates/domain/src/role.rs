//! Roles and the acting principal.
//!
//! Who may do what to a dossier is decided in one place:
//! [`Action::allowed_roles`]. The table follows TTHC.md "Roles":
//!
//! | role | may |
//! |---|---|
//! | reception officer (cán bộ một cửa) | submit in person / by post, accept, request completion, refuse, forward to a department, record a supplement or completion brought in, request and collect fees, return results, record a withdrawal |
//! | specialist (chuyên viên) | request a supplement, request payment, draft the result, record the issued result |
//! | head of department (lãnh đạo phòng) | assign, request a supplement, transfer, exempt fees, issue an apology |
//! | unit leader (lãnh đạo đơn vị) | approve or send back a draft, issue the result, transfer, exempt fees, issue an apology, stop processing |
//! | supervisor (trung tâm phục vụ hành chính công) | monitors every unit; writes nothing to a dossier |
//! | auditor (thanh tra) | reads every event in scope; never writes |
//! | administrator (quản trị) | administrative corrections (due date, soft delete and undo), handing the open dossiers of a dissolved unit over to its successor |
//! | portal (Cổng DVCQG / provincial portal account) | what the applicant does online: submit, complete, supplement, pay, withdraw, receive the result online |
//!
//! The portal role is a system account that relays the applicant's own
//! actions; it is not tied to the dossier's holder unit.

use serde::{Deserialize, Serialize};

use crate::unit::UnitId;

/// A role a user holds at a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cán bộ tiếp nhận, bộ phận một cửa.
    ReceptionOfficer,
    /// Chuyên viên xử lý.
    Specialist,
    /// Lãnh đạo phòng chuyên môn.
    DepartmentHead,
    /// Lãnh đạo đơn vị.
    UnitLeader,
    /// Trung tâm phục vụ hành chính công: monitors, never writes.
    Supervisor,
    /// Thanh tra, kiểm tra: reads, never writes.
    Auditor,
    /// Quản trị hệ thống.
    Administrator,
    /// The national or provincial public-service portal relaying the applicant.
    Portal,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::ReceptionOfficer,
        Role::Specialist,
        Role::DepartmentHead,
        Role::UnitLeader,
        Role::Supervisor,
        Role::Auditor,
        Role::Administrator,
        Role::Portal,
    ];
}

/// Who is acting: the authenticated user, the unit they act for, their roles there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: String,
    pub unit: UnitId,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|role| roles.contains(role))
    }
}

/// Declares [`Action`] with its stable snake_case name and the list of all actions.
macro_rules! actions {
    ($($variant:ident => $name:literal,)*) => {
        /// Every kind of thing that can be done to a dossier, for permission
        /// checks and error messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Action {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stable name used in errors, logs and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    SubmitInPerson => "submit_in_person",
    SubmitOnline => "submit_online",
    SubmitByPost => "submit_by_post",
    Accept => "accept",
    RequestCompletion => "request_completion",
    ProvideCompletion => "provide_completion",
    Refuse => "refuse",
    Forward => "forward",
    Assign => "assign",
    RequestSupplement => "request_supplement",
    ReceiveSupplement => "receive_supplement",
    RequestPayment => "request_payment",
    ConfirmPayment => "confirm_payment",
    ExemptPayment => "exempt_payment",
    RefundPayment => "refund_payment",
    Transfer => "transfer",
    HandOver => "hand_over",
    SubmitDraft => "submit_draft",
    ApproveDraft => "approve_draft",
    SendBackDraft => "send_back_draft",
    IssueResult => "issue_result",
    ReturnResult => "return_result",
    IssueApology => "issue_apology",
    Withdraw => "withdraw",
    StopProcessing => "stop_processing",
    CorrectDueDate => "correct_due_date",
    SoftDelete => "soft_delete",
    RestoreDeleted => "restore_deleted",
}

impl Action {
    /// The roles that may perform this action. The single source of truth.
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::SubmitInPerson | Action::SubmitByPost => &[ReceptionOfficer],
            Action::SubmitOnline => &[Portal],
            Action::Accept | Action::RequestCompletion | Action::Refuse | Action::Forward => {
                &[ReceptionOfficer]
            }
            Action::ProvideCompletion | Action::ReceiveSupplement => &[ReceptionOfficer, Portal],
            Action::Assign => &[DepartmentHead],
            Action::RequestSupplement => &[Specialist, DepartmentHead],
            Action::RequestPayment => &[ReceptionOfficer, Specialist],
            Action::ConfirmPayment => &[ReceptionOfficer, Portal],
            Action::ExemptPayment => &[DepartmentHead, UnitLeader],
            Action::RefundPayment => &[ReceptionOfficer],
            Action::Transfer => &[DepartmentHead, UnitLeader],
            Action::SubmitDraft => &[Specialist],
            Action::ApproveDraft | Action::SendBackDraft => &[UnitLeader],
            Action::IssueResult => &[UnitLeader, Specialist],
            Action::ReturnResult => &[ReceptionOfficer, Portal],
            Action::IssueApology => &[DepartmentHead, UnitLeader],
            Action::Withdraw => &[ReceptionOfficer, Portal],
            Action::StopProcessing => &[UnitLeader],
            Action::HandOver
            | Action::CorrectDueDate
            | Action::SoftDelete
            | Action::RestoreDeleted => &[Administrator],
        }
    }

    /// Must the acting principal belong to the unit holding the dossier?
    /// The portal relays the applicant and is bound to no unit, but only when
    /// it acts as the portal: a user who also holds a staff role allowed for
    /// the action acts in that capacity, bound to their unit. An
    /// administrator corrects any dossier their unit's subtree ever held.
    pub fn holder_scope(self, principal: &Principal) -> HolderScope {
        let allowed = self.allowed_roles();
        let acts_as_staff = principal
            .roles
            .iter()
            .any(|role| *role != Role::Portal && allowed.contains(role));
        if !acts_as_staff && principal.has_any(&[Role::Portal]) && allowed.contains(&Role::Portal) {
            HolderScope::Any
        } else if matches!(
            self,
            Action::HandOver | Action::CorrectDueDate | Action::SoftDelete | Action::RestoreDeleted
        ) {
            HolderScope::SubtreeOfAnyHolder
        } else {
            HolderScope::CurrentHolder
        }
    }
}

/// Which unit relation between principal and dossier an action requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderScope {
    /// The principal's unit is the unit now holding the dossier.
    CurrentHolder,
    /// The principal's unit is, or is an ancestor of, some unit that ever held it.
    SubtreeOfAnyHolder,
    /// No unit relation (the portal relaying the applicant).
    Any,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
