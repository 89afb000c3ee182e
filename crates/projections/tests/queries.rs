//! The dossier queries on both backends, against the aggregates
//! themselves: a unit's queue page by page, lookups by code inside and
//! outside the tenant scope, text search, overdue and due-soon worklists,
//! and each officer's load.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::TestStore;
use common::history::{self, HistoryConfig};
use motcua_domain::calendar::{WorkingMinutes, local_date};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_domain::unit::UnitId;
use motcua_projections::dossiers::{DossierFilter, DossierOrder, PageCursor, TimeRange};
use motcua_projections::{ProjectionError, Projector, ProjectorConfig, ReadModels};
use motcua_store::{LogCursor, Replayer};

on_both_backends!(queries_answer_as_the_aggregates_do);

async fn queries_answer_as_the_aggregates_do(db: &TestStore) {
    let history = history::generate(
        &db.store,
        HistoryConfig {
            seed: 3,
            dossiers: 400,
            concurrency: 8,
        },
    )
    .await;
    assert!(history.rejections.is_empty(), "{:?}", history.rejections);
    let read_models = ReadModels::new(&db.store);
    Projector::new(
        db.store.clone(),
        read_models.clone(),
        ProjectorConfig::default(),
    )
    .catch_up()
    .await
    .unwrap();
    let dossiers = aggregates(db).await;

    // The busiest holder's open queue, seven rows a page, soonest due first.
    let mut by_holder: std::collections::BTreeMap<UnitId, usize> = Default::default();
    for dossier in &dossiers {
        if let Some(holder) = dossier.holder() {
            *by_holder.entry(holder.clone()).or_default() += 1;
        }
    }
    let unit = by_holder
        .iter()
        .max_by_key(|(_, count)| **count)
        .unwrap()
        .0
        .clone();
    let filter = DossierFilter {
        units: vec![unit.clone()],
        open_only: true,
        ..DossierFilter::default()
    };
    let mut pages = Vec::new();
    let mut after: Option<PageCursor> = None;
    loop {
        let page = read_models
            .dossiers(&filter, DossierOrder::DueFirst, 7, after.as_ref())
            .await
            .unwrap();
        assert!(page.rows.len() <= 7);
        pages.extend(page.rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<&Dossier> = dossiers
        .iter()
        .filter(|dossier| {
            dossier.holder() == Some(&unit)
                && !dossier.is_deleted()
                && dossier.deadlines().is_some()
                && dossier.finished_at().is_none()
                && dossier.closed_at().is_none()
        })
        .collect();
    assert!(!expected.is_empty(), "the queue is empty");
    assert_eq!(
        pages
            .iter()
            .map(|row| row.aggregate_id.clone())
            .collect::<BTreeSet<_>>(),
        expected
            .iter()
            .map(|dossier| dossier.id().unwrap().to_string())
            .collect::<BTreeSet<_>>(),
    );
    assert_eq!(pages.len(), expected.len(), "a row came twice");
    let dues: Vec<DateTime<Utc>> = pages.iter().map(|row| row.due_at.unwrap()).collect();
    assert!(
        dues.windows(2).all(|pair| pair[0] <= pair[1]),
        "not soonest first"
    );

    // Newest first, all statuses, by pages of 100: the whole scope.
    let everything = read_models
        .dossiers(
            &DossierFilter {
                units: vec![unit.clone()],
                ..DossierFilter::default()
            },
            DossierOrder::NewestFirst,
            100,
            None,
        )
        .await
        .unwrap();
    let submitted: Vec<_> = everything.rows.iter().map(|row| row.submitted_at).collect();
    assert!(submitted.windows(2).all(|pair| pair[0] >= pair[1]));

    // Status filter.
    let processing = read_models
        .dossiers(
            &DossierFilter {
                units: vec![unit.clone()],
                statuses: vec![4],
                ..DossierFilter::default()
            },
            DossierOrder::DueFirst,
            100,
            None,
        )
        .await
        .unwrap();
    assert!(processing.rows.iter().all(|row| row.status == Some(4)));
    assert_eq!(
        processing.rows.len(),
        dossiers
            .iter()
            .filter(|dossier| dossier.holder() == Some(&unit)
                && !dossier.is_deleted()
                && dossier.status().map(|status| status.code()) == Some(4))
            .count()
            .min(100)
    );

    // A dossier by its code: found from any unit that held it, not from others.
    let coded = dossiers
        .iter()
        .find(|dossier| dossier.code().is_some() && dossier.holders().len() > 1)
        .or_else(|| dossiers.iter().find(|dossier| dossier.code().is_some()))
        .unwrap();
    let code = coded.code().unwrap().to_string();
    for holder in coded.holders() {
        let found = read_models
            .dossier_by_code(&code, std::slice::from_ref(holder))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.aggregate_id, coded.id().unwrap().to_string());
    }
    let stranger = history
        .hierarchy
        .versions()
        .iter()
        .map(|version| version.id.clone())
        .find(|id| !coded.holders().contains(id))
        .unwrap();
    assert_eq!(
        read_models
            .dossier_by_code(&code, &[stranger])
            .await
            .unwrap(),
        None
    );

    // Text search: by code prefix and by a word of the name, in any case.
    let prefix = &code[..code.len() - 2];
    let all_units: Vec<UnitId> = by_holder.keys().cloned().collect();
    let search = |text: String| DossierFilter {
        units: all_units.clone(),
        text: Some(text),
        include_deleted: true,
        ..DossierFilter::default()
    };
    let by_prefix = read_models
        .dossiers(
            &search(prefix.to_owned()),
            DossierOrder::DueFirst,
            100,
            None,
        )
        .await
        .unwrap();
    assert!(
        by_prefix
            .rows
            .iter()
            .any(|row| row.code.as_deref() == Some(code.as_str()))
    );
    assert!(
        by_prefix
            .rows
            .iter()
            .all(|row| row.code.as_deref().unwrap_or("").starts_with(prefix))
    );
    let name = coded.applicant().unwrap().name.clone();
    let word = name.split_whitespace().last().unwrap().to_uppercase();
    let by_name = read_models
        .dossiers(&search(word.clone()), DossierOrder::DueFirst, 100, None)
        .await
        .unwrap();
    assert!(
        by_name
            .rows
            .iter()
            .any(|row| row.applicant_name.as_deref() == Some(name.as_str()))
    );
    let literal = read_models
        .dossiers(&search("%".to_owned()), DossierOrder::DueFirst, 100, None)
        .await
        .unwrap();
    assert!(literal.rows.is_empty(), "% is matched literally");

    // Overdue at the end of the year, by date: every running open dossier
    // due on an earlier day, and no other.
    let now = history::horizon() - Duration::hours(1);
    let running = |dossier: &&Dossier| {
        !dossier.is_deleted()
            && dossier.finished_at().is_none()
            && dossier.closed_at().is_none()
            && matches!(
                dossier.step(),
                Step::Accepted
                    | Step::TransferredIn
                    | Step::AtDepartment
                    | Step::WithSpecialist
                    | Step::AwaitingApproval
                    | Step::Approved
            )
            && all_units.contains(dossier.holder().unwrap())
    };
    let expected_overdue: BTreeSet<String> = dossiers
        .iter()
        .filter(running)
        .filter(|dossier| local_date(dossier.deadlines().unwrap().due_at) < local_date(now))
        .map(|dossier| dossier.id().unwrap().to_string())
        .collect();
    let overdue = read_models
        .overdue(&all_units, TimelinessPolicy::ByDate, now, 100, None)
        .await
        .unwrap();
    assert_eq!(
        overdue
            .rows
            .iter()
            .map(|row| row.aggregate_id.clone())
            .collect::<BTreeSet<_>>(),
        expected_overdue
            .iter()
            .take(100)
            .cloned()
            .collect::<BTreeSet<_>>(),
    );

    // Due within a long working horizon: running, not yet due.
    let calendar = history.services.default_calendar.clone();
    let soon = read_models
        .due_soon(&all_units, &calendar, now, WorkingMinutes(480 * 300), 100)
        .await
        .unwrap();
    let expected_soon: BTreeSet<String> = dossiers
        .iter()
        .filter(running)
        .filter(|dossier| dossier.deadlines().unwrap().due_at >= now)
        .map(|dossier| dossier.id().unwrap().to_string())
        .collect();
    assert_eq!(
        soon.rows
            .iter()
            .map(|row| row.aggregate_id.clone())
            .collect::<BTreeSet<_>>(),
        expected_soon,
    );

    // Each officer's load: open, overdue, resolved over the year.
    let loads = read_models
        .officer_loads(
            &all_units,
            TimelinessPolicy::ByDate,
            now,
            TimeRange::default(),
        )
        .await
        .unwrap();
    assert!(!loads.is_empty());
    for load in &loads {
        let theirs: Vec<&Dossier> = dossiers
            .iter()
            .filter(|dossier| {
                dossier.assignee() == Some(load.assignee.as_str())
                    && !dossier.is_deleted()
                    && all_units.contains(dossier.holder().unwrap())
            })
            .collect();
        assert_eq!(
            load.open,
            theirs.iter().copied().filter(running).count() as i64,
            "{}",
            load.assignee
        );
        assert_eq!(
            load.resolved,
            theirs
                .iter()
                .filter(|dossier| dossier.finished_at().is_some())
                .count() as i64
        );
        assert!(load.overdue <= load.open && load.resolved_late <= load.resolved);
    }

    // Bad pages are refused.
    assert!(matches!(
        read_models
            .dossiers(&filter, DossierOrder::DueFirst, 0, None)
            .await,
        Err(ProjectionError::InvalidQuery { field: "first", .. })
    ));
    assert!(matches!(
        read_models
            .dossiers(&filter, DossierOrder::DueFirst, 101, None)
            .await,
        Err(ProjectionError::InvalidQuery { field: "first", .. })
    ));
}

/// Every dossier, loaded by its aggregate.
async fn aggregates(db: &TestStore) -> Vec<Dossier> {
    let ids: BTreeSet<String> = db
        .store
        .read_all(LogCursor::START, u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.event.aggregate_id)
        .collect();
    let replayer = Replayer::<Dossier>::new(db.store.clone(), vec![]);
    let mut dossiers = Vec::new();
    for id in ids {
        dossiers.push(replayer.load(&id).await.unwrap().aggregate);
    }
    dossiers
}
