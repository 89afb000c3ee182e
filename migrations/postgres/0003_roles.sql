-- Append-only for real: who may do what to the event log.
--
--   motcua_owner  owns the schema objects. NOLOGIN: migrations run as a
--                 superuser, or as a member of this role once both roles
--                 exist and it may CREATE in schema public (say, it owns the
--                 database). As owner it can still rewrite events; the hash
--                 chain shows it if it does.
--   motcua_app    what the running service uses: SELECT and INSERT on
--                 events, nothing else (no UPDATE, DELETE, TRUNCATE). NOLOGIN
--                 here; a deployment gives it LOGIN or grants it to its own
--                 login role. Never superuser, never BYPASSRLS: either would
--                 bypass these grants.
--
-- Roles belong to the cluster, not to the database, and several databases
-- may be migrated at once (every test creates one): create each role only if
-- it is missing, and let a concurrent creator win.
--
-- Later migrations follow the same pattern: a new table gets
-- `ALTER TABLE … OWNER TO motcua_owner`, `REVOKE ALL … FROM PUBLIC` and only
-- the grants motcua_app needs. (`_sqlx_migrations` stays owned by whoever
-- runs the migrations; motcua_app has no privileges on it.)

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'motcua_owner') THEN
        BEGIN
            CREATE ROLE motcua_owner NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created concurrently by another migration
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'motcua_app') THEN
        BEGIN
            CREATE ROLE motcua_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- A role created beforehand by someone else must not slip past the grants.
    -- (Only when needed: concurrent ALTER ROLEs of one role can fail.)
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'motcua_app'
               AND (rolsuper OR rolbypassrls)) THEN
        ALTER ROLE motcua_app NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

-- The identity sequence of events.position follows its table.
ALTER TABLE events OWNER TO motcua_owner;
ALTER TABLE snapshots OWNER TO motcua_owner;
ALTER TABLE dossier_code_counters OWNER TO motcua_owner;

GRANT USAGE ON SCHEMA public TO motcua_app;

REVOKE ALL ON events, snapshots, dossier_code_counters FROM PUBLIC, motcua_app;
-- No grant on the identity sequence: an INSERT takes identity values
-- without USAGE on it, and so motcua_app cannot call setval either.
GRANT SELECT, INSERT ON events TO motcua_app;
-- Snapshots are a cache, upserted (INSERT … ON CONFLICT DO UPDATE).
GRANT SELECT, INSERT, UPDATE ON snapshots TO motcua_app;
-- Counters are taken by an upsert (… ON CONFLICT DO UPDATE … RETURNING).
GRANT SELECT, INSERT, UPDATE ON dossier_code_counters TO motcua_app;
