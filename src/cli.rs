//! The command-line interface: argument parsing only, no behaviour.
//!
//! Each subcommand gets a variant of [`Command`] and, once it does real work,
//! its own module under `src/cmd/` with a `run` function (the mini-redis
//! layout). `main` only parses and dispatches.

use clap::{Parser, Subcommand};

/// motcua: an event-sourced, multi-tenant backend for Vietnamese
/// administrative-procedure dossiers (một cửa).
#[derive(Debug, Parser)]
#[command(name = "motcua", version)]
pub struct Cli {
    /// What to do; without one, motcua prints this help.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands of motcua. None exist yet: the server and the
/// administrative commands are added here as they are built.
#[derive(Debug, Subcommand)]
pub enum Command {}
