//! The Biểu 06 report against an independent oracle, on both backends.
//!
//! A year of several thousand dossiers in a province reorganised in the
//! middle of it (two communes merged, a district dissolved and its
//! communes moved under the province) is written through the command path
//! (`common::history`). The projections are run to the log head; then, for
//! a few hundred queries — random units, periods (single days, weeks,
//! months, the whole year, periods across the reorganisation, before any
//! dossier and after the last), groupings and views — the report must
//! equal, row for row and count for count, what a deliberately simple fold
//! over the raw events computes (`common::oracle`, which shares no code
//! with the projections). Every row balances, child rows add up to the
//! subtree, and the province's totals are the same in both views.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::TestStore;
use common::history::{self, History, HistoryConfig, UNITS, unit, vn};
use common::oracle::{self, Oracle};
use common::rng::Rng;
use motcua_projections::report::{
    Bieu06, GroupBy, GroupKey, HierarchyView, Report, ReportQuery, ReportRow,
};
use motcua_projections::{Projector, ProjectorConfig, ReadModels, Visibility};

on_both_backends!(the_report_matches_the_oracle);

/// The history's seed; `MOTCUA_BIEU06_SEED` (decimal) explores others.
const SEED: u64 = 0xB1E0_0006_2024;

fn seed() -> u64 {
    std::env::var("MOTCUA_BIEU06_SEED").map_or(SEED, |seed| {
        seed.parse()
            .expect("MOTCUA_BIEU06_SEED is a decimal number")
    })
}
const DOSSIERS: usize = 3600;
const RANDOM_QUERIES: usize = 200;

async fn the_report_matches_the_oracle(db: &TestStore) {
    let backend = db.backend();
    let seed = seed();
    let read_models = read_models(db).await;
    let projector = Projector::new(
        db.store.clone(),
        read_models.clone(),
        ProjectorConfig::default(),
    );
    // The projector follows the log while it is written, as in production;
    // then it catches up with the rest.
    let generating = AtomicBool::new(true);
    let mut passes = 0;
    let (generated, ()) = tokio::join!(
        async {
            let generated = history::generate(
                &db.store,
                HistoryConfig {
                    seed,
                    dossiers: DOSSIERS,
                    concurrency: 12,
                },
            )
            .await;
            generating.store(false, Ordering::Release);
            generated
        },
        async {
            while generating.load(Ordering::Acquire) {
                projector.catch_up().await.unwrap();
                passes += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    );
    eprintln!(
        "{backend}: seed {seed}: {} dossiers, {} commands, {} events generated in {:.1?}, \
         the projector following in {passes} passes",
        generated.dossiers, generated.commands, generated.events, generated.elapsed
    );
    check_the_history(&generated);

    let started = Instant::now();
    let oracle = Oracle::load(&db.store, generated.events).await;
    check_the_oracle(&generated, &oracle);
    eprintln!(
        "{backend}: oracle loaded in {:.1?}; events: {:?}",
        started.elapsed(),
        oracle.event_counts
    );

    let started = Instant::now();
    projector.catch_up().await.unwrap();
    eprintln!(
        "{backend}: projections caught up in {:.1?}",
        started.elapsed()
    );

    let started = Instant::now();
    let queries = queries(seed);
    let mut failures = Vec::new();
    for query in &queries {
        let expected = oracle.report(&generated.hierarchy, query);
        check_arithmetic("the oracle", query, &expected);
        // Read as the unit's viewer reads, through row-level security on
        // PostgreSQL: it must not lose what merged or moved units recorded.
        // (A unit no longer in force has no viewers: the unit standing for
        // it today asks.)
        let hierarchy = &generated.hierarchy;
        let viewer = match hierarchy.version_at(&query.unit, query.today) {
            Some(_) => Some(query.unit.clone()),
            None => hierarchy.home_at(&query.unit, query.today),
        }
        .expect("a unit in force today stands for every unit");
        let actual = read_models
            .visible_to(&Visibility::under(hierarchy, &viewer, query.today))
            .report(&generated.hierarchy, query)
            .await
            .unwrap_or_else(|error| panic!("{}: {error}", describe(query)));
        check_arithmetic("the projection", query, &actual);
        if actual != expected {
            failures.push(format!(
                "{}:\n{}",
                describe(query),
                difference(&expected, &actual)
            ));
        }
    }
    let periods: BTreeSet<(NaiveDate, NaiveDate)> =
        queries.iter().map(|query| (query.from, query.to)).collect();
    for (from, to) in periods {
        let province = |view| ReportQuery {
            unit: unit(history::PROVINCE),
            from,
            to,
            group_by: GroupBy::ChildUnit,
            view,
            today: vn(2025, 3, 1, 9, 0),
        };
        let recorded = read_models
            .report(&generated.hierarchy, &province(HierarchyView::Recorded))
            .await
            .unwrap();
        let current = read_models
            .report(&generated.hierarchy, &province(HierarchyView::Current))
            .await
            .unwrap();
        assert_eq!(
            recorded.subtree, current.subtree,
            "{from} to {to}: the province's totals differ between the recorded and the current view"
        );
    }
    eprintln!(
        "{backend}: {} queries compared in {:.1?}",
        queries.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{backend}, seed {seed}: {} of {} reports differ from the oracle; the first ones:\n\n{}",
        failures.len(),
        queries.len(),
        failures[..failures.len().min(5)].join("\n\n")
    );
}

/// The read models of the test's database.
async fn read_models(db: &TestStore) -> ReadModels {
    ReadModels::new(&db.store)
}

/// Every command went through, and the history has every kind of event
/// and every hard case.
fn check_the_history(generated: &History) {
    assert!(
        generated.rejections.is_empty(),
        "the generator sent {} commands the domain refused (a generator bug), e.g.:\n{}",
        generated.rejections.len(),
        generated.rejections[..generated.rejections.len().min(20)].join("\n")
    );
    assert_eq!(generated.final_states.len(), generated.dossiers);
}

fn check_the_oracle(generated: &History, oracle: &Oracle) {
    assert_eq!(oracle.dossiers(), generated.dossiers);
    assert_eq!(
        oracle.event_counts.len(),
        26,
        "every kind of event occurs: {:?}",
        oracle.event_counts
    );
    let scenarios = oracle.scenarios(history::reorganisation(), history::horizon());
    for (scenario, count) in &scenarios {
        assert!(*count > 0, "no dossier is {scenario}: {scenarios:#?}");
    }
    // The oracle agrees with the aggregates' own reading of the year.
    let year = ReportQuery {
        unit: unit(history::PROVINCE),
        from: history::first_day(),
        to: history::last_day(),
        group_by: GroupBy::ChildUnit,
        view: HierarchyView::Recorded,
        today: vn(2025, 3, 1, 9, 0),
    };
    assert_eq!(
        oracle.report(&generated.hierarchy, &year).subtree,
        oracle::from_final_states(&generated.final_states, history::last_day()),
        "the oracle and the aggregates' final states disagree on the year"
    );
}

/// Balances, and rows that add up to the totals where they must.
fn check_arithmetic(who: &str, query: &ReportQuery, report: &Report) {
    let place = || format!("{who}, {}", describe(query));
    assert!(
        report.subtree.balances(),
        "{}: the subtree does not balance: {:?}",
        place(),
        report.subtree
    );
    assert!(
        report.unit_alone.balances(),
        "{}: the unit alone does not balance: {:?}",
        place(),
        report.unit_alone
    );
    for row in &report.rows {
        assert!(
            row.counts.balances(),
            "{}: row {:?} does not balance",
            place(),
            row
        );
        assert_ne!(row.counts, Bieu06::default(), "{}: an empty row", place());
    }
    let keys: Vec<&GroupKey> = report.rows.iter().map(|row| &row.key).collect();
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "{}: rows not sorted by key: {keys:?}",
        place()
    );
    let sum = |rows: &[ReportRow]| {
        let mut sum = Bieu06::default();
        for row in rows {
            sum += row.counts;
        }
        sum
    };
    match query.group_by {
        GroupBy::ChildUnit => {
            let mut total = report.unit_alone;
            total += sum(&report.rows);
            assert_eq!(
                report.subtree,
                total,
                "{}: the unit and its child rows do not add up to the subtree",
                place()
            );
        }
        GroupBy::Field | GroupBy::Procedure => assert_eq!(
            report.subtree,
            sum(&report.rows),
            "{}: the rows do not add up to the subtree",
            place()
        ),
        GroupBy::Month => {}
    }
}

fn describe(query: &ReportQuery) -> String {
    format!(
        "{} from {} to {} by {:?}, {:?} view{}",
        query.unit,
        query.from,
        query.to,
        query.group_by,
        query.view,
        match query.view {
            HierarchyView::Recorded => String::new(),
            HierarchyView::Current => format!(" (today {})", query.today),
        }
    )
}

/// The counts that differ, field by field, totals first, then rows.
fn difference(expected: &Report, actual: &Report) -> String {
    let mut out = String::new();
    if expected.unit != actual.unit {
        let _ = writeln!(
            out,
            "  unit: expected {}, got {}",
            expected.unit, actual.unit
        );
    }
    let mut counts = |name: &str, expected: Option<&Bieu06>, actual: Option<&Bieu06>| {
        if expected == actual {
            return;
        }
        let fields = |counts: Option<&Bieu06>| match counts {
            Some(counts) => serde_json::to_value(counts).unwrap(),
            None => serde_json::to_value(Bieu06::default()).unwrap(),
        };
        let (want, got) = (fields(expected), fields(actual));
        let mut differing = Vec::new();
        for (field, value) in want.as_object().unwrap() {
            let other = &got[field];
            if value != other {
                differing.push(format!("{field} {value} ≠ {other}"));
            }
        }
        let presence = match (expected, actual) {
            (None, _) => " (not expected)",
            (_, None) => " (missing)",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {name}{presence}: expected ≠ got: {}",
            differing.join(", ")
        );
    };
    counts(
        "unit_alone",
        Some(&expected.unit_alone),
        Some(&actual.unit_alone),
    );
    counts("subtree", Some(&expected.subtree), Some(&actual.subtree));
    let keys: BTreeSet<&GroupKey> = expected
        .rows
        .iter()
        .chain(&actual.rows)
        .map(|row| &row.key)
        .collect();
    let find = |rows: &'_ [ReportRow], key: &GroupKey| -> Option<Bieu06> {
        rows.iter()
            .find(|row| &row.key == key)
            .map(|row| row.counts)
    };
    for key in keys {
        let (want, got) = (find(&expected.rows, key), find(&actual.rows, key));
        counts(&format!("row {key:?}"), want.as_ref(), got.as_ref());
    }
    if out.is_empty() {
        out.push_str("  (the rows are in another order)\n");
    }
    out
}

/// The fixed cases, then random ones.
fn queries(seed: u64) -> Vec<ReportQuery> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let todays: [DateTime<Utc>; 4] = [
        vn(2025, 3, 1, 9, 0),
        // Before the reorganisation: today's tree is the old one.
        vn(2024, 5, 2, 10, 0),
        history::reorganisation(),
        vn(2024, 7, 1, 3, 0),
    ];
    let fixed_periods = [
        (history::first_day(), history::last_day()),
        (day(2024, 1, 1), day(2024, 12, 31)),
        // Before any dossier; after the last; around both.
        (day(2023, 12, 1), day(2023, 12, 31)),
        (day(2025, 1, 1), day(2025, 1, 31)),
        (day(2023, 11, 15), day(2025, 2, 10)),
        // Across the reorganisation, and its edges.
        (day(2024, 6, 15), day(2024, 7, 15)),
        (day(2024, 6, 28), day(2024, 6, 28)),
        (day(2024, 6, 30), day(2024, 6, 30)),
        (day(2024, 7, 1), day(2024, 7, 1)),
        (day(2024, 6, 1), day(2024, 6, 30)),
        (day(2024, 7, 1), day(2024, 9, 30)),
        // Tết, a holiday week; the last day of the year.
        (day(2024, 2, 8), day(2024, 2, 14)),
        (day(2024, 2, 10), day(2024, 2, 10)),
        (day(2024, 12, 31), day(2024, 12, 31)),
        (day(2024, 1, 1), day(2024, 3, 31)),
    ];
    let mut queries = Vec::new();
    let mut rng = Rng::new(seed ^ 0x0051_5545_5249_4553);
    let group_bys = [
        GroupBy::ChildUnit,
        GroupBy::Field,
        GroupBy::Procedure,
        GroupBy::Month,
    ];
    // Every fixed period at the province, by every grouping, in both views.
    for (from, to) in fixed_periods {
        for group_by in group_bys {
            for view in [HierarchyView::Recorded, HierarchyView::Current] {
                queries.push(ReportQuery {
                    unit: unit(history::PROVINCE),
                    from,
                    to,
                    group_by,
                    view,
                    today: todays[0],
                });
            }
        }
    }
    // The districts month by month across the reorganisation: Tây Sơn's
    // communes leave its subtree on 1 July; the months are placed by the
    // report's tree (at the end of the period), not each by its own.
    for code in [history::DONG_SON, history::TAY_SON] {
        for (from, to) in [fixed_periods[0], fixed_periods[5], fixed_periods[9]] {
            for view in [HierarchyView::Recorded, HierarchyView::Current] {
                queries.push(ReportQuery {
                    unit: unit(code),
                    from,
                    to,
                    group_by: GroupBy::Month,
                    view,
                    today: todays[0],
                });
            }
        }
    }
    // Every unit over the whole year and across the reorganisation.
    for code in UNITS {
        for (from, to) in [fixed_periods[0], fixed_periods[5]] {
            for view in [HierarchyView::Recorded, HierarchyView::Current] {
                queries.push(ReportQuery {
                    unit: unit(code),
                    from,
                    to,
                    group_by: *rng.pick(&group_bys),
                    view,
                    today: *rng.pick(&todays),
                });
            }
        }
    }
    for _ in 0..RANDOM_QUERIES {
        let (from, to) = if rng.chance(0.15) {
            *rng.pick(&fixed_periods)
        } else {
            let from = day(2023, 12, 15) + Duration::days(rng.between(0, 400) as i64);
            let length = match rng.weighted(&[0.2, 0.2, 0.3, 0.2, 0.1]) {
                0 => 0,
                1 => rng.between(1, 6),
                2 => rng.between(7, 40),
                3 => rng.between(41, 200),
                _ => rng.between(201, 420),
            };
            (from, from + Duration::days(length as i64))
        };
        let code = *rng.pick(&UNITS);
        queries.push(ReportQuery {
            unit: unit(code),
            from,
            to,
            group_by: *rng.pick(&group_bys),
            view: if rng.chance(0.5) {
                HierarchyView::Recorded
            } else {
                HierarchyView::Current
            },
            today: *rng.pick(&todays),
        });
    }
    queries
}
