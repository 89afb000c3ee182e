//! The rejection classes of the Dossier aggregate. Each test names the exact
//! `DossierError` and checks, through the cqrs-es `handle`, that the rejected
//! command wrote no event and left the aggregate as it was
//! (`support::rejection`).
//!
//! The lifecycle and role rules are restated here as hand-written tables,
//! independent of `Step::allows` and `Action::allowed_roles`, and compared
//! with them: a change to either rule has to be made twice, on purpose.
//!
//! Times are on Tuesday 5 November 2024, Vietnam time (`t(h, m)`), unless
//! said otherwise; the standard story is in `support` (submitted 08:00,
//! accepted 08:15 and due 14:15, forwarded 08:20, assigned 08:30, ...).
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::dossier::command::{
    ApplicantKind, Channel, CommandBody, DossierCommand, PaymentItem, PaymentMethod, ReturnMethod,
    Submission, SubmittedDocument,
};
use motcua_domain::dossier::error::{DossierError, RejectionKind};
use motcua_domain::dossier::event::DossierEvent;
use motcua_domain::dossier::status::{DossierStatus, Step};
use motcua_domain::role::{Action, Role};
use motcua_domain::unit::{UnitId, UnitLevel};
use support::*;

/// A well-formed e-ID that no unit of the fixture has.
const NO_SUCH_UNIT: &str = "000.09.20.H56";

fn text(value: &str) -> String {
    value.to_owned()
}

fn too_long() -> String {
    "x".repeat(2001)
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// The unit holding the story's dossier (the commune before submission).
fn holder_of(story: &Story) -> String {
    story
        .dossier
        .holder()
        .map_or(COMMUNE, UnitId::as_str)
        .to_owned()
}

#[track_caller]
fn assert_invalid_field(given: &[DossierEvent], command: DossierCommand, expected: &str) {
    let error = rejection(given, command);
    match &error {
        DossierError::InvalidField { field, .. } if field == expected => {}
        _ => panic!("expected InvalidField {{ field: {expected:?} }}, got {error:?}"),
    }
}

#[track_caller]
fn assert_rule_violated(given: &[DossierEvent], command: DossierCommand, expected: Action) {
    let error = rejection(given, command);
    match &error {
        DossierError::RuleViolated { action, .. } if *action == expected => {}
        _ => panic!("expected RuleViolated {{ action: {expected} }}, got {error:?}"),
    }
}

#[track_caller]
fn assert_not_holder(given: &[DossierEvent], command: DossierCommand, holder: &str) {
    let action = command.body.action();
    let acting = command.principal.unit.clone();
    assert_eq!(
        rejection(given, command),
        DossierError::NotHolder {
            action,
            unit: acting,
            holder: unit(holder),
        }
    );
}

/// Handles `command` after `given` and panics unless it was accepted.
#[track_caller]
fn assert_accepted(given: &[DossierEvent], command: DossierCommand) {
    let body = format!("{:?}", command.body);
    let handled = handle(given, command);
    if let Err(error) = handled.result {
        panic!("{body} was rejected: {error:?}");
    }
    assert!(!handled.emitted.is_empty());
}

// ---------------------------------------------------------------------------
// The status matrix
// ---------------------------------------------------------------------------

/// The lifecycle, step by step, as TTHC.md "Dossier lifecycle" and the docs
/// of `status.rs` describe it. Written independently of `Step::allows`.
///
/// After submission every step also allows a refund (whether anything was
/// paid is the payment state's business), a soft delete and a restore
/// (deletion is a flag, orthogonal to the lifecycle).
fn lifecycle_table(step: Step) -> &'static [Action] {
    use Action::*;
    match step {
        Step::NotSubmitted => &[SubmitInPerson, SubmitOnline, SubmitByPost],
        // Reception: accept, ask for completion (once), refuse; the
        // applicant may withdraw; a reorganisation may hand it over.
        Step::Submitted => &[
            Accept,
            RequestCompletion,
            Refuse,
            HandOver,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::AwaitingCompletion => &[
            ProvideCompletion,
            Refuse,
            HandOver,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        // Closed without a result.
        Step::Refused | Step::Withdrawn | Step::Stopped => {
            &[RefundPayment, SoftDelete, RestoreDeleted]
        }
        // At the desk of the receiving unit, or arrived from another unit:
        // forward to a department, ask for fees, transfer on.
        Step::Accepted | Step::TransferredIn => &[
            Forward,
            RequestPayment,
            Transfer,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::AtDepartment => &[
            Assign,
            RequestSupplement,
            RequestPayment,
            Transfer,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::WithSpecialist => &[
            Assign,
            RequestSupplement,
            RequestPayment,
            Transfer,
            SubmitDraft,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::AwaitingApproval => &[
            RequestSupplement,
            RequestPayment,
            ApproveDraft,
            SendBackDraft,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::Approved => &[
            RequestPayment,
            Transfer,
            IssueResult,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        // Paused for the applicant: only the end of the pause moves it on.
        Step::AwaitingSupplement => &[
            ReceiveSupplement,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::AwaitingPayment => &[
            ConfirmPayment,
            ExemptPayment,
            HandOver,
            IssueApology,
            StopProcessing,
            CorrectDueDate,
            Withdraw,
            RefundPayment,
            SoftDelete,
            RestoreDeleted,
        ],
        Step::ResultIssued => &[ReturnResult, RefundPayment, SoftDelete, RestoreDeleted],
        Step::ResultReturned => &[RefundPayment, SoftDelete, RestoreDeleted],
    }
}

#[test]
fn the_hand_written_lifecycle_table_is_step_allows() {
    let mut differences = Vec::new();
    for step in ALL_STEPS {
        for &action in Action::ALL {
            let expected = lifecycle_table(step).contains(&action);
            if step.allows(action) != expected {
                differences.push(format!("{step:?} × {action}: expected {expected}"));
            }
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    // Every action is possible somewhere.
    for &action in Action::ALL {
        assert!(
            ALL_STEPS
                .iter()
                .any(|step| lifecycle_table(*step).contains(&action)),
            "{action} is allowed in no step"
        );
    }
}

#[test]
fn one_command_of_each_kind_covers_every_action() {
    let actions: HashSet<Action> = one_command_of_each_kind(COMMUNE, t(11, 0))
        .iter()
        .map(CommandBody::action)
        .collect();
    assert_eq!(actions, Action::ALL.iter().copied().collect());
}

#[test]
fn every_command_in_every_step_is_refused_exactly_where_the_lifecycle_forbids_it() {
    // Sent at 11:00, after every story's last event, by a principal holding
    // every role at the holding unit: no permission check can refuse it.
    // Submissions are only allowed before there is a holder, where
    // `holder_of` names the commune, the level of the birth registration; the
    // result is returned online, which every role allowed to return may do.
    let at = t(11, 0);
    let mut checked = 0;
    for step in ALL_STEPS {
        let story = story_at(step);
        let holder = holder_of(&story);
        for body in one_command_of_each_kind(&holder, at) {
            let action = body.action();
            let what = format!("{step:?} × {action}");
            let command = command(all_roles("specialist", &holder), at, body);
            if lifecycle_table(step).contains(&action) {
                let handled = handle(&story.events, command);
                match (action, handled.result) {
                    (_, Ok(())) if !handled.emitted.is_empty() => {}
                    // Allowed here, but refused by a rule of the state: nothing
                    // was paid, the dossier is not deleted, and the 14:15 due
                    // date is 75 working minutes away (< 1 day).
                    (
                        Action::RefundPayment | Action::RestoreDeleted | Action::IssueApology,
                        Err(DossierError::RuleViolated {
                            action: refused, ..
                        }),
                    ) if refused == action => assert!(handled.emitted.is_empty(), "{what}"),
                    (_, result) => panic!("{what} is allowed, yet: {result:?}"),
                }
            } else {
                assert_eq!(
                    rejection(&story.events, command),
                    DossierError::InvalidStatus {
                        action,
                        status: step.status(),
                        step,
                    },
                    "{what}"
                );
            }
            checked += 1;
        }
    }
    // 16 steps × 29 commands (26 kinds, the submission in 4 forms).
    assert_eq!(checked, 16 * 29);
}

#[test]
fn invalid_status_names_the_status_code_and_step() {
    // A returned dossier cannot be withdrawn: status 10, step ResultReturned.
    let error = rejection(
        &result_returned().events,
        command(
            portal(),
            t(11, 0),
            CommandBody::Withdraw {
                reason: text("Đổi ý"),
            },
        ),
    );
    assert_eq!(
        error,
        DossierError::InvalidStatus {
            action: Action::Withdraw,
            status: Some(DossierStatus::ResultReturned),
            step: Step::ResultReturned,
        }
    );
    assert_eq!(
        error.to_string(),
        "withdraw is not allowed in status 10 (Đã trả kết quả), step ResultReturned"
    );
    // Before submission there is no status at all.
    let error = rejection(
        &[],
        command(
            officer(COMMUNE),
            t(11, 0),
            CommandBody::Accept {
                code: code_for(COMMUNE, t(11, 0), 1),
            },
        ),
    );
    assert_eq!(
        error,
        DossierError::InvalidStatus {
            action: Action::Accept,
            status: None,
            step: Step::NotSubmitted,
        }
    );
}

// ---------------------------------------------------------------------------
// The role matrix
// ---------------------------------------------------------------------------

/// Who may do what, role by role, as TTHC.md "Roles" and the table in
/// `role.rs` describe it. Written independently of `Action::allowed_roles`.
fn role_table(role: Role) -> &'static [Action] {
    use Action::*;
    match role {
        // Reception, completion and supplements brought in, fees collected
        // (and refunded), results returned, withdrawals recorded.
        Role::ReceptionOfficer => &[
            SubmitInPerson,
            SubmitByPost,
            Accept,
            RequestCompletion,
            ProvideCompletion,
            Refuse,
            Forward,
            ReceiveSupplement,
            RequestPayment,
            ConfirmPayment,
            RefundPayment,
            ReturnResult,
            Withdraw,
        ],
        Role::Specialist => &[RequestSupplement, RequestPayment, SubmitDraft, IssueResult],
        Role::DepartmentHead => &[
            Assign,
            RequestSupplement,
            Transfer,
            ExemptPayment,
            IssueApology,
        ],
        Role::UnitLeader => &[
            ApproveDraft,
            SendBackDraft,
            IssueResult,
            Transfer,
            ExemptPayment,
            IssueApology,
            StopProcessing,
        ],
        // Monitor and read; never write.
        Role::Supervisor | Role::Auditor => &[],
        Role::Administrator => &[HandOver, CorrectDueDate, SoftDelete, RestoreDeleted],
        // What the applicant does online.
        Role::Portal => &[
            SubmitOnline,
            ProvideCompletion,
            ReceiveSupplement,
            ConfirmPayment,
            Withdraw,
            ReturnResult,
        ],
    }
}

fn expected_roles(action: Action) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| role_table(*role).contains(&action))
        .collect()
}

#[test]
fn the_hand_written_role_table_is_allowed_roles() {
    for &action in Action::ALL {
        let mut allowed = action.allowed_roles().to_vec();
        allowed.sort();
        assert_eq!(allowed, expected_roles(action), "{action}");
        assert!(!allowed.is_empty(), "nobody may {action}");
    }
}

/// The first step (of `ALL_STEPS`) in which the lifecycle allows `action`.
fn a_step_allowing(action: Action) -> Step {
    ALL_STEPS
        .into_iter()
        .find(|step| lifecycle_table(*step).contains(&action))
        .unwrap()
}

#[test]
fn every_role_not_allowed_is_refused_for_every_action() {
    let at = t(11, 0);
    let mut checked = 0;
    for &action in Action::ALL {
        let story = story_at(a_step_allowing(action));
        let holder = holder_of(&story);
        let allowed: HashSet<Role> = expected_roles(action).into_iter().collect();
        for body in one_command_of_each_kind(&holder, at) {
            if body.action() != action {
                continue;
            }
            for role in Role::ALL.into_iter().filter(|role| !allowed.contains(role)) {
                let error = rejection(
                    &story.events,
                    command(only_role(role, &holder), at, body.clone()),
                );
                let DossierError::RoleNotAllowed {
                    action: refused,
                    roles,
                    allowed: listed,
                } = &error
                else {
                    panic!("{action} by {role:?}: {error:?}");
                };
                assert_eq!((*refused, roles.as_slice()), (action, &[role][..]));
                assert_eq!(listed.iter().copied().collect::<HashSet<_>>(), allowed);
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "{checked}");
}

#[test]
fn every_allowed_role_alone_passes_the_permission_checks() {
    let at = t(11, 0);
    for &action in Action::ALL {
        let story = story_at(a_step_allowing(action));
        let holder = holder_of(&story);
        for body in one_command_of_each_kind(&holder, at) {
            if body.action() != action {
                continue;
            }
            for role in expected_roles(action) {
                // The portal relays the applicant from the province's account.
                let unit_code = if role == Role::Portal {
                    PROVINCE
                } else {
                    &holder
                };
                let by = principal("specialist", unit_code, &[role]);
                let result = handle(&story.events, command(by, at, body.clone())).result;
                assert!(
                    !matches!(
                        result,
                        Err(DossierError::RoleNotAllowed { .. }
                            | DossierError::NotHolder { .. }
                            | DossierError::InvalidStatus { .. })
                    ),
                    "{action} by {role:?}: {result:?}"
                );
            }
        }
    }
}

#[test]
fn supervisors_and_auditors_are_refused_every_action() {
    let at = t(11, 0);
    for step in ALL_STEPS {
        let story = story_at(step);
        let holder = holder_of(&story);
        // Each alone, and both together, at the holding unit.
        let inspectors = [
            only_role(Role::Supervisor, &holder),
            only_role(Role::Auditor, &holder),
            principal("inspector", &holder, &[Role::Supervisor, Role::Auditor]),
        ];
        for body in one_command_of_each_kind(&holder, at) {
            let action = body.action();
            for by in &inspectors {
                let error = rejection(&story.events, command(by.clone(), at, body.clone()));
                assert!(
                    matches!(error, DossierError::RoleNotAllowed { action: refused, .. } if refused == action),
                    "{:?} {step:?} {action}: {error:?}",
                    by.roles
                );
            }
        }
    }
}

#[test]
fn accepting_on_the_spot_is_refused_as_a_submission_in_person() {
    // Submit-and-accept checks the roles of both actions; as whoever may
    // submit in person may also accept, the first check is the one that fires.
    let submit_roles = expected_roles(Action::SubmitInPerson);
    let accept_roles = expected_roles(Action::Accept);
    assert!(submit_roles.iter().all(|role| accept_roles.contains(role)));
    let error = rejection(
        &[],
        command(
            leader(COMMUNE),
            t(8, 0),
            CommandBody::Submit {
                submission: Box::new(birth_submission(Channel::InPerson)),
                accept_with_code: Some(code_for(COMMUNE, t(8, 0), 1)),
            },
        ),
    );
    assert!(
        matches!(
            error,
            DossierError::RoleNotAllowed {
                action: Action::SubmitInPerson,
                ..
            }
        ),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------
// The unit
// ---------------------------------------------------------------------------

#[test]
fn officers_of_another_unit_do_not_hold_the_dossier() {
    let accept = |by| {
        command(
            by,
            t(11, 0),
            CommandBody::Accept {
                code: code_for(COMMUNE, t(11, 0), 1),
            },
        )
    };
    // Neither a neighbouring commune nor the parent district holds it.
    for other in [OTHER_COMMUNE, DISTRICT] {
        assert_not_holder(&submitted().events, accept(officer(other)), COMMUNE);
        assert_not_holder(
            &at_department().events,
            command(
                head(other),
                t(11, 0),
                CommandBody::Assign {
                    specialist: text("specialist"),
                    step_due_at: None,
                    note: None,
                },
            ),
            COMMUNE,
        );
        // The same user id at another unit is another principal.
        assert_not_holder(
            &with_specialist().events,
            command(
                specialist(other),
                t(11, 0),
                CommandBody::SubmitDraft {
                    summary: text("Dự thảo"),
                    document_ref: None,
                },
            ),
            COMMUNE,
        );
        assert_not_holder(
            &awaiting_approval().events,
            command(
                leader(other),
                t(11, 0),
                CommandBody::ApproveDraft { note: None },
            ),
            COMMUNE,
        );
        assert_not_holder(
            &with_specialist().events,
            command(
                leader(other),
                t(11, 0),
                CommandBody::StopProcessing {
                    reason: text("Dừng"),
                },
            ),
            COMMUNE,
        );
    }
}

#[test]
fn a_desk_records_submissions_only_to_its_own_unit() {
    for channel in [Channel::InPerson, Channel::Post] {
        assert_not_holder(
            &[],
            command(
                officer(OTHER_COMMUNE),
                t(8, 0),
                CommandBody::Submit {
                    submission: Box::new(birth_submission(channel)),
                    accept_with_code: None,
                },
            ),
            COMMUNE,
        );
    }
}

#[test]
fn after_a_transfer_the_old_unit_can_no_longer_act_and_the_new_one_can() {
    let given = transferred_in().events;
    let forward = |by| {
        command(
            by,
            t(9, 0),
            CommandBody::Forward {
                department: text("Phòng Tư pháp"),
                step_due_at: None,
                note: None,
            },
        )
    };
    assert_not_holder(&given, forward(officer(COMMUNE)), DISTRICT);
    assert_not_holder(
        &given,
        command(
            head(COMMUNE),
            t(9, 0),
            CommandBody::Transfer {
                to_unit: unit(COMMUNE),
                reason: text("Trả về xã"),
            },
        ),
        DISTRICT,
    );
    assert_accepted(&given, forward(officer(DISTRICT)));
    // The district may also send it back down (to a unit that held it).
    assert_accepted(
        &given,
        command(
            leader(DISTRICT),
            t(9, 0),
            CommandBody::Transfer {
                to_unit: unit(COMMUNE),
                reason: text("Trả về xã"),
            },
        ),
    );
}

#[test]
fn after_a_hand_over_the_old_unit_can_no_longer_act() {
    let given = with_specialist()
        .run(command(
            admin(PROVINCE),
            t(9, 0),
            CommandBody::HandOver {
                to_unit: unit(OTHER_COMMUNE),
                reason: text("Sáp nhập xã"),
            },
        ))
        .events;
    let draft = |by| {
        command(
            by,
            t(9, 30),
            CommandBody::SubmitDraft {
                summary: text("Dự thảo"),
                document_ref: None,
            },
        )
    };
    assert_not_holder(&given, draft(specialist(COMMUNE)), OTHER_COMMUNE);
    assert_accepted(&given, draft(specialist(OTHER_COMMUNE)));
}

#[test]
fn the_portal_is_bound_to_no_unit() {
    // The portal account belongs to the province, or to any unit at all: it
    // relays the applicant to whichever unit holds the dossier.
    for portal_unit in [PROVINCE, OTHER_COMMUNE, DEPARTMENT] {
        let relay = principal("dvcqg", portal_unit, &[Role::Portal]);
        let cases: [(Story, CommandBody); 6] = [
            (
                Story::new(),
                CommandBody::Submit {
                    submission: Box::new(birth_submission(Channel::Online)),
                    accept_with_code: None,
                },
            ),
            (
                awaiting_completion(),
                CommandBody::ProvideCompletion {
                    documents: vec![document("UQ")],
                },
            ),
            (
                awaiting_supplement(),
                CommandBody::ReceiveSupplement {
                    documents: vec![document("UQ")],
                },
            ),
            (
                awaiting_payment(),
                CommandBody::ConfirmPayment {
                    amount_vnd: 8_000,
                    receipt_number: text("PAYGOV-1"),
                    method: PaymentMethod::NationalPaymentPlatform,
                },
            ),
            (
                result_issued(),
                CommandBody::ReturnResult {
                    method: ReturnMethod::Online,
                    recipient: text("Nguyễn Văn An"),
                },
            ),
            (
                transferred_in(),
                CommandBody::Withdraw {
                    reason: text("Công dân xin rút"),
                },
            ),
        ];
        for (story, body) in cases {
            assert_accepted(&story.events, command(relay.clone(), t(11, 0), body));
        }
    }
}

#[test]
fn administrators_of_the_holder_or_an_ancestor_may_correct_others_may_not() {
    let given = with_specialist().events;
    let correct = |by| {
        command(
            by,
            t(9, 0),
            CommandBody::CorrectDueDate {
                due_at: vn(2024, 11, 6, 17, 0),
                reason: text("Nhập sai thời hạn"),
            },
        )
    };
    // The commune itself, its district, the province.
    for unit_code in [COMMUNE, DISTRICT, PROVINCE] {
        assert_accepted(&given, correct(admin(unit_code)));
    }
    // A neighbouring commune, a provincial department (sibling of the district).
    for unit_code in [OTHER_COMMUNE, DEPARTMENT] {
        assert_not_holder(&given, correct(admin(unit_code)), COMMUNE);
        for body in [
            CommandBody::SoftDelete {
                reason: text("Trùng"),
            },
            CommandBody::HandOver {
                to_unit: unit(OTHER_COMMUNE),
                reason: text("Sáp nhập"),
            },
        ] {
            assert_not_holder(&given, command(admin(unit_code), t(9, 0), body), COMMUNE);
        }
    }
}

#[test]
fn administrators_of_any_unit_that_held_the_dossier_may_still_correct_it() {
    // Transferred from the commune to the district at 08:40.
    let given = transferred_in().events;
    let correct = |by| {
        command(
            by,
            t(9, 0),
            CommandBody::CorrectDueDate {
                due_at: vn(2024, 11, 6, 17, 0),
                reason: text("Gia hạn"),
            },
        )
    };
    assert_accepted(&given, correct(admin(COMMUNE)));
    assert_accepted(&given, correct(admin(DISTRICT)));
    assert_not_holder(&given, correct(admin(OTHER_COMMUNE)), DISTRICT);
}

// ---------------------------------------------------------------------------
// The data: the submission
// ---------------------------------------------------------------------------

/// The fixture's online birth registration, changed by `change`, sent by the portal.
fn online(change: impl FnOnce(&mut Submission)) -> DossierCommand {
    let mut submission = birth_submission(Channel::Online);
    change(&mut submission);
    command(
        portal(),
        t(8, 0),
        CommandBody::Submit {
            submission: Box::new(submission),
            accept_with_code: None,
        },
    )
}

/// The fixture's birth registration handed in at the commune's counter and
/// accepted on the spot with `code`.
fn at_the_counter(change: impl FnOnce(&mut Submission), code: Option<&str>) -> DossierCommand {
    let mut submission = birth_submission(Channel::InPerson);
    change(&mut submission);
    command(
        officer(COMMUNE),
        t(8, 0),
        CommandBody::Submit {
            submission: Box::new(submission),
            accept_with_code: code.map(|code| code.parse().unwrap()),
        },
    )
}

#[test]
fn the_applicant_must_be_named() {
    for name in ["", "   "] {
        assert_invalid_field(
            &[],
            online(|s| s.applicant.name = text(name)),
            "applicant.name",
        );
    }
    assert_invalid_field(
        &[],
        online(|s| s.applicant.name = too_long()),
        "applicant.name",
    );
}

#[test]
fn a_citizen_has_a_12_digit_cccd_or_a_9_digit_cmnd() {
    for id in [
        "",
        "00209000123",   // 11 digits
        "0020900012345", // 13 digits
        "00209000123X",
        "0020 9000 1234",
        "12345678",
    ] {
        assert_invalid_field(
            &[],
            online(|s| s.applicant.identity_number = text(id)),
            "applicant.identity_number",
        );
    }
    for id in ["002090001234", "012345678"] {
        assert_accepted(&[], online(|s| s.applicant.identity_number = text(id)));
    }
}

#[test]
fn an_organisation_has_a_10_digit_code_with_an_optional_3_digit_branch() {
    let organisation = |id: &str| {
        let id = text(id);
        online(move |s| {
            s.applicant.kind = ApplicantKind::Organization;
            s.applicant.identity_number = id;
        })
    };
    for id in [
        "002090001234", // a CCCD, not a tax code
        "010123456",
        "0101234567-01",
        "0101234567-0001",
        "010123456-001",
        "0101234567-",
        "0101234567-00A",
    ] {
        assert_invalid_field(&[], organisation(id), "applicant.identity_number");
    }
    for id in ["0101234567", "0101234567-001"] {
        assert_accepted(&[], organisation(id));
    }
}

#[test]
fn the_phone_has_9_to_11_digits_optionally_after_plus_84() {
    for phone in [
        "09123456",     // 8 digits
        "091234567890", // 12 digits
        "0912-345-678",
        "0912 345 678",
        "+84 912345678",
        "+8491234567a",
    ] {
        assert_invalid_field(
            &[],
            online(|s| s.applicant.phone = Some(text(phone))),
            "applicant.phone",
        );
    }
    // Checked trimmed; blank is absent (see dossier_lifecycle.rs).
    for phone in [
        "0912345678",
        "+84912345678",
        "02193123456",
        " 0912345678 ",
        "",
        " ",
    ] {
        assert_accepted(&[], online(|s| s.applicant.phone = Some(text(phone))));
    }
    assert_accepted(&[], online(|s| s.applicant.phone = None));
}

#[test]
fn the_email_is_an_address() {
    for email in [
        "an.nguyen.example.vn",
        "an@example",
        "@example.vn",
        "an@ex@ample.vn",
    ] {
        assert_invalid_field(
            &[],
            online(|s| s.applicant.email = Some(text(email))),
            "applicant.email",
        );
    }
    assert_invalid_field(
        &[],
        online(|s| s.applicant.email = Some(format!("an@{}.vn", too_long()))),
        "applicant.email",
    );
    // Checked trimmed; blank is absent (see dossier_lifecycle.rs).
    for email in [" an.nguyen@example.vn ", "", " "] {
        assert_accepted(&[], online(|s| s.applicant.email = Some(text(email))));
    }
    assert_accepted(&[], online(|s| s.applicant.email = None));
}

#[test]
fn the_address_is_at_most_2000_characters() {
    assert_invalid_field(
        &[],
        online(|s| s.applicant.address = Some(too_long())),
        "applicant.address",
    );
    // Blank is as good as absent.
    assert_accepted(&[], online(|s| s.applicant.address = Some(text("  "))));
}

#[test]
fn submitted_documents_are_components_of_the_procedure() {
    assert_invalid_field(
        &[],
        online(|s| s.documents.push(document("XX"))),
        "submission.documents[2].component",
    );
    assert_invalid_field(
        &[],
        online(|s| s.documents[0].name = text(" ")),
        "submission.documents[0].name",
    );
    assert_invalid_field(
        &[],
        online(|s| {
            s.documents[1] = SubmittedDocument {
                originals: 0,
                copies: 0,
                ..document("GCS")
            }
        }),
        "submission.documents[1]",
    );
}

#[test]
fn the_procedure_and_case_must_exist() {
    assert_invalid_field(
        &[],
        online(|s| s.procedure = "1.999999".parse().unwrap()),
        "submission.procedure",
    );
    assert_invalid_field(
        &[],
        online(|s| s.case_id = text("nha-o")),
        "submission.case_id",
    );
    // No procedure is in force before 2024 in the fixture's catalog.
    let mut early = online(|_| {});
    early.at = vn(2023, 12, 29, 9, 0);
    assert_invalid_field(&[], early, "submission.procedure");
}

#[test]
fn an_information_only_procedure_cannot_be_submitted_online() {
    let land_info = |channel: Channel, by| {
        command(
            by,
            t(8, 0),
            CommandBody::Submit {
                submission: Box::new(Submission {
                    unit: unit(DEPARTMENT),
                    procedure: LAND_INFO.parse().unwrap(),
                    documents: vec![document("PYC")],
                    ..birth_submission(channel)
                }),
                accept_with_code: None,
            },
        )
    };
    assert_invalid_field(
        &[],
        land_info(Channel::Online, portal()),
        "submission.channel",
    );
    // At the counter it is fine.
    assert_accepted(&[], land_info(Channel::InPerson, officer(DEPARTMENT)));
}

#[test]
fn the_receiving_unit_must_exist() {
    assert_invalid_field(
        &[],
        online(|s| s.unit = unit(NO_SUCH_UNIT)),
        "submission.unit",
    );
}

/// A complete submission of `procedure` (its only case and its required
/// components) to `unit_code` through `channel`, sent by whoever records
/// that channel (the portal online, the unit's desk otherwise), accepted on
/// the spot with the unit's code when `accept`.
fn submission_of(
    procedure: &str,
    unit_code: &str,
    channel: Channel,
    accept: bool,
) -> DossierCommand {
    let (case_id, documents) = match procedure {
        BIRTH => ("default", vec![document("TK"), document("GCS")]),
        BUILDING => ("nha-o", vec![document("DON"), document("BV")]),
        LAND_INFO => ("default", vec![document("PYC")]),
        other => panic!("no such procedure in the fixture: {other}"),
    };
    let by = if channel == Channel::Online {
        portal()
    } else {
        officer(unit_code)
    };
    command(
        by,
        t(8, 0),
        CommandBody::Submit {
            submission: Box::new(Submission {
                unit: unit(unit_code),
                procedure: procedure.parse().unwrap(),
                case_id: text(case_id),
                documents,
                ..birth_submission(channel)
            }),
            accept_with_code: accept.then(|| code_for(unit_code, t(8, 0), 1)),
        },
    )
}

#[test]
fn a_unit_receives_only_procedures_of_its_level() {
    let level_of = |unit_code: &str| match unit_code {
        PROVINCE | DEPARTMENT => UnitLevel::Province,
        DISTRICT => UnitLevel::District,
        _ => UnitLevel::Commune,
    };
    // BIRTH is a commune's, BUILDING a district's, LAND_INFO a province's.
    let procedures = [
        (BIRTH, UnitLevel::Commune),
        (BUILDING, UnitLevel::District),
        (LAND_INFO, UnitLevel::Province),
    ];
    let units = [PROVINCE, DEPARTMENT, DISTRICT, COMMUNE, OTHER_COMMUNE];
    let mut received = 0;
    for (procedure, level) in procedures {
        for unit_code in units {
            for channel in [Channel::Online, Channel::Post, Channel::InPerson] {
                let command = submission_of(procedure, unit_code, channel, false);
                if level_of(unit_code) != level {
                    // The level is checked before the case and the channel:
                    // LAND_INFO online to a commune is refused for its level.
                    assert_eq!(
                        rejection(&[], command),
                        DossierError::InvalidField {
                            field: text("submission.procedure"),
                            reason: format!(
                                "procedure {procedure} is handled at {level:?} level, \
                                 unit {unit_code} is at {:?} level",
                                level_of(unit_code)
                            ),
                        },
                        "{procedure} to {unit_code} ({channel:?})"
                    );
                } else if procedure == LAND_INFO && channel == Channel::Online {
                    assert_invalid_field(&[], command, "submission.channel");
                } else {
                    assert_accepted(&[], command);
                    received += 1;
                }
            }
            // At the counter, accepted on the spot: the same rule.
            let command = submission_of(procedure, unit_code, Channel::InPerson, true);
            if level_of(unit_code) == level {
                assert_accepted(&[], command);
            } else {
                assert_invalid_field(&[], command, "submission.procedure");
            }
        }
    }
    // BIRTH at 2 communes × 3 channels, BUILDING at the district × 3,
    // LAND_INFO at the province and its department × 2 (not online).
    assert_eq!(received, 6 + 3 + 4);
    // The example of the review: a commune's birth registration handed in
    // at a provincial department.
    assert_eq!(
        rejection(
            &[],
            submission_of(BIRTH, DEPARTMENT, Channel::InPerson, true)
        ),
        DossierError::InvalidField {
            field: text("submission.procedure"),
            reason: text(
                "procedure 1.001193 is handled at Commune level, unit 000.00.06.H56 is at \
                 Province level"
            ),
        }
    );
}

#[test]
fn the_birth_date_is_not_in_the_future() {
    // Submitted Tue 5 Nov 2024 08:00 (Vietnam): born tomorrow, or in 2030.
    for born in [date(2024, 11, 6), date(2030, 1, 1)] {
        assert_invalid_field(
            &[],
            online(|s| s.applicant.birth_date = Some(born)),
            "applicant.birth_date",
        );
    }
    // Born today, long ago, or not said.
    for born in [Some(date(2024, 11, 5)), Some(date(1930, 1, 1)), None] {
        assert_accepted(&[], online(|s| s.applicant.birth_date = born));
    }
    // Today is Vietnam's date: at 23:30 Tue local, Wed 6 Nov is tomorrow; at
    // 00:30 Wed local (still Tue in UTC) it is today.
    let born_wednesday = || online(|s| s.applicant.birth_date = Some(date(2024, 11, 6)));
    let mut late = born_wednesday();
    late.at = t(23, 30);
    assert_invalid_field(&[], late, "applicant.birth_date");
    let mut later = born_wednesday();
    later.at = vn(2024, 11, 6, 0, 30);
    assert_accepted(&[], later);
}

#[test]
fn only_a_dossier_handed_in_at_the_counter_is_accepted_on_submission() {
    for channel in [Channel::Online, Channel::Post] {
        let by = if channel == Channel::Online {
            portal()
        } else {
            officer(COMMUNE)
        };
        assert_invalid_field(
            &[],
            command(
                by,
                t(8, 0),
                CommandBody::Submit {
                    submission: Box::new(birth_submission(channel)),
                    accept_with_code: Some(code_for(COMMUNE, t(8, 0), 1)),
                },
            ),
            "accept_with_code",
        );
    }
}

// ---------------------------------------------------------------------------
// The data: acceptance
// ---------------------------------------------------------------------------

#[test]
fn acceptance_needs_every_required_component() {
    // Submitted online without the birth certificate (GCS): accepted at 08:15?
    let given = Story::new()
        .run(online(|s| {
            s.documents = vec![document("TK"), document("UQ")]
        }))
        .events;
    assert_invalid_field(
        &given,
        command(
            officer(COMMUNE),
            t(8, 15),
            CommandBody::Accept {
                code: code_for(COMMUNE, t(8, 15), 1),
            },
        ),
        "documents",
    );
    // At the counter, too.
    assert_invalid_field(
        &[],
        at_the_counter(
            |s| s.documents = vec![document("GCS")],
            Some("000.01.20.H56-241105-0001"),
        ),
        "documents",
    );
}

#[test]
fn the_code_is_the_receiving_units_for_the_reception_date() {
    let accept = |code: &str| {
        command(
            officer(COMMUNE),
            t(8, 15),
            CommandBody::Accept {
                code: code.parse().unwrap(),
            },
        )
    };
    for wrong in [
        "000.02.20.H56-241105-0001", // another commune's
        "000.00.20.H56-241105-0001", // the district's
        "000.01.20.H56-241104-0001", // yesterday's
        "000.01.20.H56-241106-0001", // tomorrow's
    ] {
        assert_invalid_field(&submitted().events, accept(wrong), "code");
        assert_invalid_field(&[], at_the_counter(|_| {}, Some(wrong)), "code");
    }
    // The reception date is Vietnam's: 00:30 on Wed 6 Nov local is still
    // Tue 5 Nov in UTC, and the code must say 241106.
    let mut late = at_the_counter(|_| {}, Some("000.01.20.H56-241105-0001"));
    late.at = vn(2024, 11, 6, 0, 30);
    assert_invalid_field(&[], late, "code");
    let mut late = at_the_counter(|_| {}, Some("000.01.20.H56-241106-0001"));
    late.at = vn(2024, 11, 6, 0, 30);
    assert_accepted(&[], late);
}

// ---------------------------------------------------------------------------
// The data: reception, department, specialist
// ---------------------------------------------------------------------------

#[test]
fn completion_requests_name_what_is_missing_and_why() {
    let request = |missing: &[&str], reason: &str| {
        command(
            officer(COMMUNE),
            t(8, 10),
            CommandBody::RequestCompletion {
                missing: missing.iter().map(|item| text(item)).collect(),
                reason: text(reason),
            },
        )
    };
    let given = submitted().events;
    assert_invalid_field(&given, request(&[], "Thiếu"), "missing");
    assert_invalid_field(&given, request(&["Tờ khai", " "], "Thiếu"), "missing[1]");
    assert_invalid_field(&given, request(&["Tờ khai"], ""), "reason");
}

#[test]
fn completions_and_supplements_bring_known_components() {
    for (given, provide) in [
        (
            awaiting_completion().events,
            (|documents| CommandBody::ProvideCompletion { documents })
                as fn(Vec<SubmittedDocument>) -> CommandBody,
        ),
        (awaiting_supplement().events, |documents| {
            CommandBody::ReceiveSupplement { documents }
        }),
    ] {
        assert_invalid_field(
            &given,
            command(portal(), t(10, 0), provide(vec![])),
            "documents",
        );
        assert_invalid_field(
            &given,
            command(portal(), t(10, 0), provide(vec![document("DON")])),
            "documents[0].component",
        );
    }
}

#[test]
fn reasons_are_required() {
    let blank = || text(" \t ");
    let cases: [(Story, DossierCommand); 9] = [
        (
            submitted(),
            command(
                officer(COMMUNE),
                t(11, 0),
                CommandBody::Refuse { reason: blank() },
            ),
        ),
        (
            awaiting_payment(),
            command(
                head(COMMUNE),
                t(11, 0),
                CommandBody::ExemptPayment { reason: blank() },
            ),
        ),
        (
            awaiting_approval(),
            command(
                leader(COMMUNE),
                t(11, 0),
                CommandBody::SendBackDraft { reason: blank() },
            ),
        ),
        (
            with_specialist(),
            command(
                portal(),
                t(11, 0),
                CommandBody::Withdraw { reason: blank() },
            ),
        ),
        (
            with_specialist(),
            command(
                leader(COMMUNE),
                t(11, 0),
                CommandBody::StopProcessing { reason: blank() },
            ),
        ),
        (
            with_specialist(),
            command(
                admin(COMMUNE),
                t(11, 0),
                CommandBody::SoftDelete { reason: blank() },
            ),
        ),
        (
            with_specialist().run(command(
                admin(COMMUNE),
                t(10, 0),
                CommandBody::SoftDelete {
                    reason: text("Trùng"),
                },
            )),
            command(
                admin(COMMUNE),
                t(11, 0),
                CommandBody::RestoreDeleted { reason: blank() },
            ),
        ),
        (
            with_specialist(),
            command(
                head(COMMUNE),
                t(11, 0),
                CommandBody::Transfer {
                    to_unit: unit(DISTRICT),
                    reason: blank(),
                },
            ),
        ),
        (
            with_specialist(),
            command(
                admin(COMMUNE),
                t(11, 0),
                CommandBody::CorrectDueDate {
                    due_at: vn(2024, 11, 6, 17, 0),
                    reason: blank(),
                },
            ),
        ),
    ];
    for (story, command) in cases {
        assert_invalid_field(&story.events, command, "reason");
    }
    // The refund's and the apology's reasons too.
    assert_invalid_field(
        &paid().events,
        command(
            officer(COMMUNE),
            t(11, 0),
            CommandBody::RefundPayment {
                amount_vnd: 1_000,
                reason: blank(),
            },
        ),
        "reason",
    );
    assert_invalid_field(
        &building_with_specialist(t(8, 0)).events,
        command(
            head(DISTRICT),
            t(11, 0),
            CommandBody::IssueApology {
                new_appointment: vn(2024, 11, 29, 17, 0),
                reason: blank(),
            },
        ),
        "reason",
    );
}

#[test]
fn forwarding_names_the_department_and_a_future_step_deadline() {
    let forward = |department: &str, step_due_at, note: Option<String>| {
        command(
            officer(COMMUNE),
            t(8, 20),
            CommandBody::Forward {
                department: text(department),
                step_due_at,
                note,
            },
        )
    };
    let given = accepted().events;
    assert_invalid_field(&given, forward(" ", None, None), "department");
    for past in [t(8, 20), t(8, 0)] {
        assert_invalid_field(&given, forward("Tư pháp", Some(past), None), "step_due_at");
    }
    assert_invalid_field(&given, forward("Tư pháp", None, Some(too_long())), "note");
}

#[test]
fn assignment_names_a_new_specialist_and_a_future_step_deadline() {
    let assign = |specialist: &str, step_due_at| {
        command(
            head(COMMUNE),
            t(9, 0),
            CommandBody::Assign {
                specialist: text(specialist),
                step_due_at,
                note: None,
            },
        )
    };
    let given = with_specialist().events;
    assert_invalid_field(&given, assign("", None), "specialist");
    assert_invalid_field(&given, assign("specialist-2", Some(t(9, 0))), "step_due_at");
    // Assigned again to the specialist who has it.
    assert_rule_violated(&given, assign("specialist", None), Action::Assign);
}

#[test]
fn supplement_requests_name_the_items_and_a_later_deadline() {
    let request = |items: &[&str], reason: &str, deadline: DateTime<Utc>| {
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::RequestSupplement {
                reason: text(reason),
                missing_items: items.iter().map(|item| text(item)).collect(),
                applicant_deadline: deadline,
            },
        )
    };
    let given = with_specialist().events;
    let next_week = vn(2024, 11, 12, 17, 0);
    assert_invalid_field(&given, request(&[], "Thiếu", next_week), "missing_items");
    assert_invalid_field(
        &given,
        request(&[""], "Thiếu", next_week),
        "missing_items[0]",
    );
    // The applicant's deadline is in the past, or now.
    for deadline in [t(8, 0), t(9, 0)] {
        assert_invalid_field(
            &given,
            request(&["Văn bản ủy quyền"], "Thiếu", deadline),
            "applicant_deadline",
        );
    }
    assert_invalid_field(
        &given,
        request(&["Văn bản ủy quyền"], "", next_week),
        "reason",
    );
}

// ---------------------------------------------------------------------------
// The data: payments
// ---------------------------------------------------------------------------

fn item(name: &str, amount_vnd: u64) -> PaymentItem {
    PaymentItem {
        name: text(name),
        amount_vnd,
    }
}

#[test]
fn payment_requests_have_named_items_of_a_positive_amount() {
    let request = |items: Vec<PaymentItem>| {
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::RequestPayment { items },
        )
    };
    let given = with_specialist().events;
    assert_invalid_field(&given, request(vec![]), "items");
    // A total of 0 VND.
    assert_invalid_field(
        &given,
        request(vec![item("Lệ phí", 0)]),
        "items[0].amount_vnd",
    );
    assert_invalid_field(
        &given,
        request(vec![item("Lệ phí", 8_000), item("Phí", 0)]),
        "items[1].amount_vnd",
    );
    assert_invalid_field(&given, request(vec![item(" ", 8_000)]), "items[0].name");
    assert_invalid_field(
        &given,
        request(vec![item("Lệ phí", u64::MAX), item("Phí", 1)]),
        "items",
    );
}

#[test]
fn payment_confirmations_have_the_total_and_a_receipt() {
    let confirm = |amount_vnd, receipt: &str| {
        command(
            officer(COMMUNE),
            t(9, 20),
            CommandBody::ConfirmPayment {
                amount_vnd,
                receipt_number: text(receipt),
                method: PaymentMethod::Cash,
            },
        )
    };
    // 8,000 VND requested.
    let given = awaiting_payment().events;
    for amount in [0, 7_999, 8_001, 16_000] {
        assert_invalid_field(&given, confirm(amount, "BL-1"), "amount_vnd");
    }
    assert_invalid_field(&given, confirm(8_000, ""), "receipt_number");
}

fn refund(at: DateTime<Utc>, amount_vnd: u64) -> DossierCommand {
    command(
        officer(COMMUNE),
        at,
        CommandBody::RefundPayment {
            amount_vnd,
            reason: text("Thu thừa"),
        },
    )
}

fn request_payment(at: DateTime<Utc>, amount_vnd: u64) -> DossierCommand {
    command(
        specialist(COMMUNE),
        at,
        CommandBody::RequestPayment {
            items: vec![item("Phí thẩm định", amount_vnd)],
        },
    )
}

#[test]
fn refunds_are_bounded_by_what_was_paid_and_not_yet_refunded() {
    // Paid 8,000 at 09:20, then 5,000 more requested at 10:00 (not paid):
    // the 8,000 paid remain refundable.
    let given = paid().run(request_payment(t(10, 0), 5_000)).events;
    for amount in [0, 8_001] {
        assert_invalid_field(&given, refund(t(10, 30), amount), "amount_vnd");
    }
    assert_accepted(&given, refund(t(10, 30), 8_000));

    // Refunded 1,000 of 8,000 at 10:00: 7,000 remain, in one or more refunds.
    let story = paid().run(refund(t(10, 0), 1_000));
    for amount in [0, 7_001] {
        assert_invalid_field(&story.events, refund(t(10, 30), amount), "amount_vnd");
    }
    for amount in [1, 7_000] {
        assert_accepted(&story.events, refund(t(10, 30), amount));
    }
    // Then the other 7,000 at 10:30: nothing remains.
    let given = story.run(refund(t(10, 30), 7_000)).events;
    assert_eq!(
        rejection(&given, refund(t(11, 0), 1)),
        DossierError::RuleViolated {
            action: Action::RefundPayment,
            rule: text("nothing paid remains to be refunded"),
        }
    );

    // Exempted instead of paid: nothing was paid.
    let given = awaiting_payment()
        .run(command(
            head(COMMUNE),
            t(9, 30),
            CommandBody::ExemptPayment {
                reason: text("Hộ nghèo"),
            },
        ))
        .events;
    assert_rule_violated(&given, refund(t(10, 0), 1), Action::RefundPayment);
}

// ---------------------------------------------------------------------------
// The data: transfer, hand-over
// ---------------------------------------------------------------------------

#[test]
fn a_transfer_or_hand_over_goes_to_another_existing_unit() {
    let given = with_specialist().events;
    let transfer = |to: &str| {
        command(
            head(COMMUNE),
            t(9, 0),
            CommandBody::Transfer {
                to_unit: unit(to),
                reason: text("Liên thông"),
            },
        )
    };
    let hand_over = |to: &str| {
        command(
            admin(PROVINCE),
            t(9, 0),
            CommandBody::HandOver {
                to_unit: unit(to),
                reason: text("Sáp nhập"),
            },
        )
    };
    for to in [COMMUNE, NO_SUCH_UNIT] {
        assert_invalid_field(&given, transfer(to), "to_unit");
        assert_invalid_field(&given, hand_over(to), "to_unit");
    }
}

// ---------------------------------------------------------------------------
// The data: draft and result
// ---------------------------------------------------------------------------

#[test]
fn only_the_assigned_specialist_submits_the_draft() {
    let draft = |user: &str| {
        command(
            principal(user, COMMUNE, &[Role::Specialist]),
            t(9, 0),
            CommandBody::SubmitDraft {
                summary: text("Dự thảo"),
                document_ref: None,
            },
        )
    };
    let given = with_specialist().events;
    assert_eq!(
        rejection(&given, draft("specialist-2")),
        DossierError::NotAssignee {
            action: Action::SubmitDraft,
            assignee: text("specialist"),
            user: text("specialist-2"),
        }
    );
    // Reassigned at 09:00 to specialist-2: the first one no longer may.
    let reassigned = with_specialist()
        .run(command(
            head(COMMUNE),
            t(9, 0),
            CommandBody::Assign {
                specialist: text("specialist-2"),
                step_due_at: None,
                note: None,
            },
        ))
        .events;
    assert_eq!(
        rejection(&reassigned, draft("specialist")),
        DossierError::NotAssignee {
            action: Action::SubmitDraft,
            assignee: text("specialist-2"),
            user: text("specialist"),
        }
    );
    assert_accepted(&reassigned, draft("specialist-2"));
}

#[test]
fn drafts_and_approvals_are_described() {
    assert_invalid_field(
        &with_specialist().events,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::SubmitDraft {
                summary: text(""),
                document_ref: Some(text("DT-1")),
            },
        ),
        "summary",
    );
    assert_invalid_field(
        &with_specialist().events,
        command(
            specialist(COMMUNE),
            t(9, 0),
            CommandBody::SubmitDraft {
                summary: text("Dự thảo"),
                document_ref: Some(too_long()),
            },
        ),
        "document_ref",
    );
    assert_invalid_field(
        &awaiting_approval().events,
        command(
            leader(COMMUNE),
            t(9, 30),
            CommandBody::ApproveDraft {
                note: Some(too_long()),
            },
        ),
        "note",
    );
}

#[test]
fn the_result_is_signed_today_or_earlier_and_fully_described() {
    let issue =
        |at: DateTime<Utc>, signed_on: NaiveDate, number: &str, signer: &str, reference: &str| {
            command(
                leader(COMMUNE),
                at,
                CommandBody::IssueResult {
                    number: text(number),
                    signer: text(signer),
                    signed_on,
                    document_ref: text(reference),
                },
            )
        };
    let given = approved().events;
    let tue = NaiveDate::from_ymd_opt(2024, 11, 5).unwrap();
    let wed = NaiveDate::from_ymd_opt(2024, 11, 6).unwrap();
    // Signed tomorrow.
    assert_invalid_field(
        &given,
        issue(t(10, 0), wed, "1/KS", "Chủ tịch", "GKS-1"),
        "signed_on",
    );
    // 23:30 Tue in Vietnam is 16:30 UTC the same day: Wed is still tomorrow.
    assert_invalid_field(
        &given,
        issue(t(23, 30), wed, "1/KS", "Chủ tịch", "GKS-1"),
        "signed_on",
    );
    // 00:30 Wed in Vietnam is still Tue in UTC, yet Wed is today.
    assert_accepted(
        &given,
        issue(vn(2024, 11, 6, 0, 30), wed, "1/KS", "Chủ tịch", "GKS-1"),
    );
    assert_invalid_field(
        &given,
        issue(t(10, 0), tue, "", "Chủ tịch", "GKS-1"),
        "number",
    );
    assert_invalid_field(&given, issue(t(10, 0), tue, "1/KS", " ", "GKS-1"), "signer");
    assert_invalid_field(
        &given,
        issue(t(10, 0), tue, "1/KS", "Chủ tịch", ""),
        "document_ref",
    );
}

#[test]
fn the_result_is_not_signed_before_the_day_the_dossier_was_accepted() {
    let issue = |at: DateTime<Utc>, signed_on: NaiveDate| {
        command(
            leader(COMMUNE),
            at,
            CommandBody::IssueResult {
                number: text("1/KS"),
                signer: text("Chủ tịch"),
                signed_on,
                document_ref: text("GKS-1"),
            },
        )
    };
    let received_on = |day: &str| DossierError::InvalidField {
        field: text("signed_on"),
        reason: format!("cannot be before the dossier was received on {day}"),
    };
    // Accepted Tue 5 Nov 08:15: signed Mon 4 Nov, or in 1990, is refused.
    let given = approved().events;
    for signed_on in [date(2024, 11, 4), date(1990, 1, 1)] {
        assert_eq!(
            rejection(&given, issue(t(10, 0), signed_on)),
            received_on("2024-11-05"),
            "{signed_on}"
        );
    }
    assert_accepted(&given, issue(t(10, 0), date(2024, 11, 5)));

    // Submitted Tue 23:50, accepted at 00:30 Wed 6 Nov, Vietnam time (still
    // Tue 5 Nov in UTC): the day of acceptance is Wed 6 Nov.
    let accepted_at = vn(2024, 11, 6, 0, 30);
    let given = [
        (
            portal(),
            t(23, 50),
            CommandBody::Submit {
                submission: Box::new(birth_submission(Channel::Online)),
                accept_with_code: None,
            },
        ),
        (
            officer(COMMUNE),
            accepted_at,
            CommandBody::Accept {
                code: code_for(COMMUNE, accepted_at, 1),
            },
        ),
        (
            officer(COMMUNE),
            accepted_at,
            CommandBody::Forward {
                department: text("Tư pháp - Hộ tịch"),
                step_due_at: None,
                note: None,
            },
        ),
        (
            head(COMMUNE),
            accepted_at,
            CommandBody::Assign {
                specialist: text("specialist"),
                step_due_at: None,
                note: None,
            },
        ),
        (
            specialist(COMMUNE),
            accepted_at,
            CommandBody::SubmitDraft {
                summary: text("Đủ điều kiện"),
                document_ref: None,
            },
        ),
        (
            leader(COMMUNE),
            accepted_at,
            CommandBody::ApproveDraft { note: None },
        ),
    ]
    .into_iter()
    .fold(Story::new(), |story, (by, at, body)| {
        story.run(command(by, at, body))
    })
    .events;
    let wednesday = vn(2024, 11, 6, 9, 0);
    assert_eq!(
        rejection(&given, issue(wednesday, date(2024, 11, 5))),
        received_on("2024-11-06")
    );
    assert_accepted(&given, issue(wednesday, date(2024, 11, 6)));
}

#[test]
fn the_result_is_returned_to_a_named_recipient() {
    assert_invalid_field(
        &result_issued().events,
        command(
            officer(COMMUNE),
            t(10, 30),
            CommandBody::ReturnResult {
                method: ReturnMethod::Counter,
                recipient: text(""),
            },
        ),
        "recipient",
    );
}

#[test]
fn the_portal_returns_results_online_only() {
    let given = result_issued().events;
    let give_back = |by, method| {
        command(
            by,
            t(11, 0),
            CommandBody::ReturnResult {
                method,
                recipient: text("Nguyễn Văn An"),
            },
        )
    };
    // The portal, from the province's account or from the holding commune's:
    // not at the counter, not by post.
    for by in [portal(), principal("dvcqg", COMMUNE, &[Role::Portal])] {
        for method in [ReturnMethod::Counter, ReturnMethod::Post] {
            assert_eq!(
                rejection(&given, give_back(by.clone(), method)),
                DossierError::InvalidField {
                    field: text("method"),
                    reason: text(
                        "only the one-stop desk returns a result at the counter or by post"
                    ),
                },
                "{:?} {method:?}",
                by.roles
            );
        }
        assert_accepted(&given, give_back(by, ReturnMethod::Online));
    }
    // The commune's desk: every way.
    for method in [
        ReturnMethod::Counter,
        ReturnMethod::Post,
        ReturnMethod::Online,
    ] {
        assert_accepted(&given, give_back(officer(COMMUNE), method));
    }
}

// ---------------------------------------------------------------------------
// The data: corrections, deletion, time
// ---------------------------------------------------------------------------

#[test]
fn a_corrected_due_date_is_after_counting_started_and_different() {
    let correct = |due_at| {
        command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::CorrectDueDate {
                due_at,
                reason: text("Sửa thời hạn"),
            },
        )
    };
    let given = with_specialist().events;
    // Counting started at 08:15; due 14:15.
    for due_at in [t(8, 0), t(8, 15), t(14, 15)] {
        assert_invalid_field(&given, correct(due_at), "due_at");
    }
    assert_accepted(&given, correct(t(8, 16)));
}

#[test]
fn only_a_deleted_dossier_is_restored() {
    assert_rule_violated(
        &with_specialist().events,
        command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::RestoreDeleted {
                reason: text("Xóa nhầm"),
            },
        ),
        Action::RestoreDeleted,
    );
}

#[test]
fn a_deleted_dossier_cannot_be_deleted_again() {
    let given = with_specialist()
        .run(command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::SoftDelete {
                reason: text("Trùng"),
            },
        ))
        .events;
    assert_eq!(
        rejection(
            &given,
            command(
                admin(COMMUNE),
                t(9, 10),
                CommandBody::SoftDelete {
                    reason: text("Trùng"),
                },
            ),
        ),
        DossierError::Deleted {
            action: Action::SoftDelete
        }
    );
}

#[test]
fn a_command_cannot_be_dated_before_the_last_event() {
    // The last event of the story is the assignment at 08:30.
    let draft = |at| {
        command(
            specialist(COMMUNE),
            at,
            CommandBody::SubmitDraft {
                summary: text("Dự thảo"),
                document_ref: None,
            },
        )
    };
    let given = with_specialist().events;
    assert_eq!(
        rejection(&given, draft(t(8, 29))),
        DossierError::TimeBeforeLastEvent {
            at: t(8, 29),
            last: t(8, 30),
        }
    );
    // At the same instant is fine.
    assert_accepted(&given, draft(t(8, 30)));
}

// ---------------------------------------------------------------------------
// The order of the checks, and the classes
// ---------------------------------------------------------------------------

#[test]
fn the_first_failing_check_is_reported() {
    // A command failing every check at once, on a deleted dossier: deleted.
    let deleted = with_specialist()
        .run(command(
            admin(COMMUNE),
            t(9, 0),
            CommandBody::SoftDelete {
                reason: text("Trùng"),
            },
        ))
        .events;
    let bad_refusal = |by, at| command(by, at, CommandBody::Refuse { reason: text("") });
    assert_eq!(
        rejection(&deleted, bad_refusal(leader(OTHER_COMMUNE), t(8, 0))),
        DossierError::Deleted {
            action: Action::Refuse
        }
    );
    let given = with_specialist().events;
    // Then the time ...
    assert!(matches!(
        rejection(&given, bad_refusal(leader(OTHER_COMMUNE), t(8, 0))),
        DossierError::TimeBeforeLastEvent { .. }
    ));
    // ... the role ...
    assert!(matches!(
        rejection(&given, bad_refusal(leader(OTHER_COMMUNE), t(9, 0))),
        DossierError::RoleNotAllowed { .. }
    ));
    // ... the unit ...
    assert!(matches!(
        rejection(&given, bad_refusal(officer(OTHER_COMMUNE), t(9, 0))),
        DossierError::NotHolder { .. }
    ));
    // ... the lifecycle (a specialist's dossier is past reception) ...
    assert!(matches!(
        rejection(&given, bad_refusal(officer(COMMUNE), t(9, 0))),
        DossierError::InvalidStatus { .. }
    ));
    // ... and last the data.
    assert!(matches!(
        rejection(&submitted().events, bad_refusal(officer(COMMUNE), t(9, 0))),
        DossierError::InvalidField { .. }
    ));
}

#[test]
fn each_rejection_has_its_class() {
    let given = with_specialist().events;
    let forward = |by, at| {
        command(
            by,
            at,
            CommandBody::Forward {
                department: text("Tư pháp"),
                step_due_at: None,
                note: None,
            },
        )
    };
    let cases = [
        // Forbidden: who is asking.
        (
            rejection(&given, forward(leader(COMMUNE), t(9, 0))),
            RejectionKind::Forbidden,
        ),
        (
            rejection(&accepted().events, forward(officer(DISTRICT), t(9, 0))),
            RejectionKind::Forbidden,
        ),
        (
            rejection(
                &given,
                command(
                    principal("specialist-2", COMMUNE, &[Role::Specialist]),
                    t(9, 0),
                    CommandBody::SubmitDraft {
                        summary: text("Dự thảo"),
                        document_ref: None,
                    },
                ),
            ),
            RejectionKind::Forbidden,
        ),
        // Conflict: the dossier's state.
        (
            rejection(&given, forward(officer(COMMUNE), t(9, 0))),
            RejectionKind::Conflict,
        ),
        (
            rejection(
                &given,
                command(
                    admin(COMMUNE),
                    t(9, 0),
                    CommandBody::RestoreDeleted {
                        reason: text("Xóa nhầm"),
                    },
                ),
            ),
            RejectionKind::Conflict,
        ),
        (
            rejection(
                &with_specialist()
                    .run(command(
                        admin(COMMUNE),
                        t(9, 0),
                        CommandBody::SoftDelete {
                            reason: text("Trùng"),
                        },
                    ))
                    .events,
                forward(officer(COMMUNE), t(9, 0)),
            ),
            RejectionKind::Conflict,
        ),
        // Bad input: the command's own data.
        (
            rejection(
                &accepted().events,
                command(
                    officer(COMMUNE),
                    t(9, 0),
                    CommandBody::Forward {
                        department: text(""),
                        step_due_at: None,
                        note: None,
                    },
                ),
            ),
            RejectionKind::BadInput,
        ),
        (
            rejection(&accepted().events, forward(officer(COMMUNE), t(8, 0))),
            RejectionKind::BadInput,
        ),
    ];
    let variants: Vec<&str> = cases
        .iter()
        .map(|(error, kind)| {
            assert_eq!(error.kind(), *kind, "{error:?}");
            match error {
                DossierError::RoleNotAllowed { .. } => "RoleNotAllowed",
                DossierError::NotHolder { .. } => "NotHolder",
                DossierError::NotAssignee { .. } => "NotAssignee",
                DossierError::InvalidStatus { .. } => "InvalidStatus",
                DossierError::RuleViolated { .. } => "RuleViolated",
                DossierError::Deleted { .. } => "Deleted",
                DossierError::InvalidField { .. } => "InvalidField",
                DossierError::TimeBeforeLastEvent { .. } => "TimeBeforeLastEvent",
            }
        })
        .collect();
    // One of each variant.
    assert_eq!(
        variants,
        [
            "RoleNotAllowed",
            "NotHolder",
            "NotAssignee",
            "InvalidStatus",
            "RuleViolated",
            "Deleted",
            "InvalidField",
            "TimeBeforeLastEvent"
        ]
    );
}

// ---------------------------------------------------------------------------
// Questionable rules, pinned as they are (reported; a change must be deliberate)
// ---------------------------------------------------------------------------

/// A user holding both the reception-officer and the portal roles acts as
/// an officer, bound to their unit: the portal's freedom from the unit check
/// is only for the portal acting alone.
#[test]
fn a_staff_role_binds_a_portal_user_to_their_unit() {
    let given = result_issued().events;
    let give_back = |by, method| {
        command(
            by,
            t(11, 0),
            CommandBody::ReturnResult {
                method,
                recipient: text("Nguyễn Văn An"),
            },
        )
    };
    let dual = principal("x", OTHER_COMMUNE, &[Role::ReceptionOfficer, Role::Portal]);
    for method in [ReturnMethod::Counter, ReturnMethod::Post] {
        assert_not_holder(&given, give_back(dual.clone(), method), COMMUNE);
        assert_not_holder(
            &given,
            give_back(
                principal("x", OTHER_COMMUNE, &[Role::ReceptionOfficer]),
                method,
            ),
            COMMUNE,
        );
    }
}

/// Refunding an earlier payment while a later request is awaited leaves the
/// request in force: its confirmation is still checked against its amount.
#[test]
fn a_refund_while_a_payment_is_awaited_keeps_the_amount_requested() {
    let confirm = |amount_vnd| {
        command(
            officer(COMMUNE),
            t(10, 45),
            CommandBody::ConfirmPayment {
                amount_vnd,
                receipt_number: text("BL-0002"),
                method: PaymentMethod::Cash,
            },
        )
    };
    // Paid 8,000 at 09:20, 5,000 more requested at 10:00.
    let story = paid().run(request_payment(t(10, 0), 5_000));
    assert_invalid_field(&story.events, confirm(1), "amount_vnd");
    // The 8,000 refunded at 10:30: the 5,000 request still stands.
    let story = story.run(refund(t(10, 30), 8_000));
    assert_eq!(story.dossier.step(), Step::AwaitingPayment);
    assert_eq!(
        story.dossier.payment(),
        motcua_domain::dossier::PaymentState::Requested { total_vnd: 5_000 }
    );
    assert_eq!(story.dossier.refunded_vnd(), 8_000);
    assert_invalid_field(&story.events, confirm(1), "amount_vnd");
    assert_accepted(&story.events, confirm(5_000));
}
