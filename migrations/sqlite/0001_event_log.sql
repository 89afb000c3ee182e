-- The event log: append-only, the source of truth. Same columns as on
-- PostgreSQL. SQLite has one writer at a time, so `position` order is
-- commit order and `transaction_id` is 0 for every row.
CREATE TABLE events (
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    metadata       TEXT    NOT NULL CHECK (json_valid(metadata)),
    position       INTEGER NOT NULL UNIQUE,
    transaction_id INTEGER NOT NULL DEFAULT 0,
    unit_id        TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    command_id     TEXT,
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) WITHOUT ROWID;

-- SQLite cannot deny a connection UPDATE or DELETE by role: triggers refuse them.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE snapshots (
    aggregate_type   TEXT    NOT NULL,
    aggregate_id     TEXT    NOT NULL,
    last_sequence    INTEGER NOT NULL,
    current_snapshot INTEGER NOT NULL,
    payload          TEXT    NOT NULL CHECK (json_valid(payload)),
    PRIMARY KEY (aggregate_type, aggregate_id)
);
