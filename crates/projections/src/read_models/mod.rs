//! The read-model tables, on the event store's own database (so a batch's
//! rows and its checkpoint commit together).
//!
//! The backend modules only move rows; what a row holds is decided here
//! ([`DossierColumns`]) and in the fold.

mod control;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use motcua_domain::dossier::timeliness::Finished;
use motcua_domain::unit::{UnitHierarchy, UnitId};
use motcua_store::{EventStore, LogCursor};
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};

use crate::error::ProjectionError;
use crate::fold::{Column, CounterDeltas, DossierState, Outcome};

/// The read models of one database, as one [`Visibility`] sees them.
#[derive(Debug, Clone)]
pub enum ReadModels {
    Postgres(ScopedPool),
    /// SQLite has no row-level security: there the API's checks are the
    /// only wall.
    Sqlite(SqlitePool),
}

/// Whose rows a [`ReadModels`] handle reads and writes. On PostgreSQL every
/// transaction it opens is confined to them by row-level security
/// (migrations/postgres/0007_row_security.sql): the second wall behind the
/// API's own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every unit: the projector, operations, province-wide roles.
    Everything,
    /// Rows of these units; a dossier's row if any of them ever held it.
    /// None: no row at all.
    Units(Vec<UnitId>),
}

impl Visibility {
    /// What a viewer whose scope is the subtree of `root` reads at `at`:
    /// the units whose records its reports take in across reorganisations
    /// ([`UnitHierarchy::reachable_units`]); for the root of the whole tree,
    /// everything.
    pub fn under(units: &UnitHierarchy, root: &UnitId, at: DateTime<Utc>) -> Self {
        let whole_tree = units
            .version_at(root, at)
            .is_some_and(|version| version.parent.is_none());
        if whole_tree {
            Visibility::Everything
        } else {
            Visibility::Units(units.reachable_units(root, at))
        }
    }

    /// The value of the `motcua.visible_units` setting.
    fn setting(&self) -> String {
        match self {
            Visibility::Everything => "*".to_owned(),
            // e-IDs hold only `.`, digits and capitals: no separator or
            // quote can appear in one.
            Visibility::Units(units) => units
                .iter()
                .map(UnitId::as_str)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// A PostgreSQL pool whose transactions each see only their
/// [`Visibility`]'s rows.
#[derive(Debug, Clone)]
pub struct ScopedPool {
    pool: PgPool,
    /// `BEGIN` and the transaction-local setting, sent as one message.
    begin: Arc<str>,
}

impl ScopedPool {
    fn new(pool: PgPool, visibility: &Visibility) -> Self {
        let begin = format!(
            "BEGIN; SELECT set_config('motcua.visible_units', '{}', true)",
            visibility.setting().replace('\'', "''")
        );
        Self {
            pool,
            begin: begin.into(),
        }
    }

    /// A transaction confined to this pool's visibility. Every statement on
    /// the read-model tables runs in one: outside, they show no row.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin_with(self.begin.to_string()).await
    }
}

/// One generation of a projection: its place in the log, whether it stopped
/// on an event, and who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionStatus {
    pub name: String,
    pub generation: i32,
    pub state: GenerationState,
    pub cursor: LogCursor,
    pub events_applied: i64,
    /// The event it stopped on and why.
    pub failure: Option<(i64, String)>,
    /// The projector holding its lease, if any (the lease may have run out).
    pub lease_owner: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Readers read the live generation; a rebuild fills a building one beside
/// it and then swaps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationState {
    Live,
    Building,
    Retired,
}

/// The read-model tables, each keyed by generation first (on PostgreSQL
/// partitioned by it, a generation's partitions made and dropped by the
/// functions of migration 0010).
pub(crate) const TABLES: [&str; 6] = [
    "dossiers",
    "dossier_holders",
    "bieu06_unit_day",
    "bieu06_procedure_day",
    "bieu06_unit_month",
    "bieu06_procedure_month",
];

/// A table of Biểu 06 counters: its cells are per unit (and procedure, when
/// `per_procedure`), per day or per month.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CounterTableShape {
    pub name: &'static str,
    pub per_procedure: bool,
    pub monthly: bool,
}

const PROCEDURE_DAY: CounterTableShape = CounterTableShape {
    name: "bieu06_procedure_day",
    per_procedure: true,
    monthly: false,
};
const UNIT_DAY: CounterTableShape = CounterTableShape {
    name: "bieu06_unit_day",
    per_procedure: false,
    monthly: false,
};
const PROCEDURE_MONTH: CounterTableShape = CounterTableShape {
    name: "bieu06_procedure_month",
    per_procedure: true,
    monthly: true,
};
const UNIT_MONTH: CounterTableShape = CounterTableShape {
    name: "bieu06_unit_month",
    per_procedure: false,
    monthly: true,
};

/// Every counter table, as each batch adds to it. The monthly tables hold
/// the sums of the daily ones over each month (keyed by its first day), so
/// a report reads a whole month as one row.
pub(crate) const COUNTER_TABLES: [CounterTableShape; 4] =
    [PROCEDURE_DAY, UNIT_DAY, PROCEDURE_MONTH, UNIT_MONTH];

impl CounterTableShape {
    /// The name of its date column.
    pub fn date_column(self) -> &'static str {
        if self.monthly { "month" } else { "day" }
    }

    /// Its key columns after the generation, the date last.
    pub fn key_columns(self) -> &'static [&'static str] {
        match (self.per_procedure, self.monthly) {
            (true, false) => &["unit_id", "procedure_code", "field", "day"],
            (false, false) => &["unit_id", "day"],
            (true, true) => &["unit_id", "procedure_code", "field", "month"],
            (false, true) => &["unit_id", "month"],
        }
    }

    /// A batch's deltas summed into this table's cells; cells whose changes
    /// cancel out are left out.
    pub fn cells(self, deltas: &CounterDeltas) -> Vec<CounterCell<'_>> {
        // (unit, procedure and field, date) → the cell's changes.
        type Key<'a> = (&'a str, Option<(&'a str, &'a str)>, NaiveDate);
        let mut cells: HashMap<Key<'_>, [i64; 11]> = HashMap::new();
        for (key, values) in &deltas.cells {
            let procedure = self
                .per_procedure
                .then(|| (key.scope.procedure.as_str(), key.scope.field.as_str()));
            let date = if self.monthly {
                key.day.with_day(1).unwrap_or(key.day)
            } else {
                key.day
            };
            let sums = cells
                .entry((key.scope.unit.as_str(), procedure, date))
                .or_default();
            for (sum, value) in sums.iter_mut().zip(values) {
                *sum += value;
            }
        }
        cells
            .into_iter()
            .filter(|(_, values)| values.iter().any(|&value| value != 0))
            .map(|((unit, procedure, date), values)| CounterCell {
                unit,
                procedure,
                date,
                values,
            })
            .collect()
    }
}

/// The change of one counter cell: a unit (and procedure and field) on a
/// day, or in the month beginning on `date`.
#[derive(Debug)]
pub(crate) struct CounterCell<'a> {
    pub unit: &'a str,
    pub procedure: Option<(&'a str, &'a str)>,
    pub date: NaiveDate,
    pub values: [i64; 11],
}

/// How a period's counters are read: whole months from the monthly
/// tables, the days of the months the period only partly covers from the
/// daily ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeriodSplit {
    /// The first day of `from`'s month: months before it end before the
    /// period.
    pub first_month: NaiveDate,
    /// Whole months inside the period: [full_from, full_until).
    pub full_from: NaiveDate,
    pub full_until: NaiveDate,
}

impl PeriodSplit {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        let first_month = from.with_day(1).unwrap_or(from);
        let full_from = if from == first_month {
            from
        } else {
            next_month(first_month)
        };
        let to_month = to.with_day(1).unwrap_or(to);
        let after_to = next_month(to_month);
        let full_until = if to.succ_opt() == Some(after_to) {
            after_to
        } else {
            to_month
        };
        PeriodSplit {
            first_month,
            full_from,
            full_until: full_until.max(full_from),
        }
    }

    /// Whether some days must be read from the daily tables: those of
    /// [first_month, full_from) and [full_until, to].
    pub fn needs_days(self, to: NaiveDate) -> bool {
        self.first_month < self.full_from || self.full_until <= to
    }
}

fn next_month(first_day: NaiveDate) -> NaiveDate {
    first_day
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

/// Everything one batch writes, with the checkpoint move that makes it count.
#[derive(Debug)]
pub(crate) struct BatchWrite {
    pub projection: &'static str,
    pub generation: i32,
    /// The lease the write is made under, if any, renewed for `lease_ttl`.
    pub lease_owner: Option<String>,
    pub lease_ttl: Duration,
    /// The generation is being built: read by nobody until it is promoted,
    /// dropped if the build dies (see the PostgreSQL write).
    pub building: bool,
    pub dossiers: Vec<DossierRow>,
    /// (unit, aggregate id): units that hold or held a dossier.
    pub holders: Vec<(String, String)>,
    pub counters: CounterDeltas,
    pub from: LogCursor,
    pub to: LogCursor,
    pub events: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct DossierRow {
    pub aggregate_id: String,
    pub last_position: i64,
    pub state: DossierState,
}

/// Sums over a stretch of days for one counter cell's group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CounterSums {
    pub unit: String,
    /// Procedure and field, when summed per procedure.
    pub procedure: Option<(String, String)>,
    /// Open at the start of the period: received − left, before `from`.
    pub carried_over: i64,
    /// Flow columns summed over [from, to]; state columns summed up to `to`.
    pub columns: [i64; 11],
}

/// How the counters are summed for a report: per unit, or per unit and
/// procedure.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CounterTable {
    PerUnit,
    PerProcedure,
}

impl CounterTable {
    /// Its daily and its monthly table.
    pub fn shapes(self) -> (CounterTableShape, CounterTableShape) {
        match self {
            CounterTable::PerUnit => (UNIT_DAY, UNIT_MONTH),
            CounterTable::PerProcedure => (PROCEDURE_DAY, PROCEDURE_MONTH),
        }
    }
}

impl ReadModels {
    /// The read models beside `store`'s event log, on the same pool, seeing
    /// every unit's rows (the projector's and operations' view).
    pub fn new(store: &EventStore) -> Self {
        match store {
            EventStore::Postgres(postgres) => ReadModels::Postgres(ScopedPool::new(
                postgres.pool().clone(),
                &Visibility::Everything,
            )),
            EventStore::Sqlite(sqlite) => ReadModels::Sqlite(sqlite.pool().clone()),
        }
    }

    /// The same read models as `visibility` sees them.
    pub fn visible_to(&self, visibility: &Visibility) -> Self {
        match self {
            ReadModels::Postgres(scoped) => {
                ReadModels::Postgres(ScopedPool::new(scoped.pool.clone(), visibility))
            }
            ReadModels::Sqlite(pool) => ReadModels::Sqlite(pool.clone()),
        }
    }

    /// Waits until projection `name` has applied the log up to `cursor`
    /// (a client reading its own write), at most `timeout`.
    pub async fn wait_for(
        &self,
        name: &str,
        cursor: LogCursor,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let reached = self.live(name).await?.cursor >= cursor;
            if reached {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(ProjectionError::WaitTimedOut {
                    position: cursor.position,
                    waited,
                });
            }
            tokio::time::sleep(pause.min(timeout - waited)).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// The fold states of these dossiers, for those that have a row.
    pub(crate) async fn dossier_states(
        &self,
        generation: i32,
        ids: &[String],
    ) -> Result<HashMap<String, DossierState>, ProjectionError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = match self {
            ReadModels::Postgres(pool) => postgres::dossier_states(pool, generation, ids).await?,
            ReadModels::Sqlite(pool) => sqlite::dossier_states(pool, generation, ids).await?,
        };
        rows.into_iter()
            .map(|(id, state)| match serde_json::from_slice(&state) {
                Ok(state) => Ok((id, state)),
                Err(error) => Err(ProjectionError::Corrupt {
                    row: format!("dossiers/{id}"),
                    reason: error.to_string(),
                }),
            })
            .collect()
    }

    /// Writes a batch into its generation and moves the generation's
    /// checkpoint from `batch.from` to `batch.to`, in one transaction; fails
    /// with [`ProjectionError::CheckpointMoved`] (writing nothing) if the
    /// checkpoint is no longer at `batch.from`, the generation was retired,
    /// or the batch's lease is no longer held.
    pub(crate) async fn write(&self, batch: &BatchWrite) -> Result<(), ProjectionError> {
        match self {
            ReadModels::Postgres(pool) => postgres::write(pool, batch).await,
            ReadModels::Sqlite(pool) => sqlite::write(pool, batch).await,
        }
    }

    /// Counter sums for these units (`None`: every unit), flows over
    /// [from, to], carried over before `from`, states at the end of `to`; one
    /// entry per unit (and procedure, for [`CounterTable::PerProcedure`])
    /// with any counts.
    pub(crate) async fn counter_sums(
        &self,
        generation: i32,
        table: CounterTable,
        units: Option<&[String]>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<CounterSums>, ProjectionError> {
        match self {
            ReadModels::Postgres(pool) => {
                postgres::counter_sums(pool, generation, table, units, from, to).await
            }
            ReadModels::Sqlite(pool) => {
                sqlite::counter_sums(pool, generation, table, units, from, to).await
            }
        }
    }
}

/// The counter columns, in [`Column`] order, as the tables name them.
pub(crate) const COUNTER_COLUMNS: [&str; 11] = [
    "received_online",
    "received_offline",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "withdrawn",
    "stopped",
    "refused",
    "overdue_delta",
    "awaiting_supplement_delta",
    "awaiting_payment_delta",
];

/// The flow columns whose sum before a period is what it carries over:
/// received adds, every way of leaving subtracts.
pub(crate) fn carried_over_expression() -> String {
    format!(
        "{} - {}",
        [Column::ReceivedOnline, Column::ReceivedOffline]
            .map(|column| COUNTER_COLUMNS[column.index()])
            .join(" + "),
        [
            Column::ResolvedEarly,
            Column::ResolvedOnTime,
            Column::ResolvedLate,
            Column::Withdrawn,
            Column::Stopped,
        ]
        .map(|column| COUNTER_COLUMNS[column.index()])
        .join(" - ")
    )
}

/// Is this column a state change (summed up to the period's end) rather
/// than a flow (summed over the period)?
pub(crate) fn is_state_column(column: Column) -> bool {
    matches!(
        column,
        Column::OverdueDelta | Column::AwaitingSupplementDelta | Column::AwaitingPaymentDelta
    )
}

/// The `dossiers` row of a fold state: the columns queries filter and show.
pub(crate) struct DossierColumns {
    pub code: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_version: Option<i32>,
    pub field: Option<String>,
    pub applicant_name: Option<String>,
    pub identity_number: Option<String>,
    pub receiving_unit: Option<String>,
    pub holder_unit: Option<String>,
    pub status: Option<i16>,
    pub step: String,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub channel: Option<i16>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub step_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub timeliness: Option<&'static str>,
    pub payment_state: &'static str,
    pub completion_requested: bool,
    pub deleted: bool,
    pub last_event_at: Option<DateTime<Utc>>,
    /// The fold state as JSON.
    pub state: String,
    /// Every unit that ever held it, comma-separated: the PostgreSQL-only
    /// column its row-level security policy tests.
    pub holders: String,
}

impl DossierColumns {
    pub fn of(state: &DossierState) -> Result<Self, ProjectionError> {
        let lifecycle = &state.lifecycle;
        let procedure = lifecycle.procedure();
        let deadlines = lifecycle.deadlines();
        let step = crate::dossiers::step_name(lifecycle.step());
        let timeliness = state.outcome.and_then(|outcome| match outcome {
            Outcome::Resolved { timeliness, .. } => Some(match timeliness {
                Finished::Early => "early",
                Finished::OnTime => "on_time",
                Finished::Late => "late",
            }),
            _ => None,
        });
        let payment_state = crate::dossiers::payment_state_name(lifecycle.payment());
        let state_json =
            serde_json::to_string(state).map_err(|error| ProjectionError::Corrupt {
                row: "dossiers (state to write)".to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            code: lifecycle.code().map(ToString::to_string),
            procedure_code: procedure.map(|terms| terms.code.as_str().to_owned()),
            procedure_version: procedure.and_then(|terms| i32::try_from(terms.version).ok()),
            field: procedure.map(|terms| terms.field.clone()),
            applicant_name: state.applicant_name.clone(),
            identity_number: state.identity_number.clone(),
            receiving_unit: lifecycle.receiving_unit().map(ToString::to_string),
            holder_unit: lifecycle.holder().map(ToString::to_string),
            status: lifecycle.status().map(|status| i16::from(status.code())),
            step,
            department: lifecycle.department().map(str::to_owned),
            assignee: lifecycle.assignee().map(str::to_owned),
            channel: lifecycle.channel().map(|channel| i16::from(channel.code())),
            submitted_at: lifecycle.submitted_at(),
            received_at: deadlines.map(|deadlines| deadlines.received_at),
            due_at: deadlines.map(|deadlines| deadlines.due_at),
            appointment_at: deadlines.map(|deadlines| deadlines.appointment_at),
            step_due_at: lifecycle.step_due_at(),
            finished_at: lifecycle.finished_at(),
            closed_at: lifecycle.closed_at(),
            timeliness,
            payment_state,
            completion_requested: lifecycle.completion_requested(),
            deleted: lifecycle.is_deleted(),
            last_event_at: lifecycle.last_event_at(),
            state: state_json,
            holders: lifecycle
                .holders()
                .iter()
                .map(UnitId::as_str)
                .collect::<Vec<_>>()
                .join(","),
        })
    }
}

/// The columns of the `dossiers` table, in the order both backends bind them.
pub(crate) const DOSSIER_COLUMNS: [&str; 28] = [
    "aggregate_id",
    "last_position",
    "code",
    "procedure_code",
    "procedure_version",
    "field",
    "applicant_name",
    "identity_number",
    "receiving_unit",
    "holder_unit",
    "status",
    "step",
    "department",
    "assignee",
    "channel",
    "submitted_at",
    "received_at",
    "due_at",
    "appointment_at",
    "step_due_at",
    "finished_at",
    "closed_at",
    "timeliness",
    "payment_state",
    "completion_requested",
    "deleted",
    "last_event_at",
    "state",
];

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    use super::PeriodSplit;

    fn day(offset: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() + chrono::Days::new(offset.into())
    }

    proptest! {
        /// Every day up to the period's end is read exactly once — in its
        /// month's row or in its own — and a month read whole lies wholly
        /// before the period or wholly inside it.
        #[test]
        fn a_split_period_reads_each_day_once(start in 0u32..800, length in 0u32..500) {
            let (from, to) = (day(start), day(start + length));
            let split = PeriodSplit::new(from, to);
            let mut needed_days = false;
            for offset in 0..=start + length {
                let d = day(offset);
                let month = d.with_day(1).unwrap_or(d);
                let whole_month = month < split.first_month
                    || (month >= split.full_from && month < split.full_until);
                let own_row = d >= split.first_month
                    && (d < split.full_from || d >= split.full_until)
                    && d <= to;
                prop_assert!(whole_month != own_row, "{d} for {from}..={to}: {split:?}");
                needed_days |= own_row;
                if whole_month {
                    let last = month
                        .checked_add_months(chrono::Months::new(1))
                        .and_then(|next| next.pred_opt())
                        .unwrap_or(month);
                    prop_assert!(last <= to, "{month} runs past {to}");
                    prop_assert!(last < from || month >= from, "{month} straddles {from}");
                }
            }
            prop_assert_eq!(needed_days, split.needs_days(to));
        }
    }
}
