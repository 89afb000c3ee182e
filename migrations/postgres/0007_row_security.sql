-- Tenant isolation, second wall: row-level security on every read-model
-- table. The API checks each viewer's units in its resolvers; should one of
-- them ever forget, PostgreSQL still returns only rows of the units the
-- transaction was opened for.
--
-- The units are a transaction-local setting, `motcua.visible_units`: a
-- comma-separated list of unit e-IDs, or `*` for every unit (the projector,
-- operations, province-wide roles). crates/projections sets it with
-- `set_config(…, true)` at the start of every transaction it opens, never
-- for a session, so that a pooled connection cannot carry one viewer's
-- setting into another's request. Without the setting a statement sees and
-- writes no row.
--
-- FORCE makes the policies bind the tables' owner too; superusers and
-- BYPASSRLS roles still pass, so the server connects as motcua_app, which
-- is neither (it checks that at start). A later migration run as
-- motcua_owner that changes rows here must set the setting first.

-- Every unit that ever held a dossier, on its row: the policy then tests
-- one array, not a join per row. (Filled from dossier_holders for rows
-- written before this migration.)
ALTER TABLE dossiers ADD COLUMN holders text[];
UPDATE dossiers SET holders = ARRAY(
    SELECT unit_id FROM dossier_holders
    WHERE dossier_holders.generation = dossiers.generation
      AND dossier_holders.aggregate_id = dossiers.aggregate_id
    ORDER BY unit_id);
ALTER TABLE dossiers ALTER COLUMN holders SET NOT NULL;

-- The setting, read once per statement: policies call these from a
-- scalar subquery, which PostgreSQL evaluates once (an InitPlan), not per row.
CREATE FUNCTION motcua_sees_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('motcua.visible_units', true), '') = '*' $$;

CREATE FUNCTION motcua_visible_units() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT string_to_array(nullif(current_setting('motcua.visible_units', true), ''), ',') $$;

CREATE FUNCTION motcua_scoped() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('motcua.visible_units', true), '') <> '' $$;

ALTER FUNCTION motcua_sees_all() OWNER TO motcua_owner;
ALTER FUNCTION motcua_visible_units() OWNER TO motcua_owner;
ALTER FUNCTION motcua_scoped() OWNER TO motcua_owner;
REVOKE ALL ON FUNCTION motcua_sees_all(), motcua_visible_units(), motcua_scoped() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION motcua_sees_all(), motcua_visible_units(), motcua_scoped() TO motcua_app;

-- A dossier is visible to every unit that ever held it (and so to the
-- units above them, whose lists include their subtree).
ALTER TABLE dossiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE dossiers FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON dossiers
    USING ((SELECT motcua_sees_all()) OR holders && (SELECT motcua_visible_units()));

-- Counters and holder rows belong to one unit each.
ALTER TABLE dossier_holders ENABLE ROW LEVEL SECURITY;
ALTER TABLE dossier_holders FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON dossier_holders
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));

ALTER TABLE bieu06_unit_day ENABLE ROW LEVEL SECURITY;
ALTER TABLE bieu06_unit_day FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON bieu06_unit_day
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));

ALTER TABLE bieu06_procedure_day ENABLE ROW LEVEL SECURITY;
ALTER TABLE bieu06_procedure_day FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON bieu06_procedure_day
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));

-- The unit tree and the projections' control rows are shared by every
-- viewer (the tree is what scopes are computed from), but still only inside
-- a scoped transaction: without the setting, nothing.
ALTER TABLE unit_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY scoped ON unit_versions USING ((SELECT motcua_scoped()));

ALTER TABLE unit_closure ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_closure FORCE ROW LEVEL SECURITY;
CREATE POLICY scoped ON unit_closure USING ((SELECT motcua_scoped()));

ALTER TABLE unit_successions ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_successions FORCE ROW LEVEL SECURITY;
CREATE POLICY scoped ON unit_successions USING ((SELECT motcua_scoped()));

ALTER TABLE projections ENABLE ROW LEVEL SECURITY;
ALTER TABLE projections FORCE ROW LEVEL SECURITY;
CREATE POLICY scoped ON projections USING ((SELECT motcua_scoped()));
