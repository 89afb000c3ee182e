//! Events written by an older version are upcast on read (cqrs-es
//! upcasters), on both backends and through both read paths: motcua's
//! command path and cqrs-es's `PersistedEventStore`.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use cqrs_es::persist::{EventUpcaster, PersistedEventStore, SemanticVersionEventUpcaster};
use cqrs_es::{Aggregate, DomainEvent, EventStore as _};
use motcua_store::{
    AsOf, CommandContext, CommandError, CommandPath, CommandPathConfig, EventStore, LogCursor,
    NewEvent, Replayer, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

on_both_backends!(
    a_v1_event_loads_as_the_current_version,
    the_command_path_continues_a_stream_begun_by_an_older_version,
    an_old_event_without_an_upcaster_is_a_clear_error,
    log_entries_decode_straight_or_through_the_upcasters,
);

/// A case file counting documents. Version 1 of `DocumentsAdded` said
/// `{"count": n}`; version 2 says `{"documents": n, "source": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CaseFile {
    documents: u32,
    sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CaseFileEvent {
    DocumentsAdded { documents: u32, source: String },
}

impl DomainEvent for CaseFileEvent {
    fn event_type(&self) -> String {
        "DocumentsAdded".to_owned()
    }
    fn event_version(&self) -> String {
        "2.0".to_owned()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("nothing to add")]
struct NothingToAdd;

impl Aggregate for CaseFile {
    const TYPE: &'static str = "CaseFile";
    type Command = u32;
    type Event = CaseFileEvent;
    type Error = NothingToAdd;
    type Services = ();

    async fn handle(
        &mut self,
        documents: u32,
        _: &(),
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), NothingToAdd> {
        if documents == 0 {
            return Err(NothingToAdd);
        }
        let event = CaseFileEvent::DocumentsAdded {
            documents,
            source: "desk".to_owned(),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: CaseFileEvent) {
        let CaseFileEvent::DocumentsAdded { documents, source } = event;
        self.documents += documents;
        self.sources.push(source);
    }
}

/// Version 1 → 2: `count` becomes `documents`; v1 knew only the desk.
fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    let v1_to_v2 = |payload: Value| -> Value {
        let count = payload["DocumentsAdded"]["count"].clone();
        json!({"DocumentsAdded": {"documents": count, "source": "desk (v1)"}})
    };
    vec![Box::new(SemanticVersionEventUpcaster::new(
        "DocumentsAdded",
        "2.0.0",
        Box::new(v1_to_v2),
    ))]
}

/// An event exactly as version 1 wrote it.
fn v1_event(id: &str, sequence: i64, count: u32) -> NewEvent {
    NewEvent {
        aggregate_type: "CaseFile".to_owned(),
        aggregate_id: id.to_owned(),
        sequence,
        event_type: "DocumentsAdded".to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({"DocumentsAdded": {"count": count}}),
        metadata: json!({"unit": "000.01.20.H56", "actor": "officer"}),
        unit_id: "000.01.20.H56".to_owned(),
        actor: "officer".to_owned(),
        command_id: None,
    }
}

fn path(store: &EventStore, upcasters: Vec<Box<dyn EventUpcaster>>) -> CommandPath<CaseFile> {
    CommandPath::new(store.clone(), (), upcasters, CommandPathConfig::default())
}

fn context() -> CommandContext {
    CommandContext {
        unit: "000.01.20.H56".to_owned(),
        actor: "officer".to_owned(),
        idempotency: None,
    }
}

async fn a_v1_event_loads_as_the_current_version(store: &EventStore) {
    store
        .append(&[v1_event("c-1", 1, 3), v1_event("c-1", 2, 4)], None)
        .await
        .unwrap();
    let expected = CaseFile {
        documents: 7,
        sources: vec!["desk (v1)".to_owned(), "desk (v1)".to_owned()],
    };

    let loaded = path(store, upcasters()).load("c-1").await.unwrap();
    assert_eq!((loaded.aggregate, loaded.sequence), (expected.clone(), 2));
    let past = path(store, upcasters())
        .load_as_of("c-1", AsOf::Sequence(1))
        .await
        .unwrap();
    assert_eq!(past.aggregate.documents, 3);

    // cqrs-es's own event store reads the same stream with the same upcasters.
    let events = PersistedEventStore::<EventStore, CaseFile>::new_event_store(store.clone())
        .with_upcasters(upcasters());
    let envelopes = events.load_events("c-1").await.unwrap();
    let mut replayed = CaseFile::default();
    for envelope in envelopes {
        replayed.apply(envelope.payload);
    }
    assert_eq!(replayed, expected);
}

async fn the_command_path_continues_a_stream_begun_by_an_older_version(store: &EventStore) {
    store.append(&[v1_event("c-2", 1, 3)], None).await.unwrap();
    let committed = path(store, upcasters())
        .execute("c-2", 2, &context())
        .await
        .unwrap();
    assert_eq!(committed.aggregate.documents, 5);
    let stream = store.load_stream("CaseFile", "c-2", 0).await.unwrap();
    let versions: Vec<_> = stream
        .iter()
        .map(|event| event.event.event_version.as_str())
        .collect();
    // Stored events are never rewritten: the old one stays v1 in the log.
    assert_eq!(versions, ["1.0", "2.0"]);
    assert!(
        store
            .verify_stream("CaseFile", "c-2")
            .await
            .unwrap()
            .is_intact()
    );
}

async fn an_old_event_without_an_upcaster_is_a_clear_error(store: &EventStore) {
    let position = store.append(&[v1_event("c-3", 1, 3)], None).await.unwrap()[0]
        .cursor
        .position;
    let error = path(store, vec![])
        .execute("c-3", 2, &context())
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
        reason.contains("CaseFile/c-3 event 1 (DocumentsAdded v1.0)"),
        "{reason}"
    );
}

/// The projections' read path: `read_log` entries decoded by
/// `Replayer::decode_entry`, the current version straight from the text, an
/// old one through the upcasters, and one without an upcaster as an error
/// naming the event.
async fn log_entries_decode_straight_or_through_the_upcasters(store: &EventStore) {
    store.append(&[v1_event("c-4", 1, 3)], None).await.unwrap();
    path(store, upcasters())
        .execute("c-4", 2, &context())
        .await
        .unwrap();
    // Both visible to readers (PostgreSQL: older transactions ended).
    common::read_everything(store, 2).await;
    let entries = store.read_log(LogCursor::START, 10).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|entry| entry.event_version.as_str())
            .collect::<Vec<_>>(),
        ["1.0", "2.0"]
    );

    let replayer: Replayer<CaseFile> = Replayer::new(store.clone(), upcasters());
    let decoded: Vec<CaseFileEvent> = entries
        .iter()
        .map(|entry| replayer.decode_entry(entry).unwrap())
        .collect();
    assert_eq!(
        decoded,
        [
            CaseFileEvent::DocumentsAdded {
                documents: 3,
                source: "desk (v1)".to_owned()
            },
            CaseFileEvent::DocumentsAdded {
                documents: 2,
                source: "desk".to_owned()
            },
        ]
    );

    let without_upcasters: Replayer<CaseFile> = Replayer::new(store.clone(), vec![]);
    let StoreError::Corrupt { position, reason } =
        without_upcasters.decode_entry(&entries[0]).unwrap_err()
    else {
        panic!("expected a corrupt event");
    };
    assert_eq!(position, entries[0].cursor.position);
    assert!(
        reason.contains("CaseFile/c-4 event 1 (DocumentsAdded v1.0)"),
        "{reason}"
    );
    assert!(without_upcasters.decode_entry(&entries[1]).is_ok());
}
