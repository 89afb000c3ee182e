//! The dossier fold: what the read models keep of a dossier, and what it
//! contributes to the Biểu 06 counters. Pure: no I/O.
//!
//! A dossier's contribution is a function of its whole state
//! ([`DossierState::contribute`]): +1 received on the day it was
//! accepted, +1 resolved on the day of its result, and for the days it lay
//! open, +1 on the day it became overdue (or started waiting for the
//! applicant) and −1 on the day that ended. The counters hold the sum of
//! every dossier's contributions; a batch of events changes them by
//! "contribution after − contribution before", for the dossiers it touched.
//! So an event may change the past (a soft delete removes a dossier from
//! every period) and the counters still equal a fold from scratch.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use motcua_domain::calendar::local_date;
use motcua_domain::dossier::Lifecycle;
use motcua_domain::dossier::command::Channel;
use motcua_domain::dossier::event::{DossierChange, DossierEvent};
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::timeliness::{Finished, TimelinessPolicy};
use motcua_domain::procedure::ProcedureCode;
use motcua_domain::unit::UnitId;
use serde::{Deserialize, Serialize};

/// What the dossier read model keeps of one dossier between batches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierState {
    pub lifecycle: Lifecycle,
    pub applicant_name: Option<String>,
    pub identity_number: Option<String>,
    /// From acceptance until it leaves: each change of regime, oldest first.
    pub segments: Vec<Segment>,
    /// How it left, once accepted: frozen when it happens.
    pub outcome: Option<Outcome>,
}

/// From `from` on, until the next segment, the dossier was in `regime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub from: DateTime<Utc>,
    pub regime: Regime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "regime")]
pub enum Regime {
    /// Being processed against this legal due date.
    Running {
        due_at: DateTime<Utc>,
    },
    AwaitingSupplement,
    AwaitingPayment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    Resolved {
        at: DateTime<Utc>,
        timeliness: Finished,
    },
    Withdrawn {
        at: DateTime<Utc>,
    },
    Stopped {
        at: DateTime<Utc>,
    },
}

impl Outcome {
    pub fn at(self) -> DateTime<Utc> {
        match self {
            Outcome::Resolved { at, .. } | Outcome::Withdrawn { at } | Outcome::Stopped { at } => {
                at
            }
        }
    }
}

/// The Biểu 06 counters, each kept per unit and day (and per procedure).
/// Flow counters count events of the day; the `*Delta` ones count changes
/// of a state, so their sum up to a day is the state at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    ReceivedOnline,
    ReceivedOffline,
    ResolvedEarly,
    ResolvedOnTime,
    ResolvedLate,
    Withdrawn,
    Stopped,
    Refused,
    OverdueDelta,
    AwaitingSupplementDelta,
    AwaitingPaymentDelta,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::ReceivedOnline,
        Column::ReceivedOffline,
        Column::ResolvedEarly,
        Column::ResolvedOnTime,
        Column::ResolvedLate,
        Column::Withdrawn,
        Column::Stopped,
        Column::Refused,
        Column::OverdueDelta,
        Column::AwaitingSupplementDelta,
        Column::AwaitingPaymentDelta,
    ];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where a dossier's counts go: the unit that accepted it (for a refusal,
/// the unit it was addressed to), its procedure and field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub unit: UnitId,
    pub procedure: ProcedureCode,
    pub field: String,
}

/// One counter cell: a scope on a day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub scope: Scope,
    pub day: NaiveDate,
}

/// Counter changes, summed per cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterDeltas {
    pub cells: HashMap<CounterKey, [i64; 11]>,
}

impl CounterDeltas {
    fn add(&mut self, scope: &Scope, day: NaiveDate, column: Column, delta: i64) {
        let key = CounterKey {
            scope: scope.clone(),
            day,
        };
        self.cells.entry(key).or_default()[column.index()] += delta;
    }

    /// Adds `sign` × the contributions of `state`.
    pub fn add_state(&mut self, state: &DossierState, policy: TimelinessPolicy, sign: i64) {
        if let Some(scope) = state.scope() {
            state.contribute(policy, |day, column, delta| {
                self.add(&scope, day, column, sign * delta)
            });
        }
    }

    /// Drops the cells whose changes cancelled out.
    pub fn prune(&mut self) {
        self.cells
            .retain(|_, values| values.iter().any(|&value| value != 0));
    }
}

impl DossierState {
    /// Folds one event in.
    pub fn apply(&mut self, event: &DossierEvent, policy: TimelinessPolicy) {
        self.lifecycle.apply(event);
        if let DossierChange::DossierSubmitted { applicant, .. } = &event.change {
            self.applicant_name = Some(applicant.name.clone());
            self.identity_number = Some(applicant.identity_number.clone());
        }
        let Some(deadlines) = self.lifecycle.deadlines() else {
            return;
        };
        if self.outcome.is_some() {
            return;
        }
        let at = event.at;
        self.outcome = match &event.change {
            DossierChange::ResultIssued { .. } => Some(Outcome::Resolved {
                at,
                timeliness: policy.finished(at, deadlines.due_at),
            }),
            DossierChange::DossierWithdrawn { .. } => Some(Outcome::Withdrawn { at }),
            DossierChange::ProcessingStopped { .. } => Some(Outcome::Stopped { at }),
            _ => None,
        };
        if self.outcome.is_some() {
            return;
        }
        let regime = match self.lifecycle.step() {
            Step::AwaitingSupplement => Regime::AwaitingSupplement,
            Step::AwaitingPayment => Regime::AwaitingPayment,
            _ => Regime::Running {
                due_at: deadlines.due_at,
            },
        };
        if self.segments.last().map(|segment| segment.regime) != Some(regime) {
            self.segments.push(Segment { from: at, regime });
        }
    }

    /// Where this dossier is counted, if anywhere.
    pub fn scope(&self) -> Option<Scope> {
        let procedure = self.lifecycle.procedure()?;
        Some(Scope {
            unit: self.lifecycle.receiving_unit()?.clone(),
            procedure: procedure.code.clone(),
            field: procedure.field.clone(),
        })
    }

    /// Calls `emit(day, column, delta)` for each of the dossier's
    /// contributions (see the module's doc).
    pub fn contribute(
        &self,
        policy: TimelinessPolicy,
        mut emit: impl FnMut(NaiveDate, Column, i64),
    ) {
        let lifecycle = &self.lifecycle;
        if lifecycle.is_deleted() {
            return;
        }
        let Some(deadlines) = lifecycle.deadlines() else {
            if lifecycle.step() == Step::Refused
                && let Some(refused_at) = lifecycle.closed_at()
            {
                emit(local_date(refused_at), Column::Refused, 1);
            }
            return;
        };
        let received = match lifecycle.channel() {
            Some(Channel::Online) => Column::ReceivedOnline,
            _ => Column::ReceivedOffline,
        };
        emit(local_date(deadlines.received_at), received, 1);
        let end = self.outcome.map(|outcome| {
            let column = match outcome {
                Outcome::Resolved { timeliness, .. } => match timeliness {
                    Finished::Early => Column::ResolvedEarly,
                    Finished::OnTime => Column::ResolvedOnTime,
                    Finished::Late => Column::ResolvedLate,
                },
                Outcome::Withdrawn { .. } => Column::Withdrawn,
                Outcome::Stopped { .. } => Column::Stopped,
            };
            let day = local_date(outcome.at());
            emit(day, column, 1);
            day
        });
        for (index, segment) in self.segments.iter().enumerate() {
            let start = local_date(segment.from);
            let until = self
                .segments
                .get(index + 1)
                .map(|next| local_date(next.from))
                .or(end);
            let (column, from) = match segment.regime {
                Regime::Running { due_at } => (
                    Column::OverdueDelta,
                    start.max(overdue_from(policy, due_at)),
                ),
                Regime::AwaitingSupplement => (Column::AwaitingSupplementDelta, start),
                Regime::AwaitingPayment => (Column::AwaitingPaymentDelta, start),
            };
            match until {
                Some(until) if until <= from => {}
                Some(until) => {
                    emit(from, column, 1);
                    emit(until, column, -1);
                }
                None => emit(from, column, 1),
            }
        }
    }
}

/// The first day at whose end an open, running dossier due at `due_at` is
/// overdue, by the policy's own rule ([`TimelinessPolicy::in_progress`]).
pub fn overdue_from(policy: TimelinessPolicy, due_at: DateTime<Utc>) -> NaiveDate {
    let due_day = local_date(due_at);
    let end_of_due_day = end_of_day(due_day);
    let overdue_on_due_day = end_of_due_day.is_some_and(|end| {
        matches!(
            policy.in_progress(end, due_at, false),
            motcua_domain::dossier::timeliness::InProgress::Overdue
        )
    });
    if overdue_on_due_day {
        due_day
    } else {
        due_day.checked_add_days(Days::new(1)).unwrap_or(due_day)
    }
}

/// The last instant (to the microsecond) of a day in Vietnam.
pub fn end_of_day(day: NaiveDate) -> Option<DateTime<Utc>> {
    let next = day.checked_add_days(Days::new(1))?;
    let midnight = next
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(motcua_domain::calendar::VIETNAM)
        .single()?;
    Some(midnight.with_timezone(&Utc) - chrono::Duration::microseconds(1))
}
