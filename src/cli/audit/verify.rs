//! `motcua audit verify`: recomputes the hash chains (of every stream, or of
//! one dossier) and the root of every stored checkpoint and of an exported
//! checkpoint file, prints what it found, and fails if anything is broken.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cqrs_es::Aggregate;
use motcua_domain::dossier::Dossier;
use motcua_store::{Checkpoint, database_location};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Verify the hash chain of this dossier only, by its code
    /// (e.g. 000.01.20.H56-241105-0001); checkpoints are verified all the same.
    #[arg(long, value_name = "CODE")]
    dossier: Option<String>,
    /// Also verify this checkpoint file, as written by `motcua audit checkpoint export`.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
}

pub async fn run(args: Args, database_url: &str) -> anyhow::Result<()> {
    // A file that cannot be read is reported before any work is done.
    let exported = match &args.checkpoint {
        Some(path) => Some((path, read_checkpoint(path)?)),
        None => None,
    };
    let store = super::super::open_migrated(database_url).await?;
    let location = database_location(database_url);

    let report = match &args.dossier {
        Some(code) => {
            let Some(id) = store.dossier_stream(code).await? else {
                bail!("no dossier has the code {code:?} in the database at {location}");
            };
            let report = store.verify_stream(Dossier::TYPE, &id).await?;
            println!(
                "Hash chain of dossier {code} (stream {}/{id}): {} events",
                Dossier::TYPE,
                report.events_checked
            );
            report
        }
        None => {
            let report = store.verify_all().await?;
            println!(
                "Hash chains: {} events in {} streams",
                report.events_checked, report.streams_checked
            );
            report
        }
    };
    if report.is_intact() {
        println!("  intact");
    }
    for broken in &report.broken {
        println!("  BROKEN {broken}");
    }

    let mut failed_checkpoints = 0;
    let stored = store.checkpoints().await?;
    println!("Stored checkpoints: {}", stored.len());
    for (number, checkpoint) in (1..).zip(&stored) {
        let verdict = store.verify_checkpoint(checkpoint).await?;
        println!("  #{number} {checkpoint}: {verdict}");
        failed_checkpoints += usize::from(!verdict.holds());
    }
    if let Some((path, checkpoint)) = exported {
        let verdict = store.verify_checkpoint(&checkpoint).await?;
        println!("Exported checkpoint {}:", path.display());
        println!("  {checkpoint}: {verdict}");
        failed_checkpoints += usize::from(!verdict.holds());
    }

    if report.is_intact() && failed_checkpoints == 0 {
        println!("Verdict: intact.");
        return Ok(());
    }
    println!("Verdict: TAMPERED.");
    bail!(
        "the event log was tampered with: {} broken hash chain{}, {failed_checkpoints} checkpoint{} that no longer hold{}",
        report.broken.len(),
        if report.broken.len() == 1 { "" } else { "s" },
        if failed_checkpoints == 1 { "" } else { "s" },
        if failed_checkpoints == 1 { "s" } else { "" },
    )
}

fn read_checkpoint(path: &PathBuf) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the checkpoint file {}", path.display()))?;
    Checkpoint::from_json(&text)
        .with_context(|| format!("reading the checkpoint file {}", path.display()))
}
