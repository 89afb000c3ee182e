//! Loading an aggregate from its stream: upcasting old event versions,
//! starting from a snapshot, or stopping at a point in the past.

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::persist::{EventUpcaster, SerializedEvent};

use crate::error::StoreError;
use crate::record::{LogCursor, LogEntry, RecordedEvent};
use crate::store::EventStore;

/// An aggregate as loaded: its state after `sequence` events.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    pub aggregate: A,
    /// The stream's version: 0 for an aggregate without events.
    pub sequence: i64,
    /// The hash of the last event, when it was read (not from a snapshot).
    pub head_hash: Option<[u8; 32]>,
}

impl<A: Default> Loaded<A> {
    pub(crate) fn empty() -> Self {
        Loaded {
            aggregate: A::default(),
            sequence: 0,
            head_hash: None,
        }
    }
}

/// A point in an aggregate's past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// After its event with this sequence.
    Sequence(i64),
    /// After every event of it at or before this place in the global log.
    Cursor(LogCursor),
    /// After every event of it recorded at or before this instant.
    Instant(DateTime<Utc>),
}

impl AsOf {
    /// Events of one stream are in log order, so each bound cuts a prefix.
    fn includes(&self, event: &RecordedEvent) -> bool {
        match *self {
            AsOf::Sequence(sequence) => event.event.sequence <= sequence,
            AsOf::Cursor(cursor) => event.cursor <= cursor,
            AsOf::Instant(at) => event.recorded_at <= at,
        }
    }
}

/// Loads aggregates of type `A` from the store, upcasting events written
/// by older versions with the cqrs-es upcasters given, in order.
pub struct Replayer<A> {
    store: EventStore,
    upcasters: Arc<[Box<dyn EventUpcaster>]>,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> Clone for Replayer<A> {
    fn clone(&self) -> Self {
        Replayer {
            store: self.store.clone(),
            upcasters: Arc::clone(&self.upcasters),
            aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate> Replayer<A> {
    pub fn new(store: EventStore, upcasters: Vec<Box<dyn EventUpcaster>>) -> Self {
        Replayer {
            store,
            upcasters: upcasters.into(),
            aggregate: PhantomData,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// The current state: from the latest snapshot, if there is a usable
    /// one, and the events after it.
    pub async fn load(&self, aggregate_id: &str) -> Result<Loaded<A>, StoreError> {
        let mut loaded = match self.store.snapshot(A::TYPE, aggregate_id).await? {
            Some(snapshot) => match serde_json::from_value::<A>(snapshot.payload) {
                Ok(aggregate) => Loaded {
                    aggregate,
                    sequence: snapshot.last_sequence,
                    head_hash: None,
                },
                Err(error) => {
                    // A snapshot of an older shape of the aggregate is only a
                    // cache: replay the whole stream instead.
                    tracing::warn!(
                        aggregate_type = A::TYPE,
                        aggregate_id,
                        %error,
                        "unreadable snapshot ignored"
                    );
                    Loaded::empty()
                }
            },
            None => Loaded::empty(),
        };
        let events = self
            .store
            .load_stream(A::TYPE, aggregate_id, loaded.sequence)
            .await?;
        for event in events {
            self.apply(&mut loaded, event)?;
        }
        Ok(loaded)
    }

    /// The state as it was at `as_of`, replayed from the first event.
    pub async fn load_as_of(
        &self,
        aggregate_id: &str,
        as_of: AsOf,
    ) -> Result<Loaded<A>, StoreError> {
        let mut loaded = Loaded::empty();
        let events = self.store.load_stream(A::TYPE, aggregate_id, 0).await?;
        for event in events.into_iter().take_while(|event| as_of.includes(event)) {
            self.apply(&mut loaded, event)?;
        }
        Ok(loaded)
    }

    /// Upcasts and deserializes one stored event, then applies it.
    fn apply(&self, loaded: &mut Loaded<A>, recorded: RecordedEvent) -> Result<(), StoreError> {
        let event = self.decode(recorded.event.clone().into(), recorded.cursor.position)?;
        loaded.aggregate.apply(event);
        loaded.sequence = recorded.event.sequence;
        loaded.head_hash = Some(recorded.hash);
        Ok(())
    }

    /// The event as the current code knows it; a payload neither it nor an
    /// upcaster understands is reported with its place in the log.
    pub fn decode(&self, event: SerializedEvent, position: i64) -> Result<A::Event, StoreError> {
        let event = self.upcasters.iter().fold(event, |event, upcaster| {
            if upcaster.can_upcast(&event.event_type, &event.event_version) {
                upcaster.upcast(event)
            } else {
                event
            }
        });
        serde_json::from_value(event.payload).map_err(|error| StoreError::Corrupt {
            position,
            reason: unreadable(
                &event.aggregate_type,
                &event.aggregate_id,
                event.sequence,
                &event.event_type,
                &event.event_version,
                &error,
            ),
        })
    }

    /// [`Replayer::decode`] for an entry of the log: the payload text is
    /// decoded straight into the event unless an upcaster wants it.
    pub fn decode_entry(&self, entry: &LogEntry) -> Result<A::Event, StoreError> {
        let position = entry.cursor.position;
        let corrupt = |error: serde_json::Error| StoreError::Corrupt {
            position,
            reason: unreadable(
                &entry.aggregate_type,
                &entry.aggregate_id,
                entry.sequence,
                &entry.event_type,
                &entry.event_version,
                &error,
            ),
        };
        let upcast = self
            .upcasters
            .iter()
            .any(|upcaster| upcaster.can_upcast(&entry.event_type, &entry.event_version));
        if !upcast {
            return serde_json::from_str(&entry.payload).map_err(corrupt);
        }
        let payload = serde_json::from_str(&entry.payload).map_err(corrupt)?;
        let serialized = SerializedEvent {
            aggregate_id: entry.aggregate_id.clone(),
            sequence: usize::try_from(entry.sequence).unwrap_or_default(),
            aggregate_type: entry.aggregate_type.clone(),
            event_type: entry.event_type.clone(),
            event_version: entry.event_version.clone(),
            payload,
            // The log entry carries no metadata; upcasters read payloads.
            metadata: serde_json::Value::Null,
        };
        self.decode(serialized, position)
    }
}

fn unreadable(
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: impl std::fmt::Display,
    event_type: &str,
    event_version: &str,
    error: &serde_json::Error,
) -> String {
    format!(
        "{aggregate_type}/{aggregate_id} event {sequence} ({event_type} v{event_version}) cannot be read: {error}"
    )
}
