//! The seed's province: 236 units and 1,977 procedures, the same for the
//! same seed.
//!
//! ```text
//! 000.00.00.H56        UBND tỉnh (the root, province level)
//!   000.00.01–30.H56   30 provincial departments (sở, ban, ngành; province level)
//!   000.00.31.H56      the provincial city (district level)
//!     000.01–14.31.H56   its 14 wards (commune level)
//!   000.00.32–42.H56   11 districts and towns (district level)
//!     000.NN.DD.H56      193 communes in all under the 12
//! ```
//!
//! The issue's figures ("236 units: the province, 43 provincial departments
//! and district-level units, 193 communes") add up to 236 when the root is
//! one of the 43: 1 + 30 + 12 + 193.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use motcua_domain::DossierServices;
use motcua_domain::calendar::{VIETNAM, WorkingCalendar};
use motcua_domain::procedure::{Procedure, ProcedureCatalog};
use motcua_domain::unit::{UnitHierarchy, UnitHierarchyBuilder, UnitId, UnitLevel};

use crate::calendar::vietnam_calendar;
use crate::catalog::{self, CatalogEntry};
use crate::error::SeedError;
use crate::names::{COMMUNE_FIRST, COMMUNE_SECOND, DEPARTMENTS, DISTRICTS};
use crate::rng::Rng;
use motcua_domain::reference::ReferenceChange;

/// The level-1 code of the seed's province in its units' e-IDs.
pub const PROVINCE_CODE: &str = "H56";
/// The province's name.
pub const PROVINCE_NAME: &str = "Hòa An";

/// Level-2 code of the first district-level unit; departments come before it.
const FIRST_DISTRICT_CODE: usize = 31;

/// What kind of unit a unit is; its [`UnitLevel`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitKind {
    /// The provincial People's Committee: the root.
    PeoplesCommittee,
    /// A provincial department (sở, ban, ngành).
    Department,
    /// The provincial city (thành phố thuộc tỉnh).
    City,
    /// A district or district-level town (huyện, thị xã).
    District,
    /// A commune, ward or township (xã, phường, thị trấn).
    Commune,
}

impl UnitKind {
    pub fn level(self) -> UnitLevel {
        match self {
            UnitKind::PeoplesCommittee | UnitKind::Department => UnitLevel::Province,
            UnitKind::City | UnitKind::District => UnitLevel::District,
            UnitKind::Commune => UnitLevel::Commune,
        }
    }
}

/// One unit of the province.
#[derive(Debug, Clone)]
pub struct SeedUnit {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    /// Index of the parent in [`Province::units`]; `None` for the root.
    pub parent: Option<usize>,
    /// Relative share of the province's dossiers received here.
    pub workload: f64,
    /// For a department (or the root): the fields (lĩnh vực) it handles.
    pub fields: Vec<&'static str>,
}

impl SeedUnit {
    pub fn level(&self) -> UnitLevel {
        self.kind.level()
    }
}

/// The seed's province: units, hierarchy, procedure catalog and calendar.
#[derive(Debug, Clone)]
pub struct Province {
    seed: u64,
    units: Vec<SeedUnit>,
    hierarchy: Arc<UnitHierarchy>,
    catalog: Arc<ProcedureCatalog>,
    procedures: Vec<CatalogEntry>,
    calendar: WorkingCalendar,
}

impl Province {
    /// Number of units: the root, 30 departments, 12 district-level units
    /// and 193 communes.
    pub const UNITS: usize = 236;
    /// Number of procedures in the catalog, by level: province, district, commune.
    pub const PROCEDURES: [usize; 3] = catalog::PROCEDURES_BY_LEVEL;

    /// The province of `seed`. The e-IDs and the structure are always the
    /// same; names, workloads and the procedures' terms vary with the seed.
    pub fn generate(seed: u64) -> Result<Province, SeedError> {
        let mut rng = Rng::derive(seed, STREAM_UNITS, 0);
        let units = units(&mut rng)?;
        let established = established();
        let mut builder = UnitHierarchyBuilder::new();
        for unit in &units {
            let parent = unit.parent.and_then(|index| units.get(index));
            builder.open(
                unit.id.clone(),
                unit.name.clone(),
                unit.level(),
                parent.map(|parent| &parent.id),
                established,
            );
        }
        let hierarchy = builder.build()?;
        let procedures = catalog::generate(seed, &units, established)?;
        let catalog = ProcedureCatalog::new(
            procedures
                .iter()
                .map(|entry| Procedure::clone(&entry.procedure)),
        )?;
        Ok(Province {
            seed,
            units,
            hierarchy: Arc::new(hierarchy),
            catalog: Arc::new(catalog),
            procedures,
            calendar: vietnam_calendar()?,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every unit: the root first, then the departments, then each
    /// district-level unit followed by its communes.
    pub fn units(&self) -> &[SeedUnit] {
        &self.units
    }

    pub fn root(&self) -> &SeedUnit {
        // `units` always starts with the root (see `units()` below).
        &self.units[0]
    }

    /// How many units are at each level.
    pub fn units_by_level(&self) -> BTreeMap<UnitLevel, usize> {
        let mut counts = BTreeMap::new();
        for unit in &self.units {
            *counts.entry(unit.level()).or_default() += 1;
        }
        counts
    }

    pub fn hierarchy(&self) -> &Arc<UnitHierarchy> {
        &self.hierarchy
    }

    pub fn catalog(&self) -> &Arc<ProcedureCatalog> {
        &self.catalog
    }

    /// Every procedure with who handles it and how popular it is.
    pub fn procedures(&self) -> &[CatalogEntry] {
        &self.procedures
    }

    /// Standard office hours and Vietnam's declared days (see [`vietnam_calendar`]).
    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    /// The province as a first import of reference data: every unit
    /// version and succession, procedure version and declared day.
    pub fn reference_import(&self) -> ReferenceChange {
        ReferenceChange::Import {
            versions: self.hierarchy.versions().to_vec(),
            successions: self.hierarchy.successions().to_vec(),
            procedures: self
                .procedures
                .iter()
                .map(|entry| (*entry.procedure).clone())
                .collect(),
            days: self.calendar.days().iter().cloned().collect(),
        }
    }

    /// The reference data the Dossier aggregate decides with.
    pub fn services(&self) -> DossierServices {
        DossierServices::new(
            Arc::clone(&self.catalog),
            Arc::clone(&self.hierarchy),
            self.calendar.clone(),
        )
    }
}

/// Independent random streams of one seed.
pub(crate) const STREAM_UNITS: u64 = 1;
pub(crate) const STREAM_CATALOG: u64 = 2;

/// When the province's units and procedures take effect: 00:00 on
/// 1 January 2020, Vietnam time, before any history one would generate.
pub fn established() -> DateTime<Utc> {
    VIETNAM
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .map_or(DateTime::<Utc>::MIN_UTC, |local| local.with_timezone(&Utc))
}

fn unit_id(text: String) -> Result<UnitId, SeedError> {
    text.parse()
        .map_err(|source| SeedError::UnitId { text, source })
}

/// "Huyện Đông Sơn" → "UBND huyện Đông Sơn".
fn committee_of(name: &str) -> String {
    let mut characters = name.chars();
    let lowered: String = characters
        .next()
        .map(|first| first.to_lowercase().chain(characters).collect())
        .unwrap_or_default();
    format!("UBND {lowered}")
}

fn units(rng: &mut Rng) -> Result<Vec<SeedUnit>, SeedError> {
    let mut units = Vec::with_capacity(Province::UNITS);
    units.push(SeedUnit {
        id: unit_id(format!("000.00.00.{PROVINCE_CODE}"))?,
        name: format!("Ủy ban nhân dân tỉnh {PROVINCE_NAME}"),
        kind: UnitKind::PeoplesCommittee,
        parent: None,
        // The People's Committee decides little itself: its departments and
        // the one-stop desks receive the dossiers.
        workload: 0.002,
        fields: crate::names::PEOPLES_COMMITTEE_FIELDS.to_vec(),
    });
    // Shares of all dossiers: departments, district-level desks, communes.
    let (department_share, district_share, commune_share) = (0.25, 0.30, 0.448);

    let department_sizes: f64 = DEPARTMENTS.iter().map(|department| department.size).sum();
    for (index, department) in DEPARTMENTS.iter().enumerate() {
        units.push(SeedUnit {
            id: unit_id(format!("000.00.{:02}.{PROVINCE_CODE}", index + 1))?,
            name: department.name.to_owned(),
            kind: UnitKind::Department,
            parent: Some(0),
            workload: department_share * department.size / department_sizes,
            fields: department.fields.to_vec(),
        });
    }

    // Commune names: distinct pairs of syllables, shuffled by the seed.
    let mut names: Vec<String> = COMMUNE_FIRST
        .iter()
        .flat_map(|first| {
            COMMUNE_SECOND
                .iter()
                .filter(move |second| *second != first)
                .map(move |second| format!("{first} {second}"))
        })
        .collect();
    rng.shuffle(&mut names);
    let mut names = names.into_iter();

    let district_weights: Vec<f64> = DISTRICTS
        .iter()
        .enumerate()
        .map(|(index, _)| {
            if index == 0 {
                1.6
            } else {
                rng.uniform(0.7, 1.3)
            }
        })
        .collect();
    let district_total: f64 = district_weights.iter().sum();
    let mut communes: Vec<(usize, f64)> = Vec::new();
    for (index, (district, commune_count)) in DISTRICTS.iter().enumerate() {
        let district_code = FIRST_DISTRICT_CODE + index;
        let district_index = units.len();
        let is_city = index == 0;
        units.push(SeedUnit {
            id: unit_id(format!("000.00.{district_code:02}.{PROVINCE_CODE}"))?,
            name: committee_of(district),
            kind: if is_city {
                UnitKind::City
            } else {
                UnitKind::District
            },
            parent: Some(0),
            workload: district_share * district_weights[index] / district_total,
            fields: Vec::new(),
        });
        for number in 1..=*commune_count {
            let name = names.next().unwrap_or_default();
            let prefix = if is_city {
                "phường"
            } else if number == 1 {
                "thị trấn"
            } else {
                "xã"
            };
            // Wards and townships are busier than rural communes.
            let busy = if is_city || number == 1 { 1.4 } else { 1.0 };
            communes.push((units.len(), busy * rng.uniform(0.4, 1.8)));
            units.push(SeedUnit {
                id: unit_id(format!(
                    "000.{number:02}.{district_code:02}.{PROVINCE_CODE}"
                ))?,
                name: format!("UBND {prefix} {name}"),
                kind: UnitKind::Commune,
                parent: Some(district_index),
                workload: 0.0,
                fields: Vec::new(),
            });
        }
    }
    let commune_total: f64 = communes.iter().map(|(_, weight)| weight).sum();
    for (index, weight) in communes {
        if let Some(commune) = units.get_mut(index) {
            commune.workload = commune_share * weight / commune_total;
        }
    }
    Ok(units)
}
