//! The working-time calendar: office sessions, weekends, holidays and make-up
//! working days (ngày làm bù), and the due-date arithmetic built on them.
//!
//! CONTRACT (the public API the rest of the crate relies on; the helper
//! implementing this module keeps these names and meanings):
//!
//! - All instants are `DateTime<Utc>`; all office rules are in Vietnam's local
//!   time (Asia/Ho_Chi_Minh, UTC+07:00 without daylight saving since 1975), see
//!   [`VIETNAM`] and [`local_date`].
//! - One working day is 8 working hours (480 minutes); durations are
//!   [`WorkingMinutes`].
//! - Holidays and make-up days are data ([`CalendarDay`]), declared per year by
//!   an administrator, shared by the units of a province ([`DayTable`]).
//! - Office hours are per unit ([`OfficeHours`], default 07:00–11:30 and
//!   13:30–17:00, Monday to Friday).
//! - No function allocates per call; cost is proportional to the days spanned.
//!
//! Working time is counted in whole minutes: [`WorkingCalendar::working_time_between`]
//! counts the working minutes between the two instants truncated to the
//! minute, which makes it exactly additive, and [`WorkingCalendar::add_working_time`]
//! keeps the seconds of a count that starts mid-minute, so that
//! `working_time_between(from, add_working_time(from, d)) == d` always holds.
//!
//! Every search for the next working day terminates: office hours have at
//! least one working weekday and a [`DayTable`] is finite, so past its last
//! declared day every week has a working day. Results beyond chrono's range
//! saturate at [`DateTime::<Utc>::MAX_UTC`] instead of panicking.

use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
    Weekday,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Vietnam's time zone, Asia/Ho_Chi_Minh: UTC+07:00, no daylight saving.
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// The local (Vietnam) calendar date of an instant.
///
/// Saturates at [`NaiveDate::MAX`] for the last hours of chrono's range, whose
/// local date does not exist.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    local_date_time(at).date()
}

/// The local wall-clock time of an instant, saturating like [`local_date`].
fn local_date_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
        .checked_add_offset(VIETNAM)
        .unwrap_or(NaiveDateTime::MAX)
}

/// A duration of working time, in minutes. One working day is 480 minutes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct WorkingMinutes(pub u32);

impl WorkingMinutes {
    pub const ZERO: Self = Self(0);
    /// Minutes in one working day (8 hours).
    pub const PER_DAY: u32 = 480;

    /// `days` whole working days, or `None` if that overflows.
    pub const fn whole_days(days: u32) -> Option<Self> {
        match days.checked_mul(Self::PER_DAY) {
            Some(minutes) => Some(Self(minutes)),
            None => None,
        }
    }

    /// A processing time given in (possibly fractional) working days, as
    /// procedures publish it: 0.25 day = 120 minutes, 0.5 day = 240 minutes.
    /// `None` unless finite, non-negative and a whole number of minutes.
    pub fn from_days(days: f64) -> Option<Self> {
        Self::from_units(days, Self::PER_DAY)
    }

    /// A duration given in (possibly fractional) working hours; `None` unless
    /// finite, non-negative and a whole number of minutes.
    pub fn from_hours(hours: f64) -> Option<Self> {
        Self::from_units(hours, 60)
    }

    fn from_units(amount: f64, minutes_per_unit: u32) -> Option<Self> {
        let minutes = amount * f64::from(minutes_per_unit);
        let whole = minutes.round();
        // Tolerates float noise such as 1/3 day × 480 = 159.99999999999997.
        let is_whole = (minutes - whole).abs() <= 1e-6;
        let fits = (0.0..=f64::from(u32::MAX)).contains(&whole);
        (minutes.is_finite() && is_whole && fits).then_some(Self(whole as u32))
    }

    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(minutes) => Some(Self(minutes)),
            None => None,
        }
    }

    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// The duration in working days, for display (240 minutes = 0.5).
    pub fn as_days_f64(self) -> f64 {
        f64::from(self.0) / f64::from(Self::PER_DAY)
    }
}

/// Why a calendar configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error("office hours need at least one session")]
    NoSession,
    #[error("the session {start}–{end} must start before it ends")]
    EmptySession { start: NaiveTime, end: NaiveTime },
    #[error("the session {start}–{end} must start and end on a whole minute")]
    SessionNotOnWholeMinutes { start: NaiveTime, end: NaiveTime },
    #[error(
        "the session starting at {start} begins before the previous one ends at {previous_end}: sessions must be sorted and must not overlap"
    )]
    SessionsOverlap {
        previous_end: NaiveTime,
        start: NaiveTime,
    },
    #[error("office hours need at least one working weekday")]
    NoWorkingWeekday,
    #[error("the day {date} is declared more than once")]
    DuplicateDay { date: NaiveDate },
}

/// What a declared calendar day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday or compensatory day off (ngày nghỉ lễ, nghỉ bù).
    Holiday,
    /// A weekend day declared a working day (ngày làm bù).
    MakeUpWorkday,
}

/// One declared day, as an administrator enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// The declared days of a province, indexed for O(log n) look-ups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayTable {
    /// Sorted by date, each date once, so a binary search finds a day.
    days: Vec<CalendarDay>,
}

impl DayTable {
    /// Indexes the declared days; rejects a date declared twice.
    pub fn new(days: impl IntoIterator<Item = CalendarDay>) -> Result<Self, CalendarError> {
        let mut days: Vec<CalendarDay> = days.into_iter().collect();
        days.sort_by_key(|day| day.date);
        if let Some(pair) = days.windows(2).find(|pair| pair[0].date == pair[1].date) {
            return Err(CalendarError::DuplicateDay { date: pair[0].date });
        }
        Ok(Self { days })
    }

    /// No holidays and no make-up days: only the weekly pattern applies.
    pub fn empty() -> Self {
        Self::default()
    }

    /// What `date` was declared as, if anything.
    pub fn kind_of(&self, date: NaiveDate) -> Option<DayKind> {
        self.days
            .binary_search_by_key(&date, |day| day.date)
            .ok()
            .map(|index| self.days[index].kind)
    }

    /// The declared days in date order, for administrators.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &CalendarDay> {
        self.days.iter()
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }
}

/// One office session, [start, end) in local time, on whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    start: NaiveTime,
    end: NaiveTime,
}

impl Session {
    fn start_minute(self) -> u32 {
        minute_of_day(self.start)
    }

    fn end_minute(self) -> u32 {
        minute_of_day(self.end)
    }
}

fn minute_of_day(time: NaiveTime) -> u32 {
    time.num_seconds_from_midnight() / 60
}

/// The sessions of one kind of working day, with the totals the arithmetic
/// needs precomputed so that a whole day is skipped in O(1).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DaySchedule {
    sessions: Vec<Session>,
    working_minutes: u32,
    opens: u32,
    closes: u32,
}

impl DaySchedule {
    fn new(sessions: &[(NaiveTime, NaiveTime)]) -> Result<Self, CalendarError> {
        let (Some(first), Some(last)) = (sessions.first(), sessions.last()) else {
            return Err(CalendarError::NoSession);
        };
        let mut previous_end: Option<NaiveTime> = None;
        for &(start, end) in sessions {
            if !is_whole_minute(start) || !is_whole_minute(end) {
                return Err(CalendarError::SessionNotOnWholeMinutes { start, end });
            }
            if start >= end {
                return Err(CalendarError::EmptySession { start, end });
            }
            if let Some(previous_end) = previous_end.filter(|&previous_end| start < previous_end) {
                return Err(CalendarError::SessionsOverlap {
                    previous_end,
                    start,
                });
            }
            previous_end = Some(end);
        }
        let first = Session {
            start: first.0,
            end: first.1,
        };
        let last = Session {
            start: last.0,
            end: last.1,
        };
        let sessions = sessions
            .iter()
            .map(|&(start, end)| Session { start, end })
            .collect();
        Ok(Self::from_valid(sessions, first, last))
    }

    /// Sessions already checked sorted, non-overlapping and on whole minutes.
    fn from_valid(sessions: Vec<Session>, first: Session, last: Session) -> Self {
        let working_minutes = sessions
            .iter()
            .map(|session| session.end_minute() - session.start_minute())
            .sum();
        Self {
            sessions,
            working_minutes,
            opens: first.start_minute(),
            closes: last.end_minute(),
        }
    }

    fn standard() -> Self {
        let morning = Session {
            start: STANDARD_MORNING.0,
            end: STANDARD_MORNING.1,
        };
        let afternoon = Session {
            start: STANDARD_AFTERNOON.0,
            end: STANDARD_AFTERNOON.1,
        };
        Self::from_valid(vec![morning, afternoon], morning, afternoon)
    }

    /// Working minutes of this day inside [from_minute, to_minute).
    fn minutes_within(&self, from_minute: u32, to_minute: u32) -> u64 {
        self.sessions
            .iter()
            .map(|session| {
                let begin = session.start_minute().max(from_minute);
                let end = session.end_minute().min(to_minute);
                u64::from(end.saturating_sub(begin))
            })
            .sum()
    }

    /// Consumes `remaining` minutes from `from_minute` on; returns the minute
    /// where the count ends, or `None` (with `remaining` reduced) if the day
    /// is not long enough. With `stop_at_session_end` a count that exactly
    /// fills a session ends at its close rather than at the next opening.
    fn consume(
        &self,
        from_minute: u32,
        remaining: &mut u64,
        stop_at_session_end: bool,
    ) -> Option<u32> {
        for session in &self.sessions {
            let end = session.end_minute();
            if end <= from_minute {
                continue;
            }
            let begin = session.start_minute().max(from_minute);
            let available = end - begin;
            let lands_here = *remaining < u64::from(available)
                || (*remaining == u64::from(available) && stop_at_session_end);
            if lands_here {
                // `remaining <= available`, so it fits a minute of the day.
                return Some(begin + *remaining as u32);
            }
            *remaining -= u64::from(available);
        }
        None
    }

    fn times(&self) -> impl Iterator<Item = (NaiveTime, NaiveTime)> + '_ {
        self.sessions
            .iter()
            .map(|session| (session.start, session.end))
    }
}

fn is_whole_minute(time: NaiveTime) -> bool {
    time.second() == 0 && time.nanosecond() == 0
}

const fn clock(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("a valid clock time"),
    }
}

/// The standard morning session, 07:00–11:30.
pub const STANDARD_MORNING: (NaiveTime, NaiveTime) = (clock(7, 0), clock(11, 30));
/// The standard afternoon session, 13:30–17:00.
pub const STANDARD_AFTERNOON: (NaiveTime, NaiveTime) = (clock(13, 30), clock(17, 0));
/// The standard working weekdays, Monday to Friday.
pub const STANDARD_WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// How a unit works on one weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WeekdayHours {
    Closed,
    Regular,
    /// Its own sessions, e.g. Saturday-morning reception.
    Special(DaySchedule),
}

/// A unit's office sessions and working weekdays.
///
/// Every working weekday uses the regular sessions unless given its own with
/// [`OfficeHours::with_weekday_sessions`]; a make-up working day (ngày làm bù)
/// replaces a full weekday, so it always uses the regular sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OfficeHoursRecord", into = "OfficeHoursRecord")]
pub struct OfficeHours {
    regular: DaySchedule,
    /// Indexed by `Weekday::num_days_from_monday`.
    weekly: [WeekdayHours; 7],
}

impl OfficeHours {
    /// Office hours with `sessions` (sorted, non-overlapping, on whole
    /// minutes) on each of `weekdays`.
    pub fn new(
        sessions: &[(NaiveTime, NaiveTime)],
        weekdays: &[Weekday],
    ) -> Result<Self, CalendarError> {
        if weekdays.is_empty() {
            return Err(CalendarError::NoWorkingWeekday);
        }
        let mut weekly = std::array::from_fn(|_| WeekdayHours::Closed);
        for weekday in weekdays {
            weekly[weekday_index(*weekday)] = WeekdayHours::Regular;
        }
        Ok(Self {
            regular: DaySchedule::new(sessions)?,
            weekly,
        })
    }

    /// The same hours, with `weekday` worked in its own `sessions` (and made
    /// a working weekday if it was not).
    pub fn with_weekday_sessions(
        mut self,
        weekday: Weekday,
        sessions: &[(NaiveTime, NaiveTime)],
    ) -> Result<Self, CalendarError> {
        self.weekly[weekday_index(weekday)] = WeekdayHours::Special(DaySchedule::new(sessions)?);
        Ok(self)
    }

    /// The sessions of a regular working day (and of make-up days).
    pub fn regular_sessions(&self) -> impl Iterator<Item = (NaiveTime, NaiveTime)> + '_ {
        self.regular.times()
    }

    /// The sessions worked on `weekday`; none if it is a weekly day off.
    pub fn sessions_on(
        &self,
        weekday: Weekday,
    ) -> impl Iterator<Item = (NaiveTime, NaiveTime)> + '_ {
        self.schedule_for(weekday)
            .into_iter()
            .flat_map(DaySchedule::times)
    }

    /// The working weekdays, from Monday.
    pub fn working_weekdays(&self) -> impl Iterator<Item = Weekday> + '_ {
        WEEK.into_iter()
            .filter(|weekday| self.schedule_for(*weekday).is_some())
    }

    fn schedule_for(&self, weekday: Weekday) -> Option<&DaySchedule> {
        match &self.weekly[weekday_index(weekday)] {
            WeekdayHours::Closed => None,
            WeekdayHours::Regular => Some(&self.regular),
            WeekdayHours::Special(schedule) => Some(schedule),
        }
    }
}

impl Default for OfficeHours {
    /// 07:00–11:30 and 13:30–17:00, Monday to Friday.
    fn default() -> Self {
        let mut weekly = std::array::from_fn(|_| WeekdayHours::Closed);
        for weekday in STANDARD_WEEKDAYS {
            weekly[weekday_index(weekday)] = WeekdayHours::Regular;
        }
        Self {
            regular: DaySchedule::standard(),
            weekly,
        }
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn weekday_index(weekday: Weekday) -> usize {
    weekday.num_days_from_monday() as usize
}

/// How [`OfficeHours`] is stored: validated again when read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OfficeHoursRecord {
    sessions: Vec<SessionRecord>,
    /// Every working weekday, including those with their own sessions.
    weekdays: Vec<Weekday>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    weekday_sessions: Vec<WeekdaySessionsRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionRecord {
    start: NaiveTime,
    end: NaiveTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WeekdaySessionsRecord {
    weekday: Weekday,
    sessions: Vec<SessionRecord>,
}

fn session_pairs(records: &[SessionRecord]) -> Vec<(NaiveTime, NaiveTime)> {
    records
        .iter()
        .map(|record| (record.start, record.end))
        .collect()
}

fn session_records(schedule: &DaySchedule) -> Vec<SessionRecord> {
    schedule
        .times()
        .map(|(start, end)| SessionRecord { start, end })
        .collect()
}

impl TryFrom<OfficeHoursRecord> for OfficeHours {
    type Error = CalendarError;

    fn try_from(record: OfficeHoursRecord) -> Result<Self, Self::Error> {
        let mut hours = Self::new(&session_pairs(&record.sessions), &record.weekdays)?;
        for special in &record.weekday_sessions {
            hours =
                hours.with_weekday_sessions(special.weekday, &session_pairs(&special.sessions))?;
        }
        Ok(hours)
    }
}

impl From<OfficeHours> for OfficeHoursRecord {
    fn from(hours: OfficeHours) -> Self {
        let weekday_sessions = WEEK
            .into_iter()
            .filter_map(|weekday| match &hours.weekly[weekday_index(weekday)] {
                WeekdayHours::Special(schedule) => Some(WeekdaySessionsRecord {
                    weekday,
                    sessions: session_records(schedule),
                }),
                WeekdayHours::Closed | WeekdayHours::Regular => None,
            })
            .collect();
        Self {
            sessions: session_records(&hours.regular),
            weekdays: hours.working_weekdays().collect(),
            weekday_sessions,
        }
    }
}

/// A local wall-clock position, split so that the arithmetic works on whole
/// minutes and carries the seconds of a mid-minute start unchanged.
#[derive(Debug, Clone, Copy)]
struct WallClock {
    date: NaiveDate,
    minute: u32,
    second: u32,
    nanosecond: u32,
}

impl WallClock {
    fn of(at: DateTime<Utc>) -> Self {
        let local = local_date_time(at);
        let time = local.time();
        let second_of_day = time.num_seconds_from_midnight();
        Self {
            date: local.date(),
            minute: second_of_day / 60,
            second: second_of_day % 60,
            // A leap second counts as the last instant of its minute.
            nanosecond: time.nanosecond().min(999_999_999),
        }
    }

    fn at_minute(date: NaiveDate, minute: u32) -> Self {
        Self {
            date,
            minute,
            second: 0,
            nanosecond: 0,
        }
    }

    fn is_whole_minute(self) -> bool {
        self.second == 0 && self.nanosecond == 0
    }

    /// The instant, saturating at the end of chrono's range. Results never
    /// precede the instant they were computed from, so only overflow occurs.
    fn to_utc(self) -> DateTime<Utc> {
        NaiveTime::from_num_seconds_from_midnight_opt(
            self.minute * 60 + self.second,
            self.nanosecond,
        )
        .and_then(|time| self.date.and_time(time).checked_sub_offset(VIETNAM))
        .map_or(DateTime::<Utc>::MAX_UTC, |utc| utc.and_utc())
    }
}

/// A unit's working-time calendar: its office hours and the province's days.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    hours: OfficeHours,
    days: Arc<DayTable>,
}

impl WorkingCalendar {
    pub fn new(hours: OfficeHours, days: Arc<DayTable>) -> Self {
        Self { hours, days }
    }

    pub fn hours(&self) -> &OfficeHours {
        &self.hours
    }

    pub fn days(&self) -> &Arc<DayTable> {
        &self.days
    }

    /// Is `date` a working day (a working weekday not declared a holiday, or a make-up day)?
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.schedule_on(date).is_some()
    }

    /// When counting starts for something received at `at`: `at` itself inside
    /// a session, else the start of the next session.
    pub fn counting_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.start_position(WallClock::of(at))
            .map_or(DateTime::<Utc>::MAX_UTC, WallClock::to_utc)
    }

    /// `from` plus `duration` of working time, counting from `counting_start(from)`.
    ///
    /// A count ending exactly at a session's close ends there (17:00, not the
    /// next morning's 07:00).
    pub fn add_working_time(&self, from: DateTime<Utc>, duration: WorkingMinutes) -> DateTime<Utc> {
        let Some(start) = self.start_position(WallClock::of(from)) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        if duration == WorkingMinutes::ZERO {
            return start.to_utc();
        }
        // A count that starts mid-minute ends mid-minute, inside a session:
        // it cannot end on a close.
        let stop_at_session_end = start.is_whole_minute();
        self.advance(start, u64::from(duration.0), stop_at_session_end)
            .map_or(DateTime::<Utc>::MAX_UTC, |(date, minute)| {
                WallClock {
                    date,
                    minute,
                    ..start
                }
                .to_utc()
            })
    }

    /// Working time inside sessions between two instants (zero if `to <= from`).
    ///
    /// Both instants are truncated to the minute, so the result is additive:
    /// `between(a, b) + between(b, c) == between(a, c)` for `a <= b <= c`.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> WorkingMinutes {
        if to <= from {
            return WorkingMinutes::ZERO;
        }
        let (from, to) = (WallClock::of(from), WallClock::of(to));
        if from.date == to.date {
            return saturated(self.minutes_within(from.date, from.minute, to.minute));
        }
        let mut minutes = self.minutes_within(from.date, from.minute, MINUTES_PER_DAY);
        for date in from
            .date
            .iter_days()
            .skip(1)
            .take_while(|date| *date < to.date)
        {
            minutes += self
                .schedule_on(date)
                .map_or(0, |schedule| u64::from(schedule.working_minutes));
            // The answer saturates from here on: no need to walk further.
            if minutes >= u64::from(u32::MAX) {
                return WorkingMinutes(u32::MAX);
            }
        }
        saturated(minutes + self.minutes_within(to.date, 0, to.minute))
    }

    /// `from` plus `days` calendar days; a result on a day off moves to the next working day.
    ///
    /// The due instant is the close of business (end of the last session) of
    /// that day.
    pub fn add_calendar_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        local_date(from)
            .checked_add_days(Days::new(u64::from(days)))
            .and_then(|date| self.working_day_from(date))
            .map_or(DateTime::<Utc>::MAX_UTC, |(date, schedule)| {
                WallClock::at_minute(date, schedule.closes).to_utc()
            })
    }

    fn schedule_on(&self, date: NaiveDate) -> Option<&DaySchedule> {
        match self.days.kind_of(date) {
            Some(DayKind::Holiday) => None,
            Some(DayKind::MakeUpWorkday) => Some(&self.hours.regular),
            None => self.hours.schedule_for(date.weekday()),
        }
    }

    fn minutes_within(&self, date: NaiveDate, from_minute: u32, to_minute: u32) -> u64 {
        self.schedule_on(date).map_or(0, |schedule| {
            schedule.minutes_within(from_minute, to_minute)
        })
    }

    /// The first working day on or after `date` (`None` past chrono's range).
    fn working_day_from(&self, date: NaiveDate) -> Option<(NaiveDate, &DaySchedule)> {
        date.iter_days()
            .find_map(|day| self.schedule_on(day).map(|schedule| (day, schedule)))
    }

    /// Where counting starts: inside a session on a working day.
    fn start_position(&self, at: WallClock) -> Option<WallClock> {
        if let Some(schedule) = self.schedule_on(at.date) {
            for session in &schedule.sessions {
                if at.minute < session.start_minute() {
                    return Some(WallClock::at_minute(at.date, session.start_minute()));
                }
                if at.minute < session.end_minute() {
                    return Some(at);
                }
            }
        }
        let (date, schedule) = self.working_day_from(at.date.succ_opt()?)?;
        Some(WallClock::at_minute(date, schedule.opens))
    }

    /// The local date and minute reached after counting `remaining` working
    /// minutes from `start`, which lies inside a session on a working day.
    /// Whole working days are skipped in O(1) each.
    fn advance(
        &self,
        start: WallClock,
        mut remaining: u64,
        stop_at_session_end: bool,
    ) -> Option<(NaiveDate, u32)> {
        if let Some(minute) = self.schedule_on(start.date).and_then(|schedule| {
            schedule.consume(start.minute, &mut remaining, stop_at_session_end)
        }) {
            return Some((start.date, minute));
        }
        for date in start.date.iter_days().skip(1) {
            let Some(schedule) = self.schedule_on(date) else {
                continue;
            };
            let whole_day = u64::from(schedule.working_minutes);
            let lands_today =
                remaining < whole_day || (remaining == whole_day && stop_at_session_end);
            if lands_today {
                return schedule
                    .consume(schedule.opens, &mut remaining, stop_at_session_end)
                    .map(|minute| (date, minute));
            }
            remaining -= whole_day;
        }
        None
    }
}

const MINUTES_PER_DAY: u32 = 24 * 60;

fn saturated(minutes: u64) -> WorkingMinutes {
    WorkingMinutes(u32::try_from(minutes).unwrap_or(u32::MAX))
}
