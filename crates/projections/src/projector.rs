//! The projection engine: tails the global log from a projection's
//! checkpoint and applies each batch of events to the read models in one
//! transaction that also moves the checkpoint.
//!
//! The dossier projection keeps, per dossier, a row whose fold state
//! ([`crate::fold::DossierState`]) the next batch continues from, and the
//! Biểu 06 counters, changed by the difference between each touched
//! dossier's contribution before and after the batch.
//!
//! **Reading, folding, writing.** A reader task streams the log (one query
//! up to the head, page by page while catching up) and decodes each page in
//! a task of its own, while the projector folds the pages before into a
//! window in memory ([`window`]). The window is written in one transaction
//! when it is full, when the reader reaches the head of the log, or (when
//! serving) when it has been open for `window_age`. A dossier is so read
//! and written once per window, not once per event, and the fold states
//! stay cached between windows. A window's write runs while the next window
//! folds; a window due while that write goes on keeps folding until it
//! ends, so reading, folding and writing all go on at once.
//!
//! **Generations.** Readers read a projection's live generation. A rebuild
//! ([`Projector::rebuild`]) fills a new generation from the start of the
//! log beside it, then promotes it in one update; reads are served from the
//! old rows until then, from the new ones after. Since nobody reads a
//! generation being built, and an interrupted build is dropped rather than
//! resumed, a rebuild holds each open dossier back until it closes (or the
//! log ends) and so writes most rows once, and writes each counter cell
//! once, at the end (on PostgreSQL over two connections at once: the
//! counters of a generation being built need not commit with its
//! checkpoint).
//!
//! **One active projector.** [`Projector::run`] holds a lease on the live
//! generation (in the `projections` table, timed by the database's clock)
//! and renews it with every batch; other processes wait, and take over
//! within the lease's time to live when the holder dies. The checkpoint
//! only moves from where a batch began, so even two projectors at once
//! never apply an event twice.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cqrs_es::Aggregate;
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_store::{EventStore, LogCursor, LogEntry, Replayer};
use tokio::sync::mpsc;

use crate::error::ProjectionError;
use crate::read_models::{BatchWrite, GenerationState, ProjectionStatus, ReadModels};

mod window;

use window::{DecodedEvent, Page, StateCache, Window};

/// The dossier projection's name in the `projections` table.
pub const DOSSIERS: &str = "dossiers";

/// Pages read ahead of the fold, at least: the reader goes on reading up
/// to a window ahead while the projector writes.
const PAGES_AHEAD: usize = 4;

/// How many times `window_events` a window may grow to while the write
/// before it goes on; beyond, the fold waits for it (and memory is bounded).
const OVERFULL_WINDOW: i64 = 4;

/// Events read by one query up to the head: many, so that the database
/// streams them without a round trip per page; not all, so that its plan
/// stays an index scan and its snapshot is not held for long.
const EVENTS_PER_READ: u32 = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct ProjectorConfig {
    /// Events read from the log at a time.
    pub page_size: u32,
    /// Events folded in memory before they are written in one transaction
    /// (more while the write before goes on, up to `OVERFULL_WINDOW` times).
    pub window_events: u32,
    /// While serving, the longest a window stays unwritten as events keep
    /// coming: how stale the read models may get during a long catch-up.
    pub window_age: Duration,
    /// Fold states kept in memory between windows (the least recently
    /// touched are dropped beyond it); each is a few hundred bytes.
    pub cached_dossiers: usize,
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
            page_size: 2000,
            window_events: 100_000,
            window_age: Duration::from_secs(1),
            cached_dossiers: 200_000,
            policy: TimelinessPolicy::default(),
            poll_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(5),
        }
    }
}

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
    /// From the start until the new generation was live.
    pub elapsed: Duration,
    /// The part of `elapsed` spent after the last write: indexing the new
    /// generation and swapping it in (on PostgreSQL the indexes are built
    /// then, each in one pass).
    pub promoted_in: Duration,
}

/// The projector's writes into a generation: at most one under way while
/// the next window folds.
struct Writing {
    generation: i32,
    /// The generation is being built, not live.
    building: bool,
    lease_owner: Option<String>,
    pending: Option<tokio::task::JoinHandle<Result<(), ProjectionError>>>,
}

impl Writing {
    /// Waits for the write under way, if any, and says how it ended.
    /// Cancel-safe: waiting can be given up and taken up again without
    /// losing the write's outcome.
    async fn finish(&mut self) -> Result<(), ProjectionError> {
        if let Some(task) = &mut self.pending {
            let ended = task
                .await
                .map_err(|error| ProjectionError::WriteInterrupted(error.to_string()));
            self.pending = None;
            ended??;
        }
        Ok(())
    }

    /// A write is under way and has not ended yet.
    fn is_busy(&self) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|task| !task.is_finished())
    }
}

/// How a pass over the log ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// At the head of the log as the reader finds it.
    Head,
    /// Never: follow the log until shut down, under a lease.
    Shutdown,
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
            match self
                .project(&live, Until::Head, std::future::pending())
                .await
            {
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
    /// shutdown writes the window in hand and gives the lease up.
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
            match self
                .project(&live, Until::Shutdown, shutdown.as_mut())
                .await
            {
                Err(ProjectionError::CheckpointMoved { .. }) => {
                    // Our generation was retired by a rebuild, or our lease
                    // went to another projector: start over from the table.
                    tracing::info!(projection = DOSSIERS, owner = %self.owner, "lease or generation lost");
                }
                other => {
                    self.read_models
                        .release_lease(DOSSIERS, live.generation, &self.owner)
                        .await?;
                    return other.map(|_| ());
                }
            }
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
        self.project(&building, Until::Head, std::future::pending())
            .await?;
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
        let promoting = Instant::now();
        self.read_models
            .promote(DOSSIERS, building.generation)
            .await?;
        let (elapsed, promoted_in) = (started.elapsed(), promoting.elapsed());
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
            promoted_in,
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

    /// Projects the log into `generation` from its checkpoint, `until` the
    /// head or the shutdown (then under the lease), and returns the
    /// checkpoint reached.
    async fn project(
        &self,
        generation: &ProjectionStatus,
        until: Until,
        shutdown: impl Future<Output = ()>,
    ) -> Result<LogCursor, ProjectionError> {
        tokio::pin!(shutdown);
        let config = &self.config;
        let lease = match until {
            Until::Head => None,
            Until::Shutdown => Some(self.owner.as_str()),
        };
        let mut pages = self.read_pages(generation.cursor, until);
        let mut window = Window::new(generation.cursor);
        let mut cache = StateCache::new(
            config.cached_dossiers,
            generation.cursor == LogCursor::START,
        );
        // A rebuild holds open dossiers back until they close (Window::take).
        let hold_open = generation.state == GenerationState::Building;
        let mut writing = Writing {
            generation: generation.generation,
            building: hold_open,
            lease_owner: lease.map(str::to_owned),
            pending: None,
        };
        // A window due (full, or following the log at its head) is written
        // once the write before it has ended: at once if it has, else as
        // soon as it does, the pages coming meanwhile joining it instead of
        // waiting; so the fold goes on while PostgreSQL writes. Only a window
        // far over its size waits for the write before it.
        let mut write_when_free = false;
        loop {
            let page = if window.is_empty() {
                tokio::select! {
                    () = &mut shutdown => {
                        writing.finish().await?;
                        return Ok(window.from);
                    }
                    page = pages.recv() => page,
                    () = tokio::time::sleep(config.lease_ttl / 3), if lease.is_some() => {
                        writing.finish().await?;
                        self.renew_lease(generation.generation).await?;
                        continue;
                    }
                }
            } else {
                let write_by = match until {
                    Until::Head => None,
                    Until::Shutdown => Some(window.opened + config.window_age),
                };
                tokio::select! {
                    biased;
                    () = &mut shutdown => {
                        return self.write(&mut writing, &mut window, &mut cache).await;
                    }
                    page = pages.recv() => page,
                    written = writing.finish(), if write_when_free => {
                        written?;
                        self.start_write(&mut writing, &mut window, &mut cache, hold_open).await?;
                        write_when_free = false;
                        continue;
                    }
                    () = sleep_until(write_by), if write_by.is_some() => {
                        self.start_write(&mut writing, &mut window, &mut cache, hold_open).await?;
                        write_when_free = false;
                        continue;
                    }
                }
            };
            let Some(page) = page else {
                // The reader reached the head (or stopped): write what is left.
                return self.write(&mut writing, &mut window, &mut cache).await;
            };
            let page = page?;
            let unreadable = page.unreadable.clone();
            let at_head = page.at_head;
            let unknown = window.unknown(&page, &cache);
            if !unknown.is_empty() {
                // A row being written would read back as it was before.
                writing.finish().await?;
            }
            let read = self
                .read_models
                .dossier_states(generation.generation, &unknown)
                .await?;
            window.fold(page, &mut cache, read, config.policy);

            if let Some((position, reason)) = unreadable {
                self.write(&mut writing, &mut window, &mut cache).await?;
                tracing::error!(projection = DOSSIERS, generation = generation.generation, position, %reason, "projection stopped");
                self.read_models
                    .record_failure(DOSSIERS, generation.generation, position, &reason)
                    .await?;
                return Err(ProjectionError::Failed {
                    projection: DOSSIERS,
                    position,
                    reason,
                });
            }
            let window_events = i64::from(config.window_events);
            write_when_free |=
                window.entries >= window_events || (at_head && until == Until::Shutdown);
            let overfull = window.entries >= OVERFULL_WINDOW * window_events;
            if overfull || (write_when_free && !writing.is_busy()) {
                self.start_write(&mut writing, &mut window, &mut cache, hold_open)
                    .await?;
                write_when_free = false;
            }
        }
    }

    /// Writes the window (if it holds anything, held dossiers included)
    /// and moves the checkpoint over it in one transaction, after the write
    /// before it; returns the checkpoint once both are done.
    async fn write(
        &self,
        writing: &mut Writing,
        window: &mut Window,
        cache: &mut StateCache,
    ) -> Result<LogCursor, ProjectionError> {
        self.start_write(writing, window, cache, false).await?;
        writing.finish().await?;
        Ok(window.from)
    }

    /// Starts writing the window (if it holds anything) once the write
    /// before it is done, and lets the fold go on meanwhile: the window's
    /// states go to the cache at once, so the next window continues from
    /// them without reading rows back.
    async fn start_write(
        &self,
        writing: &mut Writing,
        window: &mut Window,
        cache: &mut StateCache,
        hold_open: bool,
    ) -> Result<(), ProjectionError> {
        if window.is_settled() || (hold_open && window.is_empty()) {
            return Ok(());
        }
        // Checkpoints move in order: each write begins where the last ended.
        writing.finish().await?;
        let (from, to, events) = (window.from, window.to, window.entries);
        let written = window.take(self.config.policy, hold_open);
        cache.keep(written.dossiers.clone());
        let batch = BatchWrite {
            projection: DOSSIERS,
            generation: writing.generation,
            lease_owner: writing.lease_owner.clone(),
            lease_ttl: self.config.lease_ttl,
            building: writing.building,
            dossiers: written.dossiers,
            holders: written.holders,
            counters: written.counters,
            from,
            to,
            events,
        };
        // In a task of its own, so that a projector stopped mid-write (its
        // task aborted) still finishes or rolls back the transaction, and
        // never hands the pool a connection inside one.
        let read_models = self.read_models.clone();
        writing.pending = Some(tokio::spawn(async move { read_models.write(&batch).await }));
        Ok(())
    }

    async fn renew_lease(&self, generation: i32) -> Result<(), ProjectionError> {
        let renewed = self
            .read_models
            .take_lease(DOSSIERS, generation, &self.owner, self.config.lease_ttl)
            .await?;
        if renewed {
            Ok(())
        } else {
            Err(ProjectionError::CheckpointMoved {
                projection: DOSSIERS,
            })
        }
    }

    /// Starts a task that reads the log after `after`, a few pages ahead of
    /// the fold, and decodes each page in a task of its own, so that the
    /// next page is read while one is decoded; it ends at the head (or
    /// follows the log, `until` the shutdown), or when the receiver is
    /// dropped.
    fn read_pages(&self, after: LogCursor, until: Until) -> Pages {
        let window_pages = self.config.window_events / self.config.page_size.max(1);
        let (pages, received) = mpsc::channel(PAGES_AHEAD.max(window_pages as usize));
        let store = self.store.clone();
        let replayer = self.replayer.clone();
        let (page_size, poll_interval) = (self.config.page_size, self.config.poll_interval);
        let task = tokio::spawn(async move {
            let mut cursor = after;
            let mut tail = store.tail(after, page_size, poll_interval);
            loop {
                let read = match until {
                    // Long streamed reads, until one finds nothing new.
                    Until::Head => {
                        store
                            .read_log_pages(cursor, EVENTS_PER_READ, page_size, |entries| {
                                let decoding =
                                    start_decoding(&replayer, &mut cursor, entries, page_size);
                                let pages = pages.clone();
                                async move { pages.send(Ok(decoding)).await.is_ok() }
                            })
                            .await
                    }
                    Until::Shutdown => match tail.next().await {
                        Ok(entries) => {
                            let read = entries.len();
                            let decoding =
                                start_decoding(&replayer, &mut cursor, entries, page_size);
                            match pages.send(Ok(decoding)).await {
                                Ok(()) => Ok(read),
                                Err(_) => return,
                            }
                        }
                        Err(error) => Err(error),
                    },
                };
                match read {
                    // A closed channel means the projector stopped: so do
                    // we. (Past an unreadable event, it stops at that page.)
                    Ok(read) if read > 0 && !pages.is_closed() => {}
                    Ok(_) => return,
                    Err(error) => {
                        let _ = pages.send(Err(error.into())).await;
                        return;
                    }
                }
            }
        });
        Pages {
            received,
            decoding: None,
            task,
        }
    }
}

/// Starts decoding a page of the log that follows `cursor`, and moves the
/// cursor past it.
fn start_decoding(
    replayer: &Replayer<Dossier>,
    cursor: &mut LogCursor,
    entries: Vec<LogEntry>,
    page_size: u32,
) -> tokio::task::JoinHandle<Page> {
    let at_head = entries.len() < page_size as usize;
    let from = *cursor;
    *cursor = entries.last().map_or(from, |entry| entry.cursor);
    let replayer = replayer.clone();
    tokio::spawn(async move { decode(&replayer, from, entries, at_head) })
}

/// The pages of a reader task, in log order; dropping them stops the task,
/// which may be waiting for events that will never be wanted.
struct Pages {
    received: mpsc::Receiver<Result<tokio::task::JoinHandle<Page>, ProjectionError>>,
    /// The page being decoded that comes next.
    decoding: Option<tokio::task::JoinHandle<Page>>,
    task: tokio::task::JoinHandle<()>,
}

impl Pages {
    /// The next page; `None` once the reader has stopped. Cancel-safe (the
    /// projector waits for it in `select!`): a page received but not yet
    /// decoded is kept for the next call.
    async fn recv(&mut self) -> Option<Result<Page, ProjectionError>> {
        let decoding = match &mut self.decoding {
            Some(decoding) => decoding,
            None => match self.received.recv().await? {
                Ok(decoding) => self.decoding.insert(decoding),
                Err(error) => return Some(Err(error)),
            },
        };
        let decoded = decoding.await;
        self.decoding = None;
        Some(decoded.map_err(|error| ProjectionError::ReadInterrupted(error.to_string())))
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sleeps until `deadline`, forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Decodes a page of the log that follows `from`; other aggregates' events
/// are passed over, and an event that cannot be read ends the page.
fn decode(
    replayer: &Replayer<Dossier>,
    from: LogCursor,
    entries: Vec<LogEntry>,
    at_head: bool,
) -> Page {
    let mut page = Page {
        events: Vec::with_capacity(entries.len()),
        to: from,
        entries: 0,
        at_head,
        unreadable: None,
    };
    for entry in entries {
        if entry.aggregate_type == Dossier::TYPE {
            match replayer.decode_entry(&entry) {
                Ok(event) => page.events.push(DecodedEvent {
                    aggregate_id: entry.aggregate_id,
                    sequence: entry.sequence,
                    position: entry.cursor.position,
                    event,
                }),
                Err(error) => {
                    page.unreadable = Some((entry.cursor.position, error.to_string()));
                    return page;
                }
            }
        }
        page.to = entry.cursor;
        page.entries += 1;
    }
    page
}
