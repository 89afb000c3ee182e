use async_graphql::{Context, Enum, Object, ResultExt};
use chrono::NaiveDate;
use motcua_domain::role::Role;
use motcua_projections::report::{GroupBy, HierarchyView, ReportQuery as Bieu06Query};

use crate::context::{api, reach, viewer};
use crate::error::{ApiError, ApiResult};
use crate::scalars::unit_id;
use crate::types::Bieu06Report;

#[derive(Default)]
pub struct ReportQuery;

/// How report rows are grouped.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReportGroupBy {
    /// One row per child unit, each over the child's subtree.
    ChildUnit,
    Field,
    Procedure,
    /// One row per calendar month of the period.
    Month,
}

/// Which unit tree a report follows after a reorganisation.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReportView {
    /// The tree in force at the end of the period.
    Recorded,
    /// Today's tree: old units counted under their successors.
    Current,
}

/// Longest period one report may cover.
const MAX_REPORT_DAYS: i64 = 3 * 366;

#[Object]
impl ReportQuery {
    /// The official processing report (Biểu 06) of a unit you see (yours by
    /// default) for the days `from` to `to`, both included.
    // Each argument is one of the field's arguments in the schema.
    #[allow(clippy::too_many_arguments)]
    async fn report(
        &self,
        context: &Context<'_>,
        unit: Option<String>,
        from: NaiveDate,
        to: NaiveDate,
        #[graphql(default_with = "ReportGroupBy::ChildUnit")] group_by: ReportGroupBy,
        #[graphql(default_with = "ReportView::Recorded")] view: ReportView,
        #[graphql(desc = "Wait (a few seconds at most) until this mutation's position is read")]
        min_position: Option<String>,
    ) -> async_graphql::Result<Bieu06Report> {
        let arguments = ReportArguments {
            unit,
            from,
            to,
            group_by,
            view,
        };
        report(context, arguments, min_position).await.extend()
    }
}

struct ReportArguments {
    unit: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
    group_by: ReportGroupBy,
    view: ReportView,
}

async fn report(
    context: &Context<'_>,
    arguments: ReportArguments,
    min_position: Option<String>,
) -> ApiResult<Bieu06Report> {
    let ReportArguments {
        unit,
        from,
        to,
        group_by,
        view,
    } = arguments;
    {
        let viewer = viewer(context)?;
        if viewer.principal.has_any(&[Role::Portal]) && viewer.principal.roles.len() == 1 {
            return Err(ApiError::Forbidden(
                "the portal account reads no reports".to_owned(),
            ));
        }
        let api = api(context)?;
        reach(viewer, min_position.as_deref()).await?;
        let unit = match unit {
            Some(unit) => unit_id("unit", &unit)?,
            None => viewer.principal.unit.clone(),
        };
        if !viewer.sees(&unit) {
            return Err(ApiError::Forbidden(format!("you do not see unit {unit}")));
        }
        if to < from {
            return Err(ApiError::bad_input(
                "to",
                "the period ends before it begins",
            ));
        }
        if (to - from).num_days() > MAX_REPORT_DAYS {
            return Err(ApiError::bad_input(
                "to",
                format!("a report covers at most {MAX_REPORT_DAYS} days"),
            ));
        }
        let query = Bieu06Query {
            unit,
            from,
            to,
            group_by: match group_by {
                ReportGroupBy::ChildUnit => GroupBy::ChildUnit,
                ReportGroupBy::Field => GroupBy::Field,
                ReportGroupBy::Procedure => GroupBy::Procedure,
                ReportGroupBy::Month => GroupBy::Month,
            },
            view: match view {
                ReportView::Recorded => HierarchyView::Recorded,
                ReportView::Current => HierarchyView::Current,
            },
            today: viewer.now,
        };
        let report = viewer.read_models.report(&api.units(), &query).await?;
        Ok(report.into())
    }
}
