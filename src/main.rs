//! The `motcua` binary: parses the command line and dispatches to a command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command.map_or_else(Command::default_serve, Ok) {
        Ok(command) => command,
        Err(error) => error.exit(),
    };
    match command.run(&cli.database_url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::report(&error));
            ExitCode::FAILURE
        }
    }
}
