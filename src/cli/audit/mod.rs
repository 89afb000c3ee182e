//! `motcua audit …`: tamper evidence for auditors.

mod checkpoint;
mod verify;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Audit {
    /// Recomputes the hash chains and the checkpoint roots; exits non-zero if
    /// anything is broken.
    Verify(verify::Args),
    /// Takes or exports Merkle checkpoints of the log.
    #[command(subcommand)]
    Checkpoint(checkpoint::Checkpoint),
}

impl Audit {
    pub async fn run(self, database_url: &str) -> anyhow::Result<()> {
        match self {
            Audit::Verify(args) => verify::run(args, database_url).await,
            Audit::Checkpoint(checkpoint) => checkpoint.run(database_url).await,
        }
    }
}
