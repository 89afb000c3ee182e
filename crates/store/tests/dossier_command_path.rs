//! The Dossier aggregate driven by cqrs-es's framework on the store, on both
//! backends: what the command path will do for every mutation.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::dossier::{COMMUNE, principal, services, submit, vn};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateError, CqrsFramework, EventStore as _};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::command::{CommandBody, DossierCommand};
use motcua_domain::dossier::error::DossierError;
use motcua_domain::dossier::status::DossierStatus;
use motcua_domain::role::{Principal, Role};
use motcua_store::EventStore;

type Framework = CqrsFramework<Dossier, PersistedEventStore<EventStore, Dossier>>;

on_both_backends!(
    a_dossier_lives_its_lifecycle_on_the_store,
    a_rejected_command_writes_nothing,
    concurrent_commands_on_one_dossier_conflict_instead_of_forking,
);

fn framework(store: &EventStore) -> Framework {
    CqrsFramework::new(
        PersistedEventStore::new_aggregate_store(store.clone()),
        vec![],
        services(),
    )
}

/// What the command path puts beside every event: who, for which unit, which command.
fn metadata(principal: &Principal, command_id: &str) -> HashMap<String, String> {
    HashMap::from([
        ("unit".to_owned(), principal.unit.to_string()),
        ("actor".to_owned(), principal.user_id.clone()),
        ("command_id".to_owned(), command_id.to_owned()),
    ])
}

async fn run(
    framework: &Framework,
    id: &str,
    principal: Principal,
    at: DateTime<Utc>,
    body: CommandBody,
) -> Result<(), AggregateError<DossierError>> {
    let command_id = format!("{id}-{at}");
    let metadata = metadata(&principal, &command_id);
    framework
        .execute_with_metadata(
            id,
            DossierCommand {
                principal,
                at,
                body,
            },
            metadata,
        )
        .await
}

async fn load(store: &EventStore, id: &str) -> Dossier {
    let events = PersistedEventStore::<EventStore, Dossier>::new_event_store(store.clone());
    let mut dossier = Dossier::default();
    for envelope in events.load_events(id).await.unwrap() {
        cqrs_es::Aggregate::apply(&mut dossier, envelope.payload);
    }
    dossier
}

async fn a_dossier_lives_its_lifecycle_on_the_store(store: &EventStore) {
    let cqrs = framework(store);
    let officer = principal("officer", Role::ReceptionOfficer);
    run(&cqrs, "d-1", officer.clone(), vn(8, 0), submit("d-1", 1))
        .await
        .unwrap();
    let forward = CommandBody::Forward {
        department: "Tư pháp - Hộ tịch".to_owned(),
        step_due_at: None,
        note: None,
    };
    run(&cqrs, "d-1", officer.clone(), vn(8, 5), forward)
        .await
        .unwrap();
    let assign = CommandBody::Assign {
        specialist: "specialist".to_owned(),
        step_due_at: None,
        note: None,
    };
    run(
        &cqrs,
        "d-1",
        principal("head", Role::DepartmentHead),
        vn(8, 10),
        assign,
    )
    .await
    .unwrap();

    let stream = store.load_stream("Dossier", "d-1", 0).await.unwrap();
    let types: Vec<_> = stream
        .iter()
        .map(|event| event.event.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "DossierSubmitted",
            "DossierAccepted",
            "ForwardedToDepartment",
            "SpecialistAssigned"
        ]
    );
    assert!(
        stream
            .iter()
            .all(|event| event.event.unit_id == COMMUNE && event.event.event_version == "1.0")
    );
    assert_eq!(stream[3].event.actor, "head");
    assert_eq!(
        stream[0].event.command_id, stream[1].event.command_id,
        "one command, two events"
    );

    // The framework's snapshot and a replay of the stream agree.
    let replayed = load(store, "d-1").await;
    assert_eq!(replayed.status(), Some(DossierStatus::Processing));
    assert_eq!(replayed.assignee(), Some("specialist"));
    let snapshot = store.snapshot("Dossier", "d-1").await.unwrap().unwrap();
    assert_eq!(snapshot.last_sequence, 4);
    assert_eq!(
        serde_json::from_value::<Dossier>(snapshot.payload).unwrap(),
        replayed
    );
    // In the global log too (once every older transaction has ended).
    assert_eq!(common::read_everything(store, 4).await.len(), 4);
}

async fn a_rejected_command_writes_nothing(store: &EventStore) {
    let cqrs = framework(store);
    let officer = principal("officer", Role::ReceptionOfficer);
    run(&cqrs, "d-2", officer.clone(), vn(8, 0), submit("d-2", 1))
        .await
        .unwrap();
    let approve = CommandBody::ApproveDraft { note: None };
    let error = run(
        &cqrs,
        "d-2",
        principal("leader", Role::UnitLeader),
        vn(8, 5),
        approve,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            AggregateError::UserError(DossierError::InvalidStatus { .. })
        ),
        "{error:?}"
    );
    assert_eq!(
        store.load_stream("Dossier", "d-2", 0).await.unwrap().len(),
        2
    );
}

async fn concurrent_commands_on_one_dossier_conflict_instead_of_forking(store: &EventStore) {
    let cqrs = Arc::new(framework(store));
    let officer = principal("officer", Role::ReceptionOfficer);
    run(&cqrs, "d-3", officer.clone(), vn(8, 0), submit("d-3", 1))
        .await
        .unwrap();
    // Eight officers forward the same accepted dossier at once: one wins;
    // the others either lost the race (conflict) or saw it already forwarded.
    let attempts: Vec<_> = (0..8)
        .map(|attempt| {
            let cqrs = Arc::clone(&cqrs);
            let officer = officer.clone();
            tokio::spawn(async move {
                let forward = CommandBody::Forward {
                    department: format!("Phòng {attempt}"),
                    step_due_at: None,
                    note: None,
                };
                run(&cqrs, "d-3", officer, vn(8, 5), forward).await
            })
        })
        .collect();
    let mut succeeded = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => succeeded += 1,
            Err(AggregateError::AggregateConflict) => {}
            Err(AggregateError::UserError(DossierError::InvalidStatus { .. })) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(succeeded, 1);
    let stream = store.load_stream("Dossier", "d-3", 0).await.unwrap();
    assert_eq!(stream.len(), 3, "exactly one forward was recorded");
}
