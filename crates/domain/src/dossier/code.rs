//! The dossier code (mã hồ sơ) assigned at acceptance.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::unit::{UnitId, UnitIdError};

/// The years a two-digit `yy` can stand for.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2099;
/// The sequence is written with at least this many digits.
const SEQUENCE_WIDTH: usize = 4;

/// A dossier code: `<unit e-ID>-<yyMMdd>-<NNNN>`, e.g. `000.00.06.H56-241105-0001`.
///
/// The date is the reception date (local, Asia/Ho_Chi_Minh) and the sequence
/// a per-unit counter restarting daily at 1. The sequence is zero-padded to
/// four digits; above 9999 it takes as many digits as it needs, with no
/// leading zero, so each code has exactly one spelling. The code keeps the
/// e-ID of the unit that accepted the dossier, even after a reorganisation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DossierCode {
    unit: UnitId,
    date: NaiveDate,
    sequence: u32,
}

impl DossierCode {
    pub fn new(unit: UnitId, date: NaiveDate, sequence: u32) -> Result<Self, DossierCodeError> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            return Err(DossierCodeError::YearOutOfRange { date });
        }
        if sequence == 0 {
            return Err(DossierCodeError::ZeroSequence);
        }
        Ok(Self {
            unit,
            date,
            sequence,
        })
    }

    /// The unit that accepted the dossier.
    pub fn unit(&self) -> &UnitId {
        &self.unit
    }

    /// The reception date.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The unit's counter on that date, from 1.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

/// Why a dossier code cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierCodeError {
    #[error("{text:?} is not a dossier code of the form <unit e-ID>-<yyMMdd>-<NNNN>")]
    Malformed { text: String },
    #[error("the unit of the dossier code is invalid: {0}")]
    Unit(#[from] UnitIdError),
    #[error("the date of the dossier code is {text:?}, not a valid yyMMdd date")]
    Date { text: String },
    #[error("the date {date} cannot be written as yyMMdd: the year must be 2000-2099")]
    YearOutOfRange { date: NaiveDate },
    #[error(
        "the sequence of the dossier code is {text:?}, expected digits zero-padded to 4, with no leading zero beyond"
    )]
    Sequence { text: String },
    #[error("the sequence of a dossier code starts at 1")]
    ZeroSequence,
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:0width$}",
            self.unit,
            self.date.format("%y%m%d"),
            self.sequence,
            width = SEQUENCE_WIDTH
        )
    }
}

impl FromStr for DossierCode {
    type Err = DossierCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // From the right: the sequence and the date have fixed shapes; the
        // e-ID before them has dots but no dash.
        let malformed = || DossierCodeError::Malformed {
            text: text.to_owned(),
        };
        let mut parts = text.rsplitn(3, '-');
        let sequence = parts.next().ok_or_else(malformed)?;
        let date = parts.next().ok_or_else(malformed)?;
        let unit = parts.next().ok_or_else(malformed)?;
        Self::new(unit.parse()?, parse_date(date)?, parse_sequence(sequence)?)
    }
}

/// `yyMMdd`, the year in 2000–2099.
fn parse_date(text: &str) -> Result<NaiveDate, DossierCodeError> {
    let invalid = || DossierCodeError::Date {
        text: text.to_owned(),
    };
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let field = |range: std::ops::Range<usize>| -> Result<u32, DossierCodeError> {
        text.get(range)
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(invalid)
    };
    let (yy, month, day) = (field(0..2)?, field(2..4)?, field(4..6)?);
    let year = FIRST_YEAR + i32::try_from(yy).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)
}

/// At least four digits; more only without a leading zero (one spelling per number).
fn parse_sequence(text: &str) -> Result<u32, DossierCodeError> {
    let invalid = || DossierCodeError::Sequence {
        text: text.to_owned(),
    };
    let canonical = text.len() >= SEQUENCE_WIDTH
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text.len() == SEQUENCE_WIDTH || !text.starts_with('0'));
    if !canonical {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

impl TryFrom<String> for DossierCode {
    type Error = DossierCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<DossierCode> for String {
    fn from(code: DossierCode) -> Self {
        code.to_string()
    }
}
