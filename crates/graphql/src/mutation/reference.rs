//! Administrators' mutations of the reference data: units (open, rename,
//! move, merge, dissolve — a reorganisation is a series of these at one
//! instant), procedure versions and the calendar's declared days. Each is a
//! command of the `ReferenceData` aggregate, which refuses everyone but
//! administrators and any change that would break the unit tree or the
//! catalog; idempotent under its `clientMutationId`. Once recorded, a
//! change is in force at once for this server's next requests, and within
//! seconds for the other processes (they follow the log).

use async_graphql::{Context, Enum, InputObject, Object, ResultExt, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::{CalendarDay, WorkingMinutes};
use motcua_domain::procedure::{
    Component, Fee, FeeKind, OnlineLevel, Procedure, ProcedureCase, ProcessingTime, SupplementClock,
};
use motcua_domain::reference::{ReferenceChange, ReferenceCommand, ReferenceData, ReferenceError};
use motcua_domain::role::Role;
use motcua_domain::unit::UnitLevel;
use motcua_store::CommandError;
use serde::Serialize;

use crate::context::{api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::scalars::{log_position, unit_id};
use crate::types::{DeclaredDayKind, Level};

#[derive(Default)]
pub struct ReferenceMutation;

/// What a change of the reference data returns.
#[derive(SimpleObject)]
pub struct ReferencePayload {
    pub client_mutation_id: Option<String>,
    /// Where the change's last event landed in the log (opaque).
    pub position: Option<String>,
    /// True when this is the recorded outcome of an earlier send of the
    /// same `clientMutationId`.
    pub repeated: bool,
}

#[Object]
impl ReferenceMutation {
    /// Open a unit (a new commune, department…) under `parent`, from `at`
    /// (now by default).
    async fn open_unit(
        &self,
        context: &Context<'_>,
        input: OpenUnitInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::OpenUnit {
                unit: unit_id("id", &input.id)?,
                name: name("name", &input.name)?,
                level: level(input.level),
                parent: input
                    .parent
                    .as_deref()
                    .map(|parent| unit_id("parent", parent))
                    .transpose()?,
                at: input.at.unwrap_or_else(Utc::now),
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Rename a unit from `at` (now by default).
    async fn rename_unit(
        &self,
        context: &Context<'_>,
        input: RenameUnitInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::RenameUnit {
                unit: unit_id("id", &input.id)?,
                name: name("name", &input.name)?,
                at: input.at.unwrap_or_else(Utc::now),
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Put a unit under another parent (none: a root) from `at`.
    async fn move_unit(
        &self,
        context: &Context<'_>,
        input: MoveUnitInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::MoveUnit {
                unit: unit_id("id", &input.id)?,
                parent: input
                    .parent
                    .as_deref()
                    .map(|parent| unit_id("parent", parent))
                    .transpose()?,
                at: input.at.unwrap_or_else(Utc::now),
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Merge a unit into another from `at`: it ends, and `into` takes over
    /// its dossiers and its place in reports "as of today".
    async fn merge_unit(
        &self,
        context: &Context<'_>,
        input: MergeUnitInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::MergeUnit {
                unit: unit_id("id", &input.id)?,
                into: unit_id("into", &input.into)?,
                at: input.at.unwrap_or_else(Utc::now),
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Dissolve a unit from `at`; `receiver`, if given, takes over its
    /// dossiers. Units under it must have been moved or ended first.
    async fn dissolve_unit(
        &self,
        context: &Context<'_>,
        input: DissolveUnitInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::DissolveUnit {
                unit: unit_id("id", &input.id)?,
                receiver: input
                    .receiver
                    .as_deref()
                    .map(|receiver| unit_id("receiver", receiver))
                    .transpose()?,
                at: input.at.unwrap_or_else(Utc::now),
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Publish a procedure, or its next version (numbered one after the
    /// last), governing dossiers received from `validFrom` on.
    async fn publish_procedure(
        &self,
        context: &Context<'_>,
        input: PublishProcedureInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::PublishProcedure {
                procedure: input.to_domain()?,
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Declare a holiday or a make-up working day: deadlines counted
    /// afterwards skip (or count) it.
    async fn declare_day(
        &self,
        context: &Context<'_>,
        input: DeclareDayInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || {
            Ok(ReferenceChange::DeclareDay {
                day: CalendarDay {
                    date: input.date,
                    kind: input.kind.to_domain(),
                    name: name("name", &input.name)?,
                },
            })
        };
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }

    /// Withdraw a declared day.
    async fn clear_day(
        &self,
        context: &Context<'_>,
        input: ClearDayInput,
    ) -> async_graphql::Result<ReferencePayload> {
        let change = || Ok(ReferenceChange::ClearDay { date: input.date });
        run(context, &input, input.client_mutation_id.as_deref(), change)
            .await
            .extend()
    }
}

#[derive(InputObject, Clone, Serialize)]
pub struct OpenUnitInput {
    pub client_mutation_id: Option<String>,
    /// The new unit's e-ID.
    pub id: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct RenameUnitInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub name: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct MoveUnitInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub parent: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct MergeUnitInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub into: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct DissolveUnitInput {
    pub client_mutation_id: Option<String>,
    pub id: String,
    pub receiver: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct DeclareDayInput {
    pub client_mutation_id: Option<String>,
    pub date: NaiveDate,
    pub kind: DeclaredDayKind,
    pub name: String,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ClearDayInput {
    pub client_mutation_id: Option<String>,
    pub date: NaiveDate,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProcedureOnlineLevel {
    /// Toàn trình: the whole procedure online.
    FullProcess,
    /// Một phần: submitted online, finished in person.
    Partial,
    InformationOnly,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProcedureSupplementClock {
    /// The due date moves by the time spent waiting.
    Shift,
    /// The full processing time starts again.
    Restart,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProcedureFeeKind {
    /// Phí.
    Fee,
    /// Lệ phí.
    Charge,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ProcedureCaseInput {
    pub id: String,
    pub name: String,
    /// Processing time in working days (fractions allowed)…
    pub working_days: Option<f64>,
    /// …or in calendar days: exactly one of the two.
    pub calendar_days: Option<i32>,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ProcedureFeeInput {
    pub kind: ProcedureFeeKind,
    pub name: String,
    pub amount_vnd: i64,
}

#[derive(InputObject, Clone, Serialize)]
pub struct ProcedureComponentInput {
    pub code: String,
    pub name: String,
    pub required: bool,
    #[graphql(default = 1)]
    pub originals: i32,
    #[graphql(default = 0)]
    pub copies: i32,
}

#[derive(InputObject, Clone, Serialize)]
pub struct PublishProcedureInput {
    pub client_mutation_id: Option<String>,
    /// The national code, e.g. 1.001193.
    pub code: String,
    pub local_code: Option<String>,
    /// 1 for a new procedure, else one after the last version.
    pub version: i32,
    pub name: String,
    pub field: String,
    pub level: Level,
    pub online_level: ProcedureOnlineLevel,
    pub cases: Vec<ProcedureCaseInput>,
    #[graphql(default)]
    pub fees: Vec<ProcedureFeeInput>,
    #[graphql(default)]
    pub components: Vec<ProcedureComponentInput>,
    pub supplement_clock: ProcedureSupplementClock,
    pub valid_from: DateTime<Utc>,
}

impl PublishProcedureInput {
    fn to_domain(&self) -> ApiResult<Procedure> {
        let count = |field: &'static str, value: i64, most: i64| {
            if (0..=most).contains(&value) {
                Ok(value)
            } else {
                Err(ApiError::bad_input(field, format!("0 to {most}")))
            }
        };
        let cases = self
            .cases
            .iter()
            .map(|case| {
                let processing_time = match (case.working_days, case.calendar_days) {
                    (Some(days), None) => WorkingMinutes::from_days(days)
                        .map(ProcessingTime::WorkingTime)
                        .ok_or_else(|| {
                            ApiError::bad_input("cases.workingDays", "a positive number of days")
                        })?,
                    (None, Some(days)) => ProcessingTime::CalendarDays(
                        u32::try_from(days)
                            .ok()
                            .filter(|days| *days > 0)
                            .ok_or_else(|| {
                                ApiError::bad_input("cases.calendarDays", "a positive whole number")
                            })?,
                    ),
                    _ => {
                        return Err(ApiError::bad_input(
                            "cases",
                            "give each case workingDays or calendarDays, not both",
                        ));
                    }
                };
                Ok(ProcedureCase {
                    id: case.id.clone(),
                    name: case.name.clone(),
                    processing_time,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let fees = self
            .fees
            .iter()
            .map(|fee| {
                Ok(Fee {
                    kind: match fee.kind {
                        ProcedureFeeKind::Fee => FeeKind::Fee,
                        ProcedureFeeKind::Charge => FeeKind::Charge,
                    },
                    name: fee.name.clone(),
                    amount_vnd: u64::try_from(count("fees.amountVnd", fee.amount_vnd, i64::MAX)?)
                        .unwrap_or_default(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let components = self
            .components
            .iter()
            .map(|component| {
                let small = |field, value: i32| {
                    count(field, i64::from(value), 99)
                        .map(|value| u8::try_from(value).unwrap_or_default())
                };
                Ok(Component {
                    code: component.code.clone(),
                    name: component.name.clone(),
                    required: component.required,
                    originals: small("components.originals", component.originals)?,
                    copies: small("components.copies", component.copies)?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Procedure {
            code: self.code.parse().map_err(
                |error: motcua_domain::procedure::ProcedureError| {
                    ApiError::bad_input("code", error.to_string())
                },
            )?,
            local_code: self.local_code.clone(),
            version: u32::try_from(self.version)
                .ok()
                .filter(|version| *version > 0)
                .ok_or_else(|| ApiError::bad_input("version", "a positive whole number"))?,
            name: name("name", &self.name)?,
            field: name("field", &self.field)?,
            level: level(self.level),
            online_level: match self.online_level {
                ProcedureOnlineLevel::FullProcess => OnlineLevel::FullProcess,
                ProcedureOnlineLevel::Partial => OnlineLevel::Partial,
                ProcedureOnlineLevel::InformationOnly => OnlineLevel::InformationOnly,
            },
            cases,
            fees,
            components,
            supplement_clock: match self.supplement_clock {
                ProcedureSupplementClock::Shift => SupplementClock::Shift,
                ProcedureSupplementClock::Restart => SupplementClock::Restart,
            },
            valid_from: self.valid_from,
        })
    }
}

/// A name: not blank, at most 300 characters.
fn name(field: &'static str, text: &str) -> ApiResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 300 {
        return Err(ApiError::bad_input(field, "1 to 300 characters"));
    }
    Ok(text.to_owned())
}

fn level(level: Level) -> UnitLevel {
    match level {
        Level::Province => UnitLevel::Province,
        Level::District => UnitLevel::District,
        Level::Commune => UnitLevel::Commune,
    }
}

/// Records `change` as the request's principal and makes it current.
async fn run(
    context: &Context<'_>,
    request: &impl Serialize,
    client_mutation_id: Option<&str>,
    change: impl FnOnce() -> ApiResult<ReferenceChange>,
) -> ApiResult<ReferencePayload> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    // Before the input is even read: the aggregate refuses them too.
    if !viewer.principal.roles.contains(&Role::Administrator) {
        return Err(ApiError::Forbidden(
            "only administrators change reference data".to_owned(),
        ));
    }
    let change = change()?;
    let command_context = super::command_context(viewer, client_mutation_id, request)?;
    let command = ReferenceCommand {
        by: viewer.principal.clone(),
        change,
    };
    match api
        .reference
        .commands()
        .execute(ReferenceData::STREAM, command, &command_context)
        .await
    {
        Ok(committed) => {
            api.reference
                .adopt(&committed.aggregate, committed.sequence)
                .await?;
            Ok(ReferencePayload {
                client_mutation_id: client_mutation_id.map(str::to_owned),
                position: committed.position.map(log_position),
                repeated: committed.repeated,
            })
        }
        Err(CommandError::Rejected { rejection, .. }) => Err(rejected(rejection)),
        Err(CommandError::Conflict { .. }) => Err(ApiError::Conflict(
            "the reference data kept changing under the command; retry".to_owned(),
        )),
        Err(CommandError::CommandIdReused { command_id }) => Err(ApiError::Conflict(format!(
            "clientMutationId {command_id:?} was already used for a different request"
        ))),
        Err(CommandError::Store(error)) => Err(ApiError::Internal(Box::new(error))),
    }
}

fn rejected(rejection: ReferenceError) -> ApiError {
    let message = rejection.to_string();
    match rejection {
        ReferenceError::Forbidden => ApiError::Forbidden(message),
        ReferenceError::UnknownUnit { .. } | ReferenceError::DayNotDeclared { .. } => {
            ApiError::NotFound(message)
        }
        ReferenceError::AlreadyImported
        | ReferenceError::UnitExists { .. }
        | ReferenceError::DayDeclared { .. } => ApiError::Conflict(message),
        ReferenceError::ProcedureVersion { .. } => ApiError::bad_input("version", message),
        ReferenceError::Hierarchy { .. }
        | ReferenceError::Procedure { .. }
        | ReferenceError::Calendar { .. } => ApiError::bad_input("input", message),
    }
}
