//! The database a benchmark of the server or the projections measures:
//! one seeded earlier and reused as it is, or a fresh one dropped at the
//! end (`store-bench` makes one per system instead).

use anyhow::{Context, Result};
use sqlx::{Executor, PgConnection};

/// The database a benchmark measures: `reuse`, as it is, or a fresh one
/// named `{prefix}_{pid}`; true when it was made here.
pub async fn database_to_measure(
    admin: &mut PgConnection,
    reuse: Option<&str>,
    prefix: &str,
) -> Result<(String, bool)> {
    if let Some(name) = reuse {
        return Ok((name.to_owned(), false));
    }
    let name = format!("{prefix}_{}", std::process::id());
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .with_context(|| format!("creating database {name}"))?;
    Ok((name, true))
}

/// Drops a database made by [`database_to_measure`], even when the run
/// failed (`outcome`); reports both failures.
pub async fn drop_database(
    admin: &mut PgConnection,
    name: &str,
    outcome: Result<()>,
) -> Result<()> {
    let dropped = admin
        .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
        .await
        .with_context(|| format!("dropping database {name}"));
    outcome.and(dropped.map(|_| ()))
}
