//! The reference data (units, procedures, declared days) as the rest of a
//! process sees them: the services dossier commands are decided with, and
//! the unit tables that reports and row-level security read. Both follow
//! the `ReferenceData` stream: loaded at start (after importing a province
//! into an empty stream, if given one), and again whenever the log shows a
//! change, made by this process or by another.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::Aggregate;
use motcua_domain::DossierServices;
use motcua_domain::calendar::OfficeHours;
use motcua_domain::dossier::Dossier;
use motcua_domain::reference::{ReferenceChange, ReferenceCommand, ReferenceData};
use motcua_domain::role::{Principal, Role};
use motcua_store::{
    CommandContext, CommandError, CommandPath, CommandPathConfig, EventStore, Loaded,
};
use tokio::sync::Mutex;

use crate::error::ProjectionError;
use crate::read_models::ReadModels;

/// Who imports a province on a first start.
const IMPORTER: &str = "motcua";

/// Keeps the reference data of one process current.
pub struct ReferenceKeeper {
    store: EventStore,
    commands: CommandPath<ReferenceData>,
    dossiers: Arc<CommandPath<Dossier>>,
    read_models: ReadModels,
    /// The version of the reference stream in force here, locked while a
    /// version is adopted (so that an older one never replaces a newer);
    /// the follower skips what this process adopted already (its own
    /// changes).
    adopted: Mutex<i64>,
}

impl ReferenceKeeper {
    /// Loads the reference data from `store`; on an empty stream, first
    /// imports `import` (a [`ReferenceChange::Import`]) if given. Fails if
    /// the stream is empty and nothing is given: dossiers cannot be decided
    /// without units and procedures.
    pub async fn open(
        store: &EventStore,
        import: Option<ReferenceChange>,
    ) -> Result<Self, ProjectionError> {
        let commands: CommandPath<ReferenceData> = CommandPath::new(
            store.clone(),
            (),
            Vec::new(),
            // One stream, rarely changed: kept in memory between commands,
            // and a snapshot every few events keeps a start from replaying
            // thousands of procedures.
            CommandPathConfig {
                snapshot_every: 10,
                cache_capacity: 1,
                ..CommandPathConfig::default()
            },
        );
        let mut loaded = commands.load(ReferenceData::STREAM).await?;
        if loaded.aggregate.is_empty() {
            let Some(import) = import else {
                return Err(ProjectionError::Reference(
                    "the reference data (units, procedures, calendar) are empty".to_owned(),
                ));
            };
            loaded = import_into(&commands, import).await?;
        }
        let services = services_of(&loaded.aggregate)?;
        let read_models = ReadModels::new(store);
        read_models.store_units(&services.units).await?;
        let dossiers = Arc::new(CommandPath::new(
            store.clone(),
            services,
            Vec::new(),
            CommandPathConfig::default(),
        ));
        Ok(Self {
            store: store.clone(),
            commands,
            dossiers,
            read_models,
            adopted: Mutex::new(loaded.sequence),
        })
    }

    /// Where the reference data's commands run.
    pub fn commands(&self) -> &CommandPath<ReferenceData> {
        &self.commands
    }

    /// Where dossier commands run, with the current reference data.
    pub fn dossiers(&self) -> &Arc<CommandPath<Dossier>> {
        &self.dossiers
    }

    /// The reference data dossiers are decided with now.
    pub fn services(&self) -> DossierServices {
        self.dossiers.services()
    }

    /// Makes `data`, the stream at version `sequence`, current: for
    /// dossier commands and in the unit tables. A version no newer than the
    /// one in force is left alone.
    pub async fn adopt(&self, data: &ReferenceData, sequence: i64) -> Result<(), ProjectionError> {
        let mut adopted = self.adopted.lock().await;
        if sequence <= *adopted {
            return Ok(());
        }
        let services = services_of(data)?;
        let current = self.services().units;
        // Most changes (days, procedures) leave the unit tables as they are.
        if current.versions() != services.units.versions()
            || current.successions() != services.units.successions()
        {
            self.read_models.store_units(&services.units).await?;
        }
        self.dossiers.replace_services(services);
        *adopted = sequence;
        Ok(())
    }

    /// Reads the reference data again and makes them current.
    pub async fn reload(&self) -> Result<(), ProjectionError> {
        let loaded = self.commands.load(ReferenceData::STREAM).await?;
        self.adopt(&loaded.aggregate, loaded.sequence).await
    }

    /// Follows the log until `stop` completes, reloading after every
    /// change of the reference data (another process's included).
    pub async fn follow(&self, stop: impl Future<Output = ()>) {
        const PAGE: u32 = 1000;
        const POLL: Duration = Duration::from_secs(2);
        let head = match self.store.head().await {
            Ok(head) => head,
            Err(error) => {
                tracing::warn!(%error, "cannot follow the reference data");
                return;
            }
        };
        let mut tail = self.store.tail(head, PAGE, POLL);
        tokio::pin!(stop);
        loop {
            let entries = tokio::select! {
                () = &mut stop => return,
                entries = tail.next() => entries,
            };
            let adopted = *self.adopted.lock().await;
            let changed = match entries {
                Ok(entries) => entries.iter().any(|entry| {
                    entry.aggregate_type == ReferenceData::TYPE && entry.sequence > adopted
                }),
                Err(error) => {
                    tracing::warn!(%error, "lost the log; reloading the reference data");
                    true
                }
            };
            if changed {
                self.reload_until_done(&mut stop).await;
            }
        }
    }

    /// Reloads, retrying every few seconds while it fails (the database is
    /// away) until it works or `stop` completes.
    async fn reload_until_done(&self, stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>) {
        const RETRY: Duration = Duration::from_secs(2);
        loop {
            match self.reload().await {
                Ok(()) => return,
                Err(error) => {
                    tracing::error!(%error, "could not reload the reference data; retrying")
                }
            }
            tokio::select! {
                () = stop.as_mut() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }
}

/// The services of `data`, counted in the standard office hours.
fn services_of(data: &ReferenceData) -> Result<DossierServices, ProjectionError> {
    data.services(OfficeHours::default())
        .map_err(|error| ProjectionError::Reference(error.to_string()))
}

async fn import_into(
    commands: &CommandPath<ReferenceData>,
    import: ReferenceChange,
) -> Result<Loaded<ReferenceData>, ProjectionError> {
    let root = match &import {
        ReferenceChange::Import { versions, .. } => versions
            .iter()
            .find(|version| version.parent.is_none())
            .map(|version| version.id.clone()),
        _ => None,
    }
    .ok_or_else(|| ProjectionError::Reference("an import without a root unit".to_owned()))?;
    let command = ReferenceCommand {
        by: Principal {
            user_id: IMPORTER.to_owned(),
            unit: root.clone(),
            roles: vec![Role::Administrator],
        },
        change: import,
    };
    let context = CommandContext {
        unit: root.to_string(),
        actor: IMPORTER.to_owned(),
        idempotency: None,
    };
    match commands
        .execute(ReferenceData::STREAM, command, &context)
        .await
    {
        Ok(committed) => Ok(Loaded {
            aggregate: committed.aggregate,
            sequence: committed.sequence,
            head_hash: None,
        }),
        // Another process imported first: take what it wrote.
        Err(CommandError::Rejected { .. } | CommandError::Conflict { .. }) => {
            Ok(commands.load(ReferenceData::STREAM).await?)
        }
        Err(CommandError::CommandIdReused { command_id }) => Err(ProjectionError::Reference(
            format!("command id {command_id} reused"),
        )),
        Err(CommandError::Store(error)) => Err(error.into()),
    }
}
