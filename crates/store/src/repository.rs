//! cqrs-es's `PersistedEventRepository` over the event store: how the
//! framework's command path loads and commits aggregates.
//!
//! Every serialized event's metadata must carry `unit` and `actor` (the
//! command path puts the principal there) and may carry `command_id`.
//!
//! A snapshot passed to `persist` is recorded as covering every event of
//! that append. That holds for cqrs-es's aggregate store (a snapshot after
//! each command); its "snapshot every N" store may snapshot only part of an
//! append, so it must not be used over this repository. motcua's own
//! [`CommandPath`](crate::CommandPath) snapshots every N events correctly,
//! caches aggregates and retries conflicts: use it to run commands; this
//! repository is for tools built on cqrs-es.

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use serde_json::Value;

use crate::error::StoreError;
use crate::record::{LogCursor, NewEvent, RecordedEvent, SnapshotUpdate};
use crate::store::EventStore;

/// Events per page when streaming the whole log.
const PAGE: u32 = 1000;

impl PersistedEventRepository for EventStore {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self.load_stream(A::TYPE, aggregate_id, 0).await?;
        Ok(events.into_iter().map(serialized).collect())
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let after = i64::try_from(last_sequence)
            .map_err(|error| PersistenceError::UnknownError(Box::new(error)))?;
        let events = self.load_stream(A::TYPE, aggregate_id, after).await?;
        Ok(events.into_iter().map(serialized).collect())
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let Some(snapshot) = self.snapshot(A::TYPE, aggregate_id).await? else {
            return Ok(None);
        };
        Ok(Some(SerializedSnapshot {
            aggregate_id: aggregate_id.to_owned(),
            aggregate: snapshot.payload,
            current_sequence: to_usize(snapshot.last_sequence)?,
            current_snapshot: to_usize(snapshot.current_snapshot)?,
        }))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let new_events = events
            .iter()
            .map(new_event)
            .collect::<Result<Vec<_>, _>>()?;
        let snapshot = snapshot_update
            .map(
                |(_, payload, current_snapshot)| -> Result<SnapshotUpdate, PersistenceError> {
                    Ok(SnapshotUpdate {
                        payload,
                        last_sequence: new_events.last().map_or(0, |event| event.sequence),
                        current_snapshot: to_i64(current_snapshot)?,
                    })
                },
            )
            .transpose()?;
        self.append(&new_events, snapshot.as_ref()).await?;
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.load_stream(A::TYPE, aggregate_id, 0).await?;
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for event in events {
            feed.push(Ok(serialized(event))).await?;
        }
        Ok(stream)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let (mut feed, stream) = ReplayStream::new(PAGE as usize);
        let store = self.clone();
        // Pages are fed as the consumer reads; dropping the stream stops the task.
        tokio::spawn(async move {
            let mut after = LogCursor::START;
            loop {
                let page = match store.read_all(after, PAGE).await {
                    Ok(page) => page,
                    Err(error) => {
                        let _ = feed.push(Err(error.into())).await;
                        return;
                    }
                };
                let Some(last) = page.last() else { return };
                after = last.cursor;
                for event in page
                    .into_iter()
                    .filter(|event| event.event.aggregate_type == A::TYPE)
                {
                    if feed.push(Ok(serialized(event))).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(stream)
    }
}

fn serialized(recorded: RecordedEvent) -> SerializedEvent {
    recorded.event.into()
}

impl From<NewEvent> for SerializedEvent {
    fn from(event: NewEvent) -> Self {
        SerializedEvent {
            aggregate_id: event.aggregate_id,
            // Sequences are checked >= 1 on insert.
            sequence: usize::try_from(event.sequence).unwrap_or_default(),
            aggregate_type: event.aggregate_type,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
            metadata: event.metadata,
        }
    }
}

fn new_event(event: &SerializedEvent) -> Result<NewEvent, StoreError> {
    let field = |name: &'static str| -> Result<String, StoreError> {
        event
            .metadata
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| StoreError::MissingMetadata {
                aggregate_id: event.aggregate_id.clone(),
                event_type: event.event_type.clone(),
                field: name,
            })
    };
    Ok(NewEvent {
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        sequence: i64::try_from(event.sequence).map_err(|_| StoreError::InvalidAppend {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            reason: format!("sequence {} is too large", event.sequence),
        })?,
        event_type: event.event_type.clone(),
        event_version: event.event_version.clone(),
        payload: event.payload.clone(),
        metadata: event.metadata.clone(),
        unit_id: field("unit")?,
        actor: field("actor")?,
        command_id: event
            .metadata
            .get("command_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn to_usize(value: i64) -> Result<usize, PersistenceError> {
    usize::try_from(value).map_err(|error| PersistenceError::DeserializationError(Box::new(error)))
}

fn to_i64(value: usize) -> Result<i64, PersistenceError> {
    i64::try_from(value).map_err(|error| PersistenceError::UnknownError(Box::new(error)))
}
