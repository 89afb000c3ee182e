//! Tailing the global log: a reader that continues from its cursor and is
//! woken promptly when events are appended.
//!
//! Wake-ups come from LISTEN/NOTIFY on PostgreSQL (from any process) and an
//! in-process signal on SQLite. Neither is trusted alone: a reader also
//! polls, so a lost notification (a dropped listener connection) delays it
//! by at most the poll interval and never loses an event. On PostgreSQL an
//! event can be committed yet not readable for a moment (an older
//! transaction is still open); a woken reader that finds nothing retries
//! with a short, growing back-off.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::StoreError;
use crate::record::{LogCursor, LogEntry};
use crate::store::EventStore;

/// First retry after a wake-up that found nothing yet, and the longest
/// wait between retries while an event is known to be pending.
const FIRST_RETRY: Duration = Duration::from_millis(2);
const LAST_RETRY: Duration = Duration::from_millis(250);

/// A reader of the global log from a cursor on.
#[derive(Debug)]
pub struct Tail {
    store: EventStore,
    after: LogCursor,
    batch: u32,
    poll_interval: Duration,
    appended: Arc<Notify>,
}

impl EventStore {
    /// Tails the log after `after`, `batch` events at most per call, polling
    /// at least every `poll_interval`.
    pub fn tail(&self, after: LogCursor, batch: u32, poll_interval: Duration) -> Tail {
        let appended = match self {
            EventStore::Postgres(store) => store.appended(),
            EventStore::Sqlite(store) => store.appended(),
        };
        Tail {
            store: self.clone(),
            after,
            batch,
            poll_interval,
            appended,
        }
    }
}

impl Tail {
    /// The next events after the cursor, waiting until there are some.
    pub async fn next(&mut self) -> Result<Vec<LogEntry>, StoreError> {
        // Set once woken: an event was committed that we have not read yet.
        let mut pending_retry: Option<Duration> = None;
        loop {
            // Register for a wake-up before reading, so none slips in between.
            let appended = self.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            let events = self.store.read_log(self.after, self.batch).await?;
            if let Some(last) = events.last() {
                self.after = last.cursor;
                return Ok(events);
            }
            let wait =
                pending_retry.map_or(self.poll_interval, |retry| retry.min(self.poll_interval));
            tokio::select! {
                () = &mut appended => pending_retry = Some(FIRST_RETRY),
                () = tokio::time::sleep(wait) => {
                    pending_retry = pending_retry.map(|retry| (retry * 2).min(LAST_RETRY));
                }
            }
        }
    }

    /// The cursor of the last event returned.
    pub fn cursor(&self) -> LogCursor {
        self.after
    }
}
