-- Idempotent commands: the first outcome of each client command, keyed by
-- actor and client command id. Same columns as on PostgreSQL; see
-- migrations/postgres/0004_commands.sql for the rules.
CREATE TABLE commands (
    actor          TEXT    NOT NULL,
    command_id     TEXT    NOT NULL CHECK (length(command_id) BETWEEN 1 AND 128),
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    fingerprint    BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    sequence       INTEGER NOT NULL CHECK (sequence >= 0),
    event_count    INTEGER NOT NULL CHECK (event_count >= 0),
    transaction_id INTEGER,
    position       INTEGER,
    rejection      TEXT    CHECK (rejection IS NULL OR json_valid(rejection)),
    recorded_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (actor, command_id),
    CHECK (rejection IS NULL OR (event_count = 0 AND position IS NULL))
) WITHOUT ROWID;
