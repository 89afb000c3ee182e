//! Value conversions between the read models and the schema.

use motcua_domain::unit::UnitId;

use crate::error::{ApiError, ApiResult};

/// A unit e-ID given by a client.
pub(crate) fn unit_id(field: &'static str, text: &str) -> ApiResult<UnitId> {
    text.parse()
        .map_err(|_| ApiError::bad_input(field, format!("{text:?} is not a unit e-ID")))
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
    fn masking_keeps_the_last_three_characters() {
        assert_eq!(mask("026154661850"), "*********850");
        assert_eq!(mask("12"), "12");
        assert_eq!(mask(""), "");
    }
}
