//! The read models on PostgreSQL: each batch is a handful of statements
//! over arrays (`UNNEST`), whatever its size.

use std::sync::LazyLock;

use chrono::NaiveDate;
use motcua_store::LogCursor;
use sqlx::Row;

use super::{
    BatchWrite, COUNTER_COLUMNS, COUNTER_TABLES, CounterCell, CounterSums, CounterTable,
    CounterTableShape, DOSSIER_COLUMNS, DossierColumns, DossierRow, PeriodSplit, ScopedPool,
    carried_over_expression, is_state_column,
};
use crate::error::ProjectionError;
use crate::fold::Column;

pub(super) async fn dossier_states(
    pool: &ScopedPool,
    generation: i32,
    ids: &[String],
) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
    let failed = ProjectionError::database("reading dossier rows");
    let mut tx = pool.begin().await.map_err(failed)?;
    let rows = sqlx::query(
        "SELECT aggregate_id, state FROM dossiers \
         WHERE generation = $1 AND aggregate_id = ANY($2)",
    )
    .bind(generation)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ProjectionError::database("reading dossier rows"))
}

/// `INSERT … SELECT * FROM UNNEST(…) ON CONFLICT … DO UPDATE` for every
/// column of `dossiers`, and the PostgreSQL-only `holders` that its
/// row-level security policy tests.
static UPSERT_DOSSIERS: LazyLock<String> = LazyLock::new(|| {
    let types = [
        "text[]",
        "bigint[]",
        "text[]",
        "text[]",
        "integer[]",
        "text[]",
        "text[]",
        "text[]",
        "text[]",
        "text[]",
        "smallint[]",
        "text[]",
        "text[]",
        "text[]",
        "smallint[]",
        "timestamptz[]",
        "timestamptz[]",
        "timestamptz[]",
        "timestamptz[]",
        "timestamptz[]",
        "timestamptz[]",
        "timestamptz[]",
        "text[]",
        "text[]",
        "boolean[]",
        "boolean[]",
        "timestamptz[]",
        // the fold state's JSON, as bytes (migration 0009)
        "bytea[]",
        // holders, comma-separated (UNNEST cannot take ragged arrays)
        "text[]",
    ];
    let columns: Vec<&str> = DOSSIER_COLUMNS.iter().copied().chain(["holders"]).collect();
    let parameters: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(index, kind)| format!("${}::{kind}", index + 1))
        .collect();
    let selected: Vec<String> = columns
        .iter()
        .map(|&column| match column {
            "holders" => "string_to_array(holders, ',')".to_owned(),
            _ => column.to_owned(),
        })
        .collect();
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|column| format!("{column} = EXCLUDED.{column}"))
        .collect();
    format!(
        "INSERT INTO dossiers (generation, {columns}) \
         SELECT ${generation}::integer, {selected} FROM UNNEST({parameters}) AS t({columns}) \
         ON CONFLICT (generation, aggregate_id) DO UPDATE SET {updates}",
        generation = columns.len() + 1,
        columns = columns.join(", "),
        selected = selected.join(", "),
        parameters = parameters.join(", "),
        updates = updates.join(", "),
    )
});

/// Adds the deltas of one counter table: `key_columns` then the counters.
fn upsert_counters(table: &str, key_columns: &[(&str, &str)]) -> String {
    let keys: Vec<&str> = key_columns.iter().map(|(name, _)| *name).collect();
    let mut parameters: Vec<String> = key_columns
        .iter()
        .enumerate()
        .map(|(index, (_, kind))| format!("${}::{kind}[]", index + 1))
        .collect();
    parameters.extend(
        (0..COUNTER_COLUMNS.len())
            .map(|index| format!("${}::bigint[]", key_columns.len() + index + 1)),
    );
    let updates: Vec<String> = COUNTER_COLUMNS
        .iter()
        .map(|column| format!("{column} = {table}.{column} + EXCLUDED.{column}"))
        .collect();
    format!(
        "INSERT INTO {table} (generation, {keys}, {counters}) \
         SELECT ${generation}::integer, * FROM UNNEST({parameters}) \
         ON CONFLICT (generation, {keys}) DO UPDATE SET {updates}",
        generation = key_columns.len() + COUNTER_COLUMNS.len() + 1,
        keys = keys.join(", "),
        counters = COUNTER_COLUMNS.join(", "),
        parameters = parameters.join(", "),
        updates = updates.join(", "),
    )
}

static MOVE_CHECKPOINT: LazyLock<String> =
    LazyLock::new(|| super::control::move_checkpoint_sql(true));

/// The upsert of each of [`COUNTER_TABLES`], in its order.
static UPSERT_COUNTERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    COUNTER_TABLES
        .iter()
        .map(|shape| {
            let keys: Vec<(&str, &str)> = shape
                .key_columns()
                .iter()
                .map(|&key| {
                    (
                        key,
                        if key == shape.date_column() {
                            "date"
                        } else {
                            "text"
                        },
                    )
                })
                .collect();
            upsert_counters(shape.name, &keys)
        })
        .collect()
});

pub(super) async fn write(pool: &ScopedPool, batch: &BatchWrite) -> Result<(), ProjectionError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(ProjectionError::database("starting a projection batch"))?;
    let moved = sqlx::query(&MOVE_CHECKPOINT)
        .bind(batch.projection)
        .bind(batch.generation)
        .bind(cursor_transaction(batch.to))
        .bind(batch.to.position)
        .bind(batch.events)
        .bind(cursor_transaction(batch.from))
        .bind(batch.from.position)
        .bind(batch.lease_owner.as_deref())
        .bind(i64::try_from(batch.lease_ttl.as_millis()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(ProjectionError::database(
            "moving a projection's checkpoint",
        ))?;
    if moved.rows_affected() != 1 {
        return Err(ProjectionError::CheckpointMoved {
            projection: batch.projection,
        });
    }

    let counters: Vec<(CounterTableShape, &str, Vec<CounterCell<'_>>)> = COUNTER_TABLES
        .iter()
        .zip(UPSERT_COUNTERS.iter())
        .map(|(&shape, upsert)| (shape, upsert.as_str(), shape.cells(&batch.counters)))
        .collect();
    let whole = Part {
        dossiers: &batch.dossiers,
        holders: &batch.holders,
        counters: counters
            .iter()
            .map(|(shape, upsert, cells)| (*shape, *upsert, cells.as_slice()))
            .collect(),
    };
    if batch.building {
        // A generation being built is read by nobody until it is promoted
        // and is dropped if the build dies, so its rows and counters need
        // not commit with its checkpoint: half of everything goes over a
        // second connection at the same time (disjoint keys, no locks
        // between the two), so that PostgreSQL writes on both cores, and
        // the last write, which holds every counter cell of the history
        // (Window::take), does not leave one idle while the projector has
        // nothing left to fold.
        let mut aside = pool.begin().await.map_err(ProjectionError::database(
            "starting a projection batch's second connection",
        ))?;
        let (here, there) = whole.halves();
        let (here, there) = tokio::join!(
            here.write(&mut tx, batch.generation),
            there.write(&mut aside, batch.generation),
        );
        here.and(there)?;
        aside.commit().await.map_err(ProjectionError::database(
            "committing a projection batch's second connection",
        ))?;
    } else {
        whole.write(&mut tx, batch.generation).await?;
    }

    tx.commit()
        .await
        .map_err(ProjectionError::database("committing a projection batch"))
}

/// What one connection writes of a batch: dossier rows, holder pairs, and
/// for each counter table its upsert and cells.
struct Part<'a> {
    dossiers: &'a [DossierRow],
    holders: &'a [(String, String)],
    counters: Vec<(CounterTableShape, &'a str, &'a [CounterCell<'a>])>,
}

impl<'a> Part<'a> {
    /// The first and the second half of each kind.
    fn halves(&self) -> (Part<'a>, Part<'a>) {
        let (dossiers_here, dossiers_there) = self.dossiers.split_at(self.dossiers.len() / 2);
        let (holders_here, holders_there) = self.holders.split_at(self.holders.len() / 2);
        let (counters_here, counters_there) = self
            .counters
            .iter()
            .map(|&(shape, upsert, cells)| {
                let (here, there) = cells.split_at(cells.len() / 2);
                ((shape, upsert, here), (shape, upsert, there))
            })
            .unzip();
        (
            Part {
                dossiers: dossiers_here,
                holders: holders_here,
                counters: counters_here,
            },
            Part {
                dossiers: dossiers_there,
                holders: holders_there,
                counters: counters_there,
            },
        )
    }

    async fn write(
        &self,
        conn: &mut sqlx::PgConnection,
        generation: i32,
    ) -> Result<(), ProjectionError> {
        upsert_dossiers(&mut *conn, generation, self.dossiers).await?;
        insert_holders(&mut *conn, generation, self.holders).await?;
        for &(shape, upsert, cells) in &self.counters {
            upsert_cells(&mut *conn, &shape, upsert, cells, generation).await?;
        }
        Ok(())
    }
}

/// Records that the units held the dossiers: (unit, dossier) pairs.
async fn insert_holders(
    conn: &mut sqlx::PgConnection,
    generation: i32,
    holders: &[(String, String)],
) -> Result<(), ProjectionError> {
    for holders in holders.chunks(COUNTER_CELLS_PER_STATEMENT) {
        let (units, ids): (Vec<&str>, Vec<&str>) = holders
            .iter()
            .map(|(unit, id)| (unit.as_str(), id.as_str()))
            .unzip();
        sqlx::query(
            "INSERT INTO dossier_holders (generation, unit_id, aggregate_id) \
             SELECT $3, * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(units)
        .bind(ids)
        .bind(generation)
        .execute(&mut *conn)
        .await
        .map_err(ProjectionError::database("writing dossier holders"))?;
    }
    Ok(())
}

/// Counter cells (or holder pairs) per statement: PostgreSQL holds each
/// `UNNEST`ed array in a tuplestore of `work_mem`, and a rebuild's last
/// write of 600,000 cells in one statement spilled all fifteen to disk.
const COUNTER_CELLS_PER_STATEMENT: usize = 10_000;

/// Adds `cells` to `shape`'s table in `generation` with its `upsert`.
async fn upsert_cells(
    conn: &mut sqlx::PgConnection,
    shape: &CounterTableShape,
    upsert: &str,
    cells: &[CounterCell<'_>],
    generation: i32,
) -> Result<(), ProjectionError> {
    for cells in cells.chunks(COUNTER_CELLS_PER_STATEMENT) {
        let mut units = Vec::with_capacity(cells.len());
        let mut procedures = Vec::new();
        let mut fields = Vec::new();
        let mut dates = Vec::with_capacity(cells.len());
        let mut columns: Vec<Vec<i64>> =
            vec![Vec::with_capacity(cells.len()); COUNTER_COLUMNS.len()];
        for cell in cells {
            units.push(cell.unit);
            if let Some((procedure, field)) = cell.procedure {
                procedures.push(procedure);
                fields.push(field);
            }
            dates.push(cell.date);
            for (column, value) in columns.iter_mut().zip(cell.values) {
                column.push(value);
            }
        }
        let mut query = sqlx::query(upsert).bind(units);
        if shape.per_procedure {
            query = query.bind(procedures).bind(fields);
        }
        query = query.bind(dates);
        for column in columns {
            query = query.bind(column);
        }
        query
            .bind(generation)
            .execute(&mut *conn)
            .await
            .map_err(ProjectionError::database("adding to the Biểu 06 counters"))?;
    }
    Ok(())
}

/// Rows per `dossiers` upsert: its arrays stay within `work_mem`, where one
/// statement for a whole window spills them to disk.
const DOSSIER_ROWS_PER_STATEMENT: usize = 2000;

async fn upsert_dossiers(
    conn: &mut sqlx::PgConnection,
    generation: i32,
    dossiers: &[DossierRow],
) -> Result<(), ProjectionError> {
    for dossiers in dossiers.chunks(DOSSIER_ROWS_PER_STATEMENT) {
        upsert_dossier_rows(&mut *conn, generation, dossiers).await?;
    }
    Ok(())
}

/// Up to [`DOSSIER_ROWS_PER_STATEMENT`] rows in one statement.
async fn upsert_dossier_rows(
    tx: &mut sqlx::PgConnection,
    generation: i32,
    dossiers: &[DossierRow],
) -> Result<(), ProjectionError> {
    let rows = dossiers
        .iter()
        .map(|row| DossierColumns::of(&row.state))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<&str> = dossiers
        .iter()
        .map(|row| row.aggregate_id.as_str())
        .collect();
    let positions: Vec<i64> = dossiers.iter().map(|row| row.last_position).collect();
    sqlx::query(&UPSERT_DOSSIERS)
        .bind(ids)
        .bind(positions)
        .bind(rows.iter().map(|row| row.code.clone()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.procedure_code.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.procedure_version)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.field.clone()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.applicant_name.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.identity_number.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.receiving_unit.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.holder_unit.clone())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.status).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.step.clone()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.department.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.assignee.clone())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.channel).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.submitted_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.received_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.due_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.appointment_at)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.step_due_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.finished_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.closed_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.timeliness).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.payment_state).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.completion_requested)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.deleted).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.last_event_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.state.as_bytes())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.holders.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(generation)
        .execute(tx)
        .await
        .map_err(ProjectionError::database("writing dossier rows"))?;
    Ok(())
}

fn cursor_transaction(cursor: LogCursor) -> i64 {
    i64::try_from(cursor.transaction).unwrap_or(i64::MAX)
}

pub(super) async fn counter_sums(
    pool: &ScopedPool,
    generation: i32,
    table: CounterTable,
    units: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CounterSums>, ProjectionError> {
    // For every unit the test is folded away and the table scanned, which
    // beats one index probe per unit.
    let condition = match units {
        Some(_) => "unit_id = ANY($1)",
        None => "(TRUE OR unit_id = ANY($1))",
    };
    let failed = ProjectionError::database("summing the Biểu 06 counters");
    let mut tx = pool.begin().await.map_err(failed)?;
    let split = PeriodSplit::new(from, to);
    let rows = sqlx::query(&counter_sums_sql(table, split.needs_days(to), condition))
        .bind(units.unwrap_or_default())
        .bind(to)
        .bind(from)
        .bind(generation)
        .bind(split.first_month)
        .bind(split.full_from)
        .bind(split.full_until)
        .fetch_all(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    rows.iter()
        .map(|row| read_sums(row, table))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ProjectionError::database("summing the Biểu 06 counters"))
}

fn read_sums(row: &sqlx::postgres::PgRow, table: CounterTable) -> Result<CounterSums, sqlx::Error> {
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
}

/// The sums query, shared with SQLite. Parameters: `$1` the units (for
/// the `units` condition), `$2` the period's last day, `$3` its first, `$4`
/// the generation, then the [`PeriodSplit`]: `$5` the first day of the
/// first day's month, `$6`..`$7` the whole months inside the period. Whole
/// months come from the monthly table (a month before the period counts as
/// before it, a month inside as inside); the days of the months the period
/// cuts, only `with_days`, from the daily one.
pub(super) fn counter_sums_sql(table: CounterTable, with_days: bool, units: &str) -> String {
    let (daily, monthly) = table.shapes();
    let keys = &daily.key_columns()[..daily.key_columns().len() - 1].join(", ");
    let columns = COUNTER_COLUMNS.join(", ");
    let sums: Vec<String> = Column::ALL
        .iter()
        .map(|&column| {
            let name = COUNTER_COLUMNS[column.index()];
            if is_state_column(column) {
                format!("CAST(SUM({name}) AS BIGINT) AS {name}")
            } else {
                format!("CAST(SUM(CASE WHEN day >= $3 THEN {name} ELSE 0 END) AS BIGINT) AS {name}")
            }
        })
        .collect();
    let mut cells = format!(
        "SELECT {keys}, month AS day, {columns} FROM {months} \
         WHERE generation = $4 AND {units} AND (month < $5 OR (month >= $6 AND month < $7))",
        months = monthly.name,
    );
    if with_days {
        cells.push_str(&format!(
            " UNION ALL SELECT {keys}, day, {columns} FROM {days} \
             WHERE generation = $4 AND {units} AND day >= $5 AND (day < $6 OR day >= $7) AND day <= $2",
            days = daily.name,
        ));
    }
    format!(
        "SELECT {keys}, CAST(SUM(CASE WHEN day < $3 THEN {carried} ELSE 0 END) AS BIGINT) AS carried_over, \
         {sums} FROM ({cells}) AS cells GROUP BY {keys}",
        carried = carried_over_expression(),
        sums = sums.join(", "),
    )
}
