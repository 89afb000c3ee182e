//! The unit tables: the closure answers "who is under whom at T" exactly
//! as the domain's hierarchy does, before and after the reorganisation.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::Duration;
use common::TestStore;
use common::history;
use motcua_projections::ReadModels;
use motcua_projections::units::closure;

on_both_backends!(the_closure_answers_as_the_hierarchy_does);

async fn the_closure_answers_as_the_hierarchy_does(db: &TestStore) {
    let services = history::services();
    let units = &services.units;
    let read_models = ReadModels::new(&db.store);
    read_models.store_units(units).await.unwrap();
    // Storing again replaces, never duplicates.
    read_models.store_units(units).await.unwrap();

    let reorganised = history::reorganisation();
    let instants = [
        units.versions()[0].valid_from,
        reorganised - Duration::microseconds(1),
        reorganised,
        reorganised + Duration::days(40),
        history::horizon(),
    ];
    let mut ids: Vec<_> = units
        .versions()
        .iter()
        .map(|version| version.id.clone())
        .collect();
    ids.dedup();
    let mut compared = 0;
    for at in instants {
        for viewer in &ids {
            let mut expected = units.visible_units(viewer, at);
            expected.sort();
            let found = read_models.units_under(viewer, at).await.unwrap();
            assert_eq!(found, expected, "{viewer} at {at}");
            compared += found.len();
        }
    }
    assert!(compared > ids.len(), "some units have others under them");
    assert!(
        closure(units).iter().any(|row| row.depth >= 2),
        "the hierarchy has at least three levels"
    );
    // The reorganisation changed who is under the province: the answers
    // above covered both trees.
    let root = ids
        .iter()
        .find(|id| {
            units
                .version_at(id, instants[1])
                .is_some_and(|v| v.parent.is_none())
        })
        .unwrap();
    assert_ne!(
        read_models.units_under(root, instants[1]).await.unwrap(),
        read_models.units_under(root, instants[3]).await.unwrap(),
    );

    // Whose records a viewer may reach: the units under it at any time,
    // those merged away or moved elsewhere since included.
    let ids = |codes: &[&str]| {
        let mut ids: Vec<_> = codes.iter().map(|code| history::unit(code)).collect();
        ids.sort();
        ids
    };
    use history::{DONG_HOA, DONG_LOI, DONG_PHU, DONG_SON, TAY_AN, TAY_BINH, TAY_HA, TAY_SON};
    assert_eq!(
        units.ever_visible_units(&history::unit(DONG_SON)),
        ids(&[DONG_SON, DONG_HOA, DONG_LOI, DONG_PHU])
    );
    assert!(
        !units
            .visible_units(&history::unit(DONG_SON), instants[3])
            .contains(&history::unit(DONG_LOI))
    );
    assert_eq!(
        units.ever_visible_units(&history::unit(TAY_SON)),
        ids(&[TAY_SON, TAY_AN, TAY_BINH, TAY_HA])
    );
    assert!(
        units
            .visible_units(&history::unit(TAY_SON), instants[3])
            .is_empty()
    );
    assert_eq!(
        units.ever_visible_units(root),
        ids(&history::UNITS),
        "the province reaches every unit"
    );
}
