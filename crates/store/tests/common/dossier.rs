//! A commune, a birth-registration procedure and the commands the Dossier
//! tests send: what the command path runs in production, in small.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use motcua_domain::DossierServices;
use motcua_domain::calendar::{
    DayTable, OfficeHours, VIETNAM, WorkingCalendar, WorkingMinutes, local_date,
};
use motcua_domain::dossier::code::DossierCode;
use motcua_domain::dossier::command::{
    Applicant, ApplicantKind, Channel, CommandBody, DossierCommand, DossierId, Submission,
    SubmittedDocument,
};
use motcua_domain::procedure::{
    Component, OnlineLevel, Procedure, ProcedureCase, ProcedureCatalog, ProcessingTime,
    SupplementClock,
};
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::{UnitHierarchyBuilder, UnitId, UnitLevel};

pub const COMMUNE: &str = "000.01.20.H56";

pub fn unit() -> UnitId {
    COMMUNE.parse().unwrap()
}

/// 5 November 2024 at `hour:minute`, Vietnam time.
pub fn vn(hour: u32, minute: u32) -> DateTime<Utc> {
    VIETNAM
        .with_ymd_and_hms(2024, 11, 5, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn services() -> DossierServices {
    let since = vn(0, 0) - chrono::Duration::days(365);
    let mut units = UnitHierarchyBuilder::new();
    units.open(unit(), "UBND xã Đạo Đức", UnitLevel::Commune, None, since);
    let procedure = Procedure {
        code: "1.001193".parse().unwrap(),
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
    DossierServices::new(
        Arc::new(ProcedureCatalog::new([procedure]).unwrap()),
        Arc::new(units.build().unwrap()),
        WorkingCalendar::new(OfficeHours::default(), Arc::new(DayTable::empty())),
    )
}

pub fn principal(user: &str, role: Role) -> Principal {
    Principal {
        user_id: user.to_owned(),
        unit: unit(),
        roles: vec![role],
    }
}

pub fn command(principal: Principal, at: DateTime<Utc>, body: CommandBody) -> DossierCommand {
    DossierCommand {
        principal,
        at,
        body,
    }
}

/// An in-person submission of dossier `id`, accepted at once with code `number`.
pub fn submit(id: &str, number: u32) -> CommandBody {
    CommandBody::Submit {
        submission: Box::new(Submission {
            dossier_id: DossierId::try_from(id.to_owned()).unwrap(),
            unit: unit(),
            channel: Channel::InPerson,
            procedure: "1.001193".parse().unwrap(),
            case_id: "default".to_owned(),
            applicant: Applicant {
                kind: ApplicantKind::Citizen,
                name: "Nguyễn Văn An".to_owned(),
                identity_number: "002090001234".to_owned(),
                birth_date: None,
                address: None,
                phone: None,
                email: None,
                vneid_verified: true,
            },
            documents: vec![SubmittedDocument {
                component: "TK".to_owned(),
                name: "Tờ khai".to_owned(),
                originals: 1,
                copies: 0,
            }],
        }),
        accept_with_code: Some(DossierCode::new(unit(), local_date(vn(8, 0)), number).unwrap()),
    }
}

pub fn forward(department: &str) -> CommandBody {
    CommandBody::Forward {
        department: department.to_owned(),
        step_due_at: None,
        note: None,
    }
}

pub fn assign(specialist: &str) -> CommandBody {
    CommandBody::Assign {
        specialist: specialist.to_owned(),
        step_due_at: None,
        note: None,
    }
}
