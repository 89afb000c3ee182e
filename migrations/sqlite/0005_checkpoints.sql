-- Checkpoints: Merkle roots over every stream's head (its last sequence and
-- hash) as of a place in the global log, and the lookup of a dossier by its
-- code. Same tables as on PostgreSQL; `transaction_id` is always 0 here.
-- How the root is computed: crates/store/src/checkpoint.rs.

CREATE TABLE checkpoints (
    id             INTEGER PRIMARY KEY,
    transaction_id INTEGER NOT NULL DEFAULT 0,
    position       INTEGER NOT NULL,
    root           BLOB    NOT NULL CHECK (length(root) = 32),
    streams        INTEGER NOT NULL CHECK (streams >= 0),
    created_at     TEXT    NOT NULL
);

-- The heads that changed since the previous checkpoint (all of them for the
-- first): the heads at checkpoint N are the latest row per stream with
-- checkpoint_id <= N.
CREATE TABLE checkpoint_heads (
    checkpoint_id  INTEGER NOT NULL REFERENCES checkpoints (id),
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (aggregate_type, aggregate_id, checkpoint_id)
) WITHOUT ROWID;

-- A checkpoint is evidence: like events, only ever inserted.
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoint_heads_no_update BEFORE UPDATE ON checkpoint_heads
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoint_heads_no_delete BEFORE DELETE ON checkpoint_heads
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- A dossier is found by the code its acceptance issued
-- (EventStore::dossier_stream repeats this expression and condition).
CREATE INDEX events_dossier_code ON events (json_extract(payload, '$.change.code'))
    WHERE event_type = 'DossierAccepted';
