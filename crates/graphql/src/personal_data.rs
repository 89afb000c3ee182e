//! Reading applicants' personal data as an auditor or supervisor: allowed,
//! and each read is itself recorded — an event in the dossier's
//! `PersonalDataRead` stream (who, as what, for which unit, what was read),
//! appended before the data is returned. Roles that handle dossiers see it
//! anyway; leaders never do.

use chrono::Utc;
use motcua_domain::role::Role;
use motcua_store::{NewEvent, StoreError};
use serde_json::json;

use crate::context::{ApiContext, Viewer};
use crate::error::{ApiError, ApiResult};

/// The stream type of the record of reads.
pub const PERSONAL_DATA_READ: &str = "PersonalDataRead";

/// Roles that may ask for personal data, at the price of a record.
const RECORDED_READERS: [Role; 2] = [Role::Auditor, Role::Supervisor];

/// Appends attempts before giving up when readers of one dossier race.
const ATTEMPTS: u32 = 5;

/// Whether `viewer` gets personal data unmasked on this request: handlers
/// always; auditors and supervisors when they ask, once the read of
/// `dossier_id` (`what`) is recorded; anyone else asking is refused.
pub async fn reveal(
    api: &ApiContext,
    viewer: &Viewer,
    reveal: bool,
    dossier_id: &str,
    what: &str,
) -> ApiResult<bool> {
    if viewer.sees_personal_data() {
        return Ok(true);
    }
    if !reveal {
        return Ok(false);
    }
    if !viewer.principal.has_any(&RECORDED_READERS) {
        return Err(ApiError::Forbidden(
            "only roles that handle dossiers, auditors and supervisors read personal data"
                .to_owned(),
        ));
    }
    for _ in 0..ATTEMPTS {
        let version = api
            .store
            .stream_version(PERSONAL_DATA_READ, dossier_id)
            .await
            .map_err(|error| ApiError::Internal(Box::new(error)))?;
        let roles: Vec<String> = viewer
            .principal
            .roles
            .iter()
            .filter_map(|role| serde_json::to_value(role).ok())
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect();
        let event = NewEvent {
            aggregate_type: PERSONAL_DATA_READ.to_owned(),
            aggregate_id: dossier_id.to_owned(),
            sequence: version + 1,
            event_type: "PersonalDataRead".to_owned(),
            event_version: "1.0".to_owned(),
            payload: json!({ "read": what, "roles": roles, "at": Utc::now() }),
            metadata: json!({ "unit": viewer.principal.unit.as_str(), "actor": viewer.principal.user_id }),
            unit_id: viewer.principal.unit.to_string(),
            actor: viewer.principal.user_id.clone(),
            command_id: None,
        };
        match api.store.append(&[event], None).await {
            Ok(_) => return Ok(true),
            Err(StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(ApiError::Internal(Box::new(error))),
        }
    }
    Err(ApiError::Conflict(
        "too many reads of this dossier at once; retry".to_owned(),
    ))
}
