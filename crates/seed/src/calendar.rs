//! The working calendar every unit of the seed's province keeps: standard
//! office hours and Vietnam's declared holidays and make-up days, as shipped
//! in `data/calendar/`.

use std::sync::Arc;

use motcua_domain::calendar::{CalendarDay, DayTable, OfficeHours, WorkingCalendar};

use crate::error::SeedError;

/// The holidays and make-up working days of 2024–2026 (`data/calendar/`).
const VIETNAM_2024_2026: &str = include_str!("../../../data/calendar/vietnam-2024-2026.json");

/// Standard office hours (07:00–11:30, 13:30–17:00, Monday to Friday) with
/// the declared days of 2024–2026; outside those years only weekends apply.
pub fn vietnam_calendar() -> Result<WorkingCalendar, SeedError> {
    let days: Vec<CalendarDay> = serde_json::from_str(VIETNAM_2024_2026)
        .map_err(|error| SeedError::Calendar(error.to_string()))?;
    Ok(WorkingCalendar::new(
        OfficeHours::default(),
        Arc::new(DayTable::new(days)?),
    ))
}
