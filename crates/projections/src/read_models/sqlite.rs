//! The read models on SQLite: the same tables and the same sums as on
//! PostgreSQL, written row by row (one process, statements prepared once).

use std::sync::LazyLock;

use chrono::NaiveDate;
use sqlx::{Row, SqlitePool};

use super::postgres::counter_sums_sql;
use super::{
    BatchWrite, COUNTER_COLUMNS, COUNTER_TABLES, CounterSums, CounterTable, DOSSIER_COLUMNS,
    DossierColumns, PeriodSplit,
};
use crate::error::ProjectionError;

pub(super) async fn dossier_states(
    pool: &SqlitePool,
    generation: i32,
    ids: &[String],
) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
    let ids = serde_json::to_string(ids).map_err(|error| ProjectionError::Corrupt {
        row: "dossier ids".to_owned(),
        reason: error.to_string(),
    })?;
    let rows = sqlx::query(
        "SELECT aggregate_id, state FROM dossiers \
         WHERE generation = $1 AND aggregate_id IN (SELECT value FROM json_each($2))",
    )
    .bind(generation)
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(ProjectionError::database("reading dossier rows"))?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get::<String, _>(1)?.into_bytes())))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ProjectionError::database("reading dossier rows"))
}

static UPSERT_DOSSIER: LazyLock<String> = LazyLock::new(|| {
    let parameters: Vec<String> = (1..=DOSSIER_COLUMNS.len() + 1)
        .map(|index| format!("${index}"))
        .collect();
    let updates: Vec<String> = DOSSIER_COLUMNS[1..]
        .iter()
        .map(|column| format!("{column} = excluded.{column}"))
        .collect();
    format!(
        "INSERT INTO dossiers (generation, {}) VALUES ({}) \
         ON CONFLICT (generation, aggregate_id) DO UPDATE SET {}",
        DOSSIER_COLUMNS.join(", "),
        parameters.join(", "),
        updates.join(", "),
    )
});

fn upsert_counters(table: &str, keys: &[&str]) -> String {
    let parameters: Vec<String> = (1..=keys.len() + COUNTER_COLUMNS.len() + 1)
        .map(|index| format!("${index}"))
        .collect();
    let updates: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|column| format!("{column} = {column} + excluded.{column}"))
        .collect();
    format!(
        "INSERT INTO {table} (generation, {keys}, {counters}) VALUES ({parameters}) \
         ON CONFLICT (generation, {keys}) DO UPDATE SET {updates}",
        keys = keys.join(", "),
        counters = COUNTER_COLUMNS.join(", "),
        parameters = parameters.join(", "),
        updates = updates.join(", "),
    )
}

static MOVE_CHECKPOINT: LazyLock<String> =
    LazyLock::new(|| super::control::move_checkpoint_sql(false));

/// The upsert of each of [`COUNTER_TABLES`], in its order.
static UPSERT_COUNTERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    COUNTER_TABLES
        .iter()
        .map(|shape| upsert_counters(shape.name, shape.key_columns()))
        .collect()
});

pub(super) async fn write(pool: &SqlitePool, batch: &BatchWrite) -> Result<(), ProjectionError> {
    let write_failed = ProjectionError::database;
    let mut tx = pool
        .begin()
        .await
        .map_err(write_failed("starting a projection batch"))?;
    let moved = sqlx::query(&MOVE_CHECKPOINT)
        .bind(batch.projection)
        .bind(batch.generation)
        .bind(i64::try_from(batch.to.transaction).unwrap_or(i64::MAX))
        .bind(batch.to.position)
        .bind(batch.events)
        .bind(i64::try_from(batch.from.transaction).unwrap_or(i64::MAX))
        .bind(batch.from.position)
        .bind(batch.lease_owner.as_deref())
        .bind(i64::try_from(batch.lease_ttl.as_millis()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(write_failed("moving a projection's checkpoint"))?;
    if moved.rows_affected() != 1 {
        return Err(ProjectionError::CheckpointMoved {
            projection: batch.projection,
        });
    }

    for dossier in &batch.dossiers {
        let row = DossierColumns::of(&dossier.state)?;
        sqlx::query(&UPSERT_DOSSIER)
            .bind(batch.generation)
            .bind(&dossier.aggregate_id)
            .bind(dossier.last_position)
            .bind(row.code)
            .bind(row.procedure_code)
            .bind(row.procedure_version)
            .bind(row.field)
            .bind(row.applicant_name)
            .bind(row.identity_number)
            .bind(row.receiving_unit)
            .bind(row.holder_unit)
            .bind(row.status)
            .bind(row.step)
            .bind(row.department)
            .bind(row.assignee)
            .bind(row.channel)
            .bind(row.submitted_at)
            .bind(row.received_at)
            .bind(row.due_at)
            .bind(row.appointment_at)
            .bind(row.step_due_at)
            .bind(row.finished_at)
            .bind(row.closed_at)
            .bind(row.timeliness)
            .bind(row.payment_state)
            .bind(row.completion_requested)
            .bind(row.deleted)
            .bind(row.last_event_at)
            .bind(row.state)
            .execute(&mut *tx)
            .await
            .map_err(write_failed("writing dossier rows"))?;
    }

    for (unit, id) in &batch.holders {
        sqlx::query(
            "INSERT INTO dossier_holders (generation, unit_id, aggregate_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(batch.generation)
        .bind(unit)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(write_failed("writing dossier holders"))?;
    }

    for (shape, upsert) in COUNTER_TABLES.iter().zip(UPSERT_COUNTERS.iter()) {
        for cell in shape.cells(&batch.counters) {
            let mut query = sqlx::query(upsert).bind(batch.generation).bind(cell.unit);
            if let Some((procedure, field)) = cell.procedure {
                query = query.bind(procedure).bind(field);
            }
            query = query.bind(cell.date);
            for value in cell.values {
                query = query.bind(value);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(write_failed("adding to the Biểu 06 counters"))?;
        }
    }

    tx.commit()
        .await
        .map_err(write_failed("committing a projection batch"))
}

pub(super) async fn counter_sums(
    pool: &SqlitePool,
    generation: i32,
    table: CounterTable,
    units: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CounterSums>, ProjectionError> {
    let condition = match units {
        Some(_) => "unit_id IN (SELECT value FROM json_each($1))",
        None => "(1 OR unit_id IN (SELECT value FROM json_each($1)))",
    };
    let units = serde_json::to_string(units.unwrap_or_default()).map_err(|error| {
        ProjectionError::Corrupt {
            row: "unit ids".to_owned(),
            reason: error.to_string(),
        }
    })?;
    let split = PeriodSplit::new(from, to);
    let sql = counter_sums_sql(table, split.needs_days(to), condition);
    let rows = sqlx::query(&sql)
        .bind(units)
        .bind(to)
        .bind(from)
        .bind(generation)
        .bind(split.first_month)
        .bind(split.full_from)
        .bind(split.full_until)
        .fetch_all(pool)
        .await
        .map_err(ProjectionError::database("summing the Biểu 06 counters"))?;
    rows.iter()
        .map(|row| {
            let mut sums = CounterSums {
                unit: row.try_get("unit_id")?,
                carried_over: row.try_get("carried_over")?,
                ..CounterSums::default()
            };
            if let CounterTable::PerProcedure = table {
                sums.procedure = Some((row.try_get("procedure_code")?, row.try_get("field")?));
            }
            for (index, column) in COUNTER_COLUMNS.iter().enumerate() {
                sums.columns[index] = row.try_get(column)?;
            }
            Ok(sums)
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ProjectionError::database("summing the Biểu 06 counters"))
}
