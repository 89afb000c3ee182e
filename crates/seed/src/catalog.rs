//! The province's procedure catalog: 1,977 procedures with the seed's split
//! by level and online level, realistic processing times, fields, fees,
//! document components and both supplement-clock policies.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use motcua_domain::calendar::WorkingMinutes;
use motcua_domain::procedure::{
    Component, Fee, FeeKind, OnlineLevel, Procedure, ProcedureCase, ProcedureCode, ProcessingTime,
    SupplementClock,
};
use motcua_domain::unit::UnitLevel;

use crate::error::SeedError;
use crate::names::{COMMUNE_FIELDS, DISTRICT_FIELDS, PROCEDURE_OBJECTS, PROCEDURE_VERBS};
use crate::province::{PROVINCE_CODE, STREAM_CATALOG, SeedUnit, UnitKind};
use crate::rng::Rng;

/// Procedures handled at province, district and commune level.
pub(crate) const PROCEDURES_BY_LEVEL: [usize; 3] = [1_583, 235, 159];
/// Offered fully online, partly online; the rest information only.
pub(crate) const FULL_PROCESS: usize = 672;
pub(crate) const PARTLY_ONLINE: usize = 1_165;

/// Share of procedures whose time counts in calendar days, not working time.
const CALENDAR_DAY_SHARE: f64 = 0.03;
/// Share of procedures with fees or charges.
const FEE_SHARE: f64 = 0.4;
/// Share of procedures whose full time restarts after a supplement.
const RESTART_SHARE: f64 = 0.3;
/// Every department (and the People's Committee) handles at least this many.
const MIN_PER_PROVINCIAL_UNIT: usize = 5;

/// Who may receive a procedure's dossiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handler {
    /// One provincial unit (a department, or the People's Committee), by
    /// its index in [`crate::Province::units`].
    Unit(usize),
    /// Every district-level unit.
    AnyDistrict,
    /// Every commune.
    AnyCommune,
}

/// A procedure of the catalog, who handles it, and how often it is asked for.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub procedure: Arc<Procedure>,
    pub handler: Handler,
    /// Relative popularity among the procedures of the same handler
    /// (Zipf-like: a few procedures take most dossiers).
    pub popularity: f64,
}

pub(crate) fn generate(
    seed: u64,
    units: &[SeedUnit],
    valid_from: DateTime<Utc>,
) -> Result<Vec<CatalogEntry>, SeedError> {
    let mut rng = Rng::derive(seed, STREAM_CATALOG, 0);
    let handlers = handlers(&mut rng, units);

    let total: usize = PROCEDURES_BY_LEVEL.iter().sum();
    let mut online_levels: Vec<OnlineLevel> = (0..total)
        .map(|index| {
            if index < FULL_PROCESS {
                OnlineLevel::FullProcess
            } else if index < FULL_PROCESS + PARTLY_ONLINE {
                OnlineLevel::Partial
            } else {
                OnlineLevel::InformationOnly
            }
        })
        .collect();
    rng.shuffle(&mut online_levels);

    let mut entries = Vec::with_capacity(total);
    for (index, (handler, online_level)) in handlers.into_iter().zip(online_levels).enumerate() {
        let (level, fields): (UnitLevel, &[&'static str]) = match handler {
            Handler::Unit(unit) => (
                UnitLevel::Province,
                units.get(unit).map_or(&[][..], |unit| &unit.fields[..]),
            ),
            Handler::AnyDistrict => (UnitLevel::District, DISTRICT_FIELDS),
            Handler::AnyCommune => (UnitLevel::Commune, COMMUNE_FIELDS),
        };
        let field = rng.pick(fields).copied().unwrap_or("Khác");
        let procedure = procedure(&mut rng, index, level, field, online_level, valid_from)?;
        entries.push(CatalogEntry {
            procedure: Arc::new(procedure),
            handler,
            popularity: 0.0,
        });
    }
    assign_popularity(&mut rng, &mut entries);
    Ok(entries)
}

/// The handler of each procedure, provincial ones first: every provincial
/// unit gets a few, the rest go by the departments' sizes.
fn handlers(rng: &mut Rng, units: &[SeedUnit]) -> Vec<Handler> {
    let provincial: Vec<(usize, f64)> = units
        .iter()
        .enumerate()
        .filter_map(|(index, unit)| match unit.kind {
            UnitKind::Department => Some((index, unit.workload)),
            UnitKind::PeoplesCommittee => Some((index, 0.0)),
            _ => None,
        })
        .collect();
    let [province, district, commune] = PROCEDURES_BY_LEVEL;
    let mut handlers: Vec<Handler> = provincial
        .iter()
        .flat_map(|(index, _)| std::iter::repeat_n(Handler::Unit(*index), MIN_PER_PROVINCIAL_UNIT))
        .collect();
    let weights: Vec<f64> = provincial.iter().map(|(_, weight)| *weight).collect();
    while handlers.len() < province {
        let drawn = rng.weighted(&weights);
        if let Some((index, _)) = provincial.get(drawn) {
            handlers.push(Handler::Unit(*index));
        }
    }
    handlers.sort_by_key(|handler| match handler {
        Handler::Unit(index) => *index,
        _ => usize::MAX,
    });
    handlers.extend(std::iter::repeat_n(Handler::AnyDistrict, district));
    handlers.extend(std::iter::repeat_n(Handler::AnyCommune, commune));
    handlers
}

/// Zipf-like popularity within each handler's procedures, in a seeded order.
fn assign_popularity(rng: &mut Rng, entries: &mut [CatalogEntry]) {
    let mut groups: Vec<(Handler, Vec<usize>)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|(handler, _)| *handler == entry.handler)
        {
            Some((_, members)) => members.push(index),
            None => groups.push((entry.handler, vec![index])),
        }
    }
    for (_, mut members) in groups {
        rng.shuffle(&mut members);
        for (rank, index) in members.into_iter().enumerate() {
            if let Some(entry) = entries.get_mut(index) {
                entry.popularity = 1.0 / (rank as f64 + 1.0).powf(1.1);
            }
        }
    }
}

/// Processing times in working days by level, with their weights: communes
/// settle most things within days, departments take weeks.
fn processing_days(level: UnitLevel) -> (&'static [f64], &'static [f64]) {
    match level {
        UnitLevel::Commune => (
            &[0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0],
            &[3.0, 4.0, 3.0, 3.0, 2.0, 1.0, 1.0, 0.5],
        ),
        UnitLevel::District => (
            &[1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 12.0, 15.0, 20.0, 30.0],
            &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 1.0, 2.0, 1.0, 0.5],
        ),
        UnitLevel::Province => (
            &[1.0, 3.0, 5.0, 7.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0],
            &[1.0, 2.0, 3.0, 3.0, 4.0, 2.0, 3.0, 2.0, 1.0, 1.0],
        ),
    }
}

fn processing_time(rng: &mut Rng, level: UnitLevel, calendar_days: bool) -> ProcessingTime {
    if calendar_days {
        let days = [5, 7, 10, 15, 30];
        return ProcessingTime::CalendarDays(rng.pick(&days).copied().unwrap_or(10));
    }
    let (days, weights) = processing_days(level);
    let days = days.get(rng.weighted(weights)).copied().unwrap_or(5.0);
    ProcessingTime::WorkingTime(working_days(days))
}

/// `days` working days (whole or half), at least half a day, at most 30.
fn working_days(days: f64) -> WorkingMinutes {
    let halves = (days * 2.0).round().clamp(1.0, 60.0) as u32;
    WorkingMinutes(halves * WorkingMinutes::PER_DAY / 2)
}

fn procedure(
    rng: &mut Rng,
    index: usize,
    level: UnitLevel,
    field: &str,
    online_level: OnlineLevel,
    valid_from: DateTime<Utc>,
) -> Result<Procedure, SeedError> {
    // National codes as DVCQG writes them (1.00xxxx); some are local (2.00xxxx).
    let national = if rng.chance(0.9) { 1 } else { 2 };
    let code_text = format!("{national}.{:06}", 1_000 + index);
    let code: ProcedureCode = code_text.parse()?;
    let local_code = rng
        .chance(0.05)
        .then(|| format!("{code_text}.000.00.00.{PROVINCE_CODE}"));
    let verb = rng.pick(&PROCEDURE_VERBS).copied().unwrap_or("Cấp");
    let object = rng.pick(&PROCEDURE_OBJECTS).copied().unwrap_or("hồ sơ");

    let calendar_days = rng.chance(CALENDAR_DAY_SHARE);
    let first = processing_time(rng, level, calendar_days);
    let case_count = match rng.weighted(&[0.7, 0.25, 0.05]) {
        0 => 1,
        1 => 2,
        _ => 3,
    };
    let cases = (1..=case_count)
        .map(|number| {
            let processing_time = match (number, first) {
                (1, time) => time,
                // Other cases take longer or shorter than the first.
                (_, ProcessingTime::WorkingTime(minutes)) => {
                    let factor = if rng.chance(0.5) { 0.5 } else { 1.5 };
                    ProcessingTime::WorkingTime(working_days(minutes.as_days_f64() * factor))
                }
                (_, ProcessingTime::CalendarDays(days)) => {
                    ProcessingTime::CalendarDays(days.saturating_add(5))
                }
            };
            ProcedureCase {
                id: format!("TH{number}"),
                name: format!("Trường hợp {number}"),
                processing_time,
            }
        })
        .collect();

    let fees = if rng.chance(FEE_SHARE) {
        let charges = [10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];
        let mut fees = vec![Fee {
            kind: FeeKind::Charge,
            name: "Lệ phí".to_owned(),
            amount_vnd: rng.pick(&charges).copied().unwrap_or(50_000),
        }];
        if rng.chance(0.3) {
            fees.push(Fee {
                kind: FeeKind::Fee,
                name: "Phí thẩm định".to_owned(),
                amount_vnd: rng.pick(&charges).copied().unwrap_or(100_000),
            });
        }
        fees
    } else {
        Vec::new()
    };

    let mut components = vec![Component {
        code: "TP1".to_owned(),
        name: "Đơn đề nghị (theo mẫu)".to_owned(),
        required: true,
        originals: 1,
        copies: 0,
    }];
    let optional = [
        ("TP2", "Bản sao giấy tờ tùy thân", 0.6),
        ("TP3", "Giấy tờ chứng minh", 0.3),
        ("TP4", "Văn bản ủy quyền", 0.0),
    ];
    for (code, name, required) in optional.into_iter().take(rng.below(4)) {
        components.push(Component {
            code: code.to_owned(),
            name: name.to_owned(),
            required: rng.chance(required),
            originals: 0,
            copies: 1,
        });
    }

    Ok(Procedure {
        code,
        local_code,
        version: 1,
        name: format!("{verb} {object} lĩnh vực {field}"),
        field: field.to_owned(),
        level,
        online_level,
        cases,
        fees,
        components,
        supplement_clock: if rng.chance(RESTART_SHARE) {
            SupplementClock::Restart
        } else {
            SupplementClock::Shift
        },
        valid_from,
    })
}
