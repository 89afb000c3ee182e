//! The `motcua` binary: parses the command line and dispatches to a command.

mod cli;

use std::process::ExitCode;

use crate::cli::{Cli, Command, Database};

// mimalloc rather than glibc's malloc, whose malloc/free and chunk
// consolidation took half the projector's CPU in a rebuild
// (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let started = Cli::parse_with_config().and_then(|cli| {
        Ok((
            cli.command.map_or_else(Command::default_serve, Ok)?,
            Database {
                url: cli.database_url,
                role: cli.database_role,
            },
        ))
    });
    let (command, database) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("error: {}", cli::report(&error));
            return ExitCode::from(2);
        }
    };
    match command.run(&database).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::report(&error));
            ExitCode::FAILURE
        }
    }
}
