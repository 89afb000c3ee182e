-- Read models (the same tables as on PostgreSQL; times as RFC 3339 text,
-- days as YYYY-MM-DD): what the projections (crates/projections) fold the event log
-- into. Unlike events they are updated in place, and can always be rebuilt
-- from the log.

-- Each projection's generations: the live one, which readers read, and a
-- building one while `motcua projections rebuild` fills fresh rows beside
-- it; swapping them is one update here (crates/projections/src/projector.rs).
-- Each keeps its place in the log, moved in the transaction that writes its
-- rows, why it stopped if it did, and the lease of the projector running it.
CREATE TABLE projections (
    name               TEXT        NOT NULL,
    generation         INTEGER     NOT NULL,
    state              TEXT        NOT NULL CHECK (state IN ('live', 'building', 'retired')),
    cursor_transaction INTEGER      NOT NULL DEFAULT 0,
    cursor_position    INTEGER      NOT NULL DEFAULT 0,
    events_applied     INTEGER      NOT NULL DEFAULT 0,
    failed_at_position INTEGER,
    failure            TEXT,
    lease_owner        TEXT,
    lease_until        TEXT,
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (name, generation)
);
-- One live generation per projection.
CREATE UNIQUE INDEX projections_live ON projections (name) WHERE state = 'live';
INSERT INTO projections (name, generation, state) VALUES ('dossiers', 1, 'live');

-- One row per dossier: its state now (crates/projections/src/read_models).
CREATE TABLE dossiers (
    generation        INTEGER     NOT NULL,
    aggregate_id      TEXT        NOT NULL,
    code              TEXT,
    procedure_code    TEXT,
    procedure_version INTEGER,
    field             TEXT,
    applicant_name    TEXT,
    identity_number   TEXT,
    receiving_unit    TEXT,
    holder_unit       TEXT,
    status            INTEGER,
    step              TEXT        NOT NULL,
    department        TEXT,
    assignee          TEXT,
    channel           INTEGER,
    submitted_at      TEXT,
    received_at       TEXT,
    due_at            TEXT,
    appointment_at    TEXT,
    step_due_at       TEXT,
    finished_at       TEXT,
    closed_at         TEXT,
    -- early | on_time | late, once the result is issued.
    timeliness        TEXT,
    -- not_requested | requested | paid | exempted | refunded
    payment_state     TEXT        NOT NULL,
    completion_requested INTEGER  NOT NULL,
    deleted           INTEGER     NOT NULL,
    last_event_at     TEXT,
    last_position     INTEGER      NOT NULL,
    -- The fold's own state (crates/projections/src/fold.rs).
    state             TEXT       NOT NULL,
    PRIMARY KEY (generation, aggregate_id)
);
-- Few indexes: each one is written on every change of a dossier. A unit's
-- queue, worklists and officers' loads go through the holder (the tenant
-- scope); a code or an identity number is looked up exactly; a unit's
-- dossiers by reception date. Searching names by a word (LIKE '%w%') cannot
-- use a b-tree anyway.
-- A unit's queue: open dossiers it holds, by status and due date.
CREATE INDEX dossiers_queue ON dossiers (generation, holder_unit, status, due_at) WHERE deleted = 0;
CREATE UNIQUE INDEX dossiers_code ON dossiers (generation, code);
CREATE INDEX dossiers_identity ON dossiers (generation, identity_number);
CREATE INDEX dossiers_received ON dossiers (generation, receiving_unit, received_at);

-- Every unit that ever held a dossier (each of them sees it).
CREATE TABLE dossier_holders (
    generation   INTEGER NOT NULL,
    unit_id      TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    PRIMARY KEY (generation, unit_id, aggregate_id)
);

-- Biểu 06 counters (crates/projections/src/fold.rs): per unit and day, and
-- per unit, procedure and day. Flow columns count the day's events; the
-- *_delta columns change a state, so their sum up to a day is its end.
CREATE TABLE bieu06_unit_day (
    generation                INTEGER NOT NULL,
    unit_id                   TEXT   NOT NULL,
    day                       TEXT   NOT NULL,
    received_online           INTEGER NOT NULL DEFAULT 0,
    received_offline          INTEGER NOT NULL DEFAULT 0,
    resolved_early            INTEGER NOT NULL DEFAULT 0,
    resolved_on_time          INTEGER NOT NULL DEFAULT 0,
    resolved_late             INTEGER NOT NULL DEFAULT 0,
    withdrawn                 INTEGER NOT NULL DEFAULT 0,
    stopped                   INTEGER NOT NULL DEFAULT 0,
    refused                   INTEGER NOT NULL DEFAULT 0,
    overdue_delta             INTEGER NOT NULL DEFAULT 0,
    awaiting_supplement_delta INTEGER NOT NULL DEFAULT 0,
    awaiting_payment_delta    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, day)
);

CREATE TABLE bieu06_procedure_day (
    generation                INTEGER NOT NULL,
    unit_id                   TEXT   NOT NULL,
    procedure_code            TEXT   NOT NULL,
    field                     TEXT   NOT NULL,
    day                       TEXT   NOT NULL,
    received_online           INTEGER NOT NULL DEFAULT 0,
    received_offline          INTEGER NOT NULL DEFAULT 0,
    resolved_early            INTEGER NOT NULL DEFAULT 0,
    resolved_on_time          INTEGER NOT NULL DEFAULT 0,
    resolved_late             INTEGER NOT NULL DEFAULT 0,
    withdrawn                 INTEGER NOT NULL DEFAULT 0,
    stopped                   INTEGER NOT NULL DEFAULT 0,
    refused                   INTEGER NOT NULL DEFAULT 0,
    overdue_delta             INTEGER NOT NULL DEFAULT 0,
    awaiting_supplement_delta INTEGER NOT NULL DEFAULT 0,
    awaiting_payment_delta    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, procedure_code, field, day)
);

-- The unit hierarchy with history: each version of a unit, and the closure
-- (every ancestor of every unit version, with the interval it holds).
CREATE TABLE unit_versions (
    unit_id    TEXT        NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to   TEXT,
    name       TEXT        NOT NULL,
    level      TEXT        NOT NULL,
    parent_id  TEXT,
    PRIMARY KEY (unit_id, valid_from)
);

CREATE TABLE unit_closure (
    ancestor_id   TEXT        NOT NULL,
    descendant_id TEXT        NOT NULL,
    depth         INTEGER     NOT NULL CHECK (depth >= 0),
    valid_from    TEXT NOT NULL,
    valid_to      TEXT,
    PRIMARY KEY (ancestor_id, descendant_id, valid_from)
);
CREATE INDEX unit_closure_descendant ON unit_closure (descendant_id, valid_from);

CREATE TABLE unit_successions (
    from_id TEXT        NOT NULL,
    to_id   TEXT,
    kind    TEXT        NOT NULL,
    at      TEXT NOT NULL
);
