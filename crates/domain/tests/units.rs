//! Unit e-IDs and the versioned hierarchy, around the 2025 reorganisation.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use motcua_domain::unit::{
    HierarchyError, Succession, SuccessionKind, UnitHierarchy, UnitHierarchyBuilder, UnitId,
    UnitIdError, UnitLevel, UnitVersion,
};
use proptest::prelude::*;

fn id(text: &str) -> UnitId {
    text.parse().expect("a valid e-ID")
}

/// A wall-clock time in Vietnam (UTC+07:00), as decisions state it.
fn vietnam(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(7 * 3600)
        .and_then(|zone| zone.with_ymd_and_hms(year, month, day, hour, 0, 0).single())
        .expect("a valid local time")
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------
// e-IDs
// ---------------------------------------------------------------------------

#[test]
fn e_ids_of_the_qcvn_102_layout_are_accepted() {
    for text in [
        "000.00.00.H56", // a provincial People's Committee
        "000.00.06.H56", // one of its departments
        "000.03.20.H56", // a commune of district 20
        "000.00.00.G01", // a ministry
        "123.45.67.K99",
    ] {
        let unit: UnitId = text.parse().expect(text);
        assert_eq!(unit.as_str(), text);
        assert_eq!(unit.to_string(), text);
        assert_eq!(UnitId::try_from(text.to_owned()), Ok(unit));
    }
}

#[test]
fn malformed_e_ids_are_rejected_with_the_reason() {
    let cases: [(&str, UnitIdError); 10] = [
        ("", UnitIdError::Empty),
        (
            "000.00.00.H56.000.00.00.H56.000.00.00",
            UnitIdError::TooLong { length: 37 },
        ),
        (
            "000.00.06.h56",
            UnitIdError::InvalidCharacter {
                character: 'h',
                position: 10,
            },
        ),
        (
            "000-00-06-H56",
            UnitIdError::InvalidCharacter {
                character: '-',
                position: 3,
            },
        ),
        (
            " 000.00.06.H56",
            UnitIdError::InvalidCharacter {
                character: ' ',
                position: 0,
            },
        ),
        ("H56", UnitIdError::GroupCount { found: 1 }),
        ("00.00.06.H56.1", UnitIdError::GroupCount { found: 5 }),
        (
            "00.000.06.H56",
            UnitIdError::BadGroup {
                index: 0,
                group: "00".to_owned(),
                expected: "three digits (level 4)",
            },
        ),
        (
            "000.00..H56",
            UnitIdError::BadGroup {
                index: 2,
                group: String::new(),
                expected: "two digits (level 2)",
            },
        ),
        (
            // The Decision 20/2020 layout, level 1 first: not ours.
            "H56.00.06.000",
            UnitIdError::BadGroup {
                index: 0,
                group: "H56".to_owned(),
                expected: "three digits (level 4)",
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<UnitId>(), Err(expected), "{text:?}");
    }
    assert_eq!(
        "000.00.06.56H".parse::<UnitId>().map_err(|error| error.to_string()),
        Err(r#"group 3 of the unit e-ID is "56H", expected an uppercase letter and two digits (level 1)"#.to_owned())
    );
    // Non-ASCII is counted in characters, not bytes.
    assert!(matches!(
        "000.00.06.Hé6".parse::<UnitId>(),
        Err(UnitIdError::InvalidCharacter {
            character: 'é',
            position: 11
        })
    ));
}

#[test]
fn e_ids_are_plain_json_strings_validated_on_the_way_in() {
    let unit = id("000.00.06.H56");
    assert_eq!(
        serde_json::to_string(&unit).expect("serialise"),
        r#""000.00.06.H56""#
    );
    let error = serde_json::from_str::<UnitId>(r#""000.00.06""#).expect_err("three groups");
    assert!(
        error.to_string().contains("3 dot-separated groups"),
        "{error}"
    );
}

fn valid_e_id() -> impl Strategy<Value = String> {
    (0u16..1000, 0u8..100, 0u8..100, b'A'..=b'Z', 0u8..100).prop_map(
        |(l4, l3, l2, letter, number)| {
            format!("{l4:03}.{l3:02}.{l2:02}.{}{number:02}", char::from(letter))
        },
    )
}

proptest! {
    #[test]
    fn every_valid_e_id_round_trips(text in valid_e_id()) {
        let unit: UnitId = text.parse().expect("generated e-IDs are valid");
        prop_assert_eq!(unit.to_string(), text.clone());
        prop_assert_eq!(unit.to_string().parse::<UnitId>(), Ok(unit.clone()));
        let json = serde_json::to_string(&unit).expect("serialise");
        prop_assert_eq!(serde_json::from_str::<UnitId>(&json).expect("deserialise"), unit);
    }

    #[test]
    fn any_accepted_string_is_kept_verbatim(text in "[0-9A-Z.]{0,16}") {
        if let Ok(unit) = text.parse::<UnitId>() {
            prop_assert_eq!(unit.as_str(), text.as_str());
        }
    }
}

// ---------------------------------------------------------------------------
// A small province and its 2025 reorganisation
// ---------------------------------------------------------------------------

const PROVINCE: &str = "000.00.00.H56";
const HOME_AFFAIRS: &str = "000.00.01.H56";
const JUSTICE: &str = "000.00.06.H56";
const CONSTRUCTION: &str = "000.00.10.H56";
const DONG_SON: &str = "000.00.20.H56";
const DONG_HOA: &str = "000.01.20.H56";
const DONG_LOI: &str = "000.02.20.H56";
const DONG_PHU: &str = "000.03.20.H56";
const TAY_SON: &str = "000.00.21.H56";
const TAY_AN: &str = "000.01.21.H56";
const TAY_BINH: &str = "000.02.21.H56";
const NAM_GIANG: &str = "000.00.22.H56";
const NAM_THANH: &str = "000.01.22.H56";

const DISTRICTS: [&str; 3] = [DONG_SON, TAY_SON, NAM_GIANG];
const COMMUNES: [(&str, &str); 6] = [
    (DONG_HOA, DONG_SON),
    (DONG_LOI, DONG_SON),
    (DONG_PHU, DONG_SON),
    (TAY_AN, TAY_SON),
    (TAY_BINH, TAY_SON),
    (NAM_THANH, NAM_GIANG),
];

fn established() -> DateTime<Utc> {
    vietnam(2020, 1, 1, 0)
}

/// 2025-07-01 00:00 in Vietnam: the district level is abolished.
fn reorganisation() -> DateTime<Utc> {
    vietnam(2025, 7, 1, 0)
}

fn before() -> DateTime<Utc> {
    vietnam(2025, 6, 30, 16)
}

fn after() -> DateTime<Utc> {
    vietnam(2025, 11, 5, 9)
}

fn province() -> UnitHierarchy {
    try_province().expect("the province is consistent")
}

fn try_province() -> Result<UnitHierarchy, HierarchyError> {
    let from = established();
    let province = id(PROVINCE);
    let mut units = UnitHierarchyBuilder::new();
    units.open(
        province.clone(),
        "UBND tỉnh",
        UnitLevel::Province,
        None,
        from,
    );
    for (department, name) in [
        (HOME_AFFAIRS, "Sở Nội vụ"),
        (JUSTICE, "Sở Tư pháp"),
        (CONSTRUCTION, "Sở Xây dựng"),
    ] {
        units.open(
            id(department),
            name,
            UnitLevel::Province,
            Some(&province),
            from,
        );
    }
    for (district, name) in [
        (DONG_SON, "UBND huyện Đông Sơn"),
        (TAY_SON, "UBND huyện Tây Sơn"),
        (NAM_GIANG, "UBND thành phố Nam Giang"),
    ] {
        units.open(
            id(district),
            name,
            UnitLevel::District,
            Some(&province),
            from,
        );
    }
    for ((commune, district), name) in COMMUNES.into_iter().zip([
        "UBND xã Đông Hòa",
        "UBND xã Đông Lợi",
        "UBND xã Đông Phú",
        "UBND xã Tây An",
        "UBND xã Tây Bình",
        "UBND phường Nam Thành",
    ]) {
        units.open(
            id(commune),
            name,
            UnitLevel::Commune,
            Some(&id(district)),
            from,
        );
    }

    // 1 July 2025: Đông Lợi and Đông Phú merge into Đông Hòa, renamed Đông Sơn;
    // every remaining commune comes directly under the province; the
    // districts are abolished, their open dossiers going to Đông Sơn (the
    // commune), to nobody, and to the province.
    let at = reorganisation();
    units
        .merge_into(&id(DONG_LOI), &id(DONG_HOA), at)?
        .merge_into(&id(DONG_PHU), &id(DONG_HOA), at)?
        .rename(&id(DONG_HOA), "UBND xã Đông Sơn", at)?;
    for commune in [DONG_HOA, TAY_AN, TAY_BINH, NAM_THANH] {
        units.move_under(&id(commune), Some(&province), at)?;
    }
    units
        .dissolve(&id(DONG_SON), Some(&id(DONG_HOA)), at)?
        .dissolve(&id(TAY_SON), None, at)?
        .dissolve(&id(NAM_GIANG), Some(&province), at)?;
    units.build()
}

fn ids(texts: &[&str]) -> Vec<UnitId> {
    texts.iter().map(|text| id(text)).collect()
}

#[test]
fn the_tree_before_the_reorganisation_has_three_levels() {
    let units = province();
    let tree = units.tree_at(before());
    assert_eq!(
        tree.to_string(),
        "\
000.00.00.H56 UBND tỉnh
  000.00.01.H56 Sở Nội vụ
  000.00.06.H56 Sở Tư pháp
  000.00.10.H56 Sở Xây dựng
  000.00.20.H56 UBND huyện Đông Sơn
    000.01.20.H56 UBND xã Đông Hòa
    000.02.20.H56 UBND xã Đông Lợi
    000.03.20.H56 UBND xã Đông Phú
  000.00.21.H56 UBND huyện Tây Sơn
    000.01.21.H56 UBND xã Tây An
    000.02.21.H56 UBND xã Tây Bình
  000.00.22.H56 UBND thành phố Nam Giang
    000.01.22.H56 UBND phường Nam Thành
"
    );
    assert_eq!(tree.len(), 13);
    assert_eq!(tree.at(), before());
    let parent = tree.parent(&id(DONG_LOI)).expect("a commune has a parent");
    assert_eq!(parent.id, id(DONG_SON));
    let children: Vec<&UnitId> = tree.children(&id(TAY_SON)).iter().map(|v| &v.id).collect();
    assert_eq!(children, [&id(TAY_AN), &id(TAY_BINH)]);
}

#[test]
fn the_tree_after_the_reorganisation_has_two_levels() {
    let units = province();
    for at in [reorganisation(), after()] {
        let tree = units.tree_at(at);
        assert_eq!(
            tree.to_string(),
            "\
000.00.00.H56 UBND tỉnh
  000.00.01.H56 Sở Nội vụ
  000.00.06.H56 Sở Tư pháp
  000.00.10.H56 Sở Xây dựng
  000.01.20.H56 UBND xã Đông Sơn
  000.01.21.H56 UBND xã Tây An
  000.01.22.H56 UBND phường Nam Thành
  000.02.21.H56 UBND xã Tây Bình
"
        );
        assert!(tree.get(&id(DONG_SON)).is_none());
        assert!(tree.children(&id(DONG_SON)).is_empty());
        assert_eq!(tree.roots().len(), 1);
    }
    assert!(units.tree_at(vietnam(2019, 1, 1, 0)).is_empty());
}

#[test]
fn a_unit_keeps_its_code_across_versions() {
    let units = province();
    let commune = id(DONG_HOA);
    let old = units
        .version_at(&commune, before())
        .expect("in force before");
    assert_eq!(
        (old.name.as_str(), old.parent.clone()),
        ("UBND xã Đông Hòa", Some(id(DONG_SON)))
    );
    let new = units
        .version_at(&commune, reorganisation())
        .expect("in force after");
    assert_eq!(
        (new.name.as_str(), new.parent.clone()),
        ("UBND xã Đông Sơn", Some(id(PROVINCE)))
    );
    assert_eq!(old.valid_to, Some(reorganisation()));
    // Moved and renamed at the same instant: one new version, not two.
    assert_eq!(units.history(&commune).len(), 2);
    assert!(units.version_at(&id(DONG_LOI), reorganisation()).is_none());
}

#[test]
fn a_district_sees_its_communes_until_it_is_abolished() {
    let units = province();
    assert_eq!(
        units.visible_units(&id(DONG_SON), before()),
        ids(&[DONG_SON, DONG_HOA, DONG_LOI, DONG_PHU])
    );
    assert_eq!(
        units.visible_units(&id(DONG_SON), reorganisation()),
        Vec::<UnitId>::new()
    );
    assert_eq!(
        units.visible_units(&id(DONG_SON), after()),
        Vec::<UnitId>::new()
    );
    assert_eq!(units.visible_units(&id(TAY_AN), before()), ids(&[TAY_AN]));
}

#[test]
fn the_province_sees_every_unit_in_force() {
    let units = province();
    let mut before_ids = units.visible_units(&id(PROVINCE), before());
    before_ids.sort();
    let mut all = ids(&[PROVINCE, HOME_AFFAIRS, JUSTICE, CONSTRUCTION]);
    all.extend(DISTRICTS.iter().map(|district| id(district)));
    all.extend(COMMUNES.iter().map(|(commune, _)| id(commune)));
    all.sort();
    assert_eq!(before_ids, all);

    assert_eq!(
        units.visible_units(&id(PROVINCE), after()),
        ids(&[
            PROVINCE,
            HOME_AFFAIRS,
            JUSTICE,
            CONSTRUCTION,
            DONG_HOA,
            TAY_AN,
            NAM_THANH,
            TAY_BINH
        ])
    );
}

#[test]
fn visibility_follows_the_tree_of_the_instant() {
    let units = province();
    let at = reorganisation();
    let just_before = at - Duration::nanoseconds(1);
    let (district, commune) = (id(DONG_SON), id(DONG_HOA));
    assert!(units.sees(&district, &commune, just_before));
    assert!(!units.sees(&district, &commune, at));
    assert!(units.sees(&id(PROVINCE), &commune, just_before));
    assert!(units.sees(&id(PROVINCE), &commune, at));
    // A unit sees itself, never its parent or its siblings.
    assert!(units.sees(&commune, &commune, at));
    assert!(!units.sees(&commune, &id(PROVINCE), at));
    assert!(!units.sees(&id(TAY_SON), &commune, just_before));
    assert!(!units.sees(&id(JUSTICE), &commune, at));
    // A merged-away commune is seen by nobody once it has ended.
    assert!(units.sees(&id(PROVINCE), &id(DONG_LOI), just_before));
    assert!(!units.sees(&id(PROVINCE), &id(DONG_LOI), at));
    assert!(!units.sees(&id(DONG_LOI), &id(DONG_LOI), at));
}

#[test]
fn successors_stand_for_units_that_are_gone() {
    let units = province();
    let today = after();
    // Merged away: the commune it merged into.
    assert_eq!(units.successor_at(&id(DONG_LOI), today), Some(id(DONG_HOA)));
    assert_eq!(
        units.successor_at(&id(DONG_LOI), before()),
        Some(id(DONG_LOI))
    );
    // Moved only: itself.
    assert_eq!(units.successor_at(&id(TAY_AN), today), Some(id(TAY_AN)));
    // Abolished districts: the receiver of their open dossiers, if any.
    assert_eq!(units.successor_at(&id(DONG_SON), today), Some(id(DONG_HOA)));
    assert_eq!(
        units.successor_at(&id(NAM_GIANG), today),
        Some(id(PROVINCE))
    );
    assert_eq!(units.successor_at(&id(TAY_SON), today), None);
    // Not yet established, or unknown.
    assert_eq!(
        units.successor_at(&id(DONG_LOI), vietnam(2019, 1, 1, 0)),
        None
    );
    assert_eq!(units.successor_at(&id("000.09.09.H56"), today), None);
}

#[test]
fn successors_are_followed_through_later_mergers() {
    let mut units = UnitHierarchyBuilder::new();
    let (province, a, b, c) = (id(PROVINCE), id(DONG_HOA), id(DONG_LOI), id(DONG_PHU));
    let (first, second) = (vietnam(2023, 1, 1, 0), reorganisation());
    units.open(
        province.clone(),
        "UBND tỉnh",
        UnitLevel::Province,
        None,
        established(),
    );
    for unit in [&a, &b, &c] {
        units.open(
            unit.clone(),
            unit.as_str(),
            UnitLevel::Commune,
            Some(&province),
            established(),
        );
    }
    units
        .merge_into(&a, &b, first)
        .and_then(|units| units.merge_into(&b, &c, second))
        .expect("both units are open");
    let units = units.build().expect("consistent");
    assert_eq!(
        units.successor_at(&a, first - Duration::seconds(1)),
        Some(a.clone())
    );
    assert_eq!(units.successor_at(&a, first), Some(b.clone()));
    assert_eq!(units.successor_at(&a, second), Some(c.clone()));
}

#[test]
fn a_split_off_unit_is_not_its_source_successor() {
    let mut units = UnitHierarchyBuilder::new();
    let (province, source, split) = (id(PROVINCE), id(TAY_AN), id("000.03.21.H56"));
    let at = vietnam(2022, 3, 1, 0);
    units
        .open(
            province.clone(),
            "UBND tỉnh",
            UnitLevel::Province,
            None,
            established(),
        )
        .open(
            source.clone(),
            "UBND xã Tây An",
            UnitLevel::Commune,
            Some(&province),
            established(),
        )
        .split_off(
            &source,
            split.clone(),
            "UBND xã Tây Hòa",
            UnitLevel::Commune,
            Some(&province),
            at,
        );
    let units = units.build().expect("consistent");
    assert_eq!(units.successor_at(&source, after()), Some(source.clone()));
    assert_eq!(units.successor_at(&split, at - Duration::seconds(1)), None);
    assert_eq!(
        units.successions(),
        [Succession {
            from: source,
            to: Some(split),
            kind: SuccessionKind::SplitFrom,
            at,
        }]
    );
}

// ---------------------------------------------------------------------------
// Constructor rejections
// ---------------------------------------------------------------------------

fn version(
    unit: &str,
    level: UnitLevel,
    parent: Option<&str>,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
) -> UnitVersion {
    UnitVersion {
        id: id(unit),
        name: unit.to_owned(),
        level,
        parent: parent.map(id),
        valid_from,
        valid_to,
    }
}

fn root() -> UnitVersion {
    version(PROVINCE, UnitLevel::Province, None, established(), None)
}

#[test]
fn overlapping_versions_of_a_unit_are_rejected() {
    let (t0, t1, t2) = (established(), vietnam(2023, 1, 1, 0), reorganisation());
    let result = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t0, Some(t2)),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t1, None),
        ],
        vec![],
    );
    assert_eq!(
        result.map(|_| ()),
        Err(HierarchyError::Overlap {
            unit: id(DONG_SON),
            earlier_from: t0,
            later_from: t1,
        })
    );
    let open_twice = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t1, None),
            root(),
        ],
        vec![],
    );
    assert!(matches!(open_twice, Err(HierarchyError::Overlap { .. })));
}

#[test]
fn empty_intervals_are_rejected() {
    let at = reorganisation();
    let result = UnitHierarchy::new(
        vec![version(PROVINCE, UnitLevel::Province, None, at, Some(at))],
        vec![],
    );
    assert!(matches!(result, Err(HierarchyError::EmptyInterval { .. })));
}

#[test]
fn a_parent_must_exist_and_outlive_its_child() {
    let (t0, t1) = (established(), reorganisation());
    let unknown = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_HOA, UnitLevel::Commune, Some(DONG_SON), t0, None),
        ],
        vec![],
    );
    assert_eq!(
        unknown.map(|_| ()),
        Err(HierarchyError::UnknownParent {
            unit: id(DONG_HOA),
            parent: id(DONG_SON),
        })
    );
    // The district ends while its commune still names it.
    let dangling = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t0, Some(t1)),
            version(DONG_HOA, UnitLevel::Commune, Some(DONG_SON), t0, None),
        ],
        vec![],
    );
    assert_eq!(
        dangling.map(|_| ()),
        Err(HierarchyError::ParentNotValid {
            unit: id(DONG_HOA),
            parent: id(DONG_SON),
            at: t1,
        })
    );
    // A parent in force over the child's interval through two versions is fine.
    let renamed_parent = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t0, Some(t1)),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t1, None),
            version(DONG_HOA, UnitLevel::Commune, Some(DONG_SON), t0, None),
        ],
        vec![],
    );
    assert!(renamed_parent.is_ok());
}

#[test]
fn a_parent_cannot_be_below_its_child() {
    let t0 = established();
    let result = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_HOA, UnitLevel::Commune, Some(PROVINCE), t0, None),
            version(DONG_SON, UnitLevel::District, Some(DONG_HOA), t0, None),
        ],
        vec![],
    );
    assert!(matches!(
        result,
        Err(HierarchyError::ParentBelowChild { .. })
    ));
}

#[test]
fn cycles_are_rejected_at_any_instant() {
    let (t0, t1) = (established(), reorganisation());
    // Acyclic until t1, when each moves under the other.
    let result = UnitHierarchy::new(
        vec![
            root(),
            version(DONG_SON, UnitLevel::District, Some(PROVINCE), t0, Some(t1)),
            version(DONG_SON, UnitLevel::District, Some(TAY_SON), t1, None),
            version(TAY_SON, UnitLevel::District, Some(PROVINCE), t0, Some(t1)),
            version(TAY_SON, UnitLevel::District, Some(DONG_SON), t1, None),
        ],
        vec![],
    );
    assert_eq!(
        result.map(|_| ()),
        Err(HierarchyError::Cycle {
            unit: id(DONG_SON),
            at: t1,
        })
    );
    let own_parent = UnitHierarchy::new(
        vec![version(
            PROVINCE,
            UnitLevel::Province,
            Some(PROVINCE),
            t0,
            None,
        )],
        vec![],
    );
    assert!(matches!(own_parent, Err(HierarchyError::Cycle { .. })));
}

#[test]
fn succession_edges_must_match_the_versions() {
    let (t0, t1) = (established(), reorganisation());
    let versions = || {
        vec![
            root(),
            version(DONG_HOA, UnitLevel::Commune, Some(PROVINCE), t0, None),
            version(DONG_LOI, UnitLevel::Commune, Some(PROVINCE), t0, Some(t1)),
        ]
    };
    let edge = |from: &str, to: Option<&str>, kind, at| Succession {
        from: id(from),
        to: to.map(id),
        kind,
        at,
    };
    let check = |successions| UnitHierarchy::new(versions(), successions).map(|_| ());
    assert_eq!(
        check(vec![edge(
            DONG_LOI,
            Some(DONG_HOA),
            SuccessionKind::MergedInto,
            t1
        )]),
        Ok(())
    );
    assert_eq!(
        check(vec![edge(
            DONG_LOI,
            Some(DONG_PHU),
            SuccessionKind::MergedInto,
            t1
        )]),
        Err(HierarchyError::UnknownSuccessionUnit {
            kind: SuccessionKind::MergedInto,
            unit: id(DONG_PHU),
        })
    );
    assert_eq!(
        check(vec![edge(DONG_LOI, None, SuccessionKind::MergedInto, t1)]),
        Err(HierarchyError::MissingSuccessor {
            kind: SuccessionKind::MergedInto,
            from: id(DONG_LOI),
        })
    );
    assert_eq!(
        check(vec![edge(
            DONG_HOA,
            Some(DONG_HOA),
            SuccessionKind::MergedInto,
            t1
        )]),
        Err(HierarchyError::SelfSuccession {
            kind: SuccessionKind::MergedInto,
            unit: id(DONG_HOA),
        })
    );
    assert_eq!(
        check(vec![edge(
            DONG_HOA,
            Some(DONG_LOI),
            SuccessionKind::MergedInto,
            t1
        )]),
        Err(HierarchyError::SourceStillValid {
            kind: SuccessionKind::MergedInto,
            from: id(DONG_HOA),
            at: t1,
        })
    );
    assert_eq!(
        check(vec![edge(
            DONG_LOI,
            Some(DONG_HOA),
            SuccessionKind::MergedInto,
            t0
        )]),
        Err(HierarchyError::SourceNotValid {
            kind: SuccessionKind::MergedInto,
            from: id(DONG_LOI),
            at: t0,
        })
    );
    let later = vietnam(2030, 1, 1, 0);
    assert!(matches!(
        check(vec![edge(
            DONG_HOA,
            Some(DONG_LOI),
            SuccessionKind::SplitFrom,
            later
        )]),
        Err(HierarchyError::SuccessorNotValid { .. })
    ));
    assert_eq!(
        check(vec![
            edge(DONG_LOI, Some(DONG_HOA), SuccessionKind::MergedInto, t1),
            edge(DONG_LOI, Some(PROVINCE), SuccessionKind::Dissolved, t1),
        ]),
        Err(HierarchyError::AmbiguousSuccession {
            unit: id(DONG_LOI),
            at: t1,
        })
    );
}

#[test]
fn the_builder_only_changes_open_units() {
    let mut units = UnitHierarchyBuilder::new();
    let at = reorganisation();
    let result = units
        .rename(&id(DONG_HOA), "UBND xã Đông Sơn", at)
        .map(|_| ());
    assert_eq!(
        result,
        Err(HierarchyError::NoOpenVersion {
            unit: id(DONG_HOA),
            at,
        })
    );
}

#[test]
fn errors_name_what_is_wrong() {
    let error = HierarchyError::ParentNotValid {
        unit: id(DONG_HOA),
        parent: id(DONG_SON),
        at: reorganisation(),
    };
    assert_eq!(
        error.to_string(),
        "000.01.20.H56 names 000.00.20.H56 as its parent, but 000.00.20.H56 is not in force at 2025-06-30 17:00:00 UTC"
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// The ancestor chain of `unit` at `at`, itself first, walked by hand.
fn lineage(units: &UnitHierarchy, unit: &UnitId, at: DateTime<Utc>) -> Vec<UnitId> {
    let mut chain = Vec::new();
    let mut current = units.version_at(unit, at);
    while let Some(version) = current {
        chain.push(version.id.clone());
        current = version
            .parent
            .as_ref()
            .and_then(|parent| units.version_at(parent, at));
    }
    chain
}

fn assert_scopes_follow_ancestry(
    units: &UnitHierarchy,
    at: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let mut all: Vec<&UnitId> = units.versions().iter().map(|version| &version.id).collect();
    all.dedup();
    for &viewer in &all {
        let visible = units.visible_units(viewer, at);
        for unit in &visible {
            prop_assert!(
                lineage(units, unit, at).contains(viewer),
                "{viewer} sees {unit} at {at}"
            );
        }
        for &unit in &all {
            prop_assert_eq!(
                units.sees(viewer, unit, at),
                visible.contains(unit),
                "{} / {} at {}",
                viewer,
                unit,
                at
            );
        }
    }
    Ok(())
}

/// Instants from 2019 to 2027, denser around the reorganisation.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let start = vietnam(2019, 1, 1, 0);
    let boundary = reorganisation();
    prop_oneof![
        (0i64..8 * 365 * 24 * 3600).prop_map(move |seconds| start + Duration::seconds(seconds)),
        (-5i64..5).prop_map(move |nanos| boundary + Duration::nanoseconds(nanos)),
    ]
}

/// A random hierarchy: unit 0 is the root; each other unit starts under a
/// lower-numbered unit and moves under other lower-numbered units at random
/// instants (lower numbers keep it acyclic; every unit stays in force, so
/// every parent covers its children).
fn random_hierarchy() -> impl Strategy<Value = UnitHierarchy> {
    let moves = prop::collection::vec((1u32..2000, any::<prop::sample::Index>()), 0..4);
    prop::collection::vec(moves, 1..12).prop_map(|units| {
        let start = vietnam(2019, 1, 1, 0);
        let unit_id = |index: usize| id(&format!("{index:03}.00.00.H56"));
        let mut builder = UnitHierarchyBuilder::new();
        builder.open(unit_id(0), "root", UnitLevel::Province, None, start);
        for (index, moves) in units.into_iter().enumerate() {
            let (unit, parents) = (unit_id(index + 1), index + 1);
            builder.open(
                unit.clone(),
                "unit",
                UnitLevel::Commune,
                Some(&unit_id(0)),
                start,
            );
            let mut day = 0;
            for (gap, parent) in moves {
                day += gap;
                let at = start + Duration::days(i64::from(day));
                builder
                    .move_under(&unit, Some(&unit_id(parent.index(parents))), at)
                    .expect("the unit is open");
            }
        }
        builder
            .build()
            .expect("lower-numbered parents make a valid hierarchy")
    })
}

proptest! {
    #[test]
    fn every_visible_unit_has_the_viewer_as_ancestor(at in instant()) {
        assert_scopes_follow_ancestry(&province(), at)?;
    }

    #[test]
    fn scopes_follow_ancestry_in_random_hierarchies(
        units in random_hierarchy(),
        days in prop::collection::vec(0i64..8000, 1..5),
    ) {
        for day in days {
            assert_scopes_follow_ancestry(&units, vietnam(2019, 1, 1, 0) + Duration::days(day))?;
        }
    }
}
