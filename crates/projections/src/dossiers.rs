//! Reading the dossier read model: a unit's queue and searches (filters,
//! keyset paging), one dossier by code, and the worklists leaders chase —
//! due soon, overdue, and each officer's load and output.
//!
//! Every query reads the live generation and is confined to the units the
//! caller passes (the tenant scope, checked again by the API's own guards).

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::{VIETNAM, WorkingCalendar, WorkingMinutes, local_date};
use motcua_domain::dossier::PaymentState;
use motcua_domain::dossier::status::Step;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_domain::unit::UnitId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::ProjectionError;
use crate::projector::DOSSIERS;
use crate::read_models::ReadModels;

/// A step as the dossier rows name it (`step`): its snake_case name.
pub fn step_name(step: Step) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A payment state as the dossier rows name it (`payment_state`).
pub fn payment_state_name(payment: PaymentState) -> &'static str {
    match payment {
        PaymentState::NotRequested => "not_requested",
        PaymentState::Requested { .. } => "requested",
        PaymentState::Paid { .. } => "paid",
        PaymentState::Exempted => "exempted",
        PaymentState::Refunded { .. } => "refunded",
    }
}

/// The most rows one page may hold.
pub const MAX_PAGE: u32 = 100;

/// A dossier as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierSummary {
    pub aggregate_id: String,
    pub code: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_version: Option<i32>,
    pub field: Option<String>,
    pub applicant_name: Option<String>,
    pub identity_number: Option<String>,
    pub receiving_unit: Option<String>,
    pub holder_unit: Option<String>,
    /// DVCQG status code (1–10).
    pub status: Option<i16>,
    pub step: String,
    pub department: Option<String>,
    pub assignee: Option<String>,
    /// 1 in person, 2 online, 3 by post.
    pub channel: Option<i16>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// early | on_time | late, once resolved.
    pub timeliness: Option<String>,
    pub payment_state: String,
    pub deleted: bool,
    /// Where in the log this row was last changed.
    pub last_position: i64,
}

/// Which dossiers a search returns. Empty filters match everything in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DossierFilter {
    /// The scope: dossiers whose current holder is one of these units, or,
    /// with `ever_held`, that any of them ever held.
    pub units: Vec<UnitId>,
    pub ever_held: bool,
    /// DVCQG status codes.
    pub statuses: Vec<i16>,
    pub procedure_code: Option<String>,
    pub field: Option<String>,
    pub channel: Option<i16>,
    pub assignee: Option<String>,
    pub received: Option<TimeRange>,
    pub due: Option<TimeRange>,
    pub finished: Option<TimeRange>,
    /// Open (accepted, not yet resolved or closed) dossiers only.
    pub open_only: bool,
    /// A dossier code prefix, or words of the applicant's name (any case).
    pub text: Option<String>,
    pub identity_number: Option<String>,
    /// Soft-deleted dossiers are hidden unless asked for.
    pub include_deleted: bool,
    /// Only these dossiers (aggregate ids), if any are named.
    pub ids: Vec<String>,
}

/// `[from, to)`, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The order of a page, and where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DossierOrder {
    /// Soonest due first (a queue); dossiers without a due date last.
    DueFirst,
    /// Latest submitted first.
    NewestFirst,
}

/// The keyset of the last row of a page: pass it back for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    pub key: DateTime<Utc>,
    pub aggregate_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<DossierSummary>,
    /// Set when more rows follow.
    pub next: Option<PageCursor>,
}

/// One officer's load and output within a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerLoad {
    pub assignee: String,
    /// Open dossiers assigned to them now.
    pub open: i64,
    /// Of those, past the due date now.
    pub overdue: i64,
    /// Resolved in the period (result issued).
    pub resolved: i64,
    /// Of those, late.
    pub resolved_late: i64,
}

/// Sorts "no due date" after every real one.
fn far_future() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |time| time.and_utc())
}

impl PageCursor {
    /// The keyset of `row` in `order`: pass it as `after` to go on after it.
    pub fn of(row: &DossierSummary, order: DossierOrder) -> PageCursor {
        let key = match order {
            DossierOrder::DueFirst => row.due_at,
            DossierOrder::NewestFirst => row.submitted_at,
        };
        PageCursor {
            key: key.unwrap_or_else(far_future),
            aggregate_id: row.aggregate_id.clone(),
        }
    }
}

impl ReadModels {
    /// A page of dossiers matching `filter`, `first` rows at most (1 to
    /// [`MAX_PAGE`]), after `after`.
    pub async fn dossiers(
        &self,
        filter: &DossierFilter,
        order: DossierOrder,
        first: u32,
        after: Option<&PageCursor>,
    ) -> Result<Page, ProjectionError> {
        if first == 0 || first > MAX_PAGE {
            return Err(ProjectionError::InvalidQuery {
                field: "first",
                reason: format!("a page holds 1 to {MAX_PAGE} rows, not {first}"),
            });
        }
        let far_future = far_future();
        let mut query = SelectBuilder::new(self);
        query.scope(filter);
        // The cursor's key; the order is the same (no dossier is due after
        // `far_future`) but written so that an index on `due_at` serves it.
        let (key, order_by) = match order {
            DossierOrder::DueFirst => {
                let far = query.bind(Bind::Time(far_future));
                (
                    format!("COALESCE(due_at, {far})"),
                    "due_at ASC NULLS LAST, aggregate_id ASC",
                )
            }
            DossierOrder::NewestFirst => (
                "submitted_at".to_owned(),
                "submitted_at DESC, aggregate_id DESC",
            ),
        };
        if let Some(after) = after {
            let (key_at, id) = (
                query.bind(Bind::Time(after.key)),
                query.bind(Bind::Text(after.aggregate_id.clone())),
            );
            let comparison = match order {
                DossierOrder::DueFirst => ">",
                DossierOrder::NewestFirst => "<",
            };
            query.condition(format!(
                "({key}, aggregate_id) {comparison} ({key_at}, {id})"
            ));
        }
        let limit = query.bind(Bind::Int(i64::from(first) + 1));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM dossiers WHERE {} ORDER BY {order_by} LIMIT {limit}",
            query.conditions()
        );
        let mut rows = query.fetch(&sql).await?;
        let next = if rows.len() > first as usize {
            rows.truncate(first as usize);
            rows.last().map(|last| PageCursor::of(last, order))
        } else {
            None
        };
        Ok(Page { rows, next })
    }

    /// The dossier with this code, if it is within `units` (current or
    /// past holders).
    pub async fn dossier_by_code(
        &self,
        code: &str,
        units: &[UnitId],
    ) -> Result<Option<DossierSummary>, ProjectionError> {
        let mut query = SelectBuilder::new(self);
        query.scope(&DossierFilter {
            units: units.to_vec(),
            ever_held: true,
            include_deleted: true,
            ..DossierFilter::default()
        });
        let code = query.bind(Bind::Text(code.to_owned()));
        query.condition(format!("code = {code}"));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM dossiers WHERE {}",
            query.conditions()
        );
        Ok(query.fetch(&sql).await?.into_iter().next())
    }

    /// Open, running dossiers in scope due within `within` of working time
    /// from `now` (not yet overdue), soonest first.
    pub async fn due_soon(
        &self,
        units: &[UnitId],
        calendar: &WorkingCalendar,
        now: DateTime<Utc>,
        within: WorkingMinutes,
        first: u32,
    ) -> Result<Page, ProjectionError> {
        let filter = DossierFilter {
            units: units.to_vec(),
            statuses: RUNNING.to_vec(),
            open_only: true,
            due: Some(TimeRange {
                from: Some(now),
                to: Some(calendar.add_working_time(now, within)),
            }),
            ..DossierFilter::default()
        };
        self.dossiers(&filter, DossierOrder::DueFirst, first, None)
            .await
    }

    /// Open, running dossiers in scope that are overdue at `now` by
    /// `policy`, most overdue first.
    pub async fn overdue(
        &self,
        units: &[UnitId],
        policy: TimelinessPolicy,
        now: DateTime<Utc>,
        first: u32,
        after: Option<&PageCursor>,
    ) -> Result<Page, ProjectionError> {
        let filter = DossierFilter {
            units: units.to_vec(),
            statuses: RUNNING.to_vec(),
            open_only: true,
            due: Some(TimeRange {
                from: None,
                to: Some(overdue_before(policy, now)),
            }),
            ..DossierFilter::default()
        };
        self.dossiers(&filter, DossierOrder::DueFirst, first, after)
            .await
    }

    /// Each officer's open and overdue dossiers now, and what they resolved
    /// in `[from, to)`, within the units in scope.
    pub async fn officer_loads(
        &self,
        units: &[UnitId],
        policy: TimelinessPolicy,
        now: DateTime<Utc>,
        period: TimeRange,
    ) -> Result<Vec<OfficerLoad>, ProjectionError> {
        let mut query = SelectBuilder::new(self);
        query.scope(&DossierFilter {
            units: units.to_vec(),
            ..DossierFilter::default()
        });
        query.condition("assignee IS NOT NULL".to_owned());
        let overdue = query.bind(Bind::Time(overdue_before(policy, now)));
        let mut resolved = "finished_at IS NOT NULL".to_owned();
        if let Some(from) = period.from {
            let from = query.bind(Bind::Time(from));
            resolved.push_str(&format!(" AND finished_at >= {from}"));
        }
        if let Some(to) = period.to {
            let to = query.bind(Bind::Time(to));
            resolved.push_str(&format!(" AND finished_at < {to}"));
        }
        let running = RUNNING
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let open = format!("{OPEN} AND status IN ({running})");
        let sql = format!(
            "SELECT assignee, \
             CAST(SUM(CASE WHEN {open} THEN 1 ELSE 0 END) AS BIGINT) AS open, \
             CAST(SUM(CASE WHEN {open} AND due_at < {overdue} THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
             CAST(SUM(CASE WHEN {resolved} THEN 1 ELSE 0 END) AS BIGINT) AS resolved, \
             CAST(SUM(CASE WHEN {resolved} AND timeliness = 'late' THEN 1 ELSE 0 END) AS BIGINT) AS resolved_late \
             FROM dossiers WHERE {} GROUP BY assignee ORDER BY assignee",
            query.conditions()
        );
        query.fetch_loads(&sql).await
    }
}

/// Statuses in which the processing clock runs (received, processing):
/// waiting for the applicant is within time, as Biểu 06 counts it.
const RUNNING: [i16; 2] = [2, 4];

/// Accepted and neither resolved nor closed.
const OPEN: &str = "received_at IS NOT NULL AND finished_at IS NULL AND closed_at IS NULL";

/// A running dossier due before this instant is overdue at `now`: by date,
/// due on an earlier day; by timestamp, due before now.
fn overdue_before(policy: TimelinessPolicy, now: DateTime<Utc>) -> DateTime<Utc> {
    match policy {
        TimelinessPolicy::ByTimestamp => now,
        TimelinessPolicy::ByDate => start_of_day(local_date(now)).unwrap_or(now),
    }
}

/// Midnight starting `day` in Vietnam.
fn start_of_day(day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(VIETNAM)
        .single()?;
    Some(midnight.with_timezone(&Utc))
}

const SUMMARY_COLUMNS: &str = "aggregate_id, code, procedure_code, procedure_version, field, \
    applicant_name, identity_number, receiving_unit, holder_unit, status, step, department, \
    assignee, channel, submitted_at, received_at, due_at, appointment_at, finished_at, \
    closed_at, timeliness, payment_state, deleted, last_position";

/// A value bound to a query, typed for both backends.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    TextList(Vec<String>),
    IntList(Vec<i64>),
}

/// Builds a SELECT over the live generation of `dossiers`: conditions with
/// numbered parameters, the same text on both backends except for lists.
struct SelectBuilder<'a> {
    read_models: &'a ReadModels,
    conditions: Vec<String>,
    binds: Vec<Bind>,
    /// The live generation, as a scalar subquery.
    live_generation: String,
}

impl<'a> SelectBuilder<'a> {
    fn new(read_models: &'a ReadModels) -> Self {
        let mut builder = Self {
            read_models,
            conditions: Vec::new(),
            binds: Vec::new(),
            live_generation: String::new(),
        };
        let name = builder.bind(Bind::Text(DOSSIERS.to_owned()));
        builder.live_generation =
            format!("(SELECT generation FROM projections WHERE name = {name} AND state = 'live')");
        builder.condition(format!("generation = {}", builder.live_generation));
        builder
    }

    /// Adds a parameter; returns its placeholder.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// A parameter holding a list, as a set to test membership in.
    fn bind_list(&mut self, value: Bind) -> String {
        let placeholder = self.bind(value);
        match self.read_models {
            ReadModels::Postgres(_) => format!("ANY({placeholder})"),
            ReadModels::Sqlite(_) => format!("(SELECT value FROM json_each({placeholder}))"),
        }
    }

    fn condition(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    fn conditions(&self) -> String {
        self.conditions.join(" AND ")
    }

    fn scope(&mut self, filter: &DossierFilter) {
        let units = self.bind_list(Bind::TextList(
            filter.units.iter().map(ToString::to_string).collect(),
        ));
        // `column {member_of(set)}` tests membership in a bound list.
        let member_of = |set: &str| match self.read_models {
            ReadModels::Postgres(_) => format!("= {set}"),
            ReadModels::Sqlite(_) => format!("IN {set}"),
        };
        if filter.ever_held {
            let held = member_of(&units);
            // Not correlated with the outer row (`= dossiers.generation`),
            // so that PostgreSQL can make it a semi-join and probe the
            // holders of the few rows a code finds, rather than hash every
            // holder row of the units first (137 ms → 0.4 ms at 100,000
            // dossiers for a province-wide viewer).
            self.condition(format!(
                "aggregate_id IN (SELECT aggregate_id FROM dossier_holders \
                 WHERE dossier_holders.generation = {} AND unit_id {held})",
                self.live_generation
            ));
        } else {
            let held = member_of(&units);
            self.condition(format!("holder_unit {held}"));
        }
        if !filter.include_deleted {
            self.condition("NOT deleted".to_owned());
        }
        if !filter.ids.is_empty() {
            let ids = self.bind_list(Bind::TextList(filter.ids.clone()));
            let test = member_of(&ids);
            self.condition(format!("aggregate_id {test}"));
        }
        if !filter.statuses.is_empty() {
            let statuses = self.bind_list(Bind::IntList(
                filter
                    .statuses
                    .iter()
                    .map(|&status| i64::from(status))
                    .collect(),
            ));
            let test = member_of(&statuses);
            self.condition(format!("status {test}"));
        }
        for (column, value) in [
            ("procedure_code", &filter.procedure_code),
            ("field", &filter.field),
            ("assignee", &filter.assignee),
            ("identity_number", &filter.identity_number),
        ] {
            if let Some(value) = value {
                let value = self.bind(Bind::Text(value.clone()));
                self.condition(format!("{column} = {value}"));
            }
        }
        if let Some(channel) = filter.channel {
            let channel = self.bind(Bind::Int(i64::from(channel)));
            self.condition(format!("channel = {channel}"));
        }
        for (column, range) in [
            ("received_at", filter.received),
            ("due_at", filter.due),
            ("finished_at", filter.finished),
        ] {
            let Some(range) = range else { continue };
            if let Some(from) = range.from {
                let from = self.bind(Bind::Time(from));
                self.condition(format!("{column} >= {from}"));
            }
            if let Some(to) = range.to {
                let to = self.bind(Bind::Time(to));
                self.condition(format!("{column} < {to}"));
            }
        }
        if filter.open_only {
            self.condition(OPEN.to_owned());
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
        {
            // LIKE's wildcards in the text are matched literally.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let prefix = self.bind(Bind::Text(format!("{escaped}%")));
            let words = self.bind(Bind::Text(format!("%{}%", escaped.to_lowercase())));
            self.condition(format!(
                "(code LIKE {prefix} ESCAPE '\\' OR lower(applicant_name) LIKE {words} ESCAPE '\\')"
            ));
        }
    }

    async fn fetch(self, sql: &str) -> Result<Vec<DossierSummary>, ProjectionError> {
        let failed = ProjectionError::database("reading dossiers");
        match self.read_models {
            ReadModels::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(failed)?;
                let rows = bind_postgres(sqlx::query(sql), &self.binds)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                rows.iter().map(|row| summary!(row)).collect()
            }
            ReadModels::Sqlite(pool) => {
                let rows = bind_sqlite(sqlx::query(sql), &self.binds)
                    .fetch_all(pool)
                    .await
                    .map_err(failed)?;
                rows.iter().map(|row| summary!(row)).collect()
            }
        }
    }

    async fn fetch_loads(self, sql: &str) -> Result<Vec<OfficerLoad>, ProjectionError> {
        let failed = ProjectionError::database("reading officers' loads");
        match self.read_models {
            ReadModels::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(failed)?;
                let rows = bind_postgres(sqlx::query(sql), &self.binds)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                rows.iter().map(|row| load!(row)).collect()
            }
            ReadModels::Sqlite(pool) => {
                let rows = bind_sqlite(sqlx::query(sql), &self.binds)
                    .fetch_all(pool)
                    .await
                    .map_err(failed)?;
                rows.iter().map(|row| load!(row)).collect()
            }
        }
    }
}

/// A [`DossierSummary`] from a row of either backend.
macro_rules! summary {
    ($row:expr) => {{
        let row = $row;
        let read = || -> Result<DossierSummary, sqlx::Error> {
            Ok(DossierSummary {
                aggregate_id: row.try_get("aggregate_id")?,
                code: row.try_get("code")?,
                procedure_code: row.try_get("procedure_code")?,
                procedure_version: row.try_get("procedure_version")?,
                field: row.try_get("field")?,
                applicant_name: row.try_get("applicant_name")?,
                identity_number: row.try_get("identity_number")?,
                receiving_unit: row.try_get("receiving_unit")?,
                holder_unit: row.try_get("holder_unit")?,
                status: row.try_get("status")?,
                step: row.try_get("step")?,
                department: row.try_get("department")?,
                assignee: row.try_get("assignee")?,
                channel: row.try_get("channel")?,
                submitted_at: row.try_get("submitted_at")?,
                received_at: row.try_get("received_at")?,
                due_at: row.try_get("due_at")?,
                appointment_at: row.try_get("appointment_at")?,
                finished_at: row.try_get("finished_at")?,
                closed_at: row.try_get("closed_at")?,
                timeliness: row.try_get("timeliness")?,
                payment_state: row.try_get("payment_state")?,
                deleted: row.try_get("deleted")?,
                last_position: row.try_get("last_position")?,
            })
        };
        read().map_err(ProjectionError::database("reading dossiers"))
    }};
}
use summary;

/// An [`OfficerLoad`] from a row of either backend.
macro_rules! load {
    ($row:expr) => {{
        let row = $row;
        let read = || -> Result<OfficerLoad, sqlx::Error> {
            Ok(OfficerLoad {
                assignee: row.try_get("assignee")?,
                open: row.try_get("open")?,
                overdue: row.try_get("overdue")?,
                resolved: row.try_get("resolved")?,
                resolved_late: row.try_get("resolved_late")?,
            })
        };
        read().map_err(ProjectionError::database("reading officers' loads"))
    }};
}
use load;

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_postgres<'q>(mut query: PgQuery<'q>, binds: &[Bind]) -> PgQuery<'q> {
    for value in binds {
        query = match value.clone() {
            Bind::Text(text) => query.bind(text),
            Bind::Int(number) => query.bind(number),
            Bind::Time(at) => query.bind(at),
            Bind::TextList(list) => query.bind(list),
            Bind::IntList(list) => query.bind(list),
        };
    }
    query
}

/// SQLite takes lists as JSON arrays (read back with `json_each`).
fn bind_sqlite<'q>(mut query: SqliteQuery<'q>, binds: &[Bind]) -> SqliteQuery<'q> {
    for value in binds {
        query = match value.clone() {
            Bind::Text(text) => query.bind(text),
            Bind::Int(number) => query.bind(number),
            Bind::Time(at) => query.bind(at),
            Bind::TextList(list) => query.bind(serde_json::Value::from(list).to_string()),
            Bind::IntList(list) => query.bind(serde_json::Value::from(list).to_string()),
        };
    }
    query
}
