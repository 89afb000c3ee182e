//! Errors an operator can act on: a database that is down, silent, not
//! migrated, or migrated by a newer build is reported quickly, by backend,
//! operation and place (never the password), and never as a panic.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use motcua_store::{CONNECT_TIMEOUT, EventStore, StoreError, database_location};

on_both_backends!(
    a_database_migrated_by_an_older_build_is_not_migrated,
    a_database_migrated_by_a_newer_build_names_the_version,
    a_failed_or_modified_migration_is_named,
);

const PASSWORD: &str = "s3cret-Pa55";

/// A local port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_postgres_server_that_is_down_is_named_without_the_password() {
    let port = closed_port();
    for url in [
        format!("postgres://motcua:{PASSWORD}@127.0.0.1:{port}/motcua"),
        format!("postgresql://motcua@127.0.0.1:{port}/motcua?password={PASSWORD}"),
    ] {
        let started = Instant::now();
        let error = EventStore::connect(&url).await.unwrap_err();
        // sqlx's pool alone would retry a refused connection for 30 s.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(error, StoreError::Unreachable { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "cannot connect to the PostgreSQL database at 127.0.0.1:{port}/motcua as motcua: "
            )),
            "{message}"
        );
        assert!(message.contains("refused"), "{message}");
        assert!(!message.contains(PASSWORD), "{message}");
        assert!(!format!("{error:?}").contains(PASSWORD), "{error:?}");
    }
}

#[tokio::test]
async fn a_silent_server_is_given_up_on_quickly() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let url = format!("postgres://motcua:{PASSWORD}@127.0.0.1:{port}/motcua");
    let started = Instant::now();
    let error = EventStore::connect_within(&url, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, StoreError::ConnectTimeout { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "cannot connect to the PostgreSQL database at 127.0.0.1:{port}/motcua as motcua: no answer within 300ms"
        )
    );
    silent.abort();
    assert!(CONNECT_TIMEOUT <= Duration::from_secs(10));
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_directory_is_named() {
    let path = std::env::temp_dir()
        .join(format!("motcua-no-such-directory-{}", std::process::id()))
        .join("motcua.db");
    let error = EventStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unreachable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot connect to the SQLite database at {}: ",
            path.display()
        )),
        "{message}"
    );
    assert!(!path.parent().unwrap().exists());
}

#[tokio::test]
async fn an_unsupported_url_does_not_show_its_password() {
    let url = format!("mysql://root:{PASSWORD}@127.0.0.1/motcua");
    let error = EventStore::connect(&url).await.unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedUrl(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("mysql"), "{message}");
    assert!(!message.contains(PASSWORD), "{message}");
    assert!(!database_location(&url).contains(PASSWORD));
}

#[tokio::test]
async fn a_fresh_database_is_not_migrated() {
    let path = std::env::temp_dir().join(format!("motcua-fresh-{}.db", std::process::id()));
    let store = EventStore::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let status = store.migration_status().await.unwrap();
    assert!(status.applied.is_empty());
    let versions: Vec<i64> = status.pending.iter().map(|info| info.version).collect();
    assert!(
        versions.starts_with(&[1, 2]) && versions.contains(&5),
        "{versions:?}"
    );
    assert!(
        versions.windows(2).all(|pair| pair[0] < pair[1]),
        "{versions:?}"
    );
    let error = store.check_migrations().await.unwrap_err();
    let StoreError::NotMigrated { pending, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(pending, &versions);
    let message = error.to_string();
    assert!(
        message.starts_with("the SQLite database is not migrated: migrations 0001, 0002"),
        "{message}"
    );
    assert!(
        message.ends_with("are not applied; run `motcua migrate`"),
        "{message}"
    );

    store.migrate().await.unwrap();
    store.check_migrations().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

// ---------------------------------------------------------------------------
// On both backends: sqlx's migration table altered as an older or newer
// build, or a failed migration, would have left it.

async fn execute(store: &EventStore, sql: &str) {
    match store {
        EventStore::Postgres(postgres) => {
            sqlx::query(sql).execute(postgres.pool()).await.unwrap();
        }
        EventStore::Sqlite(sqlite) => {
            sqlx::query(sql).execute(sqlite.pool()).await.unwrap();
        }
    }
}

async fn a_database_migrated_by_an_older_build_is_not_migrated(store: &EventStore) {
    store.check_migrations().await.unwrap();
    execute(store, "DELETE FROM _sqlx_migrations WHERE version = 5").await;
    let error = store.check_migrations().await.unwrap_err();
    assert!(
        matches!(&error, StoreError::NotMigrated { pending, .. } if pending == &[5]),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the {} database is not migrated: migration 0005 of this build is not applied; run `motcua migrate`",
            store.backend()
        )
    );
}

async fn a_database_migrated_by_a_newer_build_names_the_version(store: &EventStore) {
    execute(
        store,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 9001, 'from the future', TRUE, checksum, 0 FROM _sqlx_migrations WHERE version = 1",
    )
    .await;
    let error = store.check_migrations().await.unwrap_err();
    assert!(
        matches!(error, StoreError::UnknownMigration { version: 9001, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("newer build"), "{message}");
    assert!(
        message.contains("migration 9001 (from the future)"),
        "{message}"
    );
    assert!(message.contains(store.backend()), "{message}");
    // Migrating refuses it too, as an error.
    assert!(store.migrate().await.is_err());
}

async fn a_failed_or_modified_migration_is_named(store: &EventStore) {
    execute(
        store,
        "UPDATE _sqlx_migrations SET checksum = substr(checksum, 1, 1) WHERE version = 1",
    )
    .await;
    let error = store.check_migrations().await.unwrap_err();
    assert!(
        matches!(error, StoreError::ModifiedMigration { version: 1, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("migration 1 (event log)"),
        "{error}"
    );

    execute(
        store,
        "UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2",
    )
    .await;
    let error = store.migration_status().await.unwrap_err();
    assert!(
        matches!(error, StoreError::ModifiedMigration { version: 1, .. }),
        "the first problem in version order: {error:?}"
    );
    execute(store, "DELETE FROM _sqlx_migrations WHERE version = 1").await;
    let error = store.check_migrations().await.unwrap_err();
    assert!(
        matches!(error, StoreError::FailedMigration { version: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("did not complete"), "{error}");
}
