//! `motcua projections …`: where each projection stands, and rebuilding one
//! beside the live read models.

use std::time::Instant;

use anyhow::bail;
use clap::Subcommand;
use motcua_projections::{DOSSIERS, GenerationState, Projector, ProjectorConfig, ReadModels};

#[derive(Debug, Subcommand)]
pub enum Projections {
    /// Shows each projection's generations: checkpoint, lag behind the log,
    /// who runs it, and the event it stopped on, if any.
    Status,
    /// Builds a projection afresh from the whole log beside the live one,
    /// then swaps it in; reads are served throughout.
    Rebuild {
        /// The projection to rebuild (`dossiers`: the dossier rows and the
        /// Biểu 06 counters).
        name: String,
    },
}

impl Projections {
    pub async fn run(self, database: &super::Database) -> anyhow::Result<()> {
        let store = super::open_confined(database).await?;
        let read_models = ReadModels::new(&store);
        let projector = Projector::new(store, read_models.clone(), ProjectorConfig::default());
        match self {
            Projections::Status => {
                let lags = projector.lag().await?;
                for status in read_models.statuses().await? {
                    let behind = lags
                        .iter()
                        .find(|lag| {
                            lag.projection == status.name && lag.generation == status.generation
                        })
                        .map_or_else(|| "-".to_owned(), |lag| lag.behind().to_string());
                    let state = match status.state {
                        GenerationState::Live => "live",
                        GenerationState::Building => "building",
                        GenerationState::Retired => "retired",
                    };
                    println!(
                        "{} generation {} ({state}): at position {}, {} events applied, {behind} behind, run by {}",
                        status.name,
                        status.generation,
                        status.cursor.position,
                        status.events_applied,
                        status.lease_owner.as_deref().unwrap_or("nobody"),
                    );
                    if let Some((position, reason)) = &status.failure {
                        println!("  stopped at event {position}: {reason}");
                    }
                }
                Ok(())
            }
            Projections::Rebuild { name } => {
                if name != DOSSIERS {
                    bail!("no projection named {name:?}; there is: {DOSSIERS}");
                }
                let started = Instant::now();
                let rebuilt = projector.rebuild().await?;
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "Rebuilt {name} as generation {}: {} events in {seconds:.1} s ({:.0} events/s; \
                     indexing and swapping it in took {:.1} s of it); it is now live.",
                    rebuilt.generation,
                    rebuilt.events,
                    rebuilt.events as f64 / seconds.max(f64::EPSILON),
                    rebuilt.promoted_in.as_secs_f64(),
                );
                Ok(())
            }
        }
    }
}
