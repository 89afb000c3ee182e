//! The unit hierarchy as tables: every version of every unit, the succession
//! edges, and the closure — each (ancestor, descendant) pair with the
//! interval over which the ancestor was above the descendant.
//!
//! Units are reference data (`DossierServices::units`), not events: the
//! tables are replaced whole from a [`UnitHierarchy`] whenever it changes.
//! `descendant_id` under `ancestor_id` at T is one indexed lookup, which is
//! what tenant scopes and reports ask.

use chrono::{DateTime, Utc};
use motcua_domain::unit::{SuccessionKind, UnitHierarchy, UnitId, UnitLevel};

use crate::error::ProjectionError;
use crate::read_models::ReadModels;

/// One closure row: `ancestor` is `depth` levels above `descendant` over
/// [`valid_from`, `valid_to`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClosureRow {
    pub ancestor: UnitId,
    pub descendant: UnitId,
    pub depth: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

/// Every closure row of `units`: each version is its own ancestor at depth
/// 0, then its parent's versions' ancestors, each clipped to the interval
/// where both hold.
pub fn closure(units: &UnitHierarchy) -> Vec<ClosureRow> {
    let mut rows = Vec::new();
    for version in units.versions() {
        let mut frontier = vec![(
            version.parent.clone(),
            1,
            version.valid_from,
            version.valid_to,
        )];
        rows.push(ClosureRow {
            ancestor: version.id.clone(),
            descendant: version.id.clone(),
            depth: 0,
            valid_from: version.valid_from,
            valid_to: version.valid_to,
        });
        // Depth is bounded by the number of versions: the hierarchy has no
        // cycle at any instant, so a chain cannot be longer.
        while let Some((Some(parent), depth, from, to)) = frontier.pop() {
            if usize::try_from(depth).unwrap_or(usize::MAX) > units.versions().len() {
                break;
            }
            for above in units.history(&parent) {
                let start = from.max(above.valid_from);
                let end = match (to, above.valid_to) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if end.is_some_and(|end| end <= start) {
                    continue;
                }
                rows.push(ClosureRow {
                    ancestor: above.id.clone(),
                    descendant: version.id.clone(),
                    depth,
                    valid_from: start,
                    valid_to: end,
                });
                frontier.push((above.parent.clone(), depth + 1, start, end));
            }
        }
    }
    rows.sort();
    rows
}

/// Replaces the unit tables with `units`, in one transaction: the same
/// statements on either backend.
macro_rules! replace_unit_tables {
    ($pool:expr, $units:expr, $closure:expr, $lock:expr) => {{
        let failed = ProjectionError::database;
        let mut tx = $pool
            .begin()
            .await
            .map_err(failed("replacing the unit tables"))?;
        if let Some(lock) = $lock {
            sqlx::query(lock)
                .execute(&mut *tx)
                .await
                .map_err(failed("waiting for another replacement of the unit tables"))?;
        }
        for table in ["unit_versions", "unit_closure", "unit_successions"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(failed("replacing the unit tables"))?;
        }
        for version in $units.versions() {
            sqlx::query(
                "INSERT INTO unit_versions (unit_id, valid_from, valid_to, name, level, parent_id) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(version.id.as_str())
            .bind(version.valid_from)
            .bind(version.valid_to)
            .bind(&version.name)
            .bind(level_name(version.level))
            .bind(version.parent.as_ref().map(UnitId::as_str))
            .execute(&mut *tx)
            .await
            .map_err(failed("writing unit versions"))?;
        }
        for row in $closure {
            sqlx::query(
                "INSERT INTO unit_closure (ancestor_id, descendant_id, depth, valid_from, valid_to) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(row.ancestor.as_str())
            .bind(row.descendant.as_str())
            .bind(row.depth)
            .bind(row.valid_from)
            .bind(row.valid_to)
            .execute(&mut *tx)
            .await
            .map_err(failed("writing the unit closure"))?;
        }
        for succession in $units.successions() {
            sqlx::query("INSERT INTO unit_successions (from_id, to_id, kind, at) VALUES ($1, $2, $3, $4)")
                .bind(succession.from.as_str())
                .bind(succession.to.as_ref().map(UnitId::as_str))
                .bind(succession_name(succession.kind))
                .bind(succession.at)
                .execute(&mut *tx)
                .await
                .map_err(failed("writing unit successions"))?;
        }
        tx.commit().await.map_err(failed("replacing the unit tables"))
    }};
}

/// A transaction-level advisory lock that orders replacements of the unit
/// tables (its key: "motcua units" as a number).
const LOCK_UNIT_TABLES: &str = "SELECT pg_advisory_xact_lock(7305673830110004)";

impl ReadModels {
    /// Replaces the unit tables with `units` (see the module's doc).
    pub async fn store_units(&self, units: &UnitHierarchy) -> Result<(), ProjectionError> {
        let rows = closure(units);
        match self {
            // Processes replace the tables at once after a change of the
            // reference data: one at a time, or one's DELETE misses the
            // other's rows. (SQLite runs one write transaction at a time.)
            ReadModels::Postgres(pool) => {
                replace_unit_tables!(pool, units, &rows, Some(LOCK_UNIT_TABLES))
            }
            ReadModels::Sqlite(pool) => replace_unit_tables!(pool, units, &rows, None::<&str>),
        }
    }

    /// The units under `ancestor` (itself included) at `at`, from the
    /// closure table.
    pub async fn units_under(
        &self,
        ancestor: &UnitId,
        at: DateTime<Utc>,
    ) -> Result<Vec<UnitId>, ProjectionError> {
        let sql = "SELECT descendant_id FROM unit_closure WHERE ancestor_id = $1 \
                   AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2) \
                   ORDER BY descendant_id";
        let failed = ProjectionError::database("reading the unit closure");
        let ids: Vec<String> = match self {
            ReadModels::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(failed)?;
                let ids = sqlx::query_scalar(sql)
                    .bind(ancestor.as_str())
                    .bind(at)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                ids
            }
            ReadModels::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(ancestor.as_str())
                .bind(at)
                .fetch_all(pool)
                .await
                .map_err(failed)?,
        };
        ids.into_iter()
            .map(|id| {
                id.parse().map_err(|_| ProjectionError::Corrupt {
                    row: format!("unit_closure/{id}"),
                    reason: "not a unit e-ID".to_owned(),
                })
            })
            .collect()
    }
}

fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
    }
}

fn succession_name(kind: SuccessionKind) -> &'static str {
    match kind {
        SuccessionKind::MergedInto => "merged_into",
        SuccessionKind::SplitFrom => "split_from",
        SuccessionKind::Renamed => "renamed",
        SuccessionKind::Moved => "moved",
        SuccessionKind::Dissolved => "dissolved",
    }
}
