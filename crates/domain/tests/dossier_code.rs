//! Dossier codes: `<unit e-ID>-<yyMMdd>-<NNNN>`.

use chrono::{Days, NaiveDate};
use motcua_domain::dossier::code::{DossierCode, DossierCodeError};
use motcua_domain::unit::{UnitId, UnitIdError};
use proptest::prelude::*;

fn unit(text: &str) -> UnitId {
    text.parse().expect("a valid e-ID")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

#[test]
fn a_code_reads_back_into_its_parts() {
    let code: DossierCode = "000.00.06.H56-241105-0001".parse().expect("valid");
    assert_eq!(code.unit(), &unit("000.00.06.H56"));
    assert_eq!(code.date(), date(2024, 11, 5));
    assert_eq!(code.sequence(), 1);
    assert_eq!(code.to_string(), "000.00.06.H56-241105-0001");
}

#[test]
fn the_sequence_is_padded_to_four_digits_and_grows_beyond() {
    let code = |sequence| {
        DossierCode::new(unit("000.03.20.H56"), date(2025, 7, 1), sequence)
            .expect("valid")
            .to_string()
    };
    assert_eq!(code(7), "000.03.20.H56-250701-0007");
    assert_eq!(code(9999), "000.03.20.H56-250701-9999");
    assert_eq!(code(10000), "000.03.20.H56-250701-10000");
    assert_eq!(code(u32::MAX), "000.03.20.H56-250701-4294967295");
    let long: DossierCode = "000.03.20.H56-250701-123456".parse().expect("valid");
    assert_eq!(long.sequence(), 123_456);
}

#[test]
fn codes_that_cannot_be_written_are_refused() {
    let province = unit("000.00.00.H56");
    assert_eq!(
        DossierCode::new(province.clone(), date(2025, 1, 2), 0),
        Err(DossierCodeError::ZeroSequence)
    );
    assert_eq!(
        DossierCode::new(province.clone(), date(1999, 12, 31), 1),
        Err(DossierCodeError::YearOutOfRange {
            date: date(1999, 12, 31)
        })
    );
    assert_eq!(
        DossierCode::new(province, date(2100, 1, 1), 1),
        Err(DossierCodeError::YearOutOfRange {
            date: date(2100, 1, 1)
        })
    );
}

#[test]
fn malformed_codes_are_rejected_with_the_reason() {
    let malformed = |text: &str| DossierCodeError::Malformed {
        text: text.to_owned(),
    };
    let date_error = |text: &str| DossierCodeError::Date {
        text: text.to_owned(),
    };
    let sequence_error = |text: &str| DossierCodeError::Sequence {
        text: text.to_owned(),
    };
    let cases = [
        ("", malformed("")),
        ("000.00.06.H56", malformed("000.00.06.H56")),
        ("241105-0001", malformed("241105-0001")),
        ("-241105-0001", DossierCodeError::Unit(UnitIdError::Empty)),
        (
            "000.00.06-H56-241105-0001",
            DossierCodeError::Unit(UnitIdError::InvalidCharacter {
                character: '-',
                position: 9,
            }),
        ),
        ("000.00.06.H56-20241105-0001", date_error("20241105")),
        ("000.00.06.H56-241305-0001", date_error("241305")),
        ("000.00.06.H56-250229-0001", date_error("250229")),
        ("000.00.06.H56-2411O5-0001", date_error("2411O5")),
        ("000.00.06.H56-+41105-0001", date_error("+41105")),
        ("000.00.06.H56-241105-001", sequence_error("001")),
        ("000.00.06.H56-241105-00001", sequence_error("00001")),
        ("000.00.06.H56-241105-+001", sequence_error("+001")),
        ("000.00.06.H56-241105-0001 ", sequence_error("0001 ")),
        (
            "000.00.06.H56-241105-4294967296",
            sequence_error("4294967296"),
        ),
        ("000.00.06.H56-241105-0000", DossierCodeError::ZeroSequence),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<DossierCode>(), Err(expected), "{text:?}");
    }
    assert_eq!(
        "000.00.06.H56-241105-001"
            .parse::<DossierCode>()
            .map_err(|error| error.to_string()),
        Err(r#"the sequence of the dossier code is "001", expected digits zero-padded to 4, with no leading zero beyond"#.to_owned())
    );
    // A leap day is a date like any other.
    assert!("000.00.06.H56-240229-0001".parse::<DossierCode>().is_ok());
}

#[test]
fn codes_are_plain_json_strings_validated_on_the_way_in() {
    let code: DossierCode = "000.00.06.H56-241105-0042".parse().expect("valid");
    let json = serde_json::to_string(&code).expect("serialise");
    assert_eq!(json, r#""000.00.06.H56-241105-0042""#);
    assert_eq!(
        serde_json::from_str::<DossierCode>(&json).expect("deserialise"),
        code
    );
    let error = serde_json::from_str::<DossierCode>(r#""000.00.06.H56-241105-42""#)
        .expect_err("short sequence");
    assert!(error.to_string().contains("zero-padded"), "{error}");
}

fn any_code() -> impl Strategy<Value = DossierCode> {
    let unit = (0u16..1000, 0u8..100, 0u8..100, b'A'..=b'Z', 0u8..100).prop_map(
        |(l4, l3, l2, letter, number)| {
            unit(&format!(
                "{l4:03}.{l3:02}.{l2:02}.{}{number:02}",
                char::from(letter)
            ))
        },
    );
    // Every day from 2000-01-01 to 2099-12-31, the years `yy` can name.
    let day = (0u64..36_525).prop_map(|days| date(2000, 1, 1) + Days::new(days));
    let sequence = prop_oneof![1u32..10_000, 1u32..=u32::MAX];
    (unit, day, sequence)
        .prop_map(|(unit, day, sequence)| DossierCode::new(unit, day, sequence).expect("in range"))
}

proptest! {
    #[test]
    fn every_code_round_trips(code in any_code()) {
        let text = code.to_string();
        prop_assert_eq!(text.parse::<DossierCode>(), Ok(code.clone()));
        let json = serde_json::to_string(&code).expect("serialise");
        prop_assert_eq!(json.clone(), format!("{text:?}"));
        prop_assert_eq!(serde_json::from_str::<DossierCode>(&json).expect("deserialise"), code);
    }

    #[test]
    fn any_accepted_string_is_kept_verbatim(
        text in "[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{1,6}",
    ) {
        if let Ok(code) = text.parse::<DossierCode>() {
            prop_assert_eq!(code.to_string(), text);
        }
    }
}
