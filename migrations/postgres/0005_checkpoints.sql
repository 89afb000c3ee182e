-- Checkpoints: Merkle roots over every stream's head (its last sequence and
-- hash) as of a place in the global log, and the lookup of a dossier by its
-- code. How the root is computed: crates/store/src/checkpoint.rs.
--
-- A checkpoint is evidence: like events, it is only ever inserted.

CREATE TABLE checkpoints (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The last event covered: the log cursor (transaction_id, position).
    transaction_id xid8        NOT NULL,
    position       bigint      NOT NULL,
    root           bytea       NOT NULL CHECK (length(root) = 32),
    streams        bigint      NOT NULL CHECK (streams >= 0),
    created_at     timestamptz NOT NULL
);

-- The heads that changed since the previous checkpoint (all of them for the
-- first): the heads at checkpoint N are the latest row per stream with
-- checkpoint_id <= N. They let a verifier name the stream that differs.
CREATE TABLE checkpoint_heads (
    checkpoint_id  bigint NOT NULL REFERENCES checkpoints (id),
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL CHECK (sequence >= 1),
    hash           bytea  NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (aggregate_type, aggregate_id, checkpoint_id)
);

-- A dossier is found by the code its acceptance issued
-- (EventStore::dossier_stream repeats this expression and condition).
CREATE INDEX events_dossier_code ON events ((payload -> 'change' ->> 'code'))
    WHERE event_type = 'DossierAccepted';

-- Roles, as in 0003: the owner owns, the service may read and insert.
ALTER TABLE checkpoints OWNER TO motcua_owner;
ALTER TABLE checkpoint_heads OWNER TO motcua_owner;
REVOKE ALL ON checkpoints, checkpoint_heads FROM PUBLIC, motcua_app;
GRANT SELECT, INSERT ON checkpoints, checkpoint_heads TO motcua_app;

-- The service checks at start that its database has exactly its migrations
-- (EventStore::check_migrations): it may read sqlx's table, nothing more.
GRANT SELECT ON _sqlx_migrations TO motcua_app;
