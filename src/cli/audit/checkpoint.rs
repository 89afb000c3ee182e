//! `motcua audit checkpoint …`: takes Merkle checkpoints of the log and
//! exports them as files for auditors to keep outside the database.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use motcua_store::database_location;

#[derive(Debug, Subcommand)]
pub enum Checkpoint {
    /// Takes a checkpoint now and stores it in the database.
    Create,
    /// Writes the latest stored checkpoint as a JSON file to keep outside
    /// the database. Takes one first if none is stored; refuses one that no
    /// longer verifies.
    Export {
        /// Where to write it; standard output if not given.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

impl Checkpoint {
    pub async fn run(self, database_url: &str) -> anyhow::Result<()> {
        let store = super::super::open_migrated(database_url).await?;
        match self {
            Checkpoint::Create => {
                let checkpoint = store.create_checkpoint().await?;
                println!("Took a {checkpoint}.");
            }
            Checkpoint::Export { output } => {
                let checkpoint = match store.latest_checkpoint().await? {
                    Some(checkpoint) => checkpoint,
                    None => {
                        let checkpoint = store.create_checkpoint().await?;
                        eprintln!("No checkpoint was stored: took a {checkpoint}.");
                        checkpoint
                    }
                };
                // An exported root vouches for the log: never export one that
                // no longer matches it.
                let verdict = store.verify_checkpoint(&checkpoint).await?;
                if !verdict.holds() {
                    bail!(
                        "the latest {checkpoint} of the database at {} no longer verifies ({verdict}); run `motcua audit verify`",
                        database_location(database_url)
                    );
                }
                let json = checkpoint.to_json()?;
                match output {
                    Some(path) => {
                        std::fs::write(&path, json).with_context(|| {
                            format!("writing the checkpoint file {}", path.display())
                        })?;
                        println!("Exported the {checkpoint} to {}.", path.display());
                    }
                    None => print!("{json}"),
                }
            }
        }
        Ok(())
    }
}
