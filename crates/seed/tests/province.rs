//! The seed's province: its units, hierarchy and procedure catalog.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};

use chrono::{Duration, TimeZone};
use motcua_domain::calendar::{VIETNAM, WorkingMinutes};
use motcua_domain::procedure::{OnlineLevel, ProcessingTime, SupplementClock};
use motcua_domain::unit::UnitLevel;
use motcua_seed::{Handler, Province, UnitKind, established};

#[test]
fn the_province_has_236_units_at_the_right_levels() {
    let province = Province::generate(7).unwrap();
    let units = province.units();
    assert_eq!(units.len(), 236);
    assert_eq!(Province::UNITS, 236);

    let by_level = province.units_by_level();
    assert_eq!(by_level.get(&UnitLevel::Province), Some(&31)); // the root and 30 departments
    assert_eq!(by_level.get(&UnitLevel::District), Some(&12)); // 11 districts and the city
    assert_eq!(by_level.get(&UnitLevel::Commune), Some(&193));
    let kinds = |kind| units.iter().filter(|unit| unit.kind == kind).count();
    assert_eq!(kinds(UnitKind::PeoplesCommittee), 1);
    assert_eq!(kinds(UnitKind::Department), 30);
    assert_eq!(kinds(UnitKind::City), 1);
    assert_eq!(kinds(UnitKind::District), 11);
    // "43 provincial departments and district-level units", the root among them.
    assert_eq!(236 - 193, 43);

    let root = province.root();
    assert_eq!(root.kind, UnitKind::PeoplesCommittee);
    assert_eq!(root.id.as_str(), "000.00.00.H56");
    assert_eq!(root.parent, None);
    let ids: HashSet<_> = units.iter().map(|unit| unit.id.clone()).collect();
    assert_eq!(ids.len(), 236, "e-IDs are unique");

    for unit in units {
        let parent = unit.parent.map(|index| &units[index]);
        match unit.kind {
            UnitKind::PeoplesCommittee => assert!(parent.is_none()),
            UnitKind::Department | UnitKind::City | UnitKind::District => {
                assert_eq!(
                    parent.unwrap().kind,
                    UnitKind::PeoplesCommittee,
                    "{}",
                    unit.id
                );
                assert!(unit.id.as_str().starts_with("000.00."), "{}", unit.id);
            }
            UnitKind::Commune => {
                let parent = parent.unwrap();
                assert!(matches!(parent.kind, UnitKind::City | UnitKind::District));
                // 000.NN.DD.H56 under 000.00.DD.H56.
                assert_eq!(
                    unit.id.as_str()[7..],
                    parent.id.as_str()[7..],
                    "{}",
                    unit.id
                );
                assert_ne!(&unit.id.as_str()[4..6], "00");
            }
        }
        assert!(unit.workload > 0.0, "{} receives dossiers", unit.id);
    }
    let workload = |level| {
        units
            .iter()
            .filter(|unit| unit.level() == level)
            .map(|unit| unit.workload)
            .sum::<f64>()
    };
    // Most dossiers at communes and district desks, departments busy too.
    assert!(workload(UnitLevel::Commune) > 0.4);
    assert!(workload(UnitLevel::District) > 0.25);
    assert!(workload(UnitLevel::Province) > 0.2);

    // The domain's hierarchy agrees: every unit in force, the root sees all.
    let at = VIETNAM
        .with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .unwrap()
        .to_utc();
    let hierarchy = province.hierarchy();
    assert_eq!(hierarchy.tree_at(at).len(), 236);
    assert_eq!(hierarchy.visible_units(&root.id, at).len(), 236);
    assert!(
        hierarchy
            .version_at(&root.id, established() - Duration::seconds(1))
            .is_none()
    );
    let city = units
        .iter()
        .find(|unit| unit.kind == UnitKind::City)
        .unwrap();
    assert_eq!(hierarchy.visible_units(&city.id, at).len(), 1 + 14);
}

#[test]
fn the_catalog_has_the_seeds_split() {
    let province = Province::generate(7).unwrap();
    let procedures = province.procedures();
    assert_eq!(procedures.len(), 1_977);
    assert_eq!(province.catalog().len(), 1_977);
    assert_eq!(Province::PROCEDURES, [1_583, 235, 159]);

    let level = |level| {
        procedures
            .iter()
            .filter(|entry| entry.procedure.level == level)
            .count()
    };
    assert_eq!(level(UnitLevel::Province), 1_583);
    assert_eq!(level(UnitLevel::District), 235);
    assert_eq!(level(UnitLevel::Commune), 159);

    let online = |online_level| {
        procedures
            .iter()
            .filter(|entry| entry.procedure.online_level == online_level)
            .count()
    };
    assert_eq!(online(OnlineLevel::FullProcess), 672);
    assert_eq!(online(OnlineLevel::Partial), 1_165);
    assert_eq!(online(OnlineLevel::InformationOnly), 1_977 - 1_837);

    let fields: BTreeSet<&str> = procedures
        .iter()
        .map(|entry| entry.procedure.field.as_str())
        .collect();
    assert!(
        (35..=45).contains(&fields.len()),
        "{} fields: {fields:?}",
        fields.len()
    );

    let mut calendar_days = 0;
    for entry in procedures {
        let procedure = &entry.procedure;
        assert!(!procedure.cases.is_empty());
        for case in &procedure.cases {
            match case.processing_time {
                ProcessingTime::WorkingTime(minutes) => {
                    assert!(
                        (WorkingMinutes(240)..=WorkingMinutes(30 * 480)).contains(&minutes),
                        "{}: {minutes:?}",
                        procedure.code
                    );
                }
                ProcessingTime::CalendarDays(days) => {
                    calendar_days += 1;
                    assert!((1..=35).contains(&days));
                }
            }
        }
        assert!(procedure.required_components().count() >= 1);
        // Provincial procedures belong to one provincial unit; the others
        // to every unit of their level.
        match entry.handler {
            Handler::Unit(index) => {
                assert_eq!(procedure.level, UnitLevel::Province);
                let unit = &province.units()[index];
                assert!(unit.fields.contains(&procedure.field.as_str()));
            }
            Handler::AnyDistrict => assert_eq!(procedure.level, UnitLevel::District),
            Handler::AnyCommune => assert_eq!(procedure.level, UnitLevel::Commune),
        }
        assert!(entry.popularity > 0.0);
    }
    assert!(calendar_days > 10, "a few calendar-day procedures");
    let with_fees = procedures
        .iter()
        .filter(|entry| !entry.procedure.fees.is_empty())
        .count();
    assert!((500..1_000).contains(&with_fees), "{with_fees} with fees");
    let restart = procedures
        .iter()
        .filter(|entry| entry.procedure.supplement_clock == SupplementClock::Restart)
        .count();
    assert!((300..900).contains(&restart), "{restart} restart the clock");
    // Every department and the People's Committee handle some.
    for (index, unit) in province.units().iter().enumerate() {
        if matches!(unit.kind, UnitKind::Department | UnitKind::PeoplesCommittee) {
            assert!(
                procedures
                    .iter()
                    .filter(|entry| entry.handler == Handler::Unit(index))
                    .count()
                    >= 5,
                "{}",
                unit.name
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_province() {
    let (first, again, other) = (
        Province::generate(11).unwrap(),
        Province::generate(11).unwrap(),
        Province::generate(12).unwrap(),
    );
    let describe = |province: &Province| {
        let units: Vec<_> = province
            .units()
            .iter()
            .map(|unit| (unit.id.clone(), unit.name.clone(), unit.workload.to_bits()))
            .collect();
        let procedures: Vec<_> = province
            .procedures()
            .iter()
            .map(|entry| (entry.procedure.as_ref().clone(), entry.handler))
            .collect();
        (units, procedures)
    };
    assert!(describe(&first) == describe(&again));
    assert!(describe(&first) != describe(&other));
    // The structure does not depend on the seed.
    let ids = |province: &Province| -> Vec<_> {
        province
            .units()
            .iter()
            .map(|unit| unit.id.clone())
            .collect()
    };
    assert_eq!(ids(&first), ids(&other));
}
