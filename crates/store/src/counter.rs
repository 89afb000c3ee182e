//! Dossier code counters: `<unit e-ID>-<yyMMdd>-<NNNN>`, numbered from 1 per
//! unit per local reception day.
//!
//! A number is taken by one atomic upsert, outside any event append:
//! - PostgreSQL: `INSERT … ON CONFLICT … DO UPDATE … RETURNING` locks the
//!   counter row, so only receptions of the same unit on the same day wait
//!   for one another; the first two receptions of a day race on the primary
//!   key and the loser turns into the update.
//! - SQLite: the same statement, alone in its autocommit transaction, holds
//!   the database's write lock from start to end; concurrent callers wait on
//!   the busy timeout.
//!
//! A number once taken is never handed out again, even if the reception that
//! took it fails afterwards: the sequence may have gaps, never duplicates.

use chrono::NaiveDate;
use motcua_domain::dossier::code::DossierCode;
use motcua_domain::unit::UnitId;

use crate::error::StoreError;
use crate::store::EventStore;

// `EXCLUDED.last_sequence` is the count asked for: the first take of a day
// inserts it, every later one adds it.
const TAKE_SEQUENCES_POSTGRES: &str = "INSERT INTO dossier_code_counters (unit_id, day, last_sequence) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (unit_id, day) \
     DO UPDATE SET last_sequence = dossier_code_counters.last_sequence + EXCLUDED.last_sequence \
     RETURNING last_sequence";

const TAKE_SEQUENCES_SQLITE: &str = "INSERT INTO dossier_code_counters (unit_id, day, last_sequence) \
     VALUES (?1, ?2, ?3) \
     ON CONFLICT (unit_id, day) \
     DO UPDATE SET last_sequence = dossier_code_counters.last_sequence + excluded.last_sequence \
     RETURNING last_sequence";

const OPERATION: &str = "take the next dossier code";

impl EventStore {
    /// The next dossier code of `unit` on `date`: `<unit e-ID>-<yyMMdd>-<NNNN>`,
    /// the sequence counting from 1 per unit per day.
    ///
    /// `date` is the local (Asia/Ho_Chi_Minh) reception date, as
    /// `motcua_domain::calendar::local_date` gives it. Concurrent calls never
    /// receive the same code; a code taken by a reception that then fails is
    /// not reused.
    ///
    /// Fails with [`StoreError::DossierCode`] if no code can be written for
    /// this date (the year must be 2000–2099; checked before a number is
    /// taken) or the day's counter is exhausted (beyond `u32::MAX`), and with
    /// [`StoreError::Database`] if the database fails.
    pub async fn next_dossier_code(
        &self,
        unit: &UnitId,
        date: NaiveDate,
    ) -> Result<DossierCode, StoreError> {
        let last = self.take_sequences(unit, date, 1).await?;
        code(unit, date, last)
    }

    /// The next `count` dossier codes of `unit` on `date`, consecutive, in
    /// order, taken in one statement (a bulk import numbers a day's
    /// receptions at once); none, and nothing taken, for a count of 0.
    /// Otherwise as [`EventStore::next_dossier_code`].
    pub async fn next_dossier_codes(
        &self,
        unit: &UnitId,
        date: NaiveDate,
        count: u32,
    ) -> Result<Vec<DossierCode>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let last = self.take_sequences(unit, date, count).await?;
        let first = last.checked_sub(count - 1).ok_or_else(|| {
            cannot(
                unit,
                date,
                format!("the day's counter reads {last} after {count} were taken"),
            )
        })?;
        (first..=last)
            .map(|sequence| code(unit, date, sequence))
            .collect()
    }

    /// Adds `count` (at least 1) to the day's counter; the new last sequence.
    async fn take_sequences(
        &self,
        unit: &UnitId,
        date: NaiveDate,
        count: u32,
    ) -> Result<u32, StoreError> {
        // Refuse a date no code can carry before spending a number on it.
        code(unit, date, 1)?;
        let count = i64::from(count);
        let last_sequence: i64 = match self {
            EventStore::Postgres(store) => {
                sqlx::query_scalar(TAKE_SEQUENCES_POSTGRES)
                    .bind(unit.as_str())
                    .bind(date)
                    .bind(count)
                    .fetch_one(store.pool())
                    .await
            }
            EventStore::Sqlite(store) => {
                sqlx::query_scalar(TAKE_SEQUENCES_SQLITE)
                    .bind(unit.as_str())
                    .bind(date)
                    .bind(count)
                    .fetch_one(store.pool())
                    .await
            }
        }
        .map_err(StoreError::database(OPERATION))?;
        u32::try_from(last_sequence).map_err(|_| {
            cannot(
                unit,
                date,
                format!(
                    "the day's counter reached {last_sequence}, beyond the largest sequence {}",
                    u32::MAX
                ),
            )
        })
    }
}

fn code(unit: &UnitId, date: NaiveDate, sequence: u32) -> Result<DossierCode, StoreError> {
    DossierCode::new(unit.clone(), date, sequence)
        .map_err(|error| cannot(unit, date, error.to_string()))
}

fn cannot(unit: &UnitId, date: NaiveDate, reason: String) -> StoreError {
    StoreError::DossierCode {
        unit: unit.as_str().to_owned(),
        date,
        reason,
    }
}
