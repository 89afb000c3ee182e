-- The event log: append-only, the source of truth.
--
-- The first seven columns are postgres-es's `events` table, so tools written
-- for postgres-es can read it. motcua adds:
--   position        a unique global number, assigned at insert;
--   transaction_id  the inserting transaction (xid8): readers of the global
--                   log order by (transaction_id, position) and read only
--                   transactions older than every one still running, so an
--                   event committed late with a lower position is never skipped;
--   unit_id, actor, recorded_at, command_id: who, for which unit, when, why;
--   hash            SHA-256 of the previous event's hash in the same stream
--                   and this event's canonical bytes (tamper evidence).
CREATE TABLE events (
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence >= 1),
    event_type     text        NOT NULL,
    event_version  text        NOT NULL,
    payload        jsonb       NOT NULL,
    metadata       jsonb       NOT NULL,
    position       bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    unit_id        text        NOT NULL,
    actor          text        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    command_id     text,
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_global_order ON events (transaction_id, position);

-- postgres-es's snapshot table.
CREATE TABLE snapshots (
    aggregate_type   text   NOT NULL,
    aggregate_id     text   NOT NULL,
    last_sequence    bigint NOT NULL,
    current_snapshot bigint NOT NULL,
    payload          jsonb  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);
