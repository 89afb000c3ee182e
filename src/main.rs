//! The `motcua` binary: parses the command line and dispatches to a command.

mod cli;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(command) => run(command),
        None => {
            // Nothing to do yet without a subcommand: show what there is.
            Cli::command().print_help()?;
            Ok(())
        }
    }
}

/// Runs one subcommand.
fn run(command: Command) -> anyhow::Result<()> {
    match command {}
}
