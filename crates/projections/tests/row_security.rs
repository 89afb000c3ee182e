//! The second wall of tenant isolation, on PostgreSQL: row-level security
//! on every read-model table binds the confined role the server acts as.
//! Whatever a query asks for, a handle confined to some units reads only
//! their rows; a transaction without the setting reads nothing; the
//! setting never outlives its transaction on a pooled connection; and the
//! role check refuses roles that would pass the policies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use common::history::{self, HistoryConfig};
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_domain::unit::UnitId;
use motcua_projections::dossiers::{DossierFilter, DossierOrder, TimeRange};
use motcua_projections::report::{GroupBy, HierarchyView, ReportQuery};
use motcua_projections::{ProjectionError, Projector, ProjectorConfig, ReadModels, Visibility};
use motcua_store::{EventStore, StoreError};
use sqlx::{Connection, PgConnection, Row};

/// The tables that are not read models: the event log and what guards it.
const NOT_READ_MODELS: [&str; 7] = [
    "_sqlx_migrations",
    "events",
    "snapshots",
    "dossier_code_counters",
    "commands",
    "checkpoints",
    "checkpoint_heads",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn row_level_security_confines_every_read_model() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let generated = history::generate(
        &db.store,
        HistoryConfig {
            seed: 51,
            dossiers: 300,
            concurrency: 8,
        },
    )
    .await;
    let everything = ReadModels::new(&db.store);
    Projector::new(
        db.store.clone(),
        everything.clone(),
        ProjectorConfig::default(),
    )
    .catch_up()
    .await
    .unwrap();
    everything.store_units(&generated.hierarchy).await.unwrap();

    // As a superuser (which the policies do not bind): the ground truth.
    let mut superuser = PgConnection::connect(&db.url).await.unwrap();
    every_read_model_table_forces_row_security(&mut superuser).await;
    let holders: Vec<(String, Vec<String>, Option<String>)> =
        sqlx::query("SELECT aggregate_id, holders, code FROM dossiers")
            .fetch_all(&mut superuser)
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
    assert_eq!(holders.len(), generated.dossiers);
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT d.holders, ARRAY(SELECT unit_id FROM dossier_holders h \
         WHERE h.generation = d.generation AND h.aggregate_id = d.aggregate_id) AS listed \
         FROM dossiers d) AS d WHERE NOT (holders @> listed AND holders <@ listed)",
    )
    .fetch_one(&mut superuser)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "each row's holders are its dossier_holders");

    // Two units apart in the tree that no dossier passed between: what one
    // sees, the other must not.
    let held_by = |unit: &str| -> BTreeSet<String> {
        holders
            .iter()
            .filter(|(_, units, _)| units.iter().any(|held| held == unit))
            .map(|(id, _, _)| id.clone())
            .collect()
    };
    let (a, b) = [
        history::DONG_HOA,
        history::TAY_AN,
        history::JUSTICE,
        history::ENVIRONMENT,
    ]
    .iter()
    .flat_map(|a| history::UNITS.iter().map(move |b| (*a, *b)))
    .find(|(a, b)| {
        let under = |top: &str, unit: &str| {
            let units = generated.hierarchy.ever_visible_units(&history::unit(top));
            units.contains(&history::unit(unit))
        };
        a != b
            && !under(a, b)
            && !under(b, a)
            && !held_by(a).is_empty()
            && !held_by(b).is_empty()
            && held_by(a).is_disjoint(&held_by(b))
    })
    .expect("two units that never shared a dossier");
    let (a, b) = (history::unit(a), history::unit(b));
    let only_a = everything.visible_to(&Visibility::Units(vec![a.clone()]));

    // Dossier lists, whatever the filter asks for.
    let ever_held_by = |unit: &UnitId| DossierFilter {
        units: vec![unit.clone()],
        ever_held: true,
        include_deleted: true,
        ..DossierFilter::default()
    };
    assert_eq!(
        all_ids(&everything, &ever_held_by(&b)).await,
        held_by(b.as_str())
    );
    assert!(all_ids(&only_a, &ever_held_by(&b)).await.is_empty());
    assert_eq!(
        all_ids(&only_a, &ever_held_by(&a)).await,
        held_by(a.as_str())
    );
    let (_, _, code) = holders
        .iter()
        .find(|(id, _, code)| held_by(b.as_str()).contains(id) && code.is_some())
        .expect("a dossier of b with a code");
    let code = code.as_deref().unwrap();
    assert!(
        everything
            .dossier_by_code(code, std::slice::from_ref(&b))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        only_a
            .dossier_by_code(code, std::slice::from_ref(&b))
            .await
            .unwrap(),
        None
    );
    let year = TimeRange {
        from: Some(history::vn(2024, 1, 1, 0, 0)),
        to: Some(history::horizon()),
    };
    let now = history::horizon();
    assert!(
        !everything
            .officer_loads(
                std::slice::from_ref(&b),
                TimelinessPolicy::default(),
                now,
                year
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        only_a
            .officer_loads(
                std::slice::from_ref(&b),
                TimelinessPolicy::default(),
                now,
                year
            )
            .await
            .unwrap()
            .is_empty()
    );

    // The report's counters.
    let report_of_b = ReportQuery {
        unit: b.clone(),
        from: history::first_day(),
        to: history::last_day(),
        group_by: GroupBy::Procedure,
        view: HierarchyView::Recorded,
        today: now,
    };
    let seen = everything
        .report(&generated.hierarchy, &report_of_b)
        .await
        .unwrap();
    assert!(seen.subtree.received_total() > 0);
    let hidden = only_a
        .report(&generated.hierarchy, &report_of_b)
        .await
        .unwrap();
    assert_eq!(hidden.subtree.received_total(), 0);
    assert!(hidden.rows.is_empty());

    // No units, no rows: not even the projections' own.
    let nobody = everything.visible_to(&Visibility::Units(Vec::new()));
    assert!(all_ids(&nobody, &ever_held_by(&a)).await.is_empty());
    assert!(nobody.statuses().await.unwrap().is_empty());
    assert!(matches!(
        nobody.live(motcua_projections::DOSSIERS).await,
        Err(ProjectionError::NoLiveGeneration { .. })
    ));
    assert!(
        nobody
            .units_under(&a, Utc::now() - Duration::days(400))
            .await
            .unwrap()
            .is_empty()
    );

    settings_live_only_in_their_transaction(&db.store, &a, &b).await;
    roles_that_pass_the_policies_are_refused(&db.url).await;
}

/// Every table but the event log's has row-level security, forced (the
/// owner bound too), and a policy: a read-model table added later without
/// them fails here. A generation's partitions (migration 0010) are reached
/// only through their parents, whose policies apply: the application role
/// holds no privilege on them.
async fn every_read_model_table_forces_row_security(superuser: &mut PgConnection) {
    let tables: Vec<(String, bool, bool, i64)> = sqlx::query(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
         (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
    )
    .fetch_all(&mut *superuser)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
    .collect();
    let read_models: Vec<_> = tables
        .iter()
        .filter(|(name, ..)| !NOT_READ_MODELS.contains(&name.as_str()))
        .collect();
    assert!(read_models.len() >= 8, "{tables:?}");
    for (name, enabled, forced, policies) in read_models {
        assert!(
            *enabled && *forced && *policies > 0,
            "{name}: row security enabled {enabled}, forced {forced}, {policies} policies"
        );
    }

    let partitions: Vec<(String, bool)> = sqlx::query(
        "SELECT c.relname::text, \
         has_table_privilege('motcua_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relispartition ORDER BY 1",
    )
    .fetch_all(&mut *superuser)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    assert!(
        partitions.len() >= 6,
        "every read-model table is partitioned by generation: {partitions:?}"
    );
    for (name, reachable) in partitions {
        assert!(
            !reachable,
            "{name}: the application role may use a partition directly"
        );
    }
}

async fn all_ids(read_models: &ReadModels, filter: &DossierFilter) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut after = None;
    loop {
        let page = read_models
            .dossiers(filter, DossierOrder::NewestFirst, 100, after.as_ref())
            .await
            .unwrap();
        ids.extend(page.rows.into_iter().map(|row| row.aggregate_id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}

/// The confined role, by hand: nothing without the setting; the setting
/// of one transaction is gone when it ends, on the same connection; rows
/// of other units can be neither read nor written.
async fn settings_live_only_in_their_transaction(store: &EventStore, a: &UnitId, b: &UnitId) {
    let EventStore::Postgres(postgres) = store else {
        unreachable!("a PostgreSQL test")
    };
    let mut connection = postgres.pool().acquire().await.unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(role, "motcua_app");
    let count = "SELECT (SELECT count(*) FROM dossiers) + (SELECT count(*) FROM dossier_holders) \
                 + (SELECT count(*) FROM bieu06_unit_day) + (SELECT count(*) FROM bieu06_procedure_day) \
                 + (SELECT count(*) FROM unit_versions) + (SELECT count(*) FROM projections)";
    let unscoped: i64 = sqlx::query_scalar(count)
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(unscoped, 0, "no setting, no rows");

    let mut tx = connection.begin().await.unwrap();
    sqlx::query("SELECT set_config('motcua.visible_units', $1, true)")
        .bind(a.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    let units: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT unit_id FROM dossier_holders UNION SELECT DISTINCT unit_id FROM bieu06_unit_day")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(units, vec![a.to_string()]);
    let scoped: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap();
    assert!(scoped > 0);
    // Writing another unit's row is refused too (the policy checks new rows).
    let refused = sqlx::query(
        "INSERT INTO dossier_holders (generation, unit_id, aggregate_id) VALUES (1, $1, 'forged')",
    )
    .bind(b.as_str())
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("row-level security"),
        "{refused}"
    );
    tx.rollback().await.unwrap();

    let after: i64 = sqlx::query_scalar(count)
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(after, 0, "the setting ended with its transaction");
}

async fn roles_that_pass_the_policies_are_refused(url: &str) {
    let superuser = EventStore::connect(url).await.unwrap();
    assert!(matches!(
        superuser.check_confined().await,
        Err(StoreError::NotConfined { reason, .. }) if reason.contains("superuser")
    ));
    let owner = EventStore::connect_as(url, "motcua_owner").await.unwrap();
    assert!(matches!(
        owner.check_confined().await,
        Err(StoreError::NotConfined { reason, .. }) if reason.contains("owns")
    ));
    let app = EventStore::connect_as(url, "motcua_app").await.unwrap();
    app.check_confined().await.unwrap();
}
