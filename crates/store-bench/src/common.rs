//! What the benchmarks of this package share: throwaway databases beside
//! the one given, and a description of the machine they ran on.

use anyhow::{Context, Result};
use sqlx::{Executor, PgConnection, Row};

// The allocator of the `motcua` binary (src/main.rs), so that what is
// measured here is what the server does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `postgres://user@host:port/db?query` with another database.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_end = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Prints the cores, CPU, memory and load of this machine, and `settings`
/// of the PostgreSQL `admin` is connected to.
pub async fn print_machine(admin: &mut PgConnection, settings: &[&str]) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map_or("unknown CPU", |rest| {
            rest.trim_start_matches([' ', '\t', ':'])
        });
    let memory_gib = kib_field("/proc/meminfo", "MemTotal:").map_or_else(
        || "unknown memory".to_owned(),
        |kib| format!("{:.1} GiB RAM", kib / 1024.0 / 1024.0),
    );
    let mut shown = Vec::new();
    for setting in settings {
        let row = admin
            .fetch_one(format!("SHOW {setting}").as_str())
            .await
            .with_context(|| format!("SHOW {setting}"))?;
        let value: String = row.try_get(0)?;
        shown.push(format!("{setting}={value}"));
    }
    println!(
        "machine: {cores} cores ({cpu}), {memory_gib}, load average {}",
        load_average()
    );
    println!("postgresql: {}", shown.join(", "));
    Ok(())
}

/// The 1, 5 and 15 minute load averages: other work on the machine moves
/// absolute figures.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A "NAME: N kB" line of a `/proc` file (`/proc/meminfo`,
/// `/proc/PID/status`), in KiB.
pub fn kib_field(path: &str, name: &str) -> Option<f64> {
    std::fs::read_to_string(path).ok().and_then(|text| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    })
}
