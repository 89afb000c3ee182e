//! The unit e-ID (mã định danh điện tử của cơ quan, tổ chức).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The fixed layout of a QCVN 102:2016 e-ID: the width of each group and
/// what it is, from left (level 4) to right (level 1).
const GROUPS: [(usize, &str); 4] = [
    (3, "three digits (level 4)"),
    (2, "two digits (level 3)"),
    (2, "two digits (level 2)"),
    (3, "an uppercase letter and two digits (level 1)"),
];

/// A unit's e-ID, validated.
///
/// Grammar (ABNF; the layout of QCVN 102:2016/BTTTT, which one-stop systems,
/// the National Public Service Portal and dossier codes use):
///
/// ```text
/// unit-id = level-4 "." level-3 "." level-2 "." level-1     ; 13 characters
/// level-4 = 3DIGIT          ; unit under a level-3 unit, 000 for none
/// level-3 = 2DIGIT          ; commune or office under a district/department, 00 for none
/// level-2 = 2DIGIT          ; department or district, 00 for the level-1 unit itself
/// level-1 = UPPER 2DIGIT    ; H56 = a provincial People's Committee, G01 = a ministry
/// UPPER   = %x41-5A         ; A–Z
/// ```
///
/// Examples: `000.00.00.H56` (the province), `000.00.06.H56` (a department),
/// `000.03.20.H56` (commune 03 of district 20).
///
/// Decision 20/2020/QĐ-TTg (art. 4.1) bounds every e-ID: at most 35
/// characters, only `.`, `0`–`9` and `A`–`Z`, one dot-separated group per
/// level. Its own layout starts from the level-1 code at the left (`H56.…`),
/// but it is meant to reuse the codes already issued, and those (in one-stop
/// systems, in DVCQG procedure codes such as `1.010708.000.00.00.H56`, in
/// dossier codes) follow QCVN 102:2016. That layout is the one accepted
/// here: a code written the other way round is rejected rather than taken
/// for a different unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitId(String);

impl UnitId {
    /// The longest e-ID Decision 20/2020/QĐ-TTg (art. 4.1) allows; storage
    /// columns are sized by it.
    pub const MAX_LEN: usize = 35;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn validate(text: &str) -> Result<(), UnitIdError> {
        if text.is_empty() {
            return Err(UnitIdError::Empty);
        }
        // Counted in characters, not bytes, as the Decision counts them.
        let length = text.chars().count();
        if length > Self::MAX_LEN {
            return Err(UnitIdError::TooLong { length });
        }
        if let Some((position, character)) = text
            .chars()
            .enumerate()
            .find(|&(_, c)| !(c == '.' || c.is_ascii_digit() || c.is_ascii_uppercase()))
        {
            return Err(UnitIdError::InvalidCharacter {
                character,
                position,
            });
        }
        let found = text.split('.').count();
        if found != GROUPS.len() {
            return Err(UnitIdError::GroupCount { found });
        }
        for (index, (group, &(width, expected))) in text.split('.').zip(GROUPS.iter()).enumerate() {
            let digits = if index == GROUPS.len() - 1 {
                group.strip_prefix(|c: char| c.is_ascii_uppercase())
            } else {
                Some(group)
            };
            let well_formed = group.len() == width
                && digits.is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
            if !well_formed {
                return Err(UnitIdError::BadGroup {
                    index,
                    group: group.to_owned(),
                    expected,
                });
            }
        }
        Ok(())
    }
}

/// Why a string is not a unit e-ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitIdError {
    #[error("the unit e-ID is empty")]
    Empty,
    #[error(
        "the unit e-ID has {length} characters, more than the {} allowed",
        UnitId::MAX_LEN
    )]
    TooLong { length: usize },
    #[error(
        "the unit e-ID has {character:?} at position {position}; only '.', 0-9 and A-Z are allowed"
    )]
    InvalidCharacter { character: char, position: usize },
    #[error("the unit e-ID has {found} dot-separated groups, expected 4 (like 000.00.06.H56)")]
    GroupCount { found: usize },
    #[error("group {index} of the unit e-ID is {group:?}, expected {expected}")]
    BadGroup {
        /// 0 for the leftmost group.
        index: usize,
        group: String,
        expected: &'static str,
    },
}

impl TryFrom<String> for UnitId {
    type Error = UnitIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::validate(&value)?;
        Ok(Self(value))
    }
}

impl From<UnitId> for String {
    fn from(id: UnitId) -> Self {
        id.0
    }
}

impl FromStr for UnitId {
    type Err = UnitIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::validate(s)?;
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
