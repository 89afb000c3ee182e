//! The Biểu 06 oracle: a deliberately simple fold over the raw event log,
//! sharing no code with `motcua_projections` beyond its plain result types.
//!
//! It reads every event with `EventStore::read_all`, decodes each payload
//! as a `DossierEvent`, groups the events by dossier in sequence order, and
//! answers a report by evaluating every dossier directly at the period's
//! boundaries. Slow (every query walks every dossier) and obvious.
//!
//! The semantics are those of the doc comment of
//! `motcua_projections::report`, read as follows (policy
//! `TimelinessPolicy::ByDate`, days are Vietnam calendar days of the
//! events' `at`):
//! - A dossier counts at the unit of its `DossierAccepted` event, whatever
//!   transfers and hand-overs did afterwards; one never accepted counts only
//!   as refused, at the unit of its `DossierSubmitted` event (the receiving
//!   unit: `Dossier::receiving_unit`, which a hand-over before reception
//!   does not change), on the day of its `DossierRefused`.
//! - Received: accepted on a day of [from, to]; online when submitted
//!   online (channel 2), offline otherwise.
//! - Carried over: accepted before `from`, and not resolved, withdrawn or
//!   stopped on a day before `from`.
//! - Resolved: `ResultIssued` on a day of the period, early / on time /
//!   late by `TimelinessPolicy::finished(issued_at, due_at)` with the legal
//!   due date as it stood just before: the one of `DossierAccepted`,
//!   replaced by every `ClockAdjustment::due_at` (supplement received,
//!   payment confirmed or exempted) and every `DueDateCorrected::due_at`;
//!   never by an apology.
//! - Withdrawn, stopped: `DossierWithdrawn` / `ProcessingStopped` of an
//!   accepted dossier on a day of the period (withdrawn before acceptance:
//!   never received, counted nowhere).
//! - In progress: accepted on a day ≤ `to` and not out (resolved,
//!   withdrawn, stopped) on a day ≤ `to`; its state is the one after its
//!   last event on a day ≤ `to`. Waiting = a `SupplementRequested` or
//!   `PaymentRequested` not yet ended by its received / confirmed / exempted
//!   event; overdue = `TimelinessPolicy::in_progress(end of to, due_at,
//!   waiting)`, "end of to" being the last instant (to the nanosecond) of
//!   the day `to` in Vietnam.
//! - Soft-deleted: a dossier whose last `DossierDeleted` / `DossierRestored`
//!   over its whole history is a deletion counts nowhere, for any period.
//! - Grouping, recorded view: each unit is placed by the tree at the end of
//!   `to`; a unit not in force then by its last version starting before
//!   then, and so on up (its parent placed the same way). Current view:
//!   each unit is replaced by `successor_at(unit, today)`, or, with none, by
//!   the replacement of its last version's parent; the replacements are
//!   placed by the tree at `today`. The requested unit is replaced the same
//!   way, and the report names the replacement.
//! - Rows: child units (each child of the requested unit, over the child's
//!   subtree; the unit's own dossiers in `unit_alone`), fields and
//!   procedures (of the `ProcedureTerms` in `DossierSubmitted`), months
//!   (each calendar month overlapping the period, a Biểu 06 of the part of
//!   the period inside it, over the same dossiers as the report, i.e. units
//!   placed by the report's tree — the one at the end of `to`, not of the
//!   month). All-zero rows are left out; rows are sorted by key.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use motcua_domain::calendar::{VIETNAM, local_date};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::command::Channel;
use motcua_domain::dossier::event::{DossierChange, DossierEvent};
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::timeliness::{Finished, InProgress, Timeliness, TimelinessPolicy};
use motcua_domain::procedure::ProcedureCode;
use motcua_domain::unit::{UnitHierarchy, UnitId};
use motcua_projections::report::{
    Bieu06, GroupBy, GroupKey, HierarchyView, Report, ReportQuery, ReportRow,
};
use motcua_store::{EventStore, LogCursor};

/// Every dossier of the log, as its events.
pub struct Oracle {
    dossiers: Vec<DossierHistory>,
    /// Events of each type in the log.
    pub event_counts: BTreeMap<String, usize>,
    pub events: usize,
}

/// One dossier: what it was submitted as, and its events in order.
struct DossierHistory {
    submitted_unit: UnitId,
    online: bool,
    field: String,
    procedure: ProcedureCode,
    events: Vec<DossierEvent>,
}

/// How a dossier left the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Resolved(Finished),
    Withdrawn,
    Stopped,
}

/// Waiting for the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Supplement,
    Payment,
}

impl Oracle {
    /// Reads the whole log: `expected` events must be readable (on
    /// PostgreSQL, events of other tests' open transactions may hold ours
    /// back for a moment: wait, bounded).
    pub async fn load(store: &EventStore, expected: usize) -> Oracle {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let oracle = Self::read(store).await;
            assert!(
                oracle.events <= expected,
                "{} events in the log where {expected} were written",
                oracle.events
            );
            if oracle.events == expected {
                return oracle;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {expected} events became readable",
                oracle.events
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn read(store: &EventStore) -> Oracle {
        let mut streams: BTreeMap<String, Vec<(i64, DossierEvent)>> = BTreeMap::new();
        let mut event_counts = BTreeMap::new();
        let mut events = 0;
        let mut cursor = LogCursor::START;
        loop {
            let page = store.read_all(cursor, 1000).await.unwrap();
            let Some(last) = page.last() else { break };
            cursor = last.cursor;
            for recorded in page {
                let event = recorded.event;
                assert_eq!(event.aggregate_type, "Dossier");
                assert_eq!(event.event_version, "1.0");
                let decoded: DossierEvent =
                    serde_json::from_value(event.payload).unwrap_or_else(|error| {
                        panic!("{} #{}: {error}", event.aggregate_id, event.sequence)
                    });
                assert_eq!(decoded.change.event_type(), event.event_type);
                *event_counts.entry(event.event_type).or_default() += 1;
                events += 1;
                streams
                    .entry(event.aggregate_id)
                    .or_default()
                    .push((event.sequence, decoded));
            }
        }
        let dossiers = streams
            .into_iter()
            .map(|(id, mut stream)| {
                stream.sort_by_key(|(sequence, _)| *sequence);
                let sequences: Vec<i64> = stream.iter().map(|(sequence, _)| *sequence).collect();
                let expected: Vec<i64> = (1..=stream.len() as i64).collect();
                assert_eq!(sequences, expected, "{id}: a gap in the stream");
                DossierHistory::new(stream.into_iter().map(|(_, event)| event).collect())
            })
            .collect();
        Oracle {
            dossiers,
            event_counts,
            events,
        }
    }

    pub fn dossiers(&self) -> usize {
        self.dossiers.len()
    }

    /// How many dossiers went through each of the cases that make the
    /// report hard, to check that the history has them all.
    pub fn scenarios(
        &self,
        reorganisation: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> BTreeMap<&'static str, usize> {
        let policy = TimelinessPolicy::default();
        let mut found = BTreeMap::new();
        let mut count = |name: &'static str, present: bool| {
            *found.entry(name).or_default() += usize::from(present);
        };
        for dossier in &self.dossiers {
            let accepted = dossier.acceptance();
            let exit = dossier.exit(policy);
            let has = |wanted: fn(&DossierChange) -> bool| {
                dossier.events.iter().any(|event| wanted(&event.change))
            };
            let handed_over = dossier.events.iter().find_map(|event| match &event.change {
                DossierChange::DossierHandedOver { .. } => Some(event.at),
                _ => None,
            });
            count(
                "accepted by another unit than the one submitted to",
                accepted.is_some_and(|(_, unit)| unit != &dossier.submitted_unit),
            );
            count(
                "refused after a hand-over",
                accepted.is_none() && handed_over.is_some() && dossier.refusal_day().is_some(),
            );
            count(
                "handed over after acceptance",
                accepted.is_some_and(|(event, _)| handed_over.is_some_and(|at| at > event.at)),
            );
            count(
                "accepted before the reorganisation, out after it",
                accepted.is_some_and(|(event, _)| event.at < reorganisation)
                    && exit.is_some_and(|(day, _)| day >= local_date(reorganisation)),
            );
            count(
                "transferred, then resolved",
                has(|change| matches!(change, DossierChange::DossierTransferred { .. }))
                    && exit.is_some_and(|(_, exit)| matches!(exit, Exit::Resolved(_))),
            );
            count("deleted for good", dossier.deleted());
            count(
                "deleted, then restored",
                has(|change| matches!(change, DossierChange::DossierRestored { .. })),
            );
            count(
                "due date moved by a pause or a correction",
                dossier.due_after(dossier.events.len())
                    != accepted.and_then(|(event, _)| match event.change {
                        DossierChange::DossierAccepted { due_at, .. } => Some(due_at),
                        _ => None,
                    }),
            );
            count(
                "withdrawn before acceptance",
                accepted.is_none()
                    && has(|change| matches!(change, DossierChange::DossierWithdrawn { .. })),
            );
            let open_at_end = accepted.is_some() && exit.is_none() && !dossier.deleted();
            count(
                "open at the end, overdue",
                open_at_end
                    && dossier.waiting_after(dossier.events.len()).is_none()
                    && dossier
                        .due_after(dossier.events.len())
                        .is_some_and(|due| local_date(due) < local_date(end)),
            );
            count(
                "open at the end, waiting",
                open_at_end && dossier.waiting_after(dossier.events.len()).is_some(),
            );
            for (name, finished) in [
                ("resolved early", Finished::Early),
                ("resolved on time", Finished::OnTime),
                ("resolved late", Finished::Late),
            ] {
                count(
                    name,
                    exit.is_some_and(|(_, exit)| exit == Exit::Resolved(finished)),
                );
            }
        }
        found
    }

    /// The expected report for `query`.
    pub fn report(&self, hierarchy: &UnitHierarchy, query: &ReportQuery) -> Report {
        let policy = TimelinessPolicy::default();
        let places = Places::new(hierarchy, query);
        let requested = places.requested.clone();
        let mut unit_alone = Bieu06::default();
        let mut subtree = Bieu06::default();
        let mut rows: BTreeMap<GroupKey, Bieu06> = BTreeMap::new();
        for dossier in &self.dossiers {
            let Some(counting_unit) = dossier.counting_unit() else {
                continue;
            };
            let chain = places.chain(&counting_unit);
            let Some(depth) = chain.iter().position(|unit| unit == &requested) else {
                continue;
            };
            let counts = dossier.counts(query.from, query.to, policy);
            subtree += counts;
            if depth == 0 {
                unit_alone += counts;
            }
            match query.group_by {
                GroupBy::ChildUnit => {
                    if depth > 0 {
                        *rows
                            .entry(GroupKey::Unit(chain[depth - 1].clone()))
                            .or_default() += counts;
                    }
                }
                GroupBy::Field => {
                    *rows
                        .entry(GroupKey::Field(dossier.field.clone()))
                        .or_default() += counts;
                }
                GroupBy::Procedure => {
                    *rows
                        .entry(GroupKey::Procedure(dossier.procedure.clone()))
                        .or_default() += counts;
                }
                GroupBy::Month => {
                    for (year, month, from, to) in months(query.from, query.to) {
                        *rows.entry(GroupKey::Month { year, month }).or_default() +=
                            dossier.counts(from, to, policy);
                    }
                }
            }
        }
        Report {
            unit: requested,
            unit_alone,
            subtree,
            rows: rows
                .into_iter()
                .filter(|(_, counts)| *counts != Bieu06::default())
                .map(|(key, counts)| ReportRow { key, counts })
                .collect(),
        }
    }
}

impl DossierHistory {
    fn new(events: Vec<DossierEvent>) -> Self {
        let Some(DossierChange::DossierSubmitted {
            unit,
            channel,
            procedure,
            ..
        }) = events.first().map(|event| &event.change)
        else {
            panic!("a dossier's first event is its submission");
        };
        DossierHistory {
            submitted_unit: unit.clone(),
            online: *channel == Channel::Online,
            field: procedure.field.clone(),
            procedure: procedure.code.clone(),
            events,
        }
    }

    fn deleted(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|event| match event.change {
                DossierChange::DossierDeleted { .. } => Some(true),
                DossierChange::DossierRestored { .. } => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }

    fn acceptance(&self) -> Option<(&DossierEvent, &UnitId)> {
        self.events.iter().find_map(|event| match &event.change {
            DossierChange::DossierAccepted { unit, .. } => Some((event, unit)),
            _ => None,
        })
    }

    fn refusal_day(&self) -> Option<NaiveDate> {
        self.events.iter().find_map(|event| match event.change {
            DossierChange::DossierRefused { .. } => Some(local_date(event.at)),
            _ => None,
        })
    }

    /// Where the dossier counts: where it was accepted, else (refused or
    /// never accepted) where it was submitted. `None` if soft-deleted.
    fn counting_unit(&self) -> Option<UnitId> {
        if self.deleted() {
            return None;
        }
        Some(match self.acceptance() {
            Some((_, unit)) => unit.clone(),
            None => self.submitted_unit.clone(),
        })
    }

    /// The legal due date after the first `count` events.
    fn due_after(&self, count: usize) -> Option<DateTime<Utc>> {
        let mut due = None;
        for event in &self.events[..count] {
            match &event.change {
                DossierChange::DossierAccepted { due_at, .. } => due = Some(*due_at),
                DossierChange::SupplementReceived { clock, .. }
                | DossierChange::PaymentConfirmed { clock, .. }
                | DossierChange::PaymentExempted { clock, .. } => due = Some(clock.due_at),
                DossierChange::DueDateCorrected { due_at, .. } => due = Some(*due_at),
                _ => {}
            }
        }
        due
    }

    /// Waiting for the applicant after the first `count` events?
    fn waiting_after(&self, count: usize) -> Option<Waiting> {
        let mut waiting = None;
        for event in &self.events[..count] {
            match event.change {
                DossierChange::SupplementRequested { .. } => waiting = Some(Waiting::Supplement),
                DossierChange::PaymentRequested { .. } => waiting = Some(Waiting::Payment),
                DossierChange::SupplementReceived { .. }
                | DossierChange::PaymentConfirmed { .. }
                | DossierChange::PaymentExempted { .. }
                | DossierChange::DossierWithdrawn { .. }
                | DossierChange::ProcessingStopped { .. } => waiting = None,
                _ => {}
            }
        }
        waiting
    }

    /// The first exit after acceptance: its day and kind.
    fn exit(&self, policy: TimelinessPolicy) -> Option<(NaiveDate, Exit)> {
        let accepted = self
            .events
            .iter()
            .position(|event| matches!(event.change, DossierChange::DossierAccepted { .. }))?;
        self.events
            .iter()
            .enumerate()
            .skip(accepted)
            .find_map(|(index, event)| {
                let exit = match event.change {
                    DossierChange::ResultIssued { .. } => {
                        let due = self.due_after(index).expect("accepted, so due");
                        Exit::Resolved(policy.finished(event.at, due))
                    }
                    DossierChange::DossierWithdrawn { .. } => Exit::Withdrawn,
                    DossierChange::ProcessingStopped { .. } => Exit::Stopped,
                    _ => return None,
                };
                Some((local_date(event.at), exit))
            })
    }

    /// This dossier's contribution to a Biểu 06 of [from, to] (not deleted).
    fn counts(&self, from: NaiveDate, to: NaiveDate, policy: TimelinessPolicy) -> Bieu06 {
        let mut counts = Bieu06::default();
        let in_period = |day: NaiveDate| from <= day && day <= to;
        let Some((accepted, _)) = self.acceptance() else {
            if self.refusal_day().is_some_and(in_period) {
                counts.refused = 1;
            }
            return counts;
        };
        let accepted_day = local_date(accepted.at);
        let exit = self.exit(policy);
        if in_period(accepted_day) {
            if self.online {
                counts.received_online = 1;
            } else {
                counts.received_offline = 1;
            }
        }
        if accepted_day < from && exit.is_none_or(|(day, _)| day >= from) {
            counts.carried_over = 1;
        }
        if let Some((_, exit)) = exit.filter(|(day, _)| in_period(*day)) {
            match exit {
                Exit::Resolved(Finished::Early) => counts.resolved_early = 1,
                Exit::Resolved(Finished::OnTime) => counts.resolved_on_time = 1,
                Exit::Resolved(Finished::Late) => counts.resolved_late = 1,
                Exit::Withdrawn => counts.withdrawn = 1,
                Exit::Stopped => counts.stopped = 1,
            }
        }
        if accepted_day <= to && exit.is_none_or(|(day, _)| day > to) {
            let seen = self
                .events
                .iter()
                .take_while(|event| local_date(event.at) <= to)
                .count();
            let due = self.due_after(seen).expect("accepted, so due");
            let waiting = self.waiting_after(seen);
            match policy.in_progress(end_of_day(to), due, waiting.is_some()) {
                InProgress::WithinTime => counts.in_progress_within_time = 1,
                InProgress::Overdue => counts.in_progress_overdue = 1,
            }
            match waiting {
                Some(Waiting::Supplement) => counts.awaiting_supplement = 1,
                Some(Waiting::Payment) => counts.awaiting_payment = 1,
                None => {}
            }
        }
        counts
    }
}

/// The Biểu 06 of every dossier from the beginning to the day of `end`,
/// computed another way: from the dossiers' final states (as the aggregate
/// folds them) and the domain's own `Dossier::timeliness`. Valid when
/// nothing happened after `end` and nothing before the period.
pub fn from_final_states(states: &[Dossier], end: NaiveDate) -> Bieu06 {
    let policy = TimelinessPolicy::default();
    let mut counts = Bieu06::default();
    for dossier in states.iter().filter(|dossier| !dossier.is_deleted()) {
        if dossier.step() == Step::Refused {
            counts.refused += 1;
        }
        if dossier.deadlines().is_none() {
            continue;
        }
        match dossier.channel() {
            Some(Channel::Online) => counts.received_online += 1,
            _ => counts.received_offline += 1,
        }
        match dossier.step() {
            Step::Withdrawn => counts.withdrawn += 1,
            Step::Stopped => counts.stopped += 1,
            Step::AwaitingSupplement => counts.awaiting_supplement += 1,
            Step::AwaitingPayment => counts.awaiting_payment += 1,
            _ => {}
        }
        match dossier.timeliness(policy, end_of_day(end)) {
            Some(Timeliness::Finished(Finished::Early)) => counts.resolved_early += 1,
            Some(Timeliness::Finished(Finished::OnTime)) => counts.resolved_on_time += 1,
            Some(Timeliness::Finished(Finished::Late)) => counts.resolved_late += 1,
            Some(Timeliness::InProgress(InProgress::WithinTime)) => {
                counts.in_progress_within_time += 1;
            }
            Some(Timeliness::InProgress(InProgress::Overdue)) => counts.in_progress_overdue += 1,
            None => {}
        }
    }
    counts
}

/// The last instant of `day` in Vietnam.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap();
    VIETNAM
        .from_local_datetime(&next)
        .unwrap()
        .with_timezone(&Utc)
        - Duration::nanoseconds(1)
}

/// The calendar months overlapping [from, to], each with the part of the
/// period inside it.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<(i32, u32, NaiveDate, NaiveDate)> {
    let mut months = Vec::new();
    let mut start = from;
    while start <= to {
        let (year, month) = (start.year(), start.month());
        let next_month = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .unwrap();
        let end = to.min(next_month.pred_opt().unwrap());
        months.push((year, month, start, end));
        start = next_month;
    }
    months
}

/// Where units sit in the query's view of the hierarchy.
struct Places<'h> {
    hierarchy: &'h UnitHierarchy,
    view: HierarchyView,
    /// The end of `to` (recorded view) or today (current view).
    at: DateTime<Utc>,
    /// The requested unit, replaced in the current view.
    requested: UnitId,
}

impl<'h> Places<'h> {
    fn new(hierarchy: &'h UnitHierarchy, query: &ReportQuery) -> Self {
        let at = match query.view {
            HierarchyView::Recorded => end_of_day(query.to),
            HierarchyView::Current => query.today,
        };
        let mut places = Places {
            hierarchy,
            view: query.view,
            at,
            requested: query.unit.clone(),
        };
        places.requested = places.stand_in(&query.unit);
        places
    }

    /// The unit that stands for `unit` in the view.
    fn stand_in(&self, unit: &UnitId) -> UnitId {
        match self.view {
            HierarchyView::Recorded => unit.clone(),
            HierarchyView::Current => {
                let mut unit = unit.clone();
                for _ in 0..32 {
                    if let Some(successor) = self.hierarchy.successor_at(&unit, self.at) {
                        return successor;
                    }
                    unit = self
                        .last_version_parent(&unit)
                        .expect("a unit without a successor has a parent");
                }
                panic!("no stand-in for {unit}");
            }
        }
    }

    /// The parent of `unit`'s last version starting by `at` (the version in
    /// force then, or the last before it).
    fn last_version_parent(&self, unit: &UnitId) -> Option<UnitId> {
        self.hierarchy
            .history(unit)
            .iter()
            .rev()
            .find(|version| version.valid_from <= self.at)
            .and_then(|version| version.parent.clone())
    }

    /// `unit`'s stand-in and its ancestors in the view, nearest first.
    fn chain(&self, unit: &UnitId) -> Vec<UnitId> {
        let mut chain = vec![self.stand_in(unit)];
        while chain.len() < 32 {
            let last = chain.last().unwrap();
            let parent = match self.view {
                HierarchyView::Recorded => self.last_version_parent(last),
                HierarchyView::Current => self
                    .hierarchy
                    .version_at(last, self.at)
                    .and_then(|version| version.parent.clone()),
            };
            match parent {
                Some(parent) => chain.push(parent),
                None => break,
            }
        }
        chain
    }
}
