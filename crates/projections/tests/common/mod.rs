//! Throwaway databases for the projection tests: a fresh SQLite file, or a
//! fresh PostgreSQL database created from `DATABASE_URL` and dropped
//! afterwards (the store tests' harness, with the URL kept for the read
//! models, which live in the same database). Plus the Biểu 06 test's
//! history generator and its independent oracle.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// Runs each listed test (an `async fn(&TestStore)` of the test file)
/// against a fresh SQLite database and a fresh PostgreSQL database.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = super::common::sqlite().await;
                    super::$test(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let Some(db) = super::common::postgres().await else { return };
                    super::$test(&db).await;
                }
            )*
        }
    };
}

pub mod history;
pub mod oracle;
pub mod rng;

use std::sync::atomic::{AtomicU32, Ordering};

use motcua_store::EventStore;
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

/// A migrated store on a database that lives as long as this value; `url`
/// reaches the same database as the user of `DATABASE_URL` (a superuser,
/// which row-level security does not bind), where `store` acts as the
/// confined motcua_app on PostgreSQL.
pub struct TestStore {
    pub store: EventStore,
    pub url: String,
    cleanup: Cleanup,
}

impl TestStore {
    pub fn backend(&self) -> &'static str {
        match self.store {
            EventStore::Postgres(_) => "postgres",
            EventStore::Sqlite(_) => "sqlite",
        }
    }
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
    EventStore::connect(&url)
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    // The projections run as the server's confined role, under row-level
    // security, as they do in production.
    let store = EventStore::connect_as(&url, "motcua_app").await.unwrap();
    store.check_confined().await.unwrap();
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
