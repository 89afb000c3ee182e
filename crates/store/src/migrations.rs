//! Which of this build's migrations a database has, so that a binary can
//! refuse to start on a database it does not fit, with a message that says
//! what to do.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::migrate::Migrator;

use crate::error::StoreError;
use crate::store::EventStore;

/// The migrations of this build, compiled in; [`EventStore::migrate`] applies them.
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");
pub(crate) static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");

const OPERATION: &str = "read the applied migrations";

/// One migration of this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

/// This build's migrations, split by whether the database has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<MigrationInfo>,
    pub pending: Vec<MigrationInfo>,
}

/// A row of sqlx's `_sqlx_migrations`.
struct Applied {
    description: String,
    success: bool,
    checksum: Vec<u8>,
}

impl EventStore {
    /// This build's migrations, applied and pending, in version order.
    ///
    /// Fails with [`StoreError::UnknownMigration`] if the database has a
    /// migration this build does not carry (a newer build migrated it),
    /// [`StoreError::FailedMigration`] if one did not complete, and
    /// [`StoreError::ModifiedMigration`] if an applied one differs from this
    /// build's.
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let backend = self.backend();
        let (migrator, mut applied) = match self {
            EventStore::Postgres(store) => (&POSTGRES, applied_postgres(store.pool()).await?),
            EventStore::Sqlite(store) => (&SQLITE, applied_sqlite(store.pool()).await?),
        };
        let mut status = MigrationStatus {
            applied: Vec::new(),
            pending: Vec::new(),
        };
        for migration in migrator.iter() {
            let info = MigrationInfo {
                version: migration.version,
                description: migration.description.to_string(),
            };
            match applied.remove(&migration.version) {
                None => status.pending.push(info),
                Some(row) if !row.success => {
                    return Err(StoreError::FailedMigration {
                        backend,
                        version: info.version,
                        description: info.description,
                    });
                }
                Some(row) if row.checksum != *migration.checksum => {
                    return Err(StoreError::ModifiedMigration {
                        backend,
                        version: info.version,
                        description: info.description,
                    });
                }
                Some(_) => status.applied.push(info),
            }
        }
        // What is left, this build does not know.
        if let Some((&version, row)) = applied.iter().min_by_key(|(version, _)| **version) {
            return Err(StoreError::UnknownMigration {
                backend,
                version,
                description: row.description.clone(),
            });
        }
        Ok(status)
    }

    /// Succeeds only if the database has exactly this build's migrations:
    /// what a binary checks before it serves. Fails like
    /// [`EventStore::migration_status`], and with [`StoreError::NotMigrated`]
    /// (naming the pending versions) if some are not applied yet.
    pub async fn check_migrations(&self) -> Result<(), StoreError> {
        let status = self.migration_status().await?;
        if status.pending.is_empty() {
            Ok(())
        } else {
            Err(StoreError::NotMigrated {
                backend: self.backend(),
                pending: status.pending.iter().map(|info| info.version).collect(),
            })
        }
    }
}

async fn applied_postgres(pool: &sqlx::PgPool) -> Result<HashMap<i64, Applied>, StoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(StoreError::database(OPERATION))?;
    if !exists {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query("SELECT version, description, success, checksum FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
        .map_err(StoreError::database(OPERATION))?;
    rows.iter().map(applied_row).collect()
}

async fn applied_sqlite(pool: &sqlx::SqlitePool) -> Result<HashMap<i64, Applied>, StoreError> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .map_err(StoreError::database(OPERATION))?;
    if !exists {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query("SELECT version, description, success, checksum FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
        .map_err(StoreError::database(OPERATION))?;
    rows.iter().map(applied_row).collect()
}

fn applied_row<R: Row>(row: &R) -> Result<(i64, Applied), StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let unreadable = |source| StoreError::Database {
        operation: OPERATION,
        source,
    };
    Ok((
        row.try_get("version").map_err(unreadable)?,
        Applied {
            description: row.try_get("description").map_err(unreadable)?,
            success: row.try_get("success").map_err(unreadable)?,
            checksum: row.try_get("checksum").map_err(unreadable)?,
        },
    ))
}
