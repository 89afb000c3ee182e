//! The subscription root: `dossierChanged(unit)`, a unit's live queue.
//! It follows the log; for each dossier event it waits for the projector
//! to apply it, then sends the dossier's row — only if the subscriber sees
//! the dossier's holder (the same tenant scope as every query).

use std::time::Duration;

use async_graphql::{Context, ResultExt, Subscription};
use cqrs_es::Aggregate;
use futures_util::Stream;
use motcua_domain::dossier::Dossier as DossierAggregate;
use motcua_projections::DOSSIERS;
use motcua_projections::dossiers::{DossierFilter, DossierOrder, MAX_PAGE};

use crate::context::{api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::types::Dossier;

/// Events read from the log at a time by one subscription.
const PAGE: u32 = 100;
/// How often a subscription polls the log when no append wakes it.
const POLL: Duration = Duration::from_secs(1);
/// How long it waits for the projector to apply what it read.
const PROJECTED_WITHIN: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Each change of a dossier held by `unit` or a unit under it (by
    /// default, any unit you see), as soon as the read models have it.
    async fn dossier_changed(
        &self,
        context: &Context<'_>,
        unit: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Dossier> + use<>> {
        changes(context, unit).await.extend()
    }
}

async fn changes(
    context: &Context<'_>,
    unit: Option<String>,
) -> ApiResult<impl Stream<Item = Dossier> + use<>> {
    let viewer = viewer(context)?.clone();
    viewer.may_list_dossiers()?;
    let api = api(context)?.clone();
    let units = viewer.scope(&api.units(), "unit", unit.as_deref())?;
    let head = api
        .store
        .head()
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    let tail = api.store.tail(head, PAGE, POLL);
    let state = (tail, api, viewer, units, Vec::<Dossier>::new());
    Ok(futures_util::stream::unfold(
        state,
        |(mut tail, api, viewer, units, mut ready)| async move {
            loop {
                if let Some(dossier) = ready.pop() {
                    return Some((dossier, (tail, api, viewer, units, ready)));
                }
                let entries = match tail.next().await {
                    Ok(entries) => entries,
                    Err(error) => {
                        tracing::warn!(%error, "a subscription lost the log; it ends");
                        return None;
                    }
                };
                let Some(last) = entries.last().map(|entry| entry.cursor) else {
                    continue;
                };
                let mut ids: Vec<String> = entries
                    .into_iter()
                    .filter(|entry| entry.aggregate_type == DossierAggregate::TYPE)
                    .map(|entry| entry.aggregate_id)
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                if ids.is_empty() {
                    continue;
                }
                if let Err(error) = viewer
                    .read_models
                    .wait_for(DOSSIERS, last, PROJECTED_WITHIN)
                    .await
                {
                    tracing::warn!(%error, "a subscription waited for the projector in vain");
                }
                for chunk in ids.chunks(MAX_PAGE as usize) {
                    let filter = DossierFilter {
                        units: units.clone(),
                        include_deleted: true,
                        ids: chunk.to_vec(),
                        ..DossierFilter::default()
                    };
                    match viewer
                        .read_models
                        .dossiers(&filter, DossierOrder::DueFirst, MAX_PAGE, None)
                        .await
                    {
                        // Sent in order: `ready` is popped from the end.
                        Ok(page) => ready.extend(
                            page.rows
                                .into_iter()
                                .rev()
                                .map(|row| Dossier::of(row, &viewer)),
                        ),
                        Err(error) => {
                            tracing::warn!(%error, "a subscription cannot read dossiers; it ends");
                            return None;
                        }
                    }
                }
            }
        },
    ))
}
