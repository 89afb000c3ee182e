//! End-to-end tests of `motcua migrate` and `motcua audit …` on a SQLite
//! file and on a throwaway PostgreSQL database: the real binary, events
//! appended through the store, tampering done as the database's owner.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use motcua_store::{EventStore, LogCursor, NewEvent, RecordedEvent, hash};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

/// Runs each listed test (an `async fn(&Db)`) on a fresh SQLite file and on
/// a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = super::Db::postgres().await else { return };
                    super::$test(&db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    migrate_applies_the_migrations_then_finds_the_database_up_to_date,
    verify_passes_on_a_clean_log_and_finds_a_dossier_by_its_code,
    verify_fails_and_names_the_broken_link_after_tampering,
    an_exported_checkpoint_catches_a_consistent_rewrite,
    a_database_that_is_not_migrated_is_refused_with_what_to_do,
    projections_status_and_rebuild_say_where_the_read_models_stand,
    a_projection_stopped_by_a_bad_event_says_where,
    project_runs_until_interrupted_and_gives_its_lease_up,
    serve_migrates_projects_checkpoints_and_shuts_down_in_order,
    serve_leaves_the_projections_to_motcua_project_when_told,
    seed_writes_a_history_through_the_command_path_once,
    the_graphql_api_serves_each_viewer_their_units_only,
    a_dossier_goes_from_submission_to_its_result_through_the_api,
    administrators_change_the_reference_data_through_the_api,
);

const CODE: &str = "000.01.20.H56-241105-0001";

// ---------------------------------------------------------------------------
// The tests.

async fn migrate_applies_the_migrations_then_finds_the_database_up_to_date(db: &Db) {
    let first = db.motcua(&["migrate"]);
    assert!(first.status.success(), "{first:?}");
    let out = stdout(&first);
    assert!(out.starts_with("Applied "), "{out}");
    assert!(out.contains(&db.location), "{out}");
    assert!(out.contains("  0001 event log\n"), "{out}");
    assert!(out.contains("  0005 checkpoints\n"), "{out}");

    let again = db.motcua(&["migrate"]);
    assert!(again.status.success(), "{again:?}");
    let out = stdout(&again);
    assert!(out.contains("is up to date"), "{out}");
    assert!(!out.contains("Applied"), "{out}");
}

async fn verify_passes_on_a_clean_log_and_finds_a_dossier_by_its_code(db: &Db) {
    let store = db.migrated().await;
    fill(&store).await;
    let created = db.motcua(&["audit", "checkpoint", "create"]);
    assert!(created.status.success(), "{created:?}");
    assert!(
        stdout(&created).starts_with("Took a checkpoint at "),
        "{created:?}"
    );

    let verified = db.motcua(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified:?}");
    let out = stdout(&verified);
    assert!(
        out.contains("Hash chains: 6 events in 3 streams\n  intact"),
        "{out}"
    );
    assert!(
        out.contains("Stored checkpoints: 1\n  #1 checkpoint at "),
        "{out}"
    );
    assert!(out.contains(": holds"), "{out}");
    assert!(out.ends_with("Verdict: intact.\n"), "{out}");

    let one = db.motcua(&["audit", "verify", "--dossier", CODE]);
    assert!(one.status.success(), "{one:?}");
    assert!(
        stdout(&one).contains(&format!(
            "Hash chain of dossier {CODE} (stream Dossier/d1): 3 events\n  intact"
        )),
        "{one:?}"
    );

    let unknown = db.motcua(&["audit", "verify", "--dossier", "000.01.20.H56-241105-0099"]);
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    assert_eq!(
        stderr(&unknown),
        format!(
            "error: no dossier has the code \"000.01.20.H56-241105-0099\" in the database at {}\n",
            db.location
        )
    );
}

async fn verify_fails_and_names_the_broken_link_after_tampering(db: &Db) {
    let store = db.migrated().await;
    fill(&store).await;
    let d1 = stored(&store, "d1", 1).await;
    db.rewrite(&d1, &json!({"note": "edited"}), &d1.hash).await;

    let verified = db.motcua(&["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{verified:?}");
    let out = stdout(&verified);
    let link = format!(
        "  BROKEN Dossier/d1: event 1 (position {}) does not match its hash",
        d1.cursor.position
    );
    assert!(out.contains(&link), "{out}");
    assert!(out.ends_with("Verdict: TAMPERED.\n"), "{out}");
    assert_eq!(
        stderr(&verified),
        "error: the event log was tampered with: 1 broken hash chain, 0 checkpoints that no longer hold\n"
    );
    // The dossier alone shows it too.
    let one = db.motcua(&["audit", "verify", "--dossier", CODE]);
    assert_eq!(one.status.code(), Some(1), "{one:?}");
    assert!(stdout(&one).contains(&link), "{one:?}");
}

async fn an_exported_checkpoint_catches_a_consistent_rewrite(db: &Db) {
    let store = db.migrated().await;
    fill(&store).await;
    let file = db.scratch("checkpoint.json");
    let exported = db.motcua(&[
        "audit",
        "checkpoint",
        "export",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{exported:?}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["format"], "motcua checkpoint");
    assert_eq!(json["streams"], 3);
    let clean = db.motcua(&["audit", "verify", "--checkpoint", file.to_str().unwrap()]);
    assert!(clean.status.success(), "{clean:?}");

    // The forger edits d1's second event, re-hashes the rest of its chain,
    // and erases the stored checkpoints: only the exported file remembers.
    let mut previous = stored(&store, "d1", 1).await.hash;
    for sequence in 2..=3 {
        let row = stored(&store, "d1", sequence).await;
        let payload = if sequence == 2 {
            json!({"note": "as the forger would have it"})
        } else {
            row.event.payload.clone()
        };
        let mut forged = row.event.clone();
        forged.payload = payload.clone();
        let forged_hash = hash::chain(&previous, &forged, row.recorded_at);
        db.rewrite(&row, &payload, &forged_hash).await;
        previous = forged_hash;
    }
    // Export refuses to vouch for a log its latest checkpoint no longer matches.
    let refused = db.motcua(&["audit", "checkpoint", "export"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        stderr(&refused).contains("no longer verifies"),
        "{refused:?}"
    );
    assert!(stdout(&refused).is_empty(), "{refused:?}");
    db.erase_stored_checkpoints().await;

    let chains_only = db.motcua(&["audit", "verify"]);
    assert!(
        chains_only.status.success(),
        "the rewrite is consistent: {chains_only:?}"
    );

    let verified = db.motcua(&["audit", "verify", "--checkpoint", file.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(1), "{verified:?}");
    let out = stdout(&verified);
    assert!(
        out.contains("Hash chains: 6 events in 3 streams\n  intact"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Exported checkpoint {}:", file.display())),
        "{out}"
    );
    assert!(out.contains(": DIFFERS: the log now hashes to "), "{out}");
    assert!(out.ends_with("Verdict: TAMPERED.\n"), "{out}");
    assert!(
        stderr(&verified).contains("0 broken hash chains, 1 checkpoint that no longer holds"),
        "{verified:?}"
    );
}

async fn a_database_that_is_not_migrated_is_refused_with_what_to_do(db: &Db) {
    for args in [
        &["audit", "verify"][..],
        &["audit", "checkpoint", "create"],
        &["audit", "checkpoint", "export"],
    ] {
        let output = db.motcua(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        let err = stderr(&output);
        assert!(
            err.starts_with(&format!(
                "error: checking the database at {}: the ",
                db.location
            )),
            "{err}"
        );
        assert!(err.contains("database is not migrated"), "{err}");
        assert!(err.ends_with("run `motcua migrate`\n"), "{err}");
    }
}

/// The server acts as a role that the read models' row-level security
/// binds, or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_a_database_role_that_row_security_would_not_bind() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    for (role, why) in [("", "is a superuser"), ("motcua_owner", "owns the tables")] {
        let output = db.motcua(&["--database-role", role, "serve", "--listen", "127.0.0.1:0"]);
        assert_eq!(output.status.code(), Some(1), "{role:?}: {output:?}");
        let err = stderr(&output);
        assert!(err.contains(why), "{err}");
        assert!(
            err.contains("row-level security would not confine it"),
            "{err}"
        );
        assert!(stdout(&output).is_empty(), "it never listened: {output:?}");
    }
}

/// `serve --read-database-url`: queries read the read models of the
/// replica (here a copy of the primary that replays nothing), mutations and
/// the projector the primary; `minPosition` waits for the replica and says
/// CONFLICT when it does not get there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_read_the_replica_and_writes_go_to_the_primary() {
    let Some(primary) = Db::postgres().await else {
        return;
    };
    primary.migrated().await.close().await;
    let (commune, procedure) = a_commune_and_its_procedure();
    let submission = |client_id: &str, name: &str| {
        json!({
            "clientMutationId": client_id,
            "unit": commune,
            "channel": "IN_PERSON",
            "procedureCode": procedure.code.as_str(),
            "caseId": procedure.cases[0].id,
            "applicant": { "kind": "CITIZEN", "name": name, "identityNumber": "001203004567" },
            "documents": documents_of(&procedure),
            "acceptNow": true,
        })
    };
    let listed = |address: &str, token: &str, min_position: Option<&str>| {
        graphql_with(
            address,
            Some(token),
            "query($at: String) { dossiers(first: 100, minPosition: $at) { edges { node { code } } } }",
            &json!({ "at": min_position }),
        )
        .1
    };

    // The primary alone: one dossier, written and read there.
    let ((mut child, _out), address) = start_server(&primary);
    let desk = token(&primary, &commune, "reception_officer");
    let first = mutate(
        &address,
        &desk,
        "submitDossier",
        submission("replica-1", "Nguyễn Văn An"),
    );
    let first_position = first["data"]["submitDossier"]["position"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = listed(&address, &desk, Some(&first_position));
    assert_eq!(
        seen["data"]["dossiers"]["edges"].as_array().unwrap().len(),
        1,
        "{seen}"
    );
    stop(&mut child);

    // The replica: the primary as it is now.
    let replica = primary.copy().await;
    let ((mut child, _out), address) =
        start_server_with(&primary, &["--read-database-url", &replica.url]);
    let (status, body) = http_get(&address, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""read_replica":"ok""#), "{body}");

    let second = mutate(
        &address,
        &desk,
        "submitDossier",
        submission("replica-2", "Trần Thị Bình"),
    );
    let second_position = second["data"]["submitDossier"]["position"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        second["data"]["submitDossier"]["dossier"]["code"],
        first["data"]["submitDossier"]["dossier"]["code"]
    );
    // The primary projects it ...
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = stdout(&primary.motcua(&["projections", "status"]));
        if status.contains(" 0 behind") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the primary never projected it: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ... but queries read the replica, which never replays it.
    let seen = listed(&address, &desk, None);
    assert_eq!(
        seen["data"]["dossiers"]["edges"].as_array().unwrap().len(),
        1,
        "{seen}"
    );
    let waited = listed(&address, &desk, Some(&second_position));
    assert_eq!(error_code(&waited), "CONFLICT", "{waited}");
    stop(&mut child);
}

/// A managed PostgreSQL asks for TLS: a URL with `sslmode=require` is
/// spoken over TLS (the test server has `ssl = on`, Debian's default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_urls_may_require_tls() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let tls_url = format!("{}?sslmode=require", db.url);
    let mut connection = PgConnection::connect(&tls_url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(ssl, "on", "the test server must accept TLS (ssl = on)");
    let over_tls: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert!(over_tls);

    let migrated = motcua(&tls_url, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    let status = motcua(&tls_url, &["projections", "status"]);
    assert!(status.status.success(), "{status:?}");
    assert!(stdout(&status).contains("dossiers"), "{status:?}");
}

#[test]
fn a_database_that_is_down_is_named_quickly_without_its_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://motcua:s3cret-Pa55@127.0.0.1:{port}/motcua");
    let started = Instant::now();
    let output = motcua(&url, &["audit", "verify"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = stderr(&output);
    assert!(
        err.starts_with(&format!(
            "error: cannot connect to the PostgreSQL database at 127.0.0.1:{port}/motcua as motcua: "
        )),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let missing = std::env::temp_dir()
        .join(format!("motcua-missing-{}", std::process::id()))
        .join("motcua.db");
    let output = motcua(&format!("sqlite:{}", missing.display()), &["migrate"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr(&output).starts_with(&format!(
            "error: cannot connect to the SQLite database at {}: ",
            missing.display()
        )),
        "{output:?}"
    );
}

// ---------------------------------------------------------------------------
// Running the binary.

/// Runs `motcua --database-url URL ARGS…`, whatever DATABASE_URL says.
fn motcua(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env_remove("DATABASE_URL")
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .expect("the motcua binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

async fn projections_status_and_rebuild_say_where_the_read_models_stand(db: &Db) {
    let store = db.migrated().await;
    let head = probes(&store, 3).await;

    let status = db.motcua(&["projections", "status"]);
    assert!(status.status.success(), "{status:?}");
    let out = stdout(&status);
    assert!(
        out.contains("dossiers generation 1 (live): at position 0, 0 events applied, "),
        "{out}"
    );
    assert!(out.contains("run by nobody"), "{out}");

    let rebuilt = db.motcua(&["projections", "rebuild", "dossiers"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let out = stdout(&rebuilt);
    assert!(
        out.starts_with("Rebuilt dossiers as generation 2: 3 events in "),
        "{out}"
    );
    assert!(out.contains("it is now live"), "{out}");

    let out = stdout(&db.motcua(&["projections", "status"]));
    assert!(
        out.contains(&format!(
            "dossiers generation 2 (live): at position {head}, 3 events applied, 0 behind"
        )),
        "{out}"
    );
    assert!(
        !out.contains("generation 1"),
        "the old generation is gone: {out}"
    );

    let unknown = db.motcua(&["projections", "rebuild", "queues"]);
    assert!(!unknown.status.success(), "{unknown:?}");
    assert!(
        stderr(&unknown).contains("no projection named \"queues\"; there is: dossiers"),
        "{unknown:?}"
    );
}

async fn a_projection_stopped_by_a_bad_event_says_where(db: &Db) {
    let store = db.migrated().await;
    // Events of dossiers that the current code cannot read.
    fill(&store).await;
    let first = store.read_all(LogCursor::START, 1).await.unwrap()[0]
        .cursor
        .position;

    let rebuilt = db.motcua(&["projections", "rebuild", "dossiers"]);
    assert!(!rebuilt.status.success(), "{rebuilt:?}");
    let err = stderr(&rebuilt);
    assert!(
        err.contains(&format!("projection dossiers stopped at event {first}: ")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = stdout(&db.motcua(&["projections", "status"]));
    assert!(
        out.contains("dossiers generation 1 (live): at position 0"),
        "{out}"
    );
    assert!(out.contains("dossiers generation 2 (building)"), "{out}");
    assert!(
        out.contains(&format!("  stopped at event {first}: ")),
        "{out}"
    );
    assert!(
        out.contains("Dossier/d1 event 1 (Noted v1.0) cannot be read"),
        "{out}"
    );
}

async fn project_runs_until_interrupted_and_gives_its_lease_up(db: &Db) {
    let store = db.migrated().await;
    let head = probes(&store, 3).await;
    let child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env_remove("DATABASE_URL")
        .args(["--database-url", &db.url, "project", "--lease-seconds", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = stdout(&db.motcua(&["projections", "status"]));
        if out.contains(&format!("at position {head}, 3 events applied, 0 behind"))
            && !out.contains("run by nobody")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the projector never caught up: {out}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let out = stdout(&output);
    assert!(out.starts_with("Projecting the log of the "), "{out}");
    assert!(out.ends_with("Stopped.\n"), "{out}");
    let status = stdout(&db.motcua(&["projections", "status"]));
    assert!(
        status.contains("run by nobody"),
        "the lease was given up: {status}"
    );
}

async fn serve_migrates_projects_checkpoints_and_shuts_down_in_order(db: &Db) {
    // A database nobody migrated: the server does it at start.
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            &db.url,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--checkpoint-seconds", "1"])
        .args(["--dev-key-file", db.scratch("dev.key").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    std::io::BufRead::read_line(&mut out, &mut banner).unwrap();
    assert!(
        banner.starts_with("motcua is listening on http://127.0.0.1:"),
        "{banner}"
    );
    assert!(banner.contains(&db.location), "{banner}");
    let address = listening_address(&banner);

    let (status, body) = http_get(&address, "/livez");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alive"), "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http_get(&address, "/readyz");
        if status == 200 {
            assert!(body.contains(r#""projector":"running""#), "{body}");
            assert!(body.contains(r#""database":"ok""#), "{body}");
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(http_get(&address, "/nowhere").0, 404);

    // Events written by another process are projected and checkpointed.
    let store = db.store().await;
    let head = probes(&store, 3).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = stdout(&db.motcua(&["projections", "status"]));
        let checkpoint = store.latest_checkpoint().await.unwrap();
        // (The log starts with the reference data imported at start.)
        if status.contains(&format!("at position {head}, "))
            && status.contains(" events applied, 0 behind")
            && !status.contains("run by nobody")
            && checkpoint.is_some_and(|checkpoint| checkpoint.cursor.position == head)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not projected and checkpointed: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // SIGTERM: drains, finishes, gives the projector's lease up.
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let exited = child.wait().unwrap();
    assert!(exited.success(), "{exited:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "Stopped.\n");
    let status = stdout(&db.motcua(&["projections", "status"]));
    assert!(status.contains("run by nobody"), "{status}");
}

/// `motcua seed` writes a history through the command path with its
/// progress and a summary; a second run refuses and writes nothing.
async fn seed_writes_a_history_through_the_command_path_once(db: &Db) {
    let store = db.migrated().await;
    let args = [
        "seed",
        "--dossiers",
        "200",
        "--months",
        "1",
        "--from",
        "2025-03-01",
    ];
    let seeded = db.motcua(&args);
    assert!(seeded.status.success(), "{seeded:?}");
    let out = stdout(&seeded);
    assert!(
        out.starts_with("Seeding 200 dossiers of ")
            && out.contains(" from 2025-03-01 for 1 months "),
        "{out}"
    );
    assert!(out.contains("\nSeeded 200 dossiers: "), "{out}");
    assert!(out.contains(" 0 refused.\n"), "{out}");
    assert!(out.contains("commands by action: "), "{out}");
    // Not a terminal: a line per tenth of the way, the last one complete.
    let progress = stderr(&seeded);
    assert!(
        progress.contains("] 100% 200 / 200 dossiers · "),
        "{progress}"
    );

    let head = store.head().await.unwrap();
    assert!(head.position > 200, "{head:?}");
    let verified = db.motcua(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified:?}");

    let again = db.motcua(&args);
    assert!(!again.status.success(), "{again:?}");
    assert!(
        stderr(&again).contains("the store already holds dossier hs-0000000"),
        "{again:?}"
    );
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "a refused seed wrote nothing"
    );

    let refused = db.motcua(&["seed", "--scale", "village"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("invalid value 'village'"),
        "{refused:?}"
    );
}

/// `serve --no-projector` (API pods beside a `motcua project` deployment):
/// ready without a projector of its own, it leaves the log to `project`.
async fn serve_leaves_the_projections_to_motcua_project_when_told(db: &Db) {
    let (mut server, address) = start_server_with(db, &["--no-projector"]);
    let (status, body) = http_get(&address, "/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""projector":"another process""#), "{body}");

    let store = db.store().await;
    let head = probes(&store, 3).await;
    // Long enough for an in-process projector to have taken its lease.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = stdout(&db.motcua(&["projections", "status"]));
    assert!(status.contains("run by nobody"), "{status}");
    assert!(
        !status.contains(&format!("at position {head}, ")),
        "projected without a projector: {status}"
    );

    let mut projector = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env_remove("DATABASE_URL")
        .args(["--database-url", &db.url, "project"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = stdout(&db.motcua(&["projections", "status"]));
        if status.contains(&format!("at position {head}, ")) && status.contains(" 0 behind") {
            break;
        }
        assert!(Instant::now() < deadline, "never projected: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(&mut projector);
    stop(&mut server.0);
}

/// `motcua` alone (what `cargo run` runs) on a fresh SQLite file: seeds the
/// demonstration province's history, serves it, and tells how to get a
/// token; a token from `motcua token` then reads the seeded dossiers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motcua_without_a_command_serves_demonstration_data() {
    let db = Db::sqlite();
    let key = db.scratch("dev.key");
    // `motcua` alone, configured by its environment only.
    let bare_motcua = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_motcua"));
        command
            .env("DATABASE_URL", &db.url)
            .env("MOTCUA_LISTEN", "127.0.0.1:0")
            .env("MOTCUA_DEV_KEY_FILE", &key);
        command
    };
    let ((mut child, _out), lines, banner) = spawn_until_listening(&mut bare_motcua(), &db);
    assert!(
        lines[0].starts_with("Seeding demonstration data: 3000 dossiers"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("Seeded 3,000 dossiers: "), "{lines:?}");
    assert!(lines[1].ends_with(" 0 refused.\n"), "{lines:?}");
    assert!(lines[2].contains("results issued: "), "{lines:?}");
    assert!(
        banner.contains("/graphql") && banner.contains("motcua token --unit"),
        "{banner}"
    );
    let address = listening_address(&banner);

    let supervisor = token(&db, "000.00.00.H56", "supervisor");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, response) = graphql(
            &address,
            Some(&supervisor),
            "{ dossiers(first: 100) { edges { node { code } } } }",
        );
        assert_eq!(status, 200, "{response}");
        if response["data"]["dossiers"]["edges"]
            .as_array()
            .unwrap()
            .len()
            == 100
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demonstration data was not projected: {response}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    stop(&mut child);

    // A second start finds the log full and seeds nothing.
    let ((mut child, _out), before, banner) = spawn_until_listening(&mut bare_motcua(), &db);
    assert!(before.is_empty(), "{before:?}");
    let address = listening_address(&banner);
    // Ready means serving, its SIGTERM handler in place.
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&address, "/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop(&mut child);
}

const PAYLOAD: &str =
    "dossier { id code status step holderUnit assignee identityNumber } position repeated";

/// Runs mutation `name` with `input` as `token`: the payload, or the errors.
fn mutate(address: &str, token: &str, name: &str, input: Value) -> Value {
    mutate_as(address, token, name, mutation_input(name), input)
}

/// Runs mutation `name` whose input type is `{input_type}Input`.
fn mutate_as(address: &str, token: &str, name: &str, input_type: &str, input: Value) -> Value {
    let query =
        format!("mutation($input: {input_type}Input!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}");
    let (status, response) = graphql_with(address, Some(token), &query, &json!({ "input": input }));
    assert_eq!(status, 200, "{response}");
    response
}

/// Runs an administrators' mutation `name` (input type `{name}Input`,
/// capitalised) as `token`: the payload, or the errors.
fn change_reference(address: &str, token: &str, name: &str, input: Value) -> Value {
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let query = format!(
        "mutation($input: {input_type}!) {{ {name}(input: $input) {{ clientMutationId position repeated }} }}"
    );
    let (status, response) = graphql_with(address, Some(token), &query, &json!({ "input": input }));
    assert_eq!(status, 200, "{response}");
    response
}

/// The ids of the units under `unit` at `at`, as the API lists them.
fn units_under(address: &str, token: &str, unit: &str, at: &str) -> Vec<String> {
    let (_, response) = graphql_with(
        address,
        Some(token),
        "query($under: String!, $at: DateTime!) { units(under: $under, at: $at) { id } }",
        &json!({ "under": unit, "at": at }),
    );
    response["data"]["units"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|unit| unit["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Units, procedures and declared days change by administrators'
/// mutations, every refusal with its code; the change is in force for the
/// next request (a new procedure can be submitted at once), and a second
/// server on the same database follows it within seconds.
async fn administrators_change_the_reference_data_through_the_api(db: &Db) {
    db.migrated().await;
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED).unwrap();
    let root = province.root().id.to_string();
    let (district, gone, kept) = province
        .units()
        .iter()
        .enumerate()
        .filter(|(_, unit)| unit.kind == motcua_seed::UnitKind::District)
        .find_map(|(index, district)| {
            let communes: Vec<String> = province
                .units()
                .iter()
                .filter(|unit| unit.parent == Some(index))
                .map(|unit| unit.id.to_string())
                .collect();
            (communes.len() >= 2).then(|| {
                (
                    district.id.to_string(),
                    communes[0].clone(),
                    communes[1].clone(),
                )
            })
        })
        .unwrap();
    let ((mut child, _out), address) = start_server(db);
    let ((mut other, _other_out), other_address) = start_server(db);
    let admin = token(db, &root, "administrator");
    let leader = token(db, &root, "unit_leader");
    let officer_of_gone = token(db, &gone, "reception_officer");
    let now = chrono::Utc::now();
    let before = (now - chrono::Duration::seconds(1)).to_rfc3339();
    assert!(units_under(&other_address, &admin, &district, &now.to_rfc3339()).contains(&gone));

    // Refusals: each with its code, nothing recorded.
    let merge =
        json!({ "clientMutationId": "merge-1", "id": gone, "into": kept, "at": now.to_rfc3339() });
    let refused = change_reference(&address, &leader, "mergeUnit", merge.clone());
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    let bad = change_reference(
        &address,
        &admin,
        "mergeUnit",
        json!({ "id": "xã Đông Hòa", "into": kept }),
    );
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "id", "{bad}");
    let unknown = change_reference(
        &address,
        &admin,
        "mergeUnit",
        json!({ "id": gone, "into": "000.99.99.H56" }),
    );
    assert_eq!(error_code(&unknown), "NOT_FOUND", "{unknown}");
    let (status, me) = graphql(&address, Some(&officer_of_gone), "{ me { unit } }");
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["me"]["unit"], gone.as_str(), "{me}");

    // The merge: recorded once, in force at once.
    let merged = change_reference(&address, &admin, "mergeUnit", merge.clone());
    let payload = &merged["data"]["mergeUnit"];
    assert!(payload["position"].is_string(), "{merged}");
    assert_eq!(payload["repeated"], false);
    let again = change_reference(&address, &admin, "mergeUnit", merge);
    assert_eq!(again["data"]["mergeUnit"]["repeated"], true, "{again}");
    let after = (now + chrono::Duration::seconds(1)).to_rfc3339();
    let under = units_under(&address, &admin, &district, &after);
    assert!(!under.contains(&gone) && under.contains(&kept), "{under:?}");
    assert!(units_under(&address, &admin, &district, &before).contains(&gone));
    let (_, versions) = graphql_with(
        &address,
        Some(&admin),
        "query($at: DateTime!, $under: String!) { units(at: $at, under: $under) { id validTo successors } }",
        &json!({ "at": before, "under": district }),
    );
    let old = versions["data"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|unit| unit["id"] == gone.as_str())
        .unwrap();
    assert_eq!(old["successors"], json!([kept]), "{versions}");
    assert!(old["validTo"].is_string(), "{versions}");
    // The merged commune's officers act for a unit no longer in force.
    let (_, me) = graphql(&address, Some(&officer_of_gone), "{ me { unit } }");
    assert_eq!(error_code(&me), "FORBIDDEN", "{me}");
    // The other server follows the log.
    let deadline = Instant::now() + Duration::from_secs(20);
    while units_under(&other_address, &admin, &district, &after).contains(&gone) {
        assert!(
            Instant::now() < deadline,
            "the other server never saw the merge"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Declared days.
    let holiday = json!({ "date": "2031-03-05", "kind": "HOLIDAY", "name": "Nghỉ bù" });
    let declared = change_reference(&address, &admin, "declareDay", holiday.clone());
    assert!(
        declared["data"]["declareDay"]["position"].is_string(),
        "{declared}"
    );
    let twice = change_reference(&address, &admin, "declareDay", holiday);
    assert_eq!(error_code(&twice), "CONFLICT", "{twice}");
    let (_, days) = graphql(
        &address,
        Some(&leader),
        r#"{ declaredDays(from: "2031-03-01", to: "2031-03-31") { date kind name } }"#,
    );
    assert_eq!(
        days["data"]["declaredDays"],
        json!([{ "date": "2031-03-05", "kind": "HOLIDAY", "name": "Nghỉ bù" }]),
        "{days}"
    );
    let cleared = change_reference(
        &address,
        &admin,
        "clearDay",
        json!({ "date": "2031-03-05" }),
    );
    assert!(
        cleared["data"]["clearDay"]["position"].is_string(),
        "{cleared}"
    );
    let gone_day = change_reference(
        &address,
        &admin,
        "clearDay",
        json!({ "date": "2031-03-05" }),
    );
    assert_eq!(error_code(&gone_day), "NOT_FOUND", "{gone_day}");

    // A new procedure can be submitted at once.
    let procedure = json!({
        "code": "9.999001",
        "version": 1,
        "name": "Xác nhận thử nghiệm",
        "field": "Thử nghiệm",
        "level": "COMMUNE",
        "onlineLevel": "PARTIAL",
        "cases": [{ "id": "default", "name": "Thông thường", "workingDays": 1.0 }],
        "components": [{ "code": "TK", "name": "Tờ khai", "required": true }],
        "supplementClock": "SHIFT",
        "validFrom": (now - chrono::Duration::hours(1)).to_rfc3339(),
    });
    let published = change_reference(&address, &admin, "publishProcedure", procedure.clone());
    assert!(
        published["data"]["publishProcedure"]["position"].is_string(),
        "{published}"
    );
    let mut skipped = procedure.clone();
    skipped["version"] = json!(3);
    let skipped = change_reference(&address, &admin, "publishProcedure", skipped);
    assert_eq!(error_code(&skipped), "BAD_USER_INPUT", "{skipped}");
    assert_eq!(
        skipped["errors"][0]["extensions"]["field"], "version",
        "{skipped}"
    );
    let desk = token(db, &kept, "reception_officer");
    let submitted = mutate(
        &address,
        &desk,
        "submitDossier",
        json!({
            "unit": kept,
            "channel": "IN_PERSON",
            "procedureCode": "9.999001",
            "caseId": "default",
            "applicant": { "kind": "CITIZEN", "name": "Lê Văn Cường", "identityNumber": "001203009999" },
            "documents": [{ "component": "TK", "name": "Tờ khai" }],
            "acceptNow": true,
        }),
    );
    let code = submitted["data"]["submitDossier"]["dossier"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"));
    assert!(code.starts_with(&kept), "{submitted}");

    stop(&mut other);
    stop(&mut child);
}

/// The input type of each mutation the journey uses.
fn mutation_input(name: &str) -> &'static str {
    match name {
        "submitDossier" => "SubmitDossier",
        "acceptDossier" => "Dossier",
        "forwardDossier" => "Forward",
        "assignDossier" => "Assign",
        "submitDraft" => "SubmitDraft",
        "approveDraft" => "Note",
        "issueResult" => "IssueResult",
        "returnResult" => "ReturnResult",
        _ => "Reason",
    }
}

/// The demonstration province's first commune, and a procedure any
/// commune handles.
fn a_commune_and_its_procedure() -> (String, std::sync::Arc<motcua_domain::procedure::Procedure>) {
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED).unwrap();
    let commune = province
        .units()
        .iter()
        .find(|unit| unit.kind == motcua_seed::UnitKind::Commune)
        .unwrap()
        .id
        .to_string();
    let procedure = province
        .procedures()
        .iter()
        .find(|entry| entry.handler == motcua_seed::Handler::AnyCommune)
        .unwrap()
        .procedure
        .clone();
    (commune, procedure)
}

/// Today in Vietnam (UTC+7), as dossiers count their days: after 17:00 UTC
/// it is already tomorrow there.
fn today_in_vietnam() -> String {
    motcua_domain::calendar::local_date(chrono::Utc::now()).to_string()
}

/// The documents a submission of `procedure` must carry.
fn documents_of(procedure: &motcua_domain::procedure::Procedure) -> Vec<Value> {
    procedure
        .required_components()
        .map(|component| json!({ "component": component.code, "name": component.name }))
        .collect()
}

async fn a_dossier_goes_from_submission_to_its_result_through_the_api(db: &Db) {
    db.migrated().await;
    let (commune, procedure) = a_commune_and_its_procedure();
    let documents = documents_of(&procedure);
    let ((mut child, mut out), address) = start_server(db);
    let as_user = |role: &str, user: &str| {
        let key = db.scratch("dev.key");
        let signed = motcua(
            &db.url,
            &[
                "token",
                "--unit",
                &commune,
                "--role",
                role,
                "--user",
                user,
                "--dev-key-file",
                key.to_str().unwrap(),
            ],
        );
        assert!(signed.status.success(), "{signed:?}");
        stdout(&signed).trim().to_owned()
    };
    let desk = as_user("reception_officer", "desk-1");
    let head = as_user("department_head", "head-1");
    let specialist = as_user("specialist", "cv-1");
    let leader = as_user("unit_leader", "leader-1");

    // Submitted and accepted at the counter: it has a code.
    let submission = json!({
        "clientMutationId": "journey-1",
        "unit": commune,
        "channel": "IN_PERSON",
        "procedureCode": procedure.code.as_str(),
        "caseId": procedure.cases[0].id,
        "applicant": { "kind": "CITIZEN", "name": "Nguyễn Văn An", "identityNumber": "001203004567" },
        "documents": documents,
        "acceptNow": true,
    });
    let submitted = mutate(&address, &desk, "submitDossier", submission.clone());
    let payload = &submitted["data"]["submitDossier"];
    let id = payload["dossier"]["id"].as_str().unwrap().to_owned();
    let code = payload["dossier"]["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with(&commune), "{submitted}");
    assert_eq!(payload["repeated"], false);
    assert_eq!(payload["dossier"]["identityNumber"], "001203004567");

    // The same mutation again: the first outcome, nothing new written.
    let again = mutate(&address, &desk, "submitDossier", submission.clone());
    assert_eq!(again["data"]["submitDossier"]["repeated"], true, "{again}");
    assert_eq!(again["data"]["submitDossier"]["dossier"]["id"], id.as_str());
    let mut changed = submission.clone();
    changed["applicant"]["name"] = json!("Trần Thị Bình");
    let reused = mutate(&address, &desk, "submitDossier", changed);
    assert_eq!(error_code(&reused), "CONFLICT", "{reused}");

    // Each step by its role; a wrong role is FORBIDDEN.
    let wrong = mutate(
        &address,
        &leader,
        "forwardDossier",
        json!({ "id": id, "department": "Tư pháp" }),
    );
    assert_eq!(error_code(&wrong), "FORBIDDEN", "{wrong}");
    let steps = [
        (
            &desk,
            "forwardDossier",
            json!({ "id": id, "department": "Bộ phận Tư pháp" }),
        ),
        (
            &head,
            "assignDossier",
            json!({ "id": id, "specialist": "cv-1" }),
        ),
        (
            &specialist,
            "submitDraft",
            json!({ "id": id, "summary": "Dự thảo kết quả" }),
        ),
        (&leader, "approveDraft", json!({ "id": id })),
        (
            &leader,
            "issueResult",
            json!({
                "id": id, "number": "12/KQ", "signer": "Lê Văn Cường",
                "signedOn": today_in_vietnam(), "documentRef": "ketqua/12.pdf",
            }),
        ),
        (
            &desk,
            "returnResult",
            json!({ "id": id, "method": "COUNTER", "recipient": "Nguyễn Văn An" }),
        ),
    ];
    let mut position = String::new();
    for (token, name, input) in steps {
        let response = mutate(&address, token, name, input);
        let payload = &response["data"][name];
        assert!(payload.is_object(), "{name}: {response}");
        position = payload["position"].as_str().unwrap().to_owned();
    }
    let done = mutate(
        &address,
        &desk,
        "withdrawDossier",
        json!({ "id": id, "reason": "đổi ý" }),
    );
    assert_eq!(error_code(&done), "CONFLICT", "{done}");
    let unknown = mutate(
        &address,
        &desk,
        "withdrawDossier",
        json!({ "id": "no-such-dossier", "reason": "x" }),
    );
    assert_eq!(error_code(&unknown), "NOT_FOUND", "{unknown}");
    let malformed = mutate(
        &address,
        &desk,
        "withdrawDossier",
        json!({ "id": "not an id!", "reason": "x" }),
    );
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT", "{malformed}");
    let (_, garbage) = graphql(
        &address,
        Some(&desk),
        "{ dossier(code: \"x\", minPosition: \"soon\") { code } }",
    );
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT", "{garbage}");

    // Read your own write: given the last mutation's position, the queries
    // see the dossier returned (status 10) and the report counts it.
    let today = today_in_vietnam();
    let (_, response) = graphql_with(
        &address,
        Some(&desk),
        "query($code: String!, $day: NaiveDate!, $at: String!) { dossier(code: $code, minPosition: $at) { status } report(from: $day, to: $day, minPosition: $at) { total { resolvedTotal receivedTotal balances } } }",
        &json!({ "code": code, "day": today, "at": position }),
    );
    assert_eq!(response["data"]["dossier"]["status"], 10, "{response}");
    let total = &response["data"]["report"]["total"];
    assert_eq!(total["resolvedTotal"], 1, "{response}");
    assert_eq!(total["receivedTotal"], 1, "{response}");
    assert_eq!(total["balances"], true, "{response}");

    // A second dossier: fees asked and paid, a transfer to no unit refused,
    // then processing stopped by the leader.
    let mut second = submission.clone();
    second["clientMutationId"] = json!("journey-2");
    let second = mutate(&address, &desk, "submitDossier", second);
    let second_id = second["data"]["submitDossier"]["dossier"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = mutate_as(
        &address,
        &desk,
        "requestPayment",
        "RequestPayment",
        json!({
            "id": second_id, "items": [{ "name": "Lệ phí", "amountVnd": 50000 }],
        }),
    );
    assert_eq!(
        asked["data"]["requestPayment"]["dossier"]["id"],
        second_id.as_str(),
        "{asked}"
    );
    let paid = mutate_as(
        &address,
        &desk,
        "confirmPayment",
        "ConfirmPayment",
        json!({
            "id": second_id, "amountVnd": 50000, "receiptNumber": "BL-1", "method": "CASH",
        }),
    );
    assert!(paid["data"]["confirmPayment"].is_object(), "{paid}");
    let nowhere = mutate_as(
        &address,
        &leader,
        "transferDossier",
        "ToUnit",
        json!({
            "id": second_id, "toUnit": "not a unit", "reason": "liên thông",
        }),
    );
    assert_eq!(error_code(&nowhere), "BAD_USER_INPUT", "{nowhere}");
    assert_eq!(nowhere["errors"][0]["extensions"]["field"], "toUnit");
    let stopped = mutate(
        &address,
        &leader,
        "stopProcessing",
        json!({ "id": second_id, "reason": "hồ sơ giả mạo" }),
    );
    assert_eq!(
        stopped["data"]["stopProcessing"]["dossier"]["status"], 8,
        "{stopped}"
    );

    // /metrics counts the commands by action and outcome.
    let (_, metrics) = http_get(&address, "/metrics");
    assert!(
        metrics.contains("motcua_commands_total{action=\"return_result\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("motcua_commands_total{action=\"forward\",outcome=\"FORBIDDEN\"} 1"),
        "{metrics}"
    );

    // The audit trail: every event from the log, the state at the first
    // mutation's position, and an intact hash chain.
    let auditor = as_user("auditor", "inspector-1");
    let audit = "query($code: String!, $at: String!) { history(code: $code) { sequence eventType actor unit payload position hash } dossierAsOf(code: $code, position: $at) { status code } verify(code: $code) { intact eventsChecked firstBroken { sequence } } }";
    let submitted_at = payload["position"].as_str().unwrap();
    let (_, trail) = graphql_with(
        &address,
        Some(&auditor),
        audit,
        &json!({ "code": code, "at": submitted_at }),
    );
    let events = trail["data"]["history"]
        .as_array()
        .unwrap_or_else(|| panic!("{trail}"));
    let types: Vec<&str> = events
        .iter()
        .filter_map(|event| event["eventType"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"DossierSubmitted"), "{types:?}");
    assert_eq!(types.last(), Some(&"ResultReturned"), "{types:?}");
    assert_eq!(events.len(), 8, "{types:?}");
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(index, event)| event["sequence"] == index + 1)
    );
    assert!(
        events
            .iter()
            .all(|event| event["hash"].as_str().is_some_and(|hash| hash.len() == 64))
    );
    assert_eq!(events[0]["actor"], "desk-1");
    assert_eq!(events[0]["unit"], commune.as_str());
    let trail_text = trail.to_string();
    assert!(
        !trail_text.contains("001203004567"),
        "the auditor sees personal data masked"
    );
    assert!(trail_text.contains("*********567"), "{trail_text}");
    assert_eq!(trail["data"]["dossierAsOf"]["code"], code.as_str());
    assert_ne!(trail["data"]["dossierAsOf"]["status"], 10, "{trail}");
    assert_eq!(trail["data"]["verify"]["intact"], true, "{trail}");
    assert_eq!(trail["data"]["verify"]["eventsChecked"], 8);
    // Asked for, the auditor reads personal data, and the read is recorded
    // before the data leaves; a leader may not ask.
    let (_, revealed) = graphql_with(
        &address,
        Some(&auditor),
        "query($code: String!, $position: String!) { history(code: $code, revealPersonalData: true) { payload } \
         dossier(code: $code, revealPersonalData: true) { identityNumber } \
         dossierAsOf(code: $code, position: $position, revealPersonalData: true) { identityNumber } }",
        &json!({ "code": code, "position": submitted_at }),
    );
    assert!(revealed.to_string().contains("001203004567"), "{revealed}");
    assert_eq!(
        revealed["data"]["dossier"]["identityNumber"],
        "001203004567"
    );
    assert_eq!(
        revealed["data"]["dossierAsOf"]["identityNumber"], "001203004567",
        "{revealed}"
    );
    let reads = db
        .store()
        .await
        .load_stream(motcua_graphql::PERSONAL_DATA_READ, &id, 0)
        .await
        .unwrap();
    assert_eq!(reads.len(), 3, "one record per read");
    assert!(
        reads
            .iter()
            .all(|read| read.event.actor == "inspector-1" && read.event.unit_id == commune)
    );
    // The fields of one request resolve concurrently: any order.
    let mut what: Vec<&str> = reads
        .iter()
        .filter_map(|read| read.event.payload["read"].as_str())
        .collect();
    what.sort_unstable();
    assert_eq!(what, ["dossier", "dossier as of", "history"]);
    let (_, refused) = graphql_with(
        &address,
        Some(&leader),
        "query($code: String!) { dossier(code: $code, revealPersonalData: true) { identityNumber } }",
        &json!({ "code": code }),
    );
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    let (_, handled) = graphql_with(
        &address,
        Some(&desk),
        audit,
        &json!({ "code": code, "at": submitted_at }),
    );
    assert!(
        handled.to_string().contains("001203004567"),
        "the desk handles it: {handled}"
    );

    stop(&mut child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "Stopped.\n");
}

/// From outside the project, with the JavaScript reference tools: the
/// graphql-http server audit passes every MUST against the real server
/// (with and without a token), graphql-js validates the committed
/// operations against the committed schema, and the graphql-ws client
/// receives a unit's changes, and only its own. Needs Node.js and npm (the
/// packages come from `graphql/tests/package-lock.json`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_passes_the_reference_clients_checks() {
    let checks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql/tests");
    let node = |args: &[&str]| {
        Command::new("node")
            .args(args)
            .current_dir(&checks)
            .output()
            .unwrap_or_else(|error| panic!("cannot run node ({error}): install Node.js"))
    };
    let installed = ["graphql", "graphql-http", "graphql-ws", "ws"]
        .iter()
        .all(|package| checks.join("node_modules").join(package).exists());
    if !installed {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&checks)
            .output()
            .unwrap_or_else(|error| panic!("cannot run npm ({error}): install npm"));
        assert!(installed.status.success(), "{installed:?}");
    }
    let validated = node(&["validate.mjs"]);
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stdout)
    );

    let db = Db::sqlite();
    db.migrated().await;
    let ((mut child, _out), address) = start_server(&db);
    let url = format!("http://{address}/graphql");
    let supervisor = token(&db, "000.00.00.H56", "supervisor");
    for audit in [
        node(&["audit.mjs", &url, &supervisor]),
        node(&["audit.mjs", &url]),
    ] {
        let report = String::from_utf8_lossy(&audit.stdout);
        assert!(audit.status.success(), "{report}");
        assert!(report.contains("0 MUST audits failed"), "{report}");
    }

    // Subscriptions through the graphql-ws client: a commune's officer gets
    // its own new dossier; another commune's officer gets nothing; a bad
    // token is turned away.
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED).unwrap();
    let communes: Vec<String> = province
        .units()
        .iter()
        .filter(|unit| unit.kind == motcua_seed::UnitKind::Commune)
        .take(2)
        .map(|unit| unit.id.to_string())
        .collect();
    let procedure = &province
        .procedures()
        .iter()
        .find(|entry| entry.handler == motcua_seed::Handler::AnyCommune)
        .unwrap()
        .procedure;
    let ws = format!("ws://{address}/graphql/ws");
    let subscribe = |token: &str, seconds: &str| {
        let mut child = Command::new("node")
            .args(["subscribe.mjs", &ws, token, "1", seconds])
            .current_dir(&checks)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        std::io::BufRead::read_line(&mut out, &mut first).unwrap();
        (child, out, first)
    };
    let here = token(&db, &communes[0], "reception_officer");
    let there = token(&db, &communes[1], "reception_officer");
    let (mut mine, mut mine_out, first) = subscribe(&here, "30");
    assert_eq!(first.trim(), "connected");
    let (mut theirs, mut theirs_out, first) = subscribe(&there, "5");
    assert_eq!(first.trim(), "connected");
    let documents = documents_of(procedure);
    let submitted = mutate(
        &address,
        &here,
        "submitDossier",
        json!({
            "unit": communes[0],
            "channel": "IN_PERSON",
            "procedureCode": procedure.code.as_str(),
            "caseId": procedure.cases[0].id,
            "applicant": { "kind": "CITIZEN", "name": "Phạm Thị Dung", "identityNumber": "079188001234" },
            "documents": documents,
            "acceptNow": true,
        }),
    );
    let code = submitted["data"]["submitDossier"]["dossier"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut event = String::new();
    std::io::BufRead::read_line(&mut mine_out, &mut event).unwrap();
    let event: Value = serde_json::from_str(&event).unwrap_or_else(|_| panic!("{event}"));
    assert_eq!(
        event["data"]["dossierChanged"]["code"],
        code.as_str(),
        "{event}"
    );
    assert_eq!(
        event["data"]["dossierChanged"]["identityNumber"],
        "079188001234"
    );
    assert!(mine.wait().unwrap().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut theirs_out, &mut rest).unwrap();
    assert_eq!(
        rest.trim(),
        "timeout",
        "another commune saw the change: {rest}"
    );
    assert!(theirs.wait().unwrap().success());
    let (mut refused, mut refused_out, first) = subscribe("not-a-token", "10");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut refused_out, &mut rest).unwrap();
    assert!(
        first.starts_with("closed 4403") || rest.contains("closed 4403"),
        "{first}{rest}"
    );
    assert!(refused.wait().unwrap().success());

    // Shutting down, the server closes subscriptions as going away (1001:
    // clients reconnect elsewhere) before it exits.
    let (mut open, mut open_out, first) = subscribe(&here, "30");
    assert_eq!(first.trim(), "connected");
    stop(&mut child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut open_out, &mut rest).unwrap();
    assert_eq!(rest.trim(), "closed 1001", "{rest}");
    assert!(open.wait().unwrap().success());
}

/// With the identity provider configured (here in a configuration file,
/// one setting overridden on the command line), development tokens are refused:
/// `motcua token` will not make one, and the server answers one 401; the
/// schema is not open to introspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_settings_turn_development_tokens_away() {
    let db = Db::sqlite();
    db.migrated().await;
    let key = db.scratch("dev.key");
    let development = token(&db, "000.00.00.H56", "supervisor");
    let refused = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env("MOTCUA_JWKS_URL", "http://127.0.0.1:9/certs")
        .args(["token", "--unit", "000.00.00.H56", "--role", "supervisor"])
        .args(["--dev-key-file", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("development tokens are refused"),
        "{refused:?}"
    );

    // The settings from a file, one of them overridden on the command line.
    let settings = db.scratch("motcua.toml");
    std::fs::write(
        &settings,
        format!(
            "database-url = \"{}\"\n[serve]\nlisten = \"127.0.0.1:0\"\ndev-key-file = \"{}\"\n\
             jwks-url = \"http://127.0.0.1:9/certs\"\njwt-issuer = \"https://old.example\"\n\
             jwt-audience = \"motcua-api\"\n",
            db.url,
            key.display()
        ),
    )
    .unwrap();
    let ((mut child, _out), _, banner) = spawn_until_listening(
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .env_remove("DATABASE_URL")
            .args(["--config", settings.to_str().unwrap(), "serve"])
            .args(["--jwt-issuer", "https://sso.example.gov.vn/realms/motcua"]),
        &db,
    );
    assert!(
        banner.contains("Tokens come from https://sso.example.gov.vn/realms/motcua"),
        "{banner}"
    );
    assert!(!banner.contains("motcua token"), "{banner}");
    assert!(
        banner.contains(&db.location),
        "the file's database: {banner}"
    );
    let address = listening_address(&banner);
    let (status, response) = graphql(&address, Some(&development), "{ me { unit } }");
    assert_eq!(
        (status, error_code(&response)),
        (401, "UNAUTHENTICATED"),
        "{response}"
    );
    let (_, introspection) = graphql(&address, None, "{ __schema { queryType { name } } }");
    assert!(
        introspection["data"]["__schema"].is_null(),
        "introspection is closed: {introspection}"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(&address, "/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop(&mut child);
}

/// GraphiQL renders in a real browser that can reach nothing but the
/// server (every other address goes to a dead proxy; loopback bypasses
/// proxies), and its schema
/// introspection succeeds. Needs Chromium (`chromium`, or
/// `MOTCUA_CHROMIUM`); `MOTCUA_SKIP_BROWSER=1` skips it on purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_works_in_a_browser_without_internet() {
    if std::env::var("MOTCUA_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("skipping the browser test: MOTCUA_SKIP_BROWSER=1");
        return;
    }
    let chromium = std::env::var("MOTCUA_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let db = Db::sqlite();
    db.migrated().await;
    let ((mut child, _out), address) = start_server(&db);
    let profile = db.scratch("chromium-profile");
    let rendered = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://{address}/graphiql"))
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {chromium} ({error}): install Debian's chromium, set MOTCUA_CHROMIUM, \
                 or MOTCUA_SKIP_BROWSER=1 to skip this test on purpose"
            )
        });
    assert!(rendered.status.success(), "{rendered:?}");
    let dom = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        dom.contains("graphiql-container"),
        "GraphiQL did not render: {dom}"
    );
    assert!(dom.contains("graphiql-execute-button"), "{dom}");
    // The result pane shows what the schema introspection answered: nothing
    // when it worked, its errors when it did not.
    assert!(!dom.contains("errors"), "introspection failed: {dom}");

    stop(&mut child);
}

/// Stops a server with SIGTERM; it must exit cleanly.
fn stop(child: &mut std::process::Child) {
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert!(child.wait().unwrap().success());
}

/// A running `motcua serve` and what it prints.
type Server = (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
);

/// Starts `motcua serve` on port 0 with a development key in the scratch
/// folder; (the server, its address).
fn start_server(db: &Db) -> (Server, String) {
    start_server_with(db, &[])
}

/// Starts `motcua serve` as `start_server` does, with more flags.
fn start_server_with(db: &Db, flags: &[&str]) -> (Server, String) {
    let key = db.scratch("dev.key");
    let (server, _, banner) = spawn_until_listening(
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .env_remove("DATABASE_URL")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .args([
                "--database-url",
                &db.url,
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--dev-key-file", key.to_str().unwrap()])
            .args(flags),
        db,
    );
    assert!(banner.contains("/graphql"), "{banner}");
    assert!(banner.contains("motcua token --unit"), "{banner}");
    let address = listening_address(&banner);
    (server, address)
}

/// Spawns a server (stdout piped, stderr to a log in the scratch folder) and
/// reads what it prints up to its banner: (the server, the lines before the
/// banner, the banner). A server that ends before it listens fails the test
/// with how it ended and its log.
#[allow(clippy::zombie_processes, reason = "the caller stops it and waits")]
fn spawn_until_listening(command: &mut Command, db: &Db) -> (Server, Vec<String>, String) {
    let log = db.scratch(&format!("{}.log", unique_name()));
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut out, &mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            let errors = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the server ended ({status}) after {lines:?}; its log:\n{errors}");
        }
        if line.starts_with("motcua is listening on http://") {
            return ((child, out), lines, line);
        }
        lines.push(line);
    }
}

/// The address in a server's banner.
fn listening_address(banner: &str) -> String {
    banner["motcua is listening on http://".len()..]
        .split_once(' ')
        .unwrap()
        .0
        .to_owned()
}

/// A development token from `motcua token`.
fn token(db: &Db, unit: &str, role: &str) -> String {
    let key = db.scratch("dev.key");
    let signed = motcua(
        &db.url,
        &[
            "token",
            "--unit",
            unit,
            "--role",
            role,
            "--dev-key-file",
            key.to_str().unwrap(),
        ],
    );
    assert!(signed.status.success(), "{signed:?}");
    stdout(&signed).trim().to_owned()
}

/// A GraphQL request over POST: (status, JSON body).
fn graphql(address: &str, token: Option<&str>, query: &str) -> (u16, Value) {
    graphql_with(address, token, query, &json!({}))
}

/// A GraphQL request with variables over POST: (status, JSON body).
fn graphql_with(
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: &Value,
) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let (status, text) = http(
        address,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nAccept: application/graphql-response+json\r\n\
             {authorization}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn the_graphql_api_serves_each_viewer_their_units_only(db: &Db) {
    let store = db.migrated().await;
    let province = motcua_seed::Province::generate(motcua_seed::DEMO_SEED).unwrap();
    let from = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let config = motcua_seed::HistoryConfig::new(motcua_seed::DEMO_SEED, 80, from, 1);
    let summary = motcua_seed::generate(&store, &province, config, |_| {})
        .await
        .unwrap();
    assert_eq!(summary.rejections, 0);
    let ((mut child, mut out), address) = start_server(db);

    // The province's supervisor sees every dossier, once projected, with
    // identity numbers masked.
    let supervisor = token(db, "000.00.00.H56", "supervisor");
    let everything = "{ dossiers(first: 100, order: NEWEST_FIRST) { edges { node { code holderUnit identityNumber } } pageInfo { hasNextPage } } }";
    let deadline = Instant::now() + Duration::from_secs(30);
    let all = loop {
        let (status, response) = graphql(&address, Some(&supervisor), everything);
        assert_eq!(status, 200, "{response}");
        let edges = response["data"]["dossiers"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        if edges.len() == 80 {
            break edges;
        }
        assert!(Instant::now() < deadline, "not projected: {response}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(all.iter().all(|edge| {
        edge["node"]["identityNumber"]
            .as_str()
            .is_none_or(|number| number.starts_with("****"))
    }));

    // A unit holding dossiers, and a dossier held outside its subtree.
    let holder = all
        .iter()
        .filter_map(|edge| edge["node"]["holderUnit"].as_str())
        .find(|unit| *unit != "000.00.00.H56")
        .unwrap()
        .to_owned();
    let officer = token(db, &holder, "reception_officer");
    let (_, me) = graphql(
        &address,
        Some(&officer),
        "{ me { unit visibleUnits seesPersonalData } }",
    );
    let visible: Vec<&str> = me["data"]["me"]["visibleUnits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(me["data"]["me"]["unit"], holder.as_str());
    assert_eq!(me["data"]["me"]["seesPersonalData"], true);
    let (_, mine) = graphql(&address, Some(&officer), everything);
    let mine = mine["data"]["dossiers"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|edge| {
        visible.contains(&edge["node"]["holderUnit"].as_str().unwrap_or_default())
    }));
    let expected = all
        .iter()
        .filter(|edge| visible.contains(&edge["node"]["holderUnit"].as_str().unwrap_or_default()))
        .count();
    assert_eq!(mine.len(), expected, "exactly the dossiers of its units");
    let elsewhere = all
        .iter()
        .find(|edge| {
            !visible.contains(&edge["node"]["holderUnit"].as_str().unwrap_or_default())
                && edge["node"]["code"].is_string()
        })
        .unwrap();
    let (elsewhere_code, elsewhere_unit) = (
        elsewhere["node"]["code"].as_str().unwrap(),
        elsewhere["node"]["holderUnit"].as_str().unwrap(),
    );
    let (_, guessed) = graphql(
        &address,
        Some(&officer),
        &format!("{{ dossier(code: \"{elsewhere_code}\") {{ code }} }}"),
    );
    assert_eq!(guessed["data"]["dossier"], Value::Null, "{guessed}");
    let (_, filtered) = graphql(
        &address,
        Some(&officer),
        &format!(
            "{{ dossiers(filter: {{ unit: \"{elsewhere_unit}\" }}) {{ edges {{ cursor }} }} }}"
        ),
    );
    assert_eq!(error_code(&filtered), "FORBIDDEN", "{filtered}");
    let (_, report) = graphql(
        &address,
        Some(&officer),
        &format!(
            "{{ report(unit: \"{elsewhere_unit}\", from: \"2025-01-01\", to: \"2025-01-31\") {{ unit }} }}"
        ),
    );
    assert_eq!(error_code(&report), "FORBIDDEN", "{report}");

    // Worklists stay within its units too.
    let (_, worklists) = graphql(
        &address,
        Some(&officer),
        "{ dueSoon(withinHours: 720) { holderUnit } overdue { holderUnit } officerLoads(from: \"2025-01-01T00:00:00Z\", to: \"2025-03-01T00:00:00Z\") { assignee open resolved } }",
    );
    assert!(worklists["errors"].is_null(), "{worklists}");
    for list in ["dueSoon", "overdue"] {
        assert!(
            worklists["data"][list]
                .as_array()
                .unwrap()
                .iter()
                .all(|row| visible.contains(&row["holderUnit"].as_str().unwrap_or_default())),
            "{worklists}"
        );
    }
    assert!(worklists["data"]["officerLoads"].is_array(), "{worklists}");

    // Reference data, and dossiers with their procedure and holder.
    let (_, reference) = graphql(
        &address,
        Some(&officer),
        "{ units(level: COMMUNE) { id level } province: units(level: PROVINCE) { id name } procedures(first: 5, level: COMMUNE) { edges { node { code name level cases { id } components { code required } } } pageInfo { hasNextPage } } dossiers(first: 3) { edges { node { procedureCode procedure { code name } holderUnit holder { id name level } } } } }",
    );
    assert!(reference["errors"].is_null(), "{reference}");
    assert_eq!(reference["data"]["units"].as_array().unwrap().len(), 193);
    assert_eq!(reference["data"]["province"][0]["id"], "000.00.00.H56");
    let procedures = reference["data"]["procedures"]["edges"].as_array().unwrap();
    assert_eq!(procedures.len(), 5);
    assert!(
        procedures
            .iter()
            .all(|edge| edge["node"]["level"] == "COMMUNE")
    );
    assert_eq!(
        reference["data"]["procedures"]["pageInfo"]["hasNextPage"],
        true
    );
    for edge in reference["data"]["dossiers"]["edges"].as_array().unwrap() {
        assert_eq!(
            edge["node"]["procedure"]["code"], edge["node"]["procedureCode"],
            "{edge}"
        );
        assert_eq!(
            edge["node"]["holder"]["id"], edge["node"]["holderUnit"],
            "{edge}"
        );
    }

    // Its own report balances.
    let (_, report) = graphql(
        &address,
        Some(&officer),
        "{ report(from: \"2025-01-01\", to: \"2025-01-31\") { unit total { receivedTotal balances } } }",
    );
    assert_eq!(
        report["data"]["report"]["unit"],
        holder.as_str(),
        "{report}"
    );
    assert_eq!(
        report["data"]["report"]["total"]["balances"], true,
        "{report}"
    );

    // Every error class the API has so far, each with its code.
    let (status, anonymous) = graphql(&address, None, "{ me { unit } }");
    assert_eq!(
        (status, error_code(&anonymous)),
        (200, "UNAUTHENTICATED"),
        "{anonymous}"
    );
    let (status, forged) = graphql(&address, Some("not.a.token"), "{ me { unit } }");
    assert_eq!(
        (status, error_code(&forged)),
        (401, "UNAUTHENTICATED"),
        "{forged}"
    );
    let (_, too_many) = graphql(
        &address,
        Some(&officer),
        "{ dossiers(first: 101) { edges { cursor } } }",
    );
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT", "{too_many}");
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "first");
    let (status, broken) = graphql(&address, Some(&officer), "{ dossiers(");
    assert_eq!(status, 400, "{broken}");
    let (status, _) = http(
        &address,
        &format!(
            "GET /graphql?query=mutation%7Bx%7D HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 405);

    // Every response carries a request id (the client's, if it sent one),
    // a large body is refused, JSON is compressed on request.
    let (_, head) = http_head(&address, "/livez");
    assert!(head.to_lowercase().contains("x-request-id: "), "{head}");
    // Announced, not sent: the limit answers from the header, and the
    // server never holds unread bytes that would reset the connection.
    let (status, _) = http(
        &address,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            2 * 1024 * 1024
        ),
    );
    assert_eq!(status, 413);
    let body = json!({ "query": "{ me { unit } }" }).to_string();
    let (_, compressed) = http(
        &address,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\nX-Request-Id: test-42\r\nAuthorization: Bearer {officer}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(
        !compressed.contains("unit"),
        "a gzipped body reads as bytes: {compressed}"
    );

    // /metrics counts requests by route, operations and the projection lag.
    let (status, metrics) = http_get(&address, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("motcua_http_requests_total{route=\"/graphql\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "motcua_http_request_duration_seconds_bucket{route=\"/graphql\",le=\"+Inf\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "motcua_graphql_operations_total{operation=\"anonymous\",outcome=\"FORBIDDEN\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("motcua_projection_lag_events{projection=\"dossiers\",generation=\"1\"} 0"),
        "{metrics}"
    );

    // GraphiQL comes from the server itself, nothing from a CDN.
    let (status, page) = http_get(&address, "/graphiql");
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<script src="/graphiql/graphiql.min.js">"#),
        "{page}"
    );
    assert!(
        !page.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let (status, head) = http_head(&address, &format!("/graphiql/{asset}"));
        assert_eq!(status, 200, "{asset}");
        assert!(
            head.to_lowercase().contains("content-encoding: gzip"),
            "{asset}: {head}"
        );
    }
    assert_eq!(http_get(&address, "/graphiql/elsewhere.js").0, 404);

    stop(&mut child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "Stopped.\n");
}

/// A plain HTTP/1.1 GET: (status, body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_go_to_an_opentelemetry_collector_and_join_the_callers_trace() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Attribute;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    use prost::Message;

    let db = Db::sqlite();
    let collector = FakeCollector::start();
    let endpoint = format!("http://{}/", collector.address);
    let ((mut child, _out), address) = start_server_with(&db, &["--otlp-endpoint", &endpoint]);
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let body = json!({ "query": "{ __typename }" }).to_string();
    let (status, _) = http(
        &address,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
             Content-Type: application/json\r\n\
             traceparent: 00-{caller_trace}-{caller_span}-01\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 200);
    // The batch is sent at the latest when the server stops.
    stop(&mut child);

    let exports = collector.requests();
    assert!(!exports.is_empty(), "nothing was exported");
    let mut spans = Vec::new();
    for export in &exports {
        assert_eq!(export.path, "/v1/traces");
        assert_eq!(export.content_type, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(export.body.as_slice()).unwrap();
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| attribute.value.clone())
                .and_then(|value| value.value);
            assert_eq!(service, Some(Attribute::StringValue("motcua".into())));
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    let request_span = spans
        .iter()
        .find(|span| span.name == "POST /graphql")
        .unwrap_or_else(|| {
            let names: Vec<_> = spans.iter().map(|span| &span.name).collect();
            panic!("no span for the request among {names:?}")
        });
    assert_eq!(hex(&request_span.trace_id), caller_trace);
    assert_eq!(hex(&request_span.parent_span_id), caller_span);
    assert_eq!(request_span.kind, SpanKind::Server as i32);
    assert!(request_span.end_time_unix_nano > request_span.start_time_unix_nano);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An OTLP/HTTP collector on port 0 that keeps what it receives.
struct FakeCollector {
    address: std::net::SocketAddr,
    received: std::sync::Arc<std::sync::Mutex<Vec<CollectedRequest>>>,
}

struct CollectedRequest {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

impl FakeCollector {
    fn start() -> FakeCollector {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let received: std::sync::Arc<std::sync::Mutex<Vec<CollectedRequest>>> =
            std::sync::Arc::default();
        let keeper = std::sync::Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if let Some(request) = FakeCollector::answer(stream) {
                    keeper.lock().unwrap().push(request);
                }
            }
        });
        FakeCollector { address, received }
    }

    /// Reads one request and answers 200 with an empty export response.
    fn answer(stream: std::net::TcpStream) -> Option<CollectedRequest> {
        use std::io::{BufRead, Read, Write};
        let mut reader = std::io::BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).ok()?;
        let path = request_line.split(' ').nth(1)?.to_owned();
        let (mut length, mut content_type) = (0, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        reader
            .get_mut()
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .ok()?;
        Some(CollectedRequest {
            path,
            content_type,
            body,
        })
    }

    fn requests(&self) -> Vec<CollectedRequest> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

fn http_get(address: &str, path: &str) -> (u16, String) {
    http(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"),
    )
}

/// A GET's status and response head (status line and headers).
fn http_head(address: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let response = String::from_utf8_lossy(&bytes);
    let head = response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    (status, head)
}

/// Sends a raw HTTP/1.1 request: (status, body).
fn http(address: &str, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    // Compressed bodies are not text: they only need to arrive.
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `count` events of an aggregate no projection reads (they only move the
/// checkpoints), visible to readers; the position of the last.
async fn probes(store: &EventStore, count: i64) -> i64 {
    let events: Vec<NewEvent> = (1..=count)
        .map(|sequence| NewEvent {
            aggregate_type: "Probe".to_owned(),
            ..event("probe", sequence)
        })
        .collect();
    let appended = store.append(&events, None).await.unwrap();
    visible(store, usize::try_from(count).unwrap()).await;
    appended.last().unwrap().cursor.position
}

// ---------------------------------------------------------------------------
// Throwaway databases.

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "motcua_cli_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database that lives as long as this value, not migrated yet.
struct Db {
    url: String,
    /// How the binary names it.
    location: String,
    /// Holds the SQLite file and exported checkpoints.
    scratch: PathBuf,
    /// The PostgreSQL database to drop: (admin URL, name).
    postgres: Option<(String, String)>,
}

impl Db {
    fn sqlite() -> Db {
        let name = unique_name();
        let scratch = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&scratch).unwrap();
        let path = scratch.join("motcua.db");
        Db {
            url: format!("sqlite:{}", path.display()),
            location: path.display().to_string(),
            scratch,
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database from `DATABASE_URL`; `None` only if
    /// `MOTCUA_SKIP_POSTGRES=1` says to skip on purpose.
    async fn postgres() -> Option<Db> {
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
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap();
        record_postgres_test_ran();
        let url = with_database(&admin_url, &name);
        let scratch = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&scratch).unwrap();
        Some(Db {
            location: motcua_store::database_location(&url),
            url,
            scratch,
            postgres: Some((admin_url, name)),
        })
    }

    fn motcua(&self, args: &[&str]) -> Output {
        motcua(&self.url, args)
    }

    fn scratch(&self, file: &str) -> PathBuf {
        self.scratch.join(file)
    }

    async fn store(&self) -> EventStore {
        EventStore::connect(&self.url).await.unwrap()
    }

    /// A PostgreSQL database holding what this one holds now (`CREATE
    /// DATABASE … TEMPLATE`; nothing may be connected to this one), dropped
    /// with the returned value.
    async fn copy(&self) -> Db {
        let (admin_url, source) = self.postgres.as_ref().expect("a PostgreSQL database");
        let name = unique_name();
        let mut admin = PgConnection::connect(admin_url).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{source}\"").as_str())
            .await
            .unwrap();
        let url = with_database(admin_url, &name);
        let scratch = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&scratch).unwrap();
        Db {
            location: motcua_store::database_location(&url),
            url,
            scratch,
            postgres: Some((admin_url.clone(), name)),
        }
    }

    /// Migrated by the binary, then opened by the test.
    async fn migrated(&self) -> EventStore {
        let migrated = self.motcua(&["migrate"]);
        assert!(migrated.status.success(), "{migrated:?}");
        self.store().await
    }

    /// SQLite refuses UPDATE and DELETE on events and checkpoints with
    /// triggers: a tamperer with the file drops them (on PostgreSQL the
    /// tests connect as a superuser).
    async fn tamperer(&self) -> EventStore {
        let store = self.store().await;
        if let EventStore::Sqlite(sqlite) = &store {
            for trigger in [
                "events_no_update",
                "checkpoints_no_delete",
                "checkpoint_heads_no_delete",
            ] {
                sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                    .execute(sqlite.pool())
                    .await
                    .unwrap();
            }
        }
        store
    }

    /// Sets the payload and hash of the stored `row`, in place.
    async fn rewrite(&self, row: &RecordedEvent, payload: &Value, hash: &[u8; 32]) {
        let (id, sequence) = (&row.event.aggregate_id, row.event.sequence);
        let updated = match &self.tamperer().await {
            EventStore::Postgres(postgres) => sqlx::query(
                "UPDATE events SET payload = $1, hash = $2 \
                 WHERE aggregate_type = 'Dossier' AND aggregate_id = $3 AND sequence = $4",
            )
            .bind(payload)
            .bind(hash.as_slice())
            .bind(id)
            .bind(sequence)
            .execute(postgres.pool())
            .await
            .unwrap()
            .rows_affected(),
            EventStore::Sqlite(sqlite) => sqlx::query(
                "UPDATE events SET payload = ?1, hash = ?2 \
                 WHERE aggregate_type = 'Dossier' AND aggregate_id = ?3 AND sequence = ?4",
            )
            .bind(payload.to_string())
            .bind(hash.as_slice())
            .bind(id)
            .bind(sequence)
            .execute(sqlite.pool())
            .await
            .unwrap()
            .rows_affected(),
        };
        assert_eq!(updated, 1);
    }

    async fn erase_stored_checkpoints(&self) {
        let store = self.tamperer().await;
        for statement in ["DELETE FROM checkpoint_heads", "DELETE FROM checkpoints"] {
            match &store {
                EventStore::Postgres(postgres) => {
                    sqlx::query(statement)
                        .execute(postgres.pool())
                        .await
                        .unwrap();
                }
                EventStore::Sqlite(sqlite) => {
                    sqlx::query(statement).execute(sqlite.pool()).await.unwrap();
                }
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime: use a thread of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = admin
                        .execute(
                            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                        )
                        .await;
                }
            });
        })
        .join();
    }
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

// ---------------------------------------------------------------------------
// Events.

/// Event `sequence` of dossier `id`, with the metadata every event carries.
fn event(id: &str, sequence: i64) -> NewEvent {
    NewEvent {
        aggregate_type: "Dossier".to_owned(),
        aggregate_id: id.to_owned(),
        sequence,
        event_type: "Noted".to_owned(),
        event_version: "1.0".to_owned(),
        payload: json!({"note": format!("{id} #{sequence}")}),
        metadata: json!({"unit": "000.01.20.H56", "actor": "officer"}),
        unit_id: "000.01.20.H56".to_owned(),
        actor: "officer".to_owned(),
        command_id: None,
    }
}

/// Three dossiers; d1 (3 events) was accepted under [`CODE`].
async fn fill(store: &EventStore) {
    let accepted = NewEvent {
        event_type: "DossierAccepted".to_owned(),
        payload: json!({
            "at": "2024-11-05T01:15:00Z",
            "by": {"user_id": "officer", "unit": "000.01.20.H56", "roles": ["reception_officer"]},
            "change": {"type": "DossierAccepted", "code": CODE, "unit": "000.01.20.H56"}
        }),
        ..event("d1", 2)
    };
    store
        .append(&[event("d1", 1), accepted], None)
        .await
        .unwrap();
    store.append(&[event("d2", 1)], None).await.unwrap();
    store
        .append(&[event("d3", 1), event("d3", 2)], None)
        .await
        .unwrap();
    store.append(&[event("d1", 3)], None).await.unwrap();
    visible(store, 6).await;
}

/// Waits until the global log shows `expected` events: on PostgreSQL other
/// tests' open transactions can hold them back a while.
async fn visible(store: &EventStore, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while store
        .read_all(LogCursor::START, u32::MAX)
        .await
        .unwrap()
        .len()
        < expected
    {
        assert!(Instant::now() < deadline, "events did not become visible");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn stored(store: &EventStore, id: &str, sequence: i64) -> RecordedEvent {
    let row = store
        .load_stream("Dossier", id, sequence - 1)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(row.event.sequence, sequence);
    row
}
