//! The command path on both backends: retries on conflict, idempotent
//! client commands, snapshots and the aggregate cache, time travel.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::dossier::{COMMUNE, assign, command, forward, principal, services, submit, vn};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::command::CommandBody;
use motcua_domain::dossier::error::DossierError;
use motcua_domain::dossier::status::DossierStatus;
use motcua_domain::role::Role;
use motcua_store::{
    AsOf, CommandContext, CommandError, CommandPath, CommandPathConfig, EventStore, Idempotency,
    StoreError,
};

on_both_backends!(
    a_stale_cache_entry_is_retried_not_written,
    a_command_that_keeps_conflicting_reports_conflict,
    concurrent_commands_on_one_dossier_all_land_by_retrying,
    a_rejection_from_a_stale_cache_is_retried_on_fresh_state,
    an_aggregate_expected_new_is_decided_on_the_empty_state_and_a_wrong_guess_is_read,
    a_repeated_command_returns_its_first_outcome_and_writes_nothing,
    concurrent_repeats_write_once,
    a_repeated_rejection_stays_rejected,
    a_command_id_reused_for_another_request_is_refused,
    command_ids_are_per_actor,
    a_long_stream_loads_from_its_snapshot,
    time_travel_by_sequence_position_and_instant,
    a_corrupt_payload_names_its_place,
    an_invalid_command_id_is_refused_before_anything_is_written,
);

type Path = CommandPath<Dossier>;

fn path(store: &EventStore, config: CommandPathConfig) -> Path {
    CommandPath::new(store.clone(), services(), vec![], config)
}

fn default_path(store: &EventStore) -> Path {
    path(store, CommandPathConfig::default())
}

fn context(user: &str) -> CommandContext {
    CommandContext {
        unit: COMMUNE.to_owned(),
        actor: user.to_owned(),
        idempotency: None,
    }
}

fn keyed(user: &str, command_id: &str, body: &CommandBody) -> CommandContext {
    CommandContext {
        idempotency: Some(Idempotency::new(command_id, body).unwrap()),
        ..context(user)
    }
}

/// Submits, accepts and forwards dossier `id`: at a department, ready to assign.
async fn at_department(path: &Path, id: &str, number: u32) {
    let officer = principal("officer", Role::ReceptionOfficer);
    path.execute(
        id,
        command(officer.clone(), vn(8, 0), submit(id, number)),
        &context("officer"),
    )
    .await
    .unwrap();
    path.execute(
        id,
        command(officer, vn(8, 5), forward("Tư pháp")),
        &context("officer"),
    )
    .await
    .unwrap();
}

async fn assign_as_head(
    path: &Path,
    id: &str,
    specialist: &str,
    context: &CommandContext,
) -> Result<motcua_store::Committed<Dossier>, CommandError<DossierError>> {
    let head = principal("head", Role::DepartmentHead);
    path.execute(id, command(head, vn(9, 0), assign(specialist)), context)
        .await
}

async fn event_count(store: &EventStore, id: &str) -> usize {
    store.load_stream("Dossier", id, 0).await.unwrap().len()
}

async fn a_stale_cache_entry_is_retried_not_written(store: &EventStore) {
    // Two servers on one database, each with its own cache.
    let (first, second) = (default_path(store), default_path(store));
    at_department(&first, "d-1", 1).await;
    assign_as_head(&second, "d-1", "an", &context("head"))
        .await
        .unwrap();
    // `first` still caches the dossier before that assignment.
    let committed = assign_as_head(&first, "d-1", "binh", &context("head"))
        .await
        .unwrap();
    assert_eq!(committed.sequence, 5);
    assert_eq!(committed.aggregate.assignee(), Some("binh"));
    let stream = store.load_stream("Dossier", "d-1", 0).await.unwrap();
    assert_eq!(stream.len(), 5);
    assert_eq!(
        stream[4].event.payload["change"]["previous_specialist"],
        "an"
    );
    assert!(
        store
            .verify_stream("Dossier", "d-1")
            .await
            .unwrap()
            .is_intact()
    );
}

async fn a_command_that_keeps_conflicting_reports_conflict(store: &EventStore) {
    let single_try = CommandPathConfig {
        max_attempts: 1,
        ..CommandPathConfig::default()
    };
    let (first, second) = (path(store, single_try), default_path(store));
    at_department(&first, "d-2", 2).await;
    assign_as_head(&second, "d-2", "an", &context("head"))
        .await
        .unwrap();
    let error = assign_as_head(&first, "d-2", "binh", &context("head"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CommandError::Conflict { aggregate_id, attempts: 1 } if aggregate_id == "d-2"),
        "{error:?}"
    );
    assert_eq!(event_count(store, "d-2").await, 4, "nothing was written");
    // The conflict evicted the stale entry: the next try succeeds.
    assign_as_head(&first, "d-2", "binh", &context("head"))
        .await
        .unwrap();
}

async fn concurrent_commands_on_one_dossier_all_land_by_retrying(store: &EventStore) {
    let config = CommandPathConfig {
        max_attempts: 16,
        ..CommandPathConfig::default()
    };
    let path = Arc::new(self::path(store, config));
    at_department(&path, "d-3", 3).await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let path = Arc::clone(&path);
            tokio::spawn(async move {
                assign_as_head(&path, "d-3", &format!("specialist-{n}"), &context("head")).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stream = store.load_stream("Dossier", "d-3", 0).await.unwrap();
    assert_eq!(stream.len(), 3 + 8);
    let assigned: BTreeSet<_> = stream[3..]
        .iter()
        .map(|event| {
            event.event.payload["change"]["specialist"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(assigned.len(), 8, "each assignment exactly once");
    assert!(
        store
            .verify_stream("Dossier", "d-3")
            .await
            .unwrap()
            .is_intact()
    );
}

async fn a_rejection_from_a_stale_cache_is_retried_on_fresh_state(store: &EventStore) {
    let (first, second) = (default_path(store), default_path(store));
    let officer = principal("officer", Role::ReceptionOfficer);
    first
        .execute(
            "d-4",
            command(officer.clone(), vn(8, 0), submit("d-4", 4)),
            &context("officer"),
        )
        .await
        .unwrap();
    // `second` forwards; `first`, caching the accepted dossier, would refuse
    // an assignment (not at a department yet) unless it checks the stream.
    second
        .execute(
            "d-4",
            command(officer, vn(8, 5), forward("Tư pháp")),
            &context("officer"),
        )
        .await
        .unwrap();
    let committed = assign_as_head(&first, "d-4", "an", &context("head"))
        .await
        .unwrap();
    assert_eq!(
        committed.aggregate.status(),
        Some(DossierStatus::Processing)
    );
}

async fn an_aggregate_expected_new_is_decided_on_the_empty_state_and_a_wrong_guess_is_read(
    store: &EventStore,
) {
    let path = default_path(store);
    let officer = principal("officer", Role::ReceptionOfficer);
    path.expect_new("d-new");
    let committed = path
        .execute(
            "d-new",
            command(officer.clone(), vn(8, 0), submit("d-new", 7)),
            &context("officer"),
        )
        .await
        .unwrap();
    assert_eq!(committed.sequence, 2);
    assert!(
        store
            .verify_stream("Dossier", "d-new")
            .await
            .unwrap()
            .is_intact()
    );

    // The guess is wrong for a dossier that exists (another process wrote
    // it): a command the empty state refuses is checked against the stream
    // and decided again on what was read...
    at_department(&default_path(store), "d-old", 8).await;
    let wrong = default_path(store);
    wrong.expect_new("d-old");
    let assigned = assign_as_head(&wrong, "d-old", "an", &context("head"))
        .await
        .unwrap();
    assert_eq!(assigned.sequence, 4);
    assert_eq!(assigned.aggregate.assignee(), Some("an"));
    // ...and one the empty state accepts conflicts on append and is decided
    // again: a second submission of an existing dossier is refused.
    wrong.expect_new("d-old");
    let resubmitted = wrong
        .execute(
            "d-old",
            command(officer, vn(10, 0), submit("d-old", 8)),
            &context("officer"),
        )
        .await;
    assert!(
        matches!(resubmitted, Err(CommandError::Rejected { .. })),
        "{resubmitted:?}"
    );
    assert_eq!(event_count(store, "d-old").await, 4, "nothing was written");
}

async fn a_repeated_command_returns_its_first_outcome_and_writes_nothing(store: &EventStore) {
    let path = default_path(store);
    at_department(&path, "d-5", 5).await;
    let body = assign("an");
    let first = assign_as_head(&path, "d-5", "an", &keyed("head", "cmd-1", &body))
        .await
        .unwrap();
    assert!(!first.repeated);
    // Meanwhile the dossier moved on; the repeat still gets the first answer.
    assign_as_head(&path, "d-5", "binh", &context("head"))
        .await
        .unwrap();
    // From the same server (its cache knows the newer state) and a fresh one.
    let fresh = default_path(store);
    for path in [&path, &fresh] {
        let again = assign_as_head(path, "d-5", "an", &keyed("head", "cmd-1", &body))
            .await
            .unwrap();
        assert!(again.repeated);
        assert_eq!(
            (again.sequence, again.event_count, again.position),
            (first.sequence, first.event_count, first.position)
        );
        assert_eq!(
            again.aggregate, first.aggregate,
            "the state right after the command"
        );
    }
    assert_eq!(event_count(store, "d-5").await, 5);
    let stream = store.load_stream("Dossier", "d-5", 0).await.unwrap();
    assert_eq!(stream[3].event.command_id.as_deref(), Some("cmd-1"));
}

async fn concurrent_repeats_write_once(store: &EventStore) {
    let path = Arc::new(default_path(store));
    at_department(&path, "d-6", 6).await;
    let body = assign("an");
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            // Half through a second server, with its own cache.
            let path = if n % 2 == 0 {
                Arc::clone(&path)
            } else {
                Arc::new(default_path(&store.clone()))
            };
            let context = keyed("head", "cmd-2", &body);
            tokio::spawn(async move { assign_as_head(&path, "d-6", "an", &context).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|outcome| !outcome.repeated).count(),
        1
    );
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.position == outcomes[0].position && outcome.sequence == 4)
    );
    assert_eq!(event_count(store, "d-6").await, 4, "one assignment written");
}

async fn a_repeated_rejection_stays_rejected(store: &EventStore) {
    let path = default_path(store);
    let officer = principal("officer", Role::ReceptionOfficer);
    path.execute(
        "d-7",
        command(officer.clone(), vn(8, 0), submit("d-7", 7)),
        &context("officer"),
    )
    .await
    .unwrap();
    let body = assign("an");
    // Not at a department yet: refused.
    let refused = assign_as_head(&path, "d-7", "an", &keyed("head", "cmd-3", &body))
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        CommandError::Rejected {
            rejection: DossierError::InvalidStatus { .. },
            repeated: false
        }
    ));
    path.execute(
        "d-7",
        command(officer, vn(8, 5), forward("Tư pháp")),
        &context("officer"),
    )
    .await
    .unwrap();
    // Now it would succeed, but a repeat gets its first answer.
    let again = assign_as_head(&path, "d-7", "an", &keyed("head", "cmd-3", &body))
        .await
        .unwrap_err();
    let CommandError::Rejected {
        rejection,
        repeated: true,
    } = again
    else {
        panic!("{again:?}");
    };
    let CommandError::Rejected {
        rejection: first, ..
    } = refused
    else {
        unreachable!()
    };
    assert_eq!(rejection, first);
    assert_eq!(event_count(store, "d-7").await, 3);
}

async fn a_command_id_reused_for_another_request_is_refused(store: &EventStore) {
    let path = default_path(store);
    at_department(&path, "d-8", 8).await;
    assign_as_head(&path, "d-8", "an", &keyed("head", "cmd-4", &assign("an")))
        .await
        .unwrap();
    let error = assign_as_head(
        &path,
        "d-8",
        "binh",
        &keyed("head", "cmd-4", &assign("binh")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, CommandError::CommandIdReused { command_id } if command_id == "cmd-4"),
        "{error:?}"
    );
    assert_eq!(event_count(store, "d-8").await, 4);
}

async fn command_ids_are_per_actor(store: &EventStore) {
    let path = default_path(store);
    at_department(&path, "d-9", 9).await;
    let body = assign("an");
    assign_as_head(&path, "d-9", "an", &keyed("head", "shared", &body))
        .await
        .unwrap();
    // Another user's command with the same id is a different command.
    let other = assign_as_head(
        &path,
        "d-9",
        "binh",
        &keyed("deputy", "shared", &assign("binh")),
    )
    .await
    .unwrap();
    assert!(!other.repeated);
    assert_eq!(event_count(store, "d-9").await, 5);
}

async fn a_long_stream_loads_from_its_snapshot(store: &EventStore) {
    let config = CommandPathConfig {
        snapshot_every: 20,
        cache_capacity: 0,
        ..CommandPathConfig::default()
    };
    let path = path(store, config);
    at_department(&path, "d-10", 10).await;
    for n in 0..197 {
        let specialist = if n % 2 == 0 { "an" } else { "binh" };
        assign_as_head(&path, "d-10", specialist, &context("head"))
            .await
            .unwrap();
    }
    assert_eq!(event_count(store, "d-10").await, 200);
    let snapshot = store.snapshot("Dossier", "d-10").await.unwrap().unwrap();
    assert_eq!(snapshot.last_sequence, 200);
    // A command now reads the snapshot and at most 19 events, not 200.
    let committed = assign_as_head(&path, "d-10", "chi", &context("head"))
        .await
        .unwrap();
    assert_eq!(committed.sequence, 201);
    let after_snapshot = store
        .load_stream("Dossier", "d-10", snapshot.last_sequence)
        .await
        .unwrap();
    assert_eq!(after_snapshot.len(), 1);
    // Snapshot plus tail and a full replay agree.
    let loaded = path.load("d-10").await.unwrap();
    let replayed = path
        .load_as_of("d-10", AsOf::Sequence(i64::MAX))
        .await
        .unwrap();
    assert_eq!(loaded.aggregate, replayed.aggregate);
    assert_eq!((loaded.sequence, replayed.sequence), (201, 201));
    assert_eq!(loaded.aggregate.assignee(), Some("chi"));
}

async fn time_travel_by_sequence_position_and_instant(store: &EventStore) {
    let path = default_path(store);
    at_department(&path, "d-11", 11).await;
    let assigned = assign_as_head(&path, "d-11", "an", &context("head"))
        .await
        .unwrap();
    // Another dossier's events come later in the global log.
    at_department(&path, "d-12", 12).await;
    let recorded = store.load_stream("Dossier", "d-11", 0).await.unwrap();
    let after_accept = recorded[1].clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assign_as_head(&path, "d-11", "binh", &context("head"))
        .await
        .unwrap();

    let by_sequence = path.load_as_of("d-11", AsOf::Sequence(2)).await.unwrap();
    assert_eq!(by_sequence.sequence, 2);
    assert_eq!(
        by_sequence.aggregate.status(),
        Some(DossierStatus::Accepted)
    );

    let by_position = path
        .load_as_of("d-11", AsOf::Cursor(assigned.position.unwrap()))
        .await
        .unwrap();
    assert_eq!(by_position.sequence, 4);
    assert_eq!(by_position.aggregate.assignee(), Some("an"));

    let by_instant = path
        .load_as_of("d-11", AsOf::Instant(after_accept.recorded_at))
        .await
        .unwrap();
    assert!(by_instant.sequence >= 2 && by_instant.sequence <= 4);
    let before_anything = path
        .load_as_of(
            "d-11",
            AsOf::Instant(recorded[0].recorded_at - chrono::Duration::seconds(1)),
        )
        .await
        .unwrap();
    assert_eq!(
        (before_anything.sequence, before_anything.aggregate),
        (0, Dossier::default())
    );
    let now = path.load("d-11").await.unwrap();
    assert_eq!((now.sequence, now.aggregate.assignee()), (5, Some("binh")));
}

async fn a_corrupt_payload_names_its_place(store: &EventStore) {
    let mut broken = common::event("d-13", 1);
    broken.aggregate_type = "Dossier".to_owned();
    broken.event_type = "DossierSubmitted".to_owned();
    broken.payload = serde_json::json!({"not": "a dossier event"});
    let position = store.append(&[broken], None).await.unwrap()[0]
        .cursor
        .position;
    let path = default_path(store);
    let error = assign_as_head(&path, "d-13", "an", &context("head"))
        .await
        .unwrap_err();
    let CommandError::Store(StoreError::Corrupt {
        position: at,
        reason,
    }) = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*at, position);
    assert!(
        reason.contains("Dossier/d-13 event 1 (DossierSubmitted"),
        "{reason}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("position {position}")),
        "{message}"
    );
}

async fn an_invalid_command_id_is_refused_before_anything_is_written(_store: &EventStore) {
    let body = assign("an");
    for bad in [String::new(), "x".repeat(129)] {
        let error = Idempotency::new(bad, &body).unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidCommandId { .. }),
            "{error:?}"
        );
    }
    assert!(Idempotency::new("x".repeat(128), &body).is_ok());
}
