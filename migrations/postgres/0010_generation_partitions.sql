-- Each generation of the read models in partitions of its own
-- (crates/projections/src/read_models): a rebuild fills its generation
-- with only the primary keys to maintain and builds the dossiers'
-- secondary indexes once, at the end, before it is promoted (a row cost
-- about five times as much with them); and a retired generation is dropped
-- as tables, not deleted row by row into dead tuples.
--
-- The tables become partitioned by generation. Partitions are made, indexed
-- and dropped by the functions below, which run as motcua_owner (SECURITY
-- DEFINER): motcua_app must not own tables. Partitions carry no grant, so
-- motcua_app reaches rows only through their parents, where the row
-- security policies of 0007 apply.

-- This migration moves rows under row-level security (see 0007).
SELECT set_config('motcua.visible_units', '*', true);

-- The functions create tables as motcua_owner, which needs the schema's
-- CREATE (the database's owner has it; where a superuser migrates a
-- database it does not own, it is granted here).
DO $$
BEGIN
    IF NOT has_schema_privilege('motcua_owner', current_schema(), 'CREATE') THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO motcua_owner', current_schema());
    END IF;
END $$;

CREATE FUNCTION motcua_read_model_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY['dossiers', 'dossier_holders', 'bieu06_unit_day',
                       'bieu06_procedure_day', 'bieu06_unit_month',
                       'bieu06_procedure_month'] $$;

-- Partitions for a new generation: empty, with the parents' primary keys
-- only. ATTACH (not CREATE … PARTITION OF) takes a lock on the parent that
-- lets reads and writes of the other generations go on.
CREATE FUNCTION motcua_add_generation(new_generation integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
DECLARE
    parent text;
    partition text;
BEGIN
    FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
        partition := parent || '_g' || new_generation;
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', partition, parent);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)',
                       parent, partition, new_generation);
    END LOOP;
END $$;

-- Readies a generation filled with only its primary keys for readers: the
-- dossiers' secondary indexes on its partition, each built in one pass, and
-- the planner's statistics of every partition (a report planned without
-- them after the promotion ran twice as long). Each partition holds one
-- generation, so the generation leads no index.
CREATE FUNCTION motcua_finish_generation(finished_generation integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
DECLARE
    partition text := 'dossiers_g' || finished_generation;
    parent text;
BEGIN
    -- A unit's dossiers by status and due date.
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (holder_unit, status, due_at) WHERE NOT deleted',
                   partition || '_status', partition);
    -- A unit's queue: its open dossiers, soonest due first, in the order
    -- of the queue page (crates/projections/src/dossiers.rs), which then
    -- reads 50 rows of the index, not every dossier the unit ever held.
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (holder_unit, due_at, aggregate_id) '
                   'WHERE NOT deleted AND received_at IS NOT NULL AND finished_at IS NULL AND closed_at IS NULL',
                   partition || '_queue', partition);
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (code)', partition || '_code', partition);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (identity_number)',
                   partition || '_identity', partition);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (receiving_unit, received_at)',
                   partition || '_received', partition);
    FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
        EXECUTE format('ANALYZE %I', parent || '_g' || finished_generation);
    END LOOP;
END $$;

-- Dropping takes each partition's ACCESS EXCLUSIVE lock, one table after
-- another, while readers hold their locks on every partition of the tables
-- they read: the two could deadlock, and PostgreSQL would then cancel one of
-- them, perhaps a reader. So the drop waits at most a moment for each lock
-- and gives way (lock_not_available); the projector tries again.
CREATE FUNCTION motcua_drop_generation(dropped_generation integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT SET lock_timeout = '200ms'
    AS $$
DECLARE
    parent text;
BEGIN
    FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', parent || '_g' || dropped_generation);
    END LOOP;
END $$;

ALTER FUNCTION motcua_read_model_tables() OWNER TO motcua_owner;
ALTER FUNCTION motcua_add_generation(integer) OWNER TO motcua_owner;
ALTER FUNCTION motcua_finish_generation(integer) OWNER TO motcua_owner;
ALTER FUNCTION motcua_drop_generation(integer) OWNER TO motcua_owner;
REVOKE ALL ON FUNCTION motcua_read_model_tables(), motcua_add_generation(integer),
    motcua_finish_generation(integer), motcua_drop_generation(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION motcua_add_generation(integer),
    motcua_finish_generation(integer), motcua_drop_generation(integer) TO motcua_app;

-- The tables as they were, set aside; the partitioned ones take their names.
ALTER TABLE dossiers RENAME TO dossiers_before_0010;
ALTER TABLE dossier_holders RENAME TO dossier_holders_before_0010;
ALTER TABLE bieu06_unit_day RENAME TO bieu06_unit_day_before_0010;
ALTER TABLE bieu06_procedure_day RENAME TO bieu06_procedure_day_before_0010;
ALTER TABLE bieu06_unit_month RENAME TO bieu06_unit_month_before_0010;
ALTER TABLE bieu06_procedure_month RENAME TO bieu06_procedure_month_before_0010;

DO $$
DECLARE
    parent text;
BEGIN
    FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS) PARTITION BY LIST (generation)',
                       parent, parent || '_before_0010');
        EXECUTE format('ALTER TABLE %I OWNER TO motcua_owner', parent);
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', parent);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO motcua_app', parent);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', parent);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', parent);
    END LOOP;
    -- Primary keys before the partitions, so that each partition gets its own.
    ALTER TABLE dossiers ADD CONSTRAINT dossiers_key PRIMARY KEY (generation, aggregate_id);
    ALTER TABLE dossier_holders ADD CONSTRAINT dossier_holders_key
        PRIMARY KEY (generation, unit_id, aggregate_id);
    ALTER TABLE bieu06_unit_day ADD CONSTRAINT bieu06_unit_day_key
        PRIMARY KEY (generation, unit_id, day);
    ALTER TABLE bieu06_procedure_day ADD CONSTRAINT bieu06_procedure_day_key
        PRIMARY KEY (generation, unit_id, procedure_code, field, day);
    ALTER TABLE bieu06_unit_month ADD CONSTRAINT bieu06_unit_month_key
        PRIMARY KEY (generation, unit_id, month);
    ALTER TABLE bieu06_procedure_month ADD CONSTRAINT bieu06_procedure_month_key
        PRIMARY KEY (generation, unit_id, procedure_code, field, month);
END $$;

-- The policies of 0007 and 0008, on the partitioned tables.
CREATE POLICY visible_units ON dossiers
    USING ((SELECT motcua_sees_all()) OR holders && (SELECT motcua_visible_units()));
CREATE POLICY visible_units ON dossier_holders
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));
CREATE POLICY visible_units ON bieu06_unit_day
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));
CREATE POLICY visible_units ON bieu06_procedure_day
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));
CREATE POLICY visible_units ON bieu06_unit_month
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));
CREATE POLICY visible_units ON bieu06_procedure_month
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));

-- The rows, generation by generation.
DO $$
DECLARE
    parent text;
    kept integer;
BEGIN
    FOR kept IN SELECT generation FROM projections WHERE name = 'dossiers' LOOP
        PERFORM motcua_add_generation(kept);
        FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
            EXECUTE format('INSERT INTO %I SELECT * FROM %I WHERE generation = %s',
                           parent, parent || '_before_0010', kept);
        END LOOP;
        PERFORM motcua_finish_generation(kept);
    END LOOP;
    -- Rows of a generation the projections table no longer names were
    -- being deleted anyway: they go with the old tables.
    FOREACH parent IN ARRAY motcua_read_model_tables() LOOP
        EXECUTE format('DROP TABLE %I', parent || '_before_0010');
    END LOOP;
END $$;
