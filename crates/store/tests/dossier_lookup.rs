//! Finding a dossier by its code, on both backends: only the acceptance
//! that issued the code counts, and the lookup uses migration 0005's partial
//! expression index.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::event;
use motcua_store::{EventStore, NewEvent};
use serde_json::json;

on_both_backends!(
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
