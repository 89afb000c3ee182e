//! `motcua migrate`: applies the migrations this build carries and says
//! which, or that there were none to apply.

use anyhow::Context;
use motcua_store::database_location;

pub async fn run(database_url: &str) -> anyhow::Result<()> {
    let store = super::open(database_url).await?;
    let location = database_location(database_url);
    let backend = store.backend();
    // Refuses, with the version, a database a newer build migrated.
    let status = store
        .migration_status()
        .await
        .with_context(|| format!("reading the migrations of the database at {location}"))?;
    if status.pending.is_empty() {
        println!(
            "The {backend} database at {location} is up to date ({} migrations applied).",
            status.applied.len()
        );
        return Ok(());
    }
    store
        .migrate()
        .await
        .with_context(|| format!("migrating the {backend} database at {location}"))?;
    println!(
        "Applied {} migration{} to the {backend} database at {location}:",
        status.pending.len(),
        if status.pending.len() == 1 { "" } else { "s" }
    );
    for migration in &status.pending {
        println!("  {:04} {}", migration.version, migration.description);
    }
    Ok(())
}
