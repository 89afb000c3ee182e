//! Dossier codes on both backends: taken one or many at a time from the
//! per-unit daily counters, never twice; and finding a dossier by its code,
//! where only the acceptance that issued the code counts, through migration
//! 0005's partial expression index.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use common::event;
use motcua_domain::unit::UnitId;
use motcua_store::{EventStore, NewEvent, StoreError};
use serde_json::json;

on_both_backends!(
    codes_are_taken_one_or_many_at_a_time_in_sequence,
    concurrent_takers_never_receive_the_same_code,
    a_date_no_code_can_carry_takes_no_number,
    a_dossier_is_found_by_the_code_its_acceptance_issued,
    the_lookup_uses_the_partial_expression_index,
);

const CODE: &str = "000.01.20.H56-241105-0001";

/// Event `sequence` of dossier `id` of type `event_type`, whose change
/// carries `code`, shaped like the domain's events (`at`, `by`, `change`).
fn with_code(id: &str, sequence: i64, event_type: &str, code: &str) -> NewEvent {
    NewEvent {
        event_type: event_type.to_owned(),
        payload: json!({
            "at": "2024-11-05T01:15:00Z",
            "by": {"user_id": "officer", "unit": "000.01.20.H56", "roles": ["reception_officer"]},
            "change": {
                "type": event_type,
                "code": code,
                "unit": "000.01.20.H56",
                "counting_from": "2024-11-05T01:15:00Z",
                "due_at": "2024-11-05T07:15:00Z"
            }
        }),
        ..event(id, sequence)
    }
}

fn unit(id: &str) -> UnitId {
    id.parse().unwrap()
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

async fn codes_are_taken_one_or_many_at_a_time_in_sequence(store: &EventStore) {
    let (ward, monday) = (unit("000.01.20.H56"), day(2026, 1, 5));
    let first = store.next_dossier_code(&ward, monday).await.unwrap();
    assert_eq!(first.to_string(), "000.01.20.H56-260105-0001");
    let batch = store.next_dossier_codes(&ward, monday, 3).await.unwrap();
    assert_eq!(
        batch.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "000.01.20.H56-260105-0002",
            "000.01.20.H56-260105-0003",
            "000.01.20.H56-260105-0004"
        ]
    );
    assert!(
        store
            .next_dossier_codes(&ward, monday, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let next = store.next_dossier_code(&ward, monday).await.unwrap();
    assert_eq!(next.sequence(), 5, "a count of 0 took no number");
    // Each unit and each day counts from 1.
    let tuesday = store
        .next_dossier_codes(&ward, day(2026, 1, 6), 2)
        .await
        .unwrap();
    assert_eq!(
        tuesday
            .iter()
            .map(|code| code.sequence())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let other = store
        .next_dossier_code(&unit("000.00.20.H56"), monday)
        .await
        .unwrap();
    assert_eq!(other.sequence(), 1);
}

async fn concurrent_takers_never_receive_the_same_code(store: &EventStore) {
    const TAKERS: u32 = 8;
    const ROUNDS: u32 = 10;
    let (ward, monday) = (unit("000.01.20.H56"), day(2026, 1, 5));
    let takers = (0..TAKERS).map(|taker| {
        let (store, ward) = (store.clone(), ward.clone());
        tokio::spawn(async move {
            let mut sequences = Vec::new();
            for round in 0..ROUNDS {
                // Singles and batches of 1 to 4, interleaved across takers.
                let count = (taker + round) % 5;
                let codes = if count == 0 {
                    vec![store.next_dossier_code(&ward, monday).await.unwrap()]
                } else {
                    store
                        .next_dossier_codes(&ward, monday, count)
                        .await
                        .unwrap()
                };
                let taken: Vec<u32> = codes.iter().map(|code| code.sequence()).collect();
                assert!(
                    taken.windows(2).all(|pair| pair[1] == pair[0] + 1),
                    "a batch is consecutive: {taken:?}"
                );
                sequences.extend(taken);
            }
            sequences
        })
    });
    let mut all = Vec::new();
    for taker in takers {
        all.extend(taker.await.unwrap());
    }
    let distinct: BTreeSet<u32> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "no code was handed out twice");
    let expected_total: u32 = (0..TAKERS)
        .flat_map(|taker| (0..ROUNDS).map(move |round| ((taker + round) % 5).max(1)))
        .sum();
    assert_eq!(
        distinct,
        (1..=expected_total).collect::<BTreeSet<u32>>(),
        "the numbers taken are 1 to {expected_total} without gaps"
    );
}

async fn a_date_no_code_can_carry_takes_no_number(store: &EventStore) {
    let ward = unit("000.01.20.H56");
    for date in [day(1999, 12, 31), day(2100, 1, 1)] {
        let single = store.next_dossier_code(&ward, date).await;
        assert!(
            matches!(single, Err(StoreError::DossierCode { .. })),
            "{single:?}"
        );
        let batch = store.next_dossier_codes(&ward, date, 3).await;
        assert!(
            matches!(batch, Err(StoreError::DossierCode { .. })),
            "{batch:?}"
        );
    }
    const COUNTERS: &str = "SELECT count(*) FROM dossier_code_counters";
    let counters: i64 = match store {
        EventStore::Postgres(postgres) => sqlx::query_scalar(COUNTERS)
            .fetch_one(postgres.pool())
            .await
            .unwrap(),
        EventStore::Sqlite(sqlite) => sqlx::query_scalar(COUNTERS)
            .fetch_one(sqlite.pool())
            .await
            .unwrap(),
    };
    assert_eq!(counters, 0, "no counter was started for those dates");
}

async fn a_dossier_is_found_by_the_code_its_acceptance_issued(store: &EventStore) {
    let other = "000.01.20.H56-241105-0002";
    store
        .append(
            &[event("d1", 1), with_code("d1", 2, "DossierAccepted", CODE)],
            None,
        )
        .await
        .unwrap();
    store
        .append(&[with_code("d2", 1, "DossierAccepted", other)], None)
        .await
        .unwrap();
    // Another event type mentioning the code does not make d3 the dossier.
    store
        .append(&[with_code("d3", 1, "DossierTransferred", CODE)], None)
        .await
        .unwrap();

    assert_eq!(
        store.dossier_stream(CODE).await.unwrap().as_deref(),
        Some("d1")
    );
    assert_eq!(
        store.dossier_stream(other).await.unwrap().as_deref(),
        Some("d2")
    );
    assert_eq!(
        store
            .dossier_stream("000.01.20.H56-241105-0003")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.dossier_stream("").await.unwrap(), None);
}

async fn the_lookup_uses_the_partial_expression_index(store: &EventStore) {
    match store {
        EventStore::Postgres(postgres) => {
            // Tiny tables are scanned whatever the indexes: forbid that.
            let mut tx = postgres.pool().begin().await.unwrap();
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .unwrap();
            let plan: Vec<String> = sqlx::query_scalar(
                "EXPLAIN SELECT aggregate_id FROM events \
                 WHERE event_type = 'DossierAccepted' AND (payload -> 'change' ->> 'code') = $1 \
                   AND aggregate_type = $2 \
                 ORDER BY transaction_id, position LIMIT 1",
            )
            .bind(CODE)
            .bind("Dossier")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            let plan = plan.join("\n");
            assert!(plan.contains("events_dossier_code"), "{plan}");
        }
        EventStore::Sqlite(sqlite) => {
            let plan = explain_sqlite(sqlite.pool()).await;
            assert!(plan.contains("USING INDEX events_dossier_code"), "{plan}");
        }
    }
}

/// `EXPLAIN QUERY PLAN` rows: (id, parent, notused, detail).
async fn explain_sqlite(pool: &sqlx::SqlitePool) -> String {
    use sqlx::Row;
    let rows = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT aggregate_id FROM events \
         WHERE event_type = 'DossierAccepted' AND json_extract(payload, '$.change.code') = ?1 \
           AND aggregate_type = ?2 \
         ORDER BY position LIMIT 1",
    )
    .bind(CODE)
    .bind("Dossier")
    .fetch_all(pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| row.get::<String, _>(3))
        .collect::<Vec<_>>()
        .join("\n")
}
