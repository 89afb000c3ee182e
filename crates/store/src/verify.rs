//! Chain verification: recompute every event's hash and name the first
//! broken link of each stream.
//!
//! How links are checked and classified, and what the chain cannot show:
//! see [`ChainReport`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::error::StoreError;
use crate::hash;
use crate::record::{LogCursor, RecordedEvent};
use crate::store::EventStore;

/// Events read per page of the global log.
const PAGE: u32 = 1_000;

/// The outcome of a verification ([`EventStore::verify_stream`],
/// [`EventStore::verify_all`]).
///
/// Each stream is walked in sequence order from the genesis hash. The link
/// into event `n` holds when `hash::chain(stored hash of n-1, event n)`
/// equals the stored hash of `n`. The first link of a stream that does not
/// hold is reported, with a [`BreakKind`]; later links of that stream are not
/// judged (they depend on the broken one).
///
/// # How a broken link is classified
///
/// - A missing sequence (the stream jumps from `n` to `n+2`, or does not
///   start at 1) is [`BreakKind::MissingSequence`], named at the first event
///   after the gap: an event was deleted (or renumbered).
/// - Otherwise the link into `n` does not hold, and the *next* event of the
///   stream, `n+1`, is the witness: its hash was computed from the original
///   hash of `n`.
///   - If `n+1` chains from the stored hash of `n`, or from the hash `n`
///     *should* have (recomputed from its content and its predecessor's
///     stored hash), then row `n` is what `n+1` followed, give or take one
///     column: its content or its hash column was rewritten in place:
///     [`BreakKind::HashMismatch`] at `n`.
///   - If `n+1` chains from neither, row `n` is not the row `n+1` followed:
///     a forged row (inserted in place of a deleted one, or replacing one)
///     carrying a hash computed from something other than its predecessor
///     (or both `n` and `n+1` were altered): [`BreakKind::ChainMismatch`]
///     at `n`.
///   - Without a witness (`n` ends the stream, or `n+1` is missing) the kind
///     is [`BreakKind::HashMismatch`].
///
/// The sequence named is exact: it is the first link that does not hold.
/// The kind is a diagnosis, the simplest explanation of the evidence. One
/// ambiguity is inherent to the chain: a careful forger who replaces event
/// `n-1` and recomputes its hash from its predecessor leaves exactly the same
/// evidence as someone who edited the content of event `n` (event `n-1`
/// chains, `n` does not, `n+1` chains from `n`): both are reported as a
/// [`BreakKind::HashMismatch`] at `n`. An auditor looks at `n-1` and `n`.
///
/// # What the chain alone cannot show
///
/// - A deleted stream end: removing the last events of a stream leaves a
///   shorter, valid chain. So does rewriting events and re-hashing every
///   event from the first one rewritten to the end of the stream, or
///   appending forged events chained properly. Checkpoints over stream
///   heads ([`crate::checkpoint`]) catch these, before their cursor.
/// - Columns outside the hash: `position` and `transaction_id` (the log's
///   order) and `command_id`.
///
/// A row that cannot be read back as an event at all (not JSON, a hash that
/// is not 32 bytes) fails verification with [`StoreError::Corrupt`], which
/// names its position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// Events read, including those after a stream's first broken link.
    pub events_checked: u64,
    /// Streams with at least one event read.
    pub streams_checked: u64,
    /// The first broken link of each broken stream, by position.
    pub broken: Vec<Broken>,
}

impl ChainReport {
    /// Every link of every stream read holds.
    pub fn is_intact(&self) -> bool {
        self.broken.is_empty()
    }
}

/// The first broken link of a stream: the event at `sequence` (stored at
/// `position`) does not follow its predecessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub position: i64,
    pub kind: BreakKind,
}

/// Why a link is broken. See the [`ChainReport`] documentation for how the
/// kind is decided and what it cannot tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The event's stored hash is not the hash of its content after its
    /// predecessor's stored hash, and the next event shows that the row is
    /// the one it followed: the row's content or its hash was rewritten (or,
    /// indistinguishably, its predecessor was replaced and re-hashed).
    HashMismatch,
    /// The stream has no event `expected`: the event named is the first
    /// after the gap. An event was deleted.
    MissingSequence { expected: i64 },
    /// The event neither follows its predecessor's hash nor is the row the
    /// next event followed: an inserted or replaced event whose hash was
    /// computed from a wrong predecessor.
    ChainMismatch,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Broken {
            aggregate_type,
            aggregate_id,
            sequence,
            position,
            kind,
        } = self;
        write!(
            f,
            "{aggregate_type}/{aggregate_id}: event {sequence} (position {position}) "
        )?;
        match kind {
            BreakKind::HashMismatch => {
                f.write_str("does not match its hash: its content or hash was altered")
            }
            BreakKind::MissingSequence { expected } => {
                write!(f, "follows a gap: event {expected} is missing")
            }
            BreakKind::ChainMismatch => f.write_str(
                "does not follow its predecessor and is not the event its successor follows: inserted or replaced",
            ),
        }
    }
}

impl EventStore {
    /// Verifies the hash chain of one stream (see the [`ChainReport`]
    /// documentation). Reports the same first broken link
    /// as [`EventStore::verify_all`] for this stream.
    pub async fn verify_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<ChainReport, StoreError> {
        let mut verifier = Verifier::default();
        for event in self.load_stream(aggregate_type, aggregate_id, 0).await? {
            verifier.check(event);
        }
        Ok(verifier.finish())
    }

    /// Verifies the hash chain of every stream, reading the global log once
    /// in pages (see the [`ChainReport`] documentation).
    ///
    /// Memory: a small state per stream, plus, for a stream with a gap, its
    /// events after the gap (they are checked in sequence order, should the
    /// missing event come later in the log).
    ///
    /// On PostgreSQL the log is read as [`EventStore::read_all`] sees it:
    /// events of transactions younger than the oldest one still running are
    /// not read yet ([`ChainReport::events_checked`] says how many were).
    pub async fn verify_all(&self) -> Result<ChainReport, StoreError> {
        let mut verifier = Verifier::default();
        let mut after = LogCursor::START;
        loop {
            let page = self.read_all(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.cursor;
            for event in page {
                verifier.check(event);
            }
        }
        Ok(verifier.finish())
    }
}

/// Checks streams event by event, in any order of arrival.
#[derive(Default)]
struct Verifier {
    events: u64,
    streams: HashMap<(String, String), Stream>,
    broken: Vec<Broken>,
}

/// One stream's progress.
struct Stream {
    /// The sequence of the next event to check.
    next: i64,
    /// Events that arrived before their predecessors (a gap so far).
    waiting: BTreeMap<i64, RecordedEvent>,
    link: Link,
}

enum Link {
    /// Every link so far holds; the stored hash of the last event checked.
    Holding([u8; 32]),
    /// The link into `event` does not hold; the next event decides the kind.
    Suspect {
        event: Box<RecordedEvent>,
        /// The hash `event` would have after its predecessor's stored hash.
        recomputed: [u8; 32],
    },
    /// The first broken link is reported; the rest of the stream is not judged.
    Broken,
}

impl Verifier {
    fn check(&mut self, event: RecordedEvent) {
        self.events += 1;
        let key = (
            event.event.aggregate_type.clone(),
            event.event.aggregate_id.clone(),
        );
        let stream = self.streams.entry(key).or_insert_with(|| Stream {
            next: 1,
            waiting: BTreeMap::new(),
            link: Link::Holding(hash::GENESIS),
        });
        if matches!(stream.link, Link::Broken) {
            return;
        }
        // A sequence already checked can only come back if the log changed
        // between two pages: it is the next verification's business.
        if event.event.sequence >= stream.next {
            stream.waiting.insert(event.event.sequence, event);
        }
        while let Some(event) = stream.waiting.remove(&stream.next) {
            stream.next += 1;
            if let Some(broken) = stream.step(event) {
                self.broken.push(broken);
                stream.waiting.clear();
                break;
            }
        }
    }

    fn finish(mut self) -> ChainReport {
        for stream in self.streams.values_mut() {
            let broken = match std::mem::replace(&mut stream.link, Link::Broken) {
                // No witness: the suspect ends the stream or precedes a gap.
                Link::Suspect { event, .. } => Some(broken(&event, BreakKind::HashMismatch)),
                Link::Holding(_) => stream.waiting.values().next().map(|after_gap| {
                    broken(
                        after_gap,
                        BreakKind::MissingSequence {
                            expected: stream.next,
                        },
                    )
                }),
                Link::Broken => None,
            };
            self.broken.extend(broken);
        }
        self.broken.sort_by_key(|broken| broken.position);
        ChainReport {
            events_checked: self.events,
            streams_checked: self.streams.len() as u64,
            broken: self.broken,
        }
    }
}

impl Stream {
    /// Checks the link into `event`, the next in sequence. Returns the
    /// stream's first broken link once it is known.
    fn step(&mut self, event: RecordedEvent) -> Option<Broken> {
        let follows = |previous: &[u8; 32]| hash::chain(previous, &event.event, event.recorded_at);
        match std::mem::replace(&mut self.link, Link::Broken) {
            Link::Holding(previous) => {
                let recomputed = follows(&previous);
                self.link = if recomputed == event.hash {
                    Link::Holding(event.hash)
                } else {
                    Link::Suspect {
                        event: Box::new(event),
                        recomputed,
                    }
                };
                None
            }
            Link::Suspect {
                event: suspect,
                recomputed,
            } => {
                let witnessed =
                    follows(&suspect.hash) == event.hash || follows(&recomputed) == event.hash;
                let kind = if witnessed {
                    BreakKind::HashMismatch
                } else {
                    BreakKind::ChainMismatch
                };
                Some(broken(&suspect, kind))
            }
            Link::Broken => None,
        }
    }
}

fn broken(event: &RecordedEvent, kind: BreakKind) -> Broken {
    Broken {
        aggregate_type: event.event.aggregate_type.clone(),
        aggregate_id: event.event.aggregate_id.clone(),
        sequence: event.event.sequence,
        position: event.cursor.position,
        kind,
    }
}
