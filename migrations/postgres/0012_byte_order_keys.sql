-- The read models' text keys compare byte by byte (COLLATE "C").
--
-- They are identifiers (dossier ids and codes, unit e-IDs, procedure codes,
-- identity numbers) and the procedure's field, which is only grouped by;
-- for what they hold, byte order is C.UTF-8's order (code points).
-- Under a linguistic collation (on PostgreSQL 15 even C.UTF-8 is one)
-- every comparison in their indexes went through strcoll: a third of the
-- time PostgreSQL spent writing a rebuild's counters, and most of the
-- sorting when a new generation's indexes are built. Byte order is also
-- what SQLite (BINARY) and the stream-head checkpoints use.
--
-- The row security policies of 0007 read unit_id, so they are made again
-- around the change, unchanged. Only indexes are rebuilt: a change of
-- collation does not rewrite the tables.

SELECT set_config('motcua.visible_units', '*', true);

DROP POLICY visible_units ON dossier_holders;
DROP POLICY visible_units ON bieu06_unit_day;
DROP POLICY visible_units ON bieu06_procedure_day;
DROP POLICY visible_units ON bieu06_unit_month;
DROP POLICY visible_units ON bieu06_procedure_month;

ALTER TABLE dossiers
    ALTER COLUMN aggregate_id TYPE text COLLATE "C",
    ALTER COLUMN code TYPE text COLLATE "C",
    ALTER COLUMN identity_number TYPE text COLLATE "C",
    ALTER COLUMN holder_unit TYPE text COLLATE "C",
    ALTER COLUMN receiving_unit TYPE text COLLATE "C";
ALTER TABLE dossier_holders
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN aggregate_id TYPE text COLLATE "C";
ALTER TABLE bieu06_unit_day
    ALTER COLUMN unit_id TYPE text COLLATE "C";
ALTER TABLE bieu06_unit_month
    ALTER COLUMN unit_id TYPE text COLLATE "C";
ALTER TABLE bieu06_procedure_day
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN procedure_code TYPE text COLLATE "C",
    ALTER COLUMN field TYPE text COLLATE "C";
ALTER TABLE bieu06_procedure_month
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN procedure_code TYPE text COLLATE "C",
    ALTER COLUMN field TYPE text COLLATE "C";

-- The unit tables too, so that joins between them and the tables above
-- compare, and use indexes, in one collation.
ALTER TABLE unit_versions
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN parent_id TYPE text COLLATE "C";
ALTER TABLE unit_closure
    ALTER COLUMN ancestor_id TYPE text COLLATE "C",
    ALTER COLUMN descendant_id TYPE text COLLATE "C";
ALTER TABLE unit_successions
    ALTER COLUMN from_id TYPE text COLLATE "C",
    ALTER COLUMN to_id TYPE text COLLATE "C";

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
