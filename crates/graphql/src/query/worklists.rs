//! The worklists leaders chase: dossiers due soon, overdue ones, and each
//! officer's load and output, within the units the viewer sees.

use async_graphql::{Context, Object, ResultExt, SimpleObject};
use chrono::{DateTime, Utc};
use motcua_domain::calendar::WorkingMinutes;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_projections::dossiers::{MAX_PAGE, TimeRange};

use crate::context::{Viewer, api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::types::Dossier;

#[derive(Default)]
pub struct WorklistQuery;

/// One officer's open dossiers now and results in a period.
#[derive(SimpleObject)]
pub struct OfficerLoad {
    pub assignee: String,
    pub open: i64,
    pub overdue: i64,
    pub resolved: i64,
    pub resolved_late: i64,
}

#[Object]
impl WorklistQuery {
    /// Open dossiers due within `withinHours` working hours (24 by
    /// default), soonest first, in the units you see (under `unit` if given).
    async fn due_soon(
        &self,
        context: &Context<'_>,
        unit: Option<String>,
        #[graphql(default = 24)] within_hours: i32,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<Dossier>> {
        due_soon(context, unit, within_hours, first).await.extend()
    }

    /// Open dossiers past their due date, most overdue first.
    async fn overdue(
        &self,
        context: &Context<'_>,
        unit: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<Dossier>> {
        overdue(context, unit, first).await.extend()
    }

    /// Each officer's open dossiers now and results issued in [from, to).
    async fn officer_loads(
        &self,
        context: &Context<'_>,
        unit: Option<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<Vec<OfficerLoad>> {
        officer_loads(context, unit, from, to).await.extend()
    }
}

/// The units a worklist covers: the viewer's, or those under `unit`.
fn scope(
    viewer: &Viewer,
    api: &crate::ApiContext,
    unit: Option<String>,
) -> ApiResult<Vec<motcua_domain::unit::UnitId>> {
    viewer.may_list_dossiers()?;
    viewer.scope(&api.units(), "unit", unit.as_deref())
}

fn page_size(first: i32) -> ApiResult<u32> {
    u32::try_from(first)
        .ok()
        .filter(|first| (1..=MAX_PAGE).contains(first))
        .ok_or_else(|| {
            ApiError::bad_input("first", format!("a list holds 1 to {MAX_PAGE} dossiers"))
        })
}

async fn due_soon(
    context: &Context<'_>,
    unit: Option<String>,
    within_hours: i32,
    first: i32,
) -> ApiResult<Vec<Dossier>> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let units = scope(viewer, api, unit)?;
    let within = u32::try_from(within_hours)
        .ok()
        .filter(|hours| (1..=24 * 30).contains(hours))
        .and_then(|hours| WorkingMinutes::from_hours(f64::from(hours)))
        .ok_or_else(|| ApiError::bad_input("withinHours", "1 to 720 working hours"))?;
    let page = viewer
        .read_models
        .due_soon(
            &units,
            &api.services().default_calendar,
            viewer.now,
            within,
            page_size(first)?,
        )
        .await?;
    Ok(page
        .rows
        .into_iter()
        .map(|row| Dossier::of(row, viewer))
        .collect())
}

async fn overdue(
    context: &Context<'_>,
    unit: Option<String>,
    first: i32,
) -> ApiResult<Vec<Dossier>> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let units = scope(viewer, api, unit)?;
    let page = viewer
        .read_models
        .overdue(
            &units,
            TimelinessPolicy::default(),
            viewer.now,
            page_size(first)?,
            None,
        )
        .await?;
    Ok(page
        .rows
        .into_iter()
        .map(|row| Dossier::of(row, viewer))
        .collect())
}

async fn officer_loads(
    context: &Context<'_>,
    unit: Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<OfficerLoad>> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    if to <= from {
        return Err(ApiError::bad_input(
            "to",
            "the period ends before it begins",
        ));
    }
    let units = scope(viewer, api, unit)?;
    let loads = viewer
        .read_models
        .officer_loads(
            &units,
            TimelinessPolicy::default(),
            viewer.now,
            TimeRange {
                from: Some(from),
                to: Some(to),
            },
        )
        .await?;
    Ok(loads
        .into_iter()
        .map(|load| OfficerLoad {
            assignee: load.assignee,
            open: load.open,
            overdue: load.overdue,
            resolved: load.resolved,
            resolved_late: load.resolved_late,
        })
        .collect())
}
