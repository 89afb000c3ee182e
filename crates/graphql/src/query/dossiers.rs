use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, InputObject, Object, ResultExt};
use chrono::{DateTime, Utc};
use motcua_projections::dossiers::{DossierFilter, DossierOrder, MAX_PAGE, PageCursor, TimeRange};

use crate::context::{api, reach, viewer};
use crate::error::{ApiError, ApiResult};
use crate::personal_data::reveal;
use crate::types::{Channel, Dossier};

#[derive(Default)]
pub struct DossierQuery;

/// The order of a dossier list.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DossierListOrder {
    /// Soonest due first (a queue); dossiers without a due date last.
    DueFirst,
    /// Latest submitted first.
    NewestFirst,
}

/// An interval of time, `[from, to)`; either end may be left open.
#[derive(InputObject, Clone, Copy, Default)]
pub struct TimeRangeInput {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Which dossiers a list returns; always within the units you see.
#[derive(InputObject, Default)]
pub struct DossierFilterInput {
    /// Only dossiers held by this unit or units under it (one you see).
    pub unit: Option<String>,
    /// Also dossiers that those units held in the past.
    #[graphql(default)]
    pub ever_held: bool,
    /// DVCQG status codes, 1 to 10.
    #[graphql(default)]
    pub statuses: Vec<i32>,
    pub procedure_code: Option<String>,
    pub field: Option<String>,
    pub channel: Option<Channel>,
    pub assignee: Option<String>,
    pub received: Option<TimeRangeInput>,
    pub due: Option<TimeRangeInput>,
    pub finished: Option<TimeRangeInput>,
    /// Accepted and not yet resolved or closed.
    #[graphql(default)]
    pub open_only: bool,
    /// A dossier code prefix, or words of the applicant's name.
    pub text: Option<String>,
    #[graphql(default)]
    pub include_deleted: bool,
}

#[Object]
impl DossierQuery {
    /// Dossiers in the units you see, a page at a time (keyset cursors).
    async fn dossiers(
        &self,
        context: &Context<'_>,
        #[graphql(default = 20, desc = "1 to 100 rows")] first: i32,
        after: Option<String>,
        #[graphql(default)] filter: DossierFilterInput,
        #[graphql(default_with = "DossierListOrder::DueFirst")] order: DossierListOrder,
        #[graphql(desc = "Wait (a few seconds at most) until this mutation's position is read")]
        min_position: Option<String>,
    ) -> async_graphql::Result<DossierConnection> {
        list(context, first, after, filter, order, min_position)
            .await
            .extend()
    }

    /// The dossier with this code, if one of the units you see holds or
    /// held it.
    async fn dossier(
        &self,
        context: &Context<'_>,
        code: String,
        #[graphql(desc = "Wait (a few seconds at most) until this mutation's position is read")]
        min_position: Option<String>,
        #[graphql(
            default,
            desc = "Auditors and supervisors: show the applicant's personal data; the read is recorded"
        )]
        reveal_personal_data: bool,
    ) -> async_graphql::Result<Option<Dossier>> {
        by_code(context, code, min_position, reveal_personal_data)
            .await
            .extend()
    }
}

type DossierConnection = Connection<OpaqueCursor<PageCursor>, Dossier, EmptyFields, EmptyFields>;

async fn list(
    context: &Context<'_>,
    first: i32,
    after: Option<String>,
    filter: DossierFilterInput,
    order: DossierListOrder,
    min_position: Option<String>,
) -> ApiResult<DossierConnection> {
    {
        let viewer = viewer(context)?;
        viewer.may_list_dossiers()?;
        let api = api(context)?;
        reach(viewer, min_position.as_deref()).await?;
        let first = u32::try_from(first)
            .ok()
            .filter(|first| (1..=MAX_PAGE).contains(first))
            .ok_or_else(|| {
                ApiError::bad_input("first", format!("a page holds 1 to {MAX_PAGE} dossiers"))
            })?;
        let after = after
            .map(|cursor| {
                OpaqueCursor::<PageCursor>::decode_cursor(&cursor)
                    .map(|cursor| cursor.0)
                    .map_err(|_| ApiError::bad_input("after", "not a cursor of this list"))
            })
            .transpose()?;
        let units = viewer.scope(&api.units(), "filter.unit", filter.unit.as_deref())?;
        let statuses = filter
            .statuses
            .iter()
            .map(|status| {
                i16::try_from(*status)
                    .ok()
                    .filter(|status| (1..=10).contains(status))
                    .ok_or_else(|| {
                        ApiError::bad_input("filter.statuses", "status codes are 1 to 10")
                    })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let range = |range: Option<TimeRangeInput>| {
            range.map(|range| TimeRange {
                from: range.from,
                to: range.to,
            })
        };
        let read_filter = DossierFilter {
            units,
            ever_held: filter.ever_held,
            statuses,
            procedure_code: filter.procedure_code,
            field: filter.field,
            channel: filter.channel.map(|channel| match channel {
                Channel::InPerson => 1,
                Channel::Online => 2,
                Channel::Post => 3,
            }),
            assignee: filter.assignee,
            received: range(filter.received),
            due: range(filter.due),
            finished: range(filter.finished),
            open_only: filter.open_only,
            text: filter.text,
            identity_number: None,
            include_deleted: filter.include_deleted,
            ids: Vec::new(),
        };
        let read_order = match order {
            DossierListOrder::DueFirst => DossierOrder::DueFirst,
            DossierListOrder::NewestFirst => DossierOrder::NewestFirst,
        };
        let page = viewer
            .read_models
            .dossiers(&read_filter, read_order, first, after.as_ref())
            .await?;
        let mut connection = Connection::new(after.is_some(), page.next.is_some());
        for row in page.rows {
            let cursor = OpaqueCursor(PageCursor::of(&row, read_order));
            connection
                .edges
                .push(Edge::new(cursor, Dossier::of(row, viewer)));
        }
        Ok(connection)
    }
}

async fn by_code(
    context: &Context<'_>,
    code: String,
    min_position: Option<String>,
    reveal_personal_data: bool,
) -> ApiResult<Option<Dossier>> {
    let viewer = viewer(context)?;
    viewer.may_list_dossiers()?;
    let api = api(context)?;
    reach(viewer, min_position.as_deref()).await?;
    let Some(row) = viewer
        .read_models
        .dossier_by_code(&code, &viewer.units)
        .await?
    else {
        return Ok(None);
    };
    let unmasked = reveal(
        api,
        viewer,
        reveal_personal_data,
        &row.aggregate_id,
        "dossier",
    )
    .await?;
    let identity_number = row.identity_number.clone();
    let mut dossier = Dossier::of(row, viewer);
    if unmasked {
        dossier.identity_number = identity_number;
    }
    Ok(Some(dossier))
}
