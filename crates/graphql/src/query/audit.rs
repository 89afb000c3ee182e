//! What auditors read: a dossier's events straight from the log (no copy),
//! its state at any earlier point, and the verdict of its hash chain.

use async_graphql::{Context, Enum, Json, Object, ResultExt, SimpleObject};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use motcua_domain::dossier::Dossier as DossierAggregate;
use motcua_store::{AsOf, BreakKind, Replayer};
use serde_json::Value;

use crate::context::{Viewer, api, viewer};
use crate::error::{ApiError, ApiResult};
use crate::personal_data::reveal;
use crate::scalars::{mask, parse_log_position};
use crate::types::Dossier;

#[derive(Default)]
pub struct AuditQuery;

/// One event of a dossier's history, as the log holds it.
#[derive(SimpleObject)]
pub struct HistoryEvent {
    pub sequence: i64,
    /// The event's type, e.g. `DossierAccepted`.
    pub event_type: String,
    pub event_version: String,
    /// Who did it, and for which unit.
    pub actor: String,
    pub unit: String,
    pub recorded_at: DateTime<Utc>,
    /// The event's data (personal data masked for roles that do not handle
    /// dossiers).
    pub payload: Json<Value>,
    /// Its place in the global log.
    pub position: i64,
    /// Its link in the dossier's hash chain (SHA-256, hexadecimal).
    pub hash: String,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChainBreak {
    /// An event's content or hash was rewritten.
    HashMismatch,
    /// An event is missing.
    MissingSequence,
    /// An event was inserted or replaced.
    ChainMismatch,
}

/// The first broken link of a dossier's chain.
#[derive(SimpleObject)]
pub struct BrokenLink {
    pub sequence: i64,
    pub position: i64,
    pub kind: ChainBreak,
}

/// The verdict of a dossier's hash chain.
#[derive(SimpleObject)]
pub struct ChainVerdict {
    /// Every link holds: nothing was altered, removed or inserted.
    pub intact: bool,
    pub events_checked: i64,
    pub first_broken: Option<BrokenLink>,
}

#[Object]
impl AuditQuery {
    /// Every event of the dossier with this code, oldest first.
    async fn history(
        &self,
        context: &Context<'_>,
        code: String,
        #[graphql(
            default,
            desc = "Auditors and supervisors: show personal data in the payloads; the read is recorded"
        )]
        reveal_personal_data: bool,
    ) -> async_graphql::Result<Vec<HistoryEvent>> {
        history(context, &code, reveal_personal_data).await.extend()
    }

    /// The dossier as it was after its events up to the instant `at`, or up
    /// to the log position `position` (one of the two).
    async fn dossier_as_of(
        &self,
        context: &Context<'_>,
        code: String,
        at: Option<DateTime<Utc>>,
        position: Option<String>,
        #[graphql(
            default,
            desc = "Auditors and supervisors: show the applicant's personal data; the read is recorded"
        )]
        reveal_personal_data: bool,
    ) -> async_graphql::Result<Dossier> {
        as_of(context, &code, at, position, reveal_personal_data)
            .await
            .extend()
    }

    /// Recomputes the dossier's hash chain.
    async fn verify(
        &self,
        context: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<ChainVerdict> {
        verify(context, &code).await.extend()
    }
}

/// The stream of the dossier with this code, if the viewer sees it.
async fn stream_in_scope(viewer: &Viewer, code: &str) -> ApiResult<String> {
    viewer.may_list_dossiers()?;
    viewer
        .read_models
        .dossier_by_code(code, &viewer.units)
        .await?
        .map(|summary| summary.aggregate_id)
        .ok_or_else(|| ApiError::NotFound(format!("no dossier {code} among the units you see")))
}

async fn history(
    context: &Context<'_>,
    code: &str,
    reveal_personal_data: bool,
) -> ApiResult<Vec<HistoryEvent>> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let id = stream_in_scope(viewer, code).await?;
    let unmasked = reveal(api, viewer, reveal_personal_data, &id, "history").await?;
    let events = api
        .store
        .load_stream(DossierAggregate::TYPE, &id, 0)
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    Ok(events
        .into_iter()
        .map(|recorded| {
            let mut payload = recorded.event.payload;
            if !unmasked {
                mask_personal_data(&mut payload);
            }
            HistoryEvent {
                sequence: recorded.event.sequence,
                event_type: recorded.event.event_type,
                event_version: recorded.event.event_version,
                actor: recorded.event.actor,
                unit: recorded.event.unit_id,
                recorded_at: recorded.recorded_at,
                payload: Json(payload),
                position: recorded.cursor.position,
                hash: recorded
                    .hash
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect(),
            }
        })
        .collect())
}

async fn as_of(
    context: &Context<'_>,
    code: &str,
    at: Option<DateTime<Utc>>,
    position: Option<String>,
    reveal_personal_data: bool,
) -> ApiResult<Dossier> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let as_of = match (at, position) {
        (Some(at), None) => AsOf::Instant(at),
        (None, Some(position)) => AsOf::Cursor(parse_log_position("position", &position)?),
        _ => {
            return Err(ApiError::bad_input(
                "at",
                "give either `at` or `position`, not both or neither",
            ));
        }
    };
    let id = stream_in_scope(viewer, code).await?;
    let replayer: Replayer<DossierAggregate> = Replayer::new(api.store.clone(), Vec::new());
    let loaded = replayer
        .load_as_of(&id, as_of)
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    if loaded.sequence == 0 {
        return Err(ApiError::NotFound(format!(
            "dossier {code} did not exist yet then"
        )));
    }
    let unmasked = reveal(api, viewer, reveal_personal_data, &id, "dossier as of").await?;
    let mut dossier = Dossier::of_aggregate(&id, &loaded.aggregate, 0, viewer);
    if unmasked {
        dossier.identity_number = loaded
            .aggregate
            .applicant()
            .map(|applicant| applicant.identity_number.clone());
    }
    Ok(dossier)
}

async fn verify(context: &Context<'_>, code: &str) -> ApiResult<ChainVerdict> {
    let viewer = viewer(context)?;
    let api = api(context)?;
    let id = stream_in_scope(viewer, code).await?;
    let report = api
        .store
        .verify_stream(DossierAggregate::TYPE, &id)
        .await
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    Ok(ChainVerdict {
        intact: report.is_intact(),
        events_checked: i64::try_from(report.events_checked).unwrap_or(i64::MAX),
        first_broken: report.broken.first().map(|broken| BrokenLink {
            sequence: broken.sequence,
            position: broken.position,
            kind: match broken.kind {
                BreakKind::HashMismatch => ChainBreak::HashMismatch,
                BreakKind::MissingSequence { .. } => ChainBreak::MissingSequence,
                BreakKind::ChainMismatch => ChainBreak::ChainMismatch,
            },
        }),
    })
}

/// Personal data in event payloads (Decree 13/2023): masked wherever it sits.
const PERSONAL_FIELDS: [&str; 5] = ["identity_number", "birth_date", "phone", "address", "email"];

fn mask_personal_data(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if PERSONAL_FIELDS.contains(&name.as_str()) {
                    if let Value::String(text) = field {
                        *text = mask(text);
                    }
                } else {
                    mask_personal_data(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_personal_data),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn personal_data_is_masked_at_any_depth() {
        let mut payload = json!({
            "DossierSubmitted": {
                "applicant": { "name": "An", "identity_number": "001203004567", "phone": "0912345678" },
                "documents": [{ "name": "Tờ khai", "address": "12 Lê Lợi" }],
            }
        });
        mask_personal_data(&mut payload);
        let applicant = &payload["DossierSubmitted"]["applicant"];
        assert_eq!(applicant["name"], "An");
        assert_eq!(applicant["identity_number"], "*********567");
        assert_eq!(applicant["phone"], "*******678");
        assert_eq!(
            payload["DossierSubmitted"]["documents"][0]["address"],
            "******Lợi"
        );
    }
}
