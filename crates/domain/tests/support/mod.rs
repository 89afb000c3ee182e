//! A small province, its procedures and calendar, and helpers to drive the
//! Dossier aggregate through its lifecycle: shared by the aggregate tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses part of it

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use motcua_domain::DossierServices;
use motcua_domain::calendar::{
    CalendarDay, DayTable, OfficeHours, VIETNAM, WorkingCalendar, WorkingMinutes, local_date,
};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::code::DossierCode;
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, DossierId, PaymentItem,
    PaymentMethod, ReturnMethod, Submission, SubmittedDocument,
};
use motcua_domain::dossier::error::DossierError;
use motcua_domain::dossier::event::{DossierChange, DossierEvent};
use motcua_domain::dossier::status::Step;
use motcua_domain::procedure::{
    Component, Fee, FeeKind, OnlineLevel, Procedure, ProcedureCase, ProcedureCatalog,
    ProcedureCode, ProcessingTime, SupplementClock,
};
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::{UnitHierarchy, UnitHierarchyBuilder, UnitId, UnitLevel};

pub const PROVINCE: &str = "000.00.00.H56";
pub const DEPARTMENT: &str = "000.00.06.H56";
pub const DISTRICT: &str = "000.00.20.H56";
pub const COMMUNE: &str = "000.01.20.H56";
pub const OTHER_COMMUNE: &str = "000.02.20.H56";

/// Khai sinh: commune level, 0.5 working day, supplement clock shifts.
pub const BIRTH: &str = "1.001193";
/// Giấy phép xây dựng: district level, 15 working days, supplement clock restarts.
pub const BUILDING: &str = "1.009994";
/// Calendar-day procedure offered for information only.
pub const LAND_INFO: &str = "1.004227";

pub fn unit(code: &str) -> UnitId {
    code.parse().unwrap()
}

/// An instant given in Vietnam's local time.
pub fn vn(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    VIETNAM
        .with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

pub fn holidays() -> Arc<DayTable> {
    let days: Vec<CalendarDay> = serde_json::from_str(include_str!(
        "../../../../data/calendar/vietnam-2024-2026.json"
    ))
    .unwrap();
    Arc::new(DayTable::new(days).unwrap())
}

pub fn calendar() -> WorkingCalendar {
    WorkingCalendar::new(OfficeHours::default(), holidays())
}

pub fn hierarchy() -> UnitHierarchy {
    let since = vn(2020, 1, 1, 0, 0);
    let mut builder = UnitHierarchyBuilder::new();
    builder
        .open(
            unit(PROVINCE),
            "UBND tỉnh Hà Giang",
            UnitLevel::Province,
            None,
            since,
        )
        .open(
            unit(DEPARTMENT),
            "Sở Tư pháp",
            UnitLevel::Province,
            Some(&unit(PROVINCE)),
            since,
        )
        .open(
            unit(DISTRICT),
            "UBND huyện Vị Xuyên",
            UnitLevel::District,
            Some(&unit(PROVINCE)),
            since,
        )
        .open(
            unit(COMMUNE),
            "UBND xã Đạo Đức",
            UnitLevel::Commune,
            Some(&unit(DISTRICT)),
            since,
        )
        .open(
            unit(OTHER_COMMUNE),
            "UBND xã Phú Linh",
            UnitLevel::Commune,
            Some(&unit(DISTRICT)),
            since,
        );
    builder.build().unwrap()
}

fn component(code: &str, name: &str, required: bool) -> Component {
    Component {
        code: code.to_owned(),
        name: name.to_owned(),
        required,
        originals: 1,
        copies: 0,
    }
}

pub fn procedures() -> ProcedureCatalog {
    let since = vn(2024, 1, 1, 0, 0);
    ProcedureCatalog::new([
        Procedure {
            code: BIRTH.parse().unwrap(),
            local_code: Some("HG-HT-01".to_owned()),
            version: 1,
            name: "Đăng ký khai sinh".to_owned(),
            field: "Hộ tịch".to_owned(),
            level: UnitLevel::Commune,
            online_level: OnlineLevel::FullProcess,
            cases: vec![ProcedureCase {
                id: "default".to_owned(),
                name: "Đăng ký khai sinh".to_owned(),
                processing_time: ProcessingTime::WorkingTime(WorkingMinutes(240)),
            }],
            fees: vec![],
            components: vec![
                component("TK", "Tờ khai đăng ký khai sinh", true),
                component("GCS", "Giấy chứng sinh", true),
                component("UQ", "Văn bản ủy quyền", false),
            ],
            supplement_clock: SupplementClock::Shift,
            valid_from: since,
        },
        Procedure {
            code: BUILDING.parse().unwrap(),
            local_code: None,
            version: 1,
            name: "Cấp giấy phép xây dựng nhà ở riêng lẻ".to_owned(),
            field: "Xây dựng".to_owned(),
            level: UnitLevel::District,
            online_level: OnlineLevel::Partial,
            cases: vec![ProcedureCase {
                id: "nha-o".to_owned(),
                name: "Nhà ở riêng lẻ".to_owned(),
                processing_time: ProcessingTime::WorkingTime(WorkingMinutes(15 * 480)),
            }],
            fees: vec![Fee {
                kind: FeeKind::Charge,
                name: "Lệ phí cấp giấy phép xây dựng".to_owned(),
                amount_vnd: 75_000,
            }],
            components: vec![
                component("DON", "Đơn đề nghị cấp giấy phép", true),
                component("BV", "Bản vẽ thiết kế", true),
            ],
            supplement_clock: SupplementClock::Restart,
            valid_from: since,
        },
        Procedure {
            code: LAND_INFO.parse().unwrap(),
            local_code: None,
            version: 1,
            name: "Cung cấp thông tin đất đai".to_owned(),
            field: "Đất đai".to_owned(),
            level: UnitLevel::Province,
            online_level: OnlineLevel::InformationOnly,
            cases: vec![ProcedureCase {
                id: "default".to_owned(),
                name: "Cung cấp thông tin".to_owned(),
                processing_time: ProcessingTime::CalendarDays(10),
            }],
            fees: vec![],
            components: vec![component("PYC", "Phiếu yêu cầu", true)],
            supplement_clock: SupplementClock::Shift,
            valid_from: since,
        },
    ])
    .unwrap()
}

pub fn services() -> DossierServices {
    DossierServices::new(Arc::new(procedures()), Arc::new(hierarchy()), calendar())
}

pub fn principal(user: &str, unit_code: &str, roles: &[Role]) -> Principal {
    Principal {
        user_id: user.to_owned(),
        unit: unit(unit_code),
        roles: roles.to_vec(),
    }
}

pub fn officer(unit_code: &str) -> Principal {
    principal("officer", unit_code, &[Role::ReceptionOfficer])
}
pub fn specialist(unit_code: &str) -> Principal {
    principal("specialist", unit_code, &[Role::Specialist])
}
pub fn head(unit_code: &str) -> Principal {
    principal("head", unit_code, &[Role::DepartmentHead])
}
pub fn leader(unit_code: &str) -> Principal {
    principal("leader", unit_code, &[Role::UnitLeader])
}
pub fn admin(unit_code: &str) -> Principal {
    principal("admin", unit_code, &[Role::Administrator])
}
pub fn portal() -> Principal {
    principal("dvcqg", PROVINCE, &[Role::Portal])
}

pub fn applicant() -> Applicant {
    Applicant {
        kind: ApplicantKind::Citizen,
        name: "Nguyễn Văn An".to_owned(),
        identity_number: "002090001234".to_owned(),
        birth_date: NaiveDate::from_ymd_opt(1990, 5, 17),
        address: Some("Thôn Làng Mới, xã Đạo Đức".to_owned()),
        phone: Some("0912345678".to_owned()),
        email: Some("an.nguyen@example.vn".to_owned()),
        vneid_verified: true,
    }
}

pub fn document(component: &str) -> SubmittedDocument {
    SubmittedDocument {
        component: component.to_owned(),
        name: format!("Thành phần {component}"),
        originals: 1,
        copies: 0,
    }
}

/// A complete birth-registration submission to the commune.
pub fn birth_submission(channel: Channel) -> Submission {
    Submission {
        dossier_id: DossierId::try_from("d-0001".to_owned()).unwrap(),
        unit: unit(COMMUNE),
        channel,
        procedure: BIRTH.parse::<ProcedureCode>().unwrap(),
        case_id: "default".to_owned(),
        applicant: applicant(),
        documents: vec![document("TK"), document("GCS")],
    }
}

pub fn code_for(unit_code: &str, at: DateTime<Utc>, sequence: u32) -> DossierCode {
    DossierCode::new(unit(unit_code), local_date(at), sequence).unwrap()
}

pub fn command(principal: Principal, at: DateTime<Utc>, body: CommandBody) -> DossierCommand {
    DossierCommand {
        principal,
        at,
        body,
    }
}

/// Drives one dossier command by command, keeping its events; panics on a
/// rejection, since it only builds the "given" of a test.
pub struct Story {
    pub services: DossierServices,
    pub dossier: Dossier,
    pub events: Vec<DossierEvent>,
}

impl Story {
    pub fn new() -> Self {
        Self {
            services: services(),
            dossier: Dossier::default(),
            events: Vec::new(),
        }
    }

    pub fn try_run(&mut self, command: DossierCommand) -> Result<Vec<DossierEvent>, DossierError> {
        let events = self.dossier.decide(&command, &self.services)?;
        for event in &events {
            cqrs_es::Aggregate::apply(&mut self.dossier, event.clone());
        }
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    pub fn run(mut self, command: DossierCommand) -> Self {
        let body = format!("{:?}", command.body);
        if let Err(error) = self.try_run(command) {
            panic!("story step rejected: {error}\n{body}");
        }
        self
    }
}

/// The times of the standard story: Tuesday 5 November 2024 onwards.
pub fn t(hour: u32, minute: u32) -> DateTime<Utc> {
    vn(2024, 11, 5, hour, minute)
}

/// A birth registration submitted online to the commune at 08:00.
pub fn submitted() -> Story {
    Story::new().run(command(
        portal(),
        t(8, 0),
        CommandBody::Submit {
            submission: Box::new(birth_submission(Channel::Online)),
            accept_with_code: None,
        },
    ))
}

pub fn awaiting_completion() -> Story {
    submitted().run(command(
        officer(COMMUNE),
        t(8, 10),
        CommandBody::RequestCompletion {
            missing: vec!["Giấy chứng sinh bản chính".to_owned()],
            reason: "Bản chụp giấy chứng sinh không rõ".to_owned(),
        },
    ))
}

pub fn accepted() -> Story {
    submitted().run(command(
        officer(COMMUNE),
        t(8, 15),
        CommandBody::Accept {
            code: code_for(COMMUNE, t(8, 15), 1),
        },
    ))
}

pub fn at_department() -> Story {
    accepted().run(command(
        officer(COMMUNE),
        t(8, 20),
        CommandBody::Forward {
            department: "Tư pháp - Hộ tịch".to_owned(),
            step_due_at: None,
            note: None,
        },
    ))
}

pub fn with_specialist() -> Story {
    at_department().run(command(
        head(COMMUNE),
        t(8, 30),
        CommandBody::Assign {
            specialist: "specialist".to_owned(),
            step_due_at: Some(t(10, 0)),
            note: None,
        },
    ))
}

pub fn awaiting_approval() -> Story {
    with_specialist().run(command(
        specialist(COMMUNE),
        t(9, 0),
        CommandBody::SubmitDraft {
            summary: "Đủ điều kiện đăng ký khai sinh".to_owned(),
            document_ref: Some("DT-0001".to_owned()),
        },
    ))
}

pub fn approved() -> Story {
    awaiting_approval().run(command(
        leader(COMMUNE),
        t(9, 30),
        CommandBody::ApproveDraft { note: None },
    ))
}

pub fn result_issued() -> Story {
    approved().run(command(
        leader(COMMUNE),
        t(10, 0),
        CommandBody::IssueResult {
            number: "123/2024/KS".to_owned(),
            signer: "Phó Chủ tịch UBND xã".to_owned(),
            signed_on: local_date(t(10, 0)),
            document_ref: "GKS-123".to_owned(),
        },
    ))
}

pub fn result_returned() -> Story {
    result_issued().run(command(
        officer(COMMUNE),
        t(10, 30),
        CommandBody::ReturnResult {
            method: ReturnMethod::Counter,
            recipient: "Nguyễn Văn An".to_owned(),
        },
    ))
}

pub fn awaiting_supplement() -> Story {
    with_specialist().run(command(
        specialist(COMMUNE),
        t(9, 0),
        CommandBody::RequestSupplement {
            reason: "Thiếu văn bản ủy quyền".to_owned(),
            missing_items: vec!["Văn bản ủy quyền".to_owned()],
            applicant_deadline: vn(2024, 11, 12, 17, 0),
        },
    ))
}

pub fn awaiting_payment() -> Story {
    with_specialist().run(command(
        specialist(COMMUNE),
        t(9, 0),
        CommandBody::RequestPayment {
            items: vec![PaymentItem {
                name: "Lệ phí cấp bản sao trích lục".to_owned(),
                amount_vnd: 8_000,
            }],
        },
    ))
}

pub fn paid() -> Story {
    awaiting_payment().run(command(
        officer(COMMUNE),
        t(9, 20),
        CommandBody::ConfirmPayment {
            amount_vnd: 8_000,
            receipt_number: "BL-0001".to_owned(),
            method: PaymentMethod::Cash,
        },
    ))
}

pub fn transferred_in() -> Story {
    at_department().run(command(
        head(COMMUNE),
        t(8, 40),
        CommandBody::Transfer {
            to_unit: unit(DISTRICT),
            reason: "Liên thông lên UBND huyện".to_owned(),
        },
    ))
}

pub fn refused() -> Story {
    submitted().run(command(
        officer(COMMUNE),
        t(8, 10),
        CommandBody::Refuse {
            reason: "Không thuộc thẩm quyền".to_owned(),
        },
    ))
}

pub fn withdrawn() -> Story {
    with_specialist().run(command(
        portal(),
        t(9, 0),
        CommandBody::Withdraw {
            reason: "Công dân xin rút hồ sơ".to_owned(),
        },
    ))
}

pub fn stopped() -> Story {
    with_specialist().run(command(
        leader(COMMUNE),
        t(9, 0),
        CommandBody::StopProcessing {
            reason: "Hồ sơ giả mạo giấy tờ".to_owned(),
        },
    ))
}

/// A story that reaches each step of the lifecycle.
pub fn story_at(step: Step) -> Story {
    match step {
        Step::NotSubmitted => Story::new(),
        Step::Submitted => submitted(),
        Step::AwaitingCompletion => awaiting_completion(),
        Step::Refused => refused(),
        Step::Accepted => accepted(),
        Step::TransferredIn => transferred_in(),
        Step::AtDepartment => at_department(),
        Step::WithSpecialist => with_specialist(),
        Step::AwaitingApproval => awaiting_approval(),
        Step::Approved => approved(),
        Step::AwaitingSupplement => awaiting_supplement(),
        Step::AwaitingPayment => awaiting_payment(),
        Step::Withdrawn => withdrawn(),
        Step::Stopped => stopped(),
        Step::ResultIssued => result_issued(),
        Step::ResultReturned => result_returned(),
    }
}

pub const ALL_STEPS: [Step; 16] = [
    Step::NotSubmitted,
    Step::Submitted,
    Step::AwaitingCompletion,
    Step::Refused,
    Step::Accepted,
    Step::TransferredIn,
    Step::AtDepartment,
    Step::WithSpecialist,
    Step::AwaitingApproval,
    Step::Approved,
    Step::AwaitingSupplement,
    Step::AwaitingPayment,
    Step::Withdrawn,
    Step::Stopped,
    Step::ResultIssued,
    Step::ResultReturned,
];

// ---------------------------------------------------------------------------
// Principals, replay and handling, for the given/when/then tests
// ---------------------------------------------------------------------------

/// A principal holding every role at `unit_code`: no permission check can
/// refuse it there, so only the lifecycle (or the data) can.
pub fn all_roles(user: &str, unit_code: &str) -> Principal {
    principal(user, unit_code, &Role::ALL)
}

/// A principal holding only `role` at `unit_code`.
pub fn only_role(role: Role, unit_code: &str) -> Principal {
    principal("someone", unit_code, &[role])
}

/// An event as the aggregate records it: who, when, what changed.
pub fn recorded(by: Principal, at: DateTime<Utc>, change: DossierChange) -> DossierEvent {
    DossierEvent { at, by, change }
}

/// The state reached by applying `events`, in order, to a new dossier.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a DossierEvent>) -> Dossier {
    let mut dossier = Dossier::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut dossier, event.clone());
    }
    dossier
}

/// What the cqrs-es `handle` of one command did to a dossier.
pub struct Handled {
    pub result: Result<(), DossierError>,
    /// Every event written to the sink, even by a command that then failed.
    pub emitted: Vec<DossierEvent>,
    pub before: Dossier,
    pub after: Dossier,
}

/// Runs `command` through `cqrs_es::Aggregate::handle` on the dossier
/// rebuilt from `given`, keeping what reached the event sink.
pub fn handle(given: &[DossierEvent], command: DossierCommand) -> Handled {
    let before = replay(given);
    let mut after = before.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (result, emitted) = runtime.block_on(async {
        let sink = cqrs_es::event_sink::EventSink::<Dossier>::default();
        let result = cqrs_es::Aggregate::handle(&mut after, command, &services(), &sink).await;
        (result, sink.collect().await)
    });
    Handled {
        result,
        emitted,
        before,
        after,
    }
}

/// The rejection of `command` after `given`; panics unless it was rejected
/// with no event written and the aggregate left exactly as it was.
#[track_caller]
pub fn rejection(given: &[DossierEvent], command: DossierCommand) -> DossierError {
    let body = format!("{:?}", command.body);
    let handled = handle(given, command);
    let Err(error) = handled.result else {
        panic!(
            "expected a rejection of {body}, got events {:#?}",
            handled.emitted
        );
    };
    assert!(
        handled.emitted.is_empty(),
        "rejected with {error} but emitted {:#?}",
        handled.emitted
    );
    assert_eq!(
        handled.after, handled.before,
        "a rejection changed the aggregate"
    );
    error
}

// ---------------------------------------------------------------------------
// The building permit: a district procedure of 15 working days that restarts
// ---------------------------------------------------------------------------

/// A complete building-permit submission to the district.
pub fn building_submission(channel: Channel) -> Submission {
    Submission {
        dossier_id: DossierId::try_from("d-0002".to_owned()).unwrap(),
        unit: unit(DISTRICT),
        channel,
        procedure: BUILDING.parse::<ProcedureCode>().unwrap(),
        case_id: "nha-o".to_owned(),
        applicant: applicant(),
        documents: vec![document("DON"), document("BV")],
    }
}

/// A building permit handed in at the district's counter and accepted there
/// on the spot at `at` (code sequence 1 of that day).
pub fn building_accepted(at: DateTime<Utc>) -> Story {
    Story::new().run(command(
        officer(DISTRICT),
        at,
        CommandBody::Submit {
            submission: Box::new(building_submission(Channel::InPerson)),
            accept_with_code: Some(code_for(DISTRICT, at, 1)),
        },
    ))
}

/// [`building_accepted`] at `at`, forwarded at the same instant and assigned
/// to "specialist" by the head of department.
pub fn building_with_specialist(at: DateTime<Utc>) -> Story {
    building_accepted(at)
        .run(command(
            officer(DISTRICT),
            at,
            CommandBody::Forward {
                department: "Phòng Kinh tế - Hạ tầng".to_owned(),
                step_due_at: None,
                note: None,
            },
        ))
        .run(command(
            head(DISTRICT),
            at,
            CommandBody::Assign {
                specialist: "specialist".to_owned(),
                step_due_at: None,
                note: None,
            },
        ))
}

// ---------------------------------------------------------------------------
// One well-formed command of each kind
// ---------------------------------------------------------------------------

/// One well-formed body for every `CommandBody` variant (the submission in
/// each of its three channels, at the counter also accepted on the spot), for
/// a birth-registration dossier held by `holder` and a command at `at`.
/// Well formed means the data passes every field check; whether the state
/// allows it (a refund needs a payment, an apology enough notice, a
/// restore a deleted dossier) is the test's business.
pub fn one_command_of_each_kind(holder: &str, at: DateTime<Utc>) -> Vec<CommandBody> {
    let other_unit = if holder == DISTRICT {
        PROVINCE
    } else {
        DISTRICT
    };
    let successor = if holder == OTHER_COMMUNE {
        COMMUNE
    } else {
        OTHER_COMMUNE
    };
    let reason = || "Lý do ghi trong sổ".to_owned();
    let submit = |channel: Channel, accept: bool| CommandBody::Submit {
        submission: Box::new(Submission {
            unit: unit(holder),
            ..birth_submission(channel)
        }),
        accept_with_code: accept.then(|| code_for(holder, at, 1)),
    };
    vec![
        submit(Channel::Online, false),
        submit(Channel::Post, false),
        submit(Channel::InPerson, false),
        submit(Channel::InPerson, true),
        CommandBody::Accept {
            code: code_for(holder, at, 1),
        },
        CommandBody::RequestCompletion {
            missing: vec!["Văn bản ủy quyền".to_owned()],
            reason: reason(),
        },
        CommandBody::ProvideCompletion {
            documents: vec![document("UQ")],
        },
        CommandBody::Refuse { reason: reason() },
        CommandBody::Forward {
            department: "Tư pháp - Hộ tịch".to_owned(),
            step_due_at: None,
            note: None,
        },
        CommandBody::Assign {
            specialist: "specialist-2".to_owned(),
            step_due_at: None,
            note: None,
        },
        CommandBody::RequestSupplement {
            reason: reason(),
            missing_items: vec!["Văn bản ủy quyền".to_owned()],
            applicant_deadline: at + chrono::Days::new(7),
        },
        CommandBody::ReceiveSupplement {
            documents: vec![document("UQ")],
        },
        CommandBody::RequestPayment {
            items: vec![PaymentItem {
                name: "Lệ phí cấp bản sao trích lục".to_owned(),
                amount_vnd: 8_000,
            }],
        },
        CommandBody::ConfirmPayment {
            amount_vnd: 8_000,
            receipt_number: "BL-0002".to_owned(),
            method: PaymentMethod::BankTransfer,
        },
        CommandBody::ExemptPayment { reason: reason() },
        CommandBody::RefundPayment {
            amount_vnd: 1_000,
            reason: reason(),
        },
        CommandBody::Transfer {
            to_unit: unit(other_unit),
            reason: reason(),
        },
        CommandBody::HandOver {
            to_unit: unit(successor),
            reason: reason(),
        },
        CommandBody::SubmitDraft {
            summary: "Dự thảo kết quả".to_owned(),
            document_ref: None,
        },
        CommandBody::ApproveDraft { note: None },
        CommandBody::SendBackDraft { reason: reason() },
        CommandBody::IssueResult {
            number: "124/2024/KS".to_owned(),
            signer: "Chủ tịch UBND".to_owned(),
            signed_on: local_date(at),
            document_ref: "GKS-124".to_owned(),
        },
        CommandBody::ReturnResult {
            method: ReturnMethod::Online,
            recipient: "Nguyễn Văn An".to_owned(),
        },
        CommandBody::IssueApology {
            new_appointment: at + chrono::Days::new(30),
            reason: reason(),
        },
        CommandBody::Withdraw { reason: reason() },
        CommandBody::StopProcessing { reason: reason() },
        CommandBody::CorrectDueDate {
            due_at: at + chrono::Days::new(10),
            reason: reason(),
        },
        CommandBody::SoftDelete { reason: reason() },
        CommandBody::RestoreDeleted { reason: reason() },
    ]
}
