//! The `projections` table: generations, checkpoints, failures and leases.
//! The same statements on both backends but for the clock, which each
//! backend reads itself (the database's clock, shared by every projector,
//! decides whose lease has run out).

use std::time::Duration;

use chrono::{DateTime, Utc};
use motcua_store::LogCursor;
// `Connection` begins a nested transaction on a scoped one's connection.
use sqlx::{Connection, Row};

use super::{GenerationState, ProjectionStatus, ReadModels};
use crate::error::ProjectionError;

const POSTGRES_NOW: &str = "now()";
const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// Tries of a generation's drop that gives way to readers (each waits at
/// most 200 ms for a lock, then 100 ms before the next): tens of seconds.
const DROP_ATTEMPTS: u32 = 100;

fn lease_until(now: &str, parameter: &str) -> String {
    if now == POSTGRES_NOW {
        format!("now() + {parameter} * interval '1 millisecond'")
    } else {
        format!(
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ({parameter} / 1000.0) || ' seconds')"
        )
    }
}

const STATUS_COLUMNS: &str = "name, generation, state, cursor_transaction, cursor_position, \
    events_applied, failed_at_position, failure, lease_owner, updated_at";

macro_rules! status_from_row {
    ($row:expr) => {{
        let row = $row;
        let read = || -> Result<ProjectionStatus, sqlx::Error> {
            let transaction: i64 = row.try_get("cursor_transaction")?;
            let failed_at: Option<i64> = row.try_get("failed_at_position")?;
            let failure: Option<String> = row.try_get("failure")?;
            let state: String = row.try_get("state")?;
            Ok(ProjectionStatus {
                name: row.try_get("name")?,
                generation: row.try_get("generation")?,
                state: match state.as_str() {
                    "live" => GenerationState::Live,
                    "building" => GenerationState::Building,
                    _ => GenerationState::Retired,
                },
                cursor: LogCursor {
                    transaction: u64::try_from(transaction).unwrap_or_default(),
                    position: row.try_get("cursor_position")?,
                },
                events_applied: row.try_get("events_applied")?,
                failure: failed_at.zip(failure),
                lease_owner: row.try_get("lease_owner")?,
                updated_at: row.try_get::<DateTime<Utc>, _>("updated_at")?,
            })
        };
        read().map_err(ProjectionError::database("reading a projection's status"))
    }};
}

/// Runs `$body` with `$pool` bound to what statements run on — SQLite's
/// pool, or on PostgreSQL a connection in a transaction confined to the
/// handle's visibility (committed after `$body`) — and `$now` to the
/// backend's clock expression.
macro_rules! on_backend {
    ($read_models:expr, |$pool:ident, $now:ident| $body:expr) => {
        match $read_models {
            ReadModels::Postgres(scoped) => {
                let $now = POSTGRES_NOW;
                let failed = ProjectionError::database("opening a scoped transaction");
                let mut scope = scoped.begin().await.map_err(failed)?;
                let $pool = &mut *scope;
                let value = $body;
                scope
                    .commit()
                    .await
                    .map_err(ProjectionError::database("committing a scoped transaction"))?;
                value
            }
            ReadModels::Sqlite($pool) => {
                let $now = SQLITE_NOW;
                $body
            }
        }
    };
}

impl ReadModels {
    /// Every generation of every projection, by name and generation.
    pub async fn statuses(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        let sql = format!("SELECT {STATUS_COLUMNS} FROM projections ORDER BY name, generation");
        on_backend!(self, |pool, _now| {
            let rows = sqlx::query(&sql)
                .fetch_all(pool)
                .await
                .map_err(ProjectionError::database("reading the projections' status"))?;
            rows.iter().map(|row| status_from_row!(row)).collect()
        })
    }

    /// The live generation of projection `name`.
    pub async fn live(&self, name: &str) -> Result<ProjectionStatus, ProjectionError> {
        self.statuses()
            .await?
            .into_iter()
            .find(|status| status.name == name && status.state == GenerationState::Live)
            .ok_or(ProjectionError::NoLiveGeneration {
                projection: name.to_owned(),
            })
    }

    /// Starts building a new generation of `name` from the start of the
    /// log, beside the live one; drops any earlier unfinished build.
    pub(crate) async fn begin_generation(
        &self,
        name: &str,
    ) -> Result<ProjectionStatus, ProjectionError> {
        for abandoned in self.statuses().await? {
            if abandoned.name == name && abandoned.state != GenerationState::Live {
                self.drop_generation(name, abandoned.generation).await?;
            }
        }
        let sql = format!(
            "INSERT INTO projections (name, generation, state) \
             SELECT $1, COALESCE(MAX(generation), 0) + 1, 'building' FROM projections WHERE name = $1 \
             RETURNING {STATUS_COLUMNS}"
        );
        let failed = ProjectionError::database;
        on_backend!(self, |pool, now| {
            let mut tx = pool
                .begin()
                .await
                .map_err(failed("starting a new generation"))?;
            let row = sqlx::query(&sql)
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map_err(failed("starting a new generation"))?;
            let status = status_from_row!(&row)?;
            if now == POSTGRES_NOW {
                sqlx::query("SELECT motcua_add_generation($1)")
                    .bind(status.generation)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("making a new generation's partitions"))?;
            }
            tx.commit()
                .await
                .map_err(failed("starting a new generation"))?;
            Ok(status)
        })
    }

    /// Makes generation `building` of `name` the live one, and the live one
    /// retired, in one transaction: readers switch from one to the other
    /// between two statements, never see a mix.
    pub(crate) async fn promote(&self, name: &str, building: i32) -> Result<(), ProjectionError> {
        let failed = ProjectionError::database;
        on_backend!(self, |pool, now| {
            let mut tx = pool.begin().await.map_err(failed("swapping generations"))?;
            if now == POSTGRES_NOW {
                // Filled with only its primary keys: the indexes and
                // statistics its readers need come now.
                sqlx::query("SELECT motcua_finish_generation($1)")
                    .bind(building)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("indexing the new generation"))?;
            }
            sqlx::query(&format!(
                "UPDATE projections SET state = 'retired', updated_at = {now} \
                 WHERE name = $1 AND state = 'live'"
            ))
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(failed("retiring the live generation"))?;
            let promoted = sqlx::query(&format!(
                "UPDATE projections SET state = 'live', updated_at = {now} \
                 WHERE name = $1 AND generation = $2 AND state = 'building'"
            ))
            .bind(name)
            .bind(building)
            .execute(&mut *tx)
            .await
            .map_err(failed("promoting the new generation"))?;
            if promoted.rows_affected() != 1 {
                return Err(ProjectionError::GenerationGone {
                    projection: name.to_owned(),
                    generation: building,
                });
            }
            tx.commit().await.map_err(failed("swapping generations"))
        })
    }

    /// Deletes a generation that is not live, rows and all: on PostgreSQL
    /// its partitions are dropped (migration 0010), on SQLite its rows deleted.
    pub(crate) async fn drop_generation(
        &self,
        name: &str,
        generation: i32,
    ) -> Result<(), ProjectionError> {
        // On PostgreSQL the drop gives way to readers rather than deadlock
        // with them (migration 0010): try again while they come and go.
        let mut attempts = 1;
        loop {
            match self.drop_generation_once(name, generation).await {
                Err(error) if error.is_lock_timeout() && attempts < DROP_ATTEMPTS => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                outcome => return outcome,
            }
        }
    }

    async fn drop_generation_once(
        &self,
        name: &str,
        generation: i32,
    ) -> Result<(), ProjectionError> {
        let failed = ProjectionError::database;
        on_backend!(self, |pool, now| {
            let mut tx = pool
                .begin()
                .await
                .map_err(failed("dropping a generation"))?;
            if now == POSTGRES_NOW {
                sqlx::query("SELECT motcua_drop_generation($1)")
                    .bind(generation)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed("dropping a generation's partitions"))?;
            } else {
                for table in super::TABLES {
                    sqlx::query(&format!("DELETE FROM {table} WHERE generation = $1"))
                        .bind(generation)
                        .execute(&mut *tx)
                        .await
                        .map_err(failed("dropping a generation's rows"))?;
                }
            }
            sqlx::query(
                "DELETE FROM projections WHERE name = $1 AND generation = $2 AND state <> 'live'",
            )
            .bind(name)
            .bind(generation)
            .execute(&mut *tx)
            .await
            .map_err(failed("dropping a generation"))?;
            tx.commit().await.map_err(failed("dropping a generation"))
        })
    }

    /// Takes or renews the lease on a generation for `owner`, for `ttl`:
    /// granted if free, expired, or already `owner`'s.
    pub(crate) async fn take_lease(
        &self,
        name: &str,
        generation: i32,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, ProjectionError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        on_backend!(self, |pool, now| {
            let sql = format!(
                "UPDATE projections SET lease_owner = $3, lease_until = {until} \
                 WHERE name = $1 AND generation = $2 AND state <> 'retired' \
                 AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until < {now})",
                until = lease_until(now, "$4"),
            );
            let taken = sqlx::query(&sql)
                .bind(name)
                .bind(generation)
                .bind(owner)
                .bind(ttl_ms)
                .execute(pool)
                .await
                .map_err(ProjectionError::database("taking a projection lease"))?;
            Ok(taken.rows_affected() == 1)
        })
    }

    /// Gives a lease up, so another projector need not wait for it to run out.
    pub(crate) async fn release_lease(
        &self,
        name: &str,
        generation: i32,
        owner: &str,
    ) -> Result<(), ProjectionError> {
        on_backend!(self, |pool, _now| {
            sqlx::query(
                "UPDATE projections SET lease_owner = NULL, lease_until = NULL \
                 WHERE name = $1 AND generation = $2 AND lease_owner = $3",
            )
            .bind(name)
            .bind(generation)
            .bind(owner)
            .execute(pool)
            .await
            .map_err(ProjectionError::database("releasing a projection lease"))?;
            Ok(())
        })
    }

    pub(crate) async fn record_failure(
        &self,
        name: &str,
        generation: i32,
        position: i64,
        reason: &str,
    ) -> Result<(), ProjectionError> {
        on_backend!(self, |pool, now| {
            sqlx::query(&format!(
                "UPDATE projections SET failed_at_position = $3, failure = $4, updated_at = {now} \
                 WHERE name = $1 AND generation = $2"
            ))
            .bind(name)
            .bind(generation)
            .bind(position)
            .bind(reason)
            .execute(pool)
            .await
            .map_err(ProjectionError::database(
                "recording a projection's failure",
            ))?;
            Ok(())
        })
    }
}

/// The statement that moves a generation's checkpoint in a batch's
/// transaction, and only if it still stands where the batch began (and,
/// for a leased run, the lease is still ours, and then renewed): $1 name,
/// $2 generation, $3/$4 the new cursor, $5 events, $6/$7 the old cursor,
/// $8 lease owner (NULL: not leased), $9 the lease's time to live in ms.
pub(super) fn move_checkpoint_sql(postgres: bool) -> String {
    let now = if postgres { POSTGRES_NOW } else { SQLITE_NOW };
    format!(
        "UPDATE projections SET cursor_transaction = $3, cursor_position = $4, \
         events_applied = events_applied + $5, failed_at_position = NULL, failure = NULL, \
         lease_until = CASE WHEN $8 IS NULL THEN lease_until ELSE {until} END, \
         updated_at = {now} \
         WHERE name = $1 AND generation = $2 AND state <> 'retired' \
         AND cursor_transaction = $6 AND cursor_position = $7 \
         AND ($8 IS NULL OR lease_owner = $8)",
        until = lease_until(now, "$9"),
    )
}
