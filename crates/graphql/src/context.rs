//! What every resolver reads: the shared [`ApiContext`], and the
//! [`Viewer`] — the principal of this request and the units they see.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use motcua_domain::DossierServices;
use motcua_domain::dossier::Dossier;
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::{UnitHierarchy, UnitId};
use motcua_projections::reference::ReferenceKeeper;
use motcua_projections::{ReadModels, Visibility};
use motcua_store::{CommandPath, EventStore};

use crate::error::{ApiError, ApiResult};

/// Shared by every request.
#[derive(Clone)]
pub struct ApiContext {
    /// The read models as no one sees them (no row): each request reads
    /// through its [`Viewer`]'s, confined to the viewer's units.
    pub read_models: ReadModels,
    /// The reference data (the unit hierarchy with its history, the
    /// procedure catalog, the calendars), kept current as administrators
    /// change them; and where dossier commands run with them.
    pub reference: Arc<ReferenceKeeper>,
    /// Dossier codes come from the store's daily counters.
    pub store: EventStore,
    /// The open subscription sockets, closed at shutdown.
    pub sockets: crate::Sockets,
    /// Counters for `/metrics`.
    pub telemetry: Arc<crate::Telemetry>,
}

impl ApiContext {
    /// The reference data now (a request keeps the one it started with).
    pub fn services(&self) -> DossierServices {
        self.reference.services()
    }

    pub fn units(&self) -> Arc<UnitHierarchy> {
        self.services().units
    }

    /// Where mutations run the Dossier aggregate's commands.
    pub fn commands(&self) -> &CommandPath<Dossier> {
        self.reference.dossiers()
    }
}

/// Roles that handle dossiers and so see applicants' personal data.
const HANDLING_ROLES: [Role; 3] = [
    Role::ReceptionOfficer,
    Role::Specialist,
    Role::DepartmentHead,
];

/// The principal of a request and what they may see, fixed when the
/// request starts.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub principal: Principal,
    /// The units whose dossiers and counts they see: their unit and the
    /// units under it; for a supervisor, the whole province.
    pub units: Vec<UnitId>,
    pub now: DateTime<Utc>,
    /// The read models confined to those units: on PostgreSQL, row-level
    /// security holds every read to them whatever a resolver asks (the
    /// second wall behind the resolvers' own scoping).
    pub read_models: ReadModels,
}

impl Viewer {
    /// The viewer of `principal` at `now`. A principal whose unit is not in
    /// force sees nothing and is refused.
    pub fn new(principal: Principal, api: &ApiContext, now: DateTime<Utc>) -> ApiResult<Self> {
        let units = &*api.units();
        let scope_root = if principal.roles.contains(&Role::Supervisor) {
            root_of(units, &principal.unit, now)
        } else {
            principal.unit.clone()
        };
        let visible = units.visible_units(&scope_root, now);
        if visible.is_empty() {
            return Err(ApiError::Forbidden(format!(
                "unit {} is not in force",
                principal.unit
            )));
        }
        let visibility = Visibility::under(units, &scope_root, now);
        Ok(Viewer {
            principal,
            units: visible,
            now,
            read_models: api.read_models.visible_to(&visibility),
        })
    }

    pub fn sees(&self, unit: &UnitId) -> bool {
        self.units.contains(unit)
    }

    /// The units a list covers: all the viewer sees, or those under `unit`
    /// (given as input `field`), which the viewer must see.
    pub fn scope(
        &self,
        units: &UnitHierarchy,
        field: &'static str,
        unit: Option<&str>,
    ) -> ApiResult<Vec<UnitId>> {
        let Some(unit) = unit else {
            return Ok(self.units.clone());
        };
        let unit = crate::scalars::unit_id(field, unit)?;
        if !self.sees(&unit) {
            return Err(ApiError::Forbidden(format!("you do not see unit {unit}")));
        }
        Ok(units.visible_units(&unit, self.now))
    }

    /// Whether applicants' personal data is shown unmasked.
    pub fn sees_personal_data(&self) -> bool {
        self.principal.has_any(&HANDLING_ROLES)
    }

    /// Refuses roles that read no dossier lists (the portal account acts
    /// for applicants, who see their own dossiers through the portal).
    pub fn may_list_dossiers(&self) -> ApiResult<()> {
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| *role != Role::Portal)
            .collect();
        if self.principal.has_any(&readers) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "your roles do not read dossier lists".to_owned(),
            ))
        }
    }
}

/// The top of the tree `unit` sits in at `at`.
fn root_of(units: &UnitHierarchy, unit: &UnitId, at: DateTime<Utc>) -> UnitId {
    let mut current = unit.clone();
    while let Some(parent) = units
        .version_at(&current, at)
        .and_then(|version| version.parent.clone())
    {
        current = parent;
    }
    current
}

/// How long a query given `minPosition` waits for the read models.
const READ_YOUR_WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits until the read models include `min_position` (a mutation's
/// position), if given; CONFLICT (retry) if they do not within a few seconds.
pub(crate) async fn reach(viewer: &Viewer, min_position: Option<&str>) -> ApiResult<()> {
    let Some(text) = min_position else {
        return Ok(());
    };
    let cursor = crate::scalars::parse_log_position("minPosition", text)?;
    match viewer
        .read_models
        .wait_for(motcua_projections::DOSSIERS, cursor, READ_YOUR_WRITE_WAIT)
        .await
    {
        Ok(()) => Ok(()),
        Err(motcua_projections::ProjectionError::WaitTimedOut { .. }) => Err(ApiError::Conflict(
            "the read models have not reached minPosition yet; retry".to_owned(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// The viewer of this request, or UNAUTHENTICATED.
pub(crate) fn viewer<'a>(context: &async_graphql::Context<'a>) -> ApiResult<&'a Viewer> {
    context
        .data_opt::<Viewer>()
        .ok_or(ApiError::Unauthenticated)
}

pub(crate) fn api<'a>(context: &async_graphql::Context<'a>) -> ApiResult<&'a ApiContext> {
    context
        .data::<ApiContext>()
        .map_err(|error| ApiError::Internal(error.message.into()))
}
