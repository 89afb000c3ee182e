//! The reference data the Dossier aggregate consults while deciding: the
//! procedure catalog, the unit hierarchy and the units' calendars.
//!
//! These are in-memory values handed in by the command path (which loads
//! them from storage); the aggregate never fetches anything itself.

use std::collections::HashMap;
use std::sync::Arc;

use crate::calendar::WorkingCalendar;
use crate::procedure::ProcedureCatalog;
use crate::unit::{UnitHierarchy, UnitId};

/// `cqrs_es::Aggregate::Services` of the Dossier aggregate.
#[derive(Debug, Clone)]
pub struct DossierServices {
    pub procedures: Arc<ProcedureCatalog>,
    pub units: Arc<UnitHierarchy>,
    /// The province's calendar, used by units with no office hours of their own.
    pub default_calendar: WorkingCalendar,
    /// Units whose office hours differ from the default.
    pub unit_calendars: HashMap<UnitId, WorkingCalendar>,
}

impl DossierServices {
    pub fn new(
        procedures: Arc<ProcedureCatalog>,
        units: Arc<UnitHierarchy>,
        default_calendar: WorkingCalendar,
    ) -> Self {
        Self {
            procedures,
            units,
            default_calendar,
            unit_calendars: HashMap::new(),
        }
    }

    /// The calendar a unit counts its deadlines by.
    pub fn calendar_for(&self, unit: &UnitId) -> &WorkingCalendar {
        self.unit_calendars
            .get(unit)
            .unwrap_or(&self.default_calendar)
    }
}
