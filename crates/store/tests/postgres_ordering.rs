//! PostgreSQL only: the global log stays gap-free when transactions commit
//! in another order than they took their positions. Writers here hold their
//! transactions open for random times (and some roll back) while a reader
//! tails the log: the reader must receive every committed event exactly
//! once, in one consistent order, and never a rolled-back one.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::Xorshift;
use motcua_store::{EventStore, LogCursor};
use sqlx::Row;

const WRITERS: u64 = 16;
const TRANSACTIONS: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_reader_misses_nothing_when_commits_come_out_of_order() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let EventStore::Postgres(postgres) = &db.store else {
        unreachable!("a PostgreSQL store")
    };
    let pool = postgres.pool().clone();

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut random = Xorshift(0xD1B5_4A32_D192_ED03 ^ (writer + 1));
                let mut committed = Vec::new();
                for round in 0..TRANSACTIONS {
                    let mut tx = pool.begin().await.unwrap();
                    let mut positions = Vec::new();
                    // Several rows per transaction, with sleeps between them:
                    // positions are taken early, the commit comes late.
                    for row in 0..=random.below(3) {
                        let position: i64 = sqlx::query(
                            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                             payload, metadata, unit_id, actor, recorded_at, hash) \
                             VALUES ('Dossier', $1, $2, 'Noted', '1.0', '{}', '{}', 'u', 'w', now(), $3) RETURNING position",
                        )
                        .bind(format!("w{writer}-r{round}"))
                        .bind(row as i64 + 1)
                        .bind(vec![0u8; 32])
                        .fetch_one(&mut *tx)
                        .await
                        .unwrap()
                        .get("position");
                        positions.push(position);
                        tokio::time::sleep(Duration::from_micros(random.below(3_000))).await;
                    }
                    if random.below(5) == 0 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                        committed.extend(positions);
                    }
                }
                committed
            })
        })
        .collect();

    let reader_store = db.store.clone();
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        let mut after = LogCursor::START;
        let mut idle_rounds_after_writers = 0;
        loop {
            let page = reader_store.read_all(after, 17).await.unwrap();
            match page.last() {
                Some(last) => after = last.cursor,
                None => {
                    // The writers signal the end by a marker row; stop a few empty polls after it.
                    if received.iter().any(|event: &motcua_store::RecordedEvent| {
                        event.event.aggregate_id == "end"
                    }) {
                        idle_rounds_after_writers += 1;
                        if idle_rounds_after_writers > 3 {
                            return received;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            received.extend(page);
        }
    });

    let mut committed = HashSet::new();
    for writer in writers {
        committed.extend(writer.await.unwrap());
    }
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata, unit_id, actor, recorded_at, hash) \
         VALUES ('Dossier', 'end', 1, 'End', '1.0', '{}', '{}', 'u', 'w', now(), $1)",
    )
    .bind(vec![0u8; 32])
    .execute(&pool)
    .await
    .unwrap();
    let received = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .unwrap()
        .unwrap();

    let received_positions: Vec<i64> = received
        .iter()
        .filter(|event| event.event.aggregate_id != "end")
        .map(|event| event.cursor.position)
        .collect();
    let unique: HashSet<i64> = received_positions.iter().copied().collect();
    assert_eq!(
        unique.len(),
        received_positions.len(),
        "an event was received twice"
    );
    assert_eq!(
        unique, committed,
        "received events differ from the committed ones"
    );
    assert!(
        committed.len() > 100,
        "the test must exercise enough transactions"
    );

    let log = db.store.read_all(LogCursor::START, u32::MAX).await.unwrap();
    assert_eq!(
        log.len(),
        received.len(),
        "the full log holds what the reader received"
    );
    let log_order: Vec<_> = log.iter().map(|event| event.cursor).collect();
    let tail_order: Vec<_> = received.iter().map(|event| event.cursor).collect();
    assert_eq!(
        tail_order, log_order,
        "the reader saw another order than the log's"
    );
    // Out-of-order commits did happen: positions alone are not the log's order.
    let positions_sorted = received_positions.windows(2).all(|pair| pair[0] < pair[1]);
    eprintln!("positions arrived in increasing order: {positions_sorted}");
}

/// Transaction ids are compared as numbers: 99999 before 100000. (Ordering
/// by their text, as a query that selects `transaction_id::text` under the
/// column's own name silently does, puts "100000" first: a reader past it
/// would skip every event of the shorter ids for good.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_ids_order_as_numbers_not_as_text() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let EventStore::Postgres(postgres) = &db.store else {
        unreachable!("a PostgreSQL store")
    };
    // Old transaction ids, long finished, on both sides of a change in digit
    // count (9999 | 10000): the largest power of ten below the cluster's
    // current id, so that readers see them as committed. Inserted by the
    // owner behind the store.
    let current: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(postgres.pool())
        .await
        .unwrap();
    let power = 10_i64.pow(current.ilog10());
    assert!(power >= 10, "the cluster has run at least ten transactions");
    let ids = [power, power - 1, power + 1].map(|id| id.to_string());
    for (stream, transaction) in [("late", &ids[0]), ("early", &ids[1]), ("later", &ids[2])] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, unit_id, actor, recorded_at, hash, transaction_id) \
             VALUES ('Dossier', $1, 1, 'Noted', '1.0', '{}', '{}', 'u', 'w', now(), $2, $3::text::xid8)",
        )
        .bind(stream)
        .bind(vec![0u8; 32])
        .bind(transaction)
        .execute(postgres.pool())
        .await
        .unwrap();
    }
    let first_page = db.store.read_all(LogCursor::START, 1).await.unwrap();
    assert_eq!(first_page[0].event.aggregate_id, "early");
    let rest = db.store.read_all(first_page[0].cursor, 10).await.unwrap();
    let streams: Vec<_> = rest
        .iter()
        .map(|event| event.event.aggregate_id.as_str())
        .collect();
    assert_eq!(streams, ["late", "later"]);
    let checkpoint = db.store.create_checkpoint().await.unwrap();
    assert_eq!(
        checkpoint.cursor, rest[1].cursor,
        "the checkpoint covers the newest"
    );
}
