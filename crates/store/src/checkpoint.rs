//! Checkpoints: a Merkle root over the head of every stream as of a place in
//! the global log, for auditors to keep outside the database.
//!
//! The hash chain ([`crate::hash`]) shows an event altered, removed or
//! inserted in the middle of a stream, but not a stream cut short, nor a
//! stream rewritten from some event to its end with every hash recomputed:
//! both leave valid chains. A checkpoint commits to each stream's last
//! sequence and hash as of a cursor, so any such change to events at or
//! before that cursor changes the root. Kept outside the database (the JSON
//! file of [`Checkpoint::to_json`]), it catches even an owner who rewrote
//! events, chains and stored checkpoints alike.
//!
//! # The root
//!
//! One leaf per stream with at least one event at or before the cursor,
//! ordered by (aggregate type, aggregate id), compared as UTF-8 bytes:
//!
//! ```text
//! leaf = SHA-256(0x00 ‖ len(type) ‖ type ‖ len(id) ‖ id ‖ sequence ‖ hash)
//! node = SHA-256(0x01 ‖ left ‖ right)
//! ```
//!
//! where lengths and the head's sequence are 8-byte big-endian and `hash` is
//! the head event's 32-byte chain hash. The prefixes keep a leaf from passing
//! for a node. Each level pairs nodes left to right; an odd last node is
//! carried up unchanged. The root of zero streams is SHA-256 of the empty
//! input (`e3b0c442…b855`). [`merkle_root`] computes it; it is all an auditor
//! needs to recompute a root from a list of heads.
//!
//! # The cursor
//!
//! A checkpoint is taken at the last cursor [`EventStore::read_all`] can
//! return: on PostgreSQL the last event of a transaction older than every
//! one still running. Every transaction that can still commit sorts after
//! it, so the heads as of the cursor never change afterwards, unless someone
//! changes the events. Per stream, sequence order is log order, so a stream's
//! head as of the cursor is its highest sequence at or before it: one query
//! per backend (`DISTINCT ON` on PostgreSQL, `GROUP BY` with `MAX` on SQLite).
//!
//! # The file
//!
//! [`Checkpoint::to_json`] writes, and [`Checkpoint::from_json`] reads:
//!
//! ```json
//! {
//!   "format": "motcua checkpoint",
//!   "version": 1,
//!   "cursor": { "transaction": 0, "position": 42 },
//!   "streams": 7,
//!   "root": "<64 hex digits>",
//!   "created_at": "2024-11-05T01:15:00.123456Z"
//! }
//! ```
//!
//! `cursor` is the last event covered (`transaction` is PostgreSQL's `xid8`
//! of its transaction, 0 on SQLite), `streams` the number of leaves, `root`
//! the Merkle root in lowercase hex, `created_at` RFC 3339 in UTC. A reader
//! refuses another `format` or `version`.
//!
//! # Naming what differs
//!
//! With each stored checkpoint the store keeps the heads that changed since
//! the previous one (table `checkpoint_heads`; all heads for the first), so
//! storage grows with the events, not with streams × checkpoints. The heads
//! at a checkpoint are the latest of these per stream. When a root no longer
//! matches, [`EventStore::verify_checkpoint`] rebuilds them, and if they
//! still hash to the checkpoint's root (so they are what was checkpointed),
//! names the first stream, in leaf order, whose head differs now. Otherwise
//! it says only that the root and the stream counts differ.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use tokio::time::MissedTickBehavior;

use crate::error::StoreError;
use crate::record::LogCursor;
use crate::store::EventStore;

/// The version of the checkpoint file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The `format` field of a checkpoint file.
const FORMAT_NAME: &str = "motcua checkpoint";

/// Serialises checkpoint creation on PostgreSQL (a transaction-scoped
/// advisory lock; "motcua" in ASCII, then 1).
const LOCK_KEY: i64 = 0x6d6f_7463_7561_0001;

/// A delta base before every event, even one forged at position 0 or below.
const BEFORE_EVERYTHING: LogCursor = LogCursor {
    transaction: 0,
    position: i64::MIN,
};

/// A Merkle root over every stream head as of `cursor` (see the module
/// documentation). Serialises to the documented JSON file format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CheckpointFile", into = "CheckpointFile")]
pub struct Checkpoint {
    /// The last event the checkpoint covers ([`LogCursor::START`] for none).
    pub cursor: LogCursor,
    pub root: [u8; 32],
    /// How many streams (leaves) the root covers.
    pub streams: u64,
    pub created_at: DateTime<Utc>,
}

impl Checkpoint {
    /// The checkpoint as its JSON file (pretty-printed, ending in a newline).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|json| json + "\n")
    }

    /// Reads a checkpoint file; refuses another format or version.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The root in lowercase hex, as in the file.
    pub fn root_hex(&self) -> String {
        hex(&self.root)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checkpoint at {}/{} over {} streams, root {}, taken {}",
            self.cursor.transaction,
            self.cursor.position,
            self.streams,
            self.root_hex(),
            self.created_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct CheckpointFile {
    format: String,
    version: u32,
    cursor: CursorFile,
    streams: u64,
    root: String,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Serialize, Deserialize)]
struct CursorFile {
    transaction: u64,
    position: i64,
}

impl From<Checkpoint> for CheckpointFile {
    fn from(checkpoint: Checkpoint) -> Self {
        CheckpointFile {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            cursor: CursorFile {
                transaction: checkpoint.cursor.transaction,
                position: checkpoint.cursor.position,
            },
            streams: checkpoint.streams,
            root: hex(&checkpoint.root),
            created_at: checkpoint.created_at,
        }
    }
}

impl TryFrom<CheckpointFile> for Checkpoint {
    type Error = String;

    fn try_from(file: CheckpointFile) -> Result<Self, Self::Error> {
        if file.format != FORMAT_NAME {
            return Err(format!(
                "format {:?} is not {FORMAT_NAME:?}: not a motcua checkpoint file",
                file.format
            ));
        }
        if file.version != FORMAT_VERSION {
            return Err(format!(
                "checkpoint file version {} is not supported (this build reads version {FORMAT_VERSION})",
                file.version
            ));
        }
        let root = from_hex(&file.root)
            .ok_or_else(|| format!("root {:?} is not 64 hex digits", file.root))?;
        Ok(Checkpoint {
            cursor: LogCursor {
                transaction: file.cursor.transaction,
                position: file.cursor.position,
            },
            root,
            streams: file.streams,
            created_at: file.created_at,
        })
    }
}

/// A stream's last event as of a cursor: one leaf of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub hash: [u8; 32],
}

impl StreamHead {
    fn stream(&self) -> (&str, &str) {
        (&self.aggregate_type, &self.aggregate_id)
    }
}

/// The leaf of one stream head.
pub fn leaf_hash(head: &StreamHead) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    for field in [head.aggregate_type.as_bytes(), head.aggregate_id.as_bytes()] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hasher.update(head.sequence.to_be_bytes());
    hasher.update(head.hash);
    hasher.finalize().into()
}

/// The Merkle root over `heads`, in any order (they are put in leaf order).
pub fn merkle_root(heads: &[StreamHead]) -> [u8; 32] {
    let mut ordered: Vec<&StreamHead> = heads.iter().collect();
    ordered.sort_unstable_by(|a, b| a.stream().cmp(&b.stream()));
    let mut tree = MerkleTree::default();
    for head in ordered {
        tree.push(head);
    }
    tree.root()
}

/// The Merkle root built leaf by leaf, in leaf order, holding one node per
/// level (not every head): a checkpoint of the province's 600,000 streams
/// streams its heads through it.
#[derive(Debug, Default)]
struct MerkleTree {
    /// At each level, the left node still waiting for its right one.
    waiting: Vec<Option<[u8; 32]>>,
    leaves: u64,
}

impl MerkleTree {
    fn push(&mut self, head: &StreamHead) {
        self.leaves += 1;
        let mut carried = leaf_hash(head);
        for waiting in &mut self.waiting {
            match waiting.take() {
                Some(left) => carried = node(&left, &carried),
                None => {
                    *waiting = Some(carried);
                    return;
                }
            }
        }
        self.waiting.push(Some(carried));
    }

    /// Pairs what still waits from the bottom up: at each level, an odd
    /// last node is carried up unchanged, as the specification says.
    fn root(self) -> [u8; 32] {
        let mut carried: Option<[u8; 32]> = None;
        for waiting in self.waiting {
            carried = match (waiting, carried) {
                (Some(left), Some(right)) => Some(node(&left, &right)),
                (left, right) => left.or(right),
            };
        }
        carried.unwrap_or_else(|| Sha256::digest([]).into())
    }
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// What [`EventStore::verify_checkpoint`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointVerdict {
    /// The heads as of the checkpoint's cursor still hash to its root.
    Holds,
    /// They do not: events at or before the cursor were altered, removed or
    /// added since the checkpoint was taken.
    Differs(Box<CheckpointMismatch>),
}

impl CheckpointVerdict {
    pub fn holds(&self) -> bool {
        matches!(self, CheckpointVerdict::Holds)
    }
}

impl fmt::Display for CheckpointVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointVerdict::Holds => f.write_str("holds"),
            CheckpointVerdict::Differs(mismatch) => write!(f, "DIFFERS: {mismatch}"),
        }
    }
}

/// How a checkpoint no longer matches the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointMismatch {
    pub expected_root: [u8; 32],
    pub expected_streams: u64,
    /// The root and stream count recomputed from the log as it is now.
    pub found_root: [u8; 32],
    pub found_streams: u64,
    /// The first stream, in leaf order, whose head differs; `None` when this
    /// database does not hold the checkpoint's heads (an exported checkpoint
    /// of another database, or stored heads that were tampered with too).
    pub first_difference: Option<HeadDifference>,
}

impl fmt::Display for CheckpointMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the log now hashes to {} over {} streams, the checkpoint to {} over {} streams; ",
            hex(&self.found_root),
            self.found_streams,
            hex(&self.expected_root),
            self.expected_streams
        )?;
        match &self.first_difference {
            Some(difference) => write!(f, "first stream that differs: {difference}"),
            None => f.write_str(
                "the stream that differs cannot be named (this database does not hold the checkpoint's heads)",
            ),
        }
    }
}

/// One stream's head then and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadDifference {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// At the checkpoint; `None`: the stream had no event then.
    pub expected: Option<Head>,
    /// In the log now, as of the same cursor; `None`: it has none now.
    pub found: Option<Head>,
}

/// A stream's last sequence and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub sequence: i64,
    pub hash: [u8; 32],
}

impl fmt::Display for HeadDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = |head: &Option<Head>| match head {
            Some(head) => format!("event {} (hash {}…)", head.sequence, &hex(&head.hash)[..16]),
            None => "no event".to_owned(),
        };
        write!(
            f,
            "{}/{}: {} at the checkpoint, {} now",
            self.aggregate_type,
            self.aggregate_id,
            head(&self.expected),
            head(&self.found)
        )
    }
}

/// The first stream whose head differs between two lists in leaf order.
fn first_difference(expected: &[StreamHead], found: &[StreamHead]) -> Option<HeadDifference> {
    let difference =
        |stream: &StreamHead, expected: Option<&StreamHead>, found: Option<&StreamHead>| {
            let head = |head: Option<&StreamHead>| {
                head.map(|head| Head {
                    sequence: head.sequence,
                    hash: head.hash,
                })
            };
            HeadDifference {
                aggregate_type: stream.aggregate_type.clone(),
                aggregate_id: stream.aggregate_id.clone(),
                expected: head(expected),
                found: head(found),
            }
        };
    let (mut expected, mut found) = (expected.iter().peekable(), found.iter().peekable());
    loop {
        match (expected.peek(), found.peek()) {
            (None, None) => return None,
            (Some(&then), None) => return Some(difference(then, Some(then), None)),
            (None, Some(&now)) => return Some(difference(now, None, Some(now))),
            (Some(&then), Some(&now)) => match then.stream().cmp(&now.stream()) {
                std::cmp::Ordering::Less => return Some(difference(then, Some(then), None)),
                std::cmp::Ordering::Greater => return Some(difference(now, None, Some(now))),
                std::cmp::Ordering::Equal if then != now => {
                    return Some(difference(then, Some(then), Some(now)));
                }
                std::cmp::Ordering::Equal => {
                    expected.next();
                    found.next();
                }
            },
        }
    }
}

fn sorted(mut heads: Vec<StreamHead>) -> Vec<StreamHead> {
    heads.sort_unstable_by(|a, b| a.stream().cmp(&b.stream()));
    heads
}

impl EventStore {
    /// Takes and stores a checkpoint at the last cursor
    /// [`EventStore::read_all`] can return now (see the module documentation).
    pub async fn create_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        match self {
            EventStore::Postgres(store) => {
                let mut tx = begin(store.pool(), "BEGIN").await?;
                // One creator at a time, so that each stores the heads
                // changed since the previous checkpoint.
                let locked = sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOCK_KEY)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::database("lock checkpoint creation"));
                let created = match locked {
                    Ok(_) => create(&mut *tx).await,
                    Err(error) => Err(error),
                };
                finish(tx, created).await
            }
            EventStore::Sqlite(store) => {
                // The write lock from the start: the cursor, the previous
                // checkpoint and the new one are read and written as one.
                let mut tx = begin(store.pool(), "BEGIN IMMEDIATE").await?;
                let created = create(&mut *tx).await;
                finish(tx, created).await
            }
        }
    }

    /// Like [`EventStore::create_checkpoint`], but only if the log moved
    /// past the latest stored checkpoint (for an empty log: never). Two
    /// concurrent callers may both take one at the same cursor.
    pub async fn create_checkpoint_if_moved(&self) -> Result<Option<Checkpoint>, StoreError> {
        let (cursor, latest) = match self {
            EventStore::Postgres(store) => {
                let mut conn = acquire(store.pool()).await?;
                (conn.stable_cursor().await?, conn.latest().await?)
            }
            EventStore::Sqlite(store) => {
                let mut conn = acquire(store.pool()).await?;
                (conn.stable_cursor().await?, conn.latest().await?)
            }
        };
        let moved = match latest {
            Some(latest) => latest.cursor != cursor,
            None => cursor != LogCursor::START,
        };
        if moved {
            self.create_checkpoint().await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// The last cursor [`EventStore::read_all`] can return now: the head of
    /// the log as readers see it (projections measure their lag against it).
    pub async fn head(&self) -> Result<LogCursor, StoreError> {
        match self {
            EventStore::Postgres(store) => acquire(store.pool()).await?.stable_cursor().await,
            EventStore::Sqlite(store) => acquire(store.pool()).await?.stable_cursor().await,
        }
    }

    /// Every stored checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        match self {
            EventStore::Postgres(store) => acquire(store.pool()).await?.list().await,
            EventStore::Sqlite(store) => acquire(store.pool()).await?.list().await,
        }
    }

    /// The latest stored checkpoint, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        match self {
            EventStore::Postgres(store) => acquire(store.pool()).await?.latest().await,
            EventStore::Sqlite(store) => acquire(store.pool()).await?.latest().await,
        }
    }

    /// Recomputes the root at `checkpoint`'s cursor from the log as it is
    /// now, and says whether it still matches (see the module documentation
    /// for when the first differing stream can be named).
    pub async fn verify_checkpoint(
        &self,
        checkpoint: &Checkpoint,
    ) -> Result<CheckpointVerdict, StoreError> {
        match self {
            EventStore::Postgres(store) => {
                let mut conn = acquire(store.pool()).await?;
                verify(&mut *conn, checkpoint).await
            }
            EventStore::Sqlite(store) => {
                let mut conn = acquire(store.pool()).await?;
                verify(&mut *conn, checkpoint).await
            }
        }
    }

    /// Takes a checkpoint every `every` while the log moves, until `shutdown`
    /// completes. A failure is logged (tracing, warning) and retried at the
    /// next tick; it never ends the loop. The first attempt comes after one
    /// interval, not at once: a checkpoint reads the head of every stream
    /// (20 s of a core at province size), which a process starting (a
    /// rolling upgrade, a restart) should not add to its warm-up.
    pub async fn keep_checkpointing(&self, every: Duration, shutdown: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => {}
            }
            // Cancelling mid-way rolls the checkpoint's transaction back.
            tokio::select! {
                () = &mut shutdown => return,
                result = self.create_checkpoint_if_moved() => match result {
                    Ok(Some(checkpoint)) => tracing::debug!(%checkpoint, "checkpoint taken"),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "cannot take a checkpoint; retrying at the next interval"),
                },
            }
        }
    }
}

async fn acquire<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
) -> Result<sqlx::pool::PoolConnection<DB>, StoreError> {
    pool.acquire()
        .await
        .map_err(StoreError::database("acquire a connection for checkpoints"))
}

async fn begin<'a, DB: sqlx::Database>(
    pool: &'a sqlx::Pool<DB>,
    statement: &'static str,
) -> Result<sqlx::Transaction<'a, DB>, StoreError> {
    pool.begin_with(statement)
        .await
        .map_err(StoreError::database("begin a checkpoint"))
}

/// Commits a checkpoint taken, or rolls back at once (on PostgreSQL the
/// advisory lock is held until then).
async fn finish<DB: sqlx::Database>(
    tx: sqlx::Transaction<'_, DB>,
    created: Result<Checkpoint, StoreError>,
) -> Result<Checkpoint, StoreError> {
    match created {
        Ok(checkpoint) => {
            tx.commit()
                .await
                .map_err(StoreError::database("commit a checkpoint"))?;
            Ok(checkpoint)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

async fn create<C: Sql>(conn: &mut C) -> Result<Checkpoint, StoreError> {
    let cursor = conn.stable_cursor().await?;
    let previous = conn.latest().await?;
    let tree = conn.tree_of_heads(cursor).await?;
    let checkpoint = Checkpoint {
        cursor,
        streams: tree.leaves,
        root: tree.root(),
        created_at: now_to_the_microsecond(),
    };
    let id = conn.insert(&checkpoint).await?;
    let base = previous
        .map(|previous| previous.cursor)
        .filter(|base| *base <= cursor)
        .unwrap_or(BEFORE_EVERYTHING);
    conn.insert_heads(id, base, cursor).await?;
    Ok(checkpoint)
}

async fn verify<C: Sql>(
    conn: &mut C,
    checkpoint: &Checkpoint,
) -> Result<CheckpointVerdict, StoreError> {
    // The usual verdict streams the heads, as a checkpoint is taken; only a
    // mismatch holds them all, to name the first difference.
    let tree = conn.tree_of_heads(checkpoint.cursor).await?;
    if (tree.leaves, tree.root()) == (checkpoint.streams, checkpoint.root) {
        return Ok(CheckpointVerdict::Holds);
    }
    let found = sorted(conn.heads(checkpoint.cursor).await?);
    let found_root = merkle_root(&found);
    let expected = match conn.find(checkpoint).await? {
        Some(id) => Some(sorted(conn.stored_heads(id).await?)),
        None => None,
    };
    // Only heads that hash to the checkpoint's root are evidence.
    let first_difference = expected
        .filter(|expected| merkle_root(expected) == checkpoint.root)
        .and_then(|expected| first_difference(&expected, &found));
    Ok(CheckpointVerdict::Differs(Box::new(CheckpointMismatch {
        expected_root: checkpoint.root,
        expected_streams: checkpoint.streams,
        found_root,
        found_streams: found.len() as u64,
        first_difference,
    })))
}

/// Both databases keep microseconds: store what reads back the same.
fn now_to_the_microsecond() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// The SQL of checkpoints, per backend.
trait Sql {
    /// The last cursor `read_all` can return now.
    async fn stable_cursor(&mut self) -> Result<LogCursor, StoreError>;
    /// Each stream's head as of `upto`, in no particular order.
    async fn heads(&mut self, upto: LogCursor) -> Result<Vec<StreamHead>, StoreError>;
    /// The heads as of `upto` in leaf order, streamed into a tree.
    async fn tree_of_heads(&mut self, upto: LogCursor) -> Result<MerkleTree, StoreError>;
    async fn latest(&mut self) -> Result<Option<Checkpoint>, StoreError>;
    async fn list(&mut self) -> Result<Vec<Checkpoint>, StoreError>;
    async fn insert(&mut self, checkpoint: &Checkpoint) -> Result<i64, StoreError>;
    /// Stores, for checkpoint `id`, the heads of streams with events in (`after`, `upto`].
    async fn insert_heads(
        &mut self,
        id: i64,
        after: LogCursor,
        upto: LogCursor,
    ) -> Result<(), StoreError>;
    /// The heads at stored checkpoint `id`, rebuilt from the stored changes.
    async fn stored_heads(&mut self, id: i64) -> Result<Vec<StreamHead>, StoreError>;
    /// The first stored checkpoint with this cursor and root.
    async fn find(&mut self, checkpoint: &Checkpoint) -> Result<Option<i64>, StoreError>;
}

const CHECKPOINT_COLUMNS_POSTGRES: &str =
    "id, transaction_id::text AS transaction_text, position, root, streams, created_at";

impl Sql for PgConnection {
    async fn stable_cursor(&mut self) -> Result<LogCursor, StoreError> {
        let row = sqlx::query(
            "SELECT transaction_id::text AS transaction_text, position FROM events \
             WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY transaction_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&mut *self)
        .await
        .map_err(StoreError::database("find the checkpoint's cursor"))?;
        let Some(row) = row else {
            return Ok(LogCursor::START);
        };
        let position: i64 = row
            .try_get("position")
            .map_err(StoreError::database("read a position"))?;
        let transaction: String = row
            .try_get("transaction_text")
            .map_err(StoreError::database("read a transaction id"))?;
        let transaction = transaction.parse().map_err(|_| StoreError::Corrupt {
            position,
            reason: format!("transaction id {transaction:?} is not a number"),
        })?;
        Ok(LogCursor {
            transaction,
            position,
        })
    }

    async fn heads(&mut self, upto: LogCursor) -> Result<Vec<StreamHead>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (aggregate_type, aggregate_id) \
                    aggregate_type, aggregate_id, sequence, hash \
             FROM events WHERE (transaction_id, position) <= ($1::text::xid8, $2) \
             ORDER BY aggregate_type, aggregate_id, sequence DESC",
        )
        .bind(upto.transaction.to_string())
        .bind(upto.position)
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("read the stream heads"))?;
        rows.iter().map(stream_head).collect()
    }

    async fn tree_of_heads(&mut self, upto: LogCursor) -> Result<MerkleTree, StoreError> {
        // Leaf order is byte order: "C", whatever the database's collation.
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, hash FROM ( \
                 SELECT DISTINCT ON (aggregate_type, aggregate_id) \
                        aggregate_type, aggregate_id, sequence, hash \
                 FROM events WHERE (transaction_id, position) <= ($1::text::xid8, $2) \
                 ORDER BY aggregate_type, aggregate_id, sequence DESC \
             ) AS heads ORDER BY aggregate_type COLLATE \"C\", aggregate_id COLLATE \"C\"",
        )
        .bind(upto.transaction.to_string())
        .bind(upto.position)
        .fetch(&mut *self);
        tree_of(rows).await
    }

    async fn latest(&mut self) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHECKPOINT_COLUMNS_POSTGRES} FROM checkpoints ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&mut *self)
        .await
        .map_err(StoreError::database("read the latest checkpoint"))?;
        row.as_ref().map(stored_postgres).transpose()
    }

    async fn list(&mut self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHECKPOINT_COLUMNS_POSTGRES} FROM checkpoints ORDER BY id"
        ))
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("list the checkpoints"))?;
        rows.iter().map(stored_postgres).collect()
    }

    async fn insert(&mut self, checkpoint: &Checkpoint) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO checkpoints (transaction_id, position, root, streams, created_at) \
             VALUES ($1::text::xid8, $2, $3, $4, $5) RETURNING id",
        )
        .bind(checkpoint.cursor.transaction.to_string())
        .bind(checkpoint.cursor.position)
        .bind(checkpoint.root.as_slice())
        .bind(streams_column(checkpoint.streams)?)
        .bind(checkpoint.created_at)
        .fetch_one(&mut *self)
        .await
        .map_err(StoreError::database("store a checkpoint"))
    }

    async fn insert_heads(
        &mut self,
        id: i64,
        after: LogCursor,
        upto: LogCursor,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoint_heads (checkpoint_id, aggregate_type, aggregate_id, sequence, hash) \
             SELECT DISTINCT ON (aggregate_type, aggregate_id) \
                    $1::bigint, aggregate_type, aggregate_id, sequence, hash \
             FROM events \
             WHERE (transaction_id, position) > ($2::text::xid8, $3) \
               AND (transaction_id, position) <= ($4::text::xid8, $5) \
             ORDER BY aggregate_type, aggregate_id, sequence DESC",
        )
        .bind(id)
        .bind(after.transaction.to_string())
        .bind(after.position)
        .bind(upto.transaction.to_string())
        .bind(upto.position)
        .execute(&mut *self)
        .await
        .map_err(StoreError::database("store a checkpoint's heads"))?;
        Ok(())
    }

    async fn stored_heads(&mut self, id: i64) -> Result<Vec<StreamHead>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (aggregate_type, aggregate_id) \
                    aggregate_type, aggregate_id, sequence, hash \
             FROM checkpoint_heads WHERE checkpoint_id <= $1 \
             ORDER BY aggregate_type, aggregate_id, checkpoint_id DESC",
        )
        .bind(id)
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("read a checkpoint's heads"))?;
        rows.iter().map(stream_head).collect()
    }

    async fn find(&mut self, checkpoint: &Checkpoint) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT id FROM checkpoints \
             WHERE transaction_id = $1::text::xid8 AND position = $2 AND root = $3 \
             ORDER BY id LIMIT 1",
        )
        .bind(checkpoint.cursor.transaction.to_string())
        .bind(checkpoint.cursor.position)
        .bind(checkpoint.root.as_slice())
        .fetch_optional(&mut *self)
        .await
        .map_err(StoreError::database("find a stored checkpoint"))
    }
}

const CHECKPOINT_COLUMNS_SQLITE: &str = "id, transaction_id, position, root, streams, created_at";

impl Sql for SqliteConnection {
    async fn stable_cursor(&mut self) -> Result<LogCursor, StoreError> {
        // One writer: every committed event is readable.
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&mut *self)
            .await
            .map_err(StoreError::database("find the checkpoint's cursor"))?;
        Ok(last.map_or(LogCursor::START, |position| LogCursor {
            transaction: 0,
            position,
        }))
    }

    async fn heads(&mut self, upto: LogCursor) -> Result<Vec<StreamHead>, StoreError> {
        // With one MAX(), SQLite takes the bare `hash` from the row holding it.
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, MAX(sequence) AS sequence, hash \
             FROM events WHERE position <= ?1 GROUP BY aggregate_type, aggregate_id",
        )
        .bind(upto.position)
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("read the stream heads"))?;
        rows.iter().map(stream_head).collect()
    }

    async fn tree_of_heads(&mut self, upto: LogCursor) -> Result<MerkleTree, StoreError> {
        // SQLite's default (BINARY) collation is byte order: leaf order.
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, MAX(sequence) AS sequence, hash \
             FROM events WHERE position <= ?1 GROUP BY aggregate_type, aggregate_id \
             ORDER BY aggregate_type, aggregate_id",
        )
        .bind(upto.position)
        .fetch(&mut *self);
        tree_of(rows).await
    }

    async fn latest(&mut self) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHECKPOINT_COLUMNS_SQLITE} FROM checkpoints ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&mut *self)
        .await
        .map_err(StoreError::database("read the latest checkpoint"))?;
        row.as_ref().map(stored_sqlite).transpose()
    }

    async fn list(&mut self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHECKPOINT_COLUMNS_SQLITE} FROM checkpoints ORDER BY id"
        ))
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("list the checkpoints"))?;
        rows.iter().map(stored_sqlite).collect()
    }

    async fn insert(&mut self, checkpoint: &Checkpoint) -> Result<i64, StoreError> {
        let transaction =
            i64::try_from(checkpoint.cursor.transaction).map_err(|_| StoreError::Corrupt {
                position: checkpoint.cursor.position,
                reason: format!(
                    "transaction {} does not fit SQLite",
                    checkpoint.cursor.transaction
                ),
            })?;
        sqlx::query_scalar(
            "INSERT INTO checkpoints (transaction_id, position, root, streams, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .bind(transaction)
        .bind(checkpoint.cursor.position)
        .bind(checkpoint.root.as_slice())
        .bind(streams_column(checkpoint.streams)?)
        .bind(
            checkpoint
                .created_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
        )
        .fetch_one(&mut *self)
        .await
        .map_err(StoreError::database("store a checkpoint"))
    }

    async fn insert_heads(
        &mut self,
        id: i64,
        after: LogCursor,
        upto: LogCursor,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoint_heads (checkpoint_id, aggregate_type, aggregate_id, sequence, hash) \
             SELECT ?1, aggregate_type, aggregate_id, MAX(sequence), hash \
             FROM events WHERE position > ?2 AND position <= ?3 \
             GROUP BY aggregate_type, aggregate_id",
        )
        .bind(id)
        .bind(after.position)
        .bind(upto.position)
        .execute(&mut *self)
        .await
        .map_err(StoreError::database("store a checkpoint's heads"))?;
        Ok(())
    }

    async fn stored_heads(&mut self, id: i64) -> Result<Vec<StreamHead>, StoreError> {
        let rows = sqlx::query(
            "SELECT aggregate_type, aggregate_id, sequence, hash, MAX(checkpoint_id) \
             FROM checkpoint_heads WHERE checkpoint_id <= ?1 \
             GROUP BY aggregate_type, aggregate_id",
        )
        .bind(id)
        .fetch_all(&mut *self)
        .await
        .map_err(StoreError::database("read a checkpoint's heads"))?;
        rows.iter().map(stream_head).collect()
    }

    async fn find(&mut self, checkpoint: &Checkpoint) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT id FROM checkpoints WHERE transaction_id = ?1 AND position = ?2 AND root = ?3 \
             ORDER BY id LIMIT 1",
        )
        // A transaction beyond i64 was never stored here: match nothing.
        .bind(i64::try_from(checkpoint.cursor.transaction).unwrap_or(-1))
        .bind(checkpoint.cursor.position)
        .bind(checkpoint.root.as_slice())
        .fetch_optional(&mut *self)
        .await
        .map_err(StoreError::database("find a stored checkpoint"))
    }
}

fn streams_column(streams: u64) -> Result<i64, StoreError> {
    i64::try_from(streams).map_err(|_| StoreError::CorruptCheckpoint {
        id: 0,
        reason: format!("{streams} streams do not fit a database integer"),
    })
}

/// The tree of heads that come in leaf order.
async fn tree_of<R: Row>(
    mut rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
) -> Result<MerkleTree, StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut tree = MerkleTree::default();
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(StoreError::database("read the stream heads"))?
    {
        tree.push(&stream_head(&row)?);
    }
    Ok(tree)
}

fn stream_head<R: Row>(row: &R) -> Result<StreamHead, StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let unreadable = |source| StoreError::Database {
        operation: "read a stream head",
        source,
    };
    let aggregate_type: String = row.try_get("aggregate_type").map_err(unreadable)?;
    let aggregate_id: String = row.try_get("aggregate_id").map_err(unreadable)?;
    let sequence: i64 = row.try_get("sequence").map_err(unreadable)?;
    let hash: Vec<u8> = row.try_get("hash").map_err(unreadable)?;
    let hash = hash.try_into().map_err(|hash: Vec<u8>| StoreError::Corrupt {
        position: 0,
        reason: format!(
            "the head of {aggregate_type}/{aggregate_id} (event {sequence}) has a hash of {} bytes, not 32",
            hash.len()
        ),
    })?;
    Ok(StreamHead {
        aggregate_type,
        aggregate_id,
        sequence,
        hash,
    })
}

fn stored_postgres(row: &sqlx::postgres::PgRow) -> Result<Checkpoint, StoreError> {
    let unreadable = |source| StoreError::Database {
        operation: "read a checkpoint",
        source,
    };
    let id: i64 = row.try_get("id").map_err(unreadable)?;
    let corrupt = |reason: String| StoreError::CorruptCheckpoint { id, reason };
    let transaction: String = row.try_get("transaction_text").map_err(unreadable)?;
    let transaction = transaction
        .parse()
        .map_err(|_| corrupt(format!("transaction id {transaction:?} is not a number")))?;
    stored(
        id,
        transaction,
        row.try_get("position").map_err(unreadable)?,
        row.try_get("root").map_err(unreadable)?,
        row.try_get("streams").map_err(unreadable)?,
        row.try_get("created_at").map_err(unreadable)?,
    )
}

fn stored_sqlite(row: &sqlx::sqlite::SqliteRow) -> Result<Checkpoint, StoreError> {
    let unreadable = |source| StoreError::Database {
        operation: "read a checkpoint",
        source,
    };
    let id: i64 = row.try_get("id").map_err(unreadable)?;
    let corrupt = |reason: String| StoreError::CorruptCheckpoint { id, reason };
    let transaction: i64 = row.try_get("transaction_id").map_err(unreadable)?;
    let created_at: String = row.try_get("created_at").map_err(unreadable)?;
    let created_at = DateTime::parse_from_rfc3339(&created_at)
        .map_err(|error| corrupt(format!("created_at {created_at:?}: {error}")))?
        .with_timezone(&Utc);
    stored(
        id,
        u64::try_from(transaction)
            .map_err(|_| corrupt(format!("transaction id {transaction} is negative")))?,
        row.try_get("position").map_err(unreadable)?,
        row.try_get("root").map_err(unreadable)?,
        row.try_get("streams").map_err(unreadable)?,
        created_at,
    )
}

fn stored(
    id: i64,
    transaction: u64,
    position: i64,
    root: Vec<u8>,
    streams: i64,
    created_at: DateTime<Utc>,
) -> Result<Checkpoint, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptCheckpoint { id, reason };
    let root = root
        .try_into()
        .map_err(|root: Vec<u8>| corrupt(format!("root has {} bytes, not 32", root.len())))?;
    let streams = u64::try_from(streams)
        .map_err(|_| corrupt(format!("stream count {streams} is negative")))?;
    Ok(Checkpoint {
        cursor: LogCursor {
            transaction,
            position,
        },
        root,
        streams,
        created_at,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(bytes)
}
