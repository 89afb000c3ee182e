//! The province's reference data as an aggregate of its own: the units and
//! their reorganisations, the procedure catalog, the declared calendar days.
//! Administrators change it by command and every change is an event, so
//! that a report "as recorded" and an auditor can both say which tree,
//! which procedure version and which holidays were in force when.
//!
//! One stream ([`ReferenceData::STREAM`]) holds it all: changes are rare,
//! and each is validated against the whole (a merge against the tree, a
//! procedure version against the earlier ones). The dossier aggregate
//! decides with the [`DossierServices`] built from it
//! ([`ReferenceData::services`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::DossierServices;
use crate::calendar::{CalendarDay, DayTable, OfficeHours, WorkingCalendar};
use crate::procedure::{Procedure, ProcedureCatalog, ProcedureCode, ProcedureError};
use crate::role::{Principal, Role};
use crate::unit::{
    HierarchyError, Succession, UnitHierarchy, UnitHierarchyBuilder, UnitId, UnitLevel, UnitVersion,
};

/// The reference data as of the last event: every unit version and
/// succession, every procedure version, every declared day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceData {
    units: UnitHierarchyBuilder,
    /// Every version of every procedure, in the order published.
    procedures: Vec<Procedure>,
    days: BTreeMap<NaiveDate, CalendarDay>,
}

/// A change an administrator asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceCommand {
    pub by: Principal,
    pub change: ReferenceChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change")]
pub enum ReferenceChange {
    /// The whole reference data of a province at once, into an empty stream
    /// (a first start).
    Import {
        versions: Vec<UnitVersion>,
        successions: Vec<Succession>,
        procedures: Vec<Procedure>,
        days: Vec<CalendarDay>,
    },
    OpenUnit {
        unit: UnitId,
        name: String,
        level: UnitLevel,
        parent: Option<UnitId>,
        at: DateTime<Utc>,
    },
    RenameUnit {
        unit: UnitId,
        name: String,
        at: DateTime<Utc>,
    },
    /// Under another parent (`None`: a root).
    MoveUnit {
        unit: UnitId,
        parent: Option<UnitId>,
        at: DateTime<Utc>,
    },
    /// The unit ends; `into` takes over its dossiers and its place in "as of
    /// today" reports.
    MergeUnit {
        unit: UnitId,
        into: UnitId,
        at: DateTime<Utc>,
    },
    /// The unit ends; `receiver`, if any, takes over its dossiers.
    DissolveUnit {
        unit: UnitId,
        receiver: Option<UnitId>,
        at: DateTime<Utc>,
    },
    /// A procedure, or its next version (numbered one after the last).
    PublishProcedure { procedure: Procedure },
    /// A holiday or a make-up working day.
    DeclareDay { day: CalendarDay },
    /// Withdraws a declared day.
    ClearDay { date: NaiveDate },
}

/// What happened to the reference data, and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceEvent {
    pub by: String,
    #[serde(flatten)]
    pub change: ReferenceEventChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ReferenceEventChange {
    /// The unit hierarchy of an import, with its history.
    UnitsImported {
        versions: Vec<UnitVersion>,
        successions: Vec<Succession>,
    },
    UnitOpened {
        unit: UnitId,
        name: String,
        level: UnitLevel,
        parent: Option<UnitId>,
        at: DateTime<Utc>,
    },
    UnitRenamed {
        unit: UnitId,
        name: String,
        at: DateTime<Utc>,
    },
    UnitMoved {
        unit: UnitId,
        parent: Option<UnitId>,
        at: DateTime<Utc>,
    },
    UnitMerged {
        unit: UnitId,
        into: UnitId,
        at: DateTime<Utc>,
    },
    UnitDissolved {
        unit: UnitId,
        receiver: Option<UnitId>,
        at: DateTime<Utc>,
    },
    ProcedurePublished {
        procedure: Procedure,
    },
    DayDeclared {
        day: CalendarDay,
    },
    DayCleared {
        date: NaiveDate,
    },
}

impl ReferenceEventChange {
    pub fn event_type(&self) -> &'static str {
        match self {
            ReferenceEventChange::UnitsImported { .. } => "UnitsImported",
            ReferenceEventChange::UnitOpened { .. } => "UnitOpened",
            ReferenceEventChange::UnitRenamed { .. } => "UnitRenamed",
            ReferenceEventChange::UnitMoved { .. } => "UnitMoved",
            ReferenceEventChange::UnitMerged { .. } => "UnitMerged",
            ReferenceEventChange::UnitDissolved { .. } => "UnitDissolved",
            ReferenceEventChange::ProcedurePublished { .. } => "ProcedurePublished",
            ReferenceEventChange::DayDeclared { .. } => "DayDeclared",
            ReferenceEventChange::DayCleared { .. } => "DayCleared",
        }
    }
}

impl DomainEvent for ReferenceEvent {
    fn event_type(&self) -> String {
        self.change.event_type().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// Why a change was refused; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error")]
pub enum ReferenceError {
    #[error("only administrators change reference data")]
    Forbidden,
    #[error("the reference data were already imported")]
    AlreadyImported,
    #[error("no unit {unit}")]
    UnknownUnit { unit: UnitId },
    #[error("unit {unit} exists already")]
    UnitExists { unit: UnitId },
    /// The change would leave the hierarchy inconsistent.
    #[error("{reason}")]
    Hierarchy { reason: String },
    #[error("procedure {code}: the next version is {expected}, not {given}")]
    ProcedureVersion {
        code: ProcedureCode,
        expected: u32,
        given: u32,
    },
    #[error("{reason}")]
    Procedure { reason: String },
    #[error("{date} is already declared")]
    DayDeclared { date: NaiveDate },
    #[error("{date} is not declared")]
    DayNotDeclared { date: NaiveDate },
    #[error("{reason}")]
    Calendar { reason: String },
}

impl From<HierarchyError> for ReferenceError {
    fn from(error: HierarchyError) -> Self {
        ReferenceError::Hierarchy {
            reason: error.to_string(),
        }
    }
}

impl From<ProcedureError> for ReferenceError {
    fn from(error: ProcedureError) -> Self {
        ReferenceError::Procedure {
            reason: error.to_string(),
        }
    }
}

impl ReferenceData {
    /// The one stream the reference data live in.
    pub const STREAM: &'static str = "province";

    pub fn is_empty(&self) -> bool {
        self == &ReferenceData::default()
    }

    /// The reference data the dossier aggregate decides with, counted in
    /// `hours` (the province's office hours).
    pub fn services(&self, hours: OfficeHours) -> Result<DossierServices, ReferenceError> {
        let hierarchy = self.units.clone().build()?;
        let catalog = ProcedureCatalog::new(self.procedures.iter().cloned())?;
        let days = DayTable::new(self.days.values().cloned()).map_err(|error| {
            ReferenceError::Calendar {
                reason: error.to_string(),
            }
        })?;
        Ok(DossierServices::new(
            Arc::new(catalog),
            Arc::new(hierarchy),
            WorkingCalendar::new(hours, Arc::new(days)),
        ))
    }

    /// The declared days, in date order.
    pub fn days(&self) -> impl Iterator<Item = &CalendarDay> {
        self.days.values()
    }

    /// The events `command` makes, all or none.
    pub fn decide(
        &self,
        command: &ReferenceCommand,
    ) -> Result<Vec<ReferenceEvent>, ReferenceError> {
        if !command.by.roles.contains(&Role::Administrator) {
            return Err(ReferenceError::Forbidden);
        }
        let changes = match &command.change {
            ReferenceChange::Import {
                versions,
                successions,
                procedures,
                days,
            } => {
                if !self.is_empty() {
                    return Err(ReferenceError::AlreadyImported);
                }
                let mut changes = vec![ReferenceEventChange::UnitsImported {
                    versions: versions.clone(),
                    successions: successions.clone(),
                }];
                changes.extend(procedures.iter().map(|procedure| {
                    ReferenceEventChange::ProcedurePublished {
                        procedure: procedure.clone(),
                    }
                }));
                changes.extend(
                    days.iter()
                        .map(|day| ReferenceEventChange::DayDeclared { day: day.clone() }),
                );
                changes
            }
            ReferenceChange::OpenUnit {
                unit,
                name,
                level,
                parent,
                at,
            } => {
                if self.units.knows(unit) {
                    return Err(ReferenceError::UnitExists { unit: unit.clone() });
                }
                vec![ReferenceEventChange::UnitOpened {
                    unit: unit.clone(),
                    name: name.clone(),
                    level: *level,
                    parent: parent.clone(),
                    at: *at,
                }]
            }
            ReferenceChange::RenameUnit { unit, name, at } => {
                vec![ReferenceEventChange::UnitRenamed {
                    unit: self.known(unit)?,
                    name: name.clone(),
                    at: *at,
                }]
            }
            ReferenceChange::MoveUnit { unit, parent, at } => {
                vec![ReferenceEventChange::UnitMoved {
                    unit: self.known(unit)?,
                    parent: parent.clone(),
                    at: *at,
                }]
            }
            ReferenceChange::MergeUnit { unit, into, at } => {
                vec![ReferenceEventChange::UnitMerged {
                    unit: self.known(unit)?,
                    into: self.known(into)?,
                    at: *at,
                }]
            }
            ReferenceChange::DissolveUnit { unit, receiver, at } => {
                vec![ReferenceEventChange::UnitDissolved {
                    unit: self.known(unit)?,
                    receiver: receiver.as_ref().map(|unit| self.known(unit)).transpose()?,
                    at: *at,
                }]
            }
            ReferenceChange::PublishProcedure { procedure } => {
                let expected = self
                    .procedures
                    .iter()
                    .filter(|published| published.code == procedure.code)
                    .map(|published| published.version)
                    .max()
                    .unwrap_or(0)
                    + 1;
                if procedure.version != expected {
                    return Err(ReferenceError::ProcedureVersion {
                        code: procedure.code.clone(),
                        expected,
                        given: procedure.version,
                    });
                }
                vec![ReferenceEventChange::ProcedurePublished {
                    procedure: procedure.clone(),
                }]
            }
            ReferenceChange::DeclareDay { day } => {
                if self.days.contains_key(&day.date) {
                    return Err(ReferenceError::DayDeclared { date: day.date });
                }
                vec![ReferenceEventChange::DayDeclared { day: day.clone() }]
            }
            ReferenceChange::ClearDay { date } => {
                if !self.days.contains_key(date) {
                    return Err(ReferenceError::DayNotDeclared { date: *date });
                }
                vec![ReferenceEventChange::DayCleared { date: *date }]
            }
        };
        let events: Vec<ReferenceEvent> = changes
            .into_iter()
            .map(|change| ReferenceEvent {
                by: command.by.user_id.clone(),
                change,
            })
            .collect();
        // What the change touches must still hold together: build it.
        match &command.change {
            ReferenceChange::Import { .. } => {
                let mut next = ReferenceData::default();
                for event in &events {
                    next.apply_event(event)?;
                }
                next.services(OfficeHours::default())?;
            }
            ReferenceChange::PublishProcedure { procedure } => {
                ProcedureCatalog::new(self.procedures.iter().chain([procedure]).cloned())?;
            }
            // One declaration per date is all a day table asks (checked above).
            ReferenceChange::DeclareDay { .. } | ReferenceChange::ClearDay { .. } => {}
            ReferenceChange::OpenUnit { .. }
            | ReferenceChange::RenameUnit { .. }
            | ReferenceChange::MoveUnit { .. }
            | ReferenceChange::MergeUnit { .. }
            | ReferenceChange::DissolveUnit { .. } => {
                let mut next = ReferenceData {
                    units: self.units.clone(),
                    ..ReferenceData::default()
                };
                for event in &events {
                    next.apply_event(event)?;
                }
                next.units.build()?;
            }
        }
        Ok(events)
    }

    fn known(&self, unit: &UnitId) -> Result<UnitId, ReferenceError> {
        if self.units.knows(unit) {
            Ok(unit.clone())
        } else {
            Err(ReferenceError::UnknownUnit { unit: unit.clone() })
        }
    }

    /// Applies one event; fails only where the unit builder refuses it
    /// (which `decide` has ruled out for every recorded event).
    fn apply_event(&mut self, event: &ReferenceEvent) -> Result<(), ReferenceError> {
        match &event.change {
            ReferenceEventChange::UnitsImported {
                versions,
                successions,
            } => {
                let hierarchy = UnitHierarchy::new(versions.clone(), successions.clone())?;
                self.units = UnitHierarchyBuilder::from_hierarchy(&hierarchy);
            }
            ReferenceEventChange::UnitOpened {
                unit,
                name,
                level,
                parent,
                at,
            } => {
                self.units
                    .open(unit.clone(), name.clone(), *level, parent.as_ref(), *at);
            }
            ReferenceEventChange::UnitRenamed { unit, name, at } => {
                self.units.rename(unit, name.clone(), *at)?;
            }
            ReferenceEventChange::UnitMoved { unit, parent, at } => {
                self.units.move_under(unit, parent.as_ref(), *at)?;
            }
            ReferenceEventChange::UnitMerged { unit, into, at } => {
                self.units.merge_into(unit, into, *at)?;
            }
            ReferenceEventChange::UnitDissolved { unit, receiver, at } => {
                self.units.dissolve(unit, receiver.as_ref(), *at)?;
            }
            ReferenceEventChange::ProcedurePublished { procedure } => {
                self.procedures.push(procedure.clone());
            }
            ReferenceEventChange::DayDeclared { day } => {
                self.days.insert(day.date, day.clone());
            }
            ReferenceEventChange::DayCleared { date } => {
                self.days.remove(date);
            }
        }
        Ok(())
    }
}

impl Aggregate for ReferenceData {
    const TYPE: &'static str = "ReferenceData";
    type Command = ReferenceCommand;
    type Event = ReferenceEvent;
    type Error = ReferenceError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(&command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        // `decide` built the result of every recorded event, so none fails
        // here; were one to (a hand-edited log, which the hash chain
        // shows), the change is left out rather than the stream made
        // unreadable.
        let _applied = self.apply_event(&event);
    }
}
