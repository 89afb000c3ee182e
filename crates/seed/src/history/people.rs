//! Who acts: each unit's officers, heads, specialists and leader, the
//! portal relaying applicants, the province's administrator — and the
//! applicants themselves.

use chrono::NaiveDate;
use motcua_domain::dossier::command::{Applicant, ApplicantKind};
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::UnitId;

use crate::names::{COMPANY_WORDS, FAMILY_NAMES, GIVEN_NAMES, MIDDLE_NAMES};
use crate::rng::Rng;

/// Specialists per unit the heads assign dossiers to.
pub(super) const SPECIALISTS: u64 = 6;
/// One-stop officers per unit.
const OFFICERS: u64 = 3;

/// The portal account (Cổng DVCQG) relaying applicants' online actions.
pub(super) fn portal(root: &UnitId) -> Principal {
    Principal {
        user_id: "dvcqg".to_owned(),
        unit: root.clone(),
        roles: vec![Role::Portal],
    }
}

/// The province's administrator: corrections on any unit's dossiers.
pub(super) fn administrator(root: &UnitId) -> Principal {
    Principal {
        user_id: format!("quantri@{root}"),
        unit: root.clone(),
        roles: vec![Role::Administrator],
    }
}

/// A one-stop officer of `unit` (one of a few, by `rng`).
pub(super) fn officer(unit: &UnitId, rng: &mut Rng) -> Principal {
    let number = rng.between(1, OFFICERS);
    Principal {
        user_id: format!("tiepnhan{number}@{unit}"),
        unit: unit.clone(),
        roles: vec![Role::ReceptionOfficer],
    }
}

pub(super) fn department_head(unit: &UnitId) -> Principal {
    Principal {
        user_id: format!("truongphong@{unit}"),
        unit: unit.clone(),
        roles: vec![Role::DepartmentHead],
    }
}

pub(super) fn leader(unit: &UnitId) -> Principal {
    Principal {
        user_id: format!("lanhdao@{unit}"),
        unit: unit.clone(),
        roles: vec![Role::UnitLeader],
    }
}

/// The user id of specialist `number` of `unit`.
pub(super) fn specialist_id(unit: &UnitId, number: u64) -> String {
    format!("chuyenvien{number}@{unit}")
}

/// The specialist `user_id` acting at `unit`.
pub(super) fn specialist(unit: &UnitId, user_id: &str) -> Principal {
    Principal {
        user_id: user_id.to_owned(),
        unit: unit.clone(),
        roles: vec![Role::Specialist],
    }
}

/// A person's full name.
pub(super) fn person_name(rng: &mut Rng) -> String {
    let family = rng.pick(&FAMILY_NAMES).copied().unwrap_or("Nguyễn");
    let middle = rng.pick(&MIDDLE_NAMES).copied().unwrap_or("Văn");
    let given = rng.pick(&GIVEN_NAMES).copied().unwrap_or("An");
    format!("{family} {middle} {given}")
}

/// An applicant: a citizen with a 12-digit CCCD, or for business fields
/// mostly an organisation with its 10-digit enterprise code.
pub(super) fn applicant(rng: &mut Rng, index: u32, organisation: bool, online: bool) -> Applicant {
    if organisation {
        let word = rng.pick(&COMPANY_WORDS).copied().unwrap_or("Thành Công");
        return Applicant {
            kind: ApplicantKind::Organization,
            name: format!("Công ty TNHH {word} {}", index % 997),
            identity_number: format!("26{:08}", rng.between(0, 99_999_999)),
            birth_date: None,
            address: Some(format!("Số {} đường Trần Phú", rng.between(1, 300))),
            phone: Some(format!("0211{:07}", rng.between(0, 9_999_999))),
            email: Some(format!("lienhe{index}@congty.vn")),
            vneid_verified: false,
        };
    }
    let year = rng.between(1950, 2005) as i32;
    let birth_date = NaiveDate::from_ymd_opt(
        year,
        rng.between(1, 12) as u32,
        1 + rng.between(0, 27) as u32,
    );
    // CCCD: province of birth, century and sex, year, then six digits.
    let century_sex = if year >= 2000 { 2 } else { 0 } + u32::from(rng.chance(0.5));
    Applicant {
        kind: ApplicantKind::Citizen,
        name: person_name(rng),
        identity_number: format!(
            "026{century_sex}{:02}{:06}",
            year % 100,
            rng.between(0, 999_999)
        ),
        birth_date,
        address: Some(format!("Thôn {}", rng.between(1, 12))),
        phone: Some(format!("09{:08}", rng.between(0, 99_999_999))),
        email: rng
            .chance(0.2)
            .then(|| format!("nguoidan{index}@example.vn")),
        vneid_verified: if online {
            rng.chance(0.9)
        } else {
            rng.chance(0.5)
        },
    }
}
