//! The commune, the birth-registration procedure and the dossier lifecycle
//! the benchmark drives: the store tests' fixture, plus the commands that
//! take a dossier from submission to its issued result.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use motcua_domain::DossierServices;
use motcua_domain::calendar::{
    DayTable, OfficeHours, VIETNAM, WorkingCalendar, WorkingMinutes, local_date,
};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::code::DossierCode;
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, DossierId, Submission,
    SubmittedDocument,
};
use motcua_domain::procedure::{
    Component, OnlineLevel, Procedure, ProcedureCase, ProcedureCatalog, ProcedureCode,
    ProcessingTime, SupplementClock,
};
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::{UnitHierarchyBuilder, UnitId, UnitLevel};
use serde_json::Value;

pub const COMMUNE: &str = "000.01.20.H56";
const PROCEDURE: &str = "1.001193";

/// The steps of the shortest lifecycle from submission to an issued result
/// that passes through a supplement request, by name.
pub const LIFECYCLE: [&str; 8] = [
    "submit+accept",
    "forward",
    "assign",
    "request supplement",
    "receive supplement",
    "submit draft",
    "approve draft",
    "issue result",
];

pub struct Fixture {
    pub services: DossierServices,
    unit: UnitId,
    procedure: ProcedureCode,
    officer: Principal,
    head: Principal,
    specialist: Principal,
    leader: Principal,
}

/// 5 November 2024 at `hour:minute`, Vietnam time.
fn vn(hour: u32, minute: u32) -> Result<DateTime<Utc>> {
    Ok(VIETNAM
        .with_ymd_and_hms(2024, 11, 5, hour, minute, 0)
        .single()
        .context("a valid Vietnam time")?
        .with_timezone(&Utc))
}

impl Fixture {
    pub fn new() -> Result<Self> {
        let unit: UnitId = COMMUNE.parse()?;
        let procedure: ProcedureCode = PROCEDURE.parse()?;
        let since = vn(0, 0)? - Duration::days(365);
        let mut units = UnitHierarchyBuilder::new();
        units.open(
            unit.clone(),
            "UBND xã Đạo Đức",
            UnitLevel::Commune,
            None,
            since,
        );
        let birth_registration = Procedure {
            code: procedure.clone(),
            local_code: None,
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
            components: vec![Component {
                code: "TK".to_owned(),
                name: "Tờ khai".to_owned(),
                required: true,
                originals: 1,
                copies: 0,
            }],
            supplement_clock: SupplementClock::Shift,
            valid_from: since,
        };
        let services = DossierServices::new(
            Arc::new(ProcedureCatalog::new([birth_registration])?),
            Arc::new(units.build()?),
            WorkingCalendar::new(OfficeHours::default(), Arc::new(DayTable::empty())),
        );
        let principal = |user: &str, role| Principal {
            user_id: user.to_owned(),
            unit: unit.clone(),
            roles: vec![role],
        };
        Ok(Fixture {
            officer: principal("officer", Role::ReceptionOfficer),
            head: principal("head", Role::DepartmentHead),
            specialist: principal("an", Role::Specialist),
            leader: principal("leader", Role::UnitLeader),
            services,
            unit,
            procedure,
        })
    }

    fn step(principal: &Principal, at: DateTime<Utc>, body: CommandBody) -> DossierCommand {
        DossierCommand {
            principal: principal.clone(),
            at,
            body,
        }
    }

    fn document(name: &str) -> SubmittedDocument {
        SubmittedDocument {
            component: "TK".to_owned(),
            name: name.to_owned(),
            originals: 1,
            copies: 0,
        }
    }

    /// An in-person submission of dossier `id`, accepted at once with code `number`.
    pub fn submit(&self, id: &str, number: u32) -> Result<DossierCommand> {
        let at = vn(8, 0)?;
        let body = CommandBody::Submit {
            submission: Box::new(Submission {
                dossier_id: DossierId::try_from(id.to_owned())?,
                unit: self.unit.clone(),
                channel: Channel::InPerson,
                procedure: self.procedure.clone(),
                case_id: "default".to_owned(),
                applicant: Applicant {
                    kind: ApplicantKind::Citizen,
                    name: "Nguyễn Văn An".to_owned(),
                    identity_number: "002090001234".to_owned(),
                    birth_date: NaiveDate::from_ymd_opt(1990, 4, 12),
                    address: Some("Thôn 3, xã Đạo Đức, huyện Bình Xuyên".to_owned()),
                    phone: Some("0912345678".to_owned()),
                    email: None,
                    vneid_verified: true,
                },
                documents: vec![Self::document("Tờ khai đăng ký khai sinh")],
            }),
            accept_with_code: Some(DossierCode::new(self.unit.clone(), local_date(at), number)?),
        };
        Ok(Self::step(&self.officer, at, body))
    }

    pub fn forward(&self) -> Result<DossierCommand> {
        let body = CommandBody::Forward {
            department: "Tư pháp - Hộ tịch".to_owned(),
            step_due_at: None,
            note: None,
        };
        Ok(Self::step(&self.officer, vn(8, 5)?, body))
    }

    /// Assignment by the head of department, to `specialist`.
    pub fn assign(&self, specialist: &str) -> Result<DossierCommand> {
        let body = CommandBody::Assign {
            specialist: specialist.to_owned(),
            step_due_at: None,
            note: None,
        };
        Ok(Self::step(&self.head, vn(8, 10)?, body))
    }

    /// Dossier `id` from submission to the issued result. Eight commands:
    /// from "with specialist", a result needs a draft, its approval by the
    /// unit leader and the issue (`Step::allows`), and a supplement request
    /// is answered by receiving the supplement.
    pub fn lifecycle(&self, id: &str, number: u32) -> Result<Vec<DossierCommand>> {
        let requested_at = vn(8, 15)?;
        let issued_at = vn(10, 30)?;
        Ok(vec![
            self.submit(id, number)?,
            self.forward()?,
            self.assign("an")?,
            Self::step(
                &self.specialist,
                requested_at,
                CommandBody::RequestSupplement {
                    reason: "Thiếu bản sao giấy chứng sinh".to_owned(),
                    missing_items: vec!["Giấy chứng sinh (bản sao)".to_owned()],
                    applicant_deadline: requested_at + Duration::days(3),
                },
            ),
            Self::step(
                &self.officer,
                vn(9, 0)?,
                CommandBody::ReceiveSupplement {
                    documents: vec![Self::document("Giấy chứng sinh (bản sao)")],
                },
            ),
            Self::step(
                &self.specialist,
                vn(9, 30)?,
                CommandBody::SubmitDraft {
                    summary: "Dự thảo giấy khai sinh".to_owned(),
                    document_ref: Some(format!("draft/{id}.pdf")),
                },
            ),
            Self::step(
                &self.leader,
                vn(10, 0)?,
                CommandBody::ApproveDraft { note: None },
            ),
            Self::step(
                &self.leader,
                issued_at,
                CommandBody::IssueResult {
                    number: format!("{number}/GKS"),
                    signer: "Trần Thị Bình".to_owned(),
                    signed_on: local_date(issued_at),
                    document_ref: format!("result/{id}.pdf"),
                },
            ),
        ])
    }

    /// The payloads of one lifecycle's events, as the stores write them:
    /// realistic rows for the raw PostgreSQL ceiling.
    pub fn lifecycle_payloads(&self) -> Result<Vec<Value>> {
        let mut dossier = Dossier::default();
        let mut payloads = Vec::new();
        for command in self.lifecycle("payload-sample", 1)? {
            for event in dossier.decide(&command, &self.services)? {
                payloads.push(serde_json::to_value(&event)?);
                dossier.apply(event);
            }
        }
        Ok(payloads)
    }
}
