//! The `motcua` binary: parses the command line and dispatches to a command.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // Nothing to do without a subcommand: show what there is.
        return match Cli::command().print_help() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    };
    match command.run(&cli.database_url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::report(&error));
            ExitCode::FAILURE
        }
    }
}
