//! Value conversions between the read models and the schema.

use motcua_domain::unit::UnitId;
use motcua_store::LogCursor;

use crate::error::{ApiError, ApiResult};

/// A unit e-ID given by a client.
pub(crate) fn unit_id(field: &'static str, text: &str) -> ApiResult<UnitId> {
    text.parse()
        .map_err(|_| ApiError::bad_input(field, format!("{text:?} is not a unit e-ID")))
}

/// A place in the log as clients hold it: opaque text, `transaction.position`.
pub(crate) fn log_position(cursor: LogCursor) -> String {
    format!("{}.{}", cursor.transaction, cursor.position)
}

/// A place in the log given back by a client.
pub(crate) fn parse_log_position(field: &'static str, text: &str) -> ApiResult<LogCursor> {
    text.split_once('.')
        .and_then(|(transaction, position)| {
            Some(LogCursor {
                transaction: transaction.parse().ok()?,
                position: position.parse().ok()?,
            })
        })
        .ok_or_else(|| ApiError::bad_input(field, format!("{text:?} is not a log position")))
}

/// An identity number with all but its last three digits hidden.
pub(crate) fn mask(value: &str) -> String {
    let count = value.chars().count();
    value
        .chars()
        .enumerate()
        .map(|(index, character)| if index + 3 < count { '*' } else { character })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_positions_read_back_and_garbage_is_refused() {
        let cursor = LogCursor {
            transaction: 7_000_123,
            position: 42,
        };
        assert_eq!(
            parse_log_position("p", &log_position(cursor)).ok(),
            Some(cursor)
        );
        for garbage in ["", "42", "a.b", "1.2.3", "-1.2"] {
            assert!(parse_log_position("p", garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn masking_keeps_the_last_three_characters() {
        assert_eq!(mask("026154661850"), "*********850");
        assert_eq!(mask("12"), "12");
        assert_eq!(mask(""), "");
    }
}
