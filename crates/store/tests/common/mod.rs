//! Throwaway databases for the store tests: a fresh SQLite file, or a fresh
//! PostgreSQL database created from `DATABASE_URL` and dropped afterwards.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// Runs each listed test (an `async fn(&EventStore)` of the test file) against a
/// fresh SQLite store and a fresh PostgreSQL store.
#[allow(unused_macros)] // postgres_ordering.rs and append_only.rs use one backend
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = super::common::sqlite().await;
                    super::$test(&db.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let Some(db) = super::common::postgres().await else { return };
                    super::$test(&db.store).await;
                }
            )*
        }
    };
}

pub mod dossier;

use std::sync::atomic::{AtomicU32, Ordering};

use std::time::Duration;

use motcua_store::{EventStore, LogCursor, NewEvent};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "motcua_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on a database that lives as long as this value.
pub struct TestStore {
    pub store: EventStore,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl Drop for TestStore {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside any runtime we may block: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let _ = admin
                                .execute(
                                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
                                        .as_str(),
                                )
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub async fn sqlite() -> TestStore {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let url = format!("sqlite:{}", path.display());
    let store = EventStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    TestStore {
        store,
        url,
        cleanup: Cleanup::File(path),
    }
}

/// A fresh PostgreSQL database. Without `DATABASE_URL` the test fails, unless
/// `MOTCUA_SKIP_POSTGRES=1` says to skip on purpose (then `None`).
pub async fn postgres() -> Option<TestStore> {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        if std::env::var("MOTCUA_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("skipping a PostgreSQL test: MOTCUA_SKIP_POSTGRES=1");
            return None;
        }
        panic!(
            "DATABASE_URL is not set: PostgreSQL tests need it (or MOTCUA_SKIP_POSTGRES=1 to skip them on purpose)"
        );
    };
    let name = unique_name();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connect to DATABASE_URL");
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap();
    let url = with_database(&admin_url, &name);
    let store = EventStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    record_postgres_test_ran();
    Some(TestStore {
        store,
        url,
        cleanup: Cleanup::Database { admin_url, name },
    })
}

/// CI passes a file in `MOTCUA_PG_TESTS_RAN_FILE` and fails if nothing was written to it.
fn record_postgres_test_ran() {
    if let Ok(path) = std::env::var("MOTCUA_PG_TESTS_RAN_FILE") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "ran");
        }
    }
}

/// `postgres://user@host:port/db?query` with another database.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_end = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Event `sequence` of stream `id`, with the metadata every event carries.
pub fn event(id: &str, sequence: i64) -> NewEvent {
    NewEvent {
        aggregate_type: "Dossier".to_owned(),
        aggregate_id: id.to_owned(),
        sequence,
        event_type: "Noted".to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({"note": format!("{id} #{sequence}"), "nested": {"b": 2, "a": [1, "x"]}}),
        metadata: json!({"unit": "000.01.20.H56", "actor": "officer"}),
        unit_id: "000.01.20.H56".to_owned(),
        actor: "officer".to_owned(),
        command_id: Some(format!("cmd-{id}-{sequence}")),
    }
}

/// A small deterministic generator (xorshift): no rand crate needed.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// The whole log once `expected` events are visible. On PostgreSQL events
/// become visible to readers only when every older transaction of the
/// cluster has ended (other tests' included): wait for that, bounded.
pub async fn read_everything(
    store: &EventStore,
    expected: usize,
) -> Vec<motcua_store::RecordedEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let log = store.read_all(LogCursor::START, u32::MAX).await.unwrap();
        assert!(
            log.len() <= expected,
            "{} events where {expected} were written",
            log.len()
        );
        if log.len() == expected {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} events became visible",
            log.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
