//! The reference-data aggregate, given / when / then: administrators import
//! a province, reorganise its units, publish procedure versions and declare
//! days; every refusal leaves nothing behind, and the services built from
//! the events answer as the changes said.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cqrs_es::Aggregate;
use motcua_domain::calendar::{CalendarDay, DayKind, OfficeHours};
use motcua_domain::procedure::Procedure;
use motcua_domain::reference::{
    ReferenceChange, ReferenceCommand, ReferenceData, ReferenceError, ReferenceEvent,
};
use motcua_domain::role::Role;
use motcua_domain::unit::UnitLevel;
use proptest::prelude::*;
use support::*;

fn far_future() -> DateTime<Utc> {
    vn(2099, 1, 1, 0, 0)
}

fn import() -> ReferenceChange {
    let hierarchy = hierarchy();
    ReferenceChange::Import {
        versions: hierarchy.versions().to_vec(),
        successions: hierarchy.successions().to_vec(),
        procedures: procedures()
            .all_in_force(far_future())
            .map(|procedure| (**procedure).clone())
            .collect(),
        days: holidays().iter().cloned().collect(),
    }
}

/// The reference data after `changes`, each by an administrator.
fn given(changes: Vec<ReferenceChange>) -> ReferenceData {
    let mut data = ReferenceData::default();
    for change in changes {
        for event in when(&data, change).expect("a given change is accepted") {
            data.apply(event);
        }
    }
    data
}

fn when(
    data: &ReferenceData,
    change: ReferenceChange,
) -> Result<Vec<ReferenceEvent>, ReferenceError> {
    data.decide(&ReferenceCommand {
        by: admin(PROVINCE),
        change,
    })
}

fn then(data: &ReferenceData, change: ReferenceChange) -> ReferenceData {
    let mut next = data.clone();
    for event in when(data, change).unwrap() {
        next.apply(event);
    }
    next
}

#[test]
fn an_import_records_every_unit_procedure_and_day_once() {
    let data = ReferenceData::default();
    let events = when(&data, import()).unwrap();
    let types: Vec<String> = events
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    assert_eq!(types[0], "UnitsImported");
    assert_eq!(
        types
            .iter()
            .filter(|kind| *kind == "ProcedurePublished")
            .count(),
        procedures().len()
    );
    assert_eq!(
        types.iter().filter(|kind| *kind == "DayDeclared").count(),
        holidays().len()
    );
    assert!(events.iter().all(|event| event.by == "admin"));

    let imported = given(vec![import()]);
    let services = imported.services(OfficeHours::default()).unwrap();
    assert_eq!(services.units.versions(), hierarchy().versions());
    assert_eq!(services.procedures.len(), procedures().len());
    assert_eq!(services.default_calendar.days().len(), holidays().len());
    assert_eq!(
        when(&imported, import()),
        Err(ReferenceError::AlreadyImported)
    );
}

#[test]
fn only_administrators_change_reference_data() {
    let data = given(vec![import()]);
    for roles in [
        &[Role::ReceptionOfficer][..],
        &[Role::UnitLeader],
        &[Role::Supervisor],
        &[Role::Auditor],
    ] {
        let refused = data.decide(&ReferenceCommand {
            by: principal("someone", PROVINCE, roles),
            change: ReferenceChange::RenameUnit {
                unit: unit(COMMUNE),
                name: "UBND phường Đạo Đức".to_owned(),
                at: vn(2025, 7, 1, 0, 0),
            },
        });
        assert_eq!(refused, Err(ReferenceError::Forbidden), "{roles:?}");
    }
}

#[test]
fn a_merged_commune_hands_its_place_to_the_one_it_joined() {
    let at = vn(2025, 7, 1, 0, 0);
    let data = then(
        &given(vec![import()]),
        ReferenceChange::MergeUnit {
            unit: unit(OTHER_COMMUNE),
            into: unit(COMMUNE),
            at,
        },
    );
    let units = data.services(OfficeHours::default()).unwrap().units;
    assert!(
        units
            .version_at(&unit(OTHER_COMMUNE), at - Duration::seconds(1))
            .is_some()
    );
    assert!(units.version_at(&unit(OTHER_COMMUNE), at).is_none());
    assert_eq!(
        units.successor_at(&unit(OTHER_COMMUNE), at),
        Some(unit(COMMUNE))
    );
    assert_eq!(
        units.visible_units(&unit(DISTRICT), at),
        vec![unit(DISTRICT), unit(COMMUNE)]
    );
}

#[test]
fn a_reorganisation_that_breaks_the_tree_is_refused() {
    let data = given(vec![import()]);
    let at = vn(2025, 7, 1, 0, 0);
    let cases = [
        (
            ReferenceChange::MergeUnit {
                unit: unit(COMMUNE),
                into: unit("000.09.20.H56"),
                at,
            },
            "no unit",
        ),
        (
            // A district cannot sit under a commune.
            ReferenceChange::MoveUnit {
                unit: unit(DISTRICT),
                parent: Some(unit(COMMUNE)),
                at,
            },
            "lower level",
        ),
        (
            ReferenceChange::OpenUnit {
                unit: unit(COMMUNE),
                name: "again".to_owned(),
                level: UnitLevel::Commune,
                parent: Some(unit(DISTRICT)),
                at,
            },
            "exists already",
        ),
        (
            // Communes under a district that is dissolved must go first.
            ReferenceChange::DissolveUnit {
                unit: unit(DISTRICT),
                receiver: None,
                at,
            },
            "",
        ),
    ];
    for (change, message) in cases {
        let refused = when(&data, change.clone()).expect_err("refused");
        assert!(
            refused.to_string().contains(message),
            "{change:?}: {refused}"
        );
    }
}

fn birth_version(version: u32, valid_from: DateTime<Utc>) -> Procedure {
    let mut procedure = (**procedures().version(&BIRTH.parse().unwrap(), 1).unwrap()).clone();
    procedure.version = version;
    procedure.valid_from = valid_from;
    procedure.name = format!("Đăng ký khai sinh (v{version})");
    procedure
}

#[test]
fn procedure_versions_follow_each_other_in_number_and_date() {
    let data = given(vec![import()]);
    let from = vn(2025, 9, 1, 0, 0);
    let next = then(
        &data,
        ReferenceChange::PublishProcedure {
            procedure: birth_version(2, from),
        },
    );
    let catalog = next.services(OfficeHours::default()).unwrap().procedures;
    let code = BIRTH.parse().unwrap();
    assert_eq!(
        catalog
            .in_force(&code, from - Duration::days(1))
            .unwrap()
            .version,
        1
    );
    assert_eq!(catalog.in_force(&code, from).unwrap().version, 2);

    assert_eq!(
        when(
            &data,
            ReferenceChange::PublishProcedure {
                procedure: birth_version(3, from)
            }
        ),
        Err(ReferenceError::ProcedureVersion {
            code: BIRTH.parse().unwrap(),
            expected: 2,
            given: 3
        })
    );
    // Version 2 taking effect before version 1 did.
    let refused = when(
        &data,
        ReferenceChange::PublishProcedure {
            procedure: birth_version(2, vn(2020, 1, 1, 0, 0)),
        },
    )
    .unwrap_err();
    assert!(refused.to_string().contains("order"), "{refused}");
}

#[test]
fn a_declared_holiday_stops_the_clock_until_it_is_cleared() {
    // A Wednesday with nothing declared.
    let date = NaiveDate::from_ymd_opt(2025, 10, 15).unwrap();
    let data = given(vec![import()]);
    let working = |data: &ReferenceData| {
        data.services(OfficeHours::default())
            .unwrap()
            .default_calendar
            .is_working_day(date)
    };
    assert!(working(&data));
    let holiday = CalendarDay {
        date,
        kind: DayKind::Holiday,
        name: "Nghỉ bù".to_owned(),
    };
    let declared = then(
        &data,
        ReferenceChange::DeclareDay {
            day: holiday.clone(),
        },
    );
    assert!(!working(&declared));
    assert_eq!(
        when(&declared, ReferenceChange::DeclareDay { day: holiday }),
        Err(ReferenceError::DayDeclared { date })
    );
    let cleared = then(&declared, ReferenceChange::ClearDay { date });
    assert!(working(&cleared));
    assert_eq!(
        when(&cleared, ReferenceChange::ClearDay { date }),
        Err(ReferenceError::DayNotDeclared { date })
    );
}

proptest! {
    /// Whatever administrators try, in any order, what was accepted still
    /// builds services: decide never lets an inconsistent change through.
    #[test]
    fn accepted_changes_always_build(steps in proptest::collection::vec((0usize..6, 0usize..5, 0usize..5, 0u32..400), 1..25)) {
        let units = [PROVINCE, DEPARTMENT, DISTRICT, COMMUNE, OTHER_COMMUNE];
        let mut data = given(vec![import()]);
        for (kind, first, second, days) in steps {
            let at = vn(2025, 1, 1, 0, 0) + Duration::days(i64::from(days));
            let (a, b) = (unit(units[first]), unit(units[second]));
            let change = match kind {
                0 => ReferenceChange::MergeUnit { unit: a, into: b, at },
                1 => ReferenceChange::MoveUnit { unit: a, parent: Some(b), at },
                2 => ReferenceChange::DissolveUnit { unit: a, receiver: Some(b), at },
                3 => ReferenceChange::RenameUnit { unit: a, name: format!("renamed {days}"), at },
                4 => ReferenceChange::DeclareDay { day: CalendarDay { date: at.date_naive(), kind: DayKind::Holiday, name: "x".to_owned() } },
                _ => ReferenceChange::ClearDay { date: at.date_naive() },
            };
            if let Ok(events) = when(&data, change) {
                for event in events {
                    data.apply(event);
                }
            }
            prop_assert!(data.services(OfficeHours::default()).is_ok());
        }
    }
}
