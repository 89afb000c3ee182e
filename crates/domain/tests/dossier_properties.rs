//! Property tests of the Dossier aggregate.
//!
//! Random sequences of up to 40 commands (every `CommandBody` variant,
//! mostly well formed, sometimes spoilt) by random principals (random roles
//! at the fixture's units, or the portal) at non-decreasing random instants
//! over 2024–2025 (office hours, nights, weekends, Tết and the other
//! holidays; now and then a stale one) are run through `Dossier::decide` and
//! through the cqrs-es `handle`, and after every command the aggregate is
//! checked against the invariants of the lifecycle, the deadlines, the event
//! log and the JSON forms:
//!
//! - (a) a rejected command emits nothing and leaves the state unchanged
//!   (also through `handle`); an accepted one emits at least one event and
//!   leaves a valid state (holders, deadlines, finish, close, pause, payment
//!   and timeliness agree with the status and with the events);
//! - (b) the DVCQG status only moves along `DossierStatus::may_become`,
//!   command by command and event by event;
//! - (c) the original due date never changes once set;
//! - (d) replaying the events (as they are, or through JSON) rebuilds the
//!   aggregate; events and the aggregate round-trip through JSON;
//! - (e) events carry the command's instant and principal, in order;
//! - (f) a rejection is the one the order of checks in `decide` names
//!   (deleted, too early, role, unit, lifecycle, then data), in its class;
//! - every event says truly what it changed (previous values, clock
//!   adjustments recomputed with the calendar, holders, amounts), and only
//!   well-formed data (trimmed non-blank texts, valid applicant, known
//!   components, future deadlines) ever reaches an event.
//!
//! `random_command_sequences_keep_the_aggregate_valid` runs 1024 sequences
//! (about 3 s in a debug build); `PROPTEST_CASES=50000` searches deeper.
//!
//! Plus a targeted property: the happy path, received at any instant of
//! 2024–2025, always ends returned (status 10) with a timeliness.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, Days, TimeDelta, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use motcua_domain::DossierServices;
use motcua_domain::calendar::{WorkingMinutes, local_date};
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, DossierId, PaymentItem,
    PaymentMethod, ReturnMethod, Submission, SubmittedDocument,
};
use motcua_domain::dossier::error::{DossierError, RejectionKind};
use motcua_domain::dossier::event::{DossierChange, DossierEvent};
use motcua_domain::dossier::status::{DossierStatus, Step};
use motcua_domain::dossier::timeliness::{Timeliness, TimelinessPolicy};
use motcua_domain::dossier::{Dossier, PaymentState};
use motcua_domain::procedure::{ProcedureCode, ProcessingTime};
use motcua_domain::role::{Action, HolderScope, Principal, Role};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::*;

// ---------------------------------------------------------------------------
// The generated moves
// ---------------------------------------------------------------------------

/// The units of the fixture a principal or a target can be at.
const UNITS: [&str; 5] = [COMMUNE, OTHER_COMMUNE, DISTRICT, PROVINCE, DEPARTMENT];
/// A well-formed e-ID that no unit of the fixture has.
const NO_SUCH_UNIT: &str = "000.09.20.H56";
const USERS: [&str; 7] = [
    "officer",
    "specialist",
    "specialist2",
    "specialist3",
    "head",
    "leader",
    "admin",
];
const TEXTS: [&str; 4] = [
    "Theo đề nghị của công dân",
    "Thiếu bản sao có chứng thực",
    "Chuyển xử lý theo thẩm quyền",
    "  Hồ sơ đủ điều kiện  ",
];

/// How far the clock moves before a command.
#[derive(Debug, Clone, Copy)]
enum Tick {
    Same,
    Minutes(i64),
    Hours(i64),
    Days(i64),
    /// A stale command, stamped this many minutes before the clock (which
    /// does not move).
    Back(i64),
}

/// Who issues the command.
#[derive(Debug, Clone)]
enum Who {
    /// At the unit the action needs (the holder, or the submission's unit),
    /// with one of the action's allowed roles (picked by `role`) and `extra`
    /// ones; the user is the assignee when `assignee` and there is one.
    Fitting {
        role: usize,
        extra: Vec<Role>,
        user: usize,
        assignee: bool,
    },
    /// Any user with any roles (maybe none) at any unit of the fixture.
    Anyone {
        unit: usize,
        roles: Vec<Role>,
        user: usize,
    },
    /// The portal account relaying the applicant.
    Portal,
}

/// Which action.
#[derive(Debug, Clone, Copy)]
enum What {
    /// One the lifecycle allows in the current step (weighted towards progress).
    Guided(usize),
    /// Any action at all.
    Any(Action),
}

/// The submission's facts, resolved against the channel of the action.
#[derive(Debug, Clone)]
struct SubmissionSpec {
    /// `None`: a unit of the procedure's level; else any unit of the fixture.
    unit: Option<usize>,
    /// Index into [BIRTH, BUILDING, LAND_INFO, a code in no catalog].
    procedure: usize,
    wrong_case: bool,
    /// 0–4 well-formed applicants, 5–9 spoilt ones.
    applicant: u8,
    /// 0 complete, 1 a required component missing, 2 an unknown component,
    /// 3 a document with no original nor copy, 4 nothing, 5 complete with
    /// the optional ones.
    documents: u8,
    /// Accept on the spot (in person).
    accept: bool,
}

/// The data of a command, resolved against the action, the state and the instant.
#[derive(Debug, Clone)]
struct Data {
    /// Which field of the command to spoil; `None` for well-formed data.
    flaw: Option<u8>,
    pick: usize,
    sequence: u32,
    unit: usize,
    /// Offset of the deadlines the command names, in minutes.
    minutes: i64,
    amount: u64,
    submission: SubmissionSpec,
}

#[derive(Debug, Clone)]
struct Move {
    tick: Tick,
    who: Who,
    what: What,
    data: Data,
}

fn tick() -> impl Strategy<Value = Tick> {
    prop_oneof![
        1 => Just(Tick::Same),
        8 => (1..=180_i64).prop_map(Tick::Minutes),
        4 => (1..=30_i64).prop_map(Tick::Hours),
        2 => (1..=9_i64).prop_map(Tick::Days),
        1 => (1..=600_i64).prop_map(Tick::Back),
    ]
}

fn roles(size: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<Role>> {
    prop::collection::vec(prop::sample::select(Role::ALL.to_vec()), size)
}

prop_compose! {
    fn fitting()(
        role in any::<usize>(),
        extra in roles(0..=1),
        user in 0..USERS.len(),
        assignee in prop::bool::weighted(0.9),
    ) -> Who {
        Who::Fitting { role, extra, user, assignee }
    }
}

prop_compose! {
    fn anyone()(unit in 0..UNITS.len(), roles in roles(0..=3), user in 0..USERS.len()) -> Who {
        Who::Anyone { unit, roles, user }
    }
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        16 => fitting(),
        3 => anyone(),
        1 => Just(Who::Portal),
    ]
}

fn what() -> impl Strategy<Value = What> {
    prop_oneof![
        5 => any::<usize>().prop_map(What::Guided),
        1 => prop::sample::select(Action::ALL).prop_map(What::Any),
    ]
}

prop_compose! {
    fn submission_spec()(
        unit in prop_oneof![6 => Just(None), 1 => (0..UNITS.len()).prop_map(Some)],
        procedure in prop_oneof![
            5 => Just(0_usize),
            3 => Just(1_usize),
            1 => Just(2_usize),
            1 => Just(3_usize),
        ],
        wrong_case in prop::bool::weighted(0.05),
        applicant in prop_oneof![12 => 0..5_u8, 1 => 5..10_u8],
        documents in prop_oneof![12 => Just(0_u8), 3 => Just(5_u8), 3 => 1..5_u8],
        accept in any::<bool>(),
    ) -> SubmissionSpec {
        SubmissionSpec { unit, procedure, wrong_case, applicant, documents, accept }
    }
}

prop_compose! {
    fn data()(
        flaw in prop_oneof![4 => Just(None), 1 => (0..5_u8).prop_map(Some)],
        pick in any::<usize>(),
        sequence in 1..=40_u32,
        unit in 0..UNITS.len(),
        minutes in prop_oneof![1..=600_i64, 1..=43_200_i64],
        amount in 1..=2_000_000_u64,
        submission in submission_spec(),
    ) -> Data {
        Data { flaw, pick, sequence, unit, minutes, amount, submission }
    }
}

prop_compose! {
    fn a_move()(tick in tick(), who in who(), what in what(), data in data()) -> Move {
        Move { tick, who, what, data }
    }
}

/// Days around holidays and make-up working days, where due dates are interesting.
const NOTABLE_DAYS: [(i32, u32, u32); 12] = [
    (2024, 1, 1),
    (2024, 2, 7),
    (2024, 2, 15),
    (2024, 4, 26),
    (2024, 5, 4),
    (2024, 8, 30),
    (2024, 12, 31),
    (2025, 1, 24),
    (2025, 4, 26),
    (2025, 4, 29),
    (2025, 8, 29),
    (2025, 12, 31),
];

/// An instant (on a whole minute) in 2024–2025, local time; often near a holiday.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let first = vn(2024, 1, 1, 0, 0);
    let minutes_in_2024_2025: i64 = 731 * 24 * 60;
    prop_oneof![
        3 => (0..minutes_in_2024_2025).prop_map(move |m| first + TimeDelta::minutes(m)),
        1 => (prop::sample::select(NOTABLE_DAYS.to_vec()), 0..24 * 60_i64)
            .prop_map(|((y, mo, d), m)| vn(y, mo, d, 0, 0) + TimeDelta::minutes(m)),
        // Office hours and their edges.
        1 => (0..731_i64, 6..18_i64, 0..60_i64).prop_map(move |(d, h, m)| {
            first + TimeDelta::days(d) + TimeDelta::hours(h) + TimeDelta::minutes(m)
        }),
    ]
}

// ---------------------------------------------------------------------------
// Resolving a move into a command
// ---------------------------------------------------------------------------

fn actions_allowed(dossier: &Dossier) -> Vec<(Action, usize)> {
    if dossier.is_deleted() {
        return vec![(Action::RestoreDeleted, 1)];
    }
    Action::ALL
        .iter()
        .filter(|action| dossier.step().allows(**action))
        .map(|&action| {
            let weight = match action {
                Action::SubmitInPerson
                | Action::SubmitOnline
                | Action::SubmitByPost
                | Action::Accept
                | Action::ProvideCompletion
                | Action::Forward
                | Action::SubmitDraft
                | Action::ApproveDraft
                | Action::IssueResult
                | Action::ReturnResult
                | Action::ReceiveSupplement
                | Action::ConfirmPayment
                | Action::ExemptPayment => 8,
                Action::Assign if dossier.step() == Step::AtDepartment => 8,
                Action::RefundPayment if dossier.paid_vnd() > dossier.refunded_vnd() => 3,
                Action::RequestPayment => 4,
                Action::Assign
                | Action::RequestCompletion
                | Action::RequestSupplement
                | Action::Transfer
                | Action::SendBackDraft
                | Action::IssueApology
                | Action::CorrectDueDate => 2,
                _ => 1,
            };
            (action, weight)
        })
        .collect()
}

fn resolve_action(what: What, dossier: &Dossier) -> Action {
    match what {
        What::Any(action) => action,
        What::Guided(pick) => {
            let allowed = actions_allowed(dossier);
            let total: usize = allowed.iter().map(|(_, weight)| weight).sum();
            let mut pick = pick % total.max(1);
            for (action, weight) in &allowed {
                if pick < *weight {
                    return *action;
                }
                pick -= weight;
            }
            unreachable!("every step allows some action")
        }
    }
}

fn text(data: &Data, slot: u8) -> String {
    if data.flaw == Some(slot) {
        match data.pick % 3 {
            0 => String::new(),
            1 => " \t ".to_owned(),
            _ => "x".repeat(2001),
        }
    } else {
        TEXTS[data.pick % TEXTS.len()].to_owned()
    }
}

fn spoilt(data: &Data, slot: u8) -> bool {
    data.flaw == Some(slot)
}

/// Components of the fixture's procedures: (code, required).
fn components(procedure: Option<&ProcedureCode>) -> &'static [(&'static str, bool)] {
    match procedure.map(ProcedureCode::as_str) {
        Some(BIRTH) => &[("TK", true), ("GCS", true), ("UQ", false)],
        Some(BUILDING) => &[("DON", true), ("BV", true)],
        Some(LAND_INFO) => &[("PYC", true)],
        _ => &[("TK", true)],
    }
}

fn documents_of(procedure: Option<&ProcedureCode>, spec: u8) -> Vec<SubmittedDocument> {
    let all = components(procedure);
    let required = all.iter().filter(|(_, required)| *required);
    match spec {
        0 => required.map(|(code, _)| document(code)).collect(),
        1 => required.skip(1).map(|(code, _)| document(code)).collect(),
        2 => vec![document("XX")],
        3 => vec![SubmittedDocument {
            originals: 0,
            copies: 0,
            ..document(all[0].0)
        }],
        4 => vec![],
        _ => all.iter().map(|(code, _)| document(code)).collect(),
    }
}

/// Documents brought in later (completion, supplement).
fn later_documents(dossier: &Dossier, data: &Data) -> Vec<SubmittedDocument> {
    let procedure = dossier.procedure().map(|terms| &terms.code);
    match data.flaw {
        Some(0) => vec![],
        Some(1) => documents_of(procedure, 2),
        Some(2) => documents_of(procedure, 3),
        _ => documents_of(procedure, 0),
    }
}

fn the_applicant(spec: u8) -> Applicant {
    let good = applicant();
    match spec {
        0 => good,
        1 => Applicant {
            kind: ApplicantKind::Organization,
            name: "Công ty TNHH Xây dựng Hà Giang".to_owned(),
            identity_number: "0101234567-001".to_owned(),
            birth_date: None,
            ..good
        },
        2 => Applicant {
            identity_number: "012345678".to_owned(),
            phone: Some("+84912345678".to_owned()),
            ..good
        },
        3 => Applicant {
            address: None,
            phone: None,
            email: None,
            vneid_verified: false,
            ..good
        },
        // Well formed once trimmed: what is recorded must be trimmed.
        4 => Applicant {
            name: " Nguyễn Thị Bình ".to_owned(),
            identity_number: " 002190004321 ".to_owned(),
            address: Some("   ".to_owned()),
            phone: Some(" 0987654321 ".to_owned()),
            email: Some("  ".to_owned()),
            ..good
        },
        5 => Applicant {
            name: "  ".to_owned(),
            ..good
        },
        6 => Applicant {
            identity_number: "00209000123".to_owned(),
            ..good
        },
        7 => Applicant {
            phone: Some("09-1234-5678".to_owned()),
            ..good
        },
        8 => Applicant {
            birth_date: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
            ..good
        },
        _ => Applicant {
            email: Some("an.nguyen@localhost".to_owned()),
            ..good
        },
    }
}

fn channel_of(action: Action) -> Channel {
    match action {
        Action::SubmitOnline => Channel::Online,
        Action::SubmitByPost => Channel::Post,
        _ => Channel::InPerson,
    }
}

/// A code for `unit` at `at`, or (spoilt in `slot`, `slot + 1`) one of
/// another unit or of the day before.
fn code(
    data: &Data,
    unit_code: &str,
    at: DateTime<Utc>,
    slot: u8,
) -> motcua_domain::dossier::code::DossierCode {
    if spoilt(data, slot) {
        let other = UNITS.iter().find(|u| **u != unit_code).unwrap();
        code_for(other, at, data.sequence)
    } else if spoilt(data, slot + 1) {
        code_for(unit_code, at - TimeDelta::days(1), data.sequence)
    } else {
        code_for(unit_code, at, data.sequence)
    }
}

fn submission(action: Action, data: &Data, at: DateTime<Utc>) -> CommandBody {
    let spec = &data.submission;
    let channel = channel_of(action);
    let procedure: ProcedureCode = [BIRTH, BUILDING, LAND_INFO, "2.000001"][spec.procedure % 4]
        .parse()
        .unwrap();
    let case_id = match (spec.wrong_case, procedure.as_str()) {
        (true, _) => "khong-co",
        (false, BUILDING) => "nha-o",
        (false, _) => "default",
    };
    let unit_code = match (spec.unit, procedure.as_str()) {
        (Some(index), _) => UNITS[index],
        (None, BIRTH) => [COMMUNE, OTHER_COMMUNE][data.pick % 2],
        (None, LAND_INFO) => [PROVINCE, DEPARTMENT][data.pick % 2],
        (None, _) => DISTRICT,
    };
    let accept = match channel {
        Channel::InPerson => spec.accept,
        // Accepting on the spot is only for the counter.
        Channel::Online | Channel::Post => spoilt(data, 2),
    };
    CommandBody::Submit {
        submission: Box::new(Submission {
            dossier_id: DossierId::try_from(format!("d-{:04}", data.sequence)).unwrap(),
            unit: unit(unit_code),
            channel,
            documents: documents_of(Some(&procedure), spec.documents),
            procedure,
            case_id: case_id.to_owned(),
            applicant: the_applicant(spec.applicant),
        }),
        accept_with_code: accept.then(|| code(data, unit_code, at, 0)),
    }
}

fn minutes(data: &Data) -> TimeDelta {
    TimeDelta::minutes(data.minutes)
}

/// A deadline after `at`, or (spoilt in `slot`) at or before it.
fn deadline_after(data: &Data, at: DateTime<Utc>, slot: u8) -> DateTime<Utc> {
    if spoilt(data, slot) {
        at - minutes(data) * i32::from(data.pick.is_multiple_of(2))
    } else {
        at + minutes(data)
    }
}

fn optional_deadline(data: &Data, at: DateTime<Utc>, slot: u8) -> Option<DateTime<Utc>> {
    (!data.pick.is_multiple_of(3) || spoilt(data, slot)).then(|| deadline_after(data, at, slot))
}

fn optional_text(data: &Data, slot: u8) -> Option<String> {
    (data.pick.is_multiple_of(2) || spoilt(data, slot)).then(|| text(data, slot))
}

fn body(action: Action, data: &Data, dossier: &Dossier, at: DateTime<Utc>) -> CommandBody {
    let holder = dossier
        .holder()
        .map_or(COMMUNE, |unit| unit.as_str())
        .to_owned();
    let deadlines = dossier.deadlines();
    let target = if spoilt(data, 0) {
        unit(NO_SUCH_UNIT)
    } else {
        unit(UNITS[data.unit])
    };
    match action {
        Action::SubmitInPerson | Action::SubmitOnline | Action::SubmitByPost => {
            submission(action, data, at)
        }
        Action::Accept => CommandBody::Accept {
            code: code(data, &holder, at, 0),
        },
        Action::RequestCompletion => CommandBody::RequestCompletion {
            missing: match data.flaw {
                Some(0) => vec![],
                Some(1) => vec![TEXTS[0].to_owned(), String::new()],
                _ => vec!["Giấy chứng sinh bản chính".to_owned()],
            },
            reason: text(data, 2),
        },
        Action::ProvideCompletion => CommandBody::ProvideCompletion {
            documents: later_documents(dossier, data),
        },
        Action::Refuse => CommandBody::Refuse {
            reason: text(data, 0),
        },
        Action::Forward => CommandBody::Forward {
            department: text(data, 0),
            step_due_at: optional_deadline(data, at, 1),
            note: optional_text(data, 2),
        },
        Action::Assign => CommandBody::Assign {
            specialist: if spoilt(data, 0) {
                text(data, 0)
            } else {
                ["specialist", "specialist2", "specialist3"][data.sequence as usize % 3].to_owned()
            },
            step_due_at: optional_deadline(data, at, 1),
            note: optional_text(data, 2),
        },
        Action::RequestSupplement => CommandBody::RequestSupplement {
            reason: text(data, 0),
            missing_items: if spoilt(data, 1) {
                vec![]
            } else {
                vec!["Văn bản ủy quyền".to_owned()]
            },
            applicant_deadline: deadline_after(data, at, 2),
        },
        Action::ReceiveSupplement => CommandBody::ReceiveSupplement {
            documents: later_documents(dossier, data),
        },
        Action::RequestPayment => CommandBody::RequestPayment {
            items: match data.flaw {
                Some(0) => vec![],
                Some(1) => vec![PaymentItem {
                    name: "Lệ phí".to_owned(),
                    amount_vnd: 0,
                }],
                Some(2) => vec![
                    PaymentItem {
                        name: "Phí thẩm định".to_owned(),
                        amount_vnd: u64::MAX,
                    },
                    PaymentItem {
                        name: "Lệ phí".to_owned(),
                        amount_vnd: 1,
                    },
                ],
                Some(3) => vec![PaymentItem {
                    name: String::new(),
                    amount_vnd: data.amount,
                }],
                _ => vec![PaymentItem {
                    name: "Lệ phí cấp giấy phép".to_owned(),
                    amount_vnd: data.amount,
                }],
            },
        },
        Action::ConfirmPayment => {
            let due = match dossier.payment() {
                PaymentState::Requested { total_vnd } => total_vnd,
                _ => data.amount,
            };
            CommandBody::ConfirmPayment {
                // Payments are rare: spoil their amount more often than other data.
                amount_vnd: if spoilt(data, 0) || data.pick.is_multiple_of(5) {
                    due.wrapping_add(1)
                } else {
                    due
                },
                receipt_number: text(data, 1),
                method: [
                    PaymentMethod::Cash,
                    PaymentMethod::BankTransfer,
                    PaymentMethod::NationalPaymentPlatform,
                ][data.pick % 3],
            }
        }
        Action::ExemptPayment => CommandBody::ExemptPayment {
            reason: text(data, 0),
        },
        Action::RefundPayment => {
            let paid = match dossier.paid_vnd() - dossier.refunded_vnd() {
                0 => data.amount,
                refundable => refundable,
            };
            CommandBody::RefundPayment {
                // Refunds are rare: spoil their amount more often than other data.
                amount_vnd: match data.pick % 6 {
                    0 => 0,
                    1 => paid.saturating_add(1),
                    2 => (paid / 2).max(1),
                    _ => paid,
                },
                reason: text(data, 0),
            }
        }
        Action::Transfer => CommandBody::Transfer {
            to_unit: target,
            reason: text(data, 1),
        },
        Action::HandOver => CommandBody::HandOver {
            to_unit: target,
            reason: text(data, 1),
        },
        Action::SubmitDraft => CommandBody::SubmitDraft {
            summary: text(data, 0),
            document_ref: optional_text(data, 1),
        },
        Action::ApproveDraft => CommandBody::ApproveDraft {
            note: optional_text(data, 0),
        },
        Action::SendBackDraft => CommandBody::SendBackDraft {
            reason: text(data, 0),
        },
        Action::IssueResult => {
            let today = local_date(at);
            let received_on =
                deadlines.map_or(today, |deadlines| local_date(deadlines.received_at));
            CommandBody::IssueResult {
                number: if spoilt(data, 0) {
                    text(data, 0)
                } else {
                    format!("{}/QĐ-UBND", data.sequence)
                },
                signer: text(data, 1),
                // Signed between reception and today, or (spoilt) tomorrow or
                // the day before reception.
                signed_on: match (spoilt(data, 2), data.pick % 4) {
                    (true, _) => today + Days::new(1),
                    (false, 0) => today,
                    (false, 1) => today - Days::new(1),
                    (false, 2) => received_on,
                    (false, _) => received_on - Days::new(1),
                },
                document_ref: if spoilt(data, 3) {
                    text(data, 3)
                } else {
                    format!("KQ-{:04}", data.sequence)
                },
            }
        }
        Action::ReturnResult => CommandBody::ReturnResult {
            method: [
                ReturnMethod::Counter,
                ReturnMethod::Post,
                ReturnMethod::Online,
            ][data.pick % 3],
            recipient: text(data, 0),
        },
        Action::IssueApology => {
            let appointment = deadlines.map_or(at, |deadlines| deadlines.appointment_at);
            CommandBody::IssueApology {
                new_appointment: if spoilt(data, 0) {
                    appointment - minutes(data) * i32::from(data.pick.is_multiple_of(2))
                } else {
                    appointment + minutes(data)
                },
                reason: text(data, 1),
            }
        }
        Action::Withdraw => CommandBody::Withdraw {
            reason: text(data, 0),
        },
        Action::StopProcessing => CommandBody::StopProcessing {
            reason: text(data, 0),
        },
        Action::CorrectDueDate => {
            let (from, due) = deadlines.map_or((at, at), |deadlines| {
                (deadlines.counting_from, deadlines.due_at)
            });
            CommandBody::CorrectDueDate {
                due_at: match data.flaw {
                    Some(0) => from - minutes(data) * i32::from(data.pick.is_multiple_of(2)),
                    Some(1) => due,
                    _ if data.pick.is_multiple_of(2) => due + minutes(data),
                    _ => from + minutes(data),
                },
                reason: text(data, 2),
            }
        }
        Action::SoftDelete => CommandBody::SoftDelete {
            reason: text(data, 0),
        },
        Action::RestoreDeleted => CommandBody::RestoreDeleted {
            reason: text(data, 0),
        },
    }
}

fn resolve_principal(
    who: &Who,
    action: Action,
    body: &CommandBody,
    dossier: &Dossier,
) -> Principal {
    match who {
        Who::Portal => portal(),
        Who::Anyone { unit, roles, user } => principal(USERS[*user], UNITS[*unit], roles),
        Who::Fitting {
            role,
            extra,
            user,
            assignee,
        } => {
            let allowed = action.allowed_roles();
            let role = allowed[role % allowed.len()];
            if role == Role::Portal {
                return portal();
            }
            let unit_code = match body {
                CommandBody::Submit { submission, .. } => submission.unit.as_str().to_owned(),
                _ => dossier
                    .holder()
                    .map_or(COMMUNE, |unit| unit.as_str())
                    .to_owned(),
            };
            let user = match dossier.assignee() {
                Some(assigned) if *assignee => assigned.to_owned(),
                _ => USERS[*user].to_owned(),
            };
            let mut roles = vec![role];
            roles.extend(extra.iter().copied().filter(|extra| *extra != role));
            principal(&user, &unit_code, &roles)
        }
    }
}

// ---------------------------------------------------------------------------
// The oracle for rejections: the order of checks documented in `decide`
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Deleted,
    TooEarly,
    Role,
    Unit,
    Lifecycle,
}

/// The first of the common checks (1–5 of `decide`) the command fails, if any.
fn expected_gate(
    dossier: &Dossier,
    command: &DossierCommand,
    services: &DossierServices,
) -> Option<Gate> {
    let action = command.body.action();
    let principal = &command.principal;
    if dossier.is_deleted() && action != Action::RestoreDeleted {
        return Some(Gate::Deleted);
    }
    if dossier
        .last_event_at()
        .is_some_and(|last| command.at < last)
    {
        return Some(Gate::TooEarly);
    }
    if !action
        .allowed_roles()
        .iter()
        .any(|role| principal.roles.contains(role))
    {
        return Some(Gate::Role);
    }
    if let Some(holder) = dossier.holder() {
        let permitted = match action.holder_scope(principal) {
            HolderScope::Any => true,
            HolderScope::CurrentHolder => &principal.unit == holder,
            // The fixture has no reorganisation: every holder is still in force.
            HolderScope::SubtreeOfAnyHolder => dossier
                .holders()
                .iter()
                .any(|held_by| services.units.sees(&principal.unit, held_by, command.at)),
        };
        if !permitted {
            return Some(Gate::Unit);
        }
    }
    if !dossier.step().allows(action) {
        return Some(Gate::Lifecycle);
    }
    None
}

/// The class each rejection belongs to, written out independently of `kind()`.
fn class_of(error: &DossierError) -> RejectionKind {
    match error {
        DossierError::RoleNotAllowed { .. }
        | DossierError::NotHolder { .. }
        | DossierError::NotAssignee { .. } => RejectionKind::Forbidden,
        DossierError::InvalidStatus { .. }
        | DossierError::RuleViolated { .. }
        | DossierError::Deleted { .. } => RejectionKind::Conflict,
        DossierError::InvalidField { .. } | DossierError::TimeBeforeLastEvent { .. } => {
            RejectionKind::BadInput
        }
    }
}

fn check_rejection(
    before: &Dossier,
    command: &DossierCommand,
    gate: Option<Gate>,
    error: &DossierError,
) -> Result<(), TestCaseError> {
    let action = command.body.action();
    prop_assert_eq!(error.kind(), class_of(error), "class of {:?}", error);
    prop_assert!(!error.to_string().is_empty());
    let is_submit = matches!(command.body, CommandBody::Submit { .. });
    let as_expected = match (gate, error) {
        (Some(Gate::Deleted), DossierError::Deleted { action: named }) => *named == action,
        (Some(Gate::TooEarly), DossierError::TimeBeforeLastEvent { at, last }) => {
            *at == command.at && Some(*last) == before.last_event_at()
        }
        (
            Some(Gate::Role),
            DossierError::RoleNotAllowed {
                action: named,
                roles,
                allowed,
            },
        ) => {
            *named == action
                && *roles == command.principal.roles
                && *allowed == action.allowed_roles()
        }
        (
            Some(Gate::Unit),
            DossierError::NotHolder {
                action: named,
                unit,
                holder,
            },
        ) => *named == action && *unit == command.principal.unit && Some(holder) == before.holder(),
        (
            Some(Gate::Lifecycle),
            DossierError::InvalidStatus {
                action: named,
                status,
                step,
            },
        ) => *named == action && *status == before.status() && *step == before.step(),
        (None, DossierError::InvalidField { .. } | DossierError::RuleViolated { .. }) => true,
        (None, DossierError::NotAssignee { .. }) => action == Action::SubmitDraft,
        // A submission checks its own unit, and the accept role when accepted on the spot.
        (None, DossierError::NotHolder { .. } | DossierError::RoleNotAllowed { .. }) => is_submit,
        _ => false,
    };
    prop_assert!(as_expected, "expected {:?}, got {:?}", gate, error);
    Ok(())
}

// ---------------------------------------------------------------------------
// The invariants of a state
// ---------------------------------------------------------------------------

fn is_closed(status: DossierStatus) -> bool {
    matches!(
        status,
        DossierStatus::Refused
            | DossierStatus::Withdrawn
            | DossierStatus::Stopped
            | DossierStatus::ResultReturned
    )
}

/// The invariants of `dossier`, given every event it was built from.
fn check_state(dossier: &Dossier, events: &[DossierEvent]) -> Result<(), TestCaseError> {
    let Some(first) = events.first() else {
        prop_assert_eq!(dossier, &Dossier::default());
        return Ok(());
    };
    let Some(status) = dossier.status() else {
        return Err(TestCaseError::fail("no status after submission"));
    };
    let DossierChange::DossierSubmitted {
        unit: received_by, ..
    } = &first.change
    else {
        return Err(TestCaseError::fail("the first event is not a submission"));
    };
    let submissions = events
        .iter()
        .filter(|event| matches!(event.change, DossierChange::DossierSubmitted { .. }))
        .count();
    prop_assert_eq!(submissions, 1);
    prop_assert_eq!(dossier.submitted_at(), Some(first.at));
    let accepted_by = events.iter().find_map(|event| match &event.change {
        DossierChange::DossierAccepted { unit, .. } => Some(unit),
        _ => None,
    });
    // The unit addressed, then the unit that accepted it.
    prop_assert_eq!(
        dossier.receiving_unit(),
        Some(accepted_by.unwrap_or(received_by))
    );
    prop_assert_eq!(dossier.last_event_at(), events.last().map(|event| event.at));

    // Holders: the holder is one of them, each once, the receiving unit first.
    let holder = dossier
        .holder()
        .ok_or_else(|| TestCaseError::fail("no holder"))?;
    let holders = dossier.holders();
    prop_assert!(
        holders.contains(holder),
        "holder {} not in {:?}",
        holder,
        holders
    );
    for (index, unit) in holders.iter().enumerate() {
        prop_assert!(
            !holders[..index].contains(unit),
            "{} twice in {:?}",
            unit,
            holders
        );
    }
    prop_assert_eq!(holders.first(), Some(received_by));

    // Deadlines exist iff the dossier was accepted, and say what acceptance said.
    let acceptance = events.iter().find_map(|event| match &event.change {
        DossierChange::DossierAccepted {
            code,
            counting_from,
            due_at,
            ..
        } => Some((event.at, code, *counting_from, *due_at)),
        _ => None,
    });
    prop_assert_eq!(dossier.deadlines().is_some(), acceptance.is_some());
    prop_assert_eq!(dossier.code(), acceptance.map(|(_, code, _, _)| code));
    if let (Some(deadlines), Some((at, code, counting_from, due_at))) =
        (dossier.deadlines(), acceptance)
    {
        prop_assert_eq!(deadlines.received_at, at);
        prop_assert_eq!(deadlines.counting_from, counting_from);
        prop_assert_eq!(deadlines.original_due_at, due_at);
        prop_assert!(Some(deadlines.received_at) >= dossier.submitted_at());
        prop_assert!(deadlines.counting_from >= deadlines.received_at);
        prop_assert!(deadlines.original_due_at > deadlines.counting_from);
        prop_assert!(
            deadlines.due_at > deadlines.counting_from,
            "due {} not after counting from {}",
            deadlines.due_at,
            deadlines.counting_from
        );
        prop_assert!(
            deadlines.appointment_at >= deadlines.counting_from,
            "appointment {} before counting from {}",
            deadlines.appointment_at,
            deadlines.counting_from
        );
        prop_assert_eq!(code.date(), local_date(at));
        prop_assert!(holders.contains(code.unit()));
    }
    if dossier.step().is_open_after_acceptance() || dossier.finished_at().is_some() {
        prop_assert!(
            acceptance.is_some(),
            "{:?} without acceptance",
            dossier.step()
        );
    }

    // Finish, close and pause agree with the status.
    let issued = events.iter().find_map(|event| {
        matches!(event.change, DossierChange::ResultIssued { .. }).then_some(event.at)
    });
    prop_assert_eq!(dossier.finished_at(), issued);
    prop_assert_eq!(
        dossier.finished_at().is_some(),
        matches!(
            status,
            DossierStatus::ResultIssued | DossierStatus::ResultReturned
        )
    );
    prop_assert_eq!(
        dossier.closed_at().is_some(),
        is_closed(status),
        "closed_at in {:?}",
        status
    );
    let waiting = matches!(
        dossier.step(),
        Step::AwaitingSupplement | Step::AwaitingPayment
    );
    prop_assert_eq!(dossier.pause().is_some(), waiting);
    if let Some(pause) = dossier.pause() {
        prop_assert!(Some(pause.since) <= dossier.last_event_at());
        prop_assert!(pause.resume_step.is_open_after_acceptance());
    }
    if dossier.step() == Step::AwaitingPayment {
        prop_assert!(
            matches!(dossier.payment(), PaymentState::Requested { .. }),
            "awaiting payment with {:?}",
            dossier.payment()
        );
    }
    match dossier.step() {
        Step::WithSpecialist | Step::AwaitingApproval | Step::Approved => {
            prop_assert!(
                dossier.assignee().is_some(),
                "{:?} with no assignee",
                dossier.step()
            );
        }
        Step::AtDepartment => {
            prop_assert!(dossier.department().is_some());
            prop_assert!(dossier.assignee().is_none());
        }
        _ => {}
    }
    let waited = events
        .iter()
        .filter_map(|event| match &event.change {
            DossierChange::SupplementReceived { clock, .. }
            | DossierChange::PaymentConfirmed { clock, .. }
            | DossierChange::PaymentExempted { clock, .. } => Some(clock.waited.0),
            _ => None,
        })
        .fold(0_u32, u32::saturating_add);
    prop_assert_eq!(dossier.paused(), WorkingMinutes(waited));
    let sum = |amount: fn(&DossierChange) -> Option<u64>| {
        events
            .iter()
            .filter_map(|event| amount(&event.change))
            .fold(0_u64, u64::saturating_add)
    };
    let paid = sum(|change| match change {
        DossierChange::PaymentConfirmed { amount_vnd, .. } => Some(*amount_vnd),
        _ => None,
    });
    let refunded = sum(|change| match change {
        DossierChange::PaymentRefunded { amount_vnd, .. } => Some(*amount_vnd),
        _ => None,
    });
    prop_assert_eq!(dossier.paid_vnd(), paid);
    prop_assert_eq!(dossier.refunded_vnd(), refunded);
    prop_assert!(refunded <= paid, "refunded {} of {} paid", refunded, paid);

    // Timeliness is defined exactly for accepted dossiers that are open or
    // finished, and not soft-deleted (reports leave those out).
    let now = dossier.last_event_at().unwrap();
    for policy in [TimelinessPolicy::ByDate, TimelinessPolicy::ByTimestamp] {
        let timeliness = dossier.timeliness(policy, now);
        if dossier.is_deleted() {
            prop_assert_eq!(timeliness, None);
            continue;
        }
        match status {
            DossierStatus::ResultIssued | DossierStatus::ResultReturned => {
                prop_assert!(
                    matches!(timeliness, Some(Timeliness::Finished(_))),
                    "{:?}",
                    timeliness
                );
            }
            DossierStatus::Submitted
            | DossierStatus::Refused
            | DossierStatus::Withdrawn
            | DossierStatus::Stopped => prop_assert_eq!(timeliness, None),
            DossierStatus::AwaitingSupplement | DossierStatus::AwaitingPayment => prop_assert_eq!(
                timeliness,
                Some(Timeliness::InProgress(
                    motcua_domain::dossier::timeliness::InProgress::WithinTime
                ))
            ),
            DossierStatus::Accepted | DossierStatus::Processing => {
                prop_assert!(
                    matches!(timeliness, Some(Timeliness::InProgress(_))),
                    "{:?}",
                    timeliness
                );
            }
        }
    }
    Ok(())
}

/// A status change by one command or one event: along `may_become`, and
/// from nothing only to a submission (accepted on the spot at the counter).
fn check_edge(
    before: Option<DossierStatus>,
    after: Option<DossierStatus>,
) -> Result<(), TestCaseError> {
    match (before, after) {
        (Some(before), Some(after)) => {
            prop_assert!(before.may_become(after), "{} -> {}", before, after);
        }
        (None, None) => {}
        (None, Some(after)) => prop_assert!(
            matches!(after, DossierStatus::Submitted | DossierStatus::Accepted),
            "nothing -> {}",
            after
        ),
        (Some(before), None) => return Err(TestCaseError::fail(format!("{before} -> nothing"))),
    }
    Ok(())
}

/// What an event says about the state before it matches that state, and
/// the state after it is what the event says: an auditor reading the event
/// alone learns the truth.
fn check_event_says_what_changed(
    services: &DossierServices,
    before: &Dossier,
    event: &DossierEvent,
    after: &Dossier,
) -> Result<(), TestCaseError> {
    let at = event.at;
    let deadlines_before = before.deadlines();
    let deadlines_after = after.deadlines();
    match &event.change {
        DossierChange::DossierSubmitted {
            unit, procedure, ..
        } => {
            // Addressed to a unit of the level that handles the procedure.
            let unit_level = services
                .units
                .version_at(unit, at)
                .map(|version| version.level);
            let procedure_level = services
                .procedures
                .version(&procedure.code, procedure.version)
                .map(|procedure| procedure.level);
            prop_assert!(unit_level.is_some());
            prop_assert_eq!(unit_level, procedure_level);
        }
        DossierChange::DossierAccepted {
            code,
            unit,
            counting_from,
            due_at,
        } => {
            prop_assert_eq!(before.holder(), Some(unit));
            prop_assert_eq!(code.unit(), unit);
            let calendar = services.calendar_for(unit);
            prop_assert_eq!(*counting_from, calendar.counting_start(at));
            let terms = before.procedure().unwrap();
            prop_assert_eq!(*due_at, terms.processing_time.due_from(calendar, at));
        }
        DossierChange::ForwardedToDepartment {
            unit, department, ..
        } => {
            prop_assert_eq!(before.holder(), Some(unit));
            prop_assert_eq!(after.department(), Some(department.as_str()));
        }
        DossierChange::SpecialistAssigned {
            department,
            specialist,
            previous_specialist,
            ..
        } => {
            prop_assert!(!department.is_empty(), "assigned in no department");
            prop_assert_eq!(before.department(), Some(department.as_str()));
            prop_assert_eq!(before.assignee(), previous_specialist.as_deref());
            prop_assert_ne!(Some(specialist), previous_specialist.as_ref());
            prop_assert_eq!(after.assignee(), Some(specialist.as_str()));
        }
        DossierChange::SupplementReceived { clock, .. }
        | DossierChange::PaymentConfirmed { clock, .. }
        | DossierChange::PaymentExempted { clock, .. } => {
            let (Some(deadlines), Some(pause), Some(holder)) =
                (deadlines_before, before.pause(), before.holder())
            else {
                return Err(TestCaseError::fail("a pause ended that was never started"));
            };
            let calendar = services.calendar_for(holder);
            prop_assert_eq!(clock.waited, calendar.working_time_between(pause.since, at));
            prop_assert_eq!(clock.previous_due_at, deadlines.due_at);
            prop_assert_eq!(clock.previous_appointment_at, deadlines.appointment_at);
            let terms = before.procedure().unwrap();
            let expected_policy = match event.change {
                DossierChange::SupplementReceived { .. } => terms.supplement_clock,
                _ => motcua_domain::procedure::SupplementClock::Shift,
            };
            prop_assert_eq!(clock.policy, expected_policy);
            match clock.policy {
                motcua_domain::procedure::SupplementClock::Shift => {
                    for (previous, now) in [
                        (clock.previous_due_at, clock.due_at),
                        (clock.previous_appointment_at, clock.appointment_at),
                    ] {
                        prop_assert!(now >= previous);
                        if clock.waited != WorkingMinutes::ZERO {
                            prop_assert_eq!(now, calendar.add_working_time(previous, clock.waited));
                        }
                    }
                }
                motcua_domain::procedure::SupplementClock::Restart => {
                    prop_assert_eq!(clock.due_at, terms.processing_time.due_from(calendar, at));
                    prop_assert_eq!(clock.appointment_at, clock.due_at);
                }
            }
            let deadlines = deadlines_after.unwrap();
            prop_assert_eq!(deadlines.due_at, clock.due_at);
            prop_assert_eq!(deadlines.appointment_at, clock.appointment_at);
            prop_assert_eq!(after.step(), pause.resume_step);
            if let DossierChange::PaymentConfirmed { amount_vnd, .. } = &event.change {
                let PaymentState::Requested { total_vnd } = before.payment() else {
                    return Err(TestCaseError::fail("paid what was not requested"));
                };
                prop_assert_eq!(*amount_vnd, total_vnd);
                prop_assert_eq!(after.paid_vnd(), before.paid_vnd() + amount_vnd);
            }
        }
        DossierChange::PaymentRequested { items, total_vnd } => {
            prop_assert_eq!(
                *total_vnd,
                items.iter().map(|item| item.amount_vnd).sum::<u64>()
            );
        }
        DossierChange::PaymentRefunded { amount_vnd, .. } => {
            let refundable = before.paid_vnd() - before.refunded_vnd();
            prop_assert!(
                *amount_vnd >= 1 && *amount_vnd <= refundable,
                "refunded {} of {} refundable",
                amount_vnd,
                refundable
            );
            prop_assert_eq!(after.refunded_vnd(), before.refunded_vnd() + amount_vnd);
            // A pending request stays pending (what the applicant still owes);
            // otherwise the payment state shows the total refunded.
            let expected = match before.payment() {
                pending @ PaymentState::Requested { .. } => pending,
                _ => PaymentState::Refunded {
                    amount_vnd: after.refunded_vnd(),
                },
            };
            prop_assert_eq!(
                after.payment(),
                expected,
                "payment state after refunding {} from {:?}",
                amount_vnd,
                before.payment()
            );
        }
        DossierChange::DossierTransferred {
            from_unit, to_unit, ..
        }
        | DossierChange::DossierHandedOver {
            from_unit, to_unit, ..
        } => {
            prop_assert_eq!(before.holder(), Some(from_unit));
            prop_assert_eq!(after.holder(), Some(to_unit));
            prop_assert_ne!(from_unit, to_unit);
        }
        DossierChange::ResultIssued { signed_on, .. } => {
            prop_assert!(*signed_on <= local_date(at));
            let received_at = deadlines_before.unwrap().received_at;
            prop_assert!(*signed_on >= local_date(received_at));
        }
        // Only the desk hands a result over at the counter or by post.
        DossierChange::ResultReturned { method, .. } if *method != ReturnMethod::Online => {
            prop_assert!(event.by.roles.contains(&Role::ReceptionOfficer));
        }
        DossierChange::ApologyIssued {
            previous_appointment_at,
            new_appointment_at,
            ..
        } => {
            let (Some(was), Some(is), Some(holder)) =
                (deadlines_before, deadlines_after, before.holder())
            else {
                return Err(TestCaseError::fail("an apology without deadlines"));
            };
            prop_assert_eq!(*previous_appointment_at, was.appointment_at);
            prop_assert!(new_appointment_at > previous_appointment_at);
            prop_assert_eq!(is.appointment_at, *new_appointment_at);
            // The legal due date, which timeliness uses, does not move.
            prop_assert_eq!(is.due_at, was.due_at);
            // At least one working day before the (legal) due date.
            let notice = services
                .calendar_for(holder)
                .working_time_between(at, was.due_at);
            prop_assert!(notice >= WorkingMinutes(WorkingMinutes::PER_DAY));
        }
        DossierChange::DueDateCorrected {
            previous_due_at,
            due_at,
            previous_appointment_at,
            appointment_at,
            ..
        } => {
            let (Some(was), Some(is)) = (deadlines_before, deadlines_after) else {
                return Err(TestCaseError::fail("a correction without deadlines"));
            };
            prop_assert_eq!(*previous_due_at, was.due_at);
            prop_assert_eq!(*previous_appointment_at, was.appointment_at);
            prop_assert_eq!(is.due_at, *due_at);
            prop_assert_eq!(is.appointment_at, *appointment_at);
        }
        _ => {}
    }
    Ok(())
}

/// A required text as events carry it: trimmed, not blank, at most 2000 characters.
fn check_text(field: &str, value: &str) -> Result<(), TestCaseError> {
    prop_assert!(!value.is_empty(), "{} is blank", field);
    prop_assert_eq!(value.trim(), value, "{} is not trimmed", field);
    prop_assert!(value.chars().count() <= 2000, "{} is too long", field);
    Ok(())
}

fn check_optional_text(field: &str, value: Option<&String>) -> Result<(), TestCaseError> {
    value.map_or(Ok(()), |value| check_text(field, value))
}

/// Documents as events carry them: components of the dossier's procedure,
/// named, with at least one original or copy.
fn check_documents(
    procedure: &ProcedureCode,
    documents: &[SubmittedDocument],
) -> Result<(), TestCaseError> {
    for document in documents {
        prop_assert!(
            components(Some(procedure))
                .iter()
                .any(|(code, _)| *code == document.component),
            "{} is no component of {}",
            document.component,
            procedure
        );
        check_text("document.name", &document.name)?;
        prop_assert!(document.originals + document.copies > 0);
    }
    Ok(())
}

/// Only well-formed data gets into an event: every spoilt field the
/// generators produce must have been rejected.
fn check_event_data(before: &Dossier, event: &DossierEvent) -> Result<(), TestCaseError> {
    let procedure = before.procedure().map(|terms| terms.code.clone());
    match &event.change {
        DossierChange::DossierSubmitted {
            procedure,
            applicant,
            documents,
            ..
        } => {
            check_text("applicant.name", &applicant.name)?;
            let id = applicant.identity_number.as_str();
            let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            let id_ok = match applicant.kind {
                ApplicantKind::Citizen => digits(id, 12) || digits(id, 9),
                ApplicantKind::Organization => {
                    digits(id, 10)
                        || id
                            .split_once('-')
                            .is_some_and(|(a, b)| digits(a, 10) && digits(b, 3))
                }
            };
            prop_assert!(id_ok, "identity number {:?}", id);
            if let Some(phone) = &applicant.phone {
                let local = phone.strip_prefix("+84").unwrap_or(phone);
                prop_assert!(
                    (9..=11).contains(&local.len()) && local.bytes().all(|b| b.is_ascii_digit())
                );
            }
            prop_assert!(
                applicant
                    .birth_date
                    .is_none_or(|born| born <= local_date(event.at))
            );
            check_optional_text("applicant.address", applicant.address.as_ref())?;
            check_optional_text("applicant.phone", applicant.phone.as_ref())?;
            check_optional_text("applicant.email", applicant.email.as_ref())?;
            if let Some(email) = &applicant.email {
                prop_assert!(
                    email
                        .split_once('@')
                        .is_some_and(|(_, domain)| domain.contains('.'))
                );
            }
            check_documents(&procedure.code, documents)?;
        }
        DossierChange::CompletionRequested { missing, reason } => {
            prop_assert!(!missing.is_empty());
            for item in missing {
                check_text("missing", item)?;
            }
            check_text("reason", reason)?;
        }
        DossierChange::CompletionProvided { documents }
        | DossierChange::SupplementReceived { documents, .. } => {
            prop_assert!(!documents.is_empty());
            check_documents(procedure.as_ref().unwrap(), documents)?;
        }
        DossierChange::ForwardedToDepartment {
            department,
            step_due_at,
            note,
            ..
        } => {
            check_text("department", department)?;
            prop_assert!(step_due_at.is_none_or(|due| due > event.at));
            check_optional_text("note", note.as_ref())?;
        }
        DossierChange::SpecialistAssigned {
            specialist,
            step_due_at,
            note,
            ..
        } => {
            check_text("specialist", specialist)?;
            prop_assert!(step_due_at.is_none_or(|due| due > event.at));
            check_optional_text("note", note.as_ref())?;
        }
        DossierChange::SupplementRequested {
            reason,
            missing_items,
            applicant_deadline,
        } => {
            check_text("reason", reason)?;
            prop_assert!(!missing_items.is_empty());
            for item in missing_items {
                check_text("missing_items", item)?;
            }
            prop_assert!(*applicant_deadline > event.at);
        }
        DossierChange::PaymentRequested { items, .. } => {
            prop_assert!(!items.is_empty());
            for item in items {
                check_text("item.name", &item.name)?;
                prop_assert!(item.amount_vnd > 0);
            }
        }
        DossierChange::PaymentConfirmed { receipt_number, .. } => {
            check_text("receipt_number", receipt_number)?;
        }
        DossierChange::DraftSubmitted {
            summary,
            document_ref,
        } => {
            check_text("summary", summary)?;
            check_optional_text("document_ref", document_ref.as_ref())?;
        }
        DossierChange::DraftApproved { note } => check_optional_text("note", note.as_ref())?,
        DossierChange::ResultIssued {
            number,
            signer,
            document_ref,
            ..
        } => {
            check_text("number", number)?;
            check_text("signer", signer)?;
            check_text("document_ref", document_ref)?;
        }
        DossierChange::ResultReturned { recipient, .. } => check_text("recipient", recipient)?,
        DossierChange::ApologyIssued { reason, .. }
        | DossierChange::DueDateCorrected { reason, .. }
        | DossierChange::PaymentExempted { reason, .. }
        | DossierChange::PaymentRefunded { reason, .. }
        | DossierChange::DossierTransferred { reason, .. }
        | DossierChange::DossierHandedOver { reason, .. }
        | DossierChange::DraftSentBack { reason }
        | DossierChange::DossierRefused { reason }
        | DossierChange::DossierWithdrawn { reason }
        | DossierChange::ProcessingStopped { reason }
        | DossierChange::DossierDeleted { reason }
        | DossierChange::DossierRestored { reason } => check_text("reason", reason)?,
        DossierChange::DossierAccepted { .. } => {}
    }
    Ok(())
}

fn check_event_json(event: &DossierEvent) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(event).unwrap();
    let back: DossierEvent = serde_json::from_str(&json)
        .map_err(|error| TestCaseError::fail(format!("{error} reading back {json}")))?;
    prop_assert_eq!(&back, event);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    prop_assert_eq!(
        value["change"]["type"].as_str(),
        Some(event.change.event_type())
    );
    prop_assert_eq!(DomainEvent::event_type(event), event.change.event_type());
    prop_assert_eq!(event.event_version(), "1.0");
    Ok(())
}

// ---------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------

/// What the random sequences reached, to keep an eye on the generators.
#[derive(Debug, Default)]
struct Reached {
    accepted_commands: usize,
    rejected_commands: usize,
    statuses: std::collections::BTreeSet<u8>,
    event_types: std::collections::BTreeSet<&'static str>,
}

fn run_sequence(
    services: &DossierServices,
    runtime: &tokio::runtime::Runtime,
    start: DateTime<Utc>,
    moves: &[Move],
    reached: &mut Reached,
) -> Result<(), TestCaseError> {
    let mut dossier = Dossier::default();
    let mut events: Vec<DossierEvent> = Vec::new();
    let mut clock = start;
    let mut original_due = None;
    for step in moves {
        let at = match step.tick {
            Tick::Same => clock,
            Tick::Minutes(m) => clock + TimeDelta::minutes(m),
            Tick::Hours(h) => clock + TimeDelta::hours(h),
            Tick::Days(d) => clock + TimeDelta::days(d),
            Tick::Back(m) => clock - TimeDelta::minutes(m),
        };
        if !matches!(step.tick, Tick::Back(_)) {
            clock = at;
        }
        let action = resolve_action(step.what, &dossier);
        let body = body(action, &step.data, &dossier, at);
        let principal = resolve_principal(&step.who, action, &body, &dossier);
        let command = command(principal, at, body);
        prop_assert_eq!(command.body.action(), action);

        let before = dossier.clone();
        let gate = expected_gate(&before, &command, services);
        let decided = dossier.decide(&command, services);
        prop_assert_eq!(&dossier, &before, "decide changed the dossier");

        // The cqrs-es path: `handle` writes through the sink, on a copy.
        let mut handled = before.clone();
        let sink = EventSink::default();
        let handle_result = runtime.block_on(handled.handle(command.clone(), services, &sink));
        let written = runtime.block_on(sink.collect());

        match decided {
            Err(error) => {
                reached.rejected_commands += 1;
                check_rejection(&before, &command, gate, &error)?;
                prop_assert_eq!(handle_result, Err(error));
                prop_assert!(written.is_empty(), "a rejected command wrote {:?}", written);
                prop_assert_eq!(&handled, &before, "a rejected command changed the dossier");
            }
            Ok(new_events) => {
                reached.accepted_commands += 1;
                prop_assert_eq!(
                    gate,
                    None,
                    "accepted {:?} by {:?}",
                    command.body,
                    command.principal
                );
                prop_assert!(!new_events.is_empty(), "{:?} emitted nothing", command.body);
                for event in &new_events {
                    // (e) who and when.
                    prop_assert_eq!(event.at, command.at);
                    prop_assert_eq!(&event.by, &command.principal);
                    prop_assert!(events.last().is_none_or(|last| last.at <= event.at));
                    check_event_json(event)?;
                    // (b) event by event.
                    let state_before = dossier.clone();
                    dossier.apply(event.clone());
                    check_edge(state_before.status(), dossier.status())?;
                    check_event_says_what_changed(services, &state_before, event, &dossier)?;
                    check_event_data(&state_before, event)?;
                    events.push(event.clone());
                    reached.event_types.insert(event.change.event_type());
                }
                // (b) command by command.
                check_edge(before.status(), dossier.status())?;
                prop_assert_eq!(handle_result, Ok(()));
                prop_assert_eq!(&written, &new_events);
                prop_assert_eq!(&handled, &dossier);
                if let Some(status) = dossier.status() {
                    reached.statuses.insert(status.code());
                }
            }
        }
        // (a) a valid state after every command.
        check_state(&dossier, &events)?;
        // (d) every state round-trips through JSON (it is stored as a snapshot).
        let snapshot = serde_json::to_string(&dossier).unwrap();
        let restored: Dossier = serde_json::from_str(&snapshot)
            .map_err(|error| TestCaseError::fail(format!("{error} reading back {snapshot}")))?;
        prop_assert_eq!(&restored, &dossier);
        // (c) the original due date never changes once set.
        let now_original = dossier
            .deadlines()
            .map(|deadlines| deadlines.original_due_at);
        if original_due.is_some() {
            prop_assert_eq!(now_original, original_due, "the original due date moved");
        }
        original_due = now_original;
    }

    // (d) the whole log replays into the same aggregate, directly and through JSON.
    let mut replayed = Dossier::default();
    for event in &events {
        replayed.apply(event.clone());
    }
    prop_assert_eq!(&replayed, &dossier);
    let stored = serde_json::to_string(&events).unwrap();
    let read_back: Vec<DossierEvent> = serde_json::from_str(&stored).unwrap();
    let mut from_store = Dossier::default();
    for event in read_back {
        from_store.apply(event);
    }
    prop_assert_eq!(&from_store, &dossier);
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn random_command_sequences_keep_the_aggregate_valid() {
    let services = services();
    let runtime = runtime();
    // Cheap enough for more than the default 256 cases; PROPTEST_CASES still rules.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 1024;
    }
    let cases = config.cases;
    let reached = std::cell::RefCell::new(Reached::default());
    proptest!(
        config,
        |(start in instant(), moves in prop::collection::vec(a_move(), 1..=40))| {
            run_sequence(&services, &runtime, start, &moves, &mut reached.borrow_mut())?;
        }
    );
    let reached = reached.into_inner();
    // The generators must reach deep into the lifecycle, or the test proves
    // little (checked only on a full run: fewer cases may miss status 10).
    if cases < 1024 {
        return;
    }
    assert!(reached.accepted_commands > 1000, "{reached:?}");
    assert!(reached.rejected_commands > 1000, "{reached:?}");
    assert_eq!(
        reached.statuses.len(),
        10,
        "statuses reached: {:?}",
        reached.statuses
    );
    assert!(
        reached.event_types.len() >= 24,
        "event types reached: {:?}",
        reached.event_types
    );
}

// ---------------------------------------------------------------------------
// The happy path at any reception instant
// ---------------------------------------------------------------------------

prop_compose! {
    fn gaps()(gaps in prop::collection::vec(prop_oneof![0..=30_i64, 0..=3_000_i64], 8)) -> Vec<i64> {
        gaps
    }
}

fn happy_path(
    received: DateTime<Utc>,
    building: bool,
    channel: Channel,
    gaps: &[i64],
) -> Result<Story, DossierError> {
    let (unit_code, procedure, case, documents) = if building {
        (
            DISTRICT,
            BUILDING,
            "nha-o",
            vec![document("DON"), document("BV")],
        )
    } else {
        (
            COMMUNE,
            BIRTH,
            "default",
            vec![document("TK"), document("GCS")],
        )
    };
    let mut at = received;
    let mut next = {
        let mut gaps = gaps.iter();
        move || {
            at += TimeDelta::minutes(*gaps.next().unwrap_or(&0));
            at
        }
    };
    // Submitted a while before reception, though not before the procedures came in force.
    let submitted_at = (received - TimeDelta::minutes(gaps[0])).max(vn(2024, 1, 1, 0, 0));
    let submission = Submission {
        dossier_id: DossierId::try_from("d-happy".to_owned()).unwrap(),
        unit: unit(unit_code),
        channel,
        procedure: procedure.parse().unwrap(),
        case_id: case.to_owned(),
        applicant: applicant(),
        documents,
    };
    let mut story = Story::new();
    let (submitter, accept_with_code) = match channel {
        Channel::InPerson => (officer(unit_code), Some(code_for(unit_code, received, 1))),
        Channel::Online => (portal(), None),
        Channel::Post => (officer(unit_code), None),
    };
    let submit_at = if accept_with_code.is_some() {
        received
    } else {
        submitted_at
    };
    story.try_run(command(
        submitter,
        submit_at,
        CommandBody::Submit {
            submission: Box::new(submission),
            accept_with_code,
        },
    ))?;
    if channel != Channel::InPerson {
        story.try_run(command(
            officer(unit_code),
            received,
            CommandBody::Accept {
                code: code_for(unit_code, received, 7),
            },
        ))?;
    }
    story.try_run(command(
        officer(unit_code),
        next(),
        CommandBody::Forward {
            department: "Phòng chuyên môn".to_owned(),
            step_due_at: None,
            note: None,
        },
    ))?;
    story.try_run(command(
        head(unit_code),
        next(),
        CommandBody::Assign {
            specialist: "specialist".to_owned(),
            step_due_at: None,
            note: Some("Xử lý trong ngày".to_owned()),
        },
    ))?;
    story.try_run(command(
        specialist(unit_code),
        next(),
        CommandBody::SubmitDraft {
            summary: "Đủ điều kiện".to_owned(),
            document_ref: None,
        },
    ))?;
    story.try_run(command(
        leader(unit_code),
        next(),
        CommandBody::ApproveDraft { note: None },
    ))?;
    let issued_at = next();
    story.try_run(command(
        leader(unit_code),
        issued_at,
        CommandBody::IssueResult {
            number: "15/GP-UBND".to_owned(),
            signer: "Chủ tịch UBND".to_owned(),
            signed_on: local_date(issued_at),
            document_ref: "GP-15".to_owned(),
        },
    ))?;
    story.try_run(command(
        officer(unit_code),
        next(),
        CommandBody::ReturnResult {
            method: ReturnMethod::Counter,
            recipient: "Nguyễn Văn An".to_owned(),
        },
    ))?;
    Ok(story)
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn the_happy_path_ends_returned_with_a_timeliness(
        received in instant(),
        building in any::<bool>(),
        channel in prop::sample::select(vec![Channel::InPerson, Channel::Online, Channel::Post]),
        gaps in gaps(),
    ) {
        let story = happy_path(received, building, channel, &gaps)
            .map_err(|error| TestCaseError::fail(format!("happy path rejected: {error}")))?;
        let dossier = &story.dossier;
        prop_assert_eq!(dossier.status(), Some(DossierStatus::ResultReturned));
        let deadlines = dossier.deadlines().unwrap();
        let finished_at = dossier.finished_at().unwrap();
        prop_assert_eq!(deadlines.received_at, received);
        prop_assert!(finished_at >= deadlines.received_at);
        prop_assert!(dossier.closed_at() >= Some(finished_at));
        // The due date is the processing time, in working time, after reception.
        let calendar = calendar();
        let Some(ProcessingTime::WorkingTime(processing)) =
            dossier.procedure().map(|terms| terms.processing_time)
        else {
            return Err(TestCaseError::fail("the fixture's procedures count working time"));
        };
        prop_assert_eq!(calendar.working_time_between(received, deadlines.due_at), processing);
        prop_assert!(calendar.is_working_day(local_date(deadlines.due_at)));
        prop_assert_eq!(deadlines.counting_from, calendar.counting_start(received));
        prop_assert_eq!(deadlines.due_at, deadlines.original_due_at);
        for policy in [TimelinessPolicy::ByDate, TimelinessPolicy::ByTimestamp] {
            let Some(Timeliness::Finished(finished)) = dossier.timeliness(policy, finished_at) else {
                return Err(TestCaseError::fail("no timeliness for a returned dossier"));
            };
            prop_assert_eq!(finished, policy.finished(finished_at, deadlines.due_at));
        }
        check_state(dossier, &story.events)?;
    }
}
