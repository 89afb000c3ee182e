//! The working-time calendar against worked examples computed by hand and
//! against properties that must hold for every instant and duration.
//!
//! Holiday data (data/calendar/vietnam-2024-2026.json): the days off of civil
//! servants (công chức, viên chức) as announced for 2024–2026. A weekend day is
//! declared only when it is a holiday itself (Tết 2024, Giỗ Tổ 2026) or lies
//! inside an officially announced continuous break ("nghỉ từ thứ Bảy … đến hết
//! …"), so that a unit receiving on Saturdays is closed then too.
//!
//! Confirmed against published announcements or press reports of them:
//! - 2024: Tết 8–14 Feb; Giỗ Tổ Thu 18 Apr; 27 Apr–1 May with Mon 29 Apr
//!   swapped to make-up Sat 4 May; National Day 31 Aug–3 Sep (2 and 3 Sep off).
//! - 2025: Tết Sat 25 Jan–Sun 2 Feb (nine days, Mon 27–Fri 31 Jan off);
//!   Giỗ Tổ Mon 7 Apr; 30 Apr–4 May with Fri 2 May swapped to make-up Sat
//!   26 Apr; National Day Sat 30 Aug–Tue 2 Sep (1 and 2 Sep off); New Year
//!   1 Jan only.
//! - 2026: New Year Thu 1–Sun 4 Jan with Fri 2 Jan swapped to make-up Sat
//!   10 Jan (VPCP 12729/VPCP-KGVX); Tết Sat 14–Sun 22 Feb (Mon 16–Fri 20 Feb
//!   off); Giỗ Tổ on Sun 26 Apr, compensatory Mon 27 Apr; 30 Apr–1 May on
//!   Thu–Fri; National Day Sat 29 Aug–Wed 2 Sep: 1 and 2 Sep off, Mon 31 Aug
//!   swapped to make-up Sat 22 Aug (Ministry of Home Affairs proposal approved
//!   by the Prime Minister in October 2025).
//!
//! Not confirmed by a source found here:
//! - New Year 2024 (Mon 1 Jan): taken from the Labour Code 2019, art. 112
//!   (one day, no swap announced that we know of).
//! - The lunar labels in the names of 27 and 28 Jan 2025 (28 and 29 tháng
//!   Chạp; the month had no 30th) are computed, not quoted.
//! - 24 Nov 2026 ("Ngày Văn hóa Việt Nam", a day off in Politburo Resolution
//!   80) is left out: it is not a holiday until the Labour Code says so.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use motcua_domain::calendar::{
    CalendarDay, CalendarError, DayKind, DayTable, OfficeHours, VIETNAM, WorkingCalendar,
    WorkingMinutes, local_date,
};
use proptest::prelude::*;

const VIETNAM_2024_2026: &str = include_str!("../../../data/calendar/vietnam-2024-2026.json");

fn vietnam_days() -> Arc<DayTable> {
    let days: Vec<CalendarDay> =
        serde_json::from_str(VIETNAM_2024_2026).expect("the holiday data is valid JSON");
    Arc::new(DayTable::new(days).expect("the holiday data declares each date once"))
}

/// Standard hours (07:00–11:30, 13:30–17:00, Monday–Friday) with the real days.
fn standard() -> WorkingCalendar {
    WorkingCalendar::new(OfficeHours::default(), vietnam_days())
}

fn time(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").expect("a test time")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
}

/// A local Vietnam wall-clock time, "YYYY-MM-DD HH:MM[:SS]", as an instant.
fn vn(text: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .expect("a test instant");
    local
        .and_local_timezone(VIETNAM)
        .single()
        .expect("UTC+7 has no gaps")
        .with_timezone(&Utc)
}

fn days(days: f64) -> WorkingMinutes {
    WorkingMinutes::from_days(days).expect("a whole number of minutes")
}

// ---------------------------------------------------------------- counting start

#[test]
fn reception_inside_a_session_counts_from_reception() {
    // Tuesday 4 March 2025, 09:15 is inside the morning session.
    let cal = standard();
    assert_eq!(
        cal.counting_start(vn("2025-03-04 09:15")),
        vn("2025-03-04 09:15")
    );
    // Seconds are kept: nothing is rounded.
    assert_eq!(
        cal.counting_start(vn("2025-03-04 09:15:42")),
        vn("2025-03-04 09:15:42")
    );
}

#[test]
fn reception_at_lunch_counts_from_the_afternoon_session() {
    // 11:45 is in the 11:30–13:30 break; 11:30 itself is already closed.
    let cal = standard();
    assert_eq!(
        cal.counting_start(vn("2025-03-04 11:45")),
        vn("2025-03-04 13:30")
    );
    assert_eq!(
        cal.counting_start(vn("2025-03-04 11:30")),
        vn("2025-03-04 13:30")
    );
    assert_eq!(
        cal.counting_start(vn("2025-03-04 06:10")),
        vn("2025-03-04 07:00")
    );
}

#[test]
fn reception_after_hours_counts_from_the_next_morning() {
    // Tuesday 17:30 → Wednesday 07:00; 17:00 sharp is already closed.
    let cal = standard();
    assert_eq!(
        cal.counting_start(vn("2025-03-04 17:30")),
        vn("2025-03-05 07:00")
    );
    assert_eq!(
        cal.counting_start(vn("2025-03-04 17:00")),
        vn("2025-03-05 07:00")
    );
}

#[test]
fn reception_on_friday_evening_or_the_weekend_counts_from_monday() {
    // Friday 7 March 2025 18:00 and Sunday 9 March → Monday 10 March 07:00.
    let cal = standard();
    assert_eq!(
        cal.counting_start(vn("2025-03-07 18:00")),
        vn("2025-03-10 07:00")
    );
    assert_eq!(
        cal.counting_start(vn("2025-03-09 10:00")),
        vn("2025-03-10 07:00")
    );
    // In UTC the Monday 06:30 local reception is still Sunday 23:30: local time rules.
    assert_eq!(
        cal.counting_start(vn("2025-03-10 06:30")),
        vn("2025-03-10 07:00")
    );
}

#[test]
fn reception_on_a_holiday_counts_from_the_next_working_day() {
    let cal = standard();
    // Giỗ Tổ Hùng Vương, Monday 7 April 2025 → Tuesday 8 April 07:00.
    assert_eq!(
        cal.counting_start(vn("2025-04-07 09:00")),
        vn("2025-04-08 07:00")
    );
    // Mùng 1 Tết Ất Tỵ, Wednesday 29 January 2025: the break runs to Sunday
    // 2 February, so counting starts Monday 3 February 07:00.
    assert_eq!(
        cal.counting_start(vn("2025-01-29 10:00")),
        vn("2025-02-03 07:00")
    );
    // Make-up Saturday 26 April 2025 is a working day.
    assert_eq!(
        cal.counting_start(vn("2025-04-26 09:00")),
        vn("2025-04-26 09:00")
    );
}

// ---------------------------------------------------------------- adding working time

#[test]
fn a_quarter_day_is_two_hours() {
    // 0.25 day = 120 min: Tuesday 08:00 + 2 h = 10:00.
    assert_eq!(days(0.25), WorkingMinutes(120));
    assert_eq!(
        standard().add_working_time(vn("2025-03-04 08:00"), days(0.25)),
        vn("2025-03-04 10:00")
    );
}

#[test]
fn half_a_day_across_lunch() {
    // 0.5 day = 240 min from 10:00: 90 min to 11:30, the other 150 from
    // 13:30 → 16:00.
    assert_eq!(
        standard().add_working_time(vn("2025-03-04 10:00"), days(0.5)),
        vn("2025-03-04 16:00")
    );
}

#[test]
fn one_day() {
    let cal = standard();
    // From 09:00: 150 + 210 = 360 min left on Tuesday, 120 more on Wednesday
    // from 07:00 → Wednesday 09:00.
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 09:00"), days(1.0)),
        vn("2025-03-05 09:00")
    );
    // From 07:00 the day fills exactly: the due time is Tuesday 17:00, not
    // Wednesday 07:00.
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 07:00"), days(1.0)),
        vn("2025-03-04 17:00")
    );
    // Received after hours: counting starts Wednesday 07:00 and ends 17:00.
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 19:00"), days(1.0)),
        vn("2025-03-05 17:00")
    );
    // 4.5 h from 07:00 ends exactly at the morning's close, 11:30.
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 07:00"), WorkingMinutes(270)),
        vn("2025-03-04 11:30")
    );
}

#[test]
fn zero_is_the_counting_start() {
    let cal = standard();
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 11:45"), WorkingMinutes::ZERO),
        vn("2025-03-04 13:30")
    );
    assert_eq!(
        cal.add_working_time(vn("2025-03-04 09:10:05"), WorkingMinutes::ZERO),
        vn("2025-03-04 09:10:05")
    );
}

#[test]
fn a_count_starting_mid_minute_keeps_its_seconds() {
    // 16:59:30 + 1 min: 30 s remain on Tuesday, 30 s more on Wednesday.
    assert_eq!(
        standard().add_working_time(vn("2025-03-04 16:59:30"), WorkingMinutes(1)),
        vn("2025-03-05 07:00:30")
    );
}

#[test]
fn three_days_across_a_weekend() {
    // Thursday 6 March 2025 14:00 + 3 days: a whole day from a time ends at
    // the same time on the next working day; Fri 7 (1), Mon 10 (2), Tue 11 (3).
    assert_eq!(
        standard().add_working_time(vn("2025-03-06 14:00"), days(3.0)),
        vn("2025-03-11 14:00")
    );
}

#[test]
fn five_days_across_tet_2025() {
    // Friday 24 January 2025 10:00. Off: Sat 25 Jan–Sun 2 Feb. Working days
    // after: Mon 3 (1), Tue 4 (2), Wed 5 (3), Thu 6 (4), Fri 7 Feb (5).
    assert_eq!(
        standard().add_working_time(vn("2025-01-24 10:00"), days(5.0)),
        vn("2025-02-07 10:00")
    );
}

#[test]
fn five_days_across_tet_2026() {
    // Friday 13 February 2026 15:00. Off: Sat 14–Sun 22 Feb. Then Mon 23 (1),
    // Tue 24 (2), Wed 25 (3), Thu 26 (4), Fri 27 Feb (5).
    assert_eq!(
        standard().add_working_time(vn("2026-02-13 15:00"), days(5.0)),
        vn("2026-02-27 15:00")
    );
}

#[test]
fn across_the_30_april_block_with_the_2025_make_up_saturday() {
    let cal = standard();
    // Thursday 24 April 2025 09:00 + 3 days: Fri 25 (1), make-up Sat 26 (2),
    // Mon 28 (3) → Monday 28 April 09:00.
    assert_eq!(
        cal.add_working_time(vn("2025-04-24 09:00"), days(3.0)),
        vn("2025-04-28 09:00")
    );
    // Monday 28 April 09:00 + 5 days: Tue 29 (1); off Wed 30 Apr–Sun 4 May;
    // Mon 5 (2), Tue 6 (3), Wed 7 (4), Thu 8 May (5).
    assert_eq!(
        cal.add_working_time(vn("2025-04-28 09:00"), days(5.0)),
        vn("2025-05-08 09:00")
    );
    // Without the declared days the same count ends on Friday 2 May.
    let weekly_only = WorkingCalendar::new(OfficeHours::default(), Arc::new(DayTable::empty()));
    assert_eq!(
        weekly_only.add_working_time(vn("2025-04-28 09:00"), days(5.0)),
        vn("2025-05-05 09:00")
    );
}

#[test]
fn across_the_30_april_block_with_the_2024_make_up_saturday() {
    // Friday 26 April 2024 10:00 + 2 days: off Sat 27 Apr–Wed 1 May;
    // Thu 2 May (1), Fri 3 May (2).
    let cal = standard();
    assert_eq!(
        cal.add_working_time(vn("2024-04-26 10:00"), days(2.0)),
        vn("2024-05-03 10:00")
    );
    // One more day lands on make-up Saturday 4 May.
    assert_eq!(
        cal.add_working_time(vn("2024-04-26 10:00"), days(3.0)),
        vn("2024-05-04 10:00")
    );
}

#[test]
fn across_the_year_end_2024_2025() {
    // Tuesday 31 December 2024 10:00 + 2 days: New Year Wed 1 Jan off;
    // Thu 2 (1), Fri 3 Jan (2).
    assert_eq!(
        standard().add_working_time(vn("2024-12-31 10:00"), days(2.0)),
        vn("2025-01-03 10:00")
    );
}

#[test]
fn across_the_year_end_2025_2026() {
    let cal = standard();
    // Wednesday 31 December 2025 16:00 + 1 day: off Thu 1–Sun 4 Jan (2 Jan
    // swapped); Mon 5 Jan (1) → 16:00.
    assert_eq!(
        cal.add_working_time(vn("2025-12-31 16:00"), days(1.0)),
        vn("2026-01-05 16:00")
    );
    // Monday 5 January 2026 09:00 + 5 days: Tue 6, Wed 7, Thu 8, Fri 9 and
    // make-up Saturday 10 January (5).
    assert_eq!(
        cal.add_working_time(vn("2026-01-05 09:00"), days(5.0)),
        vn("2026-01-10 09:00")
    );
}

// ---------------------------------------------------------------- working time between

#[test]
fn working_time_across_lunch() {
    // 11:00–14:00: 30 min before lunch, 30 after.
    assert_eq!(
        standard().working_time_between(vn("2025-03-04 11:00"), vn("2025-03-04 14:00")),
        WorkingMinutes(60)
    );
}

#[test]
fn working_time_overnight() {
    // Tuesday 16:00 → Wednesday 08:00: 60 + 60 min.
    assert_eq!(
        standard().working_time_between(vn("2025-03-04 16:00"), vn("2025-03-05 08:00")),
        WorkingMinutes(120)
    );
}

#[test]
fn working_time_over_a_weekend() {
    let cal = standard();
    // Friday 15:00 → Monday 09:00: 120 + 120 min.
    assert_eq!(
        cal.working_time_between(vn("2025-03-07 15:00"), vn("2025-03-10 09:00")),
        WorkingMinutes(240)
    );
    // Monday to Monday, 07:00: five days of 480 min.
    assert_eq!(
        cal.working_time_between(vn("2025-03-03 07:00"), vn("2025-03-10 07:00")),
        WorkingMinutes(2400)
    );
}

#[test]
fn working_time_over_tet() {
    // Friday 24 Jan 2025 09:00 → Tuesday 4 Feb 09:00: 360 min on Friday, the
    // Tết break, 480 on Monday 3 Feb, 120 on Tuesday.
    assert_eq!(
        standard().working_time_between(vn("2025-01-24 09:00"), vn("2025-02-04 09:00")),
        WorkingMinutes(960)
    );
}

#[test]
fn working_time_backwards_is_zero() {
    let cal = standard();
    assert_eq!(
        cal.working_time_between(vn("2025-03-05 09:00"), vn("2025-03-04 09:00")),
        WorkingMinutes::ZERO
    );
    assert_eq!(
        cal.working_time_between(vn("2025-03-05 09:00"), vn("2025-03-05 09:00")),
        WorkingMinutes::ZERO
    );
}

// ---------------------------------------------------------------- calendar days

#[test]
fn calendar_days_ending_on_a_working_day() {
    // Monday 3 March 2025 + 2 days = Wednesday 5 March, close of business.
    assert_eq!(
        standard().add_calendar_days(vn("2025-03-03 10:00"), 2),
        vn("2025-03-05 17:00")
    );
}

#[test]
fn calendar_days_ending_on_a_weekend_move_to_monday() {
    // Monday 3 March 2025 + 5 = Saturday 8 March → Monday 10 March 17:00.
    assert_eq!(
        standard().add_calendar_days(vn("2025-03-03 10:00"), 5),
        vn("2025-03-10 17:00")
    );
}

#[test]
fn calendar_days_ending_on_a_holiday_move_past_it() {
    let cal = standard();
    // Wednesday 23 April 2025 + 7 = Wednesday 30 April (holiday); off to
    // Sunday 4 May → Monday 5 May 17:00.
    assert_eq!(
        cal.add_calendar_days(vn("2025-04-23 08:00"), 7),
        vn("2025-05-05 17:00")
    );
    // Saturday 19 April + 7 = make-up Saturday 26 April, a working day.
    assert_eq!(
        cal.add_calendar_days(vn("2025-04-19 08:00"), 7),
        vn("2025-04-26 17:00")
    );
}

// ---------------------------------------------------------------- custom office hours

/// A commune unit: 07:30–11:30 and 13:30–17:30 on weekdays, and citizens
/// received on Saturday mornings 07:30–11:30.
fn saturday_morning_unit() -> WorkingCalendar {
    let hours = OfficeHours::new(
        &[
            (time("07:30"), time("11:30")),
            (time("13:30"), time("17:30")),
        ],
        &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
    )
    .and_then(|hours| hours.with_weekday_sessions(Weekday::Sat, &[(time("07:30"), time("11:30"))]))
    .expect("valid office hours");
    WorkingCalendar::new(hours, vietnam_days())
}

#[test]
fn a_unit_receiving_on_saturday_mornings() {
    let cal = saturday_morning_unit();
    // Saturday 8 March 2025 10:00 is inside the Saturday session.
    assert_eq!(
        cal.counting_start(vn("2025-03-08 10:00")),
        vn("2025-03-08 10:00")
    );
    // Saturday 12:00 is after it: Monday 07:30.
    assert_eq!(
        cal.counting_start(vn("2025-03-08 12:00")),
        vn("2025-03-10 07:30")
    );
    // Friday 15:30 + 1 day: 120 min on Friday, 240 on Saturday morning,
    // 120 from Monday 07:30 → 09:30.
    assert_eq!(
        cal.add_working_time(vn("2025-03-07 15:30"), days(1.0)),
        vn("2025-03-10 09:30")
    );
    // Friday 07:30 → Monday 07:30: 480 + 240.
    assert_eq!(
        cal.working_time_between(vn("2025-03-07 07:30"), vn("2025-03-10 07:30")),
        WorkingMinutes(720)
    );
    // Calendar days close at the end of that day's last session: 11:30 on a Saturday.
    assert_eq!(
        cal.add_calendar_days(vn("2025-03-03 10:00"), 5),
        vn("2025-03-08 11:30")
    );
}

#[test]
fn a_saturday_unit_is_closed_on_saturdays_inside_a_declared_break_and_works_make_up_days_in_full() {
    let cal = saturday_morning_unit();
    // Saturday 14 February 2026 opens the Tết break: counting starts Monday 23 Feb.
    assert_eq!(
        cal.counting_start(vn("2026-02-14 08:00")),
        vn("2026-02-23 07:30")
    );
    // Make-up Saturday 26 April 2025 replaces a full weekday: open at 14:00.
    assert_eq!(
        cal.counting_start(vn("2025-04-26 14:00")),
        vn("2025-04-26 14:00")
    );
}

#[test]
fn office_hours_survive_storage() {
    for hours in [
        OfficeHours::default(),
        saturday_morning_unit().hours().clone(),
    ] {
        let stored = serde_json::to_string(&hours).expect("serializable");
        let read: OfficeHours = serde_json::from_str(&stored).expect("readable");
        assert_eq!(read, hours, "{stored}");
    }
    let stored = serde_json::to_value(OfficeHours::default()).expect("serializable");
    assert_eq!(
        stored,
        serde_json::json!({
            "sessions": [
                {"start": "07:00:00", "end": "11:30:00"},
                {"start": "13:30:00", "end": "17:00:00"}
            ],
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]
        })
    );
}

#[test]
fn stored_office_hours_are_validated_when_read() {
    let overlapping = r#"{"sessions": [{"start": "07:00:00", "end": "12:00:00"},
        {"start": "11:00:00", "end": "17:00:00"}], "weekdays": ["Mon"]}"#;
    assert!(serde_json::from_str::<OfficeHours>(overlapping).is_err());
}

#[test]
fn default_office_hours_are_the_standard_hours() {
    let standard = OfficeHours::new(
        &[
            (time("07:00"), time("11:30")),
            (time("13:30"), time("17:00")),
        ],
        &[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
    );
    assert_eq!(standard, Ok(OfficeHours::default()));
    assert_eq!(OfficeHours::default().sessions_on(Weekday::Sat).count(), 0);
}

// ---------------------------------------------------------------- validation

#[test]
fn office_hours_reject_bad_sessions() {
    let weekdays = [Weekday::Mon];
    assert_eq!(
        OfficeHours::new(
            &[
                (time("07:00"), time("12:00")),
                (time("11:00"), time("17:00"))
            ],
            &weekdays
        ),
        Err(CalendarError::SessionsOverlap {
            previous_end: time("12:00"),
            start: time("11:00")
        })
    );
    assert_eq!(
        OfficeHours::new(
            &[
                (time("13:30"), time("17:00")),
                (time("07:00"), time("11:30"))
            ],
            &weekdays
        ),
        Err(CalendarError::SessionsOverlap {
            previous_end: time("17:00"),
            start: time("07:00")
        })
    );
    assert_eq!(
        OfficeHours::new(&[(time("11:30"), time("07:00"))], &weekdays),
        Err(CalendarError::EmptySession {
            start: time("11:30"),
            end: time("07:00")
        })
    );
    let half_past = NaiveTime::from_hms_opt(7, 0, 30).expect("a valid time");
    assert_eq!(
        OfficeHours::new(&[(half_past, time("11:30"))], &weekdays),
        Err(CalendarError::SessionNotOnWholeMinutes {
            start: half_past,
            end: time("11:30")
        })
    );
    assert_eq!(
        OfficeHours::new(&[], &weekdays),
        Err(CalendarError::NoSession)
    );
    assert_eq!(
        OfficeHours::new(&[(time("07:00"), time("11:30"))], &[]),
        Err(CalendarError::NoWorkingWeekday)
    );
}

#[test]
fn day_table_rejects_a_date_declared_twice() {
    let tet = |name: &str| CalendarDay {
        date: date("2025-01-29"),
        kind: DayKind::Holiday,
        name: name.to_owned(),
    };
    assert_eq!(
        DayTable::new([tet("Mùng 1 Tết"), tet("Tết Nguyên đán")]),
        Err(CalendarError::DuplicateDay {
            date: date("2025-01-29")
        })
    );
}

#[test]
fn the_declared_days_stay_readable_in_date_order() {
    let table = vietnam_days();
    let dates: Vec<NaiveDate> = table.iter().map(|day| day.date).collect();
    assert!(dates.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(
        table.kind_of(date("2025-04-26")),
        Some(DayKind::MakeUpWorkday)
    );
    assert_eq!(table.kind_of(date("2025-04-25")), None);
    // Every make-up day is a Saturday.
    assert!(
        table
            .iter()
            .filter(|day| day.kind == DayKind::MakeUpWorkday)
            .all(|day| day.date.weekday() == Weekday::Sat)
    );
}

#[test]
fn working_days_per_year() {
    // Weekdays less weekday holidays plus make-up days, counted by hand:
    // 2024: 262 − 12 + 1; 2025: 261 − 12 + 1; 2026: 261 − 13 + 2.
    let cal = standard();
    for (year, expected) in [(2024, 251), (2025, 250), (2026, 250)] {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid date");
        let working = first
            .iter_days()
            .take_while(|day| day.year() == year)
            .filter(|day| cal.is_working_day(*day))
            .count();
        assert_eq!(working, expected, "{year}");
    }
}

#[test]
fn working_minutes_from_fractional_days_and_hours() {
    assert_eq!(WorkingMinutes::from_days(0.5), Some(WorkingMinutes(240)));
    assert_eq!(
        WorkingMinutes::from_days(1.0 / 3.0),
        Some(WorkingMinutes(160))
    );
    assert_eq!(
        WorkingMinutes::from_days(30.0),
        Some(WorkingMinutes(14_400))
    );
    assert_eq!(WorkingMinutes::from_days(0.001), None);
    assert_eq!(WorkingMinutes::from_days(-1.0), None);
    assert_eq!(WorkingMinutes::from_days(f64::NAN), None);
    assert_eq!(WorkingMinutes::from_days(f64::INFINITY), None);
    assert_eq!(WorkingMinutes::from_days(1e10), None);
    assert_eq!(WorkingMinutes::from_hours(24.0), Some(WorkingMinutes(1440)));
    assert_eq!(WorkingMinutes::whole_days(3), Some(WorkingMinutes(1440)));
    assert_eq!(WorkingMinutes::whole_days(u32::MAX), None);
    assert_eq!(WorkingMinutes(240).as_days_f64(), 0.5);
    assert_eq!(
        WorkingMinutes(10).saturating_sub(WorkingMinutes(20)),
        WorkingMinutes::ZERO
    );
    assert_eq!(
        WorkingMinutes(u32::MAX).checked_add(WorkingMinutes(1)),
        None
    );
}

#[test]
fn extreme_inputs_saturate_instead_of_panicking() {
    let cal = standard();
    let end = DateTime::<Utc>::MAX_UTC;
    assert_eq!(cal.counting_start(end), end);
    assert_eq!(cal.add_working_time(end, WorkingMinutes(1)), end);
    assert_eq!(cal.add_calendar_days(end, u32::MAX), end);
    assert_eq!(local_date(end), NaiveDate::MAX);
    // The longest duration is about 34,000 years of working days: still a
    // date chrono can hold, reached one day at a time without overflow.
    let far = cal.add_working_time(vn("2025-03-04 09:00"), WorkingMinutes(u32::MAX));
    assert!(far > vn("2025-03-04 09:00"));
    assert_eq!(
        cal.working_time_between(vn("2025-03-04 09:00"), end),
        WorkingMinutes(u32::MAX)
    );
}

// ---------------------------------------------------------------- properties

/// Local 2024-01-01 00:00 to 2027-01-01 00:00 (UTC+7), in Unix seconds.
const FIRST_SECOND: i64 = 1_704_042_000;
const LAST_SECOND: i64 = 1_798_736_400;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (FIRST_SECOND..LAST_SECOND)
        .prop_map(|seconds| DateTime::from_timestamp(seconds, 0).expect("in chrono's range"))
}

fn up_to_30_days() -> impl Strategy<Value = WorkingMinutes> {
    (0..=30 * WorkingMinutes::PER_DAY).prop_map(WorkingMinutes)
}

fn either_calendar() -> impl Strategy<Value = WorkingCalendar> {
    prop_oneof![Just(standard()), Just(saturday_morning_unit())]
}

/// Counts minute by minute: the obvious algorithm, for the standard hours.
fn minute_by_minute(
    cal: &WorkingCalendar,
    from: DateTime<Utc>,
    duration: WorkingMinutes,
) -> DateTime<Utc> {
    let is_working_minute = |at: DateTime<Utc>| {
        let local = at.with_timezone(&VIETNAM);
        let clock = local.time();
        cal.is_working_day(local.date_naive())
            && ((time("07:00") <= clock && clock < time("11:30"))
                || (time("13:30") <= clock && clock < time("17:00")))
    };
    let mut at = from;
    while !is_working_minute(at) {
        at += chrono::TimeDelta::minutes(1);
    }
    for _ in 0..duration.0 {
        while !is_working_minute(at) {
            at += chrono::TimeDelta::minutes(1);
        }
        at += chrono::TimeDelta::minutes(1);
    }
    at
}

proptest! {
    #[test]
    fn adding_then_measuring_gives_the_duration_back(
        cal in either_calendar(), from in instant(), duration in up_to_30_days()
    ) {
        let due = cal.add_working_time(from, duration);
        prop_assert_eq!(cal.working_time_between(from, due), duration);
    }

    #[test]
    fn adding_is_monotonic(
        cal in either_calendar(), from in instant(), later_by in 0..30 * 86_400_i64,
        duration in up_to_30_days(), more in up_to_30_days()
    ) {
        let longer = WorkingMinutes(duration.0 + more.0);
        prop_assert!(cal.add_working_time(from, duration) <= cal.add_working_time(from, longer));
        let later = from + chrono::TimeDelta::seconds(later_by);
        prop_assert!(cal.add_working_time(from, duration) <= cal.add_working_time(later, duration));
    }

    #[test]
    fn a_due_time_lies_inside_or_at_the_end_of_a_session(
        from in instant(), duration in (1..=30 * WorkingMinutes::PER_DAY).prop_map(WorkingMinutes)
    ) {
        let cal = standard();
        let due = cal.add_working_time(from, duration).with_timezone(&VIETNAM);
        let clock = due.time();
        prop_assert!(cal.is_working_day(due.date_naive()), "{due}");
        prop_assert!(
            (time("07:00") < clock && clock <= time("11:30"))
                || (time("13:30") < clock && clock <= time("17:00")),
            "{due}"
        );
    }

    #[test]
    fn measuring_is_additive(cal in either_calendar(), a in instant(), b in instant(), c in instant()) {
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(
            cal.working_time_between(a, b).0 + cal.working_time_between(b, c).0,
            cal.working_time_between(a, c).0
        );
    }

    #[test]
    fn adding_agrees_with_counting_minute_by_minute(
        minute in (FIRST_SECOND / 60)..(LAST_SECOND / 60),
        duration in (0..=3 * WorkingMinutes::PER_DAY).prop_map(WorkingMinutes)
    ) {
        let cal = standard();
        let from = DateTime::from_timestamp(minute * 60, 0).expect("in chrono's range");
        prop_assert_eq!(cal.add_working_time(from, duration), minute_by_minute(&cal, from, duration));
    }

    #[test]
    fn counting_starts_at_or_after_reception_and_before_the_due_time(
        cal in either_calendar(), from in instant(), duration in up_to_30_days()
    ) {
        let start = cal.counting_start(from);
        prop_assert!(from <= start);
        prop_assert_eq!(cal.counting_start(start), start);
        prop_assert!(start <= cal.add_working_time(from, duration));
    }
}
