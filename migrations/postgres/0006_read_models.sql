-- Read models: what the projections (crates/projections) fold the event log
-- into. Unlike events they are updated in place, and can always be rebuilt
-- from the log.

-- Each projection's generations: the live one, which readers read, and a
-- building one while `motcua projections rebuild` fills fresh rows beside
-- it; swapping them is one update here (crates/projections/src/projector.rs).
-- Each keeps its place in the log, moved in the transaction that writes its
-- rows, why it stopped if it did, and the lease of the projector running it.
CREATE TABLE projections (
    name               text        NOT NULL,
    generation         integer     NOT NULL,
    state              text        NOT NULL CHECK (state IN ('live', 'building', 'retired')),
    cursor_transaction bigint      NOT NULL DEFAULT 0,
    cursor_position    bigint      NOT NULL DEFAULT 0,
    events_applied     bigint      NOT NULL DEFAULT 0,
    failed_at_position bigint,
    failure            text,
    lease_owner        text,
    lease_until        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, generation)
);
-- One live generation per projection.
CREATE UNIQUE INDEX projections_live ON projections (name) WHERE state = 'live';
INSERT INTO projections (name, generation, state) VALUES ('dossiers', 1, 'live');

-- One row per dossier: its state now (crates/projections/src/read_models).
CREATE TABLE dossiers (
    generation        integer     NOT NULL,
    aggregate_id      text        NOT NULL,
    code              text,
    procedure_code    text,
    procedure_version integer,
    field             text,
    applicant_name    text,
    identity_number   text,
    receiving_unit    text,
    holder_unit       text,
    status            smallint,
    step              text        NOT NULL,
    department        text,
    assignee          text,
    channel           smallint,
    submitted_at      timestamptz,
    received_at       timestamptz,
    due_at            timestamptz,
    appointment_at    timestamptz,
    step_due_at       timestamptz,
    finished_at       timestamptz,
    closed_at         timestamptz,
    -- early | on_time | late, once the result is issued.
    timeliness        text,
    -- not_requested | requested | paid | exempted | refunded
    payment_state     text        NOT NULL,
    completion_requested boolean  NOT NULL,
    deleted           boolean     NOT NULL,
    last_event_at     timestamptz,
    last_position     bigint      NOT NULL,
    -- The fold's own state (crates/projections/src/fold.rs).
    state             jsonb       NOT NULL,
    PRIMARY KEY (generation, aggregate_id)
);
-- Few indexes: each one is written on every change of a dossier. A unit's
-- queue, worklists and officers' loads go through the holder (the tenant
-- scope); a code or an identity number is looked up exactly; a unit's
-- dossiers by reception date. Searching names by a word (LIKE '%w%') cannot
-- use a b-tree anyway.
-- A unit's queue: open dossiers it holds, by status and due date.
CREATE INDEX dossiers_queue ON dossiers (generation, holder_unit, status, due_at) WHERE NOT deleted;
CREATE UNIQUE INDEX dossiers_code ON dossiers (generation, code);
CREATE INDEX dossiers_identity ON dossiers (generation, identity_number);
CREATE INDEX dossiers_received ON dossiers (generation, receiving_unit, received_at);

-- Every unit that ever held a dossier (each of them sees it).
CREATE TABLE dossier_holders (
    generation   integer NOT NULL,
    unit_id      text NOT NULL,
    aggregate_id text NOT NULL,
    PRIMARY KEY (generation, unit_id, aggregate_id)
);

-- Biểu 06 counters (crates/projections/src/fold.rs): per unit and day, and
-- per unit, procedure and day. Flow columns count the day's events; the
-- *_delta columns change a state, so their sum up to a day is its end.
CREATE TABLE bieu06_unit_day (
    generation                integer NOT NULL,
    unit_id                   text   NOT NULL,
    day                       date   NOT NULL,
    received_online           bigint NOT NULL DEFAULT 0,
    received_offline          bigint NOT NULL DEFAULT 0,
    resolved_early            bigint NOT NULL DEFAULT 0,
    resolved_on_time          bigint NOT NULL DEFAULT 0,
    resolved_late             bigint NOT NULL DEFAULT 0,
    withdrawn                 bigint NOT NULL DEFAULT 0,
    stopped                   bigint NOT NULL DEFAULT 0,
    refused                   bigint NOT NULL DEFAULT 0,
    overdue_delta             bigint NOT NULL DEFAULT 0,
    awaiting_supplement_delta bigint NOT NULL DEFAULT 0,
    awaiting_payment_delta    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, day)
);

CREATE TABLE bieu06_procedure_day (
    generation                integer NOT NULL,
    unit_id                   text   NOT NULL,
    procedure_code            text   NOT NULL,
    field                     text   NOT NULL,
    day                       date   NOT NULL,
    received_online           bigint NOT NULL DEFAULT 0,
    received_offline          bigint NOT NULL DEFAULT 0,
    resolved_early            bigint NOT NULL DEFAULT 0,
    resolved_on_time          bigint NOT NULL DEFAULT 0,
    resolved_late             bigint NOT NULL DEFAULT 0,
    withdrawn                 bigint NOT NULL DEFAULT 0,
    stopped                   bigint NOT NULL DEFAULT 0,
    refused                   bigint NOT NULL DEFAULT 0,
    overdue_delta             bigint NOT NULL DEFAULT 0,
    awaiting_supplement_delta bigint NOT NULL DEFAULT 0,
    awaiting_payment_delta    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, procedure_code, field, day)
);

-- The unit hierarchy with history: each version of a unit, and the closure
-- (every ancestor of every unit version, with the interval it holds).
CREATE TABLE unit_versions (
    unit_id    text        NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_to   timestamptz,
    name       text        NOT NULL,
    level      text        NOT NULL,
    parent_id  text,
    PRIMARY KEY (unit_id, valid_from)
);

CREATE TABLE unit_closure (
    ancestor_id   text        NOT NULL,
    descendant_id text        NOT NULL,
    depth         integer     NOT NULL CHECK (depth >= 0),
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz,
    PRIMARY KEY (ancestor_id, descendant_id, valid_from)
);
CREATE INDEX unit_closure_descendant ON unit_closure (descendant_id, valid_from);

CREATE TABLE unit_successions (
    from_id text        NOT NULL,
    to_id   text,
    kind    text        NOT NULL,
    at      timestamptz NOT NULL
);

-- Roles, as in 0003: the owner owns; the service maintains read models.
ALTER TABLE projections OWNER TO motcua_owner;
ALTER TABLE dossiers OWNER TO motcua_owner;
ALTER TABLE dossier_holders OWNER TO motcua_owner;
ALTER TABLE bieu06_unit_day OWNER TO motcua_owner;
ALTER TABLE bieu06_procedure_day OWNER TO motcua_owner;
ALTER TABLE unit_versions OWNER TO motcua_owner;
ALTER TABLE unit_closure OWNER TO motcua_owner;
ALTER TABLE unit_successions OWNER TO motcua_owner;
REVOKE ALL ON projections, dossiers, dossier_holders, bieu06_unit_day, bieu06_procedure_day,
    unit_versions, unit_closure, unit_successions FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON projections, dossiers, dossier_holders, bieu06_unit_day,
    bieu06_procedure_day, unit_versions, unit_closure, unit_successions TO motcua_app;
