-- Idempotent commands: the first outcome of each client command.
--
-- A client names each command (a GraphQL clientMutationId); repeating it,
-- also concurrently, returns this first outcome and writes nothing new.
-- Keys are scoped by actor, so one user can neither collide with nor read
-- another's outcomes. `fingerprint` (SHA-256 of the request) tells a
-- repeat from a different command reusing the key.
--
-- A committed command's row is inserted in the same transaction as its
-- events: the primary key makes a concurrent repeat fail there and roll
-- back. Its cursor (transaction_id, position) is its last event's place in
-- the log; both are NULL when the command emitted nothing. A rejected
-- command's row keeps the rejection (JSON) and no cursor.
CREATE TABLE commands (
    actor          text        NOT NULL,
    command_id     text        NOT NULL CHECK (char_length(command_id) BETWEEN 1 AND 128),
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    fingerprint    bytea       NOT NULL CHECK (length(fingerprint) = 32),
    sequence       bigint      NOT NULL CHECK (sequence >= 0),
    event_count    integer     NOT NULL CHECK (event_count >= 0),
    transaction_id xid8,
    position       bigint,
    rejection      jsonb,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, command_id),
    CHECK (rejection IS NULL OR (event_count = 0 AND position IS NULL))
);

ALTER TABLE commands OWNER TO motcua_owner;
REVOKE ALL ON commands FROM PUBLIC, motcua_app;
GRANT SELECT, INSERT ON commands TO motcua_app;
