//! The projection engine: tails the global log from a projection's
//! checkpoint and applies each batch of events to the read models in one
//! transaction that also moves the checkpoint.
//!
//! The dossier projection keeps, per dossier, a row whose fold state
//! ([`crate::fold::DossierState`]) the next batch continues from, and the
//! Biểu 06 counters, changed by the difference between each touched
//! dossier's contribution before and after the batch.
//!
//! **Generations.** Readers read a projection's live generation. A rebuild
//! ([`Projector::rebuild`]) fills a new generation from the start of the
//! log beside it, then promotes it in one update; reads are served from the
//! old rows until then, from the new ones after.
//!
//! **One active projector.** [`Projector::run`] holds a lease on the live
//! generation (in the `projections` table, timed by the database's clock)
//! and renews it with every batch; other processes wait, and take over
//! within the lease's time to live when the holder dies. The checkpoint
//! only moves from where a batch began, so even two projectors at once
//! never apply an event twice.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cqrs_es::Aggregate;
use cqrs_es::persist::SerializedEvent;
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::event::DossierEvent;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_store::{EventStore, LogCursor, RecordedEvent, Replayer};

use crate::error::ProjectionError;
use crate::fold::CounterDeltas;
use crate::read_models::{BatchWrite, DossierRow, GenerationState, ProjectionStatus, ReadModels};

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
    /// How long a running projector's lease lasts unless renewed: how soon
    /// another takes over after it dies.
    pub lease_ttl: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            batch_size: 2000,
            policy: TimelinessPolicy::default(),
            poll_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(5),
        }
    }
}

/// A dossier event of a batch: (aggregate id, position, event).
type DecodedEvent<'a> = (&'a str, i64, DossierEvent);

/// A projection's checkpoint against the head of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub projection: String,
    pub generation: i32,
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

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    pub generation: i32,
    pub events: i64,
    pub elapsed: Duration,
}

/// Runs the projections of one database.
pub struct Projector {
    store: EventStore,
    read_models: ReadModels,
    replayer: Replayer<Dossier>,
    config: ProjectorConfig,
    /// Who this projector is, in leases.
    owner: String,
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
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "motcua".to_owned());
        let owner = format!(
            "{host}/{}/{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            store: replayer.store().clone(),
            read_models,
            replayer,
            config,
            owner,
        }
    }

    /// This projector's name in leases: host, process, instance.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Applies every event up to the head of the log to the live
    /// generation, and returns the checkpoint reached. Takes no lease: for
    /// tools and tests; the checkpoint's guard keeps it safe beside a
    /// running projector.
    pub async fn catch_up(&self) -> Result<LogCursor, ProjectionError> {
        loop {
            let live = self.read_models.live(DOSSIERS).await?;
            match self.catch_up_generation(&live, None).await {
                // Another projector moved it (or a write of ours, abandoned
                // in flight, committed after all): go on from where it is.
                Err(ProjectionError::CheckpointMoved { .. }) => continue,
                reached => return reached,
            }
        }
    }

    /// Runs as the active projector until `shutdown` completes: takes the
    /// live generation's lease (waiting while another projector holds it),
    /// tails the log, moves on to a newly promoted generation, and on
    /// shutdown finishes the batch in hand and gives the lease up.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ProjectionError> {
        tokio::pin!(shutdown);
        let ttl = self.config.lease_ttl;
        loop {
            let live = loop {
                let live = self.read_models.live(DOSSIERS).await?;
                if self
                    .read_models
                    .take_lease(DOSSIERS, live.generation, &self.owner, ttl)
                    .await?
                {
                    break live;
                }
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = tokio::time::sleep(ttl / 3) => {}
                }
            };
            tracing::info!(
                projection = DOSSIERS,
                generation = live.generation,
                owner = %self.owner,
                "running the projection"
            );
            let tailed = self.tail(&live, shutdown.as_mut()).await;
            match tailed {
                Err(ProjectionError::CheckpointMoved { .. }) => {
                    // Our generation was retired by a rebuild, or our lease
                    // went to another projector: start over from the table.
                    tracing::info!(projection = DOSSIERS, owner = %self.owner, "lease or generation lost");
                }
                other => {
                    self.read_models
                        .release_lease(DOSSIERS, live.generation, &self.owner)
                        .await?;
                    return other;
                }
            }
        }
    }

    /// Tails the log into `generation` under our lease until `shutdown`.
    async fn tail(
        &self,
        generation: &ProjectionStatus,
        mut shutdown: Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), ProjectionError> {
        let ttl = self.config.lease_ttl;
        let mut cursor = generation.cursor;
        let mut tail = self
            .store
            .tail(cursor, self.config.batch_size, self.config.poll_interval);
        loop {
            // `Tail::next` changes nothing until it returns events, so it
            // may be dropped for a lease renewal or a shutdown.
            let events = tokio::select! {
                () = &mut shutdown => return Ok(()),
                events = tail.next() => events?,
                () = tokio::time::sleep(ttl / 3) => {
                    let renewed = self
                        .read_models
                        .take_lease(DOSSIERS, generation.generation, &self.owner, ttl)
                        .await?;
                    if !renewed {
                        return Err(ProjectionError::CheckpointMoved { projection: DOSSIERS });
                    }
                    continue;
                }
            };
            cursor = self
                .apply(generation.generation, Some(&self.owner), cursor, &events)
                .await?;
        }
    }

    /// Builds a new generation of the projection from the whole log beside
    /// the live one, promotes it, and drops the old one. Reads are served
    /// throughout: from the old rows until the promotion, then the new.
    pub async fn rebuild(&self) -> Result<Rebuilt, ProjectionError> {
        let started = Instant::now();
        let building = self.read_models.begin_generation(DOSSIERS).await?;
        tracing::info!(
            projection = DOSSIERS,
            generation = building.generation,
            "rebuilding"
        );
        self.catch_up_generation(&building, None).await?;
        let built = self
            .read_models
            .statuses()
            .await?
            .into_iter()
            .find(|status| status.name == DOSSIERS && status.generation == building.generation)
            .ok_or(ProjectionError::GenerationGone {
                projection: DOSSIERS.to_owned(),
                generation: building.generation,
            })?;
        self.read_models
            .promote(DOSSIERS, building.generation)
            .await?;
        let elapsed = started.elapsed();
        for retired in self.read_models.statuses().await? {
            if retired.name == DOSSIERS && retired.state == GenerationState::Retired {
                self.read_models
                    .drop_generation(DOSSIERS, retired.generation)
                    .await?;
            }
        }
        Ok(Rebuilt {
            generation: building.generation,
            events: built.events_applied,
            elapsed,
        })
    }

    /// How far each generation of each projection is behind the log's head.
    pub async fn lag(&self) -> Result<Vec<Lag>, ProjectionError> {
        let head = self.store.head().await?;
        Ok(self
            .read_models
            .statuses()
            .await?
            .into_iter()
            .filter(|status| status.state != GenerationState::Retired)
            .map(|status| Lag {
                projection: status.name,
                generation: status.generation,
                checkpoint: status.cursor,
                head,
            })
            .collect())
    }

    async fn catch_up_generation(
        &self,
        generation: &ProjectionStatus,
        lease: Option<&str>,
    ) -> Result<LogCursor, ProjectionError> {
        let batch = self.config.batch_size;
        let mut cursor = generation.cursor;
        let mut events = self.store.read_all(cursor, batch).await?;
        // Each batch is applied while the next one is read.
        while let Some(last) = events.last() {
            let (applied, next) = tokio::join!(
                self.apply(generation.generation, lease, cursor, &events),
                self.store.read_all(last.cursor, batch),
            );
            cursor = applied?;
            events = next?;
        }
        Ok(cursor)
    }

    /// Applies `events`, which follow `from` in the log, to `generation`
    /// and moves its checkpoint to the last of them.
    async fn apply(
        &self,
        generation: i32,
        lease_owner: Option<&str>,
        from: LogCursor,
        events: &[RecordedEvent],
    ) -> Result<LogCursor, ProjectionError> {
        let Some(last) = events.last() else {
            return Ok(from);
        };
        let decoded = match self.decode(events) {
            Ok(decoded) => decoded,
            Err((position, reason)) => {
                tracing::error!(projection = DOSSIERS, generation, position, %reason, "projection stopped");
                self.read_models
                    .record_failure(DOSSIERS, generation, position, &reason)
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
        let mut states = self.read_models.dossier_states(generation, &ids).await?;
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
            projection: DOSSIERS,
            generation,
            lease_owner,
            lease_ttl: self.config.lease_ttl,
            dossiers: Vec::with_capacity(ids.len()),
            holders: Vec::new(),
            counters: CounterDeltas::default(),
            from,
            to: last.cursor,
            events: i64::try_from(events.len()).unwrap_or(i64::MAX),
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
        self.read_models.write(&batch).await?;
        Ok(last.cursor)
    }

    /// The batch's dossier events; other aggregates' events are passed
    /// over. An event that cannot be read stops the batch: (its position, why).
    fn decode<'a>(
        &self,
        events: &'a [RecordedEvent],
    ) -> Result<Vec<DecodedEvent<'a>>, (i64, String)> {
        events
            .iter()
            .filter(|recorded| recorded.event.aggregate_type == Dossier::TYPE)
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
