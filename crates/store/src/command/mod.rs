//! The command path: load an aggregate, let it decide, append what it
//! decided — retried on conflict, idempotent per client command, fast for
//! long streams.
//!
//! - Loading takes the aggregate from a bounded in-memory cache, else from
//!   its latest snapshot and the events after it. A cached state is only a
//!   guess: the append is made at its version and conflicts if the stream
//!   moved meanwhile (another process, another task); the entry is then
//!   dropped and the command retried on fresh state. A rejection decided
//!   on a cached state is confirmed against the stream's version first.
//! - A snapshot is written, in the same transaction, whenever an append
//!   crosses a multiple of `snapshot_every` events.
//! - A conflicting command is retried up to `max_attempts` times, then
//!   reported as [`CommandError::Conflict`].
//! - A command may carry an [`Idempotency`] key. Its first outcome —
//!   committed (recorded in the events' own transaction) or rejected — is
//!   stored, and every repeat, concurrent or later, gets that outcome back
//!   and writes nothing.

mod cache;

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::EventUpcaster;
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::hash::canonical_json;
use crate::record::{
    CommandKey, CommandOutcome, CommandRecord, Commit, LogCursor, NewEvent, SnapshotUpdate,
};
use crate::replay::{AsOf, Loaded, Replayer};
use crate::store::EventStore;

use self::cache::AggregateCache;

/// Tuning of the command path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandPathConfig {
    /// A snapshot every this many events of a stream; 0 for none.
    pub snapshot_every: u32,
    /// Aggregates kept in memory; 0 disables the cache.
    pub cache_capacity: usize,
    /// Tries of a command that keeps conflicting, the first included.
    pub max_attempts: u32,
}

impl Default for CommandPathConfig {
    fn default() -> Self {
        CommandPathConfig {
            snapshot_every: 20,
            cache_capacity: 10_000,
            max_attempts: 5,
        }
    }
}

/// Who sends a command, for which unit, and its client command id if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    /// The unit (tenant) the command acts for.
    pub unit: String,
    /// The user accountable for it.
    pub actor: String,
    pub idempotency: Option<Idempotency>,
}

/// A client's id for a command, with a fingerprint of what it asked: the
/// same id with another request is refused, not answered with the wrong
/// outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    command_id: String,
    fingerprint: [u8; 32],
}

/// Longest client command id accepted (the database checks it too).
pub const MAX_COMMAND_ID_CHARS: usize = 128;

impl Idempotency {
    /// `request` is what the client asked, without anything the server
    /// adds (such as the time it arrived): repeats must fingerprint alike.
    pub fn new(
        command_id: impl Into<String>,
        request: &impl Serialize,
    ) -> Result<Self, StoreError> {
        let command_id = command_id.into();
        let length = command_id.chars().count();
        if length == 0 || length > MAX_COMMAND_ID_CHARS {
            return Err(StoreError::InvalidCommandId {
                command_id,
                reason: format!("must have 1 to {MAX_COMMAND_ID_CHARS} characters"),
            });
        }
        let request =
            serde_json::to_value(request).map_err(|error| StoreError::InvalidCommandId {
                command_id: command_id.clone(),
                reason: format!("the request cannot be fingerprinted: {error}"),
            })?;
        Ok(Idempotency {
            fingerprint: Sha256::digest(canonical_json(&request)).into(),
            command_id,
        })
    }

    pub fn command_id(&self) -> &str {
        &self.command_id
    }
}

/// A command that was carried out (now, or the first time it was sent).
#[derive(Debug, Clone)]
pub struct Committed<A> {
    pub aggregate_id: String,
    /// The state right after this command.
    pub aggregate: A,
    /// The stream's version after the command.
    pub sequence: i64,
    /// Events the command appended.
    pub event_count: u32,
    /// Where its last event landed in the global log; none if it emitted
    /// nothing. Readers that reach it see the command's effects.
    pub position: Option<LogCursor>,
    /// True when this is the recorded outcome of an earlier send.
    pub repeated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command (now, or the first time it was sent).
    #[error("{rejection}")]
    Rejected { rejection: E, repeated: bool },
    /// Other writers kept changing the aggregate; nothing was written.
    #[error("{aggregate_id} kept changing under the command: {attempts} tries conflicted")]
    Conflict { aggregate_id: String, attempts: u32 },
    /// The client command id was used before for a different request.
    #[error("command id {command_id:?} was already used for a different request")]
    CommandIdReused { command_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs commands of aggregate `A` against the store.
pub struct CommandPath<A: Aggregate> {
    replayer: Replayer<A>,
    /// Replaced whole when the reference data change ([`Self::replace_services`]).
    services: RwLock<A::Services>,
    cache: AggregateCache<A>,
    config: CommandPathConfig,
}

impl<A> CommandPath<A>
where
    A: Aggregate + Clone,
    A::Command: Clone,
    A::Error: Serialize + DeserializeOwned,
    A::Services: Clone,
{
    pub fn new(
        store: EventStore,
        services: A::Services,
        upcasters: Vec<Box<dyn EventUpcaster>>,
        config: CommandPathConfig,
    ) -> Self {
        CommandPath {
            replayer: Replayer::new(store, upcasters),
            services: RwLock::new(services),
            cache: AggregateCache::new(config.cache_capacity),
            config,
        }
    }

    fn store(&self) -> &EventStore {
        self.replayer.store()
    }

    /// The services commands are decided with now.
    pub fn services(&self) -> A::Services {
        // A writer cannot panic mid-replace: the value is whole either way.
        self.services
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Decides the commands that start from now on with `services`.
    pub fn replace_services(&self, services: A::Services) {
        *self
            .services
            .write()
            .unwrap_or_else(PoisonError::into_inner) = services;
    }

    /// Runs `command` on aggregate `aggregate_id`.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let key = context.idempotency.as_ref().map(|idempotency| CommandKey {
            actor: context.actor.clone(),
            command_id: idempotency.command_id.clone(),
            fingerprint: idempotency.fingerprint,
        });
        for _ in 0..self.config.max_attempts.max(1) {
            let (current, cached) = match self.cache.get(aggregate_id) {
                Some(current) => (current, true),
                None => (self.replayer.load(aggregate_id).await?, false),
            };
            // The state is ours (the cache hands out copies): decide on it
            // in place; only its version and head are needed after.
            let Loaded {
                aggregate: mut next,
                sequence: version,
                head_hash,
            } = current;
            let sink = EventSink::default();
            let services = self.services();
            if let Err(rejection) = next.handle(command.clone(), &services, &sink).await {
                if cached && self.store().stream_version(A::TYPE, aggregate_id).await? != version {
                    self.cache.remove(aggregate_id);
                    continue;
                }
                return self.reject(aggregate_id, version, rejection, key).await;
            }
            let events = sink.collect().await;
            match self
                .append(
                    aggregate_id,
                    (version, head_hash),
                    next,
                    events,
                    context,
                    key.as_ref(),
                )
                .await
            {
                Ok(committed) => return Ok(committed),
                Err(StoreError::Conflict { .. } | StoreError::CommandAlreadyRecorded { .. }) => {
                    self.cache.remove(aggregate_id);
                    // Perhaps a concurrent repeat of this very command won.
                    if let Some(key) = &key
                        && let Some(first) = self.recorded(aggregate_id, key).await?
                    {
                        return first;
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(CommandError::Conflict {
            aggregate_id: aggregate_id.to_owned(),
            attempts: self.config.max_attempts.max(1),
        })
    }

    /// Tells the path that `aggregate_id` was just minted: its first
    /// command starts from the empty state without reading the store (a
    /// round trip saved per new aggregate). Only a guess, like any cached
    /// state: should the stream exist after all, the append conflicts and
    /// the command is retried on the state read from the store.
    pub fn expect_new(&self, aggregate_id: &str) {
        self.cache.put(aggregate_id, Loaded::empty());
    }

    /// The state of an aggregate now.
    pub async fn load(&self, aggregate_id: &str) -> Result<Loaded<A>, StoreError> {
        self.replayer.load(aggregate_id).await
    }

    /// The state of an aggregate at a point in its past.
    pub async fn load_as_of(
        &self,
        aggregate_id: &str,
        as_of: AsOf,
    ) -> Result<Loaded<A>, StoreError> {
        self.replayer.load_as_of(aggregate_id, as_of).await
    }

    async fn append(
        &self,
        aggregate_id: &str,
        (version, head_hash): (i64, Option<[u8; 32]>),
        next: A,
        events: Vec<A::Event>,
        context: &CommandContext,
        key: Option<&CommandKey>,
    ) -> Result<Committed<A>, StoreError> {
        let metadata = metadata(context);
        let new_events = events
            .iter()
            .zip(version + 1..)
            .map(|(event, sequence)| {
                Ok(NewEvent {
                    aggregate_type: A::TYPE.to_owned(),
                    aggregate_id: aggregate_id.to_owned(),
                    sequence,
                    event_type: event.event_type(),
                    event_version: event.event_version(),
                    payload: to_json::<A>(event, aggregate_id)?,
                    metadata: metadata.clone(),
                    unit_id: context.unit.clone(),
                    actor: context.actor.clone(),
                    command_id: key.map(|key| key.command_id.clone()),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let sequence = version + new_events.len() as i64;
        let event_count = u32::try_from(new_events.len()).unwrap_or(u32::MAX);
        if new_events.is_empty() {
            // Nothing to append; a client command still gets its outcome recorded.
            let committed = Committed {
                aggregate_id: aggregate_id.to_owned(),
                aggregate: next,
                sequence,
                event_count,
                position: None,
                repeated: false,
            };
            if let Some(key) = key {
                let record = CommandRecord {
                    key: key.clone(),
                    aggregate_type: A::TYPE.to_owned(),
                    aggregate_id: aggregate_id.to_owned(),
                    outcome: CommandOutcome::Committed {
                        sequence,
                        event_count,
                        position: None,
                    },
                };
                let first = self.store().record_command(&record).await?;
                if first != record {
                    return Err(StoreError::CommandAlreadyRecorded {
                        actor: key.actor.clone(),
                        command_id: key.command_id.clone(),
                    });
                }
            }
            return Ok(committed);
        }
        let snapshot = self
            .snapshot_due(version, sequence)
            .then(|| {
                Ok::<_, StoreError>(SnapshotUpdate {
                    payload: to_json::<A>(&next, aggregate_id)?,
                    last_sequence: sequence,
                    current_snapshot: sequence / i64::from(self.config.snapshot_every),
                })
            })
            .transpose()?;
        let recorded = self
            .store()
            .commit(Commit {
                events: new_events,
                snapshot: snapshot.as_ref(),
                previous_hash: head_hash.filter(|_| version > 0),
                command: key,
            })
            .await?;
        let last = recorded.last();
        let committed = Committed {
            aggregate_id: aggregate_id.to_owned(),
            aggregate: next.clone(),
            sequence,
            event_count,
            position: last.map(|event| event.cursor),
            repeated: false,
        };
        self.cache.put(
            aggregate_id,
            Loaded {
                aggregate: next,
                sequence,
                head_hash: last.map(|event| event.hash),
            },
        );
        Ok(committed)
    }

    /// Whether an append from `from` to `to` crosses a snapshot boundary.
    fn snapshot_due(&self, from: i64, to: i64) -> bool {
        let every = i64::from(self.config.snapshot_every);
        every > 0 && to / every > from / every
    }

    async fn reject(
        &self,
        aggregate_id: &str,
        sequence: i64,
        rejection: A::Error,
        key: Option<CommandKey>,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        let Some(key) = key else {
            return Err(CommandError::Rejected {
                rejection,
                repeated: false,
            });
        };
        let record = CommandRecord {
            key: key.clone(),
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            outcome: CommandOutcome::Rejected {
                sequence,
                rejection: to_json::<A>(&rejection, aggregate_id)?,
            },
        };
        let first = self.store().record_command(&record).await?;
        if first == record {
            return Err(CommandError::Rejected {
                rejection,
                repeated: false,
            });
        }
        self.replay_outcome(aggregate_id, &key, first).await
    }

    /// The recorded first outcome of `key`, if there is one.
    async fn recorded(
        &self,
        aggregate_id: &str,
        key: &CommandKey,
    ) -> Result<Option<Result<Committed<A>, CommandError<A::Error>>>, StoreError> {
        let Some(first) = self
            .store()
            .command_record(&key.actor, &key.command_id)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.replay_outcome(aggregate_id, key, first).await))
    }

    /// Answers a repeat with the first outcome, after checking that it is
    /// the same request.
    async fn replay_outcome(
        &self,
        aggregate_id: &str,
        key: &CommandKey,
        first: CommandRecord,
    ) -> Result<Committed<A>, CommandError<A::Error>> {
        if first.key.fingerprint != key.fingerprint
            || first.aggregate_type != A::TYPE
            || first.aggregate_id != aggregate_id
        {
            return Err(CommandError::CommandIdReused {
                command_id: key.command_id.clone(),
            });
        }
        match first.outcome {
            CommandOutcome::Committed {
                sequence,
                event_count,
                position,
            } => {
                let loaded = self
                    .replayer
                    .load_as_of(aggregate_id, AsOf::Sequence(sequence))
                    .await?;
                Ok(Committed {
                    aggregate_id: aggregate_id.to_owned(),
                    aggregate: loaded.aggregate,
                    sequence,
                    event_count,
                    position,
                    repeated: true,
                })
            }
            CommandOutcome::Rejected { rejection, .. } => {
                let rejection =
                    serde_json::from_value(rejection).map_err(|error| StoreError::Corrupt {
                        position: 0,
                        reason: format!(
                            "recorded rejection of command {:?}: {error}",
                            key.command_id
                        ),
                    })?;
                Err(CommandError::Rejected {
                    rejection,
                    repeated: true,
                })
            }
        }
    }
}

/// What every event carries beside its payload, as cqrs-es metadata.
fn metadata(context: &CommandContext) -> Value {
    let mut metadata = HashMap::from([
        ("unit", context.unit.as_str()),
        ("actor", context.actor.as_str()),
    ]);
    if let Some(idempotency) = &context.idempotency {
        metadata.insert("command_id", idempotency.command_id.as_str());
    }
    serde_json::json!(metadata)
}

fn to_json<A: Aggregate>(value: &impl Serialize, aggregate_id: &str) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|error| StoreError::InvalidAppend {
        aggregate_type: A::TYPE.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        reason: format!("cannot serialize: {error}"),
    })
}
