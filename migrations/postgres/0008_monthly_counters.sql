-- Biểu 06 counters summed per month (keyed by the month's first day),
-- beside the daily ones: a report reads the months its period covers
-- whole from here, and only the days of the months it cuts from the daily
-- tables. Kept by the projector in the same transaction as the days.
CREATE TABLE bieu06_unit_month (LIKE bieu06_unit_day INCLUDING DEFAULTS);
ALTER TABLE bieu06_unit_month RENAME COLUMN day TO month;
ALTER TABLE bieu06_unit_month ADD PRIMARY KEY (generation, unit_id, month);

CREATE TABLE bieu06_procedure_month (LIKE bieu06_procedure_day INCLUDING DEFAULTS);
ALTER TABLE bieu06_procedure_month RENAME COLUMN day TO month;
ALTER TABLE bieu06_procedure_month ADD PRIMARY KEY (generation, unit_id, procedure_code, field, month);

INSERT INTO bieu06_unit_month
SELECT generation, unit_id, date_trunc('month', day)::date,
       sum(received_online), sum(received_offline), sum(resolved_early),
       sum(resolved_on_time), sum(resolved_late), sum(withdrawn), sum(stopped),
       sum(refused), sum(overdue_delta), sum(awaiting_supplement_delta),
       sum(awaiting_payment_delta)
FROM bieu06_unit_day
GROUP BY generation, unit_id, date_trunc('month', day)::date;

INSERT INTO bieu06_procedure_month
SELECT generation, unit_id, procedure_code, field, date_trunc('month', day)::date,
       sum(received_online), sum(received_offline), sum(resolved_early),
       sum(resolved_on_time), sum(resolved_late), sum(withdrawn), sum(stopped),
       sum(refused), sum(overdue_delta), sum(awaiting_supplement_delta),
       sum(awaiting_payment_delta)
FROM bieu06_procedure_day
GROUP BY generation, unit_id, procedure_code, field, date_trunc('month', day)::date;

-- Roles and row-level security as for the daily tables (0006, 0007).
ALTER TABLE bieu06_unit_month OWNER TO motcua_owner;
ALTER TABLE bieu06_procedure_month OWNER TO motcua_owner;
REVOKE ALL ON bieu06_unit_month, bieu06_procedure_month FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON bieu06_unit_month, bieu06_procedure_month TO motcua_app;

ALTER TABLE bieu06_unit_month ENABLE ROW LEVEL SECURITY;
ALTER TABLE bieu06_unit_month FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON bieu06_unit_month
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));

ALTER TABLE bieu06_procedure_month ENABLE ROW LEVEL SECURITY;
ALTER TABLE bieu06_procedure_month FORCE ROW LEVEL SECURITY;
CREATE POLICY visible_units ON bieu06_procedure_month
    USING ((SELECT motcua_sees_all()) OR unit_id = ANY ((SELECT motcua_visible_units())::text[]));
