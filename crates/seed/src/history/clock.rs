//! The simulated clock: dossiers act in the order of their own time, a
//! window (one simulated hour) after another, so that the log comes out in
//! time order as a live system writes it — a dossier's events spread over
//! the weeks of its life, interleaved with everyone else's — while the
//! dossiers of one window run concurrently.
//!
//! A dossier task is *active* from the moment it is released until it waits
//! for a later window or finishes. The scheduler opens a window (releasing
//! the dossiers waiting for it and counting the new arrivals), waits until
//! no dossier is active, and opens the next.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, oneshot};

/// The length of a window.
const WINDOW_SECONDS: i64 = 3_600;

pub(super) struct Clock {
    start: DateTime<Utc>,
    state: Mutex<State>,
    /// Signalled when no dossier is active any more.
    quiet: Notify,
}

#[derive(Default)]
struct State {
    /// The open window: dossiers acting in it or before go on at once.
    current: u64,
    active: usize,
    /// Dossiers waiting, by the window they wait for.
    waiting: BTreeMap<u64, Vec<oneshot::Sender<()>>>,
}

impl Clock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Clock {
            start,
            state: Mutex::new(State::default()),
            quiet: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement: a panic elsewhere
        // cannot leave it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The window `at` falls in.
    pub fn window_of(&self, at: DateTime<Utc>) -> u64 {
        u64::try_from((at - self.start).num_seconds() / WINDOW_SECONDS).unwrap_or(0)
    }

    /// Returns once the simulation has reached `at`'s window; an active
    /// dossier calls it before acting at `at`.
    pub async fn wait_until(&self, at: DateTime<Utc>) {
        let window = self.window_of(at);
        let released = {
            let mut state = self.state();
            if window <= state.current {
                return;
            }
            let (sender, receiver) = oneshot::channel();
            state.waiting.entry(window).or_default().push(sender);
            self.deactivate(&mut state);
            receiver
        };
        // A dropped sender means the history is being torn down: go on, the
        // task is about to be aborted anyway.
        let _ = released.await;
    }

    /// A dossier task is done.
    pub fn finished(&self) {
        let mut state = self.state();
        self.deactivate(&mut state);
    }

    fn deactivate(&self, state: &mut State) {
        state.active = state.active.saturating_sub(1);
        if state.active == 0 {
            self.quiet.notify_one();
        }
    }

    /// The earliest window a dossier waits for.
    pub fn next_waited_window(&self) -> Option<u64> {
        self.state().waiting.keys().next().copied()
    }

    /// Opens `window`: releases the dossiers waiting for it and counts
    /// `arrivals` new dossier tasks (to be spawned next) as active.
    pub fn open(&self, window: u64, arrivals: usize) {
        let mut state = self.state();
        state.current = window;
        state.active += arrivals;
        for sender in state.waiting.remove(&window).unwrap_or_default() {
            if sender.send(()).is_ok() {
                state.active += 1;
            }
        }
    }

    /// Waits until no dossier is active.
    pub async fn quiet(&self) {
        loop {
            let notified = self.quiet.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.state().active == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Marks a dossier task finished when dropped, however it ends (a panic
/// included), so the clock never waits for a task that is gone.
pub(super) struct Finishing<'a>(pub &'a Clock);

impl Drop for Finishing<'_> {
    fn drop(&mut self) {
        self.0.finished();
    }
}
