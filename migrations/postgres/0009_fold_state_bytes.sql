-- A dossier row's fold state (crates/projections/src/fold.rs) is read only
-- by the projector, whole: keep its JSON as bytes, which PostgreSQL stores
-- as they come, rather than as jsonb, which it parses on every write (a
-- tenth of a rebuild's time in the database). Rewrites the table.
ALTER TABLE dossiers ALTER COLUMN state TYPE bytea USING convert_to(state::text, 'UTF8');
