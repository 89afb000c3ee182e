//! The projection engine: tails the global log from the projection's
//! checkpoint and applies each batch of events to the read models in one
//! transaction that also moves the checkpoint.
//!
//! The dossier projection keeps, per dossier, a row whose fold state
//! ([`crate::fold::DossierState`]) the next batch continues from, and the
//! Biểu 06 counters, changed by the difference between each touched
//! dossier's contribution before and after the batch.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use cqrs_es::persist::SerializedEvent;
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::event::DossierEvent;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_store::{EventStore, LogCursor, RecordedEvent, Replayer};

use crate::error::ProjectionError;
use crate::fold::CounterDeltas;
use crate::read_models::{BatchWrite, DossierRow, ReadModels};

/// The dossier projection's name in the `projections` table.
pub const DOSSIERS: &str = "dossiers";

#[derive(Debug, Clone, Copy)]
pub struct ProjectorConfig {
    /// Events per batch (one transaction each).
    pub batch_size: u32,
    /// How finished and open dossiers are judged on time; changing it
    /// means rebuilding the counters.
    pub policy: TimelinessPolicy,
    /// How often a tailing projector looks for events when not woken.
    pub poll_interval: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            batch_size: 2000,
            policy: TimelinessPolicy::default(),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// A dossier event of a batch: (aggregate id, position, event).
type DecodedEvent<'a> = (&'a str, i64, DossierEvent);

/// A projection's checkpoint against the head of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub projection: String,
    pub checkpoint: LogCursor,
    pub head: LogCursor,
}

impl Lag {
    pub fn caught_up(&self) -> bool {
        self.checkpoint >= self.head
    }

    /// Events between the checkpoint and the head, counted by position: exact
    /// on SQLite, an estimate on PostgreSQL (positions are handed out before
    /// commit, and rolled-back ones leave holes).
    pub fn behind(&self) -> i64 {
        (self.head.position - self.checkpoint.position).max(0)
    }
}

/// Runs the projections of one database.
pub struct Projector {
    store: EventStore,
    read_models: ReadModels,
    replayer: Replayer<Dossier>,
    config: ProjectorConfig,
}

impl Projector {
    /// A projector that reads events as the current code knows them (no
    /// upcasters); see [`Projector::with_replayer`].
    pub fn new(store: EventStore, read_models: ReadModels, config: ProjectorConfig) -> Self {
        let replayer = Replayer::new(store.clone(), Vec::new());
        Self::with_replayer(replayer, read_models, config)
    }

    /// A projector that decodes events through `replayer` (and its upcasters).
    pub fn with_replayer(
        replayer: Replayer<Dossier>,
        read_models: ReadModels,
        config: ProjectorConfig,
    ) -> Self {
        Self {
            store: replayer.store().clone(),
            read_models,
            replayer,
            config,
        }
    }

    /// Applies every event up to the head of the log, and returns the
    /// checkpoint reached.
    pub async fn catch_up(&self) -> Result<LogCursor, ProjectionError> {
        let mut cursor = self.read_models.register(DOSSIERS).await?.cursor;
        loop {
            let events = self.store.read_all(cursor, self.config.batch_size).await?;
            if events.is_empty() {
                return Ok(cursor);
            }
            cursor = self.apply(cursor, &events).await?;
        }
    }

    /// Tails the log until `shutdown` completes, then returns once the batch
    /// in hand (if any) is written.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ProjectionError> {
        let mut cursor = self.read_models.register(DOSSIERS).await?.cursor;
        let mut tail = self
            .store
            .tail(cursor, self.config.batch_size, self.config.poll_interval);
        tokio::pin!(shutdown);
        loop {
            let events = tokio::select! {
                () = &mut shutdown => return Ok(()),
                events = tail.next() => events?,
            };
            cursor = self.apply(cursor, &events).await?;
        }
    }

    /// How far each projection is behind the head of the log.
    pub async fn lag(&self) -> Result<Vec<Lag>, ProjectionError> {
        let head = self.store.head().await?;
        Ok(self
            .read_models
            .statuses()
            .await?
            .into_iter()
            .map(|status| Lag {
                projection: status.name,
                checkpoint: status.cursor,
                head,
            })
            .collect())
    }

    /// Applies `events`, which follow `from` in the log, and moves the
    /// checkpoint to the last of them.
    async fn apply(
        &self,
        from: LogCursor,
        events: &[RecordedEvent],
    ) -> Result<LogCursor, ProjectionError> {
        let Some(last) = events.last() else {
            return Ok(from);
        };
        let decoded = match self.decode(events) {
            Ok(decoded) => decoded,
            Err((position, reason)) => {
                tracing::error!(projection = DOSSIERS, position, %reason, "projection stopped");
                self.read_models
                    .record_failure(DOSSIERS, position, &reason)
                    .await?;
                return Err(ProjectionError::Failed {
                    projection: DOSSIERS,
                    position,
                    reason,
                });
            }
        };
        let ids: Vec<String> = decoded
            .iter()
            .map(|(id, ..)| (*id).to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut states = self.read_models.dossier_states(&ids).await?;
        let policy = self.config.policy;

        let mut counters = CounterDeltas::default();
        let mut holders_before: HashMap<&str, usize> = HashMap::new();
        for id in &ids {
            let state = states.entry(id.clone()).or_default();
            counters.add_state(state, policy, -1);
            holders_before.insert(id.as_str(), state.lifecycle.holders().len());
        }
        let mut last_positions: HashMap<&str, i64> = HashMap::new();
        for (id, position, event) in &decoded {
            if let Some(state) = states.get_mut(*id) {
                state.apply(event, policy);
            }
            last_positions.insert(id, *position);
        }
        let mut batch = BatchWrite {
            from,
            to: last.cursor,
            events: i64::try_from(events.len()).unwrap_or(i64::MAX),
            ..BatchWrite::default()
        };
        for id in &ids {
            let Some(state) = states.remove(id) else {
                continue;
            };
            counters.add_state(&state, policy, 1);
            let known = holders_before.get(id.as_str()).copied().unwrap_or(0);
            for unit in state.lifecycle.holders().iter().skip(known) {
                batch.holders.push((unit.to_string(), id.clone()));
            }
            batch.dossiers.push(DossierRow {
                aggregate_id: id.clone(),
                last_position: last_positions.get(id.as_str()).copied().unwrap_or_default(),
                state,
            });
        }
        counters.prune();
        batch.counters = counters;
        self.read_models.write(DOSSIERS, &batch).await?;
        Ok(last.cursor)
    }

    /// The batch's dossier events as (aggregate id, position, event); other
    /// aggregates' events are passed over. An event that cannot be read
    /// stops the batch: (its position, why).
    fn decode<'a>(
        &self,
        events: &'a [RecordedEvent],
    ) -> Result<Vec<DecodedEvent<'a>>, (i64, String)> {
        events
            .iter()
            .filter(|recorded| {
                recorded.event.aggregate_type == <Dossier as cqrs_es::Aggregate>::TYPE
            })
            .map(|recorded| {
                let position = recorded.cursor.position;
                let serialized: SerializedEvent = recorded.event.clone().into();
                self.replayer
                    .decode(serialized, position)
                    .map(|event| (recorded.event.aggregate_id.as_str(), position, event))
                    .map_err(|error| (position, error.to_string()))
            })
            .collect()
    }
}
