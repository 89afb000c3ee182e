//! Reference data: the unit tree at a date, the procedure catalog and the
//! declared days of the calendar. All are public organisation facts: any signed-in user reads them.

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Object, ResultExt};
use chrono::{DateTime, NaiveDate, Utc};

use crate::context::{api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::scalars::unit_id;
use crate::types::{DeclaredDay, Level, Procedure, Unit};

#[derive(Default)]
pub struct ReferenceQuery;

/// Most procedures one page holds.
const MAX_PROCEDURES: usize = 100;

type ProcedureConnection = Connection<OpaqueCursor<String>, Procedure, EmptyFields, EmptyFields>;

#[Object]
impl ReferenceQuery {
    /// The units in force at `at` (now by default), parents before
    /// children; only those under `under` if given, only of `level` if given.
    async fn units(
        &self,
        context: &Context<'_>,
        at: Option<DateTime<Utc>>,
        under: Option<String>,
        level: Option<Level>,
    ) -> async_graphql::Result<Vec<Unit>> {
        units(context, at, under, level).extend()
    }

    /// The procedures in force now, by code: those whose code or name
    /// contains `search` (any case), of `level` and `field` if given.
    async fn procedures(
        &self,
        context: &Context<'_>,
        search: Option<String>,
        level: Option<Level>,
        field: Option<String>,
        #[graphql(default = 20, desc = "1 to 100")] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<ProcedureConnection> {
        procedures(context, search, level, field, first, after).extend()
    }

    /// The declared days (holidays, make-up working days) from `from` to
    /// `to`, both included, in date order.
    async fn declared_days(
        &self,
        context: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> async_graphql::Result<Vec<DeclaredDay>> {
        declared_days(context, from, to).extend()
    }
}

fn declared_days(
    context: &Context<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<DeclaredDay>> {
    viewer(context)?;
    let api = api(context)?;
    if to < from {
        return Err(ApiError::bad_input(
            "to",
            "the period ends before it begins",
        ));
    }
    let services = api.services();
    Ok(services
        .default_calendar
        .days()
        .iter()
        .filter(|day| (from..=to).contains(&day.date))
        .map(DeclaredDay::of)
        .collect())
}

fn units(
    context: &Context<'_>,
    at: Option<DateTime<Utc>>,
    under: Option<String>,
    level: Option<Level>,
) -> ApiResult<Vec<Unit>> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let at = at.unwrap_or(viewer.now);
    let hierarchy = api.units();
    let ids = match under {
        Some(under) => hierarchy.visible_units(&unit_id("under", &under)?, at),
        None => hierarchy
            .tree_at(at)
            .units()
            .iter()
            .map(|unit| unit.id.clone())
            .collect(),
    };
    Ok(ids
        .iter()
        .filter_map(|id| hierarchy.version_at(id, at))
        .filter(|version| level.is_none_or(|level| level.matches(version.level)))
        .map(|version| Unit::of(version, &hierarchy))
        .collect())
}

fn procedures(
    context: &Context<'_>,
    search: Option<String>,
    level: Option<Level>,
    field: Option<String>,
    first: i32,
    after: Option<String>,
) -> ApiResult<ProcedureConnection> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let first = usize::try_from(first)
        .ok()
        .filter(|first| (1..=MAX_PROCEDURES).contains(first))
        .ok_or_else(|| {
            ApiError::bad_input(
                "first",
                format!("a page holds 1 to {MAX_PROCEDURES} procedures"),
            )
        })?;
    let after = after
        .map(|cursor| {
            OpaqueCursor::<String>::decode_cursor(&cursor)
                .map(|cursor| cursor.0)
                .map_err(|_| ApiError::bad_input("after", "not a cursor of this list"))
        })
        .transpose()?;
    let search = search.map(|search| search.to_lowercase());
    let services = api.services();
    let mut matching: Vec<_> = services
        .procedures
        .all_in_force(viewer.now)
        .filter(|procedure| level.is_none_or(|level| level.matches(procedure.level)))
        .filter(|procedure| field.as_ref().is_none_or(|field| &procedure.field == field))
        .filter(|procedure| {
            search.as_ref().is_none_or(|search| {
                procedure.code.as_str().to_lowercase().contains(search)
                    || procedure.name.to_lowercase().contains(search)
            })
        })
        .filter(|procedure| {
            after
                .as_ref()
                .is_none_or(|after| procedure.code.as_str() > after.as_str())
        })
        .collect();
    matching.sort_unstable_by(|left, right| left.code.as_str().cmp(right.code.as_str()));
    let more = matching.len() > first;
    let mut connection = Connection::new(after.is_some(), more);
    for procedure in matching.into_iter().take(first) {
        connection.edges.push(Edge::new(
            OpaqueCursor(procedure.code.as_str().to_owned()),
            Procedure::of(procedure),
        ));
    }
    Ok(connection)
}
