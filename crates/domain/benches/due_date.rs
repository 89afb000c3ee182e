//! Due-date computation on the real 2024–2026 calendar: `counting_start` then
//! `add_working_time`, against a deliberately naive peer that steps minute by
//! minute, measured in the same run.
//!
//! Run with `cargo bench -p motcua-domain --bench due_date`; the output is a
//! Markdown section for docs/benchmarks.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use motcua_domain::calendar::{
    CalendarDay, DayTable, OfficeHours, STANDARD_AFTERNOON, STANDARD_MORNING, VIETNAM,
    WorkingCalendar, WorkingMinutes,
};

const ROUNDS: usize = 7;
/// Due dates per round for the calendar.
const OURS_PER_ROUND: usize = 20_000;
/// Due dates per round for the minute-by-minute peer, which is far slower.
const PEER_PER_ROUND: usize = 300;
/// 2025-01-01 00:00 in Vietnam, in Unix seconds.
const START_OF_2025: i64 = 1_735_664_400;
const MINUTES_IN_2025: u64 = 365 * 24 * 60;
const SHORTEST: u32 = WorkingMinutes::PER_DAY / 2;
const LONGEST: u32 = 30 * WorkingMinutes::PER_DAY;

/// A tiny xorshift64 generator: reproducible inputs without a dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Reception instants (whole minutes) in 2025 and durations of 0.5 to 30
/// working days.
fn inputs(count: usize) -> Vec<(DateTime<Utc>, WorkingMinutes)> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|_| {
            let minute = i64::try_from(rng.below(MINUTES_IN_2025)).expect("a year of minutes fits");
            let received = DateTime::from_timestamp(START_OF_2025 + minute * 60, 0)
                .expect("2025 is in chrono's range");
            let span = u64::from(LONGEST - SHORTEST + 1);
            let extra = u32::try_from(rng.below(span)).expect("below 30 days of minutes");
            (received, WorkingMinutes(SHORTEST + extra))
        })
        .collect()
}

fn due_date(
    calendar: &WorkingCalendar,
    received: DateTime<Utc>,
    duration: WorkingMinutes,
) -> DateTime<Utc> {
    let start = calendar.counting_start(received);
    calendar.add_working_time(start, duration)
}

/// The obvious algorithm: walk the local clock one minute at a time, counting
/// the minutes that fall inside a standard session on a working day.
fn minute_by_minute_due_date(
    calendar: &WorkingCalendar,
    received: DateTime<Utc>,
    duration: WorkingMinutes,
) -> DateTime<Utc> {
    let is_working_minute = |local: NaiveDateTime| {
        let clock = local.time();
        calendar.is_working_day(local.date())
            && ((STANDARD_MORNING.0 <= clock && clock < STANDARD_MORNING.1)
                || (STANDARD_AFTERNOON.0 <= clock && clock < STANDARD_AFTERNOON.1))
    };
    let mut local = received.with_timezone(&VIETNAM).naive_local();
    while !is_working_minute(local) {
        local += TimeDelta::minutes(1);
    }
    let mut remaining = duration.0;
    while remaining > 0 {
        if is_working_minute(local) {
            remaining -= 1;
        }
        local += TimeDelta::minutes(1);
    }
    local
        .and_local_timezone(VIETNAM)
        .single()
        .expect("UTC+7 has no gaps")
        .with_timezone(&Utc)
}

/// Nanoseconds per due date in each round, sorted.
fn measure(rounds: usize, mut round: impl FnMut() -> usize) -> Vec<f64> {
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let calls = round();
            started.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call
}

fn main() {
    let days: Vec<CalendarDay> = serde_json::from_str(include_str!(
        "../../../data/calendar/vietnam-2024-2026.json"
    ))
    .expect("the holiday data is valid JSON");
    let days = Arc::new(DayTable::new(days).expect("each date is declared once"));
    let calendar = WorkingCalendar::new(OfficeHours::default(), days);
    let samples = inputs(OURS_PER_ROUND);
    let peer_samples = &samples[..PEER_PER_ROUND];

    for &(received, duration) in peer_samples {
        assert_eq!(
            due_date(&calendar, received, duration),
            minute_by_minute_due_date(&calendar, received, duration),
            "received {received}, {duration:?}"
        );
    }

    let run_ours = || {
        for &(received, duration) in &samples {
            black_box(due_date(
                &calendar,
                black_box(received),
                black_box(duration),
            ));
        }
        samples.len()
    };
    let run_peer = || {
        for &(received, duration) in peer_samples {
            black_box(minute_by_minute_due_date(
                &calendar,
                black_box(received),
                black_box(duration),
            ));
        }
        peer_samples.len()
    };
    // One unmeasured round each, to warm caches and branch predictors.
    measure(1, run_ours);
    measure(1, run_peer);
    let ours = measure(ROUNDS, run_ours);
    let peer = measure(ROUNDS, run_peer);

    let median = |sorted: &[f64]| sorted[sorted.len() / 2];
    let row = |name: &str, sorted: &[f64]| {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} |",
            sorted[0],
            median(sorted),
            sorted[sorted.len() - 1]
        );
    };
    println!("### Due dates: `cargo bench -p motcua-domain --bench due_date`");
    println!();
    println!(
        "Real 2024–2026 calendar, standard office hours. Reception instants drawn \
         uniformly over 2025, durations of 0.5 to 30 working days; {ROUNDS} rounds of \
         {OURS_PER_ROUND} due dates (peer: {PEER_PER_ROUND}), nanoseconds per due date."
    );
    println!();
    println!("| implementation | min ns | median ns | max ns |");
    println!("|---|---:|---:|---:|");
    row(
        "`WorkingCalendar` (counting_start + add_working_time)",
        &ours,
    );
    row("minute-by-minute peer (is_working_day per minute)", &peer);
    println!();
    println!(
        "Peer / ours, median: {:.0}×. Both gave identical due dates on the {PEER_PER_ROUND} inputs compared.",
        median(&peer) / median(&ours)
    );
}
