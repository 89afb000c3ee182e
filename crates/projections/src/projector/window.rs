//! What the projector holds in memory between two writes: the window of
//! events folded since the last write, and the fold states kept from
//! earlier windows.
//!
//! A dossier touched by many events of a window is read (at most) once and
//! written once, however many events it had: that is what makes a rebuild
//! fast. The counters change by "contribution after − contribution before
//! the window" for each dossier the window touched.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use motcua_domain::dossier::event::DossierEvent;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_store::LogCursor;

use crate::fold::{CounterDeltas, DossierState};
use crate::read_models::DossierRow;

/// A page of the log as the reader hands it over.
#[derive(Debug)]
pub(super) struct Page {
    /// Its dossier events, decoded, in log order (other aggregates' events
    /// are passed over).
    pub events: Vec<DecodedEvent>,
    /// The last entry of the page that was read, dossier event or not.
    pub to: LogCursor,
    /// Entries it covers (up to `to`).
    pub entries: i64,
    /// The reader reached the head of the log with this page.
    pub at_head: bool,
    /// The entry that could not be decoded, where the page (and the
    /// reading) stops: (position, why).
    pub unreadable: Option<(i64, String)>,
}

#[derive(Debug)]
pub(super) struct DecodedEvent {
    pub aggregate_id: String,
    /// The event's place in its dossier's stream (1 for the first).
    pub sequence: i64,
    pub position: i64,
    pub event: DossierEvent,
}

/// A dossier the window touched.
#[derive(Debug)]
struct Touched {
    state: DossierState,
    /// Units that had held it before the window (their rows exist).
    holders_before: usize,
    last_position: i64,
}

/// The events folded since the last write.
#[derive(Debug)]
pub(super) struct Window {
    /// The checkpoint the window continues from.
    pub from: LogCursor,
    pub to: LogCursor,
    pub entries: i64,
    pub opened: Instant,
    touched: HashMap<String, Touched>,
    counters: CounterDeltas,
}

/// What a window writes: the rows of the dossiers it touched, the new
/// (unit, dossier) holder pairs, and the counter changes.
#[derive(Debug)]
pub(super) struct WindowWrite {
    pub dossiers: Vec<DossierRow>,
    pub holders: Vec<(String, String)>,
    pub counters: CounterDeltas,
}

impl Window {
    pub fn new(from: LogCursor) -> Self {
        Window {
            from,
            to: from,
            entries: 0,
            opened: Instant::now(),
            touched: HashMap::new(),
            counters: CounterDeltas::default(),
        }
    }

    /// No events since the last write (a rebuild may still hold open
    /// dossiers back, see [`Window::take`]).
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Nothing to write: no events since the last write, no dossier or
    /// counter change held back.
    pub fn is_settled(&self) -> bool {
        self.entries == 0 && self.touched.is_empty() && self.counters.cells.is_empty()
    }

    /// The page's dossiers that the window has not touched yet and the
    /// cache cannot tell about: their rows must be read. A dossier whose
    /// stream begins in the page has no row (the log is read in order), so
    /// a new dossier is never read back.
    pub fn unknown(&self, page: &Page, cache: &StateCache) -> Vec<String> {
        let mut begun = HashSet::new();
        let mut unknown = Vec::new();
        for event in &page.events {
            let id = event.aggregate_id.as_str();
            if event.sequence == 1 {
                begun.insert(id);
            } else if !begun.contains(id) && !self.touched.contains_key(id) && !cache.knows(id) {
                unknown.push(id.to_owned());
            }
        }
        unknown.sort_unstable();
        unknown.dedup();
        unknown
    }

    /// Folds a page in; `read` holds the rows read for [`Window::unknown`].
    pub fn fold(
        &mut self,
        page: Page,
        cache: &mut StateCache,
        mut read: HashMap<String, DossierState>,
        policy: TimelinessPolicy,
    ) {
        if self.is_empty() {
            self.opened = Instant::now();
        }
        for DecodedEvent {
            aggregate_id,
            position,
            event,
            ..
        } in page.events
        {
            let touched = match self.touched.get_mut(&aggregate_id) {
                Some(touched) => touched,
                None => {
                    let state = cache
                        .take(&aggregate_id)
                        .or_else(|| read.remove(&aggregate_id))
                        .unwrap_or_default();
                    self.counters.add_state(&state, policy, -1);
                    let holders_before = state.lifecycle.holders().len();
                    self.touched.entry(aggregate_id).or_insert(Touched {
                        state,
                        holders_before,
                        last_position: position,
                    })
                }
            };
            touched.state.apply(&event, policy);
            touched.last_position = position;
        }
        self.to = page.to;
        self.entries += page.entries;
    }

    /// Empties the window into what it writes; the window then continues
    /// from where this one ended.
    ///
    /// `hold_open`: a rebuild keeps the dossiers that are still open in the
    /// window, and writes each when it closes or at the end of the log, so
    /// that most rows are written once; and it keeps the counter changes,
    /// so that each cell is written once, at the end. Its rows are complete
    /// only once it has caught up (a generation being built is not read
    /// before, and an interrupted build is dropped, never resumed). The
    /// counters already hold an open dossier's "before"; its "after" comes
    /// with its row.
    pub fn take(&mut self, policy: TimelinessPolicy, hold_open: bool) -> WindowWrite {
        let mut counters = std::mem::take(&mut self.counters);
        let mut dossiers = Vec::with_capacity(self.touched.len());
        let mut holders = Vec::new();
        let held: HashMap<String, Touched> = if hold_open {
            self.touched
                .extract_if(|_, touched| touched.state.lifecycle.closed_at().is_none())
                .collect()
        } else {
            HashMap::new()
        };
        for (aggregate_id, touched) in std::mem::replace(&mut self.touched, held) {
            counters.add_state(&touched.state, policy, 1);
            for unit in touched
                .state
                .lifecycle
                .holders()
                .iter()
                .skip(touched.holders_before)
            {
                holders.push((unit.to_string(), aggregate_id.clone()));
            }
            dossiers.push(DossierRow {
                aggregate_id,
                last_position: touched.last_position,
                state: touched.state,
            });
        }
        if hold_open {
            // Kept for the last write (which does not hold open).
            self.counters = std::mem::take(&mut counters);
        } else {
            counters.prune();
        }
        self.from = self.to;
        self.entries = 0;
        WindowWrite {
            dossiers,
            holders,
            counters,
        }
    }
}

/// Fold states of dossiers whose rows are written, kept so that their next
/// events need not read the rows back; the least recently touched are
/// dropped beyond the capacity.
#[derive(Debug)]
pub(super) struct StateCache {
    capacity: usize,
    /// Fold state and the number of the write that last touched it. Boxed:
    /// a state is several hundred bytes, and the table of 200,000 of them
    /// re-hashes as dossiers come and go.
    states: HashMap<String, (u64, Box<DossierState>)>,
    writes: u64,
    /// Set when every row of the generation is known here: the generation
    /// was empty when the projector began, so a dossier that is neither
    /// cached nor in `dropped` has no row yet, and nothing need be read.
    complete: bool,
    /// Dossiers dropped from the cache (kept only while `complete`).
    dropped: HashSet<String>,
}

impl StateCache {
    /// An empty cache; `empty_generation` says the generation has no rows.
    pub fn new(capacity: usize, empty_generation: bool) -> Self {
        StateCache {
            capacity,
            states: HashMap::new(),
            writes: 0,
            complete: empty_generation,
            dropped: HashSet::new(),
        }
    }

    /// Whether the dossier's state is known without reading its row.
    fn knows(&self, aggregate_id: &str) -> bool {
        self.states.contains_key(aggregate_id)
            || (self.complete && !self.dropped.contains(aggregate_id))
    }

    /// The cached state, or a new dossier's, if known.
    fn take(&mut self, aggregate_id: &str) -> Option<DossierState> {
        match self.states.remove(aggregate_id) {
            Some((_, state)) => Some(*state),
            None if self.complete && !self.dropped.contains(aggregate_id) => {
                Some(DossierState::default())
            }
            None => None,
        }
    }

    /// Keeps the states of rows just written.
    pub fn keep(&mut self, rows: Vec<DossierRow>) {
        self.writes += 1;
        for row in rows {
            self.states
                .insert(row.aggregate_id, (self.writes, Box::new(row.state)));
        }
        if self.states.len() > self.capacity {
            self.shrink();
        }
    }

    /// Drops the least recently touched states down to three quarters of
    /// the capacity, so that shrinking is rare.
    fn shrink(&mut self) {
        let keep = self.capacity / 4 * 3;
        let excess = self.states.len().saturating_sub(keep);
        if excess == 0 {
            return;
        }
        let mut stamps: Vec<u64> = self.states.values().map(|(stamp, _)| *stamp).collect();
        let (_, cutoff, _) = stamps.select_nth_unstable(excess - 1);
        let cutoff = *cutoff;
        let complete = self.complete;
        let dropped = &mut self.dropped;
        self.states.retain(|id, (stamp, _)| {
            let kept = *stamp > cutoff;
            if !kept && complete {
                dropped.insert(id.clone());
            }
            kept
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> DossierRow {
        DossierRow {
            aggregate_id: id.to_owned(),
            last_position: 1,
            state: DossierState::default(),
        }
    }

    #[test]
    fn a_complete_cache_knows_new_dossiers_and_forgets_only_what_it_dropped() {
        let mut cache = StateCache::new(4, true);
        assert!(cache.knows("new"), "an empty generation has no row to read");
        cache.keep(vec![row("a"), row("b")]);
        cache.keep(vec![row("c"), row("d")]);
        cache.keep(vec![row("e")]);
        // Five over a capacity of four: shrunk to three, the oldest first.
        assert_eq!(cache.states.len(), 3);
        for dropped in ["a", "b"] {
            assert!(!cache.knows(dropped), "{dropped} must be read back");
            assert_eq!(cache.take(dropped), None);
        }
        for kept in ["c", "d", "e"] {
            assert_eq!(cache.take(kept), Some(DossierState::default()));
        }
        assert_eq!(cache.take("never-seen"), Some(DossierState::default()));
    }

    /// A page of `ProcessingStopped` events: (dossier, sequence) each.
    fn page(events: &[(&str, i64)]) -> Page {
        let by = motcua_domain::role::Principal {
            user_id: "officer".to_owned(),
            unit: "000.00.00.H56".parse().expect("a valid e-ID"),
            roles: Vec::new(),
        };
        Page {
            events: events
                .iter()
                .enumerate()
                .map(|(offset, (id, sequence))| DecodedEvent {
                    aggregate_id: (*id).to_owned(),
                    sequence: *sequence,
                    position: offset as i64 + 1,
                    event: DossierEvent {
                        at: chrono::DateTime::UNIX_EPOCH,
                        by: by.clone(),
                        change: motcua_domain::dossier::event::DossierChange::ProcessingStopped {
                            reason: String::new(),
                        },
                    },
                })
                .collect(),
            to: LogCursor::START,
            entries: events.len() as i64,
            at_head: true,
            unreadable: None,
        }
    }

    #[test]
    fn rows_are_read_back_only_for_dossiers_begun_before_the_page_and_not_cached() {
        let mut cache = StateCache::new(10, false);
        cache.keep(vec![row("cached")]);
        let window = Window::new(LogCursor::START);
        let page = page(&[
            ("new", 1),
            ("new", 2),
            ("cached", 7),
            ("older", 4),
            ("older", 5),
            ("late", 3),
        ]);
        assert_eq!(window.unknown(&page, &cache), ["late", "older"]);
    }

    #[test]
    fn an_incomplete_cache_knows_only_what_it_holds() {
        let mut cache = StateCache::new(10, false);
        assert!(!cache.knows("a"));
        assert_eq!(cache.take("a"), None);
        cache.keep(vec![row("a")]);
        assert!(cache.knows("a"));
        assert_eq!(cache.take("a"), Some(DossierState::default()));
        assert!(!cache.knows("a"), "taken out while the window holds it");
    }
}
